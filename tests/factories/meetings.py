"""Meetings, agenda items and invitees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from samrad.enums import AgendaItemKind, Attendance, InviteeKind, MeetingStatus
from samrad.models import AgendaItem, Invitee, Meeting

#: The default meeting: Monday 30 November 2026, 13:00 in Stockholm (the default consultation's slot).
MEETING_STARTS_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """A UTC moment on a day, at noon by default (13:00 or 14:00 in Stockholm)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def make_meeting(session, consultation, starts_at: datetime = MEETING_STARTS_AT, **kw) -> Meeting:
    """A planned meeting (pass ``status`` for another); a closed one gets ``closed_at`` two hours in."""
    status = kw.pop("status", MeetingStatus.PLANNED)
    meeting = Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        place=kw.pop("place", consultation.place),
        case_deadline_at=kw.pop("case_deadline_at", starts_at - timedelta(days=7)),
        status=status,
        closed_at=kw.pop(
            "closed_at", starts_at + timedelta(hours=2) if status == MeetingStatus.CLOSED else None
        ),
        **kw,
    )
    session.add(meeting)
    session.flush()
    return meeting


def make_held_meeting(session, consultation, starts_at: datetime | None = None, **kw) -> Meeting:
    """A meeting that has been held and closed (what evaluations and statistics are about); by default
    the evaluations' meeting, Monday 8 March 2027."""
    from tests.factories.evaluations import MEETING_AT

    return make_meeting(session, consultation, starts_at or MEETING_AT, status=MeetingStatus.CLOSED, **kw)


def make_agenda_item(session, meeting, case=None, **kw) -> AgendaItem:
    """An item at the end of the agenda (positions count from 0, as the app's): the case's slot, or a
    welcome item without a case."""
    item = AgendaItem(
        meeting_id=meeting.id,
        position=kw.pop("position", len(meeting.items)),
        kind=kw.pop("kind", AgendaItemKind.CASE if case else AgendaItemKind.WELCOME),
        case_id=kw.pop("case_id", case.id if case else None),
        duration_minutes=kw.pop("duration_minutes", 15),
        **kw,
    )
    session.add(item)
    session.flush()
    session.refresh(meeting)
    return item


def discuss(session, meeting: Meeting, case, *, discussed: bool = True) -> AgendaItem:
    """The case on the meeting's agenda, discussed half an hour into the meeting (or not reached)."""
    return make_agenda_item(
        session,
        meeting,
        case,
        kind=AgendaItemKind.TRAINING_CASE if case.is_training else AgendaItemKind.CASE,
        discussed_at=meeting.starts_at + timedelta(minutes=30) if discussed else None,
    )


def make_invitee(session, meeting, user=None, *, kind=InviteeKind.STANDING, item=None, **kw) -> Invitee:
    """An invitee: a user (their address) or, with ``email``, someone without an account."""
    invitee = Invitee(
        meeting_id=meeting.id,
        user_id=user.id if user else None,
        email=kw.pop("email", None) or (user.email if user else "gast@kommun.example"),
        kind=kind,
        agenda_item_id=item.id if item else None,
        **kw,
    )
    session.add(invitee)
    session.flush()
    return invitee


def attend(session, meeting: Meeting, user=None, *, attendance=Attendance.ON_SITE, **kw) -> Invitee:
    """Someone who was invited and attended (on site unless told otherwise)."""
    return make_invitee(session, meeting, user, attendance=attendance, **kw)
