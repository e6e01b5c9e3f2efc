"""Pure statistics: periods, suppression and its proof by enumeration, municipality grouping, waiting time.

"Reveals" means: a reader can work out the exact value of a cell whose true value is 1 … t−1. Two readers
are checked on every count vector of small tables:

- one who knows the published numbers and what the marks mean (``<t`` is 1 … t−1, a complementary ``..``
  is t … total, a withheld ``..`` is 0 … total, and how the cells relate to the total);
- one who also knows the algorithm: they can list every vector the algorithm publishes identically.

Zeros are shown (rule 1 in ``samrad.statistics``); a cell pinned to 0 is therefore not a disclosure.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from samrad.periods import (
    MAX_MONTHS,
    PeriodError,
    PeriodKind,
    Term,
    custom_period,
    month_period,
    term_period,
    year_period,
)
from samrad.statistics import (
    HIDDEN_TEXT,
    OTHER_MUNICIPALITIES,
    Mark,
    Published,
    Relation,
    group_small_municipalities,
    publish_count,
    publish_periods,
    publish_table,
    revealed,
    summarise_days,
    suppress,
)

# --- Enumeration helpers ---------------------------------------------------------------------------


def compositions(total: int, parts: int):
    """Every vector of ``parts`` non-negative integers adding up to ``total``."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(total - first, parts - 1):
            yield (first, *rest)


def vectors(relation: Relation, total: int, parts: int):
    """Every true table of ``parts`` cells describing ``total`` cases."""
    if relation == Relation.PARTITION:
        yield from compositions(total, parts)
    else:  # MULTI: each cell at most the total; every case in at least one cell
        yield from (v for v in itertools.product(range(total + 1), repeat=parts) if sum(v) >= total)


def published(values, total, relation, threshold, hide=1):
    marks, total_mark = suppress(values, total=total, relation=relation, threshold=threshold, hide=hide)
    cells = tuple((v if m == Mark.SHOWN else None, m) for v, m in zip(values, marks, strict=True))
    return (total if total_mark == Mark.SHOWN else total_mark), cells


def consistent_with(cells, total, relation, threshold):
    """Every vector a reader who knows only the published numbers cannot rule out."""
    ranges = []
    for value, mark in cells:
        if mark == Mark.SHOWN:
            ranges.append(range(value, value + 1))
        elif mark == Mark.SMALL:
            ranges.append(range(1, threshold))
        elif mark == Mark.HIDDEN:
            ranges.append(range(threshold, total + 1))
        else:
            ranges.append(range(0, total + 1))
    for candidate in itertools.product(*ranges):
        if relation == Relation.PARTITION and sum(candidate) != total:
            continue
        if relation == Relation.MULTI and (sum(candidate) < total or max(candidate, default=0) > total):
            continue
        yield candidate


CASES = [
    # (relation, cells, largest total enumerated)
    (Relation.PARTITION, 2, 24),
    (Relation.PARTITION, 3, 20),
    (Relation.PARTITION, 4, 16),
    (Relation.PARTITION, 5, 13),
    (Relation.PARTITION, 6, 11),
    (Relation.MULTI, 2, 14),
    (Relation.MULTI, 3, 10),
    (Relation.MULTI, 4, 7),
]
#: A year's months hide two cells next to a small one (publish_periods): proven for partitions too.
CASES_HIDING_TWO = [
    (Relation.PARTITION, 3, 20),
    (Relation.PARTITION, 4, 16),
    (Relation.PARTITION, 5, 13),
    (Relation.PARTITION, 6, 11),
]
ALL_CASES = [(*case, 1) for case in CASES] + [(*case, 2) for case in CASES_HIDING_TWO]


