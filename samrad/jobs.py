"""Scheduled jobs: plain functions of ``now``, registered once in :data:`JOBS` with their triggers.

The scheduler process (``samrad scheduler``, :mod:`samrad.scheduler`) runs them on these triggers;
``samrad run-job NAME`` runs one once, for installations that prefer cron. Either way they go through
:func:`run_job`, which retries when the database is briefly locked or unreachable and records the
outcome in ``JobRun`` for the health page and ``samrad status``.

Every job is idempotent: it looks at what is due at ``now`` and at what was done already (outbox claims,
dedupe keys, ``text_purged_at``), so running it twice, concurrently, or again after a crash does each
thing once. Jobs open their own ``db.session_scope()`` and commit there; services never commit.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session, select

from samrad import db, keys, outbox, ratelimits
from samrad.clock import STOCKHOLM
from samrad.db import describe_error
from samrad.enums import JobOutcome
from samrad.models import JobRun, utcnow
from samrad.services import (
    accounts,
    audit,
    directory,
    evaluations,
    join_requests,
    meetings,
    reminders,
    retention,
)
from samrad.urls import external_url

log = logging.getLogger(__name__)

#: Waits before retrying a job whose database was locked or unreachable (then it waits for its next run).
RETRY_DELAYS = (1, 2, 4)


# --- The jobs --------------------------------------------------------------------------------------


def deliver_outbox(now: datetime) -> str:
    """Send the e-mail that is due: new messages and retries whose backoff has passed."""
    with db.session_scope() as session:
        report = outbox.deliver_due(session, now=now)
    return str(report)


def send_case_deadline_reminders(now: datetime) -> str:
    """Remind case officers and standing members of coming case deadlines."""
    with db.session_scope(deliver_mail=False) as session:
        queued = reminders.send_case_deadline_reminders(
            session,
            now=now,
            days_before=current_app.config["CASE_DEADLINE_REMINDER_DAYS"],
            link=external_url("pages.index"),
        )
    return f"queued {queued} reminders"


def send_queue_ready_notices(now: datetime) -> str:
    """Tell coordinators that a meeting's case deadline has passed and the agenda can be planned."""
    with db.session_scope(deliver_mail=False) as session:
        queued = reminders.send_queue_ready_notices(session, now=now, link=external_url("pages.index"))
    return f"queued {queued} notices"


def send_rsvp_reminders(now: datetime) -> str:
    """Remind invitees who have not answered, the day before the meeting."""
    with db.session_scope(deliver_mail=False) as session:
        queued = reminders.send_rsvp_reminders(session, now=now, link=external_url("pages.index"))
    return f"queued {queued} reminders"


def purge_case_text(now: datetime) -> str:
    """Erase case free text past its retention time, keeping the coded fields."""
    with db.session_scope() as session:
        cases = retention.purge_case_text(
            session, now=now, retention_days=current_app.config["CASE_TEXT_RETENTION_DAYS"]
        )
    return f"purged the text of {cases} cases"


def purge_audit_log(now: datetime) -> str:
    """Delete audit log entries past their own retention time."""
    with db.session_scope() as session:
        events = audit.purge(session, now=now, retention_days=current_app.config["AUDIT_RETENTION_DAYS"])
    return f"deleted {events} audit log entries"


def purge_sent_mail(now: datetime) -> str:
    """Erase the bodies of delivered e-mail, and the file transport's old messages (they may hold
    single-use links)."""
    with db.session_scope() as session:
        mails = retention.purge_sent_mail(session)
    detail = f"erased the bodies of {mails} delivered e-mails"
    transport = outbox.transport_from_config(current_app.config)
    if isinstance(transport, outbox.FileTransport):
        keep = timedelta(hours=current_app.config["MAIL_FILE_KEEP_HOURS"])
        files = transport.purge(older_than=now - keep)
        detail += f" and {files} mail files"
    return detail


def purge_login_attempts(now: datetime) -> str:
    """Delete records of failed logins once they are too old to throttle anyone, and the rate-limit
    windows that have ended."""
    window = timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])
    with db.session_scope() as session:
        deleted = accounts.purge_login_attempts(session, before=now - window)
    windows = ratelimits.purge_expired(db.get_engine(), now=now)
    return f"deleted {deleted} failed-login records and {windows} rate-limit windows"


def announce_join_requests(now: datetime) -> str:
    """One e-mail per coordinator with the number of new join requests (never one per request)."""
    with db.session_scope() as session:
        queued = join_requests.announce_join_requests(
            session, now=now, review_link=lambda c: external_url("join.review", slug=c.slug)
        )
    return f"queued {queued} digests"


def purge_evaluation_comments(now: datetime) -> str:
    """Delete evaluation free text past its retention time."""
    with db.session_scope() as session:
        comments = retention.purge_evaluation_comments(
            session, now=now, retention_days=current_app.config["EVALUATION_COMMENT_RETENTION_DAYS"]
        )
    return f"deleted {comments} evaluation comments"


