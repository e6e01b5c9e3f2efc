import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select

from samrad.enums import CaseStatus, InviteeKind, MeetingStatus, Role
from samrad.models import AgendaItem, Case, OutboxMessage
from samrad.services import access, cases
from samrad.services.access import Action, actor_for
from samrad.services.cases import Attestation
from tests.factories import (
    BACKGROUND,
    QUESTIONS,
    case_input,
    make_agenda_item,
    make_case,
    make_consultation,
    make_invitee,
    make_meeting,
    make_municipality,
    make_organisation,
    make_user,
)
from tests.races import read_by_both

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

ATTESTED = Attestation(attested=True)


@pytest.fixture
def world(session):
    consultation = make_consultation(session, slug="una-norrbotten", name="Una Norrbotten")
    municipality = make_municipality(session, name="Kiruna")
    org = make_organisation(session, name="Socialtjänsten, Kiruna kommun", municipality_id=municipality.id)
    officer = make_user(
        session,
        email="handlaggare@kiruna.example",
        organisation=org,
        roles=["case_officer"],
        consultation=consultation,
    )
    coordinator = make_user(
        session, email="samordnare@freda.example", roles=["coordinator"], consultation=consultation
    )

    class World:
        pass

    w = World()
    w.consultation, w.municipality, w.org, w.officer, w.coordinator = (
        consultation,
        municipality,
        org,
        officer,
        coordinator,
    )
    return w


def submit(session, w, *, now=NOW, consultation=None, **kw):
    data_kw = {k: kw.pop(k) for k in list(kw) if k in cases.CaseInput.__dataclass_fields__}
    return cases.create_case(
        session,
        consultation or w.consultation,
        case_input(w.municipality.id, **data_kw),
        officer=w.officer,
        organisation_id=w.org.id,
        now=now,
        submit=kw.pop("submit", True),
        attestation=kw.pop("attestation", ATTESTED),
        **kw,
    )


def count_cases(session) -> int:
    return session.exec(select(func.count()).select_from(Case)).one()


# --- Registration -------------------------------------------------------------------------------------


def test_submitted_case_gets_a_reference_and_the_attestation(session, world):
    case = submit(session, world)
    assert (case.status, case.reference, case.reference_year, case.reference_number) == (
        CaseStatus.SUBMITTED,
        "UNA-2026-001",
        2026,
        1,
    )
    assert (case.organisation_id, case.officer_id, case.attested_deidentified, case.overridden_findings) == (
        world.org.id,
        world.officer.id,
        True,
        0,
    )
    assert (case.submitted_at, case.questions, case.background) == (NOW, QUESTIONS, BACKGROUND)
    assert sorted(e.category.value for e in case.categories) == ["honour_violence", "taken_abroad"]
    assert [e.exposer.value for e in case.exposers] == ["parent"]


def test_references_run_per_consultation_and_stockholm_year(session, world):
    assert submit(session, world).reference == "UNA-2026-001"
    assert submit(session, world).reference == "UNA-2026-002"
    # 23:30 UTC on New Year's Eve is already 2027 in Stockholm.
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert submit(session, world, now=new_year).reference == "UNA-2027-001"
    other = make_consultation(session, slug="kronoberg-samrad")
    make_user(session, organisation=world.org, roles=["case_officer"], consultation=other)
    assert submit(session, world, consultation=other).reference == "KRONOB-2026-001"


def test_a_taken_reference_number_is_retried_with_the_next(session, world, monkeypatch):
    submit(session, world)
    from samrad.services.cases import references

    real = references._next_reference_number
    calls = []

    def stale_first(s, consultation_id, year):
        calls.append(year)
        return (
            1 if len(calls) == 1 else real(s, consultation_id, year)
        )  # as if computed before the other commit

    monkeypatch.setattr(references, "_next_reference_number", stale_first)
    case = submit(session, world)
    assert (case.reference, len(calls)) == ("UNA-2026-002", 2)
    assert count_cases(session) == 2


@pytest.mark.postgres
def test_simultaneous_submissions_get_different_references_on_postgres(any_db_app, session, world):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("needs two real connections")
    session.commit()
    from samrad.db import get_engine

    engine = get_engine()
    results, errors = [], []

    def submit_in_own_session():
        with any_db_app.app_context(), Session(engine, expire_on_commit=False) as other:
            try:
                c = cases.create_case(
                    other,
                    other.get(type(world.consultation), world.consultation.id),
                    case_input(world.municipality.id),
                    officer=other.get(type(world.officer), world.officer.id),
                    organisation_id=world.org.id,
                    now=NOW,
                    submit=True,
                    attestation=ATTESTED,
                )
                other.commit()
                results.append(c.reference)
            except Exception as exc:  # reported below
                errors.append(exc)

    first = submit(session, world)  # flushed, not committed: the other transaction cannot see it yet
    thread = threading.Thread(target=submit_in_own_session)
    thread.start()
    session.commit()
    thread.join(timeout=60)
    assert errors == []
    assert sorted([first.reference, *results]) == ["UNA-2026-001", "UNA-2026-002"]