@pytest.mark.parametrize("threshold", [3, 4, 5])
@pytest.mark.parametrize(("relation", "parts", "largest", "hide"), ALL_CASES)
def test_no_published_combination_reveals_a_small_cell(relation, parts, largest, hide, threshold):
    checked = 0
    for total in range(threshold, largest + 1):  # smaller totals withhold everything (tested below)
        for true in vectors(relation, total, parts):
            shown_total, cells = published(true, total, relation, threshold, hide)
            assert shown_total == total
            if all(mark != Mark.SMALL for _, mark in cells):
                continue
            candidates = list(consistent_with(cells, total, relation, threshold))
            assert true in candidates  # the marks tell the truth
            for i, (_, mark) in enumerate(cells):
                if mark == Mark.SMALL:
                    checked += 1
                    values = {c[i] for c in candidates}
                    assert len(values) >= 2, (true, cells)
                    assert values <= set(range(1, threshold))
    if threshold == 3 and parts > 2:  # two-cell tables with a <t cell are always withheld
        assert checked > 0


@pytest.mark.parametrize("threshold", [3, 4, 5])
@pytest.mark.parametrize(("relation", "parts", "largest", "hide"), ALL_CASES)
def test_knowing_the_algorithm_reveals_no_small_cell(relation, parts, largest, hide, threshold):
    """Group every true table by what is published; within a group no small cell may be pinned."""
    groups = defaultdict(list)
    for total in range(0, largest + 1):
        for true in vectors(relation, total, parts):
            groups[published(true, total, relation, threshold, hide)].append(true)
    pinned = []
    for (_, cells), members in groups.items():
        for i, (_, mark) in enumerate(cells):
            values = {m[i] for m in members}
            if mark != Mark.SHOWN and len(values) == 1 and 0 < min(values) < threshold:
                pinned.append((members, i))
    assert pinned == []
    # Sanity: suppression happened, and (from three cells on) tables with suppressed cells were published.
    marks = {mark for (_, cells) in groups for _, mark in cells}
    assert {Mark.SHOWN, Mark.WITHHELD} <= marks
    if threshold == 3 and parts > 2:
        assert {Mark.SMALL, Mark.HIDDEN} <= marks


def test_every_suppressed_partition_cell_has_a_partner():
    """The issue's rule of thumb holds as a consequence: a lone ``<t`` never stands next to a total."""
    for total in range(3, 13):
        for true in compositions(total, 4):
            _, cells = published(true, total, Relation.PARTITION, 3)
            hidden = [m for _, m in cells if m != Mark.SHOWN]
            assert len(hidden) != 1, true


def test_zero_is_shown_and_small_counts_are_marked():
    table = publish_table(
        "sex",
        "Kön",
        [("female", "Flicka", 7), ("male", "Pojke", 2), ("other", "Annat", 0), ("x", "X", 4)],
        total=13,
        relation=Relation.PARTITION,
        threshold=3,
    )
    assert [(r.key, r.count.text, r.count.export_value) for r in table.rows] == [
        ("female", "7", 7),
        ("male", "<3", "<3"),
        ("other", "0", 0),
        ("x", HIDDEN_TEXT, HIDDEN_TEXT),
    ]
    assert table.total.text == "13"
    assert table.has_suppression and not table.withheld and not table.empty


def test_suppressed_cells_carry_no_true_value():
    table = publish_table(
        "t",
        "T",
        [("a", "A", 1), ("b", "B", 5), ("c", "C", 9)],
        total=15,
        relation=Relation.PARTITION,
        threshold=3,
    )
    assert [(r.count.value, r.count.mark) for r in table.rows] == [
        (None, Mark.SMALL),
        (None, Mark.HIDDEN),
        (9, Mark.SHOWN),
    ]


def test_a_small_total_withholds_the_table_and_is_itself_marked():
    table = publish_table(
        "t", "T", [("a", "A", 2), ("b", "B", 0)], total=2, relation=Relation.PARTITION, threshold=3
    )
    assert table.total.text == "<3" and table.withheld
    assert [r.count.text for r in table.rows] == [HIDDEN_TEXT, HIDDEN_TEXT]


