"""Meetings with attendees, and evaluations whose tokens the test can see (the app never keeps them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from samrad.enums import Attendance, InviteeKind, MeetingStatus
from samrad.models import Invitee, Meeting
from samrad.services import evaluations

MEETING_AT = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)  # Monday 13:00 in Stockholm
OPENED_AT = MEETING_AT + timedelta(hours=2)
ANSWERS_ALL_FULLY = {n: "agree_fully" for n in range(1, 7)}


def make_meeting(session, consultation, *, starts_at=MEETING_AT, status=MeetingStatus.CLOSED) -> Meeting:
    meeting = Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        place=consultation.place,
        case_deadline_at=starts_at - timedelta(days=7),
        status=status,
        closed_at=starts_at + timedelta(hours=2) if status == MeetingStatus.CLOSED else None,
    )
    session.add(meeting)
    session.flush()
    return meeting


def add_invitee(session, meeting, user=None, *, email=None, attendance=Attendance.ON_SITE, **kw) -> Invitee:
    invitee = Invitee(
        meeting_id=meeting.id,
        user_id=user.id if user else None,
        email=email or user.email,
        kind=kw.pop("kind", InviteeKind.STANDING),
        attendance=attendance,
        **kw,
    )
    session.add(invitee)
    session.flush()
    return invitee


def open_with_tokens(session, meeting, *, now=OPENED_AT, open_for=timedelta(days=7)):
    """Open the evaluation and return it with {recipient: token}, read from the queued links."""
    links: list[str] = []

    def link_for(token: str) -> str:
        links.append(token)
        return f"https://samrad.test/evaluation/{token}"

    evaluation = evaluations.open_evaluation(session, meeting, now=now, open_for=open_for, link_for=link_for)
    recipients = [email for email, _ in evaluations.attendee_addresses(session, meeting)]
    return evaluation, dict(zip(recipients, links, strict=True))
