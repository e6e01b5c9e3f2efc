"""Counted statistics are kept under the database's statistics generation (issue K 3): the same view is
not counted again until a committed change to what it counts moves the generation on, from this session,
another one, or a bulk statement; what is kept is what counting again would give (suppression included)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import event, update
from sqlmodel import Session, select

from samrad import db
from samrad.enums import CaseStatus
from samrad.models import STATISTICS_IGNORED_COLUMNS, Case, StatisticsGeneration
from samrad.periods import all_years_period, month_period, year_period
from samrad.services import agenda, statistics
from tests.factories import (
    make_agenda_item,
    make_case,
    make_consultation,
    make_meeting,
    make_organisation,
)
from tests.factories.meetings import MEETING_STARTS_AT

YEAR = year_period(2027)
ROOT = Path(__file__).resolve().parents[2]
NOW = MEETING_STARTS_AT - timedelta(days=3)


@pytest.fixture
def counted(session):
    consultation = make_consultation(session, slug="una", name="Una")
    organisation = make_organisation(session)
    for day in range(1, 8):
        make_case(session, consultation, organisation, submitted_at=datetime(2027, 3, day, 9, tzinfo=UTC))
    session.commit()
    return consultation, organisation


class Statements:
    def __init__(self, session: Session):
        self.engine = session.get_bind()
        self.seen: list[str] = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self.seen

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)


def _submitted(stats) -> str:
    return stats.cases_submitted.text


def test_the_same_view_is_counted_once_until_something_changes(session, counted):
    consultation, organisation = counted
    first = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    with Statements(session) as seen:
        again = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert again is first
    assert len(seen) == 1 and "statisticsgeneration" in seen[0]  # only the generation is read
    assert _submitted(first) == "7"

    make_case(session, consultation, organisation, submitted_at=datetime(2027, 4, 1, 9, tzinfo=UTC))
    session.commit()
    after = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert after is not first and _submitted(after) == "8"


def test_a_change_committed_by_another_session_is_seen(shared_db_app):
    """Another worker's session (a real second connection) withdraws a case; the next request counts again."""
    with shared_db_app.app_context():
        engine = db.get_engine()
        with Session(engine, expire_on_commit=False) as session:
            consultation = make_consultation(session, slug="una", name="Una")
            organisation = make_organisation(session)
            for day in range(1, 5):
                make_case(
                    session, consultation, organisation, submitted_at=datetime(2027, 3, day, tzinfo=UTC)
                )
            session.commit()
            assert (
                _submitted(statistics.consultation_statistics(session, consultation, YEAR, threshold=3))
                == "4"
            )
            cid = consultation.id
            session.rollback()  # the request ends (and touching its objects now would begin another)
            with Session(engine, expire_on_commit=False) as other:
                case = other.exec(select(Case).where(Case.consultation_id == cid)).first()
                case.status = CaseStatus.WITHDRAWN
                other.add(case)
                other.commit()
            counted = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
            assert _submitted(counted) == "3"


def test_a_bulk_update_moves_the_generation_on(session, counted):
    consultation, _ = counted
    before = db.statistics_generation(session)
    statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    session.execute(update(Case).where(Case.consultation_id == consultation.id).values(is_training=True))
    session.commit()
    assert db.statistics_generation(session) == before + 1
    assert _submitted(statistics.consultation_statistics(session, consultation, YEAR, threshold=3)) == "0"


@pytest.mark.parametrize(
    ("model", "sets", "moves"),
    [
        ("Meeting", {"agenda_revision"}, False),  # what the agenda's compare-and-set declares
        ("Meeting", {"agenda_revision", "status"}, True),  # one counted column among them is enough
        ("Meeting", {"revision"}, True),  # a meeting's own revision is not on the ignored list
        ("Case", {"agenda_revision"}, True),  # a name ignored on another table says nothing about this one
        ("Case", set(), True),  # an empty declaration is not a way around the rule
    ],
)
def test_only_an_update_of_ignored_columns_alone_keeps_the_statistics(session, counted, model, sets, moves):
    """A bulk UPDATE may declare the columns it sets (``db.SETS_ONLY``); it keeps the statistics only when
    all of them are ignored on that very table. The declaration is the statement's own word, so the rule
    is held to the hardest declarations, not only to the one the code makes."""
    from samrad.models import Meeting

    consultation, _ = counted
    meeting = make_meeting(session, consultation, starts_at=MEETING_STARTS_AT)
    session.commit()
    before = db.statistics_generation(session)
    table = {"Meeting": Meeting, "Case": Case}[model]
    row_id = meeting.id if model == "Meeting" else session.exec(select(Case.id)).first()
    session.execute(
        update(table)
        .where(table.id == row_id)
        .values({"updated_at": Case.updated_at} if model == "Case" else {"revision": Meeting.revision})
        .execution_options(**{db.SETS_ONLY: frozenset(sets)})
    )
    session.commit()
    assert db.statistics_generation(session) == (before + 1 if moves else before)


def test_changes_not_yet_committed_are_counted_not_cached(session, counted):
    consultation, organisation = counted
    statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    make_case(session, consultation, organisation, submitted_at=datetime(2027, 5, 1, 9, tzinfo=UTC))
    assert db.statistics_generation(session) is None
    assert _submitted(statistics.consultation_statistics(session, consultation, YEAR, threshold=3)) == "8"
    session.rollback()
    assert _submitted(statistics.consultation_statistics(session, consultation, YEAR, threshold=3)) == "7"


def test_reading_or_rolling_back_does_not_move_the_generation(session, counted):
    before = db.statistics_generation(session)
    session.exec(select(Case)).all()
    session.commit()  # nothing changed
    make_organisation(session)
    session.rollback()  # a change given up
    assert db.statistics_generation(session) == before


