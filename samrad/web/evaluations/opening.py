"""The coordinator's overview of evaluations, and opening and closing one."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlmodel import select

from samrad import db, keys
from samrad.models import Meeting, utcnow
from samrad.services import evaluations as service
from samrad.urls import evaluation_link
from samrad.web.access import Action, load_consultation, may
from samrad.web.evaluations.common import bp, evaluation_in, min_respondents
from samrad.web.evaluations.reports import PeriodForm
from samrad.web.forms import DecisionForm


@bp.get("/c/<slug>/evaluations")
@login_required
def index(slug: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    s = db.get_session()
    is_coordinator = may(Action.MANAGE_CONSULTATION, consultation)
    return render_template(
        "evaluations/index.html",
        consultation=consultation,
        rows=service.evaluations_overview(s, consultation),
        is_coordinator=is_coordinator,
        pending=len(service.pending_comments(s, consultation, min_respondents=min_respondents()))
        if may(Action.REVIEW_COMMENTS, consultation)
        else 0,
        period=PeriodForm(request.args, meta={"csrf": False}),
        decision=DecisionForm(),
        min_respondents=min_respondents(),
        now=utcnow(),
    )


def _meeting_in(consultation, public_id: str) -> Meeting:
    s = db.get_session()
    meeting = s.exec(
        select(Meeting)
        .where(Meeting.public_id == public_id)
        .where(Meeting.consultation_id == consultation.id)
    ).first()
    if meeting is None:
        abort(404)
    return meeting


def open_evaluation(meeting: Meeting):
    """Open the meeting's evaluation with the configured answering time (closing a meeting does too)."""
    return service.open_evaluation(
        db.get_session(),
        meeting,
        now=utcnow(),
        open_for=timedelta(days=current_app.config["EVALUATION_OPEN_DAYS"]),
        link_for=evaluation_link,
    )


@bp.post("/c/<slug>/meetings/<meeting_id>/evaluation")
@login_required
def open_(slug: str, meeting_id: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    meeting = _meeting_in(consultation, meeting_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        open_evaluation(meeting)
    except service.MeetingNotClosed:
        flash(_l("Only a meeting that has been held can be evaluated."), "error")
    except service.EvaluationExists:
        flash(_l("The evaluation of this meeting has already been opened."), "error")
    else:
        db.commit()
        flash(_l("The evaluation is open. Everyone who attended has been sent a link."), "success")
    return redirect(url_for("evaluations.index", slug=slug), code=303)


@bp.post("/c/<slug>/evaluations/<public_id>/close")
@login_required
def close(slug: str, public_id: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    evaluation, _meeting = evaluation_in(consultation, public_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    if service.close_evaluation(db.get_session(), evaluation, now=utcnow(), sealer=keys.sealer(keys.ANSWERS)):
        db.commit()
        flash(_l("The evaluation is closed. No more answers are taken."), "success")
    else:
        flash(_l("The evaluation was already closed."), "info")
    return redirect(url_for("evaluations.index", slug=slug), code=303)
