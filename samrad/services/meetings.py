"""Meetings of a consultation: the series, break periods, and moving, cancelling or adding one meeting.

Every function takes the session first and the time explicitly, flushes and never commits. Changes that
invitees must see raise the meeting's ``ics_sequence`` and queue the calendar messages in the same
transaction (through :mod:`samrad.services.invitations`).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import lazyload
from sqlmodel import Session, select

from samrad import db
from samrad.clock import STOCKHOLM, stockholm_date
from samrad.enums import MeetingStatus, VideoProvider
from samrad.models import BreakPeriod, Consultation, Meeting
from samrad.series import (
    WEEKDAY_INDEX,
    BreakDays,
    Slot,
    exists_in_stockholm,
    local_datetime,
    series_slots,
    week_start,
)
from samrad.services import invitations


class MeetingRefused(Exception):
    """A change the rules do not allow. ``field`` names the form field the message belongs to, if any."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class MeetingChanged(MeetingRefused):
    """Someone else changed the meeting since the form was shown (revision check)."""

    def __init__(self):
        super().__init__(
            _l(
                "Someone else changed this meeting while you were working on it. The page now shows their "
                "change; make yours again if it is still needed."
            )
        )


# --- Reading ---------------------------------------------------------------------------------------


def meeting_end(meeting: Meeting) -> datetime:
    return meeting.starts_at + timedelta(minutes=meeting.length_minutes)


def has_started(meeting: Meeting, now: datetime) -> bool:
    return meeting.starts_at <= now


def meeting_by_public_id(session: Session, consultation: Consultation, public_id: str) -> Meeting | None:
    # One meeting's agenda items are read when first asked for (one statement, as eager loading would
    # take): a meeting's page, its published agenda and its answers do not ask.
    return session.exec(
        select(Meeting)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.public_id == public_id)
        .options(lazyload(Meeting.items))
    ).first()


#: No meeting lasts longer than this (a meeting is 30 to 480 minutes long): a bound for the database
#: before each meeting's own end is compared.
LONGEST_MEETING = timedelta(days=1)


def upcoming_meetings(
    session: Session,
    consultation: Consultation,
    *,
    now: datetime,
    planned_only: bool = False,
    limit: int | None = None,
    agendas: bool = True,
) -> list[Meeting]:
    """Meetings that have not ended yet, soonest first (cancelled ones included, so people see the
    cancellation, unless ``planned_only``); the ``limit`` soonest; without ``agendas`` their items are not
    read (for a page that shows the meetings by their dates)."""
    stmt = (
        select(Meeting)
        .where(Meeting.consultation_id == consultation.id)
        .where(
            Meeting.status == MeetingStatus.PLANNED
            if planned_only
            else Meeting.status != MeetingStatus.CLOSED
        )
        .where(Meeting.starts_at > now - LONGEST_MEETING)
        .order_by(Meeting.starts_at)
    )
    if not agendas:
        stmt = stmt.options(lazyload(Meeting.items))
    if limit is not None:
        # Meetings that started within the longest meeting's length may have ended: room for them.
        stmt = stmt.limit(limit + 2)
    meetings = [m for m in session.exec(stmt).all() if meeting_end(m) > now]
    return meetings[:limit] if limit is not None else meetings


def past_meetings(
    session: Session, consultation: Consultation, *, now: datetime, limit: int | None = None
) -> list[Meeting]:
    """Meetings that are over or closed, newest first (the ``limit`` newest), by their dates (their agendas
    are not read)."""
    started = (
        select(Meeting)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.starts_at <= now)
        .options(lazyload(Meeting.items))
    )
    # A meeting that started within the last day may still go on: its own length decides. Older ones are over.
    recent = [
        m
        for m in session.exec(started.where(Meeting.starts_at > now - LONGEST_MEETING)).all()
        if m.status == MeetingStatus.CLOSED or meeting_end(m) <= now
    ]
    older = session.exec(
        started.where(Meeting.starts_at <= now - LONGEST_MEETING)
        .order_by(Meeting.starts_at.desc())
        .limit(limit)
    ).all()
    past = sorted(recent, key=lambda m: m.starts_at, reverse=True) + list(older)
    return past[:limit] if limit is not None else past


def break_periods(session: Session, consultation: Consultation) -> list[BreakPeriod]:
    return list(
        session.exec(
            select(BreakPeriod)
            .where(BreakPeriod.consultation_id == consultation.id)
            .order_by(BreakPeriod.first_day, BreakPeriod.id)
        )
    )


# --- Creating meetings -----------------------------------------------------------------------------


