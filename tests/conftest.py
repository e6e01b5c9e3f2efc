"""Shared fixtures: apps on a fresh database per test, a real PostgreSQL server, clients, login helper."""

from __future__ import annotations

import asyncio
import functools
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from email import message_from_bytes, policy
from pathlib import Path

import jinja2
import jinja2.bccache
import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlmodel import Session, SQLModel, create_engine
from werkzeug.routing.rules import Rule

import samrad.models  # noqa: F401  (registers all tables)
from samrad import create_app, passwords
from samrad.db import get_engine

TEST_SECRET = "test-secret-key-0123456789abcdef"

# The suite hashes and verifies passwords thousands of times, and argon2id at the cost samrad uses takes
# 140 ms each on this machine: in this process (not in the servers and commands the tests start) the
# hasher is argon2id at its lowest cost, as Django advises for its own tests. The production profile is
# checked in a fresh interpreter (tests/unit/test_passwords.py).
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
passwords._DUMMY_HASH = passwords._hasher.hash("no such account - timing equaliser")


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


def _keep_url_builders() -> None:
    """Every test builds the app anew (some three thousand times a run), and three quarters of that was
    Werkzeug generating and compiling the same Python function for each URL rule of each app. The
    function reads the rule's converters from the rule it is bound to when it runs, so one compiled per
    rule text, converters and defaults serves every app. Test-only; left out if Werkzeug's internals
    change."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None or getattr(compile_builder, "kept", False):
        return
    kept: dict = {}

    def kept_builder(self, append_unknown=True):
        try:
            key = (
                self.rule,
                self.subdomain,
                self.host,
                tuple(self._trace),
                tuple(
                    (name, type(c), repr({k: v for k, v in vars(c).items() if k != "map"}))
                    for name, c in self._converters.items()
                ),
                repr(sorted((self.defaults or {}).items())),
                append_unknown,
            )
        except AttributeError:
            return compile_builder(self, append_unknown)
        if key not in kept:
            kept[key] = compile_builder(self, append_unknown)
        return kept[key]

    kept_builder.kept = True  # type: ignore[attr-defined]
    Rule._compile_builder = kept_builder  # type: ignore[method-assign]


_keep_url_builders()


class _KeptTemplates(jinja2.BytecodeCache):
    """Templates compiled once a run and shared by every app the tests build (each app has an
    environment of its own, and compiling its templates anew was a third of a typical web test). Jinja
    checks each template's source against the checksum kept with it."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.kept:
            bucket.bytecode_from_string(self.kept[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.kept[bucket.key] = bucket.bytecode_to_string()


_KEPT_TEMPLATES = _KeptTemplates()


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
    app = create_app(config)
    app.jinja_env.bytecode_cache = _KEPT_TEMPLATES
    return app


def _reset_postgres(engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@functools.cache
def _sqlite_schema() -> str:
    """The SQL of every table, index and trigger as ``create_all`` makes them on SQLite, made once a run:
    running it is a tenth of what compiling the DDL again for each of some two thousand SQLite tests
    cost."""
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
        ).all()
    engine.dispose()
    return "BEGIN;\n" + "".join(f"{sql};\n" for (sql,) in rows) + "COMMIT;\n"


def schema_app(database_url: str, tmp_path: Path, **overrides):
    """The app on ``database_url`` with every table created and empty (the one way tests get a database;
    the shared PostgreSQL database is emptied, a SQLite one is new)."""
    app = make_app(database_url, tmp_path, **overrides)
    with app.app_context():
        engine = get_engine()
        if database_url.startswith("postgresql"):
            SQLModel.metadata.create_all(engine)
            _reset_postgres(engine)
        else:
            raw = engine.raw_connection()
            try:
                connection = raw.driver_connection
                # A second app on the same file (two workers) finds the tables made by the first.
                if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                    connection.executescript(_sqlite_schema())
            finally:
                raw.close()
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