def test_a_case_returned_and_accepted_at_once_is_not_both(shared_db_app):
    """Two coordinators act on the same waiting case from pages read at the same time: one returns it, the
    other accepts it. Both requests read the case before either writes (PostgreSQL's READ COMMITTED; on
    SQLite a change whose checks read before its write transaction); the second change must be refused,
    not written over the first (a case returned with its comment and accepted for a meeting)."""
    from sqlalchemy.orm.exc import StaleDataError

    from samrad import db
    from samrad.models import Meeting, User

    with shared_db_app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            consultation = make_consultation(s, slug="una-norrbotten")
            org = make_organisation(s)
            officer = make_user(s, organisation=org, roles=["case_officer"], consultation=consultation)
            coordinator = make_user(s, roles=["coordinator"], consultation=consultation)
            meeting = make_meeting(s, consultation, starts_at=NOW + timedelta(days=7))
            case = make_case(s, consultation, org, officer=officer, status=CaseStatus.SUBMITTED)
            s.commit()
            ids = case.id, meeting.id, coordinator.id

        def read(x):
            return (x.get(Case, ids[0]), x.get(Meeting, ids[1]), x.get(User, ids[2]))

        with read_by_both(engine, read) as (
            (a, (case_a, _, coordinator_a)),
            (b, (case_b, meeting_b, coordinator_b)),
        ):
            cases.return_case(
                a, case_a, actor=coordinator_a, comment="Förtydliga frågan.", now=NOW, link="https://s.test/c"
            )
            a.commit()
            with pytest.raises(StaleDataError):
                cases.accept_case(b, case_b, meeting_b, actor=coordinator_b, now=NOW)
            b.rollback()
        with Session(engine) as s:
            stored = s.get(Case, ids[0])
            assert (stored.status, stored.meeting_id, stored.return_comment, stored.version) == (
                CaseStatus.RETURNED,
                None,
                "Förtydliga frågan.",
                2,
            )


def test_a_draft_has_no_reference_until_it_is_submitted(session, world):
    draft = submit(session, world, submit=False, attestation=None)
    assert (draft.status, draft.reference, draft.submitted_at, draft.attested_deidentified) == (
        CaseStatus.DRAFT,
        None,
        None,
        False,
    )
    later = NOW + timedelta(hours=2)
    cases.submit_case(session, draft, actor=world.officer, attestation=ATTESTED, now=later)
    assert (draft.status, draft.reference, draft.submitted_at) == (
        CaseStatus.SUBMITTED,
        "UNA-2026-001",
        later,
    )


def test_submitting_a_draft_needs_the_attestation(session, world):
    draft = submit(session, world, submit=False, attestation=None)
    with pytest.raises(cases.NotAttested):
        cases.submit_case(session, draft, actor=world.officer, attestation=Attestation(), now=NOW)
    assert (draft.status, draft.reference) == (CaseStatus.DRAFT, None)


@pytest.mark.parametrize("submit_it", [True, False])
def test_blocking_findings_refuse_drafts_and_submissions_and_store_nothing(session, world, submit_it):
    text = BACKGROUND + " Hon har personnummer 000229-2399 och bor på Storgatan 12."
    with pytest.raises(cases.DeidentificationRefused) as refused:
        submit(session, world, background=text, submit=submit_it)
    blocking = refused.value.guard.blocking
    assert [(f.kind, f.text_in(text)) for f in blocking["background"]] == [
        ("personnummer", "000229-2399"),
        ("address", "Storgatan 12"),
    ]
    assert "questions" not in blocking
    assert count_cases(session) == 0


def test_the_callers_run_of_the_guard_is_taken_only_for_exactly_the_same_texts(session, world, monkeypatch):
    """A view runs the guard before the change begins and hands its result on, so the texts are scanned
    once; a result for other texts (a clean check handed on with a personnummer) is not trusted."""
    from samrad import deidentify

    scanned = []
    scan = deidentify.scan
    monkeypatch.setattr(deidentify, "scan", lambda text: scanned.append(text) or scan(text))
    clean = cases.check_texts({"questions": QUESTIONS, "background": BACKGROUND})
    assert len(scanned) == 2
    case = submit(session, world, checked=clean)
    assert (case.status, len(scanned)) == (CaseStatus.SUBMITTED, 2)

    text = BACKGROUND + " Hon har personnummer 000229-2399."
    with pytest.raises(cases.DeidentificationRefused):
        submit(session, world, background=text, checked=clean)
    assert len(scanned) == 4
    data = case_input(world.municipality.id, questions="Mejla svar till flickan@example.com?")
    with pytest.raises(cases.DeidentificationRefused):
        cases.update_case(
            session,
            case,
            data,
            actor=world.officer,
            now=NOW,
            submit=False,
            attestation=ATTESTED,
            checked=clean,
        )
    assert (count_cases(session), case.questions) == (1, QUESTIONS)

    # A return's comment: the caller's run is taken for exactly the comment stored, as for a case.
    scanned.clear()
    comment = "Förtydliga frågan."
    with pytest.raises(cases.DeidentificationRefused):
        cases.return_case(
            session,
            case,
            actor=world.coordinator,
            comment=comment + " Ring 070-123 45 67.",
            now=NOW,
            link="https://s.test/c",
            checked=cases.check_texts({"comment": comment}),
        )
    assert (case.status, len(scanned)) == (CaseStatus.SUBMITTED, 2)
    cases.return_case(
        session,
        case,
        actor=world.coordinator,
        comment=comment,
        now=NOW,
        link="https://s.test/c",
        checked=cases.check_texts({"comment": comment}),
    )
    assert (case.status, case.return_comment, len(scanned)) == (CaseStatus.RETURNED, comment, 3)


