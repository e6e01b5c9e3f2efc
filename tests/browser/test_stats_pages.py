"""The statistics pages in a real browser: accessibility, the htmx filter, errors next to the field, print."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from samrad.clock import STOCKHOLM
from samrad.models import utcnow
from tests.browser.conftest import COORDINATOR, SLUG, PageErrors, axe_check, log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", [f"/stats/?consultation={SLUG}", f"/stats/report?consultation={SLUG}"])
def test_statistics_pages_are_accessible_on_screen_and_in_print(page: Page, path: str):
    log_in(page, COORDINATOR)
    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_count(1)
    axe_check(page)
    page.emulate_media(media="print")
    expect(page.locator("form.stats-filter")).to_be_hidden()
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("table[data-table=summary]")).to_be_visible()


def test_the_filter_updates_the_results_with_htmx_and_keeps_the_address(page: Page):
    log_in(page, COORDINATOR)
    page.goto(f"/stats/?consultation={SLUG}")
    page.locator("input[name=period][value=term]").check()
    page.locator("select[name=term]").select_option("vt")
    page.locator("input[name=year]").fill("2027")
    page.locator("form.stats-filter button[type=submit]").click()
    expect(page.locator("#stats-heading")).to_have_text(re.compile(r"vårtermin 2027$"))
    expect(page).to_have_url(re.compile(r"period=term"))
    axe_check(page)


def test_a_year_out_of_range_is_explained_next_to_the_field(page: Page, page_errors: PageErrors):
    page_errors.expect_status("/stats/", 400)
    log_in(page, COORDINATOR)
    page.goto(f"/stats/?consultation={SLUG}&period=year&year=1899")
    expect(page.locator("#year-error")).to_have_text("Skriv ett år från 2000 till 2100.")
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("table[data-table=summary]")).to_have_count(0)
    axe_check(page)


def test_a_month_view_through_htmx_explains_where_the_breakdowns_are(page: Page):
    log_in(page, COORDINATOR)
    page.goto(f"/stats/?consultation={SLUG}")
    page.locator("input[name=period][value=month]").check()
    page.locator("form.stats-filter button[type=submit]").click()
    note = page.locator(".stats-results .stats-note", has_text="redovisas per år")
    expect(note).to_be_visible()
    expect(page.locator("table[data-table=category]")).to_have_count(0)
    # The link goes to the year, where the breakdowns are.
    note.get_by_role("link").click()
    expect(page.locator("table[data-table=category]")).to_have_count(1)
    axe_check(page)


def test_the_stylesheet_colours_every_chart(page: Page):
    """Chart colours come from classes in app.css: a stylesheet that does not reach them leaves black
    bars and blank legend swatches, which once happened while every other test passed."""
    log_in(page, COORDINATOR)
    # The year of two months ago: the default, this year, has no cases in its first days (the demo's
    # cases are of the half year behind).
    year = (utcnow() - timedelta(days=60)).astimezone(STOCKHOLM).year
    page.goto(f"/stats/?consultation={SLUG}&period=year&year={year}")
    fill = "e => getComputedStyle(e).fill"
    assert page.locator("svg.chart rect.chart-bar").first.evaluate(fill) == "rgb(11, 79, 108)"
    line = page.locator("svg.chart polyline.chart-line").first
    assert line.evaluate("e => [getComputedStyle(e).stroke, getComputedStyle(e).fill]") == [
        "rgb(11, 79, 108)",
        "none",
    ]
    page.goto(f"/c/{SLUG}/evaluations/report?first=2019-11-01&last=2020-02-29")
    series = [page.locator(f"svg.chart rect.chart-s{n}").first.evaluate(fill) for n in (1, 2, 3)]
    assert series == ["rgb(11, 79, 108)", "rgb(91, 155, 184)", "rgb(217, 162, 27)"]


def test_the_filter_shows_only_the_fields_of_the_chosen_period_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="sv-SE", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, COORDINATOR)
        page.goto(f"/stats/?consultation={SLUG}&period=year&year=2026")
        year, month, term = (
            page.locator(".filter-year"),
            page.locator(".filter-month"),
            page.locator(".filter-term"),
        )
        expect(year).to_be_visible()
        expect(month).to_be_hidden()
        expect(term).to_be_hidden()
        page.locator("input[name=period][value=month]").check()
        expect(month).to_be_visible()
        expect(term).to_be_hidden()
        page.locator("input[name=period][value=term]").check()
        expect(term).to_be_visible()
        expect(month).to_be_hidden()
        page.locator("input[name=period][value=all]").check()
        for hidden in (year, month, term):
            expect(hidden).to_be_hidden()
        # And the form still works as a plain GET.
        page.get_by_role("button", name="Visa statistik").click()
        expect(page).to_have_url(re.compile(r"period=all"))
        expect(page.locator("h2").first).to_be_visible()
    finally:
        context.close()
