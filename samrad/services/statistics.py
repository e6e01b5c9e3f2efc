"""Follow-up statistics for a consultation and a period: SQL aggregates, suppressed before they leave.

Read-only queries returning dataclasses. Every count is computed with ``GROUP BY`` in the database; the
number of statements does not depend on the amount of data (a test counts them). Python only handles
aggregate rows, whose number is bounded by the vocabularies, the register and the period's months.

Which cases count (docs/statistics.md):
- never fictitious training cases (``Case.is_training``);
- *submitted* in the period: ``submitted_at`` inside it, not a draft, not withdrawn; the breakdowns
  (category, sex, …) describe these cases;
- *discussed* in the period: on the agenda of a meeting in the period that was not cancelled, marked as
  discussed; "meetings per case" counts such meetings per case;
- *waiting time*: days from submission to the first meeting where the case was discussed, for cases
  whose first discussion falls in the period.
Attendance counts meetings held in the period that a standing member of the organisation attended.
Presenters are left out: their organisation would tell where a case came from.

Periods are standard (month, term, year, all years) and the number of cases submitted in each is
decided once for the consultation's whole history (:func:`samrad.statistics.publish_periods`), so every
view agrees. Breakdowns, discussed cases and waiting time are published for a year only.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar, cast

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from samrad import db
from samrad.clock import STOCKHOLM
from samrad.enums import (
    AgeBand,
    Attendance,
    CaseCategory,
    CaseStatus,
    Exposer,
    InviteeKind,
    MeetingStatus,
    OrganisationType,
    RiskAssessment,
    Sex,
)
from samrad.i18n import format_date
from samrad.models import (
    AgendaItem,
    Case,
    CaseCategoryEntry,
    CaseExposerEntry,
    Consultation,
    Invitee,
    Meeting,
    Membership,
    Municipality,
    Organisation,
    StandingSeat,
)
from samrad.periods import Period, PeriodKind, all_years_period, month_key
from samrad.statistics import (
    HIDDEN_TEXT,
    DaySummary,
    Mark,
    Published,
    Relation,
    Row,
    Table,
    group_small_municipalities,
    publish_count,
    publish_periods,
    publish_table,
    summarise_days,
)

NOT_COUNTED = (CaseStatus.DRAFT, CaseStatus.WITHDRAWN)
UNKNOWN_MUNICIPALITY = "unknown"
#: Periods whose views carry the breakdowns (the annual report's unit).
WITH_BREAKDOWNS = (PeriodKind.YEAR,)


class NotAStandardPeriod(ValueError):
    """Statistics are published for a month, a term, a year or all years only (docs/statistics.md)."""


def period_key(period: Period) -> str:
    """The period's key in the published hierarchy; a custom period has none and is refused."""
    if period.key is None:
        raise NotAStandardPeriod(period.kind)
    return period.key


# --- Results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingMonth:
    month: date
    label: str
    held: int


