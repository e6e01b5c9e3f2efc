"""The one period type: bounds in UTC from Stockholm days, open ends, and the errors every form shows."""

from datetime import UTC, date, datetime

import pytest

from samrad.periods import EARLIEST, LATEST, PeriodError, PeriodKind, between, custom_period


def test_a_period_runs_from_stockholm_midnight_to_the_next_midnight_after_its_last_day():
    period = between(date(2027, 3, 28), date(2027, 3, 28))  # daylight saving starts that night
    assert (period.start_utc, period.end_utc) == (
        datetime(2027, 3, 27, 23, 0, tzinfo=UTC),
        datetime(2027, 3, 28, 22, 0, tzinfo=UTC),
    )


def test_open_ends_reach_the_years_samrad_handles():
    assert between(None, None).first == EARLIEST and between(None, None).last == LATEST
    assert between(date(2027, 1, 1), None).kind == PeriodKind.CUSTOM
    assert between(None, date(2027, 1, 1)).first == EARLIEST


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (date(2027, 3, 2), date(2027, 3, 1), "inverted"),
        (date(1999, 12, 31), None, "invalid"),
        (None, date(2101, 1, 1), "invalid"),
        (date(1, 1, 1), date(9999, 12, 31), "invalid"),
    ],
)
def test_unusable_ranges_say_why(first, last, code):
    with pytest.raises(PeriodError) as refused:
        between(first, last)
    assert refused.value.code == code


def test_a_custom_period_is_at_most_ten_years_but_an_open_report_range_is_not():
    with pytest.raises(PeriodError, match="too_long"):
        custom_period(date(2017, 1, 1), date(2027, 1, 1))
    assert custom_period(date(2017, 1, 1), date(2026, 12, 31)).last == date(2026, 12, 31)
    assert between(date(2001, 1, 1), date(2027, 1, 1)).first == date(2001, 1, 1)


def test_standard_periods_have_their_place_in_the_nesting_and_custom_ones_none():
    from samrad.periods import Term, all_years_period, month_period, term_period, year_period

    assert [p.key for p in (month_period(2027, 3), term_period(2027, Term.AUTUMN), year_period(2027))] == [
        "2027-03",
        "2027-ht",
        "2027",
    ]
    assert (all_years_period(2020, 2027).key, custom_period(date(2027, 1, 1), date(2027, 1, 9)).key) == (
        "all",
        None,
    )
