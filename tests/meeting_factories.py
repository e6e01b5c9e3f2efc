"""Factories for meetings, agenda items and cases (kept apart from tests/factories.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from samrad.enums import AgeBand, AgendaItemKind, CaseStatus, OrganisationType, RiskAssessment, Role, Sex
from samrad.models import AgendaItem, Case, Meeting
from tests.factories import make_consultation, make_organisation, make_user

_seq = count(1)

#: A Friday morning in November 2026; the default consultation meets on Mondays at 13:00.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def make_meeting(session, consultation, **kw) -> Meeting:
    starts_at = kw.pop("starts_at", datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    meeting = Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        place=kw.pop("place", consultation.place),
        case_deadline_at=kw.pop("case_deadline_at", starts_at - timedelta(days=7)),
        **kw,
    )
    session.add(meeting)
    session.flush()
    return meeting


def make_agenda_item(session, meeting, **kw) -> AgendaItem:
    position = kw.pop("position", len(meeting.items))
    item = AgendaItem(
        meeting_id=meeting.id,
        position=position,
        kind=kw.pop("kind", AgendaItemKind.OTHER),
        duration_minutes=kw.pop("duration_minutes", 15),
        **kw,
    )
    session.add(item)
    session.flush()
    session.refresh(meeting)
    return item


def make_case(session, consultation, organisation, **kw) -> Case:
    status = kw.pop("status", CaseStatus.ACCEPTED)
    case = Case(
        reference=kw.pop("reference", f"UNA-2026-{next(_seq):03d}"),
        consultation_id=consultation.id,
        organisation_id=organisation.id,
        status=status,
        # As in real data: every case past the draft has been submitted once.
        submitted_at=kw.pop("submitted_at", None if status == CaseStatus.DRAFT else NOW),
        sex=kw.pop("sex", Sex.FEMALE),
        age_band=kw.pop("age_band", AgeBand.TEEN),
        risk_assessment=kw.pop("risk_assessment", RiskAssessment.NONE),
        **kw,
    )
    session.add(case)
    session.flush()
    return case


def make_team(session, **consultation_kw):
    """A consultation with a coordinator, two standing members (police, Kiruna), a case officer and a
    colleague of the Kiruna member who is not in the consultation."""
    consultation = make_consultation(session, **consultation_kw)
    police = make_organisation(session, name=f"Polisen {next(_seq)}", type=OrganisationType.POLICE)
    kiruna = make_organisation(session, name=f"Socialtjänsten Kiruna {next(_seq)}")
    freda = make_organisation(
        session, name=f"Freda {next(_seq)}", type=OrganisationType.CENTRE_AGAINST_VIOLENCE
    )
    team = {
        "consultation": consultation,
        "police": police,
        "kiruna": kiruna,
        "coordinator": make_user(
            session,
            email=f"samordnare{next(_seq)}@lulea.example",
            name="Åsa Öberg",
            organisation=freda,
            roles=[Role.COORDINATOR, Role.MEMBER],
            consultation=consultation,
        ),
        "polis": make_user(
            session,
            email=f"polis{next(_seq)}@polisen.example",
            name="Per Lantto",
            organisation=police,
            roles=[Role.MEMBER],
            consultation=consultation,
        ),
        "soc": make_user(
            session,
            email=f"soc{next(_seq)}@kiruna.example",
            name="Sara Niemi",
            organisation=kiruna,
            roles=[Role.MEMBER],
            consultation=consultation,
            locale="en",
        ),
        "officer": make_user(
            session,
            email=f"handlaggare{next(_seq)}@kiruna.example",
            name="Ida Rova",
            organisation=kiruna,
            roles=[Role.CASE_OFFICER],
            consultation=consultation,
        ),
        "colleague": make_user(
            session, email=f"kollega{next(_seq)}@kiruna.example", name="Karin Strand", organisation=kiruna
        ),
    }
    return team
