"""The logged-in person's own account: password and active login sessions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from samrad import db
from samrad.models import utcnow
from samrad.services import accounts, directory
from samrad.web.forms import ChangePasswordForm, DecisionForm
from samrad.web.security import SESSION_TOKEN_KEY, session_policy

bp = Blueprint("account", __name__, url_prefix="/account")


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
