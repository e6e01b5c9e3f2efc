"""Who is invited to a meeting, their invitations and cancellations (e-mail + iCalendar), and answers.

Invitees are the consultation's standing members and coordinators (the whole meeting), case presenters
(only their slot on the agenda) and substitutes named by someone who cannot attend. Each person gets
their own message: their own ATTENDEE line, and no one sees who else is invited.

Sequence numbers: an invitee's SEQUENCE is ``meeting.ics_sequence + invitee.slot_revision``. A change of
the meeting raises the first (everyone gets the new version); a change of one presenter's slot, or
removing one person, raises only theirs. ``Invitee.sent_sequence`` remembers the newest version sent,
and the outbox's dedupe key ``invite:<meeting>:<email>:<sequence>`` makes re-sending a version a no-op.

Nothing here is about a case: the texts name the consultation, the time, the place and the video link,
and link to the meeting page behind login.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from samrad import db, i18n, outbox
from samrad.calendar import (
    PARTSTAT_ACCEPTED,
    PARTSTAT_DECLINED,
    PARTSTAT_NEEDS_ACTION,
    CalendarEvent,
    Person,
    build_calendar,
    meeting_uid,
)
from samrad.enums import InviteeKind, MeetingStatus, Role, Rsvp
from samrad.models import (
    AgendaItem,
    Consultation,
    ConsultationRole,
    Invitee,
    Meeting,
    Membership,
    User,
)
from samrad.services import access, directory
from samrad.urls import external_url, link_signature, public_domain

PARTSTAT = {
    Rsvp.NO_ANSWER: PARTSTAT_NEEDS_ACTION,
    Rsvp.ON_SITE: PARTSTAT_ACCEPTED,
    Rsvp.VIA_LINK: PARTSTAT_ACCEPTED,
    Rsvp.CANNOT_ATTEND: PARTSTAT_DECLINED,
}
STANDING_ROLES = (Role.MEMBER, Role.COORDINATOR)


class InvitationRefused(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def _end(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.length_minutes)


def _normalise(email: str) -> str:
    return email.strip().lower()


# --- Who is invited --------------------------------------------------------------------------------


def standing_users(session: Session, consultation: Consultation) -> list[User]:
    """Active users who are standing members or coordinators of the consultation, by name."""
    return list(
        session.exec(
            select(User)
            .where(
                User.id.in_(
                    select(ConsultationRole.user_id)
                    .where(ConsultationRole.consultation_id == consultation.id)
                    .where(ConsultationRole.role.in_(STANDING_ROLES))
                )
            )
            .where(User.is_active)
            .order_by(User.name, User.id)
        )
    )


def invitees(session: Session, meeting: Meeting, *, include_removed: bool = False) -> list[Invitee]:
    stmt = select(Invitee).where(Invitee.meeting_id == meeting.id)
    if not include_removed:
        stmt = stmt.where(Invitee.removed_at.is_(None))
    return list(session.exec(stmt.order_by(Invitee.id)))


def invitee_by_email(session: Session, meeting: Meeting, email: str) -> Invitee | None:
    return session.exec(
        select(Invitee).where(Invitee.meeting_id == meeting.id).where(Invitee.email == _normalise(email))
    ).first()


def invitee_for_user(session: Session, meeting: Meeting, user: User) -> Invitee | None:
    """The user's active invitation to the meeting, if any (matched as :mod:`samrad.services.access` says)."""
    return access.invitation(session, access.identity(user), meeting)


def ensure_standing_invitee(session: Session, meeting: Meeting, user: User) -> Invitee | None:
    """The user's invitation, created for a standing member who has none yet (e.g. answering before the
    invitations were sent). None for someone who is neither invited nor a standing member."""
    db.hold_current(session, meeting)  # who is invited changes one meeting at a time (sync_standing_invitees)
    invitee = invitee_for_user(session, meeting, user)
    if invitee is not None:
        return invitee
    consultation = session.get(Consultation, meeting.consultation_id)
    if user.id not in {u.id for u in standing_users(session, consultation)}:
        return None
    return _upsert(session, meeting, user=user, email=user.email, kind=InviteeKind.STANDING)


