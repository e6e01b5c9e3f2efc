"""Follow-up statistics: the dashboard, its CSV and XLSX exports, and the printable annual report.

Only coordinators and statistics viewers of a consultation (and administrators) see its statistics.
Filters come as GET parameters; a bad value gives a Swedish message next to its field (status 400),
never a 500. Every count shown here is already suppressed by ``samrad.services.statistics``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import AnyOf, NumberRange, Optional, ValidationError

from samrad import db, i18n
from samrad.charts import Datum, bar_chart, line_chart
from samrad.clock import STOCKHOLM
from samrad.enums import AuditKind
from samrad.i18n import format_date
from samrad.models import utcnow
from samrad.periods import (
    PeriodError,
    PeriodKind,
    Term,
    all_years_period,
    month_period,
    term_period,
    year_period,
)
from samrad.services import access, directory
from samrad.services import statistics as service
from samrad.services.access import Action
from samrad.web.access import actor, exported
from samrad.web.forms import WholeNumber, options
from samrad.web.htmx import is_htmx, render

bp = Blueprint("stats", __name__, url_prefix="/stats")

MONTHS = (
    _l("January"),
    _l("February"),
    _l("March"),
    _l("April"),
    _l("May"),
    _l("June"),
    _l("July"),
    _l("August"),
    _l("September"),
    _l("October"),
    _l("November"),
    _l("December"),
)
#: The periods statistics are published for: they nest, so every view can agree (docs/statistics.md).
STANDARD = [PeriodKind.MONTH.value, PeriodKind.TERM.value, PeriodKind.YEAR.value, PeriodKind.ALL.value]
#: Endpoints the evaluation feature may offer; the first that exists is linked from the dashboard.
EVALUATION_ENDPOINTS = ("evaluations.report", "evaluations.reports", "evaluations.index")


class StatisticsFilterForm(FlaskForm):
    """The dashboard's filter (GET, so no CSRF token: it changes nothing)."""

    class Meta:
        csrf = False

    consultation = SelectField(_l("Consultation"), validate_choice=False)
    period = RadioField(
        _l("Period"),
        choices=options(
            [
                (PeriodKind.MONTH.value, _l("Month")),
                (PeriodKind.TERM.value, _l("Term")),
                (PeriodKind.YEAR.value, _l("Year")),
                (PeriodKind.ALL.value, _l("All years")),
            ]
        ),
        validate_choice=False,
        validators=[AnyOf(STANDARD, message=_l("Choose month, term, year or all years."))],
    )
    year = IntegerField(
        _l("Year"),
        validators=[
            Optional(),
            WholeNumber(_l("Enter a year from 2000 to 2100.")),
            NumberRange(2000, 2100, message=_l("Enter a year from 2000 to 2100.")),
        ],
    )
    month = SelectField(
        _l("Month"),
        choices=options((str(i), label) for i, label in enumerate(MONTHS, start=1)),
        validate_choice=False,
        validators=[
            Optional(),
            AnyOf([str(i) for i in range(1, 13)], message=_l("Choose a month in the list.")),
        ],
    )
    term = SelectField(
        _l("Term"),
        choices=options(
            [
                (Term.SPRING.value, _l("Spring term (January–June)")),
                (Term.AUTUMN.value, _l("Autumn term (July–December)")),
            ]
        ),
        validate_choice=False,
        validators=[Optional(), AnyOf([t.value for t in Term], message=_l("Choose spring or autumn term."))],
    )

    def __init__(self, *args, slugs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._slugs = set(slugs)

    def validate_consultation(self, field):
        # Unknown and not permitted look the same, so the message does not tell which consultations exist.
        if field.data not in self._slugs:
            raise ValidationError(_l("Choose a consultation in the list."))

    def resolve_period(self):
        """The chosen period, or None with a message on the field that needs fixing."""
        kind = self.period.data
        needs_year = kind in (PeriodKind.MONTH, PeriodKind.TERM, PeriodKind.YEAR)
        if needs_year and self.year.data is None:
            if not self.year.errors:
                self.year.errors = [_l("Enter a year.")]
            return None
        try:
            if kind == PeriodKind.MONTH:
                return month_period(self.year.data, int(self.month.data or 0))
            if kind == PeriodKind.TERM:
                return term_period(self.year.data, Term(self.term.data or Term.SPRING))
            if kind == PeriodKind.YEAR:
                return year_period(self.year.data)
        except (PeriodError, ValueError):
            self.year.errors = [*self.year.errors, _l("This period cannot be used.")]
            return None
        # All years: the statistics cover the years with cases; this year stands in when there are none.
        this_year = utcnow().astimezone(STOCKHOLM).year
        return all_years_period(this_year, this_year)


def _allowed():
    consultations = access.consultations_where(db.get_session(), actor(), Action.VIEW_STATISTICS)
    if not consultations:
        abort(403)
    return consultations


def _filter_form(consultations, *, annual: bool = False) -> StatisticsFilterForm:
    today = utcnow().astimezone(STOCKHOLM).date()
    defaults = {
        "consultation": consultations[0].slug,
        "period": PeriodKind.YEAR.value,
        "year": today.year,
        "month": str(today.month),
        "term": (Term.SPRING if today.month <= 6 else Term.AUTUMN).value,
    }
    formdata = request.args if request.args else None
    form = StatisticsFilterForm(formdata=formdata, slugs=[c.slug for c in consultations], **defaults)
    form.consultation.choices = options((c.slug, c.name) for c in consultations)
    if annual:
        form.period.data = PeriodKind.YEAR.value
    return form


def _query(*, annual: bool = False):
    """Validate the filter and count: (form, statistics or None)."""
    consultations = _allowed()
    form = _filter_form(consultations, annual=annual)
    valid = form.validate()
    period = form.resolve_period() if not form.period.errors else None
    if not valid or period is None:
        return form, None
    consultation = next(c for c in consultations if c.slug == form.consultation.data)
    stats = service.consultation_statistics(
        db.get_session(), consultation, period, threshold=current_app.config["STATISTICS_MIN_COUNT"]
    )
    return form, stats


def _evaluation_link(slug: str, period=None) -> str | None:
    """The evaluation report for the same consultation and period (its own suppression rules apply)."""
    span = {"first": period.first.isoformat(), "last": period.last.isoformat()} if period else {}
    for endpoint in EVALUATION_ENDPOINTS:
        if endpoint in current_app.view_functions:
            for values in ({"slug": slug, **span}, {"slug": slug}, {}):
                try:
                    return url_for(endpoint, **values)
                except BuildError:
                    continue
    return None


def _chart_data(table) -> list[Datum]:
    return [Datum(row.label, row.count.value, row.count.text) for row in table.rows]


def _month_chart_data(table) -> list[Datum]:
    """Short month names on the chart's axis; the table next to it has the full ones."""
    if table.rows and len(table.rows[0].key) == 4:  # per year (all years)
        return [Datum(row.label, row.count.value, row.count.text) for row in table.rows]
    months = [date.fromisoformat(row.key + "-01") for row in table.rows]
    pattern = "MMM" if len({m.year for m in months}) == 1 else "MMM y"
    return [
        Datum(format_date(m, pattern), row.count.value, row.count.text)
        for m, row in zip(months, table.rows, strict=True)
    ]


def _results(context) -> Markup:
    """The dashboard's tables and charts, rendered once per kept view, filter as asked and language (the
    counts are kept already; rendering ten years of them was most of what was left of the page)."""
    key = ("results", tuple(sorted(context["query"].items())), str(i18n.current_locale()))
    return service.kept_with(
        context["stats"], key, lambda: Markup(render_template("stats/_results.html", **context))
    )


def _context(form, stats):
    context = {
        "form": form,
        "stats": stats,
        "bar_chart": bar_chart,
        "line_chart": line_chart,
        "chart_data": _chart_data,
        "month_chart_data": _month_chart_data,
    }
    if stats is not None:
        context["period_label"] = service.period_label(stats.period)
        context["evaluation_url"] = _evaluation_link(stats.consultation_slug, stats.period)
        context["query"] = request.args.to_dict() or {
            "consultation": stats.consultation_slug,
            "period": stats.period.kind.value,
            "year": stats.period.first.year,
        }
        context["year_query"] = {
            "consultation": stats.consultation_slug,
            "period": PeriodKind.YEAR.value,
            "year": stats.period.first.year,
        }
    return context


def _kept_filter(stats, form) -> Markup:
    """The filter as asked, when it was valid: kept with the view it shows, per choice of consultations
    (another person may see other ones), values and language (it was a fifth of the page)."""
    key = (
        "filter",
        tuple((choice.value, choice.label) for choice in form.consultation.choices),
        tuple(form[name].data for name in ("consultation", "period", "year", "month", "term")),
        str(i18n.current_locale()),
    )
    return service.kept_with(stats, key, lambda: Markup(render_template("stats/_filter.html", form=form)))


@bp.app_template_filter("days")
def days_filter(value) -> str:
    if isinstance(value, str):
        return value
    return format_decimal(value, format="#,##0.#")


@bp.get("/")
@login_required
def index():
    form, stats = _query()
    # htmx swaps only 2xx answers, so the fragment with the filter errors comes back as 200 to htmx.
    status = 200 if stats is not None or is_htmx() else 400
    context = _context(form, stats)
    results = kept_filter = None
    if stats is not None:
        results = _results(context)
        kept_filter = _kept_filter(stats, form)
    return render(
        "stats/index.html",
        "stats/_dashboard.html",
        status,
        results=results,
        kept_filter=kept_filter,
        **context,
    )


def _export(kind: str):
    form, stats = _query()
    if stats is None:
        return render_template("stats/index.html", **_context(form, None)), 400
    rows = service.export_rows(stats)
    period = stats.period
    consultation = directory.consultation_by_slug(db.get_session(), stats.consultation_slug)
    exported(
        AuditKind.STATISTICS,
        f"{period.first}/{period.last} {kind}",
        consultation_id=consultation.id if consultation else None,
    )
    name = f"statistik-{stats.consultation_slug}-{period.first.isoformat()}-{period.last.isoformat()}"
    if kind == "csv":
        body, mimetype = service.to_csv(rows).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        body = service.to_xlsx(stats, rows)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.csv")
@login_required
def export_csv():
    return _export("csv")


@bp.get("/export.xlsx")
@login_required
def export_xlsx():
    return _export("xlsx")


@bp.get("/report")
@login_required
def report():
    """The annual report of one consultation, in the structure of the pilot counties' reporting template."""
    form, stats = _query(annual=True)
    return render_template("stats/report.html", **_context(form, stats)), 200 if stats else 400
