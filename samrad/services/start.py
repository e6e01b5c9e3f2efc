"""What the start page tells each person: per consultation, one panel per role, each answering "what do I
do now?" in a small, fixed number of statements (never one per case, meeting or invitee).

Every case on a panel is read through :mod:`samrad.services.access` (the coordinator's queue is theirs to
see; a case officer's cases through the same clause as "My cases"), and a panel shows references,
categories and statuses — never a case's free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from samrad.clock import stockholm_date
from samrad.enums import CaseStatus, JoinRequestStatus, Rsvp
from samrad.models import (
    Case,
    Consultation,
    Evaluation,
    EvaluationComment,
    Invitee,
    JoinRequest,
    Meeting,
)
from samrad.models.evaluation import EvaluationStatus
from samrad.services import access
from samrad.services.access import Actor
from samrad.services.agenda.reading import unpublished_changes
from samrad.services.cases.limits import QUEUED
from samrad.services.cases.lists import cases_visible_to
from samrad.services.cases.reading import Slot, slots_of, triage_queue
from samrad.services.cases.requests import open_meetings
from samrad.services.invitations import STANDING_ROLES
from samrad.services.meetings import upcoming_meetings

#: How many waiting cases the coordinator's panel names (the queue has the rest).
WAITING_SHOWN = 5
#: How many upcoming meetings a standing member sees with their answer.
MEETINGS_SHOWN = 3
#: Discussed cases stay on the case officer's panel this long, so the advice is easy to find.
ADVICE_SHOWN_FOR = timedelta(days=60)


@dataclass(frozen=True)
class Answers:
    """How the invitees of a meeting have answered; "substitute" is a "cannot come" who sends someone."""

    yes: int = 0
    no: int = 0
    substitute: int = 0
    none: int = 0

    @property
    def total(self) -> int:
        return self.yes + self.no + self.substitute + self.none


@dataclass(frozen=True)
class NextMeeting:
    meeting: Meeting
    #: Minutes the agenda's items take, against ``meeting.length_minutes``.
    minutes_used: int
    unpublished_changes: int
    answers: Answers
    #: Whole days until the case deadline (0: today; negative: passed).
    days_to_deadline: int


@dataclass(frozen=True)
class OpenEvaluation:
    meeting: Meeting
    evaluation: Evaluation


@dataclass(frozen=True)
class CoordinatorPanel:
    next_meeting: NextMeeting | None
    waiting: int
    waiting_honour_related: int
    #: The first cases of the queue, in its order (honour-related first, then oldest).
    first_waiting: tuple[Case, ...]
    join_requests: int
    open_evaluations: tuple[OpenEvaluation, ...]
    comments_to_review: int


@dataclass(frozen=True)
class CaseStep:
    case: Case
    slot: Slot | None
    #: The person still has to confirm confidentiality before reading the published agenda's case details.
    confirm_confidentiality: bool = False


@dataclass(frozen=True)
class OfficerPanel:
    """The person's own agency's cases in the consultation, grouped by what happens next."""

    drafts: tuple[CaseStep, ...]
    returned: tuple[CaseStep, ...]
    waiting: tuple[CaseStep, ...]
    on_a_meeting: tuple[CaseStep, ...]
    discussed: tuple[CaseStep, ...]
    #: The next meeting that still takes cases and its deadline, or None.
    next_open_meeting: Meeting | None

    @property
    def empty(self) -> bool:
        return not (self.drafts or self.returned or self.waiting or self.on_a_meeting or self.discussed)


@dataclass(frozen=True)
class Invitation:
    meeting: Meeting
    #: The person's invitation; None for a standing member not yet invited (they may answer all the same).
    invitee: Invitee | None


@dataclass(frozen=True)
class MemberPanel:
    invitations: tuple[Invitation, ...]


def _answers(session: Session, meeting: Meeting) -> Answers:
    rows = session.exec(
        select(Invitee.rsvp, Invitee.substitute_user_id.is_not(None), func.count())
        .where(Invitee.meeting_id == meeting.id)
        .where(Invitee.removed_at.is_(None))
        .group_by(Invitee.rsvp, Invitee.substitute_user_id.is_not(None))
    ).all()
    counts = {"yes": 0, "no": 0, "substitute": 0, "none": 0}
    for rsvp, sends_substitute, n in rows:
        if rsvp in (Rsvp.ON_SITE, Rsvp.VIA_LINK):
            counts["yes"] += n
        elif rsvp == Rsvp.CANNOT_ATTEND:
            counts["substitute" if sends_substitute else "no"] += n
        else:
            counts["none"] += n
    return Answers(**counts)


def next_meeting(session: Session, consultation: Consultation, *, now: datetime) -> Meeting | None:
    """The soonest planned meeting that has not ended yet."""
    found = upcoming_meetings(session, consultation, now=now, planned_only=True, limit=1)
    return found[0] if found else None


def _next_meeting_facts(session: Session, meeting: Meeting, *, now: datetime) -> NextMeeting:
    return NextMeeting(
        meeting=meeting,
        minutes_used=sum(i.duration_minutes for i in meeting.items),
        unpublished_changes=len(unpublished_changes(session, meeting)) if meeting.published_version else 0,
        answers=_answers(session, meeting),
        days_to_deadline=(stockholm_date(meeting.case_deadline_at) - stockholm_date(now)).days,
    )


def coordinator_panel(session: Session, consultation: Consultation, *, now: datetime) -> CoordinatorPanel:
    meeting = next_meeting(session, consultation, now=now)
    queue = triage_queue(session, consultation)
    join_requests = (
        select(func.count())
        .select_from(JoinRequest)
        .where(JoinRequest.consultation_id == consultation.id)
        .where(JoinRequest.status == JoinRequestStatus.PENDING)
        .scalar_subquery()
    )
    comments_to_review = (
        select(func.count())
        .select_from(EvaluationComment)
        .join(Evaluation, Evaluation.id == EvaluationComment.evaluation_id)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(Evaluation.status == EvaluationStatus.CLOSED)
        .where(EvaluationComment.released.is_(False))
        .scalar_subquery()
    )
    # Both counts in one statement: each statement is a round trip to PostgreSQL.
    join_request_count, comments = session.exec(select(join_requests, comments_to_review)).one()
    evaluations = session.exec(
        select(Evaluation, Meeting)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == consultation.id)
        .where(Evaluation.status == EvaluationStatus.OPEN)
        .order_by(Evaluation.closes_at)
    ).all()
    return CoordinatorPanel(
        next_meeting=_next_meeting_facts(session, meeting, now=now) if meeting else None,
        waiting=len(queue),
        waiting_honour_related=sum(
            1 for c in queue if any(e.category.is_honour_related for e in c.categories)
        ),
        first_waiting=tuple(queue[:WAITING_SHOWN]),
        join_requests=join_request_count,
        open_evaluations=tuple(OpenEvaluation(m, e) for e, m in evaluations),
        comments_to_review=comments,
    )


def _unconfirmed_meetings(session: Session, actor: Actor, meeting_ids: set[int]) -> set[int]:
    """The meetings (of ``meeting_ids``) where the person is invited and has not confirmed confidentiality."""
    if not meeting_ids:
        return set()
    return set(
        session.exec(
            select(Invitee.meeting_id)
            .where(Invitee.meeting_id.in_(meeting_ids))
            .where(access.invited_clause(actor))
            .where(Invitee.removed_at.is_(None))
            .where(Invitee.confidentiality_confirmed_at.is_(None))
        )
    )


def officer_panel(
    session: Session, actor: Actor, consultation: Consultation, *, now: datetime
) -> OfficerPanel:
    shown = [
        CaseStatus.DRAFT,
        CaseStatus.RETURNED,
        *QUEUED,
        CaseStatus.ACCEPTED,
        CaseStatus.ON_AGENDA,
        CaseStatus.DISCUSSED,
    ]
    cases = [
        c
        for c in cases_visible_to(
            session,
            actor,
            consultation_id=consultation.id,
            statuses=shown,
            own_organisation_only=True,
        )
        if c.status != CaseStatus.DISCUSSED
        or (c.last_discussed_at is not None and c.last_discussed_at > now - ADVICE_SHOWN_FOR)
    ]
    slots = slots_of(session, cases)
    on_agenda = {c.meeting_id for c in cases if c.status == CaseStatus.ON_AGENDA and c.meeting_id is not None}
    unconfirmed = _unconfirmed_meetings(session, actor, on_agenda)

    def steps(*statuses: CaseStatus) -> tuple[CaseStep, ...]:
        return tuple(
            CaseStep(
                c,
                slots.get(c.id),
                c.status == CaseStatus.ON_AGENDA and c.meeting_id in unconfirmed,
            )
            for c in cases
            if c.status in statuses
        )

    return OfficerPanel(
        drafts=steps(CaseStatus.DRAFT),
        returned=steps(CaseStatus.RETURNED),
        waiting=steps(*QUEUED),
        on_a_meeting=steps(CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA),
        discussed=steps(CaseStatus.DISCUSSED),
        next_open_meeting=next(iter(open_meetings(session, consultation, now=now, limit=1)), None),
    )


def member_panel(session: Session, actor: Actor, consultation: Consultation, *, now: datetime) -> MemberPanel:
    """The next meetings with the person's answer: their invitations, and for a standing member also the
    meetings they have not been invited to yet (answering creates the invitation)."""
    upcoming = upcoming_meetings(
        session, consultation, now=now, planned_only=True, limit=MEETINGS_SHOWN, agendas=False
    )
    ids = [m.id for m in upcoming]
    invited = (
        {
            i.meeting_id: i
            for i in session.exec(
                select(Invitee)
                .where(Invitee.meeting_id.in_(ids))
                .where(access.invited_clause(actor))
                .where(Invitee.removed_at.is_(None))
            )
        }
        if ids
        else {}
    )
    standing = actor.has_role(consultation.id, *STANDING_ROLES)
    return MemberPanel(
        tuple(Invitation(m, invited.get(m.id)) for m in upcoming if standing or m.id in invited)
    )


__all__ = [
    "ADVICE_SHOWN_FOR",
    "MEETINGS_SHOWN",
    "WAITING_SHOWN",
    "Answers",
    "CaseStep",
    "CoordinatorPanel",
    "Invitation",
    "MemberPanel",
    "NextMeeting",
    "OfficerPanel",
    "OpenEvaluation",
    "coordinator_panel",
    "member_panel",
    "next_meeting",
    "officer_panel",
]
