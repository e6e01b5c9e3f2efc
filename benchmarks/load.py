"""Load benchmark of samrad's key pages next to a bare Flask app, under gunicorn (issue K 2).

    .venv/bin/python benchmarks/load.py [--database sqlite|postgresql|both] [--rounds 3] [--seconds 5]
                                        [--connections 8] [--workers 2] [--counties 21] [--years 10]

Seeds the national dataset (``samrad demo --national``) into a fresh database, starts samrad and the
baseline app (``benchmarks/baseline/app.py``: ``/hello``, ``/db`` = one query rendered as a 100-row
template, ``/update`` = UPDATE + SELECT + fragment) under gunicorn with the same settings on free loopback
ports, logs in as the roles each page needs, and runs bounded load on every page in turn: ``--connections``
client threads for ``--seconds``, ``--rounds`` times, the baseline measured in every round. It prints per
page requests per second, p50 and p99, and the ratio to the baseline's ``/db`` of the same round
(medians over the rounds, so noise is visible as their spread), and the largest RSS of a worker. Results
go to ``benchmarks/results/`` as JSON and Markdown with the machine, versions and dataset size.

The machine is shared and noisy: compare ratios, not absolute numbers. The client runs on the same
cores as the servers, for samrad and the baseline alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select, text  # noqa: E402

from benchmarks.baseline.app import prepare_database  # noqa: E402
from samrad import create_app, db, migrate  # noqa: E402
from samrad.demo import national  # noqa: E402
from samrad.enums import Attendance, InviteeKind, Rsvp  # noqa: E402
from samrad.models import AgendaItem, Consultation, Evaluation, Invitee, Meeting, User, utcnow  # noqa: E402
from samrad.services import evaluations, feeds  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.web_client import CSRF, Browser, case_form  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
REVISION = re.compile(r'name="revision" value="(\d+)"')
SECRET = "load-benchmark-secret-0123456789abcdef"
#: Respondents each client thread has ready for the evaluation POST, per round (link and form fetched).
READY = 300


def evaluation_links(*, rounds: int, connections: int) -> int:
    """Answer links for every respondent of the run: per round and client thread, the evaluation form's
    one and the POST's ready ones (each link is answered once), and some to spare. A fixed number ran
    out in a run of five rounds."""
    return rounds * connections * (READY + 1) + 100


# --- Pages -----------------------------------------------------------------------------------------------


@dataclass
class Page:
    """One page under load: ``prepare`` runs once per client thread, ``hit`` once per request (it returns
    the status of the timed request; anything untimed it does first is not counted)."""

    name: str
    app: str  # "samrad" or "baseline"
    hit: object  # (state) -> (status, seconds)
    prepare: object = None  # (thread number) -> state


def timed(browser: Browser, method: str, path: str, data=None, headers=None):
    started = time.perf_counter()
    status, response_headers, text = browser.request(method, path, data, headers)
    return status, time.perf_counter() - started, response_headers, text


def get_page(name: str, browser_for, path: str) -> Page:
    return Page(name, "samrad", lambda b: timed(b, "GET", path)[:2], lambda n: browser_for(n))


# --- Running ---------------------------------------------------------------------------------------------


def run_load(page: Page, *, connections: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    states = [page.prepare(n) if page.prepare else None for n in range(connections)]
    deadline = time.perf_counter() + seconds

    def worker(state):
        mine, codes = [], {}
        while time.perf_counter() < deadline:
            status, elapsed = page.hit(state)
            mine.append(elapsed)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(state,)) for state in states]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        if latencies
        else None,
        "statuses": statuses,
    }


def start_gunicorn(target: str, port: int, env: dict, workers: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:samrad.gunicorn_conf", "--workers", str(workers)]
        + ["--worker-class", "sync"]
        + ["--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", target],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            Browser(port).request("GET", "/hello" if "baseline" in target else "/login")
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{target} did not start; see {log}")


def worker_rss_mb(master: subprocess.Popen) -> float:
    """The largest resident set of the master's worker processes, in MB."""
    largest = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master.pid}$", status, re.M):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            largest = max(largest, int(rss.group(1)) if rss else 0)
    return largest / 1024


# --- The dataset -----------------------------------------------------------------------------------------


