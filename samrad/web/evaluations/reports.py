"""Reports of evaluations: one meeting, a period with trends, and the period's export."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, render_template, request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField
from wtforms.validators import Optional

from samrad import db
from samrad.charts import Series, stacked_percent_bars
from samrad.i18n import date_filter
from samrad.models import Meeting
from samrad.models.evaluation import ScaleOption
from samrad.periods import Period
from samrad.services import evaluations as service
from samrad.web.access import Action, load_consultation
from samrad.web.evaluations.common import bp, evaluation_in, message_page, min_respondents
from samrad.web.forms import period_between

SERIES_CLASSES = {
    ScaleOption.AGREE_FULLY: "chart-s1",
    ScaleOption.AGREE_PARTLY: "chart-s2",
    ScaleOption.DISAGREE: "chart-s3",
}


class PeriodForm(FlaskForm):
    first = DateField(_l("From (meeting date)"), validators=[Optional()])
    last = DateField(_l("To (meeting date)"), validators=[Optional()])

    class Meta:
        csrf = False


def _period_from_request() -> tuple[PeriodForm, Period | None]:
    """The report's period from the query string (either end may be open), or None with a message."""
    form = PeriodForm(request.args, meta={"csrf": False})
    form.validate()
    return form, period_between(form.first, form.last)


def _meeting_label(meeting: Meeting) -> str:
    return date_filter(meeting.starts_at)


def _trend_charts(report: service.PeriodReport) -> dict[int, Markup]:
    charts = {}
    for number, text, points in report.trends:
        if not points:
            continue
        charts[number] = stacked_percent_bars(
            chart_id=f"trend-{number}",
            title=str(_l("%(number)s. %(text)s – answers per meeting", number=number, text=text)),
            description=str(
                _l(
                    "Stacked bars, one per meeting shown on its own, from the oldest to the newest: the "
                    "share who agreed fully, partly or not. The same numbers are in the table below."
                )
            ),
            categories=[_meeting_label(r.meeting) for r, _ in points],
            series=[
                Series(
                    str(option.label),
                    SERIES_CLASSES[option],
                    [float(q.options[i].percent) for _, q in points],
                    [f"{percent_filter(q.options[i].percent)} ({q.options[i].n})" for _, q in points],
                )
                for i, option in enumerate(ScaleOption)
            ],
        )
    return charts


@bp.get("/c/<slug>/evaluations/report")
@login_required
def report(slug: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    form, period = _period_from_request()
    if period is None:
        return render_template(
            "evaluations/report.html", consultation=consultation, period=form, report=None, charts={}
        ), 400
    result = service.period_report(db.get_session(), consultation, period, min_respondents=min_respondents())
    return render_template(
        "evaluations/report.html",
        consultation=consultation,
        period=form,
        report=result,
        charts=_trend_charts(result) if result.shown else {},
        options=list(ScaleOption),
    )


@bp.get("/c/<slug>/evaluations/report.csv")
@login_required
def report_export(slug: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    form, period = _period_from_request()
    if period is None:
        abort(400)
    result = service.period_report(db.get_session(), consultation, period, min_respondents=min_respondents())
    if not result.shown:
        return message_page(
            _l("The report is withheld"),
            _l(
                "No meeting in the period was answered by at least %(k)s people, so nothing is exported. "
                "Choose a longer period.",
                k=min_respondents(),
            ),
            409,
        )
    response = Response(service.export_csv(result, per_meeting=True), mimetype="text/csv")
    first, last = form.first.data, form.last.data
    name = f"utvardering-{consultation.slug}-{first or 'start'}-{last or 'idag'}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/c/<slug>/evaluations/<public_id>")
@login_required
def meeting(slug: str, public_id: str):
    consultation = load_consultation(slug, Action.VIEW_STATISTICS)
    evaluation, meeting_ = evaluation_in(consultation, public_id)
    result = service.meeting_report(db.get_session(), evaluation, min_respondents=min_respondents())
    return render_template(
        "evaluations/meeting.html",
        consultation=consultation,
        evaluation=evaluation,
        meeting=meeting_,
        report=result,
        min_respondents=min_respondents(),
    )


@bp.app_template_filter("percent")
def percent_filter(value: Decimal) -> str:
    """66,67 % in Swedish, 66.67 % in English: at most two decimals, as in the published report."""
    return format_decimal(value, format="#,##0.##") + "\u00a0%"
