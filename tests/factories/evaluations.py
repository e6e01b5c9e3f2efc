"""Evaluations whose tokens the test can see (the app never keeps them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from samrad import keys
from samrad.sealing import Sealer
from samrad.services import evaluations

MEETING_AT = datetime(2027, 3, 8, 12, 0, tzinfo=UTC)  # Monday 13:00 in Stockholm
OPENED_AT = MEETING_AT + timedelta(hours=2)
ANSWERS_ALL_FULLY = {n: "agree_fully" for n in range(1, 7)}


def open_with_tokens(session, meeting, *, now=OPENED_AT, open_for=timedelta(days=7)):
    """Open the evaluation and return it with {recipient: token}, read from the queued links."""
    links: list[str] = []

    def link_for(token: str) -> str:
        links.append(token)
        return f"https://samrad.test/evaluation/{token}"

    evaluation = evaluations.open_evaluation(session, meeting, now=now, open_for=open_for, link_for=link_for)
    recipients = [email for email, _ in evaluations.attendee_addresses(session, meeting)]
    return evaluation, dict(zip(recipients, links, strict=True))


#: The answer pool's sealer in service tests (the app's own is keyed from its SECRET_KEY).
SEALER = Sealer(["a secret for sealing answers in tests"], keys.ANSWERS)
submit_answers = partial(evaluations.submit_answers, sealer=SEALER)
find_token = partial(evaluations.find_token, sealer=SEALER)
close_evaluation = partial(evaluations.close_evaluation, sealer=SEALER)
close_due_evaluations = partial(evaluations.close_due_evaluations, sealer=SEALER)
count_pool = partial(evaluations.count_pool, sealer=SEALER)