def extend_meeting_series(now: datetime) -> str:
    """Keep every consultation's series planned ahead (holidays and break periods skipped)."""
    weeks = current_app.config["MEETINGS_PLANNED_WEEKS_AHEAD"]
    until = (now.astimezone(STOCKHOLM) + timedelta(weeks=weeks)).date()
    with db.session_scope() as session:
        created = sum(
            len(meetings.extend_series(session, consultation, until=until, now=now))
            for consultation in directory.consultations(session)
        )
    return f"planned {created} new meetings"


def close_evaluations(now: datetime) -> str:
    """Close evaluations whose answering time is up (their results can then be shown)."""
    with db.session_scope() as session:
        closed = evaluations.close_due_evaluations(session, now=now, sealer=keys.sealer(keys.ANSWERS))
    return f"closed {closed} evaluations"


def count_evaluation_answers(now: datetime) -> str:
    """Count the answers waiting in each open evaluation's pool, in batches of at least the threshold."""
    with db.session_scope() as session:
        counted = evaluations.count_due_pools(
            session,
            sealer=keys.sealer(keys.ANSWERS),
            min_batch=current_app.config["EVALUATION_MIN_RESPONDENTS"],
        )
    return f"counted {counted} answers"


def send_evaluation_reminders(now: datetime) -> str:
    """Send each open evaluation's one reminder to every attendee (no link; see services.evaluations)."""
    days = current_app.config["EVALUATION_REMINDER_DAYS"]
    if days == 0:
        return "reminders are turned off"
    with db.session_scope(deliver_mail=False) as session:
        queued = evaluations.remind_evaluations(session, now=now, after=timedelta(days=days))
    return f"queued {queued} reminders"


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[datetime], str]
    #: Builds the APScheduler trigger (Stockholm time). Cron jobs never run between 02:00 and 03:00,
    #: the hour that is skipped or repeated when daylight saving starts or ends.
    trigger: Callable[[], BaseTrigger]
    label: str


def _cron(**fields) -> Callable[[], BaseTrigger]:
    return lambda: CronTrigger(timezone=STOCKHOLM, **fields)


#: Every scheduled job, by the name ``samrad run-job`` and the health page use.
JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "deliver-outbox",
            deliver_outbox,
            lambda: IntervalTrigger(minutes=1, timezone=STOCKHOLM),
            _l("Deliver queued e-mail"),
        ),
        Job(
            "case-deadline-reminders",
            send_case_deadline_reminders,
            _cron(hour="7-21", minute="2-59/15"),
            _l("Remind case officers and standing members of the case deadline"),
        ),
        Job(
            "queue-ready-notices",
            send_queue_ready_notices,
            _cron(hour="6-22", minute="5-59/15"),
            _l("Tell coordinators when the case deadline has passed"),
        ),
        Job(
            "rsvp-reminders",
            send_rsvp_reminders,
            _cron(hour="7-21", minute="8-59/15"),
            _l("Remind invitees who have not answered"),
        ),
        Job(
            "purge-case-text",
            purge_case_text,
            _cron(hour=4, minute=15),
            _l("Erase case text after its retention time"),
        ),
        Job(
            "purge-audit-log",
            purge_audit_log,
            _cron(hour=4, minute=25),
            _l("Delete audit log entries after their retention time"),
        ),
        Job(
            "purge-login-attempts",
            purge_login_attempts,
            _cron(hour=4, minute=45),
            _l("Delete old records of failed logins and rate limits"),
        ),
        Job(
            "join-request-digest",
            announce_join_requests,
            lambda: IntervalTrigger(minutes=10, timezone=STOCKHOLM),
            _l("Tell coordinators about new join requests"),
        ),
        Job(
            "purge-evaluation-comments",
            purge_evaluation_comments,
            _cron(hour=4, minute=35),
            _l("Delete evaluation free text after its retention time"),
        ),
        Job(
            "extend-series",
            extend_meeting_series,
            _cron(hour=5, minute=40),
            _l("Plan the meeting series ahead"),
        ),
        Job(
            "close-evaluations",
            close_evaluations,
            _cron(hour="0-1,3-23", minute="3-59/10"),
            _l("Close evaluations whose time is up"),
        ),
        Job(
            "count-evaluation-answers",
            count_evaluation_answers,
            lambda: IntervalTrigger(minutes=10, timezone=STOCKHOLM),
            _l("Count evaluation answers in batches"),
        ),
        Job(
            "evaluation-reminders",
            send_evaluation_reminders,
            _cron(hour="8-20", minute=20),
            _l("Remind attendees to answer the evaluation"),
        ),
        Job(
            "purge-sent-mail",
            purge_sent_mail,
            lambda: IntervalTrigger(minutes=10, timezone=STOCKHOLM),
            _l("Erase the bodies of delivered e-mail"),
        ),
    )
}


