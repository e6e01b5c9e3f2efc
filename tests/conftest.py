"""Shared fixtures: apps on a fresh database per test, a real PostgreSQL server, clients, login helper."""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from sqlmodel import Session, SQLModel, create_engine

import samrad.models  # noqa: F401  (registers all tables)
from samrad import create_app
from samrad.db import get_engine

TEST_SECRET = "test-secret-key-0123456789abcdef"


# --- SMTP: a real aiosmtpd server on loopback ------------------------------------------------------


class SMTPRecorder:
    """The handler of the test SMTP server: keeps every message it accepted (answered 250).

    ``refuse`` answers 451 to everything. ``hook(envelope)`` runs (in a worker thread, so it may block)
    before a message is accepted; a returned reply string is sent instead of accepting it.
    """

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = False
        self.hook = None
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        if self.hook is not None:
            reply = await asyncio.to_thread(self.hook, envelope)
            if reply:
                return reply
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"

    def message_ids(self) -> list[str]:
        """Message-IDs of the accepted messages in arrival order (repeats included)."""
        return [
            message_from_bytes(raw, policy=policy.default)["Message-ID"].strip() for _, raw in self.messages
        ]


class SMTPServer:
    """aiosmtpd's Controller on a fixed free port, so it can be stopped and started again."""

    def __init__(self):
        self.recorder = SMTPRecorder()
        # aiosmtpd checks readiness by connecting to the configured port, so port 0 does not work.
        self.port = free_port()
        self._controller = None

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def configure(self, app) -> None:
        app.config.update(MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=self.port)


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


# --- PostgreSQL: a real server started for the session ---------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    try:
        candidates.append(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        )
    except FileNotFoundError:
        pass
    for candidate in candidates:
        if candidate and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def postgres_url():
    """Start a throw-away PostgreSQL server (as the postgres user when we are root) and yield its URL."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found; run `make test` (it installs them).")
    workdir = Path(tempfile.mkdtemp(prefix="samrad-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        shutil.chown(workdir, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = workdir / "data", workdir / "server.log"
    port = free_port()

    def run(*args: str) -> None:
        subprocess.run(prefix + list(args), check=True, capture_output=True, cwd=workdir)

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    )
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(log),
        "-o",
        f"-F -p {port} -k {workdir} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "samrad_test")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/samrad_test"
    finally:
        subprocess.run(
            prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
            cwd=workdir,
        )
        shutil.rmtree(workdir, ignore_errors=True)


def make_app(database_url: str, tmp_path: Path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "MAIL_FILE_DIR": str(tmp_path / "mail"),
        "PUBLIC_URL": "https://samrad.test",
        # The suite logs in hundreds of times from one address; tests/web/test_rate_limits.py turns it on.
        "RATE_LIMIT_ENABLED": False,
    }
    config.update(overrides)
    return create_app(config)


def _reset_postgres(engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def schema_app(database_url: str, tmp_path: Path, **overrides):
    """The app on ``database_url`` with every table created and empty (the one way tests get a database;
    the shared PostgreSQL database is emptied, a SQLite one is new)."""
    app = make_app(database_url, tmp_path, **overrides)
    with app.app_context():
        engine = get_engine()
        SQLModel.metadata.create_all(engine)
        if database_url.startswith("postgresql"):
            _reset_postgres(engine)
    return app


def _database_url(request, tmp_path: Path, kind: str, *, in_memory: bool) -> str:
    if kind == "postgresql":
        return request.getfixturevalue("postgres_url")
    return "sqlite://" if in_memory else f"sqlite:///{tmp_path}/test.db"


@pytest.fixture
def app(tmp_path):
    """The web app on a fresh SQLite file (WAL, as in production; in-memory would share one connection)."""
    return schema_app(f"sqlite:///{tmp_path}/web.db", tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request, tmp_path):
    """The app on SQLite (in memory) and on PostgreSQL: for model and service tests that must hold on both."""
    app = schema_app(_database_url(request, tmp_path, request.param, in_memory=True), tmp_path)
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db_app(request, tmp_path):
    """An app whose database several connections share for real (a SQLite file, or PostgreSQL): for
    races and concurrency."""
    app = schema_app(_database_url(request, tmp_path, request.param, in_memory=False), tmp_path)
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