@dataclass(frozen=True)
class Statistics:
    """Everything the dashboard, the annual report and the exports show. Counts are already suppressed."""

    consultation_slug: str
    consultation_name: str
    period: Period
    threshold: int
    #: Meetings are the consultation's own activity, not facts about cases: shown exactly.
    meetings_held: int
    meetings_cancelled: int
    meetings_planned: int
    meetings_by_month: tuple[MeetingMonth, ...]
    cases_submitted: Published
    #: None outside a year's view (discussions do not add up over months: docs/statistics.md).
    cases_discussed: Published | None
    #: None when fewer than ``threshold`` cases were first discussed in the period, or outside a year.
    waiting_days: DaySummary | None
    #: Per month (per year for all years), from the hierarchy every view shares.
    cases_by_month: Table
    meetings_per_case: Table | None
    #: The breakdowns of submitted cases, in the order they are shown.
    breakdowns: tuple[Table, ...]
    attendance: Table
    municipalities_taking_part: int
    municipalities_with_seat: int

    @property
    def tables(self) -> tuple[Table, ...]:
        """Every table of counts, in the order of the dashboard and the exports."""
        tables = (
            self.summary,
            self.meetings_by_month_table,
            self.cases_by_month,
            self.meetings_per_case,
            *self.breakdowns,
            self.attendance,
        )
        return tuple(table for table in tables if table is not None)

    @property
    def yearly(self) -> bool:
        """Whether the view carries the breakdowns, discussed cases and waiting time (a year does)."""
        return self.period.kind in WITH_BREAKDOWNS

    @property
    def has_meetings(self) -> bool:
        return self.meetings_held + self.meetings_cancelled + self.meetings_planned > 0

    @property
    def summary(self) -> Table:
        t = self.threshold
        rows: tuple[Row, ...] = (
            Row("meetings_held", str(_l("Meetings held")), Published(self.meetings_held, Mark.SHOWN, t)),
            Row(
                "meetings_cancelled",
                str(_l("Meetings cancelled")),
                Published(self.meetings_cancelled, Mark.SHOWN, t),
            ),
            Row(
                "meetings_planned",
                str(_l("Meetings planned, not yet closed")),
                Published(self.meetings_planned, Mark.SHOWN, t),
            ),
            Row("cases_submitted", str(_l("Cases submitted")), self.cases_submitted),
        )
        if self.cases_discussed is not None:
            rows += (Row("cases_discussed", str(_l("Cases discussed")), self.cases_discussed),)
        return Table("summary", _l("Summary"), Relation.INDEPENDENT, rows, None, t)

    @property
    def meetings_by_month_table(self) -> Table:
        rows = tuple(
            Row(m.month.strftime("%Y-%m"), m.label, Published(m.held, Mark.SHOWN, self.threshold))
            for m in self.meetings_by_month
        )
        return Table(
            "meetings_by_month",
            _l("Meetings held per month"),
            Relation.INDEPENDENT,
            rows,
            None,
            self.threshold,
        )

    def waiting_rows(self) -> tuple[tuple[str, str, float | int | str], ...]:
        """Median, shortest and longest waiting time in days; ``..`` for all three when too few cases."""
        w = self.waiting_days
        labels = (("median", _l("Median")), ("shortest", _l("Shortest")), ("longest", _l("Longest")))
        if w is None:
            return tuple((key, str(label), HIDDEN_TEXT) for key, label in labels)
        median = int(w.median) if w.median == int(w.median) else w.median
        return tuple(
            (key, str(label), value)
            for (key, label), value in zip(labels, (median, w.shortest, w.longest), strict=True)
        )


@dataclass(frozen=True)
class ExportRow:
    table_key: str
    table: str
    row_key: str
    row: str
    value: int | float | str


WAITING_TABLE = "waiting_days"


def export_rows(stats: Statistics) -> list[ExportRow]:
    """Every published cell as a flat row: what the CSV, XLSX and JSON exports contain. No case text."""
    rows = []
    for table in stats.tables:
        title = str(table.title)
        for row in table.rows:
            rows.append(ExportRow(table.key, title, row.key, row.label, row.count.export_value))
        if table.total is not None:
            rows.append(ExportRow(table.key, title, "total", str(_l("Total")), table.total.export_value))
    if stats.yearly:
        title = str(_l("Waiting time from submission to first meeting (days)"))
        rows.extend(
            ExportRow(WAITING_TABLE, title, key, label, value) for key, label, value in stats.waiting_rows()
        )
    return rows


# --- SQL helpers -----------------------------------------------------------------------------------


class days_between(FunctionElement):
    """Days (fractional) from ``start`` to ``end``; SQLite and PostgreSQL spell it differently."""

    type = sa.Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    end, start = list(element.clauses)
    return f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    end, start = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)})) / 86400.0)"
    )


def _month_index(column, period: Period):
    """The 0-based month of the period a timestamp falls in (boundaries at Stockholm midnight)."""
    bounds = period.month_bounds_utc()
    if not bounds:
        return sa.literal(0)
    return sa.case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=len(bounds))


def _grouped(session: Session, inner, *keys: str) -> list:
    """``SELECT keys, COUNT(*) FROM (inner) GROUP BY keys``.

    Grouping over a subquery, because PostgreSQL does not recognise two copies of an expression with
    bound parameters (a CASE over the month boundaries) as the same GROUP BY expression.
    """
    sub = inner.subquery()
    columns = [sub.c[k] for k in keys]
    return list(session.execute(sa.select(*columns, sa.func.count()).group_by(*columns)))


