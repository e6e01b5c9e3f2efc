"""Answering: checked first, then put in the pool in one savepoint, a token counting once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import Session, select

from samrad import tokens
from samrad.models import (
    Evaluation,
    EvaluationPendingAnswer,
    EvaluationSpent,
    EvaluationToken,
    Meeting,
    Questionnaire,
    get_row,
)
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.sealing import Sealer
from samrad.services.evaluations.errors import (
    EvaluationClosed,
    InvalidAnswers,
    Problem,
    TokenForAnotherEvaluation,
    TokenUsed,
    UnknownToken,
)
from samrad.services.evaluations.form import TEXT_MAX
from samrad.services.evaluations.pool import seal_answer
from samrad.services.evaluations.texts import colleague_names, text_findings


def find_token(session: Session, token: str, *, sealer: Sealer) -> tuple[Evaluation, bool] | None:
    """The evaluation a token belongs to and whether it is used; None for an unknown token. Read only."""
    row = session.exec(
        select(EvaluationToken).where(EvaluationToken.token_hash == tokens.token_hash(token))
    ).first()
    if row is None:
        return None
    return get_row(session, Evaluation, row.evaluation_id), _spent(session, token, sealer)


def _spent(session: Session, token: str, sealer: Sealer) -> bool:
    # The plain hash marks tokens used before the pool existed (migration 0006).
    candidates = [*sealer.markers(token), tokens.token_hash(token)]
    found = session.exec(select(EvaluationSpent.marker).where(EvaluationSpent.marker.in_(candidates)))
    return found.first() is not None


def accepts_answers(evaluation: Evaluation, *, now: datetime) -> bool:
    return evaluation.status == EvaluationStatus.OPEN and now < evaluation.closes_at


def check_answers(
    questionnaire: Questionnaire,
    answers: Mapping[int, str],
    *,
    colleague_names: frozenset[str] = frozenset(),
    confirm_warnings: bool = False,
) -> tuple[list[tuple[int, ScaleOption]], list[tuple[int, str]]]:
    """Validate answers keyed by question number: every statement answered with an existing option,
    free text within :data:`TEXT_MAX` and free of identifying details. Returns (question id, option)
    and (question id, text) pairs, or raises :class:`InvalidAnswers` with a problem per question."""
    problems: dict[int, Problem] = {}
    scale: list[tuple[int, ScaleOption]] = []
    texts: list[tuple[int, str]] = []
    for question in questionnaire.questions:
        raw = answers.get(question.number)
        if question.kind == QuestionKind.SCALE:
            if raw is None or raw == "":
                problems[question.number] = Problem("missing")
            elif raw not in {o.value for o in ScaleOption}:
                problems[question.number] = Problem("invalid_option")
            else:
                scale.append((question.id, ScaleOption(raw)))
            continue
        text = (raw or "").replace("\r\n", "\n").strip()
        if not text:
            continue
        if len(text) > TEXT_MAX:
            problems[question.number] = Problem("too_long")
            continue
        found = tuple(text_findings(text, colleague_names=colleague_names))
        if any(f.severity == "block" for f in found):
            problems[question.number] = Problem("identifying", found)
        elif found and not confirm_warnings:
            problems[question.number] = Problem("check_names", found)
        else:
            texts.append((question.id, text))
    if problems:
        raise InvalidAnswers(problems)
    return scale, texts


@dataclass(frozen=True)
class CheckedAnswers:
    """Answers that passed :func:`check_answers`: (question id, option) and (question id, text) pairs."""

    scale: list[tuple[int, ScaleOption]]
    texts: list[tuple[int, str]]


def checked_answers(
    session: Session, evaluation: Evaluation, answers: Mapping[int, str], *, confirm_warnings: bool = False
) -> CheckedAnswers:
    """Check answers against the evaluation's questions and the names of the meeting's colleagues; reads
    only, so that a request can check before its change begins."""
    meeting = get_row(session, Meeting, evaluation.meeting_id)
    scale, texts = check_answers(
        evaluation.questionnaire,
        answers,
        colleague_names=colleague_names(session, meeting.consultation_id, meeting.id),
        confirm_warnings=confirm_warnings,
    )
    return CheckedAnswers(scale, texts)


def submit_answers(
    session: Session,
    evaluation: Evaluation,
    token: str,
    answers: Mapping[int, str],
    *,
    now: datetime,
    sealer: Sealer,
    confirm_warnings: bool = False,
) -> None:
    """Record one person's answers and use up their token: all of it or nothing
    (:func:`checked_answers`, then :func:`record_answers`)."""
    checked = checked_answers(session, evaluation, answers, confirm_warnings=confirm_warnings)
    record_answers(session, evaluation, token, checked, now=now, sealer=sealer)


def record_answers(
    session: Session,
    evaluation: Evaluation,
    token: str,
    checked: CheckedAnswers,
    *,
    now: datetime,
    sealer: Sealer,
) -> None:
    """Put checked answers in the pool and use up the token, in one savepoint.

    The evaluation row is taken (``respondents + 1`` while open), the token is marked used by a keyed
    marker (unique, so it counts once), and the answers go into the pool sealed, under a random key. The
    token's own row is not touched, and nothing is counted yet:
    :func:`samrad.services.evaluations.pool.count_pool` adds the pool to the counters and comments in
    shuffled batches. A used, unknown or foreign token, or a closed evaluation, rolls the savepoint back.
    Concurrent submissions queue on the evaluation row, so none is lost and no token counts twice. ``now``
    only decides whether the evaluation is still open.
    """
    sealed = seal_answer(sealer, evaluation.id, checked.scale, checked.texts)
    digest = tokens.token_hash(token)
    with session.begin_nested():
        taken = session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation.id)
            .where(Evaluation.status == EvaluationStatus.OPEN)
            .where(Evaluation.closes_at > now)
            .values(respondents=Evaluation.respondents + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise EvaluationClosed()
        owner = session.exec(
            select(EvaluationToken.evaluation_id).where(EvaluationToken.token_hash == digest)
        ).first()
        if owner is None:
            raise UnknownToken()
        if owner != evaluation.id:
            raise TokenForAnotherEvaluation()
        if _spent(session, token, sealer):
            raise TokenUsed()
        session.execute(
            insert(EvaluationSpent), [{"marker": sealer.markers(token)[0], "evaluation_id": evaluation.id}]
        )
        session.execute(
            insert(EvaluationPendingAnswer),
            [
                {
                    "id": secrets.token_hex(16),
                    "evaluation_id": evaluation.id,
                    "sealed": sealed,
                }
            ],
        )
    session.expire(evaluation, ["respondents"])
