import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlmodel import select

from samrad import db, outbox
from samrad.enums import OutboxStatus
from samrad.models import OutboxMessage, utcnow


def _queue(to="anna@kommun.example"):
    with db.session_scope() as s:
        return outbox.queue_email(
            s,
            to=to,
            template="join_request_receipt",
            now=utcnow(),
            consultation=type("C", (), {"name": "Una Norrbotten"})(),
            name="Anna",
        )


def test_mail_is_delivered_through_a_real_smtp_server_after_commit(any_db_app, smtp_server):
    recorder = smtp_server.recorder
    smtp_server.configure(any_db_app)
    with any_db_app.app_context():
        message = _queue()
        with db.session_scope() as s:
            stored = s.get(OutboxMessage, message.id)
            assert (stored.status, stored.attempts) == (OutboxStatus.SENT, 1)
    assert len(recorder.messages) == 1
    rcpt, raw = recorder.messages[0]
    assert rcpt == ["anna@kommun.example"]
    mime = message_from_bytes(raw, policy=policy.default)
    assert mime["Subject"] == "Vi har tagit emot din förfrågan om att delta i Una Norrbotten"
    assert mime["Message-ID"].strip() == stored.message_id
    assert {part.get_content_type() for part in mime.walk()} >= {"text/plain", "text/html"}


def test_nothing_is_sent_when_the_transaction_rolls_back(any_db_app, smtp_server):
    recorder = smtp_server.recorder
    smtp_server.configure(any_db_app)
    with any_db_app.app_context():
        with pytest.raises(RuntimeError), db.session_scope() as s:
            outbox.queue_email(
                s,
                to="a@k.example",
                template="join_request_receipt",
                now=utcnow(),
                consultation=type("C", (), {"name": "X"})(),
                name="A",
            )
            raise RuntimeError("the change failed")
        with db.session_scope() as s:
            assert s.exec(select(OutboxMessage)).all() == []
    assert recorder.messages == []


def test_a_refusing_server_leaves_the_message_queued_with_backoff(any_db_app, smtp_server):
    recorder = smtp_server.recorder
    recorder.refuse = True
    smtp_server.configure(any_db_app)
    with any_db_app.app_context():
        message = _queue()
        with db.session_scope() as s:
            stored = s.get(OutboxMessage, message.id)
            assert (stored.status, stored.attempts) == (OutboxStatus.PENDING, 1)
            assert "451" in stored.last_error
            assert stored.next_attempt_at > stored.created_at
            # Not due yet: a second delivery attempt right now does nothing.
            assert outbox.deliver(s, message.id, now=utcnow()) is False
    assert recorder.messages == []


