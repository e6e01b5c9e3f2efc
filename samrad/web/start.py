"""The start page's panels: one per role a person holds in each consultation (see
:func:`samrad.services.access.start_panels`), each also served alone so htmx can refresh it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template
from flask_login import login_required

from samrad import db, jobs, outbox
from samrad.clock import STOCKHOLM
from samrad.enums import JobOutcome, OutboxStatus, Role
from samrad.models import Consultation, utcnow
from samrad.periods import year_period
from samrad.services import access, start
from samrad.services import statistics as statistics_service
from samrad.web.access import Action, actor, load_consultation, may
from samrad.web.forms import DecisionForm

bp = Blueprint("start", __name__)

TEMPLATES = {
    Role.COORDINATOR: "pages/_panel_coordinator.html",
    Role.CASE_OFFICER: "pages/_panel_officer.html",
    Role.MEMBER: "pages/_panel_member.html",
    Role.STATISTICS_VIEWER: "pages/_panel_statistics.html",
}


@dataclass(frozen=True)
class Panel:
    consultation: Consultation
    role: Role
    template: str
    data: object


@dataclass(frozen=True)
class Warnings:
    """What an operator should know: mail that could not be delivered, jobs that failed or do not run."""

    failed_mail: int
    failed_jobs: tuple[str, ...]
    scheduler_running: bool

    @property
    def any(self) -> bool:
        return bool(self.failed_mail or self.failed_jobs or not self.scheduler_running)


def panel_data(consultation: Consultation, role: Role):
    s = db.get_session()
    now = utcnow()
    if role == Role.COORDINATOR:
        return start.coordinator_panel(s, consultation, now=now)
    if role == Role.CASE_OFFICER:
        return start.officer_panel(s, actor(), consultation, now=now)
    if role == Role.MEMBER:
        return start.member_panel(s, actor(), consultation, now=now)
    this_year = now.astimezone(STOCKHOLM).year
    return statistics_service.consultation_statistics(
        s, consultation, year_period(this_year), threshold=current_app.config["STATISTICS_MIN_COUNT"]
    )


def panels() -> list[tuple[Consultation, list[Panel]]]:
    """Every panel of the person's start page, consultation by consultation."""
    who = actor()
    return [
        (
            consultation,
            [
                Panel(consultation, role, TEMPLATES[role], panel_data(consultation, role))
                for role in access.start_panels(who, consultation.id)
            ],
        )
        for consultation in access.consultations_where(db.get_session(), who, Action.VIEW_CONSULTATION)
    ]


def warnings() -> Warnings | None:
    """Operational warnings for the people who see the operations page (None for everyone else)."""
    if not may(Action.VIEW_OPERATIONS):
        return None
    s = db.get_session()
    statuses = jobs.job_statuses(s)
    return Warnings(
        failed_mail=outbox.count_with_status(s, OutboxStatus.FAILED),
        failed_jobs=tuple(str(j.label) for j in statuses if j.last_outcome == JobOutcome.FAILED),
        scheduler_running=jobs.scheduler_running(statuses, utcnow()),
    )


def render_panel(consultation: Consultation, role: Role, **context) -> str:
    panel = Panel(consultation, role, TEMPLATES[role], panel_data(consultation, role))
    return render_template(panel.template, panel=panel, decision=DecisionForm(), **context)


@bp.get("/c/<slug>/start/<panel>")
@login_required
def panel(slug: str, panel: str):
    """One panel of the start page on its own (htmx refreshes it after a change made on it)."""
    try:
        role = Role(panel)
    except ValueError:
        abort(404)
    consultation = load_consultation(slug)
    if role not in access.start_panels(actor(), consultation.id):
        abort(403)
    return render_panel(consultation, role)
