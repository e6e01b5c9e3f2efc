"""The scheduler process: ``samrad scheduler``. Exactly one per database, never inside web workers.

APScheduler 3 keeps its jobs in memory (they are defined in code, :data:`samrad.jobs.JOBS`); everything
durable lives in the app's own tables. A single-instance lock makes a second scheduler started by
mistake log and exit non-zero:

- PostgreSQL: ``pg_try_advisory_lock`` on a connection held for the life of the process (the server
  drops the lock when the process or its connection dies);
- SQLite: ``fcntl.flock`` on a file next to the database file (the kernel drops it when the process dies).

At start-up every job runs once at once (catching up whatever was missed while no scheduler ran; the
jobs are idempotent), then on its trigger in Europe/Stockholm time. ``coalesce`` turns a pile of missed
runs (a suspended machine) into one run, and ``max_instances=1`` never overlaps a job with itself.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from samrad import db, jobs, outbox
from samrad.clock import STOCKHOLM
from samrad.models import utcnow

log = logging.getLogger(__name__)

#: The PostgreSQL advisory lock key of the scheduler (any constant; "samrad" in ASCII).
ADVISORY_LOCK_KEY = 0x73616D726164
JOB_DEFAULTS = {
    "coalesce": True,
    "max_instances": 1,
    # The jobs act on what is due at the time they run, so a late run is always right: never drop one.
    "misfire_grace_time": None,
}


class AlreadyRunning(Exception):
    """Another scheduler holds the lock for this database."""


class InstanceLock:
    """The single-instance lock; :meth:`verify` tells whether it is still held."""

    def __init__(self, *, connection: Connection | None = None, handle: IO | None = None, where: str):
        self._connection, self._handle, self.where = connection, handle, where
        # Jobs run in several threads and each verifies the lock; one connection serves them one at a time.
        self._mutex = threading.Lock()

    def verify(self) -> bool:
        with self._mutex:
            return self._verify()

    def _verify(self) -> bool:
        if self._connection is None:
            return self._handle is not None
        try:
            held = self._connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objsubid = 1 "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": ADVISORY_LOCK_KEY},
            ).scalar()
        except Exception:  # the connection is gone, and with it the lock
            return False
        return held == 1

    def release(self) -> None:
        with self._mutex:
            self._release()

    def _release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            except Exception:
                pass
            self._connection.close()
            self._connection = None
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def lock_file_path(app: Flask) -> Path:
    """``<database file>.scheduler.lock``: the lock guards the database, whichever instance folder is used."""
    url = app.config["DATABASE_URL"]
    database = url.removeprefix("sqlite:///")
    if url in ("sqlite://", "sqlite:///:memory:") or database == url:
        return Path(app.instance_path) / "scheduler.lock"
    return Path(database + ".scheduler.lock")


def acquire_lock(app: Flask) -> InstanceLock:
    """Take the single-instance lock for the app's database or raise :class:`AlreadyRunning`."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        path = lock_file_path(app)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise AlreadyRunning(f"{path} is locked by process {holder or '?'}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return InstanceLock(handle=handle, where=str(path))
    with app.app_context():
        connection = db.get_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
    if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}).scalar():
        connection.close()
        raise AlreadyRunning(f"PostgreSQL advisory lock {ADVISORY_LOCK_KEY} is held by another process")
    return InstanceLock(connection=connection, where=f"PostgreSQL advisory lock {ADVISORY_LOCK_KEY}")


def build_scheduler(
    app: Flask, *, lock: InstanceLock | None = None, now: datetime | None = None, on_lock_lost=None
) -> BlockingScheduler:
    """A BlockingScheduler (in-memory job store, Stockholm time) with every job of :data:`jobs.JOBS`.

    Each job first runs at ``now`` (start-up catch-up), then on its trigger. Before each run the lock is
    verified; if it was lost, ``on_lock_lost`` is called and the job does not run.
    """
    scheduler = BlockingScheduler(
        timezone=STOCKHOLM, executors={"default": ThreadPoolExecutor(4)}, job_defaults=JOB_DEFAULTS
    )
    start = (now or utcnow()).astimezone(STOCKHOLM)
    for job in jobs.JOBS.values():
        trigger = job.trigger()
        scheduler.add_job(
            _fire,
            trigger,
            args=(app, job.name, trigger, lock, on_lock_lost),
            id=job.name,
            name=job.name,
            next_run_time=start,
            replace_existing=True,
        )
    return scheduler


def _fire(app: Flask, name: str, trigger, lock: InstanceLock | None, on_lock_lost) -> None:
    with app.app_context():
        if lock is not None and not lock.verify():
            log.error("the scheduler lost its single-instance lock (%s); not running %s", lock.where, name)
            if on_lock_lost is not None:
                on_lock_lost()
            return
        jobs.run_job(
            name,
            utcnow(),
            next_run_at=lambda: trigger.get_next_fire_time(
                None, datetime.now(STOCKHOLM) + timedelta(seconds=1)
            ),
        )


def run(app: Flask) -> int:
    """Run the scheduler until SIGTERM or SIGINT. Returns the process exit code.

    1 when another scheduler already runs (nothing is started) or when the lock was lost while running.
    """
    try:
        lock = acquire_lock(app)
    except AlreadyRunning as exc:
        log.error("another samrad scheduler is already running for this database (%s); not starting", exc)
        return 1
    except SQLAlchemyError as exc:
        log.error("cannot reach the database (%s); not starting", db.describe_error(exc))
        return 1
    app.extensions[outbox.CLAIMANT_KEY] = outbox.SCHEDULER
    lost = threading.Event()
    try:
        try:
            with app.app_context(), db.session_scope() as session:
                released = outbox.release_claims(session)
        except SQLAlchemyError as exc:
            log.error("cannot reach the database (%s); not starting", db.describe_error(exc))
            return 1
        if released:
            log.info("put %s messages claimed by a stopped scheduler back in the queue", released)

        def on_lock_lost() -> None:
            lost.set()
            _stop(scheduler)

        scheduler = build_scheduler(app, lock=lock, on_lock_lost=on_lock_lost)
        log.info("scheduler started (%s); jobs: %s", lock.where, ", ".join(jobs.JOBS))

        def _terminate(signum, _frame):
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        try:
            scheduler.start()
        except SystemExit:
            pass
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=True)
            with app.app_context():
                jobs.record_next_runs(dict.fromkeys(jobs.JOBS))
    finally:
        lock.release()
    log.info("scheduler stopped")
    return 1 if lost.is_set() else 0


def _stop(scheduler: BlockingScheduler) -> None:
    # Called from a job thread: wait=False, the main thread finishes the shutdown.
    if scheduler.running:
        scheduler.shutdown(wait=False)
