"""Statistics that never re-identify: periods, small-cell suppression, municipality grouping.

Pure functions: no database, no Flask. ``samrad.services.statistics`` counts with SQL and hands the raw
counts to :func:`publish_table`; only the published result (never a suppressed true value) leaves it.

Suppression rules (the threshold ``t`` is ``STATISTICS_MIN_COUNT``, default 3):

1. **Zero is shown.** A true 0 says that no case had the attribute; it says nothing about any one case,
   and the pilots published zeros too ("6 kommuner inga ärenden"). Because zeros are shown, a cell marked
   ``<t`` is known to hold 1 … t−1, which the safety check below takes into account. The threshold is
   therefore at least 3: with ``t = 2`` the mark ``<2`` could only mean 1.
2. **Primary suppression.** A count from 1 to t−1 is shown as ``<t`` (:attr:`Mark.SMALL`).
3. **Small totals withhold the table.** When the table's total is itself from 1 to t−1, every cell is
   withheld (``..``): a breakdown of one or two cases would describe those cases.
4. **Complementary suppression.** A table with a total and at least one ``<t`` cell always hides one
   more cell: the smallest non-zero published cell (ties: the first), shown as ``..``
   (:attr:`Mark.HIDDEN`). It is done *whatever* the hidden values are, because a rule that hides a second
   cell only when the first could be worked out tells a reader who knows the rule when that was the
   case. If fewer than two non-zero cells are published to choose from, or if a reader could still work
   out a ``<t`` cell, the whole table is withheld (``..``). What a reader can work out depends on how the
   cells relate to the total (:class:`Relation`):

   - ``PARTITION`` (sex, age band, municipality, …): every case is in exactly one cell, so the cells add
     up to the total.
   - ``MULTI`` (categories, who exposes): a case may be in several cells, so cells do not add up. What a
     reader still knows: every cell is at most the total, and (assuming every case has at least one
     value) the cells add up to *at least* the total. The second fact can force a ``<t`` cell to a single
     value (total 10, one published cell of 8 and one ``<3`` cell: the hidden cell must be 2).
   - ``INDEPENDENT`` (meetings attended per organisation): no relation between cells; primary
     suppression suffices.

   The reader's knowledge is modelled as intervals: a published cell is exact, ``<t`` is 1 … t−1, a
   complementary ``..`` is t … total and at most every published non-zero cell (it was the smallest), a
   withheld ``..`` is 0 … total. With one linear (in)equality over integer intervals, the values a cell
   can take form exactly an interval, so the check is exact.

   ``tests/unit/test_statistics.py`` proves the rules by enumeration over every count vector of small
   tables, for two readers: one who knows only the published numbers (every vector consistent with them
   leaves each ``<t`` cell at least two values), and one who also knows this algorithm (every vector the
   algorithm publishes identically leaves each suppressed cell with a true value of 1 … t−1 at least two
   values).
5. **Municipalities are grouped first** (:func:`group_small_municipalities`): a municipality with 1 … t−1
   cases is never named; such municipalities are added up as "övriga kommuner", which then always holds
   either none or at least two municipalities, so a reader cannot tell which municipality a count
   belongs to even when every other municipality is named.

6. **One publication for every period** (:func:`publish_periods`). Statistics are published for
   standard periods only — a month, a term, a year, or all years — and the number of cases of each is
   decided once for the consultation's whole history, so every view (a year's months, a term's, a month
   alone) shows the same value or mark for the same period. Each year is one table (its months, with the
   year as total); a term or all years is shown only when its value follows from what is published
   already, so no subtraction of one view from another gives a suppressed count ("a term's hidden month
   from the year and the other term"). Breakdowns (category, municipality, …) are published per year
   only: over months and terms they would form a second, crossing hierarchy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from samrad.periods import ALL_YEARS_KEY, Term, month_key, term_key

#: The lowest threshold that protects anything when zeros are shown (see the module docstring).
MIN_THRESHOLD = 3


# --- Suppression -----------------------------------------------------------------------------------


class Mark(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # 1 … t−1, shown as "<t"
    HIDDEN = "hidden"  # complementary suppression, shown as ".."
    WITHHELD = "withheld"  # the whole table is withheld, shown as ".."


class Relation(StrEnum):
    PARTITION = "partition"
    MULTI = "multi"
    INDEPENDENT = "independent"


HIDDEN_TEXT = ".."


@dataclass(frozen=True)
class Published:
    """A count as it may be shown: the value only when it is shown, else just the mark."""

    value: int | None
    mark: Mark
    threshold: int

    @property
    def text(self) -> str:
        if self.mark == Mark.SHOWN:
            return str(self.value)
        if self.mark == Mark.SMALL:
            return f"<{self.threshold}"
        return HIDDEN_TEXT

    @property
    def export_value(self) -> int | str:
        """A number for shown counts, else the mark's text (for CSV, XLSX and JSON)."""
        return self.value if self.mark == Mark.SHOWN and self.value is not None else self.text

    @property
    def is_shown(self) -> bool:
        return self.mark == Mark.SHOWN


