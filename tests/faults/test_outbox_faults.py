"""Fault tests: e-mail through a real SMTP server (aiosmtpd on loopback) while things break.

Messages are counted at the SMTP server by Message-ID (generated when queued, so a re-send carries the same
one). Each test states its tally exactly: sent (queued by the app), delivered (distinct Message-IDs that
arrived), duplicated (extra copies), lost (queued but never arrived).

Delivery is at-least-once. A copy may arrive twice only when the sender dies after the server accepted
the message ("250") and before the row was marked sent; the tests put the kill on either side of that
point deterministically and state what each side allows. No test asserts on how long anything took; the
waits are bounded only so that a broken test cannot hang.
"""

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlmodel import select

from samrad import db, jobs, migrate, outbox
from samrad.enums import JobOutcome, OutboxStatus
from samrad.models import JobRun, OutboxMessage, utcnow
from tests.conftest import make_app, schema_app
from tests.processes import fresh_postgres_database, samrad_env, start_scheduler, wait_until

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _queue(app, n: int, *, now: datetime) -> list[str]:
    """Queue ``n`` messages (without delivering them) and return their Message-IDs in queue order."""
    with app.app_context(), db.session_scope(deliver_mail=False) as s:
        messages = [
            outbox.queue_email(
                s,
                to=f"person{i}@kommun.example",
                template="join_request_receipt",
                now=now,
                consultation=type("C", (), {"name": "Una Norrbotten"})(),
                name=f"Person {i}",
            )
            for i in range(n)
        ]
        s.flush()
        return [m.message_id for m in messages]


def tally(sent: list[str], received: list[str]) -> dict[str, int]:
    return {
        "sent": len(sent),
        "delivered": len(set(received) & set(sent)),
        "duplicated": len(received) - len(set(received)),
        "lost": len(set(sent) - set(received)),
    }


def _rows(app) -> list[OutboxMessage]:
    with app.app_context(), db.session_scope() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _detail(app, name="deliver-outbox") -> str:
    with app.app_context(), db.session_scope() as s:
        return s.get(JobRun, name).last_detail


# --- (a) The SMTP server goes away for a while --------------------------------------------------------


