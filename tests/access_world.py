"""Two consultations that share an organisation, people in every kind of role, and one request per route
and role on a fresh copy of that database: the world of the route × role access matrix."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlmodel import Session, SQLModel
from werkzeug.datastructures import MultiDict

from samrad.db import get_engine
from samrad.enums import CaseStatus, JoinRequestStatus, OrganisationType, OutboxStatus, Role
from samrad.models import JoinRequest, OutboxMessage, StandingSeat, utcnow
from samrad.services import agenda
from tests.conftest import Auth, schema_app
from tests.factories import (
    PASSWORD,
    make_case,
    make_consultation,
    make_invitee,
    make_meeting,
    make_municipality,
    make_organisation,
    make_user,
)

#: Words that appear only in the text of the cases: a page that may not show a case must not contain them.
CASE_MARKER = "Blåbärsskogen"
DRAFT_MARKER = "Lingonriset"
OTHER_MARKER = "Hjortronmyren"

#: Every kind of person the matrix asks as (column order of the table).
ROLES = (
    "anonymous",
    "admin",
    "coord_a",
    "coord_b",
    "member_authority",
    "member_civil",
    "member_same_org",
    "officer_owner",
    "officer_other",
    "owner_elsewhere",
    "presenter",
    "stats",
    "applicant",
)


@dataclass
class World:
    app: object
    db_path: Path | None  # None on PostgreSQL
    #: SQLite: a copy of the database file; PostgreSQL: every table's rows.
    snapshot: Path | dict[str, list[dict]]
    clients: dict
    tokens: dict
    ids: dict
    cookies: dict

    def restore(self) -> None:
        """Put the database back as it was before any request of the matrix."""
        if isinstance(self.snapshot, dict):
            self._restore_rows(self.snapshot)
            return
        with self.app.app_context():
            get_engine().dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        src, dst = sqlite3.connect(self.snapshot), sqlite3.connect(self.db_path)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()

    def _restore_rows(self, rows: dict[str, list[dict]]) -> None:
        tables = SQLModel.metadata.sorted_tables
        with self.app.app_context(), get_engine().begin() as conn:
            # DELETE, not TRUNCATE: on a few rows it is many times faster (no new files, lighter locks).
            for table in reversed(tables):
                conn.execute(table.delete())
            for table in tables:
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])

    def request(self, role: str, method: str, path: str, *, query=(), body=(), with_token: bool = True):
        """The role's request; ``query`` and ``body`` are (name, value) pairs added to the path's own
        query and to the CSRF token (which ``with_token=False`` leaves out)."""
        client = self.clients[role]
        # A request may log out or change the language: every cell starts from the cookies after login.
        client._cookies.clear()
        for key, value, domain, cookie_path in self.cookies[role]:
            client.set_cookie(key, value, domain=domain, path=cookie_path)
        path, _, own_query = path.partition("?")
        query_string = MultiDict(parse_qsl(own_query, keep_blank_values=True) + list(query))
        if method == "GET":
            return client.get(path, query_string=query_string)
        data = MultiDict(list(body))
        if with_token:
            data.add("csrf_token", self.tokens[role])
        return client.post(path, query_string=query_string, data=data)


def _arrange(s: Session) -> dict:
    now = utcnow()
    norr, vbn = "Norrbottens län", "Västerbottens län"
    host_a = make_organisation(s, name="Freda", type=OrganisationType.CENTRE_AGAINST_VIOLENCE)
    host_b = make_organisation(
        s, name="Kvinnofridscentrum Umeå", county=vbn, type=OrganisationType.CENTRE_AGAINST_VIOLENCE
    )
    a = make_consultation(s, slug="una", name="Una Norrbotten", host=host_a, county=norr)
    b = make_consultation(s, slug="vbn", name="Västerbottens samråd", host=host_b, county=vbn)
    owner = make_organisation(s, name="Socialtjänsten, Luleå kommun")
    boden = make_organisation(s, name="Socialtjänsten, Boden kommun")
    police = make_organisation(s, name="Polisen Nord", type=OrganisationType.POLICE)
    shelter = make_organisation(s, name="Kvinnojouren Luleå", type=OrganisationType.WOMENS_SHELTER)
    only_b = make_organisation(s, name="Socialtjänsten, Umeå kommun", county=vbn)
    # The owning organisation works in both consultations (a standing seat in B).
    s.add(StandingSeat(consultation_id=b.id, organisation_id=owner.id))
    s.add(StandingSeat(consultation_id=a.id, organisation_id=police.id))
    s.add(StandingSeat(consultation_id=a.id, organisation_id=shelter.id))

    def person(key, org=None, roles=(), consultation=None, **kw):
        return make_user(
            s,
            email=f"{key.replace('_', '-')}@test.example",
            name=key.replace("_", " ").title(),
            organisation=org,
            roles=roles,
            consultation=consultation,
            **kw,
        )

    people = {
        "admin": person("admin", is_admin=True),
        "coord_a": person("coord_a", host_a, ["coordinator"], a),
        "coord_b": person("coord_b", host_b, ["coordinator"], b),
        "member_authority": person("member_authority", police, ["member"], a),
        "member_civil": person("member_civil", shelter, ["member"], a),
        "member_same_org": person("member_same_org", owner, ["member"], a),
        "officer_owner": person("officer_owner", owner, ["case_officer"], a),
        "officer_other": person("officer_other", boden, ["case_officer"], a),
        "owner_elsewhere": person("owner_elsewhere", owner, ["case_officer"], b),
        "presenter": person("presenter"),
        "stats": person("stats", None, [Role.STATISTICS_VIEWER.value], a),
        "applicant": person("applicant", owner),
    }
    meeting = make_meeting(
        s, a, starts_at=now + timedelta(days=10), video_url="https://video.example/rum-una-hemlig"
    )
    meeting_b = make_meeting(
        s, b, starts_at=now + timedelta(days=10), video_url="https://video.example/rum-vbn"
    )
    case = make_case(
        s,
        a,
        owner,
        officer=people["officer_owner"],
        status=CaseStatus.ACCEPTED,
        meeting_id=meeting.id,
        questions=f"Hur går vi vidare i {CASE_MARKER}?",
        background=f"Flickan bor nära {CASE_MARKER}.",
    )
    draft = make_case(
        s,
        a,
        owner,
        officer=people["officer_owner"],
        status=CaseStatus.DRAFT,
        questions=f"Utkast om {DRAFT_MARKER}",
        background=f"Mer om {DRAFT_MARKER}",
    )
    case_b = make_case(
        s,
        b,
        owner,
        officer=people["owner_elsewhere"],
        status=CaseStatus.SUBMITTED,
        questions=f"Frågan om {OTHER_MARKER}",
        background=f"Bakgrund om {OTHER_MARKER}",
    )
    item = agenda.add_case(s, meeting, case, revision=meeting.agenda_revision, now=now)
    invitees = {
        key: make_invitee(s, meeting, people[key], confidentiality_confirmed_at=now)
        for key in ("coord_a", "member_authority", "member_civil", "member_same_org")
    }
    municipality = make_municipality(s, name="Luleå")
    # A colleague presents the case: publishing invites them for its slot only.
    case.presenter_email = people["presenter"].email
    agenda.publish(
        s,
        meeting,
        actor=people["coord_a"],
        revision=meeting.agenda_revision,
        confirmed=True,
        now=now,
        link="https://samrad.test/agenda",
    )
    join = JoinRequest(
        consultation_id=a.id,
        name="Applicant",
        email="applicant@test.example",
        organisation_id=owner.id,
        role=Role.CASE_OFFICER,
        status=JoinRequestStatus.PENDING,
    )
    join_b = JoinRequest(
        consultation_id=b.id,
        name="Sökande",
        email="sokande@test.example",
        organisation_id=only_b.id,
        role=Role.CASE_OFFICER,
        status=JoinRequestStatus.PENDING,
    )
    s.add_all([join, join_b])
    s.add(
        OutboxMessage(
            recipient="fel@test.example",
            subject="s",
            body_text="b",
            message_id="<m@x>",
            status=OutboxStatus.FAILED,
            attempts=8,
        )
    )
    s.flush()
    return {
        "people": {k: (p.id, p.email) for k, p in people.items()},
        "slug": a.slug,
        "slug_b": b.slug,
        "consultation_id": a.id,
        "organisation_id": owner.id,
        "user_id": people["officer_owner"].id,
        "public_id": meeting.public_id,
        "public_id_b": meeting_b.public_id,
        "meeting_id": meeting.id,
        "case_id": case.id,
        "draft_id": draft.id,
        "case_b_id": case_b.id,
        "reference": case.reference,
        "reference_b": case_b.reference,
        "item_id": item.id,
        "invitee_id": invitees["member_authority"].id,
        "municipality_id": municipality.id,
        "request_id": join.id,
        "request_b_id": join_b.id,
        "message_id": 1,
    }


CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def build_world(tmp: Path, postgres_url: str | None = None) -> World:
    """The world on a SQLite file, or on ``postgres_url``."""
    db_path = None if postgres_url else tmp / "matrix.db"
    app = schema_app(postgres_url or f"sqlite:///{db_path}", tmp)
    with app.app_context():
        with Session(get_engine(), expire_on_commit=False) as s:
            ids = _arrange(s)
            s.commit()
    clients, tokens, cookies = {}, {}, {}
    for role in ROLES:
        client = app.test_client()
        auth = Auth(client)
        if role != "anonymous":
            response = auth.login(ids["people"][role][1], PASSWORD)
            assert response.status_code == 303, role
        page = client.get("/" if role != "anonymous" else "/login").get_data(as_text=True)
        tokens[role] = CSRF.search(page).group(1)
        clients[role] = client
        cookies[role] = [(c.key, c.value, c.domain, c.path) for c in client._cookies.values()]
    if postgres_url:
        with app.app_context(), get_engine().connect() as conn:
            rows = {
                t.name: [dict(r._mapping) for r in conn.execute(select(t))]
                for t in SQLModel.metadata.sorted_tables
            }
        return World(app, None, rows, clients, tokens, ids, cookies)
    snapshot = tmp / "matrix-snapshot.db"
    with app.app_context():
        get_engine().dispose()
    src, dst = sqlite3.connect(db_path), sqlite3.connect(snapshot)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return World(app, db_path, snapshot, clients, tokens, ids, cookies)