def seed(url: str, instance: Path, *, counties: int, years: int, links: int) -> dict:
    """The national dataset, an open evaluation with many links, a calendar feed; returns what the pages
    need (slugs, meetings, tokens)."""
    os.environ["SAMRAD_INSTANCE_PATH"] = str(instance)
    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url, "MAIL_FILE_DIR": str(instance / "mail")})
    now = utcnow()
    started = time.perf_counter()
    with app.app_context():
        migrate.upgrade(db.get_engine())
        with db.session_scope(deliver_mail=False) as s:
            counts = national.seed_national(s, counties=counties, years=years, now=now)
        seeded = time.perf_counter() - started
        with db.session_scope(deliver_mail=False) as s:
            slugs = [national.county_slug(n) for n in range(1, counties + 1)]
            next_meetings = {}
            for slug in slugs:
                cid = s.scalar(select(Consultation.id).where(Consultation.slug == slug))
                next_meetings[slug] = s.scalar(
                    select(Meeting.public_id)
                    .where(Meeting.consultation_id == cid, Meeting.starts_at > now)
                    .order_by(Meeting.starts_at)
                )
            cid = s.scalar(select(Consultation.id).where(Consultation.slug == slugs[0]))
            held = s.scalar(
                select(Meeting)
                .where(Meeting.consultation_id == cid, Meeting.starts_at < now)
                .order_by(Meeting.starts_at.desc())
            )
            # The latest held meeting gets many attendees, so the evaluation has a link per POST.
            s.execute(
                Invitee.__table__.insert(),
                [
                    {"meeting_id": held.id, "email": f"deltagare{n}@nationell.samrad.example"}
                    | {"kind": InviteeKind.STANDING, "rsvp": Rsvp.ON_SITE, "attendance": Attendance.ON_SITE}
                    for n in range(links)
                ],
            )
            s.execute(delete(Evaluation).where(Evaluation.meeting_id == held.id))  # opened anew below
            tokens: list[str] = []
            evaluations.open_evaluation(
                s, held, now=now, open_for=timedelta(days=7), link_for=lambda t: tokens.append(t) or t
            )
            member = s.scalar(select(User).where(User.email == f"ledamot0.lan01@{national.DOMAIN}"))
            feed = feeds.create_feed(s, member, now=now)
            published = s.scalar(
                select(Meeting.public_id)
                .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
                .where(Meeting.consultation_id == cid, Meeting.starts_at < now - timedelta(days=8))
                .group_by(Meeting.id)
                .order_by(func.count(AgendaItem.id).desc(), Meeting.starts_at.desc())
            )
        if db.get_engine().dialect.name == "postgresql":
            # A national installation has run for years and autovacuum has long gathered its statistics;
            # right after a bulk load it has not, and it would vacuum and analyze the new tables in the
            # middle of the measurement (a page measured then ran at a third of its rate). pgbench does
            # the same before it measures.
            with db.get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        db.get_engine().dispose()
    return {
        "counts": counts.__dict__,
        "seed_seconds": round(seeded, 1),
        "slugs": slugs,
        "next": next_meetings,
        "published": published,
        "feed": feed,
        "evaluation_tokens": tokens,
    }


# --- The pages -------------------------------------------------------------------------------------------


