import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from samrad import db
from samrad.enums import CaseStatus, InviteeKind, MeetingStatus
from samrad.i18n import datetime_filter
from samrad.models import Case, OutboxMessage, StatisticsGeneration, utcnow
from tests.conftest import csrf_from
from tests.factories import (
    BACKGROUND,
    PASSWORD,
    QUESTIONS,
    make_agenda_item,
    make_case,
    make_consultation,
    make_invitee,
    make_meeting,
    make_municipality,
    make_organisation,
    make_user,
)

SLUG = "una-norrbotten"
HX = {"HX-Request": "true"}


@pytest.fixture
def world(web_session):
    s = web_session
    consultation = make_consultation(s, slug=SLUG, name="Una Norrbotten")
    kiruna = make_municipality(s, name="Kiruna")
    make_municipality(s, name="Luleå")
    make_municipality(s, name="Eslöv", county="Skåne län")
    org = make_organisation(s, name="Socialtjänsten, Kiruna kommun", municipality_id=kiruna.id)
    other_org = make_organisation(s, name="Socialtjänsten, Boden kommun")
    people = {
        "officer": make_user(
            s,
            email="handlaggare@kiruna.example",
            organisation=org,
            roles=["case_officer"],
            consultation=consultation,
        ),
        "colleague": make_user(
            s,
            email="kollega@kiruna.example",
            organisation=org,
            roles=["case_officer"],
            consultation=consultation,
        ),
        # The owning organisation, but a role only in another consultation: sees none of these cases.
        "colleague_elsewhere": make_user(
            s,
            email="kollega2@kiruna.example",
            organisation=org,
            roles=["case_officer"],
            consultation=make_consultation(s, slug="annat-samrad", name="Annat samråd"),
        ),
        "other": make_user(
            s,
            email="annan@boden.example",
            organisation=other_org,
            roles=["case_officer"],
            consultation=consultation,
        ),
        "coordinator": make_user(
            s, email="samordnare@freda.example", roles=["coordinator"], consultation=consultation
        ),
        "member": make_user(s, email="polis@polisen.example", roles=["member"], consultation=consultation),
        "admin": make_user(s, email="admin@samrad.example", is_admin=True),
    }
    s.commit()

    class World:
        pass

    w = World()
    w.consultation, w.kiruna, w.org, w.other_org, w.people = consultation, kiruna, org, other_org, people
    return w


def login(auth, world, who):
    auth.login(world.people[who].email, PASSWORD)


