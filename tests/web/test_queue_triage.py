"""Triage in one place (issue L 2): from the queue the coordinator accepts a case into a chosen meeting (it
goes last on that meeting's draft agenda), moves it to a later one, or sends it back; the coming
meetings' time boxes come back with every change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from samrad.enums import CaseStatus
from samrad.models import AgendaItem, Case, OutboxMessage, utcnow
from tests.factories import PASSWORD, make_case, make_consultation, make_team
from tests.factories.meetings import make_agenda_item, make_meeting

pytestmark = pytest.mark.filterwarnings("ignore:Passing SelectField choices as tuples is deprecated")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def queue(web_session):
    team = make_team(web_session)
    consultation, now = team["consultation"], utcnow()
    first = make_meeting(web_session, consultation, now + timedelta(days=5))
    make_agenda_item(web_session, first, duration_minutes=30)
    second = make_meeting(web_session, consultation, now + timedelta(days=19))
    case = make_case(
        web_session, consultation, team["kiruna"], officer=team["officer"], presentation_minutes=25
    )
    web_session.commit()
    return {**team, "first": first, "second": second, "case": case}


def _token(client, slug: str) -> str:
    page = client.get(f"/c/{slug}/cases/queue")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _items(session, meeting) -> list[tuple[int | None, int]]:
    session.expire_all()
    return [
        (i.case_id, i.duration_minutes)
        for i in session.exec(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
        )
    ]


def test_the_queue_shows_the_coming_meetings_time_boxes_and_a_closed_return_box(client, auth, queue):
    auth.login(queue["coordinator"].email, PASSWORD)
    html = client.get(f"/c/{queue['consultation'].slug}/cases/queue").get_data(as_text=True)
    boxes = re.search(r'<section id="time-boxes".*?</section>', html, re.S).group(0)
    assert boxes.count("<li>") == 2
    assert "30 av 120 minuter planerade." in boxes and "0 av 120 minuter planerade." in boxes
    row = re.search(
        rf'<li class="card request" id="case-{queue["case"].id}">.*?</li>\s*(?=</ul>)', html, re.S
    )
    assert f'<option value="{queue["first"].id}">' in row.group(0)
    assert "<details>" in row.group(0)  # the comment box opens on demand
    assert "Skicka tillbaka till handläggaren med en kommentar</summary>" in row.group(0)
    # Its form is fetched when opened (htmx), or on a page of its own without JavaScript.
    case_id = queue["case"].id
    assert f'id="r{case_id}-comment"' not in html
    assert f'hx-get="/cases/{case_id}/return" hx-trigger="toggle once from:closest details"' in row.group(0)
    assert f'<a href="/cases/{case_id}/return">Skriv kommentaren' in row.group(0)


def test_the_return_form_comes_for_htmx_alone_and_without_javascript_in_its_row(client, auth, queue):
    auth.login(queue["coordinator"].email, PASSWORD)
    case_id = queue["case"].id
    fragment = client.get(f"/cases/{case_id}/return", headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and html.lstrip().startswith("<form")
    assert re.search(rf'<textarea [^>]*id="r{case_id}-comment"', html) and 'name="csrf_token"' in html
    assert f'hx-post="/cases/{case_id}/return" hx-target="#case-{case_id}"' in html
    assert "<html" not in html and "<li" not in html
    page = client.get(f"/cases/{case_id}/return")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    row = re.search(rf'<li class="card request" id="case-{case_id}">.*?</li>', html, re.S).group(0)
    assert "<details open>" in row and re.search(rf'<textarea [^>]*id="r{case_id}-comment"', row)
    assert f'action="/cases/{case_id}/accept"' in row  # the row as in the queue, with its accept form
    detail = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'<a href="/cases/{case_id}/return">Skicka tillbaka det med en kommentar</a>' in detail


def test_the_return_form_of_a_case_no_longer_waiting_says_so(client, auth, web_session, queue):
    case = queue["case"]
    case.status = CaseStatus.ACCEPTED
    web_session.add(case)
    web_session.commit()
    auth.login(queue["coordinator"].email, PASSWORD)
    fragment = client.get(f"/cases/{case.id}/return", headers=HTMX).get_data(as_text=True)
    assert "Ärendet har ändrats under tiden och kan inte skickas tillbaka nu." in fragment
    assert "<form" not in fragment
    page = client.get(f"/cases/{case.id}/return")
    assert (page.status_code, page.headers["Location"]) == (303, f"/cases/{case.id}")


def test_a_row_whose_case_moved_on_meanwhile_shows_it_as_stored_with_the_refusal_as_an_error(
    client, auth, web_session, queue
):
    """The coordinator's queue page is older than the case: a colleague accepted it (then the return is
    refused) or it was returned (then the acceptance is). The row comes back as the case is now, with the
    refusal as an error (not as a success message), and offers only what can still be done."""
    auth.login(queue["coordinator"].email, PASSWORD)
    case, first = queue["case"], queue["first"]
    token = _token(client, queue["consultation"].slug)
    case.status, case.meeting_id = CaseStatus.ACCEPTED, first.id
    web_session.add(case)
    web_session.commit()
    returned = client.post(
        f"/cases/{case.id}/return",
        data={"csrf_token": token, f"r{case.id}-comment": "Förtydliga frågan."},
        headers=HTMX,
    )
    row = returned.get_data(as_text=True)
    assert returned.status_code == 409
    assert 'class="flash flash-error" role="alert"' in row and "flash-success" not in row
    assert "Ärendet har ändrats under tiden och kan inte skickas tillbaka nu." in row
    assert f'action="/cases/{case.id}/move"' in row and "/return" not in row  # accepted: it can move

    web_session.expire_all()
    case = web_session.get(Case, case.id)
    case.status, case.meeting_id, case.return_comment = CaseStatus.RETURNED, None, "Av en kollega."
    web_session.add(case)
    web_session.commit()
    accepted = client.post(
        f"/cases/{case.id}/accept", data={"csrf_token": token, f"t{case.id}-meeting": first.id}, headers=HTMX
    )
    row = accepted.get_data(as_text=True)
    assert accepted.status_code == 400
    assert "Återsänt till handläggaren" in row and 'role="alert"' in row
    assert "<form" not in row and "/return" not in row  # gone from the queue: nothing left to do here
    web_session.expire_all()
    assert web_session.get(Case, case.id).status == CaseStatus.RETURNED


def test_accepting_from_the_queue_puts_the_case_last_on_the_chosen_agenda(client, auth, web_session, queue):
    auth.login(queue["coordinator"].email, PASSWORD)
    case, first = queue["case"], queue["first"]
    response = client.post(
        f"/cases/{case.id}/accept",
        data={"csrf_token": _token(client, queue["consultation"].slug), f"t{case.id}-meeting": first.id},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="card request" id="case-{case.id}">')
    assert "är mottaget till" in html and "data-focus-here" in html
    boxes = re.search(r'<section id="time-boxes"[^>]*>', html).group(0)
    assert 'hx-swap-oob="true"' in boxes and "data-oob" in boxes
    assert "55 av 120 minuter planerade." in html  # 30 + the case's 25
    assert "Flytta till mötet" in html and f'<option value="{queue["second"].id}">' in html
    web_session.expire_all()
    stored = web_session.get(Case, case.id)
    assert (stored.status, stored.meeting_id) == (CaseStatus.ACCEPTED, first.id)
    assert _items(web_session, first) == [(None, 30), (case.id, 25)]


def test_accepting_without_javascript_returns_to_the_queue_with_the_message(client, auth, web_session, queue):
    auth.login(queue["coordinator"].email, PASSWORD)
    case, second = queue["case"], queue["second"]
    slug = queue["consultation"].slug
    response = client.post(
        f"/cases/{case.id}/accept",
        data={"csrf_token": _token(client, slug), f"t{case.id}-meeting": second.id},
    )
    assert (response.status_code, response.headers["Location"]) == (303, f"/c/{slug}/cases/queue")
    assert "är mottaget till" in client.get(f"/c/{slug}/cases/queue").get_data(as_text=True)
    assert _items(web_session, second) == [(case.id, 25)]


@pytest.mark.parametrize("meeting", ["", "abc", "99999", "other-consultation", "past"])
def test_a_meeting_not_in_the_list_is_refused_next_to_the_field(client, auth, web_session, queue, meeting):
    consultation, case = queue["consultation"], queue["case"]
    if meeting == "other-consultation":
        meeting = make_meeting(web_session, make_consultation(web_session), utcnow() + timedelta(days=5)).id
    elif meeting == "past":
        meeting = make_meeting(web_session, consultation, utcnow() - timedelta(days=5)).id
    web_session.commit()
    auth.login(queue["coordinator"].email, PASSWORD)
    response = client.post(
        f"/cases/{case.id}/accept",
        data={"csrf_token": _token(client, consultation.slug), f"t{case.id}-meeting": meeting},
        headers=HTMX,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="t{case.id}-meeting-error">' in html and "Välj ett möte i listan." in html
    web_session.expire_all()
    assert web_session.get(Case, case.id).status == CaseStatus.SUBMITTED
    assert web_session.exec(select(AgendaItem).where(AgendaItem.case_id == case.id)).all() == []


def test_a_case_accepted_meanwhile_is_not_accepted_twice(client, auth, web_session, queue):
    auth.login(queue["coordinator"].email, PASSWORD)
    case, first, second = queue["case"], queue["first"], queue["second"]
    token = _token(client, queue["consultation"].slug)
    data = {"csrf_token": token, f"t{case.id}-meeting": first.id}
    assert client.post(f"/cases/{case.id}/accept", data=data, headers=HTMX).status_code == 200
    again = client.post(
        f"/cases/{case.id}/accept", data={**data, f"t{case.id}-meeting": second.id}, headers=HTMX
    )
    assert again.status_code == 400
    assert 'role="alert"' in again.get_data(as_text=True)
    assert _items(web_session, second) == []
    assert _items(web_session, first) == [(None, 30), (case.id, 25)]


@pytest.mark.parametrize("htmx", [True, False])
def test_a_case_changed_by_another_request_meanwhile_gets_the_409_page_and_nothing_is_stored(
    client, auth, web_session, queue, monkeypatch, htmx
):
    """The case's version moved on between this request's reading and its change (another request came
    first: tests/unit/test_cases.py): a plain-Swedish 409 that says nothing was saved, not a 500."""
    from sqlalchemy.orm.exc import StaleDataError

    from samrad.services import cases

    auth.login(queue["coordinator"].email, PASSWORD)
    case, first = queue["case"], queue["first"]
    token = _token(client, queue["consultation"].slug)
    accept = cases.accept_case

    def accepted_by_someone_else_first(session, case, *args, **kw):
        accept(session, case, *args, **kw)
        raise StaleDataError("UPDATE of case_record: 0 rows matched the version read")

    monkeypatch.setattr(cases, "accept_case", accepted_by_someone_else_first)
    response = client.post(
        f"/cases/{case.id}/accept",
        data={"csrf_token": token, f"t{case.id}-meeting": first.id},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Någon annan ändrade det här samtidigt" in html and "Inget av det du gjorde sparades" in html
    assert html.lstrip().lower().startswith("<!doctype html>") != htmx
    # htmx: said at the top of the page (base.html's #page-error), the row left as it was, and there is no
    # page to go back to
    assert response.headers.get("HX-Retarget") == ("#page-error" if htmx else None)
    assert ("Gå tillbaka" in html, "adda om sidan så att du ser ändringen" in html) == (not htmx, True)
    web_session.expire_all()
    stored = web_session.get(Case, case.id)
    assert (stored.status, stored.meeting_id, stored.version) == (CaseStatus.SUBMITTED, None, 1)
    assert _items(web_session, first) == [(None, 30)]


def test_a_return_that_lands_between_an_acceptances_checks_and_its_write_refuses_the_acceptance(
    app, client, auth, web_session, queue, monkeypatch
):
    """The case, the meetings and the form are read before the acceptance's write transaction (on SQLite,
    before the one write lock). A colleague's return of the case that lands in between must refuse the
    acceptance (the 409 page), not be written over: the case stays returned, with the comment."""
    import sqlite3

    from samrad.services import agenda

    auth.login(queue["coordinator"].email, PASSWORD)
    case, first = queue["case"], queue["first"]
    token = _token(client, queue["consultation"].slug)
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    accept = agenda.accept_onto_agenda

    def returned_by_a_colleague_first(session, *args, **kw):
        other = sqlite3.connect(database)  # the acceptance's own transaction has not begun yet
        with other:
            other.execute(
                "UPDATE case_record SET status = 'returned', return_comment = 'Förtydliga frågan.', "
                "version = version + 1 WHERE id = ?",
                (case.id,),
            )
        other.close()
        return accept(session, *args, **kw)

    monkeypatch.setattr(agenda, "accept_onto_agenda", returned_by_a_colleague_first)
    statements: list[str] = []
    with app.app_context():
        from sqlalchemy import event

        from samrad import db

        event.listen(db.get_engine(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.post(
        f"/cases/{case.id}/accept",
        data={"csrf_token": token, f"t{case.id}-meeting": first.id},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert "Någon annan ändrade det här samtidigt" in response.get_data(as_text=True)
    # who is asking, then the case, the meetings and the form, read without the lock; then the change
    assert [s for s in statements if s.startswith("BEGIN")][:3] == ["BEGIN", "BEGIN", "BEGIN IMMEDIATE"]
    web_session.expire_all()
    stored = web_session.get(Case, case.id)
    assert (stored.status, stored.meeting_id, stored.return_comment, stored.version) == (
        CaseStatus.RETURNED,
        None,
        "Förtydliga frågan.",
        2,
    )
    assert _items(web_session, first) == [(None, 30)]


def test_an_acceptance_is_answered_without_the_write_lock(app, client, auth, web_session, queue):
    """The row and the time boxes that come back are read after the commit, in a DEFERRED transaction:
    the other workers' changes need not wait while this one renders."""
    from sqlalchemy import event

    from samrad import db

    auth.login(queue["coordinator"].email, PASSWORD)
    case, first = queue["case"], queue["first"]
    token = _token(client, queue["consultation"].slug)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.get_engine(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.post(
        f"/cases/{case.id}/accept",
        data={"csrf_token": token, f"t{case.id}-meeting": first.id},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN", "BEGIN", "BEGIN IMMEDIATE", "BEGIN"]
    answer = statements[len(statements) - statements[::-1].index("BEGIN") :]
    assert any("FROM meeting" in s for s in answer)  # the time boxes, read again for the answer
    assert all(s.lstrip().startswith("SELECT") for s in answer)
    assert _items(web_session, first) == [(None, 30), (case.id, 25)]


def test_moving_from_the_queue_goes_to_the_later_agenda_and_tells_the_officer(
    client, auth, web_session, queue
):
    auth.login(queue["coordinator"].email, PASSWORD)
    case, first, second = queue["case"], queue["first"], queue["second"]
    token = _token(client, queue["consultation"].slug)
    client.post(
        f"/cases/{case.id}/accept", data={"csrf_token": token, f"t{case.id}-meeting": first.id}, headers=HTMX
    )
    moved = client.post(
        f"/cases/{case.id}/move", data={"csrf_token": token, f"t{case.id}-meeting": second.id}, headers=HTMX
    )
    assert moved.status_code == 200
    assert "flyttas till" in moved.get_data(as_text=True)
    assert _items(web_session, first) == [(None, 30)]
    assert _items(web_session, second) == [(case.id, 25)]
    stored = web_session.get(Case, case.id)
    assert (stored.status, stored.meeting_id) == (CaseStatus.ACCEPTED, second.id)
    mail = web_session.exec(
        select(OutboxMessage).where(OutboxMessage.recipient == queue["officer"].email)
    ).all()
    assert [m.subject for m in mail] == [f"Ärende {case.reference} flyttas till ett senare möte"]
    assert case.questions[:20] not in mail[0].body_text  # reference and link only


def test_a_waiting_case_cannot_be_moved_and_an_earlier_meeting_is_no_target(client, auth, web_session, queue):
    auth.login(queue["coordinator"].email, PASSWORD)
    case, first, second = queue["case"], queue["first"], queue["second"]
    token = _token(client, queue["consultation"].slug)
    waiting = client.post(
        f"/cases/{case.id}/move", data={"csrf_token": token, f"t{case.id}-meeting": second.id}, headers=HTMX
    )
    assert waiting.status_code == 400
    client.post(
        f"/cases/{case.id}/accept", data={"csrf_token": token, f"t{case.id}-meeting": second.id}, headers=HTMX
    )
    back = client.post(
        f"/cases/{case.id}/move", data={"csrf_token": token, f"t{case.id}-meeting": first.id}, headers=HTMX
    )
    assert back.status_code == 400 and "Välj ett möte i listan." in back.get_data(as_text=True)
    assert _items(web_session, second) == [(case.id, 25)]


def test_only_the_consultations_coordinator_triages(client, auth, web_session, queue):
    case, first = queue["case"], queue["first"]
    auth.login(queue["polis"].email, PASSWORD)
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = client.post(
        f"/cases/{case.id}/accept", data={"csrf_token": token, f"t{case.id}-meeting": first.id}
    )
    assert refused.status_code == 404  # a standing member of another agency does not see the waiting case
    assert web_session.get(Case, case.id).status == CaseStatus.SUBMITTED
