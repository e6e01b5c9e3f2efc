"""The evaluation pages in a real browser: axe-core on every page, and the answer form by keyboard only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from samrad import db
from samrad.enums import Attendance, InviteeKind, MeetingStatus
from samrad.models import Invitee, Meeting, utcnow
from samrad.services import directory, evaluations
from tests.browser.conftest import COORDINATOR, SLUG, PageErrors, axe_check, log_in

pytestmark = pytest.mark.browser


def _open_evaluation(app, email: str) -> str:
    """A meeting held three hours ago with one attendee; its evaluation opened. Returns the token."""
    tokens: list[str] = []
    with app.app_context(), db.session_scope() as s:
        consultation = directory.consultation_by_slug(s, SLUG)
        starts_at = utcnow() - timedelta(hours=3)
        meeting = Meeting(
            consultation_id=consultation.id,
            starts_at=starts_at,
            place=consultation.place,
            case_deadline_at=starts_at - timedelta(days=7),
            status=MeetingStatus.CLOSED,
            from_series=False,
        )
        s.add(meeting)
        s.flush()
        s.add(
            Invitee(
                meeting_id=meeting.id, email=email, kind=InviteeKind.STANDING, attendance=Attendance.VIA_LINK
            )
        )
        s.flush()
        evaluations.open_evaluation(
            s,
            meeting,
            now=utcnow(),
            open_for=timedelta(days=7),
            link_for=lambda token: tokens.append(token) or token,
        )
    return tokens[0]


def test_evaluation_pages_are_accessible(page: Page):
    log_in(page, COORDINATOR)
    index = f"/c/{SLUG}/evaluations"
    for path in (
        index,
        f"/c/{SLUG}/evaluations/report?first=2019-11-01&last=2020-02-29",
        f"/c/{SLUG}/evaluations/comments",
        f"/c/{SLUG}/evaluations/questionnaire",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator("h1")).to_have_count(1)
        axe_check(page)
    page.goto(index)
    page.get_by_role("link", name=re.compile(r"^9 svar")).click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Utvärdering av mötet 20 jan. 2020$"))
    axe_check(page)


def test_the_trend_chart_is_announced_with_its_title_and_description(page: Page):
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/evaluations/report?first=2019-11-01&last=2020-02-29")
    chart = page.get_by_role("img", name="1. Alla fick komma till tals under mötet. – svar per möte")
    expect(chart).to_have_count(1)
    expect(chart).to_have_accessible_description(re.compile(r"^Staplar, en per möte"))


def test_the_answer_form_works_by_keyboard_and_is_accessible(page: Page, live_app, page_errors: PageErrors):
    token = _open_evaluation(live_app, "tangentbord@kommun.example")
    page.goto(f"/evaluation/{token}")
    expect(page).to_have_url(re.compile(r"/evaluations/answer/[0-9a-f]{32}$"))
    assert token not in page.url
    axe_check(page)
    # Sending nothing: the errors are listed and tied to their statements.
    answer_path = re.sub(r"^https?://[^/]+", "", page.url)
    page_errors.expect_status(answer_path, 400)
    page.get_by_role("button", name="Skicka mina svar").click()
    expect(page.locator(".error-summary li")).to_have_count(6)
    axe_check(page)
    # Now by keyboard only: Space picks the focused option, Tab moves to the next statement.
    page.locator("#q1-0").focus()
    for number in range(1, 7):
        expect(page.locator(f"#q{number}-0")).to_be_focused()
        page.keyboard.press("ArrowDown" if number == 5 else "Space")
        page.keyboard.press("Tab")
    page.keyboard.type("Tydlig agenda.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Skicka mina svar")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Tack för dina svar")
    axe_check(page)
    page_errors.expect_status(f"/evaluation/{token}", 409)
    page.goto(f"/evaluation/{token}")
    expect(page.locator("h1")).to_have_text("Du har redan svarat")
    axe_check(page)
