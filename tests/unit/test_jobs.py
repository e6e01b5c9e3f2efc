"""Scheduled jobs: reminders, notices, retention, and the wrapper that runs and records them.

Jobs run for an explicit ``now``; every test runs each job twice to show that nothing is done twice.
"""

import logging
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from samrad import db, jobs, keys, outbox
from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    CaseCategory,
    CaseStatus,
    InviteeKind,
    JobOutcome,
    MeetingStatus,
    OutboxStatus,
    RiskAssessment,
    Role,
    Rsvp,
    Sex,
)
from samrad.models import (
    AgendaItem,
    Case,
    CaseCategoryEntry,
    EvaluationComment,
    EvaluationCount,
    Invitee,
    JobRun,
    LoginAttempt,
    Meeting,
    OutboxMessage,
    RateLimitCounter,
    utcnow,
)
from samrad.services import evaluations, reminders, retention
from tests.conftest import schema_app
from tests.factories import (
    ANSWERS_ALL_FULLY,
    MEETING_AT,
    OPENED_AT,
    attend,
    make_consultation,
    make_held_meeting,
    make_municipality,
    make_user,
    open_with_tokens,
)

# Monday 15 March 2027, 13:00 in Stockholm (CET, UTC+1); cases due a week before, at 13:00.
STARTS = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
DEADLINE = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)
# With the default of 2 days: Saturday 6 March 2027, 08:00 in Stockholm.
REMINDER_OPENS = datetime(2027, 3, 6, 7, 0, tzinfo=UTC)

SECRET_TEXT = "Flickan Amina berättar om hot från sin bror"
REFERENCE = "UNA-2027-001"
MUNICIPALITY = "Överkalix"


def _meeting(session, consultation, *, starts_at=STARTS, deadline=DEADLINE, status=MeetingStatus.PLANNED):
    meeting = Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        case_deadline_at=deadline,
        place="Freda-mottagningen, Luleå",
        status=status,
    )
    session.add(meeting)
    session.flush()
    return meeting


def _case(
    session,
    consultation,
    *,
    status,
    reference,
    requested=None,
    training=False,
    discussed=None,
    municipality=None,
):
    case = Case(
        reference=reference,
        consultation_id=consultation.id,
        organisation_id=consultation.host_organisation_id,
        status=status,
        sex=Sex.FEMALE,
        age_band=AgeBand.TEEN,
        risk_assessment=RiskAssessment.PATRIARK,
        report_of_concern_made=True,
        municipality_id=municipality.id if municipality else None,
        requested_meeting_id=requested,
        is_training=training,
        background=SECRET_TEXT,
        questions="Hur går vi vidare?",
        return_comment="Komplettera frågan",
        last_discussed_at=discussed,
    )
    session.add(case)
    session.flush()
    session.add(CaseCategoryEntry(case_id=case.id, category=CaseCategory.HONOUR_VIOLENCE))
    session.flush()
    return case


def _outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    messages = list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    # End the read transaction: the in-memory SQLite database has one connection, which jobs share.
    session.commit()
    return messages


def _run(name, now) -> str:
    assert jobs.run_job(name, now) == JobOutcome.OK
    with db.session_scope() as s:
        return s.get(JobRun, name).last_detail


@pytest.fixture
def una(session):
    """A consultation with one person in each role, people elsewhere, and a case that must never leak."""
    consultation = make_consultation(session, name="Una Norrbotten")
    elsewhere = make_consultation(session, name="Annat samråd")
    people = {
        "officer": make_user(
            session, name="Olle Handläggare", roles=[Role.CASE_OFFICER], consultation=consultation
        ),
        "member": make_user(
            session, name="Maja Medlem", roles=[Role.MEMBER], consultation=consultation, locale="en"
        ),
        "both": make_user(
            session, name="Bo Båda", roles=[Role.MEMBER, Role.CASE_OFFICER], consultation=consultation
        ),
        "coordinator": make_user(
            session, name="Frida Samordnare", roles=[Role.COORDINATOR], consultation=consultation
        ),
        "statistics": make_user(
            session, name="Stina Statistik", roles=[Role.STATISTICS_VIEWER], consultation=consultation
        ),
        "inactive": make_user(
            session, name="Ivar Inaktiv", roles=[Role.MEMBER], consultation=consultation, is_active=False
        ),
        "other": make_user(
            session, name="Åsa Annan", roles=[Role.MEMBER, Role.COORDINATOR], consultation=elsewhere
        ),
    }
    meeting = _meeting(session, consultation)
    _case(
        session,
        consultation,
        status=CaseStatus.SUBMITTED,
        reference=REFERENCE,
        requested=meeting.id,
        municipality=make_municipality(session, name=MUNICIPALITY),
    )
    session.commit()
    return consultation, meeting, people


