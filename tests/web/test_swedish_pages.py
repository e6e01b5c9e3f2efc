"""Swedish first, checked on what people see: no English source text on a Swedish page or in a Swedish
e-mail or calendar invitation (and, on the same walk, no id used twice on a page and no date written
the machine's way, "2026-11-09 13:10", instead of through the one formatter).

Every page reachable by links from the start page is visited as four kinds of person on the demo county,
and the e-mails of the everyday flows are rendered; none may contain an English message id whose Swedish
translation differs (a string that bypassed gettext, or a translation that is missing).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from babel.messages.pofile import read_po
from sqlmodel import select

from samrad import db, demo
from samrad.models import Meeting, OutboxMessage, utcnow
from samrad.services import invitations
from tests.conftest import Auth

ROOT = Path(__file__).resolve().parents[2]
PW = "demo-losen-ord-2027"
PEOPLE = (
    "samordnare@demo.samrad.example",
    "handlaggare.lulea@demo.samrad.example",
    "polis@demo.samrad.example",
    "admin@demo.samrad.example",
)
#: Links not worth following: they change state, download data, or leave.
SKIP = re.compile(r"^/(logout|language|static/|feed/)|\.(csv|xlsx|ics)(\?|$)|^/evaluation/")
MAX_PAGES = 70


def _english_phrases() -> list[str]:
    """Literal runs of English source text (three words or more) whose Swedish translation differs."""
    with (ROOT / "samrad/translations/sv/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    phrases = set()
    for message in catalog:
        if not message.id or isinstance(message.id, tuple) or message.id == message.string:
            continue
        for chunk in re.split(r"%\(\w+\)[sd]|%%|[“”\"().,;:!?–]", message.id):
            chunk = chunk.strip(" .,:;–-()")
            if len(chunk.split()) >= 3 and len(chunk) >= 15 and chunk not in str(message.string):
                phrases.add(chunk)
    return sorted(phrases)


PHRASES = _english_phrases()


def _visible_text(body: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", body)
    # Attributes people read (alternative texts, labels, titles) count as well.
    attrs = " ".join(re.findall(r'(?:alt|title|aria-label|placeholder)="([^"]*)"', body))
    return " ".join(html.unescape(text + " " + attrs).split())


def _english_in(text: str) -> list[str]:
    return [p for p in PHRASES if p in text]


def _duplicate_ids(body: str) -> list[str]:
    """An id twice on one page breaks labels, skip links and what assistive technology announces."""
    ids = re.findall(r'\sid="([^"]+)"', body)
    return sorted({f"duplicate id {i}" for i in ids if ids.count(i) > 1})


#: A moment or a date written the machine's way instead of through the one formatter (samrad.i18n); a
#: date field's hint ("Till exempel 2027-03-11.") shows the format to type, and is meant that way.
ISO_MOMENT = re.compile(r"(?<!Till exempel )\b\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?\b")


def _iso_moments(text: str) -> list[str]:
    return sorted({f"ISO date {m}" for m in ISO_MOMENT.findall(text)})


def _seed(app):
    with app.app_context(), db.session_scope() as session:
        demo.seed_demo(session, seed=42, password=PW)


def _crawl(client, visited: list[str]) -> dict[str, list[str]]:
    found, queue, seen = {}, ["/"], set()
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        visited.append(path)
        body = response.get_data(as_text=True)
        text = _visible_text(body)
        problems = _english_in(text) + _duplicate_ids(body) + _iso_moments(text)
        if problems:
            found[path] = problems
        for href in re.findall(r'href="([^"#]+)"', body):
            target = urlsplit(urljoin(path, html.unescape(href)))
            if target.netloc or SKIP.search(target.path):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen:
                queue.append(link)
    return found


def test_the_phrase_list_is_not_empty_and_catches_english():
    assert len(PHRASES) > 200
    assert _english_in("Texten: The e-mail address or the password is wrong, eller något") != []


def test_no_english_on_the_pages_people_reach(app, client):
    _seed(app)
    auth = Auth(client)
    found, visited = {}, []
    for email in PEOPLE:
        auth.login(email, PW)
        found.update({f"{email} {path}": english for path, english in _crawl(client, visited).items()})
        auth.logout()
    found.update({f"anonymous {path}": english for path, english in _crawl(client, visited).items()})
    assert found == {}
    # The walk reached the working pages, not just the start page.
    for part in ("/cases/", "/agenda", "/stats/", "/admin/audit/", "/evaluations"):
        assert any(part in path for path in visited), part
    assert len(visited) > 100


def test_no_english_in_the_e_mails_and_invitations(app):
    _seed(app)
    with app.app_context(), db.session_scope(deliver_mail=False) as session:
        future = session.exec(select(Meeting).where(Meeting.starts_at > utcnow()).order_by(Meeting.starts_at))
        # The demo has invited people to the next meeting already; the one after is new to them.
        assert sum(invitations.send_invitations(session, m, now=utcnow()) for m in list(future)[:2]) > 5
    with app.app_context(), db.session_scope() as session:
        messages = session.exec(select(OutboxMessage)).all()
        assert len(messages) > 5
        found = {}
        for m in messages:
            text = " ".join([m.subject, m.body_text, _visible_text(m.body_html), m.ics.replace("\\n", " ")])
            english = _english_in(" ".join(text.split()))
            if english:
                found[f"{m.recipient}: {m.subject}"] = english
    assert found == {}
