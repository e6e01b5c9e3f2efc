"""Under a real server (gunicorn, four sync workers) on SQLite and on PostgreSQL, many people sending at
once lose nothing (issue J 4): 200 concurrent case submissions and 500 concurrent evaluation answers.

Some of the posts repeat an earlier one at the same moment (a double click on the case form, the same
evaluation link opened in two places). Every accepted post is stored exactly once, every refused one got
an error page the client saw, and the counts add up. The rate limits stay on, with room for the test.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import select

from samrad import db, keys, migrate
from samrad.enums import CaseStatus
from samrad.models import Case, Evaluation, EvaluationSpent, Meeting, utcnow
from samrad.services import evaluations
from tests.conftest import free_port, make_app
from tests.factories import (
    PASSWORD,
    attend,
    make_consultation,
    make_held_meeting,
    make_municipality,
    make_organisation,
    make_user,
    open_with_tokens,
)
from tests.processes import ROOT, SECRET, fresh_postgres_database, samrad_env, wait_until
from tests.web_client import Browser, case_form

pytestmark = pytest.mark.server

WORKERS = 4
THREADS = 48
OFFICERS = 20
CASES, CASE_REPEATS = 200, 10
ANSWERS, ANSWER_REPEATS = 500, 20
SLUG = "una"
#: Room for the test's own traffic from one address; the limits themselves are counted as in production.
LIMITS = {
    "RATE_LIMIT_LOGIN": "1000 per minute",
    "RATE_LIMIT_LINKS": "5000 per minute",
    "RATE_LIMIT_LINKS_ALL": "5000 per minute",
    "RATE_LIMIT_EVALUATION": "5000 per minute",
    "RATE_LIMIT_EVALUATION_ALL": "5000 per minute",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    """The app with a consultation, 20 case officers and a held meeting with 480 attendees whose evaluation
    is open, under gunicorn. Yields (app, port, tokens)."""
    if request.param == "postgresql":
        url = fresh_postgres_database(request.getfixturevalue("postgres_url"), "samrad_server")
    else:
        url = f"sqlite:///{tmp_path}/server.db"
    app = make_app(url, tmp_path, SECRET_KEY=SECRET)
    with app.app_context():
        migrate.upgrade(db.get_engine())
        with db.session_scope() as s:
            consultation = make_consultation(s, slug=SLUG, name="Una Norrbotten")
            municipality = make_municipality(s, name="Kiruna")
            organisation = make_organisation(s, name="Socialtjänsten Kiruna")
            for n in range(OFFICERS):
                make_user(
                    s,
                    email=f"handlaggare{n}@kiruna.example",
                    organisation=organisation,
                    roles=["case_officer"],
                    consultation=consultation,
                )
            make_user(s, email="samordnare@region.example", roles=["coordinator"], consultation=consultation)
            held = make_held_meeting(s, consultation, starts_at=utcnow() - timedelta(hours=3))
            for n in range(ANSWERS - ANSWER_REPEATS):
                attend(s, held, email=f"deltagare{n}@kommun.example")
            s.flush()
            _, issued = open_with_tokens(s, s.get(Meeting, held.id), now=utcnow())
            municipality_id = municipality.id
        db.get_engine().dispose()
    instance = tmp_path / "instance"
    instance.mkdir()
    env = samrad_env(instance, url, **LIMITS)
    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--timeout", "300", "--backlog", "512"]
        + ["--bind", f"127.0.0.1:{port}", "samrad:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_until(lambda: _answers(port), "gunicorn to answer", timeout=60)
    try:
        yield app, port, sorted(issued.values()), municipality_id
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
        with app.app_context():
            db.get_engine().dispose()


def _answers(port: int) -> bool:
    try:
        return Browser(port).get("/login")[0] == 200
    except OSError:
        return False


def test_200_concurrent_case_submissions_are_each_stored_exactly_once(server):
    app, port, _, municipality_id = server
    officers = []
    for n in range(OFFICERS):
        officers.append(Browser(port).login(f"handlaggare{n}@kiruna.example", PASSWORD))
    # (officer, submission key): 190 forms, and 10 of them sent a second time at the same moment.
    posts = [(n % OFFICERS, f"key-{n:04d}-" + "x" * 20) for n in range(CASES - CASE_REPEATS)]
    for n in range(CASE_REPEATS):
        posts.insert(2 * n + 1, posts[2 * n])

    def submit(post: tuple[int, str]) -> tuple[str, int, str, str]:
        officer, key = post
        browser = officers[officer].copy()
        _, _, page = browser.get(f"/c/{SLUG}/cases/new?acute=no")
        status, headers, body = browser.post_form(
            f"/c/{SLUG}/cases/new", page, case_form(municipality_id, key)
        )
        return key, status, headers.get("Location", ""), body

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(submit, posts))

    accepted = [(key, location) for key, status, location, _ in results if status == 303]
    refused = [(status, body) for _, status, _, body in results if status != 303]
    assert len(accepted) + len(refused) == CASES
    # A refusal is a page the person sees (never a dropped connection, never a 5xx with nothing said).
    assert all(status in (400, 409, 429, 503) and "<h1" in body for status, body in refused)
    with app.app_context(), db.session_scope() as s:
        stored = s.exec(select(Case.submission_key, Case.id, Case.status)).all()
    stored_keys = [key for key, _, _ in stored]
    assert len(stored_keys) == len(set(stored_keys))  # nothing stored twice
    assert set(stored_keys) == {key for key, _ in accepted}  # every accepted one stored, nothing else
    # The repeated posts were answered with the same case as the first.
    by_key: dict[str, set[str]] = {}
    for key, location in accepted:
        by_key.setdefault(key, set()).add(location)
    assert all(len(locations) == 1 for locations in by_key.values())
    assert {status for _, _, status in stored} == {CaseStatus.SUBMITTED}
    # On this machine nothing had to be refused: all 190 forms stored, both posts of each repeat answered.
    assert (len(accepted), len(refused), len(stored)) == (CASES, 0, CASES - CASE_REPEATS)


def test_500_concurrent_evaluation_answers_count_each_link_once(server):
    app, port, tokens, _ = server
    # 480 links, and 20 of them opened and sent from a second place at the same moment.
    links = list(tokens)
    for n in range(ANSWER_REPEATS):
        links.insert(2 * n + 1, tokens[n])
    assert len(links) == ANSWERS

    def answer(token: str) -> tuple[str, int, str]:
        browser = Browser(port)
        status, headers, body = browser.get(f"/evaluation/{token}")
        if status != 303:
            return token, status, body
        location = headers["Location"]
        status, _, page = browser.get(location)
        if status != 200:  # the other place has sent its answers in between
            return token, status, page
        status, _, body = browser.post_form(location, page, {f"q{n}": "agree_fully" for n in range(1, 7)})
        return token, status, body

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(answer, links))

    accepted = [token for token, status, _ in results if status == 303]
    refused = [(status, body) for _, status, body in results if status != 303]
    assert len(accepted) + len(refused) == ANSWERS
    assert all(status in (400, 409, 429, 503) and "<h1" in body for status, body in refused)
    assert len(accepted) == len(set(accepted))  # no link counted twice
    with app.app_context(), db.session_scope() as s:
        evaluation = s.exec(select(Evaluation)).one()
        evaluations.count_pool(s, evaluation, sealer=keys.sealer(keys.ANSWERS), min_batch=None)
        spent = len(s.exec(select(EvaluationSpent)).all())
        respondents = evaluation.respondents
    assert respondents == spent == len(accepted)
    # Every link answered once; each repeat was told it has been answered (409), or, when the other place
    # sent its answers between opening the link and the form, to open the link again (400).
    assert (len(accepted), len(refused)) == (ANSWERS - ANSWER_REPEATS, ANSWER_REPEATS)
    assert {status for status, _ in refused} <= {400, 409}
