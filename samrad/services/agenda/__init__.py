"""The agenda of a meeting: building it, publishing versions, the confidentiality confirmation, and the
meeting day (attendance, advice to the case owner, closing).

The timing functions at the top are pure. The services take the session first and the time explicitly,
flush and never commit. Every agenda edit carries the ``Meeting.agenda_revision`` the coordinator's page
was built from; a stale revision raises :class:`AgendaChanged` and nothing is written, so two coordinators
never overwrite each other. Nobody is told anything until the agenda is published: publishing marks new
cases as on the agenda, releases removed ones, (re)invites presenters whose slot is new or moved, cancels
removed presenters, and sends the people invited to the whole meeting one "agenda updated" e-mail per
version (a link only, nothing about a case).
"""

from __future__ import annotations

from samrad.services.agenda.agencies import (
    Agencies,
    agencies_for,
    agencies_present,
    agency_rows,
)
from samrad.services.agenda.building import (
    accept_for_meeting,
    accept_onto_agenda,
    add_case,
    add_item,
    move_item,
    move_onto_agenda,
    move_to_meeting,
    remove_item,
    reorder,
    roll_over_missed,
    set_duration,
)
from samrad.services.agenda.confidentiality import (
    confidentiality_gate,
    confirm_confidentiality,
    needs_confidentiality,
)
from samrad.services.agenda.errors import (
    AdviceRefused,
    AgendaChanged,
    AgendaRefused,
    ConfirmationNeeded,
)
from samrad.services.agenda.limits import (
    ADVICE_MAX,
    CHILD_BANDS,
    COMING,
    MAX_MINUTES,
    MIN_MINUTES,
    NON_CASE_KINDS,
    PRESENT,
    TITLE_MAX,
)
from samrad.services.agenda.meeting_day import (
    close_meeting,
    consultation_of,
    record_advice,
    record_attendance,
    release_meeting_cases,
)
from samrad.services.agenda.publishing import (
    PublishPlan,
    publish,
    publish_plan,
)
from samrad.services.agenda.reading import (
    BuilderCases,
    TimeBox,
    builder_cases,
    change_lines,
    diff,
    item_cases,
    item_label,
    later_meetings,
    latest_version,
    published_snapshot,
    row_label,
    snapshot,
    time_boxes,
    unpublished_changes,
    version_lines,
    versions,
)
from samrad.services.agenda.timing import (
    Candidate,
    Fit,
    Timed,
    agenda_fit,
    is_honour_related,
    item_times,
    order_queue,
    propose_moves,
)

__all__ = [
    "PublishPlan",
    "publish_plan",
    "TimeBox",
    "accept_onto_agenda",
    "move_onto_agenda",
    "time_boxes",
    "ADVICE_MAX",
    "AdviceRefused",
    "Agencies",
    "AgendaChanged",
    "AgendaRefused",
    "CHILD_BANDS",
    "COMING",
    "Candidate",
    "ConfirmationNeeded",
    "Fit",
    "MAX_MINUTES",
    "MIN_MINUTES",
    "NON_CASE_KINDS",
    "PRESENT",
    "TITLE_MAX",
    "Timed",
    "accept_for_meeting",
    "BuilderCases",
    "builder_cases",
    "add_case",
    "add_item",
    "agencies_for",
    "agencies_present",
    "agency_rows",
    "agenda_fit",
    "change_lines",
    "close_meeting",
    "confidentiality_gate",
    "confirm_confidentiality",
    "consultation_of",
    "diff",
    "is_honour_related",
    "item_cases",
    "item_label",
    "item_times",
    "later_meetings",
    "latest_version",
    "move_item",
    "move_to_meeting",
    "needs_confidentiality",
    "order_queue",
    "propose_moves",
    "publish",
    "published_snapshot",
    "record_advice",
    "record_attendance",
    "release_meeting_cases",
    "remove_item",
    "reorder",
    "roll_over_missed",
    "row_label",
    "set_duration",
    "snapshot",
    "unpublished_changes",
    "version_lines",
    "versions",
]
