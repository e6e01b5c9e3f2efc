import re
from datetime import timedelta

import pytest
from sqlmodel import select

from samrad.models import AccountInvitation, UserSession, utcnow
from samrad.services import accounts
from tests.conftest import csrf_from
from tests.factories import PASSWORD, make_user


def test_login_page_is_swedish_by_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<h1>Logga in</h1>" in html


def test_login_and_logout_end_the_server_side_session(app, client, auth, web_session):
    make_user(web_session, email="anna@kommun.example", name="Anna Lind")
    web_session.commit()
    response = auth.login("anna@kommun.example", PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert "Välkommen, Anna Lind" in client.get("/").get_data(as_text=True)
    cookie = client.get_cookie("samrad_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure

    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/account/").status_code == 302
    row = web_session.exec(select(UserSession)).one()
    web_session.refresh(row)
    assert row.revoked_at is not None

    # A copy of the old cookie taken before logout no longer works either.
    replay = app.test_client()
    replay.set_cookie("samrad_session", cookie.value)
    assert replay.get("/account/").status_code == 302


def test_wrong_password_and_unknown_address_give_the_same_message(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    wrong = auth.login("anna@kommun.example", "fel-losenord-123").get_data(as_text=True)
    unknown = auth.login("okand@kommun.example", "fel-losenord-123").get_data(as_text=True)

    def message(html):
        return re.search(r'<p class="error" id="password-error">\s*<span>(.*?)</span>', html, re.S).group(1)

    assert message(wrong) == message(unknown)
    assert "E-postadressen eller lösenordet är fel" in message(wrong)
    assert 'value="anna@kommun.example"' in wrong  # what was typed is kept


def test_login_form_errors_are_next_to_the_fields(client, auth):
    response = auth.post("/login", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert '<p class="error" id="email-error">\n      <span>Det här fältet är obligatoriskt.</span>' in html


def test_logins_are_throttled_after_repeated_failures(app, client, auth, web_session):
    app.config["LOGIN_MAX_FAILURES"] = 2
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    for _ in range(2):
        assert auth.login("anna@kommun.example", "fel-losenord-123").status_code == 400
    response = auth.login("anna@kommun.example", PASSWORD)
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_idle_timeout_ends_the_session(app, client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    auth.login("anna@kommun.example", PASSWORD)
    assert client.get("/account/").status_code == 200
    row = web_session.exec(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    web_session.commit()
    response = client.get("/account/")
    assert (response.status_code, response.headers["Location"]) == (302, "/login?next=/account/")


def test_htmx_request_without_login_gets_hx_redirect(client):
    response = client.get("/account/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login?next=/account/"


#: The usual ways to smuggle another site into a "next" address, raw and percent-encoded.
BYPASSES = [
    "//evil.example/x",
    "/\\evil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "/%0d%0aLocation:%20http://evil.example",
    "/\t/evil.example",
    "https:evil.example",
    "https://evil.example",
    "http:/evil.example",
    "%2F%2Fevil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/%2F/evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_next_parameter_cannot_redirect_to_another_site(client, auth, web_session, target):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    token = auth.token()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "anna@kommun.example", "password": PASSWORD, "csrf_token": token},
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/")


@pytest.mark.parametrize("target", BYPASSES)
def test_the_language_switch_returns_only_to_a_page_of_this_site(client, auth, target):
    response = client.post("/language", data={"locale": "en", "next": target, "csrf_token": auth.token()})
    assert (response.status_code, response.headers["Location"]) == (303, "/")


def test_a_path_on_this_site_is_kept(client, auth):
    target = "/stats/?period=year&year=2027"
    response = client.post("/language", data={"locale": "en", "next": target, "csrf_token": auth.token()})
    assert response.headers["Location"] == target


def _invite(app, web_session, user, hours=72):
    tokens = []
    with app.app_context():  # the e-mail is rendered from templates
        accounts.invite_user(
            web_session, user, now=utcnow(), valid_for=timedelta(hours=hours), link_for=tokens.append
        )
    web_session.commit()
    return tokens[0]


def test_invitation_link_sets_the_password_and_logs_in(app, client, web_session):
    user = make_user(web_session, email="ny@kommun.example", password=None, name="Nils Ny")
    token = _invite(app, web_session, user)
    page = client.get(f"/invitation/{token}")
    assert page.status_code == 200 and "ny@kommun.example" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    weak = client.post(
        f"/invitation/{token}",
        data={"password": "Sommar2024!!", "confirm": "Sommar2024!!", "csrf_token": csrf},
    )
    assert weak.status_code == 400 and "för vanligt" in weak.get_data(as_text=True)
    good = client.post(
        f"/invitation/{token}",
        data={
            "password": "fjall-kaffe-norrsken-12",
            "confirm": "fjall-kaffe-norrsken-12",
            "csrf_token": csrf,
        },
    )
    assert (good.status_code, good.headers["Location"]) == (303, "/")
    assert "Välkommen, Nils Ny" in client.get("/").get_data(as_text=True)
    used = client.get(f"/invitation/{token}")
    assert used.status_code == 410 and "redan använts" in used.get_data(as_text=True)


def test_tampered_and_expired_invitation_links_get_a_clear_page(app, client, web_session):
    user = make_user(web_session, password=None)
    token = _invite(app, web_session, user)
    tampered = client.get(f"/invitation/{token[:-2]}xx")
    assert tampered.status_code == 404 and "Länken fungerar inte" in tampered.get_data(as_text=True)
    invitation = web_session.exec(select(AccountInvitation)).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    web_session.commit()
    expired = client.get(f"/invitation/{token}")
    assert expired.status_code == 410 and "har slutat gälla" in expired.get_data(as_text=True)


def test_mismatched_passwords_keep_the_form(app, client, web_session):
    user = make_user(web_session, password=None)
    token = _invite(app, web_session, user)
    csrf = csrf_from(client.get(f"/invitation/{token}").get_data(as_text=True))
    response = client.post(
        f"/invitation/{token}",
        data={
            "password": "fjall-kaffe-norrsken-12",
            "confirm": "fjall-kaffe-norrsken-13",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 400
    assert 'id="confirm-error"' in response.get_data(as_text=True)


def test_change_password_logs_out_everywhere(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    auth.login("anna@kommun.example", PASSWORD)
    wrong = auth.post(
        "/account/password",
        {"current": "fel", "password": "norrsken-tjara-myr-5", "confirm": "norrsken-tjara-myr-5"},
        token_from="/account/",
    )
    assert wrong.status_code == 400 and 'id="current-error"' in wrong.get_data(as_text=True)
    ok = auth.post(
        "/account/password",
        {"current": PASSWORD, "password": "norrsken-tjara-myr-5", "confirm": "norrsken-tjara-myr-5"},
        token_from="/account/",
    )
    assert (ok.status_code, ok.headers["Location"]) == (303, "/login")
    assert client.get("/account/").status_code == 302
    assert auth.login("anna@kommun.example", "norrsken-tjara-myr-5").status_code == 303


def test_log_out_other_sessions(app, client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    other = app.test_client()
    from tests.conftest import Auth

    Auth(other).login("anna@kommun.example", PASSWORD)
    auth.login("anna@kommun.example", PASSWORD)
    assert other.get("/account/").status_code == 200
    response = auth.post("/account/sessions/end-others", token_from="/account/")
    assert response.status_code == 303
    assert other.get("/account/").status_code == 302
    assert client.get("/account/").status_code == 200


def test_the_session_list_names_browser_and_system_not_the_raw_string(app, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    from tests.conftest import Auth

    agents = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0": (
            "Firefox 133 på Windows 10"
        ),
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1": "Mobile Safari 17 på iOS 17",
        "": "Okänd webbläsare",
    }
    for agent in agents:
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = agent
        Auth(client).login("anna@kommun.example", PASSWORD)
    page = client.get("/account/").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", page, re.S)
    names = sorted(re.sub(r"\s*<strong>.*", "", row).strip() for row in rows)
    assert names == sorted(agents.values())
    assert "Gecko/20100101" not in page and "AppleWebKit" not in page
