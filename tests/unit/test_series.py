"""The series' dates: pure functions, no database."""

from datetime import UTC, date, datetime, time

import pytest

from samrad.series import (
    BreakDays,
    Slot,
    exists_in_stockholm,
    local_datetime,
    rhythm_days,
    series_slots,
    swedish_holidays,
    week_start,
)


def test_every_other_monday_in_phase_with_the_anchor():
    days = rhythm_days(
        anchor=date(2026, 11, 23),
        weekday="MO",
        every_weeks=2,
        first=date(2026, 11, 1),
        last=date(2027, 1, 18),
    )
    assert days == [
        date(2026, 11, 9),
        date(2026, 11, 23),
        date(2026, 12, 7),
        date(2026, 12, 21),
        date(2027, 1, 4),
        date(2027, 1, 18),
    ]


def test_the_anchor_week_sets_the_phase_even_when_the_anchor_is_not_on_the_weekday():
    # Anchor on a Sunday (week of Mon 16 Nov); every third Thursday from there.
    days = rhythm_days(
        anchor=date(2026, 11, 22),
        weekday="TH",
        every_weeks=3,
        first=date(2026, 11, 20),
        last=date(2027, 1, 31),
    )
    assert days == [date(2026, 12, 10), date(2026, 12, 31), date(2027, 1, 21)]


def test_range_ends_are_included_and_weekly_works():
    days = rhythm_days(
        anchor=date(2027, 3, 1), weekday="WE", every_weeks=1, first=date(2027, 3, 3), last=date(2027, 3, 17)
    )
    assert days == [date(2027, 3, 3), date(2027, 3, 10), date(2027, 3, 17)]


def test_every_weeks_must_be_positive():
    with pytest.raises(ValueError):
        rhythm_days(
            anchor=date(2027, 3, 1),
            weekday="MO",
            every_weeks=0,
            first=date(2027, 3, 1),
            last=date(2027, 4, 1),
        )


def test_swedish_public_and_de_facto_holidays_without_sundays():
    found = swedish_holidays([2027])
    assert found[date(2027, 3, 29)] == "Annandag påsk"
    assert found[date(2027, 6, 25)] == "Midsommarafton"  # de facto holiday
    assert found[date(2027, 12, 24)] == "Julafton"
    assert found[date(2027, 12, 31)] == "Nyårsafton"
    assert date(2027, 3, 7) not in found  # an ordinary Sunday


def test_kept_holidays_are_the_librarys_for_every_year_asked_and_cannot_be_changed_by_a_caller():
    import holidays

    asked = [2027, 2025, 2026, 2027]
    expected = dict(
        holidays.country_holidays(
            "SE",
            years=[2025, 2026, 2027],
            categories=("public", "de_facto"),
            include_sundays=False,
            language="sv",
        ).items()
    )
    first = swedish_holidays(asked)
    assert first == expected and len(first) > 40
    first[date(2026, 3, 2)] = "Påhittad"
    del first[date(2026, 12, 24)]
    assert swedish_holidays(asked) == expected
    assert swedish_holidays([]) == {}


def test_holidays_and_breaks_are_skipped_with_their_reason():
    slots = series_slots(
        anchor=date(2027, 3, 1),
        weekday="MO",
        every_weeks=2,
        first=date(2027, 3, 1),
        last=date(2027, 4, 30),
        breaks=[BreakDays(date(2027, 4, 20), date(2027, 4, 30), "Kompetensdag")],
    )
    assert slots == [
        Slot(date(2027, 3, 1)),
        Slot(date(2027, 3, 15)),
        Slot(date(2027, 3, 29), "Annandag påsk"),
        Slot(date(2027, 4, 12)),
        Slot(date(2027, 4, 26), "Kompetensdag"),
    ]


def test_christmas_and_summer_breaks_and_midsummer_eve_on_fridays():
    slots = series_slots(
        anchor=date(2027, 6, 4),
        weekday="FR",
        every_weeks=1,
        first=date(2027, 6, 18),
        last=date(2027, 7, 2),
        breaks=[BreakDays(date(2027, 7, 1), date(2027, 8, 15), "Sommar")],
        holidays=None,
    )
    assert slots == [
        Slot(date(2027, 6, 18)),
        Slot(date(2027, 6, 25), "Midsommarafton"),
        Slot(date(2027, 7, 2), "Sommar"),
    ]


def test_wall_clock_time_is_kept_across_daylight_saving():
    assert local_datetime(date(2027, 3, 22), time(13, 0)) == datetime(2027, 3, 22, 12, 0, tzinfo=UTC)
    assert local_datetime(date(2027, 4, 5), time(13, 0)) == datetime(2027, 4, 5, 11, 0, tzinfo=UTC)
    assert local_datetime(date(2027, 11, 1), time(13, 0)) == datetime(2027, 11, 1, 12, 0, tzinfo=UTC)


def test_times_that_do_not_exist_in_stockholm():
    assert exists_in_stockholm(date(2027, 3, 28), time(2, 30)) is False
    assert exists_in_stockholm(date(2027, 3, 28), time(3, 0)) is True
    assert exists_in_stockholm(date(2027, 10, 31), time(2, 30)) is True  # exists twice


def test_week_start_is_monday():
    assert week_start(date(2027, 3, 28)) == date(2027, 3, 22)
    assert week_start(date(2027, 3, 22)) == date(2027, 3, 22)
