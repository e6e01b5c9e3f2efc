"""The agenda: timing, the overflow proposal, building with a revision check, publishing versions with
notifications only to the people a change concerns, confidentiality, agencies per case, and the meeting
day (attendance, advice behind the guard, closing). Runs on SQLite and PostgreSQL."""

import json
import types
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlmodel import select

from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    Attendance,
    CaseCategory,
    CaseStatus,
    InviteeKind,
    MeetingStatus,
    Rsvp,
)
from samrad.models import AgendaVersion, CaseCategoryEntry, Invitee, OutboxMessage
from samrad.services import access, agenda, cases, evaluations, invitations, meetings
from samrad.services.access import Action, actor_for
from samrad.services.agenda.agencies import who_is_present
from tests.factories import make_case, make_invitee, make_meeting, make_team
from tests.races import read_by_both

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

LINK = "https://samrad.example/agenda"
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # Monday 13.00 Stockholm


def _recipients(session):
    return Counter(m.recipient for m in session.exec(select(OutboxMessage)))


def _setup(session, **kw):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"], **kw)
    return team, meeting


def _case(session, team, meeting, *, honour=False, submitted=None, minutes=20, **kw):
    kw.setdefault("status", CaseStatus.ACCEPTED)
    case = make_case(
        session,
        team["consultation"],
        kw.pop("organisation", team["kiruna"]),
        meeting_id=meeting.id if meeting else None,
        presentation_minutes=minutes,
        submitted_at=submitted or NOW - timedelta(days=3),
        officer_id=team["officer"].id,
        **kw,
    )
    if honour:
        case.categories = [CaseCategoryEntry(category=CaseCategory.HONOUR_VIOLENCE)]
    else:
        case.categories = [CaseCategoryEntry(category=CaseCategory.PARTNER_VIOLENCE)]
    session.flush()
    return case


def _add(session, meeting, case):
    return agenda.add_case(session, meeting, case, revision=meeting.agenda_revision, now=NOW)


def _publish(session, meeting, team, confirmed=False):
    return agenda.publish(
        session,
        meeting,
        actor=team["coordinator"],
        revision=meeting.agenda_revision,
        confirmed=confirmed,
        now=NOW,
        link=LINK,
    )


# --- Pure timing -----------------------------------------------------------------------------------


def test_item_times_run_from_the_meeting_start():
    items = [types.SimpleNamespace(duration_minutes=m) for m in (10, 25, 5)]
    times = agenda.item_times(START, items)
    assert [(t.starts_at.minute, t.ends_at.minute) for t in times] == [(0, 10), (10, 35), (35, 40)]
    assert agenda.item_times(START, []) == []


def test_overflow_proposal_moves_newest_non_honour_cases_until_it_fits():
    old, new, newest = (datetime(2026, 11, d, tzinfo=UTC) for d in (1, 5, 9))
    candidates = [
        agenda.Candidate(1, 20, False, old),
        agenda.Candidate(2, 20, False, new),
        agenda.Candidate(3, 30, True, newest),  # honour-related: never proposed
        agenda.Candidate(4, 15, False, newest),
    ]
    assert agenda.propose_moves(candidates, 0) == []
    assert agenda.propose_moves(candidates, 10) == [4]
    assert agenda.propose_moves(candidates, 30) == [4, 2]
    assert agenda.propose_moves(candidates, 500) == [4, 2, 1]


def test_queue_is_oldest_first_and_honour_related_first_when_time_is_short(session):
    team, meeting = _setup(session)
    older = _case(session, team, None, status=CaseStatus.SUBMITTED, submitted=NOW - timedelta(days=9))
    honour = _case(session, team, None, status=CaseStatus.SUBMITTED, honour=True)
    assert agenda.order_queue([honour, older], 120) == [older, honour]
    assert agenda.order_queue([older, honour], 30) == [honour, older]


# --- Building --------------------------------------------------------------------------------------