def _assert_nothing_about_cases(messages):
    for m in messages:
        for part in (m.subject, m.body_text, m.body_html):
            for secret in (SECRET_TEXT, REFERENCE, MUNICIPALITY, "Hur går vi vidare"):
                assert secret not in part


# --- Case-deadline reminders --------------------------------------------------------------------------


def test_deadline_reminder_goes_to_case_officers_and_members_once(session, una):
    consultation, meeting, people = una
    assert _run("case-deadline-reminders", REMINDER_OPENS - timedelta(minutes=1)) == "queued 0 reminders"
    assert _run("case-deadline-reminders", REMINDER_OPENS) == "queued 3 reminders"
    assert _run("case-deadline-reminders", REMINDER_OPENS + timedelta(hours=5)) == "queued 0 reminders"
    messages = _outbox(session)
    assert [m.recipient for m in messages] == [people[k].email for k in ("officer", "member", "both")]
    assert [m.dedupe_key for m in messages] == [
        f"case-deadline:{meeting.id}:20270308T1200Z:user:{people[k].id}"
        for k in ("officer", "member", "both")
    ]
    officer, member, _ = messages
    assert (
        officer.subject == "Påminnelse: ärenden till Una Norrbotten ska anmälas senast 8 mars 2027 kl. 13.00"
    )
    assert "Hej Olle Handläggare!" in officer.body_text
    assert "Nästa möte i Una Norrbotten är måndag 15 mars 2027 kl. 13.00." in officer.body_text
    assert "Ärenden till mötet ska anmälas senast måndag 8 mars 2027 kl. 13.00." in officer.body_text
    assert "https://samrad.test/" in officer.body_text
    assert member.subject == "Reminder: cases for Una Norrbotten must be registered by 8 Mar 2027, 13:00"
    assert (officer.status, officer.next_attempt_at) == (OutboxStatus.PENDING, REMINDER_OPENS)
    _assert_nothing_about_cases(messages)


def test_no_deadline_reminder_after_the_deadline_or_for_cancelled_meetings(session, una):
    consultation, meeting, _ = una
    _meeting(
        session,
        consultation,
        starts_at=STARTS + timedelta(days=1),
        deadline=DEADLINE + timedelta(days=1),
        status=MeetingStatus.CANCELLED,
    )
    session.commit()
    assert _run("case-deadline-reminders", DEADLINE) == "queued 0 reminders"
    assert _outbox(session) == []


def test_a_moved_deadline_is_reminded_again(session, una):
    consultation, meeting, _ = una
    assert _run("case-deadline-reminders", REMINDER_OPENS) == "queued 3 reminders"
    meeting.case_deadline_at = DEADLINE + timedelta(days=2)
    session.add(meeting)
    session.commit()
    assert _run("case-deadline-reminders", REMINDER_OPENS + timedelta(days=1)) == "queued 0 reminders"
    assert _run("case-deadline-reminders", REMINDER_OPENS + timedelta(days=2)) == "queued 3 reminders"
    assert len({m.dedupe_key for m in _outbox(session)}) == 6


def test_reminder_days_are_configurable(session, una, any_db_app):
    any_db_app.config["CASE_DEADLINE_REMINDER_DAYS"] = 5
    opens = datetime(2027, 3, 3, 7, 0, tzinfo=UTC)
    assert _run("case-deadline-reminders", opens - timedelta(seconds=1)) == "queued 0 reminders"
    assert _run("case-deadline-reminders", opens) == "queued 3 reminders"


