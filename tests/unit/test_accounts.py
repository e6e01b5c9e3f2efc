from datetime import timedelta

import pytest
from sqlmodel import select

from samrad.models import AccountInvitation, LoginAttempt, OutboxMessage, UserSession, utcnow
from samrad.services import accounts
from tests.factories import PASSWORD, make_organisation, make_user
from tests.races import read_by_both

POLICY = accounts.ThrottlePolicy(
    max_failures=3, max_failures_per_address=5, window=timedelta(minutes=15), secret="test-secret"
)
SESSIONS = accounts.SessionPolicy(idle=timedelta(minutes=30), max_age=timedelta(hours=10))


def login(session, email, password, *, address="10.0.0.1", now=None):
    return accounts.authenticate(
        session, email, password, address=address, now=now or utcnow(), policy=POLICY
    )


def test_correct_password_logs_in_whatever_the_case_of_the_address(session):
    user = make_user(session, email="anna@kommun.example")
    assert login(session, " Anna@Kommun.example ", PASSWORD).id == user.id


def test_unknown_address_and_wrong_password_fail_the_same_way(session):
    make_user(session, email="anna@kommun.example")
    with pytest.raises(accounts.LoginRefused) as unknown:
        login(session, "nobody@kommun.example", PASSWORD)
    with pytest.raises(accounts.LoginRefused) as wrong:
        login(session, "anna@kommun.example", "wrong-password-123")
    assert unknown.value.reason == wrong.value.reason == "invalid"


def test_inactive_account_and_account_without_password_cannot_log_in(session):
    make_user(session, email="gone@kommun.example", is_active=False)
    make_user(session, email="new@kommun.example", password=None)
    for email in ("gone@kommun.example", "new@kommun.example"):
        with pytest.raises(accounts.LoginRefused):
            login(session, email, PASSWORD)


def test_failures_are_throttled_per_address_in_the_database(session):
    make_user(session, email="anna@kommun.example")
    now = utcnow()
    for _ in range(3):
        with pytest.raises(accounts.LoginRefused):
            login(session, "anna@kommun.example", "wrong-password-123", now=now)
    with pytest.raises(accounts.LoginRefused) as exc:
        login(session, "anna@kommun.example", PASSWORD, now=now)
    assert exc.value.reason == "throttled"
    # Stored as keyed digests, never the typed address.
    keys = [a.email_key for a in session.exec(select(LoginAttempt))]
    assert len(keys) == 3 and all("anna" not in k and len(k) == 64 for k in keys)
    # After the window the correct password works again, and success clears the failures.
    later = now + timedelta(minutes=16)
    assert login(session, "anna@kommun.example", PASSWORD, now=later)
    assert session.exec(select(LoginAttempt)).all() == []


def test_many_addresses_from_one_client_are_throttled(session):
    make_user(session, email="anna@kommun.example")
    now = utcnow()
    for i in range(5):
        with pytest.raises(accounts.LoginRefused):
            login(session, f"guess{i}@kommun.example", "whatever-123456", now=now)
    with pytest.raises(accounts.LoginRefused) as exc:
        login(session, "anna@kommun.example", PASSWORD, now=now)
    assert exc.value.reason == "throttled"
    assert login(session, "anna@kommun.example", PASSWORD, address="10.0.0.2", now=now)


def test_session_lives_until_logout(session):
    user = make_user(session)
    now = utcnow()
    token = accounts.start_session(session, user, user_agent="Firefox", now=now)
    assert accounts.load_session_user(session, token, now=now + timedelta(minutes=5), policy=SESSIONS) == user
    accounts.end_session(session, token, now=now + timedelta(minutes=6))
    assert accounts.load_session_user(session, token, now=now + timedelta(minutes=7), policy=SESSIONS) is None
    row = session.exec(select(UserSession)).one()
    assert row.token_hash != token and len(row.token_hash) == 64


def test_idle_session_ends(session):
    user = make_user(session)
    now = utcnow()
    token = accounts.start_session(session, user, user_agent="", now=now)
    assert (
        accounts.load_session_user(session, token, now=now + timedelta(minutes=29), policy=SESSIONS) == user
    )
    # Activity at 29 minutes moved last_seen forward, so 58 minutes is still within the idle limit.
    assert (
        accounts.load_session_user(session, token, now=now + timedelta(minutes=58), policy=SESSIONS) == user
    )
    assert (
        accounts.load_session_user(session, token, now=now + timedelta(minutes=89), policy=SESSIONS) is None
    )


def test_session_has_an_absolute_lifetime(session):
    user = make_user(session)
    start = utcnow()
    token = accounts.start_session(session, user, user_agent="", now=start)
    for minutes in range(20, 600, 20):
        assert accounts.load_session_user(
            session, token, now=start + timedelta(minutes=minutes), policy=SESSIONS
        )
    assert (
        accounts.load_session_user(
            session, token, now=start + timedelta(hours=10, minutes=1), policy=SESSIONS
        )
        is None
    )


def test_deactivated_user_loses_the_session(session):
    user = make_user(session)
    token = accounts.start_session(session, user, user_agent="", now=utcnow())
    user.is_active = False
    session.flush()
    assert accounts.load_session_user(session, token, now=utcnow(), policy=SESSIONS) is None


def test_end_other_sessions_keeps_the_current_one(session):
    user = make_user(session)
    now = utcnow()
    current = accounts.start_session(session, user, user_agent="a", now=now)
    other = accounts.start_session(session, user, user_agent="b", now=now)
    assert accounts.end_other_sessions(session, user, keep_token=current, now=now) == 1
    assert accounts.load_session_user(session, current, now=now, policy=SESSIONS) == user
    assert accounts.load_session_user(session, other, now=now, policy=SESSIONS) is None