def publish_count(value: int, threshold: int) -> Published:
    """A single count (a headline figure): shown, or ``<t`` when from 1 to t−1."""
    check_threshold(threshold)
    if 0 < value < threshold:
        return Published(None, Mark.SMALL, threshold)
    return Published(value, Mark.SHOWN, threshold)


def check_threshold(threshold: int) -> None:
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"the suppression threshold must be at least {MIN_THRESHOLD}")


def _bounds(value: int, mark: Mark, threshold: int, total: int) -> tuple[int, int]:
    """What a reader knows about a cell from its mark (see the module docstring)."""
    if mark == Mark.SHOWN:
        return value, value
    if mark == Mark.SMALL:
        return 1, threshold - 1
    if mark == Mark.HIDDEN:
        return threshold, total
    return 0, total


def feasible_range(
    values: Sequence[int],
    marks: Sequence[Mark],
    index: int,
    *,
    total: int,
    relation: Relation,
    threshold: int,
) -> tuple[int, int]:
    """The smallest and largest value cell ``index`` can have, given what is published."""
    bounds = [_bounds(v, m, threshold, total) for v, m in zip(values, marks, strict=True)]
    # The hidden cell was the smallest non-zero shown cell (ties: the first), so it is at most each of the
    # others: a reader who knows the rule knows that too.
    for h, mark in enumerate(marks):
        if mark == Mark.HIDDEN:
            caps = [
                v - (j < h)
                for j, (v, m) in enumerate(zip(values, marks, strict=True))
                if m == Mark.SHOWN and v > 0
            ]
            bounds[h] = (bounds[h][0], min([bounds[h][1], *caps]))
    low, high = bounds[index]
    others_low = sum(b[0] for i, b in enumerate(bounds) if i != index)
    others_high = sum(b[1] for i, b in enumerate(bounds) if i != index)
    if relation == Relation.PARTITION:
        return max(low, total - others_high), min(high, total - others_low)
    if relation == Relation.MULTI:
        return max(low, total - others_high), min(high, total)
    return low, high


def revealed(
    values: Sequence[int], marks: Sequence[Mark], *, total: int | None, relation: Relation, threshold: int
) -> list[int]:
    """Indexes of ``<t`` cells whose exact value a reader could work out."""
    if relation == Relation.INDEPENDENT or total is None:
        return []
    found = []
    for i, mark in enumerate(marks):
        if mark == Mark.SMALL:
            low, high = feasible_range(values, marks, i, total=total, relation=relation, threshold=threshold)
            if low >= high:
                found.append(i)
    return found


def suppress(
    values: Sequence[int], *, total: int | None, relation: Relation, threshold: int, hide: int = 1
) -> tuple[list[Mark], Mark | None]:
    """Decide how every cell is shown. Returns the cells' marks and the total's mark (None: no total).

    ``total`` is the number of cases the table describes (required unless ``relation`` is INDEPENDENT).
    ``hide`` is how many of the smallest published cells rule 4 hides next to a ``<t`` cell (always that
    many, at most all but one): 1 for the breakdowns; 2 for a year's months, where several small months
    and ties among the rest would otherwise often let a reader pin the small ones and withhold the year.
    """
    check_threshold(threshold)
    if relation != Relation.INDEPENDENT and total is None:
        raise ValueError("a PARTITION or MULTI table needs its total")
    if relation == Relation.PARTITION and total != sum(values):
        raise ValueError("the cells of a PARTITION table must add up to its total")
    if relation == Relation.MULTI and total is not None and any(v > total for v in values):
        raise ValueError("a cell of a MULTI table cannot exceed its total")
    total_mark = None if total is None else (Mark.SMALL if 0 < total < threshold else Mark.SHOWN)
    if total_mark == Mark.SMALL:
        return [Mark.WITHHELD] * len(values), total_mark
    marks = [Mark.SMALL if 0 < v < threshold else Mark.SHOWN for v in values]
    if relation == Relation.INDEPENDENT or Mark.SMALL not in marks:
        return marks, total_mark
    candidates = [i for i, (v, m) in enumerate(zip(values, marks, strict=True)) if m == Mark.SHOWN and v > 0]
    if len(candidates) < 2:
        return [Mark.WITHHELD] * len(values), total_mark
    # Always the same number of cells, whatever they hold: hiding more only when it is needed would tell a
    # reader who knows the rule that it was needed.
    for cell in sorted(candidates, key=lambda i: (values[i], i))[: min(hide, len(candidates) - 1)]:
        marks[cell] = Mark.HIDDEN
    if revealed(values, marks, total=total, relation=relation, threshold=threshold):
        return [Mark.WITHHELD] * len(values), total_mark
    return marks, total_mark


