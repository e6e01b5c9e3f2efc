"""Meetings of a consultation, their agenda, and who is invited.

Every meeting is its own calendar event (no RRULE): a stable ``public_id`` gives the iCalendar UID and
``ics_sequence`` grows with every change attendees must see.
"""

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from samrad.enums import AgendaItemKind, Attendance, InviteeKind, MeetingStatus, Rsvp
from samrad.models.base import UTCDateTime, enum_type, utcnow


def new_public_id() -> str:
    return uuid.uuid4().hex


class BreakPeriod(SQLModel, table=True):
    """Dates without meetings in a consultation's series (summer, Christmas)."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    label: str = Field(max_length=100)
    first_day: date
    last_day: date


class Meeting(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("consultation_id", "series_date"),)

    id: int | None = Field(default=None, primary_key=True)
    #: Random and immutable: the iCalendar UID is built from it, never from the date or the row id.
    public_id: str = Field(default_factory=new_public_id, max_length=32, unique=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    length_minutes: int = 120
    place: str = Field(max_length=300)
    #: The video link of this meeting (a Jitsi room of its own, or the consultation's fixed link).
    video_url: str = Field(default="", max_length=500)
    case_deadline_at: datetime = Field(sa_type=UTCDateTime)
    status: MeetingStatus = Field(default=MeetingStatus.PLANNED, sa_type=enum_type(MeetingStatus), index=True)
    #: Grows with every change invitees must see (time, place, link, cancellation).
    ics_sequence: int = 0
    #: The number of the newest published agenda version; 0 while nothing is published.
    published_version: int = 0
    #: Grows with every agenda edit, so two coordinators cannot overwrite each other's changes.
    agenda_revision: int = 0
    #: Grows with every edit of the meeting itself (move, cancel), so two coordinators notice each other.
    revision: int = 0
    #: Generated from the consultation's rhythm (False: added by hand).
    from_series: bool = True
    #: The date in the rhythm this meeting was generated for. It stays when the meeting is moved or
    #: cancelled, so extending the series never recreates a date the coordinator changed.
    series_date: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    items: list["AgendaItem"] = Relationship(
        sa_relationship_kwargs={
            "lazy": "selectin",
            "order_by": "AgendaItem.position",
            "cascade": "all, delete-orphan",
        }
    )


class AgendaItem(SQLModel, table=True):
    """A time-boxed slot on a meeting's agenda: a case, or a non-case item such as welcome and rules."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    position: int
    kind: AgendaItemKind = Field(sa_type=enum_type(AgendaItemKind))
    case_id: int | None = Field(default=None, foreign_key="case_record.id", ondelete="CASCADE", index=True)
    title: str = Field(default="", max_length=200)
    duration_minutes: int = 15
    #: Advice to the case owner (never a decision). De-identified, purged with the case's free text.
    advice: str = Field(default="", sa_type=sa.Text)
    follow_up_wanted: bool = False
    discussed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgendaVersion(SQLModel, table=True):
    """A published agenda: what it contained and what changed since the previous version."""

    __table_args__ = (sa.UniqueConstraint("meeting_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    version: int
    published_at: datetime = Field(sa_type=UTCDateTime)
    published_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    #: JSON list of the items as published (kind, case id, title, start offset, duration).
    snapshot: str = Field(sa_type=sa.Text)
    #: A short, human-readable list of changes since the previous version.
    changes: str = Field(default="", sa_type=sa.Text)


class Invitee(SQLModel, table=True):
    """A person invited to a meeting, with their answer and, afterwards, whether they came."""

    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "email"),
        # A person's invitations by address are only those without an account (access.invited_clause): an
        # index of just those lets the database go from the address to them. On all rows, PostgreSQL's plan
        # for the prepared statement also scanned every invitation without an account (1.6 ms a feed).
        sa.Index(
            "ix_invitee_email",
            "email",
            sqlite_where=sa.text("user_id IS NULL"),
            postgresql_where=sa.text("user_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    email: str = Field(max_length=254)
    kind: InviteeKind = Field(sa_type=enum_type(InviteeKind))
    #: For a presenter: the one agenda item (slot) their invitation covers.
    agenda_item_id: int | None = Field(default=None, foreign_key="agendaitem.id", ondelete="SET NULL")
    rsvp: Rsvp = Field(default=Rsvp.NO_ANSWER, sa_type=enum_type(Rsvp))
    rsvp_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    substitute_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    attendance: Attendance | None = Field(default=None, sa_type=enum_type(Attendance))
    #: The SEQUENCE of the newest calendar message sent to this person (-1: never invited).
    sent_sequence: int = -1
    #: Added to the meeting's ics_sequence for this person only: grows when a presenter's slot changes or
    #: the person is removed, so only they get a new version.
    slot_revision: int = 0
    #: A presenter's slot as last sent (None for people invited to the whole meeting).
    slot_starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    slot_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When the person confirmed the confidentiality rules for this meeting (before seeing case details).
    confidentiality_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CalendarFeed(SQLModel, table=True):
    """A person's secret calendar subscription address. Only a digest of the token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
