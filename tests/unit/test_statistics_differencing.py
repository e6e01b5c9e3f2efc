"""No differencing of statistics (issue H.1), swept over a generated county of more than 2 000 cases.

Every view a reader can ask for — each of 120 months, 20 terms, 10 years and all years — is computed
through the service, as the dashboard, the exports, the annual report and the command do. Then:

1. **One publication.** Every period's number of cases has the same value or mark in every view that
   shows it (a month in its own view, its term's and its year's), so comparing views adds nothing.
2. **No small number, directly or by subtraction.** No view shows a count of 1 … t−1; and for every pair
   of nested views whose counts are both shown, their difference is 0 or at least t: no pair of published
   results isolates one or two cases.
3. **No suppressed count can be worked out** from everything published together (so from no pair): per
   year, with the year's total, its terms where shown and its months, every suppressed month keeps at
   least two possible values; a reader who also knows the algorithm (a complementary ``..`` is at most
   every shown non-zero cell) is included, as in ``feasible_range``.
4. **Breakdowns only per year**, each a table whose rules are proven by enumeration in test_statistics.
"""

from __future__ import annotations

import itertools

from samrad.periods import PeriodKind, Term, all_years_period, month_period, term_period, year_period
from samrad.services.statistics import consultation_statistics, period_key
from samrad.statistics import Mark, Relation, feasible_range
from tests.factories.county import FIRST_YEAR, YEARS, make_county

T = 3


def _views(consultation, session):
    periods = [all_years_period(FIRST_YEAR, FIRST_YEAR)]
    for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
        periods.append(year_period(year))
        periods += [term_period(year, term) for term in Term]
        periods += [month_period(year, month) for month in range(1, 13)]
    return {period_key(p): consultation_statistics(session, consultation, p, threshold=T) for p in periods}


def _term_months(key: str) -> list[str]:
    year, term = key.split("-")
    months = range(1, 7) if term == Term.SPRING.value else range(7, 13)
    return [f"{year}-{m:02d}" for m in months]


def test_every_view_of_a_county_agrees_and_nothing_can_be_subtracted(session):
    consultation, true_counts = make_county(session)
    total = sum(true_counts.values())
    assert total >= 2000
    views = _views(consultation, session)
    assert len(views) == 1 + YEARS * (1 + 2 + 12)

    # 1. One publication for each period, whichever view shows it.
    seen: dict[str, set] = {}
    for key, stats in views.items():
        seen.setdefault(key, set()).add((stats.cases_submitted.mark, stats.cases_submitted.value))
        for row in stats.cases_by_month.rows:
            seen.setdefault(row.key, set()).add((row.count.mark, row.count.value))
    assert {key: marks for key, marks in seen.items() if len(marks) > 1} == {}
    published = {key: next(iter(marks)) for key, marks in seen.items()}
    months = [key for key in published if len(key) == 7 and key[4] == "-" and key[5:].isdigit()]
    assert len(months) == YEARS * 12

    # 2. No count of 1 … t−1 is shown, and no two nested shown counts differ by 1 … t−1.
    shown = {key: value for key, (mark, value) in published.items() if mark == Mark.SHOWN}
    assert not [key for key, value in shown.items() if 0 < value < T]
    nested = []
    for key in shown:
        if key == "all":
            nested += [("all", year) for year in shown if len(year) == 4]
        elif len(key) == 4:
            nested += [(key, part) for part in shown if part.startswith(key + "-")]
        elif key.endswith(("-vt", "-ht")):
            nested += [(key, m) for m in _term_months(key) if m in shown]
    assert len(nested) > 60
    assert not [(a, b) for a, b in nested if 0 < shown[a] - shown[b] < T]

    # 3. Within each year (the only relations there are), no suppressed month can be worked out, also
    # with the terms that are shown.
    suppressed = 0
    for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
        keys = [f"{year}-{m:02d}" for m in range(1, 13)]
        values = [true_counts.get(_day(k), 0) for k in keys]
        marks = [published[k][0] for k in keys]
        year_shown = published[str(year)][0] == Mark.SHOWN
        for i, (key, mark) in enumerate(zip(keys, marks, strict=True)):
            if mark == Mark.SHOWN:
                continue
            suppressed += 1
            constraints = []
            if year_shown:
                constraints.append(range(12))
            for term, half in ((Term.SPRING, range(0, 6)), (Term.AUTUMN, range(6, 12))):
                if published[f"{year}-{term.value}"][0] == Mark.SHOWN and i in half:
                    constraints.append(half)
            low, high = 0, max(sum(values), 1)
            for cells in constraints:
                cells = list(cells)
                lo, hi = feasible_range(
                    [values[c] for c in cells],
                    [marks[c] for c in cells],
                    cells.index(i),
                    total=sum(values[c] for c in cells),
                    relation=Relation.PARTITION,
                    threshold=T,
                )
                low, high = max(low, lo), min(high, hi)
            assert low < high, (key, values, marks)
    assert suppressed > 50

    # 4. Breakdowns in the year views only; the all-years view counts years, not months.
    assert all(stats.breakdowns for key, stats in views.items() if len(key) == 4)
    assert not any(stats.breakdowns for key, stats in views.items() if len(key) != 4)
    assert views["all"].period.kind == PeriodKind.ALL
    assert [row.key for row in views["all"].cases_by_month.rows] == [
        str(y) for y in range(FIRST_YEAR, FIRST_YEAR + YEARS)
    ]


def _day(month_key: str):
    from datetime import date

    year, month = month_key.split("-")
    return date(int(year), int(month), 1)


def test_the_sweep_is_not_vacuous(session):
    """The county has the cases that need protecting: many small months, in most years."""
    _, true_counts = make_county(session)
    small = [m for m, n in true_counts.items() if 0 < n < T]
    assert len(small) > 20
    assert len({m.year for m in small}) >= 8
    assert len(list(itertools.chain(true_counts))) > 90
