"""Accounts: logging in (with throttling), server-side login sessions, invitations and passwords.

Every function takes the session first and the current time explicitly; none commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import bindparam, delete, func, update
from sqlalchemy.orm import joinedload, lazyload
from sqlmodel import Session, select

from samrad import db, outbox
from samrad.models import (
    AccountInvitation,
    ConsultationRole,
    LoginAttempt,
    Membership,
    Organisation,
    User,
    UserSession,
    get_row,
)
from samrad.passwords import hash_password, needs_rehash, password_problems, verify_password
from samrad.tokens import keyed_digest, new_token, token_hash

#: How often a session's last_seen_at is written; reading a page should not always mean a write.
TOUCH_INTERVAL = timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    organisation: Organisation | None = None,
    is_admin: bool = False,
    locale: str | None = None,
) -> User:
    """Create an account without a password; the person sets one through an invitation."""
    user = User(email=normalise_email(email), name=name.strip(), is_admin=is_admin, locale=locale)
    session.add(user)
    session.flush()
    if organisation is not None:
        session.add(Membership(user_id=user.id, organisation_id=organisation.id))
        session.flush()
        session.refresh(user)
    return user


def set_memberships(session: Session, user: User, organisations: list[Organisation]) -> None:
    """Make ``organisations`` exactly the organisations the user works for."""
    wanted = {o.id for o in organisations}
    for membership in list(user.memberships):
        if membership.organisation_id not in wanted:
            user.memberships.remove(membership)
    have = {m.organisation_id for m in user.memberships}
    for org_id in wanted - have:
        session.add(Membership(user_id=user.id, organisation_id=org_id))
    session.flush()
    session.refresh(user)


# --- Logging in ------------------------------------------------------------------------------------


class LoginRefused(Exception):
    """Authentication failed; ``reason`` is "invalid" or "throttled" (shown to users identically worded)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    max_failures_per_address: int
    window: timedelta
    secret: str


@dataclass(frozen=True)
class Attempts:
    """Where failed attempts are counted: one account key and one client address (keyed HMACs, not the
    values). Logins count per typed address; second-factor codes per account, on a key of their own."""

    account_key: str
    address_key: str


def attempts_for(policy: ThrottlePolicy, account: str, address: str) -> Attempts:
    return Attempts(keyed_digest(policy.secret, account), keyed_digest(policy.secret, address))


def throttled(session: Session, attempts: Attempts, *, now: datetime, policy: ThrottlePolicy) -> bool:
    """Too many recent failures for the account or from the address."""
    recent = (
        select(func.count()).select_from(LoginAttempt).where(LoginAttempt.created_at >= now - policy.window)
    )
    by_account = session.exec(recent.where(LoginAttempt.email_key == attempts.account_key)).one()
    by_address = session.exec(recent.where(LoginAttempt.address_key == attempts.address_key)).one()
    return by_account >= policy.max_failures or by_address >= policy.max_failures_per_address


def record_failure(session: Session, attempts: Attempts, *, now: datetime) -> None:
    session.add(
        LoginAttempt(email_key=attempts.account_key, address_key=attempts.address_key, created_at=now)
    )
    session.flush()


def clear_failures(session: Session, attempts: Attempts) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.email_key == attempts.account_key))


def authenticate(
    session: Session, email: str, password: str, *, address: str, now: datetime, policy: ThrottlePolicy
) -> User:
    """Return the active user with these credentials, or raise :class:`LoginRefused`.

    Failures are recorded in the database so that the limit holds across web workers. An unknown
    address and a wrong password cost the same time (a dummy hash is verified) and give the same error.
    """
    attempts = attempts_for(policy, normalise_email(email), address)
    too_many = throttled(session, attempts, now=now, policy=policy)
    user = user_by_email(session, email)
    valid = verify_password(user.password_hash if user else None, password)
    if too_many:
        raise LoginRefused("throttled")
    if not valid or user is None or not user.is_active:
        record_failure(session, attempts, now=now)
        raise LoginRefused("invalid")
    clear_failures(session, attempts)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def purge_login_attempts(session: Session, *, before: datetime) -> int:
    """Delete failure records that can no longer throttle anyone."""
    return session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < before)).rowcount


# --- Server-side login sessions --------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    max_age: timedelta


def start_session(session: Session, user: User, *, user_agent: str, now: datetime) -> str:
    """Record a new login and return the token to put in the (signed) session cookie."""
    token = new_token()
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:200],
        )
    )
    session.flush()
    return token


def _live():
    """A live login session: not revoked, active within the idle limit and younger than the longest a
    login lasts. Its moments are bound when the statement runs (:func:`_live_moments`), so a statement
    that asks it can be built once."""
    return (
        (UserSession.revoked_at.is_(None))
        & (UserSession.last_seen_at > bindparam("idle_since"))
        & (UserSession.created_at > bindparam("started_after"))
    )


def _live_moments(now: datetime, policy: SessionPolicy) -> dict[str, datetime]:
    return {"idle_since": now - policy.idle, "started_after": now - policy.max_age}


#: Loader options: a user's memberships, organisations and roles in the statement that loads the user.
#: Every request asks who is asking, for which organisations and with which roles; their own loads were
#: three more statements. Built once (options are immutable; building them was a tenth of a millisecond).
WHO_IS_ASKING = (
    joinedload(User.memberships).joinedload(Membership.organisation),
    joinedload(User.consultation_roles).options(
        lazyload(ConsultationRole.user), lazyload(ConsultationRole.consultation)
    ),
)


