"""Limits of a case's texts and which statuses allow what."""

from __future__ import annotations

from samrad.enums import (
    CaseStatus,
)

#: Length limits of the free-text fields (characters).
QUESTIONS_MAX = 2000
BACKGROUND_MAX = 4000
RETURN_COMMENT_MAX = 2000


EDITABLE = frozenset({CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.RETURNED, CaseStatus.FOLLOW_UP})
WITHDRAWABLE = frozenset(
    {
        CaseStatus.DRAFT,
        CaseStatus.SUBMITTED,
        CaseStatus.RETURNED,
        CaseStatus.ACCEPTED,
        CaseStatus.ON_AGENDA,
        CaseStatus.FOLLOW_UP,
    }
)
#: Waiting for a meeting: what the coordinator triages and accepts.
QUEUED = frozenset({CaseStatus.SUBMITTED, CaseStatus.FOLLOW_UP})
RETURNABLE = QUEUED
#: Accepted for a meeting, on its agenda or not yet: waiting to be discussed there.
SCHEDULED = frozenset({CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA})
CLOSABLE = frozenset({CaseStatus.DISCUSSED, CaseStatus.FOLLOW_UP})