def form_data(world, **kw):
    data = {
        "acute": "no",
        "submission_key": "key-" + "a" * 28,
        "categories": ["honour_violence", "taken_abroad"],
        "sex": "female",
        "age_band": "13-17",
        "municipality": str(world.kiruna.id),
        "exposers": ["parent", "sibling"],
        "questions": QUESTIONS,
        "background": BACKGROUND,
        "risk_assessment": "patriark",
        "report_of_concern": "yes",
        "requested_meeting": "0",
        "presentation_minutes": "15",
        "presenter": "self",
        "presenter_email": "",
        "warnings_digest": "",
        "attest": "y",
        "action": "submit",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


NEW = f"/c/{SLUG}/cases/new"


def post_case(auth, world, **kw):
    return auth.post(NEW, form_data(world, **kw), token_from=NEW + "?acute=no")


def all_cases(web_session):
    web_session.expire_all()
    return web_session.exec(select(Case)).all()


# --- The acute question ------------------------------------------------------------------------------


def test_the_journey_starts_with_the_acute_question_and_the_duty_to_report(client, auth, world):
    login(auth, world, "officer")
    html = client.get(NEW).get_data(as_text=True)
    assert "Först: är det akut?" in html
    assert 'name="acute" required type="radio" value="yes"' in html
    assert 'name="acute" required type="radio" value="no"' in html
    assert "14 kap. 1 § SoL" in html
    assert 'name="background"' not in html


def test_acute_yes_ends_the_journey_with_guidance_and_stores_nothing(client, auth, world, web_session):
    login(auth, world, "officer")
    response = client.get(NEW + "?acute=yes")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Kontakta polisen eller vården direkt" in html and "112" in html and "1177" in html
    assert 'name="background"' not in html
    # Posting the full form with acute=yes stores nothing either.
    response = post_case(auth, world, acute="yes")
    assert "Kontakta polisen eller vården direkt" in response.get_data(as_text=True)
    assert all_cases(web_session) == []


def test_acute_step_is_a_partial_for_htmx(client, auth, world):
    login(auth, world, "officer")
    response = client.get(NEW + "?acute=no", headers=HX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="journey">') and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
    assert 'name="background"' in html and 'name="submission_key"' in html


def test_acute_question_must_be_answered(client, auth, world):
    login(auth, world, "officer")
    response = client.get(NEW + "?acute=")
    assert response.status_code == 400
    assert "Svara på om situationen är akut." in response.get_data(as_text=True)


# --- Registering -------------------------------------------------------------------------------------------


def test_form_offers_the_consultations_municipalities_and_open_meetings(client, auth, world, web_session):
    open_meeting = make_meeting(web_session, world.consultation, starts_at=utcnow() + timedelta(days=14))
    closed = make_meeting(web_session, world.consultation, starts_at=utcnow() + timedelta(days=3))
    web_session.commit()
    login(auth, world, "officer")
    html = client.get(NEW + "?acute=no").get_data(as_text=True)
    # The nearest meeting is not offered (its deadline has passed), and the form says so next to the list.
    with client.application.test_request_context():
        when = datetime_filter(closed.starts_at, "long")
        deadline = datetime_filter(closed.case_deadline_at, "long")
    assert (
        f'<p class="help" id="requested_meeting-help">Mötet {when} finns inte i listan: '
        f"sista dag för ärenden till det var {deadline}.</p>"
    ) in html
    assert 'aria-describedby="requested_meeting-help"' in html
    assert ">Kiruna</option>" in html and ">Luleå</option>" in html and "Eslöv" not in html
    assert f'<option selected value="{world.kiruna.id}">' in html  # the officer's own municipality
    assert len(re.findall(r'<option (?:selected )?value="\d+">[a-zåäö]+dag ', html)) == 1
    assert f'value="{open_meeting.id}"' in html
    assert "Närmast möjliga möte" in html


def test_submitting_stores_the_case_and_shows_its_reference(client, auth, world, web_session):
    login(auth, world, "officer")
    response = post_case(auth, world)
    [case] = all_cases(web_session)
    assert (response.status_code, response.headers["Location"]) == (303, f"/cases/{case.id}")
    assert (case.status, case.reference, case.organisation_id, case.officer_id) == (
        CaseStatus.SUBMITTED,
        f"UNA-{case.submitted_at.year}-001",
        world.org.id,
        world.people["officer"].id,
    )
    assert (case.attested_deidentified, case.overridden_findings, case.municipality_id) == (
        True,
        0,
        world.kiruna.id,
    )
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"Ärende {case.reference} har skickats till samordnaren." in html
    assert BACKGROUND in html and "Hedersrelaterat våld och förtryck" in html


def test_a_new_case_is_one_write_transaction_begun_after_its_checks(app, client, auth, world, web_session):
    """On SQLite a change holds the one write lock from its first statement to its commit (issue K): who
    is asking, the form's choices and its checks are read before, in transactions that only read; the
    change reads again what it depends on (the submission key, the requested meeting), and the statistics
    generation moves on inside it, not in a second write transaction after it. A form refused at the
    field takes no write lock at all."""
    login(auth, world, "officer")
    token = auth.token(NEW + "?acute=no")
    before = web_session.exec(select(StatisticsGeneration.generation)).first()
    statements: list[str] = []
    with app.app_context():
        engine = db.get_engine()

    def post(**kw):
        statements.clear()
        listen = lambda *a: statements.append(" ".join(a[2].split()))  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            return client.post(NEW, data={**form_data(world, **kw), "csrf_token": token})
        finally:
            event.remove(engine, "before_cursor_execute", listen)

    refused = post(background="Ring mamman på 070-123 45 67.")
    assert refused.status_code == 400 and all_cases(web_session) == []
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN", "BEGIN"]

    response = post()
    assert response.status_code == 303
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN", "BEGIN", "BEGIN IMMEDIATE"]
    login_check = statements[1 : statements.index("BEGIN", 1)]
    assert len(login_check) == 1 and "FROM usersession" in login_check[0]
    change = statements[statements.index("BEGIN IMMEDIATE") + 1 :]
    assert "FROM case_record" in change[0] and "submission_key" in change[0]
    inserted = next(i for i, s in enumerate(change) if s.startswith("INSERT INTO case_record"))
    moved = [i for i, s in enumerate(change) if "statisticsgeneration" in s]
    assert moved and min(moved) > inserted and change[moved[0]].startswith("UPDATE statisticsgeneration")
    web_session.expire_all()
    after = web_session.exec(select(StatisticsGeneration.generation)).one()
    assert after != before
    [case] = all_cases(web_session)
    assert (case.status, case.reference) == (CaseStatus.SUBMITTED, f"UNA-{case.submitted_at.year}-001")


def test_a_new_case_and_a_change_scan_each_text_once(client, auth, world, web_session, monkeypatch):
    """The view runs the guard before the change begins and create_case / update_case take its result
    (tests/unit/test_cases.py: only for exactly the same texts)."""
    from samrad import deidentify

    scanned = []
    scan = deidentify.scan
    monkeypatch.setattr(deidentify, "scan", lambda text: scanned.append(text) or scan(text))
    login(auth, world, "officer")
    assert post_case(auth, world).status_code == 303
    assert sorted(t for t in scanned if t) == sorted([QUESTIONS, BACKGROUND])  # '': the empty form
    [case] = all_cases(web_session)
    edit = f"/cases/{case.id}/edit"
    token = auth.token(edit)
    scanned.clear()
    changed = form_data(world, background=BACKGROUND + " Hon vill gå i skolan.")
    assert client.post(edit, data={**changed, "csrf_token": token}).status_code == 303
    assert sorted(scanned) == sorted([QUESTIONS, BACKGROUND + " Hon vill gå i skolan."])


def test_the_same_form_posted_twice_creates_one_case(client, auth, world, web_session):
    login(auth, world, "officer")
    first = post_case(auth, world)
    second = post_case(auth, world)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(all_cases(web_session)) == 1


def test_saving_a_draft_needs_no_attestation_and_gets_no_reference(client, auth, world, web_session):
    login(auth, world, "officer")
    response = post_case(auth, world, action="draft", attest=None)
    [case] = all_cases(web_session)
    assert response.status_code == 303
    assert (case.status, case.reference) == (CaseStatus.DRAFT, None)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"questions": ""}, "questions", "Skriv vad du vill ha råd om."),
        ({"background": "   "}, "background", "Skriv en kort bakgrund."),
        ({"categories": None}, "categories", "Välj minst en form av våld."),
        ({"exposers": None}, "exposers", "Välj minst en, eller ”Någon annan”."),
        ({"age_band": "5-7"}, "age_band", "Välj en av åldersgrupperna i listan."),
        ({"age_band": None}, "age_band", "Välj en av åldersgrupperna i listan."),
        ({"sex": None}, "sex", "Välj flicka eller kvinna, pojke eller man, eller annat eller okänt."),
        ({"municipality": "0"}, "municipality", "Välj den kommun som ärendet gäller."),
        (
            {"presenter": "colleague", "presenter_email": ""},
            "presenter_email",
            "Skriv din kollegas e-postadress.",
        ),
        (
            {"presenter": "colleague", "presenter_email": "inte-en-adress"},
            "presenter_email",
            "Skriv en e-postadress, till exempel namn@kommun.se.",
        ),
        ({"questions": "x" * 2001}, "questions", "Skriv högst 2000 tecken."),
        ({"background": "x" * 4001}, "background", "Skriv högst 4000 tecken."),
        ({"attest": None}, "attest", "Intyga att ärendet är avidentifierat innan du skickar det."),
        ({"presentation_minutes": "45"}, "presentation_minutes", "Välj hur mycket tid du behöver."),
    ],
)
def test_bad_input_gives_a_message_at_the_field_and_stores_nothing(
    client, auth, world, web_session, change, field, message
):
    login(auth, world, "officer")
    response = post_case(auth, world, **change)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error">\s*<span>{re.escape(message)}</span>', html), html[:200]
    assert all_cases(web_session) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": MeetingStatus.CANCELLED}, "Det mötet är inställt."),
        ({"case_deadline_at": "past"}, "Sista dag för ärenden till det mötet har passerat."),
    ],
)
def test_a_meeting_cancelled_or_past_its_deadline_is_refused_at_the_field(
    client, auth, world, web_session, change, message
):
    meeting = make_meeting(web_session, world.consultation, starts_at=utcnow() + timedelta(days=14))
    web_session.commit()
    login(auth, world, "officer")
    page = client.get(NEW + "?acute=no").get_data(as_text=True)
    assert f'value="{meeting.id}"' in page
    # The coordinator cancels the meeting, or its deadline passes, while the form is open.
    if "status" in change:
        meeting.status = change["status"]
    else:
        meeting.case_deadline_at = utcnow() - timedelta(minutes=1)
    web_session.commit()
    response = auth.post(
        NEW, form_data(world, requested_meeting=str(meeting.id)), token_from=NEW + "?acute=no"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="requested_meeting-error"' in html and message in html
    assert all_cases(web_session) == []


def test_blocking_findings_refuse_with_the_text_kept_and_the_spans_marked(client, auth, world, web_session):
    login(auth, world, "officer")
    background = BACKGROUND + " Hon bor på Storgatan 12 & har nummer 070-174 06 05."
    response = post_case(auth, world, background=background)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Storgatan 12 &amp; har nummer 070-174 06 05.</textarea>" in html
    assert re.search(
        r'id="background-error">\s*<span>Ta bort det som kan identifiera en person \(adress, '
        r"telefonnummer\)",
        html,
    )
    assert html.count('<mark class="finding finding-block">') == 2
    assert (
        '<mark class="finding finding-block"><span class="visually-hidden">Början på fynd 1: </span>'
        'Storgatan 12<sup aria-hidden="true">1</sup>'
    ) in html
    assert "Måste tas bort innan ärendet kan sparas: 2." in html
    assert all_cases(web_session) == []


def test_warnings_need_an_explicit_confirmation(client, auth, world, web_session):
    login(auth, world, "officer")
    background = BACKGROUND + " Fatima berättar att brodern följer efter henne."
    response = post_case(auth, world, background=background)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<mark class="finding finding-warn">' in html
    assert 'id="confirm_warnings-error"' in html and 'name="confirm_warnings"' in html
    digest = re.search(r'name="warnings_digest" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    assert all_cases(web_session) == []
    response = post_case(auth, world, background=background, warnings_digest=digest, confirm_warnings="y")
    [case] = all_cases(web_session)
    assert (response.status_code, case.overridden_findings, case.background) == (303, 1, background)


def test_a_confirmation_does_not_cover_warnings_added_afterwards(client, auth, world, web_session):
    login(auth, world, "officer")
    background = BACKGROUND + " Fatima berättar."
    html = post_case(auth, world, background=background).get_data(as_text=True)
    digest = re.search(r'name="warnings_digest" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    response = post_case(
        auth, world, background=background + " Ahmed vet.", warnings_digest=digest, confirm_warnings="y"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="confirm_warnings-error"' in html
    assert 'name="confirm_warnings" type="checkbox" value="y">' in html  # unticked again
    assert all_cases(web_session) == []


def test_a_case_officer_without_the_role_cannot_bring_cases(client, auth, world):
    login(auth, world, "colleague_elsewhere")  # same organisation, a role only in another consultation
    assert client.get(NEW).status_code == 403
    assert post_case(auth, world).status_code == 403
    assert client.get("/c/finns-inte/cases/new").status_code == 404


def test_bringing_a_case_needs_a_login(client, world):
    response = client.get(NEW)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- Live feedback ------------------------------------------------------------------------------------


def check(auth, field, data, token_from=NEW + "?acute=no", prefix=""):
    path = f"/cases/check?field={field}" + (f"&prefix={prefix}" if prefix else "")
    return auth.post(path, data, token_from=token_from, headers=HX)


def test_live_check_marks_findings_and_updates_the_status_politely(client, auth, world):
    login(auth, world, "officer")
    response = check(
        auth,
        "background",
        {"questions": QUESTIONS, "background": "Ring 070-174 06 05 nu.", "warnings_digest": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        'Ring <mark class="finding finding-block">' in html
        and "Telefonnummer</strong> (måste tas bort)" in html
    )
    assert '<p id="background-guard-status" hx-swap-oob="innerHTML">' in html
    assert "Måste tas bort innan ärendet kan sparas: 1." in html
    assert "confirm-block" not in html  # no warnings before or after: the box is left alone


def test_live_check_replaces_the_confirmation_box_only_when_warnings_change(client, auth, world):
    login(auth, world, "officer")
    data = {"questions": QUESTIONS, "background": "Fatima vill flytta.", "warnings_digest": ""}
    html = check(auth, "background", data).get_data(as_text=True)
    assert '<div id="confirm-block" class="confirm-block" hx-swap-oob="outerHTML">' in html
    assert 'name="confirm_warnings"' in html
    digest = re.search(r'name="warnings_digest" type="hidden" value="([0-9a-f]{32})"', html).group(1)
    same = check(auth, "background", {**data, "warnings_digest": digest}).get_data(as_text=True)
    assert "confirm-block" not in same  # unchanged warnings keep the person's tick


def test_the_form_wires_the_live_check_accessibly(client, auth, world):
    login(auth, world, "officer")
    html = client.get(NEW + "?acute=no").get_data(as_text=True)
    assert (
        'hx-post="/cases/check?field=background"' in html
        and 'hx-trigger="input changed delay:600ms, change"' in html
    )
    assert 'aria-describedby="background-help background-guard-status"' in html
    assert '<p class="guard-status" id="background-guard-status" aria-live="polite">' in html
    assert "autofocus" not in html


def test_live_check_rejects_unknown_fields_and_needs_login(client, auth, world):
    response = auth.post(
        "/cases/check?field=background", {"background": "x"}, token_from="/login", headers=HX
    )
    assert (response.status_code, response.headers["HX-Redirect"]) == (204, "/login")
    login(auth, world, "officer")
    assert check(auth, "name", {"name": "x"}).status_code == 404


def test_live_check_logs_no_text(client, auth, world, caplog):
    login(auth, world, "officer")
    with caplog.at_level(logging.DEBUG):
        check(auth, "background", {"questions": "", "background": "Fatima på Storgatan 12"})
    assert "Fatima" not in caplog.text and "Storgatan" not in caplog.text


# --- Who sees what (404, not 403) ----------------------------------------------------------------------


@pytest.fixture
def shared_case(world, web_session):
    s = web_session
    meeting = make_meeting(s, world.consultation, published_version=1, starts_at=utcnow() + timedelta(days=7))
    case = make_case(
        s,
        world.consultation,
        world.org,
        officer=world.people["officer"],
        status=CaseStatus.ON_AGENDA,
        meeting_id=meeting.id,
        municipality=world.kiruna,
    )
    item = make_agenda_item(s, meeting, case)
    # Both have confirmed the confidentiality rules (the agenda's first-time step, tested in test_agenda).
    confirmed = utcnow() - timedelta(minutes=5)
    make_invitee(s, meeting, world.people["member"], confidentiality_confirmed_at=confirmed)
    presenter = make_user(s, email="presentator@kiruna.example")
    make_invitee(
        s, meeting, presenter, kind=InviteeKind.PRESENTER, item=item, confidentiality_confirmed_at=confirmed
    )
    hidden = make_case(s, world.consultation, world.other_org, status=CaseStatus.SUBMITTED)
    s.commit()
    return case, hidden


@pytest.mark.parametrize(
    ("who", "sees_shared", "sees_hidden"),
    [
        ("officer", True, False),
        ("colleague", True, False),
        ("colleague_elsewhere", False, False),
        ("other", False, True),
        ("coordinator", True, True),
        ("member", True, False),
        ("presenter", True, False),
        ("admin", False, False),
    ],
)
def test_case_pages_answer_404_to_those_who_may_not_see_them(
    client, auth, world, shared_case, who, sees_shared, sees_hidden
):
    case, hidden = shared_case
    email = "presentator@kiruna.example" if who == "presenter" else world.people[who].email
    auth.login(email, PASSWORD)
    assert client.get(f"/cases/{case.id}").status_code == (200 if sees_shared else 404)
    assert client.get(f"/cases/{hidden.id}").status_code == (200 if sees_hidden else 404)
    assert client.get("/cases/999999").status_code == 404


def test_the_case_page_shows_the_facts_and_the_slot(client, auth, world, shared_case):
    case, _hidden = shared_case
    login(auth, world, "member")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert case.reference in html and "Socialtjänsten, Kiruna kommun" in html and "Kiruna" in html
    assert "din tid börjar" in html
    assert "Dra tillbaka ärendet" not in html  # a member cannot act on it


def test_others_cannot_act_on_a_case_they_cannot_see(client, auth, world, shared_case):
    _case, hidden = shared_case
    login(auth, world, "officer")
    for action in ("withdraw", "close", "follow-up", "return", "edit"):
        response = auth.post(f"/cases/{hidden.id}/{action}", {}, token_from="/cases")
        assert response.status_code == 404, action
    assert client.get(f"/cases/{hidden.id}/edit").status_code == 404


def test_a_member_who_sees_a_case_may_not_change_it(client, auth, world, shared_case):
    case, _hidden = shared_case
    login(auth, world, "member")
    assert auth.post(f"/cases/{case.id}/withdraw", {}, token_from="/cases").status_code == 403
    assert client.get(f"/cases/{case.id}/edit").status_code == 403


# --- My cases --------------------------------------------------------------------------------------------


def test_my_cases_shows_status_meeting_slot_and_the_coordinators_comment(
    client, auth, world, web_session, shared_case
):
    case, hidden = shared_case
    returned = make_case(
        web_session,
        world.consultation,
        world.org,
        status=CaseStatus.RETURNED,
        return_comment="Beskriv frågan om skolan tydligare.",
    )
    web_session.commit()
    login(auth, world, "colleague")
    html = client.get("/cases").get_data(as_text=True)
    assert case.reference in html and returned.reference in html and hidden.reference not in html
    assert "På en publicerad dagordning" in html and "din tid börjar" in html
    assert "Beskriv frågan om skolan tydligare." in html


def test_my_cases_filter_returns_the_table_only_for_htmx(client, auth, world, web_session, shared_case):
    case, _ = shared_case
    draft = make_case(
        web_session, world.consultation, world.org, officer=world.people["officer"], status=CaseStatus.DRAFT
    )
    web_session.commit()
    login(auth, world, "officer")
    response = client.get("/cases?status=draft", headers=HX)
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="my-cases">') and "HX-Request" in response.headers["Vary"]
    assert f"/cases/{draft.id}" in html and f'/cases/{case.id}"' not in html


def test_my_cases_come_in_pages_that_keep_the_filter(client, auth, world, web_session):
    """An agency's list grows every year: 30 cases a page, most recently changed first, with links to the
    neighbouring pages that keep the status filter; a page number that is not one reads as the first."""
    now = utcnow()
    made = [
        make_case(
            web_session,
            world.consultation,
            world.org,
            officer=world.people["officer"],
            updated_at=now - timedelta(minutes=n),
        )
        for n in range(35)
    ]
    other = make_case(web_session, world.consultation, world.other_org, updated_at=now)
    web_session.commit()
    login(auth, world, "officer")

    def shown(html):
        return [int(i) for i in re.findall(r'<tr id="case-row-(\d+)">', html)]

    first = client.get("/cases").get_data(as_text=True)
    assert shown(first) == [c.id for c in made[:30]]
    assert 'rel="next" href="/cases?page=2"' in first and 'rel="prev"' not in first
    assert 'aria-label="Sidor i Mina ärenden"' in first and "Nästa sida" in first
    second = client.get("/cases?page=2").get_data(as_text=True)
    assert shown(second) == [c.id for c in made[30:]]
    assert 'rel="prev" href="/cases?page=1"' in second and 'rel="next"' not in second
    assert f"/cases/{other.id}" not in first + second
    for odd in ("0", "-3", "abc", "99999999999999999999"):
        assert shown(client.get(f"/cases?page={odd}").get_data(as_text=True)) == [c.id for c in made[:30]]
    beyond = client.get("/cases?page=9&status=submitted")  # past the last page: the first one
    assert beyond.status_code == 303 and beyond.headers["Location"] == "/cases?status=submitted"

    filtered = client.get("/cases?status=submitted", headers=HX).get_data(as_text=True)
    assert filtered.startswith('<div id="my-cases">') and len(shown(filtered)) == 30
    [link] = re.findall(r'rel="next" href="([^"]+)"', filtered)
    assert link.replace("&amp;", "&") in ("/cases?page=2&status=submitted", "/cases?status=submitted&page=2")
    assert client.get("/cases?status=draft").get_data(as_text=True).count('rel="next"') == 0


def test_withdrawing_from_my_cases_replaces_the_row(client, auth, world, web_session, shared_case):
    case, _ = shared_case
    login(auth, world, "officer")
    response = auth.post(f"/cases/{case.id}/withdraw", {"context": "row"}, token_from="/cases", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.startswith(f'<tr id="case-row-{case.id}">') and "Ärendet har dragits tillbaka." in html
    web_session.expire_all()
    assert web_session.get(Case, case.id).status == CaseStatus.WITHDRAWN
    # It was on an agenda: the coordinator is told, with the reference and a link only.
    [mail] = web_session.exec(select(OutboxMessage)).all()
    assert mail.recipient == "samordnare@freda.example" and case.reference in mail.subject
    assert BACKGROUND not in mail.body_text and QUESTIONS not in mail.body_text
    again = auth.post(f"/cases/{case.id}/withdraw", {"context": "row"}, token_from="/cases", headers=HX)
    assert again.status_code == 409
    refused = again.get_data(as_text=True)  # the row as it stands, the refusal as an error
    assert 'class="flash flash-error" role="alert"' in refused and "flash-success" not in refused
    assert "Det gick inte: ärendet har ändrats under tiden. Sidan visar hur det står nu." in refused


# --- Changing and resubmitting ---------------------------------------------------------------------------


def test_a_returned_case_is_changed_and_sent_again(client, auth, world, web_session):
    case = make_case(
        web_session,
        world.consultation,
        world.org,
        officer=world.people["officer"],
        status=CaseStatus.RETURNED,
        return_comment="Förtydliga frågan.",
        municipality=world.kiruna,
    )
    web_session.commit()
    login(auth, world, "officer")
    page = client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    assert "Förtydliga frågan." in page and QUESTIONS in page
    data = form_data(world, questions="Hur bedömer ni risken för bortförande?")
    response = auth.post(f"/cases/{case.id}/edit", data, token_from=f"/cases/{case.id}/edit")
    assert (response.status_code, response.headers["Location"]) == (303, f"/cases/{case.id}")
    web_session.expire_all()
    case = web_session.get(Case, case.id)
    assert (case.status, case.questions, case.return_comment) == (
        CaseStatus.SUBMITTED,
        "Hur bedömer ni risken för bortförande?",
        "",
    )


def test_a_change_the_guard_refuses_is_marked_at_the_field_and_stores_nothing(
    client, auth, world, web_session
):
    case = make_case(
        web_session,
        world.consultation,
        world.org,
        officer=world.people["officer"],
        status=CaseStatus.RETURNED,
        return_comment="Förtydliga frågan.",
        municipality=world.kiruna,
    )
    web_session.commit()
    login(auth, world, "officer")
    typed = BACKGROUND + " Ring mamman på 070-123 45 67."
    response = auth.post(
        f"/cases/{case.id}/edit", form_data(world, background=typed), token_from=f"/cases/{case.id}/edit"
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    message = "Ta bort det som kan identifiera en person (telefonnummer). Markeringarna nedan visar var."
    assert f'<li><a href="#background">Kort bakgrund: {message}</a></li>' in html  # the summary
    assert f'<p class="error" id="background-error"><span>{message}</span></p>' in html
    assert html.count(message) == 2 and "070-123 45 67" in html  # what was typed is kept
    web_session.expire_all()
    stored = web_session.get(Case, case.id)
    assert (stored.status, stored.background, stored.version) == (CaseStatus.RETURNED, BACKGROUND, 1)


def test_a_case_on_an_agenda_cannot_be_changed(client, auth, world, shared_case):
    case, _ = shared_case
    login(auth, world, "officer")
    response = client.get(f"/cases/{case.id}/edit")
    assert (response.status_code, response.headers["Location"]) == (303, f"/cases/{case.id}")


# --- The coordinator's queue -----------------------------------------------------------------------------


def test_only_coordinators_see_the_queue(client, auth, world):
    login(auth, world, "officer")
    assert client.get(f"/c/{SLUG}/cases/queue").status_code == 403
    auth.logout()
    login(auth, world, "admin")
    assert client.get(f"/c/{SLUG}/cases/queue").status_code == 403


def test_coordinator_returns_a_case_with_a_comment(client, auth, world, web_session):
    case = make_case(web_session, world.consultation, world.org, officer=world.people["officer"])
    web_session.commit()
    login(auth, world, "coordinator")
    queue = client.get(f"/c/{SLUG}/cases/queue").get_data(as_text=True)
    assert case.reference in queue
    comment = "Ta bort uppgiften om vilken skola hon går i."
    response = auth.post(
        f"/cases/{case.id}/return",
        {f"r{case.id}-comment": comment},
        token_from=f"/c/{SLUG}/cases/queue",
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Ärende {case.reference} har skickats tillbaka. Handläggaren har fått ett mejl." in html
    web_session.expire_all()
    stored = web_session.get(Case, case.id)
    assert (stored.status, stored.return_comment) == (CaseStatus.RETURNED, comment)
    [mail] = web_session.exec(select(OutboxMessage)).all()
    assert mail.recipient == "handlaggare@kiruna.example"
    assert f"https://samrad.test/cases/{case.id}" in mail.body_text
    assert "skola" not in mail.body_text and "skola" not in mail.body_html and "skola" not in mail.subject


def test_a_return_comment_with_identifying_text_is_refused(client, auth, world, web_session):
    case = make_case(web_session, world.consultation, world.org, officer=world.people["officer"])
    web_session.commit()
    login(auth, world, "coordinator")
    response = auth.post(
        f"/cases/{case.id}/return",
        {f"r{case.id}-comment": "Ring mamman på 070-174 06 05."},
        token_from=f"/c/{SLUG}/cases/queue",
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Ring mamman på 070-174 06 05.</textarea>" in html and '<mark class="finding finding-block">' in html
    )
    web_session.expire_all()
    assert web_session.get(Case, case.id).status == CaseStatus.SUBMITTED
    assert web_session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0


def test_an_empty_return_comment_is_refused_at_the_field(client, auth, world, web_session):
    case = make_case(web_session, world.consultation, world.org, officer=world.people["officer"])
    web_session.commit()
    login(auth, world, "coordinator")
    response = auth.post(
        f"/cases/{case.id}/return", {f"r{case.id}-comment": ""}, token_from=f"/c/{SLUG}/cases/queue"
    )
    assert response.status_code == 400
    assert f'id="r{case.id}-comment-error"' in response.get_data(as_text=True)


def test_a_case_officer_cannot_return_cases(client, auth, world, web_session):
    case = make_case(web_session, world.consultation, world.org, officer=world.people["officer"])
    web_session.commit()
    login(auth, world, "officer")
    response = auth.post(f"/cases/{case.id}/return", {f"r{case.id}-comment": "x"}, token_from="/cases")
    assert response.status_code == 403


def test_start_page_links_to_bringing_a_case_and_the_queue(client, auth, world):
    login(auth, world, "coordinator")
    html = client.get("/").get_data(as_text=True)
    assert f'href="/c/{SLUG}/cases/queue"' in html
    auth.logout()
    login(auth, world, "officer")
    html = client.get("/").get_data(as_text=True)
    assert f'href="/c/{SLUG}/cases/new"' in html and 'href="/cases"' in html
    assert csrf_from(html)


def test_the_owner_brings_a_discussed_case_back_or_closes_it(client, auth, world, web_session):
    discussed = make_case(web_session, world.consultation, world.org, status=CaseStatus.DISCUSSED)
    other = make_case(web_session, world.consultation, world.org, status=CaseStatus.DISCUSSED)
    web_session.commit()
    login(auth, world, "colleague")
    page = client.get(f"/cases/{discussed.id}").get_data(as_text=True)
    assert "Ta upp det igen på ett senare möte" in page and "Avsluta ärendet" in page
    assert "Ändra ärendet" not in page
    response = auth.post(f"/cases/{discussed.id}/follow-up", {}, token_from=f"/cases/{discussed.id}")
    assert (response.status_code, response.headers["Location"]) == (303, f"/cases/{discussed.id}")
    auth.post(f"/cases/{other.id}/close", {}, token_from=f"/cases/{other.id}")
    web_session.expire_all()
    assert (web_session.get(Case, discussed.id).status, web_session.get(Case, other.id).status) == (
        CaseStatus.FOLLOW_UP,
        CaseStatus.CLOSED,
    )
    # Asking again for a closed case changes nothing and says so.
    again = auth.post(f"/cases/{other.id}/follow-up", {}, token_from=f"/cases/{other.id}")
    assert again.status_code == 303
    assert "Det gick inte: ärendet har ändrats under tiden." in client.get(f"/cases/{other.id}").get_data(
        as_text=True
    )


def test_the_coordinator_may_close_but_not_withdraw(client, auth, world, web_session):
    case = make_case(web_session, world.consultation, world.org, status=CaseStatus.FOLLOW_UP)
    web_session.commit()
    login(auth, world, "coordinator")
    assert auth.post(f"/cases/{case.id}/withdraw", {}, token_from=f"/cases/{case.id}").status_code == 403
    assert auth.post(f"/cases/{case.id}/close", {}, token_from=f"/cases/{case.id}").status_code == 303
    web_session.expire_all()
    assert web_session.get(Case, case.id).status == CaseStatus.CLOSED
