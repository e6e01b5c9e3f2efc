"""The menu offers what the person can use (issue L 3): "My cases" only to those who bring cases, and the
site's icon at the address browsers ask for."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_consultation, make_user

MY_CASES = '<a href="/cases">Mina ärenden</a>'


@pytest.mark.parametrize(
    ("roles", "admin", "offered"),
    [
        (["case_officer"], False, True),
        (["member"], False, True),  # a standing member (the police too) may bring their agency's case
        (["coordinator"], False, True),
        (["statistics_viewer"], False, False),
        ([], True, False),  # an administrator with no role in a consultation
        ([], False, False),
    ],
)
def test_my_cases_is_in_the_menu_of_those_who_bring_cases(client, auth, web_session, roles, admin, offered):
    consultation = make_consultation(web_session)
    make_user(
        web_session, email="person@kommun.example", roles=roles, consultation=consultation, is_admin=admin
    )
    web_session.commit()
    auth.login("person@kommun.example", PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert (MY_CASES in page) is offered
    assert '<a href="/account/">Mitt konto</a>' in page


def test_the_icon_is_linked_and_served_at_favicon_ico(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/favicon.ico")
    assert (icon.status_code, icon.mimetype) == (200, "image/svg+xml")
    assert icon.get_data(as_text=True).startswith("<svg")


def test_the_links_every_page_carries_follow_the_script_root_they_are_served_under(client):
    """The menu's, footer's and assets' links are built once per script root (``site_url``): a site served
    under /samrad (a proxy's SCRIPT_NAME) gets its own, and the root's stay as they were."""
    at_root = client.get("/login").get_data(as_text=True)
    under = client.get("/login", base_url="http://localhost/samrad/").get_data(as_text=True)
    again = client.get("/login").get_data(as_text=True)
    for link in (
        'href="/static/css/app.css"',
        'src="/static/js/app.js"',
        'href="/privacy"',
        'href="/accessibility"',
        'href="/login"',
        'action="/language"',
    ):
        assert link in at_root and link in again
        prefixed = link.replace('="/', '="/samrad/')
        assert prefixed in under and link not in under
