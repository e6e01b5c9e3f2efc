"""Transactional e-mail: queue in the caller's transaction, deliver after it committed.

Services call :func:`queue_email` with their session; the message becomes a row of ``OutboxMessage`` and
leaves only if that transaction commits (``db.commit`` and ``db.session_scope`` then call
:func:`deliver_after_commit`). Delivery claims each row atomically, so two processes never send one row
twice, and a failed delivery stays queued with a backoff for the scheduler's ``deliver-outbox`` job
(:func:`deliver_due`) to retry, until ``MAIL_MAX_ATTEMPTS`` marks it failed.

Delivery is at-least-once: a crash after the mail server said "250" and before the row was marked sent
makes the next run send that one message again (with the same Message-ID).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import case, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from samrad import i18n
from samrad.enums import OutboxStatus
from samrad.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

_QUEUED_KEY = "samrad.outbox.queued"
#: How long a claim lasts; a sender that crashed loses its claim after this (the scheduler sooner).
LEASE = timedelta(minutes=5)
#: At most this many messages per run of the outbox job (the next run, a minute later, takes the rest).
BATCH_SIZE = 500
#: ``app.extensions`` key naming the process that claims messages ("scheduler" in ``samrad scheduler``).
CLAIMANT_KEY = "samrad.outbox.claimant"
SCHEDULER = "scheduler"
#: Delay before the n-th retry (the last value repeats).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))


def sender() -> str:
    """The From address of every message (MAIL_FROM), e.g. "Regionalt samråd <noreply@…>"."""
    return current_app.config["MAIL_FROM"]


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
    ``ephemeral`` messages lose their body the moment they are sent or given up (see :func:`scrubbed`).
    """
    with force_locale(i18n.locale_of(locale)):
        subject = render_template(f"email/{template}.subject.txt", **context).strip()
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    domain = sender().rpartition("@")[2].rstrip(">") or "samrad.example"
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


def already_queued(session: Session, dedupe_key: str) -> bool:
    """Whether a message with ``dedupe_key`` was ever queued (callers skip costly work, e.g. a calendar
    file, before :func:`queue_email_once`)."""
    return (
        session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first()
        is not None
    )


def queue_email_once(session: Session, *, dedupe_key: str, **kwargs) -> OutboxMessage | None:
    """Queue a message unless one with ``dedupe_key`` exists; None means "already queued before".

    The one way samrad keeps an e-mail from being sent twice: every message that must go out at most
    once (invitations, cancellations, agenda notices, reminders) has a key naming what it is about and
    for whom, and the outbox's UNIQUE constraint on the key decides. The insert runs in a SAVEPOINT, so a
    concurrent run that queued the same key first leaves the caller's transaction intact.
    """
    if already_queued(session, dedupe_key):
        return None
    queued = session.info.setdefault(_QUEUED_KEY, [])
    try:
        with session.begin_nested():
            message = queue_email(session, dedupe_key=dedupe_key, **kwargs)
            session.flush()
    except IntegrityError:
        queued.remove(message)
        return None
    return message


def deliver_after_commit(queued: list[OutboxMessage], engine: Engine) -> None:
    """Try to deliver messages right after their transaction committed (in a session of their own on
    ``engine``); failures stay queued."""
    if not queued:
        return
    with Session(engine, expire_on_commit=False) as session, _transport() as transport:
        for message in queued:
            _, error = _attempt(session, message.id, now=utcnow(), transport=transport)
            if error is not None and is_connection_problem(error):
                break  # the rest stay queued for the scheduler; no need to wait for each timeout


def _due(now: datetime):
    """Rows that may be claimed now: pending and due, or "sending" with an expired lease (a crash)."""
    return or_(
        (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.next_attempt_at <= now),
        (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.lease_until < now),
    )


def claim(session: Session, message_id: int, *, now: datetime, lease_from: datetime | None = None) -> bool:
    """Atomically mark a due message as being sent by us; False if someone else has it or it is done.

    The lease runs from ``lease_from`` (default ``now``): a long batch passes the real time, so that its
    late claims do not hand out leases that have already run out.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .where(_due(now))
        .values(status=OutboxStatus.SENDING, lease_until=(lease_from or now) + LEASE, claimed_by=_claimant())
    )
    session.commit()
    return result.rowcount == 1


def release_claims(session: Session, claimant: str = SCHEDULER) -> int:
    """Put messages a dead process of ``claimant`` had claimed back in the queue at once.

    Only the scheduler may call this, at start-up and while it holds the single-instance lock: no other
    scheduler can then be sending, so every "scheduler" claim belongs to a process that died.
    Claims of web workers and commands are left to expire (``LEASE``).
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENDING)
        .where(OutboxMessage.claimed_by == claimant)
        .values(status=OutboxStatus.PENDING, lease_until=None, claimed_by="")
    )
    session.commit()
    return result.rowcount


