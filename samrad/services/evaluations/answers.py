"""Answering: checked first, then counted in one savepoint, a token counting once."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import insert, tuple_, update
from sqlmodel import Session, select

from samrad import tokens
from samrad.models import (
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationToken,
    Meeting,
    Questionnaire,
    get_row,
)
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.services.evaluations.errors import (
    EvaluationClosed,
    InvalidAnswers,
    Problem,
    TokenForAnotherEvaluation,
    TokenUsed,
    UnknownToken,
)
from samrad.services.evaluations.form import TEXT_MAX
from samrad.services.evaluations.texts import colleague_names, text_findings


def find_token(session: Session, token: str) -> tuple[Evaluation, bool] | None:
    """The evaluation a token belongs to and whether it is used; None for an unknown token. Read only."""
    row = session.exec(
        select(EvaluationToken).where(EvaluationToken.token_hash == tokens.token_hash(token))
    ).first()
    if row is None:
        return None
    return get_row(session, Evaluation, row.evaluation_id), row.used


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


def submit_answers(
    session: Session,
    evaluation: Evaluation,
    token: str,
    answers: Mapping[int, str],
    *,
    now: datetime,
    confirm_warnings: bool = False,
) -> None:
    """Record one person's answers and use up their token: all of it or nothing.

    Validation happens before any write. Then, in one savepoint: the evaluation row is taken
    (``respondents + 1`` while open), the token is marked used only if it is still unused, each
    statement's counter gets ``n + 1`` and free text is inserted under a random key with no time or
    reference. A used, unknown or foreign token, or a closed evaluation, rolls the savepoint back.
    Concurrent submissions queue on the evaluation row, so none is lost and no token counts twice.
    ``now`` only decides whether the evaluation is still open; it is not stored.
    """
    meeting = session.get(Meeting, evaluation.meeting_id)
    scale, texts = check_answers(
        evaluation.questionnaire,
        answers,
        colleague_names=colleague_names(session, meeting.consultation_id, meeting.id),
        confirm_warnings=confirm_warnings,
    )
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
        used = session.execute(
            update(EvaluationToken)
            .where(EvaluationToken.token_hash == digest)
            .where(EvaluationToken.evaluation_id == evaluation.id)
            .where(EvaluationToken.used.is_(False))
            .values(used=True)
            .execution_options(synchronize_session=False)
        ).rowcount
        if used != 1:
            row = session.exec(
                select(EvaluationToken.evaluation_id).where(EvaluationToken.token_hash == digest)
            ).first()
            if row is None:
                raise UnknownToken()
            raise TokenForAnotherEvaluation() if row != evaluation.id else TokenUsed()
        # One statement for all statements' counters: the evaluation row taken above already makes
        # submitters queue, so the order in which this touches its rows cannot deadlock.
        if scale:
            counted = session.execute(
                update(EvaluationCount)
                .where(EvaluationCount.evaluation_id == evaluation.id)
                .where(tuple_(EvaluationCount.question_id, EvaluationCount.option).in_(scale))
                .values(n=EvaluationCount.n + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if counted != len(scale):
                raise RuntimeError("evaluation counter missing")
        if texts:
            session.execute(
                insert(EvaluationComment),
                [
                    {
                        "id": secrets.token_hex(16),
                        "evaluation_id": evaluation.id,
                        "question_id": qid,
                        "text": text,
                    }
                    for qid, text in texts
                ],
            )
    session.expire(evaluation, ["respondents"])