def test_building_keeps_order_and_durations_and_bumps_the_revision(session):
    team, meeting = _setup(session)
    case = _case(session, team, meeting, minutes=25)
    welcome = agenda.add_item(
        session, meeting, kind=AgendaItemKind.WELCOME, title="", duration=None, revision=0, now=NOW
    )
    item = _add(session, meeting, case)
    assert (item.duration_minutes, meeting.agenda_revision) == (25, 2)
    agenda.move_item(session, meeting, item.id, "up", revision=2, now=NOW)
    assert [i.id for i in meeting.items] == [item.id, welcome.id]
    agenda.reorder(session, meeting, [welcome.id, item.id], revision=3, now=NOW)
    agenda.set_duration(session, meeting, welcome.id, 15, revision=4, now=NOW)
    assert [(i.id, i.position, i.duration_minutes) for i in meeting.items] == [
        (welcome.id, 0, 15),
        (item.id, 1, 25),
    ]
    assert agenda.builder_cases(session, team["consultation"], meeting).accepted == []


def test_the_builder_reads_its_three_kinds_of_case_at_once_as_each_rule_has_them(session):
    """The items' cases, those accepted for the meeting and not on it, and the consultation's queue, read in
    one statement, are what the separate rules give: never a case of another meeting or consultation, a
    draft, a returned or discussed case; follow-ups wait with the submitted."""
    team, meeting = _setup(session)
    other_meeting = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=14))
    elsewhere = make_team(session)["consultation"]
    on_agenda = _case(session, team, meeting, submitted=NOW - timedelta(days=9))
    item = _add(session, meeting, on_agenda)
    accepted = _case(session, team, meeting, submitted=NOW - timedelta(days=8))
    later = _case(session, team, other_meeting, submitted=NOW - timedelta(days=7))
    waiting = _case(session, team, None, status=CaseStatus.SUBMITTED, submitted=NOW - timedelta(days=2))
    follow_up = _case(session, team, meeting, status=CaseStatus.FOLLOW_UP, submitted=NOW - timedelta(days=6))
    for status in (CaseStatus.DRAFT, CaseStatus.RETURNED, CaseStatus.DISCUSSED, CaseStatus.WITHDRAWN):
        _case(session, team, None, status=status)
    make_case(session, elsewhere, team["kiruna"], status=CaseStatus.SUBMITTED)
    read = agenda.builder_cases(session, team["consultation"], meeting)
    assert read.items == {item.id: on_agenda} == agenda.item_cases(session, meeting)
    assert read.accepted == [accepted]
    assert read.waiting == [follow_up, waiting]
    assert {c.id for c in read.waiting} == {c.id for c in cases.triage_queue(session, team["consultation"])}
    assert later not in read.accepted + read.waiting
    empty = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=28))
    assert agenda.builder_cases(session, team["consultation"], empty) == agenda.BuilderCases(
        items={}, accepted=[], waiting=[follow_up, waiting]
    )


def test_time_boxes_are_the_coming_planned_meetings_with_their_agendas_minutes(session):
    """The minutes the database adds up are the items' own: an empty agenda is 0, not missing; a meeting
    started, cancelled or of another consultation is no time box; at most ``limit``, soonest first."""
    team, meeting = _setup(session)
    agenda.add_item(session, meeting, kind=AgendaItemKind.WELCOME, title="", duration=10, revision=0, now=NOW)
    agenda.add_item(
        session, meeting, kind=AgendaItemKind.OTHER, title="Fika", duration=25, revision=1, now=NOW
    )
    empty = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=14))
    third = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=28))
    make_meeting(
        session, team["consultation"], starts_at=START + timedelta(days=7), status=MeetingStatus.CANCELLED
    )
    make_meeting(session, team["consultation"], starts_at=NOW - timedelta(hours=1))
    make_meeting(session, make_team(session)["consultation"], starts_at=START + timedelta(days=1))
    boxes = agenda.time_boxes(session, team["consultation"], now=NOW)
    assert [(b.meeting.id, b.minutes_used, b.minutes_free) for b in boxes] == [
        (meeting.id, 35, meeting.length_minutes - 35),
        (empty.id, 0, empty.length_minutes),
        (third.id, 0, third.length_minutes),
    ]
    assert [b.meeting.id for b in agenda.time_boxes(session, team["consultation"], now=NOW, limit=1)] == [
        meeting.id
    ]