def _claimant() -> str:
    return current_app.extensions.get(CLAIMANT_KEY, "app")


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # failed this time; pending again with a backoff
    FAILED = "failed"  # given up: too many attempts, or refused permanently
    SKIPPED = "skipped"  # not due, already sent, or claimed by someone else


def is_connection_problem(exc: BaseException) -> bool:
    """Whether the failure is the mail server's (unreachable, closing, login refused), not the message's."""
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421:
        return True  # "service not available, closing transmission channel"
    if isinstance(exc, smtplib.SMTPException):  # (a subclass of OSError, so it is checked first)
        return isinstance(
            exc,
            smtplib.SMTPServerDisconnected
            | smtplib.SMTPConnectError
            | smtplib.SMTPHeloError
            | smtplib.SMTPAuthenticationError
            | smtplib.SMTPNotSupportedError
            | smtplib.SMTPSenderRefused,
        )
    return isinstance(exc, OSError)


def is_permanent(exc: BaseException) -> bool:
    """A 5xx answer about this message (unknown recipient, content refused): retrying will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _attempt(
    session: Session,
    message_id: int,
    *,
    now: datetime,
    transport,
    max_attempts: int | None = None,
    lease_from: datetime | None = None,
) -> tuple[Outcome, BaseException | None]:
    """Claim, send and record one message, in three short transactions.

    No transaction is open while the mail server is talked to: on SQLite an open write transaction would
    block every other writer (web requests included) for as long as the server takes to answer.
    """
    if max_attempts is None:
        max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    if not claim(session, message_id, now=now, lease_from=lease_from):
        return Outcome.SKIPPED, None
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    attempts = message.attempts + 1
    scrub = scrubbed(message)
    try:
        mime = build_mime(message, sender())
    except Exception as exc:  # a row that cannot become an e-mail must not block the queue behind it
        session.rollback()
        reason = f"cannot build the message: {type(exc).__name__}"
        values = {"status": OutboxStatus.FAILED, "attempts": attempts, "lease_until": None, "claimed_by": ""}
        _finish(session, message_id, {**values, **scrub, "last_error": reason})
        log.error("mail %s cannot be built: %s", message_id, type(exc).__name__)
        return Outcome.FAILED, exc
    session.commit()
    try:
        transport.send(mime)
    except (OSError, smtplib.SMTPException) as exc:
        values = {
            "attempts": attempts,
            "last_error": f"{type(exc).__name__}: {exc}"[:500],
            "lease_until": None,
            "claimed_by": "",
        }
        if attempts >= max_attempts or is_permanent(exc):
            outcome = Outcome.FAILED
            values["status"] = OutboxStatus.FAILED
            values.update(scrub)
        else:
            outcome = Outcome.RETRY
            values["status"] = OutboxStatus.PENDING
            values["next_attempt_at"] = now + BACKOFF[min(attempts, len(BACKOFF)) - 1]
        _finish(session, message_id, values)
        # The recipient is a professional's work address, but the log needs no more than the row id.
        log.warning("mail %s not delivered (attempt %s): %s", message_id, attempts, type(exc).__name__)
        return outcome, exc
    # The body stays until the purge-sent-mail job erases it (within minutes): it may hold a single-use link.
    _finish(
        session,
        message_id,
        {
            "status": OutboxStatus.SENT,
            "attempts": attempts,
            "sent_at": now,
            "lease_until": None,
            "claimed_by": "",
            "last_error": "",
            **scrub,
        },
    )
    log.debug("mail %s delivered", message_id)
    return Outcome.SENT, None


#: Waits before recording a delivery again when the database was locked: the server has the message,
#: and giving up here would make the next run send it a second time.
FINISH_RETRY_DELAYS = (0.5, 1, 2, 4)


def scrubbed(message: OutboxMessage) -> dict:
    """Column values that blank an ephemeral message's body once it is sent or given up.

    An evaluation link may only ever be held by its recipient: no row may keep it next to the address.
    """
    return {"body_text": "", "body_html": ""} if message.ephemeral else {}


def _finish(session: Session, message_id: int, values: dict) -> None:
    for delay in (*FINISH_RETRY_DELAYS, None):
        try:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
            session.commit()
            break
        except OperationalError as exc:
            session.rollback()
            if delay is None:
                raise
            log.warning("mail %s: could not record the result (%s); retrying", message_id, type(exc).__name__)
            _sleep(delay)
    session.expire_all()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def deliver(session: Session, message_id: int, *, now: datetime, max_attempts: int | None = None) -> bool:
    """Claim and send one message with the configured transport. Returns True if it was sent."""
    with _transport() as transport:
        outcome, _ = _attempt(session, message_id, now=now, transport=transport, max_attempts=max_attempts)
    return outcome == Outcome.SENT


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    #: The mail server could not be reached; the rest of the batch was left for the next run.
    stopped_early: bool = False

    def __str__(self) -> str:
        text = f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, skipped {self.skipped}"
        return text + (" (mail server unreachable, stopped early)" if self.stopped_early else "")


def deliver_due(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> DeliveryReport:
    """Send every message that is due at ``now`` (oldest first, at most ``limit``), one claim at a time.

    Leases start at ``now`` plus the time this batch has taken, so a long batch never hands out leases
    that have already run out. The first connection-level failure ends the batch: when the server is
    down, one message pays an attempt and the rest wait for the next run untouched.
    """
    ids = list(
        session.exec(
            select(OutboxMessage.id)
            .where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )
    session.commit()
    report = DeliveryReport()
    started = time.monotonic()
    with _transport() as transport:
        for message_id in ids:
            lease_from = now + timedelta(seconds=time.monotonic() - started)
            outcome, error = _attempt(
                session, message_id, now=now, transport=transport, lease_from=lease_from
            )
            if outcome == Outcome.SENT:
                report.sent += 1
            elif outcome == Outcome.SKIPPED:
                report.skipped += 1
            elif outcome == Outcome.FAILED:
                report.failed += 1
            else:
                report.retrying += 1
            if error is not None and is_connection_problem(error):
                report.stopped_early = True
                break
    return report


def retry(session: Session, message: OutboxMessage, *, now: datetime) -> bool:
    """Put a failed (or waiting) message back in the queue to be sent at the next run, with fresh attempts.

    Returns False for a message that is being sent or was sent: those are left alone.
    """
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.PENDING):
        return False
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    session.flush()
    return True


def counts_by_status(session: Session) -> dict[OutboxStatus, int]:
    """How many messages are in each state (every state present, zeros included)."""
    rows = session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): n for status, n in rows})
    return counts


def count_with_status(session: Session, status: OutboxStatus) -> int:
    """How many messages are in one state (through the status index, without counting every sent one)."""
    return session.exec(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == status)
    ).one()


def undelivered(session: Session, *, limit: int = 200) -> list[OutboxMessage]:
    """Failed messages first, then those waiting or being sent, oldest first within each group."""
    failed_first = case((OutboxMessage.status == OutboxStatus.FAILED, 0), else_=1)
    return list(
        session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.status != OutboxStatus.SENT)
            .order_by(failed_first, OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def purge_sent_bodies(session: Session) -> int:
    """Erase the bodies and calendar parts of delivered messages (they may carry single-use links).

    Recipient, subject, Message-ID and the dedupe key stay: they keep reminders from being sent twice.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.SENT)
        .where((OutboxMessage.body_text != "") | (OutboxMessage.body_html != "") | (OutboxMessage.ics != ""))
        .values(body_text="", body_html="", ics="")
    )
    return result.rowcount


@contextmanager
def _transport() -> Iterator[FileTransport | SMTPTransport]:
    transport = transport_from_config(current_app.config)
    try:
        yield transport
    finally:
        transport.close()


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

    def close(self) -> None:
        pass

    def purge(self, *, older_than: datetime) -> int:
        """Delete the messages written before ``older_than`` (they may hold single-use links)."""
        if not self.directory.is_dir():
            return 0
        deleted = 0
        for path in self.directory.glob("*.eml"):
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < older_than:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted


class SMTPTransport:
    """Sends through one SMTP connection, kept open for a batch and re-opened after any error."""

    def __init__(self, host: str, port: int, security: str, username: str, password: str, timeout: int):
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self._client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password)
        except BaseException:
            client.close()
            raise
        return client

    def _alive(self) -> bool:
        try:
            return self._client.noop()[0] == 250
        except (OSError, smtplib.SMTPException):
            return False

    def send(self, mime: EmailMessage) -> None:
        # A server may close an idle connection (or after n messages); check before reusing it, while
        # nothing has been sent yet, rather than guess after a failure whether the message went through.
        if self._client is not None and not self._alive():
            self.close()
        if self._client is None:
            self._client = self._connect()
        try:
            self._client.send_message(mime)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


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
