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
    stmt = select(Case).where(access.case_clause(actor))
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    if own_organisation_only:
        stmt = stmt.where(access.owned_clause(actor))
    if consultation_id is not None:
        stmt = stmt.where(Case.consultation_id == consultation_id)
    if statuses is not None:
        stmt = stmt.where(Case.status.in_(list(statuses)))
    return list(session.exec(stmt.order_by(Case.updated_at.desc(), Case.id.desc())))