def test_a_stale_revision_changes_nothing(session):
    team, meeting = _setup(session)
    agenda.add_item(session, meeting, kind=AgendaItemKind.WELCOME, title="", duration=10, revision=0, now=NOW)
    with pytest.raises(agenda.AgendaChanged):
        agenda.add_item(
            session, meeting, kind=AgendaItemKind.OTHER, title="Fika", duration=10, revision=0, now=NOW
        )
    with pytest.raises(agenda.AgendaChanged):
        agenda.reorder(session, meeting, [meeting.items[0].id, 999], revision=1, now=NOW)
    assert len(meeting.items) == 1 and meeting.agenda_revision == 1


@pytest.mark.parametrize("minutes", [4, 121, None])
def test_duration_outside_5_to_120_is_a_field_error(session, minutes):
    team, meeting = _setup(session)
    item = agenda.add_item(
        session, meeting, kind=AgendaItemKind.OTHER, title="x", duration=10, revision=0, now=NOW
    )
    with pytest.raises(agenda.AgendaRefused) as exc:
        agenda.set_duration(session, meeting, item.id, minutes, revision=1, now=NOW)
    assert exc.value.field == "duration" and meeting.items[0].duration_minutes == 10


def test_only_cases_accepted_for_this_meeting_go_on_it_and_not_in_the_past(session):
    team, meeting = _setup(session)
    other = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=14))
    elsewhere = _case(session, team, other)
    waiting = _case(session, team, None, status=CaseStatus.SUBMITTED)
    for case in (elsewhere, waiting):
        with pytest.raises(agenda.AgendaRefused):
            _add(session, meeting, case)
    past = make_meeting(session, team["consultation"], starts_at=NOW - timedelta(days=3))
    with pytest.raises(agenda.AgendaRefused):
        agenda.accept_for_meeting(session, past, waiting, actor=team["coordinator"], revision=0, now=NOW)
    assert waiting.status == CaseStatus.SUBMITTED


def test_fit_reports_overflow_and_proposes_cases(session):
    team, meeting = _setup(session, length_minutes=60)
    honour = _case(session, team, meeting, honour=True, minutes=30, submitted=NOW - timedelta(days=1))
    plain = _case(session, team, meeting, minutes=30, submitted=NOW - timedelta(days=5))
    agenda.add_item(session, meeting, kind=AgendaItemKind.WELCOME, title="", duration=10, revision=0, now=NOW)
    _add(session, meeting, honour)
    item = _add(session, meeting, plain)
    fit = agenda.agenda_fit(session, meeting)
    assert (fit.total, fit.overflow, fit.fits, fit.proposal) == (70, 10, False, [item.id])


def test_moving_a_case_to_a_later_meeting_tells_the_officer_without_case_text(session):
    team, meeting = _setup(session)
    later = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=14))
    case = _case(session, team, meeting, background="Hemlig bakgrund om familjen")
    _add(session, meeting, case)
    agenda.move_to_meeting(
        session, meeting, case, later, actor=team["coordinator"], revision=1, now=NOW, link=LINK
    )
    assert (case.status, case.meeting_id, meeting.items) == (CaseStatus.ACCEPTED, later.id, [])
    [mail] = session.exec(select(OutboxMessage)).all()
    assert mail.recipient == team["officer"].email and case.reference in mail.subject
    assert "Hemlig" not in mail.body_text + mail.body_html + mail.subject


def test_cases_that_missed_the_deadline_go_to_the_next_meeting(session):
    team, meeting = _setup(session, case_deadline_at=NOW - timedelta(hours=1))
    later = make_meeting(session, team["consultation"], starts_at=START + timedelta(days=14))
    case = _case(session, team, None, status=CaseStatus.SUBMITTED, requested_meeting_id=meeting.id)
    moved = agenda.roll_over_missed(session, meeting, now=NOW, link_for=lambda c: LINK)
    assert moved == [case] and case.requested_meeting_id == later.id
    assert _recipients(session) == {team["officer"].email: 1}


# --- Publishing ------------------------------------------------------------------------------------


def test_publishing_an_empty_or_overflowing_agenda_needs_confirmation(session):
    team, meeting = _setup(session, length_minutes=30)
    with pytest.raises(agenda.ConfirmationNeeded) as exc:
        _publish(session, meeting, team)
    assert exc.value.empty and meeting.published_version == 0
    agenda.add_item(
        session, meeting, kind=AgendaItemKind.COMPETENCE, title="", duration=45, revision=0, now=NOW
    )
    with pytest.raises(agenda.ConfirmationNeeded) as exc:
        _publish(session, meeting, team)
    assert exc.value.overflow == 15
    assert _publish(session, meeting, team, confirmed=True).version == 1


