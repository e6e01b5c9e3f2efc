"""The meetings a case can ask for: open for cases, before their deadline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import lazyload
from sqlmodel import Session, select

from samrad.enums import (
    MeetingStatus,
)
from samrad.models import (
    Consultation,
    Meeting,
)
from samrad.services.cases.errors import MeetingNotOpen


def open_meetings(
    session: Session, consultation: Consultation, *, now: datetime, limit: int | None = None
) -> list[Meeting]:
    """Planned meetings of the consultation whose case deadline has not passed, soonest first (the
    ``limit`` soonest), offered by their dates: their agendas are not read."""
    stmt = (
        select(Meeting)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.status == MeetingStatus.PLANNED)
        .where(Meeting.case_deadline_at > now)
        .order_by(Meeting.starts_at)
        .options(lazyload(Meeting.items))
    )
    return list(session.exec(stmt if limit is None else stmt.limit(limit)))


def closed_for_cases(session: Session, consultation: Consultation, *, now: datetime):
    """When the soonest planned meeting that has not started but takes no more cases (its deadline passed)
    starts, and its deadline (``starts_at``, ``case_deadline_at``), or None: the form says why it is not
    offered. Two columns, not the meeting (whose agenda items would load with it)."""
    return session.exec(
        select(Meeting.starts_at, Meeting.case_deadline_at)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.status == MeetingStatus.PLANNED)
        .where(Meeting.case_deadline_at <= now)
        .where(Meeting.starts_at > now)
        .order_by(Meeting.starts_at)
    ).first()


def _check_requested_meeting(session: Session, consultation_id: int, meeting_id: int | None, *, now) -> None:
    if meeting_id is None:
        return
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.consultation_id != consultation_id:
        raise MeetingNotOpen("other_consultation")
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingNotOpen("cancelled")
    if meeting.status != MeetingStatus.PLANNED or meeting.starts_at <= now:
        raise MeetingNotOpen("past")
    if meeting.case_deadline_at <= now:
        raise MeetingNotOpen("deadline")