def anyone_invited(session: Session, meeting: Meeting) -> bool:
    return (
        session.exec(
            select(Invitee.id).where(Invitee.meeting_id == meeting.id).where(Invitee.sent_sequence >= 0)
        ).first()
        is not None
    )


def _upsert(
    session: Session, meeting: Meeting, *, user: User | None, email: str, kind: InviteeKind
) -> Invitee:
    """Add the person, or bring back a removed row (one row per meeting and e-mail address)."""
    email = _normalise(email)
    invitee = invitee_by_email(session, meeting, email)
    if invitee is None:
        invitee = Invitee(meeting_id=meeting.id, user_id=user.id if user else None, email=email, kind=kind)
        session.add(invitee)
    elif invitee.removed_at is not None:
        invitee.removed_at = None
        invitee.kind = kind
        invitee.agenda_item_id = None
        invitee.rsvp = Rsvp.NO_ANSWER
        invitee.rsvp_at = None
        invitee.substitute_user_id = None
        if invitee.sent_sequence >= 0:
            # They were sent a CANCEL with the current number; the new invitation must be newer.
            invitee.slot_revision += 1
    if user is not None and invitee.user_id is None:
        invitee.user_id = user.id
    session.flush()
    return invitee


def sync_standing_invitees(session: Session, meeting: Meeting, *, now: datetime) -> None:
    """Make the standing invitees the consultation's current standing members and coordinators.

    Someone who lost their role is removed (and told, if they had an invitation). The meeting is held
    (:func:`db.hold_current`) so that a member answering before their invitation is sent is added once.
    """
    db.hold_current(session, meeting)
    consultation = session.get(Consultation, meeting.consultation_id)
    users = standing_users(session, consultation)
    wanted = {u.id for u in users}
    rows = invitees(session, meeting, include_removed=True)
    active_users = {i.user_id for i in rows if i.removed_at is None}
    for user in users:
        if user.id not in active_users:
            _upsert(session, meeting, user=user, email=user.email, kind=InviteeKind.STANDING)
    for invitee in rows:
        if (
            invitee.kind == InviteeKind.STANDING
            and invitee.removed_at is None
            and invitee.user_id not in wanted
        ):
            _remove(session, meeting, invitee, now=now)
    session.flush()


def reset_answers(session: Session, meeting: Meeting) -> None:
    """A new time: earlier answers no longer say anything."""
    for invitee in invitees(session, meeting):
        invitee.rsvp = Rsvp.NO_ANSWER
        invitee.rsvp_at = None
        invitee.substitute_user_id = None
    session.flush()


# --- Slots -----------------------------------------------------------------------------------------


def presenter_slot(meeting: Meeting, item: AgendaItem) -> tuple[datetime, datetime]:
    """Start and end of an agenda item: the meeting start plus the durations of the items before it."""
    before = sum(i.duration_minutes for i in meeting.items if i.position < item.position)
    start = meeting.starts_at + timedelta(minutes=before)
    return start, start + timedelta(minutes=item.duration_minutes)


def _slot(session: Session, meeting: Meeting, invitee: Invitee) -> tuple[datetime, datetime] | None:
    if invitee.kind != InviteeKind.PRESENTER or invitee.agenda_item_id is None:
        return None
    item = session.get(AgendaItem, invitee.agenda_item_id)
    if item is None or item.meeting_id != meeting.id:
        return None
    return presenter_slot(meeting, item)


def sequence_for(meeting: Meeting, invitee: Invitee) -> int:
    return meeting.ics_sequence + invitee.slot_revision


# --- Building and queueing the messages ------------------------------------------------------------


@dataclass(frozen=True)
class Texts:
    summary: str
    location: str
    description: str


def organizer(session: Session, consultation: Consultation) -> Person:
    """The consultation's coordinator (a monitored mailbox, where calendar replies end up), else MAIL_FROM."""
    coordinators = directory.people_with_role(session, consultation, Role.COORDINATOR)
    if coordinators:
        return Person(coordinators[0].email, coordinators[0].name)
    name, address = parseaddr(outbox.sender())
    return Person(address, name)


def meeting_url(consultation: Consultation, meeting: Meeting) -> str:
    return external_url("meetings.show", slug=consultation.slug, public_id=meeting.public_id)


