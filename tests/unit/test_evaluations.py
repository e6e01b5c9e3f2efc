import json
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

from samrad import db, demo
from samrad.charts import Series, stacked_percent_bars
from samrad.clock import STOCKHOLM
from samrad.enums import Attendance, MeetingStatus
from samrad.models import (
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationPendingAnswer,
    EvaluationQuestion,
    EvaluationSpent,
    EvaluationToken,
    OutboxMessage,
    Questionnaire,
    utcnow,
)
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.periods import between
from samrad.services import directory, evaluations
from samrad.services.evaluations import QuestionDraft
from samrad.tokens import token_hash
from tests.factories import (
    ANSWERS_ALL_FULLY,
    MEETING_AT,
    OPENED_AT,
    attend,
    close_due_evaluations,
    close_evaluation,
    count_pool,
    find_token,
    make_consultation,
    make_held_meeting,
    make_meeting,
    make_user,
    open_with_tokens,
    submit_answers,
)

NOW = OPENED_AT + timedelta(hours=1)
LINK = "https://samrad.test/evaluation/{}".format
NAMES = (
    "Karin Lantto",
    "Per Öberg",
    "Elin Niemi",
    "Jonas Rova",
    "Malin Strand",
    "Oskar Hedlund",
    "Ida Björk",
    "Lars Marklund",
    "Sara Wikström",
)


def _meeting_with_attendees(session, *, attendees=3):
    consultation = make_consultation(session)
    meeting = make_held_meeting(session, consultation)
    people = [
        make_user(
            session,
            name=NAMES[i],
            email=f"deltagare{i}@kommun.example",
            roles=["member"],
            consultation=consultation,
        )
        for i in range(attendees)
    ]
    for i, person in enumerate(people):
        attend(session, meeting, person, attendance=Attendance.VIA_LINK if i % 2 else Attendance.ON_SITE)
    return consultation, meeting, people


def _counts(session, evaluation):
    rows = session.exec(
        select(EvaluationQuestion.number, EvaluationCount.option, EvaluationCount.n)
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationCount.question_id)
        .where(EvaluationCount.evaluation_id == evaluation.id)
    ).all()
    return {(number, ScaleOption(option).value): n for number, option, n in rows if n}


# --- Opening ---------------------------------------------------------------------------------------


def test_open_mails_every_attendee_a_link_and_stores_only_hashes(session):
    consultation = make_consultation(session, name="Una Norrbotten")
    meeting = make_held_meeting(session, consultation)
    on_site = make_user(session, email="pa.plats@kommun.example", locale="en")
    via_link = make_user(session, email="via.lank@kommun.example")
    absent = make_user(session, email="franvarande@kommun.example")
    removed = make_user(session, email="borttagen@kommun.example")
    unknown = make_user(session, email="okand@kommun.example")
    invited = make_user(session, email="inbjuden@kommun.example")
    substitute = make_user(session, email="ersattare@kommun.example")
    attend(session, meeting, on_site)
    attend(session, meeting, via_link, attendance=Attendance.VIA_LINK)
    attend(session, meeting, absent, attendance=Attendance.ABSENT)
    attend(session, meeting, removed, removed_at=MEETING_AT)
    attend(session, meeting, unknown, attendance=None)
    attend(session, meeting, invited, substitute_user_id=substitute.id)

    evaluation, issued = open_with_tokens(session, meeting)

    assert sorted(issued) == [
        "ersattare@kommun.example",
        "pa.plats@kommun.example",
        "via.lank@kommun.example",
    ]
    assert (evaluation.status, evaluation.respondents, evaluation.closes_at) == (
        EvaluationStatus.OPEN,
        0,
        OPENED_AT + timedelta(days=7),
    )
    rows = session.exec(select(EvaluationToken)).all()
    assert sorted(r.token_hash for r in rows) == sorted(token_hash(t) for t in issued.values())
    assert {r.evaluation_id for r in rows} == {evaluation.id}
    assert session.exec(select(EvaluationSpent)).all() == []
    mails = {m.recipient: m for m in session.exec(select(OutboxMessage))}
    assert set(mails) == set(issued)
    for recipient, token in issued.items():
        assert mails[recipient].ephemeral is True
        assert f"https://samrad.test/evaluation/{token}" in mails[recipient].body_text
        assert mails[recipient].body_text.count("/evaluation/") == 1
    assert mails["via.lank@kommun.example"].subject == "Utvärdering av mötet måndag 8 mars 2027"
    assert mails["pa.plats@kommun.example"].subject == "Evaluation of the meeting on Monday 8 March 2027"
    assert "Una Norrbotten" in mails["via.lank@kommun.example"].body_text
    # Six statements with three options each, all at zero.
    assert session.exec(select(EvaluationCount.n)).all() == [0] * 18


