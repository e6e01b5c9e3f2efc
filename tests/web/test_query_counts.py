"""No N+1 (issue K 4): the SQL statements of each key page do not grow with the data.

Two national datasets of different size, built by the same generator: one county over one year with 4
cases waiting for the next meeting, and three counties over four years with 18 waiting. The published
agenda shown is the held meeting with the fewest items in the small one and the most in the large one; the
case officer has a year's cases or four. The next meeting's agenda is published in both, as the start
page and the builder then compare it with the published version. Each page is asked as the person who
uses it, once to warm up and once counted; the counts must be equal in both, and stay under a ceiling
that says what a page costs today.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from samrad import db, migrate
from samrad.demo import national
from samrad.models import AgendaItem, Case, Consultation, Meeting, User, utcnow
from samrad.services import agenda, feeds, statistics
from tests.conftest import csrf_from, make_app

SLUG = national.county_slug(1)

#: Page → (who asks, path template, most statements allowed: today's count, so a new statement is a
#: decision made in this file).
PAGES = {
    "agenda builder": ("coordinator", "/c/{slug}/meetings/{next}/agenda/edit", 16),
    "case queue": ("coordinator", "/c/{slug}/cases/queue", 9),
    "meetings index": ("coordinator", "/c/{slug}/meetings", 8),
    "start page, coordinator": ("coordinator", "/", 16),
    "start page, case officer": ("officer", "/", 9),
    "start page, member": ("member", "/", 5),
    "start page, statistics viewer": ("statistics", "/", 19),
    "case list": ("officer", "/cases", 7),
    "new-case form": ("officer", "/c/{slug}/cases/new?acute=no", 8),
    "published agenda": ("member", "/c/{slug}/meetings/{held}/agenda", 9),
    "meeting page": ("member", "/c/{slug}/meetings/{next}", 6),
    "calendar feed": ("anonymous", "/feed/{feed}.ics", 4),
    "statistics, latest period": ("statistics", "/stats/?consultation={slug}", 19),
    "statistics, all years": ("statistics", "/stats/?consultation={slug}&period=all", 9),
}
ACCOUNTS = {
    "coordinator": "samordnare",
    "officer": "handlaggare0",
    "member": "ledamot0",
    "statistics": "statistik",
}


class Counted:
    """A dataset served by the app, with clients logged in per role and a statement counter."""

    def __init__(self, tmp_path, counties: int, years: int, queue: int, most_items: bool):
        self.app = make_app(f"sqlite:///{tmp_path}/national.db", tmp_path)
        self.statements: list[str] = []
        now = utcnow()
        with self.app.app_context():
            migrate.upgrade(db.get_engine())
            with db.session_scope() as s:
                national.seed_national(s, counties=counties, years=years, queue=queue, now=now)
                consultation_id = s.scalar(select(Consultation.id).where(Consultation.slug == SLUG))
                upcoming = select(Meeting.public_id).where(Meeting.consultation_id == consultation_id)
                member = s.scalar(select(User).where(User.email == _email("ledamot0")))
                self.ids = {
                    "slug": SLUG,
                    "next": s.scalar(upcoming.where(Meeting.starts_at > now).order_by(Meeting.starts_at)),
                    "held": s.scalar(
                        upcoming.join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
                        .where(Meeting.starts_at < now)
                        .group_by(Meeting.id)
                        .order_by(
                            func.count(AgendaItem.id).desc() if most_items else func.count(AgendaItem.id)
                        )
                    ),
                    "feed": feeds.create_feed(s, member, now=now),
                }
                # The next meeting's agenda published once, so the pages that compare it with the
                # published version (start page, builder) read every item's case as they would.
                coordinator = s.scalar(select(User).where(User.email == _email("samordnare")))
                next_meeting = s.scalar(select(Meeting).where(Meeting.public_id == self.ids["next"]))
                agenda.publish(
                    s,
                    next_meeting,
                    actor=coordinator,
                    revision=next_meeting.agenda_revision,
                    confirmed=True,
                    now=now,
                    link="https://samrad.test/agenda",
                )
                # One of its cases brought by the case officer's agency in both datasets, so that the
                # officer's start page asks what it asks for a case on a coming agenda, whatever today's
                # date made of the generated data.
                officer = s.scalar(select(User).where(User.email == _email("handlaggare0")))
                on_agenda = s.scalar(
                    select(Case)
                    .join(AgendaItem, AgendaItem.case_id == Case.id)
                    .where(AgendaItem.meeting_id == next_meeting.id)
                    .order_by(Case.id)
                )
                on_agenda.organisation_id = officer.memberships[0].organisation_id
            event.listen(db.get_engine(), "before_cursor_execute", self._count)
        self.clients = {"anonymous": self.app.test_client()}
        for role, local in ACCOUNTS.items():
            client = self.app.test_client()
            page = client.get("/login").get_data(as_text=True)
            response = client.post(
                "/login",
                data={"email": _email(local), "password": national.PASSWORD, "csrf_token": csrf_from(page)},
            )
            assert response.status_code == 303, role
            self.clients[role] = client

    def _count(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def statements_of(self, page: str) -> int:
        role, template, _ = PAGES[page]
        path = template.format(**self.ids)
        client = self.clients[role]
        assert client.get(path).status_code == 200, path  # warm: the login's session touch, caches
        # Statistics kept from the warm-up would be read in one statement: count what counting costs
        # (the cache's own cost is tests/unit/test_statistics_cache.py's).
        statistics.clear_cache()
        self.statements.clear()
        assert client.get(path).status_code == 200, path
        return len(self.statements)


def _email(local: str) -> str:
    return f"{local}.lan01@{national.DOMAIN}"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return Counted(tmp_path_factory.mktemp("small"), counties=1, years=1, queue=4, most_items=False)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return Counted(tmp_path_factory.mktemp("large"), counties=3, years=4, queue=18, most_items=True)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_statements_of_a_page_do_not_grow_with_the_data(small, large, page):
    few, many = small.statements_of(page), large.statements_of(page)
    assert many == few, f"{page}: {few} statements with one county-year, {many} with twelve"
    assert few <= PAGES[page][2], f"{page}: {few} statements"


def test_the_large_dataset_has_more_of_what_the_pages_show(small, large):
    """The comparison means something only if the pages show more rows in the large dataset."""

    def officer_cases(counted: Counted) -> int:
        with counted.app.app_context(), db.session_scope() as s:
            officer = s.scalar(select(User.id).where(User.email == _email("handlaggare0")))
            return s.scalar(select(func.count()).select_from(Case).where(Case.officer_id == officer))

    assert officer_cases(large) >= 3 * officer_cases(small) > 0