def test_warnings_must_be_confirmed_with_the_digest_of_exactly_those_warnings(session, world):
    text = BACKGROUND + " Fatima berättar att Ahmed tar hennes telefon."
    with pytest.raises(cases.WarningsNotConfirmed) as refused:
        submit(session, world, background=text)
    digest = refused.value.guard.digest
    assert refused.value.guard.warning_count == 2 and len(digest) == 32
    with pytest.raises(cases.WarningsNotConfirmed):
        submit(
            session, world, background=text, attestation=Attestation(attested=True, confirmed_digest="0" * 32)
        )
    # A confirmation of other warnings does not cover a new name.
    with pytest.raises(cases.WarningsNotConfirmed):
        submit(session, world, background=text + " Zahra vet.", attestation=Attestation(True, digest))
    assert count_cases(session) == 0
    case = submit(
        session, world, background=text, attestation=Attestation(attested=True, confirmed_digest=digest)
    )
    assert (case.status, case.overridden_findings) == (CaseStatus.SUBMITTED, 2)


def test_submission_without_attestation_stores_nothing(session, world):
    with pytest.raises(cases.NotAttested):
        submit(session, world, attestation=Attestation(attested=False))
    assert count_cases(session) == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": MeetingStatus.CANCELLED}, "cancelled"),
        ({"case_deadline_at": NOW - timedelta(minutes=1)}, "deadline"),
        ({"status": MeetingStatus.CLOSED}, "past"),
    ],
)
def test_requested_meeting_must_be_open(session, world, change, reason):
    meeting = make_meeting(session, world.consultation, **change)
    with pytest.raises(cases.MeetingNotOpen) as refused:
        submit(session, world, requested_meeting_id=meeting.id)
    assert refused.value.reason == reason
    assert count_cases(session) == 0


def test_requested_meeting_of_another_consultation_is_refused(session, world):
    meeting = make_meeting(session, make_consultation(session))
    with pytest.raises(cases.MeetingNotOpen) as refused:
        submit(session, world, requested_meeting_id=meeting.id)
    assert refused.value.reason == "other_consultation"


def test_open_meetings_are_planned_and_before_their_deadline(session, world):
    soon = make_meeting(session, world.consultation, starts_at=NOW + timedelta(days=10))
    later = make_meeting(session, world.consultation, starts_at=NOW + timedelta(days=24))
    make_meeting(session, world.consultation, starts_at=NOW + timedelta(days=3))  # deadline passed
    make_meeting(
        session, world.consultation, starts_at=NOW + timedelta(days=17), status=MeetingStatus.CANCELLED
    )
    make_meeting(session, make_consultation(session), starts_at=NOW + timedelta(days=10))
    assert cases.open_meetings(session, world.consultation, now=NOW) == [soon, later]


def test_the_same_form_posted_twice_creates_one_case(session, world):
    first = submit(session, world, submission_key="k" * 32)
    again = submit(session, world, submission_key="k" * 32)
    assert again.id == first.id and count_cases(session) == 1


@pytest.mark.parametrize("submit_at_once", [True, False])
def test_the_same_form_posted_twice_at_the_same_moment_creates_one_case(
    session, world, monkeypatch, submit_at_once
):
    """The second request looked for the key before the first had written it, so its insert meets the
    key's unique constraint: it returns the first case, and the constraint is not taken for a reference
    number in use (which would be retried with the next number, and the next …)."""
    kw = {} if submit_at_once else {"submit": False, "attestation": None}
    first = submit(session, world, submission_key="k" * 32, **kw)
    from samrad.services.cases import lifecycle, references

    real_lookup, real_next = lifecycle.case_by_submission_key, references._next_reference_number
    lookups, numbers = [], []

    def looked_up_too_early(s, key):
        lookups.append(key)
        return real_lookup(s, key) if len(lookups) > 1 else None

    def next_number(*args):
        numbers.append(args)
        return real_next(*args)

    monkeypatch.setattr(lifecycle, "case_by_submission_key", looked_up_too_early)
    monkeypatch.setattr(references, "_next_reference_number", next_number)
    again = submit(session, world, submission_key="k" * 32, **kw)
    assert (again.id, count_cases(session), len(lookups)) == (first.id, 1, 2)
    assert len(numbers) == (1 if submit_at_once else 0)
    assert (again.reference, again.status) == (
        ("UNA-2026-001", CaseStatus.SUBMITTED) if submit_at_once else (None, CaseStatus.DRAFT)
    )


def test_a_submission_key_of_someone_elses_case_is_refused(session, world):
    submit(session, world, submission_key="k" * 32)
    world.officer = make_user(session, organisation=world.org)
    with pytest.raises(cases.DuplicateSubmission):
        submit(session, world, submission_key="k" * 32)
    assert count_cases(session) == 1


