"""Two-factor authentication through the pages: enrolment, the login's second step, the requirement for
administrators and coordinators, and a reset by another administrator (recorded in the audit log)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlmodel import select

from samrad.enums import AuditKind, AuditVerb
from samrad.models import AuditEvent, TwoFactor, utcnow
from tests.conftest import Auth, csrf_from, schema_app
from tests.factories import PASSWORD, make_consultation, make_user

HX = {"HX-Request": "true"}


def _secret(html: str) -> str:
    return re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")


def _enrol(client, auth) -> tuple[str, list[str]]:
    """Set up the authenticator through the pages; returns the secret and the recovery codes shown."""
    assert auth.post("/account/two-factor/start", token_from="/account/two-factor").status_code == 303
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = _secret(page)
    done = auth.post(
        "/account/two-factor/confirm", {"code": pyotp.TOTP(secret).now()}, token_from="/account/two-factor"
    )
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([A-Z2-7-]{19})</code></li>", done.get_data(as_text=True))
    return secret, codes


def _code_for(secret: str, steps_ahead: int = 1) -> str:
    """A code from a later 30-second step than any used so far (within the accepted drift)."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * steps_ahead))


def test_enrolment_then_login_asks_for_a_code_that_works_once(client, auth, web_session):
    person = make_user(web_session, email="handlaggare@kiruna.example")
    web_session.commit()
    auth.login(person.email, PASSWORD)
    wrong = auth.post("/account/two-factor/start", token_from="/account/two-factor")
    assert wrong.status_code == 303
    page = client.get("/account/two-factor").get_data(as_text=True)
    bad = auth.post("/account/two-factor/confirm", {"code": "123456"}, token_from="/account/two-factor")
    assert bad.status_code == 400
    assert '<p class="error" id="code-error">' in bad.get_data(as_text=True)
    assert "Koden är fel. Kontrollera att telefonens klocka går rätt" in bad.get_data(as_text=True)
    secret = _secret(page)
    done = auth.post(
        "/account/two-factor/confirm", {"code": pyotp.TOTP(secret).now()}, token_from="/account/two-factor"
    )
    codes = re.findall(r"<li><code>([A-Z2-7-]{19})</code></li>", done.get_data(as_text=True))
    assert done.status_code == 200 and len(set(codes)) == 10
    # The codes are shown once: not on the next visit.
    assert not re.findall(r"<li><code>", client.get("/account/two-factor").get_data(as_text=True))
    auth.logout()

    step_one = auth.login(person.email, PASSWORD)
    assert (step_one.status_code, step_one.headers["Location"]) == (303, "/login/code")
    assert client.get("/account/").status_code == 302  # not logged in yet
    wrong = auth.post("/login/code", {"code": "000000"})
    assert wrong.status_code == 400 and "Koden är fel eller har redan använts" in wrong.get_data(as_text=True)
    code = _code_for(secret)
    right = auth.post("/login/code", {"code": code})
    assert (right.status_code, right.headers["Location"]) == (303, "/")
    assert client.get("/account/").status_code == 200
    auth.logout()
    auth.login(person.email, PASSWORD)
    assert auth.post("/login/code", {"code": code}).status_code == 400  # the same code again
    recovered = auth.post("/login/code", {"code": codes[0]})
    assert recovered.status_code == 303
    assert "Du använde en reservkod; 9 finns kvar." in client.get("/").get_data(as_text=True)


def test_the_code_step_expires_and_cannot_be_reached_without_the_password(client, auth, web_session):
    person = make_user(web_session, email="handlaggare@kiruna.example")
    web_session.commit()
    auth.login(person.email, PASSWORD)
    secret, _ = _enrol(client, auth)
    auth.logout()
    # Without a correct password first there is nothing to type a code for.
    assert client.get("/login/code").headers["Location"] == "/login"
    auth.login(person.email, PASSWORD)
    with client.session_transaction() as cookie:
        cookie["second_factor"] = {
            **cookie["second_factor"],
            "at": (utcnow() - timedelta(minutes=6)).isoformat(),
        }
    late = auth.post("/login/code", {"code": _code_for(secret)}, token_from="/login")
    assert late.headers["Location"] == "/login"
    assert client.get("/account/").status_code == 302


