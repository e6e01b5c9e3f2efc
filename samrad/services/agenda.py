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

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from samrad import outbox
from samrad.clock import STOCKHOLM, stockholm_date
from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    Attendance,
    CaseStatus,
    InviteeKind,
    MeetingStatus,
    OrganisationType,
    Rsvp,
)
from samrad.models import AgendaItem, AgendaVersion, Case, Consultation, Invitee, Meeting, Organisation, User
from samrad.services import access, cases, invitations
from samrad.services.access import Actor

log = logging.getLogger(__name__)

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


# --- Errors ----------------------------------------------------------------------------------------


class AgendaRefused(Exception):
    """A change the rules do not allow; ``field`` names the form field the message belongs to."""

    status = 409

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class AgendaChanged(AgendaRefused):
    """The agenda changed since the page was built (another coordinator, another tab)."""

    def __init__(self):
        super().__init__(
            _l(
                "Someone else changed this agenda while you were working on it. Nothing of yours was saved. "
                "The agenda below is the current one; make your change again if it is still needed."
            )
        )


class ConfirmationNeeded(AgendaRefused):
    """Publishing an empty or overflowing agenda needs an explicit confirmation."""

    status = 200

    def __init__(self, empty: bool, overflow: int):
        super().__init__(_l("Please confirm."))
        self.empty = empty
        self.overflow = overflow


class AdviceRefused(AgendaRefused):
    """The advice still contains something that identifies a person, or its warnings are unconfirmed."""

    status = 400

    def __init__(self, guard: cases.GuardResult, *, blocking: bool):
        super().__init__(
            _l("Remove what could identify a person before saving.")
            if blocking
            else _l("Check the highlighted words and confirm that they do not identify anyone."),
            field="advice",
        )
        self.guard = guard
        self.blocking = blocking


# --- Timing (pure) ---------------------------------------------------------------------------------


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


# --- Reading ---------------------------------------------------------------------------------------


def item_label(session: Session, item: AgendaItem) -> str:
    """What an item is called on the agenda: the case reference (never case text) or the item's title."""
    if item.kind == AgendaItemKind.CASE and item.case_id is not None:
        case = session.get(Case, item.case_id)
        return _("Case %(reference)s", reference=case.reference) if case else _("Case")
    return item.title or item.kind.label


def accepted_not_on_agenda(session: Session, meeting: Meeting) -> list[Case]:
    on_agenda = {i.case_id for i in meeting.items if i.case_id is not None}
    accepted = session.exec(
        select(Case)
        .where(Case.meeting_id == meeting.id)
        .where(Case.status.in_([CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA]))
        .order_by(Case.submitted_at, Case.id)
    )
    return [c for c in accepted if c.id not in on_agenda]