def video_link_for_new_meeting(consultation: Consultation) -> str:
    """Jitsi: an unguessable room of the meeting's own; static: the consultation's one link; else none."""
    if consultation.video_provider == VideoProvider.JITSI and consultation.video_url:
        # 144 random bits; nothing in the name says which consultation or date it is.
        return f"{consultation.video_url.rstrip('/')}/{secrets.token_urlsafe(18)}"
    if consultation.video_provider == VideoProvider.STATIC:
        return consultation.video_url
    return ""


def case_deadline(starts_at: datetime, days: int) -> datetime:
    """The same wall-clock time as the meeting, ``days`` days before it (Stockholm time)."""
    local = starts_at.astimezone(STOCKHOLM)
    return local_datetime(local.date() - timedelta(days=days), local.time().replace(tzinfo=None))


def _new_meeting(
    consultation: Consultation, starts_at: datetime, *, place: str, now: datetime, series_date: date | None
) -> Meeting:
    return Meeting(
        consultation_id=consultation.id,
        starts_at=starts_at,
        length_minutes=consultation.meeting_length_minutes,
        place=place,
        video_url=video_link_for_new_meeting(consultation),
        case_deadline_at=case_deadline(starts_at, consultation.case_deadline_days),
        from_series=series_date is not None,
        series_date=series_date,
        created_at=now,
    )


def _series_dates(session: Session, consultation: Consultation) -> list[date]:
    dates = session.scalars(
        sa.select(Meeting.series_date)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.series_date.is_not(None))
    )
    return [d for d in dates if d is not None]


def _last_series_date(session: Session, consultation: Consultation) -> date | None:
    return session.scalar(
        sa.select(sa.func.max(Meeting.series_date)).where(Meeting.consultation_id == consultation.id)
    )


def planned_slots(
    session: Session,
    consultation: Consultation,
    *,
    first: date,
    last: date,
    breaks: list[BreakPeriod] | None = None,
) -> list[Slot]:
    """The rhythm's dates in a range with the reason for each skipped one (for the coordinator's view).
    ``breaks``: the consultation's break periods when the caller has read them already."""
    anchor = _last_series_date(session, consultation)
    if anchor is None:  # a new series starts on the first meeting day from ``first``
        anchor = first + timedelta(days=(WEEKDAY_INDEX[consultation.weekday.value] - first.weekday()) % 7)
    if breaks is None:
        breaks = break_periods(session, consultation)
    return series_slots(
        anchor=anchor,
        weekday=consultation.weekday.value,
        every_weeks=consultation.rhythm_weeks,
        first=first,
        last=last,
        breaks=[BreakDays(b.first_day, b.last_day, b.label) for b in breaks],
    )


def extend_series(
    session: Session, consultation: Consultation, *, until: date, now: datetime, since: date | None = None
) -> list[Meeting]:
    """Create the series' meetings up to ``until`` (Stockholm dates) that do not exist yet.

    Idempotent: a week of the rhythm that already has a series meeting – planned, moved or cancelled –
    never gets another, so a date the coordinator moved or cancelled is not recreated. Holidays and
    break periods are skipped. Without ``since`` only meetings after ``now`` are created; ``since`` (a
    date in the past) is for seeding history, e.g. the demo. The newest series date sets the rhythm's
    phase; a new series starts on the first meeting day from ``since`` (or today).
    """
    first = since or stockholm_date(now)
    if until < first:
        return []
    taken = {week_start(d) for d in _series_dates(session, consultation)}
    created = []
    for slot in planned_slots(session, consultation, first=first, last=until):
        if slot.skipped or week_start(slot.day) in taken:
            continue
        starts_at = local_datetime(slot.day, consultation.start_time)
        if since is None and starts_at <= now:
            continue
        meeting = _new_meeting(
            consultation, starts_at, place=consultation.place, now=now, series_date=slot.day
        )
        session.add(meeting)
        taken.add(week_start(slot.day))
        created.append(meeting)
    session.flush()
    return created


def _checked_start(day: date, at: time, *, now: datetime) -> datetime:
    if not exists_in_stockholm(day, at):
        raise MeetingRefused(
            _l("That time does not exist: the clocks go forward an hour that night. Choose another time."),
            field="time",
        )
    starts_at = local_datetime(day, at)
    if starts_at <= now:
        raise MeetingRefused(_l("Choose a date and time that has not passed."), field="date")
    return starts_at


def add_meeting(
    session: Session, consultation: Consultation, *, day: date, at: time, place: str, now: datetime
) -> Meeting:
    """Add a single meeting outside the rhythm (e.g. an extra meeting before the summer break)."""
    starts_at = _checked_start(day, at, now=now)
    meeting = _new_meeting(consultation, starts_at, place=place.strip(), now=now, series_date=None)
    session.add(meeting)
    session.flush()
    return meeting


