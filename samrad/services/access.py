"""Who may do what, to which object: the one permission layer.

Every "may this person …" question in samrad is answered here, and the consultation is part of every
rule: a role, an invitation or an organisation counts only in the consultation it belongs to. Views ask
through the loaders in :mod:`samrad.web.access`; lists are filtered with :func:`case_clause`, built from
the same rules as :func:`may`. The table of rules with the domain reason for each is ``docs/access.md``.

Principles (from the domain brief):

- **The case stays owned by the presenting agency.** Its people who take part in *that* consultation
  (a submitting role there) see and manage its submitted cases; a draft belongs to the person who writes
  it until it is submitted.
- **Need to know.** Beyond the owning agency, a case is shared with the consultation's coordinators (who
  triage it) and with the people invited to a meeting whose *published* agenda has it; a presenter
  invited for one slot sees that one case. Nobody else, administrators included.
- **Administrators run the register** (municipalities, organisations, accounts, consultations) and the
  operations page. The flag grants no role in any consultation: no case text, no unreviewed comment.
- **Invitations are matched by e-mail address** only while that address is confirmed, so changing an
  address grants nothing until the new one has been confirmed through a link sent to it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, exists, false, or_
from sqlmodel import Session, select

from samrad.enums import CaseStatus, InviteeKind, Role
from samrad.models import (
    AgendaItem,
    Case,
    Consultation,
    Invitee,
    JoinRequest,
    Meeting,
    Organisation,
    StandingSeat,
    User,
)

#: Roles that bring cases to a consultation, and with which the owning agency's people see its cases.
SUBMITTING_ROLES = frozenset({Role.CASE_OFFICER, Role.MEMBER, Role.COORDINATOR})
#: Roles that read statistics and evaluation reports of a consultation.
REPORT_ROLES = frozenset({Role.COORDINATOR, Role.STATISTICS_VIEWER})
#: Statuses in which a case is shared with the participants of a meeting whose published agenda has it.
SHARED = frozenset(
    {CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA, CaseStatus.DISCUSSED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED}
)
#: A presenter gets the video link from this long before their slot until the slot ends.
PRESENTER_LINK_LEAD = timedelta(minutes=15)


class Action(enum.StrEnum):
    # The register and the installation
    MANAGE_REGISTER = "manage_register"
    VIEW_OPERATIONS = "view_operations"
    VIEW_ALL_MAIL = "view_all_mail"
    # A consultation
    VIEW_CONSULTATION = "view_consultation"
    MANAGE_CONSULTATION = "manage_consultation"
    SUBMIT_CASE = "submit_case"
    VIEW_STATISTICS = "view_statistics"
    REVIEW_COMMENTS = "review_comments"
    # A case
    VIEW_CASE = "view_case"
    EDIT_CASE = "edit_case"
    WITHDRAW_CASE = "withdraw_case"
    FOLLOW_UP_CASE = "follow_up_case"
    CLOSE_CASE = "close_case"
    RETURN_CASE = "return_case"
    PLAN_CASE = "plan_case"  # accept for a meeting, put on or move between agendas
    # A meeting
    VIEW_MEETING = "view_meeting"
    VIEW_AGENDA = "view_agenda"
    VIEW_VIDEO_LINK = "view_video_link"
    MANAGE_MEETING = "manage_meeting"
    # A request to join
    DECIDE_JOIN = "decide_join"


# --- Who is asking ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """What the rules need to know about the person asking; built once per request."""

    user_id: int | None = None
    email: str = ""
    email_confirmed: bool = False
    is_admin: bool = False
    organisation_ids: frozenset[int] = frozenset()
    roles: Mapping[int, frozenset[Role]] = field(default_factory=dict)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    def roles_in(self, consultation_id: int) -> frozenset[Role]:
        return self.roles.get(consultation_id, frozenset())

    def has_role(self, consultation_id: int, *roles: Role) -> bool:
        held = self.roles_in(consultation_id)
        return bool(held & set(roles)) if roles else bool(held)

    def coordinates(self, consultation_id: int) -> bool:
        return Role.COORDINATOR in self.roles_in(consultation_id)

    @property
    def coordinated_consultation_ids(self) -> frozenset[int]:
        return frozenset(cid for cid, held in self.roles.items() if Role.COORDINATOR in held)


ANONYMOUS = Actor()


def identity(user: User) -> Actor:
    """Just who the person is (no roles): enough to match their invitations."""
    return Actor(user_id=user.id, email=user.email, email_confirmed=user.email_confirmed_at is not None)


def actor_for(user: User | None) -> Actor:
    """The :class:`Actor` for ``user`` (anonymous for None or a user that is not logged in)."""
    if user is None or not getattr(user, "is_authenticated", False) or user.id is None:
        return ANONYMOUS
    roles: dict[int, set[Role]] = {}
    # Read with the user on every request (accounts.WHO_IS_ASKING); a user loaded otherwise reads them here.
    for held in user.consultation_roles:
        roles.setdefault(held.consultation_id, set()).add(held.role)
    return Actor(
        user_id=user.id,
        email=user.email,
        email_confirmed=user.email_confirmed_at is not None,
        is_admin=user.is_admin,
        organisation_ids=frozenset(m.organisation_id for m in user.memberships),
        roles={cid: frozenset(held) for cid, held in roles.items()},
    )


# --- Invitations ----------------------------------------------------------------------------------------


def _invited_halves(user_id, email):
    """The invitation rule's two halves: by account; by address, for an invitation without one."""
    return Invitee.user_id == user_id, and_(Invitee.user_id.is_(None), Invitee.email == email)


