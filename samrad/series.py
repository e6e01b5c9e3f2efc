"""The dates of a consultation's meeting series: pure functions, no database and no Flask.

A series is "every N weeks on a weekday at a wall-clock time in Stockholm". Every meeting is its own
calendar event (no RRULE, see ECOSYSTEM §3.3), so the dates are generated here: skipping Swedish public
and de facto holidays (Midsommarafton, Julafton and Nyårsafton are not public holidays, but offices are
closed) and the consultation's break periods. Times are built in Europe/Stockholm and converted to UTC,
so 13:00 stays 13:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

import holidays as holidays_lib

from samrad.clock import STOCKHOLM

#: Weekday values as stored on Consultation.weekday (iCalendar BYDAY codes) to Python's weekday().
WEEKDAY_INDEX = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


@dataclass(frozen=True)
class BreakDays:
    """A period without meetings, both ends included."""

    first_day: date
    last_day: date
    label: str

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class Slot:
    """A date in the rhythm; ``skipped`` says why there is no meeting (a holiday's or a break's name)."""

    day: date
    skipped: str | None = None


def week_start(day: date) -> date:
    """The Monday of the week ``day`` is in: the identity of a slot in a weekly rhythm."""
    return day - timedelta(days=day.weekday())


def swedish_holidays(years: Iterable[int]) -> dict[date, str]:
    """Swedish public and de facto holidays with their Swedish names."""
    found: dict[date, str] = {}
    for year in sorted(set(years)):
        found.update(_holidays_of(year))
    return found


@functools.lru_cache(maxsize=64)
def _holidays_of(year: int) -> Mapping[date, str]:
    """One year's holidays, kept: a year's holidays do not change while the app runs, and ``holidays``
    builds them anew each time (most of a millisecond; the meetings index asks on every view).

    ``include_sundays=False`` is explicit: old versions of ``holidays`` counted every Sunday.
    """
    found = holidays_lib.country_holidays(
        "SE", years=[year], categories=("public", "de_facto"), include_sundays=False, language="sv"
    )
    return MappingProxyType(dict(found.items()))


def rhythm_days(*, anchor: date, weekday: str, every_weeks: int, first: date, last: date) -> list[date]:
    """The days on ``weekday`` every ``every_weeks`` weeks from ``first`` to ``last`` (both included).

    The phase comes from ``anchor``: its week is one of the series' weeks (the anchor may lie before,
    within or after the range, and need not be on ``weekday``).
    """
    if every_weeks < 1:
        raise ValueError("every_weeks must be at least 1")
    offset = timedelta(days=WEEKDAY_INDEX[weekday])
    period = timedelta(weeks=every_weeks)
    base = week_start(anchor)
    # The first series week whose meeting day is not before ``first``.
    weeks_between = (week_start(first) - base).days // 7
    current = base + timedelta(weeks=weeks_between - weeks_between % every_weeks)
    days = []
    while current + offset <= last:
        if current + offset >= first:
            days.append(current + offset)
        current += period
    return days


def series_slots(
    *,
    anchor: date,
    weekday: str,
    every_weeks: int,
    first: date,
    last: date,
    breaks: Iterable[BreakDays] = (),
    holidays: Mapping[date, str] | None = None,
) -> list[Slot]:
    """The series' dates in ``first``…``last``, each either free or skipped with the reason."""
    days = rhythm_days(anchor=anchor, weekday=weekday, every_weeks=every_weeks, first=first, last=last)
    if holidays is None:
        holidays = swedish_holidays({d.year for d in days})
    breaks = list(breaks)
    slots = []
    for day in days:
        reason = holidays.get(day) or next((b.label for b in breaks if day in b), None)
        slots.append(Slot(day, reason))
    return slots


def local_datetime(day: date, at: time) -> datetime:
    """``day`` at wall-clock ``at`` in Stockholm, as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=STOCKHOLM).astimezone(UTC)


def exists_in_stockholm(day: date, at: time) -> bool:
    """False for wall-clock times skipped by the spring change (02:00–02:59 on the last Sunday of March)."""
    local = datetime.combine(day, at, tzinfo=STOCKHOLM)
    return local.astimezone(UTC).astimezone(STOCKHOLM).replace(tzinfo=None) == local.replace(tzinfo=None)