@pytest.mark.parametrize(
    ("deadline", "days", "opens"),
    [
        # Daylight saving starts on Sunday 28 March 2027: 08:00 is CET before, CEST from that day.
        (datetime(2027, 3, 30, 11, 0, tzinfo=UTC), 2, datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),
        (datetime(2027, 3, 30, 11, 0, tzinfo=UTC), 3, datetime(2027, 3, 27, 7, 0, tzinfo=UTC)),
        # It ends on Sunday 31 October 2027.
        (datetime(2027, 11, 1, 12, 0, tzinfo=UTC), 1, datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        (datetime(2027, 11, 1, 12, 0, tzinfo=UTC), 2, datetime(2027, 10, 30, 6, 0, tzinfo=UTC)),
        # A deadline late in the evening belongs to its Stockholm date, not its UTC date.
        (datetime(2027, 6, 9, 22, 30, tzinfo=UTC), 1, datetime(2027, 6, 9, 6, 0, tzinfo=UTC)),
    ],
)
def test_deadline_reminders_open_at_eight_in_stockholm_across_daylight_saving(deadline, days, opens):
    assert reminders.deadline_reminder_opens(deadline, days) == opens


@pytest.mark.parametrize(
    ("starts_at", "opens"),
    [
        (
            datetime(2027, 3, 29, 11, 0, tzinfo=UTC),
            datetime(2027, 3, 28, 6, 0, tzinfo=UTC),
        ),  # CEST from the 28th
        (
            datetime(2027, 3, 28, 11, 0, tzinfo=UTC),
            datetime(2027, 3, 27, 7, 0, tzinfo=UTC),
        ),  # CET on the 27th
        (
            datetime(2027, 11, 1, 12, 0, tzinfo=UTC),
            datetime(2027, 10, 31, 7, 0, tzinfo=UTC),
        ),  # CET from the 31st
        (
            datetime(2027, 10, 31, 12, 0, tzinfo=UTC),
            datetime(2027, 10, 30, 6, 0, tzinfo=UTC),
        ),  # CEST on the 30th
    ],
)
def test_rsvp_reminders_open_at_eight_the_day_before_across_daylight_saving(starts_at, opens):
    assert reminders.rsvp_reminder_opens(starts_at) == opens


# --- Queue-ready notices ------------------------------------------------------------------------------


def test_queue_ready_notice_tells_coordinators_only_the_number_of_waiting_cases(session, una):
    consultation, meeting, people = una
    later = _meeting(
        session, consultation, starts_at=STARTS + timedelta(days=14), deadline=DEADLINE + timedelta(days=14)
    )
    _case(
        session, consultation, status=CaseStatus.ACCEPTED, reference="UNA-2027-002"
    )  # next possible meeting
    _case(session, consultation, status=CaseStatus.SUBMITTED, reference="UNA-2027-003", requested=later.id)
    _case(session, consultation, status=CaseStatus.DRAFT, reference="UNA-2027-004", requested=meeting.id)
    _case(session, consultation, status=CaseStatus.SUBMITTED, reference="UNA-2027-005", training=True)
    session.commit()
    assert reminders.cases_waiting_for_agenda(session, meeting) == 2
    session.commit()
    assert _run("queue-ready-notices", DEADLINE - timedelta(seconds=1)) == "queued 0 notices"
    assert _run("queue-ready-notices", DEADLINE) == "queued 1 notices"
    assert _run("queue-ready-notices", DEADLINE + timedelta(hours=1)) == "queued 0 notices"
    [notice] = _outbox(session)
    assert notice.recipient == people["coordinator"].email
    assert notice.dedupe_key == f"queue-ready:{meeting.id}:20270308T1200Z:user:{people['coordinator'].id}"
    assert (
        notice.subject
        == "Sista dagen för ärenden har passerat: planera dagordningen för 15 mars 2027 kl. 13.00"
    )
    assert "2 ärenden väntar på dagordningen." in notice.body_text
    _assert_nothing_about_cases([notice])


def test_queue_ready_notice_with_no_cases_suggests_a_training_case(session, una):
    consultation, meeting, _ = una
    session.exec(select(Case)).one().status = CaseStatus.WITHDRAWN
    session.commit()
    assert _run("queue-ready-notices", DEADLINE) == "queued 1 notices"
    [notice] = _outbox(session)
    assert "Inga ärenden väntar på dagordningen." in notice.body_text


def test_no_queue_ready_notice_once_the_meeting_has_started(session, una):
    assert _run("queue-ready-notices", STARTS) == "queued 0 notices"


# --- RSVP reminders -----------------------------------------------------------------------------------


def test_rsvp_reminder_goes_to_invitees_without_an_answer_the_day_before(session, una):
    consultation, meeting, people = una
    rows = [
        Invitee(
            meeting_id=meeting.id,
            user_id=people["member"].id,
            email=people["member"].email,
            kind=InviteeKind.STANDING,
        ),
        Invitee(meeting_id=meeting.id, email="kollega@kommun.example", kind=InviteeKind.PRESENTER),
        Invitee(
            meeting_id=meeting.id,
            user_id=people["officer"].id,
            email=people["officer"].email,
            kind=InviteeKind.STANDING,
            rsvp=Rsvp.ON_SITE,
        ),
        Invitee(
            meeting_id=meeting.id,
            user_id=people["both"].id,
            email=people["both"].email,
            kind=InviteeKind.STANDING,
            rsvp=Rsvp.CANNOT_ATTEND,
        ),
        Invitee(
            meeting_id=meeting.id,
            email="borttagen@kommun.example",
            kind=InviteeKind.STANDING,
            removed_at=DEADLINE,
        ),
    ]
    session.add_all(rows)
    session.commit()
    day_before = datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # Sunday 08:00 in Stockholm
    assert _run("rsvp-reminders", day_before - timedelta(seconds=1)) == "queued 0 reminders"
    assert _run("rsvp-reminders", day_before) == "queued 2 reminders"
    assert _run("rsvp-reminders", STARTS - timedelta(minutes=1)) == "queued 0 reminders"
    messages = _outbox(session)
    assert [(m.recipient, m.dedupe_key) for m in messages] == [
        (people["member"].email, f"rsvp-reminder:{meeting.id}:20270315T1200Z:invitee:{rows[0].id}"),
        ("kollega@kommun.example", f"rsvp-reminder:{meeting.id}:20270315T1200Z:invitee:{rows[1].id}"),
    ]
    assert messages[0].subject == "Reminder: will you attend Una Norrbotten on 15 Mar 2027, 13:00?"
    assert messages[1].subject == "Påminnelse: kommer du till Una Norrbotten 15 mars 2027 kl. 13.00?"
    assert messages[1].body_text.startswith("Hej!\n")
    _assert_nothing_about_cases(messages)
    assert _run("rsvp-reminders", STARTS) == "queued 0 reminders"


# --- Retention ----------------------------------------------------------------------------------------


def test_case_text_is_purged_after_the_retention_time_keeping_the_coded_fields(session, una):
    consultation, meeting, _ = una
    now = datetime(2027, 5, 1, 2, 15, tzinfo=UTC)
    old = _case(
        session,
        consultation,
        status=CaseStatus.DISCUSSED,
        reference="UNA-2027-010",
        discussed=now - timedelta(days=30),
    )
    recent = _case(
        session,
        consultation,
        status=CaseStatus.CLOSED,
        reference="UNA-2027-011",
        discussed=now - timedelta(days=29, hours=23),
    )
    queued_again = _case(
        session,
        consultation,
        status=CaseStatus.ON_AGENDA,
        reference="UNA-2027-012",
        discussed=now - timedelta(days=60),
    )
    _case(  # follow-up wanted, but not queued for a meeting: purged on the same schedule
        session,
        consultation,
        status=CaseStatus.FOLLOW_UP,
        reference="UNA-2027-013",
        discussed=now - timedelta(days=45),
    )
    for case in (old, recent, queued_again):
        session.add(
            AgendaItem(
                meeting_id=meeting.id,
                position=case.id,
                kind=AgendaItemKind.CASE,
                case_id=case.id,
                advice="Kontakta TRIS",
                follow_up_wanted=True,
            )
        )
    session.commit()
    assert _run("purge-case-text", now) == "purged the text of 2 cases"
    assert _run("purge-case-text", now + timedelta(minutes=30)) == "purged the text of 0 cases"
    session.expire_all()
    texts = {
        c.reference: (c.background, c.questions, c.return_comment, c.text_purged_at)
        for c in session.exec(select(Case))
    }
    assert texts["UNA-2027-010"] == ("", "", "", now)
    assert texts["UNA-2027-013"] == ("", "", "", now)
    for kept in ("UNA-2027-011", "UNA-2027-012", REFERENCE):
        assert texts[kept] == (SECRET_TEXT, "Hur går vi vidare?", "Komplettera frågan", None)
    advice = {i.case_id: i.advice for i in session.exec(select(AgendaItem))}
    assert advice == {old.id: "", recent.id: "Kontakta TRIS", queued_again.id: "Kontakta TRIS"}
    purged = session.get(Case, old.id)
    assert (
        purged.sex,
        purged.age_band,
        purged.risk_assessment,
        purged.report_of_concern_made,
        purged.status,
    ) == (Sex.FEMALE, AgeBand.TEEN, RiskAssessment.PATRIARK, True, CaseStatus.DISCUSSED)
    assert [e.category for e in purged.categories] == [CaseCategory.HONOUR_VIOLENCE]
    assert session.get(AgendaItem, 1).follow_up_wanted is True


def test_retention_days_are_configurable(session, una, any_db_app):
    consultation, _, _ = una
    now = datetime(2027, 5, 1, 2, 15, tzinfo=UTC)
    _case(
        session,
        consultation,
        status=CaseStatus.DISCUSSED,
        reference="UNA-2027-020",
        discussed=now - timedelta(days=8),
    )
    session.commit()
    any_db_app.config["CASE_TEXT_RETENTION_DAYS"] = 10
    assert retention.purge_case_text(session, now=now, retention_days=10) == 0
    session.commit()
    assert _run("purge-case-text", now) == "purged the text of 0 cases"
    any_db_app.config["CASE_TEXT_RETENTION_DAYS"] = 7
    assert _run("purge-case-text", now) == "purged the text of 1 cases"


def test_delivered_mail_loses_its_body_but_keeps_what_prevents_a_second_reminder(
    session, una, any_db_app, smtp_server
):
    smtp_server.configure(any_db_app)
    _run("case-deadline-reminders", REMINDER_OPENS)
    assert _run("purge-sent-mail", REMINDER_OPENS) == "erased the bodies of 0 delivered e-mails"
    _run("deliver-outbox", REMINDER_OPENS)
    assert [m.body_text != "" for m in _outbox(session)] == [True] * 3  # sent, body kept until the purge
    assert _run("purge-sent-mail", REMINDER_OPENS) == "erased the bodies of 3 delivered e-mails"
    assert _run("purge-sent-mail", REMINDER_OPENS) == "erased the bodies of 0 delivered e-mails"
    messages = _outbox(session)
    assert [(m.body_text, m.body_html, m.ics, m.status) for m in messages] == [
        ("", "", "", OutboxStatus.SENT)
    ] * 3
    assert [m.recipient for m in messages] == [una[2][k].email for k in ("officer", "member", "both")]
    assert _run("case-deadline-reminders", REMINDER_OPENS + timedelta(hours=1)) == "queued 0 reminders"


# --- The outbox job -----------------------------------------------------------------------------------


def test_deliver_outbox_job_sends_reminders_queued_by_the_other_jobs(session, una, any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    _run("case-deadline-reminders", REMINDER_OPENS)
    assert smtp_server.recorder.messages == []  # reminder jobs leave sending to the outbox job
    assert _run("deliver-outbox", REMINDER_OPENS) == "sent 3, retrying 0, failed 0, skipped 0"
    assert _run("deliver-outbox", REMINDER_OPENS) == "sent 0, retrying 0, failed 0, skipped 0"
    assert sorted(smtp_server.recorder.message_ids()) == sorted(m.message_id for m in _outbox(session))


# --- Running jobs: retries, failures, records --------------------------------------------------------


def test_run_job_records_start_finish_outcome_and_detail(session):
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert (
        jobs.run_job("rsvp-reminders", now, next_run_at=lambda: now + timedelta(minutes=15)) == JobOutcome.OK
    )
    run = session.get(JobRun, "rsvp-reminders")
    assert (run.last_started_at, run.last_outcome, run.last_detail, run.next_run_at) == (
        now,
        JobOutcome.OK,
        "queued 0 reminders",
        now + timedelta(minutes=15),
    )
    assert now <= run.last_finished_at == run.last_ok_at < now + timedelta(minutes=1)


def test_a_failing_job_is_recorded_with_the_error_class_only(session, monkeypatch, caplog):
    def broken(now):
        raise ValueError(SECRET_TEXT)

    monkeypatch.setitem(jobs.JOBS, "rsvp-reminders", jobs.Job("rsvp-reminders", broken, lambda: None, "x"))
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with caplog.at_level(logging.INFO, logger="samrad"):
        assert jobs.run_job("rsvp-reminders", now) == JobOutcome.FAILED
    run = session.get(JobRun, "rsvp-reminders")
    assert (run.last_outcome, run.last_detail, run.last_ok_at) == (JobOutcome.FAILED, "ValueError", None)
    assert "job rsvp-reminders failed: ValueError" in caplog.text
    assert "raise ValueError(SECRET_TEXT)" in caplog.text  # where it failed, from the source line
    assert SECRET_TEXT not in caplog.text


def test_database_errors_never_carry_the_data_into_details_or_logs(session, caplog):
    session.add(
        OutboxMessage(
            recipient="a@k.example", subject="s", body_text="b", message_id="<1@x>", dedupe_key="same"
        )
    )
    session.commit()

    def duplicate(now):
        with db.session_scope() as s:
            s.add(
                OutboxMessage(
                    recipient="a@k.example",
                    subject="s",
                    body_text=SECRET_TEXT,
                    message_id="<2@x>",
                    dedupe_key="same",
                )
            )

    jobs.JOBS["test-duplicate"] = jobs.Job("test-duplicate", duplicate, lambda: None, "x")
    try:
        with caplog.at_level(logging.INFO, logger="samrad"):
            assert jobs.run_job("test-duplicate", datetime(2027, 3, 1, tzinfo=UTC)) == JobOutcome.FAILED
    finally:
        del jobs.JOBS["test-duplicate"]
    detail = session.get(JobRun, "test-duplicate").last_detail
    assert (
        detail
        == {
            "sqlite": "IntegrityError: UNIQUE constraint failed: outboxmessage.dedupe_key",
            "postgresql": "IntegrityError: UniqueViolation (uq_outboxmessage_dedupe_key)",
        }[session.bind.dialect.name]
    )
    assert SECRET_TEXT not in detail and SECRET_TEXT not in caplog.text


def test_a_locked_or_unreachable_database_is_retried(session, monkeypatch):
    calls = []

    def flaky(now):
        calls.append(now)
        if len(calls) < 3:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return "done 1"

    monkeypatch.setitem(jobs.JOBS, "rsvp-reminders", jobs.Job("rsvp-reminders", flaky, lambda: None, "x"))
    slept = []
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert jobs.run_job("rsvp-reminders", now, sleep=slept.append) == JobOutcome.OK
    assert (calls, slept) == ([now] * 3, [1, 2])
    assert session.get(JobRun, "rsvp-reminders").last_detail == "done 1 (after 2 retries)"


def test_a_database_that_stays_locked_fails_the_run_after_the_retries(session, monkeypatch):
    def locked(now):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    monkeypatch.setitem(jobs.JOBS, "rsvp-reminders", jobs.Job("rsvp-reminders", locked, lambda: None, "x"))
    slept = []
    assert (
        jobs.run_job("rsvp-reminders", datetime(2027, 3, 1, tzinfo=UTC), sleep=slept.append)
        == JobOutcome.FAILED
    )
    assert slept == [1, 2, 4]
    assert session.get(JobRun, "rsvp-reminders").last_detail == (
        "OperationalError: database is locked (after 3 retries)"
    )


def test_job_statuses_list_every_job_and_tell_whether_a_scheduler_runs(session):
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    statuses = jobs.job_statuses(session)
    assert [s.name for s in statuses] == [
        "deliver-outbox",
        "case-deadline-reminders",
        "queue-ready-notices",
        "rsvp-reminders",
        "purge-case-text",
        "purge-audit-log",
        "purge-login-attempts",
        "join-request-digest",
        "purge-evaluation-comments",
        "extend-series",
        "close-evaluations",
        "count-evaluation-answers",
        "evaluation-reminders",
        "purge-sent-mail",
    ]
    assert {s.last_outcome for s in statuses} == {None}
    assert statuses[0] == jobs.JobStatus(
        "deliver-outbox", jobs.JOBS["deliver-outbox"].label, None, None, None, "", None, None
    )
    assert jobs.scheduler_running(statuses, now) is False
    session.commit()
    jobs.record_next_runs({"deliver-outbox": now + timedelta(minutes=1)})
    session.expire_all()
    statuses = jobs.job_statuses(session)
    session.commit()
    assert jobs.scheduler_running(statuses, now) is True
    assert jobs.scheduler_running(statuses, now + timedelta(minutes=6)) is True
    assert jobs.scheduler_running(statuses, now + timedelta(minutes=6, seconds=1)) is False
    jobs.record_next_runs({"deliver-outbox": None})
    session.expire_all()
    assert jobs.scheduler_running(jobs.job_statuses(session), now) is False
    session.commit()
    # Without a scheduler, cron running `samrad run-job deliver-outbox` every minute counts as well.
    jobs.run_job("deliver-outbox", now - timedelta(minutes=2))
    session.expire_all()
    assert jobs.scheduler_running(jobs.job_statuses(session), now) is True
    assert jobs.scheduler_running(jobs.job_statuses(session), now + timedelta(minutes=4)) is False


# --- Concurrency: two runs at the same time ----------------------------------------------------------


def _in_threads(app, n, target):
    barrier = threading.Barrier(n)
    errors = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                target()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []


def test_concurrent_reminder_runs_queue_each_reminder_once(shared_db_app):
    with shared_db_app.app_context(), db.session_scope() as s:
        consultation = make_consultation(s)
        for _ in range(8):
            make_user(s, roles=[Role.MEMBER], consultation=consultation)
        _meeting(s, consultation)
    _in_threads(shared_db_app, 4, lambda: jobs.run_job("case-deadline-reminders", REMINDER_OPENS))
    with shared_db_app.app_context(), db.session_scope() as s:
        keys = [m.dedupe_key for m in s.exec(select(OutboxMessage))]
        runs = s.get(JobRun, "case-deadline-reminders")
    assert len(keys) == len(set(keys)) == 8
    assert runs.last_outcome == JobOutcome.OK


def test_concurrent_outbox_runs_send_each_message_once(shared_db_app, smtp_server):
    smtp_server.configure(shared_db_app)
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with shared_db_app.app_context(), db.session_scope(deliver_mail=False) as s:
        ids = [
            outbox.queue_email(
                s,
                to=f"p{i}@k.example",
                template="join_request_receipt",
                now=now,
                consultation=type("C", (), {"name": "Una"})(),
                name="P",
            ).message_id
            for i in range(30)
        ]
    _in_threads(shared_db_app, 3, lambda: jobs.run_job("deliver-outbox", now))
    received = smtp_server.recorder.message_ids()
    assert sorted(received) == sorted(ids)  # every message once: none lost, none twice
    with shared_db_app.app_context(), db.session_scope() as s:
        assert {m.status for m in s.exec(select(OutboxMessage))} == {OutboxStatus.SENT}


@pytest.mark.postgres
def test_queue_email_once_survives_a_concurrent_insert_of_the_same_key(postgres_url, tmp_path):
    """Two transactions queue the same key; the second waits for the first, then sees it was done."""
    app = schema_app(postgres_url, tmp_path)
    with app.app_context():
        engine = db.get_engine()
        kwargs = dict(
            to="a@k.example",
            template="join_request_receipt",
            now=datetime(2027, 3, 1, tzinfo=UTC),
            consultation=type("C", (), {"name": "Una"})(),
            name="A",
        )
        first = Session(engine)
        outbox.queue_email_once(first, dedupe_key="race", **kwargs)
        first.flush()  # inserted, not committed: the second insert must wait on the unique index
        result = {}

        def second():
            with app.app_context(), Session(engine) as s:
                result["message"] = outbox.queue_email_once(s, dedupe_key="race", **kwargs)
                outbox.queue_email_once(s, dedupe_key="other", **kwargs)  # the transaction still works
                s.commit()

        thread = threading.Thread(target=second)
        thread.start()
        # Autocommit: inside a transaction PostgreSQL would show the same snapshot of pg_stat_activity.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            for _ in range(600):  # wait (bounded) until the second insert is blocked on the first one
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'INSERT INTO outboxmessage%'"
                    )
                ).scalar()
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting == 1
        first.commit()
        first.close()
        thread.join(timeout=30)
        assert result == {"message": None}
        with Session(engine) as s:
            assert sorted(m.dedupe_key for m in s.exec(select(OutboxMessage))) == ["other", "race"]
        engine.dispose()


