"""Reading cases: a consultation's queue and what a case officer sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlalchemy.orm import aliased, lazyload
from sqlmodel import Session, col, select

from samrad.enums import (
    CaseStatus,
)
from samrad.models import (
    AgendaItem,
    Case,
    Consultation,
    Meeting,
)
from samrad.services.cases.limits import QUEUED


@dataclass(frozen=True)
class Slot:
    """Where a case stands on a meeting's agenda."""

    meeting: Meeting
    starts_at: datetime | None  # only when the agenda with the case is published
    published: bool


def slot_of(session: Session, case: Case) -> Slot | None:
    """The meeting of a case and, on a published agenda, its slot's start (meeting start + items before)."""
    return slots_of(session, [case])[case.id]


#: The meetings of a list of cases, without the meetings' other items (a case officer with years of cases
#: would load every agenda they were ever on). Built once: building it cost more than running it.
_MEETINGS_OF_CASES = (
    select(Meeting)
    .where(col(Meeting.id).in_(bindparam("meeting_ids", expanding=True)))
    .options(lazyload(Meeting.items))
)
_EARLIER = aliased(AgendaItem)
#: Each case's item on its meeting with the minutes of the items before it.
_MINUTES_BEFORE_CASES = select(
    AgendaItem.case_id,
    AgendaItem.meeting_id,
    select(func.coalesce(func.sum(_EARLIER.duration_minutes), 0))
    .where(_EARLIER.meeting_id == AgendaItem.meeting_id, _EARLIER.position < AgendaItem.position)
    .scalar_subquery(),
).where(
    col(AgendaItem.case_id).in_(bindparam("case_ids", expanding=True)),
    col(AgendaItem.meeting_id).in_(bindparam("meeting_ids", expanding=True)),
)


def slots_of(session: Session, cases: list[Case]) -> dict[int | None, Slot | None]:
    """:func:`slot_of` for many cases in two statements: their meetings, and each case's item on its
    meeting with the minutes of the items before it."""
    meeting_ids = sorted({case.meeting_id for case in cases if case.meeting_id is not None})
    if not meeting_ids:
        return {case.id: None for case in cases}
    meetings = {m.id: m for m in session.exec(_MEETINGS_OF_CASES, params={"meeting_ids": meeting_ids})}
    before = {
        (case_id, meeting_id): minutes
        for case_id, meeting_id, minutes in session.execute(
            _MINUTES_BEFORE_CASES, {"case_ids": [case.id for case in cases], "meeting_ids": meeting_ids}
        )
    }
    return {case.id: _slot(case, meetings.get(case.meeting_id), before) for case in cases}


def _slot(case: Case, meeting: Meeting | None, before: dict[tuple, int]) -> Slot | None:
    if meeting is None:
        return None
    minutes = before.get((case.id, meeting.id))
    published = minutes is not None and meeting.published_version > 0 and case.status != CaseStatus.ACCEPTED
    starts_at = meeting.starts_at + timedelta(minutes=minutes) if published and minutes is not None else None
    return Slot(meeting=meeting, starts_at=starts_at, published=published)


def triage_queue(session: Session, consultation: Consultation) -> list[Case]:
    """Cases waiting for the coordinator: submitted and follow-up, honour-related first, oldest first."""
    stmt = (
        select(Case)
        .where(Case.consultation_id == consultation.id)
        .where(Case.status.in_(list(QUEUED)))
        .order_by(Case.submitted_at, Case.id)
    )
    cases = list(session.exec(stmt))
    return sorted(cases, key=lambda c: not any(e.category.is_honour_related for e in c.categories))


def discussions(session: Session, case: Case) -> list[tuple[Meeting, AgendaItem]]:
    """The meetings where the case was discussed, oldest first."""
    rows = session.exec(
        select(Meeting, AgendaItem)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.case_id == case.id)
        .where(AgendaItem.discussed_at.is_not(None))
        .order_by(AgendaItem.discussed_at)
    )
    return list(rows)
