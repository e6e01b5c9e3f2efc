"""Agenda pages through the test client: permissions, htmx partials, the revision check (409), field
errors, publishing with confirmation, the published agenda, the confidentiality step, and the meeting day."""

import re
from datetime import timedelta

from sqlmodel import select

from samrad.enums import AgendaItemKind, Attendance, CaseCategory, CaseStatus, MeetingStatus
from samrad.i18n import datetime_filter
from samrad.models import AgendaItem, Case, CaseCategoryEntry, Invitee, Meeting, OutboxMessage, utcnow
from samrad.services import invitations
from tests.factories import PASSWORD, make_case, make_meeting, make_team, make_user

HX = {"HX-Request": "true"}


def _setup(web_session, *, days=10, **kw):
    team = make_team(web_session, slug="una", name="Una Norrbotten")
    starts = (utcnow() + timedelta(days=days)).replace(hour=12, minute=0, second=0, microsecond=0)
    meeting = make_meeting(web_session, team["consultation"], starts_at=starts, **kw)
    case = make_case(
        web_session,
        team["consultation"],
        team["kiruna"],
        meeting_id=meeting.id,
        presentation_minutes=20,
        submitted_at=utcnow() - timedelta(days=2),
        officer_id=team["officer"].id,
        background="Hemlig bakgrund",
        status=CaseStatus.ACCEPTED,
    )
    case.categories = [CaseCategoryEntry(category=CaseCategory.PARTNER_VIOLENCE)]
    team["outsider"] = make_user(web_session, email="utomstaende@example.se")
    web_session.commit()
    return team, meeting, case


def _path(meeting, suffix=""):
    return f"/c/una/meetings/{meeting.public_id}{suffix}"


def _reload(web_session, cls, id_):
    web_session.expire_all()
    return web_session.get(cls, id_)


def _post(auth, meeting, suffix, data, htmx=True):
    return auth.post(
        _path(meeting, suffix), data, token_from=_path(meeting, "/agenda/edit"), headers=HX if htmx else None
    )


