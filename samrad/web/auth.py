"""Logging in and out, and setting a password through an invitation link."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from samrad import db
from samrad.models import utcnow
from samrad.services import accounts
from samrad.web.forms import DecisionForm, LoginForm, SetPasswordForm
from samrad.web.security import SESSION_TOKEN_KEY

bp = Blueprint("auth", __name__)

LOGIN_FAILED = _l("The e-mail address or the password is wrong, or too many attempts were made. "
                  "Wait a few minutes and try again.")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.index")


def _throttle_policy() -> accounts.ThrottlePolicy:
    cfg = current_app.config
    return accounts.ThrottlePolicy(
        max_failures=cfg["LOGIN_MAX_FAILURES"],
        max_failures_per_address=cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        window=timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]),
        secret=cfg["SECRET_KEY"],
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


@bp.route("/login", methods=["GET", "POST"])
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
                policy=_throttle_policy(),
            )
        except accounts.LoginRefused:
            db.commit()  # keep the failure record: it is what throttles the next guess
            form.password.errors.append(LOGIN_FAILED)
            status = 400
        else:
            _log_in(user)
            db.commit()
            return redirect(_safe_next(request.args.get("next")), code=303)
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


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
def accept_invitation(token: str):
    s = db.get_session()
    now = utcnow()
    invitation, state = accounts.find_invitation(s, token, now=now)
    if state is not accounts.InvitationState.VALID:
        return render_template("auth/invitation_invalid.html", state=state.value), 410 if invitation else 404
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(
                s, invitation, form.password.data, now=now, min_length=current_app.config["PASSWORD_MIN_LENGTH"]
            )
        except accounts.PasswordRejected as exc:
            form.password.errors.extend(exc.problems)
            status = 400
        else:
            if current_user.is_authenticated:
                logout_user()
            _log_in(user)
            db.commit()
            flash(_l("Your password is set and you are logged in."), "success")
            return redirect(url_for("pages.index"), code=303)
    elif form.is_submitted():
        status = 400
    user = s.get(accounts.User, invitation.user_id)
    return render_template("auth/invitation.html", form=form, user=user, token=token), status
