"""Limits of an agenda and the vocabularies its rules use."""

from __future__ import annotations

from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    Attendance,
    Rsvp,
)

MIN_MINUTES = 5
MAX_MINUTES = 120
TITLE_MAX = 200
ADVICE_MAX = 2000

#: Non-case items the coordinator can add, with a default length in minutes.
NON_CASE_KINDS = {
    AgendaItemKind.WELCOME: 10,
    AgendaItemKind.COMPETENCE: 30,
    AgendaItemKind.TRAINING_CASE: 30,
    AgendaItemKind.EXPERIENCE_EXCHANGE: 20,
    AgendaItemKind.OTHER: 15,
}

#: Age bands of a child: such a case needs social services at the table.
CHILD_BANDS = frozenset({AgeBand.CHILD, AgeBand.TEEN})
PRESENT = frozenset({Attendance.ON_SITE, Attendance.VIA_LINK})
COMING = frozenset({Rsvp.ON_SITE, Rsvp.VIA_LINK})
