"""Free text in an evaluation: the de-identification guard plus the names of the consultation's people."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlmodel import Session, select

from samrad.deidentify import Finding, scan
from samrad.models import (
    ConsultationRole,
    Invitee,
    User,
)

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