def later_meetings(session: Session, meeting: Meeting) -> list[Meeting]:
    """Planned meetings of the same consultation after this one, soonest first."""
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.consultation_id == meeting.consultation_id)
            .where(Meeting.status == MeetingStatus.PLANNED)
            .where(Meeting.starts_at > meeting.starts_at)
            .order_by(Meeting.starts_at)
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
    for timed in item_times(meeting.starts_at, meeting.items):
        item = timed.item
        case = session.get(Case, item.case_id) if item.case_id else None
        rows.append(
            {
                "item_id": item.id,
                "kind": item.kind.value,
                "case_id": item.case_id,
                "reference": case.reference if case else None,
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
        at = (meeting.starts_at + timedelta(minutes=c["offset"])).astimezone(STOCKHOLM).strftime("%H.%M")
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


# --- Building the agenda ---------------------------------------------------------------------------


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
    meeting.agenda_revision += 1
    session.add(meeting)
    session.flush()
    session.refresh(meeting)


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
    if case.meeting_id != meeting.id or case.status not in (CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA):
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
    session.add(item)
    session.flush()
    session.refresh(meeting)
    _changed(session, meeting)
    log.info("case %s (%s) put on the draft agenda of meeting %s", case.id, case.reference, meeting.id)
    return item


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
    session.add(item)
    session.flush()
    session.refresh(meeting)
    _changed(session, meeting)
    return item


def reorder(
    session: Session, meeting: Meeting, item_ids: Sequence[int], *, revision: int, now: datetime
) -> None:
    """Put the items in the given order (the drag-and-drop result); it must name every item once."""
    _check(meeting, revision=revision, now=now)
    items = {i.id: i for i in meeting.items}
    if sorted(item_ids) != sorted(items):
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
    if case.status in (CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA):
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


# --- Publishing ------------------------------------------------------------------------------------


def publish(
    session: Session,
    meeting: Meeting,
    *,
    actor: User,
    revision: int,
    confirmed: bool,
    now: datetime,
    link: str,
) -> AgendaVersion:
    """Publish the agenda as the next version and tell only the people a change concerns."""
    _check(meeting, revision=revision, now=now)
    fit = agenda_fit(session, meeting)
    if (not meeting.items or not fit.fits) and not confirmed:
        raise ConfirmationNeeded(empty=not meeting.items, overflow=fit.overflow)
    before = published_snapshot(session, meeting)
    after = snapshot(session, meeting)
    changes = diff(before, after)
    if meeting.published_version and not changes:
        raise AgendaRefused(_l("Nothing has changed since the published version."))
    number = meeting.published_version + 1
    version = AgendaVersion(
        meeting_id=meeting.id,
        version=number,
        published_at=now,
        published_by_id=actor.id,
        snapshot=json.dumps(after, ensure_ascii=False),
        changes=json.dumps(changes, ensure_ascii=False),
    )
    session.add(version)
    meeting.published_version = number
    meeting.agenda_revision += 1
    session.add(meeting)
    session.flush()

    current_cases = {row["case_id"] for row in after if row["case_id"]}
    for row in before:
        case = session.get(Case, row["case_id"]) if row["case_id"] else None
        if case is not None and row["case_id"] not in current_cases:
            if case.status in (CaseStatus.ON_AGENDA, CaseStatus.ACCEPTED) and case.meeting_id == meeting.id:
                target = (
                    session.get(Meeting, case.requested_meeting_id) if case.requested_meeting_id else None
                )
                cases.release_case(session, case, now=now)
                if target is not None and target.id != meeting.id and target.starts_at > meeting.starts_at:
                    if target.status == MeetingStatus.PLANNED:
                        cases.accept_case(session, case, target, actor=actor, now=now)
    for item in meeting.items:
        if item.case_id is None:
            continue
        case = session.get(Case, item.case_id)
        if case.status == CaseStatus.ACCEPTED and case.meeting_id == meeting.id:
            cases.mark_on_agenda(session, case, meeting, now=now)

    _sync_presenters(session, meeting, now=now)
    for invitee in invitations.invitees(session, meeting):
        if invitee.kind == InviteeKind.PRESENTER:
            continue
        user = session.get(User, invitee.user_id) if invitee.user_id else None
        if user is not None and not user.is_active:
            continue
        outbox.queue_email_once(
            session,
            to=invitee.email,
            template="agenda_published",
            locale=user.locale if user else None,
            now=now,
            dedupe_key=f"agenda:{meeting.public_id}:{invitee.email}:{number}",
            when=meeting.starts_at,
            version=number,
            link=link,
        )
    session.flush()
    log.info("agenda of meeting %s published as version %s (%d changes)", meeting.id, number, len(changes))
    return version


def _sync_presenters(session: Session, meeting: Meeting, *, now: datetime) -> None:
    wanted: dict[str, AgendaItem] = {}
    for item in meeting.items:
        if item.case_id is None:
            continue
        case = session.get(Case, item.case_id)
        if case.presenter_email:
            wanted[case.presenter_email.strip().lower()] = item
    for invitee in invitations.invitees(session, meeting):
        if invitee.kind != InviteeKind.PRESENTER:
            continue
        item = wanted.get(invitee.email)
        if item is None or invitee.agenda_item_id not in (None, item.id):
            invitations.remove_presenter(session, meeting, invitee, now=now)
    for email, item in wanted.items():
        invitations.invite_presenter(session, meeting, item, email, now=now)


# --- Who may see the published agenda, and the confidentiality confirmation ------------------------


def _confirmation_exempt(actor: Actor, case: Case) -> bool:
    """Coordinators and the case's own agency have the case anyway: they confirm nothing to see it."""
    return actor.coordinates(case.consultation_id) or access.may_own(actor, case)


def needs_confidentiality(session: Session, actor: Actor, meeting: Meeting, case: Case) -> bool:
    """Whether the person must confirm the rules before seeing ``case`` through ``meeting``: invitees do,
    once per meeting; coordinators and the case's own organisation do not."""
    if _confirmation_exempt(actor, case):
        return False
    invitee = access.invitation(session, actor, meeting)
    return invitee is not None and invitee.confidentiality_confirmed_at is None


def confidentiality_gate(session: Session, actor: Actor, case: Case) -> Meeting | None:
    """The meeting whose rules the person must confirm before seeing ``case`` (None: nothing to confirm)."""
    if _confirmation_exempt(actor, case):
        return None
    meeting_ids = session.exec(select(AgendaItem.meeting_id).where(AgendaItem.case_id == case.id)).all()
    confirmed_any = False
    pending = None
    for meeting_id in meeting_ids:
        meeting = session.get(Meeting, meeting_id)
        invitee = access.invitation(session, actor, meeting)
        if invitee is None or meeting.published_version == 0:
            continue
        if invitee.confidentiality_confirmed_at is not None:
            confirmed_any = True
        elif pending is None or meeting.starts_at > pending.starts_at:
            pending = meeting
    return None if confirmed_any else pending


def confirm_confidentiality(
    session: Session, meeting: Meeting, user: User, *, now: datetime
) -> Invitee | None:
    invitee = invitations.invitee_for_user(session, meeting, user)
    if invitee is not None and invitee.confidentiality_confirmed_at is None:
        invitee.confidentiality_confirmed_at = now
        session.add(invitee)
        session.flush()
    return invitee


# --- Agencies per case -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Agencies:
    own_organisation: bool
    social_services: bool | None  # None: not needed (the case is not about a child)

    @property
    def ok(self) -> bool:
        return self.own_organisation and self.social_services is not False


def _present(invitee: Invitee, meeting: Meeting) -> bool:
    if invitee.attendance is not None:
        return invitee.attendance in PRESENT
    return invitee.rsvp in COMING


def agencies_present(session: Session, meeting: Meeting, case: Case) -> Agencies:
    """Whether the agencies a case needs take part. "Needs": the case's own organisation is represented by
    someone who attends (or answered on site / via link before attendance is recorded; a presenter counts),
    and for a child (0–12, 13–17) at least one person from social services."""
    organisations: set[int] = set()
    types: set[OrganisationType] = set()
    for invitee in invitations.invitees(session, meeting):
        if not _present(invitee, meeting):
            continue
        user = session.get(User, invitee.user_id) if invitee.user_id else None
        if user is None:
            continue
        for organisation in user.organisations:
            organisations.add(organisation.id)
            types.add(organisation.type)
    own = case.organisation_id in organisations
    if not own:
        presenter = case.presenter_email.strip().lower()
        own = (
            any(
                i.kind == InviteeKind.PRESENTER and i.email == presenter and _present(i, meeting)
                for i in invitations.invitees(session, meeting)
            )
            if presenter
            else False
        )
    social = None
    if case.age_band in CHILD_BANDS:
        own_type = session.get(Organisation, case.organisation_id).type
        social = OrganisationType.SOCIAL_SERVICES in types or (
            own and own_type == OrganisationType.SOCIAL_SERVICES
        )
    return Agencies(own_organisation=own, social_services=social)


def agency_rows(session: Session, meeting: Meeting) -> list[tuple[str, Agencies]]:
    """(label, agencies) for every case on the agenda, in agenda order (the coordinator's overview)."""
    return [
        (item_label(session, item), agencies_present(session, meeting, session.get(Case, item.case_id)))
        for item in meeting.items
        if item.case_id is not None
    ]


# --- The meeting day -------------------------------------------------------------------------------


def _check_day(meeting: Meeting, *, now: datetime) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        raise AgendaRefused(_l("The meeting is closed or cancelled."))
    if stockholm_date(now) < stockholm_date(meeting.starts_at):
        raise AgendaRefused(_l("Attendance and advice are recorded on the day of the meeting."))


def record_attendance(
    session: Session, meeting: Meeting, invitee: Invitee, attendance: Attendance, *, now: datetime
) -> Invitee:
    _check_day(meeting, now=now)
    if invitee.meeting_id != meeting.id or invitee.removed_at is not None:
        raise AgendaRefused(_l("That person is not invited to this meeting."))
    invitee.attendance = attendance
    session.add(invitee)
    session.flush()
    return invitee


def record_advice(
    session: Session,
    meeting: Meeting,
    item_id: int,
    *,
    advice: str,
    follow_up: bool,
    discussed: bool,
    confirmed_digest: str = "",
    now: datetime,
) -> AgendaItem:
    """Save the advice to the case owner (a recommendation, never a decision) and, with ``discussed``,
    mark the case discussed (or wanted back for a follow-up). The text passes the de-identification
    guard: blocking findings refuse; warnings need the confirmation of exactly those warnings."""
    _check_day(meeting, now=now)
    item = _item_of(meeting, item_id)
    if item.case_id is None:
        raise AgendaRefused(_l("Advice is recorded for cases only."))
    advice = (advice or "").strip()
    if len(advice) > ADVICE_MAX:
        raise AgendaRefused(_l("Use at most %(n)s characters.", n=ADVICE_MAX), field="advice")
    guard = cases.check_texts({"advice": advice})
    if guard.blocking:
        raise AdviceRefused(guard, blocking=True)
    if guard.warning_count and confirmed_digest != guard.digest:
        raise AdviceRefused(guard, blocking=False)
    item.advice = advice
    item.follow_up_wanted = follow_up
    session.add(item)
    session.flush()
    case = session.get(Case, item.case_id)
    if discussed and case.status == CaseStatus.ON_AGENDA and case.meeting_id == meeting.id:
        cases.mark_discussed(session, case, follow_up=follow_up, now=now)
    elif item.discussed_at is not None and case.status in (CaseStatus.DISCUSSED, CaseStatus.FOLLOW_UP):
        # Corrected afterwards: keep the case's status in step with the follow-up wish.
        if case.meeting_id == meeting.id:
            case.status = CaseStatus.FOLLOW_UP if follow_up else CaseStatus.DISCUSSED
            session.add(case)
    session.flush()
    return item


def close_meeting(session: Session, meeting: Meeting, *, now: datetime) -> Meeting:
    """Close a held meeting. Cases on its agenda that were not discussed go back to the queue. (The caller
    then opens the meeting's evaluation, in the same transaction.)"""
    if meeting.status != MeetingStatus.PLANNED:
        raise AgendaRefused(_l("The meeting is closed or cancelled."))
    if meeting.starts_at > now:
        raise AgendaRefused(_l("A meeting can be closed once it has started."))
    for item in meeting.items:
        case = session.get(Case, item.case_id) if item.case_id else None
        if (
            case is not None
            and case.meeting_id == meeting.id
            and case.status
            in (
                CaseStatus.ACCEPTED,
                CaseStatus.ON_AGENDA,
            )
        ):
            cases.release_case(session, case, now=now)
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = now
    meeting.agenda_revision += 1
    meeting.revision += 1
    session.add(meeting)
    session.flush()
    log.info("meeting %s closed", meeting.id)
    return meeting


def release_meeting_cases(session: Session, meeting: Meeting, *, now: datetime) -> list[Case]:
    """A cancelled meeting's accepted and scheduled cases go back to the queue."""
    released = []
    for case in session.exec(
        select(Case)
        .where(Case.meeting_id == meeting.id)
        .where(Case.status.in_([CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA]))
        .order_by(Case.id)
    ):
        cases.release_case(session, case, now=now)
        released.append(case)
    return released


def consultation_of(session: Session, meeting: Meeting) -> Consultation:
    return session.get(Consultation, meeting.consultation_id)
