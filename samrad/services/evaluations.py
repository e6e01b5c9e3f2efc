"""Anonymous post-meeting evaluations: open, answer, remind, close, moderate and report.

The anonymity design (see also ``samrad/models/evaluation.py`` and ``docs/decisions.md``):

- :func:`open_evaluation` creates one random token per attendee, stores only its SHA-256 (rows written in
  hash order, which has nothing to do with the recipients) and mails the link. The outbox row holding
  the link is *ephemeral*: its body is blanked once the message is delivered, so no table ever pairs an
  address with a token for longer than delivery takes.
- :func:`submit_answers` validates everything first, then in one savepoint: takes the evaluation row
  (``respondents + 1`` where still open), marks the token used (``used = true`` where still unused),
  adds 1 to one counter per statement and inserts any free text under a random key. A refused step
  rolls the savepoint back, so a submission counts entirely or not at all, and a token counts once.
  Nothing is logged and nobody is notified.
- :func:`close_evaluation` deletes the tokens and rewrites the free text under new random keys in a
  random order, so neither physical row order nor keys say in which order answers came.
- :func:`remind_evaluations` reminds *every* attendee once ("if you have not answered yet"), without a
  link: the app never learns, and never stores, who has not answered.
- Reports (:func:`meeting_report`, :func:`period_report`) exist only for closed evaluations; a single
  meeting is shown only with at least ``min_respondents`` answers, and a period report is withheld while
  it covers fewer. Free text appears only after the coordinator released it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, func, insert, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from samrad import outbox, tokens
from samrad.clock import STOCKHOLM
from samrad.deidentify import Finding, scan
from samrad.enums import Attendance, MeetingStatus
from samrad.models import (
    Consultation,
    ConsultationRole,
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationQuestion,
    EvaluationToken,
    Invitee,
    Meeting,
    Questionnaire,
    User,
)
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.periods import Period

#: The Norrbotten form "Mötesutvärdering – regionalt samråd" (domain brief §4.1), word for word.
NORRBOTTEN_TITLE = "Mötesutvärdering – regionalt samråd"
NORRBOTTEN_QUESTIONS: tuple[tuple[QuestionKind, str], ...] = (
    (QuestionKind.SCALE, "Alla fick komma till tals under mötet."),
    (QuestionKind.SCALE, "Samtalsklimatet var tillåtande"),
    (QuestionKind.SCALE, "Jag fick med mig nya kunskaper."),
    (QuestionKind.SCALE, "Jag blev påmind om kunskaper som jag har"),
    (QuestionKind.SCALE, "Jag delade med mig av sådant som hjälpt mig i mitt arbete"),
    (
        QuestionKind.SCALE,
        "Jag har möjlighet att ta med mig något från mötet tillbaka till ordinarie verksamhet.",
    ),
    (QuestionKind.TEXT, "Var det någonting som var oklart under dagens möte, i så fall vad?"),
)
#: Longest free-text answer accepted, in characters.
TEXT_MAX = 2000
QUESTION_TEXT_MAX = 500
TITLE_MAX = 200
MAX_QUESTIONS = 30
ATTENDED = (Attendance.ON_SITE, Attendance.VIA_LINK)


# --- Errors ----------------------------------------------------------------------------------------


class EvaluationError(Exception):
    """A refused evaluation action; the subclass says which."""


class MeetingNotClosed(EvaluationError):
    """Only a held (closed) meeting can be evaluated."""


class EvaluationExists(EvaluationError):
    """The meeting's evaluation was opened already."""


class EvaluationClosed(EvaluationError):
    """The evaluation no longer accepts answers."""


class EvaluationStillOpen(EvaluationError):
    """Comments are moderated, and results shown, only after the evaluation closed."""


class UnknownToken(EvaluationError):
    """No such token (mistyped, or its evaluation has closed and the tokens are gone)."""


class TokenUsed(EvaluationError):
    """The token has been used to answer already."""


class TokenForAnotherEvaluation(EvaluationError):
    """The token belongs to another meeting's evaluation."""


class QuestionnaireChanged(EvaluationError):
    """Someone saved a newer version of the form in the meantime."""


