"""Languages and time: Swedish first, English second; every time shown in Europe/Stockholm."""

from __future__ import annotations

from datetime import UTC, datetime, time
from functools import lru_cache

from babel import Locale, dates
from babel.support import NullTranslations
from flask import Flask, g, has_request_context, session
from flask_babel import Domain, get_locale
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from samrad.clock import STOCKHOLM
from samrad.extensions import babel

LOCALES = ("sv", "en")
#: One Babel locale per language for the whole process. Flask-Babel parses the chosen name into a new
#: ``Locale`` on every request, and every kept catalogue and formatted moment is looked up by it: a new
#: object that compares equal costs Babel's field-by-field ``__eq__`` on each lookup (a thousand times on
#: the queue), the same object only an identity check.
_LOCALE_OF = {code: Locale.parse(code) for code in LOCALES}


def locale_of(code: str | None) -> Locale:
    """The process's Babel locale for a language code; Swedish for none or one samrad does not have."""
    return _LOCALE_OF.get(code or "sv", _LOCALE_OF["sv"])


def select_locale() -> Locale:
    """The user's saved choice, then this browser session's choice, else Swedish.

    The browser's Accept-Language is deliberately ignored: a Swedish public service is Swedish unless the
    person asks for English (many work computers here are set up in English).
    """
    if not has_request_context():  # jobs and commands: e-mails use force_locale with the recipient's
        return locale_of("sv")
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return locale_of(current_user.locale)
    if session.get("locale") in LOCALES:
        return locale_of(session["locale"])
    return locale_of("sv")


#: The one way samrad writes a moment, per language (Swedish conventions: "7 dec. 2026 kl. 13.10", the
#: weekday and the full month where a meeting is named, and the time with a full stop).
PATTERNS = {
    "sv": {
        "long": "EEEE d MMMM y 'kl.' HH.mm",
        "short": "d MMM y 'kl.' HH.mm",
        "date_long": "EEEE d MMMM y",
        "date_short": "d MMM y",
        "clock": "HH.mm",
    },
    "en": {
        "long": "EEEE d MMMM y 'at' HH:mm",
        "short": "d MMM y, HH:mm",
        "date_long": "EEEE d MMMM y",
        "date_short": "d MMM y",
        "clock": "HH:mm",
    },
}


def _patterns() -> dict[str, str]:
    return PATTERNS.get(str(current_locale()), PATTERNS["sv"])


def format_datetime(value: datetime, pattern: str) -> str:
    """Babel's formatting in Stockholm time and the request's language, called directly: Flask-Babel's
    wrapper looks up the locale and time zone again on every call (a page formats a hundred times)."""
    return _formatted(value, pattern, current_locale())


@lru_cache(maxsize=4096)
def _formatted(value: datetime, pattern: str, locale: Locale | None) -> str:
    # A page names the same few meetings many times (the queue offers each case the coming meetings):
    # formatting is a pure function of the moment, the pattern and the language, so it is kept.
    return dates.format_datetime(value, pattern, tzinfo=STOCKHOLM, locale=locale)


def current_locale() -> Locale | None:
    """The language Flask-Babel chose for this request (or ``force_locale`` set), read where Flask-Babel
    keeps it: its own ``get_locale`` looks the context up twice on each of a page's hundreds of calls."""
    try:
        kept = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # not chosen yet, or no app context
        return get_locale()
    return kept if kept is not None else get_locale()


class KeptCatalogues(Domain):
    """Flask-Babel's message domain with each language's catalogue kept. Flask-Babel finds the catalogue
    anew for every string translated (through the context, and a cache keyed by the language's name),
    and a page translates hundreds: its own words, and the labels of statuses and kinds. A catalogue never
    changes while the app runs; ``force_locale`` still applies, as it changes the language."""

    def __init__(self, domain: str = "messages") -> None:
        super().__init__(domain=domain)
        self._kept: dict[Locale, NullTranslations] = {}

    def get_translations(self) -> NullTranslations:
        locale = current_locale()
        if locale is None:
            return super().get_translations()
        found = self._kept.get(locale)
        if found is None:
            found = self._kept.setdefault(locale, super().get_translations())
        return found


def translations() -> NullTranslations:
    """The current language's catalogue (for the templates' gettext)."""
    return babel.domain_instance.get_translations()


def format_date(value, pattern: str) -> str:
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(STOCKHOLM).date()
    return dates.format_date(value, pattern, locale=current_locale())


def local_time(value: datetime) -> datetime:
    return value.astimezone(STOCKHOLM)


def clock_time(value: datetime | time | None) -> str:
    """The time of day as each language writes it: ``13.40`` in Swedish, ``13:40`` in English (a moment
    in Stockholm time, or a time of day as it is)."""
    if value is None:
        return ""
    if isinstance(value, time):
        return dates.format_time(value, _patterns()["clock"], locale=current_locale())
    return format_datetime(value, _patterns()["clock"])


def datetime_filter(value: datetime | None, style: str = "short") -> str:
    """``7 dec. 2026 kl. 13.00`` (short) or ``måndag 7 december 2026 kl. 13.00`` (long), Stockholm time."""
    if value is None:
        return ""
    return format_datetime(value, _patterns()["long" if style == "long" else "short"])


def date_filter(value, style: str = "short") -> str:
    """``7 dec. 2026`` (short) or ``måndag 7 december 2026`` (long)."""
    if value is None:
        return ""
    return format_date(value, _patterns()["date_long" if style == "long" else "date_short"])


@lru_cache(maxsize=4096)
def _template_text(locale: Locale | None, message: str, autoescape: bool) -> str:
    # Templates ask for the same few hundred words on every page, each through the catalogue, a Markup
    # and the ``%`` formatting that newstyle gettext always applies (``%%`` is written ``%``). For a text
    # without placeholders all of that is a pure function of the language and the words.
    translated = translations().ugettext(message)
    return (Markup(translated) if autoescape else translated) % {}


@pass_context
def template_gettext(context: Context, message: str, **variables) -> str:
    """Jinja's newstyle ``gettext`` and ``_`` (same result): a text without placeholders is kept per
    language, which a page asks for a hundred times or more; one with placeholders is formatted as
    Jinja's own does, the values escaped in HTML templates."""
    autoescape = context.eval_ctx.autoescape
    if not variables:
        return _template_text(current_locale(), message, autoescape)
    translated = translations().ugettext(message)
    return (Markup(translated) if autoescape else translated) % variables


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    if not isinstance(vars(babel).get("domain_instance"), KeptCatalogues):  # one Babel serves every app
        babel.domain_instance = KeptCatalogues(domain=app.extensions["babel"].default_domain)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # as Flask-Babel does, kept catalogue
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(gettext=template_gettext, _=template_gettext)
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["clock"] = clock_time
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["LOCALES"] = LOCALES
