"""The questionnaire: the consultation's form in versions, the Norrbotten form by default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from samrad.models import (
    Consultation,
    Evaluation,
    EvaluationQuestion,
    Questionnaire,
    User,
)
from samrad.models.evaluation import QuestionKind
from samrad.services.evaluations.errors import InvalidQuestionnaire, QuestionnaireChanged
from samrad.services.evaluations.form import (
    MAX_QUESTIONS,
    NORRBOTTEN_QUESTIONS,
    NORRBOTTEN_TITLE,
    QUESTION_TEXT_MAX,
    TITLE_MAX,
)


@dataclass(frozen=True)
class QuestionDraft:
    kind: QuestionKind
    text: str


def default_questions() -> list[QuestionDraft]:
    return [QuestionDraft(kind, text) for kind, text in NORRBOTTEN_QUESTIONS]


def current_questionnaire(session: Session, consultation: Consultation) -> Questionnaire | None:
    """The newest version of the consultation's form, or None before the first one is saved."""
    return session.exec(
        select(Questionnaire)
        .where(Questionnaire.consultation_id == consultation.id)
        .order_by(Questionnaire.version.desc())
    ).first()


def questionnaire_versions(session: Session, consultation: Consultation) -> list[tuple[Questionnaire, int]]:
    """Every version with the number of evaluations opened with it, newest first."""
    used = (
        select(Evaluation.questionnaire_id, func.count(Evaluation.id).label("n"))
        .group_by(Evaluation.questionnaire_id)
        .subquery()
    )
    rows = session.exec(
        select(Questionnaire, func.coalesce(used.c.n, 0))
        .outerjoin(used, used.c.questionnaire_id == Questionnaire.id)
        .where(Questionnaire.consultation_id == consultation.id)
        .order_by(Questionnaire.version.desc())
    )
    return [(q, n) for q, n in rows]


def ensure_questionnaire(session: Session, consultation: Consultation, *, now: datetime) -> Questionnaire:
    """The current form, creating version 1 (the Norrbotten form) if the consultation has none."""
    return current_questionnaire(session, consultation) or _create_version(
        session, consultation, NORRBOTTEN_TITLE, default_questions(), version=1, actor=None, now=now
    )


def _create_version(session, consultation, title, questions, *, version, actor, now) -> Questionnaire:
    questionnaire = Questionnaire(
        consultation_id=consultation.id,
        version=version,
        title=title,
        created_at=now,
        created_by_id=actor.id if actor else None,
    )
    try:
        with session.begin_nested():
            session.add(questionnaire)
            session.flush()
    except IntegrityError:
        raise QuestionnaireChanged() from None
    for number, draft in enumerate(questions, start=1):
        session.add(
            EvaluationQuestion(
                questionnaire_id=questionnaire.id, number=number, kind=draft.kind, text=draft.text
            )
        )
    session.flush()
    session.refresh(questionnaire)
    return questionnaire


def save_questionnaire(
    session: Session,
    consultation: Consultation,
    questions: Sequence[QuestionDraft],
    *,
    title: str,
    base_version: int,
    actor: User,
    now: datetime,
) -> Questionnaire:
    """Save the form as a new version if anything changed (versions are never edited in place).

    Evaluations already opened keep their version; the next opened evaluation uses this one.
    ``base_version`` is the version the editor started from (0 when none existed); if someone saved a
    newer one meanwhile, :class:`QuestionnaireChanged` is raised instead of overwriting it.
    """
    title = " ".join(title.split())
    drafts = [QuestionDraft(d.kind, " ".join(d.text.split())) for d in questions]
    problems: dict[int, str] = {}
    if not title:
        problems[0] = "no_title"
    elif len(title) > TITLE_MAX:
        problems[0] = "title_too_long"
    for index, draft in enumerate(drafts, start=1):
        if len(draft.text) > QUESTION_TEXT_MAX:
            problems[index] = "too_long"
    drafts = [d for d in drafts if d.text]
    if not drafts:
        problems.setdefault(0, "no_questions")
    elif len(drafts) > MAX_QUESTIONS:
        problems.setdefault(0, "too_many")
    if problems:
        raise InvalidQuestionnaire(problems)
    current = current_questionnaire(session, consultation)
    if (current.version if current else 0) != base_version:
        raise QuestionnaireChanged()
    if (
        current is not None
        and current.title == title
        and [QuestionDraft(q.kind, q.text) for q in current.questions] == drafts
    ):
        return current
    return _create_version(
        session, consultation, title, drafts, version=base_version + 1, actor=actor, now=now
    )