def test_invitation_sets_password_once(session):
    user = make_user(session, password=None, email="ny@kommun.example")
    now = utcnow()
    links = []
    invitation = accounts.invite_user(
        session,
        user,
        now=now,
        valid_for=timedelta(hours=72),
        link_for=lambda t: links.append(t) or f"https://x/invitation/{t}",
    )
    token = links[0]
    found, state = accounts.find_invitation(session, token, now=now)
    assert (found.id, state) == (invitation.id, accounts.InvitationState.VALID)
    assert invitation.token_hash != token
    mail = session.exec(select(OutboxMessage)).one()
    assert mail.recipient == "ny@kommun.example" and f"https://x/invitation/{token}" in mail.body_text
    accounts.accept_invitation(session, invitation, "fjall-kaffe-norrsken-12", now=now, min_length=12)
    assert accounts.find_invitation(session, token, now=now)[1] is accounts.InvitationState.USED
    assert login(session, "ny@kommun.example", "fjall-kaffe-norrsken-12").id == user.id


def test_an_invitation_sent_twice_at_once_sets_the_password_once(shared_db_app):
    """The set-password form sent twice at the same moment (two tabs, a double click on a slow line): both
    requests find the link unused before either writes (PostgreSQL's READ COMMITTED); the second must
    find it used, not set a password of its own."""
    from sqlmodel import Session

    from samrad import db
    from samrad.models import User

    with shared_db_app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            user = make_user(s, password=None, email="ny@kommun.example")
            invitation = accounts.invite_user(
                s, user, now=utcnow(), valid_for=timedelta(hours=72), link_for=lambda t: f"https://x/{t}"
            )
            s.commit()
            ids = invitation.id, user.id

        def read(x):
            return x.get(AccountInvitation, ids[0])

        with read_by_both(engine, read) as ((a, invitation_a), (b, invitation_b)):
            accounts.accept_invitation(
                a, invitation_a, "fjall-kaffe-norrsken-12", now=utcnow(), min_length=12
            )
            a.commit()
            with pytest.raises(accounts.InvitationUsed):
                accounts.accept_invitation(
                    b, invitation_b, "annat-losen-bytt-34", now=utcnow(), min_length=12
                )
            b.rollback()
        with Session(engine) as s:
            assert login(s, "ny@kommun.example", "fjall-kaffe-norrsken-12").id == ids[1]
            assert s.get(User, ids[1]).password_changed_at is not None


def test_invitation_expires_and_unknown_tokens_are_unknown(session):
    user = make_user(session, password=None)
    now = utcnow()
    links = []
    accounts.invite_user(session, user, now=now, valid_for=timedelta(hours=1), link_for=links.append)
    assert (
        accounts.find_invitation(session, links[0], now=now + timedelta(hours=1))[1]
        is accounts.InvitationState.EXPIRED
    )
    assert accounts.find_invitation(session, links[0] + "x", now=now)[1] is accounts.InvitationState.UNKNOWN


def test_new_invitation_invalidates_the_previous_link(session):
    user = make_user(session, password=None)
    now = utcnow()
    links = []
    accounts.invite_user(session, user, now=now, valid_for=timedelta(hours=72), link_for=links.append)
    accounts.invite_user(
        session, user, now=now + timedelta(minutes=1), valid_for=timedelta(hours=72), link_for=links.append
    )
    later = now + timedelta(minutes=2)
    assert accounts.find_invitation(session, links[0], now=later)[1] is accounts.InvitationState.EXPIRED
    assert accounts.find_invitation(session, links[1], now=later)[1] is accounts.InvitationState.VALID
    assert len(session.exec(select(AccountInvitation)).all()) == 2


def test_weak_password_is_rejected_and_nothing_changes(session):
    user = make_user(session)
    before = user.password_hash
    with pytest.raises(accounts.PasswordRejected):
        accounts.set_password(session, user, "Sommar2024!!", now=utcnow(), min_length=12)
    assert user.password_hash == before


def test_password_change_requires_the_current_password_and_ends_sessions(session):
    user = make_user(session)
    now = utcnow()
    token = accounts.start_session(session, user, user_agent="", now=now)
    with pytest.raises(accounts.LoginRefused):
        accounts.change_password(
            session, user, "not-the-password", "norrsken-tjara-myr-5", now=now, min_length=12
        )
    accounts.change_password(session, user, PASSWORD, "norrsken-tjara-myr-5", now=now, min_length=12)
    assert accounts.load_session_user(session, token, now=now, policy=SESSIONS) is None
    assert login(session, user.email, "norrsken-tjara-myr-5").id == user.id


def test_memberships_follow_the_chosen_organisations(session):
    a, b = make_organisation(session), make_organisation(session)
    user = make_user(session, organisation=a)
    accounts.set_memberships(session, user, [b])
    assert [o.id for o in user.organisations] == [b.id]


def test_unknown_address_costs_one_argon2_verification_like_a_wrong_password(session, monkeypatch):
    """Same timing class: both failures run exactly one full argon2id verification."""
    from samrad import passwords

    make_user(session, email="anna@kommun.example")
    calls = []
    real_hasher = passwords._hasher

    class CountingHasher:
        def verify(self, hashed, password):
            calls.append(hashed[:9])
            return real_hasher.verify(hashed, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    for email in ("anna@kommun.example", "okand@kommun.example"):
        with pytest.raises(accounts.LoginRefused):
            login(session, email, "fel-losenord-123")
    assert calls == ["$argon2id", "$argon2id"]
