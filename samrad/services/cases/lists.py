"""Lists of cases a person may see, and the consultations they may bring a case to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from samrad.enums import (
    CaseStatus,
)
from samrad.models import (
    Case,
    Consultation,
)
from samrad.services import access
from samrad.services.access import Action, Actor


def submitting_consultations(session: Session, actor: Actor) -> list[Consultation]:
    """The consultations the person may bring a case to (see :mod:`samrad.services.access`)."""
    return access.consultations_where(session, actor, Action.SUBMIT_CASE)


#: Rows on a page of "My cases": an agency's list grows with every year of cases, the page should not.
CASES_PER_PAGE = 30


def _visible(
    actor: Actor,
    *,
    consultation_id: int | None,
    statuses: Iterable[CaseStatus] | None,
    own_organisation_only: bool,
    case_ids: Iterable[int] | None,
):
    # The owning agency's cases are a part of those the person may see (owned_clause is case_clause's
    # first branch), so they are asked for by that part alone.
    stmt = select(Case).where(
        access.owned_clause(actor) if own_organisation_only else access.case_clause(actor)
    )
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    if consultation_id is not None:
        stmt = stmt.where(Case.consultation_id == consultation_id)
    if statuses is not None:
        stmt = stmt.where(Case.status.in_(list(statuses)))
    return stmt.order_by(Case.updated_at.desc(), Case.id.desc())


def cases_visible_to(
    session: Session,
    actor: Actor,
    *,
    consultation_id: int | None = None,
    statuses: Iterable[CaseStatus] | None = None,
    own_organisation_only: bool = False,
    case_ids: Iterable[int] | None = None,
) -> list[Case]:
    """The cases the person may see (:func:`samrad.services.access.case_clause`), newest first;
    ``own_organisation_only`` keeps those they see as one of the owning agency, ``case_ids`` those of
    a list (a page that shows some cases asks once, not once per case)."""
    return list(
        session.exec(
            _visible(
                actor,
                consultation_id=consultation_id,
                statuses=statuses,
                own_organisation_only=own_organisation_only,
                case_ids=case_ids,
            )
        )
    )


def visible_case_ids(session: Session, actor: Actor, case_ids: Iterable[int]) -> set[int]:
    """Which of ``case_ids`` the person may see (the clause of :func:`cases_visible_to`), as ids alone: for
    a page that only links to the cases it may show."""
    return set(
        session.exec(select(Case.id).where(access.case_clause(actor)).where(Case.id.in_(list(case_ids))))
    )


def page_of_cases_visible_to(
    session: Session,
    actor: Actor,
    *,
    page: int,
    statuses: Iterable[CaseStatus] | None = None,
    own_organisation_only: bool = False,
) -> tuple[list[Case], bool]:
    """Page ``page`` (from 1) of :func:`cases_visible_to`, ``CASES_PER_PAGE`` cases, and whether another
    page follows."""
    rows = list(
        session.exec(
            _visible(
                actor,
                consultation_id=None,
                statuses=statuses,
                own_organisation_only=own_organisation_only,
                case_ids=None,
            )
            .offset((page - 1) * CASES_PER_PAGE)
            .limit(CASES_PER_PAGE + 1)
        )
    )
    return rows[:CASES_PER_PAGE], len(rows) > CASES_PER_PAGE