def test_extend_series_job_plans_every_consultation_ahead_once(session, any_db_app):
    from samrad.enums import Weekday

    first = make_consultation(session, slug="una", weekday=Weekday.MONDAY)
    second = make_consultation(session, slug="gavle", weekday=Weekday.THURSDAY)
    session.commit()
    any_db_app.config["MEETINGS_PLANNED_WEEKS_AHEAD"] = 8
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Stockholm
    assert jobs.run_job("extend-series", now) == JobOutcome.OK
    assert jobs.run_job("extend-series", now) == JobOutcome.OK
    session.expire_all()
    for consultation, weekday in ((first, 0), (second, 3)):
        planned = session.exec(
            select(Meeting).where(Meeting.consultation_id == consultation.id).order_by(Meeting.starts_at)
        ).all()
        assert 3 <= len(planned) <= 4  # every other week within 8 weeks, Easter Monday 2027 skipped
        assert all(
            m.starts_at > now and m.starts_at.astimezone(jobs.STOCKHOLM).weekday() == weekday for m in planned
        )
        assert all(m.starts_at < now + timedelta(weeks=8, days=1) for m in planned)
    run = session.get(JobRun, "extend-series")
    assert run.last_detail == "planned 0 new meetings"


def test_evaluation_jobs_are_registered_and_reminders_can_be_turned_off(session, any_db_app):
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert jobs.run_job("close-evaluations", now) == JobOutcome.OK
    assert session.get(JobRun, "close-evaluations").last_detail == "closed 0 evaluations"
    any_db_app.config["EVALUATION_REMINDER_DAYS"] = 0
    assert jobs.run_job("evaluation-reminders", now) == JobOutcome.OK
    session.expire_all()
    assert session.get(JobRun, "evaluation-reminders").last_detail == "reminders are turned off"


