"""The logged-in person's own account: password, two-factor authentication and active login sessions."""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from ua_parser import parse as parse_user_agent

from samrad import db
from samrad.models import utcnow
from samrad.services import accounts, directory, two_factor
from samrad.web.access import actor
from samrad.web.forms import ChangePasswordForm, CodeForm, DecisionForm
from samrad.web.htmx import hx_redirect, is_htmx
from samrad.web.security import SESSION_TOKEN_KEY, session_policy, throttle_policy

bp = Blueprint("account", __name__, url_prefix="/account")

CODE_FAILED = _l(
    "The code is wrong or has already been used, or too many attempts were made. "
    "Wait a few minutes and try again."
)


@lru_cache(maxsize=512)
def _browser_and_system(user_agent: str) -> tuple[str, str]:
    """("Firefox 133", "Windows 10") from a user-agent string (ua-parser's rules, kept up to date by its
    maintainers); empty parts when it does not say. Cached: the rules are many regular expressions."""
    result = parse_user_agent(user_agent)

    def name(part) -> str:
        if part is None or part.family == "Other":
            return ""
        return f"{part.family} {part.major}" if part.major else part.family

    return name(result.user_agent), name(result.os)


@bp.app_template_filter("browser")
def browser_filter(user_agent: str | None) -> str:
    """What a person recognises in the session list: "Firefox 133 på Windows 10"."""
    browser, system = _browser_and_system((user_agent or "")[:500])
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")


def _page(form: ChangePasswordForm, status: int = 200):
    s = db.get_session()
    sessions = accounts.active_sessions(s, current_user, now=utcnow(), policy=session_policy())
    return render_template(
        "account/index.html",
        form=form,
        end_form=DecisionForm(),
        sessions=sessions,
        current_token=session.get(SESSION_TOKEN_KEY),
        is_current=accounts.is_current,
        roles=directory.roles_of(s, current_user),
        two_factor_on=two_factor.is_enabled(s, current_user.id),
    ), status


@bp.get("/")
@login_required
def index():
    return _page(ChangePasswordForm())


@bp.post("/password")
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        accounts.change_password(
            db.get_session(),
            current_user,
            form.current.data,
            form.password.data,
            now=utcnow(),
            min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        )
    except accounts.LoginRefused:
        form.current.errors.append(_l("The current password is wrong."))
        return _page(form, 400)
    except accounts.PasswordRejected as exc:
        form.password.errors.extend(exc.problems)
        return _page(form, 400)
    db.commit()
    # Changing the password ended every session, this one included: log in again with the new one.
    logout_user()
    session.clear()
    flash(_l("Your password is changed. Log in with the new password."), "success")
    return redirect(url_for("auth.login"), code=303)


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    if DecisionForm().validate_on_submit():
        count = accounts.end_other_sessions(
            db.get_session(), current_user, keep_token=session.get(SESSION_TOKEN_KEY), now=utcnow()
        )
        db.commit()
        flash(_l("%(n)s other sessions were logged out.", n=count), "success")
    return redirect(url_for("account.index"), code=303)


# --- Two-factor authentication ---------------------------------------------------------------------


#: What a person who must set up two-factor authentication can still reach before they have.
ENROLMENT_OPEN = frozenset(
    {
        "account.two_factor_settings",
        "account.start_two_factor",
        "account.confirm_two_factor",
        "auth.logout",
        "pages.set_language",
        "pages.privacy",
        "pages.accessibility",
        "static",
    }
)


def _required() -> bool:
    return current_app.config["TWO_FACTOR_REQUIRED"] and two_factor.required_for(actor())


@bp.before_app_request
def _enrol_first():
    """When the configuration requires it, administrators and coordinators set up two-factor
    authentication before anything else."""
    if (
        not current_app.config["TWO_FACTOR_REQUIRED"]
        or request.endpoint in ENROLMENT_OPEN
        or not current_user
        or not current_user.is_authenticated
        or not _required()
        or two_factor.is_enabled(db.get_session(), current_user.id)
    ):
        return None
    target = url_for("account.two_factor_settings")
    if is_htmx():
        return hx_redirect(target)
    return redirect(target, code=303)