def _submitted_cases(consultation_id: int, period: Period | None, *columns):
    """Counted cases submitted in ``period`` (ever, for None)."""
    stmt = (
        sa.select(*columns)
        .select_from(Case)
        .where(Case.consultation_id == consultation_id)
        .where(Case.is_training == sa.false())
        .where(Case.status.not_in(NOT_COUNTED))
        .where(Case.submitted_at.is_not(None))
    )
    if period is None:
        return stmt
    return stmt.where(Case.submitted_at >= period.start_utc).where(Case.submitted_at < period.end_utc)


def _discussions(consultation_id: int):
    """Agenda items where a real case was discussed, at a meeting of the consultation that took place."""
    return (
        sa.select()
        .select_from(AgendaItem)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Case, Case.id == AgendaItem.case_id)
        .where(Meeting.consultation_id == consultation_id)
        .where(Meeting.status != MeetingStatus.CANCELLED)
        .where(AgendaItem.discussed_at.is_not(None))
        .where(Case.is_training == sa.false())
    )


def _enum_rows(counts: dict, enum_cls) -> list[tuple[str, str, int]]:
    return [(member.value, str(member.label), counts.get(member, 0)) for member in enum_cls]


# --- Queries ---------------------------------------------------------------------------------------


def _discussed(session: Session, cid: int, period: Period) -> tuple[dict[int, int], dict[int, int]]:
    """Meetings per discussed case (bucketed 1, 2, 3 or more) and the waiting-time histogram."""
    # Discussed cases: meetings per case in the period, bucketed 1, 2, 3 or more.
    in_period = (
        _discussions(cid)
        .where(Meeting.starts_at >= period.start_utc)
        .where(Meeting.starts_at < period.end_utc)
    )
    per_case = (
        in_period.add_columns(
            AgendaItem.case_id, sa.func.count(sa.distinct(AgendaItem.meeting_id)).label("n")
        )
        .group_by(AgendaItem.case_id)
        .subquery()
    )
    bucket = sa.case((per_case.c.n >= 3, 3), else_=per_case.c.n).label("bucket")
    buckets = dict(_grouped(session, sa.select(bucket).select_from(per_case), "bucket"))

    # Waiting time: submission to first discussion, for cases first discussed in the period.
    first = (
        _discussions(cid)
        .add_columns(AgendaItem.case_id.label("case_id"), sa.func.min(Meeting.starts_at).label("first_at"))
        .group_by(AgendaItem.case_id)
        .subquery()
    )
    days = sa.cast(sa.func.round(days_between(first.c.first_at, Case.submitted_at)), sa.Integer).label("days")
    histogram = dict(
        _grouped(
            session,
            sa.select(days)
            .select_from(first)
            .join(Case, Case.id == first.c.case_id)
            .where(Case.submitted_at.is_not(None))
            .where(first.c.first_at >= period.start_utc)
            .where(first.c.first_at < period.end_utc),
            "days",
        )
    )

    return buckets, histogram


def _cases_by_month(session: Session, consultation_id: int) -> dict[date, int]:
    """Submitted cases per calendar month (Stockholm time) over the consultation's whole history."""
    first, last = session.execute(
        _submitted_cases(
            consultation_id, None, sa.func.min(Case.submitted_at), sa.func.max(Case.submitted_at)
        )
    ).one()
    if first is None:
        return {}
    whole = all_years_period(first.astimezone(STOCKHOLM).year, last.astimezone(STOCKHOLM).year)
    months = whole.months()
    rows = _grouped(
        session,
        _submitted_cases(consultation_id, whole, _month_index(Case.submitted_at, whole).label("month")),
        "month",
    )
    return {months[index]: n for index, n in rows}


