"""The permission layer's rules that the route matrix cannot reach with one database: time windows,
changed e-mail addresses, organisations that take part in a consultation, and the SQL clause agreeing
with the per-object rule."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import event
from sqlmodel import select

from samrad.enums import CaseStatus, InviteeKind, OrganisationType, Role
from samrad.models import Case, ConsultationRole, Invitee, JoinRequest, Membership, StandingSeat, utcnow
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
    return access.may(session, actor_for(user), action, obj, now=now)


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
    actor = actor_for(coordinator)
    assert access.may_decide_join(session, actor, request, same_county)
    assert access.may_decide_join(session, actor, request, seated)
    assert not access.may_decide_join(session, actor, request, elsewhere)
    assert not access.may_decide_join(session, actor_for(other_coordinator), request, same_county)


def test_where_a_person_may_bring_cases_is_the_rule_for_each_consultation_in_one_statement(session):
    # Three consultations an agency takes part in differently (hosting, a standing seat, the county) and
    # one it does not; people of each kind of membership and role in all of them.
    home = make_consultation(session, county="Norrbottens län")
    hosted_by = make_organisation(session, county="Skåne län")
    hosting = make_consultation(session, county="Västerbottens län", host=hosted_by)
    seated_in = make_consultation(session, county="Västerbottens län")
    not_in = make_consultation(session, county="Västerbottens län")
    local = make_organisation(session, county="Norrbottens län")
    session.add(StandingSeat(consultation_id=seated_in.id, organisation_id=local.id))
    every = [home, hosting, seated_in, not_in]
    people = [
        make_user(session, organisation=local, roles=["case_officer"], consultation=home),
        make_user(session, organisation=hosted_by, roles=["case_officer"], consultation=home),
        make_user(session, roles=["coordinator"], consultation=home),
        make_user(session, organisation=local, roles=["statistics_viewer"], consultation=home),
        make_user(session, organisation=local),
    ]
    both = make_user(session, organisation=local, roles=["case_officer"], consultation=seated_in)
    for consultation, role in ((home, Role.COORDINATOR), (hosting, Role.CASE_OFFICER), (not_in, Role.MEMBER)):
        session.add(ConsultationRole(user_id=both.id, consultation_id=consultation.id, role=role))
    session.add(Membership(user_id=both.id, organisation_id=hosted_by.id))
    session.flush()
    session.refresh(both)
    people.append(both)
    statements = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    for person in people:
        actor = actor_for(person)
        by_rule = sorted(c.id for c in every if access.may(session, actor, Action.SUBMIT_CASE, c))
        statements.clear()
        listed = sorted(c.id for c in access.consultations_where(session, actor, Action.SUBMIT_CASE))
        assert listed == by_rule, person.email
        assert len(statements) <= 1
    # Home through the county (as its coordinator), the hosting agency's and the seated one's, not the one
    # where no agency of theirs takes part.
    assert {c.id for c in access.consultations_where(session, actor_for(both), Action.SUBMIT_CASE)} == {
        home.id,
        hosting.id,
        seated_in.id,
    }


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
        actor = actor_for(person)
        listed = {c.id for c in cases.cases_visible_to(session, actor)}
        one_by_one = {c.id for c in every_case if access.may(session, actor, Action.VIEW_CASE, c)}
        assert listed == one_by_one, person.email
        # The ids-only question a page that links to cases asks (the published agenda) agrees.
        assert cases.visible_case_ids(session, actor, [c.id for c in every_case]) == one_by_one, person.email
    # Drafts: only their writer; never the colleague with a role, never the coordinator.
    drafts = {c.id for c in every_case if c.status == CaseStatus.DRAFT and c.consultation_id == a.id}
    assert drafts <= {c.id for c in cases.cases_visible_to(session, actor_for(people[0]))}
    # Their draft in a consultation where they no longer hold a role: not even the writer.
    draft_in_b = next(c for c in every_case if c.status == CaseStatus.DRAFT and c.consultation_id == b.id)
    assert not access.may(session, actor_for(people[0]), Action.VIEW_CASE, draft_in_b)
    for person in people[1:]:
        assert not drafts & {c.id for c in cases.cases_visible_to(session, actor_for(person))}


def test_a_kept_list_clause_is_never_another_persons():
    """case_clause is kept per actor: any difference in what the actor holds is another clause."""
    base = access.Actor(
        user_id=1,
        email="a@kommun.example",
        email_confirmed=True,
        organisation_ids=frozenset({1}),
        roles={1: frozenset({Role.CASE_OFFICER})},
    )
    changed = {
        "user_id": 2,
        "email": "b@kommun.example",
        "email_confirmed": False,
        "is_admin": True,
        "organisation_ids": frozenset({1, 2}),
        "roles": {1: frozenset({Role.CASE_OFFICER}), 2: frozenset({Role.COORDINATOR})},
    }
    assert set(changed) == {f.name for f in dataclasses.fields(access.Actor)}  # every field is tried
    kept = access.case_clause(base)
    assert access.case_clause(dataclasses.replace(base, roles=dict(base.roles))) is kept
    for name, value in changed.items():
        assert access.case_clause(dataclasses.replace(base, **{name: value})) is not kept, name
    assert str(access.case_clause(access.ANONYMOUS)) == "false"


def test_every_rule_on_one_county(session):
    """One consultation with a person of each kind and an object of each kind: who may do what, exactly.

    The route × role matrix proves the same through the web; this table reaches every branch of
    ``may`` with one database, so that `make mutation` can run it per mutant."""
    a = make_consultation(session, county="Norrbottens län")
    b = make_consultation(session, county="Norrbottens län")
    owner = make_organisation(session, name="Socialtjänsten Luleå")
    police = make_organisation(session, name="Polisen Nord", type=OrganisationType.POLICE)
    elsewhere = make_organisation(session, name="Socialtjänsten Malmö", county="Skåne län")
    published = make_meeting(session, a, published_version=1, video_url="https://video.example/rum")
    unpublished = make_meeting(session, a, starts_at=published.starts_at + timedelta(days=14))
    people = {
        "writer": make_user(session, organisation=owner, roles=["case_officer"], consultation=a),
        "colleague": make_user(session, organisation=owner, roles=["member"], consultation=a),
        "far_colleague": make_user(session, organisation=elsewhere, roles=["case_officer"], consultation=a),
        "in_b_only": make_user(session, organisation=owner, roles=["case_officer"], consultation=b),
        "coordinator": make_user(session, roles=["coordinator"], consultation=a),
        "coordinator_b": make_user(session, roles=["coordinator"], consultation=b),
        "viewer": make_user(session, organisation=owner, roles=["statistics_viewer"], consultation=a),
        "admin": make_user(session, is_admin=True),
        "standing": make_user(session, organisation=police, roles=["member"], consultation=a),
        "presenter": make_user(session),
        "outsider": make_user(session, organisation=owner),
    }
    writer = people["writer"]
    draft = make_case(session, a, owner, officer=writer, status=CaseStatus.DRAFT)
    submitted = make_case(session, a, owner, officer=writer)
    on_agenda = make_case(
        session, a, owner, officer=writer, status=CaseStatus.ON_AGENDA, meeting_id=published.id
    )
    planned = make_case(
        session, a, owner, officer=writer, status=CaseStatus.ACCEPTED, meeting_id=unpublished.id
    )
    in_b = make_case(session, b, owner, officer=people["in_b_only"])
    item = make_agenda_item(session, published, on_agenda)
    make_agenda_item(session, unpublished, planned)
    make_invitee(session, published, people["standing"])
    make_invitee(session, unpublished, people["standing"])
    make_invitee(session, published, people["presenter"], kind=InviteeKind.PRESENTER, item=item)
    join_request = JoinRequest(consultation_id=a.id, name="N", email="n@x.example", role=Role.MEMBER)
    session.add(join_request)
    session.flush()

    objects = {
        "None": None,
        "a": a,
        "draft": draft,
        "submitted": submitted,
        "on_agenda": on_agenda,
        "planned": planned,
        "in_b": in_b,
        "published": published,
        "unpublished": unpublished,
        "join_request": join_request,
    }
    everyone = set(people) | {"anonymous"}
    owning = {"writer", "colleague"}
    expected = {
        (Action.MANAGE_REGISTER, "None"): {"admin"},
        (Action.VIEW_ALL_MAIL, "None"): {"admin"},
        (Action.VIEW_OPERATIONS, "None"): {"admin", "coordinator", "coordinator_b"},
        (Action.VIEW_CONSULTATION, "a"): {
            "writer",
            "colleague",
            "far_colleague",
            "coordinator",
            "viewer",
            "standing",
        },
        (Action.MANAGE_CONSULTATION, "a"): {"coordinator"},
        (Action.REVIEW_COMMENTS, "a"): {"coordinator"},
        (Action.VIEW_STATISTICS, "a"): {"coordinator", "viewer"},
        # Only with an organisation that takes part (the county's, a seat's or the host's).
        (Action.SUBMIT_CASE, "a"): {"writer", "colleague", "standing"},
        (Action.VIEW_CASE, "draft"): {"writer"},
        (Action.EDIT_CASE, "draft"): {"writer"},
        (Action.VIEW_CASE, "submitted"): owning | {"coordinator"},
        (Action.EDIT_CASE, "submitted"): owning,
        (Action.WITHDRAW_CASE, "submitted"): owning,
        (Action.FOLLOW_UP_CASE, "submitted"): owning,
        (Action.CLOSE_CASE, "submitted"): owning | {"coordinator"},
        (Action.RETURN_CASE, "submitted"): {"coordinator"},
        (Action.PLAN_CASE, "submitted"): {"coordinator"},
        (Action.RETURN_CASE, "draft"): set(),
        (Action.CLOSE_CASE, "draft"): {"writer"},
        (Action.VIEW_CASE, "on_agenda"): owning | {"coordinator", "standing", "presenter"},
        (Action.EDIT_CASE, "on_agenda"): owning,
        (Action.VIEW_CASE, "planned"): owning | {"coordinator"},
        (Action.VIEW_CASE, "in_b"): {"in_b_only", "coordinator_b"},
        (Action.PLAN_CASE, "in_b"): {"coordinator_b"},
        (Action.VIEW_MEETING, "published"): {
            "writer",
            "colleague",
            "far_colleague",
            "coordinator",
            "viewer",
            "standing",
            "presenter",
        },
        (Action.VIEW_AGENDA, "published"): {"coordinator", "standing", "presenter"},
        (Action.VIEW_AGENDA, "unpublished"): {"coordinator"},
        (Action.VIEW_VIDEO_LINK, "published"): {"coordinator", "colleague", "standing"},
        (Action.MANAGE_MEETING, "published"): {"coordinator"},
        (Action.MANAGE_MEETING, "unpublished"): {"coordinator"},
        (Action.DECIDE_JOIN, "join_request"): {"coordinator"},
    }
    actors = {name: actor_for(user) for name, user in people.items()} | {"anonymous": access.ANONYMOUS}
    # Long before the meeting: the presenter's slot has not come, so no video link yet.
    early = published.starts_at - timedelta(days=1)
    actual = {
        (action, label): {
            name
            for name, actor in actors.items()
            if access.may(session, actor, action, objects[label], now=early)
        }
        for action, label in expected
    }
    assert actual == expected
    assert everyone - actual[(Action.VIEW_CASE, "on_agenda")] == {
        "far_colleague",
        "in_b_only",
        "coordinator_b",
        "viewer",
        "admin",
        "outsider",
        "anonymous",
    }

    # The lists agree: what each person sees, and "my cases" (as one of the owning agency).
    every_case = [draft, submitted, on_agenda, planned, in_b]
    names = {
        c.id: n
        for c, n in zip(every_case, ["draft", "submitted", "on_agenda", "planned", "in_b"], strict=True)
    }
    listed = {n: {names[c.id] for c in cases.cases_visible_to(session, actor)} for n, actor in actors.items()}
    mine = {
        n: {names[c.id] for c in cases.cases_visible_to(session, actor, own_organisation_only=True)}
        for n, actor in actors.items()
    }
    assert listed["writer"] == mine["writer"] == {"draft", "submitted", "on_agenda", "planned"}
    assert listed["colleague"] == mine["colleague"] == {"submitted", "on_agenda", "planned"}
    assert listed["coordinator"] == {"submitted", "on_agenda", "planned"} and mine["coordinator"] == set()
    assert listed["standing"] == {"on_agenda"} and mine["standing"] == set()
    assert listed["presenter"] == {"on_agenda"} and mine["presenter"] == set()
    assert listed["in_b_only"] == mine["in_b_only"] == {"in_b"}
    for name in ("viewer", "admin", "outsider", "anonymous", "far_colleague"):
        assert listed[name] == mine[name] == set(), name

    # Where each may do what, consultation by consultation.
    def where(name, action):
        return [c.id for c in access.consultations_where(session, actors[name], action)]

    assert where("writer", Action.SUBMIT_CASE) == [a.id]
    assert where("far_colleague", Action.SUBMIT_CASE) == []
    assert where("viewer", Action.VIEW_STATISTICS) == [a.id]
    assert where("coordinator_b", Action.VIEW_STATISTICS) == [b.id]
    assert where("anonymous", Action.VIEW_CONSULTATION) == []
    assert where("admin", Action.VIEW_CONSULTATION) == []
    assert [o.id for o in access.submitting_organisations(session, actors["writer"], a)] == [owner.id]
    assert access.submitting_organisations(session, actors["far_colleague"], a) == []
    assert access.submitting_organisations(session, actors["outsider"], a) == []
    assert access.submitting_organisations(session, actors["viewer"], a) == []

    # What the actor carries: identity only matches invitations; the full actor has the roles.
    standing = people["standing"]
    assert access.identity(standing) == access.Actor(
        user_id=standing.id, email=standing.email, email_confirmed=True
    )
    assert actors["standing"].roles == {a.id: frozenset({Role.MEMBER})}
    assert actors["standing"].organisation_ids == frozenset({police.id})
    assert actors["admin"].is_admin and not actors["coordinator"].is_admin
    assert actors["coordinator"].has_role(a.id) and not actors["coordinator"].has_role(b.id)
    assert actors["coordinator"].has_role(a.id, Role.COORDINATOR)
    assert not actors["coordinator"].has_role(a.id, Role.MEMBER, Role.CASE_OFFICER)
    assert access.actor_for(None) is access.ANONYMOUS
    assert access.actor_for(AnonymousUserMixin()) is access.ANONYMOUS
    assert access.invitation(session, actors["standing"], published).kind == InviteeKind.STANDING
    assert access.invitation(session, actors["outsider"], published) is None
    assert access.invitation(session, access.ANONYMOUS, published) is None
    assert {o.id for o in access.participating_organisations(session, a)} >= {owner.id, police.id}
    assert elsewhere.id not in {o.id for o in access.participating_organisations(session, a)}

    with pytest.raises(ValueError):
        access.may(session, actors["coordinator"], Action.VIEW_MEETING, submitted)
    with pytest.raises(ValueError):
        access.may(session, actors["coordinator"], Action.VIEW_CASE, published)
    with pytest.raises(ValueError):
        access.may(session, actors["coordinator"], Action.VIEW_CASE, a)
    with pytest.raises(ValueError):
        access.may(session, actors["coordinator"], Action.VIEW_CASE, join_request)


def test_a_case_is_shared_only_through_the_published_agenda_it_is_on(session):
    """The standing invitees of a meeting see the cases on its published agenda: not a case accepted for
    it that is not on the agenda yet, not one on an unpublished agenda, not one withdrawn."""
    a = make_consultation(session)
    owner = make_organisation(session)
    published = make_meeting(session, a, published_version=1)
    unpublished = make_meeting(session, a, starts_at=published.starts_at + timedelta(days=14))
    invited_to_both = make_user(session)
    invited_to_unpublished = make_user(session)
    make_invitee(session, published, invited_to_both)
    make_invitee(session, unpublished, invited_to_both)
    make_invitee(session, unpublished, invited_to_unpublished)
    on_agenda = make_case(session, a, owner, status=CaseStatus.ON_AGENDA, meeting_id=published.id)
    # Moved: on the published agenda of one meeting, since accepted for the next.
    moved = make_case(session, a, owner, status=CaseStatus.ACCEPTED, meeting_id=unpublished.id)
    on_unpublished = make_case(session, a, owner, status=CaseStatus.ON_AGENDA, meeting_id=unpublished.id)
    withdrawn = make_case(session, a, owner, status=CaseStatus.WITHDRAWN, meeting_id=published.id)
    for meeting, case in ((published, on_agenda), (published, moved), (unpublished, on_unpublished)):
        make_agenda_item(session, meeting, case)
    make_agenda_item(session, published, withdrawn)
    every_case = {
        "on_agenda": on_agenda,
        "moved": moved,
        "on_unpublished": on_unpublished,
        "withdrawn": withdrawn,
    }
    for person, expected in ((invited_to_both, {"on_agenda", "moved"}), (invited_to_unpublished, set())):
        actor = actor_for(person)
        one_by_one = {
            name for name, case in every_case.items() if access.may(session, actor, Action.VIEW_CASE, case)
        }
        listed = {c.id for c in cases.cases_visible_to(session, actor)}
        assert one_by_one == expected
        assert listed == {every_case[name].id for name in expected}


def test_my_cases_are_the_owning_agencys_in_consultations_where_the_person_submits(session):
    a, b = make_consultation(session), make_consultation(session)
    owner = make_organisation(session)
    writer = make_user(session, organisation=owner, roles=["case_officer"], consultation=a)
    viewer = make_user(session, organisation=owner, roles=["statistics_viewer"], consultation=a)
    in_b = make_user(session, organisation=owner, roles=["case_officer"], consultation=b)
    draft = make_case(session, a, owner, officer=writer, status=CaseStatus.DRAFT)
    submitted = make_case(session, a, owner, officer=writer)

    def owned(person):
        return set(session.exec(select(Case.id).where(access.owned_clause(actor_for(person)))))

    assert owned(writer) == {draft.id, submitted.id}
    assert owned(make_user(session, organisation=owner, roles=["member"], consultation=a)) == {submitted.id}
    assert owned(viewer) == set()
    assert owned(in_b) == set()
    assert set(session.exec(select(Case.id).where(access.owned_clause(access.ANONYMOUS)))) == set()


def test_an_invitation_that_belongs_to_an_account_is_not_matched_by_address(session):
    consultation = make_consultation(session)
    meeting = make_meeting(session, consultation)
    holder = make_user(session, email="forsta@kommun.example")
    make_invitee(session, meeting, holder, email="delad@kommun.example")
    make_invitee(session, meeting, None, email="ledig@kommun.example")
    same_address = make_user(session, email="delad@kommun.example")
    unclaimed = make_user(session, email="ledig@kommun.example")
    assert access.invitation(session, actor_for(same_address), meeting) is None
    assert access.invitation(session, actor_for(holder), meeting) is not None
    assert access.invitation(session, actor_for(unclaimed), meeting) is not None


def test_the_bound_halves_of_the_invitation_rule_match_what_the_rule_matches(session):
    """A statement built once asks :data:`access.INVITED_BY_ACCOUNT` and :data:`access.INVITED_BY_ADDRESS`
    (:func:`access.invited_values` bound) instead of :func:`access.invited_clause`: for every kind of
    person — with invitations by account and by address, an unconfirmed address, an address whose
    invitation is another account's, no account — the two find the same rows."""
    consultation = make_consultation(session)
    meeting = make_meeting(session, consultation)
    holder = make_user(session, email="forsta@kommun.example")
    make_invitee(session, meeting, holder, email="delad@kommun.example")
    make_invitee(session, meeting, None, email="ledig@kommun.example")
    make_invitee(session, meeting, None, email="obekraftad@kommun.example")
    make_invitee(session, make_meeting(session, consultation), None, email="forsta@kommun.example")
    people = [
        holder,
        make_user(session, email="delad@kommun.example"),
        make_user(session, email="ledig@kommun.example"),
        make_user(session, email="obekraftad@kommun.example", email_confirmed_at=None),
        make_user(session, email="ingen@kommun.example"),
    ]
    actors = [actor_for(p) for p in people] + [actor_for(AnonymousUserMixin())]
    found = []
    for actor in actors:
        ruled = set(session.exec(select(Invitee.id).where(access.invited_clause(actor))))
        halves = (
            select(Invitee.id)
            .where(access.INVITED_BY_ACCOUNT)
            .union_all(select(Invitee.id).where(access.INVITED_BY_ADDRESS))
        )
        bound = set(session.scalars(halves, access.invited_values(actor)))
        assert bound == ruled
        found.append(len(ruled))
    assert found == [2, 0, 1, 0, 0, 0]  # the holder's by account and by address; the free address's