def invited_clause(actor: Actor):
    """SQL: the ``Invitee`` row is this person's (by account, or by a confirmed e-mail address)."""
    if actor.is_anonymous:
        return false()
    by_account, by_address = _invited_halves(actor.user_id, actor.email)
    return or_(by_account, by_address) if actor.email_confirmed else by_account


#: :func:`invited_clause` for a statement built once, the person bound when it runs (:func:`invited_values`),
#: in two halves a statement can ask one after the other (a union): each has an index of its own, where
#: PostgreSQL's generic plan for the OR went through every meeting of the window and its invitees instead.
INVITED_BY_ACCOUNT, INVITED_BY_ADDRESS = _invited_halves(
    bindparam("invited_user_id"), bindparam("invited_email")
)


def invited_values(actor: Actor) -> dict:
    """The values of :data:`INVITED_BY_ACCOUNT` and :data:`INVITED_BY_ADDRESS` for ``actor``: a missing one
    is NULL, which no row equals (an anonymous person, an address not confirmed)."""
    if actor.is_anonymous:
        return {"invited_user_id": None, "invited_email": None}
    return {"invited_user_id": actor.user_id, "invited_email": actor.email if actor.email_confirmed else None}


def invitation(session: Session, actor: Actor, meeting: Meeting) -> Invitee | None:
    """The person's active invitation to the meeting, if any."""
    if actor.is_anonymous:
        return None
    return session.exec(
        select(Invitee)
        .where(Invitee.meeting_id == meeting.id)
        .where(invited_clause(actor))
        .where(Invitee.removed_at.is_(None))
        .order_by(Invitee.id)
    ).first()


# --- Organisations that take part in a consultation ----------------------------------------------------


def takes_part_clause(consultation: Consultation | type[Consultation]):
    """SQL on ``Organisation``: it hosts the consultation, holds a standing seat in it, or works in the
    consultation's county (a regional consultation serves one county). Given the ``Consultation`` class
    rather than one consultation, the clause is on both tables (a statement over many consultations)."""
    return or_(
        Organisation.id == consultation.host_organisation_id,
        Organisation.county == consultation.county,
        Organisation.id.in_(
            select(StandingSeat.organisation_id)
            .where(StandingSeat.consultation_id == consultation.id)
            .correlate_except(StandingSeat)  # to the Consultation of a statement over many, at any depth
        ),
    )


