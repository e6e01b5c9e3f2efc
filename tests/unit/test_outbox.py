import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from samrad import db, outbox
from samrad.enums import OutboxStatus
from samrad.models import OutboxMessage, utcnow
from tests.conftest import free_port


class Recorder:
    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    # aiosmtpd checks readiness by connecting to the configured port, so port 0 does not work.
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def _queue(to="anna@kommun.example"):
    with db.session_scope() as s:
        return outbox.queue_email(s, to=to, template="join_request_receipt", now=utcnow(),
                                  consultation=type("C", (), {"name": "Una Norrbotten"})(), name="Anna")


def test_mail_is_delivered_through_a_real_smtp_server_after_commit(any_db_app, smtp_server):
    recorder, port = smtp_server
    any_db_app.config.update(MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port)
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
    recorder, port = smtp_server
    any_db_app.config.update(MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port)
    with any_db_app.app_context():
        with pytest.raises(RuntimeError), db.session_scope() as s:
            outbox.queue_email(s, to="a@k.example", template="join_request_receipt", now=utcnow(),
                               consultation=type("C", (), {"name": "X"})(), name="A")
            raise RuntimeError("the change failed")
        with db.session_scope() as s:
            assert s.exec(select(OutboxMessage)).all() == []
    assert recorder.messages == []


def test_a_refusing_server_leaves_the_message_queued_with_backoff(any_db_app, smtp_server):
    recorder, port = smtp_server
    recorder.refuse = True
    any_db_app.config.update(MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port)
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
    recorder, port = smtp_server
    any_db_app.config.update(MAIL_TRANSPORT="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port)
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
