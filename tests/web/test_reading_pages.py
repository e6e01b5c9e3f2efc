"""Pages that only read do not hold SQLite's write lock (issue K): the web workers read side by side, and
what such a page must write — its view in the audit log, the session's last activity — goes in one short
transaction after the response is built."""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import event
from sqlmodel import select

from samrad import db
from samrad.enums import AuditKind, AuditVerb
from samrad.models import AuditEvent
from tests.factories import PASSWORD, make_consultation, make_user
from tests.processes import wait_until


def test_a_reading_page_reads_while_another_process_writes_and_records_its_view_after(
    app, client, auth, web_session
):
    consultation = make_consultation(web_session, slug="una")
    make_user(
        web_session, email="samordnare@region.example", roles=["coordinator"], consultation=consultation
    )
    web_session.commit()
    auth.login("samordnare@region.example", PASSWORD)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.get_engine(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    path = app.config["DATABASE_URL"].removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # another worker in the middle of a write
    statuses: list[int] = []
    thread = threading.Thread(target=lambda: statuses.append(client.get("/c/una/cases/queue").status_code))
    try:
        thread.start()
        # The page reads its data (the queue) while the other process holds the write lock …
        wait_until(lambda: any("FROM case_record" in s for s in statements), "the page to read the queue")
        so_far = list(statements)  # the page may still be rendering, or already waiting to write
        before_writing = so_far[: so_far.index("BEGIN IMMEDIATE")] if "BEGIN IMMEDIATE" in so_far else so_far
        assert before_writing[0] == "BEGIN"  # deferred: no write lock asked for
        assert any("FROM case_record" in s for s in before_writing)
        assert statuses == []  # still waiting to write its view
    finally:
        writer.rollback()  # … and its one write, the view in the audit log, goes through once it is free.
        writer.close()
    thread.join(timeout=60)
    assert statuses == [200]
    web_session.expire_all()
    views = web_session.exec(select(AuditEvent).where(AuditEvent.verb == AuditVerb.VIEWED)).all()
    assert [(v.kind, v.object_id) for v in views] == [(AuditKind.CASE_QUEUE, str(consultation.id))]


def test_the_answer_to_an_agenda_change_is_read_without_the_write_lock(app, client, auth, web_session):
    """A change commits, then its answer is rendered in a DEFERRED transaction: the other workers'
    changes need not wait while this one renders."""
    from datetime import timedelta

    from samrad.models import AgendaItem, utcnow
    from tests.factories import make_meeting

    consultation = make_consultation(web_session, slug="una")
    make_user(
        web_session, email="samordnare@region.example", roles=["coordinator"], consultation=consultation
    )
    meeting = make_meeting(web_session, consultation, starts_at=utcnow() + timedelta(days=10))
    web_session.add_all(
        AgendaItem(meeting_id=meeting.id, position=n, kind="welcome", duration_minutes=10) for n in range(2)
    )
    web_session.commit()
    first, second = web_session.exec(select(AgendaItem).order_by(AgendaItem.position)).all()
    auth.login("samordnare@region.example", PASSWORD)
    path = f"/c/una/meetings/{meeting.public_id}/agenda"
    token = auth.token(path + "/edit")
    statements: list[str] = []
    with app.app_context():
        event.listen(db.get_engine(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.post(
        path + "/order",
        data={"revision": meeting.agenda_revision, "move": f"down:{first.id}", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    begins = [s for s in statements if s.startswith("BEGIN")]
    # who is asking, and the meeting with the right to change its agenda, read without a lock; the change
    # (an order is no statistic: the generation stays); then the answer, read without a lock
    assert begins == ["BEGIN", "BEGIN", "BEGIN IMMEDIATE", "BEGIN"]
    checks_begin = statements.index("BEGIN", 1)
    login_check = statements[1:checks_begin]
    assert len(login_check) == 1 and "FROM usersession" in login_check[0]
    meeting_read = statements[checks_begin + 1 : statements.index("BEGIN IMMEDIATE")]
    assert meeting_read and all(s.lstrip().startswith("SELECT") for s in meeting_read)
    assert any("FROM meeting" in s for s in meeting_read)
    change = statements[statements.index("BEGIN IMMEDIATE") + 1 :]
    assert "FROM agendaitem" in change[0]  # the items are read inside the change
    assert any(s.startswith("UPDATE meeting SET agenda_revision") and "WHERE" in s for s in change)
    answer = statements[len(statements) - statements[::-1].index("BEGIN") :]
    assert answer and all(s.lstrip().startswith("SELECT") for s in answer)
    web_session.expire_all()
    assert [i.id for i in web_session.exec(select(AgendaItem).order_by(AgendaItem.position))] == [
        second.id,
        first.id,
    ]
