"""Whether the agencies a case needs are coming (children need social services at the table)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from samrad.enums import (
    InviteeKind,
    OrganisationType,
)
from samrad.models import Case, Invitee, Meeting, Organisation, User
from samrad.services import invitations
from samrad.services.agenda.limits import CHILD_BANDS, COMING, PRESENT
from samrad.services.agenda.reading import item_label


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