def test_presenter_email_is_normalised_and_empty_for_the_officer_self(session, world):
    assert (
        submit(session, world, presenter_email=" Kollega@Kiruna.Example ").presenter_email
        == "kollega@kiruna.example"
    )
    assert submit(session, world, presenter_email="HANDLAGGARE@kiruna.example").presenter_email == ""


def test_over_long_text_is_refused_by_the_service_too(session, world):
    with pytest.raises(cases.CaseError):
        submit(session, world, background="a" * (cases.BACKGROUND_MAX + 1))
    assert count_cases(session) == 0


# --- Lifecycle ------------------------------------------------------------------------------------------

ALL = list(CaseStatus)


def _case_in(session, w, status, **kw):
    return make_case(session, w.consultation, w.org, officer=w.officer, status=status, **kw)


def _expect(allowed, status, call):
    if status in allowed:
        call()
    else:
        with pytest.raises(cases.TransitionNotAllowed):
            call()


@pytest.mark.parametrize("status", ALL)
def test_accept_case_only_from_the_queue(session, world, status):
    meeting = make_meeting(session, world.consultation)
    case = _case_in(session, world, status)
    _expect(
        {CaseStatus.SUBMITTED, CaseStatus.FOLLOW_UP},
        status,
        lambda: cases.accept_case(session, case, meeting, actor=world.coordinator, now=NOW),
    )
    if status in cases.QUEUED:
        assert (case.status, case.meeting_id) == (CaseStatus.ACCEPTED, meeting.id)


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"status": MeetingStatus.CANCELLED}, "cancelled"), ({"starts_at": NOW - timedelta(hours=1)}, "past")],
)
def test_accept_case_needs_a_planned_future_meeting(session, world, change, reason):
    meeting = make_meeting(session, world.consultation, **change)
    case = _case_in(session, world, CaseStatus.SUBMITTED)
    with pytest.raises(cases.MeetingNotOpen) as refused:
        cases.accept_case(session, case, meeting, actor=world.coordinator, now=NOW)
    assert (refused.value.reason, case.status) == (reason, CaseStatus.SUBMITTED)


def test_accept_case_after_the_submitters_deadline_is_allowed(session, world):
    meeting = make_meeting(session, world.consultation, case_deadline_at=NOW - timedelta(days=1))
    case = _case_in(session, world, CaseStatus.SUBMITTED)
    cases.accept_case(session, case, meeting, actor=world.coordinator, now=NOW)
    assert case.status == CaseStatus.ACCEPTED


def test_accept_case_refuses_a_meeting_of_another_consultation(session, world):
    meeting = make_meeting(session, make_consultation(session))
    case = _case_in(session, world, CaseStatus.SUBMITTED)
    with pytest.raises(cases.MeetingNotOpen):
        cases.accept_case(session, case, meeting, actor=world.coordinator, now=NOW)


@pytest.mark.parametrize("status", ALL)
def test_mark_on_agenda_only_when_accepted_for_that_meeting(session, world, status):
    meeting = make_meeting(session, world.consultation, published_version=1)
    case = _case_in(session, world, status, meeting_id=meeting.id)
    make_agenda_item(session, meeting, case)
    _expect(
        {CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA},
        status,
        lambda: cases.mark_on_agenda(session, case, meeting, now=NOW),
    )


def test_mark_on_agenda_needs_a_published_agenda_with_the_case(session, world):
    meeting = make_meeting(session, world.consultation)
    case = _case_in(session, world, CaseStatus.ACCEPTED, meeting_id=meeting.id)
    with pytest.raises(cases.TransitionNotAllowed):
        cases.mark_on_agenda(session, case, meeting, now=NOW)  # no item, nothing published
    make_agenda_item(session, meeting, case)
    with pytest.raises(cases.TransitionNotAllowed):
        cases.mark_on_agenda(session, case, meeting, now=NOW)  # item, but not published
    meeting.published_version = 1
    cases.mark_on_agenda(session, case, meeting, now=NOW)
    cases.mark_on_agenda(session, case, meeting, now=NOW)  # a new version is published: no change
    assert case.status == CaseStatus.ON_AGENDA
    other = make_meeting(session, world.consultation, published_version=1)
    with pytest.raises(cases.TransitionNotAllowed):
        cases.mark_on_agenda(session, case, other, now=NOW)


@pytest.mark.parametrize("status", ALL)
def test_mark_discussed_only_from_the_published_agenda(session, world, status):
    case = _case_in(session, world, status)
    _expect(
        {CaseStatus.ON_AGENDA}, status, lambda: cases.mark_discussed(session, case, follow_up=False, now=NOW)
    )


