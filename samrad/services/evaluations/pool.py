"""The answer pool: answers wait sealed until they are counted with at least the threshold of others.

Why a pool: a row written for one answer carries the order in which people answered (SQLite's rowid,
PostgreSQL's heap order and ``xmin``) and, on PostgreSQL, the id of the transaction that also marked the
token used. So an answer is first stored sealed (AES-GCM under the installation's secret, bound to its
evaluation), unreadable from a copy of the database. :func:`count_pool` opens a batch of at least
``min_batch`` sealed answers in one transaction, shuffles them, adds them to the counters, inserts the
free text under new random keys in the shuffled order and deletes the sealed rows: every counter and
comment of the batch then carries the batch's transaction, never an answer's. Closing an evaluation
counts whatever is left, however few.

Nothing is lost or counted twice: a batch is one transaction (a killed job leaves the pool as it was),
it begins by taking the evaluation row, on which answering also queues, and it deletes exactly the rows
it opened. A row that does not open (the secret changed without SECRET_KEY_PREVIOUS) stays in the pool
and is reported, never dropped.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import Counter

from sqlalchemy import delete, insert, update
from sqlmodel import Session, select

from samrad.models import Evaluation, EvaluationComment, EvaluationCount, EvaluationPendingAnswer
from samrad.models.evaluation import EvaluationStatus, ScaleOption
from samrad.sealing import Sealer

log = logging.getLogger(__name__)


def seal_answer(
    sealer: Sealer,
    evaluation_id: int | None,
    scale: list[tuple[int, ScaleOption]],
    texts: list[tuple[int, str]],
) -> str:
    payload = json.dumps({"scale": [[q, o.value] for q, o in scale], "texts": [[q, t] for q, t in texts]})
    return sealer.seal(payload.encode("utf-8"), bound_to=str(evaluation_id))


def open_answer(
    sealer: Sealer, evaluation_id: int | None, sealed: str
) -> tuple[list[tuple[int, ScaleOption]], list[tuple[int, str]]] | None:
    raw = sealer.unseal(sealed, bound_to=str(evaluation_id))
    if raw is None:
        return None
    payload = json.loads(raw)
    return (
        [(int(q), ScaleOption(o)) for q, o in payload["scale"]],
        [(int(q), str(t)) for q, t in payload["texts"]],
    )


def count_pool(session: Session, evaluation: Evaluation, *, sealer: Sealer, min_batch: int | None) -> int:
    """Count the evaluation's pooled answers if there are at least ``min_batch`` (all of them for None).
    Returns how many answers were counted."""
    # Take the evaluation row first (a write: SQLite's lock, PostgreSQL's row lock), so that an answer
    # arriving now waits until this batch is committed and is counted in the next.
    session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id)
        .values(respondents=Evaluation.respondents)
        .execution_options(synchronize_session=False)
    )
    pooled = session.exec(
        select(EvaluationPendingAnswer.id, EvaluationPendingAnswer.sealed).where(
            EvaluationPendingAnswer.evaluation_id == evaluation.id
        )
    ).all()
    if not pooled or (min_batch is not None and len(pooled) < min_batch):
        return 0
    opened = []
    for row_id, sealed in pooled:
        answer = open_answer(sealer, evaluation.id, sealed)
        if answer is None:
            log.error("an answer in the pool of evaluation %s does not open; it stays there", evaluation.id)
            continue
        opened.append((row_id, answer))
    if not opened:
        return 0
    randomness = secrets.SystemRandom()
    randomness.shuffle(opened)
    counts: Counter[tuple[int, ScaleOption]] = Counter()
    comments = []
    for _, (scale, texts) in opened:
        counts.update(scale)
        comments += [
            {"id": secrets.token_hex(16), "evaluation_id": evaluation.id, "question_id": q, "text": text}
            for q, text in texts
        ]
    # Every counter is written, those that gain nothing too: afterwards they all carry this batch's
    # transaction, and none keeps the one that opened the evaluation (and wrote its tokens).
    counters = session.exec(
        select(EvaluationCount.question_id, EvaluationCount.option).where(
            EvaluationCount.evaluation_id == evaluation.id
        )
    ).all()
    for question_id, option in sorted(counters):
        session.execute(
            update(EvaluationCount)
            .where(EvaluationCount.evaluation_id == evaluation.id)
            .where(EvaluationCount.question_id == question_id)
            .where(EvaluationCount.option == option)
            .values(n=EvaluationCount.n + counts[(question_id, ScaleOption(option))])
            .execution_options(synchronize_session=False)
        )
    if comments:
        randomness.shuffle(comments)
        session.execute(insert(EvaluationComment), comments)
    session.execute(
        delete(EvaluationPendingAnswer)
        .where(EvaluationPendingAnswer.id.in_([row_id for row_id, _ in opened]))
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return len(opened)


def count_due_pools(session: Session, *, sealer: Sealer, min_batch: int) -> int:
    """Count every open evaluation's pool that holds at least ``min_batch`` answers (the scheduler's
    job). Returns how many answers were counted."""
    due = session.exec(
        select(Evaluation)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .where(Evaluation.id.in_(select(EvaluationPendingAnswer.evaluation_id)))
        .order_by(Evaluation.id)
    ).all()
    return sum(count_pool(session, evaluation, sealer=sealer, min_batch=min_batch) for evaluation in due)
