"""A database that cannot take work — unreachable, locked, full or read-only — gives the Swedish 503 page
with Retry-After and one log line naming why; nothing half-written is left, and the same post succeeds
once the database is back (issue J 5). Any other database error stays a 500: it is a bug, not an outage."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from samrad import db
from samrad.models import JoinRequest
from tests.conftest import csrf_from, free_port, make_app, schema_app
from tests.factories import make_consultation, make_organisation
from tests.processes import fresh_postgres_database


def _world(app) -> dict:
    with app.app_context(), db.session_scope() as s:
        consultation = make_consultation(s, slug="una", name="Una Norrbotten")
        organisation = make_organisation(s)
        return {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "nina@kiruna.example",
            "organisation": organisation.id,
            "organisation_name": "",
            "role": "member",
        }


def _join(client, form: dict, token: str):
    return client.post("/join", data={**form, "csrf_token": token})


def _stored(app) -> int:
    with app.app_context(), db.session_scope() as s:
        return len(s.exec(select(JoinRequest)).all())


def _assert_503(response, caplog, reason: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Tjänsten är tillfälligt otillgänglig" in html and "Inget sparades" in html
    assert '<html lang="sv"' in html
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(line.startswith(f"database unavailable ({reason})") for line in lines), lines


def test_a_locked_sqlite_database_gives_the_503_page_and_the_post_succeeds_later(tmp_path, caplog):
    app = schema_app(f"sqlite:///{tmp_path}/locked.db", tmp_path, SQLITE_BUSY_TIMEOUT_MS=100)
    form = _world(app)
    client = app.test_client()
    token = csrf_from(client.get("/join").get_data(as_text=True))
    blocker = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.ERROR):
            _assert_503(_join(client, form, token), caplog, "locked")
    finally:
        blocker.rollback()
        blocker.close()
    assert _stored(app) == 0
    assert _join(client, form, token).status_code == 303
    assert _stored(app) == 1


def _with_pragma(app, pragma: str | None) -> None:
    """Every new connection of the app runs ``pragma`` after the app's own (None: no longer)."""
    with app.app_context():
        engine = db.get_engine()
        engine.dispose()
        if event.contains(engine, "connect", _run_pragma):
            event.remove(engine, "connect", _run_pragma)
        if pragma:
            _PRAGMA[:] = [pragma]
            event.listen(engine, "connect", _run_pragma)


_PRAGMA: list[str] = []


def _run_pragma(dbapi_conn, _record) -> None:
    dbapi_conn.execute(_PRAGMA[0])


def test_a_read_only_sqlite_database_is_reported_not_a_crash(tmp_path, caplog):
    app = schema_app(f"sqlite:///{tmp_path}/ro.db", tmp_path)
    form = _world(app)
    client = app.test_client()
    token = csrf_from(client.get("/join").get_data(as_text=True))
    _with_pragma(app, "PRAGMA query_only = ON")
    with caplog.at_level(logging.ERROR):
        _assert_503(_join(client, form, token), caplog, "read-only")
    _with_pragma(app, None)
    assert _stored(app) == 0
    assert _join(client, form, token).status_code == 303
    assert _stored(app) == 1


def test_a_full_sqlite_database_is_reported_and_keeps_what_it_acknowledged(tmp_path, caplog):
    app = schema_app(f"sqlite:///{tmp_path}/full.db", tmp_path)
    form = _world(app)
    client = app.test_client()
    token = csrf_from(client.get("/join").get_data(as_text=True))
    with app.app_context(), db.get_engine().connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()
    # The "disk" holds no page more than the database has now: requests fit until a page is needed.
    _with_pragma(app, f"PRAGMA max_page_count = {pages}")
    statuses = []
    with caplog.at_level(logging.ERROR):
        while 503 not in statuses and len(statuses) < 500:
            n = len(statuses)
            statuses.append(_join(client, {**form, "email": f"person{n}@kiruna.example"}, token).status_code)
    acknowledged = statuses.count(303)
    assert statuses == [303] * acknowledged + [503]
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert [line.split(":")[0] for line in lines] == ["database unavailable (full)"]
    _with_pragma(app, None)
    # Every acknowledged request is there, and nothing of the refused one.
    assert _stored(app) == acknowledged
    assert _join(client, {**form, "email": "sist@kiruna.example"}, token).status_code == 303
    assert _stored(app) == acknowledged + 1


def test_an_unreachable_postgresql_server_gives_the_503_page(tmp_path, caplog):
    down = make_app(f"postgresql+psycopg://samrad@127.0.0.1:{free_port()}/samrad", tmp_path)
    with caplog.at_level(logging.ERROR):
        response = down.test_client().get("/join")
    _assert_503(response, caplog, "unreachable")


def test_a_read_only_postgresql_database_gives_the_503_page_and_stores_nothing(
    postgres_url, tmp_path, caplog
):
    url = fresh_postgres_database(postgres_url, "samrad_readonly")
    app = schema_app(url, tmp_path)
    form = _world(app)
    client = app.test_client()
    token = csrf_from(client.get("/join").get_data(as_text=True))
    admin = psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    admin.execute("ALTER DATABASE samrad_readonly SET default_transaction_read_only = on")
    with app.app_context():
        db.get_engine().dispose()  # new connections take the setting
    try:
        with caplog.at_level(logging.ERROR):
            _assert_503(_join(client, form, token), caplog, "read-only")
    finally:
        admin.execute("ALTER DATABASE samrad_readonly SET default_transaction_read_only = off")
        admin.close()
        with app.app_context():
            db.get_engine().dispose()
    try:
        assert _stored(app) == 0
        assert _join(client, form, token).status_code == 303
        assert _stored(app) == 1
    finally:
        with app.app_context():
            db.get_engine().dispose()


def test_other_database_errors_are_no_outage(tmp_path):
    app = schema_app(f"sqlite:///{tmp_path}/x.db", tmp_path)
    with app.app_context(), db.session_scope() as s:
        make_organisation(s, name="Samma")
    with app.app_context(), pytest.raises(IntegrityError) as broken:
        with db.session_scope() as s:
            make_organisation(s, name="Samma")
    assert db.unavailable_reason(broken.value) is None