def video_link(consultation: Consultation, meeting: Meeting, invitee: Invitee | None) -> str:
    """The video link an invitee is sent: the room itself, or for a presenter invited for one slot a
    link to samrad that opens the room only around their slot (access.PRESENTER_LINK_LEAD)."""
    if not meeting.video_url:
        return ""
    if invitee is not None and invitee.kind == InviteeKind.PRESENTER:
        return external_url("meetings.video", slug=consultation.slug, public_id=meeting.public_id)
    return meeting.video_url


def _texts(consultation: Consultation, meeting: Meeting, page: str, slot, video: str) -> Texts:
    """Summary, location and description in the current locale. Nothing about any case."""
    return _texts_in(i18n.current_locale(), consultation.name, meeting.place, page, slot is not None, video)


@lru_cache(maxsize=1024)
def _texts_in(locale, name: str, place: str, page: str, for_slot: bool, video: str) -> Texts:
    # Pure in its arguments (the language among them): a calendar feed writes the same texts for every
    # meeting of a series each time it is polled, five translated strings an event.
    summary = gettext("Regional consultation – %(name)s", name=name)
    if video:
        location = gettext("%(place)s or via video link %(url)s", place=place, url=video)
    else:
        location = place
    lines = []
    if for_slot:
        lines.append(gettext("You are invited for your part of the agenda only."))
    if video:
        lines.append(gettext("Video link: %(url)s", url=video))
    lines.append(gettext("Place: %(place)s", place=place))
    lines.append(gettext("Agenda and answers on the meeting page (log in): %(url)s", url=page))
    return Texts(summary, location, "\n".join(lines))


def calendar_event(
    session: Session,
    consultation: Consultation,
    meeting: Meeting,
    *,
    now: datetime,
    invitee: Invitee | None = None,
    user: User | None = None,
    cancelled: bool = False,
    with_people: bool = True,
    stamp: datetime | None = None,
) -> CalendarEvent:
    """The VEVENT of a meeting for one person (their slot for a presenter), texts in the current locale.
    DTSTAMP is ``now`` (an invitation's time of sending) unless ``stamp`` says otherwise (a feed's)."""
    slot = None
    if invitee is not None:
        slot = _slot(session, meeting, invitee)
        if (
            slot is None
            and invitee.kind == InviteeKind.PRESENTER
            and invitee.slot_starts_at
            and invitee.slot_ends_at
        ):
            slot = (invitee.slot_starts_at, invitee.slot_ends_at)
    start, end = slot or (meeting.starts_at, _end(meeting))
    page = meeting_url(consultation, meeting)
    video = video_link(consultation, meeting, invitee)
    texts = _texts(consultation, meeting, page, slot, video)
    attendee = None
    if with_people and invitee is not None:
        attendee = Person(invitee.email, user.name if user else "")
    return CalendarEvent(
        uid=meeting_uid(meeting.public_id, public_domain()),
        sequence=sequence_for(meeting, invitee) if invitee is not None else meeting.ics_sequence,
        start=start,
        end=end,
        stamp=stamp or now,
        summary=texts.summary,
        location=texts.location,
        description=texts.description,
        url=page,
        conference_url=video,
        conference_label=gettext("Video link") if video else "",
        organizer=organizer(session, consultation) if with_people else None,
        attendee=attendee,
        partstat=PARTSTAT[invitee.rsvp] if invitee is not None else PARTSTAT_NEEDS_ACTION,
        cancelled=cancelled or meeting.status == MeetingStatus.CANCELLED,
    )


def rsvp_token(invitee: Invitee, meeting: Meeting) -> str:
    """A link token for one invitee's answers: their row id and an HMAC under SECRET_KEY.

    Stateless, so every e-mail of the same meeting keeps working; it stops working when the meeting ends
    or is cancelled, or the person is removed (checked where it is used). Only URL-safe characters, so the
    access log's redaction of ``/rsvp/<token>`` catches all of it.
    """
    return f"{invitee.id}-{_rsvp_digest(invitee.id, meeting.public_id)}"


def _rsvp_digest(invitee_id: int, public_id: str) -> str:
    return link_signature("rsvp", f"{invitee_id}:{public_id}")[:40]


