"""Municipalities and organisations: who takes part in a consultation."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from samrad.enums import OrganisationType, Sector
from samrad.models.base import UTCDateTime, enum_type, utcnow


class Municipality(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("county", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    county: str = Field(max_length=100)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    type: OrganisationType = Field(sa_type=enum_type(OrganisationType))
    #: Authorities and civil society see the same de-identified content, but follow different secrecy rules.
    sector: Sector = Field(sa_type=enum_type(Sector))
    county: str = Field(max_length=100)
    #: Set for municipal bodies such as social services; statistics group cases by it.
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", ondelete="RESTRICT")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    # Read when asked for (the register's list): every request loads the person's organisations.
    municipality: Municipality | None = Relationship(sa_relationship_kwargs={"lazy": "select"})
