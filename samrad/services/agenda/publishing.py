"""Publishing a version: cases marked, presenters invited or cancelled, the invited told (a link only)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from samrad import outbox
from samrad.enums import (
    CaseStatus,
    InviteeKind,
    MeetingStatus,
)
from samrad.models import AgendaItem, AgendaVersion, Case, Meeting, User
from samrad.services import cases, invitations
from samrad.services.agenda.building import _check, advance_revision
from samrad.services.agenda.errors import AgendaRefused, ConfirmationNeeded
from samrad.services.agenda.reading import diff, item_cases, published_snapshot, snapshot
from samrad.services.agenda.timing import agenda_fit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishPlan:
    """Who publishing the agenda now tells what, shown before the coordinator publishes (names of people
    in the consultation, addresses of presenters without an account; never anything about a case)."""

    #: Invited to the whole meeting: an e-mail that a new version is published, with a link.
    told: tuple[str, ...]
    #: Presenters who get a calendar invitation for their part (new, or their part's time changed).
    presenters_invited: tuple[str, ...]
    #: Presenters whose invitation is cancelled (their case left the agenda, or someone else presents).
    presenters_cancelled: tuple[str, ...]

    @property
    def people(self) -> int:
        return len(self.told) + len(self.presenters_invited) + len(self.presenters_cancelled)


def publish_plan(session: Session, meeting: Meeting) -> PublishPlan:
    """What :func:`publish` would send if the agenda were published now, in a fixed number of statements
    (the invitees, their accounts; the agenda's cases are expected in the identity map)."""
    invitees = invitations.invitees(session, meeting)
    user_ids = {i.user_id for i in invitees if i.user_id is not None}
    # Names and whether active: two columns, not the accounts with their organisations.
    users = (
        {
            uid: (n, active)
            for uid, n, active in session.exec(
                select(User.id, User.name, User.is_active).where(User.id.in_(user_ids))
            )
        }
        if user_ids
        else {}
    )

    def name(invitee) -> str:
        return users[invitee.user_id][0] if invitee.user_id in users else invitee.email

    told = sorted(
        name(i)
        for i in invitees
        if i.kind != InviteeKind.PRESENTER and (i.user_id is None or users.get(i.user_id, ("", False))[1])
    )
    wanted = _presenters_wanted(session, meeting)
    by_email = {i.email: i for i in invitees}
    invited, cancelled = [], []
    for email, item in wanted.items():
        current = by_email.get(email)
        if current is not None and current.kind != InviteeKind.PRESENTER:
            continue  # invited to the whole meeting already
        slot = invitations.presenter_slot(meeting, item)
        if (
            current is None
            or current.sent_sequence < 0
            or slot != (current.slot_starts_at, current.slot_ends_at)
        ):
            invited.append(email if current is None else name(current))
    for invitee in invitees:
        if invitee.kind == InviteeKind.PRESENTER:
            if _presenter_leaves(invitee, wanted):
                cancelled.append(name(invitee))
    return PublishPlan(tuple(told), tuple(sorted(invited)), tuple(sorted(cancelled)))


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
    # Before anything is written: a publish racing another change of the agenda waits here and is refused.
    advance_revision(session, meeting)
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


def _presenters_wanted(session: Session, meeting: Meeting) -> dict[str, AgendaItem]:
    """Who presents which item on the agenda as it stands: a colleague's address, by the case's item."""
    wanted: dict[str, AgendaItem] = {}
    for item_id, case in item_cases(session, meeting).items():
        if case.presenter_email:
            wanted[case.presenter_email.strip().lower()] = next(i for i in meeting.items if i.id == item_id)
    return wanted


def _presenter_leaves(invitee, wanted: dict[str, AgendaItem]) -> bool:
    """A presenter whose case left the agenda, or whose case someone else now presents."""
    slot = wanted.get(invitee.email)
    return slot is None or invitee.agenda_item_id not in (None, slot.id)


def _sync_presenters(session: Session, meeting: Meeting, *, now: datetime) -> None:
    wanted = _presenters_wanted(session, meeting)
    for invitee in invitations.invitees(session, meeting):
        if invitee.kind == InviteeKind.PRESENTER and _presenter_leaves(invitee, wanted):
            invitations.remove_presenter(session, meeting, invitee, now=now)
    for email, item in wanted.items():
        invitations.invite_presenter(session, meeting, item, email, now=now)