def test_publish_versions_with_change_lists_and_case_lifecycle(session):
    team, meeting = _setup(session)
    first = _case(session, team, meeting, reference="UNA-2026-014")
    second = _case(session, team, meeting, reference="UNA-2026-015")
    agenda.add_item(session, meeting, kind=AgendaItemKind.WELCOME, title="", duration=10, revision=0, now=NOW)
    _add(session, meeting, first)
    v1 = _publish(session, meeting, team)
    assert (v1.version, meeting.published_version, first.status) == (1, 1, CaseStatus.ON_AGENDA)
    assert [row["reference"] for row in json.loads(v1.snapshot)] == [None, "UNA-2026-014"]
    with pytest.raises(agenda.AgendaRefused):
        _publish(session, meeting, team)  # nothing changed

    welcome = meeting.items[0]
    agenda.set_duration(session, meeting, welcome.id, 30, revision=meeting.agenda_revision, now=NOW)
    _add(session, meeting, second)
    v2 = _publish(session, meeting, team)
    assert agenda.version_lines(meeting, v2) == [
        "Välkommen och regler tar nu 30 minuter",
        "Ärende UNA-2026-014 flyttat till 13.30",
        "Nytt: Ärende UNA-2026-015 kl. 13.50",
    ]
    with force_locale("en"):
        assert agenda.version_lines(meeting, v2)[1:] == [
            "Case UNA-2026-014 moved to 13:30",
            "New: Case UNA-2026-015 at 13:50",
        ]
    item = next(i for i in meeting.items if i.case_id == first.id)
    agenda.remove_item(session, meeting, item.id, revision=meeting.agenda_revision, now=NOW)
    v3 = _publish(session, meeting, team)
    assert json.loads(v3.changes)[-1]["change"] == "removed"
    assert (first.status, first.meeting_id) == (CaseStatus.SUBMITTED, None)  # back in the queue
    assert second.status == CaseStatus.ON_AGENDA
    assert len(session.exec(select(AgendaVersion).where(AgendaVersion.meeting_id == meeting.id)).all()) == 3


def test_publish_notifies_only_affected_people(session):
    team, meeting = _setup(session)
    invitations.send_invitations(session, meeting, now=NOW)
    first = _case(session, team, meeting, presenter_email="presentator@kiruna.example", background="Känslig")
    second = _case(session, team, meeting, presenter_email="annan@kiruna.example")
    _add(session, meeting, first)
    _add(session, meeting, second)
    for m in session.exec(select(OutboxMessage)):
        session.delete(m)
    session.flush()

    _publish(session, meeting, team)
    standing = {team["coordinator"].email, team["polis"].email, team["soc"].email}
    assert _recipients(session) == Counter(
        {**{e: 1 for e in standing}, "presentator@kiruna.example": 1, "annan@kiruna.example": 1}
    )
    for m in session.exec(select(OutboxMessage)):
        assert "Känslig" not in m.body_text + m.body_html + m.subject + (m.ics or "")
        assert first.reference not in m.body_text + m.subject
        session.delete(m)
    session.flush()

    # The second case gets longer: only its presenter's slot changes.
    agenda.set_duration(session, meeting, meeting.items[1].id, 40, revision=meeting.agenda_revision, now=NOW)
    _publish(session, meeting, team)
    assert _recipients(session) == Counter({**{e: 1 for e in standing}, "annan@kiruna.example": 1})
    for m in session.exec(select(OutboxMessage)):
        session.delete(m)
    session.flush()

    agenda.remove_item(session, meeting, meeting.items[1].id, revision=meeting.agenda_revision, now=NOW)
    _publish(session, meeting, team)
    assert _recipients(session) == Counter({**{e: 1 for e in standing}, "annan@kiruna.example": 1})
    cancel = session.exec(
        select(OutboxMessage).where(OutboxMessage.recipient == "annan@kiruna.example")
    ).one()
    assert cancel.ics_method == "CANCEL"
    removed = invitations.invitee_by_email(session, meeting, "annan@kiruna.example")
    assert removed.removed_at is not None


