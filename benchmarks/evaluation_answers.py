"""Answers per second accepted under concurrent submissions, on SQLite and PostgreSQL, with zero lost.

    .venv/bin/python benchmarks/evaluation_answers.py [--threads 8] [--answers 400] [--duplicates 40]

Two ways in, each on both databases (SQLite: a WAL file; PostgreSQL: a throw-away server started here):

- ``service``: threads call ``services.evaluations.submit_answers`` and commit, one session each;
- ``wsgi``: threads are browsers (one Flask test client each) following the e-mail link, loading the
  form and posting it: three requests per answer, CSRF, cookies and templates included.

Every answer carries all six statements and a free-text comment. ``--duplicates`` extra submissions
reuse tokens that are also submitted elsewhere, concurrently: they must all be refused. Afterwards the
benchmark checks that nothing was lost or counted twice: respondents == accepted answers == every
statement's counter total == used tokens == comments, and refused == duplicates. It exits non-zero
otherwise.
"""

from __future__ import annotations

import argparse
import queue
import random
import re
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, text  # noqa: E402
from sqlmodel import Session, SQLModel, select  # noqa: E402

from samrad import create_app, db  # noqa: E402
from samrad.enums import Attendance, InviteeKind, MeetingStatus, OrganisationType, Sector  # noqa: E402
from samrad.models import (  # noqa: E402
    Consultation,
    Evaluation,
    EvaluationComment,
    EvaluationCount,
    EvaluationToken,
    Invitee,
    Meeting,
    Organisation,
    utcnow,
)
from samrad.services import evaluations  # noqa: E402
from tests.pg_server import running_postgres  # noqa: E402

ANSWERS = {**{n: "agree_fully" for n in range(1, 7)}, 5: "agree_partly", 7: "Bra möte, tydlig agenda."}
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def make_app(url: str, workdir: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark-secret-key-0123456789",
            "DATABASE_URL": url,
            "MAIL_FILE_DIR": str(workdir / "mail"),
            "PUBLIC_URL": "https://samrad.test",
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        engine = db.get_engine()
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
    return app


def open_evaluation(app, attendees: int) -> tuple[int, list[str]]:
    """A held meeting with ``attendees`` present, its evaluation opened; returns its id and the tokens."""
    tokens: list[str] = []
    with app.app_context(), db.session_scope() as s:
        host = Organisation(
            name="Freda",
            type=OrganisationType.CENTRE_AGAINST_VIOLENCE,
            sector=Sector.PUBLIC_AUTHORITY,
            county="Norrbottens län",
        )
        s.add(host)
        s.flush()
        consultation = Consultation(
            slug="bench",
            name="Benchmark",
            county="Norrbottens län",
            host_organisation_id=host.id,
            place="Luleå",
        )
        s.add(consultation)
        s.flush()
        starts_at = utcnow() - timedelta(hours=3)
        meeting = Meeting(
            consultation_id=consultation.id,
            starts_at=starts_at,
            place="Luleå",
            case_deadline_at=starts_at - timedelta(days=7),
            status=MeetingStatus.CLOSED,
        )
        s.add(meeting)
        s.flush()
        for i in range(attendees):
            s.add(
                Invitee(
                    meeting_id=meeting.id,
                    email=f"deltagare{i}@kommun.example",
                    kind=InviteeKind.STANDING,
                    attendance=Attendance.ON_SITE,
                )
            )
        s.flush()
        evaluation = evaluations.open_evaluation(
            s,
            meeting,
            now=utcnow(),
            open_for=timedelta(days=7),
            link_for=lambda token: tokens.append(token) or f"https://samrad.test/evaluation/{token}",
        )
        # The benchmark measures answering; the invitation mails are not delivered.
        s.execute(text("DELETE FROM outboxmessage"))
        evaluation_id = evaluation.id
    return evaluation_id, tokens


def submit_via_service(app, evaluation_id: int, token: str) -> bool:
    engine = app.extensions["samrad.engine"]
    with Session(engine, expire_on_commit=False) as s:
        evaluation = s.get(Evaluation, evaluation_id)
        try:
            evaluations.submit_answers(s, evaluation, token, ANSWERS, now=utcnow())
        except evaluations.TokenUsed:
            s.rollback()
            return False
        s.commit()
        return True


def submit_via_wsgi(client, token: str) -> bool:
    landing = client.get(f"/evaluation/{token}")
    if landing.status_code != 303:
        return False
    path = landing.headers["Location"]
    page = client.get(path)
    if page.status_code != 200:
        return False
    data = {f"q{n}": v for n, v in ANSWERS.items()}
    data["csrf_token"] = CSRF.search(page.get_data(as_text=True)).group(1)
    response = client.post(path, data=data)
    if response.status_code == 303:
        return True
    assert response.status_code == 409, (response.status_code, response.get_data(as_text=True)[:500])
    return False


def run(app, mode: str, evaluation_id: int, tokens: list[str], threads: int, duplicates: int) -> dict:
    work: queue.Queue[str] = queue.Queue()
    submissions = tokens + random.Random(7).sample(tokens, duplicates)
    random.Random(11).shuffle(submissions)
    for token in submissions:
        work.put(token)
    accepted = refused = 0
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker():
        nonlocal accepted, refused
        client = app.test_client() if mode == "wsgi" else None
        start.wait()
        while True:
            try:
                token = work.get_nowait()
            except queue.Empty:
                return
            if mode == "wsgi":
                # A fresh browser per answer: a duplicate must not ride on the first one's cookie.
                client = app.test_client()
                ok = submit_via_wsgi(client, token)
            else:
                ok = submit_via_service(app, evaluation_id, token)
            with lock:
                if ok:
                    accepted += 1
                else:
                    refused += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"accepted": accepted, "refused": refused, "seconds": elapsed, "submissions": len(submissions)}


