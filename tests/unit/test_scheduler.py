"""The scheduler process: its jobs and triggers, daylight saving, the single-instance lock, the CLI."""

import signal
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlmodel import Session, select

from samrad import db, jobs, migrate, scheduler
from samrad.clock import STOCKHOLM
from samrad.enums import JobOutcome, OutboxStatus
from samrad.models import JobRun, OutboxMessage
from tests.conftest import make_app
from tests.processes import (
    ROOT,
    fresh_postgres_database,
    samrad_command,
    samrad_env,
    start_scheduler,
    wait_until,
)


def test_every_job_is_scheduled_in_stockholm_time_and_first_runs_at_start(app):
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    sched = scheduler.build_scheduler(app, now=start)
    assert str(sched.timezone) == "Europe/Stockholm"
    pending = {job.id: job for job, _, _ in sched._pending_jobs}
    assert list(pending) == list(jobs.JOBS)
    for job in pending.values():
        assert job.next_run_time == start.astimezone(STOCKHOLM)  # catch up once at start
    # Applied to every job when the scheduler starts: many missed runs become one, never two at once,
    # and a late run still runs (the jobs act on what is due when they run).
    assert sched._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def _fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    times, previous = [], None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end:
        times.append(moment)
        previous = moment
        moment = trigger.get_next_fire_time(previous, previous)
    return times


# Daylight saving starts on Sunday 28 March 2027 (02:00 → 03:00) and ends on Sunday 31 October
# (03:00 → 02:00).
DST_DAYS = [
    (datetime(2027, 3, 27, tzinfo=STOCKHOLM), datetime(2027, 3, 30, tzinfo=STOCKHOLM)),
    (datetime(2027, 10, 30, tzinfo=STOCKHOLM), datetime(2027, 11, 2, tzinfo=STOCKHOLM)),
]


@pytest.mark.parametrize(("start", "end"), DST_DAYS)
def test_cron_jobs_never_run_between_two_and_three_and_run_once_per_slot(start, end):
    for job in jobs.JOBS.values():
        trigger = job.trigger()
        if not isinstance(trigger, CronTrigger):
            continue
        fires = _fire_times(trigger, start, end)
        local = [f.astimezone(STOCKHOLM) for f in fires]
        assert fires, job.name
        assert [t for t in local if t.hour == 2] == [], job.name
        assert len({(t.date(), t.hour, t.minute) for t in local}) == len(local), job.name  # no double runs
        assert len({f.astimezone(UTC) for f in fires}) == len(fires), job.name


@pytest.mark.parametrize(("start", "end"), DST_DAYS)
def test_retention_runs_at_a_quarter_past_four_local_time_every_day(start, end):
    fires = _fire_times(jobs.JOBS["purge-case-text"].trigger(), start, end)
    assert [f.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M %Z") for f in fires] == [
        f"{(start + timedelta(days=n)).date()} 04:15 {(start + timedelta(days=n, hours=4)).tzname()}"
        for n in range(3)
    ]


def test_outbox_delivery_runs_every_real_minute_through_the_autumn_hour_that_repeats():
    trigger = jobs.JOBS["deliver-outbox"].trigger()
    start = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 CEST; then 02:00–02:59 CET again
    fires = _fire_times(trigger, start, start + timedelta(hours=2))
    utc = [f.astimezone(UTC) for f in fires]
    gaps = {(b - a) for a, b in zip(utc, utc[1:], strict=False)}
    assert gaps == {timedelta(minutes=1)}
    assert len(fires) in (119, 120)


def test_reminder_jobs_run_every_quarter_hour_in_the_daytime():
    fires = _fire_times(
        jobs.JOBS["case-deadline-reminders"].trigger(),
        datetime(2027, 3, 2, tzinfo=STOCKHOLM),
        datetime(2027, 3, 3, tzinfo=STOCKHOLM),
    )
    local = [f.astimezone(STOCKHOLM).strftime("%H:%M") for f in fires]
    assert (local[0], local[1], local[-1], len(local)) == ("07:02", "07:17", "21:47", 60)


# --- The single-instance lock ------------------------------------------------------------------------


def test_sqlite_lock_refuses_a_second_scheduler_until_the_first_releases(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/lock.db", tmp_path)
    first = scheduler.acquire_lock(app)
    assert first.where == f"{tmp_path}/lock.db.scheduler.lock"
    assert first.verify() is True
    with pytest.raises(scheduler.AlreadyRunning, match=r"lock.db.scheduler.lock is locked by process \d+"):
        scheduler.acquire_lock(app)
    # Another instance folder pointing at the same database is refused as well.
    other = make_app(f"sqlite:///{tmp_path}/lock.db", tmp_path / "elsewhere")
    with pytest.raises(scheduler.AlreadyRunning):
        scheduler.acquire_lock(other)
    first.release()
    assert first.verify() is False
    scheduler.acquire_lock(app).release()


@pytest.mark.postgres
def test_postgres_advisory_lock_refuses_a_second_scheduler_and_is_lost_with_its_connection(
    postgres_url, tmp_path
):
    app = make_app(postgres_url, tmp_path)
    first = scheduler.acquire_lock(app)
    assert first.verify() is True
    with pytest.raises(scheduler.AlreadyRunning, match="advisory lock"):
        scheduler.acquire_lock(app)
    first.release()
    second = scheduler.acquire_lock(app)
    with app.app_context(), db.get_engine().connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"
            ),
            {"low": scheduler.ADVISORY_LOCK_KEY & 0xFFFFFFFF},
        )
    assert second.verify() is False
    second.release()
    scheduler.acquire_lock(app).release()
    with app.app_context():
        db.get_engine().dispose()