def test_an_empty_table_shows_zeros():
    table = publish_table(
        "t", "T", [("a", "A", 0), ("b", "B", 0)], total=0, relation=Relation.PARTITION, threshold=3
    )
    assert table.empty and not table.withheld
    assert [r.count.text for r in table.rows] == ["0", "0"]


def test_multi_select_cell_forced_by_coverage_is_protected():
    # 10 cases, 8 with A, so at least 2 have B: with C shown too, B = 2 could be worked out.
    marks, _ = suppress([8, 2, 5], total=10, relation=Relation.MULTI, threshold=3)
    assert marks == [Mark.SHOWN, Mark.SMALL, Mark.HIDDEN]
    # With nothing else to hide, the table is withheld.
    marks, _ = suppress([8, 2, 0], total=10, relation=Relation.MULTI, threshold=3)
    assert marks == [Mark.WITHHELD] * 3


def test_independent_counts_get_primary_suppression_only():
    marks, total_mark = suppress([1, 5, 0], total=None, relation=Relation.INDEPENDENT, threshold=3)
    assert (marks, total_mark) == ([Mark.SMALL, Mark.SHOWN, Mark.SHOWN], None)


def test_publish_count():
    assert [publish_count(v, 3).text for v in (0, 1, 2, 3, 40)] == ["0", "<3", "<3", "3", "40"]
    assert publish_count(4, 5).text == "<5"


@pytest.mark.parametrize("threshold", [0, 1, 2])
def test_thresholds_below_three_are_refused(threshold):
    with pytest.raises(ValueError, match="at least 3"):
        suppress([1, 2], total=3, relation=Relation.PARTITION, threshold=threshold)


def test_inconsistent_input_is_refused():
    with pytest.raises(ValueError, match="add up"):
        suppress([1, 2], total=4, relation=Relation.PARTITION, threshold=3)
    with pytest.raises(ValueError, match="exceed"):
        suppress([5], total=4, relation=Relation.MULTI, threshold=3)
    with pytest.raises(ValueError, match="needs its total"):
        suppress([5], total=None, relation=Relation.MULTI, threshold=3)


# --- Municipalities --------------------------------------------------------------------------------


def test_small_municipalities_are_grouped_and_never_named():
    rows = [("1", "Luleå", 9), ("2", "Boden", 4), ("3", "Pajala", 1), ("4", "Jokkmokk", 2), ("5", "Kalix", 0)]
    assert group_small_municipalities(rows, threshold=3, other_label="Övriga kommuner") == [
        ("1", "Luleå", 9),
        ("2", "Boden", 4),
        (OTHER_MUNICIPALITIES, "Övriga kommuner", 3),
    ]


def test_a_lone_small_municipality_takes_the_smallest_named_one_into_the_group():
    rows = [("1", "Luleå", 9), ("2", "Boden", 4), ("3", "Pajala", 1)]
    assert group_small_municipalities(rows, threshold=3, other_label="Övriga") == [
        ("1", "Luleå", 9),
        (OTHER_MUNICIPALITIES, "Övriga", 5),
    ]


def test_without_small_municipalities_the_group_is_zero():
    rows = [("1", "Luleå", 9), ("2", "Boden", 3)]
    assert group_small_municipalities(rows, threshold=3, other_label="Övriga")[-1] == (
        OTHER_MUNICIPALITIES,
        "Övriga",
        0,
    )


def test_grouped_municipalities_then_suppressed_never_name_a_small_one():
    for counts in itertools.product(range(0, 5), repeat=4):
        rows = [(str(i), f"K{i}", c) for i, c in enumerate(counts)]
        grouped = group_small_municipalities(rows, threshold=3, other_label="Övriga")
        named = {label for _, label, _ in grouped} - {"Övriga"}
        assert all(counts[int(label[1:])] >= 3 for label in named)
        group = [c for c in counts if 0 < c < 3]
        members = len(group) + (1 if len(group) == 1 and named else 0)
        assert members != 1 or not named
        assert sum(c for _, _, c in grouped) == sum(counts)


# --- Waiting time ----------------------------------------------------------------------------------


