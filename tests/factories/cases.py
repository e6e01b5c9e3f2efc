"""Cases: rows written directly (for visibility, lists and statistics) and form input for the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from samrad.enums import AgeBand, CaseCategory, CaseStatus, Exposer, RiskAssessment, Sex
from samrad.models import Case, CaseCategoryEntry, CaseExposerEntry
from samrad.services.cases import CaseInput

#: When the default case was submitted (a Monday morning in November 2026).
SUBMITTED_AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
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


def make_case(
    session,
    consultation,
    organisation,
    *,
    officer=None,
    municipality=None,
    categories=(CaseCategory.HONOUR_VIOLENCE,),
    exposers=(Exposer.PARENT,),
    flush: bool = True,
    **kw,
) -> Case:
    """A submitted case (pass ``status``): as in real data, every case past the draft has a reference and
    was submitted once; a draft has neither."""
    status = kw.pop("status", CaseStatus.SUBMITTED)
    draft = status == CaseStatus.DRAFT
    case = Case(
        consultation_id=consultation.id,
        organisation_id=organisation.id,
        officer_id=kw.pop("officer_id", officer.id if officer else None),
        status=status,
        reference=kw.pop("reference", None if draft else f"TEST-{next(_seq):05d}"),
        sex=kw.pop("sex", Sex.FEMALE),
        age_band=kw.pop("age_band", AgeBand.TEEN),
        municipality_id=kw.pop("municipality_id", municipality.id if municipality else None),
        risk_assessment=kw.pop("risk_assessment", RiskAssessment.NONE),
        questions=kw.pop("questions", QUESTIONS),
        background=kw.pop("background", BACKGROUND),
        submitted_at=kw.pop("submitted_at", None if draft else SUBMITTED_AT),
        created_at=kw.pop("created_at", SUBMITTED_AT - timedelta(days=1)),
        updated_at=kw.pop("updated_at", SUBMITTED_AT),
        attested_deidentified=kw.pop("attested_deidentified", not draft),
        **kw,
    )
    case.categories = [CaseCategoryEntry(category=c) for c in categories]
    case.exposers = [CaseExposerEntry(exposer=e) for e in exposers]
    session.add(case)
    if flush:
        session.flush()
    return case
