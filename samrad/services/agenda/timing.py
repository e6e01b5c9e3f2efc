"""Timing: start times, what fits in the meeting, and the order of the queue (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from samrad.enums import (
    AgendaItemKind,
)
from samrad.models import Case, Meeting


@dataclass(frozen=True)
class Timed:
    item: object
    starts_at: datetime
    ends_at: datetime


def item_times(start: datetime, items: Iterable) -> list[Timed]:
    """Start and end of each item, in the given order, from the meeting start (``duration_minutes``)."""
    result, at = [], start
    for item in items:
        end = at + timedelta(minutes=item.duration_minutes)
        result.append(Timed(item, at, end))
        at = end
    return result


@dataclass(frozen=True)
class Candidate:
    """A case item that could move to the next meeting."""

    item_id: int
    minutes: int
    honour_related: bool
    submitted_at: datetime | None


def propose_moves(candidates: Sequence[Candidate], overflow: int) -> list[int]:
    """Which case items to move so that ``overflow`` minutes are freed: never honour-related cases (the
    Norrbotten rule), newest submission first. Returns item ids; may free less when it cannot do more."""
    if overflow <= 0:
        return []
    movable = sorted(
        (c for c in candidates if not c.honour_related),
        key=lambda c: (c.submitted_at is not None, c.submitted_at or datetime.min, c.item_id),
        reverse=True,
    )
    chosen, freed = [], 0
    for c in movable:
        if freed >= overflow:
            break
        chosen.append(c.item_id)
        freed += c.minutes
    return chosen


def order_queue(waiting: Sequence[Case], free_minutes: int) -> list[Case]:
    """The triage order: oldest first; when the waiting cases need more time than is free, honour-related
    cases go first (they cannot wait)."""
    ordered = sorted(waiting, key=lambda c: (c.submitted_at is None, c.submitted_at or datetime.min, c.id))
    if sum(c.presentation_minutes for c in ordered) > free_minutes:
        ordered.sort(key=lambda c: not is_honour_related(c))
    return ordered


def is_honour_related(case: Case) -> bool:
    return any(e.category.is_honour_related for e in case.categories)


@dataclass(frozen=True)
class Fit:
    total: int
    length: int
    proposal: list[int]

    @property
    def overflow(self) -> int:
        return max(0, self.total - self.length)

    @property
    def free(self) -> int:
        return max(0, self.length - self.total)

    @property
    def fits(self) -> bool:
        return self.total <= self.length


def agenda_fit(session: Session, meeting: Meeting) -> Fit:
    items = meeting.items
    total = sum(i.duration_minutes for i in items)
    candidates = []
    for item in items:
        if item.kind == AgendaItemKind.CASE and item.case_id is not None:
            case = session.get(Case, item.case_id)
            candidates.append(
                Candidate(item.id, item.duration_minutes, is_honour_related(case), case.submitted_at)
            )
    return Fit(total, meeting.length_minutes, propose_moves(candidates, total - meeting.length_minutes))