def test_the_publish_plan_names_exactly_who_publishing_then_tells(session):
    """The builder shows the plan before the click: at each step it matches the e-mails publish queues."""
    team, meeting = _setup(session)
    invitations.send_invitations(session, meeting, now=NOW)
    first = _case(session, team, meeting, presenter_email="presentator@kiruna.example")
    second = _case(session, team, meeting, presenter_email="annan@kiruna.example")
    _add(session, meeting, first)
    _add(session, meeting, second)
    standing = sorted(team[k].name for k in ("coordinator", "polis", "soc"))

    def publish_and_recipients() -> Counter:
        for m in session.exec(select(OutboxMessage)):
            session.delete(m)
        session.flush()
        _publish(session, meeting, team)
        return _recipients(session)

    plan = agenda.publish_plan(session, meeting)
    assert plan == agenda.PublishPlan(
        tuple(standing), ("annan@kiruna.example", "presentator@kiruna.example"), ()
    )
    assert sum(publish_and_recipients().values()) == plan.people == 5

    agenda.set_duration(session, meeting, meeting.items[1].id, 40, revision=meeting.agenda_revision, now=NOW)
    plan = agenda.publish_plan(session, meeting)
    assert (plan.presenters_invited, plan.presenters_cancelled) == (("annan@kiruna.example",), ())
    assert publish_and_recipients()["annan@kiruna.example"] == 1 and plan.people == 4

    agenda.remove_item(session, meeting, meeting.items[1].id, revision=meeting.agenda_revision, now=NOW)
    plan = agenda.publish_plan(session, meeting)
    assert (plan.presenters_invited, plan.presenters_cancelled) == ((), ("annan@kiruna.example",))
    assert publish_and_recipients() == Counter(
        {
            **dict.fromkeys((team[k].email for k in ("coordinator", "polis", "soc")), 1),
            "annan@kiruna.example": 1,
        }
    )

    # Someone who leaves the register is no longer told.
    team["soc"].is_active = False
    session.flush()
    assert team["soc"].name not in agenda.publish_plan(session, meeting).told


def test_cancelling_a_meeting_releases_its_cases(session):
    team, meeting = _setup(session)
    case = _case(session, team, meeting)
    _add(session, meeting, case)
    _publish(session, meeting, team)
    meetings.cancel_meeting(session, meeting, revision=meeting.revision, now=NOW)
    assert (case.status, case.meeting_id) == (CaseStatus.SUBMITTED, None)


# --- Confidentiality and visibility -----------------------------------------------------------------


def test_invitees_confirm_confidentiality_once_per_meeting(session):
    team, meeting = _setup(session)
    invitations.send_invitations(session, meeting, now=NOW)
    case = _case(session, team, meeting)
    _add(session, meeting, case)

    def who(name):
        return actor_for(team[name])

    assert not access.may(session, who("polis"), Action.VIEW_AGENDA, meeting)
    _publish(session, meeting, team)
    assert access.may(session, who("polis"), Action.VIEW_AGENDA, meeting)
    assert agenda.confidentiality_gate(session, who("polis"), case) == meeting
    assert agenda.confidentiality_gate(session, who("coordinator"), case) is None
    assert agenda.confidentiality_gate(session, who("soc"), case) is None  # the case's own organisation
    agenda.confirm_confidentiality(session, meeting, team["polis"], now=NOW)
    assert agenda.confidentiality_gate(session, who("polis"), case) is None
    invitee = invitations.invitee_for_user(session, meeting, team["polis"])
    assert invitee.confidentiality_confirmed_at == NOW


# --- Agencies, the meeting day ---------------------------------------------------------------------


def test_agencies_needed_for_a_child_case(session):
    team, meeting = _setup(session)
    invitations.send_invitations(session, meeting, now=NOW)
    police_case = _case(session, team, meeting, organisation=team["police"], age_band=AgeBand.CHILD)
    soc = invitations.invitee_for_user(session, meeting, team["soc"])
    polis = invitations.invitee_for_user(session, meeting, team["polis"])
    result = agenda.agencies_present(session, meeting, police_case)
    assert (result.own_organisation, result.social_services, result.ok) == (False, False, False)
    polis.rsvp = Rsvp.VIA_LINK
    soc.rsvp = Rsvp.ON_SITE
    session.flush()
    assert agenda.agencies_present(session, meeting, police_case).ok
    soc.attendance = Attendance.ABSENT  # attendance, once recorded, counts over the answer
    session.flush()
    assert agenda.agencies_present(session, meeting, police_case).social_services is False
    adult = _case(session, team, meeting, organisation=team["police"], age_band=AgeBand.ADULT)
    assert agenda.agencies_present(session, meeting, adult).social_services is None


