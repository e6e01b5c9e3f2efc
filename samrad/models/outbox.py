"""E-mail waiting to be delivered, written in the same transaction as the change that caused it."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from samrad.enums import OutboxStatus
from samrad.models.base import UTCDateTime, enum_type, utcnow


class OutboxMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body_text: str
    body_html: str = ""
    #: An iCalendar attachment and its METHOD (REQUEST or CANCEL), built when the message is queued.
    ics: str = ""
    ics_method: str = Field(default="", max_length=16)
    #: Generated when queued so that a retried delivery sends the identical message.
    message_id: str = Field(max_length=200, unique=True)
    #: A natural key for messages that must exist at most once (e.g. one reminder per meeting and person).
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    #: Carries a secret meant for the recipient alone (an anonymous evaluation link): the body is
    #: blanked as soon as the message is sent or given up, so the database does not keep the link.
    ephemeral: bool = False
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=enum_type(OutboxStatus), index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    #: While "sending", the claim expires at this time so a crashed sender's rows are picked up again.
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Who holds the claim: "scheduler" (released when the single scheduler restarts) or "app".
    claimed_by: str = Field(default="", max_length=20, sa_column_kwargs={"server_default": ""})
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