def test_a_delivered_evaluation_mail_keeps_no_link_in_the_database(any_db_app):
    with any_db_app.app_context():
        with db.session_scope() as s:
            consultation, meeting, _ = _meeting_with_attendees(s, attendees=2)
            _, issued = open_with_tokens(s, meeting, now=utcnow())
        # session_scope delivered the mail after the commit (file transport); the bodies are gone.
        with db.session_scope() as s:
            messages = s.exec(select(OutboxMessage)).all()
            assert [(m.status.value, m.body_text, m.body_html) for m in messages] == [("sent", "", "")] * 2
            assert all(m.subject.startswith("Utvärdering av mötet") for m in messages)
            _assert_no_token_anywhere(s, issued.values())
    # The delivered copies (the "mail server" of the file transport) do carry the links.
    delivered = [p.read_text() for p in Path(any_db_app.config["MAIL_FILE_DIR"]).glob("*.eml")]
    assert len(delivered) == 2


def _assert_no_token_anywhere(session, tokens, *, skip=()):
    """No table holds a token in clear, in any column."""
    for table in SQLModel.metadata.sorted_tables:
        if table.name in skip:
            continue
        for row in session.execute(table.select()).all():
            for value in row:
                if isinstance(value, str):
                    assert not any(token in value for token in tokens), f"token found in {table.name}"


def test_open_requires_a_held_meeting_and_happens_once(session):
    consultation = make_consultation(session)
    planned = make_meeting(session, consultation, MEETING_AT, status=MeetingStatus.PLANNED)
    with pytest.raises(evaluations.MeetingNotClosed):
        evaluations.open_evaluation(session, planned, now=NOW, open_for=timedelta(days=7), link_for=LINK)
    held = make_held_meeting(session, consultation, starts_at=MEETING_AT + timedelta(days=14))
    evaluations.open_evaluation(session, held, now=NOW, open_for=timedelta(days=7), link_for=LINK)
    with pytest.raises(evaluations.EvaluationExists):
        evaluations.open_evaluation(session, held, now=NOW, open_for=timedelta(days=7), link_for=LINK)
    assert len(session.exec(select(Evaluation)).all()) == 1


def test_token_rows_are_written_in_hash_order_not_in_recipient_order(session):
    _, meeting, _ = _meeting_with_attendees(session, attendees=8)
    evaluation, issued = open_with_tokens(session, meeting)
    session.commit()
    # Physical order (no ORDER BY): what a DBA browsing the table sees.
    stored = [row[0] for row in session.execute(text("SELECT token_hash FROM evaluationtoken")).all()]
    assert stored == sorted(token_hash(t) for t in issued.values())


# --- Answering -------------------------------------------------------------------------------------


def test_an_answer_counts_once_and_uses_up_the_token(session):
    _, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting)
    token = issued["deltagare0@kommun.example"]
    answers = {
        1: "agree_fully",
        2: "agree_partly",
        3: "disagree",
        4: "agree_fully",
        5: "agree_fully",
        6: "agree_partly",
        7: "  Klar och tydlig agenda.  ",
    }
    mails = len(session.exec(select(OutboxMessage)).all())
    submit_answers(session, evaluation, token, answers, now=NOW)
    assert len(session.exec(select(OutboxMessage)).all()) == mails  # nobody is told about an answer
    # The answer waits sealed in the pool: nothing is counted, and its text is nowhere in clear.
    assert (evaluation.respondents, _counts(session, evaluation)) == (1, {})
    [pooled] = session.exec(select(EvaluationPendingAnswer.sealed)).all()
    assert "Klar" not in pooled and "agree" not in pooled
    assert session.exec(select(EvaluationComment)).all() == []
    assert find_token(session, token) == (evaluation, True)
    assert count_pool(session, evaluation, min_batch=2) == 0  # fewer than a batch: it waits
    assert count_pool(session, evaluation, min_batch=1) == 1
    assert session.exec(select(EvaluationPendingAnswer)).all() == []
    assert _counts(session, evaluation) == {
        (1, "agree_fully"): 1,
        (2, "agree_partly"): 1,
        (3, "disagree"): 1,
        (4, "agree_fully"): 1,
        (5, "agree_fully"): 1,
        (6, "agree_partly"): 1,
    }
    assert session.exec(select(EvaluationComment.text, EvaluationComment.released)).all() == [
        ("Klar och tydlig agenda.", False)
    ]
    assert evaluation.respondents == 1
    with pytest.raises(evaluations.TokenUsed):
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=NOW)
    assert evaluation.respondents == 1
    assert sum(_counts(session, evaluation).values()) == 6
    assert len(session.exec(select(EvaluationComment)).all()) == 1


@pytest.mark.parametrize(
    ("answers", "problems"),
    [
        ({1: "agree_fully"}, {2: "missing", 3: "missing", 4: "missing", 5: "missing", 6: "missing"}),
        ({**ANSWERS_ALL_FULLY, 3: "maybe"}, {3: "invalid_option"}),
        ({**ANSWERS_ALL_FULLY, 4: ""}, {4: "missing"}),
        ({**ANSWERS_ALL_FULLY, 7: "x" * 2001}, {7: "too_long"}),
        ({**ANSWERS_ALL_FULLY, 7: "Ring mig på anna.a@kommun.example"}, {7: "identifying"}),
        ({**ANSWERS_ALL_FULLY, 7: "Gäller 19121212-1212"}, {7: "identifying"}),
        ({**ANSWERS_ALL_FULLY, 7: "Tack till Per för genomgången"}, {7: "check_names"}),
    ],
)
def test_refused_answers_store_nothing(session, answers, problems):
    _, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting)
    token = issued["deltagare0@kommun.example"]
    with pytest.raises(evaluations.InvalidAnswers) as refused:
        submit_answers(session, evaluation, token, answers, now=NOW)
    assert {n: p.code for n, p in refused.value.problems.items()} == problems
    assert (_counts(session, evaluation), evaluation.respondents) == ({}, 0)
    assert session.exec(select(EvaluationComment)).all() == []
    assert session.exec(select(EvaluationPendingAnswer)).all() == []
    assert find_token(session, token) == (evaluation, False)