def test_everything_arrives_once_after_the_smtp_server_was_down(any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    sent = _queue(any_db_app, 20, now=T0)
    accepted = []

    def going_down(envelope):
        # The server accepts five messages, then announces it is shutting down ...
        if len(accepted) < 5:
            accepted.append(envelope)
            return None
        return "421 Service shutting down"

    smtp_server.recorder.hook = going_down
    with any_db_app.app_context():
        assert jobs.run_job("deliver-outbox", T0) == JobOutcome.OK
        assert (
            _detail(any_db_app)
            == "sent 5, retrying 1, failed 0, skipped 0 (mail server unreachable, stopped early)"
        )
        # ... and is gone for two more runs: each costs one message one attempt; the rest wait untouched.
        smtp_server.stop()
        for minutes in (2, 3):
            jobs.run_job("deliver-outbox", T0 + timedelta(minutes=minutes))
            assert _detail(any_db_app) == (
                "sent 0, retrying 1, failed 0, skipped 0 (mail server unreachable, stopped early)"
            )
        smtp_server.recorder.hook = None
        smtp_server.start()
        jobs.run_job("deliver-outbox", T0 + timedelta(minutes=10))
        assert _detail(any_db_app) == "sent 15, retrying 0, failed 0, skipped 0"
        jobs.run_job("deliver-outbox", T0 + timedelta(hours=2))
        assert _detail(any_db_app) == "sent 0, retrying 0, failed 0, skipped 0"
    received = smtp_server.recorder.message_ids()
    assert tally(sent, received) == {"sent": 20, "delivered": 20, "duplicated": 0, "lost": 0}
    rows = _rows(any_db_app)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert [r.attempts for r in rows] == [1] * 5 + [2] * 3 + [1] * 12


# --- (b) The scheduler process is killed (SIGKILL) in the middle of a batch ------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def process_db(request, tmp_path):
    """A migrated database that a scheduler subprocess and this test share: (url, app)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/samrad.db"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_url"), "samrad_faults")
    app = make_app(url, tmp_path)
    with app.app_context():
        migrate.upgrade(db.get_engine())
    yield url, app
    with app.app_context():
        db.get_engine().dispose()


class RowLock:
    """Blocks writes to one outbox row from outside the scheduler (SQLite: the whole database)."""

    def __init__(self, url: str):
        self.url, self._conn = url, None

    def take(self, message_id: str) -> None:
        if self.url.startswith("sqlite"):
            self._conn = sqlite3.connect(
                self.url.removeprefix("sqlite:///"), timeout=10, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            self._conn = psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"))
            self._conn.execute("SELECT 1 FROM outboxmessage WHERE message_id = %s FOR UPDATE", (message_id,))

    def release(self) -> None:
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None


KILL_AT = 5  # the fifth message of twenty


@pytest.mark.parametrize("moment", ["before-250", "after-250"])
def test_a_scheduler_killed_mid_batch_loses_nothing_and_resends_at_most_the_accepted_one(
    process_db, smtp_server, tmp_path, moment
):
    url, app = process_db
    sent = _queue(app, 20, now=utcnow())
    arrived_at_kill = threading.Event()
    release = threading.Event()
    lock = RowLock(url)
    calls = []

    if moment == "before-250":
        # The server holds the fifth message without answering; the sender is killed while it waits.
        # A server that never said "250" has not taken the message (this one discards it).
        def hook(envelope):
            calls.append(1)
            if len(calls) == KILL_AT:
                arrived_at_kill.set()
                release.wait(30)
                return "451 Connection lost, message discarded"
            return None
    else:
        # The server accepts the fifth message, but the sender cannot record "sent" (its row is locked)
        # and is killed there: exactly the window in which at-least-once delivery may send a copy again.
        def hook(envelope):
            calls.append(1)
            if len(calls) == KILL_AT:
                lock.take(sent[KILL_AT - 1])
                arrived_at_kill.set()
            return None

    smtp_server.recorder.hook = hook
    env = samrad_env(
        tmp_path, url, MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=smtp_server.port
    )
    process = start_scheduler(env, tmp_path / "first.log")
    try:
        assert arrived_at_kill.wait(60), "the scheduler never reached the fifth message"
        process.kill()
        assert process.wait(timeout=30) == -9
    finally:
        if process.poll() is None:
            process.kill()
        release.set()
        lock.release()

    received = smtp_server.recorder.message_ids()
    accepted_before_kill = KILL_AT if moment == "after-250" else KILL_AT - 1
    assert received == sent[:accepted_before_kill]
    rows = _rows(app)
    assert [r.status for r in rows] == (
        [OutboxStatus.SENT] * (KILL_AT - 1) + [OutboxStatus.SENDING] + [OutboxStatus.PENDING] * 15
    )
    assert rows[KILL_AT - 1].claimed_by == "scheduler"

    smtp_server.recorder.hook = None
    restarted = start_scheduler(env, tmp_path / "second.log")
    try:
        wait_until(lambda: {r.status for r in _rows(app)} == {OutboxStatus.SENT}, "every message to be sent")
        restarted.terminate()
        assert restarted.wait(timeout=30) == 0
    finally:
        if restarted.poll() is None:
            restarted.kill()

    received = smtp_server.recorder.message_ids()
    if moment == "before-250":
        assert tally(sent, received) == {"sent": 20, "delivered": 20, "duplicated": 0, "lost": 0}
        assert received == sent
    else:
        assert tally(sent, received) == {"sent": 20, "delivered": 20, "duplicated": 1, "lost": 0}
        assert [mid for mid in set(received) if received.count(mid) > 1] == [sent[KILL_AT - 1]]
    # The restarted scheduler took the killed one's claim back at once, without waiting for the lease.
    assert (
        "put 1 messages claimed by a stopped scheduler back in the queue"
        in (tmp_path / "second.log").read_text()
    )
    assert [r.attempts for r in _rows(app)] == [1] * 20


# --- (c) The database is locked for a moment ----------------------------------------------------------


@pytest.fixture
def locked_db_app(tmp_path, smtp_server):
    """SQLite in a file with a short busy timeout, so that a held lock turns into an error quickly."""
    path = tmp_path / "locked.db"
    app = schema_app(f"sqlite:///{path}", tmp_path, SQLITE_BUSY_TIMEOUT_MS=100)
    smtp_server.configure(app)
    holder = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
    yield app, holder
    holder.close()


def test_a_job_that_finds_the_database_locked_retries_and_succeeds(locked_db_app, smtp_server, caplog):
    app, holder = locked_db_app
    sent = _queue(app, 3, now=T0)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        if holder.in_transaction:
            holder.execute("ROLLBACK")  # ... and finishes while the job waits to retry

    with app.app_context():
        assert jobs.run_job("deliver-outbox", T0, sleep=sleep) == JobOutcome.OK
    assert waits == [1]
    assert _detail(app) == "sent 3, retrying 0, failed 0, skipped 0 (after 1 retry)"
    assert "job deliver-outbox: OperationalError: database is locked; retrying in 1 s" in caplog.text
    assert tally(sent, smtp_server.recorder.message_ids()) == {
        "sent": 3,
        "delivered": 3,
        "duplicated": 0,
        "lost": 0,
    }


def test_a_lock_right_after_the_server_accepted_does_not_cause_a_second_copy(
    locked_db_app, smtp_server, monkeypatch
):
    app, holder = locked_db_app
    sent = _queue(app, 3, now=T0)
    calls, waits = [], []

    def lock_after_second(envelope):
        calls.append(1)
        if len(calls) == 2:
            holder.execute("BEGIN IMMEDIATE")  # taken before the server answers 250
        return None

    def sleep(seconds):
        waits.append(seconds)
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    smtp_server.recorder.hook = lock_after_second
    monkeypatch.setattr(outbox, "_sleep", sleep)
    with app.app_context():
        assert jobs.run_job("deliver-outbox", T0) == JobOutcome.OK
    assert waits == [0.5]  # recording "sent" for the second message was retried once
    assert _detail(app) == "sent 3, retrying 0, failed 0, skipped 0"
    assert tally(sent, smtp_server.recorder.message_ids()) == {
        "sent": 3,
        "delivered": 3,
        "duplicated": 0,
        "lost": 0,
    }
    assert [(r.status, r.attempts) for r in _rows(app)] == [(OutboxStatus.SENT, 1)] * 3
