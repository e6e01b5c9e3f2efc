"""The one reminder, and closing: tokens deleted, free text rewritten under new keys in a random order."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, select

from samrad import outbox
from samrad.models import (
    Consultation,
    Evaluation,
    EvaluationComment,
    EvaluationSpent,
    EvaluationToken,
    Meeting,
)
from samrad.models.evaluation import EvaluationStatus
from samrad.sealing import Sealer
from samrad.services.evaluations.opening import attendee_addresses
from samrad.services.evaluations.pool import count_pool


def remind_evaluations(session: Session, *, now: datetime, after: timedelta = timedelta(days=2)) -> int:
    """Send the one reminder of each open evaluation that was opened at least ``after`` ago.

    The reminder goes to *every* attendee and carries no link ("if you have not answered yet, use the
    link in the first e-mail; if you have, thank you"). Knowing who has not answered would need a link
    between tokens and people, which the app does not keep. Only when every token is used (a fact about
    the group, not a person) is nobody reminded. Returns the number of evaluations handled; safe to rerun.
    """
    due = session.exec(
        select(Evaluation)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .where(Evaluation.reminded_at.is_(None))
        .where(Evaluation.opened_at <= now - after)
        .where(Evaluation.closes_at > now)
        .order_by(Evaluation.id)
    ).all()
    handled = 0
    for evaluation in due:
        claimed = session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation.id)
            .where(Evaluation.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue  # another scheduler run took it
        handled += 1
        issued = session.exec(
            select(func.count())
            .select_from(EvaluationToken)
            .where(EvaluationToken.evaluation_id == evaluation.id)
        ).one()
        session.refresh(evaluation, ["respondents"])
        if issued <= evaluation.respondents:
            continue
        meeting = session.get(Meeting, evaluation.meeting_id)
        consultation = session.get(Consultation, meeting.consultation_id)
        for email, locale in attendee_addresses(session, meeting):
            outbox.queue_email_once(
                session,
                dedupe_key=f"evaluation-reminder:{evaluation.public_id}:{email}",
                to=email,
                template="evaluation_reminder",
                locale=locale,
                now=now,
                consultation=consultation,
                meeting=meeting,
                opened_at=evaluation.opened_at,
                closes_at=evaluation.closes_at,
            )
        session.expire(evaluation, ["reminded_at"])
    session.flush()
    return handled


def close_evaluation(session: Session, evaluation: Evaluation, *, now: datetime, sealer: Sealer) -> bool:
    """Stop accepting answers. Counts what is left in the pool, deletes every token and used-token
    marker, and rewrites the free text under new random keys in a random order. Returns False if it was
    already closed."""
    closed = session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .values(status=EvaluationStatus.CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        return False
    count_pool(session, evaluation, sealer=sealer, min_batch=None)
    session.execute(delete(EvaluationToken).where(EvaluationToken.evaluation_id == evaluation.id))
    session.execute(delete(EvaluationSpent).where(EvaluationSpent.evaluation_id == evaluation.id))
    comments = session.exec(
        select(EvaluationComment.question_id, EvaluationComment.text, EvaluationComment.released).where(
            EvaluationComment.evaluation_id == evaluation.id
        )
    ).all()
    if comments:
        rows = [
            {
                "id": secrets.token_hex(16),
                "evaluation_id": evaluation.id,
                "question_id": q,
                "text": t,
                "released": r,
            }
            for q, t, r in comments
        ]
        secrets.SystemRandom().shuffle(rows)
        session.execute(delete(EvaluationComment).where(EvaluationComment.evaluation_id == evaluation.id))
        session.execute(insert(EvaluationComment), rows)
    session.flush()
    session.expire(evaluation)
    return True


def close_due_evaluations(session: Session, *, now: datetime, sealer: Sealer) -> int:
    """Close every open evaluation whose time is up (the scheduler's job). Returns how many it closed."""
    due = session.exec(
        select(Evaluation)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .where(Evaluation.closes_at <= now)
        .order_by(Evaluation.id)
    ).all()
    return sum(close_evaluation(session, evaluation, now=now, sealer=sealer) for evaluation in due)