def pages(port: int, base_port: int, data: dict, connections: int) -> list[Page]:
    slug = data["slugs"][0]
    email = lambda local, n=1: f"{local}.lan{n:02d}@{national.DOMAIN}"  # noqa: E731
    login = lambda local, n=1: Browser(port).login(email(local, n), national.PASSWORD)  # noqa: E731
    coordinator, officer = login("samordnare"), login("handlaggare0")
    member, statistics_viewer = login("ledamot0"), login("statistik")
    same = lambda b: lambda _n: b.copy()  # noqa: E731

    # The reorder: each client thread edits the next meeting of a county of its own (no conflicts).
    def reorder_prepare(n: int):
        county = n % len(data["slugs"]) + 1
        browser = login("samordnare", county)
        path = f"/c/{data['slugs'][county - 1]}/meetings/{data['next'][data['slugs'][county - 1]]}/agenda"
        _, _, page = browser.request("GET", path + "/edit")
        items = re.findall(r'name="move" value="down:(\d+)"', page)
        return {"browser": browser, "path": path + "/order", "page": page, "item": items[0], "down": True}

    def reorder_hit(state):
        page = state["page"]
        data_ = {
            "csrf_token": CSRF.search(page).group(1),
            "revision": REVISION.search(page).group(1),
            "move": f"{'down' if state['down'] else 'up'}:{state['item']}",
        }
        state["down"] = not state["down"]  # back and forth: the item never reaches an end
        status, elapsed, _, text = timed(
            state["browser"], "POST", state["path"], data_, {"HX-Request": "true"}
        )
        if status == 200:
            state["page"] = text
        return status, elapsed

    # New cases go to the second county, so the first county's pages measure the same data every round.
    new_case = f"/c/{data['slugs'][1]}/cases/new"
    submitter = login("handlaggare0", 2)
    counter = iter(range(10**9))

    def new_case_prepare(_n):
        browser = submitter.copy()
        _, _, page = browser.request("GET", new_case + "?acute=no")
        return {"browser": browser, "token": CSRF.search(page).group(1)}

    def new_case_hit(state):
        key = f"load-{next(counter)}-" + "x" * 16
        form = case_form(national.MUNICIPALITIES_PER_COUNTY + 1, key)  # the second county's first
        return timed(state["browser"], "POST", new_case, {**form, "csrf_token": state["token"]})[:2]

    links = data["links"]  # one iterator for the whole run: a link is answered once
    answers = {f"q{n}": "agree_fully" for n in range(1, 7)}

    # A respondent exchanges their link for a session and gets the form, then answers once. Those steps
    # happen before the timed window (they are not the page measured, and counting only the timed request
    # while the server also served them understated the rate), so each thread has respondents ready.
    def respondent():
        browser = Browser(port)
        _, headers, _ = browser.request("GET", f"/evaluation/{next(links)}")
        _, _, page = browser.request("GET", headers["Location"])
        return browser, headers["Location"], CSRF.search(page).group(1)

    def evaluation_form(state):
        browser, location, _ = state
        return timed(browser, "GET", location)[:2]

    def evaluation_post(ready):
        browser, location, token = ready.pop() if ready else respondent()
        return timed(browser, "POST", location, {**answers, "csrf_token": token})[:2]

    baseline = Browser(base_port)
    return [
        Page("/hello", "baseline", lambda b: timed(b, "GET", "/hello")[:2], lambda _n: baseline),
        Page("/db", "baseline", lambda b: timed(b, "GET", "/db")[:2], lambda _n: baseline),
        Page(
            "/update (fragment)",
            "baseline",
            lambda b: timed(b, "POST", "/update", {})[:2],
            lambda _n: baseline,
        ),
        get_page("agenda builder", same(coordinator), f"/c/{slug}/meetings/{data['next'][slug]}/agenda/edit"),
        Page("agenda reorder (htmx POST)", "samrad", reorder_hit, reorder_prepare),
        get_page("case queue", same(coordinator), f"/c/{slug}/cases/queue"),
        get_page("case list", same(officer), "/cases"),
        get_page("new-case form", same(officer), f"/c/{slug}/cases/new?acute=no"),
        Page("new-case POST", "samrad", new_case_hit, new_case_prepare),
        get_page("meetings index", same(coordinator), f"/c/{slug}/meetings"),
        get_page("published agenda", same(member), f"/c/{slug}/meetings/{data['published']}/agenda"),
        get_page("statistics, ten years", same(statistics_viewer), f"/stats/?consultation={slug}&period=all"),
        get_page("calendar feed (.ics)", lambda _n: Browser(port), f"/feed/{data['feed']}.ics"),
        Page("evaluation form", "samrad", evaluation_form, lambda _n: respondent()),
        Page("evaluation POST", "samrad", evaluation_post, lambda _n: [respondent() for _ in range(READY)]),
        get_page("login page (logged in)", same(member), "/login"),
        get_page("start page, coordinator", same(coordinator), "/"),
        get_page("start page, case officer", same(officer), "/"),
        get_page("start page, standing member", same(member), "/"),
        get_page("start page, statistics viewer", same(statistics_viewer), "/"),
    ]


