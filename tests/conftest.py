"""Shared fixtures: apps on a fresh database per test, a real PostgreSQL server, clients, login helper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel, create_engine

import samrad.models  # noqa: F401  (registers all tables)
from samrad import create_app
from samrad.db import get_engine
from tests.pg_server import PostgresNotFound, free_port, running_postgres  # noqa: F401  (free_port: used by tests)

TEST_SECRET = "test-secret-key-0123456789abcdef"


# --- PostgreSQL: a real server started for the session ---------------------------------------------


@pytest.fixture(scope="session")
def postgres_url():
    """Start a throw-away PostgreSQL server (as the postgres user when we are root) and yield its URL."""
    try:
        with running_postgres() as url:
            yield url
    except PostgresNotFound as exc:
        pytest.fail(str(exc))


def make_app(database_url: str, tmp_path: Path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "PUBLIC_URL": "https://samrad.test",
    }
    config.update(overrides)
    return create_app(config)


def _reset_postgres(engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app(tmp_path):
    """The web app on a fresh SQLite file (WAL, as in production; in-memory would share one connection)."""
    app = make_app(f"sqlite:///{tmp_path}/web.db", tmp_path)
    with app.app_context():
        SQLModel.metadata.create_all(get_engine())
    yield app


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, tmp_path):
    """The app on SQLite and on PostgreSQL: for model and service tests that must hold on both."""
    if request.param == "sqlite":
        app = make_app("sqlite://", tmp_path)
        with app.app_context():
            SQLModel.metadata.create_all(get_engine())
        yield app
        return
    url = request.getfixturevalue("postgres_url")
    app = make_app(url, tmp_path)
    with app.app_context():
        engine = get_engine()
        SQLModel.metadata.create_all(engine)
        _reset_postgres(engine)
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture
def session(any_db_app):
    """A session for service tests, inside an app context (services render e-mail templates)."""
    with any_db_app.app_context(), Session(get_engine(), expire_on_commit=False) as s:
        yield s


@pytest.fixture
def web_session(app):
    """A session for arranging data in web tests. It deliberately pushes no app context: the test
    client would otherwise reuse that context (and its ``g``) for every request."""
    # A plain engine (deferred BEGIN): in WAL mode its reads never block the app's writes.
    engine = create_engine(app.config["DATABASE_URL"])
    with Session(engine, expire_on_commit=False) as s:
        yield s
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


class Auth:
    """Log in and out through the real forms (with CSRF), like a person would."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path).get_data(as_text=True))

    def login(self, email: str, password: str):
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": self.token()}
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.token("/")})

    def post(self, path: str, data: dict | None = None, *, token_from: str | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from or path))
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)
