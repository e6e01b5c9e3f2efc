"""The case journey in a real browser: accessibility, the acute stop, and the live de-identification
feedback (announced politely, never taking the focus away from the text being written)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from samrad import demo
from tests.browser.conftest import COORDINATOR, SLUG, axe_check, log_in, queued_case_count

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(
        "ignore:Passing SelectField choices as tuples is deprecated:DeprecationWarning"
    ),
]

OFFICER = f"handlaggare.lulea@{demo.DOMAIN}"


def test_acute_yes_stops_the_journey(page: Page):
    log_in(page, OFFICER)
    page.goto(f"/c/{SLUG}/cases/new")
    axe_check(page)
    page.locator("input[name=acute][value=yes]").check()
    page.locator("#journey button[type=submit]").click()
    heading = page.locator("#journey h2")
    expect(heading).to_have_text("Kontakta polisen eller vården direkt")
    expect(heading).to_be_focused()  # the new step is announced by moving focus to its heading
    expect(page.locator("#journey textarea")).to_have_count(0)
    axe_check(page)


def test_live_feedback_marks_findings_politely_without_taking_focus(page: Page):
    log_in(page, OFFICER)
    page.goto(f"/c/{SLUG}/cases/new")
    page.locator("input[name=acute][value=no]").check()
    page.locator("#journey button[type=submit]").click()
    background = page.locator("textarea[name=background]")
    expect(background).to_be_visible()
    axe_check(page)
    background.click()
    background.press_sequentially("Flickan är 15 år. Mamman nås på 070-174 06 05 och Fatima vet.", delay=5)
    status = page.locator("#background-guard-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_have_text(re.compile(r"Måste tas bort: 1\. Att kontrollera: 1\."))
    expect(page.locator("#background-guard-findings mark.finding-block")).to_contain_text("070-174 06 05")
    expect(page.locator("#background-guard-findings mark.finding-warn")).to_contain_text("Fatima")
    expect(background).to_be_focused()
    # The warning brings a confirmation box; ticking it survives further typing that changes no warning.
    confirm = page.locator("input[name=confirm_warnings]")
    expect(confirm).to_be_visible()
    confirm.check()
    background.press_sequentially(" Hon vill flytta.", delay=5)
    expect(status).to_have_text(re.compile(r"Måste tas bort: 1\."))
    page.wait_for_load_state("networkidle")
    expect(confirm).to_be_checked()
    axe_check(page)


def test_coordinator_queue_is_accessible(page: Page, live_app):
    waiting = queued_case_count(live_app)
    assert waiting >= 15  # the case demo's and the agenda demo's leftovers
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/cases/queue")
    expect(page.locator("h1")).to_have_text("Ärenden som väntar på ett möte")
    expect(page.locator("li.card")).to_have_count(waiting)
    axe_check(page)


def test_my_cases_and_a_case_page_are_accessible(page: Page):
    log_in(page, OFFICER)
    page.goto("/cases")
    expect(page.locator("h1")).to_have_text("Mina ärenden")
    axe_check(page)
    page.locator("#my-cases tbody a").first.click()
    expect(page.locator("h1")).to_contain_text("Ärende")
    axe_check(page)
