"""Retention: erase case free text some time after the case was last discussed, evaluation free text
some time after the evaluation closed, and delivered e-mail.

Only free text is erased. The coded fields (sex, age band, categories, who exposes, municipality, risk
assessment, dates) stay, so the statistics keep counting the case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, select

from samrad import outbox
from samrad.enums import AuditKind, AuditVerb
from samrad.models import AgendaItem, Case, Evaluation, EvaluationComment
from samrad.services import audit
from samrad.services.cases.limits import SCHEDULED

#: A case that is queued for another discussion keeps its text until that discussion.
AWAITING_DISCUSSION = SCHEDULED
#: What the purge erases, as the audit log names it.
PURGED_FIELDS = ("advice", "background", "questions", "return_comment")


def purge_case_text(session: Session, *, now: datetime, retention_days: int) -> int:
    """Erase background, questions, return comment and the advice given for cases last discussed
    ``retention_days`` or more days before ``now``, and stamp ``text_purged_at``.

    Runs as two UPDATE statements in the caller's transaction; running it again changes nothing.
    Objects already loaded in ``session`` are not refreshed. Returns the number of cases purged.
    """
    due = list(
        session.execute(
            select(Case.id, Case.consultation_id, Case.organisation_id)
            .where(Case.text_purged_at.is_(None))
            .where(Case.last_discussed_at.is_not(None))
            .where(Case.last_discussed_at <= now - timedelta(days=retention_days))
            .where(Case.status.not_in(AWAITING_DISCUSSION))
            .order_by(Case.id)
        )
    )
    ids = [row.id for row in due]
    if not ids:
        return 0
    session.execute(
        update(AgendaItem).where(AgendaItem.case_id.in_(ids)).values(advice=""),
        execution_options={"synchronize_session": False},
    )
    result = session.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(background="", questions="", return_comment="", text_purged_at=now),
        execution_options={"synchronize_session": False},
    )
    # Bulk statements pass the audit listener by, so the erasure is recorded here, case by case.
    for row in due:
        audit.record(
            session,
            AuditVerb.DELETED,
            AuditKind.CASE,
            row.id,
            consultation_id=row.consultation_id,
            organisation_id=row.organisation_id,
            fields=PURGED_FIELDS,
            now=now,
        )
    return result.rowcount


def purge_sent_mail(session: Session) -> int:
    """Erase the bodies of delivered e-mail that still have one (delivery normally erases them)."""
    return outbox.purge_sent_bodies(session)


def purge_evaluation_comments(session: Session, *, now: datetime, retention_days: int) -> int:
    """Delete the free-text answers of evaluations closed ``retention_days`` or more days before ``now``,
    released or not. The counters stay, so reports keep their numbers. Returns how many were deleted."""
    old = (
        select(Evaluation.id)
        .where(Evaluation.closed_at.is_not(None))
        .where(Evaluation.closed_at <= now - timedelta(days=retention_days))
    )
    result = session.execute(
        delete(EvaluationComment).where(EvaluationComment.evaluation_id.in_(old)),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
