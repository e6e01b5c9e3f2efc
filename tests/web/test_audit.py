"""The audit log through the app: views, changes and exports recorded with who and for which
organisation; the administrators' page and CSV; nothing at all from the evaluation path."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from samrad import db
from samrad.enums import AuditKind, AuditVerb
from samrad.models import AuditEvent, Meeting, utcnow
from tests.conftest import csrf_from
from tests.factories import (
    ANSWERS_ALL_FULLY,
    BACKGROUND,
    PASSWORD,
    attend,
    make_case,
    make_consultation,
    make_held_meeting,
    make_organisation,
    make_user,
    open_with_tokens,
)

SLUG = "una-norrbotten"


def _world(s):
    consultation = make_consultation(s, slug=SLUG, name="Una Norrbotten")
    org = make_organisation(s, name="Socialtjänsten, Kiruna kommun")
    officer = make_user(
        s,
        email="handlaggare@kiruna.example",
        organisation=org,
        roles=["case_officer"],
        consultation=consultation,
    )
    coordinator = make_user(
        s, email="samordnare@lulea.example", roles=["coordinator"], consultation=consultation
    )
    admin = make_user(s, email="admin@region.example", is_admin=True)
    case = make_case(s, consultation, org, officer=officer)
    s.commit()
    s.execute(text("DELETE FROM audit_event"))  # what setting up the test wrote
    s.commit()
    return consultation, officer, coordinator, admin, case


def _events(s, **where) -> list[tuple]:
    s.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for key, value in where.items():
        query = query.where(getattr(AuditEvent, key) == value)
    return [(e.actor, e.verb, e.kind, e.object_id, e.organisation_name, e.fields) for e in s.exec(query)]


def test_opening_a_case_is_recorded_with_the_person_and_their_organisation(client, auth, web_session):
    consultation, officer, coordinator, _, case = _world(web_session)
    auth.login(officer.email, PASSWORD)
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert _events(web_session, kind=AuditKind.CASE) == [
        (
            "handlaggare@kiruna.example",
            AuditVerb.VIEWED,
            AuditKind.CASE,
            str(case.id),
            "Socialtjänsten, Kiruna kommun",
            "",
        ),
    ]
    # Someone refused (404) leaves no "viewed" line, and the list of one's own cases is no view of text.
    auth.logout()
    auth.login(coordinator.email, PASSWORD)
    client.get(f"/c/{SLUG}/cases/queue")
    assert _events(web_session, kind=AuditKind.CASE_QUEUE) == [
        ("samordnare@lulea.example", AuditVerb.VIEWED, AuditKind.CASE_QUEUE, str(consultation.id), "", ""),
    ]
    outsider = make_user(web_session, email="utanfor@example.org")
    web_session.commit()
    auth.logout()
    auth.login(outsider.email, PASSWORD)
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert [e[0] for e in _events(web_session, verb=AuditVerb.VIEWED)] == [
        "handlaggare@kiruna.example",
        "samordnare@lulea.example",
    ]
    assert BACKGROUND[:20] not in str(_events(web_session))


def test_changes_made_in_the_app_name_who_made_them(client, auth, web_session):
    consultation, officer, _, admin, _ = _world(web_session)
    auth.login(admin.email, PASSWORD)
    page = client.get(f"/admin/users/{officer.id}")
    response = client.post(
        f"/admin/users/{officer.id}",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "name": officer.name,
            "email": officer.email,
            "locale": "",
            "is_active": "y",
            "organisations": [m.organisation_id for m in officer.memberships],
            "roles": [f"{consultation.id}:case_officer", f"{consultation.id}:member"],
        },
    )
    assert response.status_code == 303
    assert _events(web_session, kind=AuditKind.ROLE) == [
        ("admin@region.example", AuditVerb.CHANGED, AuditKind.ROLE, str(officer.id), "", "+member"),
    ]
    assert [e[:4] for e in _events(web_session, kind=AuditKind.USER) if e[1] != AuditVerb.LOGGED_IN] == [
        ("admin@region.example", AuditVerb.VIEWED, AuditKind.USER, str(officer.id)),
    ]


def test_the_log_page_filters_and_exports_for_administrators(client, auth, web_session):
    _, officer, _, admin, case = _world(web_session)
    auth.login(officer.email, PASSWORD)
    client.get(f"/cases/{case.id}")
    auth.logout()
    auth.login(admin.email, PASSWORD)
    page = client.get("/admin/audit/?kind=case")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("<tr>") == 2 and "handlaggare@kiruna.example" in html and "Visade" in html
    assert "Ärende" in html and f"<td>{case.id}</td>" in html
    # The other kinds (the administrator's own login) are filtered out.
    assert "Loggade in" not in html
    bad = client.get("/admin/audit/?first_day=2027-03-02&last_day=2027-03-01")
    assert bad.status_code == 400
    assert 'id="last_day-error"' in bad.get_data(as_text=True)
    assert "Slutdatumet är före startdatumet." in bad.get_data(as_text=True)
    export = client.get("/admin/audit/export.csv?kind=case")
    assert export.status_code == 200 and export.headers["Content-Type"] == "text/csv; charset=utf-8"
    lines = export.get_data(as_text=True).splitlines()
    assert len(lines) == 2 and lines[1].split(",")[1:3] == ["handlaggare@kiruna.example", str(officer.id)]
    # Exporting the log is itself recorded.
    assert _events(web_session, kind=AuditKind.AUDIT_LOG) == [
        ("admin@region.example", AuditVerb.EXPORTED, AuditKind.AUDIT_LOG, "", "", ""),
    ]


def test_answering_an_evaluation_leaves_no_trace_in_the_log(client, auth, app, web_session):
    consultation = make_consultation(web_session, slug=SLUG)
    person = make_user(
        web_session, email="deltagare@kommun.example", roles=["member"], consultation=consultation
    )
    meeting = make_held_meeting(web_session, consultation, starts_at=utcnow() - timedelta(hours=3))
    for _ in range(3):
        attend(web_session, meeting, make_user(web_session, roles=["member"], consultation=consultation))
    attend(web_session, meeting, person)
    web_session.commit()
    with app.app_context(), db.session_scope() as s:
        _, issued = open_with_tokens(s, s.get(Meeting, meeting.id), now=utcnow())
    # Logged in, as a respondent may well be: still nothing about the evaluation is recorded.
    auth.login(person.email, PASSWORD)
    before = _events(web_session)
    landing = client.get(f"/evaluation/{issued[person.email]}")
    form = client.get(landing.headers["Location"])
    data = {f"q{n}": v for n, v in ANSWERS_ALL_FULLY.items()}
    data["csrf_token"] = csrf_from(form.get_data(as_text=True))
    assert client.post(landing.headers["Location"], data=data).status_code == 303
    client.get("/evaluations/thanks")
    assert _events(web_session) == before