def test_exactly_2000_characters_are_accepted_and_a_colleague_name_after_confirmation(session):
    _, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting)
    submit_answers(
        session,
        evaluation,
        issued["deltagare0@kommun.example"],
        {**ANSWERS_ALL_FULLY, 7: "å" * 2000},
        now=NOW,
    )
    submit_answers(
        session,
        evaluation,
        issued["deltagare1@kommun.example"],
        {**ANSWERS_ALL_FULLY, 7: "Tack till Öberg!"},
        now=NOW,
        confirm_warnings=True,
    )
    assert count_pool(session, evaluation, min_batch=None) == 2
    assert sorted(len(t) for t in session.exec(select(EvaluationComment.text))) == [16, 2000]


def test_a_colleague_name_is_found_and_the_finding_says_where(session):
    consultation, meeting, _ = _meeting_with_attendees(session)
    names = evaluations.colleague_names(session, consultation.id, meeting.id)
    assert names == {"karin", "lantto", "per", "öberg", "elin", "niemi"}
    found = evaluations.text_findings(
        "Bra möte. Niemi var tydlig, niemi och per också. Per-Olof?", colleague_names=names
    )
    # Colleagues' names count capitalised; "niemi" in lower case is still a listed name (the guard finds
    # names whatever their case), while "per" in lower case is an ordinary word.
    assert [(f.start, f.end, f.kind, f.severity) for f in found] == [
        (10, 15, "colleague_name", "warn"),
        (28, 33, "name", "warn"),
        (49, 52, "colleague_name", "warn"),
    ]


def test_the_guard_and_colleague_names_are_combined():
    found = evaluations.text_findings("Anna ring 070-123 45 67 i morgon", colleague_names=frozenset({"anna"}))
    # The colleague finding replaces the guard's own name warning for the same word.
    assert [(f.start, f.end, f.kind, f.severity) for f in found] == [
        (0, 4, "colleague_name", "warn"),
        (10, 23, "phone", "block"),
    ]


def test_unknown_foreign_and_late_tokens_are_refused(session):
    consultation, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting)
    other_meeting = make_held_meeting(session, consultation, starts_at=MEETING_AT + timedelta(days=14))
    attend(session, other_meeting, email="gast@kommun.example")
    other, other_issued = open_with_tokens(session, other_meeting)
    token = issued["deltagare0@kommun.example"]
    with pytest.raises(evaluations.UnknownToken):
        submit_answers(session, evaluation, "x" * 43, ANSWERS_ALL_FULLY, now=NOW)
    with pytest.raises(evaluations.TokenForAnotherEvaluation):
        submit_answers(session, evaluation, other_issued["gast@kommun.example"], ANSWERS_ALL_FULLY, now=NOW)
    with pytest.raises(evaluations.EvaluationClosed):
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=evaluation.closes_at)
    close_evaluation(session, evaluation, now=NOW)
    with pytest.raises(evaluations.EvaluationClosed):
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=NOW)
    assert (evaluation.respondents, other.respondents, _counts(session, evaluation)) == (0, 0, {})


def test_schema_and_rows_connect_no_answer_to_a_person(session):
    """The answer tables reference only the evaluation and the question; the token table knows no person
    and no time; after several answers, rows are listed by random keys and close rewrites them."""
    inspector = inspect(session.connection())
    forbidden = ("user", "invitee", "token", "person", "email", "ip", "_at", "time", "date", "created", "seq")

    def columns(table):
        return {c["name"] for c in inspector.get_columns(table)}

    def references(table):
        return {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}

    assert columns("evaluationcount") == {"evaluation_id", "question_id", "option", "n"}
    assert columns("evaluationcomment") == {"id", "evaluation_id", "question_id", "text", "released"}
    for table in ("evaluationcount", "evaluationcomment"):
        assert references(table) == {"evaluation", "evaluationquestion"}
        assert not [c for c in columns(table) if any(word in c for word in forbidden)]
    assert columns("evaluationtoken") == {"token_hash", "evaluation_id"}
    assert columns("evaluationspent") == {"marker", "evaluation_id"}
    assert columns("evaluationpendinganswer") == {"id", "evaluation_id", "sealed"}
    for table in ("evaluationtoken", "evaluationspent", "evaluationpendinganswer"):
        assert references(table) == {"evaluation"}
        assert not [c for c in columns(table) if any(word in c for word in forbidden if word != "token")]
    # The comment key is random text, not a sequence.
    assert [
        c["type"].python_type for c in inspector.get_columns("evaluationcomment") if c["name"] == "id"
    ] == [str]

    _, meeting, _ = _meeting_with_attendees(session, attendees=6)
    evaluation, issued = open_with_tokens(session, meeting)
    texts = [f"Kommentar nummer {i}" for i in range(6)]
    for token, comment in zip(sorted(issued.values()), texts, strict=True):
        submit_answers(session, evaluation, token, {**ANSWERS_ALL_FULLY, 7: comment}, now=NOW)
    assert count_pool(session, evaluation, min_batch=3) == 6
    session.commit()
    rows = session.exec(select(EvaluationComment.id, EvaluationComment.text)).all()
    assert sorted(t for _, t in rows) == texts
    assert all(len(key) == 32 and int(key, 16) >= 0 for key, _ in rows)
    before = {key for key, _ in rows}
    assert close_evaluation(session, evaluation, now=NOW)
    session.commit()
    after = session.exec(select(EvaluationComment.id, EvaluationComment.text)).all()
    assert sorted(t for _, t in after) == texts and not before & {key for key, _ in after}
    pending = evaluations.pending_comments(
        session, evaluation_consultation(session, evaluation), min_respondents=3
    )
    assert [p.comment.id for p in pending] == sorted(key for key, _ in after)
    assert session.exec(select(EvaluationToken)).all() == []
    assert _counts(session, evaluation) == {(n, "agree_fully"): 6 for n in range(1, 7)}
    # Undelivered mail still holds its link until it is sent (see the delivery test above).
    _assert_no_token_anywhere(session, issued.values(), skip={"outboxmessage"})


