"""Personal calendar feeds: a secret address per person with their meetings as iCalendar (no METHOD).

Only a SHA-256 digest of the token is stored; making a new address ends the old one. The feed carries the
same case-free texts as the invitations, and no attendee list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from flask_babel import gettext
from sqlalchemy import bindparam, delete, union_all, update
from sqlalchemy.orm import lazyload
from sqlmodel import Session, select

from samrad.calendar import CalendarEvent, build_calendar
from samrad.enums import InviteeKind
from samrad.models import CalendarFeed, Consultation, Invitee, Meeting, User
from samrad.services import access, accounts, invitations
from samrad.tokens import new_token, token_hash

#: How far back the feed reaches; older meetings stay in calendars that already imported them.
HISTORY = timedelta(days=90)
#: How far ahead: a feed stays small however far a series has been planned.
AHEAD = timedelta(days=400)
REFRESH = timedelta(hours=1)


def feed_of(session: Session, user: User) -> CalendarFeed | None:
    return session.exec(select(CalendarFeed).where(CalendarFeed.user_id == user.id)).first()


def create_feed(session: Session, user: User, *, now: datetime) -> str:
    """Make a new secret address (ending any earlier one) and return its token, shown once."""
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    token = new_token()
    session.add(CalendarFeed(user_id=user.id, token_hash=token_hash(token), created_at=now))
    session.flush()
    return token


def revoke_feed(session: Session, user: User) -> bool:
    return session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id)).rowcount > 0


#: How often a feed's last use is written (calendar programs poll every few minutes).
USE_INTERVAL = timedelta(minutes=10)


#: Every poll asks this (built once, the token bound when it runs, like ``accounts.live_session``).
_FEED_OWNER = (
    select(CalendarFeed, User)
    .join(User, User.id == CalendarFeed.user_id)
    .where(CalendarFeed.token_hash == bindparam("token_hash"))
    .options(*accounts.WHO_IS_ASKING)
)


def user_for_token(session: Session, token: str, *, now: datetime) -> tuple[User, bool] | None:
    """The feed's owner, and whether its last use is due to be recorded (:func:`record_use`)."""
    found = session.exec(_FEED_OWNER, params={"token_hash": token_hash(token)}).unique().first()
    if found is None:
        return None
    feed, user = found
    if not user.is_active:
        return None
    return user, feed.last_used_at is None or now - feed.last_used_at >= USE_INTERVAL


def record_use(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token)).values(last_used_at=now)
    )


def _own_invitations():
    def half(invited):
        return (
            select(Invitee)
            .join(Meeting, Meeting.id == Invitee.meeting_id)
            .where(invited, Invitee.removed_at.is_(None))
            .where(Meeting.starts_at >= bindparam("since"), Meeting.starts_at <= bindparam("until"))
        )

    # The two halves never meet (one has an account, the other none), so UNION ALL.
    both = union_all(half(access.INVITED_BY_ACCOUNT), half(access.INVITED_BY_ADDRESS))
    return select(Invitee).from_statement(both)


#: The person's invitations in the feed's window (built once; access.invited_values and the window bound).
_OWN_INVITATIONS = _own_invitations()
#: Meetings, each with its consultation in the same statement. A standing seat sees whole meetings: their
#: agendas are not read (a presenter's slot is worked out only for meetings where the person has no seat).
_WITH_CONSULTATION = (
    select(Meeting, Consultation)
    .join(Consultation, Consultation.id == Meeting.consultation_id)
    .options(lazyload(Meeting.items))
)
_STANDING_MEETINGS = _WITH_CONSULTATION.where(
    Meeting.consultation_id.in_(bindparam("standing", expanding=True)),
    Meeting.starts_at >= bindparam("since"),
    Meeting.starts_at <= bindparam("until"),
)
_MEETINGS_BY_ID = _WITH_CONSULTATION.where(Meeting.id.in_(bindparam("ids", expanding=True)))


def feed_events(session: Session, user: User, *, now: datetime) -> list[CalendarEvent]:
    """The person's meetings from 90 days back to 400 days ahead: every meeting of the consultations where
    they hold a standing seat or coordinate, and the meetings they are invited to otherwise (a presenter's
    slot).
    Cancelled meetings stay in the feed marked cancelled, so subscribed calendars show the change."""
    # Read with the person (accounts.WHO_IS_ASKING).
    standing = {
        held.consultation_id for held in user.consultation_roles if held.role in invitations.STANDING_ROLES
    }
    window = {"since": now - HISTORY, "until": now + AHEAD}
    meetings = (
        list(session.exec(_STANDING_MEETINGS, params={"standing": sorted(standing), **window}))
        if standing
        else []
    )
    own = {
        i.meeting_id: i
        for i in session.scalars(
            _OWN_INVITATIONS,
            {**access.invited_values(access.identity(user)), **window},
        )
    }
    elsewhere = own.keys() - {m.id for m, _ in meetings}
    if elsewhere:
        meetings.extend(session.exec(_MEETINGS_BY_ID, params={"ids": sorted(elsewhere)}))
    events = []
    for meeting, consultation in sorted(meetings, key=lambda pair: (pair[0].starts_at, pair[0].id)):
        invitee = own.get(meeting.id)
        # A standing member sees the whole meeting even if also listed for a slot.
        if (
            invitee is not None
            and invitee.kind == InviteeKind.PRESENTER
            and meeting.consultation_id in standing
        ):
            invitee = None
        events.append(
            invitations.calendar_event(
                session,
                consultation,
                meeting,
                now=now,
                invitee=invitee,
                user=user,
                with_people=False,
                # A feed has no METHOD, so DTSTAMP is when the event was last revised in the store, not
                # when it was fetched (RFC 5545, 3.8.7.2). The meeting's creation stands for that; SEQUENCE
                # carries every change invitees must see. An unchanged feed is then the same text, its
                # ETag the same, and a calendar program polling it gets 304.
                stamp=meeting.created_at,
            )
        )
    return events


def feed_calendar(session: Session, user: User, *, now: datetime) -> str:
    return _feed_text(
        tuple(feed_events(session, user, now=now)), gettext("Regional consultation – my meetings")
    )


@lru_cache(maxsize=64)
def _feed_text(events: tuple[CalendarEvent, ...], name: str) -> str:
    # Calendar programs poll every hour or so and most polls find nothing new: the same events make the
    # same text, and writing it was three quarters of a feed request.
    return build_calendar(events, method=None, name=name, refresh_interval=REFRESH)
