import random
from collections import Counter
from datetime import UTC, datetime

from sqlmodel import select

from samrad import demo
from samrad.deidentify import scan
from samrad.enums import CaseStatus
from samrad.models import Case, Consultation, OutboxMessage, User

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_demo_brings_de_identified_cases_in_every_status_without_a_meeting(session):
    # On a fixed day: how many meetings the half year behind holds depends on the day (every other
    # Monday after 15.00 one more is held until midnight, when the oldest leaves the window).
    demo.seed_demo(session, seed=42, password="pulka-isvak-kaffe-91", now=NOW)
    cases = session.exec(select(Case).order_by(Case.created_at)).all()
    # The case demo's statuses, plus the agenda demo's cases of the held meetings (discussed, closed)
    # and of the next meeting (on its published agenda); its leftovers wait in the queue.
    assert Counter(c.status for c in cases) == {
        CaseStatus.SUBMITTED: 18,
        CaseStatus.RETURNED: 4,
        CaseStatus.WITHDRAWN: 3,
        CaseStatus.DRAFT: 3,
        CaseStatus.DISCUSSED: 18,
        CaseStatus.CLOSED: 2,
        CaseStatus.ON_AGENDA: 3,
    }
    for case in cases:
        for text in (case.questions, case.background, case.return_comment):
            assert scan(text) == [], text
    numbered = [c for c in cases if c.reference]
    # Gap-free (the agenda demo's older cases interleave in time with the case demo's).
    assert sorted(c.reference_number for c in numbered) == list(range(1, len(numbered) + 1))
    assert all(c.reference.startswith("UNA-") for c in numbered)
    assert len({c.municipality_id for c in cases}) >= 4
    assert len({c.organisation_id for c in cases}) == len(demo.CASE_SUBMITTERS)
    assert all(c.return_comment for c in cases if c.status == CaseStatus.RETURNED)
    assert session.exec(select(OutboxMessage)).all() == []  # seeding e-mails nobody


def test_demo_cases_are_deterministic_for_a_seed(session):
    demo.seed_demo(session, seed=42, password="pulka-isvak-kaffe-91")
    consultation = session.exec(select(Consultation)).one()
    submitters = [
        session.exec(select(User).where(User.email == f"{local}@{demo.DOMAIN}")).one()
        for local in demo.CASE_SUBMITTERS
    ]

    def content(seed):
        made = demo.seed_demo_cases(
            session, consultation, submitters=submitters, rng=random.Random(seed), now=NOW
        )
        return [
            (
                c.status,
                c.sex,
                c.age_band,
                c.municipality_id,
                c.background,
                tuple(sorted(e.category for e in c.categories)),
            )
            for c in made
        ]

    assert content(7) == content(7)
    assert content(7) != content(8)
