"""iCalendar files for invitations (iMIP: METHOD REQUEST or CANCEL) and for calendar feeds (no METHOD).

Pure: plain values in, text out; no Flask, no database. Callers translate the texts. Every meeting is its
own VEVENT with a UID built from the meeting's random, immutable ``public_id`` (never from the date or a
row id), and SEQUENCE grows with every version invitees must see (RFC 5546).

What goes in is decided by the caller, and callers never pass anything about a case: the summary is the
consultation's name, the description holds the video link and a link to the meeting page behind login.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Conference, Event, vCalAddress, vDuration
from icalendar.enums import STATUS, TRANSP

from samrad.clock import STOCKHOLM

PRODID = "-//samrad//Regionalt samrad//SV"

#: The RSVP answers in the app as iCalendar participation status.
PARTSTAT_ACCEPTED = "ACCEPTED"
PARTSTAT_DECLINED = "DECLINED"
PARTSTAT_NEEDS_ACTION = "NEEDS-ACTION"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    start: datetime  # aware
    end: datetime  # aware
    stamp: datetime  # aware; DTSTAMP, the time this version was produced
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    conference_url: str = ""
    conference_label: str = ""
    organizer: Person | None = None
    #: The one recipient of an invitation (feeds carry no attendees).
    attendee: Person | None = None
    partstat: str = PARTSTAT_NEEDS_ACTION
    cancelled: bool = False


@functools.lru_cache(maxsize=16)
def domain_of(public_url: str) -> str:
    """The host name of the site, used to make UIDs globally unique."""
    return urlsplit(public_url).hostname or "samrad.invalid"


def meeting_uid(public_id: str, domain: str) -> str:
    return f"samrad-meeting-{public_id}@{domain}"


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    address.params.update(params)
    return address


def _event(data: CalendarEvent) -> Event:
    if data.start.tzinfo is None or data.end.tzinfo is None or data.stamp.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    attendees = None
    if data.attendee is not None:
        attendees = [
            _address(
                data.attendee,
                CUTYPE="INDIVIDUAL",
                ROLE="REQ-PARTICIPANT",
                PARTSTAT=data.partstat,
                RSVP="TRUE",
            )
        ]
    conferences = None
    if data.conference_url:
        conferences = [
            Conference(data.conference_url, feature="VIDEO,AUDIO", label=data.conference_label or None)
        ]
    return Event.new(
        uid=data.uid,
        sequence=data.sequence,
        stamp=data.stamp,
        start=data.start.astimezone(STOCKHOLM),
        end=data.end.astimezone(STOCKHOLM),
        summary=data.summary,
        location=data.location or None,
        description=data.description or None,
        url=data.url or None,
        organizer=_address(data.organizer) if data.organizer else None,
        attendees=attendees,
        conferences=conferences,
        status=STATUS.CANCELLED if data.cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
    )


def build_calendar(
    events: Sequence[CalendarEvent],
    *,
    method: str | None,
    name: str | None = None,
    refresh_interval: timedelta | None = None,
) -> str:
    """The iCalendar text (CRLF line ends, folded lines) with a compact Europe/Stockholm VTIMEZONE.

    ``method`` is "REQUEST" or "CANCEL" for e-mailed invitations (the MIME part's ``method`` must be the
    same) and None for a feed. A CANCEL marks every event STATUS:CANCELLED.
    """
    if method not in (None, "REQUEST", "CANCEL"):
        raise ValueError(f"unsupported METHOD {method!r}")
    if method == "CANCEL" and not all(e.cancelled for e in events):
        raise ValueError("a CANCEL must mark its events cancelled")
    calendar = Calendar.new(
        prodid=PRODID,
        method=method,
        name=name,
        subcomponents=[_event(e) for e in events],
    )
    # RFC 7986 allows a calendar-level UID, but some clients confuse it with the event's; leave it out.
    del calendar["UID"]
    if refresh_interval is not None:
        # RFC 7986 wants VALUE=DURATION spelt out; Outlook reads its own X-PUBLISHED-TTL instead.
        calendar.add("REFRESH-INTERVAL", refresh_interval, parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", vDuration(refresh_interval))
    if events:
        # Whole years around the events: every daylight-saving change they need, and not 1970–2038.
        years = [e.start.astimezone(STOCKHOLM).year for e in events]
        calendar.add_missing_timezones(first_date=date(min(years), 1, 1), last_date=date(max(years), 12, 31))
    return calendar.to_ical().decode("utf-8")
