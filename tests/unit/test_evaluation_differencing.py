"""No differencing of evaluation reports (issue H.2): a meeting answered by fewer than the threshold never
becomes readable by subtraction, whatever periods a reader asks for.

Proof by non-interference: two consultations ("worlds") hold the same meetings on the same days with
the same answers, except that every meeting below the threshold was answered differently. Every
period report a reader can ask for — every pair of from/to dates around the meetings, open ends included,
nested and overlapping — is published identically in both worlds, including its per-meeting export and
released comments. So no combination of published reports says anything about those answers.
"""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert

from samrad.clock import STOCKHOLM
from samrad.enums import MeetingStatus
from samrad.models import Evaluation, EvaluationComment, EvaluationCount, Meeting
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.periods import between
from samrad.services import evaluations
from tests.factories import make_consultation

K = 3
FIRST_DAY = date(2027, 1, 11)
#: Respondents per meeting, every other Monday: small meetings (1, 2) between and at the ends.
RESPONDENTS = (1, 5, 2, 3, 7, 1, 4, 2, 2, 6, 1, 3)
NOW = datetime(2027, 12, 1, tzinfo=STOCKHOLM)


def _answers(n: int, world: str, seed: int) -> tuple[tuple[int, int, int], ...]:
    """Six statements' (fully, partly, not) for ``n`` respondents; world "b" answers its small meetings
    the other way round."""
    flip = world == "b" and n < K
    rows = []
    for q in range(6):
        fully = (seed + q) % (n + 1)
        rest = n - fully
        row = (fully, rest, 0)
        rows.append(tuple(reversed(row)) if flip else row)
    return tuple(rows)


def _world(session, name: str):
    consultation = make_consultation(session, name=f"Samråd {name}")
    questionnaire = evaluations.ensure_questionnaire(session, consultation, now=NOW)
    scale = [q for q in questionnaire.questions if q.kind == QuestionKind.SCALE]
    text_question = next(q for q in questionnaire.questions if q.kind == QuestionKind.TEXT)
    for i, n in enumerate(RESPONDENTS):
        starts_at = datetime.combine(FIRST_DAY + timedelta(weeks=2 * i), time(13), tzinfo=STOCKHOLM)
        meeting = Meeting(
            consultation_id=consultation.id,
            starts_at=starts_at,
            place="Luleå",
            case_deadline_at=starts_at - timedelta(days=7),
            status=MeetingStatus.CLOSED,
            closed_at=starts_at + timedelta(hours=2),
        )
        session.add(meeting)
        session.flush()
        evaluation = Evaluation(
            meeting_id=meeting.id,
            questionnaire_id=questionnaire.id,
            status=EvaluationStatus.CLOSED,
            opened_at=starts_at + timedelta(hours=2),
            closes_at=starts_at + timedelta(days=7),
            closed_at=starts_at + timedelta(days=7),
            respondents=n,
        )
        session.add(evaluation)
        session.flush()
        counts = _answers(n, name, seed=i)
        session.execute(
            insert(EvaluationCount),
            [
                {"evaluation_id": evaluation.id, "question_id": q.id, "option": option, "n": counts[j][k]}
                for j, q in enumerate(scale)
                for k, option in enumerate(ScaleOption)
            ],
        )
        said = f"Mötet {i} i värld {name}" if n < K else f"Mötet {i}"
        session.add(
            EvaluationComment(
                id=secrets.token_hex(16),
                evaluation_id=evaluation.id,
                question_id=text_question.id,
                text=said,
                released=True,
            )
        )
    session.flush()
    return consultation


def _published(session, consultation, period) -> str:
    """Everything a reader gets for the period: the page's figures, the export per meeting, the text."""
    report = evaluations.period_report(session, consultation, period, min_respondents=K)
    shown = {
        "shown": report.shown,
        "meetings": report.meetings,
        "respondents": report.respondents,
        "hidden_meetings": report.hidden_meetings,
        "rows": evaluations.report_rows(report, per_meeting=True) if report.shown else [],
        # Comments are listed by their random keys, so their order says nothing: compare them as sets.
        "comments": [[n, q, sorted(texts)] for n, q, texts in report.comments],
        "per_meeting_comments": [
            [[n, q, sorted(t)] for n, q, t in r.comments] for r in report.meeting_reports
        ],
    }
    return json.dumps(shown, sort_keys=True, default=str)


def test_no_choice_of_periods_reveals_a_meeting_below_the_threshold(session):
    a, b = _world(session, "a"), _world(session, "b")
    days = [FIRST_DAY + timedelta(weeks=2 * i) for i in range(len(RESPONDENTS))]
    # Every boundary that separates two meetings differently: the meeting days, the days around them.
    edges = sorted({d + timedelta(days=offset) for d in days for offset in (-1, 0, 1)})
    starts = [None, *edges]
    ends = [*edges, None]
    periods = [
        between(first, last)
        for first, last in itertools.product(starts, ends)
        if first is None or last is None or first <= last
    ]
    assert len(periods) > 600
    differing = [p for p in periods if _published(session, a, p) != _published(session, b, p)]
    assert differing == []
    # The sweep is not vacuous: the worlds really differ, and the reports are really published.
    small = [e for e, _ in evaluations.closed_evaluations(session, b) if e.respondents < K]
    assert len(small) == 6
    assert sum(1 for p in periods if evaluations.period_report(session, a, p, min_respondents=K).shown) > 400
