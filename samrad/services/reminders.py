"""Reminders and notices that go out at a time rather than after a click.

Each function queues e-mail through :func:`samrad.outbox.queue_email_once` with a dedupe key per
meeting, recipient and kind, so running it twice, concurrently, or again after a crash queues each
message once. The keys include the meeting's deadline or start time: when a meeting is moved, people are
reminded of the new time. The messages say when, never what: no case text, reference or municipality.

All reminder windows open at 08:00 Stockholm time on a calendar day, so they follow daylight saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from samrad import outbox
from samrad.clock import STOCKHOLM
from samrad.enums import CaseStatus, MeetingStatus, Role, Rsvp
from samrad.models import Case, Consultation, ConsultationRole, Invitee, Meeting, User

#: Reminders are not sent before this local time of day.
MORNING = time(8, 0)
#: Cases that wait for a meeting's agenda: submitted, or accepted but not yet on a published agenda.
WAITING_FOR_AGENDA = (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED)


def morning_of(day: date) -> datetime:
    """08:00 Stockholm time on ``day``, in UTC (that hour exists on every day, DST or not)."""
    return datetime.combine(day, MORNING, tzinfo=STOCKHOLM).astimezone(UTC)


def deadline_reminder_opens(deadline: datetime, days_before: int) -> datetime:
    """When the case-deadline reminder may go out: 08:00 local, ``days_before`` calendar days earlier."""
    return morning_of(deadline.astimezone(STOCKHOLM).date() - timedelta(days=days_before))


def rsvp_reminder_opens(starts_at: datetime) -> datetime:
    """When the RSVP reminder may go out: 08:00 local on the calendar day before the meeting."""
    return morning_of(starts_at.astimezone(STOCKHOLM).date() - timedelta(days=1))


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


@dataclass(frozen=True)
class Recipient:
    key: str  # "user:<id>" or "invitee:<id>": what the dedupe key names
    email: str
    name: str | None
    locale: str | None


def _users_with_roles(session: Session, consultation_id: int, roles: tuple[Role, ...]) -> list[Recipient]:
    users = session.exec(
        select(User)
        .where(
            User.id.in_(
                select(ConsultationRole.user_id)
                .where(ConsultationRole.consultation_id == consultation_id)
                .where(ConsultationRole.role.in_(roles))
            )
        )
        .where(User.is_active)
        .order_by(User.id)
    )
    return [Recipient(f"user:{u.id}", u.email, u.name, u.locale) for u in users]


def _planned(session: Session, *conditions) -> list[tuple[Meeting, Consultation]]:
    return list(
        session.exec(
            select(Meeting, Consultation)
            .join(Consultation, Consultation.id == Meeting.consultation_id)
            .where(Meeting.status == MeetingStatus.PLANNED, *conditions)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def _queue_each(
    session: Session,
    recipients,
    *,
    kind: str,
    meeting: Meeting,
    stamp: str,
    now: datetime,
    template: str,
    **context,
) -> int:
    queued = 0
    for person in recipients:
        message = outbox.queue_email_once(
            session,
            dedupe_key=f"{kind}:{meeting.id}:{stamp}:{person.key}",
            to=person.email,
            template=template,
            locale=person.locale,
            now=now,
            name=person.name,
            meeting=meeting,
            **context,
        )
        queued += message is not None
    return queued


def send_case_deadline_reminders(session: Session, *, now: datetime, days_before: int, link: str) -> int:
    """Remind case officers and standing members that a meeting's case deadline is coming.

    Goes out from 08:00 Stockholm time ``days_before`` days before the deadline until the deadline.
    Returns the number of messages queued now (0 when everyone was reminded already).
    """
    queued = 0
    horizon = now + timedelta(days=days_before + 1)
    for meeting, consultation in _planned(
        session, Meeting.case_deadline_at > now, Meeting.case_deadline_at <= horizon
    ):
        if now < deadline_reminder_opens(meeting.case_deadline_at, days_before):
            continue
        recipients = _users_with_roles(session, consultation.id, (Role.CASE_OFFICER, Role.MEMBER))
        queued += _queue_each(
            session,
            recipients,
            kind="case-deadline",
            meeting=meeting,
            stamp=_stamp(meeting.case_deadline_at),
            now=now,
            template="case_deadline_reminder",
            consultation=consultation,
            link=link,
        )
    return queued


def cases_waiting_for_agenda(session: Session, meeting: Meeting) -> int:
    """How many real cases wait for this meeting's agenda (asked for it, or for the next possible one)."""
    return session.exec(
        select(func.count(Case.id))
        .where(Case.consultation_id == meeting.consultation_id)
        .where(Case.status.in_(WAITING_FOR_AGENDA))
        .where(Case.is_training.is_(False))
        .where(or_(Case.requested_meeting_id == meeting.id, Case.requested_meeting_id.is_(None)))
    ).one()


def send_queue_ready_notices(session: Session, *, now: datetime, link: str) -> int:
    """Tell the coordinators, once the case deadline has passed, that the agenda can be planned.

    The notice carries only the number of waiting cases. It goes out between the deadline and the start
    of the meeting. Returns the number of messages queued now.
    """
    queued = 0
    for meeting, consultation in _planned(session, Meeting.case_deadline_at <= now, Meeting.starts_at > now):
        recipients = _users_with_roles(session, consultation.id, (Role.COORDINATOR,))
        if not recipients:
            continue
        count = cases_waiting_for_agenda(session, meeting)
        queued += _queue_each(
            session,
            recipients,
            kind="queue-ready",
            meeting=meeting,
            stamp=_stamp(meeting.case_deadline_at),
            now=now,
            template="case_queue_ready",
            consultation=consultation,
            count=count,
            link=link,
        )
    return queued


def send_rsvp_reminders(session: Session, *, now: datetime, link: str) -> int:
    """Remind everyone invited who has not answered, from 08:00 on the day before the meeting.

    Removed invitees and people who answered (yes, via link, or cannot attend) get nothing.
    Returns the number of messages queued now.
    """
    queued = 0
    for meeting, consultation in _planned(
        session, Meeting.starts_at > now, Meeting.starts_at <= now + timedelta(days=2)
    ):
        if now < rsvp_reminder_opens(meeting.starts_at):
            continue
        rows = session.exec(
            select(Invitee, User)
            .join(User, User.id == Invitee.user_id, isouter=True)
            .where(Invitee.meeting_id == meeting.id)
            .where(Invitee.rsvp == Rsvp.NO_ANSWER)
            .where(Invitee.removed_at.is_(None))
            .order_by(Invitee.id)
        )
        recipients = [
            Recipient(
                f"invitee:{invitee.id}",
                invitee.email,
                user.name if user else None,
                user.locale if user else None,
            )
            for invitee, user in rows
        ]
        queued += _queue_each(
            session,
            recipients,
            kind="rsvp-reminder",
            meeting=meeting,
            stamp=_stamp(meeting.starts_at),
            now=now,
            template="rsvp_reminder",
            consultation=consultation,
            link=link,
        )
    return queued