def evaluation_consultation(session, evaluation):
    from samrad.models import Consultation, Meeting

    return session.get(Consultation, session.get(Meeting, evaluation.meeting_id).consultation_id)


# --- Concurrency (both databases, real connections) ------------------------------------------------


def _submit_concurrently(app, evaluation_id, tokens):
    engine = app.extensions["samrad.engine"]
    barrier = threading.Barrier(len(tokens))
    outcomes = []

    def one(token):
        with Session(engine, expire_on_commit=False) as s:
            evaluation = s.get(Evaluation, evaluation_id)
            s.rollback()  # end the read (on SQLite every transaction takes the write lock), then race
            barrier.wait(timeout=60)
            try:
                submit_answers(s, evaluation, token, {**ANSWERS_ALL_FULLY, 7: "Bra"}, now=NOW)
                s.commit()
                outcomes.append("ok")
            except evaluations.TokenUsed:
                s.rollback()
                outcomes.append("used")

    threads = [threading.Thread(target=one, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_concurrent_answers_all_count_once_and_a_doubled_token_counts_once(shared_db_app):
    with shared_db_app.app_context(), db.session_scope() as s:
        _, meeting, _ = _meeting_with_attendees(s, attendees=9)
        evaluation, issued = open_with_tokens(s, meeting)
        evaluation_id = evaluation.id
    tokens = sorted(issued.values())
    distinct, doubled = tokens[:8], tokens[8]
    assert _submit_concurrently(shared_db_app, evaluation_id, distinct) == ["ok"] * 8
    assert _submit_concurrently(shared_db_app, evaluation_id, [doubled] * 4) == ["ok", "used", "used", "used"]
    with shared_db_app.app_context(), db.session_scope() as s:
        evaluation = s.get(Evaluation, evaluation_id)
        assert evaluation.respondents == 9
        assert len(s.exec(select(EvaluationSpent)).all()) == 9
        assert count_pool(s, evaluation, min_batch=None) == 9
        assert _counts(s, evaluation) == {(n, "agree_fully"): 9 for n in range(1, 7)}
        assert len(s.exec(select(EvaluationComment)).all()) == 9


def test_counting_the_pool_while_people_answer_loses_and_doubles_nothing(shared_db_app):
    """Answers and batch counts race on real connections; a count that is killed (rolled back) leaves
    the pool as it was. At the end every answer is counted exactly once."""
    with shared_db_app.app_context(), db.session_scope() as s:
        _, meeting, _ = _meeting_with_attendees(s, attendees=8)
        evaluation, issued = open_with_tokens(s, meeting)
        evaluation_id = evaluation.id
    engine = shared_db_app.extensions["samrad.engine"]
    tokens = sorted(issued.values())
    barrier = threading.Barrier(len(tokens) + 3)
    counted = []

    def answer(token):
        with Session(engine, expire_on_commit=False) as s:
            evaluation = s.get(Evaluation, evaluation_id)
            s.rollback()
            barrier.wait(timeout=60)
            submit_answers(s, evaluation, token, {**ANSWERS_ALL_FULLY, 7: "Bra"}, now=NOW)
            s.commit()

    def count(killed):
        with Session(engine, expire_on_commit=False) as s:
            evaluation = s.get(Evaluation, evaluation_id)
            s.rollback()
            barrier.wait(timeout=60)
            n = count_pool(s, evaluation, min_batch=1)
            if killed:
                s.rollback()
            else:
                s.commit()
                counted.append(n)

    threads = [threading.Thread(target=answer, args=(t,)) for t in tokens]
    threads += [threading.Thread(target=count, args=(killed,)) for killed in (False, True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with shared_db_app.app_context(), db.session_scope() as s:
        evaluation = s.get(Evaluation, evaluation_id)
        counted.append(count_pool(s, evaluation, min_batch=None))
        assert sum(counted) == 8
        assert s.exec(select(EvaluationPendingAnswer)).all() == []
        assert _counts(s, evaluation) == {(n, "agree_fully"): 8 for n in range(1, 7)}
        assert len(s.exec(select(EvaluationComment)).all()) == 8


# --- Reminding and closing -------------------------------------------------------------------------


def test_the_reminder_goes_once_to_every_attendee_without_a_link(session):
    _, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting)
    submit_answers(session, evaluation, issued["deltagare0@kommun.example"], ANSWERS_ALL_FULLY, now=NOW)
    for message in session.exec(select(OutboxMessage)):
        session.delete(message)
    session.flush()
    assert evaluations.remind_evaluations(session, now=OPENED_AT + timedelta(days=1, hours=23)) == 0
    assert evaluations.remind_evaluations(session, now=OPENED_AT + timedelta(days=2)) == 1
    reminders = session.exec(select(OutboxMessage)).all()
    # Everyone, including the one who answered: the app does not know who did.
    assert sorted(m.recipient for m in reminders) == sorted(issued)
    for message in reminders:
        assert message.subject == "Påminnelse: utvärdering av mötet måndag 8 mars 2027"
        assert "/evaluation/" not in message.body_text + message.body_html
        assert not any(token in message.body_text for token in issued.values())
        assert "Om du redan har svarat: tack!" in message.body_text
    assert evaluations.remind_evaluations(session, now=OPENED_AT + timedelta(days=3)) == 0
    assert len(session.exec(select(OutboxMessage)).all()) == 3


def test_no_reminder_when_everyone_has_answered(session):
    _, meeting, _ = _meeting_with_attendees(session, attendees=2)
    evaluation, issued = open_with_tokens(session, meeting)
    for token in issued.values():
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=NOW)
    before = len(session.exec(select(OutboxMessage)).all())
    assert evaluations.remind_evaluations(session, now=OPENED_AT + timedelta(days=2)) == 1
    session.refresh(evaluation)
    assert evaluation.reminded_at == OPENED_AT + timedelta(days=2)
    assert len(session.exec(select(OutboxMessage)).all()) == before


def test_due_evaluations_close_and_forget_their_tokens(session):
    consultation, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting, open_for=timedelta(days=7))
    later = make_held_meeting(session, consultation, starts_at=MEETING_AT + timedelta(days=14))
    attend(session, later, email="gast@kommun.example")
    still_open, _ = open_with_tokens(session, later, now=OPENED_AT + timedelta(days=14))
    submit_answers(
        session, evaluation, issued["deltagare1@kommun.example"], {**ANSWERS_ALL_FULLY, 7: "Toppen!"}, now=NOW
    )
    assert close_due_evaluations(session, now=OPENED_AT + timedelta(days=7) - timedelta(seconds=1)) == 0
    assert close_due_evaluations(session, now=OPENED_AT + timedelta(days=7)) == 1
    assert close_due_evaluations(session, now=OPENED_AT + timedelta(days=7)) == 0
    session.refresh(evaluation)
    session.refresh(still_open)
    assert (evaluation.status, evaluation.closed_at, evaluation.respondents) == (
        EvaluationStatus.CLOSED,
        OPENED_AT + timedelta(days=7),
        1,
    )
    assert still_open.status == EvaluationStatus.OPEN
    assert session.exec(select(EvaluationToken.evaluation_id)).all() == [still_open.id]
    assert session.exec(select(EvaluationComment.text)).all() == ["Toppen!"]
    assert find_token(session, issued["deltagare0@kommun.example"]) is None


# --- The questionnaire -----------------------------------------------------------------------------


def test_the_norrbotten_form_is_version_one(session):
    consultation = make_consultation(session)
    assert evaluations.current_questionnaire(session, consultation) is None
    questionnaire = evaluations.ensure_questionnaire(session, consultation, now=NOW)
    assert (questionnaire.version, questionnaire.title) == (1, "Mötesutvärdering – regionalt samråd")
    assert [(q.number, q.kind, q.text) for q in questionnaire.questions] == [
        (1, QuestionKind.SCALE, "Alla fick komma till tals under mötet."),
        (2, QuestionKind.SCALE, "Samtalsklimatet var tillåtande"),
        (3, QuestionKind.SCALE, "Jag fick med mig nya kunskaper."),
        (4, QuestionKind.SCALE, "Jag blev påmind om kunskaper som jag har"),
        (5, QuestionKind.SCALE, "Jag delade med mig av sådant som hjälpt mig i mitt arbete"),
        (
            6,
            QuestionKind.SCALE,
            "Jag har möjlighet att ta med mig något från mötet tillbaka till ordinarie verksamhet.",
        ),
        (7, QuestionKind.TEXT, "Var det någonting som var oklart under dagens möte, i så fall vad?"),
    ]
    assert evaluations.ensure_questionnaire(session, consultation, now=NOW).id == questionnaire.id


def test_editing_the_form_makes_a_new_version_and_open_evaluations_keep_theirs(session):
    consultation, meeting, people = _meeting_with_attendees(session)
    first, issued = open_with_tokens(session, meeting)
    coordinator = people[0]
    drafts = [
        QuestionDraft(QuestionKind.SCALE, "Mötet  började i tid."),
        QuestionDraft(QuestionKind.TEXT, "Övrigt?"),
        QuestionDraft(QuestionKind.SCALE, "   "),
    ]
    second = evaluations.save_questionnaire(
        session, consultation, drafts, title="Kort utvärdering", base_version=1, actor=coordinator, now=NOW
    )
    assert (second.version, second.created_by_id) == (2, coordinator.id)
    assert [(q.number, q.text) for q in second.questions] == [(1, "Mötet började i tid."), (2, "Övrigt?")]
    # Unchanged: no new version.
    same = evaluations.save_questionnaire(
        session, consultation, drafts, title="Kort utvärdering", base_version=2, actor=coordinator, now=NOW
    )
    assert same.id == second.id
    with pytest.raises(evaluations.QuestionnaireChanged):
        evaluations.save_questionnaire(
            session, consultation, drafts[:1], title="X", base_version=1, actor=coordinator, now=NOW
        )
    with pytest.raises(evaluations.InvalidQuestionnaire) as invalid:
        evaluations.save_questionnaire(
            session,
            consultation,
            [QuestionDraft(QuestionKind.SCALE, "x" * 501)],
            title="",
            base_version=2,
            actor=coordinator,
            now=NOW,
        )
    assert invalid.value.problems == {0: "no_title", 1: "too_long"}
    # The open evaluation still asks the version-1 questions and takes version-1 answers.
    session.refresh(first)
    assert first.questionnaire.version == 1 and len(first.questionnaire.questions) == 7
    submit_answers(session, first, issued["deltagare0@kommun.example"], ANSWERS_ALL_FULLY, now=NOW)
    later = make_held_meeting(session, consultation, starts_at=MEETING_AT + timedelta(days=14))
    assert (
        evaluations.open_evaluation(
            session, later, now=NOW, open_for=timedelta(days=7), link_for=LINK
        ).questionnaire_id
        == second.id
    )
    assert [(q.version, n) for q, n in evaluations.questionnaire_versions(session, consultation)] == [
        (2, 1),
        (1, 1),
    ]
    assert len(session.exec(select(Questionnaire)).all()) == 2


# --- Moderation ------------------------------------------------------------------------------------


def test_comments_are_moderated_only_after_closing_and_removal_deletes_the_text(session):
    consultation, meeting, _ = _meeting_with_attendees(session)
    evaluation, issued = open_with_tokens(session, meeting)
    for i, token in enumerate(sorted(issued.values())[:2]):
        submit_answers(session, evaluation, token, {**ANSWERS_ALL_FULLY, 7: f"Svar {i}"}, now=NOW)
    count_pool(session, evaluation, min_batch=None)
    comment = session.exec(select(EvaluationComment)).first()
    with pytest.raises(evaluations.EvaluationStillOpen):
        evaluations.release_comment(session, comment)
    assert evaluations.pending_comments(session, consultation, min_respondents=3) == []
    close_evaluation(session, evaluation, now=NOW)
    pending = evaluations.pending_comments(session, consultation, min_respondents=3)
    assert sorted(p.comment.text for p in pending) == ["Svar 0", "Svar 1"]
    assert [p.comment.id for p in pending] == sorted(p.comment.id for p in pending)
    # Two answers are fewer than three: the meeting is not named next to its comments.
    assert [p.meeting_starts_at for p in pending] == [None, None]
    keep, drop = pending
    evaluations.release_comment(session, keep.comment)
    evaluations.remove_comment(session, drop.comment)
    assert session.exec(select(EvaluationComment.text, EvaluationComment.released)).all() == [
        (keep.comment.text, True)
    ]
    assert drop.comment.text not in [
        t for (t,) in session.execute(text("SELECT text FROM evaluationcomment"))
    ]


# --- Reports ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "total", "expected"),
    [(2, 3, "66.67"), (4, 7, "57.14"), (1, 6, "16.67"), (27, 28, "96.43"), (1, 8, "12.50"), (0, 0, "0.00")],
)
def test_percent_is_rounded_half_up_to_two_decimals(n, total, expected):
    assert evaluations.percent(n, total) == Decimal(expected)