# --- Changing one meeting --------------------------------------------------------------------------


def _check_editable(meeting: Meeting, *, revision: int, now: datetime) -> None:
    if revision != meeting.revision:
        raise MeetingChanged()
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingRefused(_l("The meeting is cancelled."))
    if meeting.status == MeetingStatus.CLOSED or has_started(meeting, now):
        raise MeetingRefused(_l("The meeting has already started or taken place and cannot be changed."))


def _advance_revision(session: Session, meeting: Meeting) -> None:
    """The meeting's revision on by one if it is still the one this request read (:func:`db.compare_and_set`):
    two coordinators moving the same meeting at once would otherwise both send invitations with the same
    SEQUENCE and different times, and calendars would keep whichever came first."""
    read = meeting.revision
    if not db.compare_and_set(session, meeting, "revision", expected=read, new=read + 1):
        raise MeetingChanged()


def move_meeting(
    session: Session, meeting: Meeting, *, day: date, at: time, place: str, revision: int, now: datetime
) -> bool:
    """Give the meeting a new date, time and/or place. Returns False when nothing changed.

    A new time resets the answers (people must check whether they can come at the new time). Everyone
    who already had an invitation gets the new version (higher SEQUENCE, same UID) at once.
    """
    _check_editable(meeting, revision=revision, now=now)
    starts_at = _checked_start(day, at, now=now)
    place = place.strip()
    if starts_at == meeting.starts_at and place == meeting.place:
        return False
    if starts_at != meeting.starts_at:
        consultation = session.get(Consultation, meeting.consultation_id)
        meeting.starts_at = starts_at
        meeting.case_deadline_at = case_deadline(starts_at, consultation.case_deadline_days)
        invitations.reset_answers(session, meeting)
    meeting.place = place
    meeting.ics_sequence += 1
    _advance_revision(session, meeting)
    session.flush()
    invitations.send_invitations(session, meeting, now=now, only_already_invited=True)
    return True


def cancel_meeting(session: Session, meeting: Meeting, *, revision: int, now: datetime) -> None:
    """Cancel: the row stays (the series does not recreate it) and every invitee gets METHOD:CANCEL."""
    _check_editable(meeting, revision=revision, now=now)
    _cancel(session, meeting, now=now)


def _cancel(session: Session, meeting: Meeting, *, now: datetime) -> None:
    from samrad.services import agenda  # the agenda builds on invitations, like this module

    agenda.release_meeting_cases(session, meeting, now=now)  # its cases return to the queue
    meeting.status = MeetingStatus.CANCELLED
    meeting.ics_sequence += 1
    _advance_revision(session, meeting)
    # A case accepted or moved here from a page read before (the queue, another meeting's builder) checks
    # the agenda's revision, not the meeting's: it is refused, not put on a cancelled meeting's agenda.
    db.move_on(session, meeting, "agenda_revision")
    session.flush()
    invitations.send_cancellations(session, meeting, now=now)


# --- Break periods ---------------------------------------------------------------------------------


def add_break_period(
    session: Session,
    consultation: Consultation,
    *,
    label: str,
    first_day: date,
    last_day: date,
    now: datetime,
) -> tuple[BreakPeriod, list[Meeting]]:
    """Add a period without meetings. Planned future meetings inside it go away: those nobody was told
    about are deleted (removing the break brings them back), the others are cancelled with a message.
    Returns the break and the meetings that were cancelled."""
    if last_day < first_day:
        raise MeetingRefused(_l("The last day must be on or after the first day."), field="last_day")
    period = BreakPeriod(
        consultation_id=consultation.id, label=label.strip(), first_day=first_day, last_day=last_day
    )
    session.add(period)
    cancelled = []
    for meeting in upcoming_meetings(session, consultation, now=now):
        if meeting.status != MeetingStatus.PLANNED or has_started(meeting, now):
            continue
        if not first_day <= stockholm_date(meeting.starts_at) <= last_day:
            continue
        if invitations.anyone_invited(session, meeting) or meeting.items:
            _cancel(session, meeting, now=now)
            cancelled.append(meeting)
        else:
            session.delete(meeting)
    session.flush()
    return period, cancelled


def remove_break_period(session: Session, period: BreakPeriod, *, now: datetime) -> list[Meeting]:
    """Remove a break and fill its weeks up to the series' current horizon. Returns the new meetings."""
    consultation = session.get(Consultation, period.consultation_id)
    session.delete(period)
    session.flush()
    planned = [m.series_date for m in upcoming_meetings(session, consultation, now=now) if m.series_date]
    if not planned:
        return []
    return extend_series(session, consultation, until=max(planned), now=now)
