"""Helpers for tests that run ``samrad`` in a real subprocess (the scheduler, fault tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from samrad import db

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-secret-key-0123456789abcdef"


def samrad_env(instance: Path, database_url: str, **settings) -> dict[str, str]:
    """The environment of a samrad process: this test's database and instance folder, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMRAD_")}
    env.update(
        SAMRAD_INSTANCE_PATH=str(instance),
        SAMRAD_SECRET_KEY=SECRET,
        SAMRAD_DATABASE_URL=database_url,
        SAMRAD_PUBLIC_URL="https://samrad.test",
        SAMRAD_MAIL_FILE_DIR=str(instance / "mail"),
    )
    env.update({f"SAMRAD_{key}": str(value) for key, value in settings.items()})
    return env


def samrad_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from samrad.cli import main; main()", *args]


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``samrad scheduler``; its output goes to ``log`` (a pipe could fill up and stall it)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            samrad_command("scheduler"), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def wait_until(predicate, what: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it is true. The bound only keeps a broken test from hanging; the tests
    never assert on how long anything took."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def fresh_postgres_database(postgres_url: str, name: str) -> str:
    """Create an empty database ``name`` on the test server and return its URL."""
    base, _, _ = postgres_url.rpartition("/")
    admin = db.make_engine(base + "/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"{base}/{name}"
