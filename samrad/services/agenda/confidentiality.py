"""The confidentiality confirmation before case details on the published agenda."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from samrad.models import AgendaItem, Case, Invitee, Meeting, User
from samrad.services import access, invitations
from samrad.services.access import Actor


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
