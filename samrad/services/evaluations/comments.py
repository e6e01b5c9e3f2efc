"""The coordinator reads free text before anyone else: release or delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from samrad.deidentify import Finding
from samrad.models import (
    Consultation,
    Evaluation,
    EvaluationComment,
    EvaluationQuestion,
    Meeting,
)
from samrad.models.evaluation import EvaluationStatus
from samrad.services.evaluations.errors import EvaluationStillOpen
from samrad.services.evaluations.texts import colleague_names, text_findings


@dataclass(frozen=True)
class PendingComment:
    comment: EvaluationComment
    question: EvaluationQuestion
    #: The meeting's start, or None when its evaluation has too few answers to be named on its own.
    meeting_starts_at: datetime | None
    findings: tuple[Finding, ...]


def pending_comments(
    session: Session, consultation: Consultation, *, min_respondents: int
) -> list[PendingComment]:
    """Unreleased free text of the consultation's closed evaluations, in random-key order, with what the
    guard finds in it (recomputed here: only counts and kinds are ever stored, never matches)."""
    names: dict[int | None, frozenset[str]] = {}
    rows = session.exec(
        select(EvaluationComment, EvaluationQuestion, Evaluation, Meeting)
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationComment.question_id)
        .join(Evaluation, Evaluation.id == EvaluationComment.evaluation_id)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(Evaluation.status == EvaluationStatus.CLOSED)
        .where(EvaluationComment.released.is_(False))
        .order_by(EvaluationComment.id)
    ).all()
    pending = []
    for comment, question, evaluation, meeting in rows:
        if meeting.id not in names:
            names[meeting.id] = colleague_names(session, consultation.id, meeting.id)
        pending.append(
            PendingComment(
                comment,
                question,
                meeting.starts_at if evaluation.respondents >= min_respondents else None,
                tuple(text_findings(comment.text, colleague_names=names[meeting.id])),
            )
        )
    return pending


def comment_in(session: Session, consultation: Consultation, comment_id: str) -> EvaluationComment | None:
    """The comment with this key if it belongs to one of the consultation's evaluations."""
    return session.exec(
        select(EvaluationComment)
        .join(Evaluation, Evaluation.id == EvaluationComment.evaluation_id)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(EvaluationComment.id == comment_id)
    ).first()


def _require_closed(session: Session, comment: EvaluationComment) -> None:
    if session.get(Evaluation, comment.evaluation_id).status != EvaluationStatus.CLOSED:
        raise EvaluationStillOpen()


def release_comment(session: Session, comment: EvaluationComment) -> None:
    """Let the comment appear in reports (once its evaluation is closed)."""
    _require_closed(session, comment)
    comment.released = True
    session.flush()


def remove_comment(session: Session, comment: EvaluationComment) -> None:
    """Delete the comment for good: the text is gone, not hidden."""
    _require_closed(session, comment)
    session.delete(comment)
    session.flush()
