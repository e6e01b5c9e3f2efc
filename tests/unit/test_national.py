"""The national dataset for load tests (issue K 1): its shape holds together the way the app builds it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from samrad.demo import national
from samrad.enums import CaseStatus, MeetingStatus
from samrad.models import (
    AgendaItem,
    AgendaVersion,
    Case,
    Consultation,
    Evaluation,
    EvaluationCount,
    Invitee,
    Meeting,
)

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


def test_two_counties_over_two_years(session):
    counts = national.seed_national(session, counties=2, years=2, now=NOW)
    assert counts.counties == 2
    assert session.scalar(select(func.count()).select_from(Consultation)) == 2
    meetings = session.scalars(select(Meeting)).all()
    held = [m for m in meetings if m.starts_at < NOW]
    assert {m.status for m in held} == {MeetingStatus.CLOSED}
    assert {m.status for m in meetings if m.starts_at >= NOW} == {MeetingStatus.PLANNED}
    assert len(held) == 2 * 52  # every other Monday for two years, in each county
    assert counts.meetings == len(meetings)
    # Each held meeting: 3–8 discussed cases on its agenda after the welcome, and version 1 published.
    for meeting in held:
        items = session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
        ).all()
        assert 4 <= len(items) <= 9
        (version,) = session.scalars(select(AgendaVersion).where(AgendaVersion.meeting_id == meeting.id))
        snapshot = json.loads(version.snapshot)
        assert [row["item_id"] for row in snapshot] == [i.id for i in items]
        assert [row["offset"] for row in snapshot][:2] == [0, national.WELCOME_MINUTES]
    invitees = Counter(session.scalars(select(Invitee.meeting_id)))
    assert set(invitees.values()) == {national.INVITEES_PER_MEETING}
    # References are unique per consultation and year, as the app gives them.
    references = session.execute(select(Case.consultation_id, Case.reference)).all()
    assert len(references) == len(set(references)) == counts.cases
    # The next meeting's full queue.
    queue = session.scalars(select(Case).where(Case.status.in_((CaseStatus.SUBMITTED, CaseStatus.ACCEPTED))))
    assert len(list(queue)) == 2 * national.QUEUE
    # Every evaluation's counts add up to its respondents on each of the six statements.
    for evaluation in session.scalars(select(Evaluation)):
        per_question = Counter()
        for count in session.scalars(
            select(EvaluationCount).where(EvaluationCount.evaluation_id == evaluation.id)
        ):
            per_question[count.question_id] += count.n
        assert len(per_question) == 6 and set(per_question.values()) == {evaluation.respondents}
    # Case text older than the retention time is purged, as the retention job would have.
    old = session.scalars(
        select(Case).where(Case.last_discussed_at < datetime(2026, 12, 1, tzinfo=UTC))
    ).all()
    assert old and all(c.background == "" and c.text_purged_at is not None for c in old)


def test_the_same_seed_gives_the_same_country(session):
    first = national.seed_national(session, counties=1, years=1, now=NOW)
    rows = session.execute(select(Case.reference, Case.sex, Case.age_band).order_by(Case.id)).all()
    session.rollback()
    again = national.seed_national(session, counties=1, years=1, now=NOW)
    assert first == again
    assert session.execute(select(Case.reference, Case.sex, Case.age_band).order_by(Case.id)).all() == rows
