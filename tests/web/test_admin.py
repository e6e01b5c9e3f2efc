import re

from sqlmodel import select

from samrad.enums import OrganisationType, Role, Sector
from samrad.models import (
    Consultation,
    ConsultationRole,
    Municipality,
    Organisation,
    OutboxMessage,
    StandingSeat,
    User,
)
from tests.factories import PASSWORD, make_consultation, make_organisation, make_user

ADMIN_PAGES = [
    "/admin/",
    "/admin/municipalities",
    "/admin/municipalities/new",
    "/admin/organisations",
    "/admin/organisations/new",
    "/admin/users",
    "/admin/users/new",
    "/admin/consultations",
    "/admin/consultations/new",
]


def _admin(web_session, auth):
    make_user(web_session, email="admin@region.example", is_admin=True)
    web_session.commit()
    auth.login("admin@region.example", PASSWORD)


def test_admin_pages_need_an_administrator(client, auth, web_session):
    make_user(web_session, email="medlem@kommun.example")
    web_session.commit()
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 302, path
    auth.login("medlem@kommun.example", PASSWORD)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    assert (
        auth.post("/admin/municipalities/new", {"name": "X", "county": "Y"}, token_from="/").status_code
        == 403
    )
    assert web_session.exec(select(Municipality)).all() == []


def test_admin_sees_every_page(client, auth, web_session):
    _admin(web_session, auth)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 200, path


def test_create_and_edit_a_municipality(client, auth, web_session):
    _admin(web_session, auth)
    response = auth.post("/admin/municipalities/new", {"name": "Kiruna", "county": "Norrbottens län"})
    assert (response.status_code, response.headers["Location"]) == (303, "/admin/municipalities")
    m = web_session.exec(select(Municipality)).one()
    duplicate = auth.post("/admin/municipalities/new", {"name": "Kiruna", "county": "Norrbottens län"})
    assert duplicate.status_code == 400
    assert "Kommunen finns redan i länet." in duplicate.get_data(as_text=True)
    auth.post(f"/admin/municipalities/{m.id}", {"name": "Kiruna kommun", "county": "Norrbottens län"})
    web_session.expire_all()
    assert [x.name for x in web_session.exec(select(Municipality))] == ["Kiruna kommun"]


def test_create_an_organisation_with_type_and_sector(client, auth, web_session):
    _admin(web_session, auth)
    response = auth.post(
        "/admin/organisations/new",
        {
            "name": "Kvinnojouren Iris",
            "type": "womens_shelter",
            "sector": "civil_society",
            "county": "Norrbottens län",
            "municipality": 0,
        },
    )
    assert response.status_code == 303
    org = web_session.exec(select(Organisation)).one()
    assert (org.type, org.sector, org.municipality_id) == (
        OrganisationType.WOMENS_SHELTER,
        Sector.CIVIL_SOCIETY,
        None,
    )


