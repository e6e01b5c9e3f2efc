"""Abuse limits on the anonymous pages (issue J 3): per client address and for everyone together, shared
by every worker through the database, a Swedish 429 page, and a /join flood that sends one digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from samrad import db, jobs, ratelimits
from samrad.enums import JobOutcome
from samrad.models import JoinRequest, OutboxMessage, RateLimitCounter, utcnow
from tests.conftest import csrf_from, schema_app
from tests.factories import make_consultation, make_organisation, make_user

ATTACKER = "203.0.113.66"


@pytest.fixture
def limited_app(tmp_path):
    """The app with the limits on and small enough to reach in a test."""
    return schema_app(
        f"sqlite:///{tmp_path}/limits.db",
        tmp_path,
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT_LOGIN="3 per minute",
        RATE_LIMIT_LOGIN_ALL="1000 per minute",
        RATE_LIMIT_JOIN="2 per hour",
        RATE_LIMIT_JOIN_ALL="25 per hour",
        RATE_LIMIT_LINKS="4 per minute",
        RATE_LIMIT_LINKS_ALL="1000 per minute",
    )


def _post(client, path: str, data: dict, address: str):
    environ = {"REMOTE_ADDR": address}
    token = csrf_from(client.get(path, environ_base=environ).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token}, environ_base=environ)


def _login(client, address: str):
    return _post(client, "/login", {"email": "nobody@example.se", "password": "wrong password"}, address)


def test_login_posts_past_the_per_address_limit_get_the_swedish_429_page(limited_app):
    client = limited_app.test_client()
    assert [_login(client, ATTACKER).status_code for _ in range(3)] == [400, 400, 400]
    refused = _login(client, ATTACKER)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert "För många försök" in html and "Vänta några minuter" in html
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Another address is not affected, and looking at the form is never limited.
    assert _login(client, "198.51.100.7").status_code == 400
    assert client.get("/login", environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 200


def test_the_counters_store_no_client_address(limited_app):
    client = limited_app.test_client()
    _login(client, ATTACKER)
    with limited_app.app_context(), db.session_scope() as s:
        keys = [row.key for row in s.exec(select(RateLimitCounter))]
    assert keys and all(ATTACKER not in key and "203.0.113" not in key for key in keys)


def test_two_workers_share_one_count(limited_app, tmp_path):
    """Two app objects on one database stand for two gunicorn workers: the limit holds across them."""
    other_worker = schema_app(
        limited_app.config["DATABASE_URL"], tmp_path, RATE_LIMIT_ENABLED=True, RATE_LIMIT_LOGIN="3 per minute"
    )
    first, second = limited_app.test_client(), other_worker.test_client()
    statuses = [_login(c, ATTACKER).status_code for c in (first, second, first, second)]
    assert statuses == [400, 400, 400, 429]


def test_the_memory_store_can_be_chosen_instead(tmp_path):
    app = schema_app(
        f"sqlite:///{tmp_path}/m.db",
        tmp_path,
        RATE_LIMIT_ENABLED=True,
        RATE_LIMIT_STORAGE_URI="memory://",
        RATE_LIMIT_LOGIN="1 per minute",
    )
    client = app.test_client()
    assert [_login(client, ATTACKER).status_code for _ in range(2)] == [400, 429]
    with app.app_context(), db.session_scope() as s:
        assert s.exec(select(RateLimitCounter)).all() == []


def test_secret_links_are_limited_per_address(limited_app):
    client = limited_app.test_client()
    environ = {"REMOTE_ADDR": ATTACKER}
    guesses = [client.get(f"/rsvp/guess-{n}", environ_base=environ).status_code for n in range(5)]
    assert guesses[:4] == [404, 404, 404, 404] and guesses[4] == 429
    assert client.get("/feed/guess.ics", environ_base=environ).status_code == 429
    assert client.get("/evaluation/guess", environ_base=environ).status_code == 429
    assert client.get("/rsvp/guess", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 404


def _join_form(consultation_id: int, organisation_id: int, n: int) -> dict:
    return {
        "consultation": consultation_id,
        "name": f"<script>alert({n})</script> Ring 070-123 45 67 och skicka pengar",
        "email": f"offer{n}@victim.example",
        "organisation": organisation_id,
        "organisation_name": "",
        "role": "member",
    }


def test_a_join_flood_is_capped_globally_and_tells_coordinators_once_without_the_attackers_text(limited_app):
    with limited_app.app_context(), db.session_scope() as s:
        consultation = make_consultation(s, slug="una", name="Una Norrbotten")
        organisation = make_organisation(s)
        for n in (1, 2):
            make_user(
                s, email=f"samordnare{n}@region.example", roles=["coordinator"], consultation=consultation
            )
        ids = (consultation.id, organisation.id)
    client = limited_app.test_client()
    statuses = [
        _post(client, "/join", _join_form(*ids, n), f"198.51.100.{n}").status_code for n in range(1, 31)
    ]
    # 25 per hour for everyone together; every address stayed under its own 2.
    assert statuses == [303] * 25 + [429] * 5
    with limited_app.app_context(), db.session_scope() as s:
        assert len(s.exec(select(JoinRequest)).all()) == 25
        assert _mail_to(s, "samordnare1@region.example") == []

    now = utcnow()
    with limited_app.app_context():
        assert jobs.run_job("join-request-digest", now) == JobOutcome.OK
        assert jobs.run_job("join-request-digest", now + timedelta(minutes=10)) == JobOutcome.OK
        with db.session_scope() as s:
            for coordinator in ("samordnare1@region.example", "samordnare2@region.example"):
                (digest,) = _mail_to(s, coordinator)
                assert "25 nya förfrågningar om att delta i Una Norrbotten väntar på granskning" in digest
                assert "/c/una/join-requests" in digest
            receipts = [m for m in s.exec(select(OutboxMessage)) if m.recipient.endswith("@victim.example")]
            assert len(receipts) == 25
            for message in [*receipts, *s.exec(select(OutboxMessage))]:
                text = f"{message.subject}\n{message.body_text}\n{message.body_html}"
                assert "script" not in text and "070-123" not in text and "pengar" not in text


def test_the_per_address_join_limit(limited_app):
    with limited_app.app_context(), db.session_scope() as s:
        ids = (make_consultation(s).id, make_organisation(s).id)
    client = limited_app.test_client()
    statuses = [_post(client, "/join", _join_form(*ids, n), ATTACKER).status_code for n in range(3)]
    assert statuses == [303, 303, 429]


def _mail_to(session, address: str) -> list[str]:
    return [
        f"{m.subject}\n{m.body_text}"
        for m in session.exec(select(OutboxMessage).where(OutboxMessage.recipient == address))
    ]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_count_hit_counts_one_window_and_starts_a_new_one_when_it_has_ended(kind, request, tmp_path):
    url = request.getfixturevalue("postgres_url") if kind == "postgresql" else f"sqlite:///{tmp_path}/c.db"
    app = schema_app(url, tmp_path)
    start = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
    with app.app_context():
        engine = db.get_engine()
        hits = [ratelimits.count_hit(engine, "k", window_seconds=60, amount=1, now=start) for _ in range(3)]
        assert hits == [1, 2, 3]
        assert ratelimits.count_hit(engine, "other", window_seconds=60, amount=2, now=start) == 2
        later = start + timedelta(seconds=60)
        assert ratelimits.count_hit(engine, "k", window_seconds=60, amount=1, now=later) == 1
        assert ratelimits.purge_expired(engine, now=later) == 1  # "other" has ended, "k" started again
        assert ratelimits.purge_expired(engine, now=later + timedelta(seconds=60)) == 1
        engine.dispose()
