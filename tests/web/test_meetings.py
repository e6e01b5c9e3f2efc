"""Meeting pages through the test client: permissions, the coordinator's forms, answers and the feed."""

import re
from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlmodel import select

from samrad.clock import STOCKHOLM
from samrad.enums import MeetingStatus, Rsvp
from samrad.models import BreakPeriod, Invitee, Meeting, OutboxMessage, utcnow
from tests.factories import PASSWORD, make_meeting, make_team, make_user
from tests.icscheck import check_ics


def _setup(web_session, **kw):
    team = make_team(web_session, slug="una", name="Una Norrbotten", **kw)
    starts = (utcnow() + timedelta(days=10)).replace(hour=12, minute=0, second=0, microsecond=0)
    meeting = make_meeting(web_session, team["consultation"], starts_at=starts)
    team["outsider"] = make_user(web_session, email="utomstaende@example.se")
    web_session.commit()
    return team, meeting


def _path(meeting, suffix=""):
    return f"/c/una/meetings/{meeting.public_id}{suffix}"


def _reload(web_session, obj):
    web_session.expire_all()
    return web_session.get(type(obj), obj.id)


def test_only_people_with_a_role_see_meetings_and_only_coordinators_change_them(client, auth, web_session):
    team, meeting = _setup(web_session)
    assert client.get("/c/una/meetings").status_code == 302  # to login
    auth.login("utomstaende@example.se", PASSWORD)
    assert client.get("/c/una/meetings").status_code == 403  # the consultation is public, its work is not
    assert client.get(_path(meeting)).status_code == 404
    auth.logout()
    auth.login(team["officer"].email, PASSWORD)  # a case officer has a role: may look
    assert client.get("/c/una/meetings").status_code == 200
    page = client.get(_path(meeting)).get_data(as_text=True)
    assert "Flytta mötet" not in page and "Du är inte inbjuden till det här mötet." in page
    auth.logout()
    auth.login(team["polis"].email, PASSWORD)
    for path in (
        _path(meeting, "/move"),
        _path(meeting, "/cancel"),
        _path(meeting, "/invitations"),
        "/c/una/meetings/new",
        "/c/una/meetings/plan",
        "/c/una/breaks",
    ):
        assert auth.post(path, {"revision": 0}, token_from="/c/una/meetings").status_code == 403, path
    assert client.get(_path(meeting, "/overview"), headers={"HX-Request": "true"}).status_code == 403
    assert client.get("/c/una/meetings/finns-inte").status_code == 404
    auth.logout()
    auth.login(team["coordinator"].email, PASSWORD)
    page = client.get(_path(meeting)).get_data(as_text=True)
    assert "Flytta mötet" in page and "Skicka inbjudningar till 3 personer" in page


def test_meeting_page_shows_stockholm_time_place_and_video_link(client, auth, web_session):
    team, meeting = _setup(web_session)
    meeting.video_url = "https://meet.jit.si/abcdefghijklmnopqrstuvwx"
    web_session.add(meeting)
    web_session.commit()
    auth.login(team["polis"].email, PASSWORD)
    html = client.get(_path(meeting)).get_data(as_text=True)
    local = meeting.starts_at.astimezone(STOCKHOLM)
    assert f"kl. {local:%H}.00" in html and "Freda-mottagningen, Luleå" in html
    assert 'href="https://meet.jit.si/abcdefghijklmnopqrstuvwx"' in html
    auth.logout()
    # A case officer of the consultation who is not invited sees the meeting, not its video room (issue G).
    auth.login(team["officer"].email, PASSWORD)
    html = client.get(_path(meeting)).get_data(as_text=True)
    assert "abcdefghijklmnopqrstuvwx" not in html and "Skickas till dem som är inbjudna till mötet" in html
    listing = client.get("/c/una/meetings").get_data(as_text=True)
    assert _path(meeting) in listing and "och via videolänk" in listing


