"""The permission layer's rules that the route matrix cannot reach with one database: time windows,
changed e-mail addresses, organisations that take part in a consultation, and the SQL clause agreeing
with the per-object rule."""

from __future__ import annotations

from datetime import timedelta

from samrad.enums import CaseStatus, InviteeKind, OrganisationType, Role
from samrad.models import JoinRequest, StandingSeat, utcnow
from samrad.services import access, cases, invitations
from samrad.services.access import PRESENTER_LINK_LEAD, Action, actor_for
from tests.factories import (
    make_agenda_item,
    make_case,
    make_consultation,
    make_invitee,
    make_meeting,
    make_organisation,
    make_user,
)


def _may(session, user, action, obj, now=None):
    return access.may(session, actor_for(session, user), action, obj, now=now)


def test_a_presenter_gets_the_video_link_only_around_their_slot(session):
    consultation = make_consultation(session)
    meeting = make_meeting(session, consultation, video_url="https://video.example/rum")
    owner = make_organisation(session)
    make_agenda_item(session, meeting, None, position=0, duration_minutes=30)
    case = make_case(session, consultation, owner, status=CaseStatus.ON_AGENDA, meeting_id=meeting.id)
    item = make_agenda_item(session, meeting, case, position=1, duration_minutes=20)
    presenter = make_user(session)
    make_invitee(session, meeting, presenter, kind=InviteeKind.PRESENTER, item=item)
    slot_start = meeting.starts_at + timedelta(minutes=30)
    slot_end = slot_start + timedelta(minutes=20)
    at = {
        "the meeting starts": meeting.starts_at,
        "just before the lead": slot_start - PRESENTER_LINK_LEAD - timedelta(seconds=1),
        "the lead begins": slot_start - PRESENTER_LINK_LEAD,
        "the slot ends": slot_end,
        "just after the slot": slot_end + timedelta(seconds=1),
    }
    seen = {name: _may(session, presenter, Action.VIEW_VIDEO_LINK, meeting, now) for name, now in at.items()}
    assert seen == {
        "the meeting starts": False,
        "just before the lead": False,
        "the lead begins": True,
        "the slot ends": True,
        "just after the slot": False,
    }
    # Without a time there is no window: the link is refused rather than given.
    assert not _may(session, presenter, Action.VIEW_VIDEO_LINK, meeting, None)
    # Invitations and calendar files send a presenter samrad's own link, never the room.
    invitee = invitations.invitee_for_user(session, meeting, presenter)
    assert "video.example" not in invitations.video_link(consultation, meeting, invitee)


def test_standing_invitees_and_members_get_the_link_case_officers_do_not(session):
    consultation = make_consultation(session)
    meeting = make_meeting(session, consultation, video_url="https://video.example/rum")
    member = make_user(session, roles=["member"], consultation=consultation)
    officer = make_user(session, roles=["case_officer"], consultation=consultation)
    guest = make_user(session)
    make_invitee(session, meeting, guest, kind=InviteeKind.SUBSTITUTE)
    other = make_user(session, roles=["coordinator"], consultation=make_consultation(session))
    assert _may(session, member, Action.VIEW_VIDEO_LINK, meeting, utcnow())
    assert _may(session, guest, Action.VIEW_VIDEO_LINK, meeting, utcnow())
    assert not _may(session, officer, Action.VIEW_VIDEO_LINK, meeting, utcnow())
    assert not _may(session, other, Action.VIEW_VIDEO_LINK, meeting, utcnow())


def test_a_changed_address_matches_no_invitation_until_it_is_confirmed(session):
    """Invitations are matched by address: taking over someone's address must not take over their place."""
    consultation = make_consultation(session)
    meeting = make_meeting(session, consultation, published_version=1)
    owner = make_organisation(session)
    case = make_case(session, consultation, owner, status=CaseStatus.ON_AGENDA, meeting_id=meeting.id)
    item = make_agenda_item(session, meeting, case)
    make_invitee(
        session, meeting, None, kind=InviteeKind.PRESENTER, item=item, email="kollega@kommun.example"
    )
    person = make_user(session, email="ny@kommun.example")
    assert not _may(session, person, Action.VIEW_CASE, case)
    person.email, person.email_confirmed_at = "kollega@kommun.example", None
    session.flush()
    assert invitations.invitee_for_user(session, meeting, person) is None
    assert not _may(session, person, Action.VIEW_CASE, case)
    assert not _may(session, person, Action.VIEW_MEETING, meeting)
    person.email_confirmed_at = utcnow()
    session.flush()
    assert _may(session, person, Action.VIEW_CASE, case)