@dataclass(frozen=True)
class Problem:
    """Why one answer was refused: ``missing``, ``invalid_option``, ``too_long``, ``identifying``
    (something that identifies a person; must be removed) or ``check_names`` (a possible name; the
    respondent must look again and confirm)."""

    code: str
    findings: tuple[Finding, ...] = ()


class InvalidAnswers(EvaluationError):
    """Some answers are missing or not allowed. Nothing was stored."""

    def __init__(self, problems: dict[int, Problem]):
        super().__init__(", ".join(f"{n}: {p.code}" for n, p in sorted(problems.items())))
        #: Question number -> problem.
        self.problems = problems


class InvalidQuestionnaire(EvaluationError):
    def __init__(self, problems: dict[int, str]):
        super().__init__(", ".join(f"{n}: {p}" for n, p in sorted(problems.items())))
        #: Row index (0 for the form as a whole) -> ``empty``, ``too_long``, ``too_many`` or ``no_questions``.
        self.problems = problems


# --- The de-identification guard -------------------------------------------------------------------


_CAPITALISED = re.compile(r"(?<![\w])[A-ZÅÄÖÉÜ][a-zåäöéüæø]+(?![\w])")


def _findings(text: str) -> list[Finding]:
    """Findings of the de-identification guard (:func:`samrad.deidentify.scan`)."""
    return sorted(scan(text))


def name_parts(names: Iterable[str]) -> frozenset[str]:
    """The parts of people's names worth looking for (first and last names, two letters or more)."""
    parts = set()
    for name in names:
        for part in re.split(r"[\s\-]+", name):
            if len(part) >= 2 and part[0].isupper():
                parts.add(part.casefold())
    return frozenset(parts)


def text_findings(text: str, *, colleague_names: frozenset[str] = frozenset()) -> list[Finding]:
    """The guard's findings plus capitalised words that are names of the consultation's people.

    A colleague's name replaces the guard's own, vaguer "name" warning for the same words.
    """
    colleagues = [
        Finding(m.start(), m.end(), "colleague_name", "warn")
        for m in _CAPITALISED.finditer(text)
        if m.group().casefold() in colleague_names
    ]

    def overlaps(f: Finding) -> bool:
        return any(f.start < c.end and c.start < f.end for c in colleagues)

    kept = [f for f in _findings(text) if not (f.severity == "warn" and overlaps(f))]
    return sorted(kept + colleagues)


def colleague_names(session: Session, consultation_id: int, meeting_id: int | None = None) -> frozenset[str]:
    """Name parts of everyone with a role in the consultation and everyone invited to the meeting."""
    role_holders = (
        select(User.name)
        .join(ConsultationRole, ConsultationRole.user_id == User.id)
        .where(ConsultationRole.consultation_id == consultation_id)
    )
    names = set(session.exec(role_holders))
    if meeting_id is not None:
        invited = (
            select(User.name)
            .join(Invitee, Invitee.user_id == User.id)
            .where(Invitee.meeting_id == meeting_id)
        )
        substitutes = (
            select(User.name)
            .join(Invitee, Invitee.substitute_user_id == User.id)
            .where(Invitee.meeting_id == meeting_id)
        )
        names |= set(session.exec(invited)) | set(session.exec(substitutes))
    return name_parts(names)


# --- The questionnaire -----------------------------------------------------------------------------


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


# --- Opening ---------------------------------------------------------------------------------------


def evaluation_of(session: Session, meeting: Meeting) -> Evaluation | None:
    return session.exec(select(Evaluation).where(Evaluation.meeting_id == meeting.id)).first()


def evaluation_by_public_id(session: Session, public_id: str) -> Evaluation | None:
    return session.exec(select(Evaluation).where(Evaluation.public_id == public_id)).first()


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
        key=lambda row: row["token_hash"],
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


# --- Answering -------------------------------------------------------------------------------------


