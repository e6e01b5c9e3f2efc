"""The meeting day: attendance, advice to the case owner (behind the guard), follow-up and closing."""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from samrad.clock import stockholm_date
from samrad.enums import (
    Attendance,
    CaseStatus,
    MeetingStatus,
)
from samrad.models import AgendaItem, Case, Consultation, Invitee, Meeting, get_row
from samrad.services import cases
from samrad.services.agenda.building import _item_of
from samrad.services.agenda.errors import AdviceRefused, AgendaRefused
from samrad.services.agenda.limits import ADVICE_MAX

log = logging.getLogger(__name__)


def _check_day(meeting: Meeting, *, now: datetime) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        raise AgendaRefused(_l("The meeting is closed or cancelled."))
    if stockholm_date(now) < stockholm_date(meeting.starts_at):
        raise AgendaRefused(_l("Attendance and advice are recorded on the day of the meeting."))


def record_attendance(
    session: Session, meeting: Meeting, invitee: Invitee, attendance: Attendance, *, now: datetime
) -> Invitee:
    _check_day(meeting, now=now)
    if invitee.meeting_id != meeting.id or invitee.removed_at is not None:
        raise AgendaRefused(_l("That person is not invited to this meeting."))
    invitee.attendance = attendance
    session.add(invitee)
    session.flush()
    return invitee


def record_advice(
    session: Session,
    meeting: Meeting,
    item_id: int,
    *,
    advice: str,
    follow_up: bool,
    discussed: bool,
    confirmed_digest: str = "",
    now: datetime,
) -> AgendaItem:
    """Save the advice to the case owner (a recommendation, never a decision) and, with ``discussed``,
    mark the case discussed (or wanted back for a follow-up). The text passes the de-identification
    guard: blocking findings refuse; warnings need the confirmation of exactly those warnings."""
    _check_day(meeting, now=now)
    item = _item_of(meeting, item_id)
    if item.case_id is None:
        raise AgendaRefused(_l("Advice is recorded for cases only."))
    advice = (advice or "").strip()
    if len(advice) > ADVICE_MAX:
        raise AgendaRefused(_l("Use at most %(n)s characters.", n=ADVICE_MAX), field="advice")
    guard = cases.check_texts({"advice": advice})
    if guard.blocking:
        raise AdviceRefused(guard, blocking=True)
    if guard.warning_count and confirmed_digest != guard.digest:
        raise AdviceRefused(guard, blocking=False)
    item.advice = advice
    item.follow_up_wanted = follow_up
    session.add(item)
    session.flush()
    case = session.get(Case, item.case_id)
    if discussed and case.status == CaseStatus.ON_AGENDA and case.meeting_id == meeting.id:
        cases.mark_discussed(session, case, follow_up=follow_up, now=now)
    elif item.discussed_at is not None and case.status in (CaseStatus.DISCUSSED, CaseStatus.FOLLOW_UP):
        # Corrected afterwards: keep the case's status in step with the follow-up wish.
        if case.meeting_id == meeting.id:
            case.status = CaseStatus.FOLLOW_UP if follow_up else CaseStatus.DISCUSSED
            session.add(case)
    session.flush()
    return item


def close_meeting(session: Session, meeting: Meeting, *, now: datetime) -> Meeting:
    """Close a held meeting. Cases on its agenda that were not discussed go back to the queue. (The caller
    then opens the meeting's evaluation, in the same transaction.)"""
    if meeting.status != MeetingStatus.PLANNED:
        raise AgendaRefused(_l("The meeting is closed or cancelled."))
    if meeting.starts_at > now:
        raise AgendaRefused(_l("A meeting can be closed once it has started."))
    for item in meeting.items:
        case = session.get(Case, item.case_id) if item.case_id else None
        if (
            case is not None
            and case.meeting_id == meeting.id
            and case.status
            in (
                CaseStatus.ACCEPTED,
                CaseStatus.ON_AGENDA,
            )
        ):
            cases.release_case(session, case, now=now)
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = now
    meeting.agenda_revision += 1
    meeting.revision += 1
    session.add(meeting)
    session.flush()
    log.info("meeting %s closed", meeting.id)
    return meeting


def release_meeting_cases(session: Session, meeting: Meeting, *, now: datetime) -> list[Case]:
    """A cancelled meeting's accepted and scheduled cases go back to the queue."""
    released = []
    for case in session.exec(
        select(Case)
        .where(Case.meeting_id == meeting.id)
        .where(Case.status.in_(list(cases.SCHEDULED)))
        .order_by(Case.id)
    ):
        cases.release_case(session, case, now=now)
        released.append(case)
    return released


def consultation_of(session: Session, meeting: Meeting) -> Consultation:
    return get_row(session, Consultation, meeting.consultation_id)
