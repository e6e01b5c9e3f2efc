import base64
import json
import logging
import re
import zlib
from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import event
from sqlmodel import select

from samrad import db, demo, keys
from samrad.clock import STOCKHOLM
from samrad.enums import Attendance
from samrad.models import (
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationSpent,
    EvaluationToken,
    Meeting,
    OutboxMessage,
    UserSession,
    utcnow,
)
from samrad.sealing import Sealer
from samrad.services import evaluations
from samrad.tokens import token_hash
from tests.conftest import TEST_SECRET, csrf_from
from tests.factories import (
    ANSWERS_ALL_FULLY,
    PASSWORD,
    attend,
    make_consultation,
    make_held_meeting,
    make_meeting,
    make_user,
    open_with_tokens,
)

#: The app's own answer sealer (keyed from the test configuration's SECRET_KEY).
APP_SEALER = Sealer([TEST_SECRET], keys.ANSWERS)

SLUG = "una-norrbotten"


def _setup(web_session, *, attendees=3):
    consultation = make_consultation(web_session, slug=SLUG, name="Una Norrbotten")
    make_user(
        web_session,
        name="Sanna Samordnare",
        email="samordnare@kommun.example",
        roles=["coordinator"],
        consultation=consultation,
    )
    make_user(
        web_session,
        name="Stina Statistik",
        email="statistik@lansstyrelsen.example",
        roles=["statistics_viewer"],
        consultation=consultation,
    )
    make_user(web_session, email="admin@region.example", is_admin=True)
    meeting = make_held_meeting(web_session, consultation, starts_at=utcnow() - timedelta(hours=3))
    names = ("Karin Lantto", "Per Öberg", "Elin Niemi", "Jonas Rova")
    for i in range(attendees):
        person = make_user(
            web_session,
            name=names[i],
            email=f"deltagare{i}@kommun.example",
            roles=["member"],
            consultation=consultation,
        )
        attend(web_session, meeting, person)
    web_session.commit()
    return consultation, meeting


def _open(app, meeting_id):
    """Open the evaluation (as closing the meeting will) and return its public id and {address: token}."""
    with app.app_context(), db.session_scope() as s:
        evaluation, issued = open_with_tokens(s, s.get(Meeting, meeting_id), now=utcnow())
        return evaluation.public_id, issued


def _close(app, public_id):
    with app.app_context(), db.session_scope() as s:
        evaluation = evaluations.evaluation_by_public_id(s, public_id)
        evaluations.close_evaluation(s, evaluation, now=utcnow(), sealer=keys.sealer(keys.ANSWERS))


def _answer_page(client, token):
    landing = client.get(f"/evaluation/{token}")
    assert landing.status_code == 303
    return landing.headers["Location"], client.get(landing.headers["Location"])


def _post(client, path, page, answers, **extra):
    data = {f"q{n}": v for n, v in answers.items()}
    data.update(extra)
    data["csrf_token"] = csrf_from(page.get_data(as_text=True))
    return client.post(path, data=data)


def _sealed(token, public_id, *, hours=1):
    """The answer token as the app keeps it in the cookie (sealed, bound to the evaluation)."""
    until = int((utcnow() + timedelta(hours=hours)).timestamp())
    value = json.dumps({"token": token, "until": until}).encode()
    return Sealer([TEST_SECRET], keys.ANSWER_COOKIE).seal(value, bound_to=public_id)