def test_a_meeting_is_reported_alone_only_when_closed_and_answered_by_enough(session):
    _, meeting, _ = _meeting_with_attendees(session, attendees=3)
    evaluation, issued = open_with_tokens(session, meeting)
    tokens = sorted(issued.values())
    for token in tokens[:2]:
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=NOW)
    assert evaluations.meeting_report(session, evaluation, min_respondents=3) is None
    submit_answers(session, evaluation, tokens[2], {**ANSWERS_ALL_FULLY, 5: "disagree"}, now=NOW)
    assert evaluations.meeting_report(session, evaluation, min_respondents=3) is None  # still open
    close_evaluation(session, evaluation, now=NOW)
    report = evaluations.meeting_report(session, evaluation, min_respondents=3)
    assert report.respondents == 3
    q5 = report.questions[4]
    assert [(o.option.value, o.n, o.percent) for o in q5.options] == [
        ("agree_fully", 2, Decimal("66.67")),
        ("agree_partly", 0, Decimal("0.00")),
        ("disagree", 1, Decimal("33.33")),
    ]
    assert evaluations.meeting_report(session, evaluation, min_respondents=4) is None


def test_a_period_report_is_withheld_below_k_respondents_and_shows_every_cell_from_k(session):
    consultation, meeting, _ = _meeting_with_attendees(session, attendees=2)
    evaluation, issued = open_with_tokens(session, meeting)
    for token in issued.values():
        submit_answers(session, evaluation, token, ANSWERS_ALL_FULLY, now=NOW)
    close_evaluation(session, evaluation, now=NOW)
    period = between(date(2027, 3, 1), date(2027, 3, 31))
    withheld = evaluations.period_report(session, consultation, period, min_respondents=3)
    assert (withheld.shown, withheld.questions, withheld.comments) == (False, (), ())
    assert (withheld.meetings, withheld.respondents, withheld.hidden_meetings) == (0, 0, 1)
    shown = evaluations.period_report(session, consultation, period, min_respondents=2)
    assert shown.shown and shown.respondents == 2
    assert [(o.n, o.percent) for o in shown.questions[0].options] == [
        (2, Decimal("100.00")),
        (0, Decimal("0.00")),
        (0, Decimal("0.00")),
    ]
    outside = evaluations.period_report(
        session, consultation, between(date(2027, 3, 9), None), min_respondents=2
    )
    assert (outside.meetings, outside.shown) == (0, False)


