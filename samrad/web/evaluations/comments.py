"""Reviewing free-text answers before they appear in reports."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from samrad import db
from samrad.services import evaluations as service
from samrad.web import guard
from samrad.web.access import Action, load_consultation
from samrad.web.evaluations.common import bp, min_respondents
from samrad.web.forms import DecisionForm
from samrad.web.htmx import is_htmx, render


@dataclass(frozen=True)
class CommentItem:
    comment: object
    question: object
    meeting_starts_at: object
    #: What the guard found in the text, shown the way every form shows it.
    feedback: guard.Feedback


def comment_items(pending) -> list[CommentItem]:
    return [
        CommentItem(
            p.comment,
            p.question,
            p.meeting_starts_at,
            guard.Feedback("comment", f"comment-{p.comment.id}-text", p.comment.text, sorted(p.findings)),
        )
        for p in pending
    ]


@bp.get("/c/<slug>/evaluations/comments")
@login_required
def comments(slug: str):
    consultation = load_consultation(slug, Action.REVIEW_COMMENTS)
    return render_template(
        "evaluations/comments.html",
        consultation=consultation,
        pending=comment_items(
            service.pending_comments(db.get_session(), consultation, min_respondents=min_respondents())
        ),
        decision=DecisionForm(),
        min_respondents=min_respondents(),
    )


def _moderate(slug: str, comment_id: str, action, done_message):
    consultation = load_consultation(slug, Action.REVIEW_COMMENTS)
    s = db.get_session()
    comment = service.comment_in(s, consultation, comment_id)
    if comment is None:
        abort(404)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        action(s, comment)
    except service.EvaluationStillOpen:
        abort(409)
    db.commit()
    if not is_htmx():
        flash(done_message, "success")
        return redirect(url_for("evaluations.comments", slug=slug), code=303)
    return render(
        "evaluations/comments.html",
        "evaluations/_comment_done.html",
        message=done_message,
        consultation=consultation,
        pending=[],
        decision=DecisionForm(),
        min_respondents=min_respondents(),
    )


@bp.post("/c/<slug>/evaluations/comments/<comment_id>/release")
@login_required
def release(slug: str, comment_id: str):
    return _moderate(
        slug, comment_id, service.release_comment, _l("Released: the comment appears in reports.")
    )


@bp.post("/c/<slug>/evaluations/comments/<comment_id>/remove")
@login_required
def remove(slug: str, comment_id: str):
    return _moderate(
        slug, comment_id, service.remove_comment, _l("Removed: the comment has been deleted for good.")
    )
