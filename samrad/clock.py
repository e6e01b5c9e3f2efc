"""Time: the one clock (UTC, timezone-aware) and the one local time zone, Europe/Stockholm.

Everything is stored in UTC; dates people see and rules about days (deadlines, reminders, periods) are
Stockholm days. Pure: no Flask, no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def utcnow() -> datetime:
    return datetime.now(UTC)


def stockholm_date(moment: datetime) -> date:
    """The Stockholm calendar day of an aware moment."""
    return moment.astimezone(STOCKHOLM).date()


def local_midnight_utc(day: date) -> datetime:
    """The instant a Stockholm day begins, in UTC (days are the unit of every period and deadline)."""
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM).astimezone(UTC)
