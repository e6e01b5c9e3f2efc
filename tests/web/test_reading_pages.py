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
        before_writing = (
            statements[: statements.index("BEGIN IMMEDIATE")] if "BEGIN IMMEDIATE" in statements else []
        )
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