@pytest.fixture
def strict_app(tmp_path):
    return schema_app(f"sqlite:///{tmp_path}/strict.db", tmp_path, TWO_FACTOR_REQUIRED=True)


def test_when_required_coordinators_set_it_up_before_anything_else(strict_app, tmp_path):
    from sqlmodel import Session, create_engine

    engine = create_engine(strict_app.config["DATABASE_URL"])
    with Session(engine, expire_on_commit=False) as s:
        consultation = make_consultation(s, slug="una")
        make_user(s, email="samordnare@lulea.example", roles=["coordinator"], consultation=consultation)
        make_user(s, email="handlaggare@kiruna.example", roles=["case_officer"], consultation=consultation)
        s.commit()
    client = strict_app.test_client()
    auth = Auth(client)
    auth.login("handlaggare@kiruna.example", PASSWORD)
    assert client.get("/").status_code == 200  # not required of case officers
    auth.logout()
    auth.login("samordnare@lulea.example", PASSWORD)
    blocked = client.get("/c/una/cases/queue")
    assert (blocked.status_code, blocked.headers["Location"]) == (303, "/account/two-factor")
    assert client.get("/c/una/cases/queue", headers=HX).headers["HX-Redirect"] == "/account/two-factor"
    assert "Din roll kräver tvåfaktorsinloggning." in client.get("/account/two-factor").get_data(as_text=True)
    secret, _ = _enrol(client, auth)
    assert client.get("/c/una/cases/queue").status_code == 200
    # Required: it cannot be turned off.
    off = auth.post(
        "/account/two-factor/turn-off", {"off-code": _code_for(secret)}, token_from="/account/two-factor"
    )
    assert off.status_code == 403
    engine.dispose()


def test_another_administrator_resets_a_lost_authenticator_and_the_log_says_who(client, auth, web_session):
    person = make_user(web_session, email="samordnare@lulea.example")
    admin = make_user(web_session, email="admin@region.example", is_admin=True)
    web_session.commit()
    auth.login(person.email, PASSWORD)
    _enrol(client, auth)
    auth.logout()
    auth.login(admin.email, PASSWORD)
    _enrol(client, auth)
    # Not one's own: a stolen administrator password must not be enough to remove the second factor.
    own = auth.post(f"/admin/users/{admin.id}/two-factor/reset", token_from=f"/admin/users/{admin.id}")
    assert own.status_code == 403
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Återställ tvåfaktorsinloggning" in page
    reset = auth.post(f"/admin/users/{person.id}/two-factor/reset", token_from=f"/admin/users/{person.id}")
    assert reset.status_code == 303
    web_session.expire_all()
    assert web_session.exec(select(TwoFactor.user_id)).all() == [admin.id]
    deleted = web_session.exec(
        select(AuditEvent.actor, AuditEvent.object_id)
        .where(AuditEvent.kind == AuditKind.TWO_FACTOR)
        .where(AuditEvent.verb == AuditVerb.DELETED)
    ).all()
    assert deleted == [("admin@region.example", str(person.id))]
    # The person logs in with the password alone again.
    auth.logout()
    assert auth.login(person.email, PASSWORD).headers["Location"] == "/"


def test_turning_it_off_needs_a_current_code_and_the_message_is_next_to_that_field(client, auth, web_session):
    person = make_user(web_session, email="handlaggare@kiruna.example")
    web_session.commit()
    auth.login(person.email, PASSWORD)
    secret, _ = _enrol(client, auth)
    bad = auth.post("/account/two-factor/turn-off", {"off-code": "111111"}, token_from="/account/two-factor")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and '<p class="error" id="off-code-error">' in html
    assert '<p class="error" id="code-error">' not in html
    ok = auth.post(
        "/account/two-factor/turn-off", {"off-code": _code_for(secret)}, token_from="/account/two-factor"
    )
    assert ok.status_code == 303
    assert "Tvåfaktorsinloggning är avstängd." in client.get("/account/two-factor").get_data(as_text=True)
    web_session.expire_all()
    assert web_session.exec(select(TwoFactor)).all() == []
    # The off-form's CSRF token field has its own name; the plain csrf_token is the page's.
    assert csrf_from(html)
