"""Whether the agencies a case needs are coming (children need social services at the table)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from samrad.enums import (
    InviteeKind,
    OrganisationType,
)
from samrad.models import Case, Invitee, Meeting, Membership, Organisation
from samrad.services.agenda.limits import CHILD_BANDS, COMING, PRESENT
from samrad.services.agenda.reading import item_cases, item_label


@dataclass(frozen=True)
class Agencies:
    own_organisation: bool
    social_services: bool | None  # None: not needed (the case is not about a child)

    @property
    def ok(self) -> bool:
        return self.own_organisation and self.social_services is not False


def _came(attendance, rsvp) -> bool:
    """Recorded as present, or (before attendance is recorded) answered that they come."""
    if attendance is not None:
        return attendance in PRESENT
    return rsvp in COMING


@dataclass(frozen=True)
class Present:
    """Who takes part in a meeting, as far as agencies go: their organisations and the presenters."""

    organisation_ids: frozenset[int]
    types: frozenset[OrganisationType]
    presenter_emails: frozenset[str]


def who_is_present(session: Session, meeting: Meeting) -> Present:
    """One statement, however many invitees and organisations (the builder asks for every case): each
    invitee who comes, with the organisations of their memberships (none for a guest presenter)."""
    rows = session.exec(
        select(
            Invitee.attendance, Invitee.rsvp, Invitee.kind, Invitee.email, Organisation.id, Organisation.type
        )
        .outerjoin(Membership, Membership.user_id == Invitee.user_id)
        .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
        .where(Invitee.meeting_id == meeting.id)
        .where(Invitee.removed_at.is_(None))
    ).all()
    coming = [row for row in rows if _came(row.attendance, row.rsvp)]
    return Present(
        frozenset(row[4] for row in coming if row[4] is not None),
        frozenset(OrganisationType(row[5]) for row in coming if row[5] is not None),
        frozenset(row.email for row in coming if row.kind == InviteeKind.PRESENTER),
    )


def agencies_present(
    session: Session, meeting: Meeting, case: Case, present: Present | None = None
) -> Agencies:
    """Whether the agencies a case needs take part. "Needs": the case's own organisation is represented by
    someone who attends (or answered on site / via link before attendance is recorded; a presenter counts),
    and for a child (0–12, 13–17) at least one person from social services."""
    own_type = session.get(Organisation, case.organisation_id).type
    return _agencies(case, present or who_is_present(session, meeting), own_type)


def agencies_for(session: Session, meeting: Meeting, cases: dict[int, Case]) -> dict[int, Agencies]:
    """:func:`agencies_present` for many cases (keyed as given), in two statements."""
    present = who_is_present(session, meeting)
    wanted = {case.organisation_id for case in cases.values()}
    types = (
        dict(
            session.exec(select(Organisation.id, Organisation.type).where(Organisation.id.in_(wanted))).all()
        )
        if wanted
        else {}
    )
    return {key: _agencies(case, present, types[case.organisation_id]) for key, case in cases.items()}


def _agencies(case: Case, present: Present, own_type: OrganisationType) -> Agencies:
    own = case.organisation_id in present.organisation_ids
    if not own:
        presenter = case.presenter_email.strip().lower()
        own = bool(presenter) and presenter in present.presenter_emails
    social = None
    if case.age_band in CHILD_BANDS:
        social = OrganisationType.SOCIAL_SERVICES in present.types or (
            own and own_type == OrganisationType.SOCIAL_SERVICES
        )
    return Agencies(own_organisation=own, social_services=social)


def agency_rows(session: Session, meeting: Meeting) -> list[tuple[str, Agencies]]:
    """(label, agencies) for every case on the agenda, in agenda order (the coordinator's overview)."""
    cases = item_cases(session, meeting)
    agencies = agencies_for(session, meeting, cases)
    return [(item_label(session, item), agencies[item.id]) for item in meeting.items if item.id in cases]
