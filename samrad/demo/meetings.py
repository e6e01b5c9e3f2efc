"""The demo consultation's meetings: half a year of held meetings with answers and attendance, and the
coming three months planned (the real Una Norrbotten series started in autumn 2019).

Deterministic for a given seed and day. No e-mail is queued: the history is written directly.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlmodel import Session

from samrad.clock import stockholm_date
from samrad.enums import Attendance, InviteeKind, MeetingStatus, Rsvp
from samrad.models import BreakPeriod, Consultation, Invitee
from samrad.services import invitations, meetings

HISTORY = timedelta(days=182)
AHEAD = timedelta(days=91)

#: How people answered held meetings, and how they actually took part.
ANSWERS = ((Rsvp.ON_SITE, 30), (Rsvp.VIA_LINK, 45), (Rsvp.CANNOT_ATTEND, 15), (Rsvp.NO_ANSWER, 10))


def _breaks(first: date, last: date) -> list[tuple[str, date, date]]:
    periods = []
    for year in range(first.year - 1, last.year + 1):
        periods.append(("Sommaruppehåll", date(year, 6, 20), date(year, 8, 16)))
        periods.append(("Jul och nyår", date(year, 12, 21), date(year + 1, 1, 6)))
    return [(label, a, b) for label, a, b in periods if a <= last and b >= first]


def _answer(rng: random.Random) -> Rsvp:
    return rng.choices([a for a, _ in ANSWERS], weights=[w for _, w in ANSWERS])[0]


def _attendance(rng: random.Random, answer: Rsvp) -> Attendance:
    if answer == Rsvp.ON_SITE:
        return Attendance.ON_SITE if rng.random() < 0.9 else Attendance.VIA_LINK
    if answer == Rsvp.VIA_LINK:
        return Attendance.VIA_LINK if rng.random() < 0.9 else Attendance.ABSENT
    if answer == Rsvp.NO_ANSWER:
        return rng.choice((Attendance.ABSENT, Attendance.VIA_LINK))
    return Attendance.ABSENT


def seed_meetings(session: Session, consultation: Consultation, *, seed: int, now: datetime) -> None:
    rng = random.Random(seed * 7907 + 3)
    today = stockholm_date(now)
    first, last = today - HISTORY, today + AHEAD
    for label, first_day, last_day in _breaks(first, last):
        session.add(
            BreakPeriod(consultation_id=consultation.id, label=label, first_day=first_day, last_day=last_day)
        )
    session.flush()
    created = meetings.extend_series(session, consultation, since=first, until=last, now=now)
    standing = invitations.standing_users(session, consultation)
    upcoming = [m for m in created if m.starts_at > now]
    for meeting in created:
        held = meetings.meeting_end(meeting) <= now
        if not held and meeting is not (upcoming[0] if upcoming else None):
            continue
        if held:
            meeting.status = MeetingStatus.CLOSED
            meeting.closed_at = meetings.meeting_end(meeting)
        for user in standing:
            answer = _answer(rng) if held or rng.random() < 0.6 else Rsvp.NO_ANSWER
            session.add(
                Invitee(
                    meeting_id=meeting.id,
                    user_id=user.id,
                    email=user.email,
                    kind=InviteeKind.STANDING,
                    rsvp=answer,
                    rsvp_at=meeting.starts_at - timedelta(days=rng.randint(1, 10))
                    if answer != Rsvp.NO_ANSWER
                    else None,
                    attendance=_attendance(rng, answer) if held else None,
                    sent_sequence=0,  # invited at the time (the demo sends no e-mail)
                )
            )
    session.flush()