def publish_periods(counts_by_month: Mapping[date, int], *, threshold: int) -> dict[str, Published]:
    """The published number of cases of every standard period (rule 6), keyed ``2027-03``, ``2027-vt``
    (January–June), ``2027-ht`` (July–December), ``2027`` and ``all``. ``counts_by_month`` maps the
    first day of a month to its true count; months missing from it have none.

    Each year is one table: its months with the year as their total, suppressed by the rules above.
    Nothing else adds information: a term is shown only when its value follows from the year's published
    numbers anyway (all its months shown, or all the year's other months shown), and the count of all
    years only when every year is shown; otherwise ``..``. Years are not tied to each other, so a small
    year hides nothing in its neighbours.
    """
    check_threshold(threshold)
    published: dict[str, Published] = {}
    hidden = Published(None, Mark.HIDDEN, threshold)
    every_year_shown, total = True, 0
    for year in sorted({month.year for month in counts_by_month}):
        months = [date(year, m, 1) for m in range(1, 13)]
        values = [counts_by_month.get(m, 0) for m in months]
        year_count = sum(values)
        total += year_count
        published[str(year)] = publish_count(year_count, threshold)
        every_year_shown = every_year_shown and published[str(year)].is_shown
        marks, _ = suppress(
            values, total=year_count, relation=Relation.PARTITION, threshold=threshold, hide=2
        )
        for month, value, mark in zip(months, values, marks, strict=True):
            published[month_key(month)] = Published(value if mark == Mark.SHOWN else None, mark, threshold)
        for key, half in (
            (term_key(year, Term.SPRING), slice(0, 6)),
            (term_key(year, Term.AUTUMN), slice(6, 12)),
        ):
            inside = marks[half]
            outside = marks[: half.start] + marks[half.stop :]
            follows = all(m == Mark.SHOWN for m in inside) or (
                published[str(year)].is_shown and all(m == Mark.SHOWN for m in outside)
            )
            published[key] = Published(sum(values[half]), Mark.SHOWN, threshold) if follows else hidden
    published[ALL_YEARS_KEY] = Published(total, Mark.SHOWN, threshold) if every_year_shown else hidden
    return published


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: Published


@dataclass(frozen=True)
class Table:
    """A published one-way table. It never holds the true value of a suppressed cell."""

    key: str
    title: str
    relation: Relation
    rows: tuple[Row, ...]
    total: Published | None
    threshold: int

    @property
    def withheld(self) -> bool:
        return bool(self.rows) and all(r.count.mark == Mark.WITHHELD for r in self.rows)

    @property
    def empty(self) -> bool:
        """No case at all in the period (every cell a true, shown zero)."""
        return self.total is not None and self.total.is_shown and self.total.value == 0

    @property
    def has_suppression(self) -> bool:
        return any(not r.count.is_shown for r in self.rows)


def publish_table(
    key: str,
    title: str,
    rows: Sequence[tuple[str, str, int]],
    *,
    total: int | None,
    relation: Relation,
    threshold: int,
) -> Table:
    """Suppress a table of ``(key, label, count)`` rows; the result is safe to show and export."""
    values = [count for _, _, count in rows]
    marks, total_mark = suppress(values, total=total, relation=relation, threshold=threshold)
    published = tuple(
        Row(k, label, Published(v if m == Mark.SHOWN else None, m, threshold))
        for (k, label, v), m in zip(rows, marks, strict=True)
    )
    published_total = None
    if total is not None and total_mark is not None:
        published_total = Published(total if total_mark == Mark.SHOWN else None, total_mark, threshold)
    return Table(key, title, relation, published, published_total, threshold)


# --- Municipalities --------------------------------------------------------------------------------


OTHER_MUNICIPALITIES = "other"


def group_small_municipalities(
    rows: Sequence[tuple[str, str, int]], *, threshold: int, other_label: str
) -> list[tuple[str, str, int]]:
    """Name only municipalities with at least ``threshold`` cases; add the rest up as "övriga kommuner".

    Municipalities without cases are left out. The "övriga" row is always present and holds either no
    municipality or at least two: if only one municipality is small, the smallest named one joins it, so
    that its count cannot be pinned on one municipality by elimination from the public register.
    """
    check_threshold(threshold)
    named = sorted((r for r in rows if r[2] >= threshold), key=lambda r: (-r[2], r[1]))
    small = [r for r in rows if 0 < r[2] < threshold]
    if len(small) == 1 and named:
        small.append(named.pop())  # the last is the smallest (ties: the last name alphabetically)
    return [*named, (OTHER_MUNICIPALITIES, other_label, sum(r[2] for r in small))]


# --- Waiting time ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySummary:
    median: float
    shortest: int
    longest: int


def summarise_days(histogram: dict[int, int], *, threshold: int) -> DaySummary | None:
    """Median, shortest and longest from ``{days: number of cases}``; None for fewer than ``threshold`` cases.

    Shortest and longest are single cases' values, so they are only shown for at least ``threshold``
    cases, when a reader cannot tell which case they belong to.
    """
    check_threshold(threshold)
    n = sum(histogram.values())
    if n < threshold:
        return None
    days = sorted(d for d, count in histogram.items() if count > 0)

    def nth(position: int) -> int:  # 0-based position in the sorted list of all n values
        seen = 0
        for d in days:
            seen += histogram[d]
            if position < seen:
                return d
        raise IndexError(position)

    middle = (nth((n - 1) // 2) + nth(n // 2)) / 2
    return DaySummary(median=middle, shortest=days[0], longest=days[-1])