#: Counted statistics kept per worker: a ten-year view takes a hundred times longer to count than to show.
CACHE_SIZE = 256
#: How long a worker keeps counted statistics at most, should a change not have moved the generation on.
CACHE_SECONDS = 600
_cache: OrderedDict[tuple, tuple[float, Statistics]] = OrderedDict()
_cache_lock = threading.Lock()
T = TypeVar("T")
#: What was made from a kept view (the dashboard's rendered tables and charts), by the view's identity;
#: forgotten with the view, so it is never older than what it shows. A few per view (filters as asked).
_made: dict[int, dict[Hashable, object]] = {}
MADE_PER_VIEW = 16


def consultation_statistics(
    session: Session, consultation: Consultation, period: Period, *, threshold: int
) -> Statistics:
    """Count meetings, cases and attendance of ``consultation`` in ``period`` (a standard period; for all
    years the years with cases); suppress with ``threshold``, consistently over every period.

    What was counted is kept (already suppressed) under the database's statistics generation, which
    grows after every committed change to what is counted (``samrad.db``): the same view is counted again
    only when something it counts from has changed, whichever worker or process changed it."""
    generation = db.statistics_generation(session)
    if generation is None:
        return _count(session, consultation, period, threshold=threshold)
    bind = session.get_bind()
    key = (
        str(bind.engine.url if hasattr(bind, "engine") else bind.url),
        generation,
        consultation.id,
        period.kind,
        period.first,
        period.last,
        threshold,
        str(get_locale()),
    )
    now = time.monotonic()
    with _cache_lock:
        found = _cache.get(key)
        if found is not None and now - found[0] < CACHE_SECONDS:
            _cache.move_to_end(key)
            return found[1]
    stats = _count(session, consultation, period, threshold=threshold)
    with _cache_lock:
        replaced = _cache.get(key)
        if replaced is not None:
            _made.pop(id(replaced[1]), None)
        _cache[key] = (now, stats)
        _made[id(stats)] = {}
        while len(_cache) > CACHE_SIZE:
            _made.pop(id(_cache.popitem(last=False)[1][1]), None)
    return stats


