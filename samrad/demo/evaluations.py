"""The five evaluated Una Norrbotten meetings, with the answers published in the final report.

Source: Länsstyrelsen Norrbotten, 2020-02-07, dnr 801-12001-2018, appendix "Bilaga: Utvärdering regionala
samråd – Kombinerad rapport" (``../shared/seeds/004_dac447fb81984437.txt`` lines 2393–2584): 28
respondents over five meetings, n per option for each of the six statements, and seven free-text answers.
They are stored as counters and released comments, exactly as answers through the form would be.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from samrad.clock import STOCKHOLM
from samrad.enums import MeetingStatus
from samrad.models import Consultation, Evaluation, EvaluationComment, EvaluationCount, Meeting
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.services import evaluations

#: Meeting date -> for statements 1–6: (agree fully, agree partly, do not agree).
PUBLISHED_COUNTS: dict[date, tuple[tuple[int, int, int], ...]] = {
    date(2019, 11, 11): ((4, 1, 0), (4, 1, 0), (2, 3, 0), (3, 2, 0), (2, 2, 1), (3, 2, 0)),
    date(2019, 11, 27): ((6, 0, 0), (6, 0, 0), (4, 2, 0), (3, 3, 0), (1, 3, 2), (5, 1, 0)),
    date(2019, 12, 9): ((7, 0, 0), (7, 0, 0), (4, 3, 0), (5, 2, 0), (6, 0, 1), (4, 3, 0)),
    date(2020, 1, 20): ((9, 0, 0), (9, 0, 0), (7, 2, 0), (7, 2, 0), (7, 2, 0), (6, 3, 0)),
    date(2020, 2, 3): ((1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0), (0, 1, 0), (1, 0, 0)),
}

#: Meeting date -> the published answers to "Var det någonting som var oklart under dagens möte …?".
PUBLISHED_COMMENTS: dict[date, tuple[str, ...]] = {
    date(2019, 11, 11): ("Toppen!", "Nej, fortsättning följer :)"),
    date(2019, 11, 27): ("Mötet var bra. Klar och tydlig agenda.",),
    date(2019, 12, 9): ("Klart och tydligt möte.",),
    date(2020, 1, 20): (
        "Orsaken till varför vi inte kan få informationsmaterialet som vi väntat med spänning på i flera "
        "månader, och som kan vara till nytta för att få in intresserade, och förklara vad vi håller på med.",
        "Skulle vilja veta om utbildning Patriark erbjuds inom Norrbotten? Eller var/ när/ Hur?",
        "Utbildning inom Patriark aktuellt? Var, när, hur?",
    ),
    date(2020, 2, 3): (),
}

OPEN_DAYS = 7


def seed_published_evaluations(
    session: Session, consultation: Consultation, *, now: datetime
) -> list[Evaluation]:
    """Create the five meetings (held, 13:00 Stockholm time) and their closed evaluations as published."""
    questionnaire = evaluations.ensure_questionnaire(session, consultation, now=now)
    scale = [q for q in questionnaire.questions if q.kind == QuestionKind.SCALE]
    text_question = next(q for q in questionnaire.questions if q.kind == QuestionKind.TEXT)
    created = []
    for day, counts in PUBLISHED_COUNTS.items():
        starts_at = datetime.combine(day, time(13, 0), tzinfo=STOCKHOLM)
        ends_at = starts_at + timedelta(minutes=consultation.meeting_length_minutes)
        meeting = Meeting(
            consultation_id=consultation.id,
            starts_at=starts_at,
            length_minutes=consultation.meeting_length_minutes,
            place=consultation.place,
            case_deadline_at=starts_at - timedelta(days=consultation.case_deadline_days),
            status=MeetingStatus.CLOSED,
            from_series=False,
            created_at=starts_at - timedelta(days=28),
            closed_at=ends_at,
        )
        session.add(meeting)
        session.flush()
        evaluation = Evaluation(
            meeting_id=meeting.id,
            questionnaire_id=questionnaire.id,
            status=EvaluationStatus.CLOSED,
            opened_at=ends_at,
            closes_at=ends_at + timedelta(days=OPEN_DAYS),
            closed_at=ends_at + timedelta(days=OPEN_DAYS),
            respondents=sum(counts[0]),
        )
        session.add(evaluation)
        session.flush()
        session.execute(
            insert(EvaluationCount),
            [
                {"evaluation_id": evaluation.id, "question_id": q.id, "option": option, "n": n}
                for q, per_option in zip(scale, counts, strict=True)
                for option, n in zip(ScaleOption, per_option, strict=True)
            ],
        )
        if PUBLISHED_COMMENTS[day]:
            session.execute(
                insert(EvaluationComment),
                [
                    {
                        "id": secrets.token_hex(16),
                        "evaluation_id": evaluation.id,
                        "question_id": text_question.id,
                        "text": text,
                        "released": True,
                    }
                    for text in PUBLISHED_COMMENTS[day]
                ],
            )
        created.append(evaluation)
    session.flush()
    return created
