"""The pages in a real browser: accessibility (axe-core), keyboard use, forms and the htmx review flow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Page, expect

from samrad import db
from samrad.passwords import hash_password
from samrad.services import accounts
from tests.browser.conftest import ADMIN, COORDINATOR, PW, SLUG, PageErrors, axe_check, log_in

pytestmark = pytest.mark.browser

ANONYMOUS_PAGES = ["/", "/login", "/join", f"/c/{SLUG}/rules", "/privacy", "/accessibility"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/organisations",
    "/admin/municipalities",
    "/admin/consultations",
    "/admin/consultations/1",
    "/admin/users/new",
    "/admin/health/",
    "/admin/audit/",
    "/admin/users/2",
    "/account/",
    "/account/two-factor",
]


def path_of_url(url: str) -> str:
    return urlsplit(url).path


def path_of(page: Page) -> str:
    return path_of_url(page.url)


def send_join_request(page: Page, *, name: str, email: str, organisation: str, role: str = "member") -> None:
    page.goto("/join")
    form = page.locator("main form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=email]").fill(email)
    form.locator("select[name=organisation]").select_option(label=organisation)
    form.locator(f"input[name=role][value={role}]").check()
    with page.expect_response(lambda r: r.request.method == "POST" and path_of_url(r.url) == "/join") as sent:
        form.locator("button[type=submit]").click()
    if sent.value.status != 303:
        page.wait_for_load_state()
        summary = page.locator(".error-summary")
        problems = summary.inner_text() if summary.count() else page.locator("main").inner_text()
        pytest.fail(f"the join form answered {sent.value.status} instead of 303:\n{problems}")
    expect(page).to_have_url(re.compile(rf"/join/thanks\?c={SLUG}$"))


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_anonymous_page_is_accessible(page: Page, path: str):
    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_be_visible()
    axe_check(page)


def test_admin_journey(page: Page):
    log_in(page, ADMIN)
    assert path_of(page) == "/"
    expect(page.locator("h1")).to_contain_text("Admin")
    axe_check(page)
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        expect(page.locator("h1")).to_be_visible()
        axe_check(page)

    page.locator("header form[action$='/logout'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/account/")
    expect(page).to_have_url(re.compile(r"/login\?next=/account/$"))
    expect(page.locator("input[name=password]")).to_be_visible()


def test_coordinator_sees_join_requests(page: Page):
    log_in(page, COORDINATOR)
    assert path_of(page) == "/"
    page.locator(f"main a[href='/c/{SLUG}/join-requests']").click()
    expect(page).to_have_url(re.compile(rf"/c/{SLUG}/join-requests$"))
    expect(page.locator("h1")).to_be_visible()
    axe_check(page)


def test_coordinator_reaches_the_operations_page_from_the_menu(page: Page):
    log_in(page, COORDINATOR)
    page.locator("header nav a[href='/admin/health/']").click()
    expect(page).to_have_url(re.compile(r"/admin/health/$"))
    expect(page.locator("h1")).to_have_text("Drift")
    axe_check(page)


def test_join_request_through_the_form(page: Page):
    send_join_request(
        page,
        name="Tove Järvinen",
        email="tove.jarvinen@kvinnojour.example",
        organisation="Kvinnojouren Iris",
        role="case_officer",
    )
    expect(page.locator("h1")).to_be_visible()
    axe_check(page)


def test_join_form_shows_errors_and_keeps_input(page: Page, page_errors: PageErrors):
    page_errors.expect_status("/join", 400)  # a form with errors is answered with 400 Bad Request
    page.goto("/join")
    form = page.locator("main form")
    form.locator("button[type=submit]").click()

    summary = page.locator(".error-summary[role=alert]")
    expect(summary).to_be_visible()
    for field in ("name", "email"):
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{field}-error")
        expect(error).to_be_visible()
        # The message sits in the same field wrapper as the input and is announced with it.
        expect(page.locator(f".field.has-error:has(#{field}) #{field}-error")).to_have_count(1)
        expect(page.locator(f"#{field}")).to_have_attribute(
            "aria-describedby", re.compile(rf"\b{field}-error\b")
        )
        expect(summary.locator(f"a[href='#{field}']")).to_have_count(1)
    expect(page.locator("#role-group.has-error #role-error")).to_be_visible()
    expect(summary.locator("a[href='#role-group']")).to_have_count(1)
    axe_check(page)

    # Fix the name only: it is kept while the e-mail address is still wrong.
    form.locator("input[name=name]").fill("Signe Paavola")
    form.locator("input[name=email]").fill("not-an-address")
    form.locator("button[type=submit]").click()
    expect(page.locator(".error-summary[role=alert]")).to_be_visible()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Signe Paavola")
    expect(page.locator("#name-error")).to_have_count(0)
    expect(page.locator("#email")).to_have_value("not-an-address")
    axe_check(page)


def test_skip_link_by_keyboard(page: Page):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/login#main$"))


def test_coordinator_approves_with_htmx(page: Page):
    name = "Greta Kuoppala"
    send_join_request(
        page, name=name, email="greta.kuoppala@region.example", organisation="Region Norrbotten"
    )

    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/join-requests")
    card = page.locator("li.request", has=page.locator("h2", has_text=name))
    expect(card).to_have_count(1)
    card_id = card.get_attribute("id")
    assert card_id and card_id.startswith("request-")
    axe_check(page)  # the review page with a pending request and its approval form
    url_before = page.url
    # A full page load would wipe this; an htmx swap keeps it.
    page.evaluate("window.__noReload = true")

    with page.expect_response(re.compile(r"/join-requests/\d+/approve$")) as response_info:
        card.locator("form.inline-form button[type=submit]").click()
    response = response_info.value
    assert response.status == 200
    assert response.request.headers.get("hx-request") == "true"

    row = page.locator(f"#{card_id}")
    expect(row.locator(".flash-success[role=status]")).to_contain_text(name)
    expect(row.locator(".flash-success[role=status]")).to_be_focused()  # the button went with the form
    expect(page.locator("#announcer")).to_contain_text(name)
    expect(row.locator("form")).to_have_count(0)
    assert page.url == url_before
    assert page.evaluate("window.__noReload === true")
    axe_check(page)


def test_a_refused_approval_comes_back_with_its_message_at_the_field(page: Page, page_errors: PageErrors):
    """A change sent with htmx that samrad refuses (400, 409) is answered with the part it replaces and the
    message next to the field. htmx drops such answers unless told to swap them, and here it was not: the
    coordinator clicked and saw nothing happen (found walking the app on 8 December)."""
    name = "Hanna Lantto"
    send_join_request(page, name=name, email="hanna.lantto@region.example", organisation="Region Norrbotten")
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/join-requests")
    card = page.locator("li.request", has=page.locator("h2", has_text=name))
    card_id = card.get_attribute("id") or ""
    card.locator("select[name$=organisation]").select_option(label="Välj organisation")
    approve = f"/c/{SLUG}/join-requests/{card_id.removeprefix('request-')}/approve"
    page_errors.expect_status(approve, 400)
    page.evaluate("window.__noReload = true")
    with page.expect_response(re.compile(re.escape(approve) + "$")) as answer:
        card.locator("form.inline-form button[type=submit]").click()
    assert answer.value.status == 400
    row = page.locator(f"#{card_id}")
    error = row.locator(f"#r{card_id.removeprefix('request-')}-organisation-error")
    expect(error).to_contain_text("Välj den organisation som personen arbetar för.")
    expect(row.locator("select[name$=organisation]")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("window.__noReload === true")
    axe_check(page)


def test_a_request_gone_meanwhile_is_said_at_the_top_and_the_row_stays(
    page: Page, page_errors: PageErrors, live_app
):
    """An htmx change that fails as a whole (here: the request is gone, 404) is said at the top of the
    page, with focus there, and the row it was sent from stays as it was (not replaced by the message)."""
    from sqlalchemy import delete
    from sqlmodel import Session

    from samrad import db
    from samrad.models import JoinRequest

    name = "Ivar Lantto"
    send_join_request(page, name=name, email="ivar.lantto@region.example", organisation="Region Norrbotten")
    send_join_request(
        page, name="Jon Lantto", email="jon.lantto@region.example", organisation="Region Norrbotten"
    )
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/join-requests")
    card = page.locator("li.request", has=page.locator("h2", has_text=name))
    card_id = card.get_attribute("id") or ""
    request_id = int(card_id.removeprefix("request-"))
    with live_app.app_context(), Session(db.get_engine()) as session:
        session.execute(delete(JoinRequest).where(JoinRequest.id == request_id))
        session.commit()
    approve = f"/c/{SLUG}/join-requests/{request_id}/approve"
    page_errors.expect_status(approve, 404)
    page.evaluate("window.__noReload = true")
    with page.expect_response(re.compile(re.escape(approve) + "$")) as answer:
        card.locator("form.inline-form button[type=submit]").click()
    assert answer.value.status == 404
    alert = page.locator("#page-error .error-panel[role=alert]")
    expect(alert).to_contain_text("Sidan finns inte")
    expect(alert).to_contain_text("Det du ändrade finns inte längre. Ladda om sidan")  # no page to go back to
    expect(alert).to_be_focused()
    expect(page.locator(f"#{card_id}")).to_contain_text(name)  # the row as it was
    assert page.evaluate("window.__noReload === true")
    axe_check(page)
    # The next change that goes through answers it: the message no longer stands at the top.
    other = page.locator("li.request", has=page.locator("h2", has_text="Jon Lantto"))
    other.locator("form.inline-form button[type=submit]").click()
    expect(other.locator(".flash-success[role=status]")).to_contain_text("Jon Lantto")
    expect(page.locator("#page-error")).to_be_empty()


def test_axe_check_reports_serious_violations(page: Page):
    # Guards the helper itself: an unlabelled input (rule "label", critical) must fail the check,
    # and the message must name the rule, its help text and the element.
    page.goto("/")
    page.evaluate("""document.querySelector('main').insertAdjacentHTML(
        'beforeend', '<input type="text" id="no-label-here">')""")
    with pytest.raises(AssertionError) as failure:
        axe_check(page)
    message = str(failure.value)
    assert "label" in message
    assert "Form elements must have labels" in message
    assert "#no-label-here" in message


def test_two_factor_enrolment_and_login_by_keyboard(page: Page, live_app):
    """A new person sets up an authenticator (QR page checked with axe), then logs in with a code."""
    with live_app.app_context(), db.session_scope() as s:
        person = accounts.create_user(s, email="tvafaktor@demo.samrad.example", name="Tea Tvåfaktor")
        person.password_hash = hash_password(PW)
    log_in(page, "tvafaktor@demo.samrad.example")
    page.goto("/account/two-factor")
    page.get_by_role("button", name="Ställ in tvåfaktorsinloggning").click()
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()
    axe_check(page)
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.get_by_label("Kod").fill(pyotp.TOTP(secret).now())
    page.keyboard.press("Enter")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    axe_check(page)
    page.locator("header form[action$='/logout'] button[type=submit]").click()
    page.goto("/login")
    page.locator("input[name=email]").fill("tvafaktor@demo.samrad.example")
    page.locator("input[name=password]").fill(PW)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login/code$"))
    axe_check(page)
    code = page.get_by_label("Kod")
    expect(code).to_have_attribute("autocomplete", "one-time-code")
    # A code of the next 30-second step: the enrolment code cannot be used again.
    code.fill(pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30)))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
