from tests.factories import PASSWORD, make_user


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script(client):
    html = client.get("/login").get_data(as_text=True)
    assert "<script>" not in html and "onclick" not in html
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>' in html


def test_post_without_csrf_token_is_refused(client, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    response = client.post("/login", data={"email": "anna@kommun.example", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formuläret hade slutat gälla" in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302


def test_csrf_token_in_the_htmx_header_is_accepted(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    token = auth.token()
    response = client.post(
        "/login", data={"email": "anna@kommun.example", "password": PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 303


def test_session_cookie_is_secure_over_https(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    token = auth.token()
    client.post(
        "/login",
        data={"email": "anna@kommun.example", "password": PASSWORD, "csrf_token": token},
        base_url="https://localhost",
    )
    assert client.get_cookie("samrad_session", domain="localhost").secure


def test_oversized_request_is_refused_with_a_clear_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = client.post("/join", data={"name": "x" * 5000})
    assert response.status_code == 413
    assert "För mycket data" in response.get_data(as_text=True)


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/finns-inte")
    assert response.status_code == 404 and "Sidan finns inte" in response.get_data(as_text=True)


def test_pages_behind_login_are_not_cached(client, auth, web_session):
    make_user(web_session, email="anna@kommun.example")
    web_session.commit()
    auth.login("anna@kommun.example", PASSWORD)
    assert client.get("/account/").headers["Cache-Control"] == "no-store"


def test_an_unexpected_error_shows_a_friendly_page_and_saves_nothing(app, web_session):
    from sqlmodel import select

    from samrad import db
    from samrad.models import Municipality

    def boom():
        db.get_session().add(Municipality(name="Halvskriven", county="Norrbottens län"))
        db.get_session().flush()
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Inget sparades" in response.get_data(as_text=True)
    assert web_session.exec(select(Municipality)).all() == []