def test_the_host_takes_part_from_another_county(session):
    host = make_organisation(session, county="Västerbottens län")
    consultation = make_consultation(session, county="Norrbottens län", host=host)
    assert access.takes_part(session, host, consultation)
    assert not access.takes_part(
        session, make_organisation(session, county="Västerbottens län"), consultation
    )


def test_lists_of_organisations_and_consultations_are_in_name_order(session):
    later = make_consultation(session, name="Samråd Östra")
    earlier = make_consultation(session, name="Samråd Arjeplog")
    second = make_organisation(session, name="Socialtjänsten Ö")
    first = make_organisation(session, name="Polisen A")
    person = make_user(session, organisation=second, roles=["case_officer"], consultation=later)
    session.add(Membership(user_id=person.id, organisation_id=first.id))
    session.add(ConsultationRole(user_id=person.id, consultation_id=earlier.id, role=Role.CASE_OFFICER))
    session.flush()
    session.refresh(person)
    actor = actor_for(person)
    assert [c.id for c in access.consultations_where(session, actor, Action.SUBMIT_CASE)] == [
        earlier.id,
        later.id,
    ]
    assert [o.id for o in access.submitting_organisations(session, actor, later)] == [first.id, second.id]
    names = [o.name for o in access.participating_organisations(session, later)]
    assert names == sorted(names) and {"Polisen A", "Socialtjänsten Ö"} <= set(names)


