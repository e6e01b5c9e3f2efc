"""What the evaluation pages share: the blueprint, the anonymity threshold and the plain message page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from samrad import db
from samrad.models import Meeting, get_row
from samrad.services import evaluations as service

bp = Blueprint("evaluations", __name__)


def min_respondents() -> int:
    return current_app.config["EVALUATION_MIN_RESPONDENTS"]


def message_page(title, message, status: int):
    return render_template("evaluations/message.html", title=title, message=message), status


def evaluation_in(consultation, public_id: str):
    """The evaluation and its meeting, or 404 if either is unknown or belongs to another consultation."""
    s = db.get_session()
    evaluation = service.evaluation_by_public_id(s, public_id)
    if evaluation is None:
        abort(404)
    meeting = get_row(s, Meeting, evaluation.meeting_id)
    if meeting.consultation_id != consultation.id:
        abort(404)
    return evaluation, meeting
