from sqlmodel import select

from samrad.enums import JoinRequestStatus
from samrad.models import JoinRequest, User
from tests.factories import PASSWORD, make_consultation, make_organisation, make_user


def _setup(web_session):
    consultation = make_consultation(web_session, slug="una-norrbotten", name="Una Norrbotten")
    org = make_organisation(web_session, name="Socialtjänsten, Kiruna kommun")
    make_user(
        web_session, email="samordnare@kommun.example", roles=["coordinator"], consultation=consultation
    )
    make_user(web_session, email="polis@polisen.example", roles=["member"], consultation=consultation)
    web_session.commit()
    return consultation, org


def test_public_request_form_stores_a_pending_request(client, auth, web_session):
    consultation, org = _setup(web_session)
    response = auth.post(
        "/join",
        {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "nina@kiruna.example",
            "organisation": org.id,
            "organisation_name": "",
            "role": "case_officer",
        },
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/join/thanks?c=una-norrbotten")
    request = web_session.exec(select(JoinRequest)).one()
    assert (request.name, request.email, request.organisation_id, request.status) == (
        "Nina Ny",
        "nina@kiruna.example",
        org.id,
        JoinRequestStatus.PENDING,
    )


def test_request_form_errors_keep_what_was_typed(client, auth, web_session):
    consultation, org = _setup(web_session)
    response = auth.post(
        "/join",
        {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "inte-en-adress",
            "organisation": 0,
            "organisation_name": "",
            "role": "",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Nina Ny"' in html and 'value="inte-en-adress"' in html
    assert 'id="email-error"' in html and 'id="organisation_name-error"' in html and 'id="role-error"' in html
    assert "Skriv namnet på din organisation." in html
    assert web_session.exec(select(JoinRequest)).all() == []


def test_only_the_coordinator_reviews_requests(client, auth, web_session):
    _setup(web_session)
    assert client.get("/c/una-norrbotten/join-requests").status_code == 302
    auth.login("polis@polisen.example", PASSWORD)
    assert client.get("/c/una-norrbotten/join-requests").status_code == 403
    auth.logout()
    auth.login("samordnare@kommun.example", PASSWORD)
    assert client.get("/c/una-norrbotten/join-requests").status_code == 200
    assert client.get("/c/finns-inte/join-requests").status_code == 404


def test_coordinator_approves_with_htmx_and_gets_the_updated_row(client, auth, web_session):
    consultation, org = _setup(web_session)
    auth.post(
        "/join",
        {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "nina@kiruna.example",
            "organisation": 0,
            "organisation_name": "Kiruna tjejjour",
            "role": "member",
        },
    )
    request = web_session.exec(select(JoinRequest)).one()
    auth.login("samordnare@kommun.example", PASSWORD)
    page = client.get("/c/una-norrbotten/join-requests").get_data(as_text=True)
    assert "Kiruna tjejjour" in page and "finns inte i listan" in page
    response = auth.post(
        f"/c/una-norrbotten/join-requests/{request.id}/approve",
        {f"r{request.id}-organisation": org.id, f"r{request.id}-role": "member"},
        token_from="/c/una-norrbotten/join-requests",
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.startswith(f'\n<li class="card request" id="request-{request.id}"')
    assert "Godkänd. Nina Ny har fått ett mejl." in html
    user = web_session.exec(select(User).where(User.email == "nina@kiruna.example")).one()
    assert user.password_hash is None and [m.organisation_id for m in user.memberships] == [org.id]
    # A second decision (another tab): refused in the row, as an error, with the decision that stands.
    again = auth.post(
        f"/c/una-norrbotten/join-requests/{request.id}/decline",
        {},
        token_from="/c/una-norrbotten/join-requests",
        headers={"HX-Request": "true"},
    )
    row = again.get_data(as_text=True)
    assert again.status_code == 409
    assert 'class="flash flash-error" role="alert"' in row and "flash-success" not in row
    assert "Någon annan har redan hanterat den här förfrågan." in row and "<form" not in row


def test_approve_without_organisation_shows_the_error_in_the_row(client, auth, web_session):
    consultation, _ = _setup(web_session)
    auth.post(
        "/join",
        {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "nina@kiruna.example",
            "organisation": 0,
            "organisation_name": "Okänd förening",
            "role": "member",
        },
    )
    request = web_session.exec(select(JoinRequest)).one()
    auth.login("samordnare@kommun.example", PASSWORD)
    response = auth.post(
        f"/c/una-norrbotten/join-requests/{request.id}/approve",
        {f"r{request.id}-organisation": -1, f"r{request.id}-role": "member"},
        token_from="/c/una-norrbotten/join-requests",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "Välj den organisation som personen arbetar för." in response.get_data(as_text=True)
    web_session.expire_all()
    assert web_session.get(JoinRequest, request.id).status == JoinRequestStatus.PENDING


def test_decline_without_javascript_redirects_back(client, auth, web_session):
    consultation, org = _setup(web_session)
    auth.post(
        "/join",
        {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "nina@kiruna.example",
            "organisation": org.id,
            "organisation_name": "",
            "role": "member",
        },
    )
    request = web_session.exec(select(JoinRequest)).one()
    auth.login("samordnare@kommun.example", PASSWORD)
    response = auth.post(
        f"/c/una-norrbotten/join-requests/{request.id}/decline", token_from="/c/una-norrbotten/join-requests"
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/c/una-norrbotten/join-requests")
    web_session.expire_all()
    assert web_session.get(JoinRequest, request.id).status == JoinRequestStatus.DECLINED
    again = auth.post(
        f"/c/una-norrbotten/join-requests/{request.id}/decline", token_from="/c/una-norrbotten/join-requests"
    )
    assert again.status_code == 409


def test_a_coordinator_cannot_approve_anyone_into_an_organisation_of_another_consultation(
    client, auth, web_session
):
    """Issue G: any coordinator could approve a join into any organisation, whose cases the new account
    then read. Only organisations that take part in the coordinator's consultation can be chosen."""
    consultation, _org = _setup(web_session)
    elsewhere = make_organisation(web_session, name="Socialtjänsten, Malmö stad", county="Skåne län")
    web_session.commit()
    auth.post(
        "/join",
        {
            "consultation": consultation.id,
            "name": "Nina Ny",
            "email": "nina@malmo.example",
            "organisation": elsewhere.id,
            "organisation_name": "",
            "role": "case_officer",
        },
    )
    request = web_session.exec(select(JoinRequest)).one()
    auth.login("samordnare@kommun.example", PASSWORD)
    page = client.get("/c/una-norrbotten/join-requests").get_data(as_text=True)
    assert f'<option value="{elsewhere.id}"' not in page
    response = auth.post(
        f"/c/una-norrbotten/join-requests/{request.id}/approve",
        {f"r{request.id}-organisation": elsewhere.id, f"r{request.id}-role": "case_officer"},
        token_from="/c/una-norrbotten/join-requests",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    web_session.expire_all()
    assert web_session.get(JoinRequest, request.id).status == JoinRequestStatus.PENDING
    assert web_session.exec(select(User).where(User.email == "nina@malmo.example")).first() is None