def test_a_presenter_who_comes_stands_for_the_case_organisation_even_without_an_account(session):
    """The case's own organisation counts as present through its presenter: a guest (no account, so no
    organisation) who answered that they come; not one who has not answered, said no or was removed."""
    team, meeting = _setup(session)
    police = team["police"]
    case = _case(session, team, meeting, organisation=police, presenter_email="Kollega@Polisen.example")
    item = _add(session, meeting, case)
    guest = make_invitee(
        session, meeting, None, kind=InviteeKind.PRESENTER, item=item, email="kollega@polisen.example"
    )
    assert agenda.agencies_present(session, meeting, case).own_organisation is False
    for rsvp, comes in ((Rsvp.ON_SITE, True), (Rsvp.VIA_LINK, True), (Rsvp.CANNOT_ATTEND, False)):
        guest.rsvp = rsvp
        session.flush()
        assert agenda.agencies_present(session, meeting, case).own_organisation is comes
    guest.rsvp, guest.removed_at = Rsvp.ON_SITE, NOW
    session.flush()
    assert agenda.agencies_present(session, meeting, case).own_organisation is False
    # Nobody present: a presenter answering is not taken as any organisation or type being at the table.
    guest.removed_at = None
    session.flush()
    present = who_is_present(session, meeting)
    assert (present.organisation_ids, present.types) == (frozenset(), frozenset())
    assert present.presenter_emails == {"kollega@polisen.example"}


def _held(session, *, presenter=""):
    team, meeting = _setup(session)
    invitations.send_invitations(session, meeting, now=NOW)
    case = _case(session, team, meeting, presenter_email=presenter)
    _add(session, meeting, case)
    _publish(session, meeting, team)
    return team, meeting, case, NOW.replace(year=2026, month=11, day=30, hour=13)


def test_attendance_is_recorded_on_the_day(session):
    team, meeting, case, day = _held(session)
    polis = invitations.invitee_for_user(session, meeting, team["polis"])
    with pytest.raises(agenda.AgendaRefused):
        agenda.record_attendance(session, meeting, polis, Attendance.ON_SITE, now=NOW)
    agenda.record_attendance(session, meeting, polis, Attendance.VIA_LINK, now=day)
    assert polis.attendance == Attendance.VIA_LINK


def test_advice_passes_the_guard_and_marks_the_case_discussed(session):
    team, meeting, case, day = _held(session)
    item = meeting.items[0]
    with pytest.raises(agenda.AdviceRefused) as exc:
        agenda.record_advice(
            session, meeting, item.id, advice="Ring 070-123 45 67", follow_up=False, discussed=True, now=day
        )
    assert exc.value.blocking and item.advice == "" and case.status == CaseStatus.ON_AGENDA
    text = "Ärendeägaren rekommenderas att göra en ny riskbedömning med Patriark."
    agenda.record_advice(session, meeting, item.id, advice=text, follow_up=True, discussed=True, now=day)
    assert (item.advice, item.follow_up_wanted, item.discussed_at) == (text, True, day)
    assert case.status == CaseStatus.FOLLOW_UP


def test_advice_warnings_need_confirmation(session):
    team, meeting, case, day = _held(session)
    item = meeting.items[0]
    text = "Rådet är att prata med Fatima Hassan igen."
    with pytest.raises(agenda.AdviceRefused) as exc:
        agenda.record_advice(
            session, meeting, item.id, advice=text, follow_up=False, discussed=False, now=day
        )
    assert not exc.value.blocking
    digest = exc.value.guard.digest
    agenda.record_advice(
        session,
        meeting,
        item.id,
        advice=text,
        follow_up=False,
        discussed=False,
        confirmed_digest=digest,
        now=day,
    )
    assert item.advice == text and case.status == CaseStatus.ON_AGENDA