def verify(app, evaluation_id: int, result: dict, tokens: list[str], duplicates: int) -> list[str]:
    problems = []
    with app.app_context(), db.session_scope() as s:
        evaluation = s.get(Evaluation, evaluation_id)
        totals = s.exec(
            select(EvaluationCount.question_id, func.sum(EvaluationCount.n))
            .where(EvaluationCount.evaluation_id == evaluation_id)
            .group_by(EvaluationCount.question_id)
        ).all()
        used = s.exec(
            select(func.count()).select_from(EvaluationToken).where(EvaluationToken.used.is_(True))
        ).one()
        comments = s.exec(select(func.count()).select_from(EvaluationComment)).one()
        expected = len(tokens)
        checks = {
            "accepted": result["accepted"],
            "respondents": evaluation.respondents,
            "used tokens": used,
            "comments": comments,
            **{f"counter total q{i}": int(n) for i, (_, n) in enumerate(sorted(totals), start=1)},
        }
        for name, value in checks.items():
            if value != expected:
                problems.append(f"{name} = {value}, expected {expected}")
        if result["refused"] != duplicates:
            problems.append(f"refused = {result['refused']}, expected {duplicates}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--answers", type=int, default=400, help="distinct tokens (people) per run")
    parser.add_argument("--duplicates", type=int, default=40, help="extra submissions reusing a token")
    parser.add_argument("--modes", default="service,wsgi")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()

    rows, failures = [], []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="samrad-bench-")))
        urls = {}
        for name in args.databases.split(","):
            urls[name] = (
                f"sqlite:///{workdir}/bench.db"
                if name == "sqlite"
                else stack.enter_context(running_postgres("bench"))
            )
        for database, url in urls.items():
            for mode in args.modes.split(","):
                app = make_app(url, workdir)
                evaluation_id, tokens = open_evaluation(app, args.answers)
                result = run(app, mode, evaluation_id, tokens, args.threads, args.duplicates)
                problems = verify(app, evaluation_id, result, tokens, args.duplicates)
                with app.app_context():
                    db.get_engine().dispose()
                rate = result["accepted"] / result["seconds"]
                rows.append(
                    (
                        database,
                        mode,
                        args.threads,
                        result["submissions"],
                        result["accepted"],
                        result["refused"],
                        result["seconds"],
                        rate,
                        "0" if not problems else "LOST",
                    )
                )
                failures += [f"{database}/{mode}: {p}" for p in problems]

    print(
        f"{'database':<11}{'way in':<9}{'threads':>8}{'posted':>8}{'accepted':>9}{'refused':>8}"
        f"{'seconds':>9}{'answers/s':>11}{'lost':>6}"
    )
    for database, mode, threads, posted, accepted, refused, seconds, rate, lost in rows:
        print(
            f"{database:<11}{mode:<9}{threads:>8}{posted:>8}{accepted:>9}{refused:>8}{seconds:>9.2f}"
            f"{rate:>11.1f}{lost:>6}"
        )
    for failure in failures:
        print("FAIL", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