def test_the_pool_is_counted_in_batches_of_the_threshold_and_the_rest_at_closing(session):
    consultation = make_consultation(session)
    meeting = make_held_meeting(session, consultation, starts_at=MEETING_AT)
    for i in range(4):
        attend(session, meeting, make_user(session, email=f"svar{i}@kommun.example"))
    evaluation, issued = open_with_tokens(session, meeting)
    session.commit()
    sealer = keys.sealer(keys.ANSWERS)
    now = OPENED_AT + timedelta(hours=1)

    def answer(i):
        evaluations.submit_answers(
            session, evaluation, issued[f"svar{i}@kommun.example"], ANSWERS_ALL_FULLY, now=now, sealer=sealer
        )
        session.commit()

    def counted():
        session.expire_all()
        return sum(
            session.exec(select(EvaluationCount.n).where(EvaluationCount.evaluation_id == evaluation.id))
        )

    answer(0)
    answer(1)
    assert _run("count-evaluation-answers", now) == "counted 0 answers"
    answer(2)
    assert _run("count-evaluation-answers", now) == "counted 3 answers"
    assert counted() == 3 * 6
    answer(3)
    assert _run("count-evaluation-answers", now) == "counted 0 answers"
    assert _run("close-evaluations", evaluation.closes_at) == "closed 1 evaluations"
    assert counted() == 4 * 6