def _two_factor_page(
    form: CodeForm | None = None,
    status: int = 200,
    codes: list[str] | None = None,
    off_form: CodeForm | None = None,
):
    s = db.get_session()
    factor = two_factor.factor_of(s, current_user.id)
    context: dict[str, object] = {
        "factor": factor,
        "required": _required(),
        "form": form or CodeForm(formdata=None),
        "off_form": off_form or CodeForm(prefix="off", formdata=None),
        "codes": codes,
    }
    if factor is not None and factor.enabled_at is None:
        uri = two_factor.provisioning_uri(factor, current_user, issuer=current_app.config["SITE_NAME"])
        context.update(qr_code=two_factor.qr_code(uri), secret=two_factor.grouped_secret(factor))
    if factor is not None and factor.enabled_at is not None:
        context["unused_codes"] = two_factor.unused_recovery_codes(s, current_user.id)
    return render_template("account/two_factor.html", start_form=DecisionForm(), **context), status


@bp.get("/two-factor")
@login_required
def two_factor_settings():
    return _two_factor_page()


@bp.post("/two-factor/start")
@login_required
def start_two_factor():
    if DecisionForm().validate_on_submit() and not two_factor.is_enabled(db.get_session(), current_user.id):
        two_factor.start_enrolment(db.get_session(), current_user, now=utcnow())
        db.commit()
    return redirect(url_for("account.two_factor_settings"), code=303)


@bp.post("/two-factor/confirm")
@login_required
def confirm_two_factor():
    s = db.get_session()
    factor = two_factor.factor_of(s, current_user.id)
    if factor is None or factor.enabled_at is not None:
        return redirect(url_for("account.two_factor_settings"), code=303)
    form = CodeForm()
    if not form.validate_on_submit():
        return _two_factor_page(form, 400)
    try:
        codes = two_factor.confirm_enrolment(s, factor, form.code.data, now=utcnow())
    except two_factor.CodeRefused:
        form.code.errors.append(
            _l("The code is wrong. Check that the phone's clock is right and type the newest code.")
        )
        return _two_factor_page(form, 400)
    db.commit()
    # The codes are shown once, on this answer, and never stored in readable form.
    return _two_factor_page(codes=codes)


@bp.post("/two-factor/recovery-codes")
@login_required
def new_recovery_codes():
    s = db.get_session()
    form = CodeForm()
    if not two_factor.is_enabled(s, current_user.id):
        return redirect(url_for("account.two_factor_settings"), code=303)
    if not form.validate_on_submit():
        return _two_factor_page(form, 400)
    if not _code_accepted(form):
        return _two_factor_page(form, 400)
    codes = two_factor.new_recovery_codes(s, current_user.id)
    db.commit()
    return _two_factor_page(codes=codes)


@bp.post("/two-factor/turn-off")
@login_required
def turn_off_two_factor():
    s = db.get_session()
    form = CodeForm(prefix="off")
    if _required():
        abort(403)
    if not two_factor.is_enabled(s, current_user.id):
        return redirect(url_for("account.two_factor_settings"), code=303)
    if not form.validate_on_submit() or not _code_accepted(form):
        return _two_factor_page(off_form=form, status=400)
    two_factor.turn_off(s, current_user.id)
    db.commit()
    flash(_l("Two-factor authentication is turned off."), "success")
    return redirect(url_for("account.two_factor_settings"), code=303)


def check_code(form: CodeForm, user) -> two_factor.Verified | None:
    """The person's code from the form, checked (and throttled); None with the message next to the field.
    Used at login and before changing one's own second factor."""
    try:
        return two_factor.verify(
            db.get_session(),
            user,
            form.code.data,
            address=request.remote_addr or "",
            now=utcnow(),
            policy=throttle_policy(),
        )
    except two_factor.CodeRefused:
        db.commit()  # the failure record throttles the next guess
        form.code.errors.append(CODE_FAILED)
        return None


def _code_accepted(form: CodeForm) -> bool:
    """A fresh code proves that the person at the keyboard still holds the authenticator."""
    return check_code(form, current_user) is not None