def test_an_unreachable_server_does_not_break_the_change(any_db_app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    any_db_app.config.update(MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=dead_port)
    with any_db_app.app_context():
        message = _queue()
        with db.session_scope() as s:
            assert s.get(OutboxMessage, message.id).status == OutboxStatus.PENDING


def test_a_claimed_message_is_not_sent_twice(any_db_app, smtp_server):
    recorder = smtp_server.recorder
    smtp_server.configure(any_db_app)
    with any_db_app.app_context():
        message = _queue()
        with db.session_scope() as s:
            assert outbox.claim(s, message.id, now=utcnow()) is False  # already sent
            assert outbox.deliver(s, message.id, now=utcnow()) is False
    assert len(recorder.messages) == 1


def test_file_transport_writes_an_eml_file(any_db_app, tmp_path):
    with any_db_app.app_context():
        _queue("kalle@kommun.example")
    files = list((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 1
    mime = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert mime["To"] == "kalle@kommun.example"


# --- Batches, retries, failure and the operations page's queries -------------------------------------

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _queue_many(n: int, *, now=T0, prefix="person") -> list[OutboxMessage]:
    with db.session_scope(deliver_mail=False) as s:
        return [
            outbox.queue_email(
                s,
                to=f"{prefix}{i}@kommun.example",
                template="join_request_receipt",
                now=now,
                consultation=type("C", (), {"name": "Una Norrbotten"})(),
                name=f"Person {i}",
            )
            for i in range(n)
        ]


def _rows(s) -> list[OutboxMessage]:
    s.expire_all()
    return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_batch_sends_due_messages_over_one_connection(any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    with any_db_app.app_context():
        queued = _queue_many(3)
        later = _queue_many(1, now=T0 + timedelta(hours=1), prefix="later")
        with db.session_scope() as s:
            report = outbox.deliver_due(s, now=T0)
            assert (report.sent, report.retrying, report.failed, report.skipped, report.stopped_early) == (
                3,
                0,
                0,
                0,
                False,
            )
            assert str(report) == "sent 3, retrying 0, failed 0, skipped 0"
            rows = _rows(s)
    assert smtp_server.recorder.message_ids() == [m.message_id for m in queued]
    assert smtp_server.recorder.connections == 1
    assert [(r.status, r.attempts, r.sent_at, r.claimed_by) for r in rows[:3]] == [
        (OutboxStatus.SENT, 1, T0, "")
    ] * 3
    assert rows[3].id == later[0].id and rows[3].status == OutboxStatus.PENDING and rows[3].body_text


def test_retries_back_off_then_the_message_fails_with_the_reason(any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    smtp_server.recorder.refuse = True
    any_db_app.config["MAIL_MAX_ATTEMPTS"] = 3
    with any_db_app.app_context():
        [message] = _queue_many(1)
        with db.session_scope() as s:
            assert str(outbox.deliver_due(s, now=T0)) == "sent 0, retrying 1, failed 0, skipped 0"
            row = _rows(s)[0]
            assert (row.status, row.attempts, row.next_attempt_at) == (
                OutboxStatus.PENDING,
                1,
                T0 + timedelta(minutes=1),
            )
            assert row.last_error == "SMTPDataError: (451, b'Try again later')"
            # Not due before the backoff has passed.
            assert (
                str(outbox.deliver_due(s, now=T0 + timedelta(seconds=59)))
                == "sent 0, retrying 0, failed 0, skipped 0"
            )
            outbox.deliver_due(s, now=T0 + timedelta(minutes=1))
            row = _rows(s)[0]
            assert (row.status, row.attempts, row.next_attempt_at) == (
                OutboxStatus.PENDING,
                2,
                T0 + timedelta(minutes=6),
            )
            assert (
                str(outbox.deliver_due(s, now=T0 + timedelta(minutes=6)))
                == "sent 0, retrying 0, failed 1, skipped 0"
            )
            row = _rows(s)[0]
            assert (row.status, row.attempts, row.last_error) == (
                OutboxStatus.FAILED,
                3,
                "SMTPDataError: (451, b'Try again later')",
            )
            assert row.body_text  # kept, so that "try again" can send it
            # A failed message is never picked up again by itself.
            assert (
                str(outbox.deliver_due(s, now=T0 + timedelta(days=1)))
                == "sent 0, retrying 0, failed 0, skipped 0"
            )
    assert smtp_server.recorder.messages == []


def test_a_permanent_refusal_fails_at_once_and_the_batch_goes_on(any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    smtp_server.recorder.hook = lambda envelope: (
        "554 Message refused" if envelope.rcpt_tos == ["person0@kommun.example"] else None
    )
    with any_db_app.app_context():
        _queue_many(2)
        with db.session_scope() as s:
            assert str(outbox.deliver_due(s, now=T0)) == "sent 1, retrying 0, failed 1, skipped 0"
            rows = _rows(s)
    assert [(r.recipient, r.status, r.attempts) for r in rows] == [
        ("person0@kommun.example", OutboxStatus.FAILED, 1),
        ("person1@kommun.example", OutboxStatus.SENT, 1),
    ]
    assert rows[0].last_error == "SMTPDataError: (554, b'Message refused')"


def test_an_unreachable_server_costs_one_attempt_and_stops_the_batch(any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    smtp_server.stop()
    with any_db_app.app_context():
        _queue_many(4)
        with db.session_scope() as s:
            report = outbox.deliver_due(s, now=T0)
            assert (
                str(report)
                == "sent 0, retrying 1, failed 0, skipped 0 (mail server unreachable, stopped early)"
            )
            rows = _rows(s)
    assert [(r.status, r.attempts) for r in rows] == [(OutboxStatus.PENDING, 1)] + [
        (OutboxStatus.PENDING, 0)
    ] * 3
    assert rows[0].last_error.startswith("ConnectionRefusedError")


def test_a_closing_server_421_stops_the_batch(any_db_app, smtp_server):
    smtp_server.configure(any_db_app)
    smtp_server.recorder.hook = lambda envelope: "421 Service shutting down"
    with any_db_app.app_context():
        _queue_many(3)
        with db.session_scope() as s:
            assert outbox.deliver_due(s, now=T0).stopped_early is True
            assert [r.attempts for r in _rows(s)] == [1, 0, 0]


def test_retry_puts_failed_and_waiting_messages_back_with_fresh_attempts(session):
    failed, pending, sent = (
        OutboxMessage(
            recipient=f"{n}@k.example",
            subject="s",
            body_text="b",
            message_id=f"<{n}@x>",
            status=st,
            attempts=3,
            next_attempt_at=T0 + timedelta(hours=1),
            created_at=T0,
        )
        for n, st in (("f", OutboxStatus.FAILED), ("p", OutboxStatus.PENDING), ("s", OutboxStatus.SENT))
    )
    session.add_all([failed, pending, sent])
    session.flush()
    later = T0 + timedelta(minutes=10)
    assert [outbox.retry(session, m, now=later) for m in (failed, pending, sent)] == [True, True, False]
    assert [(m.status, m.attempts, m.next_attempt_at) for m in (failed, pending)] == [
        (OutboxStatus.PENDING, 0, later)
    ] * 2
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 3)


def test_counts_and_the_undelivered_list_show_failed_first(session):
    for n, status in enumerate(
        [
            OutboxStatus.PENDING,
            OutboxStatus.SENT,
            OutboxStatus.FAILED,
            OutboxStatus.SENDING,
            OutboxStatus.FAILED,
        ]
    ):
        session.add(
            OutboxMessage(
                recipient=f"{n}@k.example",
                subject=f"s{n}",
                body_text="b",
                message_id=f"<{n}@x>",
                status=status,
                created_at=T0 + timedelta(minutes=n),
            )
        )
    session.flush()
    assert outbox.counts_by_status(session) == {
        OutboxStatus.PENDING: 1,
        OutboxStatus.SENDING: 1,
        OutboxStatus.SENT: 1,
        OutboxStatus.FAILED: 2,
    }
    assert [m.subject for m in outbox.undelivered(session)] == ["s2", "s4", "s0", "s3"]


def test_queue_email_once_queues_a_key_once_and_keeps_the_transaction_usable(session):
    kwargs = dict(
        to="a@k.example",
        template="join_request_receipt",
        now=T0,
        consultation=type("C", (), {"name": "Una"})(),
        name="A",
    )
    first = outbox.queue_email_once(session, dedupe_key="k:1", **kwargs)
    assert first is not None
    assert outbox.queue_email_once(session, dedupe_key="k:1", **kwargs) is None
    other = outbox.queue_email_once(session, dedupe_key="k:2", **kwargs)
    assert [m.dedupe_key for m in outbox.take_queued(session)] == ["k:1", "k:2"]
    session.commit()
    assert [m.dedupe_key for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))] == [
        "k:1",
        "k:2",
    ]
    assert other.id is not None


def test_a_restarted_scheduler_releases_only_its_own_claims(session):
    for n, claimant in enumerate(["scheduler", "app", "scheduler"]):
        session.add(
            OutboxMessage(
                recipient=f"{n}@k.example",
                subject="s",
                body_text="b",
                message_id=f"<{n}@x>",
                status=OutboxStatus.SENDING,
                claimed_by=claimant,
                lease_until=T0 + timedelta(minutes=5),
            )
        )
    session.add(
        OutboxMessage(
            recipient="s@k.example", subject="s", body_text="", message_id="<s@x>", status=OutboxStatus.SENT
        )
    )
    session.commit()
    assert outbox.release_claims(session) == 2
    session.expire_all()
    rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.status, r.claimed_by, r.lease_until) for r in rows] == [
        (OutboxStatus.PENDING, "", None),
        (OutboxStatus.SENDING, "app", T0 + timedelta(minutes=5)),
        (OutboxStatus.PENDING, "", None),
        (OutboxStatus.SENT, "", None),
    ]


def test_purge_sent_bodies_keeps_what_is_still_to_be_sent(session):
    for n, status in enumerate([OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.FAILED]):
        session.add(
            OutboxMessage(
                recipient=f"{n}@k.example",
                subject="s",
                body_text="text",
                body_html="<p>",
                ics="BEGIN:VCALENDAR",
                message_id=f"<{n}@x>",
                status=status,
            )
        )
    session.flush()
    assert outbox.purge_sent_bodies(session) == 1
    assert outbox.purge_sent_bodies(session) == 0
    session.expire_all()
    rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.body_text, r.body_html, r.ics) for r in rows] == [
        ("", "", ""),
        ("text", "<p>", "BEGIN:VCALENDAR"),
        ("text", "<p>", "BEGIN:VCALENDAR"),
    ]


def test_a_message_that_cannot_be_built_fails_without_blocking_the_rest(any_db_app, smtp_server, monkeypatch):
    smtp_server.configure(any_db_app)
    build = outbox.build_mime

    def broken_for_the_first(message, sender):
        if message.recipient == "person0@kommun.example":
            raise ValueError("bad header")
        return build(message, sender)

    monkeypatch.setattr(outbox, "build_mime", broken_for_the_first)
    with any_db_app.app_context():
        _queue_many(2)
        with db.session_scope() as s:
            assert str(outbox.deliver_due(s, now=T0)) == "sent 1, retrying 0, failed 1, skipped 0"
            rows = _rows(s)
    assert [(r.status, r.attempts, r.last_error) for r in rows] == [
        (OutboxStatus.FAILED, 1, "cannot build the message: ValueError"),
        (OutboxStatus.SENT, 1, ""),
    ]
    assert len(smtp_server.recorder.messages) == 1
