"""The iCalendar builder: exact fields, parsed back with icalendar, vobject and ics."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from samrad.calendar import (
    PARTSTAT_ACCEPTED,
    CalendarEvent,
    Person,
    build_calendar,
    domain_of,
    meeting_uid,
)
from tests.icscheck import check_ics

STAMP = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def _event(**kw) -> CalendarEvent:
    values = dict(
        uid=meeting_uid("0123abcd", "samrad.test"),
        sequence=3,
        start=datetime(2027, 6, 7, 11, 0, tzinfo=UTC),  # 13:00 summer time
        end=datetime(2027, 6, 7, 13, 0, tzinfo=UTC),
        stamp=STAMP,
        summary="Regionalt samråd – Una Norrbotten",
        location="Freda, Luleå eller via videolänk https://meet.jit.si/abc",
        description="Videolänk: https://meet.jit.si/abc",
        url="https://samrad.test/c/una/meetings/0123abcd",
        conference_url="https://meet.jit.si/abc",
        conference_label="Videolänk",
        organizer=Person("samordnare@lulea.example", "Åsa Öberg"),
        attendee=Person("anna@kiruna.example", "Anna Niemi"),
    )
    values.update(kw)
    return CalendarEvent(**values)


def test_uid_is_built_from_the_public_id_and_the_site_host():
    assert domain_of("https://samrad.region.example:8443/app") == "samrad.region.example"
    assert meeting_uid("abc", "samrad.test") == "samrad-meeting-abc@samrad.test"


def test_request_has_every_field_an_invitation_needs():
    text = build_calendar([_event()], method="REQUEST")
    cal = Calendar.from_ical(text)
    assert cal["METHOD"] == "REQUEST" and cal["PRODID"] == "-//samrad//Regionalt samrad//SV"
    assert "UID" not in cal
    [tz] = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Stockholm"
    assert [c.name for c in tz.subcomponents] == ["STANDARD", "DAYLIGHT", "STANDARD"]
    [ev] = cal.events
    assert ev["UID"] == "samrad-meeting-0123abcd@samrad.test"
    assert ev["SEQUENCE"] == 3
    assert ev["DTSTAMP"].dt == STAMP
    assert (
        ev["DTSTART"].to_ical() == b"20270607T130000" and ev["DTSTART"].params["TZID"] == "Europe/Stockholm"
    )
    assert ev["DTEND"].to_ical() == b"20270607T150000"
    assert ev["SUMMARY"] == "Regionalt samråd – Una Norrbotten"
    assert ev["LOCATION"] == "Freda, Luleå eller via videolänk https://meet.jit.si/abc"
    assert ev["DESCRIPTION"] == "Videolänk: https://meet.jit.si/abc"
    assert ev["URL"] == "https://samrad.test/c/una/meetings/0123abcd"
    assert ev["STATUS"] == "CONFIRMED"
    assert (
        str(ev["ORGANIZER"]) == "mailto:samordnare@lulea.example"
        and ev["ORGANIZER"].params["CN"] == "Åsa Öberg"
    )
    attendee = ev["ATTENDEE"]
    assert str(attendee) == "mailto:anna@kiruna.example"
    assert dict(attendee.params) == {
        "CN": "Anna Niemi",
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }
    conference = ev["CONFERENCE"]
    assert str(conference) == "https://meet.jit.si/abc"
    assert conference.params["VALUE"] == "URI" and conference.params["FEATURE"] == "VIDEO,AUDIO"
    assert conference.params["LABEL"] == "Videolänk"
    [parsed] = check_ics(text)
    assert (parsed.method, parsed.uid, parsed.sequence, parsed.start) == (
        "REQUEST",
        "samrad-meeting-0123abcd@samrad.test",
        3,
        datetime(2027, 6, 7, 11, 0, tzinfo=UTC),
    )


def test_winter_meeting_keeps_its_wall_clock_time():
    text = build_calendar(
        [
            _event(
                start=datetime(2027, 1, 11, 12, 0, tzinfo=UTC), end=datetime(2027, 1, 11, 14, 0, tzinfo=UTC)
            )
        ],
        method="REQUEST",
    )
    [ev] = Calendar.from_ical(text).events
    assert ev["DTSTART"].to_ical() == b"20270111T130000"
    check_ics(text)


def test_cancel_has_status_cancelled_and_the_same_uid():
    text = build_calendar([_event(sequence=4, cancelled=True, partstat=PARTSTAT_ACCEPTED)], method="CANCEL")
    cal = Calendar.from_ical(text)
    [ev] = cal.events
    assert (cal["METHOD"], ev["STATUS"], ev["UID"], ev["SEQUENCE"]) == (
        "CANCEL",
        "CANCELLED",
        "samrad-meeting-0123abcd@samrad.test",
        4,
    )
    assert ev["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    check_ics(text)


def test_cancel_without_cancelled_events_and_unknown_methods_are_refused():
    with pytest.raises(ValueError):
        build_calendar([_event()], method="CANCEL")
    with pytest.raises(ValueError):
        build_calendar([_event()], method="PUBLISH")
    with pytest.raises(ValueError):
        build_calendar([_event(start=datetime(2027, 6, 7, 13, 0))], method="REQUEST")


def test_a_feed_has_no_method_a_name_and_a_refresh_interval():
    events = [
        _event(uid=meeting_uid("a", "samrad.test"), attendee=None, organizer=None),
        _event(
            uid=meeting_uid("b", "samrad.test"),
            attendee=None,
            organizer=None,
            cancelled=True,
            start=datetime(2028, 1, 10, 12, 0, tzinfo=UTC),
            end=datetime(2028, 1, 10, 14, 0, tzinfo=UTC),
        ),
    ]
    text = build_calendar(events, method=None, name="Mina möten", refresh_interval=timedelta(hours=1))
    cal = Calendar.from_ical(text)
    assert "METHOD" not in cal
    assert cal["X-WR-CALNAME"] == "Mina möten"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in text and "X-PUBLISHED-TTL:PT1H" in text
    # The time zone covers both years: the 2028 changes are RDATEs of the 2027 ones.
    [tz] = cal.walk("VTIMEZONE")
    assert [c.name for c in tz.subcomponents] == ["STANDARD", "DAYLIGHT", "STANDARD"]
    assert "RDATE:20280326T030000" in text and "RDATE:20281029T030000" in text
    assert [e["STATUS"] for e in cal.events] == ["CONFIRMED", "CANCELLED"]
    assert all("ATTENDEE" not in e and "ORGANIZER" not in e for e in cal.events)
    parsed = check_ics(text)
    assert [p.method for p in parsed] == [None, None]


def test_an_empty_feed_is_still_a_valid_calendar():
    text = build_calendar([], method=None, name="Mina möten")
    assert check_ics(text) == []