def takes_part(session: Session, organisation: Organisation, consultation: Consultation) -> bool:
    stmt = (
        select(Organisation.id)
        .where(Organisation.id == organisation.id)
        .where(takes_part_clause(consultation))
    )
    return session.exec(stmt).first() is not None


def participating_organisations(session: Session, consultation: Consultation) -> list[Organisation]:
    return list(
        session.exec(select(Organisation).where(takes_part_clause(consultation)).order_by(Organisation.name))
    )


def submitting_organisations(
    session: Session, actor: Actor, consultation: Consultation
) -> list[Organisation]:
    """The person's organisations in whose name they may bring a case to the consultation."""
    if not actor.has_role(consultation.id, *SUBMITTING_ROLES) or not actor.organisation_ids:
        return []
    return list(
        session.exec(
            select(Organisation)
            .where(Organisation.id.in_(actor.organisation_ids))
            .where(takes_part_clause(consultation))
            .order_by(Organisation.name)
        )
    )


# --- Cases ------------------------------------------------------------------------------------------------


def may_own(actor: Actor, case: Case) -> bool:
    """The owning agency's people who take part in the case's consultation; before the first submission
    only the person who writes the case."""
    if case.organisation_id not in actor.organisation_ids:
        return False
    if not actor.has_role(case.consultation_id, *SUBMITTING_ROLES):
        return False
    if case.submitted_at is None:
        return case.officer_id == actor.user_id
    return True


def _coordinates_submitted(actor: Actor, case: Case) -> bool:
    return case.submitted_at is not None and actor.coordinates(case.consultation_id)


def case_clause(actor: Actor):
    """SQL on ``Case``: true for the cases the person may see (the same rules as ``VIEW_CASE``).

    The clause is made of the actor alone, and building it (two correlated subqueries) took a quarter of a
    millisecond on every page that lists cases, so the worker keeps it per actor: everything an actor
    holds is in the key, and a change of role, organisation or confirmed address is another key."""
    if actor.is_anonymous:
        return false()
    return _kept_case_clause(
        (
            actor.user_id,
            actor.email,
            actor.email_confirmed,
            actor.is_admin,
            actor.organisation_ids,
            frozenset(actor.roles.items()),
        )
    )


@lru_cache(maxsize=512)
def _kept_case_clause(key):
    user_id, email, email_confirmed, is_admin, organisation_ids, roles = key
    actor = Actor(
        user_id=user_id,
        email=email,
        email_confirmed=email_confirmed,
        is_admin=is_admin,
        organisation_ids=organisation_ids,
        roles=dict(roles),
    )
    owning = owned_clause(actor)
    coordinator = and_(
        Case.submitted_at.is_not(None), Case.consultation_id.in_(sorted(actor.coordinated_consultation_ids))
    )
    invited = invited_clause(actor)
    standing = exists(
        select(AgendaItem.id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Invitee, Invitee.meeting_id == Meeting.id)
        .where(AgendaItem.case_id == Case.id)
        .where(Meeting.consultation_id == Case.consultation_id)
        .where(Meeting.published_version > 0)
        .where(Invitee.kind == InviteeKind.STANDING)
        .where(Invitee.removed_at.is_(None))
        .where(invited)
        # accepted for this meeting but not yet on its published agenda: not shared yet
        .where(~and_(Case.status == CaseStatus.ACCEPTED, Case.meeting_id == Meeting.id))
    )
    presenter = exists(
        select(Invitee.id)
        .join(AgendaItem, AgendaItem.id == Invitee.agenda_item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.case_id == Case.id)
        .where(Meeting.consultation_id == Case.consultation_id)
        .where(Invitee.meeting_id == AgendaItem.meeting_id)
        .where(Invitee.kind == InviteeKind.PRESENTER)
        .where(Invitee.removed_at.is_(None))
        .where(invited)
    )
    shared = and_(Case.submitted_at.is_not(None), Case.status.in_(sorted(SHARED)), or_(standing, presenter))
    return or_(owning, coordinator, shared)