def test_a_presenter_without_an_agenda_item_uses_their_slot_times(session):
    consultation = make_consultation(session)
    meeting = make_meeting(session, consultation)
    start = meeting.starts_at + timedelta(minutes=40)
    with_slot = make_invitee(
        session,
        meeting,
        None,
        kind=InviteeKind.PRESENTER,
        email="hel@kommun.example",
        slot_starts_at=start,
        slot_ends_at=start + timedelta(minutes=20),
    )
    half = make_invitee(
        session, meeting, None, kind=InviteeKind.PRESENTER, email="halv@kommun.example", slot_starts_at=start
    )
    assert access.presenter_window(session, meeting, with_slot) == (
        start - PRESENTER_LINK_LEAD,
        start + timedelta(minutes=20),
    )
    assert access.presenter_window(session, meeting, half) is None
    # An item of another meeting says nothing about this one.
    other = make_meeting(session, consultation, starts_at=meeting.starts_at + timedelta(days=14))
    foreign_item = make_agenda_item(session, other, None)
    stray = make_invitee(
        session, meeting, None, kind=InviteeKind.PRESENTER, email="vilse@kommun.example", item=foreign_item
    )
    assert access.presenter_window(session, meeting, stray) is None


def test_questions_without_a_rule_are_refused_by_name(session):
    consultation = make_consultation(session)
    coordinator = actor_for(make_user(session, roles=["coordinator"], consultation=consultation))
    meeting = make_meeting(session, consultation)
    case = make_case(session, consultation, make_organisation(session))
    with pytest.raises(ValueError, match="view_meeting is not an action on a case"):
        access.may(session, coordinator, Action.VIEW_MEETING, case)
    with pytest.raises(ValueError, match="view_case is not an action on a meeting"):
        access.may(session, coordinator, Action.VIEW_CASE, meeting)
    with pytest.raises(ValueError, match="view_case is not an action on a consultation"):
        access.may(session, coordinator, Action.VIEW_CASE, consultation)
    with pytest.raises(ValueError, match="no rule for view_case on NoneType"):
        access.may(session, coordinator, Action.VIEW_CASE, None)
