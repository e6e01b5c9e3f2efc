"""A throw-away PostgreSQL server (initdb + pg_ctl) outside pytest, for the benchmarks.

It runs the same steps as the ``postgres_url`` fixture in ``tests/conftest.py`` and reuses its helpers;
that fixture could become ``with running_postgres() as url: yield url``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import _pg_bindir, free_port


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server binaries are not installed (`make test` installs them)."""


@contextmanager
def running_postgres(database: str = "samrad_test") -> Iterator[str]:
    """Start a server (as the postgres user when we are root), yield its SQLAlchemy URL, stop it after."""
    bindir = _pg_bindir()
    if bindir is None:
        raise PostgresNotFound("PostgreSQL server binaries not found; run `make test` (it installs them).")
    workdir = Path(tempfile.mkdtemp(prefix="samrad-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        shutil.chown(workdir, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = workdir / "data", workdir / "server.log"
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run(prefix + list(args), check=True, capture_output=True, cwd=workdir)

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    )
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(log),
        "-o",
        f"-F -p {port} -k {workdir} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run(
            prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
            cwd=workdir,
        )
        shutil.rmtree(workdir, ignore_errors=True)
