"""Reports of closed evaluations: per meeting (from min_respondents answers) and per period, with exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, select

from samrad.clock import STOCKHOLM
from samrad.enums import MeetingStatus
from samrad.models import (
    Consultation,
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationQuestion,
    Meeting,
    get_row,
)
from samrad.models.evaluation import EvaluationStatus, ScaleOption
from samrad.periods import Period


def percent(n: int, total: int) -> Decimal:
    """Share in per cent with two decimals, rounded half up (66,67 % as in the published report)."""
    if not total:
        return Decimal("0.00")
    return (Decimal(100 * n) / Decimal(total)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class OptionResult:
    option: ScaleOption
    n: int
    percent: Decimal


@dataclass(frozen=True)
class QuestionResult:
    number: int
    text: str
    #: How many answered this statement.
    answers: int
    options: tuple[OptionResult, ...]


@dataclass(frozen=True)
class MeetingReport:
    evaluation: Evaluation
    meeting: Meeting
    respondents: int
    questions: tuple[QuestionResult, ...]
    #: Released free text, per text question (number, question text, comments in random-key order).
    comments: tuple[tuple[int, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class PeriodReport:
    consultation: Consultation
    period: Period
    min_respondents: int
    #: Closed evaluations in the period that count (each answered by at least ``min_respondents``).
    meetings: int
    respondents: int
    #: False while no meeting in the period counts: nothing else is filled in.
    shown: bool
    questions: tuple[QuestionResult, ...] = ()
    comments: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    #: The meetings with enough answers to be shown on their own, oldest first.
    meeting_reports: tuple[MeetingReport, ...] = ()
    #: Meetings in the period with too few answers: they count nowhere (see :func:`period_report`).
    hidden_meetings: int = 0
    #: Per statement: (number, text, [(meeting report, question result)]) for the trend chart.
    trends: tuple = field(default=())


def _question_results(rows: Iterable[tuple[int, str, ScaleOption, int]]) -> tuple[QuestionResult, ...]:
    """Rows of (number, text, option, n) summed per (number, text), every option present."""
    counts: dict[tuple[int, str], dict[ScaleOption, int]] = {}
    for number, text, option, n in rows:
        per_option = counts.setdefault((number, text), dict.fromkeys(ScaleOption, 0))
        per_option[ScaleOption(option)] += n
    results = []
    for (number, text), per_option in sorted(counts.items()):
        total = sum(per_option.values())
        results.append(
            QuestionResult(
                number,
                text,
                total,
                tuple(OptionResult(o, per_option[o], percent(per_option[o], total)) for o in ScaleOption),
            )
        )
    return tuple(results)


def _count_rows(session: Session, evaluation_ids: Sequence[int]):
    if not evaluation_ids:
        return []
    return session.exec(
        select(EvaluationQuestion.number, EvaluationQuestion.text, EvaluationCount.option, EvaluationCount.n)
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationCount.question_id)
        .where(EvaluationCount.evaluation_id.in_(evaluation_ids))
    ).all()


def _released_comments(session: Session, evaluation_ids: Sequence[int]):
    if not evaluation_ids:
        return ()
    rows = session.exec(
        select(EvaluationQuestion.number, EvaluationQuestion.text, EvaluationComment.text)
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationComment.question_id)
        .where(EvaluationComment.evaluation_id.in_(evaluation_ids))
        .where(EvaluationComment.released.is_(True))
        .order_by(EvaluationComment.id)
    ).all()
    grouped: dict[tuple[int, str], list[str]] = {}
    for number, question, text in rows:
        grouped.setdefault((number, question), []).append(text)
    return tuple((number, question, tuple(texts)) for (number, question), texts in sorted(grouped.items()))


def meeting_report(session: Session, evaluation: Evaluation, *, min_respondents: int) -> MeetingReport | None:
    """One meeting's results, or None while the evaluation is open or has fewer than ``min_respondents``."""
    if evaluation.status != EvaluationStatus.CLOSED or evaluation.respondents < min_respondents:
        return None
    ids = [evaluation.id] if evaluation.id is not None else []
    return MeetingReport(
        evaluation,
        get_row(session, Meeting, evaluation.meeting_id),
        evaluation.respondents,
        _question_results(_count_rows(session, ids)),
        _released_comments(session, ids),
    )


def closed_evaluations(
    session: Session, consultation: Consultation, period: Period | None = None
) -> list[tuple[Evaluation, Meeting]]:
    """Closed evaluations of meetings held in ``period`` (all of them without one), oldest first."""
    stmt = (
        select(Evaluation, Meeting)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(Evaluation.status == EvaluationStatus.CLOSED)
        .order_by(Meeting.starts_at)
    )
    if period is not None:
        stmt = stmt.where(Meeting.starts_at >= period.start_utc).where(Meeting.starts_at < period.end_utc)
    return list(session.exec(stmt).all())