def test_putting_an_agenda_in_another_order_keeps_the_statistics(session, counted):
    """An agenda's order is its most frequent edit, and no statistic reads it: moving an item leaves every
    county's kept statistics in place; changing an item's length (which a statistic could count) does not."""
    consultation, organisation = counted
    meeting = make_meeting(session, consultation, starts_at=MEETING_STARTS_AT)
    first, second = make_agenda_item(session, meeting), make_agenda_item(session, meeting)
    session.commit()
    before = db.statistics_generation(session)
    statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    agenda.move_item(session, meeting, first.id, "down", revision=meeting.agenda_revision, now=NOW)
    assert db.statistics_generation(session) == before  # not "changed, count afresh" either
    session.commit()
    assert [i.id for i in meeting.items] == [second.id, first.id]
    assert db.statistics_generation(session) == before
    with Statements(session) as seen:
        statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert len(seen) == 1  # the generation; the view is kept
    agenda.set_duration(session, meeting, first.id, 25, revision=meeting.agenda_revision, now=NOW)
    session.commit()
    assert db.statistics_generation(session) == before + 1


def test_the_statistics_never_read_the_columns_they_ignore():
    """The columns whose changes keep the statistics (``STATISTICS_IGNORED_COLUMNS``) must stay unread by
    every module that counts or draws them."""
    sources = {
        path: path.read_text(encoding="utf-8")
        for path in (
            ROOT / "samrad" / "statistics.py",
            ROOT / "samrad" / "services" / "statistics.py",
            ROOT / "samrad" / "charts.py",
        )
    }
    for model, columns in STATISTICS_IGNORED_COLUMNS.items():
        for column in columns:
            for path, text in sources.items():
                assert not re.search(rf"\.{column}\b|[\"']{column}[\"']", text), (model, column, path.name)


@pytest.mark.parametrize(
    "period",
    [YEAR, month_period(2027, 3), month_period(2027, 4), all_years_period(2027, 2027)],
    ids=["year", "march", "april", "all"],
)
def test_what_is_kept_is_what_counting_again_gives_small_counts_suppressed(session, counted, period):
    consultation, organisation = counted
    make_case(session, consultation, organisation, submitted_at=datetime(2027, 4, 2, 9, tzinfo=UTC))
    session.commit()  # April: one case, below the threshold
    statistics.consultation_statistics(session, consultation, period, threshold=3)
    kept = statistics.consultation_statistics(session, consultation, period, threshold=3)
    fresh = statistics._count(session, consultation, period, threshold=3)
    assert kept == fresh
    if period == month_period(2027, 4):
        assert not kept.cases_submitted.is_shown  # one case: suppressed, cached or not


def test_the_language_and_threshold_are_part_of_what_is_kept(session, counted):
    consultation, _ = counted
    swedish = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    with force_locale("en"):
        english = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert swedish is not english
    assert statistics.consultation_statistics(session, consultation, YEAR, threshold=10) is not swedish
    assert _submitted(statistics.consultation_statistics(session, consultation, YEAR, threshold=10)) == "<10"


def test_without_a_generation_nothing_is_kept(session, counted):
    consultation, _ = counted
    session.execute(StatisticsGeneration.__table__.delete())
    session.commit()
    assert db.statistics_generation(session) is None
    first = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert statistics.consultation_statistics(session, consultation, YEAR, threshold=3) is not first


def test_a_change_in_a_savepoint_moves_the_generation_once_when_the_transaction_commits(
    session, counted, caplog
):
    consultation, organisation = counted
    before = db.statistics_generation(session)
    with session.begin_nested():  # as directory.save does
        make_case(session, consultation, organisation, submitted_at=datetime(2027, 6, 1, tzinfo=UTC))
    assert db.statistics_generation(session) is None  # not committed yet: nothing kept or used
    session.commit()
    assert db.statistics_generation(session) == before + 1
    assert "not moved on" not in caplog.text


def test_what_is_made_from_a_view_is_kept_with_it_and_made_again_after_a_change(session, counted):
    """The dashboard's rendering is kept with the view it shows: made once per view and key, made again
    for the new view once something counted changed, and never kept for a view counted afresh."""
    consultation, organisation = counted
    made: list[str] = []

    def render(stats):
        return lambda: made.append(_submitted(stats)) or f"{len(made)}: {_submitted(stats)}"

    first = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert statistics.kept_with(first, "html", render(first)) == "1: 7"
    assert statistics.kept_with(first, "html", render(first)) == "1: 7"
    assert statistics.kept_with(first, "other", render(first)) == "2: 7"

    make_case(session, consultation, organisation, submitted_at=datetime(2027, 4, 1, 9, tzinfo=UTC))
    session.commit()
    after = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert statistics.kept_with(after, "html", render(after)) == "3: 8"
    # A view counted with changes not yet committed is not kept, nor what is made from it.
    make_case(session, consultation, organisation, submitted_at=datetime(2027, 4, 2, 9, tzinfo=UTC))
    session.flush()
    fresh = statistics.consultation_statistics(session, consultation, YEAR, threshold=3)
    assert statistics.kept_with(fresh, "html", render(fresh)) == "4: 9"
    assert statistics.kept_with(fresh, "html", render(fresh)) == "5: 9"
    session.rollback()
    # A bounded number of keys per view: the filter as asked comes from the address.
    for n in range(statistics.MADE_PER_VIEW + 5):
        statistics.kept_with(after, ("junk", n), lambda: "x")
    assert statistics.kept_with(after, "html", render(after)) == "3: 8"
    statistics.clear_cache()
    assert statistics.kept_with(after, "html", render(after)) == "6: 8"
