"""Factories for cases, meetings, agenda items and invitees (kept apart from tests/factories.py, which the
meetings work extends in parallel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    CaseCategory,
    CaseStatus,
    Exposer,
    InviteeKind,
    MeetingStatus,
    RiskAssessment,
    Sex,
)
from samrad.models import AgendaItem, Case, CaseCategoryEntry, CaseExposerEntry, Invitee, Meeting
from samrad.services.cases import CaseInput

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_seq = count(1)

QUESTIONS = "Hur kan vi skydda flickan utan att familjen får veta att vi är inkopplade?"
BACKGROUND = (
    "Flickan är 15 år och har tre yngre syskon. Hon berättar för skolkuratorn att hon inte får träffa "
    "kompisar och att pappan har talat om en resa till hemlandet i sommar."
)


def case_input(municipality_id: int, **kw) -> CaseInput:
    values = dict(
        categories=[CaseCategory.HONOUR_VIOLENCE, CaseCategory.TAKEN_ABROAD],
        sex=Sex.FEMALE,
        age_band=AgeBand.TEEN,
        municipality_id=municipality_id,
        exposers=[Exposer.PARENT],
        questions=QUESTIONS,
        background=BACKGROUND,
        risk_assessment=RiskAssessment.PATRIARK,
        report_of_concern_made=True,
        requested_meeting_id=None,
        presentation_minutes=15,
        presenter_email="",
    )
    values.update(kw)
    return CaseInput(**values)


def make_meeting(session, consultation, **kw) -> Meeting:
    starts_at = kw.pop("starts_at", NOW + timedelta(days=14))
    meeting = Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        place=kw.pop("place", "Freda-mottagningen, Luleå"),
        case_deadline_at=kw.pop("case_deadline_at", starts_at - timedelta(days=7)),
        status=kw.pop("status", MeetingStatus.PLANNED),
        **kw,
    )
    session.add(meeting)
    session.flush()
    return meeting


def make_case(session, consultation, organisation, *, officer=None, municipality=None, **kw) -> Case:
    """A case row written directly (no guard, no lifecycle): for arranging visibility and listing tests."""
    status = kw.pop("status", CaseStatus.SUBMITTED)
    n = next(_seq)
    case = Case(
        consultation_id=consultation.id,
        organisation_id=organisation.id,
        officer_id=officer.id if officer else None,
        status=status,
        reference=kw.pop("reference", None if status == CaseStatus.DRAFT else f"TEST-2026-{n:03d}"),
        sex=kw.pop("sex", Sex.FEMALE),
        age_band=kw.pop("age_band", AgeBand.TEEN),
        municipality_id=municipality.id if municipality else None,
        risk_assessment=kw.pop("risk_assessment", RiskAssessment.NONE),
        questions=kw.pop("questions", QUESTIONS),
        background=kw.pop("background", BACKGROUND),
        submitted_at=kw.pop("submitted_at", None if status == CaseStatus.DRAFT else NOW - timedelta(days=1)),
        created_at=kw.pop("created_at", NOW - timedelta(days=2)),
        updated_at=kw.pop("updated_at", NOW - timedelta(days=1)),
        attested_deidentified=status != CaseStatus.DRAFT,
        **kw,
    )
    case.categories = [CaseCategoryEntry(category=CaseCategory.HONOUR_VIOLENCE)]
    case.exposers = [CaseExposerEntry(exposer=Exposer.PARENT)]
    session.add(case)
    session.flush()
    return case


def make_agenda_item(session, meeting, case=None, **kw) -> AgendaItem:
    position = kw.pop("position", len(meeting.items) + 1)
    item = AgendaItem(
        meeting_id=meeting.id,
        position=position,
        kind=kw.pop("kind", AgendaItemKind.CASE if case else AgendaItemKind.WELCOME),
        case_id=case.id if case else None,
        duration_minutes=kw.pop("duration_minutes", 15),
        **kw,
    )
    session.add(item)
    session.flush()
    session.refresh(meeting)
    return item


def make_invitee(session, meeting, user, *, kind=InviteeKind.STANDING, item=None, **kw) -> Invitee:
    invitee = Invitee(
        meeting_id=meeting.id,
        user_id=user.id if user else None,
        email=kw.pop("email", user.email if user else "gast@kommun.example"),
        kind=kind,
        agenda_item_id=item.id if item else None,
        **kw,
    )
    session.add(invitee)
    session.flush()
    return invitee