def test_waiting_time_median_and_range():
    assert summarise_days({14: 2, 7: 1}, threshold=3) == summarise_days({7: 1, 14: 2, 30: 0}, threshold=3)
    summary = summarise_days({7: 1, 14: 2}, threshold=3)
    assert (summary.median, summary.shortest, summary.longest) == (14, 7, 14)
    even = summarise_days({3: 1, 10: 1, 20: 1, 40: 1}, threshold=3)
    assert (even.median, even.shortest, even.longest) == (15.0, 3, 40)


def test_waiting_time_needs_at_least_threshold_cases():
    assert summarise_days({}, threshold=3) is None
    assert summarise_days({5: 1, 9: 1}, threshold=3) is None
    assert summarise_days({5: 2, 9: 1}, threshold=4) is None


# --- Periods ---------------------------------------------------------------------------------------


def test_month_term_and_year_periods():
    feb = month_period(2028, 2)
    assert (feb.kind, feb.first, feb.last) == (PeriodKind.MONTH, date(2028, 2, 1), date(2028, 2, 29))
    assert (term_period(2027, Term.SPRING).first, term_period(2027, Term.SPRING).last) == (
        date(2027, 1, 1),
        date(2027, 6, 30),
    )
    assert (term_period(2027, Term.AUTUMN).first, term_period(2027, Term.AUTUMN).last) == (
        date(2027, 7, 1),
        date(2027, 12, 31),
    )
    year = year_period(2027)
    assert (year.first, year.last, len(year.months())) == (date(2027, 1, 1), date(2027, 12, 31), 12)


def test_periods_are_whole_days_in_stockholm_time():
    winter, summer = month_period(2027, 1), month_period(2027, 7)
    assert winter.start_utc == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert winter.end_utc == datetime(2027, 1, 31, 23, 0, tzinfo=UTC)
    assert summer.start_utc == datetime(2027, 6, 30, 22, 0, tzinfo=UTC)
    assert year_period(2027).month_bounds_utc()[2] == datetime(2027, 3, 31, 22, 0, tzinfo=UTC)


