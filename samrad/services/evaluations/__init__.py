"""Anonymous post-meeting evaluations: open, answer, remind, close, moderate and report.

The anonymity design (see also ``samrad/models/evaluation.py`` and ``docs/decisions.md``):

- :func:`open_evaluation` creates one random token per attendee, stores only its SHA-256 (rows written in
  hash order, which has nothing to do with the recipients) and mails the link. The outbox row holding
  the link is *ephemeral*: its body is blanked once the message is delivered, so no table ever pairs an
  address with a token for longer than delivery takes.
- :func:`submit_answers` validates everything first (:func:`checked_answers`, reads only), then in one
  savepoint (:func:`record_answers`): takes the evaluation row
  (``respondents + 1`` where still open), marks the token used by a keyed marker (unique) and puts the
  answers, sealed, in the pool. A refused step rolls the savepoint back, so a submission counts entirely
  or not at all, and a token counts once. Nothing is logged and nobody is notified.
- :func:`count_pool` (a job, and at closing) opens the pool in shuffled batches of at least the
  respondent threshold and adds them to the counters and comments, so that no row written for an answer
  carries the order of the answers or the transaction that used a token (``pool``'s docstring).
- :func:`close_evaluation` counts what is left in the pool, deletes the tokens and their markers and
  rewrites the free text under new random keys in a random order.
- :func:`remind_evaluations` reminds *every* attendee once ("if you have not answered yet"), without a
  link: the app never learns, and never stores, who has not answered.
- Reports (:func:`meeting_report`, :func:`period_report`) exist only for closed evaluations; a single
  meeting is shown only with at least ``min_respondents`` answers, and a period report is withheld while
  it covers fewer. Free text appears only after the coordinator released it.
"""

from __future__ import annotations

from samrad.services.evaluations.answers import (
    CheckedAnswers,
    accepts_answers,
    check_answers,
    checked_answers,
    find_token,
    record_answers,
    submit_answers,
)
from samrad.services.evaluations.closing import (
    close_due_evaluations,
    close_evaluation,
    remind_evaluations,
)
from samrad.services.evaluations.comments import (
    PendingComment,
    comment_in,
    pending_comments,
    release_comment,
    remove_comment,
)
from samrad.services.evaluations.errors import (
    EvaluationClosed,
    EvaluationError,
    EvaluationExists,
    EvaluationStillOpen,
    InvalidAnswers,
    InvalidQuestionnaire,
    MeetingNotClosed,
    Problem,
    QuestionnaireChanged,
    TokenForAnotherEvaluation,
    TokenUsed,
    UnknownToken,
)
from samrad.services.evaluations.form import (
    ATTENDED,
    MAX_QUESTIONS,
    NORRBOTTEN_QUESTIONS,
    NORRBOTTEN_TITLE,
    QUESTION_TEXT_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from samrad.services.evaluations.opening import (
    attendee_addresses,
    evaluation_by_public_id,
    evaluation_of,
    evaluation_to_answer,
    open_evaluation,
)
from samrad.services.evaluations.pool import count_due_pools, count_pool
from samrad.services.evaluations.questionnaires import (
    QuestionDraft,
    current_questionnaire,
    default_questions,
    ensure_questionnaire,
    questionnaire_versions,
    save_questionnaire,
)
from samrad.services.evaluations.reports import (
    EXPORT_COLUMNS,
    MeetingReport,
    OptionResult,
    PeriodReport,
    QuestionResult,
    closed_evaluations,
    evaluations_overview,
    export_csv,
    export_json,
    meeting_report,
    percent,
    period_report,
    report_rows,
)
from samrad.services.evaluations.texts import (
    colleague_names,
    name_parts,
    text_findings,
)

__all__ = [
    "CheckedAnswers",
    "ATTENDED",
    "EXPORT_COLUMNS",
    "EvaluationClosed",
    "EvaluationError",
    "EvaluationExists",
    "EvaluationStillOpen",
    "InvalidAnswers",
    "InvalidQuestionnaire",
    "MAX_QUESTIONS",
    "MeetingNotClosed",
    "MeetingReport",
    "NORRBOTTEN_QUESTIONS",
    "NORRBOTTEN_TITLE",
    "OptionResult",
    "PendingComment",
    "PeriodReport",
    "Problem",
    "QUESTION_TEXT_MAX",
    "QuestionDraft",
    "QuestionResult",
    "QuestionnaireChanged",
    "TEXT_MAX",
    "TITLE_MAX",
    "TokenForAnotherEvaluation",
    "TokenUsed",
    "UnknownToken",
    "accepts_answers",
    "attendee_addresses",
    "check_answers",
    "checked_answers",
    "close_due_evaluations",
    "close_evaluation",
    "closed_evaluations",
    "colleague_names",
    "comment_in",
    "count_due_pools",
    "count_pool",
    "current_questionnaire",
    "default_questions",
    "ensure_questionnaire",
    "evaluation_by_public_id",
    "evaluation_to_answer",
    "evaluation_of",
    "evaluations_overview",
    "export_csv",
    "export_json",
    "find_token",
    "meeting_report",
    "name_parts",
    "open_evaluation",
    "pending_comments",
    "percent",
    "period_report",
    "questionnaire_versions",
    "record_answers",
    "release_comment",
    "remind_evaluations",
    "remove_comment",
    "report_rows",
    "save_questionnaire",
    "submit_answers",
    "text_findings",
]