def test_a_case_is_discussed_at_several_meetings_through_follow_up(session, world):
    case = submit(session, world)
    first = make_meeting(session, world.consultation, starts_at=NOW + timedelta(days=14))
    second = make_meeting(session, world.consultation, starts_at=NOW + timedelta(days=28))
    for meeting, follow_up in ((first, True), (second, False)):
        cases.accept_case(session, case, meeting, actor=world.coordinator, now=NOW)
        item = make_agenda_item(session, meeting, case)
        meeting.published_version = 1
        cases.mark_on_agenda(session, case, meeting, now=NOW)
        discussed_at = meeting.starts_at + timedelta(minutes=30)
        cases.mark_discussed(session, case, follow_up=follow_up, now=discussed_at)
        assert (item.discussed_at, item.follow_up_wanted, case.last_discussed_at) == (
            discussed_at,
            follow_up,
            discussed_at,
        )
        assert case.status == (CaseStatus.FOLLOW_UP if follow_up else CaseStatus.DISCUSSED)
    assert [m.id for m, _item in cases.discussions(session, case)] == [first.id, second.id]
    cases.close_case(session, case, actor=world.officer, now=NOW + timedelta(days=30))
    assert (case.status, case.closed_at, case.reference) == (
        CaseStatus.CLOSED,
        NOW + timedelta(days=30),
        "UNA-2026-001",
    )


@pytest.mark.parametrize("status", ALL)
def test_release_case_puts_it_back_in_the_queue(session, world, status):
    meeting = make_meeting(session, world.consultation)
    case = _case_in(session, world, status, meeting_id=meeting.id)
    _expect(
        {CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA},
        status,
        lambda: cases.release_case(session, case, now=NOW),
    )
    if status in (CaseStatus.ACCEPTED, CaseStatus.ON_AGENDA):
        assert (case.status, case.meeting_id) == (CaseStatus.SUBMITTED, None)


def test_release_case_discussed_before_goes_back_to_follow_up(session, world):
    earlier = make_meeting(session, world.consultation, starts_at=NOW - timedelta(days=14))
    later = make_meeting(session, world.consultation)
    case = _case_in(session, world, CaseStatus.ACCEPTED, meeting_id=later.id)
    make_agenda_item(session, earlier, case, discussed_at=NOW - timedelta(days=14))
    cases.release_case(session, case, now=NOW)
    assert (case.status, case.meeting_id) == (CaseStatus.FOLLOW_UP, earlier.id)


@pytest.mark.parametrize("status", ALL)
def test_request_follow_up_only_after_discussion(session, world, status):
    case = _case_in(session, world, status)
    _expect(
        {CaseStatus.DISCUSSED},
        status,
        lambda: cases.request_follow_up(session, case, actor=world.officer, now=NOW),
    )


@pytest.mark.parametrize("status", ALL)
def test_close_case_only_after_discussion(session, world, status):
    case = _case_in(session, world, status)
    _expect(cases.CLOSABLE, status, lambda: cases.close_case(session, case, actor=world.officer, now=NOW))


@pytest.mark.parametrize("status", ALL)
def test_withdraw_case_until_it_has_been_discussed(session, world, status):
    case = _case_in(session, world, status)
    _expect(
        cases.WITHDRAWABLE,
        status,
        lambda: cases.withdraw_case(session, case, actor=world.officer, now=NOW, link="https://x/cases/1"),
    )
    if status in cases.WITHDRAWABLE:
        assert (case.status, case.withdrawn_at) == (CaseStatus.WITHDRAWN, NOW)


def _mail(session):
    return session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_withdrawing_a_scheduled_case_tells_the_coordinators_without_any_case_text(session, world):
    submitted = _case_in(session, world, CaseStatus.SUBMITTED)
    cases.withdraw_case(session, submitted, actor=world.officer, now=NOW, link="https://samrad.test/cases/1")
    assert _mail(session) == []
    meeting = make_meeting(session, world.consultation)
    accepted = _case_in(session, world, CaseStatus.ACCEPTED, meeting_id=meeting.id, reference="UNA-2026-007")
    cases.withdraw_case(session, accepted, actor=world.officer, now=NOW, link="https://samrad.test/cases/2")
    [mail] = _mail(session)
    assert (mail.recipient, mail.subject) == (
        "samordnare@freda.example",
        "Ärende UNA-2026-007 har dragits tillbaka",
    )
    assert "https://samrad.test/cases/2" in mail.body_text
    for text in (mail.subject, mail.body_text, mail.body_html):
        assert "skolkuratorn" not in text and "hemlandet" not in text and "Hur kan vi" not in text


@pytest.mark.parametrize("status", ALL)
def test_return_case_only_from_the_queue(session, world, status):
    case = _case_in(session, world, status)
    _expect(
        cases.RETURNABLE,
        status,
        lambda: cases.return_case(
            session,
            case,
            actor=world.coordinator,
            comment="Beskriv frågan tydligare.",
            now=NOW,
            link="https://x",
        ),
    )


def test_returning_a_case_needs_a_comment(session, world):
    case = _case_in(session, world, CaseStatus.SUBMITTED)
    with pytest.raises(cases.CommentRequired):
        cases.return_case(session, case, actor=world.coordinator, comment="  ", now=NOW, link="https://x")
    assert case.status == CaseStatus.SUBMITTED


def test_the_return_comment_is_scanned_too(session, world):
    case = _case_in(session, world, CaseStatus.SUBMITTED)
    with pytest.raises(cases.DeidentificationRefused):
        cases.return_case(
            session,
            case,
            actor=world.coordinator,
            comment="Ring mig på 070-174 06 05.",
            now=NOW,
            link="https://x",
        )
    with pytest.raises(cases.WarningsNotConfirmed) as warned:
        cases.return_case(
            session, case, actor=world.coordinator, comment="Stryk namnet Fatima.", now=NOW, link="https://x"
        )
    assert (case.status, case.return_comment, _mail(session)) == (CaseStatus.SUBMITTED, "", [])
    digest = warned.value.guard.digest
    cases.return_case(
        session,
        case,
        actor=world.coordinator,
        comment="Stryk namnet Fatima.",
        now=NOW,
        link="https://x",
        attestation=Attestation(confirmed_digest=digest),
    )
    assert case.return_comment == "Stryk namnet Fatima."