def test_the_cookie_holds_the_token_sealed_and_only_for_a_while(client, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    token = issued["deltagare0@kommun.example"]
    _answer_page(client, token)
    # Flask's session cookie is only signed: anyone holding it can read it. The token is not in it.
    raw_cookie = client.get_cookie("samrad_session").value
    compressed = raw_cookie.startswith(".")  # itsdangerous: [.]payload.timestamp.signature
    payload = raw_cookie.lstrip(".").split(".")[0]
    readable = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if compressed:
        readable = zlib.decompress(readable)
    assert b"evaluation_tokens" in readable and token.encode() not in readable
    with client.session_transaction() as cookie:
        held = cookie["evaluation_tokens"][public_id]
    assert token not in held
    # A plain token planted in the cookie, an expired sealed one, or one sealed for another evaluation:
    # none opens the form.
    for planted in (token, _sealed(token, public_id, hours=-1), _sealed(token, "another-evaluation")):
        with client.session_transaction() as cookie:
            cookie["evaluation_tokens"] = {public_id: planted}
        page = client.get(f"/evaluations/answer/{public_id}")
        assert page.status_code == 400 and "Öppna länken i ditt mejl" in page.get_data(as_text=True)
    with client.session_transaction() as cookie:
        cookie["evaluation_tokens"] = {public_id: _sealed(token, public_id)}
    assert client.get(f"/evaluations/answer/{public_id}").status_code == 200


def _state(web_session, public_id):
    """(respondents, counted, tokens used, comments), after counting the pool as the scheduler would."""
    web_session.expire_all()
    evaluation = web_session.exec(select(Evaluation).where(Evaluation.public_id == public_id)).one()
    evaluations.count_pool(web_session, evaluation, sealer=APP_SEALER, min_batch=None)
    web_session.commit()
    counted = sum(
        web_session.exec(select(EvaluationCount.n).where(EvaluationCount.evaluation_id == evaluation.id))
    )
    used = len(
        web_session.exec(select(EvaluationSpent).where(EvaluationSpent.evaluation_id == evaluation.id)).all()
    )
    comments = web_session.exec(select(EvaluationComment.text)).all()
    return evaluation.respondents, counted, used, comments


# --- The respondent ---------------------------------------------------------------------------------


def test_the_mail_link_leads_to_a_token_free_form_that_explains_what_is_stored(client, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    token = issued["deltagare0@kommun.example"]
    path, page = _answer_page(client, token)
    assert path == f"/evaluations/answer/{public_id}" and token not in path
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert token not in html
    assert "<h1>Mötesutvärdering – regionalt samråd</h1>" in html
    assert html.count("<fieldset") == 6 and html.count('type="radio"') == 18
    assert "<legend>1. Alla fick komma till tals under mötet.</legend>" in html
    assert '<label for="q1-0">Instämmer helt</label>' in html
    assert (
        '<label for="q7">7. Var det någonting som var oklart under dagens möte, i så fall vad?</label>'
        in html
    )
    assert "Anonymt: det här sparas och det här ser andra" in html
    assert "inget namn, ingen e-postadress, organisation, tidpunkt eller länk" in html
    assert "bara om minst 3 personer har svarat" in html
    assert "Samordnaren läser fritexten innan den kommer med i någon rapport" in html
    assert "<script>" not in html and "style=" not in html


def test_the_form_names_the_meeting_from_one_statement_and_reads_no_agenda(client, app, web_session):
    consultation, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    path, _ = _answer_page(client, issued["deltagare0@kommun.example"])
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    with app.app_context():
        engine = db.get_engine()
        event.listen(engine, "before_cursor_execute", record)
        try:
            html = client.get(path).get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    day = format_date(meeting.starts_at.astimezone(STOCKHOLM).date(), "EEEE d MMMM y", locale="sv")
    assert f'<p class="lead">Una Norrbotten, mötet {day}</p>' in html
    # The evaluation with the consultation's name and the meeting's date, its questions: no agenda.
    assert [re.search(r"\bFROM (\w+)", st).group(1) for st in statements if st.startswith("SELECT")] == [
        "evaluation",
        "evaluationquestion",
    ]
    assert not any(re.search(r"\bagendaitem\b|\bcase_record\b", st) for st in statements)


def test_answering_counts_once_and_the_link_then_says_already_answered(client, app, web_session, caplog):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    token = issued["deltagare0@kommun.example"]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        path, page = _answer_page(client, token)
        response = _post(client, path, page, {**ANSWERS_ALL_FULLY, 5: "disagree", 7: "Tydlig agenda."})
    # The app logs nothing about an answer (the access log line is the server's, with the token redacted).
    assert [r for r in caplog.records if r.name.startswith("samrad")] == []
    assert (response.status_code, response.headers["Location"]) == (303, "/evaluations/thanks")
    thanks = client.get("/evaluations/thanks")
    assert "Dina svar är sparade, och inget kopplar dem till dig." in thanks.get_data(as_text=True)
    assert _state(web_session, public_id) == (1, 6, 1, ["Tydlig agenda."])
    # The same link again, and the form again (the browser's back button): friendly, nothing counted.
    again = client.get(f"/evaluation/{token}")
    assert again.status_code == 409 and "Du har redan svarat" in again.get_data(as_text=True)
    form_again = client.get(path)
    assert form_again.status_code == 400 and "Öppna länken i ditt mejl" in form_again.get_data(as_text=True)
    assert _state(web_session, public_id) == (1, 6, 1, ["Tydlig agenda."])


def test_an_answer_is_checked_before_its_change_takes_the_write_lock(client, app, web_session):
    """On SQLite the answer's one write transaction begins with taking the evaluation row: the
    evaluation, the colleagues' names and the guard's check are read and done before, in transactions
    that only read; an answer refused at the field takes no write lock at all."""
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        statements.append(" ".join(statement.split()))

    def post(token, answers):
        path, page = _answer_page(client, token)
        statements.clear()
        with app.app_context():
            engine = db.get_engine()
        event.listen(engine, "before_cursor_execute", record)
        try:
            return _post(client, path, page, answers)
        finally:
            event.remove(engine, "before_cursor_execute", record)

    refused = post(
        issued["deltagare0@kommun.example"], {**ANSWERS_ALL_FULLY, 7: "Ring Anna på 070-123 45 67."}
    )
    assert refused.status_code == 400
    assert "BEGIN IMMEDIATE" not in statements and statements.count("BEGIN") == 2
    assert _state(web_session, public_id)[:2] == (0, 0)

    answered = post(issued["deltagare1@kommun.example"], {**ANSWERS_ALL_FULLY, 7: "Tydlig agenda."})
    assert answered.status_code == 303
    assert [st for st in statements if st.startswith("BEGIN")] == ["BEGIN", "BEGIN", "BEGIN IMMEDIATE"]
    change = statements[statements.index("BEGIN IMMEDIATE") + 1 :]
    assert change[0].startswith("SAVEPOINT") and change[1].startswith("UPDATE evaluation SET respondents")
    assert _state(web_session, public_id)[:2] == (1, 6)


def test_a_double_submit_counts_once(client, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    path, page = _answer_page(client, issued["deltagare1@kommun.example"])
    # Two tabs hold the same token: the second post finds it used.
    with client.session_transaction() as cookie:
        held = dict(cookie["evaluation_tokens"])
    assert _post(client, path, page, ANSWERS_ALL_FULLY).status_code == 303
    with client.session_transaction() as cookie:
        cookie["evaluation_tokens"] = held
    second = _post(client, path, page, ANSWERS_ALL_FULLY)
    assert second.status_code == 409 and "Du har redan svarat" in second.get_data(as_text=True)
    assert _state(web_session, public_id)[:2] == (1, 6)


def test_bad_answers_get_messages_next_to_the_fields_and_store_nothing(client, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    path, page = _answer_page(client, issued["deltagare0@kommun.example"])
    response = _post(
        client,
        path,
        page,
        {1: "agree_fully", 2: "maybe", 3: "agree_fully", 4: "agree_fully", 5: "agree_fully", 7: "x" * 2001},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        '<p class="error" id="q2-error">\n      <span>Det svaret finns inte bland alternativen. Välj ett av '
        "svarsalternativen.</span>" in html
    )
    assert '<p class="error" id="q6-error">\n      <span>Välj ett av svarsalternativen.</span>' in html
    assert "Skriv högst 2000 tecken (du skrev 2001)." in html and 'id="q7-error"' in html
    assert (
        'id="q1-error"' not in html
        and '<input checked id="q1-0" name="q1" type="radio" value="agree_fully">' in html
    )
    assert _state(web_session, public_id) == (0, 0, 0, [])
    # Identifying text is refused; a colleague's name needs a second look and a tick.
    identifying = _post(client, path, page, {**ANSWERS_ALL_FULLY, 7: "Mejla anna@kommun.example"})
    assert (
        "Texten innehåller en e-postadress (”anna@kommun.example”). Ta bort det och skicka igen"
        in identifying.get_data(as_text=True)
    )
    colleague = _post(client, path, page, {**ANSWERS_ALL_FULLY, 7: "Tack Karin för ett bra möte"})
    html = colleague.get_data(as_text=True)
    assert colleague.status_code == 400
    assert "Texten kan innehålla namnet på en kollega (”Karin”)." in html
    assert 'name="confirm_text"' in html
    assert _state(web_session, public_id) == (0, 0, 0, [])
    confirmed = _post(
        client, path, page, {**ANSWERS_ALL_FULLY, 7: "Tack Karin för ett bra möte"}, confirm_text="y"
    )
    assert confirmed.status_code == 303
    assert _state(web_session, public_id) == (1, 6, 1, ["Tack Karin för ett bra möte"])


def test_unknown_links_foreign_tokens_and_missing_tokens_get_friendly_pages(client, app, web_session):
    consultation, meeting = _setup(web_session)
    other = make_held_meeting(web_session, consultation, starts_at=utcnow() - timedelta(days=14))
    attend(web_session, other, email="gast@kommun.example")
    web_session.commit()
    public_id, _ = _open(app, meeting.id)
    _, other_issued = _open(app, other.id)
    unknown = client.get("/evaluation/" + "A" * 43)
    assert unknown.status_code == 404 and "Länken fungerar inte" in unknown.get_data(as_text=True)
    no_token = client.get(f"/evaluations/answer/{public_id}")
    assert no_token.status_code == 400 and "Öppna länken i ditt mejl" in no_token.get_data(as_text=True)
    assert client.get("/evaluations/answer/finns-inte").status_code == 404
    # A token of the other meeting held for this one (e.g. an old tab): refused, nothing stored.
    with client.session_transaction() as cookie:
        cookie["evaluation_tokens"] = {public_id: _sealed(other_issued["gast@kommun.example"], public_id)}
    page = client.get(f"/evaluations/answer/{public_id}")
    response = _post(client, f"/evaluations/answer/{public_id}", page, ANSWERS_ALL_FULLY)
    assert response.status_code == 409 and "Länken hör till ett annat möte" in response.get_data(as_text=True)
    assert _state(web_session, public_id)[:2] == (0, 0)


def test_a_form_posted_after_the_evaluation_closed_stores_nothing(client, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    path, page = _answer_page(client, issued["deltagare0@kommun.example"])
    _close(app, public_id)
    response = _post(client, path, page, ANSWERS_ALL_FULLY)
    assert response.status_code == 410
    assert "Utvärderingen av det här mötet tar inte längre emot svar. Inget sparades." in response.get_data(
        as_text=True
    )
    assert _state(web_session, public_id) == (0, 0, 0, [])
    # The mail link after closing: the tokens are gone.
    assert client.get(f"/evaluation/{issued['deltagare1@kommun.example']}").status_code == 404


def test_a_logged_in_respondent_stays_anonymous(client, auth, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    auth.login("deltagare0@kommun.example", PASSWORD)
    row = web_session.exec(select(UserSession)).one()
    long_ago = utcnow() - timedelta(minutes=10)
    row.last_seen_at = long_ago
    web_session.commit()
    path, page = _answer_page(client, issued["deltagare0@kommun.example"])
    html = page.get_data(as_text=True)
    assert "Karin Lantto" not in html and "Logga in" in html and "Logga ut" not in html
    assert _post(client, path, page, ANSWERS_ALL_FULLY).status_code == 303
    web_session.expire_all()
    assert web_session.exec(select(UserSession)).one().last_seen_at == long_ago
    # Any ordinary page does record the activity; the evaluation pages are the exception.
    client.get("/")
    web_session.expire_all()
    assert web_session.exec(select(UserSession)).one().last_seen_at > long_ago
    assert _state(web_session, public_id)[0] == 1


# --- Coordinator and statistics pages ----------------------------------------------------------------


def test_reports_are_for_coordinators_and_statistics_viewers_not_admins(client, auth, app, web_session):
    _, meeting = _setup(web_session)
    public_id, _ = _open(app, meeting.id)
    paths = [
        f"/c/{SLUG}/evaluations",
        f"/c/{SLUG}/evaluations/report",
        f"/c/{SLUG}/evaluations/{public_id}",
        f"/c/{SLUG}/evaluations/report.csv",
    ]
    coordinator_only = [f"/c/{SLUG}/evaluations/comments", f"/c/{SLUG}/evaluations/questionnaire"]
    assert [client.get(p).status_code for p in paths + coordinator_only] == [302] * 6
    auth.login("deltagare0@kommun.example", PASSWORD)
    assert [client.get(p).status_code for p in paths + coordinator_only] == [403] * 6
    auth.logout()
    auth.login("statistik@lansstyrelsen.example", PASSWORD)
    assert [client.get(p).status_code for p in paths] == [200, 200, 200, 409]
    assert [client.get(p).status_code for p in coordinator_only] == [403, 403]
    auth.logout()
    auth.login("samordnare@kommun.example", PASSWORD)
    assert [client.get(p).status_code for p in paths + coordinator_only] == [200, 200, 200, 409, 200, 200]
    auth.logout()
    # The administrator runs the register: no reports and, above all, no unreviewed comments (issue G).
    auth.login("admin@region.example", PASSWORD)
    assert [client.get(p).status_code for p in paths + coordinator_only] == [403] * 6
    auth.logout()
    auth.login("samordnare@kommun.example", PASSWORD)
    assert client.get("/c/finns-inte/evaluations").status_code == 404
    assert client.get(f"/c/{SLUG}/evaluations/finns-inte").status_code == 404


def test_no_counts_are_shown_while_open_and_a_small_meeting_is_never_shown_alone(
    client, auth, app, web_session
):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    for token in sorted(issued.values())[:2]:
        path, page = _answer_page(client, token)
        _post(client, path, page, ANSWERS_ALL_FULLY)
    auth.login("samordnare@kommun.example", PASSWORD)
    index = client.get(f"/c/{SLUG}/evaluations").get_data(as_text=True)
    assert "Visas när den har stängt" in index and "2 svar" not in index
    report = client.get(f"/c/{SLUG}/evaluations/{public_id}").get_data(as_text=True)
    assert "Resultatet visas när den har stängt." in report and "Instämmer helt" not in report
    _close(app, public_id)
    index = client.get(f"/c/{SLUG}/evaluations").get_data(as_text=True)
    assert "Färre än 3 svar: ingår bara i rapporter över flera möten" in index
    report = client.get(f"/c/{SLUG}/evaluations/{public_id}").get_data(as_text=True)
    assert "Färre än 3 personer svarade" in report and "<table" not in report
    period = client.get(f"/c/{SLUG}/evaluations/report").get_data(as_text=True)
    assert "Rapporten visas inte" in period and "<table" not in period
    export = client.get(f"/c/{SLUG}/evaluations/report.csv")
    assert export.status_code == 409 and export.mimetype == "text/html"


def _demo(app, web_session):
    with app.app_context(), db.session_scope() as s:
        demo.seed_demo(s, seed=3, password=PASSWORD)


def test_the_period_report_shows_the_published_numbers_with_chart_and_table(client, auth, app, web_session):
    _demo(app, web_session)
    auth.login("statistik@demo.samrad.example", PASSWORD)
    response = client.get(f"/c/{SLUG}/evaluations/report?first=2019-11-01&last=2020-02-29")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Antal som svarade: 27, vid 4 utvärderade möten." in html
    assert (
        "Möten där färre än 3 svarade är inte med i rapporten, så att ingens svar kan räknas fram genom att "
        "jämföra perioder: 1." in html
    )
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 6
    # The tooltip formats the share like the table does (decimal comma, no-break space before %).
    assert "<title>27 nov. 2019: Instämmer delvis 50\u00a0% (3)</title>" in html
    assert "<td>26 (96,3\xa0%)</td><td>1 (3,7\xa0%)</td><td>0 (0\xa0%)</td>" in html
    assert "<td>16 (59,26\xa0%)</td><td>7 (25,93\xa0%)</td><td>4 (14,81\xa0%)</td>" in html
    assert "<td>1 (16,67\xa0%)</td><td>3 (50\xa0%)</td><td>2 (33,33\xa0%)</td>" in html
    assert ">11 nov. 2019</a>" in html and "3 feb. 2020" not in html
    assert "Godkända svar: 7" in html and "Klart och tydligt möte." in html
    # Nobody's name or e-mail appears, though the demo accounts exist.
    names = [n for n in demo.person_names(seed=3, count=15)]
    assert not [n for n in names if n in html] and "@demo.samrad.example" not in html.split("<main")[1]


def test_the_csv_export_holds_the_aggregates_only(client, auth, app, web_session):
    _demo(app, web_session)
    auth.login("samordnare@demo.samrad.example", PASSWORD)
    response = client.get(f"/c/{SLUG}/evaluations/report.csv?first=2019-11-01&last=2020-02-29")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        response.headers["Content-Disposition"]
        == 'attachment; filename="utvardering-una-norrbotten-2019-11-01-2020-02-29.csv"'
    )
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "meeting,question,question_text,option,option_label,n,percent"
    assert lines[1] == ",1,Alla fick komma till tals under mötet.,agree_fully,Instämmer helt,26,96.30"
    assert len(lines) == 1 + 18 * 5
    assert "Toppen" not in response.get_data(as_text=True)


def test_a_meeting_report_shows_n_and_percent_per_option(client, auth, app, web_session):
    _demo(app, web_session)
    auth.login("samordnare@demo.samrad.example", PASSWORD)
    index = client.get(f"/c/{SLUG}/evaluations").get_data(as_text=True)
    links = re.findall(
        r'href="(/c/una-norrbotten/evaluations/[0-9a-f]{32})">(\d+) svar – visa resultatet', index
    )
    assert [n for _, n in links] == ["9", "7", "6", "5"]
    assert index.count("Färre än 3 svar: ingår bara i rapporter över flera möten") == 1
    html = client.get(links[2][0]).get_data(as_text=True)
    assert "<h1>Utvärdering av mötet 27 nov. 2019</h1>" in html
    assert '<tr><th scope="row">Instämmer helt</th><td>4</td><td>66,67\xa0%</td></tr>' in html
    assert "Mötet var bra. Klar och tydlig agenda." in html and "Toppen!" not in html


def test_the_coordinator_releases_or_deletes_free_text(client, auth, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    for token, text in zip(
        sorted(issued.values()), ["Bra möte.", "Per pratade för länge.", "Toppen!"], strict=True
    ):
        path, page = _answer_page(client, token)
        assert _post(client, path, page, {**ANSWERS_ALL_FULLY, 7: text}, confirm_text="y").status_code == 303
    auth.login("samordnare@kommun.example", PASSWORD)
    assert "Det finns inget att granska." in client.get(f"/c/{SLUG}/evaluations/comments").get_data(
        as_text=True
    )
    _close(app, public_id)
    page = client.get(f"/c/{SLUG}/evaluations/comments")
    html = page.get_data(as_text=True)
    # Marked and explained the way the case form does it (one partial for both).
    assert (
        '<p class="guard-preview"><mark class="finding finding-warn"><span class="visually-hidden">'
        "Början på fynd 1: </span>Per<sup"
    ) in html
    assert "<strong>Namn på en kollega</strong> (kontrollera):" in html
    keys = {text: key for key, text in web_session.exec(select(EvaluationComment.id, EvaluationComment.text))}
    released = auth.post(
        f"/c/{SLUG}/evaluations/comments/{keys['Bra möte.']}/release",
        token_from=f"/c/{SLUG}/evaluations/comments",
        headers={"HX-Request": "true"},
    )
    assert released.status_code == 200 and "HX-Request" in released.headers["Vary"]
    assert (
        released.get_data(as_text=True).strip()
        == '<li class="card comment" role="status" tabindex="-1" data-announce data-focus-here>'
        "Godkänd: kommentaren kommer med i rapporterna.</li>"
    )
    removed = auth.post(
        f"/c/{SLUG}/evaluations/comments/{keys['Per pratade för länge.']}/remove",
        token_from=f"/c/{SLUG}/evaluations/comments",
    )
    assert (removed.status_code, removed.headers["Location"]) == (303, f"/c/{SLUG}/evaluations/comments")
    web_session.expire_all()
    assert sorted(web_session.exec(select(EvaluationComment.text, EvaluationComment.released))) == [
        ("Bra möte.", True),
        ("Toppen!", False),
    ]
    report = client.get(f"/c/{SLUG}/evaluations/{public_id}").get_data(as_text=True)
    assert "Bra möte." in report and "Toppen!" not in report and "pratade" not in report
    assert (
        auth.post(
            f"/c/{SLUG}/evaluations/comments/{'0' * 32}/release", token_from=f"/c/{SLUG}/evaluations/comments"
        ).status_code
        == 404
    )


def test_the_coordinator_opens_and_closes_an_evaluation(client, auth, app, web_session):
    consultation, meeting = _setup(web_session)
    planned = make_meeting(web_session, consultation, starts_at=utcnow() + timedelta(days=7))
    attend(web_session, meeting, email="franvarande@kommun.example", attendance=Attendance.ABSENT)
    web_session.commit()
    auth.login("samordnare@kommun.example", PASSWORD)
    index = f"/c/{SLUG}/evaluations"
    response = auth.post(f"/c/{SLUG}/meetings/{meeting.public_id}/evaluation", token_from=index)
    assert (response.status_code, response.headers["Location"]) == (303, index)
    web_session.expire_all()
    evaluation = web_session.exec(select(Evaluation)).one()
    assert sorted(m.recipient for m in web_session.exec(select(OutboxMessage))) == [
        "deltagare0@kommun.example",
        "deltagare1@kommun.example",
        "deltagare2@kommun.example",
    ]
    html = client.get(index).get_data(as_text=True)
    assert "Utvärderingen är öppen. Alla som deltog har fått en länk." in html
    again = auth.post(f"/c/{SLUG}/meetings/{meeting.public_id}/evaluation", token_from=index)
    assert "Utvärderingen av det här mötet är redan öppnad." in client.get(
        again.headers["Location"]
    ).get_data(as_text=True)
    assert (
        auth.post(f"/c/{SLUG}/meetings/{planned.public_id}/evaluation", token_from=index).status_code == 303
    )
    assert "Bara ett möte som har hållits kan utvärderas." in client.get(index).get_data(as_text=True)
    closed = auth.post(f"/c/{SLUG}/evaluations/{evaluation.public_id}/close", token_from=index)
    assert closed.status_code == 303
    web_session.expire_all()
    assert web_session.get(Evaluation, evaluation.id).status.value == "closed"
    assert web_session.exec(select(EvaluationToken)).all() == []
    auth.logout()
    auth.login("statistik@lansstyrelsen.example", PASSWORD)
    assert (
        auth.post(f"/c/{SLUG}/evaluations/{evaluation.public_id}/close", token_from=index).status_code == 403
    )


def test_the_coordinator_edits_the_form_as_a_new_version(client, auth, app, web_session):
    _, meeting = _setup(web_session)
    public_id, issued = _open(app, meeting.id)
    auth.login("samordnare@kommun.example", PASSWORD)
    path = f"/c/{SLUG}/evaluations/questionnaire"
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert 'name="questions-0-text"' in html and "Alla fick komma till tals under mötet." in html
    assert html.count('name="questions-') == 2 * (7 + 3)
    data = {
        "base_version": "1",
        "title": "Kort utvärdering",
        "csrf_token": csrf_from(html),
        "questions-0-text": "Mötet började i tid.",
        "questions-0-kind": "scale",
        "questions-1-text": "",
        "questions-1-kind": "scale",
        "questions-2-text": "Något mer?",
        "questions-2-kind": "text",
    }
    response = client.post(path, data=data)
    assert (response.status_code, response.headers["Location"]) == (303, path)
    assert "Sparat som version 2. Den används från och med nästa utvärdering." in client.get(path).get_data(
        as_text=True
    )
    # A stale editor does not overwrite the newer version.
    stale = client.post(path, data={**data, "title": "Annan"})
    assert "Någon annan sparade formuläret alldeles nyss." in client.get(stale.headers["Location"]).get_data(
        as_text=True
    )
    empty = client.post(
        path,
        data={
            "base_version": "2",
            "title": "Tom",
            "csrf_token": csrf_from(html),
            "questions-0-text": "",
            "questions-0-kind": "scale",
        },
    )
    assert empty.status_code == 400 and "Formuläret behöver minst en fråga." in empty.get_data(as_text=True)
    # The evaluation opened before the change still asks the Norrbotten questions.
    auth.logout()
    _, form = _answer_page(client, issued["deltagare0@kommun.example"])
    assert form.get_data(as_text=True).count("<fieldset") == 6


def test_the_evaluation_link_is_redacted_from_access_logs():
    from samrad.logs import redact

    token = "i37JY_6ATwsxFJ5rDzRqWrNFLapytgSZVFrIDOqpJAo"
    assert (
        redact(f'"GET /evaluation/{token} HTTP/1.1" 303 -') == '"GET /evaluation/[redacted] HTTP/1.1" 303 -'
    )
    # The form's own address names the meeting's evaluation, never a person, and is left as it is.
    assert (
        redact('"POST /evaluations/answer/0f1e2d3c4b5a69788796a5b4c3d2e1f0 HTTP/1.1" 303 -')
        == '"POST /evaluations/answer/0f1e2d3c4b5a69788796a5b4c3d2e1f0 HTTP/1.1" 303 -'
    )


def test_token_hashes_only(app, web_session):
    _, meeting = _setup(web_session)
    _, issued = _open(app, meeting.id)
    stored = set(web_session.exec(select(EvaluationToken.token_hash)))
    assert stored == {token_hash(t) for t in issued.values()}


def test_the_start_page_links_to_the_evaluations_for_coordinators_and_statistics_viewers(
    client, auth, web_session
):
    _setup(web_session)
    link = f'<a href="/c/{SLUG}/evaluations">Utvärderingar</a>'
    for email, shown in (
        ("samordnare@kommun.example", True),
        ("statistik@lansstyrelsen.example", True),
        ("deltagare0@kommun.example", False),
    ):
        auth.login(email, PASSWORD)
        assert (link in client.get("/").get_data(as_text=True)) is shown, email
        auth.logout()