def find_token(session: Session, token: str) -> tuple[Evaluation, bool] | None:
    """The evaluation a token belongs to and whether it is used; None for an unknown token. Read only."""
    row = session.exec(
        select(EvaluationToken).where(EvaluationToken.token_hash == tokens.token_hash(token))
    ).first()
    if row is None:
        return None
    return session.get(Evaluation, row.evaluation_id), row.used


def accepts_answers(evaluation: Evaluation, *, now: datetime) -> bool:
    return evaluation.status == EvaluationStatus.OPEN and now < evaluation.closes_at


def check_answers(
    questionnaire: Questionnaire,
    answers: Mapping[int, str],
    *,
    colleague_names: frozenset[str] = frozenset(),
    confirm_warnings: bool = False,
) -> tuple[list[tuple[int, ScaleOption]], list[tuple[int, str]]]:
    """Validate answers keyed by question number: every statement answered with an existing option,
    free text within :data:`TEXT_MAX` and free of identifying details. Returns (question id, option)
    and (question id, text) pairs, or raises :class:`InvalidAnswers` with a problem per question."""
    problems: dict[int, Problem] = {}
    scale: list[tuple[int, ScaleOption]] = []
    texts: list[tuple[int, str]] = []
    for question in questionnaire.questions:
        raw = answers.get(question.number)
        if question.kind == QuestionKind.SCALE:
            if raw is None or raw == "":
                problems[question.number] = Problem("missing")
            elif raw not in {o.value for o in ScaleOption}:
                problems[question.number] = Problem("invalid_option")
            else:
                scale.append((question.id, ScaleOption(raw)))
            continue
        text = (raw or "").replace("\r\n", "\n").strip()
        if not text:
            continue
        if len(text) > TEXT_MAX:
            problems[question.number] = Problem("too_long")
            continue
        found = tuple(text_findings(text, colleague_names=colleague_names))
        if any(f.severity == "block" for f in found):
            problems[question.number] = Problem("identifying", found)
        elif found and not confirm_warnings:
            problems[question.number] = Problem("check_names", found)
        else:
            texts.append((question.id, text))
    if problems:
        raise InvalidAnswers(problems)
    return scale, texts


