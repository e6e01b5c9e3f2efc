"""Logging in (password, then a code when the person has two-factor authentication) and out, and
setting a password through an invitation link."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from samrad import db
from samrad.enums import AuditKind, AuditVerb
from samrad.models import User, get_row, utcnow
from samrad.services import accounts, audit, two_factor
from samrad.web.account import check_code
from samrad.web.forms import CodeForm, DecisionForm, LoginForm, SetPasswordForm
from samrad.web.limits import limited
from samrad.web.redirects import safe_path
from samrad.web.security import SESSION_TOKEN_KEY, throttle_policy

bp = Blueprint("auth", __name__)

#: Between a correct password and the code: the account, when, and where to go afterwards.
PENDING_KEY = "second_factor"
#: The time allowed to type the code after the password.
PENDING_FOR = timedelta(minutes=5)

LOGIN_FAILED = _l(
    "The e-mail address or the password is wrong, or too many attempts were made. "
    "Wait a few minutes and try again."
)


def _log_in(user) -> None:
    s = db.get_session()
    locale = session.get("locale")
    # A fresh session on every login: nothing from before the login (fixation) survives.
    session.clear()
    if locale:
        session["locale"] = locale
    session[SESSION_TOKEN_KEY] = accounts.start_session(
        s, user, user_agent=request.user_agent.string, now=utcnow()
    )
    login_user(user)
    with audit.acting_as(audit.acting_user(user)):
        audit.record(s, AuditVerb.LOGGED_IN, AuditKind.USER, user.id, now=utcnow())


@bp.route("/login", methods=["GET", "POST"])
@limited("login")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        s = db.get_session()
        try:
            user = accounts.authenticate(
                s,
                form.email.data,
                form.password.data,
                address=request.remote_addr or "",
                now=utcnow(),
                policy=throttle_policy(),
            )
        except accounts.LoginRefused:
            db.commit()  # keep the failure record: it is what throttles the next guess
            form.password.errors.append(LOGIN_FAILED)
            status = 400
        else:
            if two_factor.is_enabled(s, user.id):
                db.commit()  # keeps the cleared failure count and a rehashed password
                locale = session.get("locale")
                session.clear()
                if locale:
                    session["locale"] = locale
                session[PENDING_KEY] = {
                    "user": user.id,
                    "at": utcnow().isoformat(),
                    "next": safe_path(request.args.get("next")),
                }
                return redirect(url_for("auth.second_factor"), code=303)
            _log_in(user)
            db.commit()
            return redirect(safe_path(request.args.get("next")), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


def _pending_user() -> tuple[User | None, str]:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, ""
    try:
        started = datetime.fromisoformat(pending["at"])
        user = db.get_session().get(User, int(pending["user"]))
    except (KeyError, TypeError, ValueError):
        return None, ""
    if user is None or not user.is_active or utcnow() - started > PENDING_FOR:
        return None, ""
    return user, safe_path(pending.get("next"))


@bp.route("/login/code", methods=["GET", "POST"])
@limited("login")
def second_factor():
    """The second step of logging in: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    user, target = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_l("Log in again: the time for the code ran out."), "info")
        return redirect(url_for("auth.login"), code=303)
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        verified = check_code(form, user)
        if verified is None:
            status = 400
        else:
            _log_in(user)
            db.commit()
            if verified.recovery_code:
                left = two_factor.unused_recovery_codes(db.get_session(), user.id)
                flash(
                    _l(
                        "You used a recovery code; %(n)s are left. Make new ones on your account page.",
                        n=left,
                    ),
                    "info",
                )
            return redirect(target, code=303)
    elif form.is_submitted():
        status = 400
    return render_template("auth/second_factor.html", form=form), status


@bp.post("/logout")
def logout():
    form = DecisionForm()
    if form.validate_on_submit():
        token = session.get(SESSION_TOKEN_KEY)
        if token:
            accounts.end_session(db.get_session(), token, now=utcnow())
            db.commit()
        logout_user()
        session.clear()
        flash(_l("You are logged out."), "success")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limited("links", methods=("GET",))
@limited("login")
def accept_invitation(token: str):
    s = db.get_session()
    now = utcnow()
    invitation, state = accounts.find_invitation(s, token, now=now)
    if state is not accounts.InvitationState.VALID or invitation is None:
        return render_template("auth/invitation_invalid.html", state=state.value), 410 if invitation else 404
    invited = get_row(s, User, invitation.user_id)
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            with audit.acting_as(audit.acting_user(invited)):
                user = accounts.accept_invitation(
                    s,
                    invitation,
                    form.password.data,
                    now=now,
                    min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                )
                s.flush()
        except accounts.PasswordRejected as exc:
            form.password.errors.extend(exc.problems)
            status = 400
        except accounts.InvitationUsed:
            s.rollback()
            return render_template("auth/invitation_invalid.html", state="used"), 410
        else:
            if current_user.is_authenticated:
                logout_user()
            # A person with an authenticator still needs it: the link proves the address, not the person.
            if two_factor.is_enabled(s, invited.id or 0):
                db.commit()
                flash(
                    _l("Your password is set. Log in with it and a code from your authenticator app."),
                    "success",
                )
                return redirect(url_for("auth.login"), code=303)
            _log_in(user)
            db.commit()
            flash(_l("Your password is set and you are logged in."), "success")
            return redirect(url_for("pages.index"), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("auth/invitation.html", form=form, user=invited, token=token), status
