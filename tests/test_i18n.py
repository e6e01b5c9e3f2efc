"""Swedish first: every user-visible string must have a Swedish translation."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parents[1]


def _filled(string) -> bool:
    """A translation is there: every plural form too."""
    return all(string) if isinstance(string, tuple) else bool(string)


def test_every_message_in_the_code_has_a_swedish_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(pot),
            "--no-location",
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "samrad/translations/sv/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and _filled(m.string) and not m.fuzzy}
    missing = sorted(str(m) for m in wanted - translated)
    assert missing == [], "Swedish translation missing for: " + "; ".join(missing)
    assert len(wanted) > 250


def test_placeholders_survive_translation():
    with (ROOT / "samrad/translations/sv/LC_MESSAGES/messages.po").open("rb") as fh:
        for message in read_po(fh):
            if message.id and message.string:
                placeholders = sorted(re.findall(r"%\(\w+\)s", str(message.id)))
                assert placeholders == sorted(re.findall(r"%\(\w+\)s", str(message.string))), message.id


def test_english_can_be_chosen_and_is_remembered(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    assert "<h1>Logga in</h1>" in client.get("/login").get_data(as_text=True)
    response = auth.post("/language", {"locale": "en", "next": "/login"}, token_from="/login")
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Log in</h1>" in html


def test_swedish_is_shown_whatever_the_browser_asks_for(client):
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "<h1>Logga in</h1>" in html


def test_saved_language_of_the_user_wins(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example", locale="en")
    web_session.commit()
    auth.login("anna@kommun.example", PASSWORD)
    assert '<html lang="en">' in client.get("/account/").get_data(as_text=True)


def test_times_are_shown_in_stockholm_time_in_swedish_format(app):
    from datetime import UTC, datetime, time

    from flask_babel import force_locale

    from samrad.i18n import clock_time, date_filter, datetime_filter

    with app.test_request_context("/"):
        winter = datetime(2027, 1, 11, 12, 0, tzinfo=UTC)
        summer = datetime(2027, 6, 14, 11, 0, tzinfo=UTC)
        assert datetime_filter(winter) == "11 jan. 2027 kl. 13.00"
        assert datetime_filter(summer) == "14 juni 2027 kl. 13.00"
        assert datetime_filter(winter, "long") == "måndag 11 januari 2027 kl. 13.00"
        assert date_filter(winter) == "11 jan. 2027"
        assert date_filter(winter.date(), "long") == "måndag 11 januari 2027"
        assert clock_time(summer) == "13.00" and clock_time(time(9, 5)) == "09.05"
    with app.test_request_context("/", headers={"Cookie": ""}):
        with force_locale("en"):
            assert datetime_filter(winter) == "11 Jan 2027, 13:00"
            assert datetime_filter(winter, "long") == "Monday 11 January 2027 at 13:00"
            assert clock_time(time(9, 5)) == "09:05"


def test_kept_catalogues_and_formats_follow_a_forced_language_within_one_request(app):
    """Templates translate through a catalogue kept per language, and formatted moments are kept too;
    an e-mail rendered in the recipient's language inside a Swedish request must still switch both."""
    from datetime import UTC, datetime

    from flask import render_template_string
    from flask_babel import force_locale, lazy_gettext

    page = "{{ _('Log in') }} · {{ label }} · {{ moment|datetime }}"
    moment, label = datetime(2027, 1, 11, 12, 0, tzinfo=UTC), lazy_gettext("Log out")  # as enum labels are
    with app.test_request_context("/"):
        swedish = "Logga in · Logga ut · 11 jan. 2027 kl. 13.00"
        assert render_template_string(page, moment=moment, label=label) == swedish
        with force_locale("en"):
            english = "Log in · Log out · 11 Jan 2027, 13:00"
            assert render_template_string(page, moment=moment, label=label) == english
        assert render_template_string(page, moment=moment, label=label) == swedish


def test_templates_translate_every_message_exactly_as_jinjas_own_gettext(app):
    """Templates' ``_``/``gettext`` keep texts without placeholders per language. For every message of
    both catalogues, in HTML (escaped) and text (not escaped) templates, with and without values, the
    result must be what Jinja's own newstyle gettext gives, and a forced language must change it."""
    from flask_babel import force_locale
    from jinja2 import Environment
    from markupsafe import Markup

    from samrad.i18n import LOCALES, translations

    reference = {}
    for autoescape in (True, False):
        env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
        env.install_gettext_callables(  # type: ignore[attr-defined]
            lambda s: translations().ugettext(s),
            lambda s, p, n: translations().ungettext(s, p, n),
            newstyle=True,
        )
        reference[autoescape] = env
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    sources = ("{{ _(m, **v) }}", "{{ gettext(m, **v) }}")
    pairs = [
        (app.jinja_env.overlay(autoescape=autoescape).from_string(source), env.from_string(source))
        for autoescape, env in reference.items()
        for source in sources
    ]
    checked = 0
    with app.test_request_context("/"):
        for code in LOCALES:
            with (ROOT / "samrad/translations" / code / "LC_MESSAGES/messages.po").open("rb") as po:
                catalogue = read_po(po)
            with force_locale(code):
                for message in catalogue:
                    if not message.id or isinstance(message.id, tuple):
                        continue
                    names = placeholder.findall(message.id)
                    values = {n: (7 if f"%({n})d" in message.id else "<b>&") for n in names}
                    for ours, theirs in pairs:
                        got = ours.render(m=message.id, v=values)
                        assert got == theirs.render(m=message.id, v=values), message.id
                    checked += 1
        assert checked > 1500
        with force_locale("en"):
            english = app.jinja_env.from_string("{{ _('Log in') }}").render()
        swedish = app.jinja_env.from_string("{{ _('Log in') }}").render()
        assert (english, swedish) == ("Log in", "Logga in")
        assert isinstance(app.jinja_env.globals["_"](_context(app), "Log in"), Markup)


def _context(app):
    return app.jinja_env.from_string("").new_context()
