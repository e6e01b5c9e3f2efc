"""Time: the one clock (UTC, timezone-aware) and the one local time zone, Europe/Stockholm.

Everything is stored in UTC; dates people see and rules about days (deadlines, reminders, periods) are
Stockholm days. Pure: no Flask, no database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def utcnow() -> datetime:
    return datetime.now(UTC)


def stockholm_date(moment: datetime) -> date:
    """The Stockholm calendar day of an aware moment."""
    return moment.astimezone(STOCKHOLM).date()
