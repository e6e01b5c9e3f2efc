"""Building the agenda: adding, ordering, timing and removing items, with the revision check."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from samrad import db, outbox
from samrad.enums import (
    AgendaItemKind,
    CaseStatus,
    MeetingStatus,
)
from samrad.models import AgendaItem, Case, Invitee, Meeting, User
from samrad.services import cases
from samrad.services.agenda.errors import AgendaChanged, AgendaRefused
from samrad.services.agenda.limits import MAX_MINUTES, MIN_MINUTES, NON_CASE_KINDS, TITLE_MAX
from samrad.services.agenda.reading import later_meetings

log = logging.getLogger(__name__)


def _check(meeting: Meeting, *, revision: int, now: datetime) -> None:
    if revision != meeting.agenda_revision:
        raise AgendaChanged()
    if meeting.status == MeetingStatus.CANCELLED:
        raise AgendaRefused(_l("The meeting is cancelled."))
    if meeting.status == MeetingStatus.CLOSED or meeting.starts_at <= now:
        raise AgendaRefused(_l("The meeting has already started or taken place; its agenda cannot change."))


def _changed(session: Session, meeting: Meeting) -> None:
    for position, item in enumerate(sorted(meeting.items, key=lambda i: (i.position, i.id or 0))):
        item.position = position
        session.add(item)
    advance_revision(session, meeting)
    session.flush()
    session.refresh(meeting, ["items"])  # in their new order, with any added item; the row is as written


def advance_revision(session: Session, meeting: Meeting) -> None:
    """Move the agenda's revision on by one if the database still holds the one this request read
    (:func:`samrad.db.compare_and_set`): of two changes made from the same page at the same time, the second
    is refused as changed meanwhile (and rolled back) instead of writing its stale agenda over the first.
    (SQLite's writers take turns from their first read, so there it cannot happen.)"""
    read = meeting.agenda_revision
    if not db.compare_and_set(session, meeting, "agenda_revision", expected=read, new=read + 1):
        raise AgendaChanged()


def _check_minutes(minutes: int | None) -> int:
    if minutes is None or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise AgendaRefused(
            _l("Give a length between %(min)s and %(max)s minutes.", min=MIN_MINUTES, max=MAX_MINUTES),
            field="duration",
        )
    return minutes


def _item_of(meeting: Meeting, item_id: int) -> AgendaItem:
    for item in meeting.items:
        if item.id == item_id:
            return item
    raise AgendaChanged()  # removed by someone else meanwhile


def accept_for_meeting(
    session: Session, meeting: Meeting, case: Case, *, actor: User, revision: int, now: datetime
) -> Case:
    """Accept a waiting case for this meeting (triage); it is added to the agenda separately."""
    _check(meeting, revision=revision, now=now)
    try:
        cases.accept_case(session, case, meeting, actor=actor, now=now)
    except cases.CaseError as exc:
        raise AgendaRefused(_l("The case can no longer be accepted for this meeting.")) from exc
    _changed(session, meeting)
    return case


def add_case(session: Session, meeting: Meeting, case: Case, *, revision: int, now: datetime) -> AgendaItem:
    """Put a case accepted for this meeting on its agenda (last, with the case's presentation length)."""
    _check(meeting, revision=revision, now=now)
    if case.meeting_id != meeting.id or case.status not in cases.SCHEDULED:
        raise AgendaRefused(_l("Only cases accepted for this meeting can be put on its agenda."))
    if any(i.case_id == case.id for i in meeting.items):
        raise AgendaRefused(_l("The case is already on the agenda."))
    minutes = min(MAX_MINUTES, max(MIN_MINUTES, case.presentation_minutes))
    item = AgendaItem(
        meeting_id=meeting.id,
        position=len(meeting.items),
        kind=AgendaItemKind.CASE,
        case_id=case.id,
        duration_minutes=minutes,
    )
    meeting.items.append(item)  # last; _changed numbers, writes and reads the items once
    _changed(session, meeting)
    log.info("case %s (%s) put on the draft agenda of meeting %s", case.id, case.reference, meeting.id)
    return item


def accept_onto_agenda(
    session: Session, meeting: Meeting, case: Case, *, actor: User, now: datetime
) -> AgendaItem:
    """Triage from the queue in one step: accept a waiting case for ``meeting`` and put it last on the
    meeting's draft agenda (the builder orders and times it later)."""
    accept_for_meeting(session, meeting, case, actor=actor, revision=meeting.agenda_revision, now=now)
    return add_case(session, meeting, case, revision=meeting.agenda_revision, now=now)


def move_onto_agenda(
    session: Session, case: Case, target: Meeting, *, actor: User, now: datetime, link: str
) -> AgendaItem:
    """Triage from the queue: a case accepted there moves to a later meeting's draft agenda (the case
    officer is told, as when the builder moves it)."""
    meeting = session.get(Meeting, case.meeting_id) if case.meeting_id else None
    if meeting is None or case.status != CaseStatus.ACCEPTED:
        raise AgendaRefused(_l("The case can no longer be moved."))
    move_to_meeting(
        session, meeting, case, target, actor=actor, revision=meeting.agenda_revision, now=now, link=link
    )
    return add_case(session, target, case, revision=target.agenda_revision, now=now)


def add_item(
    session: Session,
    meeting: Meeting,
    *,
    kind: AgendaItemKind,
    title: str,
    duration: int | None,
    revision: int,
    now: datetime,
) -> AgendaItem:
    """Add a non-case item (welcome and rules, competence development, a training case …) at the end."""
    _check(meeting, revision=revision, now=now)
    if kind not in NON_CASE_KINDS:
        raise AgendaRefused(_l("Choose what kind of item to add."), field="kind")
    title = (title or "").strip()
    if len(title) > TITLE_MAX:
        raise AgendaRefused(_l("Use at most %(n)s characters.", n=TITLE_MAX), field="title")
    guard = cases.check_texts({"title": title})
    if guard.blocking:
        raise AgendaRefused(_l("Remove what could identify a person before saving."), field="title")
    minutes = _check_minutes(NON_CASE_KINDS[kind] if duration is None else duration)
    item = AgendaItem(
        meeting_id=meeting.id, position=len(meeting.items), kind=kind, title=title, duration_minutes=minutes
    )
    meeting.items.append(item)  # last; _changed numbers, writes and reads the items once
    _changed(session, meeting)
    return item


def reorder(
    session: Session, meeting: Meeting, item_ids: Sequence[int], *, revision: int, now: datetime
) -> None:
    """Put the items in the given order (the drag-and-drop result); it must name every item once."""
    _check(meeting, revision=revision, now=now)
    items = {i.id: i for i in meeting.items}
    if Counter(item_ids) != Counter(list(items)):
        raise AgendaChanged()
    for position, item_id in enumerate(item_ids):
        items[item_id].position = position
    _changed(session, meeting)


def move_item(
    session: Session, meeting: Meeting, item_id: int, direction: str, *, revision: int, now: datetime
) -> None:
    """One step up or down (the keyboard alternative to dragging)."""
    _check(meeting, revision=revision, now=now)
    order = [i.id for i in meeting.items]
    index = order.index(_item_of(meeting, item_id).id)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(order):
        return
    order[index], order[target] = order[target], order[index]
    reorder(session, meeting, order, revision=revision, now=now)


def set_duration(
    session: Session, meeting: Meeting, item_id: int, minutes: int | None, *, revision: int, now: datetime
) -> None:
    _check(meeting, revision=revision, now=now)
    item = _item_of(meeting, item_id)
    item.duration_minutes = _check_minutes(minutes)
    session.add(item)
    _changed(session, meeting)


def remove_item(session: Session, meeting: Meeting, item_id: int, *, revision: int, now: datetime) -> None:
    """Take an item off the draft agenda. A case stays accepted for the meeting until it is published
    without it (then it is released) or moved to another meeting."""
    _check(meeting, revision=revision, now=now)
    item = _item_of(meeting, item_id)
    for invitee in session.exec(select(Invitee).where(Invitee.agenda_item_id == item.id)):
        invitee.agenda_item_id = None  # the presenter is cancelled when the agenda is published
        session.add(invitee)
    meeting.items.remove(item)
    session.delete(item)
    session.flush()
    _changed(session, meeting)


def move_to_meeting(
    session: Session,
    meeting: Meeting,
    case: Case,
    target: Meeting,
    *,
    actor: User,
    revision: int,
    now: datetime,
    link: str,
) -> None:
    """Move a waiting or accepted case to a later meeting (e.g. when the agenda overflows).

    A waiting case is accepted for ``target``; one accepted here leaves this agenda (draft) and is
    accepted for ``target``. The case officer is told (reference and link only).
    """
    _check(meeting, revision=revision, now=now)
    if target.consultation_id != meeting.consultation_id or target.starts_at <= meeting.starts_at:
        raise AgendaRefused(_l("Choose a later meeting."), field="target")
    if target.status != MeetingStatus.PLANNED:
        raise AgendaRefused(_l("Choose a later meeting."), field="target")
    if case.status in cases.SCHEDULED:
        if case.meeting_id != meeting.id:
            raise AgendaRefused(_l("The case is not accepted for this meeting."))
        for item in [i for i in meeting.items if i.case_id == case.id]:
            remove_item(session, meeting, item.id, revision=meeting.agenda_revision, now=now)
        if case.status == CaseStatus.ACCEPTED:
            cases.release_case(session, case, now=now)
    elif case.status not in cases.QUEUED:
        raise AgendaRefused(_l("The case can no longer be moved."))
    if case.status == CaseStatus.ON_AGENDA:
        # Published here: released when the next version is published; remember the wish meanwhile.
        case.requested_meeting_id = target.id
        session.add(case)
    else:
        case.requested_meeting_id = target.id
        cases.accept_case(session, case, target, actor=actor, now=now)
    _tell_officer(session, case, target, now=now, link=link)
    if meeting.agenda_revision == revision:
        _changed(session, meeting)


def _tell_officer(session: Session, case: Case, target: Meeting, *, now: datetime, link: str) -> None:
    officer = session.get(User, case.officer_id) if case.officer_id else None
    if officer is None or not officer.is_active:
        return
    outbox.queue_email(
        session,
        to=officer.email,
        template="case_moved",
        locale=officer.locale,
        now=now,
        reference=case.reference,
        when=target.starts_at,
        link=link,
    )


def roll_over_missed(session: Session, meeting: Meeting, *, now: datetime, link_for) -> list[Case]:
    """Cases that asked for ``meeting`` but were still waiting after its deadline go to the next meeting;
    their officers are told. ``link_for(case)`` gives the case's address for the e-mail."""
    if meeting.case_deadline_at > now:
        return []
    later = later_meetings(session, meeting)
    if not later:
        return []
    moved = []
    for case in session.exec(
        select(Case)
        .where(Case.requested_meeting_id == meeting.id)
        .where(Case.status.in_(list(cases.QUEUED)))
        .order_by(Case.id)
    ):
        case.requested_meeting_id = later[0].id
        session.add(case)
        _tell_officer(session, case, later[0], now=now, link=link_for(case))
        moved.append(case)
    session.flush()
    return moved