def test_coordinator_plans_the_series_and_adds_a_break(client, auth, web_session):
    team, _ = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    today = datetime.now(STOCKHOLM).date()
    response = auth.post(
        "/c/una/meetings/plan",
        {"until": (today + timedelta(days=60)).isoformat()},
        token_from="/c/una/meetings",
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/c/una/meetings")
    count = len(web_session.exec(select(Meeting).where(Meeting.from_series)).all())
    assert count >= 3
    again = auth.post(
        "/c/una/meetings/plan",
        {"until": (today + timedelta(days=60)).isoformat()},
        token_from="/c/una/meetings",
    )
    assert again.status_code == 303
    web_session.expire_all()
    assert len(web_session.exec(select(Meeting).where(Meeting.from_series)).all()) == count
    bad = auth.post(
        "/c/una/breaks",
        {"label": "Sommar", "first_day": "2027-08-15", "last_day": "2027-06-20"},
        token_from="/c/una/meetings",
    )
    assert bad.status_code == 400
    assert "Sista dagen kan inte vara före första dagen." in bad.get_data(as_text=True)
    ok = auth.post(
        "/c/una/breaks",
        {"label": "Sommar", "first_day": "2027-06-20", "last_day": "2027-08-15"},
        token_from="/c/una/meetings",
    )
    assert ok.status_code == 303
    [period] = web_session.exec(select(BreakPeriod)).all()
    assert "Sommar: 20 juni 2027 – 15 aug. 2027" in client.get("/c/una/meetings").get_data(as_text=True)
    removed = auth.post(f"/c/una/breaks/{period.id}/delete", token_from="/c/una/meetings")
    assert removed.status_code == 303
    web_session.expire_all()
    assert web_session.exec(select(BreakPeriod)).all() == []


def test_adding_a_meeting_in_the_past_gives_a_field_error(client, auth, web_session):
    team, _ = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    response = auth.post(
        "/c/una/meetings/new",
        {"date": "2020-01-20", "time": "13:00", "place": "Luleå"},
        token_from="/c/una/meetings",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="date-error"' in html and "Välj en dag och tid som inte har passerat." in html
    missing = auth.post(
        "/c/una/meetings/new", {"date": "", "time": "", "place": ""}, token_from="/c/una/meetings"
    )
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "Ange ett datum." in html and "Ange en starttid." in html


def test_move_send_and_cancel_with_conflict_detection(client, auth, web_session):
    team, meeting = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    sent = auth.post(_path(meeting, "/invitations"), token_from=_path(meeting))
    assert sent.status_code == 303
    assert len(web_session.exec(select(OutboxMessage)).all()) == 3
    new_day = (meeting.starts_at + timedelta(days=1)).astimezone(STOCKHOLM).date()
    moved = auth.post(
        _path(meeting, "/move"),
        {"date": new_day.isoformat(), "time": "09:30", "place": "Boden", "revision": 0},
        token_from=_path(meeting),
    )
    assert moved.status_code == 303
    meeting = _reload(web_session, meeting)
    assert (meeting.place, meeting.revision, meeting.ics_sequence) == ("Boden", 1, 1)
    assert meeting.starts_at.astimezone(STOCKHOLM).strftime("%H:%M") == "09:30"
    assert len(web_session.exec(select(OutboxMessage)).all()) == 6
    # A second coordinator's form still carries revision 0: refused with a clear message, nothing lost.
    stale = auth.post(
        _path(meeting, "/move"),
        {"date": new_day.isoformat(), "time": "15:00", "place": "Kiruna", "revision": 0},
        token_from=_path(meeting),
    )
    assert stale.status_code == 409
    assert "Någon annan ändrade mötet medan du arbetade med det." in stale.get_data(as_text=True)
    assert 'value="Boden"' in stale.get_data(as_text=True)
    assert _reload(web_session, meeting).place == "Boden"
    bad = auth.post(
        _path(meeting, "/move"),
        {"date": "2020-01-01", "time": "25:00", "place": "", "revision": 1},
        token_from=_path(meeting),
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert 'id="time-error"' in html and 'id="place-error"' in html
    past = auth.post(
        _path(meeting, "/move"),
        {"date": "2020-01-01", "time": "13:00", "place": "Boden", "revision": 1},
        token_from=_path(meeting),
    )
    assert past.status_code == 400 and "Välj en dag och tid som inte har passerat." in past.get_data(
        as_text=True
    )
    stale_cancel = auth.post(_path(meeting, "/cancel"), {"revision": 0}, token_from=_path(meeting))
    assert stale_cancel.status_code == 409
    cancelled = auth.post(_path(meeting, "/cancel"), {"revision": 1}, token_from=_path(meeting))
    assert cancelled.status_code == 303
    assert _reload(web_session, meeting).status == MeetingStatus.CANCELLED
    cancels = web_session.exec(select(OutboxMessage).where(OutboxMessage.ics_method == "CANCEL")).all()
    assert len(cancels) == 3
    assert "Det här mötet är inställt." in client.get(_path(meeting)).get_data(as_text=True)


def test_answer_in_the_app_with_htmx_updates_the_overview(client, auth, web_session):
    team, meeting = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    response = auth.post(
        _path(meeting, "/rsvp"),
        {"answer": "via_link", "substitute": 0},
        token_from=_path(meeting),
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "rsvp-changed"
    assert html.lstrip().startswith('<section id="rsvp"') and "Tack, ditt svar är sparat." in html
    invitee = web_session.exec(select(Invitee).where(Invitee.user_id == team["coordinator"].id)).one()
    assert invitee.rsvp == Rsvp.VIA_LINK
    overview = client.get(_path(meeting, "/overview"), headers={"HX-Request": "true"}).get_data(as_text=True)
    assert overview.lstrip().startswith('<section id="overview"')
    assert "Via videolänken: <strong>1</strong>" in overview and "Åsa Öberg" in overview
    missing = auth.post(
        _path(meeting, "/rsvp"), {"substitute": 0}, token_from=_path(meeting), headers={"HX-Request": "true"}
    )
    assert missing.status_code == 400 and "Välj ett svar." in missing.get_data(as_text=True)
    auth.logout()
    auth.login(team["officer"].email, PASSWORD)  # not a standing member, not invited
    assert (
        auth.post(_path(meeting, "/rsvp"), {"answer": "on_site"}, token_from=_path(meeting)).status_code
        == 403
    )


def _rsvp_link(web_session, email):
    message = web_session.exec(select(OutboxMessage).where(OutboxMessage.recipient == email)).first()
    return re.search(r"https://samrad.test(/rsvp/[^?\s]+)\?answer=cannot_attend", message.body_text).group(1)


def test_the_emailed_link_answers_without_login_and_forged_or_expired_links_change_nothing(
    client, auth, web_session
):
    team, meeting = _setup(web_session)
    auth.login(team["coordinator"].email, PASSWORD)
    auth.post(_path(meeting, "/invitations"), token_from=_path(meeting))
    auth.logout()
    link = _rsvp_link(web_session, team["soc"].email)
    page = client.get(link + "?answer=cannot_attend")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert (
        re.search(r'<input checked[^>]*value="cannot_attend"', html) and "Karin Strand" in html
    )  # colleague as substitute
    saved = client.post(
        link,
        data={
            "answer": "cannot_attend",
            "substitute": team["colleague"].id,
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1),
        },
    )
    assert saved.status_code == 200
    assert "Tack, ditt svar är sparat: Kan inte delta." in saved.get_data(as_text=True)
    soc = web_session.exec(select(Invitee).where(Invitee.user_id == team["soc"].id)).one()
    assert (soc.rsvp, soc.substitute_user_id) == (Rsvp.CANNOT_ATTEND, team["colleague"].id)
    assert web_session.exec(
        select(OutboxMessage).where(OutboxMessage.recipient == team["colleague"].email)
    ).one()
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "abd")
    for bad in (forged, "/rsvp/1-kort"):
        response = client.get(bad + "?answer=on_site")
        assert response.status_code == 404
        assert "Länken fungerar inte" in response.get_data(as_text=True)
        token = re.search(r'"X-CSRFToken": "([^"]+)"', response.get_data(as_text=True)).group(1)
        assert client.post(bad, data={"answer": "on_site", "csrf_token": token}).status_code == 404
    web_session.expire_all()
    assert web_session.get(Invitee, soc.id).rsvp == Rsvp.CANNOT_ATTEND
    # Expired: the meeting is over.
    over = web_session.get(Meeting, meeting.id)
    over.starts_at = datetime.now(UTC) - timedelta(hours=3)
    web_session.add(over)
    web_session.commit()
    expired = client.get(link + "?answer=on_site")
    assert expired.status_code == 410 and "Ingenting ändrades." in expired.get_data(as_text=True)
    assert web_session.get(Invitee, soc.id).rsvp == Rsvp.CANNOT_ATTEND


def test_calendar_feed_is_created_fetched_and_revoked(client, auth, web_session):
    team, meeting = _setup(web_session)
    auth.login(team["polis"].email, PASSWORD)
    assert "Du har ingen kalenderadress." in client.get("/calendar-feed").get_data(as_text=True)
    created = auth.post("/calendar-feed", token_from="/calendar-feed")
    url = re.search(
        r'<input type="text" id="feed-url" class="feed-url" '
        r'value="https://samrad.test(/feed/[^"]+\.ics)" readonly>',
        created.get_data(as_text=True),
    ).group(1)
    auth.logout()
    feed = client.get(url)
    assert feed.status_code == 200 and feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = feed.get_data(as_text=True)
    [event] = check_ics(text)
    assert event.uid == f"samrad-meeting-{meeting.public_id}@samrad.test"
    assert Calendar.from_ical(text)["X-WR-CALNAME"] == "Regionalt samråd – mina möten"
    # A calendar program that asks again with the feed's ETag gets 304 and no body while nothing changed.
    assert feed.headers["Cache-Control"] == "private, no-cache" and feed.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": feed.headers["ETag"]})
    assert (again.status_code, again.get_data()) == (304, b"")
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    assert client.get("/feed/" + "x" * 43 + ".ics").status_code == 404
    auth.login(team["polis"].email, PASSWORD)
    assert "Du har en kalenderadress" in client.get("/calendar-feed").get_data(as_text=True)
    revoked = auth.post("/calendar-feed/revoke", token_from="/calendar-feed")
    assert revoked.status_code == 303
    assert client.get(url).status_code == 404


def test_the_meetings_page_lists_a_year_of_past_meetings_and_the_rest_on_request(client, auth, web_session):
    team, _ = _setup(web_session)
    for n in range(1, 31):
        make_meeting(
            web_session, team["consultation"], utcnow() - timedelta(weeks=2 * n), status=MeetingStatus.CLOSED
        )
    web_session.commit()
    auth.login(team["polis"].email, PASSWORD)
    slug = team["consultation"].slug
    page = client.get(f"/c/{slug}/meetings").get_data(as_text=True)
    past = page[page.index('id="past-heading"') :].split("</section>")[0]
    assert past.count("<li><a href=") == 26
    assert f'<a href="/c/{slug}/meetings?earlier=1#past-heading">Visa tidigare möten</a>' in past
    everything = client.get(f"/c/{slug}/meetings?earlier=1").get_data(as_text=True)
    past = everything[everything.index('id="past-heading"') :].split("</section>")[0]
    assert past.count("<li><a href=") == 30 and "Visa tidigare möten" not in past