def test_closing_releases_undiscussed_cases_and_leaves_the_evaluation_to_the_caller(session):
    team, meeting, case, day = _held(session)
    with pytest.raises(agenda.AgendaRefused):
        agenda.close_meeting(session, meeting, now=NOW)  # not started
    agenda.close_meeting(session, meeting, now=day)
    assert (meeting.status, meeting.closed_at) == (MeetingStatus.CLOSED, day)
    assert case.status == CaseStatus.SUBMITTED  # not discussed: back in the queue
    # The page that closes the meeting opens the evaluation (with its settings); the service does not.
    assert evaluations.evaluation_of(session, meeting) is None
    with pytest.raises(agenda.AgendaRefused):
        agenda.close_meeting(session, meeting, now=day)


def test_a_discussed_case_stays_discussed_when_the_meeting_closes(session):
    team, meeting, case, day = _held(session)
    agenda.record_advice(
        session, meeting, meeting.items[0].id, advice="", follow_up=False, discussed=True, now=day
    )
    agenda.close_meeting(session, meeting, now=day)
    assert case.status == CaseStatus.DISCUSSED


def test_presenter_invitee_kind_is_slot_only(session):
    team, meeting, case, day = _held(session, presenter="gast@kiruna.example")
    invitee = invitations.invitee_by_email(session, meeting, "gast@kiruna.example")
    assert invitee.kind == InviteeKind.PRESENTER and invitee.agenda_item_id == meeting.items[0].id
    assert session.exec(select(Invitee).where(Invitee.meeting_id == meeting.id)).all()


# --- The demo --------------------------------------------------------------------------------------


def test_demo_agendas_pass_the_guard_and_cover_held_and_next_meetings(session):
    from samrad import demo
    from samrad.deidentify import scan
    from samrad.demo import agenda as demo_agenda
    from samrad.models import AgendaItem, Meeting

    for text in demo_agenda.ADVICE:
        assert scan(text) == [], text
    demo.seed_demo(session, seed=42, password="pulka-isvak-kaffe-91")
    all_meetings = session.exec(select(Meeting).order_by(Meeting.starts_at)).all()
    # The five meetings of the 2019–2020 evaluation report come without agendas (from_series=False).
    held = [m for m in all_meetings if m.status == MeetingStatus.CLOSED and m.from_series]
    assert held and all(m.published_version == 1 for m in held)
    discussed = session.exec(select(AgendaItem).where(AgendaItem.discussed_at.is_not(None))).all()
    assert len(discussed) >= len(held) and all(i.advice and scan(i.advice) == [] for i in discussed)
    following = next(m for m in all_meetings if m.status == MeetingStatus.PLANNED and m.published_version)
    case_items = [i for i in following.items if i.case_id]
    assert len(case_items) == 3 and agenda.snapshot(session, following)[0]["kind"] == "welcome"
    assert session.exec(select(OutboxMessage)).all() == []