def test_bad_organisation_input_is_shown_next_to_the_fields(client, auth, web_session):
    _admin(web_session, auth)
    response = auth.post(
        "/admin/organisations/new",
        {"name": "", "type": "spaceship", "sector": "", "county": "Norrbotten", "municipality": 0},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="name-error"' in html and 'id="type-error"' in html and 'id="sector-error"' in html
    assert 'value="Norrbotten"' in html
    assert web_session.exec(select(Organisation)).all() == []


def test_create_a_person_with_roles_and_invitation(client, auth, web_session):
    consultation = make_consultation(web_session, name="Una Norrbotten")
    org = make_organisation(web_session, name="Polisen")
    web_session.commit()
    _admin(web_session, auth)
    response = auth.post(
        "/admin/users/new",
        {
            "name": "Per Polis",
            "email": "Per@Polisen.example",
            "organisations": [org.id],
            "roles": [f"{consultation.id}:member"],
            "locale": "",
            "is_active": "y",
            "send_invitation": "y",
        },
    )
    assert response.status_code == 303
    user = web_session.exec(select(User).where(User.email == "per@polisen.example")).one()
    assert user.password_hash is None and [m.organisation_id for m in user.memberships] == [org.id]
    grants = web_session.exec(select(ConsultationRole).where(ConsultationRole.user_id == user.id)).all()
    assert [(g.consultation_id, g.role) for g in grants] == [(consultation.id, Role.MEMBER)]
    mail = web_session.exec(
        select(OutboxMessage).where(OutboxMessage.recipient == "per@polisen.example")
    ).one()
    assert "https://samrad.test/invitation/" in mail.body_text
    duplicate = auth.post(
        "/admin/users/new",
        {"name": "Per igen", "email": "per@polisen.example", "locale": "", "is_active": "y"},
    )
    assert duplicate.status_code == 400
    assert "Ett annat konto använder redan den här e-postadressen." in duplicate.get_data(as_text=True)


def test_deactivating_a_person_ends_their_sessions(app, client, auth, web_session):
    make_user(web_session, email="anna@kommun.example", name="Anna")
    web_session.commit()
    from tests.conftest import Auth

    other = app.test_client()
    Auth(other).login("anna@kommun.example", PASSWORD)
    assert other.get("/account/").status_code == 200
    _admin(web_session, auth)
    anna = web_session.exec(select(User).where(User.email == "anna@kommun.example")).one()
    response = auth.post(
        f"/admin/users/{anna.id}", {"name": "Anna", "email": "anna@kommun.example", "locale": ""}
    )
    assert response.status_code == 303
    assert other.get("/account/").status_code == 302


def test_create_a_consultation_with_standing_seats(client, auth, web_session):
    host = make_organisation(web_session, name="Freda-mottagningen")
    police = make_organisation(web_session, name="Polisen")
    web_session.commit()
    _admin(web_session, auth)
    form = {
        "name": "Una Norrbotten",
        "slug": "una-norrbotten",
        "county": "Norrbottens län",
        "host_organisation": host.id,
        "place": "Luleå",
        "meeting_length_minutes": 120,
        "rhythm_weeks": 2,
        "weekday": "MO",
        "start_time": "13:00",
        "case_deadline_days": 7,
        "video_provider": "jitsi",
        "video_url": "https://meet.jit.si",
        "standing_seats": [host.id, police.id],
    }
    assert auth.post("/admin/consultations/new", form).status_code == 303
    consultation = web_session.exec(select(Consultation)).one()
    assert consultation.start_time.strftime("%H:%M") == "13:00"
    seats = web_session.exec(select(StandingSeat.organisation_id)).all()
    assert sorted(seats) == sorted([host.id, police.id])
    bad = auth.post(
        "/admin/consultations/new",
        {**form, "slug": "Una Norrbotten!", "video_url": "", "meeting_length_minutes": "två timmar"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert (
        'id="slug-error"' in html
        and 'id="video_url-error"' in html
        and 'id="meeting_length_minutes-error"' in html
    )
    # One message for a length that is not a number (not also "must be between 30 and 480").
    [length_error] = re.findall(r'<p class="error" id="meeting_length_minutes-error">(.*?)</p>', html, re.S)
    assert re.sub(r"<[^>]+>|\s+", " ", length_error).strip() == "Skriv ett tal från 30 till 480."
    assert "heltal" not in html
    assert len(web_session.exec(select(Consultation)).all()) == 1


def test_editing_an_entry_into_a_clash_shows_the_message_next_to_the_field(client, auth, web_session):
    """Issue I: editing so that a unique value clashes with another entry raised PendingRollbackError
    (a 500). Each unique key of the register, on edit: a 400 with the message, nothing changed."""
    kiruna = Municipality(name="Kiruna", county="Norrbottens län")
    lulea = Municipality(name="Luleå", county="Norrbottens län")
    web_session.add_all([kiruna, lulea])
    iris = make_organisation(web_session, name="Kvinnojouren Iris")
    freda = make_organisation(web_session, name="Freda")
    una = make_consultation(web_session, slug="una", name="Una", host=freda)
    other = make_consultation(web_session, slug="annat", name="Annat", host=freda)
    anna = make_user(web_session, email="anna@kommun.example", name="Anna")
    make_user(web_session, email="bo@kommun.example", name="Bo")
    web_session.commit()
    _admin(web_session, auth)
    cases = [
        (
            f"/admin/municipalities/{lulea.id}",
            {"name": "Kiruna", "county": "Norrbottens län"},
            "Kommunen finns redan i länet.",
            'id="name-error"',
        ),
        (
            f"/admin/organisations/{iris.id}",
            {
                "name": "Freda",
                "type": "womens_shelter",
                "sector": "civil_society",
                "county": "Norrbottens län",
                "municipality": 0,
            },
            "Det finns redan en organisation med det här namnet.",
            'id="name-error"',
        ),
        (
            f"/admin/users/{anna.id}",
            {"name": "Anna", "email": "BO@kommun.example", "locale": ""},
            "Ett annat konto använder redan den här e-postadressen.",
            'id="email-error"',
        ),
        (
            f"/admin/consultations/{other.id}",
            {
                "name": "Annat",
                "slug": "una",
                "county": "Norrbottens län",
                "host_organisation": freda.id,
                "place": "Luleå",
                "meeting_length_minutes": 120,
                "rhythm_weeks": 2,
                "weekday": "MO",
                "start_time": "13:00",
                "case_deadline_days": 7,
                "video_provider": "none",
                "video_url": "",
            },
            "Ett annat samråd använder redan det här korta namnet.",
            'id="slug-error"',
        ),
    ]
    for path, data, message, error_id in cases:
        response = auth.post(path, data)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert message in html and error_id in html, path
    web_session.expire_all()
    assert web_session.get(Municipality, lulea.id).name == "Luleå"
    assert web_session.get(Organisation, iris.id).name == "Kvinnojouren Iris"
    assert web_session.get(User, anna.id).email == "anna@kommun.example"
    assert web_session.get(Consultation, other.id).slug == "annat"
    assert web_session.get(Consultation, una.id).slug == "una"