def test_a_returned_case_e_mails_the_officer_a_link_and_the_reference_only(session, world):
    case = _case_in(session, world, CaseStatus.SUBMITTED, reference="UNA-2026-014")
    comment = "Ta bort uppgiften om skolan och beskriv frågan om utreseförbud tydligare."
    cases.return_case(
        session, case, actor=world.coordinator, comment=comment, now=NOW, link="https://samrad.test/cases/9"
    )
    assert (case.status, case.return_comment, case.returned_at) == (CaseStatus.RETURNED, comment, NOW)
    [mail] = _mail(session)
    assert (mail.recipient, mail.subject) == (
        "handlaggare@kiruna.example",
        "Ärende UNA-2026-014 har skickats tillbaka till dig",
    )
    assert "https://samrad.test/cases/9" in mail.body_text and "https://samrad.test/cases/9" in mail.body_html
    for text in (mail.subject, mail.body_text, mail.body_html):
        assert "utreseförbud" not in text and "skolan" not in text and "skolkuratorn" not in text


def test_resubmitting_a_returned_case_keeps_the_reference_and_clears_the_comment(session, world):
    case = submit(session, world)
    cases.return_case(
        session, case, actor=world.coordinator, comment="Förtydliga frågan.", now=NOW, link="https://x"
    )
    data = case_input(world.municipality.id, questions="Hur bedömer ni risken för bortförande i sommar?")
    cases.update_case(
        session,
        case,
        data,
        actor=world.officer,
        now=NOW + timedelta(days=1),
        submit=True,
        attestation=ATTESTED,
    )
    assert (case.status, case.reference, case.return_comment, case.returned_at, case.questions) == (
        CaseStatus.SUBMITTED,
        "UNA-2026-001",
        "",
        None,
        "Hur bedömer ni risken för bortförande i sommar?",
    )
    assert case.submitted_at == NOW


def test_a_returned_case_can_be_saved_without_sending_it(session, world):
    case = submit(session, world)
    cases.return_case(
        session, case, actor=world.coordinator, comment="Förtydliga frågan.", now=NOW, link="https://x"
    )
    cases.update_case(
        session,
        case,
        case_input(world.municipality.id, questions="Ny fråga?"),
        actor=world.officer,
        now=NOW,
        submit=False,
    )
    assert (case.status, case.questions, case.return_comment) == (
        CaseStatus.RETURNED,
        "Ny fråga?",
        "Förtydliga frågan.",
    )


def test_changing_a_submitted_case_needs_the_attestation_again(session, world):
    case = submit(session, world)
    data = case_input(world.municipality.id, questions="Ändrad fråga?")
    with pytest.raises(cases.NotAttested):
        cases.update_case(session, case, data, actor=world.officer, now=NOW, submit=False)
    assert case.questions == QUESTIONS
    cases.update_case(session, case, data, actor=world.officer, now=NOW, submit=False, attestation=ATTESTED)
    assert (case.status, case.questions) == (CaseStatus.SUBMITTED, "Ändrad fråga?")


def test_category_and_exposer_changes_replace_the_rows(session, world):
    from samrad.enums import CaseCategory, Exposer

    case = submit(session, world)
    data = case_input(
        world.municipality.id,
        categories=[CaseCategory.FORCED_MARRIAGE],
        exposers=[Exposer.SIBLING, Exposer.RELATIVE],
    )
    cases.update_case(session, case, data, actor=world.officer, now=NOW, submit=False, attestation=ATTESTED)
    session.flush()
    session.expire_all()
    case = session.get(Case, case.id)
    assert [e.category.value for e in case.categories] == ["forced_marriage"]
    assert sorted(e.exposer.value for e in case.exposers) == ["relative", "sibling"]


@pytest.mark.parametrize("status", ALL)
def test_update_case_only_before_a_meeting(session, world, status):
    case = _case_in(session, world, status)
    _expect(
        cases.EDITABLE,
        status,
        lambda: cases.update_case(
            session,
            case,
            case_input(world.municipality.id),
            actor=world.officer,
            now=NOW,
            submit=False,
            attestation=ATTESTED,
        ),
    )


def test_guard_blocks_changes_as_well(session, world):
    case = submit(session, world)
    data = case_input(world.municipality.id, questions="Mejla svar till flickan@example.com?")
    with pytest.raises(cases.DeidentificationRefused):
        cases.update_case(
            session, case, data, actor=world.officer, now=NOW, submit=False, attestation=ATTESTED
        )
    assert case.questions == QUESTIONS


# --- Logs carry ids and references, never text ----------------------------------------------------------


