"""Meeting pages in a real browser: accessibility, and answering with htmx (keyboard only)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import COORDINATOR, SLUG, PageErrors, axe_check, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(
        "ignore:Passing SelectField choices as tuples is deprecated:DeprecationWarning"
    ),
]


def test_coordinator_answers_by_keyboard_and_the_overview_updates(page: Page):
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/meetings")
    expect(page.locator("h1")).to_have_text("Möten")
    axe_check(page)
    page.locator("main table a").first.click()
    expect(page.locator("h1")).to_contain_text("Möte ")
    axe_check(page)
    overview = page.locator("#overview")
    expect(overview).to_contain_text("Vem kommer, och hur")
    radio = page.locator("#rsvp input[name=answer][value=on_site]")
    radio.focus()
    page.keyboard.press("Space")
    page.locator("#rsvp button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#rsvp")).to_contain_text("Tack, ditt svar är sparat.")
    expect(page.locator("#rsvp")).to_contain_text("Ditt svar: På plats")
    # The overview reloads itself after the answer (HX-Trigger), without a page load.
    expect(overview.locator("tr", has_text="Freda-mottagningen")).to_contain_text("På plats")
    axe_check(page)


def test_an_answer_sent_without_a_choice_is_refused_next_to_the_choices(page: Page, page_errors: PageErrors):
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/meetings")
    page.locator("main table a").first.click()
    answer = re.sub(r"^https?://[^/]+", "", page.url) + "/rsvp"
    page_errors.expect_status(answer, 400)
    # The demo's coordinator may have answered already: no choice made, as for someone who has not.
    page.evaluate("document.querySelectorAll('#rsvp input[name=answer]').forEach(r => (r.checked = false))")
    page.locator("#rsvp button[type=submit]").click()
    expect(page.locator("#rsvp")).to_contain_text("Välj ett svar.")
    expect(page.locator("#rsvp fieldset.has-error")).to_contain_text("Välj ett svar.")  # at the choices
    axe_check(page)


def test_calendar_feed_page_is_accessible(page: Page):
    log_in(page, COORDINATOR)
    page.goto("/calendar-feed")
    axe_check(page)
    page.locator("main form button[type=submit]").first.click()
    address = page.locator("#feed-url")
    expect(address).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/feed/[^/]+\.ics$"))
    axe_check(page)
    # The copy button puts the address on the clipboard and says so.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Kopiera adressen").click()
    expect(page.locator("#announcer")).to_have_text("Adressen är kopierad. Klistra in den i din kalender.")
    assert page.evaluate("navigator.clipboard.readText()") == address.input_value()
