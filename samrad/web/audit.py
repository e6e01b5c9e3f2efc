"""The audit log for administrators (filters, pages, CSV), and the request's link to it.

Every request is bound to the person making it (:func:`init_app`), so the changes it flushes are
recorded with their author; pages that show case text or an account record the view with
:func:`samrad.web.access.viewed`.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from samrad import db
from samrad.enums import AuditKind, AuditVerb
from samrad.models import utcnow
from samrad.services import audit, directory
from samrad.web.access import admin_required, exported
from samrad.web.forms import options, period_between, requested_page

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

ANONYMOUS = "anonymous"


def _acting() -> audit.Acting:
    if current_user and current_user.is_authenticated:
        return audit.acting_user(current_user)
    return audit.Acting(ANONYMOUS)


def init_app(app: Flask) -> None:
    @app.before_request
    def _bind():
        g.audit_token = audit.bind(_acting)

    @app.teardown_request
    def _unbind(_exc=None):
        token = g.pop("audit_token", None)
        if token is not None:
            audit.unbind(token)


class AuditFilterForm(FlaskForm):
    """The log's filter (GET: it changes nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    verb = SelectField(_l("What was done"), default="")
    kind = SelectField(_l("What"), default="")
    actor = StringField(_l("Who (part of the e-mail address)"), validators=[Optional(), Length(max=254)])
    object_id = StringField(
        _l("Number of the case, account or meeting"), validators=[Optional(), Length(max=64)]
    )
    consultation = SelectField(_l("Consultation"), default="")
    first_day = DateField(_l("From"), validators=[Optional()], description=_l("For example 2027-01-01."))
    last_day = DateField(
        _l("To (inclusive)"), validators=[Optional()], description=_l("For example 2027-06-30.")
    )


def _form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args or None)
    form.verb.choices = options([("", _l("Everything"))] + [(v.value, v.label) for v in AuditVerb])
    form.kind.choices = options([("", _l("Everything"))] + [(k.value, k.label) for k in AuditKind])
    form.consultation.choices = options(
        [("", _l("All"))] + [(str(c.id), c.name) for c in directory.consultations(db.get_session())]
    )
    return form


def _filters(form: AuditFilterForm) -> audit.Filters | None:
    if request.args and not form.validate():
        return None
    period = period_between(form.first_day, form.last_day)
    if period is None:
        return None
    return audit.Filters(
        verb=AuditVerb(form.verb.data) if form.verb.data else None,
        kind=AuditKind(form.kind.data) if form.kind.data else None,
        actor=(form.actor.data or "").strip(),
        object_id=(form.object_id.data or "").strip(),
        consultation_id=int(form.consultation.data) if form.consultation.data else None,
        period=period if form.first_day.data or form.last_day.data else None,
    )


@bp.get("/")
@admin_required
def index():
    form = _form()
    filters = _filters(form)
    page = requested_page()
    rows, more = audit.events(db.get_session(), filters, page=page) if filters else ([], False)
    # Names for the table, from the filter's own list (one query for both).
    consultations = {int(c.value): c.label for c in form.consultation.choices if c.value}
    query = {k: v for k, v in request.args.items() if k != "page"}
    return (
        render_template(
            "admin/audit.html",
            form=form,
            rows=rows,
            page=page,
            more=more,
            query=query,
            consultations=consultations,
        ),
        200 if filters else 400,
    )


@bp.get("/export.csv")
@admin_required
def export():
    form = _form()
    filters = _filters(form)
    if filters is None:
        return render_template(
            "admin/audit.html", form=form, rows=[], page=1, more=False, query={}, consultations={}
        ), 400
    exported(AuditKind.AUDIT_LOG)
    body = audit.export_csv(db.get_session(), filters)
    response = Response(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    stamp = utcnow().astimezone(audit.STOCKHOLM).strftime("%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = f'attachment; filename="granskningslogg-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