def test_logs_never_contain_case_text_or_overridden_words(session, world, caplog):
    text = BACKGROUND + " Fatima berättar att Ahmed tar hennes telefon."
    caplog.set_level(logging.DEBUG)
    with pytest.raises(cases.WarningsNotConfirmed) as warned:
        submit(session, world, background=text)
    case = submit(session, world, background=text, attestation=Attestation(True, warned.value.guard.digest))
    with pytest.raises(cases.DeidentificationRefused):
        cases.update_case(
            session,
            case,
            case_input(world.municipality.id, questions="Ring 070-174 06 05"),
            actor=world.officer,
            now=NOW,
            submit=False,
            attestation=ATTESTED,
        )
    cases.return_case(
        session,
        case,
        actor=world.coordinator,
        comment="Ta bort uppgiften om släkten i Boden.",
        now=NOW,
        link="https://x",
    )
    logged = caplog.text
    assert f"case {case.id} submitted as UNA-2026-001 (2 guard warnings confirmed)" in logged
    for secret in (
        "Fatima",
        "Ahmed",
        "telefon",
        "skolkuratorn",
        "070-174",
        "släkten",
        "Hur kan vi",
        warned.value.guard.digest,
    ):
        assert secret not in logged


# --- Who sees what ---------------------------------------------------------------------------------------


@pytest.fixture
def visibility(session, world):
    """A published meeting with case A (on the agenda) and case B (on it too), an unpublished meeting with
    case C, and people in every role."""
    w = world
    other_org = make_organisation(session, name="Socialtjänsten, Boden kommun")
    published = make_meeting(session, w.consultation, published_version=1)
    unpublished = make_meeting(session, w.consultation, starts_at=NOW + timedelta(days=28))
    a = make_case(
        session,
        w.consultation,
        w.org,
        officer=w.officer,
        status=CaseStatus.ON_AGENDA,
        meeting_id=published.id,
    )
    b = make_case(session, w.consultation, other_org, status=CaseStatus.ON_AGENDA, meeting_id=published.id)
    c = make_case(session, w.consultation, other_org, status=CaseStatus.ACCEPTED, meeting_id=unpublished.id)
    draft = make_case(session, w.consultation, w.org, officer=w.officer, status=CaseStatus.DRAFT)
    queued = make_case(session, w.consultation, other_org, status=CaseStatus.SUBMITTED)
    item_a = make_agenda_item(session, published, a)
    make_agenda_item(session, published, b)
    make_agenda_item(session, unpublished, c)
    p = {
        "officer": w.officer,
        # Same organisation as the officer, but no role in this consultation: sees nothing (issue G).
        "colleague": make_user(session, organisation=w.org),
        # Same organisation and a role here: sees the organisation's submitted cases, not the drafts.
        "colleague_member": make_user(
            session, organisation=w.org, roles=["member"], consultation=w.consultation
        ),
        "other_officer": make_user(
            session, organisation=other_org, roles=["case_officer"], consultation=w.consultation
        ),
        "coordinator": w.coordinator,
        "other_coordinator": make_user(
            session, roles=["coordinator"], consultation=make_consultation(session)
        ),
        "member_invited": make_user(session, roles=["member"], consultation=w.consultation),
        "member_unpublished": make_user(session, roles=["member"], consultation=w.consultation),
        "member_removed": make_user(session, roles=["member"], consultation=w.consultation),
        "member_not_invited": make_user(session, roles=["member"], consultation=w.consultation),
        "presenter": make_user(session, organisation=make_organisation(session)),
        "presenter_removed": make_user(session),
        "presenter_by_email": make_user(session, email="kollega@kiruna.example"),
        "statistics": make_user(session, roles=[Role.STATISTICS_VIEWER.value], consultation=w.consultation),
        "admin": make_user(session, is_admin=True),
        "nobody": make_user(session),
    }
    make_invitee(session, published, p["member_invited"])
    make_invitee(session, unpublished, p["member_unpublished"])
    make_invitee(session, published, p["member_removed"], removed_at=NOW)
    make_invitee(session, published, p["presenter"], kind=InviteeKind.PRESENTER, item=item_a)
    make_invitee(
        session, published, p["presenter_removed"], kind=InviteeKind.PRESENTER, item=item_a, removed_at=NOW
    )
    make_invitee(
        session, published, None, kind=InviteeKind.PRESENTER, item=item_a, email="kollega@kiruna.example"
    )
    return p, {"A": a, "B": b, "C": c, "draft": draft, "queued": queued}, published