def owned_clause(actor: Actor):
    """SQL on ``Case``: the cases the person sees as one of the owning agency ("my cases"), the first
    branch of :func:`case_clause`, so it alone asks for them (without the clause's subqueries, which
    took PostgreSQL longer to plan than to run)."""
    if actor.is_anonymous:
        return false()
    submitting_in = [cid for cid, held in actor.roles.items() if held & SUBMITTING_ROLES]
    return and_(
        Case.organisation_id.in_(sorted(actor.organisation_ids)),
        Case.consultation_id.in_(submitting_in),
        or_(Case.submitted_at.is_not(None), Case.officer_id == actor.user_id),
    )


def _sees_case(session: Session, actor: Actor, case: Case) -> bool:
    if actor.is_anonymous:
        return False
    if may_own(actor, case) or _coordinates_submitted(actor, case):
        return True
    if case.submitted_at is None or case.status not in SHARED:
        return False
    stmt = select(Case.id).where(Case.id == case.id).where(case_clause(actor))
    return session.exec(stmt).first() is not None


def _case_rule(session: Session, actor: Actor, action: Action, case: Case) -> bool:
    if action == Action.VIEW_CASE:
        return _sees_case(session, actor, case)
    if action in (Action.EDIT_CASE, Action.WITHDRAW_CASE, Action.FOLLOW_UP_CASE):
        return may_own(actor, case)
    if action == Action.CLOSE_CASE:
        return may_own(actor, case) or _coordinates_submitted(actor, case)
    if action in (Action.RETURN_CASE, Action.PLAN_CASE):
        return _coordinates_submitted(actor, case)
    raise ValueError(f"{action} is not an action on a case")


# --- Meetings ---------------------------------------------------------------------------------------------


def presenter_window(
    session: Session, meeting: Meeting, invitee: Invitee
) -> tuple[datetime, datetime] | None:
    """When a presenter may have the video link: their slot, from a little before it starts."""
    item = session.get(AgendaItem, invitee.agenda_item_id) if invitee.agenda_item_id else None
    if item is not None and item.meeting_id == meeting.id:
        before = sum(i.duration_minutes for i in meeting.items if i.position < item.position)
        start = meeting.starts_at + timedelta(minutes=before)
        end = start + timedelta(minutes=item.duration_minutes)
    elif invitee.slot_starts_at and invitee.slot_ends_at:
        start, end = invitee.slot_starts_at, invitee.slot_ends_at
    else:
        return None
    return start - PRESENTER_LINK_LEAD, end


def _meeting_rule(
    session: Session, actor: Actor, action: Action, meeting: Meeting, now: datetime | None
) -> bool:
    if actor.is_anonymous:
        return False
    cid = meeting.consultation_id
    if action == Action.MANAGE_MEETING:
        return actor.coordinates(cid)
    if action == Action.VIEW_MEETING:
        return actor.has_role(cid) or invitation(session, actor, meeting) is not None
    if action == Action.VIEW_AGENDA:
        if actor.coordinates(cid):
            return True
        return meeting.published_version > 0 and invitation(session, actor, meeting) is not None
    if action == Action.VIEW_VIDEO_LINK:
        # Coordinators and standing members are invited to every meeting of their consultation.
        if actor.has_role(cid, Role.COORDINATOR, Role.MEMBER):
            return True
        invitee = invitation(session, actor, meeting)
        if invitee is None:
            return False
        if invitee.kind != InviteeKind.PRESENTER:
            return True
        window = presenter_window(session, meeting, invitee)
        return window is not None and now is not None and window[0] <= now <= window[1]
    raise ValueError(f"{action} is not an action on a meeting")


# --- Consultations, join requests and the register --------------------------------------------------------


