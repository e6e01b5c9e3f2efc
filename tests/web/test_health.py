from datetime import UTC, datetime, timedelta

from sqlmodel import select

from samrad.enums import JobOutcome, OutboxStatus, Role
from samrad.models import JobRun, OutboxMessage, utcnow
from tests.factories import PASSWORD, make_consultation, make_user

BODY = "Hemlig länk https://samrad.test/invitation/abcdefghijklmnopqrstu"


def _messages(web_session):
    rows = [
        OutboxMessage(
            recipient="fel@kommun.example",
            subject="Påminnelse: ärenden till Una",
            body_text=BODY,
            message_id="<1@x>",
            status=OutboxStatus.FAILED,
            attempts=8,
            last_error="SMTPRecipientsRefused: {'fel@kommun.example': (550, b'No such user')}",
        ),
        OutboxMessage(
            recipient="vantar@kommun.example",
            subject="Välkommen",
            body_text=BODY,
            message_id="<2@x>",
            status=OutboxStatus.PENDING,
            attempts=2,
            last_error="ConnectionRefusedError: [Errno 111]",
            next_attempt_at=datetime(2027, 3, 1, 9, 5, tzinfo=UTC),
        ),
        OutboxMessage(
            recipient="klar@kommun.example",
            subject="Skickat",
            body_text="",
            message_id="<3@x>",
            status=OutboxStatus.SENT,
            attempts=1,
        ),
    ]
    web_session.add_all(rows)
    web_session.commit()
    return rows


def _login(web_session, auth, *roles, admin=False):
    consultation = make_consultation(web_session)
    make_user(
        web_session, email="person@kommun.example", roles=roles, consultation=consultation, is_admin=admin
    )
    web_session.commit()
    auth.login("person@kommun.example", PASSWORD)


def test_operations_page_needs_an_administrator_or_a_coordinator(client, auth, web_session):
    _messages(web_session)
    assert client.get("/admin/health/").status_code == 302
    _login(web_session, auth, Role.MEMBER, Role.CASE_OFFICER, Role.STATISTICS_VIEWER)
    assert client.get("/admin/health/").status_code == 403
    assert auth.post("/admin/health/messages/1/retry", token_from="/").status_code == 403
    assert auth.post("/admin/health/messages/retry-failed", token_from="/").status_code == 403
    assert "Drift" not in client.get("/").get_data(as_text=True)
    web_session.expire_all()
    assert web_session.get(OutboxMessage, 1).status == OutboxStatus.FAILED


def test_administrators_see_undelivered_mail_with_the_reason_but_no_bodies(client, auth, web_session):
    _messages(web_session)
    _login(web_session, auth, admin=True)
    html = client.get("/admin/health/").get_data(as_text=True)
    assert "fel@kommun.example" in html and "Påminnelse: ärenden till Una" in html
    assert "550, b&#39;No such user&#39;" in html
    assert "vantar@kommun.example" in html and "1 mars 2027 kl. 10.05" in html
    assert "klar@kommun.example" not in html  # delivered mail is not listed
    assert "Hemlig länk" not in html and "abcdefghijklmnopqrstu" not in html
    assert html.index("fel@kommun.example") < html.index("vantar@kommun.example")  # failed first
    assert "Inte levererat</dt><dd>1</dd>" in html and "Levererat</dt><dd>1</dd>" in html
    assert "Schemaläggaren är inte igång" in html


def test_coordinators_see_the_scheduler_and_counts_but_no_other_consultations_mail(client, auth, web_session):
    failed, _pending, _sent = _messages(web_session)
    _login(web_session, auth, Role.COORDINATOR)
    assert '<a href="/admin/health/">Drift</a>' in client.get("/").get_data(as_text=True)
    html = client.get("/admin/health/").get_data(as_text=True)
    # Messages are not tied to one consultation: recipients and subjects are for administrators only.
    assert "fel@kommun.example" not in html and "Påminnelse: ärenden till Una" not in html
    assert "vantar@kommun.example" not in html
    assert "Inte levererat</dt><dd>1</dd>" in html and "Schemaläggaren är inte igång" in html
    assert "Administration" not in html.split("<main")[1]  # no admin menu for a coordinator
    assert (
        auth.post(f"/admin/health/messages/{failed.id}/retry", token_from="/admin/health/").status_code == 403
    )