def submit_answers(
    session: Session,
    evaluation: Evaluation,
    token: str,
    answers: Mapping[int, str],
    *,
    now: datetime,
    confirm_warnings: bool = False,
) -> None:
    """Record one person's answers and use up their token: all of it or nothing.

    Validation happens before any write. Then, in one savepoint: the evaluation row is taken
    (``respondents + 1`` while open), the token is marked used only if it is still unused, each
    statement's counter gets ``n + 1`` and free text is inserted under a random key with no time or
    reference. A used, unknown or foreign token, or a closed evaluation, rolls the savepoint back.
    Concurrent submissions queue on the evaluation row, so none is lost and no token counts twice.
    ``now`` only decides whether the evaluation is still open; it is not stored.
    """
    meeting = session.get(Meeting, evaluation.meeting_id)
    scale, texts = check_answers(
        evaluation.questionnaire,
        answers,
        colleague_names=colleague_names(session, meeting.consultation_id, meeting.id),
        confirm_warnings=confirm_warnings,
    )
    digest = tokens.token_hash(token)
    with session.begin_nested():
        taken = session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation.id)
            .where(Evaluation.status == EvaluationStatus.OPEN)
            .where(Evaluation.closes_at > now)
            .values(respondents=Evaluation.respondents + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise EvaluationClosed()
        used = session.execute(
            update(EvaluationToken)
            .where(EvaluationToken.token_hash == digest)
            .where(EvaluationToken.evaluation_id == evaluation.id)
            .where(EvaluationToken.used.is_(False))
            .values(used=True)
            .execution_options(synchronize_session=False)
        ).rowcount
        if used != 1:
            row = session.exec(
                select(EvaluationToken.evaluation_id).where(EvaluationToken.token_hash == digest)
            ).first()
            if row is None:
                raise UnknownToken()
            raise TokenForAnotherEvaluation() if row != evaluation.id else TokenUsed()
        # One statement for all statements' counters: the evaluation row taken above already makes
        # submitters queue, so the order in which this touches its rows cannot deadlock.
        if scale:
            counted = session.execute(
                update(EvaluationCount)
                .where(EvaluationCount.evaluation_id == evaluation.id)
                .where(tuple_(EvaluationCount.question_id, EvaluationCount.option).in_(scale))
                .values(n=EvaluationCount.n + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if counted != len(scale):
                raise RuntimeError("evaluation counter missing")
        if texts:
            session.execute(
                insert(EvaluationComment),
                [
                    {
                        "id": secrets.token_hex(16),
                        "evaluation_id": evaluation.id,
                        "question_id": qid,
                        "text": text,
                    }
                    for qid, text in texts
                ],
            )
    session.expire(evaluation, ["respondents"])


# --- Reminding and closing -------------------------------------------------------------------------


def remind_evaluations(session: Session, *, now: datetime, after: timedelta = timedelta(days=2)) -> int:
    """Send the one reminder of each open evaluation that was opened at least ``after`` ago.

    The reminder goes to *every* attendee and carries no link ("if you have not answered yet, use the
    link in the first e-mail; if you have, thank you"). Knowing who has not answered would need a link
    between tokens and people, which the app does not keep. Only when every token is used (a fact about
    the group, not a person) is nobody reminded. Returns the number of evaluations handled; safe to rerun.
    """
    due = session.exec(
        select(Evaluation)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .where(Evaluation.reminded_at.is_(None))
        .where(Evaluation.opened_at <= now - after)
        .where(Evaluation.closes_at > now)
        .order_by(Evaluation.id)
    ).all()
    handled = 0
    for evaluation in due:
        claimed = session.execute(
            update(Evaluation)
            .where(Evaluation.id == evaluation.id)
            .where(Evaluation.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue  # another scheduler run took it
        handled += 1
        unused = session.exec(
            select(func.count())
            .select_from(EvaluationToken)
            .where(EvaluationToken.evaluation_id == evaluation.id)
            .where(EvaluationToken.used.is_(False))
        ).one()
        if not unused:
            continue
        meeting = session.get(Meeting, evaluation.meeting_id)
        consultation = session.get(Consultation, meeting.consultation_id)
        for email, locale in attendee_addresses(session, meeting):
            outbox.queue_email_once(
                session,
                dedupe_key=f"evaluation-reminder:{evaluation.public_id}:{email}",
                to=email,
                template="evaluation_reminder",
                locale=locale,
                now=now,
                consultation=consultation,
                meeting=meeting,
                opened_at=evaluation.opened_at,
                closes_at=evaluation.closes_at,
            )
        session.expire(evaluation, ["reminded_at"])
    session.flush()
    return handled


def close_evaluation(session: Session, evaluation: Evaluation, *, now: datetime) -> bool:
    """Stop accepting answers. Deletes every token and rewrites the free text under new random keys in a
    random order. Returns False if it was already closed."""
    closed = session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .values(status=EvaluationStatus.CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        return False
    session.execute(delete(EvaluationToken).where(EvaluationToken.evaluation_id == evaluation.id))
    comments = session.exec(
        select(EvaluationComment.question_id, EvaluationComment.text, EvaluationComment.released).where(
            EvaluationComment.evaluation_id == evaluation.id
        )
    ).all()
    if comments:
        rows = [
            {
                "id": secrets.token_hex(16),
                "evaluation_id": evaluation.id,
                "question_id": q,
                "text": t,
                "released": r,
            }
            for q, t, r in comments
        ]
        secrets.SystemRandom().shuffle(rows)
        session.execute(delete(EvaluationComment).where(EvaluationComment.evaluation_id == evaluation.id))
        session.execute(insert(EvaluationComment), rows)
    session.flush()
    session.expire(evaluation)
    return True


def close_due_evaluations(session: Session, *, now: datetime) -> int:
    """Close every open evaluation whose time is up (the scheduler's job). Returns how many it closed."""
    due = session.exec(
        select(Evaluation)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .where(Evaluation.closes_at <= now)
        .order_by(Evaluation.id)
    ).all()
    return sum(close_evaluation(session, evaluation, now=now) for evaluation in due)


# --- Moderating free text --------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingComment:
    comment: EvaluationComment
    question: EvaluationQuestion
    #: The meeting's start, or None when its evaluation has too few answers to be named on its own.
    meeting_starts_at: datetime | None
    findings: tuple[Finding, ...]


def pending_comments(
    session: Session, consultation: Consultation, *, min_respondents: int
) -> list[PendingComment]:
    """Unreleased free text of the consultation's closed evaluations, in random-key order, with what the
    guard finds in it (recomputed here: only counts and kinds are ever stored, never matches)."""
    names: dict[int, frozenset[str]] = {}
    rows = session.exec(
        select(EvaluationComment, EvaluationQuestion, Evaluation, Meeting)
        .join(EvaluationQuestion, EvaluationQuestion.id == EvaluationComment.question_id)
        .join(Evaluation, Evaluation.id == EvaluationComment.evaluation_id)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(Evaluation.status == EvaluationStatus.CLOSED)
        .where(EvaluationComment.released.is_(False))
        .order_by(EvaluationComment.id)
    ).all()
    pending = []
    for comment, question, evaluation, meeting in rows:
        if meeting.id not in names:
            names[meeting.id] = colleague_names(session, consultation.id, meeting.id)
        pending.append(
            PendingComment(
                comment,
                question,
                meeting.starts_at if evaluation.respondents >= min_respondents else None,
                tuple(text_findings(comment.text, colleague_names=names[meeting.id])),
            )
        )
    return pending


def comment_in(session: Session, consultation: Consultation, comment_id: str) -> EvaluationComment | None:
    """The comment with this key if it belongs to one of the consultation's evaluations."""
    return session.exec(
        select(EvaluationComment)
        .join(Evaluation, Evaluation.id == EvaluationComment.evaluation_id)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(EvaluationComment.id == comment_id)
    ).first()


def _require_closed(session: Session, comment: EvaluationComment) -> None:
    if session.get(Evaluation, comment.evaluation_id).status != EvaluationStatus.CLOSED:
        raise EvaluationStillOpen()


def release_comment(session: Session, comment: EvaluationComment) -> None:
    """Let the comment appear in reports (once its evaluation is closed)."""
    _require_closed(session, comment)
    comment.released = True
    session.flush()


def remove_comment(session: Session, comment: EvaluationComment) -> None:
    """Delete the comment for good: the text is gone, not hidden."""
    _require_closed(session, comment)
    session.delete(comment)
    session.flush()


# --- Reports ---------------------------------------------------------------------------------------


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
    #: Closed evaluations in the period, all of which count in the totals.
    meetings: int
    respondents: int
    #: False while fewer than ``min_respondents`` answered in the period: nothing else is filled in.
    shown: bool
    questions: tuple[QuestionResult, ...] = ()
    comments: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    #: The meetings with enough answers to be shown on their own, oldest first.
    meeting_reports: tuple[MeetingReport, ...] = ()
    #: Meetings that count in the totals but have too few answers to be shown on their own.
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
    return MeetingReport(
        evaluation,
        session.get(Meeting, evaluation.meeting_id),
        evaluation.respondents,
        _question_results(_count_rows(session, [evaluation.id])),
        _released_comments(session, [evaluation.id]),
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

    Every closed evaluation counts in the totals; those with at least ``min_respondents`` answers are
    also shown on their own. While the period covers fewer than ``min_respondents`` respondents the
    report is withheld (``shown`` is False) — the threshold is on respondents, not on cells.
    """
    evaluations = closed_evaluations(session, consultation, period)
    respondents = sum(e.respondents for e, _ in evaluations)
    base = {
        "consultation": consultation,
        "period": period,
        "min_respondents": min_respondents,
        "meetings": len(evaluations),
        "respondents": respondents,
    }
    if respondents < min_respondents:
        return PeriodReport(**base, shown=False)
    ids = [e.id for e, _ in evaluations]
    meeting_reports = tuple(
        r for r in (meeting_report(session, e, min_respondents=min_respondents) for e, _ in evaluations) if r
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
        hidden_meetings=len(evaluations) - len(meeting_reports),
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