def invitee_for_rsvp_token(session: Session, token: str) -> Invitee | None:
    """The invitee a token was made for; None for anything forged or malformed."""
    invitee_id, _, digest = token.partition("-")
    if not invitee_id.isdigit() or len(digest) != 40:
        return None
    invitee = session.get(Invitee, int(invitee_id))
    if invitee is None:
        return None
    meeting = session.get(Meeting, invitee.meeting_id)
    if not hmac.compare_digest(digest, _rsvp_digest(invitee.id, meeting.public_id)):
        return None
    return invitee


def _user_of(session: Session, invitee: Invitee) -> User | None:
    return session.get(User, invitee.user_id) if invitee.user_id else None


def _send_request(
    session: Session, consultation: Consultation, meeting: Meeting, invitee: Invitee, *, now: datetime
) -> bool:
    sequence = sequence_for(meeting, invitee)
    key = f"invite:{meeting.public_id}:{invitee.email}:{sequence}"
    if outbox.already_queued(session, key):
        invitee.sent_sequence = max(invitee.sent_sequence, sequence)
        return False
    user = _user_of(session, invitee)
    locale = user.locale if user and user.locale else "sv"
    slot = _slot(session, meeting, invitee)
    with force_locale(i18n.locale_of(locale)):
        event = calendar_event(session, consultation, meeting, now=now, invitee=invitee, user=user)
        ics = build_calendar([event], method="REQUEST")
    links = {
        answer.value: external_url("meetings.rsvp", token=rsvp_token(invitee, meeting), answer=answer.value)
        for answer in (Rsvp.ON_SITE, Rsvp.VIA_LINK, Rsvp.CANNOT_ATTEND)
    }
    if not outbox.queue_email_once(
        session,
        to=invitee.email,
        template="meeting_invitation",
        locale=locale,
        now=now,
        dedupe_key=key,
        ics=ics,
        ics_method="REQUEST",
        consultation=consultation,
        meeting=meeting,
        meeting_end=_end(meeting),
        slot=slot,
        user=user,
        updated=invitee.sent_sequence >= 0,
        is_substitute=invitee.kind == InviteeKind.SUBSTITUTE,
        rsvp_links=links,
        meeting_link=event.url,
        video_link=video_link(consultation, meeting, invitee),
    ):
        return False  # queued by a concurrent run a moment ago
    invitee.sent_sequence = sequence
    if slot is not None:
        invitee.slot_starts_at, invitee.slot_ends_at = slot
    return True


def _send_cancel(
    session: Session,
    consultation: Consultation,
    meeting: Meeting,
    invitee: Invitee,
    *,
    now: datetime,
    removed: bool,
) -> bool:
    sequence = sequence_for(meeting, invitee)
    key = f"cancel:{meeting.public_id}:{invitee.email}:{sequence}"
    if outbox.already_queued(session, key):
        return False
    user = _user_of(session, invitee)
    locale = user.locale if user and user.locale else "sv"
    with force_locale(i18n.locale_of(locale)):
        event = calendar_event(
            session, consultation, meeting, now=now, invitee=invitee, user=user, cancelled=True
        )
        ics = build_calendar([event], method="CANCEL")
    queued = outbox.queue_email_once(
        session,
        to=invitee.email,
        template="meeting_cancelled",
        locale=locale,
        now=now,
        dedupe_key=key,
        ics=ics,
        ics_method="CANCEL",
        consultation=consultation,
        meeting=meeting,
        start=event.start,
        user=user,
        removed=removed,
    )
    if queued is None:
        return False  # queued by a concurrent run a moment ago
    invitee.sent_sequence = sequence
    return True


def _check_open(meeting: Meeting, *, now: datetime) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        raise InvitationRefused(_l("Invitations can only be sent for a planned meeting."))
    if meeting.starts_at <= now:
        raise InvitationRefused(_l("The meeting has already started; no new invitations can be sent."))


