"""The audit log: what the session listener records, that nothing can change a record, and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text, update
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from samrad import periods
from samrad.enums import AuditKind, AuditVerb, CaseStatus, Role
from samrad.models import AuditEvent, Case, Organisation
from samrad.services import audit, directory, retention
from tests.factories import make_case, make_consultation, make_organisation, make_user

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MARKER = "Trollsländan"


def _events(session) -> list[tuple]:
    return [
        (e.actor, e.verb, e.kind, e.object_id, e.consultation_id, e.organisation_name, e.fields)
        for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))
    ]


def _clear(session) -> None:
    session.execute(text("DELETE FROM audit_event"))


def _world(session):
    consultation = make_consultation(session, slug="una")
    owner = make_organisation(session, name="Socialtjänsten Luleå")
    other = make_organisation(session, name="Polisen Norrbotten")
    officer = make_user(session, email="handlaggare@lulea.example", organisation=owner)
    officer.memberships.append(type(officer.memberships[0])(user_id=officer.id, organisation_id=other.id))
    session.flush()
    session.refresh(officer)
    _clear(session)
    return consultation, owner, other, officer


def test_a_new_case_is_one_created_event_acting_for_the_cases_organisation(session):
    consultation, _, second, officer = _world(session)
    with audit.acting_as(audit.acting_user(officer)):
        case = make_case(session, consultation, second, officer=officer, background=f"{MARKER} bakgrund")
        session.commit()
    # The case and its category and exposer rows are one event; the officer belongs to two
    # organisations and acted for the case's own (not their first).
    assert _events(session) == [
        (
            "handlaggare@lulea.example",
            AuditVerb.CREATED,
            AuditKind.CASE,
            str(case.id),
            consultation.id,
            "Polisen Norrbotten",
            "",
        ),
    ]


def test_recording_a_new_case_does_not_read_it_back(session):
    """The case's category and exposer rows are recorded as part of the case created in the same flush:
    from the flushed object, not by reading the case (and its rows) back once per row."""
    consultation, owner, _, officer = _world(session)
    statements: list[str] = []
    engine = session.get_bind()
    listen = lambda *a: statements.append(" ".join(a[2].split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        make_case(session, consultation, owner, officer=officer)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert [s for s in statements if s.startswith("SELECT") and "FROM case_record" in s] == []
    assert [(verb, kind, consultation_id) for _, verb, kind, _, consultation_id, *_ in _events(session)] == [
        (AuditVerb.CREATED, AuditKind.CASE, consultation.id)
    ]


def test_a_change_records_field_names_never_values(session):
    consultation, owner, _, officer = _world(session)
    case = make_case(session, consultation, owner, officer=officer)
    session.commit()
    _clear(session)
    with audit.acting_as(audit.acting_user(officer)):
        case.background = f"{MARKER} ny bakgrund"
        case.questions = f"{MARKER} ny fråga"
        session.commit()
        case.status = CaseStatus.WITHDRAWN
        session.commit()
    rows = _events(session)
    assert [(r[1], r[6]) for r in rows] == [
        (AuditVerb.CHANGED, "background, questions"),
        (AuditVerb.CHANGED, "status"),
    ]
    dumped = " ".join(str(v) for r in session.exec(select(AuditEvent)) for v in r.model_dump().values())
    assert MARKER not in dumped and "withdrawn" not in dumped


def test_without_a_bound_person_the_actor_is_system(session):
    consultation, owner, _, _ = _world(session)
    make_case(session, consultation, owner)
    session.commit()
    assert [(r[0], r[1], r[5]) for r in _events(session)] == [("system", AuditVerb.CREATED, "")]


def test_roles_granted_and_revoked_are_recorded_and_rewriting_the_same_set_is_not(session):
    consultation, owner, _, officer = _world(session)
    admin = make_user(session, email="admin@region.example", is_admin=True)
    _clear(session)
    with audit.acting_as(audit.acting_user(admin)):
        directory.set_roles(
            session, officer, {(consultation.id, Role.CASE_OFFICER), (consultation.id, Role.MEMBER)}
        )
        session.commit()
        directory.set_roles(
            session, officer, {(consultation.id, Role.CASE_OFFICER), (consultation.id, Role.MEMBER)}
        )
        session.commit()
        directory.set_roles(session, officer, {(consultation.id, Role.COORDINATOR)})
        session.commit()
    assert [(r[0], r[1], r[2], r[3], r[4], r[6]) for r in _events(session)] == [
        (
            "admin@region.example",
            AuditVerb.CHANGED,
            AuditKind.ROLE,
            str(officer.id),
            consultation.id,
            "+case_officer, +member",
        ),
        (
            "admin@region.example",
            AuditVerb.CHANGED,
            AuditKind.ROLE,
            str(officer.id),
            consultation.id,
            "+coordinator, -case_officer, -member",
        ),
    ]


def test_register_entries_are_recorded_with_their_kind(session):
    _world(session)
    org = make_organisation(session, name="Kvinnojouren Ronja")
    session.commit()
    org.name = "Kvinnojouren Ronja i Luleå"
    session.commit()
    session.delete(session.get(Organisation, org.id))
    session.commit()
    assert [(r[1], r[2], r[3], r[6]) for r in _events(session)] == [
        (AuditVerb.CREATED, AuditKind.ORGANISATION, str(org.id), ""),
        (AuditVerb.CHANGED, AuditKind.ORGANISATION, str(org.id), "name"),
        (AuditVerb.DELETED, AuditKind.ORGANISATION, str(org.id), ""),
    ]


def test_a_view_is_written_as_a_row_in_the_transaction_not_through_the_unit_of_work(session):
    statements = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    audit.record(session, AuditVerb.VIEWED, AuditKind.AGENDA, 12, consultation_id=None, now=NOW)
    written = [s.split()[:3] for s in statements if not s.startswith("BEGIN")]
    assert not session.new and written == [["INSERT", "INTO", "audit_event"]]
    session.rollback()  # it belongs to the transaction: gone with it
    assert session.exec(select(AuditEvent)).all() == []
    audit.record(session, AuditVerb.VIEWED, AuditKind.AGENDA, 12, now=NOW)
    session.commit()
    [row] = session.exec(select(AuditEvent)).all()
    assert (row.verb, row.kind, row.object_id, row.at) == ("viewed", "agenda", "12", NOW)


def _one_event(session) -> AuditEvent:
    audit.record(session, AuditVerb.VIEWED, AuditKind.CASE, 7, now=NOW)
    session.commit()
    return session.exec(select(AuditEvent)).one()


def test_the_application_cannot_change_or_delete_a_record(session):
    _world(session)
    event = _one_event(session)
    event.actor = "someone-else@example"
    with pytest.raises(audit.AppendOnly):
        session.flush()
    session.rollback()
    session.delete(event)
    with pytest.raises(audit.AppendOnly):
        session.flush()
    session.rollback()
    with pytest.raises(audit.AppendOnly):
        session.execute(update(AuditEvent).values(actor="x"))
    session.rollback()
    assert session.exec(select(AuditEvent.actor)).all() == ["system"]


def test_the_database_itself_refuses_to_change_a_record(session):
    _world(session)
    _one_event(session)
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text("UPDATE audit_event SET actor = 'x'"))
    session.rollback()
    assert session.exec(select(AuditEvent.actor)).all() == ["system"]


def test_retention_deletes_only_records_older_than_its_days(session):
    _world(session)
    for days in (731, 730, 10):
        audit.record(session, AuditVerb.VIEWED, AuditKind.CASE, days, now=NOW - timedelta(days=days))
    session.commit()
    assert audit.purge(session, now=NOW, retention_days=730) == 1
    session.commit()
    assert sorted(session.exec(select(AuditEvent.object_id)).all()) == ["10", "730"]


def test_purging_case_text_records_each_case_as_deleted_text(session):
    consultation, owner, _, _ = _world(session)
    done = make_case(
        session, consultation, owner, status=CaseStatus.DISCUSSED, last_discussed_at=NOW - timedelta(days=40)
    )
    make_case(
        session, consultation, owner, status=CaseStatus.DISCUSSED, last_discussed_at=NOW - timedelta(days=5)
    )
    session.commit()
    _clear(session)
    with audit.acting_as(audit.Acting("job purge-case-text")):
        assert retention.purge_case_text(session, now=NOW, retention_days=30) == 1
    session.commit()
    assert _events(session) == [
        (
            "job purge-case-text",
            AuditVerb.DELETED,
            AuditKind.CASE,
            str(done.id),
            consultation.id,
            "",
            "advice, background, questions, return_comment",
        ),
    ]
    session.expire_all()
    assert session.get(Case, done.id).text_purged_at == NOW


def test_filters_and_csv_export(session):
    consultation, owner, _, officer = _world(session)
    with audit.acting_as(audit.acting_user(officer)):
        audit.record(session, AuditVerb.VIEWED, AuditKind.CASE, 1, consultation_id=consultation.id, now=NOW)
    with audit.acting_as(audit.Acting('=HYPERLINK("http://evil.example")')):
        audit.record(session, AuditVerb.EXPORTED, AuditKind.STATISTICS, "x", now=NOW + timedelta(days=1))
    session.commit()
    rows, more = audit.events(session, audit.Filters(actor="HANDLAGGARE"))
    assert [(e.actor, e.verb) for e in rows] == [("handlaggare@lulea.example", AuditVerb.VIEWED)] and not more
    assert [e.object_id for e in audit.events(session, audit.Filters(kind=AuditKind.STATISTICS))[0]] == ["x"]
    # Days are Stockholm days, the last one included.
    day = (NOW + timedelta(days=1)).date()
    assert [
        e.object_id for e in audit.events(session, audit.Filters(period=periods.between(day, day)))[0]
    ] == ["x"]
    lines = audit.export_csv(session, audit.Filters()).splitlines()
    assert lines[0] == "time,actor,user_id,organisation,consultation_id,verb,kind,object_id,fields"
    assert lines[1] == (
        f"2027-03-01 10:00:00,handlaggare@lulea.example,{officer.id},Socialtjänsten Luleå,{consultation.id},"
        "viewed,case,1,"
    )
    # A value a spreadsheet would run as a formula is defused.
    assert lines[2].startswith('2027-03-02 10:00:00,"\'=HYPERLINK(""http://evil.example"")",')


def test_no_evaluation_table_is_audited_and_no_kind_names_one():
    assert not [k for k in AuditKind if "evaluation" in k.value]
    from samrad.models import Evaluation, EvaluationComment, EvaluationCount, EvaluationToken, Questionnaire

    for model in (Evaluation, EvaluationComment, EvaluationCount, EvaluationToken, Questionnaire):
        assert audit._describe(None, model.__new__(model)) is None