# --- The published report --------------------------------------------------------------------------

#: The appendix of the Norrbotten final report, per statement: meeting -> (helt, delvis, inte) as (n, %).
APPENDIX = {
    1: {
        "191111": ((4, "80"), (1, "20"), (0, "0")),
        "191127": ((6, "100"), (0, "0"), (0, "0")),
        "191209": ((7, "100"), (0, "0"), (0, "0")),
        "200120": ((9, "100"), (0, "0"), (0, "0")),
    },
    2: {
        "191111": ((4, "80"), (1, "20"), (0, "0")),
        "191127": ((6, "100"), (0, "0"), (0, "0")),
        "191209": ((7, "100"), (0, "0"), (0, "0")),
        "200120": ((9, "100"), (0, "0"), (0, "0")),
    },
    3: {
        "191111": ((2, "40"), (3, "60"), (0, "0")),
        "191127": ((4, "66.67"), (2, "33.33"), (0, "0")),
        "191209": ((4, "57.14"), (3, "42.86"), (0, "0")),
        "200120": ((7, "77.78"), (2, "22.22"), (0, "0")),
    },
    4: {
        "191111": ((3, "60"), (2, "40"), (0, "0")),
        "191127": ((3, "50"), (3, "50"), (0, "0")),
        "191209": ((5, "71.43"), (2, "28.57"), (0, "0")),
        "200120": ((7, "77.78"), (2, "22.22"), (0, "0")),
    },
    5: {
        "191111": ((2, "40"), (2, "40"), (1, "20")),
        "191127": ((1, "16.67"), (3, "50"), (2, "33.33")),
        "191209": ((6, "85.71"), (0, "0"), (1, "14.29")),
        "200120": ((7, "77.78"), (2, "22.22"), (0, "0")),
    },
    6: {
        "191111": ((3, "60"), (2, "40"), (0, "0")),
        "191127": ((5, "83.33"), (1, "16.67"), (0, "0")),
        "191209": ((4, "57.14"), (3, "42.86"), (0, "0")),
        "200120": ((6, "66.67"), (3, "33.33"), (0, "0")),
    },
}
#: 200203 (one respondent) as published; it must never be shown on its own.
SINGLE_RESPONDENT = {1: (1, 0, 0), 2: (1, 0, 0), 3: (1, 0, 0), 4: (1, 0, 0), 5: (0, 1, 0), 6: (1, 0, 0)}
#: The combined totals over all five meetings (28 respondents): the sums of the appendix columns.
COMBINED = {
    1: ((27, "96.43"), (1, "3.57"), (0, "0")),
    2: ((27, "96.43"), (1, "3.57"), (0, "0")),
    3: ((18, "64.29"), (10, "35.71"), (0, "0")),
    4: ((19, "67.86"), (9, "32.14"), (0, "0")),
    5: ((16, "57.14"), (8, "28.57"), (4, "14.29")),
    6: ((19, "67.86"), (9, "32.14"), (0, "0")),
}
PUBLISHED_TEXTS = {
    "Toppen!",
    "Nej, fortsättning följer :)",
    "Mötet var bra. Klar och tydlig agenda.",
    "Klart och tydligt möte.",
    "Orsaken till varför vi inte kan få informationsmaterialet som vi väntat med spänning på "
    "i flera månader, och "
    "som kan vara till nytta för att få in intresserade, och förklara vad vi håller på med.",
    "Skulle vilja veta om utbildning Patriark erbjuds inom Norrbotten? Eller var/ när/ Hur?",
    "Utbildning inom Patriark aktuellt? Var, när, hur?",
}


