"""Cases: registration behind the de-identification guard, the lifecycle, and who may see what.

Who may do each of these is decided in :mod:`samrad.services.access`, not here.

Lifecycle (one function per transition; each raises :class:`TransitionNotAllowed` from a wrong status)::

    draft ──submit_case──▶ submitted ──accept_case──▶ accepted ──mark_on_agenda──▶ on_agenda
      │                      │   ▲                       │                              │
      │                      │   └──── release_case ◀────┴──────────────────────────────┤
      │                 return_case                                               mark_discussed
      │                      ▼                                                          ▼
      │                  returned ──update_case(submit)──▶ submitted        discussed / follow_up
      │                                                                  (follow_up queues the case for
      └─ withdraw_case (draft, submitted, returned, accepted, on_agenda,   accept_case again; a case can
         follow_up) ──▶ withdrawn                                           be discussed at many meetings)
                                                          discussed ──request_follow_up──▶ follow_up
                                                   discussed, follow_up ──close_case──▶ closed

Free text is checked by :mod:`samrad.deidentify` here, in the service, whatever the caller did before:
blocking findings refuse the write; warnings must be confirmed (bound to exactly the warnings shown, by a
digest); a submission needs the attestation. Logs carry case ids and references only, never text.
Services flush but never commit.
"""

from __future__ import annotations

from samrad.services.cases.errors import (
    CaseError,
    CommentRequired,
    DeidentificationRefused,
    DuplicateSubmission,
    MeetingNotOpen,
    NotAttested,
    TransitionNotAllowed,
    WarningsNotConfirmed,
)
from samrad.services.cases.lifecycle import (
    accept_case,
    case_by_submission_key,
    close_case,
    create_case,
    mark_discussed,
    mark_on_agenda,
    release_case,
    request_follow_up,
    return_case,
    submit_case,
    update_case,
    withdraw_case,
)
from samrad.services.cases.limits import (
    BACKGROUND_MAX,
    CLOSABLE,
    EDITABLE,
    QUESTIONS_MAX,
    QUEUED,
    RETURN_COMMENT_MAX,
    RETURNABLE,
    SCHEDULED,
    WITHDRAWABLE,
)
from samrad.services.cases.lists import (
    CASES_PER_PAGE,
    cases_visible_to,
    page_of_cases_visible_to,
    submitting_consultations,
    visible_case_ids,
)
from samrad.services.cases.reading import (
    Slot,
    discussions,
    slot_of,
    slots_of,
    triage_queue,
)
from samrad.services.cases.references import (
    assign_reference,
    reference_prefix,
)
from samrad.services.cases.requests import (
    closed_for_cases,
    open_meetings,
)
from samrad.services.cases.texts import (
    Attestation,
    CaseInput,
    GuardResult,
    check_texts,
)

__all__ = [
    "Attestation",
    "BACKGROUND_MAX",
    "CASES_PER_PAGE",
    "CLOSABLE",
    "CaseError",
    "CaseInput",
    "CommentRequired",
    "DeidentificationRefused",
    "DuplicateSubmission",
    "EDITABLE",
    "GuardResult",
    "MeetingNotOpen",
    "NotAttested",
    "QUESTIONS_MAX",
    "QUEUED",
    "RETURNABLE",
    "RETURN_COMMENT_MAX",
    "SCHEDULED",
    "Slot",
    "TransitionNotAllowed",
    "WITHDRAWABLE",
    "WarningsNotConfirmed",
    "accept_case",
    "assign_reference",
    "case_by_submission_key",
    "cases_visible_to",
    "page_of_cases_visible_to",
    "visible_case_ids",
    "check_texts",
    "close_case",
    "create_case",
    "discussions",
    "mark_discussed",
    "mark_on_agenda",
    "open_meetings",
    "closed_for_cases",
    "reference_prefix",
    "release_case",
    "request_follow_up",
    "return_case",
    "slot_of",
    "slots_of",
    "submit_case",
    "submitting_consultations",
    "triage_queue",
    "update_case",
    "withdraw_case",
]