@pytest.mark.postgres
def test_two_changes_made_from_the_same_revision_at_the_same_time_do_not_both_land(postgres_url, tmp_path):
    """Two coordinators change the agenda at once from the same page (the same revision). At PostgreSQL's
    READ COMMITTED both requests read the agenda before either writes; the second must be refused as
    changed meanwhile, not write its stale order over the first (a lost change)."""
    from sqlmodel import Session

    from samrad import db
    from samrad.models import Meeting, User
    from tests.conftest import schema_app

    app = schema_app(postgres_url, tmp_path)
    with app.app_context():
        engine = db.get_engine()
        with Session(engine, expire_on_commit=False) as s:
            _, meeting = _setup(s)
            for title, revision in (("Välkommen", 0), ("Fika", 1)):
                agenda.add_item(
                    s,
                    meeting,
                    kind=AgendaItemKind.OTHER,
                    title=title,
                    duration=10,
                    revision=revision,
                    now=NOW,
                )
            s.commit()
            meeting_id, (first, second) = meeting.id, [i.id for i in meeting.items]
        with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
            seen_by_a, seen_by_b = a.get(Meeting, meeting_id), b.get(Meeting, meeting_id)
            assert [i.id for i in seen_by_a.items] == [i.id for i in seen_by_b.items] == [first, second]
            agenda.reorder(a, seen_by_a, [second, first], revision=2, now=NOW)
            a.commit()
            with pytest.raises(agenda.AgendaChanged):
                agenda.set_duration(b, seen_by_b, first, 30, revision=2, now=NOW)
            b.rollback()
        with Session(engine) as s:
            stored = s.get(Meeting, meeting_id)
            assert stored.agenda_revision == 3
            assert [(i.id, i.duration_minutes) for i in stored.items] == [(second, 10), (first, 10)]
        # Publishing from a page read before someone else's change publishes nothing and tells nobody.
        with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
            seen_by_a, seen_by_b = a.get(Meeting, meeting_id), b.get(Meeting, meeting_id)
            assert [i.id for i in seen_by_b.items] == [second, first]
            agenda.reorder(a, seen_by_a, [first, second], revision=3, now=NOW)
            a.commit()
            coordinator = b.exec(select(User).where(User.email.startswith("samordnare"))).first()
            with pytest.raises(agenda.AgendaChanged):
                agenda.publish(
                    b, seen_by_b, actor=coordinator, revision=3, confirmed=True, now=NOW, link=LINK
                )
            b.rollback()
        with Session(engine) as s:
            stored = s.get(Meeting, meeting_id)
            assert (stored.agenda_revision, stored.published_version) == (4, 0)
            assert [i.id for i in stored.items] == [first, second]
            assert s.exec(select(AgendaVersion)).all() == [] and s.exec(select(OutboxMessage)).all() == []
        # Two publishes at once: one version, and the second is told the agenda changed (not a server error).
        with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
            seen_by_a, seen_by_b = a.get(Meeting, meeting_id), b.get(Meeting, meeting_id)
            assert seen_by_b.items and seen_by_a.agenda_revision == seen_by_b.agenda_revision == 4
            for s in (a, b):
                s.info["coordinator"] = s.exec(
                    select(User).where(User.email.startswith("samordnare"))
                ).first()
            agenda.publish(
                a, seen_by_a, actor=a.info["coordinator"], revision=4, confirmed=True, now=NOW, link=LINK
            )
            a.commit()
            with pytest.raises(agenda.AgendaChanged):
                agenda.publish(
                    b, seen_by_b, actor=b.info["coordinator"], revision=4, confirmed=True, now=NOW, link=LINK
                )
            b.rollback()
        with Session(engine) as s:
            assert [v.version for v in s.exec(select(AgendaVersion))] == [1]
            assert (
                s.get(Meeting, meeting_id).agenda_revision,
                s.get(Meeting, meeting_id).published_version,
            ) == (
                5,
                1,
            )
        engine.dispose()


def test_a_case_accepted_from_a_page_read_before_the_meeting_was_cancelled_is_refused(shared_db_app):
    """The coordinator accepts a case from the queue for a meeting that a colleague cancels at the same
    moment. Both read the meeting as planned before either writes (PostgreSQL's READ COMMITTED; on SQLite
    the queue's checks read before the write transaction): the acceptance must be refused as an agenda
    changed meanwhile, not put the case on the cancelled meeting's agenda."""
    from sqlmodel import Session

    from samrad import db
    from samrad.models import Case, Meeting, User

    with shared_db_app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            team, meeting = _setup(s, starts_at=START)
            case = make_case(
                s, team["consultation"], team["kiruna"], officer=team["officer"], status=CaseStatus.SUBMITTED
            )
            s.commit()
            ids = meeting.id, case.id, team["coordinator"].id

        def read(x):
            return (x.get(Meeting, ids[0]), x.get(Case, ids[1]), x.get(User, ids[2]))

        with read_by_both(engine, read) as ((a, (meeting_a, _, _)), (b, (meeting_b, case_b, coordinator_b))):
            meetings.cancel_meeting(a, meeting_a, revision=meeting_a.revision, now=NOW)
            a.commit()
            with pytest.raises(agenda.AgendaChanged):
                agenda.accept_onto_agenda(b, meeting_b, case_b, actor=coordinator_b, now=NOW)
            b.rollback()
        with Session(engine) as s:
            stored = s.get(Case, ids[1])
            assert (stored.status, stored.meeting_id) == (CaseStatus.SUBMITTED, None)
            assert (s.get(Meeting, ids[0]).status, s.get(Meeting, ids[0]).items) == (
                MeetingStatus.CANCELLED,
                [],
            )
