"""Anonymous post-meeting evaluations: questionnaires, single-use tokens and the answers.

Unlinkable by construction (domain brief §4.1, ECOSYSTEM §5.11), also for someone holding a copy of
the database while an evaluation is open (docs/evaluations.md, "Storage order"):

- ``EvaluationToken`` knows only the SHA-256 of a token and its evaluation. It has no person, no
  invitee, no time, no sequential id and no "used" flag: it is written once when the evaluation opens
  (in hash order) and never changed, so it shares no transaction with an answer.
- ``EvaluationSpent`` marks a used token by a keyed digest (HMAC under the installation's secret), which
  cannot be matched to the token's hash without that secret.
- ``EvaluationPendingAnswer`` holds one person's answers sealed (AES-GCM under the installation's
  secret) until the pool is counted in shuffled batches of at least the respondent threshold.
- ``EvaluationCount`` holds one counter per evaluation, question and option; only a batch adds to it.
- ``EvaluationComment`` holds free text under a random key, with no time, token or person, written in
  shuffled batches, and rewritten under new keys when the evaluation closes.

On SQLite the tables written per answer have no rowid (``WITHOUT ROWID``), so their physical order is
that of their random keys. No answer table refers to a token, a user or an invitee, and none has a
time column (``tests/unit/test_evaluations.py`` inspects the schema to keep it that way).
"""

import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlmodel import Field, Relationship, SQLModel

from samrad.enums import LabelledEnum, set_labels
from samrad.models.base import UTCDateTime, enum_type, utcnow


class QuestionKind(LabelledEnum):
    SCALE = "scale"  # a statement answered on the three-point agreement scale
    TEXT = "text"  # an optional free-text answer


QUESTION_KIND_LABELS = set_labels(
    QuestionKind,
    {
        QuestionKind.SCALE: _l("Statement (agree fully / partly / not)"),
        QuestionKind.TEXT: _l("Free text (optional)"),
    },
)


class ScaleOption(LabelledEnum):
    """The Norrbotten form's three-point scale, in the order it is printed."""

    AGREE_FULLY = "agree_fully"
    AGREE_PARTLY = "agree_partly"
    DISAGREE = "disagree"


SCALE_OPTION_LABELS = set_labels(
    ScaleOption,
    {
        ScaleOption.AGREE_FULLY: _l("Agree fully"),
        ScaleOption.AGREE_PARTLY: _l("Agree partly"),
        ScaleOption.DISAGREE: _l("Do not agree"),
    },
)


class EvaluationStatus(LabelledEnum):
    OPEN = "open"
    CLOSED = "closed"


EVALUATION_STATUS_LABELS = set_labels(
    EvaluationStatus,
    {
        EvaluationStatus.OPEN: _l("Open for answers"),
        EvaluationStatus.CLOSED: _l("Closed"),
    },
)


def new_comment_key() -> str:
    return secrets.token_hex(16)


class Questionnaire(SQLModel, table=True):
    """One version of a consultation's evaluation form. A version never changes once created:
    editing the form creates the next version, and each evaluation keeps the version it was opened with."""

    __table_args__ = (sa.UniqueConstraint("consultation_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    version: int
    title: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")

    questions: list["EvaluationQuestion"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "EvaluationQuestion.number"}
    )


class EvaluationQuestion(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("questionnaire_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    questionnaire_id: int = Field(foreign_key="questionnaire.id", ondelete="CASCADE", index=True)
    #: The question's number on the form (1, 2, …), as in the published report.
    number: int
    kind: QuestionKind = Field(sa_type=enum_type(QuestionKind))
    text: str = Field(max_length=500)


class Evaluation(SQLModel, table=True):
    """The evaluation of one held meeting. Times here are the meeting's, never an answer's."""

    id: int | None = Field(default=None, primary_key=True)
    #: Random: names the evaluation in the answer form's address, which says nothing about a person.
    public_id: str = Field(default_factory=lambda: uuid.uuid4().hex, max_length=32, unique=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", unique=True)
    questionnaire_id: int = Field(foreign_key="questionnaire.id", ondelete="RESTRICT", index=True)
    status: EvaluationStatus = Field(
        default=EvaluationStatus.OPEN, sa_type=enum_type(EvaluationStatus), index=True
    )
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When the one reminder went out (to every attendee; see ``services.evaluations.remind_evaluations``).
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: How many people answered; incremented in the same transaction that uses a token.
    respondents: int = 0

    questionnaire: Questionnaire = Relationship(sa_relationship_kwargs={"lazy": "joined"})


class EvaluationToken(SQLModel, table=True):
    """A single-use answer token: only its hash and its evaluation. Never changed after it is written."""

    token_hash: str = Field(primary_key=True, max_length=64)
    evaluation_id: int = Field(foreign_key="evaluation.id", ondelete="CASCADE", index=True)


class EvaluationSpent(SQLModel, table=True):
    """A used token, by a keyed digest that only the installation's secret connects to the token."""

    __table_args__ = {"sqlite_with_rowid": False}

    marker: str = Field(primary_key=True, max_length=64)
    evaluation_id: int = Field(foreign_key="evaluation.id", ondelete="CASCADE", index=True)


class EvaluationPendingAnswer(SQLModel, table=True):
    """One person's answers, sealed, waiting to be counted with at least the threshold of others."""

    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(default_factory=new_comment_key, primary_key=True, max_length=32)
    evaluation_id: int = Field(foreign_key="evaluation.id", ondelete="CASCADE", index=True)
    sealed: str = Field(sa_type=sa.Text)


class EvaluationCount(SQLModel, table=True):
    """How many chose ``option`` for ``question`` in one evaluation (created at 0 when it opens)."""

    evaluation_id: int = Field(foreign_key="evaluation.id", ondelete="CASCADE", primary_key=True)
    question_id: int = Field(foreign_key="evaluationquestion.id", ondelete="CASCADE", primary_key=True)
    option: ScaleOption = Field(sa_type=enum_type(ScaleOption), primary_key=True)
    n: int = 0


class EvaluationComment(SQLModel, table=True):
    """A free-text answer under a random key. The coordinator releases it, or deletes it for good."""

    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(default_factory=new_comment_key, primary_key=True, max_length=32)
    evaluation_id: int = Field(foreign_key="evaluation.id", ondelete="CASCADE", index=True)
    question_id: int = Field(foreign_key="evaluationquestion.id", ondelete="CASCADE")
    text: str = Field(sa_type=sa.Text)
    released: bool = False
