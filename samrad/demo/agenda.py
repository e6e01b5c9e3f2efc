"""The demo's agendas: held meetings with published agendas, discussed cases and advice; the next meeting
with a published agenda of accepted cases. Written directly (no e-mail is queued), deterministic by seed.

The case texts come from :mod:`samrad.demo` and pass the case service's guard; the advice below
is de-identified by construction (a test runs every text through the guard).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from sqlmodel import Session, select

from samrad.enums import AgendaItemKind, CaseStatus, MeetingStatus
from samrad.models import AgendaItem, AgendaVersion, Case, Consultation, Meeting, User, get_row
from samrad.services import agenda, cases

ADVICE = (
    "Samrådet rekommenderar att ärendeägaren gör en strukturerad riskbedömning med Patriark innan "
    "familjen kontaktas, och att skolan får veta vart eleven kan vända sig.",
    "Rådet är att vänta med familjesamtal. Överväg kontakt med länsstyrelsens kompetensteam och planera "
    "för skyddat boende om risken ökar.",
    "Samrådet föreslår att socialtjänsten tar reda på om en utlandsresa är planerad och informerar om "
    "möjligheten till utreseförbud.",
    "Rekommendationen är att vården och elevhälsan samverkar om stödet och att yngre syskon tas med i "
    "riskbedömningen.",
    "Samrådet rekommenderar stödsamtal hos kvinnojouren och att ärendeägaren ser över möjligheten till "
    "skyddade personuppgifter.",
    "Rådet är att polis och socialtjänst gör en gemensam bedömning och att ärendet tas upp igen om läget "
    "förändras.",
)
#: Non-case items of a typical meeting (Una Norrbotten: welcome and rules, cases, experience exchange).
OPENING = (AgendaItemKind.WELCOME, "Välkommen och samrådets regler", 10)
CLOSING = (AgendaItemKind.EXPERIENCE_EXCHANGE, "Erfarenhetsutbyte", 20)


def _item(session, meeting, position, kind, *, title="", minutes=15, case=None) -> AgendaItem:
    item = AgendaItem(
        meeting_id=meeting.id,
        position=position,
        kind=kind,
        title=title,
        duration_minutes=minutes,
        case_id=case.id if case else None,
    )
    session.add(item)
    return item


def _build(session: Session, meeting: Meeting, chosen: list[Case]) -> list[AgendaItem]:
    items = [_item(session, meeting, 0, OPENING[0], title=OPENING[1], minutes=OPENING[2])]
    for case in chosen:
        items.append(
            _item(
                session,
                meeting,
                len(items),
                AgendaItemKind.CASE,
                minutes=case.presentation_minutes,
                case=case,
            )
        )
    items.append(_item(session, meeting, len(items), CLOSING[0], title=CLOSING[1], minutes=CLOSING[2]))
    session.flush()
    session.refresh(meeting)
    return items


def _publish(session: Session, meeting: Meeting, coordinator: User | None, at: datetime) -> None:
    rows = agenda.snapshot(session, meeting)
    session.add(
        AgendaVersion(
            meeting_id=meeting.id,
            version=1,
            published_at=at,
            published_by_id=coordinator.id if coordinator else None,
            snapshot=json.dumps(rows, ensure_ascii=False),
            changes=json.dumps(agenda.diff([], rows), ensure_ascii=False),
        )
    )
    meeting.published_version = 1
    meeting.agenda_revision += 1
    session.add(meeting)


def seed_agendas(
    session: Session,
    consultation: Consultation,
    *,
    history: list[Case],
    coordinator: User | None,
    seed: int,
    now: datetime,
) -> None:
    """Give the held meetings agendas with the ``history`` cases discussed (two or three each, oldest
    first), and the next meeting a published agenda with the oldest waiting cases accepted for it."""
    rng = random.Random(seed * 31 + 11)
    all_meetings = list(
        session.exec(
            select(Meeting).where(Meeting.consultation_id == consultation.id).order_by(Meeting.starts_at)
        )
    )
    held = [m for m in all_meetings if m.status == MeetingStatus.CLOSED]
    pool = sorted(history, key=lambda c: (c.submitted_at, c.id))
    for meeting in held:
        due = [c for c in pool if c.submitted_at < meeting.case_deadline_at]
        chosen = due[: rng.choice((2, 2, 3))]
        for case in chosen:
            pool.remove(case)
        items = _build(session, meeting, chosen)
        _publish(session, meeting, coordinator, meeting.case_deadline_at + timedelta(days=1))
        for item in items:
            if item.case_id is None:
                continue
            case = get_row(session, Case, item.case_id)
            follow_up = rng.random() < 0.15
            item.advice = rng.choice(ADVICE)
            item.follow_up_wanted = follow_up
            item.discussed_at = meeting.starts_at + timedelta(minutes=30)
            case.meeting_id = meeting.id
            case.status = (
                CaseStatus.FOLLOW_UP
                if follow_up
                else rng.choice((CaseStatus.DISCUSSED, CaseStatus.DISCUSSED, CaseStatus.CLOSED))
            )
            case.last_discussed_at = item.discussed_at
            if case.status == CaseStatus.CLOSED:
                case.closed_at = item.discussed_at + timedelta(days=rng.randint(7, 30))
            case.updated_at = item.discussed_at
            session.add_all([item, case])
    # Anything left over (submitted after the last held meeting's deadline) waits in the queue.
    session.flush()

    upcoming = [m for m in all_meetings if m.status == MeetingStatus.PLANNED and m.starts_at > now]
    if not upcoming:
        return
    following = upcoming[0]
    waiting = cases.triage_queue(session, consultation)
    chosen = sorted(waiting, key=lambda c: (c.submitted_at, c.id))[:3]
    for case in chosen:
        case.status = CaseStatus.ON_AGENDA
        case.meeting_id = following.id
        case.updated_at = now
        session.add(case)
    session.flush()
    _build(session, following, chosen)
    _publish(session, following, coordinator, min(now, following.case_deadline_at + timedelta(hours=2)))
    session.flush()