# --- Running a job and recording how it went ---------------------------------------------------------


def run_job(
    name: str,
    now: datetime | None = None,
    *,
    next_run_at: Callable[[], datetime | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> JobOutcome:
    """Run the job ``name`` once for ``now`` (default: the current time) and record its outcome.

    A locked or unreachable database (``OperationalError``) is retried after :data:`RETRY_DELAYS`; any
    other error fails the run at once. The error is logged by class and row-free message, never with
    data. ``next_run_at`` is given by the scheduler (the trigger's next fire time) and recorded too.
    """
    job = JOBS[name]
    now = now or utcnow()
    started = time.monotonic()
    _record(name, last_started_at=now, last_outcome=JobOutcome.RUNNING)
    retries = 0
    while True:
        try:
            with audit.acting_as(audit.Acting(f"job {name}")):
                detail = job.func(now)
            outcome = JobOutcome.OK
            break
        except OperationalError as exc:
            if retries == len(RETRY_DELAYS):
                log.error("job %s failed after %s retries: %s", name, retries, describe_error(exc))
                outcome, detail = JobOutcome.FAILED, describe_error(exc)
                break
            log.warning("job %s: %s; retrying in %s s", name, describe_error(exc), RETRY_DELAYS[retries])
            sleep(RETRY_DELAYS[retries])
            retries += 1
        except Exception as exc:
            # Where it failed (code lines only): the exception's own message might quote data.
            where = "".join(traceback.format_tb(exc.__traceback__))
            log.error("job %s failed: %s\n%s", name, describe_error(exc), where.rstrip())
            outcome, detail = JobOutcome.FAILED, describe_error(exc)
            break
    if retries:
        detail += f" (after {retries} {'retry' if retries == 1 else 'retries'})"
    finished = now + timedelta(seconds=time.monotonic() - started)
    values = {
        "last_started_at": now,
        "last_finished_at": finished,
        "last_outcome": outcome,
        "last_detail": detail[:500],
    }
    if outcome == JobOutcome.OK:
        values["last_ok_at"] = finished
        # A run that did nothing (every count 0) is routine; keep the log for runs that did something.
        quiet = all(n == "0" for n in re.findall(r"\d+", detail))
        log.log(logging.DEBUG if quiet else logging.INFO, "job %s: %s", name, detail)
    if next_run_at is not None:
        values["next_run_at"] = next_run_at()
    _record(name, **values)
    return outcome


def _record(name: str, **values) -> None:
    """Write the job's row; health bookkeeping must never make the job itself fail."""
    for _ in range(2):  # a second try covers two processes creating the first row at the same time
        try:
            with db.session_scope() as session:
                run = session.get(JobRun, name) or JobRun(name=name)
                for key, value in values.items():
                    setattr(run, key, value)
                session.add(run)
            return
        except IntegrityError:
            continue
        except SQLAlchemyError as exc:
            log.warning("could not record the run of job %s: %s", name, describe_error(exc))
            return


def record_next_runs(next_runs: dict[str, datetime | None]) -> None:
    """Store when the scheduler will run each job next (None when it stops)."""
    for name, when in next_runs.items():
        _record(name, next_run_at=when)


# --- Health ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStatus:
    name: str
    label: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_outcome: JobOutcome | None
    last_detail: str
    last_ok_at: datetime | None
    next_run_at: datetime | None


def job_statuses(session: Session) -> list[JobStatus]:
    """Every registered job with its last run, in registration order (never-run jobs included)."""
    runs = {run.name: run for run in session.exec(select(JobRun))}
    statuses = []
    for name, job in JOBS.items():
        run = runs.get(name)
        if run is None:  # not an empty JobRun: building a model object validates it (0.1 ms a job)
            statuses.append(JobStatus(name, job.label, None, None, None, "", None, None))
            continue
        statuses.append(
            JobStatus(
                name,
                job.label,
                run.last_started_at,
                run.last_finished_at,
                run.last_outcome,
                run.last_detail,
                run.last_ok_at,
                run.next_run_at,
            )
        )
    return statuses


#: The outbox job runs every minute; if its next run is this far overdue, the scheduler is not running.
SCHEDULER_GRACE = timedelta(minutes=5)


def scheduler_running(statuses: list[JobStatus], now: datetime) -> bool:
    """Whether something runs the jobs: a scheduler whose next outbox run is not long overdue, or (cron)
    an outbox run that started within the last few minutes."""
    outbox_job = next(s for s in statuses if s.name == "deliver-outbox")
    if outbox_job.next_run_at is not None and outbox_job.next_run_at + SCHEDULER_GRACE >= now:
        return True
    return outbox_job.last_started_at is not None and outbox_job.last_started_at + SCHEDULER_GRACE >= now