def _consultation_rule(session: Session, actor: Actor, action: Action, consultation: Consultation) -> bool:
    cid = consultation.id
    if action == Action.VIEW_CONSULTATION:
        return actor.has_role(cid)
    if action == Action.MANAGE_CONSULTATION:
        return actor.coordinates(cid)
    if action == Action.SUBMIT_CASE:
        return bool(submitting_organisations(session, actor, consultation))
    if action == Action.VIEW_STATISTICS:
        return actor.has_role(cid, *REPORT_ROLES)
    if action == Action.REVIEW_COMMENTS:
        return actor.coordinates(cid)
    raise ValueError(f"{action} is not an action on a consultation")


def may_decide_join(
    session: Session, actor: Actor, join_request: JoinRequest, organisation: Organisation | None = None
) -> bool:
    """A coordinator of the request's consultation decides it, and approves a person only into an
    organisation that takes part in that consultation."""
    if not actor.coordinates(join_request.consultation_id):
        return False
    if organisation is None:
        return True
    consultation = session.get(Consultation, join_request.consultation_id)
    return takes_part(session, organisation, consultation)


def may(session: Session, actor: Actor, action: Action, obj=None, *, now: datetime | None = None) -> bool:
    """Whether ``actor`` may do ``action`` to ``obj`` (a case, meeting, consultation or join request)."""
    if action == Action.MANAGE_REGISTER or action == Action.VIEW_ALL_MAIL:
        return actor.is_admin
    if action == Action.VIEW_OPERATIONS:
        return actor.is_admin or bool(actor.coordinated_consultation_ids)
    if actor.is_anonymous:
        return False
    if isinstance(obj, Case):
        return _case_rule(session, actor, action, obj)
    if isinstance(obj, Meeting):
        return _meeting_rule(session, actor, action, obj, now)
    if isinstance(obj, Consultation):
        return _consultation_rule(session, actor, action, obj)
    if isinstance(obj, JoinRequest) and action == Action.DECIDE_JOIN:
        return may_decide_join(session, actor, obj)
    raise ValueError(f"no rule for {action} on {type(obj).__name__}")


def brings_cases(actor: Actor) -> bool:
    """Whether the person may register cases anywhere (a case officer, or a standing member or
    coordinator bringing their own agency's case): the menu then offers "My cases"."""
    return any(held & SUBMITTING_ROLES for held in actor.roles.values())


#: The start page's panels, in the order they are shown: one per role the person holds in a consultation.
START_PANELS = (Role.COORDINATOR, Role.CASE_OFFICER, Role.MEMBER, Role.STATISTICS_VIEWER)


def start_panels(actor: Actor, consultation_id: int | None) -> list[Role]:
    """The start page's panels for the person in a consultation (each shows only what that role may see)."""
    held = actor.roles.get(consultation_id, frozenset()) if consultation_id is not None else frozenset()
    return [role for role in START_PANELS if role in held]


def consultations_where(session: Session, actor: Actor, action: Action) -> list[Consultation]:
    """The consultations in which ``actor`` may do ``action`` (e.g. where they read statistics)."""
    if actor.is_anonymous:
        return []
    candidates = (
        select(Consultation).where(Consultation.id.in_(sorted(actor.roles))).order_by(Consultation.name)
    )
    if action == Action.SUBMIT_CASE:
        # _consultation_rule's submitting_organisations for all of them in one statement, not one each.
        submitting_in = sorted(cid for cid, held in actor.roles.items() if held & SUBMITTING_ROLES)
        if not submitting_in or not actor.organisation_ids:
            return []
        own_takes_part = exists(
            select(Organisation.id)
            .where(Organisation.id.in_(sorted(actor.organisation_ids)))
            .where(takes_part_clause(Consultation))
        )
        return list(session.exec(candidates.where(Consultation.id.in_(submitting_in)).where(own_takes_part)))
    return [c for c in session.exec(candidates) if _consultation_rule(session, actor, action, c)]
