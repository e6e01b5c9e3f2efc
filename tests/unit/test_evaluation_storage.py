"""Storage order says nothing (issue H.3): a copy of the database taken at any moment — while the
evaluation is open, before and after the pool is counted — cannot order the answers or connect an
answer to the token that carried it. Checked on SQLite (no rowid on the tables written per answer) and
on PostgreSQL (heap order and ``xmin``, the id of the transaction that wrote each row)."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from samrad import keys
from samrad.enums import Attendance
from samrad.models import EvaluationComment, EvaluationPendingAnswer
from samrad.sealing import Sealer
from samrad.services.evaluations.pool import open_answer
from tests.factories import (
    ANSWERS_ALL_FULLY,
    OPENED_AT,
    SEALER,
    attend,
    close_evaluation,
    count_pool,
    make_consultation,
    make_held_meeting,
    make_user,
    open_with_tokens,
    submit_answers,
)

PEOPLE = 10
ANSWER_TABLES = ("evaluationcount", "evaluationcomment")
PER_ANSWER_TABLES = ("evaluationspent", "evaluationpendinganswer", "evaluationcomment")
NOW = OPENED_AT


def _open(session):
    consultation = make_consultation(session)
    meeting = make_held_meeting(session, consultation)
    for i in range(PEOPLE):
        person = make_user(
            session, email=f"svarande{i}@kommun.example", roles=["member"], consultation=consultation
        )
        attend(session, meeting, person, attendance=Attendance.ON_SITE)
    evaluation, issued = open_with_tokens(session, meeting)
    session.commit()
    return evaluation, [issued[f"svarande{i}@kommun.example"] for i in range(PEOPLE)]


def _answer_in_order(session, evaluation, tokens):
    """Person i answers i-th, each in their own transaction, with a text that says who they are."""
    said = [f"Svar från person {i:02d}" for i in range(PEOPLE)]
    for token, words in zip(tokens, said, strict=True):
        submit_answers(session, evaluation, token, {**ANSWERS_ALL_FULLY, 7: words}, now=NOW)
        session.commit()
    return said


def _physical(session, table, column):
    """The rows in the order a copy of the database stores them (PostgreSQL: heap order)."""
    if session.get_bind().dialect.name == "postgresql":
        return [r for (r,) in session.execute(text(f"SELECT {column} FROM {table} ORDER BY ctid"))]
    return [r for (r,) in session.execute(text(f"SELECT {column} FROM {table}"))]


def _xmins(session, table):
    return {int(x) for (x,) in session.execute(text(f"SELECT xmin::text FROM {table}"))}


def test_a_copy_taken_while_open_cannot_read_or_order_the_answers(session):
    evaluation, tokens = _open(session)
    said = _answer_in_order(session, evaluation, tokens)
    sealed = _physical(session, "evaluationpendinganswer", "sealed")
    assert len(sealed) == PEOPLE
    # Without the installation's secret nothing in the pool opens, and no answer is there in clear.
    stranger = Sealer(["a copy of the database without the config"], keys.ANSWERS)
    assert [open_answer(stranger, evaluation.id, s) for s in sealed] == [None] * PEOPLE
    assert not [s for s in sealed if any(w in s for w in ("Svar", "agree", "person"))]
    # Nothing has been counted yet, so the counters and comments say nothing either.
    assert session.exec(select(EvaluationComment)).all() == []
    if session.get_bind().dialect.name == "sqlite":
        for table in PER_ANSWER_TABLES:
            ddl = session.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
            ).scalar()
            assert "WITHOUT ROWID" in ddl, table
        # Stored in the order of the random keys, not in the order of answering.
        keys_ = _physical(session, "evaluationpendinganswer", "id")
        assert keys_ == sorted(keys_)
    # With the secret, the pool holds exactly what was said (so nothing was lost in sealing).
    opened = [open_answer(SEALER, evaluation.id, s) for s in sealed]
    assert sorted(texts[0][1] for _, texts in opened) == said


def test_counted_answers_keep_neither_the_order_nor_a_transaction_shared_with_a_token(session):
    evaluation, tokens = _open(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    token_xids = _xmins(session, "evaluationtoken") if postgres else set()
    said = _answer_in_order(session, evaluation, tokens)
    if postgres:
        # Using a token does not write its row: it still carries the transaction that opened the evaluation.
        assert _xmins(session, "evaluationtoken") == token_xids
        spent_xids = _xmins(session, "evaluationspent")
        assert len(spent_xids) == PEOPLE
    assert count_pool(session, evaluation, min_batch=3) == PEOPLE
    session.commit()
    stored = _physical(session, "evaluationcomment", "text")
    assert sorted(stored) == said
    # Shuffled: the stored order is not the order of answering (a chance of 1 in 10! that it is).
    assert stored != said
    if postgres:
        answer_xids = set().union(*(_xmins(session, t) for t in ANSWER_TABLES))
        # Every counter and comment carries the one batch transaction ...
        assert len(answer_xids) == 1
        # ... which is none of the transactions that opened the evaluation or used a token.
        assert not answer_xids & (token_xids | spent_xids)
    else:
        keys_ = _physical(session, "evaluationcomment", "id")
        assert keys_ == sorted(keys_)
    assert close_evaluation(session, evaluation, now=NOW)
    session.commit()
    # Closing forgets the tokens and which were used; the text stays, under new keys.
    for table in ("evaluationtoken", "evaluationspent", "evaluationpendinganswer"):
        assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    assert sorted(_physical(session, "evaluationcomment", "text")) == said


def test_a_batch_below_the_threshold_waits_and_closing_counts_it(session):
    evaluation, tokens = _open(session)
    for token in tokens[:2]:
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=NOW)
    session.commit()
    assert count_pool(session, evaluation, min_batch=3) == 0
    assert len(session.exec(select(EvaluationPendingAnswer)).all()) == 2
    assert close_evaluation(session, evaluation, now=NOW)
    assert session.exec(select(EvaluationPendingAnswer)).all() == []
    assert evaluation.respondents == 2