def test_organisations_take_part_through_the_county_a_seat_or_hosting(session):
    consultation = make_consultation(session, county="Norrbottens län")
    same_county = make_organisation(session, county="Norrbottens län")
    seated = make_organisation(session, county="Västerbottens län", type=OrganisationType.POLICE)
    elsewhere = make_organisation(session, county="Skåne län")
    session.add(StandingSeat(consultation_id=consultation.id, organisation_id=seated.id))
    session.flush()
    assert {o.id for o in access.participating_organisations(session, consultation)} >= {
        same_county.id,
        seated.id,
        consultation.host_organisation_id,
    }
    assert not access.takes_part(session, elsewhere, consultation)
    coordinator = make_user(session, roles=["coordinator"], consultation=consultation)
    other_coordinator = make_user(session, roles=["coordinator"], consultation=make_consultation(session))
    request = JoinRequest(consultation_id=consultation.id, name="N", email="n@x.example", role=Role.MEMBER)
    session.add(request)
    session.flush()
    actor = actor_for(session, coordinator)
    assert access.may_decide_join(session, actor, request, same_county)
    assert access.may_decide_join(session, actor, request, seated)
    assert not access.may_decide_join(session, actor, request, elsewhere)
    assert not access.may_decide_join(session, actor_for(session, other_coordinator), request, same_county)


def test_the_list_clause_agrees_with_the_rule_for_every_case_and_person(session):
    """case_clause (lists) and may(VIEW_CASE) (one case) are built from the same rules: check they agree."""
    a, b = make_consultation(session), make_consultation(session)
    org = make_organisation(session)
    meeting = make_meeting(session, a, published_version=1)
    people = [
        make_user(session, organisation=org, roles=["case_officer"], consultation=a),
        make_user(session, organisation=org, roles=["member"], consultation=a),
        make_user(session, organisation=org, roles=["case_officer"], consultation=b),
        make_user(session, organisation=org, roles=["statistics_viewer"], consultation=a),
        make_user(session, roles=["coordinator"], consultation=a),
        make_user(session, roles=["coordinator"], consultation=b),
        make_user(session, is_admin=True),
        make_user(session, roles=["member"], consultation=a),
    ]
    make_invitee(session, meeting, people[-1])
    every_case = []
    for consultation in (a, b):
        for status in CaseStatus:
            case = make_case(
                session,
                consultation,
                org,
                officer=people[0],
                status=status,
                meeting_id=meeting.id if consultation is a else None,
            )
            if consultation is a and status in access.SHARED:
                make_agenda_item(session, meeting, case)
            every_case.append(case)
    for person in people:
        actor = actor_for(session, person)
        listed = {c.id for c in cases.cases_visible_to(session, actor)}
        one_by_one = {c.id for c in every_case if access.may(session, actor, Action.VIEW_CASE, c)}
        assert listed == one_by_one, person.email
    # Drafts: only their writer; never the colleague with a role, never the coordinator.
    drafts = {c.id for c in every_case if c.status == CaseStatus.DRAFT and c.consultation_id == a.id}
    assert drafts <= {c.id for c in cases.cases_visible_to(session, actor_for(session, people[0]))}
    # Their draft in a consultation where they no longer hold a role: not even the writer.
    draft_in_b = next(c for c in every_case if c.status == CaseStatus.DRAFT and c.consultation_id == b.id)
    assert not access.may(session, actor_for(session, people[0]), Action.VIEW_CASE, draft_in_b)
    for person in people[1:]:
        assert not drafts & {c.id for c in cases.cases_visible_to(session, actor_for(session, person))}
