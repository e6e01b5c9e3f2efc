"""Two-factor authentication: a TOTP authenticator app (RFC 6238) plus single-use recovery codes.

- A code is accepted once: the time step of the last accepted code is stored and a code of that step or
  an earlier one is refused, in a conditional UPDATE, so two requests racing with one code cannot both
  win (OWASP ASVS 5.0 6.5.1).
- Recovery codes are 80 random bits each, shown once and stored as SHA-256 hashes; using one marks it
  used in a conditional UPDATE as well.
- Wrong codes are throttled per account (its own counter, which a correct password does not clear) and
  per client address, with the login's failure records and limits.
- Enrolment, a new set of recovery codes and a reset by another administrator are rows of audited
  tables, so the audit log records them; a used recovery code is recorded here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import func, update
from sqlmodel import Session, select

from samrad.enums import AuditKind, AuditVerb
from samrad.models import RecoveryCode, TwoFactor, User
from samrad.services import accounts, audit
from samrad.services.access import Actor
from samrad.services.accounts import ThrottlePolicy

RECOVERY_CODES = 10
#: RFC 4648 base32: 32 symbols (5 bits each) without 0, 1, 8 and 9, so a typed 0 or 1 can only mean O or I.
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_RECOVERY_SYMBOLS = 16
#: Accept the code of the previous and the next 30-second step too (clocks drift, people type slowly).
VALID_WINDOW = 1


class CodeRefused(Exception):
    """The code was wrong, already used, or too many wrong codes were tried; ``reason`` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def required_for(actor: Actor) -> bool:
    """Whether the configuration's requirement applies to this person: administrators and coordinators."""
    return actor.is_admin or bool(actor.coordinated_consultation_ids)


def factor_of(session: Session, user_id: int) -> TwoFactor | None:
    return session.exec(select(TwoFactor).where(TwoFactor.user_id == user_id)).first()


def is_enabled(session: Session, user_id: int) -> bool:
    factor = factor_of(session, user_id)
    return factor is not None and factor.enabled_at is not None


def start_enrolment(session: Session, user: User, *, now: datetime) -> TwoFactor:
    """The person's pending authenticator (a new secret unless one is already waiting for its first code)."""
    factor = factor_of(session, user.id)
    if factor is not None and factor.enabled_at is not None:
        raise ValueError("two-factor authentication is already on")
    if factor is None:
        factor = TwoFactor(user_id=user.id, secret=pyotp.random_base32(), created_at=now)
        session.add(factor)
        session.flush()
    return factor


def provisioning_uri(factor: TwoFactor, user: User, *, issuer: str) -> str:
    return pyotp.TOTP(factor.secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code(uri: str) -> str:
    """The enrolment QR code as an SVG data URI, made on the server (no third party sees the secret)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")


def grouped_secret(factor: TwoFactor) -> str:
    """The secret in groups of four, for people who type it instead of scanning."""
    return " ".join(factor.secret[i : i + 4] for i in range(0, len(factor.secret), 4))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _digits(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())


def _recovery_form(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum()).replace("0", "O").replace("1", "I")


def _hash(code: str) -> str:
    return hashlib.sha256(_recovery_form(code).encode("ascii", "ignore")).hexdigest()


def _use_step(session: Session, factor: TwoFactor, step: int) -> bool:
    claimed = session.execute(
        update(TwoFactor)
        .where(TwoFactor.id == factor.id)
        .where(TwoFactor.last_counter < step)
        .values(last_counter=step),
        execution_options={"synchronize_session": False},
    ).rowcount
    if claimed:
        factor.last_counter = step
        session.expire(factor, ["last_counter"])
    return bool(claimed)


def confirm_enrolment(session: Session, factor: TwoFactor, code: str, *, now: datetime) -> list[str]:
    """Turn the authenticator on with its first code; returns the new recovery codes (shown once)."""
    step = _matching_step(factor.secret, _digits(code), now)
    if step is None or not _use_step(session, factor, step):
        raise CodeRefused("invalid")
    factor.enabled_at = now
    session.flush()
    return new_recovery_codes(session, factor.user_id)


def new_recovery_codes(session: Session, user_id: int) -> list[str]:
    """Replace the person's recovery codes with :data:`RECOVERY_CODES` new ones and return them."""
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
        session.delete(old)
    session.flush()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(_RECOVERY_SYMBOLS))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_SYMBOLS, 4)))
        session.add(RecoveryCode(user_id=user_id, code_hash=_hash(raw)))
    session.flush()
    return codes


def unused_recovery_codes(session: Session, user_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id)
        .where(RecoveryCode.used_at.is_(None))
    ).one()


@dataclass(frozen=True)
class Verified:
    """A correct second factor; ``recovery_code`` tells that a recovery code was used up."""

    recovery_code: bool


def verify(
    session: Session, user: User, code: str, *, address: str, now: datetime, policy: ThrottlePolicy
) -> Verified:
    """Check a code from the authenticator or a recovery code for ``user``, or raise :class:`CodeRefused`.

    Every failure is recorded (it throttles the next try); the caller commits even when this raises.
    """
    factor = factor_of(session, user.id)
    if factor is None or factor.enabled_at is None:
        raise CodeRefused("invalid")
    attempts = accounts.attempts_for(policy, f"second-factor:{user.id}", address)
    if accounts.throttled(session, attempts, now=now, policy=policy):
        raise CodeRefused("throttled")
    result = _check(session, factor, code, now=now)
    if result is None:
        accounts.record_failure(session, attempts, now=now)
        raise CodeRefused("invalid")
    accounts.clear_failures(session, attempts)
    return result


def _check(session: Session, factor: TwoFactor, code: str, *, now: datetime) -> Verified | None:
    digits = _digits(code)
    if digits.isdigit() and len(digits) == 6:
        step = _matching_step(factor.secret, digits, now)
        return (
            Verified(recovery_code=False) if step is not None and _use_step(session, factor, step) else None
        )
    if len(_recovery_form(code)) != _RECOVERY_SYMBOLS:
        return None
    used = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == factor.user_id)
        .where(RecoveryCode.code_hash == _hash(code))
        .where(RecoveryCode.used_at.is_(None))
        .values(used_at=now),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not used:
        return None
    # A bulk UPDATE passes the audit listener by; a used recovery code is worth a line of its own.
    audit.record(
        session,
        AuditVerb.CHANGED,
        AuditKind.TWO_FACTOR,
        factor.user_id,
        fields=("recovery_code_used",),
        now=now,
    )
    return Verified(recovery_code=True)


def turn_off(session: Session, user_id: int) -> bool:
    """Remove the authenticator and the recovery codes (the person turns it off, or another
    administrator resets it). Returns False when there was nothing to remove."""
    factor = factor_of(session, user_id)
    codes = list(session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)))
    for row in codes:
        session.delete(row)
    if factor is not None:
        session.delete(factor)
    session.flush()
    return factor is not None or bool(codes)