def test_custom_period_months_and_errors():
    period = custom_period(date(2026, 11, 20), date(2027, 2, 3))
    assert period.months() == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert custom_period(date(2027, 3, 5), date(2027, 3, 5)).months() == [date(2027, 3, 1)]
    with pytest.raises(PeriodError) as inverted:
        custom_period(date(2027, 3, 5), date(2027, 3, 4))
    assert inverted.value.code == "inverted"
    with pytest.raises(PeriodError) as too_long:
        custom_period(date(2000, 1, 1), date(2000 + MAX_MONTHS // 12, 1, 1))
    assert too_long.value.code == "too_long"
    with pytest.raises(PeriodError):
        month_period(2027, 13)


# --- Found by `make mutation` -----------------------------------------------------------------------


def test_a_table_of_one_case_is_withheld_entirely():
    # With total 1 the single non-zero cell *is* the case: every cell and the total are withheld
    # (a mutant that only withheld totals from 2 upwards survived the enumeration tests).
    marks, total_mark = suppress([1, 0, 0], total=1, relation=Relation.PARTITION, threshold=3)
    assert total_mark == Mark.SMALL
    assert marks == [Mark.WITHHELD, Mark.WITHHELD, Mark.WITHHELD]


@pytest.mark.parametrize(
    ("values", "total", "relation", "message"),
    [
        ([1, 2], None, Relation.PARTITION, "a PARTITION or MULTI table needs its total"),
        ([1, 2], None, Relation.MULTI, "a PARTITION or MULTI table needs its total"),
        ([1, 2], 4, Relation.PARTITION, "the cells of a PARTITION table must add up to its total"),
        ([5, 2], 4, Relation.MULTI, "a cell of a MULTI table cannot exceed its total"),
    ],
)
def test_a_table_that_breaks_its_relation_is_refused_with_the_reason(values, total, relation, message):
    with pytest.raises(ValueError) as refused:
        suppress(values, total=total, relation=relation, threshold=3)
    assert str(refused.value) == message


# --- Edges that mutation testing found unpinned (`make mutation`) ---------------------------------------


def test_a_published_table_keeps_its_names_and_its_rule():
    table = publish_table(
        "category",
        "Cases by category",
        [("hrv", "Honour-related violence", 7), ("ipv", "Intimate-partner violence", 2), ("both", "Both", 5)],
        total=14,
        relation=Relation.PARTITION,
        threshold=3,
    )
    assert (table.key, table.title, table.relation, table.threshold) == (
        "category",
        "Cases by category",
        Relation.PARTITION,
        3,
    )
    assert [(r.key, r.label) for r in table.rows] == [
        ("hrv", "Honour-related violence"),
        ("ipv", "Intimate-partner violence"),
        ("both", "Both"),
    ]
    # The small cell would follow from the total, so the smallest other cell is hidden too.
    assert [r.count.mark for r in table.rows] == [Mark.SHOWN, Mark.SMALL, Mark.HIDDEN]
    assert [r.count.value for r in table.rows] == [7, None, None]
    assert table.total is not None and (table.total.value, table.total.mark) == (14, Mark.SHOWN)


def test_a_table_without_a_total_publishes_none_and_a_small_total_is_not_shown():
    without = publish_table("k", "t", [("a", "A", 4)], total=None, relation=Relation.INDEPENDENT, threshold=3)
    assert without.total is None
    small = publish_table("k", "t", [("a", "A", 2)], total=2, relation=Relation.PARTITION, threshold=3)
    assert small.total is not None and (small.total.value, small.total.mark) == (None, Mark.SMALL)


def test_a_count_keeps_its_threshold_for_the_small_mark():
    assert publish_count(5, threshold=4) == Published(5, Mark.SHOWN, 4)
    assert publish_count(3, threshold=4).text == "<4"


def test_revealed_names_the_cells_a_reader_can_work_out():
    values, marks = [10, 1, 4], [Mark.SHOWN, Mark.SMALL, Mark.SHOWN]
    assert revealed(values, marks, total=15, relation=Relation.PARTITION, threshold=3) == [1]
    assert revealed(values, marks, total=None, relation=Relation.PARTITION, threshold=3) == []
    assert revealed(values, marks, total=15, relation=Relation.INDEPENDENT, threshold=3) == []


def test_named_municipalities_are_ordered_by_count_then_name():
    # Keys and input order deliberately disagree with the order wanted.
    rows = [
        ("2", "Luleå", 5),
        ("3", "Boden", 5),
        ("9", "Arjeplog", 9),
        ("1", "Kiruna", 5),
        ("0", "Älvsbyn", 0),
    ]
    grouped = group_small_municipalities(rows, threshold=3, other_label="Övriga")
    assert [label for _, label, _ in grouped] == ["Arjeplog", "Boden", "Kiruna", "Luleå", "Övriga"]


def test_a_municipality_without_cases_does_not_keep_a_lone_small_one_company():
    rows = [("1", "Arjeplog", 9), ("2", "Boden", 4), ("3", "Kiruna", 1), ("4", "Älvsbyn", 0)]
    grouped = group_small_municipalities(rows, threshold=3, other_label="Övriga")
    # Kiruna is the only small one: the smallest named (Boden) joins it; Älvsbyn's zero does not count.
    assert grouped == [("1", "Arjeplog", 9), (OTHER_MUNICIPALITIES, "Övriga", 5)]


# --- One publication for every period (rule 6) ------------------------------------------------------


def _months(year, values):
    return {date(year, m, 1): v for m, v in enumerate(values, start=1) if v}


def test_a_year_is_one_table_of_its_months_and_terms_follow_from_it():
    counts = _months(2027, [5, 1, 6, 7, 0, 9, 40, 8, 30, 10, 12, 30])
    published = publish_periods(counts, threshold=3)
    # Next to the small month the two smallest other non-zero months are hidden (5 and 6).
    assert [published[f"2027-{m:02d}"].text for m in range(1, 13)] == [
        "..",
        "<3",
        "..",
        "7",
        "0",
        "9",
        "40",
        "8",
        "30",
        "10",
        "12",
        "30",
    ]
    # Every suppressed month is in spring: spring = year − autumn adds nothing, so both terms show.
    assert [published[k].text for k in ("2027", "2027-vt", "2027-ht", "all")] == ["158", "28", "130", "158"]


def test_a_term_holding_part_of_the_suppression_is_hidden():
    counts = _months(2027, [5, 1, 6, 7, 0, 9, 4, 8, 30, 10, 12, 40])
    published = publish_periods(counts, threshold=3)
    assert [published[f"2027-{m:02d}"].text for m in range(1, 13)] == [
        "..",
        "<3",
        "6",
        "7",
        "0",
        "9",
        "..",
        "8",
        "30",
        "10",
        "12",
        "40",
    ]
    assert [published[k].text for k in ("2027", "2027-vt", "2027-ht", "all")] == ["132", "..", "..", "132"]


def test_a_year_whose_hidden_months_would_still_give_the_small_one_away_is_withheld():
    # Hidden 3 and 3 with a smallest shown 4: a reader knows they hold 6 in all, so the small month is 1.
    counts = _months(2027, [5, 1, 6, 7, 0, 9, 4, 8, 3, 10, 12, 3])
    published = publish_periods(counts, threshold=3)
    assert {published[f"2027-{m:02d}"].mark for m in range(1, 13)} == {Mark.WITHHELD}
    assert [published[k].text for k in ("2027", "2027-vt", "2027-ht")] == ["68", "..", ".."]


def test_years_do_not_constrain_each_other_and_all_years_needs_every_year():
    busy = _months(2027, [20] * 12)
    alone = publish_periods(busy, threshold=3)
    together = publish_periods(_months(2026, [1] + [0] * 11) | busy, threshold=3)
    assert {k: v for k, v in together.items() if k.startswith("2027")} == {
        k: v for k, v in alone.items() if k.startswith("2027")
    }
    assert (alone["all"].text, together["2026"].text, together["all"].text) == ("240", "<3", "..")
    assert {together[f"2026-{m:02d}"].mark for m in range(1, 13)} == {Mark.WITHHELD}
    assert publish_periods({}, threshold=3) == {"all": Published(0, Mark.SHOWN, 3)}


def test_suppressed_periods_carry_no_value_and_hidden_terms_are_marked_hidden():
    counts = _months(2027, [5, 1, 6, 7, 0, 9, 4, 8, 30, 10, 12, 40]) | _months(2028, [20] * 12)
    published = publish_periods(counts, threshold=4)
    for key, period in published.items():
        assert period.threshold == 4, key
        if period.mark != Mark.SHOWN:
            assert period.value is None, key
    assert (published["2027-vt"].mark, published["2027-ht"].mark) == (Mark.HIDDEN, Mark.HIDDEN)
    # Every year shown: all years is their sum.
    assert (published["2027"].value, published["2028"].value, published["all"].value) == (132, 240, 372)


def test_breakdowns_hide_one_cell_and_a_year_never_all_of_its_other_months():
    marks, _ = suppress([7, 2, 0, 4, 5], total=18, relation=Relation.PARTITION, threshold=3)
    assert marks == [Mark.SHOWN, Mark.SMALL, Mark.SHOWN, Mark.HIDDEN, Mark.SHOWN]
    # Two other non-zero months: the year hides one of them, not both (one must stay to compare with).
    months = publish_periods(_months(2027, [0, 1, 0, 6, 0, 0, 0, 0, 0, 9, 0, 0]), threshold=3)
    assert [months[f"2027-{m:02d}"].mark for m in (2, 4, 10)] == [Mark.SMALL, Mark.HIDDEN, Mark.SHOWN]
