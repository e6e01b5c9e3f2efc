"""Every calendar file must parse with two independent parsers besides icalendar (vobject and ics),
and all three must agree on UID, SEQUENCE, METHOD, DTSTART and its TZID."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import ics
import vobject
from icalendar import Calendar
from ics.grammar.parse import string_to_container


@dataclass(frozen=True)
class Parsed:
    method: str | None
    uid: str
    sequence: int
    start: datetime  # UTC
    end: datetime  # UTC
    tzid: str
    status: str
    summary: str
    location: str
    description: str


def _by_icalendar(text: str) -> tuple[str | None, list[Parsed]]:
    cal = Calendar.from_ical(text)
    method = str(cal["METHOD"]) if "METHOD" in cal else None
    events = []
    for ev in cal.events:
        events.append(
            Parsed(
                method=method,
                uid=str(ev["UID"]),
                sequence=int(ev["SEQUENCE"]),
                start=ev.start.astimezone(UTC),
                end=ev.end.astimezone(UTC),
                tzid=ev["DTSTART"].params["TZID"],
                status=str(ev.get("STATUS", "")),
                summary=str(ev["SUMMARY"]),
                location=str(ev.get("LOCATION", "")),
                description=str(ev.get("DESCRIPTION", "")),
            )
        )
    return method, events


#: vobject's process-wide TZID registry: it keeps the first VTIMEZONE parsed for a TZID and uses it for
#: every later file. samrad writes a compact VTIMEZONE covering each file's own years, so a file checked
#: after one of other years was read with the wrong rules (the check then failed or passed by test order).
_VOBJECT_TZIDS = vars(vobject.icalendar)["__tzidMap"]


def _by_vobject(text: str) -> tuple[str | None, list[tuple]]:
    for tzid in [t for t in _VOBJECT_TZIDS if t != "UTC"]:
        del _VOBJECT_TZIDS[tzid]
    cal = vobject.readOne(text)
    method = cal.method.value if hasattr(cal, "method") else None
    out = []
    for ev in cal.contents.get("vevent", []):
        dtstart = ev.dtstart
        out.append(
            (
                ev.uid.value,
                int(ev.sequence.value),
                dtstart.value.astimezone(UTC),
                ev.dtend.value.astimezone(UTC),
                dtstart.params["X-VOBJ-ORIGINAL-TZID"][0],
            )
        )
    return method, out


def _by_ics(text: str) -> tuple[str | None, list[tuple]]:
    cal = ics.Calendar(text)
    raw = {
        line.value: line
        for component in string_to_container(text)[0]
        if component.name == "VEVENT"
        for line in component
        if line.name == "UID"
    }
    out = []
    containers = [c for c in string_to_container(text)[0] if c.name == "VEVENT"]
    for ev in cal.events:
        container = next(c for c in containers if any(x.name == "UID" and x.value == ev.uid for x in c))
        seq = next(int(x.value) for x in container if x.name == "SEQUENCE")
        tzid = next(x.params["TZID"][0] for x in container if x.name == "DTSTART")
        out.append((ev.uid, seq, ev.begin.datetime.astimezone(UTC), ev.end.datetime.astimezone(UTC), tzid))
    assert set(raw) == {e[0] for e in out}
    return cal.method, out


def check_ics(text: str) -> list[Parsed]:
    """Parse ``text`` three times, assert the parsers agree, and return the events (icalendar's view)."""
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    method, events = _by_icalendar(text)
    expected = sorted((e.uid, e.sequence, e.start, e.end, e.tzid) for e in events)
    v_method, v_events = _by_vobject(text)
    i_method, i_events = _by_ics(text)
    assert v_method == method and i_method == method
    assert sorted(v_events) == expected
    assert sorted(i_events) == expected
    assert all(e.tzid == "Europe/Stockholm" for e in events)
    return events
