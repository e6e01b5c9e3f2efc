"""What can go wrong with a case, as exceptions the pages turn into messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samrad.models import (
    Case,
)

if TYPE_CHECKING:  # the guard's result is raised with, not needed to define the errors
    from samrad.services.cases.texts import GuardResult


class CaseError(Exception):
    """A refused case operation; ``field`` names the form field the message belongs to, if any."""

    field: str | None = None


class TransitionNotAllowed(CaseError):
    def __init__(self, case: Case, action: str):
        super().__init__(f"case {case.id} in status {case.status.value} cannot be {action}")
        self.status = case.status
        self.action = action


class MeetingNotOpen(CaseError):
    """The meeting is cancelled, held, past its case deadline or belongs to another consultation."""

    field = "requested_meeting"

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "cancelled", "deadline", "past", "other_consultation"


class DeidentificationRefused(CaseError):
    """The text still contains something that identifies a person (a blocking finding)."""

    def __init__(self, guard: GuardResult):
        super().__init__(
            "blocking findings: " + ", ".join(f"{k}={len(v)}" for k, v in guard.blocking.items())
        )
        self.guard = guard


class WarningsNotConfirmed(CaseError):
    field = "confirm_warnings"

    def __init__(self, guard: GuardResult):
        super().__init__(f"{guard.warning_count} warnings not confirmed")
        self.guard = guard


class NotAttested(CaseError):
    field = "attest"


class CommentRequired(CaseError):
    field = "comment"


class DuplicateSubmission(CaseError):
    """The form's submission key belongs to somebody else's case."""
