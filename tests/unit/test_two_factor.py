"""Two-factor authentication: codes accepted once, recovery codes single-use, wrong codes throttled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from samrad.db import get_engine
from samrad.enums import AuditKind, AuditVerb
from samrad.models import AuditEvent, RecoveryCode, TwoFactor
from samrad.services import two_factor
from samrad.services.accounts import ThrottlePolicy
from tests.factories import make_user

NOW = datetime(2027, 3, 1, 9, 0, 10, tzinfo=UTC)
POLICY = ThrottlePolicy(
    max_failures=5, max_failures_per_address=50, window=timedelta(minutes=15), secret="k" * 32
)


def _enrolled(session):
    user = make_user(session, email="samordnare@lulea.example")
    factor = two_factor.start_enrolment(session, user, now=NOW)
    codes = two_factor.confirm_enrolment(session, factor, pyotp.TOTP(factor.secret).at(NOW), now=NOW)
    session.commit()
    return user, factor, codes


def _verify(session, user, code, *, now=NOW, address="10.0.0.1"):
    return two_factor.verify(session, user, code, address=address, now=now, policy=POLICY)


def test_enrolment_needs_a_correct_code_and_gives_ten_distinct_recovery_codes(session):
    user = make_user(session)
    factor = two_factor.start_enrolment(session, user, now=NOW)
    assert two_factor.start_enrolment(session, user, now=NOW).secret == factor.secret  # same pending secret
    assert len(factor.secret) == 32 and not two_factor.is_enabled(session, user.id)
    with pytest.raises(two_factor.CodeRefused):
        two_factor.confirm_enrolment(session, factor, "000000", now=NOW)
    codes = two_factor.confirm_enrolment(session, factor, pyotp.TOTP(factor.secret).at(NOW), now=NOW)
    assert len(set(codes)) == 10 and all(len(c) == 19 and c.count("-") == 3 for c in codes)
    assert two_factor.is_enabled(session, user.id)
    # Only hashes are stored.
    stored = session.exec(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)
    uri = two_factor.provisioning_uri(factor, user, issuer="Regionalt samråd")
    assert uri.startswith("otpauth://totp/Regionalt%20samr%C3%A5d:") and f"secret={factor.secret}" in uri
    assert two_factor.qr_code(uri).startswith("data:image/svg+xml")


def test_a_code_is_accepted_once_and_never_an_earlier_one(session):
    user, factor, _ = _enrolled(session)
    totp = pyotp.TOTP(factor.secret)
    # The enrolment code itself cannot log in (replay of the code typed at enrolment).
    with pytest.raises(two_factor.CodeRefused):
        _verify(session, user, totp.at(NOW), now=NOW + timedelta(seconds=5))
    later = NOW + timedelta(seconds=60)
    assert _verify(session, user, totp.at(later), now=later) == two_factor.Verified(recovery_code=False)
    with pytest.raises(two_factor.CodeRefused):
        _verify(session, user, totp.at(later), now=later)
    # The previous step's code is within the clock-drift window, but older than the one just used.
    with pytest.raises(two_factor.CodeRefused):
        _verify(session, user, totp.at(later - timedelta(seconds=30)), now=later)
    # Spaces in the typed code are fine.
    nxt = later + timedelta(seconds=30)
    code = totp.at(nxt)
    assert _verify(session, user, f"{code[:3]} {code[3:]}", now=nxt).recovery_code is False


def test_two_sessions_racing_with_one_code_let_only_one_in(shared_db_app):
    """Two connections to one database (a SQLite file, or PostgreSQL)."""
    app = shared_db_app
    with app.app_context():
        engine = get_engine()
        with Session(engine, expire_on_commit=False) as s:
            user, factor, _ = _enrolled(s)
        later = NOW + timedelta(seconds=90)
        code = pyotp.TOTP(factor.secret).at(later)
        with (
            Session(engine, expire_on_commit=False) as first,
            Session(engine, expire_on_commit=False) as second,
        ):
            # The second has read the factor (still at the old step) before the first wrote: the
            # conditional UPDATE decides, not what either session read.
            assert second.get(TwoFactor, factor.id).last_counter < pyotp.TOTP(factor.secret).timecode(later)
            second.commit()
            assert _verify(first, user, code, now=later).recovery_code is False
            first.commit()
            with pytest.raises(two_factor.CodeRefused):
                _verify(second, user, code, now=later)


def test_a_recovery_code_works_once_in_any_case_and_is_recorded(session):
    user, _, codes = _enrolled(session)
    typed = codes[3].lower().replace("-", " ")
    assert _verify(session, user, typed) == two_factor.Verified(recovery_code=True)
    session.commit()
    with pytest.raises(two_factor.CodeRefused):
        _verify(session, user, codes[3])
    assert two_factor.unused_recovery_codes(session, user.id) == 9
    assert (
        session.exec(
            select(AuditEvent.fields)
            .where(AuditEvent.kind == AuditKind.TWO_FACTOR)
            .where(AuditEvent.verb == AuditVerb.CHANGED)
        ).all()[-1]
        == "recovery_code_used"
    )
    # New codes replace the old ones.
    fresh = two_factor.new_recovery_codes(session, user.id)
    with pytest.raises(two_factor.CodeRefused):
        _verify(session, user, codes[0])
    assert _verify(session, user, fresh[0]).recovery_code is True


def test_wrong_codes_are_throttled_per_account_and_a_correct_password_does_not_reset_that(session):
    user, factor, _ = _enrolled(session)
    for attempt in range(5):
        with pytest.raises(two_factor.CodeRefused) as refused:
            _verify(session, user, f"{attempt:06d}", address=f"10.0.0.{attempt}")
        assert refused.value.reason == "invalid"
    later = NOW + timedelta(seconds=60)
    with pytest.raises(two_factor.CodeRefused) as refused:
        _verify(session, user, pyotp.TOTP(factor.secret).at(later), now=later)
    assert refused.value.reason == "throttled"
    # After the window the right code works again.
    much_later = NOW + timedelta(minutes=16)
    assert (
        _verify(session, user, pyotp.TOTP(factor.secret).at(much_later), now=much_later).recovery_code
        is False
    )


def test_turning_off_removes_the_factor_and_the_codes(session):
    user, _, codes = _enrolled(session)
    assert two_factor.turn_off(session, user.id) is True
    assert not two_factor.is_enabled(session, user.id)
    assert session.exec(select(RecoveryCode)).all() == []
    with pytest.raises(two_factor.CodeRefused):
        _verify(session, user, codes[0])
    assert two_factor.turn_off(session, user.id) is False