def _as_published(options):
    return tuple((o.n, o.percent) for o in options)


def _published(cells):
    return tuple((n, Decimal(p).quantize(Decimal("0.01"))) for n, p in cells)


def test_the_demo_reproduces_the_published_combined_report(session):
    demo.seed_demo(session, seed=1)
    consultation = directory.consultation_by_slug(session, "una-norrbotten")
    report = evaluations.period_report(
        session, consultation, between(date(2019, 11, 1), date(2020, 2, 29)), min_respondents=3
    )
    # The pilot's combined report counted the meeting with one respondent too (28 answers in five
    # meetings), so its total minus the four meetings it showed gives that one person's answers. samrad
    # leaves such a meeting out of every report: 27 answers in four meetings.
    assert (report.shown, report.meetings, report.respondents, report.hidden_meetings) == (True, 4, 27, 1)
    assert [(q.number, q.answers) for q in report.questions] == [(n, 27) for n in range(1, 7)]
    for q in report.questions:
        published_sum = [sum(APPENDIX[q.number][m][i][0] for m in APPENDIX[q.number]) for i in range(3)]
        assert [o.n for o in q.options] == published_sum, q.number
        pilot_total = [n for n, _ in COMBINED[q.number]]
        assert [p - s for p, s in zip(pilot_total, published_sum, strict=True)] == list(
            SINGLE_RESPONDENT[q.number]
        )
    shown = {r.meeting.starts_at.astimezone(STOCKHOLM).strftime("%y%m%d"): r for r in report.meeting_reports}
    assert sorted(shown) == ["191111", "191127", "191209", "200120"]
    for number, per_meeting in APPENDIX.items():
        for meeting_code, cells in per_meeting.items():
            assert _as_published(shown[meeting_code].questions[number - 1].options) == _published(cells)
    assert {
        (r.meeting.starts_at.astimezone(STOCKHOLM).hour, r.meeting.status) for r in report.meeting_reports
    } == {(13, MeetingStatus.CLOSED)}
    # The meeting with a single respondent is never shown on its own.
    evaluations_by_day = {
        m.starts_at.astimezone(STOCKHOLM).strftime("%y%m%d"): e
        for e, m in evaluations.closed_evaluations(session, consultation)
    }
    assert evaluations_by_day["200203"].respondents == 1
    assert evaluations.meeting_report(session, evaluations_by_day["200203"], min_respondents=3) is None
    [(number, question, comments)] = report.comments
    assert (number, question) == (7, "Var det någonting som var oklart under dagens möte, i så fall vad?")
    assert set(comments) == PUBLISHED_TEXTS and len(comments) == 7
    assert [len(shown[m].comments[0][2]) for m in ("191111", "191127", "191209", "200120")] == [2, 1, 1, 3]


