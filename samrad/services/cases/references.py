"""References such as UNA-2026-014: per consultation and year, without gaps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from samrad.clock import STOCKHOLM
from samrad.models import (
    Case,
    Consultation,
)

log = logging.getLogger(__name__)


def reference_prefix(consultation: Consultation) -> str:
    """``una-norrbotten`` → ``UNA``: the slug's first part, letters only, at most six."""
    letters = "".join(ch for ch in consultation.slug.split("-")[0] if ch.isalpha())
    return (letters[:6] or "CASE").upper()


def _next_reference_number(session: Session, consultation_id: int, year: int) -> int:
    highest = session.exec(
        select(func.max(Case.reference_number))
        .where(Case.consultation_id == consultation_id)
        .where(Case.reference_year == year)
    ).one()
    return (highest or 0) + 1


def _reference_taken(session: Session, consultation_id: int, year: int, number: int) -> bool:
    return (
        session.exec(
            select(Case.id)
            .where(Case.consultation_id == consultation_id)
            .where(Case.reference_year == year)
            .where(Case.reference_number == number)
        ).first()
        is not None
    )


def assign_reference(
    session: Session,
    case: Case,
    consultation: Consultation,
    *,
    now: datetime,
    along: Callable[[Case], None] = lambda _case: None,
) -> str:
    """Give ``case`` the next reference of its consultation and year (Stockholm time), e.g. UNA-2026-014.

    Two simultaneous submissions may both compute the same next number; the unique constraint lets only
    one of them have it, and the other retries inside a savepoint with the following number. Any other
    broken constraint (the same form posted twice at once) is the caller's to handle.

    ``along`` makes the other changes of the same step (submitting the case) in each attempt, so that a
    new case is inserted once, already submitted and numbered: a savepoint that rolls back forgets what
    was set inside it.
    """
    if case.reference:
        return case.reference
    year = now.astimezone(STOCKHOLM).year
    prefix = reference_prefix(consultation)
    for _attempt in range(20):
        number = _next_reference_number(session, consultation.id, year)
        try:
            with session.begin_nested():
                case.reference_year = year
                case.reference_number = number
                case.reference = f"{prefix}-{year}-{number:03d}"
                along(case)
                session.add(case)
                session.flush()
        except IntegrityError:
            if not _reference_taken(session, consultation.id, year, number):
                raise
            log.info("case %s: reference number %s was taken meanwhile, retrying", case.id, number)
            continue
        return case.reference
    raise RuntimeError("could not assign a case reference")