def test_only_coordinators_build_and_outsiders_see_nothing(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    auth.login("utomstaende@example.se", PASSWORD)
    for suffix in ("/agenda/edit", "/agenda", "/day"):
        assert client.get(_path(meeting, suffix)).status_code == 404, suffix
    auth.logout()
    auth.login(team["polis"].email, PASSWORD)
    assert client.get(_path(meeting, "/agenda/edit")).status_code == 403
    assert client.get(_path(meeting, "/day")).status_code == 403
    for suffix in ("/agenda/order", "/agenda/items", f"/agenda/cases/{case.id}", "/agenda/publish", "/close"):
        response = auth.post(_path(meeting, suffix), {"revision": 0}, token_from=_path(meeting))
        assert response.status_code == 403, suffix
    page = client.get(_path(meeting, "/agenda")).get_data(as_text=True)
    assert "inte publicerat" in page or "not published" in page


def test_builder_partial_and_adding_a_case(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    page = client.get(_path(meeting, "/agenda/edit"))
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert case.reference in page.get_data(as_text=True)
    response = _post(auth, meeting, f"/agenda/cases/{case.id}", {"revision": 0})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="agenda-builder"') and "<html" not in body
    item = web_session.exec(select(AgendaItem).where(AgendaItem.case_id == case.id)).one()
    assert item.duration_minutes == 20
    assert "Hemlig" not in body
    # The same case again, or with the old revision: refused, nothing lost.
    response = _post(auth, meeting, f"/agenda/cases/{case.id}", {"revision": 0})
    assert response.status_code == 409
    assert "Någon annan har ändrat dagordningen" in response.get_data(as_text=True)
    assert _reload(web_session, Meeting, meeting.id).agenda_revision == 1
    assert len(web_session.exec(select(AgendaItem)).all()) == 1


def test_cases_not_accepted_here_or_unknown_are_refused(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    other = make_case(web_session, team["consultation"], team["kiruna"], status=CaseStatus.SUBMITTED)
    web_session.commit()
    auth.login(team["coordinator"].email, PASSWORD)
    assert _post(auth, meeting, f"/agenda/cases/{other.id}", {"revision": 0}).status_code == 409
    assert _post(auth, meeting, "/agenda/cases/999999", {"revision": 0}).status_code == 404
    assert _post(auth, meeting, "/agenda/cases/1", {}).status_code in (400, 404)


def test_a_meeting_in_the_past_gets_no_new_cases(client, auth, web_session):
    team, meeting, case = _setup(web_session, days=-3)
    auth.login(team["coordinator"].email, PASSWORD)
    response = _post(auth, meeting, f"/agenda/cases/{case.id}", {"revision": 0})
    assert response.status_code == 409 and "redan börjat" in response.get_data(as_text=True)
    assert web_session.exec(select(AgendaItem)).all() == []


def test_duration_outside_limits_is_a_field_error(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    _post(auth, meeting, "/agenda/items", {"revision": 0, "kind": "welcome", "title": "", "duration": ""})
    item = web_session.exec(select(AgendaItem)).one()
    for bad in ("4", "121", "tio"):
        response = _post(auth, meeting, f"/agenda/items/{item.id}/duration", {"revision": 1, "duration": bad})
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert f'id="duration-{item.id}-error"' in body and 'aria-invalid="true"' in body
        # What was typed stays in the field next to the message.
        assert re.search(rf'id="duration-{item.id}" name="duration" [^>]*value="{bad}"', body), bad
    response = _post(auth, meeting, f"/agenda/items/{item.id}/duration", {"revision": 1, "duration": "15"})
    assert response.status_code == 200
    assert _reload(web_session, AgendaItem, item.id).duration_minutes == 15


def test_a_refused_new_item_keeps_what_was_typed(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    data = {"revision": 0, "kind": "other", "title": "Fika och samtal", "duration": "500"}
    response = _post(auth, meeting, "/agenda/items", data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="new-duration-error"' in body
    assert 'name="title" maxlength="200" value="Fika och samtal"' in body
    assert 'name="duration" value="500"' in body
    assert '<option value="other" selected>' in body
    assert web_session.exec(select(AgendaItem)).all() == []


def test_reorder_and_keyboard_move_use_the_same_endpoint(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    _post(auth, meeting, "/agenda/items", {"revision": 0, "kind": "welcome", "title": "", "duration": "10"})
    _post(auth, meeting, f"/agenda/cases/{case.id}", {"revision": 1})
    welcome, case_item = web_session.exec(select(AgendaItem).order_by(AgendaItem.position)).all()
    response = _post(auth, meeting, "/agenda/order", {"revision": 2, "item": [case_item.id, welcome.id]})
    assert response.status_code == 200
    web_session.expire_all()
    assert [i.id for i in web_session.exec(select(AgendaItem).order_by(AgendaItem.position))] == [
        case_item.id,
        welcome.id,
    ]
    response = _post(
        auth,
        meeting,
        "/agenda/order",
        {"revision": 3, "item": [case_item.id, welcome.id], "move": f"up:{welcome.id}"},
    )
    body = response.get_data(as_text=True)
    assert f'data-focus="down-{welcome.id}"' in body
    # The answer is the agenda section; what the order changes comes out of band, the rest stays.
    assert (response.headers["HX-Retarget"], response.headers["HX-Reswap"]) == ("#builder-items", "outerHTML")
    assert body.lstrip().startswith('<section id="builder-items"')
    for part in ("builder-messages", "builder-time", "builder-publish"):
        assert re.search(rf'id="{part}"[^>]* hx-swap-oob="true" data-oob', body), part
    assert "Ordningen är sparad." in body
    revisions = re.findall(
        r'name="revision" value="(\d+)" class="agenda-revision"( hx-swap-oob="[^"]+")?', body
    )
    assert ("4", ' hx-swap-oob="outerHTML:#agenda-builder .agenda-revision"') in revisions
    assert {value for value, _ in revisions} == {"4"}
    assert 'id="queue-heading"' not in body and 'id="accepted-heading"' not in body
    assert 'id="agenda-builder"' not in body
    # Every form of the full builder carries the revision the out-of-band input replaces.
    builder = client.get(_path(meeting, "/agenda/edit")).get_data(as_text=True)
    assert builder.count('name="revision"') == builder.count('class="agenda-revision"') > 3
    web_session.expire_all()
    assert [i.id for i in web_session.exec(select(AgendaItem).order_by(AgendaItem.position))] == [
        welcome.id,
        case_item.id,
    ]
    # A plain form post (no htmx) redirects back to the builder.
    response = _post(
        auth, meeting, "/agenda/order", {"revision": 4, "move": f"down:{welcome.id}"}, htmx=False
    )
    assert response.status_code == 303


def test_a_change_made_between_a_reorders_checks_and_its_write_refuses_the_reorder(
    app, client, auth, web_session, monkeypatch
):
    """The meeting and the right to change its agenda are read before the change's write transaction (on
    SQLite, before the one write lock). Another change that lands in between, with the page's revision
    still current when it was read, must refuse the reorder (409, the current agenda), not be written over."""
    import sqlite3

    from samrad.services import agenda

    team, meeting, case = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    _post(auth, meeting, "/agenda/items", {"revision": 0, "kind": "welcome", "title": "", "duration": "10"})
    _post(auth, meeting, f"/agenda/cases/{case.id}", {"revision": 1})
    welcome, case_item = web_session.exec(select(AgendaItem).order_by(AgendaItem.position)).all()
    token = auth.token(_path(meeting, "/agenda/edit"))
    database = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    move = agenda.move_item

    def someone_else_first(session, meeting_, *args, **kw):
        other = sqlite3.connect(database)  # the change's own transaction has not begun yet
        with other:
            other.execute("UPDATE agendaitem SET duration_minutes = 25 WHERE id = ?", (welcome.id,))
            other.execute(
                "UPDATE meeting SET agenda_revision = agenda_revision + 1 WHERE id = ?", (meeting.id,)
            )
        other.close()
        return move(session, meeting_, *args, **kw)

    monkeypatch.setattr(agenda, "move_item", someone_else_first)
    response = client.post(
        _path(meeting, "/agenda/order"),
        data={"revision": 2, "move": f"down:{welcome.id}", "csrf_token": token},
        headers=HX,
    )
    assert response.status_code == 409
    assert "Någon annan har ändrat dagordningen" in response.get_data(as_text=True)
    web_session.expire_all()
    stored = [
        (i.id, i.duration_minutes) for i in web_session.exec(select(AgendaItem).order_by(AgendaItem.position))
    ]
    assert stored == [(welcome.id, 25), (case_item.id, 20)]
    assert _reload(web_session, Meeting, meeting.id).agenda_revision == 3


def test_publishing_asks_for_confirmation_and_tells_invitees_without_case_data(
    app, client, auth, web_session
):
    team, meeting, case = _setup(web_session, length_minutes=15)
    with app.app_context():
        invitations.send_invitations(web_session, meeting, now=utcnow())
    web_session.commit()
    auth.login(team["coordinator"].email, PASSWORD)
    _post(auth, meeting, f"/agenda/cases/{case.id}", {"revision": 0})
    response = _post(auth, meeting, "/agenda/publish", {"revision": 1})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="confirm" value="yes"' in body
    # Before publishing, the builder names who will be told.
    plan = re.search(r'<div class="publish-plan" id="publish-plan">.*?</div>', body, re.S).group(0)
    names = ", ".join(sorted(team[k].name for k in ("coordinator", "polis", "soc")))
    assert "3 inbjudna till mötet får e-post om att dagordningen är publicerad, med en länk:" in plan
    assert names in plan and "Hemlig" not in plan
    assert _reload(web_session, Meeting, meeting.id).published_version == 0
    before = len(web_session.exec(select(OutboxMessage)).all())
    response = _post(auth, meeting, "/agenda/publish", {"revision": 1, "confirm": "yes"})
    assert response.status_code == 200
    assert _reload(web_session, Meeting, meeting.id).published_version == 1
    assert _reload(web_session, Case, case.id).status == CaseStatus.ON_AGENDA
    mails = web_session.exec(select(OutboxMessage)).all()[before:]
    assert {m.recipient for m in mails} == {team["coordinator"].email, team["polis"].email, team["soc"].email}
    for m in mails:
        text = m.subject + m.body_text + m.body_html
        assert "Hemlig" not in text and case.reference not in text and "/agenda" in m.body_text
    auth.logout()

    # An invitee sees the agenda; the first case details ask for confidentiality.
    auth.login(team["polis"].email, PASSWORD)
    page = client.get(_path(meeting, "/agenda"))
    assert page.status_code == 200 and case.reference in page.get_data(as_text=True)
    assert f'<a href="/cases/{case.id}">' in page.get_data(as_text=True)  # a member may open the case
    partial = client.get(_path(meeting, "/agenda"), headers=HX)
    assert partial.get_data(as_text=True).lstrip().startswith('<section id="published-agenda"')
    assert 'hx-trigger="every 30s"' in partial.get_data(as_text=True)
    unchanged = client.get(_path(meeting, "/agenda?v=1"), headers=HX)
    assert unchanged.status_code == 204 and "HX-Request" in unchanged.headers["Vary"]
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 303 and "/confidentiality" in response.headers["Location"]
    response = auth.post(
        _path(meeting, "/confidentiality"), {"case": case.id}, token_from=_path(meeting, "/agenda")
    )
    assert response.status_code == 400
    response = auth.post(
        _path(meeting, "/confidentiality"),
        {"case": case.id, "confirm": "yes"},
        token_from=_path(meeting, "/agenda"),
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/cases/{case.id}")
    assert client.get(f"/cases/{case.id}").status_code == 200
    invitee = web_session.exec(
        select(Invitee).where(Invitee.meeting_id == meeting.id).where(Invitee.email == team["polis"].email)
    ).one()
    web_session.refresh(invitee)
    assert invitee.confidentiality_confirmed_at is not None
    auth.logout()
    # A case officer of the consultation who is not invited may not see a published agenda.
    auth.login(team["officer"].email, PASSWORD)  # own organisation: case details without confirmation
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(_path(meeting, "/agenda")).status_code == 403


def _held(app, web_session):
    team, meeting, case = _setup(web_session)
    with app.app_context():
        invitations.send_invitations(web_session, meeting, now=utcnow())
    web_session.add(AgendaItem(meeting_id=meeting.id, position=0, kind=AgendaItemKind.CASE, case_id=case.id))
    meeting.published_version = 1
    meeting.starts_at = utcnow() - timedelta(minutes=30)
    case.status = CaseStatus.ON_AGENDA
    web_session.add_all([meeting, case])
    web_session.commit()
    return team, meeting, case


def test_meeting_day_attendance_advice_and_closing(app, client, auth, web_session):
    team, meeting, case = _held(app, web_session)
    item = web_session.exec(select(AgendaItem)).one()
    polis = web_session.exec(select(Invitee).where(Invitee.email == team["polis"].email)).one()
    auth.login(team["coordinator"].email, PASSWORD)
    page = client.get(_path(meeting, "/day")).get_data(as_text=True)
    assert "Råd till ärendeägaren" in page and "beslut" not in page.lower()
    token_page = _path(meeting, "/day")
    response = auth.post(
        _path(meeting, f"/day/attendance/{polis.id}"),
        {"attendance": "via_link"},
        token_from=token_page,
        headers=HX,
    )
    assert response.status_code == 200
    assert f'data-focus="att-{polis.id}-via_link"' in response.get_data(as_text=True)
    assert _reload(web_session, Invitee, polis.id).attendance == Attendance.VIA_LINK
    bad = "Ring mamman på 070-123 45 67"
    response = auth.post(
        _path(meeting, f"/day/items/{item.id}"),
        {"advice": bad, "discussed": "yes"},
        token_from=token_page,
        headers=HX,
    )
    assert response.status_code == 400 and bad in response.get_data(as_text=True)  # the text is kept
    assert _reload(web_session, Case, case.id).status == CaseStatus.ON_AGENDA
    advice = "Ärendeägaren rekommenderas att göra en ny riskbedömning tillsammans med polisen."
    response = auth.post(
        _path(meeting, f"/day/items/{item.id}"),
        {"advice": advice, "discussed": "yes", "follow_up": "yes"},
        token_from=token_page,
        headers=HX,
    )
    assert response.status_code == 200
    assert _reload(web_session, AgendaItem, item.id).advice == advice
    assert _reload(web_session, Case, case.id).status == CaseStatus.FOLLOW_UP
    response = auth.post(_path(meeting, "/close"), {}, token_from=token_page)
    assert response.status_code == 303
    assert _reload(web_session, Meeting, meeting.id).status == MeetingStatus.CLOSED
    response = auth.post(_path(meeting, "/close"), {}, token_from=token_page, headers=HX)
    assert response.status_code == 409


def test_moving_a_case_later_tells_the_officer_with_a_link_only(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    later = make_meeting(web_session, team["consultation"], starts_at=meeting.starts_at + timedelta(days=14))
    web_session.commit()
    auth.login(team["coordinator"].email, PASSWORD)
    response = _post(auth, meeting, f"/agenda/move-case/{case.id}", {"revision": 0, "target": later.id})
    assert response.status_code == 200
    assert _reload(web_session, Case, case.id).meeting_id == later.id
    [mail] = web_session.exec(
        select(OutboxMessage).where(OutboxMessage.recipient == team["officer"].email)
    ).all()
    assert f"/cases/{case.id}" in mail.body_text and "Hemlig" not in mail.body_text + mail.body_html


def test_every_waiting_case_can_be_accepted_for_each_later_meeting(app, client, auth, web_session):
    team, meeting, _case = _setup(web_session)
    later = [
        make_meeting(web_session, team["consultation"], starts_at=meeting.starts_at + timedelta(days=d))
        for d in (28, 14)
    ]
    waiting = [
        make_case(
            web_session, team["consultation"], team["kiruna"], submitted_at=utcnow() - timedelta(days=d)
        )
        for d in (3, 1)
    ]
    web_session.commit()
    auth.login(team["coordinator"].email, PASSWORD)
    page = client.get(_path(meeting, "/agenda/edit")).get_data(as_text=True)
    with app.test_request_context():
        labels = [datetime_filter(m.starts_at) for m in sorted(later, key=lambda m: m.starts_at)]
    expected = [
        (str(m.id), label) for m, label in zip(sorted(later, key=lambda m: m.starts_at), labels, strict=True)
    ]
    for case in waiting:
        # One form a case, as in the queue: this meeting chosen, the later ones offered, one button.
        form = re.search(rf'<form[^>]*action="[^"]*/agenda/accept/{case.id}"[^>]*>(.*?)</form>', page, re.S)
        assert form is not None, case.reference
        assert f'<label for="target-{case.id}" class="visually-hidden">Möte för {case.reference}</label>' in (
            form.group(1)
        )
        select_html = re.search(
            rf'<select name="target" id="target-{case.id}">(.*?)</select>', form.group(1), re.S
        )
        assert select_html is not None, case.reference
        assert re.findall(r'<option value="(\d+)"( selected)?>([^<]*)</option>', select_html.group(1)) == [
            (str(meeting.id), " selected", "Det här mötet"),
            *((value, "", label) for value, label in expected),
        ]
        assert re.findall(r"<button[^>]*>([^<]*)<", form.group(1)) == ["Ta emot"]
    response = _post(auth, meeting, f"/agenda/accept/{waiting[1].id}", {"revision": 0, "target": later[0].id})
    assert response.status_code == 200 and "flyttas till ett senare möte" in response.get_data(as_text=True)
    assert _reload(web_session, Case, waiting[1].id).meeting_id == later[0].id
    response = _post(auth, meeting, f"/agenda/accept/{waiting[0].id}", {"revision": 1, "target": meeting.id})
    assert response.status_code == 200
    accepted = _reload(web_session, Case, waiting[0].id)
    assert (accepted.meeting_id, accepted.status) == (meeting.id, CaseStatus.ACCEPTED)


def test_a_waiting_case_is_not_accepted_for_another_consultations_meeting(client, auth, web_session):
    team, meeting, _case = _setup(web_session)
    elsewhere = make_meeting(
        web_session, make_team(web_session)["consultation"], starts_at=meeting.starts_at + timedelta(days=14)
    )
    waiting = make_case(web_session, team["consultation"], team["kiruna"], submitted_at=utcnow())
    web_session.commit()
    auth.login(team["coordinator"].email, PASSWORD)
    response = _post(auth, meeting, f"/agenda/accept/{waiting.id}", {"revision": 0, "target": elsewhere.id})
    assert response.status_code == 409
    assert "Det finns inget senare möte än." in response.get_data(as_text=True)
    stored = _reload(web_session, Case, waiting.id)
    assert (stored.meeting_id, stored.status) == (None, CaseStatus.SUBMITTED)


def test_the_meeting_overview_shows_whether_each_case_has_its_agencies(client, auth, web_session):
    team, meeting, case = _setup(web_session)
    web_session.add(AgendaItem(meeting_id=meeting.id, position=0, kind=AgendaItemKind.CASE, case_id=case.id))
    web_session.commit()
    auth.login(team["coordinator"].email, PASSWORD)
    page = client.get(_path(meeting)).get_data(as_text=True)
    assert f"Ärende {case.reference}" in page and "Ärendets organisation saknas." in page
    assert "Socialtjänsten saknas (ärendet gäller ett barn)." in page  # a 13–17 case, nobody has answered
