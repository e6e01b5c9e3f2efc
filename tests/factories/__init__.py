"""The one place tests make rows: ``make_<model>(session, **overrides)`` with sensible defaults.

Written directly (no guard, no lifecycle, no e-mail), for arranging what a test needs. Each model has
one factory; a test that needs another default passes it. Grouped by concept in submodules, all
importable from ``tests.factories``.
"""

from tests.factories.cases import BACKGROUND, QUESTIONS, case_input, make_case
from tests.factories.evaluations import (
    ANSWERS_ALL_FULLY,
    MEETING_AT,
    OPENED_AT,
    SEALER,
    close_due_evaluations,
    close_evaluation,
    count_pool,
    find_token,
    open_with_tokens,
    submit_answers,
)
from tests.factories.meetings import (
    at,
    attend,
    discuss,
    make_agenda_item,
    make_held_meeting,
    make_invitee,
    make_meeting,
)
from tests.factories.people import (
    PASSWORD,
    make_consultation,
    make_municipality,
    make_organisation,
    make_team,
    make_user,
)

__all__ = [
    "ANSWERS_ALL_FULLY",
    "BACKGROUND",
    "MEETING_AT",
    "OPENED_AT",
    "PASSWORD",
    "QUESTIONS",
    "SEALER",
    "at",
    "attend",
    "case_input",
    "close_due_evaluations",
    "close_evaluation",
    "count_pool",
    "discuss",
    "find_token",
    "make_agenda_item",
    "make_case",
    "make_consultation",
    "make_held_meeting",
    "make_invitee",
    "make_meeting",
    "make_municipality",
    "make_organisation",
    "make_team",
    "make_user",
    "open_with_tokens",
    "submit_answers",
]