#: Every request asks this: the session, its user and who they are (WHO_IS_ASKING) in one statement. Built
#: once, with its values bound when it runs: building it was about 0.18 ms of every logged-in request.
_LIVE_SESSION = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .where(_live())
    .options(*WHO_IS_ASKING)
)


def live_session(
    session: Session, token: str, *, now: datetime, policy: SessionPolicy
) -> tuple[User, UserSession] | None:
    """The active user of a live login session and its row, or None once it was revoked, idle or too old."""
    found = (
        session.exec(_LIVE_SESSION, params={"token_hash": token_hash(token), **_live_moments(now, policy)})
        .unique()
        .first()
    )
    if found is None:
        return None
    row, user = found
    if not user.is_active:
        return None
    return user, row


def load_session_user(session: Session, token: str, *, now: datetime, policy: SessionPolicy) -> User | None:
    """:func:`live_session`'s user, moving the session's last activity forward when it is due. (The web
    layer uses :func:`live_session` and :func:`touch_session`, after the response on pages that only read.)"""
    found = live_session(session, token, now=now, policy=policy)
    if found is None:
        return None
    user, row = found
    if touch_due(row, now):
        row.last_seen_at = now
    return user


def touch_due(row: UserSession, now: datetime) -> bool:
    """At most once per :data:`TOUCH_INTERVAL`: reading a page should not always mean a write."""
    return now - row.last_seen_at >= TOUCH_INTERVAL


def touch_session(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token))
        .where(UserSession.last_seen_at <= now - TOUCH_INTERVAL)
        .values(last_seen_at=now)
    )


def end_session(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_hash(token))
        .where(UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_other_sessions(session: Session, user: User, *, keep_token: str | None, now: datetime) -> int:
    """Log the user out everywhere except (optionally) the current session. Returns how many ended."""
    stmt = update(UserSession).where(UserSession.user_id == user.id).where(UserSession.revoked_at.is_(None))
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != token_hash(keep_token))
    return session.execute(stmt.values(revoked_at=now)).rowcount


def active_sessions(
    session: Session, user: User, *, now: datetime, policy: SessionPolicy
) -> list[UserSession]:
    return list(
        session.exec(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .where(_live())
            .order_by(UserSession.last_seen_at.desc()),
            params=_live_moments(now, policy),
        )
    )


def is_current(row: UserSession, token: str | None) -> bool:
    return token is not None and row.token_hash == token_hash(token)


# --- Invitations and passwords ---------------------------------------------------------------------


class InvitationState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


def invite_user(
    session: Session,
    user: User,
    *,
    now: datetime,
    valid_for: timedelta,
    link_for: Callable[[str], str],
    consultation_name: str | None = None,
) -> AccountInvitation:
    """Create a single-use link to set a password and queue the e-mail that carries it.

    Earlier unused links for the same person stop working, so only the newest e-mail is valid.
    """
    session.execute(
        update(AccountInvitation)
        .where(AccountInvitation.user_id == user.id)
        .where(AccountInvitation.used_at.is_(None))
        .where(AccountInvitation.expires_at > now)
        .values(expires_at=now)
    )
    token = new_token()
    invitation = AccountInvitation(
        user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=now + valid_for
    )
    session.add(invitation)
    outbox.queue_email(
        session,
        to=user.email,
        template="account_invitation",
        locale=user.locale,
        now=now,
        user=user,
        link=link_for(token),
        expires_at=invitation.expires_at,
        consultation_name=consultation_name,
        has_password=user.password_hash is not None,
    )
    session.flush()
    return invitation


def find_invitation(
    session: Session, token: str, *, now: datetime
) -> tuple[AccountInvitation | None, InvitationState]:
    invitation = session.exec(
        select(AccountInvitation).where(AccountInvitation.token_hash == token_hash(token))
    ).first()
    if invitation is None:
        return None, InvitationState.UNKNOWN
    if invitation.used_at is not None:
        return invitation, InvitationState.USED
    if invitation.expires_at <= now:
        return invitation, InvitationState.EXPIRED
    return invitation, InvitationState.VALID


class InvitationUsed(Exception):
    """The invitation's link was used between the page's check and this change."""


class PasswordRejected(Exception):
    def __init__(self, problems: list):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def set_password(session: Session, user: User, password: str, *, now: datetime, min_length: int) -> None:
    """Set a new password after checking the rules, and end every login session of the user."""
    problems = password_problems(password, min_length=min_length, user_inputs=(user.email, user.name))
    if problems:
        raise PasswordRejected(problems)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    end_other_sessions(session, user, keep_token=None, now=now)
    session.flush()


def accept_invitation(
    session: Session, invitation: AccountInvitation, password: str, *, now: datetime, min_length: int
) -> User:
    """Use an invitation: set the password and make the link unusable. The link works once even when its
    form is sent twice at the same moment: the second finds it used (:class:`InvitationUsed`)."""
    db.hold_current(session, invitation)
    if invitation.used_at is not None:
        raise InvitationUsed()
    user = get_row(session, User, invitation.user_id)
    set_password(session, user, password, now=now, min_length=min_length)
    invitation.used_at = now
    # The link reached this address: it is confirmed (it may have been changed since it was last used).
    user.email_confirmed_at = now
    session.flush()
    return user


def change_password(
    session: Session, user: User, current: str, new: str, *, now: datetime, min_length: int
) -> None:
    """Change the password of a logged-in user; raises :class:`LoginRefused` if ``current`` is wrong."""
    if not verify_password(user.password_hash, current):
        raise LoginRefused("invalid")
    set_password(session, user, new, now=now, min_length=min_length)
