"""The agenda in a real browser: the builder by keyboard and by dragging (SortableJS), the published agenda
and the meeting day, each checked with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import COORDINATOR, SLUG, axe_check, log_in, next_meeting_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(
        "ignore:Passing SelectField choices as tuples is deprecated:DeprecationWarning"
    ),
]


def _open_next_meeting(page: Page, app) -> None:
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/meetings")
    page.locator(f"main table a[href$='/meetings/{next_meeting_id(app)}']").click()
    expect(page.locator("h1")).to_contain_text("Möte ")


def _order(page: Page) -> list[str]:
    return page.locator("#agenda-builder .agenda-item").evaluate_all("els => els.map(e => e.dataset.id)")


def test_builder_moves_an_item_by_keyboard_and_keeps_focus(page: Page, live_app):
    _open_next_meeting(page, live_app)
    page.get_by_role("link", name="Bygg dagordningen").click()
    expect(page.locator("h1")).to_have_text("Bygg dagordningen")
    axe_check(page)
    before = _order(page)
    assert len(before) >= 3
    first = before[0]
    button = page.locator(f"#down-{first}")
    expect(button).to_contain_text("Flytta ner")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#agenda-builder")).to_contain_text("Ordningen är sparad.")
    assert _order(page) == [before[1], first, *before[2:]]
    expect(page.locator(f"#down-{first}")).to_be_focused()
    expect(page.locator("#agenda-announcer")).to_contain_text("Dagordningen")
    # Only the agenda came back; every other form of the builder got the new revision out of band, so a
    # change made there right after is not refused as stale.
    revisions = page.locator("#agenda-builder .agenda-revision").evaluate_all(
        "els => [...new Set(els.map(e => e.value))]"
    )
    assert len(revisions) == 1
    page.locator("#new-title").fill("Paus")
    page.get_by_role("button", name="Lägg till punkten").click()
    expect(page.locator("#builder-messages")).to_contain_text("Punkten är tillagd.")
    expect(page.locator("#agenda-builder")).not_to_contain_text("Någon annan har ändrat")
    added = _order(page)[-1]
    assert _order(page) == [before[1], first, *before[2:], added]
    page.locator(f"#item-{added}").get_by_role("button", name="Ta bort").click()
    expect(page.locator("#builder-messages")).to_contain_text("Punkten är borttagen från dagordningen.")
    page.reload()
    assert _order(page) == [before[1], first, *before[2:]]
    axe_check(page)


def test_builder_drag_and_drop_saves_the_order(page: Page, live_app):
    _open_next_meeting(page, live_app)
    page.get_by_role("link", name="Bygg dagordningen").click()
    before = _order(page)
    source = page.locator(f"#item-{before[0]} .drag-handle")
    target = page.locator(f"#item-{before[2]}")
    box = target.bounding_box()
    source.drag_to(target, target_position={"x": 20, "y": box["height"] - 4})
    expect(page.locator("#agenda-builder")).to_contain_text("Ordningen är sparad.")
    after = _order(page)
    assert after != before and sorted(after) == sorted(before)
    assert after.index(before[0]) > 0
    page.reload()
    assert _order(page) == after


def test_published_agenda_and_meeting_day_are_accessible(page: Page, live_app):
    _open_next_meeting(page, live_app)
    meeting_url = page.url
    page.get_by_role("link", name="Dagordning", exact=True).click()
    expect(page.locator("#published-agenda")).to_contain_text("Version 1")
    expect(page.locator("#published-agenda")).to_contain_text("Ärende")
    axe_check(page)
    page.goto(meeting_url)
    page.get_by_role("link", name="Mötesdagen: närvaro och råd").click()
    expect(page.locator("h1")).to_have_text("Mötesdagen")
    expect(page.locator("#meeting-day")).to_contain_text("Råd till ärendeägaren")
    axe_check(page)


def test_the_stylesheet_reaches_the_agenda_cards(page: Page, live_app):
    """A broken stylesheet once turned the builder into a bare numbered list while every test passed:
    the computed style of an agenda card is what a person sees."""
    _open_next_meeting(page, live_app)
    page.get_by_role("link", name="Bygg dagordningen").click()
    card = page.locator("#agenda-builder .agenda-item").first
    style = card.evaluate(
        "e => { const s = getComputedStyle(e); return [s.display, s.borderTopStyle, s.listStyleType,"
        " s.backgroundColor]; }"
    )
    assert style == ["flex", "solid", "none", "rgb(255, 255, 255)"]
    list_style = page.locator("#agenda-builder .agenda-list").first.evaluate(
        "e => getComputedStyle(e).listStyleType"
    )
    assert list_style == "none"
