"""Transactional e-mail: queue in the caller's transaction, deliver after it committed.

Services call :func:`queue_email` with their session; the message becomes a row of ``OutboxMessage`` and
leaves only if that transaction commits (``db.commit`` and ``db.session_scope`` then call
:func:`deliver_after_commit`). Delivery claims each row atomically, so two processes never send one row
twice, and a failed delivery stays queued with a backoff for the scheduler to retry.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import or_, update
from sqlmodel import Session

from samrad.enums import OutboxStatus
from samrad.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

_QUEUED_KEY = "samrad.outbox.queued"
LEASE = timedelta(minutes=5)
#: Delay before the n-th retry (the last value repeats).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


def queue_email(
    session: Session,
    *,
    to: str,
    template: str,
    locale: str | None = None,
    now: datetime | None = None,
    dedupe_key: str | None = None,
    ics: str = "",
    ics_method: str = "",
    ephemeral: bool = False,
    **context,
) -> OutboxMessage:
    """Render ``templates/email/<template>.{subject,txt,html}`` in the recipient's language and queue it.

    The message is added to ``session`` and sent only after the surrounding transaction commits.
    ``ephemeral`` messages lose their body once sent or given up (see :func:`scrub`).
    """
    with force_locale(locale or "sv"):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2].rstrip(">") or "samrad.example"
    message = OutboxMessage(
        recipient=to,
        subject=" ".join(subject.split()),
        body_text=text,
        body_html=html,
        ics=ics,
        ics_method=ics_method,
        message_id=make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain),
        dedupe_key=dedupe_key,
        ephemeral=ephemeral,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    session.add(message)
    session.info.setdefault(_QUEUED_KEY, []).append(message)
    return message


def take_queued(session: Session) -> list[OutboxMessage]:
    """Detach the list of messages queued in this transaction (flushes so that they have ids)."""
    queued = session.info.pop(_QUEUED_KEY, [])
    if queued:
        session.flush()
    return queued


def deliver_after_commit(queued: list[OutboxMessage]) -> None:
    """Try to deliver messages right after their transaction committed; failures stay queued."""
    if not queued:
        return
    from samrad.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as session:
        for message in queued:
            deliver(session, message.id, now=utcnow())


def claim(session: Session, message_id: int, *, now: datetime) -> bool:
    """Atomically mark a due message as being sent by us; False if someone else has it or it is done."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .where(OutboxMessage.next_attempt_at <= now)
        .where(
            or_(
                OutboxMessage.status == OutboxStatus.PENDING,
                (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.lease_until < now),
            )
        )
        .values(status=OutboxStatus.SENDING, lease_until=now + LEASE)
    )
    session.commit()
    return result.rowcount == 1


def deliver(session: Session, message_id: int, *, now: datetime, max_attempts: int = 8) -> bool:
    """Claim and send one message with the configured transport. Returns True if it was sent."""
    if not claim(session, message_id, now=now):
        return False
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    try:
        transport_from_config(current_app.config).send(build_mime(message, current_app.config["MAIL_FROM"]))
    except (OSError, smtplib.SMTPException) as exc:
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if message.attempts >= max_attempts:
            message.status = OutboxStatus.FAILED
            scrub(message)
        else:
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
        message.lease_until = None
        session.commit()
        # The recipient is a professional's work address, but the log needs no more than the row id.
        log.warning("mail %s not delivered (attempt %s): %s", message.id, message.attempts, type(exc).__name__)
        return False
    message.attempts += 1
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.lease_until = None
    message.last_error = ""
    scrub(message)
    session.commit()
    log.info("mail %s delivered", message.id)
    return True


def scrub(message: OutboxMessage) -> None:
    """Blank an ephemeral message's body: it carried a link only its recipient may ever hold."""
    if message.ephemeral:
        message.body_text = ""
        message.body_html = ""


def build_mime(message: OutboxMessage, sender: str) -> EmailMessage:
    """The MIME message: text, HTML and (for invitations) a text/calendar part last, as iMIP wants."""
    mime = EmailMessage()
    mime["From"] = sender
    mime["To"] = message.recipient
    mime["Subject"] = message.subject
    mime["Message-ID"] = message.message_id
    mime["Date"] = format_datetime(message.created_at)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.body_text)
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html")
    if message.ics:
        mime.add_alternative(
            message.ics.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            params={"method": message.ics_method, "charset": "utf-8"},
        )
    return mime


class FileTransport:
    """Writes each message as an ``.eml`` file, so the embedded setup works without a mail server."""

    def __init__(self, directory: str):
        self.directory = Path(directory)

    def send(self, mime: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
        tmp = self.directory / (name + ".tmp")
        tmp.write_bytes(bytes(mime))
        os.replace(tmp, self.directory / name)


class SMTPTransport:
    def __init__(self, host: str, port: int, security: str, username: str, password: str, timeout: int):
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, mime: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password)
            client.send_message(mime)


def transport_from_config(config) -> FileTransport | SMTPTransport:
    if config["MAIL_TRANSPORT"] == "smtp":
        return SMTPTransport(
            config["MAIL_SMTP_HOST"],
            config["MAIL_SMTP_PORT"],
            config["MAIL_SMTP_SECURITY"],
            config["MAIL_SMTP_USERNAME"],
            config["MAIL_SMTP_PASSWORD"],
            config["MAIL_SMTP_TIMEOUT"],
        )
    return FileTransport(config["MAIL_FILE_DIR"])
