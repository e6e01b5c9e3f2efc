"""The start pages, the triage and the swaps that move focus, as people see them (issue L), at a desktop
width and a phone width, with axe on every state.

Screenshots of each start page go to a temporary folder, or to ``SAMRAD_SCREENSHOTS`` when set
(``make screenshots`` refreshes the ones README shows, in docs/screenshots).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from samrad import demo
from tests.browser.conftest import COORDINATOR, SLUG, axe_check, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(
        "ignore:Passing SelectField choices as tuples is deprecated:DeprecationWarning"
    ),
]

WIDTHS = {"desktop": 1280, "phone": 390}
OFFICER = f"handlaggare.lulea@{demo.DOMAIN}"
POLICE = f"polis@{demo.DOMAIN}"
STATISTICS = f"statistik@{demo.DOMAIN}"

#: Role → (account, panel, what the panel must say).
START_PAGES = {
    "coordinator": (
        COORDINATOR,
        "coordinator",
        ["Nästa möte", "Sista dag för ärenden", "väntar på ett möte"],
    ),
    "case-officer": (
        OFFICER,
        "case_officer",
        ["Dina ärenden", "Anmäl ett ärende", "Skickade tillbaka till dig"],
    ),
    "member": (POLICE, "member", ["Dina möten", "Ditt svar:", "Jag kommer på plats"]),
    "statistics": (STATISTICS, "statistics_viewer", ["Statistik för", "Anmälda ärenden"]),
}


def _screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SAMRAD_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("role", sorted(START_PAGES))
def test_each_start_page_says_what_to_do_and_is_accessible(page: Page, tmp_path, role: str, width: str):
    account, panel, says = START_PAGES[role]
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    log_in(page, account)
    page.goto("/")
    section = page.locator(f"#panel-{SLUG}-{panel}")
    expect(section).to_be_visible()
    for text in says:
        expect(section).to_contain_text(text)
    # Nothing runs off the side of a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    axe_check(page)
    page.screenshot(path=str(_screenshot_dir(tmp_path) / f"start-{role}-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_coordinator_accepts_the_oldest_honour_related_case_from_the_queue(page: Page, width: str):
    page.set_viewport_size({"width": WIDTHS[width], "height": 900})
    log_in(page, COORDINATOR)
    page.goto("/")
    page.get_by_role("link", name="Gå igenom kön").click()
    axe_check(page)
    first = page.locator("ul.requests > li").first
    reference = first.locator("h2 a").inner_text()
    boxes = page.locator("#time-boxes li").first
    before = boxes.inner_text()
    # By keyboard: the meeting list already offers the next meeting; Enter on "Ta emot".
    first.get_by_role("button", name=f"Ta emot {reference}").focus()
    page.keyboard.press("Enter")
    message = first.locator("[data-focus-here]")
    expect(message).to_contain_text(f"Ärende {reference} är mottaget till")
    expect(message).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text(f"Ärende {reference} är mottaget till")
    expect(boxes).not_to_have_text(before)  # the time box of the meeting grew, without a page load
    expect(first.get_by_label("Flytta till mötet")).to_be_visible()
    axe_check(page)


def test_the_return_comment_opens_on_demand_and_a_refusal_keeps_focus_in_the_row(page: Page, page_errors):
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/cases/queue")
    first = page.locator("ul.requests > li").first
    case_id = first.get_attribute("id").removeprefix("case-")
    comment = page.locator(f"#r{case_id}-comment")
    expect(comment).to_be_hidden()
    first.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(comment).to_be_visible()
    page_errors.expect_status(f"/cases/{case_id}/return", 400)
    first.get_by_role("button", name="Skicka tillbaka till handläggaren", exact=True).click()
    row = page.locator(f"#case-{case_id}")
    expect(row.locator(f"#r{case_id}-comment-error")).to_contain_text("Skriv varför ärendet skickas tillbaka")
    # Focus stays in the row (on its heading: the button that had it is gone with the old row).
    expect(page.locator(f"#case-{case_id} :focus")).to_have_count(1)
    axe_check(page)


def test_a_member_answers_the_next_invitation_on_the_start_page_by_keyboard(page: Page):
    log_in(page, POLICE)
    page.goto("/")
    panel = page.locator(f"#panel-{SLUG}-member")
    row = panel.locator(".meeting-answers > li").nth(1)
    button = row.get_by_role("button", name="Jag deltar via video")
    button_id = button.get_attribute("id")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#panel-{SLUG}-member")).to_contain_text("Tack, ditt svar är sparat.")
    pressed = page.locator(f"#{button_id}")
    expect(pressed).to_have_attribute("aria-pressed", "true")
    expect(pressed).to_be_focused()  # focus stays on the answer given, in the new panel
    expect(page.locator("#announcer")).to_have_text("Tack, ditt svar är sparat.")
    axe_check(page)


def test_no_after_the_acute_question_moves_focus_to_the_form(page: Page):
    log_in(page, OFFICER)
    page.goto(f"/c/{SLUG}/cases/new")
    page.locator("input[name=acute][value=no]").check()
    page.locator("#journey button[type=submit]").click()
    heading = page.locator("#journey h2").first
    expect(heading).to_have_text("Om personen")
    expect(heading).to_be_focused()


def test_the_menu_folds_behind_a_button_on_a_phone(page: Page):
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, COORDINATOR)
    page.goto("/")
    toggle = page.get_by_role("button", name="Meny")
    menu = page.locator("#main-menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] < 80  # one row: name, menu button, language
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Mina ärenden")).to_be_visible()
    axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("button", name="Meny")).to_be_hidden()
    expect(page.locator("#main-menu").get_by_role("link", name="Start")).to_be_visible()
