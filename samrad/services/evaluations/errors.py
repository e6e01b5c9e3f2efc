"""What can go wrong with an evaluation, as exceptions the pages turn into messages."""

from __future__ import annotations

from dataclasses import dataclass

from samrad.deidentify import Finding


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
