"""Start page, the consultation's rules, the privacy notice, the accessibility statement, language."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from samrad import db
from samrad.i18n import LOCALES
from samrad.services import access, directory
from samrad.web import start
from samrad.web.access import actor
from samrad.web.forms import DecisionForm
from samrad.web.redirects import safe_path

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def _menu():
    def show_my_cases() -> bool:
        if "show_my_cases" not in g:
            g.show_my_cases = bool(current_user.is_authenticated and access.brings_cases(actor()))
        return g.show_my_cases

    return {"show_my_cases": show_my_cases}


@bp.get("/favicon.ico")
def favicon():
    """Browsers and tools ask for /favicon.ico whatever the page says; the same picture as the page's icon."""
    icon = Path(current_app.static_folder or "", "favicon.svg").read_bytes()
    response = make_response(icon)
    response.mimetype = "image/svg+xml"
    response.cache_control.max_age = 86400
    return response


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("pages/index.html", consultations=directory.consultations(db.get_session()))
    return render_template(
        "pages/index.html", panels=start.panels(), warnings=start.warnings(), decision=DecisionForm()
    )


@bp.get("/rules")
def rules_index():
    consultations = directory.consultations(db.get_session())
    if len(consultations) == 1:
        return redirect(url_for("pages.rules", slug=consultations[0].slug))
    return render_template("pages/rules_index.html", consultations=consultations)


@bp.get("/c/<slug>/rules")
def rules(slug: str):
    consultation = directory.consultation_by_slug(db.get_session(), slug) or abort(404)
    return render_template("pages/rules.html", consultation=consultation)


@bp.get("/privacy")
def privacy():
    cfg = current_app.config
    paragraphs = [p.strip() for p in cfg["PRIVACY_NOTICE"].split("\n\n") if p.strip()]
    return render_template(
        "pages/privacy.html",
        controller=cfg["PRIVACY_CONTROLLER"],
        contact=cfg["PRIVACY_CONTACT"],
        paragraphs=paragraphs,
    )


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html", contact=current_app.config["ACCESSIBILITY_CONTACT"])


@bp.post("/language")
def set_language():
    form = DecisionForm()
    locale = request.form.get("locale")
    if form.validate_on_submit() and locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.commit()
    return redirect(safe_path(request.form.get("next")), code=303)
