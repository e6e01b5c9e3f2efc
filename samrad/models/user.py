"""People with accounts, their organisations, and what keeps their login sessions."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from samrad.models.base import UTCDateTime, utcnow
from samrad.models.organisation import Organisation

if TYPE_CHECKING:
    from samrad.models.consultation import ConsultationRole


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    #: Always stored lower-cased; the work e-mail is the login name.
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    #: argon2id hash; None until the person has set a password through an invitation link.
    password_hash: str | None = Field(default=None, max_length=255)
    is_admin: bool = False
    is_active: bool = True
    #: Preferred interface language ("sv" or "en"); None means Swedish unless chosen for this browser session.
    locale: str | None = Field(default=None, max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When the address was last confirmed. An address given by the register counts as confirmed; a
    #: changed one is not until its owner uses a link sent to it. Meeting invitations are matched by
    #: address only while it is confirmed (see samrad.services.access).
    email_confirmed_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)

    memberships: list["Membership"] = Relationship(
        back_populates="user",
        sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"},
    )
    #: What the person may do in each consultation, read with the person on every request (see
    #: ``accounts.WHO_IS_ASKING``). Only read here: roles are granted and taken through ``ConsultationRole``,
    #: and a role added in the same session is not seen here (the web layer builds its actor once a request).
    consultation_roles: list["ConsultationRole"] = Relationship(sa_relationship_kwargs={"viewonly": True})

    # Flask-Login protocol. The session cookie carries the id of a server-side UserSession row,
    # not this id; see samrad.services.accounts.load_session_user.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def organisations(self) -> list[Organisation]:
        return [m.organisation for m in self.memberships]


class Membership(SQLModel, table=True):
    """A user works for an organisation (usually exactly one)."""

    __table_args__ = (sa.UniqueConstraint("user_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="RESTRICT", index=True)

    user: "User" = Relationship(back_populates="memberships")
    organisation: Organisation = Relationship(sa_relationship_kwargs={"lazy": "selectin"})


class UserSession(SQLModel, table=True):
    """A login. Logging out or timing out revokes the row, which ends the session everywhere."""

    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the random token in the signed cookie; the token itself is never stored.
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_agent: str = Field(default="", max_length=200)


class LoginAttempt(SQLModel, table=True):
    """Failed logins, counted across all web workers to slow down password guessing."""

    id: int | None = Field(default=None, primary_key=True)
    #: Keyed HMACs of the typed e-mail address and the client address, not the values themselves.
    email_key: str = Field(max_length=64, index=True)
    address_key: str = Field(max_length=64, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


class RateLimitCounter(SQLModel, table=True):
    """One fixed window of a rate limit on the anonymous pages (samrad.ratelimits), shared by every worker.

    The key names the limit and a keyed HMAC of the client address, never the address itself."""

    key: str = Field(primary_key=True, max_length=255)
    hits: int
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class AccountInvitation(SQLModel, table=True):
    """A single-use, time-limited link that lets a person set their password."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TwoFactor(SQLModel, table=True):
    """A person's TOTP authenticator; it exists from the start of enrolment, counts once enabled."""

    __tablename__ = "two_factor"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", unique=True)
    #: The base32 TOTP secret shared with the person's authenticator app.
    secret: str = Field(max_length=64)
    #: The time step of the last accepted code; a code of this step or an earlier one is refused, so an
    #: observed code cannot be used again.
    last_counter: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RecoveryCode(SQLModel, table=True):
    """A single-use code for when the authenticator is lost; only its SHA-256 is stored."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
