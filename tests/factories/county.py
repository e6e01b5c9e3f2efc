"""A generated county for the statistics proofs and benchmarks: ten years of cases, many months sparse.

Bulk inserts (no ORM objects per case), deterministic for a seed. Months draw their number of cases
from a mix that makes small counts common (0, 1 and 2 cases in a month happen often), because that is
where suppression, and differencing, matter.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from samrad.enums import AgeBand, CaseCategory, CaseStatus, Exposer, RiskAssessment, Sex
from samrad.models import Case, CaseCategoryEntry, CaseExposerEntry
from tests.factories.people import make_consultation, make_municipality, make_organisation

FIRST_YEAR = 2017
YEARS = 10
#: Cases in a month: mostly small or empty months, some busy ones.
MONTH_SIZES = (0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 9, 12, 16, 22, 30, 41, 55, 70, 85)


def make_county(session, *, seed: int = 7, first_year: int = FIRST_YEAR, years: int = YEARS):
    """A consultation with at least 2 000 submitted cases over ``years`` years; returns it and the
    true number of cases per month (first day of the month → cases)."""
    rng = random.Random(seed)
    consultation = make_consultation(session, slug=f"lan-{seed}", name=f"Länet {seed}")
    municipalities = [make_municipality(session, name=f"Kommun {seed}-{i}") for i in range(14)]
    organisations = [make_organisation(session, name=f"Organisation {seed}-{i}") for i in range(6)]
    counts: dict = {}
    rows = []
    for year in range(first_year, first_year + years):
        for month in range(1, 13):
            n = rng.choice(MONTH_SIZES)
            start = datetime(year, month, 1, 8, tzinfo=UTC)
            if n:
                counts[start.date()] = n
            for _ in range(n):
                # Within the month, away from midnight: the month in Stockholm time is the month in UTC.
                at = start + timedelta(days=rng.randrange(27), hours=rng.randrange(10))
                rows.append(
                    {
                        "consultation_id": consultation.id,
                        "organisation_id": rng.choice(organisations).id,
                        "status": rng.choice([CaseStatus.SUBMITTED, CaseStatus.DISCUSSED, CaseStatus.CLOSED]),
                        "is_training": False,
                        "sex": rng.choice(list(Sex)),
                        "age_band": rng.choice(list(AgeBand)),
                        "municipality_id": rng.choice(municipalities).id,
                        "risk_assessment": rng.choice(list(RiskAssessment)),
                        "report_of_concern_made": rng.random() < 0.3,
                        "created_at": at,
                        "submitted_at": at,
                        "updated_at": at,
                    }
                )
    session.execute(insert(Case), rows)
    ids = list(session.scalars(select(Case.id).where(Case.consultation_id == consultation.id)))
    session.execute(
        insert(CaseCategoryEntry),
        [{"case_id": i, "category": rng.choice(list(CaseCategory))} for i in ids],
    )
    session.execute(
        insert(CaseExposerEntry),
        [{"case_id": i, "exposer": rng.choice(list(Exposer))} for i in ids],
    )
    session.flush()
    return consultation, counts