def test_the_file_transports_messages_are_deleted_after_a_day(session, any_db_app):
    folder = Path(any_db_app.config["MAIL_FILE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    old, new = folder / "gammalt.eml", folder / "nytt.eml"
    for path in (old, new):
        path.write_text("Länk: https://samrad.test/evaluation/hemlig")
    day_and_more = (now - timedelta(hours=25)).timestamp()
    os.utime(old, (day_and_more, day_and_more))
    assert _run("purge-sent-mail", now) == "erased the bodies of 0 delivered e-mails and 1 mail files"
    assert sorted(p.name for p in folder.glob("*.eml")) == ["nytt.eml"]
    any_db_app.config["MAIL_FILE_KEEP_HOURS"] = 1
    later = now + timedelta(hours=2)
    assert _run("purge-sent-mail", later) == "erased the bodies of 0 delivered e-mails and 1 mail files"
    assert list(folder.glob("*.eml")) == []


def test_evaluation_free_text_is_deleted_a_retention_time_after_closing(session, any_db_app):
    consultation = make_consultation(session)
    meeting = make_held_meeting(session, consultation, starts_at=MEETING_AT)
    for i in range(3):
        attend(session, meeting, make_user(session, email=f"text{i}@kommun.example"))
    evaluation, issued = open_with_tokens(session, meeting)
    sealer = keys.sealer(keys.ANSWERS)
    for i in range(3):
        answers = {**ANSWERS_ALL_FULLY, 7: f"Synpunkt {i}"}
        token = issued[f"text{i}@kommun.example"]
        evaluations.submit_answers(session, evaluation, token, answers, now=OPENED_AT, sealer=sealer)
    evaluations.close_evaluation(session, evaluation, now=OPENED_AT, sealer=sealer)
    session.commit()
    assert (
        _run("purge-evaluation-comments", OPENED_AT + timedelta(days=364)) == "deleted 0 evaluation comments"
    )
    assert (
        _run("purge-evaluation-comments", OPENED_AT + timedelta(days=365)) == "deleted 3 evaluation comments"
    )
    session.expire_all()
    assert session.exec(select(EvaluationComment)).all() == []
    rows = session.exec(select(EvaluationCount.n).where(EvaluationCount.evaluation_id == evaluation.id))
    assert sum(rows) == 3 * 6  # the counted answers stay
    any_db_app.config["EVALUATION_COMMENT_RETENTION_DAYS"] = 30
    assert (
        _run("purge-evaluation-comments", OPENED_AT + timedelta(days=30)) == "deleted 0 evaluation comments"
    )


def test_failed_logins_are_purged_once_they_can_no_longer_throttle(session, any_db_app):
    now = datetime(2027, 3, 1, 4, 45, tzinfo=UTC)
    for minutes in (5, 14, 16, 600):
        session.add(
            LoginAttempt(
                email_key="x" * 64, address_key="y" * 64, created_at=now - timedelta(minutes=minutes)
            )
        )
    session.add(RateLimitCounter(key="ended", hits=9, expires_at=now - timedelta(seconds=1)))
    session.add(RateLimitCounter(key="running", hits=2, expires_at=now + timedelta(seconds=30)))
    session.commit()
    assert _run("purge-login-attempts", now) == "deleted 2 failed-login records and 1 rate-limit windows"
    assert _run("purge-login-attempts", now) == "deleted 0 failed-login records and 0 rate-limit windows"
    assert [c.key for c in session.exec(select(RateLimitCounter))] == ["running"]
    session.expire_all()
    assert sorted(now - a.created_at for a in session.exec(select(LoginAttempt))) == [
        timedelta(minutes=5),
        timedelta(minutes=14),
    ]
