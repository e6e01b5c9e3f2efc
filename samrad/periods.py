"""Periods of whole Stockholm days, the one period type of every report: statistics, the evaluation
report and the audit log's filter. Pure: no database, no Flask.

A :class:`Period` runs from ``first`` to ``last`` inclusive; its UTC bounds come from
:func:`samrad.clock.local_midnight_utc`. Standard periods are a month, a term, a year or all
years (they nest, which the statistics rely on: docs/statistics.md); a custom period is any range of
whole days up to :data:`MAX_MONTHS` months (the evaluation report and the audit log). :func:`between`
makes a period from dates a person typed, where either end may be left open.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from samrad.clock import local_midnight_utc

#: A custom period may span at most this many calendar months (bounds the monthly chart and its query).
MAX_MONTHS = 120
#: The ends of an open range: the service began long after the first, and dates are refused beyond the last.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class PeriodKind(StrEnum):
    MONTH = "month"
    TERM = "term"
    YEAR = "year"
    #: Every year with data (statistics only): the top of the month → term → year hierarchy.
    ALL = "all"
    CUSTOM = "custom"


class Term(StrEnum):
    """Swedish school terms: vårtermin January–June, hösttermin July–December."""

    SPRING = "vt"
    AUTUMN = "ht"


class PeriodError(ValueError):
    """A period that cannot be used; ``code`` says why (``inverted``, ``too_long``, ``invalid``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` … ``last`` (inclusive) in Stockholm time."""

    kind: PeriodKind
    first: date
    last: date

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.first)

    @property
    def end_utc(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return local_midnight_utc(self.last + timedelta(days=1))

    @property
    def key(self) -> str | None:
        """The period's place in the nesting of standard periods (``2027-03``, ``2027-vt``, ``2027``,
        ``all``); None for a custom period, which has none."""
        if self.kind == PeriodKind.MONTH:
            return month_key(self.first)
        if self.kind == PeriodKind.TERM:
            return term_key(self.first.year, term_of(self.first))
        if self.kind == PeriodKind.YEAR:
            return str(self.first.year)
        if self.kind == PeriodKind.ALL:
            return ALL_YEARS_KEY
        return None

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches, in order."""
        months, current = [], self.first.replace(day=1)
        while current <= self.last:
            months.append(current)
            current = _next_month(current)
        return months

    def month_bounds_utc(self) -> list[datetime]:
        """Boundaries between the months of the period (one fewer than :meth:`months`)."""
        return [local_midnight_utc(m) for m in self.months()[1:]]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_period(year: int, month: int) -> Period:
    if not (1 <= month <= 12 and date.min.year < year < date.max.year):
        raise PeriodError("invalid")
    return Period(
        PeriodKind.MONTH, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    )


def term_period(year: int, term: Term) -> Period:
    if not date.min.year < year < date.max.year:
        raise PeriodError("invalid")
    if term == Term.SPRING:
        return Period(PeriodKind.TERM, date(year, 1, 1), date(year, 6, 30))
    return Period(PeriodKind.TERM, date(year, 7, 1), date(year, 12, 31))


def year_period(year: int) -> Period:
    if not date.min.year < year < date.max.year:
        raise PeriodError("invalid")
    return Period(PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31))


#: The key of all years (see :attr:`Period.key`).
ALL_YEARS_KEY = "all"


def month_key(day: date) -> str:
    return f"{day:%Y-%m}"


def term_key(year: int, term: Term) -> str:
    return f"{year}-{term.value}"


def all_years_period(first_year: int, last_year: int) -> Period:
    if not (EARLIEST.year <= first_year <= last_year <= LATEST.year):
        raise PeriodError("invalid")
    return Period(PeriodKind.ALL, date(first_year, 1, 1), date(last_year, 12, 31))


def term_of(day: date) -> Term:
    return Term.SPRING if day.month <= 6 else Term.AUTUMN


def custom_period(first: date, last: date) -> Period:
    if last < first:
        raise PeriodError("inverted")
    period = Period(PeriodKind.CUSTOM, first, last)
    if len(period.months()) > MAX_MONTHS:
        raise PeriodError("too_long")
    return period


def between(first: date | None, last: date | None) -> Period:
    """The days from ``first`` to ``last`` (inclusive), either of which may be open (None).

    Raises :class:`PeriodError` ``inverted`` when ``last`` is before ``first``, ``invalid`` when a date
    lies outside the years samrad handles (2000–2100). No length limit: reports over all time are fine.
    """
    if first is not None and last is not None and last < first:
        raise PeriodError("inverted")
    for day in (first, last):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise PeriodError("invalid")
    return Period(PeriodKind.CUSTOM, first or EARLIEST, last or LATEST)