def test_try_again_puts_a_failed_message_back_in_the_queue(client, auth, web_session):
    failed, pending, sent = _messages(web_session)
    _login(web_session, auth, admin=True)
    before = utcnow()
    response = auth.post(f"/admin/health/messages/{failed.id}/retry", token_from="/admin/health/")
    assert (response.status_code, response.headers["Location"]) == (303, "/admin/health/")
    web_session.expire_all()
    row = web_session.get(OutboxMessage, failed.id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert before <= row.next_attempt_at <= utcnow()
    assert "Meddelandet till fel@kommun.example skickas igen inom en minut." in client.get(
        "/admin/health/"
    ).get_data(as_text=True)
    # A delivered message is left alone; unknown ids are 404; no CSRF token, no change.
    auth.post(f"/admin/health/messages/{sent.id}/retry", token_from="/admin/health/")
    assert "Meddelandet har redan skickats eller skickas just nu." in client.get("/admin/health/").get_data(
        as_text=True
    )
    web_session.expire_all()
    assert web_session.get(OutboxMessage, sent.id).status == OutboxStatus.SENT
    assert auth.post("/admin/health/messages/999/retry", token_from="/admin/health/").status_code == 404
    assert client.post(f"/admin/health/messages/{pending.id}/retry").status_code == 400
    web_session.expire_all()
    assert web_session.get(OutboxMessage, pending.id).attempts == 2


def test_try_again_for_all_failed_messages(client, auth, web_session):
    _messages(web_session)
    web_session.add(
        OutboxMessage(
            recipient="fel2@kommun.example",
            subject="s",
            body_text="b",
            message_id="<4@x>",
            status=OutboxStatus.FAILED,
            attempts=8,
        )
    )
    web_session.commit()
    _login(web_session, auth, admin=True)
    html = client.get("/admin/health/").get_data(as_text=True)
    assert "Försök igen: alla 2 som inte levererats" in html
    response = auth.post("/admin/health/messages/retry-failed", token_from="/admin/health/")
    assert response.status_code == 303
    web_session.expire_all()
    statuses = [m.status for m in web_session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert statuses == [OutboxStatus.PENDING, OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.PENDING]
    assert "2 meddelanden skickas igen inom en minut." in client.get("/admin/health/").get_data(as_text=True)


def test_admins_see_each_jobs_last_and_next_run_and_outcome(client, auth, web_session):
    now = utcnow()
    web_session.add(
        JobRun(
            name="deliver-outbox",
            last_started_at=datetime(2027, 3, 1, 8, 0, tzinfo=UTC),
            last_finished_at=datetime(2027, 3, 1, 8, 0, 1, tzinfo=UTC),
            last_outcome=JobOutcome.OK,
            last_detail="sent 3, retrying 0, failed 0, skipped 0",
            next_run_at=now + timedelta(minutes=1),
        )
    )
    web_session.add(
        JobRun(
            name="purge-case-text",
            last_started_at=datetime(2027, 3, 1, 3, 15, tzinfo=UTC),
            last_outcome=JobOutcome.FAILED,
            last_detail="OperationalError: database is locked",
            last_ok_at=datetime(2027, 2, 28, 3, 15, tzinfo=UTC),
        )
    )
    web_session.commit()
    _login(web_session, auth, admin=True)
    html = client.get("/admin/health/").get_data(as_text=True)
    assert "Schemaläggaren är inte igång" not in html
    assert "Skicka e-post som väntar" in html and "<code>deliver-outbox</code>" in html
    assert "1 mars 2027 kl. 09.00" in html and "sent 3, retrying 0, failed 0, skipped 0" in html
    assert "Misslyckades<br>Lyckades senast 28 feb. 2027 kl. 04.15" in html
    assert "OperationalError: database is locked" in html
    assert "<code>rsvp-reminders</code></td>\n          <td>Aldrig</td>" in html
    assert "Alla e-post har levererats." not in html
    assert "All e-post har levererats." in html