EXPECTED = {
    "officer": {"A", "draft"},
    "colleague": set(),
    "colleague_member": {"A"},
    "other_officer": {"B", "C", "queued"},
    "coordinator": {"A", "B", "C", "queued"},
    "other_coordinator": set(),
    "member_invited": {"A", "B"},
    "member_unpublished": set(),  # C is accepted for that meeting, whose agenda is not published
    "member_removed": set(),
    "member_not_invited": set(),
    "presenter": {"A"},
    "presenter_removed": set(),
    "presenter_by_email": {"A"},
    "statistics": set(),
    "admin": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_who_sees_which_case(session, visibility, who):
    people, named, _meeting = visibility
    user = people[who]
    visible = {name for name, case in named.items() if _sees(session, user, case)}
    assert visible == EXPECTED[who]
    listed = {
        name for name, case in named.items() if case in cases.cases_visible_to(session, actor_for(user))
    }
    assert listed == EXPECTED[who]


def _sees(session, user, case) -> bool:
    return access.may(session, actor_for(user), Action.VIEW_CASE, case)


def test_standing_members_stop_seeing_a_withdrawn_case(session, visibility, world):
    people, named, _meeting = visibility
    cases.withdraw_case(session, named["A"], actor=world.officer, now=NOW, link="https://x")
    assert not _sees(session, people["member_invited"], named["A"])
    assert not _sees(session, people["presenter"], named["A"])
    assert _sees(session, people["colleague_member"], named["A"])
    assert _sees(session, people["coordinator"], named["A"])


def test_members_still_see_a_discussed_case_of_their_meeting(session, visibility):
    people, named, _meeting = visibility
    cases.mark_discussed(session, named["A"], follow_up=False, now=NOW)
    assert _sees(session, people["member_invited"], named["A"])


def test_cases_visible_to_filters_by_consultation_status_and_own_organisation(session, visibility):
    people, named, _meeting = visibility
    coordinator = people["coordinator"]
    coordinator = actor_for(coordinator)
    assert {c.id for c in cases.cases_visible_to(session, coordinator, statuses=[CaseStatus.SUBMITTED])} == {
        named["queued"].id
    }
    assert cases.cases_visible_to(session, coordinator, consultation_id=99_999) == []
    own = cases.cases_visible_to(session, actor_for(people["officer"]), own_organisation_only=True)
    assert {c.id for c in own} == {named["A"].id, named["draft"].id}


def test_slot_time_is_the_meeting_start_plus_the_items_before(session, world):
    meeting = make_meeting(
        session, world.consultation, published_version=1, starts_at=datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    )
    first = make_case(
        session, world.consultation, world.org, status=CaseStatus.ON_AGENDA, meeting_id=meeting.id
    )
    second = make_case(
        session, world.consultation, world.org, status=CaseStatus.ON_AGENDA, meeting_id=meeting.id
    )
    make_agenda_item(session, meeting, None, position=1, duration_minutes=10)
    make_agenda_item(session, meeting, first, position=2, duration_minutes=20)
    make_agenda_item(session, meeting, second, position=3, duration_minutes=15)
    slot = cases.slot_of(session, second)
    assert (slot.meeting.id, slot.published, slot.starts_at) == (
        meeting.id,
        True,
        datetime(2026, 12, 7, 12, 30, tzinfo=UTC),
    )
    accepted = make_case(
        session, world.consultation, world.org, status=CaseStatus.ACCEPTED, meeting_id=meeting.id
    )
    make_agenda_item(session, meeting, accepted, position=4)
    assert (cases.slot_of(session, accepted).published, cases.slot_of(session, accepted).starts_at) == (
        False,
        None,
    )
    assert cases.slot_of(session, make_case(session, world.consultation, world.org)) is None


def test_triage_queue_puts_honour_related_cases_first(session, world):
    from samrad.enums import CaseCategory
    from samrad.models import CaseCategoryEntry

    partner = make_case(session, world.consultation, world.org, submitted_at=NOW - timedelta(days=5))
    partner.categories = [CaseCategoryEntry(category=CaseCategory.PARTNER_VIOLENCE)]
    honour = make_case(session, world.consultation, world.org, submitted_at=NOW - timedelta(days=1))
    follow_up = make_case(
        session,
        world.consultation,
        world.org,
        status=CaseStatus.FOLLOW_UP,
        submitted_at=NOW - timedelta(days=9),
    )
    make_case(session, world.consultation, world.org, status=CaseStatus.ACCEPTED)
    make_case(session, world.consultation, world.org, status=CaseStatus.DRAFT)
    session.flush()
    assert [c.id for c in cases.triage_queue(session, world.consultation)] == [
        follow_up.id,
        honour.id,
        partner.id,
    ]


def test_who_may_submit(session, world):
    def may_submit(user):
        return access.may(session, actor_for(user), Action.SUBMIT_CASE, world.consultation)

    assert may_submit(world.officer)
    assert not may_submit(world.coordinator)  # no organisation
    stats = make_user(
        session, organisation=world.org, roles=["statistics_viewer"], consultation=world.consultation
    )
    assert not may_submit(stats)
    assert cases.submitting_consultations(session, actor_for(world.officer)) == [world.consultation]
    assert cases.submitting_consultations(session, actor_for(stats)) == []


def test_reference_prefix_comes_from_the_slug(session):
    assert cases.reference_prefix(make_consultation(session, slug="una-norrbotten")) == "UNA"
    assert cases.reference_prefix(make_consultation(session, slug="vg2-fyrbodal")) == "VG"
    assert cases.reference_prefix(make_consultation(session, slug="123-x")) == "CASE"


def test_agenda_items_keep_their_case_link(session, world):
    # mark_discussed writes to the agenda item of the case's current meeting only.
    case = make_case(session, world.consultation, world.org, status=CaseStatus.ON_AGENDA)
    other = make_meeting(session, world.consultation)
    item = make_agenda_item(session, other, case)
    cases.mark_discussed(session, case, follow_up=True, now=NOW)
    assert (session.get(AgendaItem, item.id).discussed_at, case.status) == (None, CaseStatus.FOLLOW_UP)
