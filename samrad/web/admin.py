"""Administration of the register: municipalities, organisations, people and consultations."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from samrad import db
from samrad.enums import AuditKind, OrganisationType, Role, Sector, VideoProvider, Weekday
from samrad.models import Consultation, Municipality, Organisation, User, get_row, utcnow
from samrad.services import accounts, directory, two_factor
from samrad.urls import external_url
from samrad.web.access import admin_required, viewed
from samrad.web.forms import (
    ConsultationForm,
    DecisionForm,
    MunicipalityForm,
    OrganisationForm,
    UserForm,
    options,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

NO_MUNICIPALITY = 0


def _get(model, object_id: int):
    obj = db.get_session().get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _save(obj, form, values: dict, messages: dict) -> bool:
    """Save a register entry through the one write path; a clash is a message next to its field."""
    try:
        directory.save(db.get_session(), obj, values)
    except directory.Clash as clash:
        getattr(form, clash.field).errors.append(messages[clash.field])
        return False
    return True


def _form_page(template: str, form, status: int, **context):
    return render_template(template, form=form, **context), status


@bp.get("/")
@admin_required
def index():
    s = db.get_session()
    return render_template(
        "admin/index.html",
        counts={
            "municipalities": len(directory.municipalities(s)),
            "organisations": len(directory.organisations(s)),
            "consultations": len(directory.consultations(s)),
        },
    )


# --- Municipalities --------------------------------------------------------------------------------


@bp.get("/municipalities")
@admin_required
def municipalities():
    return render_template(
        "admin/municipalities.html", municipalities=directory.municipalities(db.get_session())
    )


@bp.route("/municipalities/new", methods=["GET", "POST"], defaults={"municipality_id": None})
@bp.route("/municipalities/<int:municipality_id>", methods=["GET", "POST"])
@admin_required
def municipality(municipality_id: int | None):
    obj = _get(Municipality, municipality_id) if municipality_id else Municipality(name="", county="")
    form = MunicipalityForm(obj=obj if municipality_id else None)
    if form.validate_on_submit():
        values = {"name": form.name.data.strip(), "county": form.county.data.strip()}
        if _save(obj, form, values, {"name": _l("This municipality already exists in the county.")}):
            db.commit()
            flash(_l("Saved."), "success")
            return redirect(url_for("admin.municipalities"), code=303)
    return _form_page("admin/municipality.html", form, 400 if form.is_submitted() else 200, obj=obj)


# --- Organisations ---------------------------------------------------------------------------------


@bp.get("/organisations")
@admin_required
def organisations():
    return render_template(
        "admin/organisations.html", organisations=directory.organisations(db.get_session())
    )


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"organisation_id": None})
@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@admin_required
def organisation(organisation_id: int | None):
    s = db.get_session()
    obj = _get(Organisation, organisation_id) if organisation_id else None
    form = OrganisationForm()
    form.municipality.choices = options(
        [(NO_MUNICIPALITY, _l("No municipality"))]
        + [(m.id, f"{m.name} ({m.county})") for m in directory.municipalities(s)]
    )
    if request.method == "GET" and obj is not None:
        form.name.data, form.type.data, form.sector.data = obj.name, obj.type.value, obj.sector.value
        form.county.data, form.municipality.data = obj.county, obj.municipality_id or NO_MUNICIPALITY
    elif request.method == "GET":
        form.sector.data = Sector.PUBLIC_AUTHORITY.value
    if form.validate_on_submit():
        obj = obj or Organisation(
            name="", type=OrganisationType.OTHER, sector=Sector.PUBLIC_AUTHORITY, county=""
        )
        values = {
            "name": form.name.data.strip(),
            "type": OrganisationType(form.type.data),
            "sector": Sector(form.sector.data),
            "county": form.county.data.strip(),
            "municipality_id": form.municipality.data or None,
        }
        if _save(obj, form, values, {"name": _l("An organisation with this name already exists.")}):
            db.commit()
            flash(_l("Saved."), "success")
            return redirect(url_for("admin.organisations"), code=303)
    return _form_page("admin/organisation.html", form, 400 if form.is_submitted() else 200, obj=obj)


# --- People ----------------------------------------------------------------------------------------


@bp.get("/users")
@admin_required
def users():
    s = db.get_session()
    people = directory.users(s)
    return render_template("admin/users.html", users=people, invite_form=DecisionForm())


def _role_choices(s):
    return options(
        (f"{c.id}:{role.value}", f"{c.name} – {role.label}")
        for c in directory.consultations(s)
        for role in Role
    )


def _send_invitation(s, user: User) -> None:
    accounts.invite_user(
        s,
        user,
        now=utcnow(),
        valid_for=timedelta(hours=current_app.config["INVITATION_VALID_HOURS"]),
        link_for=lambda token: external_url("auth.accept_invitation", token=token),
    )


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int | None):
    s = db.get_session()
    obj = _get(User, user_id) if user_id else None
    form = UserForm()
    form.organisations.choices = options((o.id, o.name) for o in directory.organisations(s))
    form.roles.choices = _role_choices(s)
    if request.method == "GET" and obj is not None:
        viewed(AuditKind.USER, obj.id)
        form.name.data, form.email.data, form.locale.data = obj.name, obj.email, obj.locale or ""
        form.is_admin.data, form.is_active.data = obj.is_admin, obj.is_active
        form.organisations.data = [m.organisation_id for m in obj.memberships]
        form.roles.data = [f"{g.consultation_id}:{g.role.value}" for g in directory.roles_of(s, obj)]
        form.send_invitation.data = False
    if form.validate_on_submit():
        is_new = obj is None
        obj = obj or User(email="", name="")
        new_email = accounts.normalise_email(form.email.data)
        email_changed = not is_new and new_email != obj.email
        values = {
            "name": form.name.data.strip(),
            "email": new_email,
            "locale": form.locale.data or None,
            "is_admin": form.is_admin.data,
            "is_active": form.is_active.data,
        }
        if email_changed:
            # A changed address grants nothing (meeting invitations are matched by address) until its
            # owner confirms it through the invitation link sent to it below.
            values["email_confirmed_at"] = None
        if _save(obj, form, values, {"email": _l("Another account already uses this e-mail address.")}):
            organisations = [get_row(s, Organisation, oid) for oid in form.organisations.data]
            accounts.set_memberships(s, obj, organisations)
            grants = {(int(c), Role(r)) for c, r in (value.split(":") for value in form.roles.data)}
            directory.set_roles(s, obj, grants)
            if not obj.is_active:
                accounts.end_other_sessions(s, obj, keep_token=None, now=utcnow())
            if form.send_invitation.data or email_changed:
                _send_invitation(s, obj)
            db.commit()
            if is_new and form.send_invitation.data:
                flash(
                    _l("The account is created and an invitation was sent to %(email)s.", email=obj.email),
                    "success",
                )
            else:
                flash(_l("Saved."), "success")
            return redirect(url_for("admin.users"), code=303)
    return _form_page(
        "admin/user.html",
        form,
        400 if form.is_submitted() else 200,
        obj=obj,
        has_two_factor=obj is not None and two_factor.factor_of(s, obj.id) is not None,
        reset_form=DecisionForm(),
    )


@bp.post("/users/<int:user_id>/two-factor/reset")
@admin_required
def reset_two_factor(user_id: int):
    """Another administrator resets a lost authenticator (never one's own: that would make the second
    factor worthless against a stolen administrator password). The audit log records the reset."""
    obj = _get(User, user_id)
    if obj.id == current_user.id:
        abort(403)
    if not DecisionForm().validate_on_submit():
        abort(400)
    s = db.get_session()
    if two_factor.turn_off(s, obj.id):
        accounts.end_other_sessions(s, obj, keep_token=None, now=utcnow())
        db.commit()
        flash(_l("Two-factor authentication of %(email)s is reset.", email=obj.email), "success")
    return redirect(url_for("admin.user", user_id=obj.id), code=303)


@bp.post("/users/<int:user_id>/invite")
@admin_required
def invite(user_id: int):
    obj = _get(User, user_id)
    if not DecisionForm().validate_on_submit():
        abort(400)
    _send_invitation(db.get_session(), obj)
    db.commit()
    flash(_l("An invitation was sent to %(email)s.", email=obj.email), "success")
    return redirect(url_for("admin.users"), code=303)


# --- Consultations ---------------------------------------------------------------------------------


@bp.get("/consultations")
@admin_required
def consultations():
    return render_template(
        "admin/consultations.html", consultations=directory.consultations(db.get_session())
    )


@bp.route("/consultations/new", methods=["GET", "POST"], defaults={"consultation_id": None})
@bp.route("/consultations/<int:consultation_id>", methods=["GET", "POST"])
@admin_required
def consultation(consultation_id: int | None):
    s = db.get_session()
    obj = _get(Consultation, consultation_id) if consultation_id else None
    form = ConsultationForm()
    orgs = directory.organisations(s)
    form.host_organisation.choices = options((o.id, o.name) for o in orgs)
    form.standing_seats.choices = options((o.id, o.name) for o in orgs)
    fields = (
        "name",
        "slug",
        "county",
        "place",
        "meeting_length_minutes",
        "rhythm_weeks",
        "start_time",
        "case_deadline_days",
        "video_url",
    )
    if request.method == "GET" and obj is not None:
        for field in fields:
            getattr(form, field).data = getattr(obj, field)
        form.host_organisation.data = obj.host_organisation_id
        form.weekday.data, form.video_provider.data = obj.weekday.value, obj.video_provider.value
        form.standing_seats.data = [seat.organisation_id for seat in directory.standing_seats(s, obj)]
    elif request.method == "GET":
        form.video_provider.data = VideoProvider.NONE.value
        form.weekday.data = Weekday.MONDAY.value
    if form.validate_on_submit():
        obj = obj or Consultation(slug="", name="", county="", host_organisation_id=0, place="")
        values = {
            field: value.strip() if isinstance(value := getattr(form, field).data, str) else value
            for field in fields
        }
        values.update(
            host_organisation_id=form.host_organisation.data,
            weekday=Weekday(form.weekday.data),
            video_provider=VideoProvider(form.video_provider.data),
        )
        if _save(obj, form, values, {"slug": _l("Another consultation already uses this short name.")}):
            directory.set_standing_seats(s, obj, set(form.standing_seats.data))
            db.commit()
            flash(_l("Saved."), "success")
            return redirect(url_for("admin.consultations"), code=303)
    return _form_page("admin/consultation.html", form, 400 if form.is_submitted() else 200, obj=obj)