def send_invitations(
    session: Session, meeting: Meeting, *, now: datetime, only_already_invited: bool = False
) -> int:
    """Send METHOD:REQUEST to everyone whose newest version they have not been sent. Returns how many.

    Standing invitees are brought up to date with the consultation's members first. With
    ``only_already_invited`` (after a move) only people who had an invitation get the new version.
    """
    _check_open(meeting, now=now)
    consultation = session.get(Consultation, meeting.consultation_id)
    if not only_already_invited:
        sync_standing_invitees(session, meeting, now=now)
    sent = 0
    for invitee in invitees(session, meeting):
        if only_already_invited and invitee.sent_sequence < 0:
            continue
        slot = _slot(session, meeting, invitee)
        if (
            slot is not None
            and invitee.sent_sequence >= sequence_for(meeting, invitee)
            and slot != (invitee.slot_starts_at, invitee.slot_ends_at)
        ):
            invitee.slot_revision += 1  # only this presenter's slot moved: only they get a new version
        if invitee.sent_sequence < sequence_for(meeting, invitee):
            sent += _send_request(session, consultation, meeting, invitee, now=now)
    session.flush()
    return sent


def pending_count(session: Session, meeting: Meeting) -> int:
    """How many people "send invitations" would write to now (standing members not yet listed included)."""
    consultation = session.get(Consultation, meeting.consultation_id)
    rows = invitees(session, meeting)
    listed = {i.user_id for i in rows}
    missing = [u for u in standing_users(session, consultation) if u.id not in listed]
    return len(missing) + sum(1 for i in rows if i.sent_sequence < sequence_for(meeting, i))


def send_cancellations(session: Session, meeting: Meeting, *, now: datetime) -> int:
    """METHOD:CANCEL (same UID, STATUS:CANCELLED) to everyone who had an invitation."""
    consultation = session.get(Consultation, meeting.consultation_id)
    sent = 0
    for invitee in invitees(session, meeting):
        if invitee.sent_sequence >= 0:
            sent += _send_cancel(session, consultation, meeting, invitee, now=now, removed=False)
    session.flush()
    return sent


def _remove(session: Session, meeting: Meeting, invitee: Invitee, *, now: datetime) -> None:
    invitee.removed_at = now
    if invitee.sent_sequence >= 0 and meeting.status == MeetingStatus.PLANNED and meeting.starts_at > now:
        invitee.slot_revision += 1
        consultation = session.get(Consultation, meeting.consultation_id)
        _send_cancel(session, consultation, meeting, invitee, now=now, removed=True)
    session.flush()


# --- Presenters (called by the agenda) -------------------------------------------------------------


def invite_presenter(
    session: Session, meeting: Meeting, agenda_item: AgendaItem, email: str, *, now: datetime
) -> Invitee:
    """Invite someone to present one agenda item: their invitation covers only that item's slot.

    A standing invitee already has the whole meeting and is returned unchanged. Calling this again after
    the agenda changed sends the presenter a new version only if their slot moved.
    """
    _check_open(meeting, now=now)
    if agenda_item.meeting_id != meeting.id:
        raise InvitationRefused(_l("That agenda item belongs to another meeting."))
    email = _normalise(email)
    existing = invitee_by_email(session, meeting, email)
    if existing is not None and existing.removed_at is None and existing.kind != InviteeKind.PRESENTER:
        return existing
    user = session.exec(select(User).where(User.email == email)).first()
    invitee = _upsert(session, meeting, user=user, email=email, kind=InviteeKind.PRESENTER)
    invitee.agenda_item_id = agenda_item.id
    session.flush()
    consultation = session.get(Consultation, meeting.consultation_id)
    slot = presenter_slot(meeting, agenda_item)
    if invitee.sent_sequence >= sequence_for(meeting, invitee) and slot != (
        invitee.slot_starts_at,
        invitee.slot_ends_at,
    ):
        invitee.slot_revision += 1
    if invitee.sent_sequence < sequence_for(meeting, invitee):
        _send_request(session, consultation, meeting, invitee, now=now)
    session.flush()
    return invitee


def remove_presenter(session: Session, meeting: Meeting, invitee: Invitee, *, now: datetime) -> None:
    """Take a presenter off the meeting; if they had an invitation they get METHOD:CANCEL (same UID)."""
    if invitee.meeting_id != meeting.id or invitee.kind != InviteeKind.PRESENTER:
        raise InvitationRefused(_l("Only a presenter can be removed this way."))
    if invitee.removed_at is None:
        _remove(session, meeting, invitee, now=now)


# --- Answers ---------------------------------------------------------------------------------------


