"""What the statistics publish, and what a differencing reader gets, over a generated county.

    .venv/bin/python benchmarks/statistics_disclosure.py [--seed N]

Builds the county of ``tests/factories/county.py`` (ten years, over 2 000 cases, many sparse months) in a
temporary SQLite database, asks the service for every standard view (each month, term and year, and all
years when the code has it) and prints:

- cells published in all views, by mark, and the share shown;
- per month: the share of months whose count is shown in the year's view;
- leaks: a period published with different marks or values in two views (then one view undoes the
  other's suppression), shown counts of 1 … t−1, and nested views whose shown counts differ by 1 … t−1.

Run it on two commits to compare (the numbers in the closing note of issue H come from here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session, create_engine  # noqa: E402

from samrad import periods  # noqa: E402
from samrad.services.statistics import consultation_statistics  # noqa: E402
from samrad.statistics import Mark  # noqa: E402
from tests.conftest import schema_app  # noqa: E402
from tests.factories.county import FIRST_YEAR, YEARS, make_county  # noqa: E402

T = 3


def _key(period) -> str:
    if period.kind == "month":
        return f"{period.first:%Y-%m}"
    if period.kind == "term":
        return f"{period.first.year}-{'vt' if period.first.month == 1 else 'ht'}"
    if period.kind == "year":
        return str(period.first.year)
    return "all"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = schema_app(f"sqlite:///{tmp}/county.db", Path(tmp))
        engine = create_engine(app.config["DATABASE_URL"])
        with app.app_context(), Session(engine) as session:
            consultation, counts = make_county(session, seed=args.seed)
            session.commit()
            views = []
            if hasattr(periods, "all_years_period"):
                views.append(periods.all_years_period(FIRST_YEAR, FIRST_YEAR))
            for year in range(FIRST_YEAR, FIRST_YEAR + YEARS):
                views.append(periods.year_period(year))
                views += [periods.term_period(year, term) for term in periods.Term]
                views += [periods.month_period(year, month) for month in range(1, 13)]
            marks: Counter = Counter()
            seen: dict[str, set] = {}
            for period in views:
                stats = consultation_statistics(session, consultation, period, threshold=T)
                for table in stats.tables:
                    for row in table.rows:
                        marks[row.count.mark] += 1
                key = _key(period)
                seen.setdefault(key, set()).add((stats.cases_submitted.mark, stats.cases_submitted.value))
                for row in stats.cases_by_month.rows:
                    seen.setdefault(row.key, set()).add((row.count.mark, row.count.value))
    cells = sum(marks.values())
    print(f"county: {sum(counts.values())} cases, {len(views)} views, {cells} cells published in all")
    for mark in Mark:
        print(f"  {mark.value:<9} {marks[mark]:>6}  {marks[mark] / cells:6.1%}")
    inconsistent = {k: v for k, v in seen.items() if len(v) > 1}
    shown = {}
    for key, published in seen.items():
        values = {value for mark, value in published if mark == Mark.SHOWN}
        if values:
            shown[key] = max(values)
    months = [k for k in seen if len(k) == 7 and k[5:].isdigit()]
    print(f"months shown in some view: {sum(1 for k in months if k in shown)} of {len(months)}")
    small = [k for k, v in shown.items() if 0 < v < T]
    nested = []
    for key in shown:
        if len(key) == 4:
            nested += [(key, p) for p in shown if p.startswith(key + "-")]
        elif key.endswith(("-vt", "-ht")):
            half = range(1, 7) if key.endswith("-vt") else range(7, 13)
            nested += [(key, f"{key[:4]}-{m:02d}") for m in half if f"{key[:4]}-{m:02d}" in shown]
    differing = [(a, b) for a, b in nested if 0 < shown[a] - shown[b] < T]
    print(f"leak: periods published differently in two views: {len(inconsistent)}")
    print(f"leak: counts of 1…{T - 1} shown in some view: {len(small)}")
    print(f"leak: nested shown pairs differing by 1…{T - 1}: {len(differing)} of {len(nested)}")


if __name__ == "__main__":
    main()
