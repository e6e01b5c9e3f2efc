"""The operations page: scheduled jobs, the e-mail outbox, and undelivered e-mail to try again.

Administrators and coordinators see whether the scheduler and its jobs run and how much e-mail waits.
The undelivered messages themselves (recipient, subject, reason; never the body) and retrying them are
for administrators only: a message is not tied to one consultation, so a coordinator would see the
work of other consultations.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlmodel import select

from samrad import db, jobs, outbox
from samrad.enums import OutboxStatus
from samrad.models import OutboxMessage, utcnow
from samrad.web.access import Action, admin_required, may, operations_required
from samrad.web.forms import DecisionForm

bp = Blueprint("health", __name__, url_prefix="/admin/health")


@bp.app_context_processor
def _nav():
    def show_operations_link() -> bool:
        if "show_operations_link" not in g:
            g.show_operations_link = bool(
                current_user and current_user.is_authenticated and may(Action.VIEW_OPERATIONS)
            )
        return g.show_operations_link

    return {"show_operations_link": show_operations_link}


@bp.get("/")
@operations_required
def index():
    s = db.get_session()
    now = utcnow()
    statuses = jobs.job_statuses(s)
    return render_template(
        "admin/health.html",
        statuses=statuses,
        scheduler_running=jobs.scheduler_running(statuses, now),
        counts=outbox.counts_by_status(s),
        messages=outbox.undelivered(s) if may(Action.VIEW_ALL_MAIL) else [],
        sees_messages=may(Action.VIEW_ALL_MAIL),
        failed=outbox.counts_by_status(s)[OutboxStatus.FAILED],
        form=DecisionForm(),
    )


@bp.post("/messages/<int:message_id>/retry")
@admin_required
def retry(message_id: int):
    if not DecisionForm().validate_on_submit():
        abort(400)
    s = db.get_session()
    message = s.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    if outbox.retry(s, message, now=utcnow()):
        db.commit()
        flash(
            _l(
                "The message to %(recipient)s will be sent again within a minute.",
                recipient=message.recipient,
            ),
            "success",
        )
    else:
        flash(_l("That message has already been sent or is being sent."), "error")
    return redirect(url_for("health.index"), code=303)


@bp.post("/messages/retry-failed")
@admin_required
def retry_failed():
    if not DecisionForm().validate_on_submit():
        abort(400)
    s = db.get_session()
    failed = s.exec(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).all()
    now = utcnow()
    for message in failed:
        outbox.retry(s, message, now=now)
    db.commit()
    flash(_l("%(n)s messages will be sent again within a minute.", n=len(failed)), "success")
    return redirect(url_for("health.index"), code=303)