def evaluations_overview(
    session: Session, consultation: Consultation
) -> list[tuple[Meeting, Evaluation | None]]:
    """Held meetings, newest first, each with its evaluation (None when none was opened)."""
    rows = session.exec(
        select(Meeting, Evaluation)
        .outerjoin(Evaluation, Evaluation.meeting_id == Meeting.id)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.status == MeetingStatus.CLOSED)
        .order_by(Meeting.starts_at.desc())
    ).all()
    return [(m, e) for m, e in rows]


def period_report(
    session: Session,
    consultation: Consultation,
    period: Period,
    *,
    min_respondents: int,
) -> PeriodReport:
    """The combined report over the closed evaluations of a period (the published "Kombinerad rapport").

    Only meetings answered by at least ``min_respondents`` count, and each of them is also shown on its
    own. A meeting with fewer answers counts nowhere, in no period: if it counted in the totals, two
    periods that differ by that meeting (or the totals minus the meetings shown) would give its one or
    two people's answers by subtraction. So every published total is a sum of published meetings, and
    no choice of periods reveals more than those meetings' own reports. (The Norrbotten pilot's combined
    report included a meeting with one respondent; its answers can be read off that way.) Without any
    such meeting in the period the report is withheld (``shown`` is False).
    """
    evaluations = closed_evaluations(session, consultation, period)
    counted = [(e, m) for e, m in evaluations if e.respondents >= min_respondents]
    base = {
        "consultation": consultation,
        "period": period,
        "min_respondents": min_respondents,
        "meetings": len(counted),
        "respondents": sum(e.respondents for e, _ in counted),
        "hidden_meetings": len(evaluations) - len(counted),
    }
    if not counted:
        return PeriodReport(**base, shown=False)
    ids = [e.id for e, _ in counted]
    meeting_reports = tuple(
        r for r in (meeting_report(session, e, min_respondents=min_respondents) for e, _ in counted) if r
    )
    questions = _question_results(_count_rows(session, ids))
    trends = tuple(
        (
            q.number,
            q.text,
            tuple(
                (r, mq)
                for r in meeting_reports
                for mq in r.questions
                if (mq.number, mq.text) == (q.number, q.text)
            ),
        )
        for q in questions
    )
    return PeriodReport(
        **base,
        shown=True,
        questions=questions,
        comments=_released_comments(session, ids),
        meeting_reports=meeting_reports,
        trends=trends,
    )


def report_rows(report: PeriodReport, *, per_meeting: bool = False) -> list[dict]:
    """The aggregates as flat rows (no free text): the combined totals, then optionally each shown
    meeting. ``meeting`` is the meeting's Stockholm date, or None for the combined row."""
    rows = []
    scopes: list[tuple[str | None, tuple[QuestionResult, ...]]] = [(None, report.questions)]
    if per_meeting:
        scopes += [
            (r.meeting.starts_at.astimezone(STOCKHOLM).date().isoformat(), r.questions)
            for r in report.meeting_reports
        ]
    for meeting, questions in scopes:
        for q in questions:
            for o in q.options:
                rows.append(
                    {
                        "meeting": meeting,
                        "question": q.number,
                        "question_text": q.text,
                        "option": o.option.value,
                        "n": o.n,
                        "percent": o.percent,
                    }
                )
    return rows


EXPORT_COLUMNS = ("meeting", "question", "question_text", "option", "option_label", "n", "percent")


def export_csv(report: PeriodReport, *, per_meeting: bool = False) -> str:
    """The aggregates as CSV: a header row, then one row per statement and option (never free text).
    With ``per_meeting`` a ``meeting`` column (empty for the combined rows) adds each shown meeting."""
    columns = EXPORT_COLUMNS if per_meeting else EXPORT_COLUMNS[1:]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in report_rows(report, per_meeting=per_meeting):
        values = {
            **row,
            "meeting": row["meeting"] or "",
            "option_label": str(ScaleOption(row["option"]).label),
            "percent": f"{row['percent']:.2f}",
        }
        writer.writerow([values[c] for c in columns])
    return out.getvalue()


def export_json(report: PeriodReport) -> str:
    """The combined aggregates as a JSON list of objects: question (its number), question_text, option,
    option_label, n and percent."""
    rows = [
        {
            "question": row["question"],
            "question_text": row["question_text"],
            "option": row["option"],
            "option_label": str(ScaleOption(row["option"]).label),
            "n": row["n"],
            "percent": float(row["percent"]),
        }
        for row in report_rows(report)
    ]
    return json.dumps(rows, ensure_ascii=False, indent=2)