# --- The real process --------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def process_db(request, tmp_path):
    """A migrated database for a scheduler subprocess: (url, app of the test process)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/samrad.db"
    else:
        url = fresh_postgres_database(request.getfixturevalue("postgres_url"), "samrad_scheduler")
    app = make_app(url, tmp_path)
    with app.app_context():
        migrate.upgrade(db.get_engine())
    yield url, app
    with app.app_context():
        db.get_engine().dispose()


def _next_runs(app) -> dict:
    with app.app_context(), Session(db.get_engine()) as s:
        return {run.name: run.next_run_at for run in s.exec(select(JobRun))}


def test_scheduler_process_runs_every_job_at_start_refuses_a_second_and_stops_cleanly(process_db, tmp_path):
    url, app = process_db
    with app.app_context(), Session(db.get_engine()) as s:
        # A message a killed scheduler was sending: put back in the queue at start and sent.
        s.add(
            OutboxMessage(
                recipient="a@k.example",
                subject="s",
                body_text="b",
                message_id="<k@x>",
                status=OutboxStatus.SENDING,
                claimed_by="scheduler",
                lease_until=datetime.now(UTC) + timedelta(minutes=5),
            )
        )
        s.commit()
    env = samrad_env(tmp_path, url)
    process = start_scheduler(env, tmp_path / "scheduler.log")
    try:
        wait_until(
            lambda: len([v for v in _next_runs(app).values() if v]) == len(jobs.JOBS),
            "every job to have run once",
        )
        with app.app_context(), Session(db.get_engine()) as s:
            runs = {run.name: run for run in s.exec(select(JobRun))}
            message = s.exec(select(OutboxMessage)).one()
        assert {name: run.last_outcome for name, run in runs.items()} == dict.fromkeys(
            jobs.JOBS, JobOutcome.OK
        )
        assert runs["deliver-outbox"].last_detail == "sent 1, retrying 0, failed 0, skipped 0"
        assert (message.status, message.claimed_by) == (OutboxStatus.SENT, "")
        now = datetime.now(UTC)
        assert now < runs["deliver-outbox"].next_run_at <= now + timedelta(minutes=1)

        second = subprocess.run(
            samrad_command("scheduler"), env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        assert "another samrad scheduler is already running for this database" in second.stderr
        assert "Traceback" not in second.stderr
        assert process.poll() is None  # the first one keeps running

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert _next_runs(app) == dict.fromkeys(jobs.JOBS)  # a stopped scheduler announces no next runs
    log = (tmp_path / "scheduler.log").read_text()
    assert "put 1 messages claimed by a stopped scheduler back in the queue" in log
    assert "scheduler stopped" in log
    scheduler.acquire_lock(app).release()  # the lock went with the process


# --- Commands ----------------------------------------------------------------------------------------


def test_run_job_runs_one_job_once_and_status_shows_it(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["run-job", "queue-ready-notices"])
    assert (result.exit_code, result.output) == (0, "queue-ready-notices: ok: queued 0 notices\n")
    assert runner.invoke(args=["run-job", "no-such-job"]).exit_code == 2
    with app.app_context(), db.session_scope() as s:
        s.add(
            OutboxMessage(
                recipient="a@k.example",
                subject="s",
                body_text="b",
                message_id="<f@x>",
                status=OutboxStatus.FAILED,
            )
        )
    output = runner.invoke(args=["status"]).output.splitlines()
    assert output[0] == "Jobs (times in Europe/Stockholm):"
    assert [line.split()[0] for line in output[1 : 1 + len(jobs.JOBS)]] == list(jobs.JOBS)
    queue_ready = next(line for line in output if line.startswith("  queue-ready-notices"))
    assert queue_ready.split()[4:] == ["ok", "next", "-", "queued", "0", "notices"]
    end = 1 + len(jobs.JOBS)
    assert output[end] == "E-mail outbox: pending 0, sending 0, sent 0, failed 1"
    assert output[end + 1 :] == [
        "Warning: no scheduler seems to be running (start one with `samrad scheduler`)."
    ]


def test_run_job_exits_non_zero_when_the_job_fails(app, monkeypatch):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setitem(jobs.JOBS, "rsvp-reminders", jobs.Job("rsvp-reminders", broken, lambda: None, "x"))
    result = app.test_cli_runner().invoke(args=["run-job", "rsvp-reminders"])
    assert (result.exit_code, result.output) == (1, "rsvp-reminders: failed: RuntimeError\n")
