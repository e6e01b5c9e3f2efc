"""Login sessions, security headers, cookies and error pages."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.middleware.proxy_fix import ProxyFix

from samrad import db
from samrad.extensions import login_manager
from samrad.models import utcnow
from samrad.services import accounts
from samrad.web import limits
from samrad.web.htmx import hx_redirect, is_htmx

log = logging.getLogger(__name__)

SESSION_TOKEN_KEY = "sid"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]
)


class SessionInterface(SecureCookieSessionInterface):
    """Marks the cookie ``Secure`` whenever the request came over https (or the config forces it)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))


def session_policy() -> accounts.SessionPolicy:
    cfg = current_app.config
    return accounts.SessionPolicy(
        idle=timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]), max_age=timedelta(hours=cfg["SESSION_MAX_HOURS"])
    )


def throttle_policy() -> accounts.ThrottlePolicy:
    """How many wrong passwords or codes are allowed, per account and per client address."""
    cfg = current_app.config
    return accounts.ThrottlePolicy(
        max_failures=cfg["LOGIN_MAX_FAILURES"],
        max_failures_per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]),
        secret=cfg["SECRET_KEY"],
    )


@login_manager.user_loader
def load_user(user_id: str):
    # The signed cookie holds a random token of a server-side UserSession row; logout or the idle
    # timeout revokes the row, so a copied cookie stops working too.
    token = session.get(SESSION_TOKEN_KEY)
    if not token:
        return None
    now = utcnow()
    with db.read_before_writing() as s:
        found = accounts.live_session(s, token, now=now, policy=session_policy())
    if found is None or str(found[0].id) != user_id:
        session.clear()
        return None
    user, row = found
    if accounts.touch_due(row, now):
        db.write_after_response(lambda ws: accounts.touch_session(ws, token, now=now))
    return user


@login_manager.unauthorized_handler
def unauthorized():
    target = url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None)
    if is_htmx():
        return hx_redirect(target)
    flash(_l("Please log in to see that page."), "info")
    return redirect(target)


def _commit_session_touch(response):
    # load_user may move last_seen_at forward, and a page may have recorded a view in the audit log;
    # keep both even on pages that only read.
    try:
        db.run_writes_after_response()
    except Exception:  # a failed touch must never break the page the person asked for
        log.exception("could not record session activity")
    return response


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if current_user and current_user.is_authenticated:
        # Pages behind login may show case details; keep them out of shared and back-button caches.
        headers["Cache-Control"] = "no-store"
    return response


ERROR_PAGES = (
    (400, _l("Something was wrong with the request"), _l("Go back and try again.")),
    (403, _l("You do not have access"), _l("Your account does not have access to this page.")),
    (404, _l("Page not found"), _l("The page does not exist or has been moved.")),
    (405, _l("Not allowed"), _l("That action cannot be done this way.")),
    (
        409,
        _l("Someone else changed this at the same time"),
        _l("Nothing of yours was saved. Go back, reload the page to see the change, and try again."),
    ),
    (413, _l("Too much data"), _l("What you sent was too large. Shorten the text and try again.")),
    (
        429,
        _l("Too many attempts"),
        _l("Too many requests have come in from you or from many at once. Wait a few minutes and try again."),
    ),
    (
        500,
        _l("Something went wrong"),
        _l("Nothing was saved. Try again in a moment; if it happens again, contact the administrator."),
    ),
    (
        503,
        _l("The service is briefly unavailable"),
        _l(
            "Nothing was saved just now. Wait a minute, go back and send again: what you filled in is "
            "usually still in the form. If it goes on, contact the administrator."
        ),
    ),
)
ERROR_TEXT = {status: (title, message) for status, title, message in ERROR_PAGES}
#: The same errors when they stop an htmx change: said at the top of the page the person is on, so there
#: is no page to go back to, and the part they were working on is still there.
IN_PAGE_TEXT = {
    400: _l("Reload the page and try again."),
    403: _l("Your account may not do this. Reload the page to see what you may do."),
    404: _l("What you changed no longer exists. Reload the page to see how things stand."),
    409: _l("Nothing of yours was saved. Reload the page to see the change, and try again."),
    503: _l(
        "Nothing was saved just now. Wait a minute and send again: what you filled in is still here. "
        "If it goes on, contact the administrator."
    ),
}


def _refuse_nul_characters():
    """A NUL character has no place in any field or address, and PostgreSQL refuses to store one (a 500
    there). Refused here, once, for every address, form and query string, with the ordinary 400 page."""
    if "\x00" in request.path:
        abort(400)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    return None


def _database_unavailable(exc: Exception):
    """A database that cannot take work now (unreachable, locked, full, read-only): the Swedish 503 page,
    with Retry-After, and one log line naming the reason. The request's transaction is rolled back at
    teardown, so nothing of it was stored and nothing was acknowledged that could be lost. Any other
    database error is a bug and stays a 500."""
    reason = db.unavailable_reason(exc)
    if reason is None:
        raise exc  # Flask's own handling: logged with its traceback, the 500 page
    log.error("database unavailable (%s): %s", reason, db.describe_error(exc))
    html, status, headers = _error_page(503, *ERROR_TEXT[503])
    return html, status, {**headers, "Retry-After": "60"}


def _changed_meanwhile(_exc: StaleDataError):
    """Another request changed the same row (a case's version) between this request's reading of it and
    its change: the change is refused, not written over the other one."""
    db.get_session().rollback()
    log.info("a change was refused: the row had changed meanwhile")
    return _error_page(409, *ERROR_TEXT[409])


#: Where an htmx change that failed as a whole (refused, gone, changed meanwhile, not allowed, the database
#: away) says so: at the top of the page (``base.html``), not in place of the row or form it was sent from,
#: which stays as it was; form errors come back in place, next to their fields, from the view itself.
PAGE_ERROR = "#page-error"


def _error_page(status: int, title, message, in_page=None) -> tuple[str, int, dict[str, str]]:
    """The error page, or for an htmx change the error box at the top of the page (``in_page``, else
    :data:`IN_PAGE_TEXT`'s words for the status, else the page's)."""
    if not is_htmx():
        return render_template("errors/error.html", status=status, title=title, message=message), status, {}
    message = in_page or IN_PAGE_TEXT.get(status, message)
    html = render_template("errors/_error.html", status=status, title=title, message=message)
    return html, status, {"HX-Retarget": PAGE_ERROR, "HX-Reswap": "innerHTML show:top"}


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.permanent_session_lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    login_manager.session_protection = "basic"
    limits.init_app(app)
    app.before_request(_refuse_nul_characters)
    app.after_request(_commit_session_touch)
    app.after_request(_security_headers)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _error_page(
            400,
            _l("The form had expired"),
            _l("For your security the form could not be sent. Go back, reload the page and try again."),
            in_page=_l("For your security the form could not be sent. Reload the page and try again."),
        )

    app.register_error_handler(SQLAlchemyError, _database_unavailable)
    app.register_error_handler(StaleDataError, _changed_meanwhile)
    for status, title, message in ERROR_PAGES:
        app.register_error_handler(
            status,
            lambda exc, status=status, title=title, message=message: _error_page(status, title, message),
        )
