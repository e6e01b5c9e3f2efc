"""Meeting series, single-meeting changes, invitations with calendar files, answers and feeds.

Runs on SQLite and PostgreSQL (the ``session`` fixture). Every calendar file is parsed back with
icalendar, vobject and ics (tests/icscheck.py).
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlmodel import select

from samrad.enums import CaseStatus, InviteeKind, MeetingStatus, Role, Rsvp, VideoProvider, Weekday
from samrad.models import BreakPeriod, ConsultationRole, Invitee, Meeting, OutboxMessage
from samrad.services import feeds, invitations, meetings
from tests.factories import (
    make_agenda_item,
    make_case,
    make_meeting,
    make_municipality,
    make_team,
    make_user,
)
from tests.icscheck import check_ics
from tests.races import read_by_both

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _outbox(session):
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _series(session, consultation):
    return list(
        session.exec(
            select(Meeting).where(Meeting.consultation_id == consultation.id).order_by(Meeting.starts_at)
        )
    )


def _event(message):
    [event] = Calendar.from_ical(message.ics).events
    return event


# --- The series ------------------------------------------------------------------------------------


def test_extend_series_every_other_monday_at_13_stockholm_time(session):
    team = make_team(session, case_deadline_days=7)
    consultation = team["consultation"]
    created = meetings.extend_series(session, consultation, until=date(2027, 1, 31), now=NOW)
    # From Fri 20 Nov: Mon 23 Nov, 7 Dec, 21 Dec, 4 Jan, 18 Jan; nothing on holidays in between.
    assert [m.starts_at for m in created] == [
        datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 21, 12, 0, tzinfo=UTC),
        datetime(2027, 1, 4, 12, 0, tzinfo=UTC),
        datetime(2027, 1, 18, 12, 0, tzinfo=UTC),
    ]
    first = created[0]
    assert first.series_date == date(2026, 11, 23) and first.from_series
    assert first.case_deadline_at == datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    assert (first.place, first.length_minutes, first.status, first.ics_sequence) == (
        consultation.place,
        120,
        MeetingStatus.PLANNED,
        0,
    )
    assert first.video_url == ""  # the factory's consultation has no video link


def test_summer_meetings_keep_13_00_and_the_deadline_crosses_daylight_saving(session):
    consultation = make_team(session, weekday=Weekday.MONDAY, rhythm_weeks=1)["consultation"]
    created = meetings.extend_series(
        session, consultation, until=date(2027, 4, 5), now=datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
    )
    # Mon 22 Mar in winter time; Annandag påsk (29 Mar) is skipped; Mon 5 Apr in summer time.
    assert [m.starts_at for m in created] == [
        datetime(2027, 3, 22, 12, 0, tzinfo=UTC),
        datetime(2027, 4, 5, 11, 0, tzinfo=UTC),
    ]
    assert created[1].case_deadline_at == datetime(2027, 3, 29, 11, 0, tzinfo=UTC)  # 13:00 CEST
    assert meetings.case_deadline(datetime(2027, 4, 1, 11, 0, tzinfo=UTC), 7) == datetime(
        2027, 3, 25, 12, 0, tzinfo=UTC
    )  # 13:00 CET a week before


def test_extend_series_is_idempotent_and_never_recreates_moved_or_cancelled_meetings(session):
    consultation = make_team(session)["consultation"]
    created = meetings.extend_series(session, consultation, until=date(2026, 12, 31), now=NOW)
    assert len(created) == 3
    moved, cancelled = created[0], created[1]
    meetings.move_meeting(
        session, moved, day=date(2026, 11, 24), at=time(9, 0), place="Boden", revision=0, now=NOW
    )
    meetings.cancel_meeting(session, cancelled, revision=0, now=NOW)
    assert meetings.extend_series(session, consultation, until=date(2026, 12, 31), now=NOW) == []
    assert len(_series(session, consultation)) == 3
    assert [
        m.series_date for m in meetings.extend_series(session, consultation, until=date(2027, 1, 10), now=NOW)
    ] == [date(2027, 1, 4)]


def test_extend_series_skips_break_periods_and_only_creates_future_meetings(session):
    consultation = make_team(session)["consultation"]
    session.add(
        BreakPeriod(
            consultation_id=consultation.id,
            label="Jul och nyår",
            first_day=date(2026, 12, 19),
            last_day=date(2027, 1, 6),
        )
    )
    now = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # the 23 Nov meeting has started
    created = meetings.extend_series(session, consultation, until=date(2027, 1, 31), now=now)
    assert [m.series_date for m in created] == [date(2026, 12, 7), date(2027, 1, 18)]
    skipped = meetings.planned_slots(session, consultation, first=date(2026, 12, 1), last=date(2027, 1, 10))
    assert [(s.day, s.skipped) for s in skipped] == [
        (date(2026, 12, 7), None),
        (date(2026, 12, 21), "Jul och nyår"),
        (date(2027, 1, 4), "Jul och nyår"),
    ]


def test_history_can_be_seeded_with_since(session):
    consultation = make_team(session)["consultation"]
    created = meetings.extend_series(
        session, consultation, since=date(2026, 10, 1), until=date(2026, 11, 1), now=NOW
    )
    assert [m.series_date for m in created] == [date(2026, 10, 5), date(2026, 10, 19)]


def test_jitsi_gives_every_meeting_its_own_unguessable_room_and_static_the_one_link(session):
    jitsi = make_team(session, video_provider=VideoProvider.JITSI, video_url="https://meet.jit.si/")[
        "consultation"
    ]
    a, b = meetings.extend_series(session, jitsi, until=date(2026, 12, 10), now=NOW)
    assert a.video_url.startswith("https://meet.jit.si/") and b.video_url.startswith("https://meet.jit.si/")
    assert a.video_url != b.video_url and len(a.video_url.rsplit("/", 1)[1]) == 24
    static = make_team(session, video_provider=VideoProvider.STATIC, video_url="https://teams.example/room")[
        "consultation"
    ]
    assert {
        m.video_url for m in meetings.extend_series(session, static, until=date(2026, 12, 10), now=NOW)
    } == {"https://teams.example/room"}


# --- Single meetings -------------------------------------------------------------------------------


def test_add_a_single_meeting_and_refuse_past_or_nonexistent_times(session):
    consultation = make_team(session)["consultation"]
    meeting = meetings.add_meeting(
        session, consultation, day=date(2026, 12, 3), at=time(9, 30), place=" Kiruna stadshus ", now=NOW
    )
    assert (meeting.starts_at, meeting.place, meeting.from_series, meeting.series_date) == (
        datetime(2026, 12, 3, 8, 30, tzinfo=UTC),
        "Kiruna stadshus",
        False,
        None,
    )
    with pytest.raises(meetings.MeetingRefused) as past:
        meetings.add_meeting(session, consultation, day=date(2026, 11, 20), at=time(9, 0), place="X", now=NOW)
    assert past.value.field == "date"
    with pytest.raises(meetings.MeetingRefused) as missing_hour:
        meetings.add_meeting(session, consultation, day=date(2027, 3, 28), at=time(2, 30), place="X", now=NOW)
    assert missing_hour.value.field == "time"


def test_move_checks_revision_past_and_new_time(session):
    consultation = make_team(session)["consultation"]
    meeting = make_meeting(session, consultation)
    with pytest.raises(meetings.MeetingChanged):
        meetings.move_meeting(
            session, meeting, day=date(2026, 12, 1), at=time(13), place="X", revision=5, now=NOW
        )
    with pytest.raises(meetings.MeetingRefused) as into_past:
        meetings.move_meeting(
            session, meeting, day=date(2026, 11, 19), at=time(13), place="X", revision=0, now=NOW
        )
    assert into_past.value.field == "date"
    started = NOW.replace(day=30, hour=12, minute=5)
    with pytest.raises(meetings.MeetingRefused) as over:
        meetings.move_meeting(
            session, meeting, day=date(2026, 12, 7), at=time(13), place="X", revision=0, now=started
        )
    assert over.value.field is None
    assert (meeting.starts_at, meeting.revision, meeting.ics_sequence) == (
        datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        0,
        0,
    )
    assert (
        meetings.move_meeting(
            session, meeting, day=date(2026, 11, 30), at=time(13), place=meeting.place, revision=0, now=NOW
        )
        is False
    )


def test_moving_resends_to_the_invited_with_a_higher_sequence_and_resets_answers(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    assert invitations.send_invitations(session, meeting, now=NOW) == 3
    polis = invitations.invitee_for_user(session, meeting, team["polis"])
    invitations.set_rsvp(session, meeting, polis, Rsvp.ON_SITE, now=NOW)
    assert (
        meetings.move_meeting(
            session, meeting, day=date(2026, 12, 1), at=time(10, 0), place="Polishuset", revision=0, now=NOW
        )
        is True
    )
    assert (meeting.ics_sequence, meeting.revision, meeting.case_deadline_at) == (
        1,
        1,
        datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    assert polis.rsvp == Rsvp.NO_ANSWER
    updates = [m for m in _outbox(session) if m.dedupe_key.endswith(":1")]
    assert sorted(m.recipient for m in updates) == sorted(
        [team["coordinator"].email, team["polis"].email, team["soc"].email]
    )
    event = _event(next(m for m in updates if m.recipient == team["polis"].email))
    assert (event["SEQUENCE"], event["DTSTART"].to_ical(), event["LOCATION"]) == (
        1,
        b"20261201T100000",
        "Polishuset",
    )
    assert next(m for m in updates if m.recipient == team["polis"].email).subject.startswith(
        "Uppdaterad inbjudan:"
    )


def test_cancel_sends_method_cancel_with_the_same_uid(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    invitations.send_invitations(session, meeting, now=NOW)
    request = next(m for m in _outbox(session) if m.recipient == team["polis"].email)
    meetings.cancel_meeting(session, meeting, revision=0, now=NOW)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.ics_sequence == 1
    cancels = [m for m in _outbox(session) if m.ics_method == "CANCEL"]
    assert len(cancels) == 3
    cancel = next(m for m in cancels if m.recipient == team["polis"].email)
    assert cancel.dedupe_key == f"cancel:{meeting.public_id}:{team['polis'].email}:1"
    assert (
        cancel.subject
        == f"Inställt: Regionalt samråd – {team['consultation'].name}, måndag 30 november 2026 kl. 13.00"
    )
    [parsed] = check_ics(cancel.ics)
    assert (parsed.method, parsed.status, parsed.sequence) == ("CANCEL", "CANCELLED", 1)
    assert parsed.uid == _event(request)["UID"] == f"samrad-meeting-{meeting.public_id}@samrad.test"
    with pytest.raises(meetings.MeetingRefused):
        meetings.cancel_meeting(session, meeting, revision=1, now=NOW)
    with pytest.raises(invitations.InvitationRefused):
        invitations.send_invitations(session, meeting, now=NOW)


def test_a_break_cancels_invited_meetings_deletes_the_others_and_removing_it_brings_them_back(session):
    team = make_team(session)
    consultation = team["consultation"]
    m1, m2, m3 = meetings.extend_series(session, consultation, until=date(2026, 12, 31), now=NOW)
    invitations.send_invitations(session, m2, now=NOW)
    period, cancelled = meetings.add_break_period(
        session, consultation, label="Jul", first_day=date(2026, 12, 1), last_day=date(2026, 12, 31), now=NOW
    )
    assert cancelled == [m2]
    assert [(m.series_date, m.status) for m in _series(session, consultation)] == [
        (date(2026, 11, 23), MeetingStatus.PLANNED),
        (date(2026, 12, 7), MeetingStatus.CANCELLED),
    ]
    assert len([m for m in _outbox(session) if m.ics_method == "CANCEL"]) == 3
    with pytest.raises(meetings.MeetingRefused):
        meetings.add_break_period(
            session, consultation, label="Fel", first_day=date(2027, 2, 2), last_day=date(2027, 2, 1), now=NOW
        )
    meetings.extend_series(session, consultation, until=date(2027, 1, 10), now=NOW)
    created = meetings.remove_break_period(session, period, now=NOW)
    assert [m.series_date for m in created] == [date(2026, 12, 21)]  # 7 Dec stays cancelled


# --- Invitations -----------------------------------------------------------------------------------


def test_each_standing_member_gets_one_message_with_an_exact_calendar_file(session):
    team = make_team(session, video_provider=VideoProvider.STATIC, video_url="https://teams.example/una")
    consultation = team["consultation"]
    [meeting] = meetings.extend_series(session, consultation, until=date(2026, 11, 30), now=NOW)
    assert invitations.pending_count(session, meeting) == 3
    assert invitations.send_invitations(session, meeting, now=NOW) == 3
    assert invitations.send_invitations(session, meeting, now=NOW) == 0  # same version: nothing new
    assert invitations.pending_count(session, meeting) == 0
    messages = _outbox(session)
    assert sorted(m.recipient for m in messages) == sorted(
        [team["coordinator"].email, team["polis"].email, team["soc"].email]
    )
    assert all(m.ics_method == "REQUEST" for m in messages)
    polis = next(m for m in messages if m.recipient == team["polis"].email)
    assert polis.dedupe_key == f"invite:{meeting.public_id}:{team['polis'].email}:0"
    assert (
        polis.subject
        == f"Inbjudan: Regionalt samråd – {consultation.name}, måndag 23 november 2026 kl. 13.00"
    )
    event = _event(polis)
    assert event["SUMMARY"] == f"Regionalt samråd – {consultation.name}"
    assert event["LOCATION"] == f"{consultation.place} eller via videolänk https://teams.example/una"
    page = f"https://samrad.test/c/{consultation.slug}/meetings/{meeting.public_id}"
    assert event["DESCRIPTION"] == (
        "Videolänk: https://teams.example/una\n"
        f"Plats: {consultation.place}\n"
        f"Agenda och svar på mötessidan (logga in): {page}"
    )
    assert str(event["CONFERENCE"]) == "https://teams.example/una"
    assert str(event["ORGANIZER"]) == f"mailto:{team['coordinator'].email}"
    assert event["ORGANIZER"].params["CN"] == "Åsa Öberg"
    assert str(event["ATTENDEE"]) == f"mailto:{team['polis'].email}"
    assert event["ATTENDEE"].params["CN"] == "Per Lantto" and event["ATTENDEE"].params["RSVP"] == "TRUE"
    [parsed] = check_ics(polis.ics)
    assert (parsed.method, parsed.sequence, parsed.start, parsed.end) == (
        "REQUEST",
        0,
        datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
    )
    assert (
        "Via the video link" not in polis.body_text
        and "På plats: https://samrad.test/rsvp/" in polis.body_text
    )
    assert "https://teams.example/una" in polis.body_html
    # A person who chose English gets English texts, in the e-mail and in the calendar file.
    english = next(m for m in messages if m.recipient == team["soc"].email)
    assert english.subject.startswith("Invitation: Regional consultation – ")
    assert _event(english)["DESCRIPTION"].startswith("Video link: https://teams.example/una")


def test_without_a_coordinator_the_organizer_is_mail_from(session):
    team = make_team(session)
    consultation = team["consultation"]
    session.delete(
        session.exec(select(ConsultationRole).where(ConsultationRole.role == Role.COORDINATOR)).one()
    )
    meeting = make_meeting(session, consultation)
    invitations.send_invitations(session, meeting, now=NOW)
    organizer = _event(_outbox(session)[0])["ORGANIZER"]
    assert str(organizer) == "mailto:noreply@samrad.example" and organizer.params["CN"] == "Regionalt samråd"


def test_no_invitations_for_past_meetings(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"], starts_at=NOW - timedelta(days=1))
    with pytest.raises(invitations.InvitationRefused):
        invitations.send_invitations(session, meeting, now=NOW)
    item = make_agenda_item(session, meeting)
    with pytest.raises(invitations.InvitationRefused):
        invitations.invite_presenter(session, meeting, item, "gast@skola.example", now=NOW)
    assert _outbox(session) == []


def test_a_member_who_lost_the_role_gets_a_cancel(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    invitations.send_invitations(session, meeting, now=NOW)
    session.delete(
        session.exec(select(ConsultationRole).where(ConsultationRole.user_id == team["polis"].id)).one()
    )
    session.flush()
    assert invitations.send_invitations(session, meeting, now=NOW) == 0
    [cancel] = [m for m in _outbox(session) if m.ics_method == "CANCEL"]
    assert cancel.recipient == team["polis"].email and _event(cancel)["SEQUENCE"] == 1
    assert cancel.subject.startswith("Inte längre inbjuden:")
    assert invitations.invitee_for_user(session, meeting, team["polis"]) is None


def test_a_presenter_is_invited_for_their_slot_only_and_removal_sends_cancel(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])  # Mon 30 Nov 13:00
    make_agenda_item(session, meeting, position=0, duration_minutes=10)
    make_agenda_item(session, meeting, position=1, duration_minutes=20)
    third = make_agenda_item(session, meeting, position=2, duration_minutes=15)
    invitee = invitations.invite_presenter(session, meeting, third, "Gast@Skola.example", now=NOW)
    assert (invitee.kind, invitee.email, invitee.agenda_item_id) == (
        InviteeKind.PRESENTER,
        "gast@skola.example",
        third.id,
    )
    [message] = _outbox(session)
    assert message.recipient == "gast@skola.example"
    [parsed] = check_ics(message.ics)
    assert (parsed.start, parsed.end) == (
        datetime(2026, 11, 30, 12, 30, tzinfo=UTC),
        datetime(2026, 11, 30, 12, 45, tzinfo=UTC),
    )
    assert parsed.description.startswith("Du är inbjuden till din del av agendan.")
    assert "Din del av agendan: 13.30–13.45." in message.body_text
    # Same slot again: nothing new. The slot moves: only the presenter gets a new version.
    assert invitations.invite_presenter(session, meeting, third, "gast@skola.example", now=NOW) is invitee
    assert len(_outbox(session)) == 1
    third.position, meeting.items[0].position = 0, 2
    session.flush()
    session.refresh(meeting)
    assert invitations.send_invitations(session, meeting, now=NOW) == 4  # 3 standing + the moved slot
    newest = [m for m in _outbox(session) if m.recipient == "gast@skola.example"][-1]
    [moved] = check_ics(newest.ics)
    assert (newest.dedupe_key, moved.sequence, moved.start) == (
        f"invite:{meeting.public_id}:gast@skola.example:1",
        1,
        datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    )
    assert meeting.ics_sequence == 0
    invitations.remove_presenter(session, meeting, invitee, now=NOW)
    cancel = _outbox(session)[-1]
    [cancelled] = check_ics(cancel.ics)
    assert (cancel.recipient, cancelled.method, cancelled.status, cancelled.sequence, cancelled.uid) == (
        "gast@skola.example",
        "CANCEL",
        "CANCELLED",
        2,
        moved.uid,
    )
    assert (cancelled.start, cancelled.end) == (moved.start, moved.end)
    # Invited again later: a newer version than the cancel.
    invitations.invite_presenter(session, meeting, third, "gast@skola.example", now=NOW)
    assert check_ics(_outbox(session)[-1].ics)[0].sequence == 3


def test_a_standing_member_named_as_presenter_keeps_the_whole_meeting(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    item = make_agenda_item(session, meeting)
    invitations.send_invitations(session, meeting, now=NOW)
    invitee = invitations.invite_presenter(session, meeting, item, team["soc"].email, now=NOW)
    assert invitee.kind == InviteeKind.STANDING and invitee.agenda_item_id is None
    assert len(_outbox(session)) == 3


def test_no_email_or_calendar_file_contains_anything_about_a_case(session):
    team = make_team(session, video_provider=VideoProvider.JITSI, video_url="https://meet.jit.si")
    consultation = team["consultation"]

    municipality = make_municipality(session, name="Överkalix")
    case = make_case(
        session,
        consultation,
        team["kiruna"],
        reference="UNA-2026-777",
        municipality_id=municipality.id,
        officer_id=team["officer"].id,
        presenter_email="gast@skola.example",
        background="Flickan Zebulonia berättar om kontroll från brodern Quixotec.",
        questions="Hur stödjer vi Zebulonia inför resan till Xanthoria?",
        status=CaseStatus.ACCEPTED,
    )
    meeting = make_meeting(session, consultation)
    item = make_agenda_item(
        session,
        meeting,
        kind="case",
        case_id=case.id,
        title="Ärende UNA-2026-777 Överkalix",
        duration_minutes=30,
    )
    invitations.send_invitations(session, meeting, now=NOW)
    presenter = invitations.invite_presenter(session, meeting, item, "gast@skola.example", now=NOW)
    invitations.set_rsvp(
        session,
        meeting,
        invitations.invitee_for_user(session, meeting, team["soc"]),
        Rsvp.CANNOT_ATTEND,
        substitute=team["colleague"],
        now=NOW,
    )
    meetings.move_meeting(
        session, meeting, day=date(2026, 12, 1), at=time(13), place="Luleå", revision=0, now=NOW
    )
    invitations.remove_presenter(session, meeting, presenter, now=NOW)
    meetings.cancel_meeting(session, meeting, revision=1, now=NOW)
    messages = _outbox(session)
    assert {m.ics_method for m in messages} == {"REQUEST", "CANCEL"} and len(messages) >= 10
    forbidden = ["Zebulonia", "Quixotec", "Xanthoria", "brodern", "UNA-2026-777", "Överkalix", "Ärende"]
    for message in messages:
        for part in (message.subject, message.body_text, message.body_html, message.ics):
            for word in forbidden:
                assert word not in part, (word, message.recipient)
        check_ics(message.ics)
    user = team["polis"]
    feed = feeds.feed_calendar(session, user, now=NOW)
    assert not any(word in feed for word in forbidden)


# --- Answers ---------------------------------------------------------------------------------------


def test_rsvp_tokens_identify_the_invitee_and_forgeries_do_not(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    invitations.send_invitations(session, meeting, now=NOW)
    invitee = invitations.invitee_for_user(session, meeting, team["polis"])
    token = invitations.rsvp_token(invitee, meeting)
    assert invitations.invitee_for_rsvp_token(session, token) is invitee
    other = invitations.invitee_for_user(session, meeting, team["soc"])
    forged = f"{other.id}-{token.split('-', 1)[1]}"
    for bad in (
        forged,
        token[:-1] + ("0" if token[-1] != "0" else "1"),
        "abc",
        f"{invitee.id}-",
        "999999-" + "0" * 40,
    ):
        assert invitations.invitee_for_rsvp_token(session, bad) is None
    assert f"/rsvp/{token}?answer=on_site" in next(
        m.body_text for m in _outbox(session) if m.recipient == team["polis"].email
    )


def test_cannot_attend_with_a_substitute_from_the_same_organisation_invites_the_substitute(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    invitations.send_invitations(session, meeting, now=NOW)
    soc = invitations.invitee_for_user(session, meeting, team["soc"])
    # Colleagues at Kiruna social services, by name, whatever their role in the consultation.
    assert [u.name for u in invitations.substitute_choices(session, soc)] == ["Ida Rova", "Karin Strand"]
    with pytest.raises(invitations.InvitationRefused) as wrong_org:
        invitations.set_rsvp(session, meeting, soc, Rsvp.CANNOT_ATTEND, substitute=team["polis"], now=NOW)
    assert wrong_org.value.field == "substitute"
    with pytest.raises(invitations.InvitationRefused):
        invitations.set_rsvp(session, meeting, soc, Rsvp.ON_SITE, substitute=team["colleague"], now=NOW)
    invitations.set_rsvp(session, meeting, soc, Rsvp.CANNOT_ATTEND, substitute=team["colleague"], now=NOW)
    assert (soc.rsvp, soc.rsvp_at, soc.substitute_user_id) == (Rsvp.CANNOT_ATTEND, NOW, team["colleague"].id)
    substitute = invitations.invitee_for_user(session, meeting, team["colleague"])
    assert substitute.kind == InviteeKind.SUBSTITUTE and substitute.sent_sequence == 0
    message = _outbox(session)[-1]
    assert message.recipient == team["colleague"].email
    assert "En kollega som inte kan delta har bett dig komma i stället." in message.body_text
    # Changing the answer releases the substitute, who gets a cancel.
    invitations.set_rsvp(session, meeting, soc, Rsvp.VIA_LINK, now=NOW)
    assert invitations.invitee_for_user(session, meeting, team["colleague"]) is None
    assert (_outbox(session)[-1].recipient, _outbox(session)[-1].ics_method) == (
        team["colleague"].email,
        "CANCEL",
    )
    rows, counts = invitations.overview(session, meeting)
    assert counts[Rsvp.VIA_LINK] == 1 and counts[Rsvp.NO_ANSWER] == 2
    assert [(r.name, r.invitee.rsvp) for r in rows if r.name == "Sara Niemi"] == [
        ("Sara Niemi", Rsvp.VIA_LINK)
    ]


def test_answers_close_when_the_meeting_ends_or_is_cancelled(session):
    team = make_team(session)
    meeting = make_meeting(session, team["consultation"])
    invitee = invitations.ensure_standing_invitee(session, meeting, team["polis"])
    assert invitee.sent_sequence == -1  # answering before the invitations went out is fine
    invitations.set_rsvp(
        session, meeting, invitee, Rsvp.ON_SITE, now=meeting.starts_at + timedelta(minutes=90)
    )
    with pytest.raises(invitations.InvitationRefused):
        invitations.set_rsvp(
            session, meeting, invitee, Rsvp.VIA_LINK, now=meeting.starts_at + timedelta(hours=2)
        )
    with pytest.raises(invitations.InvitationRefused):
        invitations.set_rsvp(session, meeting, invitee, Rsvp.NO_ANSWER, now=NOW)
    meetings.cancel_meeting(session, meeting, revision=0, now=NOW)
    with pytest.raises(invitations.InvitationRefused):
        invitations.set_rsvp(session, meeting, invitee, Rsvp.VIA_LINK, now=NOW)
    assert invitee.rsvp == Rsvp.ON_SITE
    assert invitations.ensure_standing_invitee(session, meeting, team["officer"]) is None


# --- Calendar feed ---------------------------------------------------------------------------------


def test_feed_tokens_are_stored_hashed_and_regenerating_ends_the_old_address(session):
    team = make_team(session)
    user = team["polis"]
    token = feeds.create_feed(session, user, now=NOW)
    feed = feeds.feed_of(session, user)
    assert token not in feed.token_hash and len(feed.token_hash) == 64
    assert feeds.user_for_token(session, token, now=NOW) == (user, True)  # never used: record it
    feeds.record_use(session, token, now=NOW)
    session.refresh(feed)
    assert feed.last_used_at == NOW
    assert feeds.user_for_token(session, token, now=NOW + timedelta(minutes=9)) == (user, False)
    assert feeds.user_for_token(session, token, now=NOW + timedelta(minutes=10)) == (user, True)
    newer = feeds.create_feed(session, user, now=NOW)
    assert feeds.user_for_token(session, token, now=NOW) is None
    assert feeds.user_for_token(session, newer, now=NOW) == (user, True)
    assert feeds.revoke_feed(session, user) is True
    assert feeds.user_for_token(session, newer, now=NOW) is None


def test_feed_has_the_members_meetings_and_a_presenters_slot(session):
    team = make_team(session)
    consultation = team["consultation"]
    created = meetings.extend_series(session, consultation, until=date(2026, 12, 31), now=NOW)
    old = make_meeting(session, consultation, starts_at=NOW - timedelta(days=120))
    meetings.cancel_meeting(session, created[2], revision=0, now=NOW)
    item = make_agenda_item(session, created[1], duration_minutes=20)
    invitations.invite_presenter(session, created[1], item, team["officer"].email, now=NOW)
    member = feeds.feed_calendar(session, team["polis"], now=NOW)
    parsed = check_ics(member)
    assert [p.uid for p in parsed] == [f"samrad-meeting-{m.public_id}@samrad.test" for m in created]
    assert [p.status for p in parsed] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert old.public_id not in member
    cal = Calendar.from_ical(member)
    assert "METHOD" not in cal and all("ATTENDEE" not in e and "ORGANIZER" not in e for e in cal.events)
    [slot] = check_ics(feeds.feed_calendar(session, team["officer"], now=NOW))
    assert (slot.uid, slot.start, slot.end) == (
        parsed[1].uid,
        created[1].starts_at,
        created[1].starts_at + timedelta(minutes=20),
    )
    assert check_ics(feeds.feed_calendar(session, team["colleague"], now=NOW)) == []
    assert session.exec(select(Invitee).where(Invitee.email == team["colleague"].email)).all() == []


def test_feed_matches_invitations_as_the_permission_module_does(session):
    """An invitation sent to an address before its account existed reaches the account's feed only once
    the address is confirmed, and never when the invitation belongs to another account: the feed asks
    :func:`samrad.services.access.invited_clause`, like every other page (it had a looser rule of its own)."""
    team = make_team(session)
    [meeting] = meetings.extend_series(session, team["consultation"], until=date(2026, 11, 30), now=NOW)
    item = make_agenda_item(session, meeting, duration_minutes=20)
    invitee = invitations.invite_presenter(session, meeting, item, "ny@kiruna.example", now=NOW)
    assert invitee.user_id is None
    newcomer = make_user(
        session, email="ny@kiruna.example", organisation=team["kiruna"], email_confirmed_at=None
    )
    assert check_ics(feeds.feed_calendar(session, newcomer, now=NOW)) == []  # address not confirmed
    newcomer.email_confirmed_at = NOW
    session.flush()
    [slot] = check_ics(feeds.feed_calendar(session, newcomer, now=NOW))
    assert slot.uid == f"samrad-meeting-{meeting.public_id}@samrad.test"
    invitee.user_id = team["colleague"].id  # the invitation is another account's
    session.flush()
    assert check_ics(feeds.feed_calendar(session, newcomer, now=NOW)) == []


def test_an_unchanged_feed_is_the_same_text_later_so_its_etag_holds(session):
    """A calendar program polls hours apart: the feed must not change unless a meeting did (DTSTAMP is the
    meeting's, not the time of the request), and a change shows at the next poll."""
    team = make_team(session)
    created = meetings.extend_series(session, team["consultation"], until=date(2026, 12, 31), now=NOW)
    member = team["polis"]
    first = feeds.feed_calendar(session, member, now=NOW)
    assert feeds.feed_calendar(session, member, now=NOW + timedelta(hours=5)) == first
    stamps = {e["DTSTAMP"].dt for e in Calendar.from_ical(first).events}
    assert stamps == {m.created_at.replace(microsecond=0) for m in created}
    meetings.move_meeting(
        session, created[0], day=date(2026, 12, 2), at=time(13), place="Boden", revision=0, now=NOW
    )
    moved = feeds.feed_calendar(session, member, now=NOW + timedelta(hours=6))
    assert moved != first and "Boden" in moved


def test_past_and_upcoming_meetings_split_at_each_meetings_own_end(session):
    team = make_team(session)
    consultation = team["consultation"]
    now = datetime(2027, 3, 8, 14, 0, tzinfo=UTC)
    going_on = make_meeting(session, consultation, now - timedelta(hours=1))  # 120 minutes: ends 15.00
    just_over = make_meeting(session, consultation, now - timedelta(hours=2, minutes=1))
    closed_early = make_meeting(
        session, consultation, now - timedelta(minutes=30), status=MeetingStatus.CLOSED
    )
    long_ago = [
        make_meeting(session, consultation, now - timedelta(weeks=2 * n), status=MeetingStatus.CLOSED)
        for n in range(1, 5)
    ]
    cancelled_ahead = make_meeting(
        session, consultation, now + timedelta(days=3), status=MeetingStatus.CANCELLED
    )
    ahead = make_meeting(session, consultation, now + timedelta(days=14))
    assert meetings.upcoming_meetings(session, consultation, now=now) == [going_on, cancelled_ahead, ahead]
    past = meetings.past_meetings(session, consultation, now=now)
    assert past == [closed_early, just_over, *long_ago]
    assert meetings.past_meetings(session, consultation, now=now, limit=3) == past[:3]
    assert meetings.past_meetings(session, consultation, now=now, limit=1) == [closed_early]


@pytest.mark.postgres
def test_two_moves_of_one_meeting_at_the_same_time_send_one_new_time(postgres_url, tmp_path):
    """Two coordinators move (or cancel) the same meeting at once from the same form. At PostgreSQL's READ
    COMMITTED both read the meeting before either writes; the second must be refused as changed meanwhile,
    not send invitations with the same SEQUENCE and another time (calendars would keep the first)."""
    from sqlmodel import Session

    from samrad import db
    from tests.conftest import schema_app

    app = schema_app(postgres_url, tmp_path)
    with app.app_context():
        engine = db.get_engine()
        with Session(engine, expire_on_commit=False) as s:
            meeting_id = make_meeting(s, make_team(s)["consultation"]).id
            s.commit()
        with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
            seen_by_a, seen_by_b = a.get(Meeting, meeting_id), b.get(Meeting, meeting_id)
            assert seen_by_a.revision == seen_by_b.revision == 0
            moved = meetings.move_meeting(
                a, seen_by_a, day=date(2026, 12, 1), at=time(13), place="Luleå", revision=0, now=NOW
            )
            assert moved is True
            a.commit()
            with pytest.raises(meetings.MeetingChanged):
                meetings.move_meeting(
                    b, seen_by_b, day=date(2026, 12, 2), at=time(9), place="Kiruna", revision=0, now=NOW
                )
            b.rollback()
            with pytest.raises(meetings.MeetingChanged):
                meetings.cancel_meeting(b, b.get(Meeting, meeting_id), revision=0, now=NOW)
            b.rollback()
        with Session(engine) as s:
            stored = s.get(Meeting, meeting_id)
            assert (stored.revision, stored.ics_sequence, stored.status, stored.place) == (
                1,
                1,
                MeetingStatus.PLANNED,
                "Luleå",
            )
            assert stored.starts_at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        engine.dispose()


def test_an_answer_given_while_the_meeting_is_cancelled_is_checked_against_the_cancellation(shared_db_app):
    """A member answers from a page read just before the coordinator cancelled the meeting. Both requests
    read the meeting before either writes (PostgreSQL's READ COMMITTED); the answer must be refused as
    for a cancelled meeting, not stored on it."""
    from sqlmodel import Session

    from samrad import db

    with shared_db_app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            team = make_team(s)
            meeting = make_meeting(s, team["consultation"])
            invitations.send_invitations(s, meeting, now=NOW)
            polis = invitations.invitee_for_user(s, meeting, team["polis"])
            s.commit()
            ids = meeting.id, polis.id

        def read(x):
            return (x.get(Meeting, ids[0]), x.get(Invitee, ids[1]))

        with read_by_both(engine, read) as ((a, (meeting_a, _)), (b, (meeting_b, polis_b))):
            meetings.cancel_meeting(a, meeting_a, revision=meeting_a.revision, now=NOW)
            a.commit()
            with pytest.raises(invitations.InvitationRefused, match="inställt"):
                invitations.set_rsvp(b, meeting_b, polis_b, Rsvp.ON_SITE, now=NOW)
            b.rollback()
        with Session(engine) as s:
            stored = s.get(Invitee, ids[1])
            assert (s.get(Meeting, ids[0]).status, stored.rsvp, stored.rsvp_at) == (
                MeetingStatus.CANCELLED,
                Rsvp.NO_ANSWER,
                None,
            )


def test_a_member_answering_while_the_invitations_go_out_on_postgresql_is_invited_once(
    postgres_url, tmp_path
):
    """A standing member answers before their invitation exists, at the moment the coordinator sends the
    invitations: both add the member's invitation. At PostgreSQL's READ COMMITTED neither saw the other's
    (an IntegrityError on the meeting's address, a 500 for the second). Who is invited changes one meeting
    at a time: the answer waits for the sending and then finds the invitation."""
    import threading

    from sqlmodel import Session

    from samrad import db
    from samrad.models import User
    from tests.conftest import schema_app
    from tests.races import wait_until_a_transaction_waits

    app = schema_app(postgres_url, tmp_path)
    with app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            team = make_team(s)
            meeting = make_meeting(s, team["consultation"])
            s.commit()
            ids = meeting.id, team["polis"].id
        errors = []

        def member_answers():
            with Session(engine, expire_on_commit=False) as b:
                try:
                    meeting_b, polis = b.get(Meeting, ids[0]), b.get(User, ids[1])
                    invitee = invitations.ensure_standing_invitee(b, meeting_b, polis)
                    invitations.set_rsvp(b, meeting_b, invitee, Rsvp.VIA_LINK, now=NOW)
                    b.commit()
                except Exception as exc:  # reported below
                    errors.append(exc)

        with Session(engine, expire_on_commit=False) as a:
            assert invitations.send_invitations(a, a.get(Meeting, ids[0]), now=NOW) == 3
            thread = threading.Thread(target=member_answers)
            thread.start()
            wait_until_a_transaction_waits(engine)
            a.commit()
        thread.join(timeout=60)
        assert errors == []
        with Session(engine) as s:
            rows = s.exec(select(Invitee).where(Invitee.user_id == ids[1])).all()
            assert [(i.rsvp, i.sent_sequence) for i in rows] == [(Rsvp.VIA_LINK, 0)]
        engine.dispose()
