"""Backups: one file holding the whole database, and putting it back.

SQLite: the online backup API (a consistent copy while the app and the scheduler run; WAL included).
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean``; the client programs are looked up on
PATH, then in Debian's ``/usr/lib/postgresql/*/bin``. Restoring replaces everything in the database with
the file's contents: stop the web app and the scheduler first. ``samrad backup`` and ``samrad restore``
(in :mod:`samrad.cli`) call these; README says how often to run them.
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import Engine, make_url


class BackupError(RuntimeError):
    """The backup or restore could not be made; the message says why."""


def _pg_program(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = Path(bindir) / name
        if candidate.exists():
            return str(candidate)
    raise BackupError(f"{name} was not found; install the PostgreSQL client programs (postgresql-client).")


def _libpq_url(engine: Engine) -> str:
    """The URL as libpq reads it (no ``+psycopg`` driver part)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _sqlite_path(engine: Engine) -> Path:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up.")
    return Path(database)


def backup(engine: Engine, target: Path) -> None:
    """Write the whole database to ``target`` (replaced if it exists)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        partial = target.with_name(target.name + ".partial")
        source = sqlite3.connect(_sqlite_path(engine))
        copy = sqlite3.connect(partial)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        partial.replace(target)
        return
    result = subprocess.run(
        [_pg_program("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", _libpq_url(engine)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[:500]}")


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's contents with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist.")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        path = _sqlite_path(engine)
        backup_file = sqlite3.connect(source)
        try:
            if backup_file.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is not a sound SQLite database.")
            database = sqlite3.connect(path)
            try:
                with database:
                    backup_file.backup(database)
            finally:
                database.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup ({exc}).") from None
        finally:
            backup_file.close()
        return
    result = subprocess.run(
        [
            _pg_program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq_url(engine)}",
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
