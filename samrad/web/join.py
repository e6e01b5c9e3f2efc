"""Asking to join a consultation (public), and the coordinator's review of the requests."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from samrad import db
from samrad.enums import Role
from samrad.models import JoinRequest, Organisation, utcnow
from samrad.services import access, directory, join_requests
from samrad.urls import external_url
from samrad.web.access import Action, actor, load_consultation, load_join_request_or_404
from samrad.web.forms import ApproveJoinRequestForm, DecisionForm, JoinRequestForm, options
from samrad.web.htmx import is_htmx, render
from samrad.web.limits import limited

bp = Blueprint("join", __name__)

NOT_LISTED = 0


def _organisation_choices(s):
    return [(o.id, o.name) for o in directory.organisations(s)]


CHOOSE = -1


@bp.route("/join", methods=["GET", "POST"])
@limited("join")
def request_form():
    s = db.get_session()
    consultations = directory.consultations(s)
    if not consultations:
        abort(404)
    form = JoinRequestForm()
    form.consultation.choices = options((c.id, c.name) for c in consultations)
    form.organisation.choices = options(
        [
            (CHOOSE, _l("Choose organisation")),
            *_organisation_choices(s),
            (NOT_LISTED, _l("My organisation is not in the list")),
        ]
    )
    if request.method == "GET":
        slug = request.args.get("c")
        chosen = next((c for c in consultations if c.slug == slug), consultations[0])
        form.consultation.data = chosen.id
    status = 200
    if form.validate_on_submit():
        if form.organisation.data == CHOOSE:
            form.organisation.errors.append(_l("Choose your organisation."))
        else:
            consultation = next(c for c in consultations if c.id == form.consultation.data)
            organisation = s.get(Organisation, form.organisation.data) if form.organisation.data else None
            join_requests.submit_join_request(
                s,
                consultation,
                name=form.name.data,
                email=form.email.data,
                organisation=organisation,
                organisation_name=form.organisation_name.data or "",
                role=Role(form.role.data),
                now=utcnow(),
            )
            db.commit()
            return redirect(url_for("join.thanks", c=consultation.slug), code=303)
        status = 400
    elif form.is_submitted():
        status = 400
    return render_template("join/request.html", form=form), status


@bp.get("/join/thanks")
def thanks():
    consultation = directory.consultation_by_slug(db.get_session(), request.args.get("c", ""))
    return render_template("join/thanks.html", consultation=consultation)


def _approve_form(s, consultation, join_request: JoinRequest, formdata=None) -> ApproveJoinRequestForm:
    """Only organisations that take part in the consultation can be chosen (a coordinator cannot let
    anyone into an organisation of another consultation)."""
    form = ApproveJoinRequestForm(formdata=formdata, prefix=f"r{join_request.id}")
    participating = access.participating_organisations(s, consultation)
    form.organisation.choices = options(
        [(CHOOSE, _l("Choose organisation")), *((o.id, o.name) for o in participating)]
    )
    if formdata is None:
        listed = join_request.organisation_id in {o.id for o in participating}
        form.organisation.data = join_request.organisation_id if listed else CHOOSE
        form.role.data = join_request.role.value
    return form


@bp.get("/c/<slug>/join-requests")
@login_required
def review(slug: str):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    s = db.get_session()
    pending = join_requests.pending_requests(s, consultation)
    forms = {r.id: _approve_form(s, consultation, r) for r in pending}
    return render_template(
        "join/review.html", consultation=consultation, pending=pending, forms=forms, decision=DecisionForm()
    )


def _row(consultation, join_request, form, status=200, message=None, *, error=None):
    return render(
        "join/review_row_page.html",
        "join/_request_row.html",
        status=status,
        consultation=consultation,
        r=join_request,
        form=form,
        decision=DecisionForm(),
        message=message,
        error=error,
    )


@bp.post("/c/<slug>/join-requests/<int:request_id>/approve")
@login_required
def approve(slug: str, request_id: int):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    s = db.get_session()
    join_request = load_join_request_or_404(consultation, request_id)
    form = _approve_form(s, consultation, join_request, formdata=request.form)
    if not form.validate_on_submit() or form.organisation.data == CHOOSE:
        if form.organisation.data == CHOOSE:
            form.organisation.errors.append(_l("Choose the organisation the person works for."))
        return _row(consultation, join_request, form, 400)
    organisation = s.get(Organisation, form.organisation.data)
    if organisation is None or not access.may_decide_join(s, actor(), join_request, organisation):
        form.organisation.errors.append(_l("The organisation does not take part in this consultation."))
        return _row(consultation, join_request, form, 400)
    try:
        user = join_requests.approve_join_request(
            s,
            join_request,
            actor=current_user,
            organisation=organisation,
            role=Role(form.role.data),
            now=utcnow(),
            invitation_valid_for=timedelta(hours=current_app.config["INVITATION_VALID_HOURS"]),
            invitation_link_for=lambda token: external_url("auth.accept_invitation", token=token),
            login_link=external_url("auth.login"),
        )
    except join_requests.JoinRequestClosed:
        return _row(
            consultation, join_request, form, 409, error=_l("Someone else has already decided this request.")
        )
    db.commit(then_read=True)
    message = _l("Approved. %(name)s has been sent an e-mail.", name=user.name)
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("join.review", slug=slug), code=303)
    return _row(consultation, join_request, form, message=message)


@bp.post("/c/<slug>/join-requests/<int:request_id>/decline")
@login_required
def decline(slug: str, request_id: int):
    consultation = load_consultation(slug, Action.MANAGE_CONSULTATION)
    s = db.get_session()
    join_request = load_join_request_or_404(consultation, request_id)
    form = _approve_form(s, consultation, join_request)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        join_requests.decline_join_request(s, join_request, actor=current_user, now=utcnow())
    except join_requests.JoinRequestClosed:
        return _row(
            consultation, join_request, form, 409, error=_l("Someone else has already decided this request.")
        )
    db.commit(then_read=True)
    message = _l("Declined. The person has been told by e-mail.")
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("join.review", slug=slug), code=303)
    return _row(consultation, join_request, form, message=message)