def benchmark(database: str, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"samrad-load-{database}-"))
    instance = work / "instance"
    instance.mkdir()
    stack = []
    if database == "postgresql":
        from tests.pg_server import running_postgres

        pg = running_postgres("samrad_load")
        url = pg.__enter__()
        stack.append(pg)
        base_url = url.rsplit("/", 1)[0] + "/samrad_load"
    else:
        url, base_url = f"sqlite:///{work}/samrad.db", f"sqlite:///{work}/baseline.db"
    print(f"[{database}] seeding {args.counties} counties × {args.years} years …", flush=True)
    data = seed(
        url,
        instance,
        counties=args.counties,
        years=args.years,
        links=evaluation_links(rounds=args.rounds, connections=args.connections),
    )
    print(f"[{database}] seeded in {data['seed_seconds']} s: {data['counts']}", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMRAD_")}
    env.update(
        SAMRAD_INSTANCE_PATH=str(instance),
        SAMRAD_SECRET_KEY=SECRET,
        SAMRAD_DATABASE_URL=url,
        SAMRAD_MAIL_FILE_DIR=str(instance / "mail"),
        SAMRAD_RATE_LIMIT_ENABLED="false",  # the load comes from one address by design
        SAMRAD_LOG_LEVEL="WARNING",
        BASELINE_DATABASE_URL=base_url,
    )
    data["links"] = iter(data["evaluation_tokens"])
    prepare_database(base_url)
    port, base_port = free_port(), free_port()
    app = start_gunicorn("samrad:create_app()", port, env, args.workers, work / "samrad.log")
    baseline = start_gunicorn(
        "benchmarks.baseline.app:create_app()", base_port, env, args.workers, work / "base.log"
    )
    try:
        rounds = []
        for number in range(1, args.rounds + 1):
            result = {}
            for page in pages(port, base_port, data, args.connections):
                if page.app != "baseline" and args.only and not re.search(args.only, page.name):
                    continue
                result[page.name] = run_load(page, connections=args.connections, seconds=args.seconds)
                bad = {s: n for s, n in result[page.name]["statuses"].items() if s >= 400}
                print(
                    f"[{database}] round {number} {page.name:28} {result[page.name]['rps']:8.1f} req/s"
                    + (f"  errors {bad}" if bad else ""),
                    flush=True,
                )
            for page_result in result.values():
                page_result["ratio_to_db"] = page_result["rps"] / result["/db"]["rps"]
            rounds.append(result)
        rss = {"samrad": worker_rss_mb(app), "baseline": worker_rss_mb(baseline)}
    finally:
        for process in (app, baseline):
            process.terminate()
            process.wait(timeout=60)
        for pg in stack:
            pg.__exit__(None, None, None)
    summary = {}
    for name in rounds[0]:
        per_round = [r[name] for r in rounds]
        summary[name] = {
            "rps": statistics.median(r["rps"] for r in per_round),
            "rps_rounds": [round(r["rps"], 1) for r in per_round],
            "ratio_to_db": statistics.median(r["ratio_to_db"] for r in per_round),
            "p50_ms": statistics.median(r["p50_ms"] for r in per_round),
            "p99_ms": statistics.median(r["p99_ms"] for r in per_round),
            "errors": sum(n for r in per_round for s, n in r["statuses"].items() if s >= 400),
        }
    return {
        "database": database,
        "dataset": data["counts"],
        "seed_seconds": data["seed_seconds"],
        "rss_mb": rss,
        "pages": summary,
    }


def machine() -> dict:
    versions = {
        name: metadata.version(name) for name in ("flask", "sqlalchemy", "sqlmodel", "gunicorn", "jinja2")
    }
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def markdown(report: dict) -> str:
    lines = [f"# Load benchmark, {report['machine']['when']}", ""]
    m = report["machine"]
    lines.append(
        f"{m['cpus']} CPUs, Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f"; gunicorn {report['settings']['workers']} sync workers, {report['settings']['connections']} "
        f"connections, {report['settings']['rounds']} rounds × {report['settings']['seconds']} s (medians)."
    )
    for run in report["runs"]:
        d = run["dataset"]
        lines += [
            "",
            f"## {run['database']}",
            "",
            f"Dataset: {d['counties']} counties, {d['meetings']} meetings, {d['cases']} cases, "
            f"{d['invitees']} invitees, {d['evaluations']} evaluations (seeded in {run['seed_seconds']} s). "
            f"Largest worker RSS: samrad {run['rss_mb']['samrad']:.0f} MB, "
            f"baseline {run['rss_mb']['baseline']:.0f} MB.",
            "",
            "| Page | req/s | ÷ `/db` | p50 ms | p99 ms | rounds (req/s) | errors |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        for name, p in run["pages"].items():
            lines.append(
                f"| {name} | {p['rps']:.1f} | {p['ratio_to_db']:.3f} | {p['p50_ms']:.1f} | {p['p99_ms']:.1f} "
                f"| {', '.join(str(r) for r in p['rps_rounds'])} | {p['errors']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--counties", type=int, default=21)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument(
        "--only",
        default="",
        help="a regular expression: measure only the samrad pages it matches (a partial run)",
    )
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    report = {
        "machine": machine(),
        "settings": {
            k: getattr(args, k) for k in ("rounds", "seconds", "connections", "workers", "counties", "years")
        },
        "runs": [benchmark(database, args) for database in databases],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M") + ("-partial" if args.only else "")
    (RESULTS / f"load-{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    text = markdown(report)
    (RESULTS / f"load-{stamp}.md").write_text(text)
    if not args.only:  # a partial run does not replace the table README shows
        (RESULTS / "load-latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
