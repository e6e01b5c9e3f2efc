"""Opening an evaluation: one random token per attendee, only its hash stored, and the mailed link."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from samrad import outbox, tokens
from samrad.enums import MeetingStatus
from samrad.models import (
    Consultation,
    Evaluation,
    EvaluationCount,
    EvaluationToken,
    Invitee,
    Meeting,
    User,
)
from samrad.models.evaluation import QuestionKind, ScaleOption
from samrad.services.evaluations.errors import EvaluationExists, MeetingNotClosed
from samrad.services.evaluations.form import ATTENDED
from samrad.services.evaluations.questionnaires import ensure_questionnaire


def evaluation_of(session: Session, meeting: Meeting) -> Evaluation | None:
    return session.exec(select(Evaluation).where(Evaluation.meeting_id == meeting.id)).first()


def evaluation_by_public_id(session: Session, public_id: str) -> Evaluation | None:
    return session.exec(select(Evaluation).where(Evaluation.public_id == public_id)).first()


def evaluation_to_answer(session: Session, public_id: str) -> tuple[Evaluation, str, datetime] | None:
    """The evaluation with the consultation's name and the meeting's start: all a respondent is told about
    the meeting (its agenda is not read). One statement with its questionnaire, one for the questions: the
    name and start were a statement of their own on every view of the form and every answer sent."""
    found = session.exec(
        select(Evaluation, Consultation.name, Meeting.starts_at)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .join(Consultation, Consultation.id == Meeting.consultation_id)
        .where(Evaluation.public_id == public_id)
    ).first()
    return None if found is None else (found[0], found[1], found[2])


def attendee_addresses(session: Session, meeting: Meeting) -> list[tuple[str, str | None]]:
    """(e-mail, locale) of everyone recorded as present, on site or via the link, sorted by address.

    When a substitute came in an invitee's place, the substitute gets the evaluation.
    """
    rows = session.exec(
        select(Invitee)
        .where(Invitee.meeting_id == meeting.id)
        .where(Invitee.attendance.in_(ATTENDED))
        .where(Invitee.removed_at.is_(None))
    )
    recipients: dict[str, str | None] = {}
    for invitee in rows:
        substitute = session.get(User, invitee.substitute_user_id) if invitee.substitute_user_id else None
        person = substitute or (session.get(User, invitee.user_id) if invitee.user_id else None)
        email = substitute.email if substitute else invitee.email
        recipients.setdefault(email.strip().lower(), person.locale if person else None)
    return sorted(recipients.items())


def open_evaluation(
    session: Session,
    meeting: Meeting,
    *,
    now: datetime,
    open_for: timedelta,
    link_for: Callable[[str], str],
) -> Evaluation:
    """Open the evaluation of a held meeting and mail each attendee a single-use answer link.

    Called when the meeting is closed, from the coordinator's page, or by ``samrad evaluations open``.
    Creates the counters at zero and one token per attendee; only the tokens' hashes are stored, without
    any reference to the person, and the e-mails are ephemeral (their body is blanked in the outbox once
    delivered). ``open_for`` is ``EVALUATION_OPEN_DAYS``; ``link_for`` makes the answer link of a token.
    """
    if meeting.status != MeetingStatus.CLOSED:
        raise MeetingNotClosed()
    if evaluation_of(session, meeting) is not None:
        raise EvaluationExists()
    consultation = session.get(Consultation, meeting.consultation_id)
    questionnaire = ensure_questionnaire(session, consultation, now=now)
    evaluation = Evaluation(
        meeting_id=meeting.id,
        questionnaire_id=questionnaire.id,
        opened_at=now,
        closes_at=now + open_for,
    )
    try:
        with session.begin_nested():
            session.add(evaluation)
            session.flush()
    except IntegrityError:
        raise EvaluationExists() from None
    counters = [
        {"evaluation_id": evaluation.id, "question_id": q.id, "option": option, "n": 0}
        for q in questionnaire.questions
        if q.kind == QuestionKind.SCALE
        for option in ScaleOption
    ]
    if counters:
        session.execute(insert(EvaluationCount), counters)
    recipients = attendee_addresses(session, meeting)
    issued = [(email, locale, tokens.new_token()) for email, locale in recipients]
    # Written in hash order, in one statement: neither row order nor any column follows the recipients.
    token_rows = sorted(
        (
            {"token_hash": tokens.token_hash(t), "evaluation_id": evaluation.id, "used": False}
            for *_, t in issued
        ),
        key=lambda row: str(row["token_hash"]),
    )
    if token_rows:
        session.execute(insert(EvaluationToken), token_rows)
    for email, locale, token in issued:
        outbox.queue_email(
            session,
            to=email,
            template="evaluation_invitation",
            locale=locale,
            now=now,
            ephemeral=True,
            link=link_for(token),
            consultation=consultation,
            meeting=meeting,
            closes_at=evaluation.closes_at,
        )
    session.flush()
    return evaluation
