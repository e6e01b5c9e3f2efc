"""Reading an agenda: its items, labels, versions and the change list."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, select

from samrad.enums import (
    AgendaItemKind,
    MeetingStatus,
)
from samrad.i18n import clock_time
from samrad.models import AgendaItem, AgendaVersion, Case, Consultation, Meeting
from samrad.services.agenda.timing import item_times
from samrad.services.cases.limits import QUEUED, SCHEDULED


def item_label(session: Session, item: AgendaItem) -> str:
    """What an item is called on the agenda: the case reference (never case text) or the item's title."""
    if item.kind == AgendaItemKind.CASE and item.case_id is not None:
        case = session.get(Case, item.case_id)
        return _("Case %(reference)s", reference=case.reference) if case else _("Case")
    return item.title or item.kind.label


def _held_cases(session: Session, meeting: Meeting) -> tuple[dict[int, Case], set[int]]:
    """The cases of the agenda's items that the session holds already, by case id, and the ids of the rest."""
    wanted = {i.case_id for i in meeting.items if i.case_id is not None}
    held = {}
    for case_id in wanted:
        case = session.identity_map.get(identity_key(Case, case_id))
        if case is not None:
            held[case_id] = case
    return held, wanted - held.keys()


def item_cases(session: Session, meeting: Meeting) -> dict[int, Case]:
    """The case of every case item, by item id: those the session holds already, the rest in one statement
    (so a page that asked before pays nothing the second time)."""
    found, missing = _held_cases(session, meeting)
    if missing:
        for case in session.exec(select(Case).where(Case.id.in_(missing))):
            found[case.id] = case  # type: ignore[index]  # a stored case has its id
    return {i.id: found[i.case_id] for i in meeting.items if i.case_id in found and i.id is not None}


def item_references(session: Session, meeting: Meeting) -> dict[int, str | None]:
    """The reference of every case item's case, by item id: from the cases the session holds, the rest in
    one statement of references alone (a snapshot needs no more of a case than its reference)."""
    held, missing = _held_cases(session, meeting)
    references = {case_id: case.reference for case_id, case in held.items()}
    if missing:
        references.update(session.exec(select(Case.id, Case.reference).where(Case.id.in_(missing))).all())
    return {
        i.id: references[i.case_id] for i in meeting.items if i.case_id in references and i.id is not None
    }


@dataclass(frozen=True)
class BuilderCases:
    """The cases the agenda builder shows."""

    items: dict[int, Case]  # the case of every case item, by item id
    accepted: list[Case]  # accepted for the meeting, not on its agenda; oldest first
    waiting: list[Case]  # the consultation's queue, oldest first (``order_queue`` orders it for the page)


def builder_cases(session: Session, consultation: Consultation, meeting: Meeting) -> BuilderCases:
    """The builder's three kinds of case in one statement (with their categories in one more), instead of
    three statements and three reads of categories: the cases of the agenda's items, those accepted for
    the meeting and not on it, and the consultation's queue."""
    on_agenda = {i.case_id for i in meeting.items if i.case_id is not None}
    accepted_here = (Case.meeting_id == meeting.id) & Case.status.in_(list(SCHEDULED))
    queued = (Case.consultation_id == consultation.id) & Case.status.in_(list(QUEUED))
    wanted = or_(queued, accepted_here, Case.id.in_(on_agenda)) if on_agenda else or_(queued, accepted_here)
    read = list(session.exec(select(Case).where(wanted).order_by(Case.submitted_at, Case.id)))
    by_id = {c.id: c for c in read}
    return BuilderCases(
        items={i.id: by_id[i.case_id] for i in meeting.items if i.case_id in by_id and i.id is not None},
        accepted=[
            c for c in read if c.meeting_id == meeting.id and c.status in SCHEDULED and c.id not in on_agenda
        ],
        waiting=[c for c in read if c.consultation_id == consultation.id and c.status in QUEUED],
    )


def later_meetings(session: Session, meeting: Meeting) -> list[Meeting]:
    """Planned meetings of the same consultation after this one, soonest first (offered as a place to move
    a case to: their agendas are read only when one is chosen)."""
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.consultation_id == meeting.consultation_id)
            .where(Meeting.status == MeetingStatus.PLANNED)
            .where(Meeting.starts_at > meeting.starts_at)
            .order_by(Meeting.starts_at)
            .options(lazyload(Meeting.items))
        )
    )


def versions(session: Session, meeting: Meeting) -> list[AgendaVersion]:
    return list(
        session.exec(
            select(AgendaVersion)
            .where(AgendaVersion.meeting_id == meeting.id)
            .order_by(AgendaVersion.version)
        )
    )