def substitute_choices(session: Session, invitee: Invitee) -> list[User]:
    """Active colleagues of the invitee (sharing an organisation) who could come instead."""
    user = session.get(User, invitee.user_id) if invitee.user_id else None
    if user is None or not user.memberships:
        return []
    org_ids = [m.organisation_id for m in user.memberships]
    return list(
        session.exec(
            select(User)
            .where(User.id.in_(select(Membership.user_id).where(Membership.organisation_id.in_(org_ids))))
            .where(User.id != user.id)
            .where(User.is_active)
            .order_by(User.name, User.id)
        )
    )


def set_rsvp(
    session: Session,
    meeting: Meeting,
    invitee: Invitee,
    answer: Rsvp,
    *,
    now: datetime,
    substitute: User | None = None,
) -> None:
    """Record an answer. Someone who cannot attend may name a colleague from their organisation, who is
    then invited in their place (and told, if the invitations have gone out).

    The meeting and the invitation are read again and held first: an answer given while the coordinator
    cancels or moves the meeting, or removes the person, is checked against that change instead of being
    written over it (at PostgreSQL's READ COMMITTED both read the rows before either writes)."""
    db.hold_current(session, meeting)
    db.hold_current(session, invitee)
    if invitee.meeting_id != meeting.id or invitee.removed_at is not None:
        raise InvitationRefused(_l("You are no longer invited to this meeting."))
    if meeting.status != MeetingStatus.PLANNED:
        raise InvitationRefused(_l("The meeting is cancelled or already held; answers are closed."))
    if _end(meeting) <= now:
        raise InvitationRefused(_l("The meeting is over; answers are closed."))
    if answer == Rsvp.NO_ANSWER:
        raise InvitationRefused(_l("Choose an answer."), field="answer")
    if substitute is not None:
        if answer != Rsvp.CANNOT_ATTEND:
            raise InvitationRefused(
                _l("A substitute is only for when you cannot attend."), field="substitute"
            )
        if substitute.id not in {u.id for u in substitute_choices(session, invitee)}:
            raise InvitationRefused(_l("Choose a colleague from your own organisation."), field="substitute")
    previous = invitee.substitute_user_id
    invitee.rsvp = answer
    invitee.rsvp_at = now
    invitee.substitute_user_id = substitute.id if substitute else None
    session.flush()
    if previous is not None and previous != invitee.substitute_user_id:
        _release_substitute(session, meeting, previous, now=now)
    if substitute is not None and previous != substitute.id:
        sub = invitee_for_user(session, meeting, substitute)
        if sub is None:
            sub = _upsert(
                session, meeting, user=substitute, email=substitute.email, kind=InviteeKind.SUBSTITUTE
            )
        if (
            invitee.sent_sequence >= 0
            and meeting.starts_at > now
            and sub.sent_sequence < sequence_for(meeting, sub)
        ):
            consultation = session.get(Consultation, meeting.consultation_id)
            _send_request(session, consultation, meeting, sub, now=now)
    session.flush()


def _release_substitute(session: Session, meeting: Meeting, user_id: int, *, now: datetime) -> None:
    """Un-invite a substitute nobody needs any more (unless they are invited in their own right)."""
    rows = invitees(session, meeting)
    if any(i.substitute_user_id == user_id for i in rows):
        return
    for invitee in rows:
        if invitee.user_id == user_id and invitee.kind == InviteeKind.SUBSTITUTE:
            _remove(session, meeting, invitee, now=now)


@dataclass(frozen=True)
class OverviewRow:
    invitee: Invitee
    name: str
    organisation: str
    substitute: str


def overview(session: Session, meeting: Meeting) -> tuple[list[OverviewRow], dict[Rsvp, int]]:
    """Who comes how: one row per active invitee (by organisation, name) and the count per answer."""
    rows = []
    for invitee in invitees(session, meeting):
        user = _user_of(session, invitee)
        substitute = session.get(User, invitee.substitute_user_id) if invitee.substitute_user_id else None
        rows.append(
            OverviewRow(
                invitee=invitee,
                name=user.name if user else invitee.email,
                organisation=", ".join(o.name for o in user.organisations) if user else "",
                substitute=substitute.name if substitute else "",
            )
        )
    rows.sort(key=lambda r: (r.organisation, r.name))
    counts = {answer: sum(1 for r in rows if r.invitee.rsvp == answer) for answer in Rsvp}
    return rows, counts
