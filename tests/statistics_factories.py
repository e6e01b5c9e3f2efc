"""Cases, meetings, discussions and attendance for the statistics tests.

Kept apart from ``tests/factories.py`` (where the case and meeting features add their own factories):
these write rows directly, with exactly the coded facts statistics read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    Attendance,
    CaseCategory,
    CaseStatus,
    Exposer,
    InviteeKind,
    MeetingStatus,
    RiskAssessment,
    Sex,
)
from samrad.models import AgendaItem, Case, CaseCategoryEntry, CaseExposerEntry, Invitee, Meeting

_seq = count(1)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def add_case(
    session,
    consultation,
    organisation,
    *,
    submitted_at: datetime | None,
    status: CaseStatus = CaseStatus.SUBMITTED,
    is_training: bool = False,
    sex: Sex = Sex.FEMALE,
    age_band: AgeBand = AgeBand.TEEN,
    municipality=None,
    risk_assessment: RiskAssessment = RiskAssessment.NONE,
    report_of_concern_made: bool = False,
    categories=(CaseCategory.HONOUR_VIOLENCE,),
    exposers=(Exposer.PARENT,),
    flush: bool = True,
) -> Case:
    case = Case(
        reference=f"TST-{next(_seq):05d}",
        consultation_id=consultation.id,
        organisation_id=organisation.id,
        status=status,
        is_training=is_training,
        sex=sex,
        age_band=age_band,
        municipality_id=municipality.id if municipality is not None else None,
        risk_assessment=risk_assessment,
        report_of_concern_made=report_of_concern_made,
        background="Fingerad bakgrund som aldrig får synas i statistiken.",
        submitted_at=submitted_at,
    )
    case.categories = [CaseCategoryEntry(category=c) for c in categories]
    case.exposers = [CaseExposerEntry(exposer=e) for e in exposers]
    session.add(case)
    if flush:
        session.flush()
    return case


def add_meeting(session, consultation, starts_at: datetime, *, status=MeetingStatus.CLOSED) -> Meeting:
    meeting = Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        place="Luleå",
        case_deadline_at=starts_at - timedelta(days=7),
        status=status,
    )
    session.add(meeting)
    session.flush()
    return meeting


def discuss(session, meeting: Meeting, case: Case, *, discussed: bool = True) -> AgendaItem:
    item = AgendaItem(
        meeting_id=meeting.id,
        position=len(meeting.items) + 1 if meeting.items else 1,
        kind=AgendaItemKind.TRAINING_CASE if case.is_training else AgendaItemKind.CASE,
        case_id=case.id,
        discussed_at=meeting.starts_at + timedelta(minutes=30) if discussed else None,
    )
    session.add(item)
    session.flush()
    return item


def attend(
    session, meeting: Meeting, user, *, attendance=Attendance.ON_SITE, kind=InviteeKind.STANDING
) -> Invitee:
    invitee = Invitee(
        meeting_id=meeting.id, user_id=user.id, email=user.email, kind=kind, attendance=attendance
    )
    session.add(invitee)
    session.flush()
    return invitee