def latest_version(session: Session, meeting: Meeting) -> AgendaVersion | None:
    return session.exec(
        select(AgendaVersion)
        .where(AgendaVersion.meeting_id == meeting.id)
        .order_by(AgendaVersion.version.desc())
    ).first()


def snapshot(session: Session, meeting: Meeting) -> list[dict]:
    """The agenda as it stands, in the form stored in :class:`AgendaVersion` (no case text)."""
    rows = []
    references = item_references(session, meeting)
    for timed in item_times(meeting.starts_at, meeting.items):
        item = timed.item
        rows.append(
            {
                "item_id": item.id,
                "kind": item.kind.value,
                "case_id": item.case_id,
                "reference": references.get(item.id),  # type: ignore[arg-type]  # a stored item has its id
                "title": item.title,
                "offset": int((timed.starts_at - meeting.starts_at).total_seconds() // 60),
                "duration": item.duration_minutes,
            }
        )
    return rows


def published_snapshot(session: Session, meeting: Meeting) -> list[dict]:
    version = latest_version(session, meeting)
    return json.loads(version.snapshot) if version else []


def diff(before: list[dict], after: list[dict]) -> list[dict]:
    """Changes between two snapshots (pure): added, removed, moved (new start), changed length."""
    old = {row["item_id"]: row for row in before}
    new = {row["item_id"]: row for row in after}
    changes = []
    for row in after:
        previous = old.get(row["item_id"])
        if previous is None:
            changes.append({"change": "added", **_ref(row)})
        elif previous["offset"] != row["offset"]:
            changes.append({"change": "moved", **_ref(row)})
        elif previous["duration"] != row["duration"]:
            changes.append({"change": "length", **_ref(row)})
    for row in before:
        if row["item_id"] not in new:
            changes.append({"change": "removed", **_ref(row)})
    return changes


def _ref(row: dict) -> dict:
    return {
        "kind": row["kind"],
        "reference": row["reference"],
        "title": row["title"],
        "offset": row["offset"],
        "duration": row["duration"],
    }


def row_label(row: dict) -> str:
    if row["kind"] == AgendaItemKind.CASE.value:
        return _("Case %(reference)s", reference=row["reference"] or "")
    return row["title"] or AgendaItemKind(row["kind"]).label


def change_lines(meeting: Meeting, changes: list[dict]) -> list[str]:
    """Readable lines for a change list, in the current language ("Case UNA-2026-014 moved to 13.40")."""
    lines = []
    for c in changes:
        label = row_label(c)
        at = clock_time(meeting.starts_at + timedelta(minutes=c["offset"]))
        if c["change"] == "added":
            lines.append(_("New: %(item)s at %(time)s", item=label, time=at))
        elif c["change"] == "moved":
            lines.append(_("%(item)s moved to %(time)s", item=label, time=at))
        elif c["change"] == "length":
            lines.append(_("%(item)s now takes %(minutes)s minutes", item=label, minutes=c["duration"]))
        else:
            lines.append(_("Removed: %(item)s", item=label))
    return lines


def version_lines(meeting: Meeting, version: AgendaVersion) -> list[str]:
    return change_lines(meeting, json.loads(version.changes or "[]"))


def unpublished_changes(session: Session, meeting: Meeting) -> list[dict]:
    return diff(published_snapshot(session, meeting), snapshot(session, meeting))


@dataclass(frozen=True)
class TimeBox:
    """A coming meeting and how much of its length the draft agenda already takes."""

    meeting: Meeting
    minutes_used: int

    @property
    def minutes_free(self) -> int:
        return self.meeting.length_minutes - self.minutes_used


def time_boxes(
    session: Session, consultation: Consultation, *, now: datetime, limit: int = 4
) -> list[TimeBox]:
    """The next planned meetings that have not started (the ones a waiting case can be accepted for), soonest
    first, each with the minutes its agenda takes; one statement. The database adds the minutes up: the
    items were read as objects only to be summed (a fifth of the queue's reading)."""
    rows = session.exec(
        select(Meeting, func.coalesce(_MINUTES_PLANNED, 0))
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.status == MeetingStatus.PLANNED)
        .where(Meeting.starts_at > now)
        .order_by(Meeting.starts_at)
        .limit(limit)
        .options(lazyload(Meeting.items))
    )
    return [TimeBox(m, int(used)) for m, used in rows]


#: The minutes a meeting's agenda takes, for :func:`time_boxes`.
_MINUTES_PLANNED = (
    select(func.sum(AgendaItem.duration_minutes))
    .where(AgendaItem.meeting_id == Meeting.id)
    .correlate(Meeting)
    .scalar_subquery()
)
