"""Browser fixtures: the app on a live server over a seeded demo database, headless Chromium via Playwright.

The suite drives Debian's Chromium (Playwright's own browser download is not available here) through
Playwright's sync API. Every test gets a fresh browser context and page; console errors and uncaught
page errors (a Content-Security-Policy violation is reported as a console error) fail the test.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright
from sqlmodel import Session, select
from werkzeug.serving import make_server

import samrad
from samrad import db, demo, migrate
from samrad.enums import MeetingStatus
from samrad.models import Meeting, utcnow
from samrad.services import cases, directory

PW = "granris-myr-pulka-77"
ADMIN = f"admin@{demo.DOMAIN}"
COORDINATOR = f"samordnare@{demo.DOMAIN}"
SLUG = demo.SLUG

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text(encoding="utf-8")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"moderate", "serious", "critical"}


# --- The live server -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app the live server runs. Its database is a fresh copy of the seeded demo county for every
    test (see ``fresh_database``), so no test depends on what another one changed or on their order."""
    tmp = tmp_path_factory.mktemp("browser")
    instance = tmp / "instance"
    instance.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        # create_app takes its instance path from the environment; only for the duration of the call.
        mp.setenv("SAMRAD_INSTANCE_PATH", str(instance))
        app = samrad.create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "browser-test-secret-0123456789abcdef",
                "DATABASE_URL": f"sqlite:///{tmp / 'browser.db'}",
                "MAIL_FILE_DIR": str(tmp / "mail"),
                # Replaced by the real address once the server has its port.
                "PUBLIC_URL": "http://127.0.0.1",
            }
        )
    with app.app_context():
        migrate.upgrade(db.get_engine())
        with db.session_scope() as session:
            demo.seed_demo(session, seed=42, password=PW)
        # Closing every connection folds the write-ahead log into the file, which is then the template.
        db.get_engine().dispose()
    shutil.copyfile(tmp / "browser.db", tmp / "template.db")
    yield app
    with app.app_context():
        db.get_engine().dispose()


class InFlight:
    """WSGI middleware of the live server counting the requests it is still answering. The previous
    test's page may have left one running (an htmx request the closed browser context no longer waits
    for); its connection would write the old database's log into the new copy (seen once as "disk I/O
    error" on the next test's login), so the copy waits until no request is running."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.running = 0
        self.changed = threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.running += 1
        try:
            result = self.wsgi_app(environ, start_response)
            try:
                return [b"".join(result)]  # answered in full before it counts as done
            finally:
                getattr(result, "close", lambda: None)()
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()

    def wait_until_idle(self, timeout: float = 30) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.running == 0, timeout), "a request never ended"


def fresh_database(app) -> None:
    """Put a new copy of the seeded template in place of the live app's database, once no request runs."""
    if isinstance(app.wsgi_app, InFlight):
        app.wsgi_app.wait_until_idle()
    path = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    with app.app_context():
        db.get_engine().dispose()
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(path.with_name("template.db"), path)


@pytest.fixture(scope="session")
def live_server(live_app) -> Iterator[str]:
    """The app on 127.0.0.1 with a random port; yields the base URL."""
    app = live_app
    app.wsgi_app = InFlight(app.wsgi_app)  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = base_url
    thread = threading.Thread(target=server.serve_forever, name="samrad-live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- Playwright ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_driver) -> Iterator[Browser]:
    # The browser keeps the real clock when scripts/time_sweep.sh sets the tests' with libfaketime.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
    browser = playwright_driver.chromium.launch(
        headless=True, executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env
    )
    yield browser
    browser.close()


FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})\b")


class PageErrors:
    """Console errors and uncaught exceptions seen by one page."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._expected_statuses: set[tuple[str, int]] = set()

    def expect_status(self, path: str, status: int) -> None:
        """Declare that ``path`` answers ``status`` on purpose (e.g. 400 for a form with errors).

        Chromium logs every 4xx/5xx response, the page itself included, as a console error.
        """
        self._expected_statuses.add((path, status))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        path = urlsplit(url).path
        if path == "/favicon.ico":
            # Chromium asks for /favicon.ico on its own, before the page's own icon link is read.
            return
        failed = FAILED_LOAD.match(message.text)
        if failed and (path, int(failed.group(1))) in self._expected_statuses:
            return
        self.messages.append(f"console error: {message.text} ({url})")

    def on_page_error(self, error: Error) -> None:
        self.messages.append(f"page error: {error.message}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, live_app, live_server: str, page_errors: PageErrors) -> Iterator[Page]:
    """A fresh database, browser context (Swedish, so the app answers in Swedish) and page for every test."""
    fresh_database(live_app)
    context = browser.new_context(base_url=live_server, locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", page_errors.on_console)
    page.on("pageerror", page_errors.on_page_error)
    try:
        yield page
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a browser test (in its call phase, not as a teardown error) if the page logged errors."""
    result = yield
    errors = getattr(item, "funcargs", {}).get("page_errors")
    if errors is not None and errors.messages:
        pytest.fail("The browser reported errors:\n" + "\n".join(errors.messages), pytrace=False)
    return result


# --- Helpers ---------------------------------------------------------------------------------------------


_AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""


def axe_check(page: Page) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; fail on moderate, serious or critical findings.

    axe is injected with ``page.evaluate`` (DevTools protocol evaluation), which the page's
    Content-Security-Policy does not block, unlike an inline ``<script>`` tag. Returns all violations.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    violations = page.evaluate(_AXE_RUN, AXE_TAGS)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe found accessibility violations on {page.url}:\n" + "\n".join(
        f"- [{v['impact']}] {v['id']}: {v['help']}\n    targets: {', '.join(v['targets'])}" for v in blocking
    )
    return violations


def log_in(page: Page, email: str, password: str = PW) -> None:
    """Log in through the form (fields found by name: labels depend on compiled translations)."""
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: not url.split("?")[0].endswith("/login"))


def next_meeting_id(app) -> str:
    """The public id of the meeting the demo prepared as the next one (its agenda and invitations): the
    first planned meeting that has not started. Not simply the first row of the meetings list: a meeting
    in progress is listed first until it ends, and the demo leaves it as it is (every other Monday
    between 13 and 15, the list's first meeting had no agenda)."""
    with app.app_context(), Session(db.get_engine()) as session:
        public_id = session.scalar(
            select(Meeting.public_id)
            .where(Meeting.status == MeetingStatus.PLANNED, Meeting.starts_at > utcnow())
            .order_by(Meeting.starts_at)
        )
    assert public_id is not None
    return public_id


def queued_case_count(app) -> int:
    """How many of the demo's cases wait in the coordinator's queue. It depends on the day: every
    other Monday after the meeting has ended (15.00) one more held meeting has taken its cases from
    the queue until midnight, when the oldest leaves the demo's half year."""
    with app.app_context(), Session(db.get_engine()) as session:
        consultation = directory.consultation_by_slug(session, SLUG)
        assert consultation is not None
        return len(cases.triage_queue(session, consultation))