def test_report_rows_and_exports_hold_aggregates_only(session):
    demo.seed_demo(session, seed=1)
    consultation = directory.consultation_by_slug(session, "una-norrbotten")
    report = evaluations.period_report(
        session, consultation, between(date(2019, 11, 1), date(2020, 2, 29)), min_respondents=3
    )
    lines = evaluations.export_csv(report).splitlines()
    assert lines[0] == "question,question_text,option,option_label,n,percent"
    assert lines[1] == "1,Alla fick komma till tals under mötet.,agree_fully,Instämmer helt,26,96.30"
    assert (
        lines[15]
        == "5,Jag delade med mig av sådant som hjälpt mig i mitt arbete,disagree,Instämmer inte,4,14.81"
    )
    assert len(lines) == 1 + 6 * 3
    per_meeting = evaluations.export_csv(report, per_meeting=True).splitlines()
    assert len(per_meeting) == 1 + 6 * 3 * 5
    assert (
        per_meeting[19]
        == "2019-11-11,1,Alla fick komma till tals under mötet.,agree_fully,Instämmer helt,4,80.00"
    )
    assert not any("2020-02-03" in line for line in per_meeting)
    assert not any("Toppen" in line for line in per_meeting)
    rows = json.loads(evaluations.export_json(report))
    assert rows[12] == {
        "question": 5,
        "question_text": "Jag delade med mig av sådant som hjälpt mig i mitt arbete",
        "option": "agree_fully",
        "option_label": "Instämmer helt",
        "n": 16,
        "percent": 59.26,
    }


# --- Charts ----------------------------------------------------------------------------------------


def test_the_trend_chart_is_an_accessible_svg_with_the_numbers_in_its_bars():
    svg = str(
        stacked_percent_bars(
            chart_id="trend-1",
            title="1. Alla fick komma till tals",
            description="Staplar <per möte>",
            categories=["2019-11-11", "2019-11-27"],
            series=[
                Series("Instämmer helt", "chart-s1", [80.0, 100.0], ["80 % (4)", "100 % (6)"]),
                Series("Instämmer delvis", "chart-s2", [20.0, 0.0], ["20 % (1)", "0 % (0)"]),
            ],
        )
    )
    assert svg.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 640 260" role="img" '
        'aria-labelledby="trend-1-title" aria-describedby="trend-1-desc">'
    )
    assert '<title id="trend-1-title">1. Alla fick komma till tals</title>' in svg
    assert '<desc id="trend-1-desc">Staplar &lt;per möte&gt;</desc>' in svg
    assert svg.count("<rect ") == 3  # a zero share draws nothing
    assert "<title>2019-11-11: Instämmer helt 80 % (4)</title>" in svg
    assert "<title>2019-11-11: Instämmer delvis 20 % (1)</title>" in svg
    assert "style=" not in svg and "<script" not in svg
