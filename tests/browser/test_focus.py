"""Every htmx swap that takes away the control that had keyboard focus puts focus on what changed, and the
live region says what happened (issue L 3; static/js/app.js). The start page, the queue, the acute
question and the agenda builder have their own tests (test_start_pages.py, test_agenda.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from samrad import db, demo
from samrad.models import EvaluationComment
from samrad.models.evaluation import Evaluation, EvaluationStatus
from tests.browser.conftest import COORDINATOR, SLUG, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings(
        "ignore:Passing SelectField choices as tuples is deprecated:DeprecationWarning"
    ),
]

OFFICER = f"handlaggare.lulea@{demo.DOMAIN}"


def _focused_html(page: Page) -> str:
    return page.evaluate("document.activeElement.outerHTML.slice(0, 200)")


def test_answering_on_the_meeting_page_focuses_the_confirmation(page: Page):
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/meetings")
    page.locator("main table a").first.click()
    page.locator("#rsvp input[name=answer][value=via_link]").check()
    page.locator("#rsvp button[type=submit]").focus()
    page.keyboard.press("Enter")
    message = page.locator("#rsvp [data-focus-here]")
    expect(message).to_have_text("Tack, ditt svar är sparat.")
    expect(message).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Tack, ditt svar är sparat.")


def test_withdrawing_in_my_cases_focuses_the_rows_message(page: Page):
    log_in(page, OFFICER)
    page.goto("/cases")
    row = page.locator(
        "#my-cases tbody tr", has=page.get_by_role("button", name=re.compile("^Dra tillbaka"))
    ).first
    row_id = row.get_attribute("id")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("^Dra tillbaka")).focus()
    page.keyboard.press("Enter")
    message = page.locator(f"#{row_id} [data-focus-here]")
    expect(message).to_be_focused()
    expect(page.locator("#announcer")).not_to_be_empty()
    assert message.inner_text() in page.locator("#announcer").inner_text()


def _pending_comment(app) -> None:
    """A free-text answer waiting for review on the demo's newest closed evaluation."""
    with app.app_context(), db.session_scope() as s:
        evaluation = s.exec(
            select(Evaluation)
            .where(Evaluation.status == EvaluationStatus.CLOSED)
            .order_by(Evaluation.id.desc())
        ).first()
        question = evaluation.questionnaire.questions[-1]
        s.add(EvaluationComment(evaluation_id=evaluation.id, question_id=question.id, text="Bra upplägg."))


def test_releasing_a_comment_focuses_what_replaced_it(page: Page, live_app):
    _pending_comment(live_app)
    log_in(page, COORDINATOR)
    page.goto(f"/c/{SLUG}/evaluations/comments")
    comment = page.locator("li.comment", has_text="Bra upplägg.")
    comment.get_by_role("button", name="Godkänn för rapporter").focus()
    page.keyboard.press("Enter")
    done = page.locator("li.comment[data-focus-here]")
    expect(done).to_contain_text("Godkänd")
    expect(done).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text("Godkänd")


def test_the_statistics_filter_focuses_the_new_results(page: Page):
    log_in(page, COORDINATOR)
    page.goto(f"/stats/?consultation={SLUG}")
    page.locator("input[name=period][value=all]").check()
    page.locator("form.stats-filter button[type=submit]").focus()
    page.keyboard.press("Enter")
    heading = page.locator("#stats-heading")
    expect(heading).to_have_text(re.compile(r", alla år"))
    expect(heading).to_be_focused(), _focused_html(page)