def kept_with(stats: Statistics, key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, kept for as long as ``stats`` is a kept view (made again for a view counted afresh).
    For what is made from the counts alone, such as their rendering: a view is a new object once
    anything it counts changed, so what is kept with the old one is never shown again."""
    with _cache_lock:
        made = _made.get(id(stats))
        if made is not None and key in made:
            return cast(T, made[key])
    value = make()
    with _cache_lock:
        made = _made.get(id(stats))
        if made is not None and len(made) < MADE_PER_VIEW:
            made[key] = value
    return value


def clear_cache() -> None:
    """Forget every kept view in this process (for measuring what counting costs)."""
    with _cache_lock:
        _cache.clear()
        _made.clear()


def _count(session: Session, consultation: Consultation, period: Period, *, threshold: int) -> Statistics:
    cid = consultation.id
    key = period_key(period)
    by_month = _cases_by_month(session, cid)
    published_counts = publish_periods(by_month, threshold=threshold)
    if period.kind == PeriodKind.ALL and by_month:
        period = all_years_period(min(by_month).year, max(by_month).year)
    months = period.months()

    # Meetings by status and month.
    meeting_rows = _grouped(
        session,
        sa.select(Meeting.status.label("status"), _month_index(Meeting.starts_at, period).label("month"))
        .where(Meeting.consultation_id == cid)
        .where(Meeting.starts_at >= period.start_utc)
        .where(Meeting.starts_at < period.end_utc),
        "status",
        "month",
    )
    by_status: dict[MeetingStatus, int] = {}
    held_by_month = [0] * len(months)
    for status, month, n in meeting_rows:
        by_status[status] = by_status.get(status, 0) + n
        if status == MeetingStatus.CLOSED:
            held_by_month[month] += n

    # Submitted cases per month, from the hierarchy every view shares; the breakdowns for a year only.
    yearly = period.kind in WITH_BREAKDOWNS
    submitted = sum(n for month, n in by_month.items() if period.first <= month <= period.last)
    empty: dict = {}

    def by_column(column) -> dict:
        if not yearly:
            return empty
        return dict(_grouped(session, _submitted_cases(cid, period, column.label("value")), "value"))

    sex = by_column(Case.sex)
    age = by_column(Case.age_band)
    risk = by_column(Case.risk_assessment)
    concern = by_column(Case.report_of_concern_made)
    org_type: dict[str, int] = {}
    municipality_rows: list = []
    categories: dict[str, int] = {}
    exposers: dict[str, int] = {}
    buckets: dict[int, int] = {}
    histogram: dict[int, int] = {}
    if yearly:
        org_type = dict(
            session.execute(
                _submitted_cases(cid, period, Organisation.type, sa.func.count())
                .join(Organisation, Organisation.id == Case.organisation_id)
                .group_by(Organisation.type)
            ).all()
        )
        municipality_rows = list(
            session.execute(
                _submitted_cases(cid, period, Municipality.id, Municipality.name, sa.func.count())
                .outerjoin(Municipality, Municipality.id == Case.municipality_id)
                .group_by(Municipality.id, Municipality.name)
            ).all()
        )
        categories = dict(
            session.execute(
                _submitted_cases(cid, period, CaseCategoryEntry.category, sa.func.count())
                .join(CaseCategoryEntry, CaseCategoryEntry.case_id == Case.id)
                .group_by(CaseCategoryEntry.category)
            ).all()
        )
        exposers = dict(
            session.execute(
                _submitted_cases(cid, period, CaseExposerEntry.exposer, sa.func.count())
                .join(CaseExposerEntry, CaseExposerEntry.case_id == Case.id)
                .group_by(CaseExposerEntry.exposer)
            ).all()
        )
        buckets, histogram = _discussed(session, cid, period)

    # Attendance of standing members by organisation, and the organisations with a standing seat.
    attended = session.execute(
        sa.select(Organisation.id, sa.func.count(sa.distinct(Invitee.meeting_id)))
        .select_from(Invitee)
        .join(Meeting, Meeting.id == Invitee.meeting_id)
        .join(Membership, Membership.user_id == Invitee.user_id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Meeting.consultation_id == cid)
        .where(Meeting.status == MeetingStatus.CLOSED)
        .where(Meeting.starts_at >= period.start_utc)
        .where(Meeting.starts_at < period.end_utc)
        .where(Invitee.kind == InviteeKind.STANDING)
        .where(Invitee.removed_at.is_(None))
        .where(Invitee.attendance.in_((Attendance.ON_SITE, Attendance.VIA_LINK)))
        .group_by(Organisation.id)
    ).all()
    attended_ids = [org_id for org_id, _ in attended]
    organisations = session.execute(
        sa.select(
            Organisation.id, Organisation.name, Organisation.municipality_id, StandingSeat.id.is_not(None)
        )
        .select_from(Organisation)
        .outerjoin(
            StandingSeat,
            sa.and_(StandingSeat.organisation_id == Organisation.id, StandingSeat.consultation_id == cid),
        )
        .where(sa.or_(StandingSeat.id.is_not(None), Organisation.id.in_(attended_ids or [-1])))
        .order_by(Organisation.name)
    ).all()

    return _assemble(
        consultation,
        period,
        threshold,
        by_status=by_status,
        held_by_month=held_by_month,
        published_counts=published_counts,
        key=key,
        yearly=yearly,
        submitted=submitted,
        sex=sex,
        age=age,
        risk=risk,
        concern=concern,
        org_type=org_type,
        municipality_rows=municipality_rows,
        categories=categories,
        exposers=exposers,
        buckets=buckets,
        discussed=sum(buckets.values()),
        histogram=histogram,
        attended=dict(attended),
        organisations=organisations,
    )


def _breakdowns(raw, partition, multi, threshold) -> tuple[Table, ...]:
    """The year's tables of who the cases concern and where they come from."""
    municipalities = [
        (str(mid) if mid is not None else UNKNOWN_MUNICIPALITY, name or "", n)
        for mid, name, n in raw["municipality_rows"]
    ]
    unknown = sum(n for key, _, n in municipalities if key == UNKNOWN_MUNICIPALITY)
    grouped = group_small_municipalities(
        [r for r in municipalities if r[0] != UNKNOWN_MUNICIPALITY],
        threshold=threshold,
        other_label=str(_l("Other municipalities")),
    )
    grouped.append((UNKNOWN_MUNICIPALITY, str(_l("Municipality not stated")), unknown))
    return (
        multi("category", _l("Cases by category"), _enum_rows(raw["categories"], CaseCategory)),
        partition(
            "organisation_type",
            _l("Cases by submitting organisation type"),
            _enum_rows(raw["org_type"], OrganisationType),
        ),
        partition("municipality", _l("Cases by municipality"), grouped),
        partition("age_band", _l("Cases by age band"), _enum_rows(raw["age"], AgeBand)),
        partition("sex", _l("Cases by sex"), _enum_rows(raw["sex"], Sex)),
        multi("exposer", _l("Cases by who exposes the person"), _enum_rows(raw["exposers"], Exposer)),
        partition(
            "risk_assessment",
            _l("Cases by whether a risk assessment was made"),
            _enum_rows(raw["risk"], RiskAssessment),
        ),
        partition(
            "report_of_concern",
            _l("Cases by whether a report of concern was made"),
            [
                ("yes", str(_l("Yes")), raw["concern"].get(True, 0)),
                ("no", str(_l("No")), raw["concern"].get(False, 0)),
            ],
        ),
    )


def _assemble(consultation, period, threshold, **raw) -> Statistics:
    """Turn the raw aggregate rows into published tables (the only place true counts are handled)."""
    months = period.months()
    submitted = raw["submitted"]

    def partition(key, title, rows):
        return publish_table(
            key, title, rows, total=submitted, relation=Relation.PARTITION, threshold=threshold
        )

    def multi(key, title, rows):
        return publish_table(key, title, rows, total=submitted, relation=Relation.MULTI, threshold=threshold)

    month_labels = [format_date(m, "MMM y") for m in months]
    counts = raw["published_counts"]

    def count_of(node_key: str) -> Published:
        # A period missing from the hierarchy has no cases: a true zero, shown.
        return counts.get(node_key, Published(0, Mark.SHOWN, threshold))

    if period.kind == PeriodKind.ALL:
        years = range(period.first.year, period.last.year + 1)
        series = [(str(y), str(y), count_of(str(y))) for y in years]
        series_title = _l("Cases submitted per year")
    else:
        series = [
            (month_key(m), label, count_of(month_key(m)))
            for m, label in zip(months, month_labels, strict=True)
        ]
        series_title = _l("Cases submitted per month")
    cases_by_month = Table(
        "cases_by_month",
        series_title,
        Relation.PARTITION,
        tuple(Row(k, label, published) for k, label, published in series),
        count_of(raw["key"]),
        threshold,
    )
    breakdowns = _breakdowns(raw, partition, multi, threshold) if raw["yearly"] else ()
    meetings_per_case = (
        None
        if not raw["yearly"]
        else publish_table(
            "meetings_per_case",
            _l("Discussed cases by number of meetings in the period"),
            [
                ("1", str(_l("1 meeting")), raw["buckets"].get(1, 0)),
                ("2", str(_l("2 meetings")), raw["buckets"].get(2, 0)),
                ("3+", str(_l("3 meetings or more")), raw["buckets"].get(3, 0)),
            ],
            total=raw["discussed"],
            relation=Relation.PARTITION,
            threshold=threshold,
        )
    )
    attended = raw["attended"]
    attendance = publish_table(
        "attendance",
        _l("Meetings attended by standing members, per organisation"),
        [(str(org_id), name, attended.get(org_id, 0)) for org_id, name, _, _ in raw["organisations"]],
        total=None,
        relation=Relation.INDEPENDENT,
        threshold=threshold,
    )
    taking_part = {
        mid for org_id, _, mid, _ in raw["organisations"] if mid is not None and attended.get(org_id)
    }
    with_seat = {mid for _, _, mid, seat in raw["organisations"] if mid is not None and seat}
    by_status = raw["by_status"]
    return Statistics(
        consultation_slug=consultation.slug,
        consultation_name=consultation.name,
        period=period,
        threshold=threshold,
        meetings_held=by_status.get(MeetingStatus.CLOSED, 0),
        meetings_cancelled=by_status.get(MeetingStatus.CANCELLED, 0),
        meetings_planned=by_status.get(MeetingStatus.PLANNED, 0),
        meetings_by_month=tuple(
            MeetingMonth(m, label, held)
            for m, label, held in zip(months, month_labels, raw["held_by_month"], strict=True)
        ),
        cases_submitted=count_of(raw["key"]),
        cases_discussed=publish_count(raw["discussed"], threshold) if raw["yearly"] else None,
        waiting_days=summarise_days(raw["histogram"], threshold=threshold) if raw["yearly"] else None,
        cases_by_month=cases_by_month,
        meetings_per_case=meetings_per_case,
        breakdowns=breakdowns,
        attendance=attendance,
        municipalities_taking_part=len(taking_part),
        municipalities_with_seat=len(with_seat),
    )


# --- Exports ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("table_key", "table", "row_key", "row", "value")


def period_label(period: Period) -> str:
    """``2027``, ``vårterminen 2027``, ``mars 2027``, ``alla år 2019–2027`` (``alla år (2027)``) or
    ``5 jan. 2027 – 31 mars 2027``."""
    if period.kind == PeriodKind.YEAR:
        return str(period.first.year)
    if period.kind == PeriodKind.TERM:
        if period.first.month == 1:
            return str(_l("spring term %(year)s", year=period.first.year))
        return str(_l("autumn term %(year)s", year=period.first.year))
    if period.kind == PeriodKind.MONTH:
        return format_date(period.first, "LLLL y")
    if period.kind == PeriodKind.ALL:
        if period.first.year == period.last.year:  # one year of cases so far: not "2027–2027"
            return str(_l("all years (%(year)s)", year=period.first.year))
        return str(_l("all years %(first)s–%(last)s", first=period.first.year, last=period.last.year))
    return f"{format_date(period.first, 'd MMM y')} – {format_date(period.last, 'd MMM y')}"


def to_csv(rows: list[ExportRow]) -> str:
    """RFC 4180 CSV (comma, UTF-8) with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow((r.table_key, r.table, r.row_key, r.row, r.value))
    return out.getvalue()


def to_xlsx(stats: Statistics, rows: list[ExportRow]) -> bytes:
    """A workbook: sheet 1 holds exactly the exported rows, sheet 2 says what they are."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = str(_l("Statistics"))[:31]
    sheet.append(list(CSV_COLUMNS))
    for r in rows:
        sheet.append([r.table_key, r.table, r.row_key, r.row, r.value])
    for column, width in zip("ABCDE", (20, 50, 14, 40, 10), strict=True):
        sheet.column_dimensions[column].width = width
    about = book.create_sheet(str(_l("About"))[:31])
    for line in _about_lines(stats):
        about.append([line])
    about.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _about_lines(stats: Statistics) -> list[str]:
    t = stats.threshold
    return [
        f"{stats.consultation_name}: {period_label(stats.period)} "
        f"({stats.period.first.isoformat()} – {stats.period.last.isoformat()})",
        str(_l("Counts from 1 to %(below)s are shown as <%(threshold)s.", below=t - 1, threshold=t)),
        str(_l("“..” means hidden so that a small count cannot be worked out from the other numbers.")),
        str(
            _l(
                "Municipalities with fewer than %(threshold)s cases are added up as “Other municipalities”.",
                threshold=t,
            )
        ),
        str(_l("Fictitious training cases are not counted.")),
    ]


def to_json(stats: Statistics, rows: list[ExportRow]) -> dict:
    """The exported rows grouped per table, with the consultation and the period."""
    tables: dict[str, dict] = {}
    for r in rows:
        table = tables.setdefault(r.table_key, {"key": r.table_key, "title": r.table, "rows": []})
        table["rows"].append({"key": r.row_key, "label": r.row, "value": r.value})
    return {
        "consultation": stats.consultation_slug,
        "period": {
            "first": stats.period.first.isoformat(),
            "last": stats.period.last.isoformat(),
            "label": period_label(stats.period),
        },
        "threshold": stats.threshold,
        "tables": list(tables.values()),
    }
