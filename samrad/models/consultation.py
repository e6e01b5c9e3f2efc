"""A regional consultation (regionalt samråd), its standing seats, roles and requests to join."""

from datetime import datetime, time

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from samrad.enums import JoinRequestStatus, Role, VideoProvider, Weekday
from samrad.models.base import UTCDateTime, enum_type, utcnow
from samrad.models.organisation import Organisation
from samrad.models.user import User


class Consultation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=60, unique=True)
    name: str = Field(max_length=200)
    county: str = Field(max_length=100)
    #: The organisation that runs the consultation and employs the coordinator (Freda in Norrbotten).
    host_organisation_id: int = Field(foreign_key="organisation.id", ondelete="RESTRICT")
    place: str = Field(max_length=300)
    meeting_length_minutes: int = 120
    #: Rhythm: a meeting every ``rhythm_weeks`` weeks on ``weekday`` at ``start_time`` (Stockholm time).
    rhythm_weeks: int = 2
    weekday: Weekday = Field(default=Weekday.MONDAY, sa_type=enum_type(Weekday))
    start_time: time = Field(default=time(13, 0))
    #: Cases must be registered this many days before a meeting to make its agenda.
    case_deadline_days: int = 7
    video_provider: VideoProvider = Field(default=VideoProvider.NONE, sa_type=enum_type(VideoProvider))
    #: Jitsi: the server's base URL. Static: the one link used for every meeting.
    video_url: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    # Read when asked for (the rules page, the register's list): every consultation page loads the
    # consultation, and the host organisation with its municipality was two joins of each.
    host_organisation: Organisation = Relationship(sa_relationship_kwargs={"lazy": "select"})


class StandingSeat(SQLModel, table=True):
    """An organisation's fixed place in a consultation (``fast plats``)."""

    __table_args__ = (sa.UniqueConstraint("consultation_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="RESTRICT")

    organisation: Organisation = Relationship(sa_relationship_kwargs={"lazy": "selectin"})


class ConsultationRole(SQLModel, table=True):
    """What a user may do in one consultation."""

    __table_args__ = (sa.UniqueConstraint("user_id", "consultation_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    role: Role = Field(sa_type=enum_type(Role))

    user: User = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
    consultation: Consultation = Relationship(sa_relationship_kwargs={"lazy": "selectin"})


class JoinRequest(SQLModel, table=True):
    """A professional asks the coordinator for a place; nothing is sent until it is approved."""

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    #: The organisation picked from the list, or None with ``organisation_name`` typed in.
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", ondelete="SET NULL")
    organisation_name: str = Field(default="", max_length=200)
    role: Role = Field(sa_type=enum_type(Role))
    status: JoinRequestStatus = Field(
        default=JoinRequestStatus.PENDING, sa_type=enum_type(JoinRequestStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    #: When the coordinators' digest counted this request (None: not yet announced).
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    organisation: Organisation | None = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
