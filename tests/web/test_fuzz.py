"""Hostile input on every route (issue J.1): never a 5xx.

Generated, not written route by route: the routes are the access matrix's (every rule of the URL map has
a row there, enforced by ``test_every_route_has_a_row``), the field names are every field of every WTForms
form class in the app, and hypothesis draws the values — huge integers, control characters and NUL,
CR/LF, 100 000 characters, right-to-left marks, combining characters, emoji, dates from year 1 to 9999,
HTML and script, wrong types, missing and repeated fields — for path parameters, query strings and form
bodies, as an anonymous visitor, a case officer and a coordinator. POSTs carry a valid CSRF token, so
they reach the forms. Each POST starts from the same database. All of it on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import string

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

import samrad.web
from samrad.db import get_engine
from tests.access_world import build_world
from tests.conftest import csrf_from
from tests.processes import fresh_postgres_database
from tests.web.test_access_matrix import PATHS

ROLES = ("anonymous", "officer_owner", "coord_a")
EXAMPLES_PER_ROUTE = 4

HOSTILE = (
    "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "\r\nSet-Cookie: x=1",
    "x" * 100_000,
    "\u202egnp.exe",
    "e\u0301" * 40,
    "😀" * 20,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "0001-01-01",
    "9999-12-31",
    "1-1-1",
    "2027-02-30",
    "",
    " ",
    "true",
    "[]",
    "{}",
    "//evil.example",
    "/%09/evil.example",
)


def _form_fields() -> list[str]:
    """Every field name of every form class (and the numbered answer fields made at run time)."""
    for module in pkgutil.walk_packages(samrad.web.__path__, "samrad.web."):
        importlib.import_module(module.name)
    names: set[str] = set()
    stack = list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for klass in cls.__mro__:
            names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    names.update(f"q{n}" for n in range(1, 8))
    # Fields the agenda builder and other htmx controls read from the request without a form class.
    names.update(
        "action advice attendance confirm confirm_digest context discussed duration follow_up item kind "
        "locale move next revision target title".split()
    )
    names.update(f"questions-{i}-{f}" for i in range(3) for f in ("text", "kind"))
    return sorted(names)


FIELDS = _form_fields()
PLACEHOLDER = re.compile(r"\{(\w+)\}")

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates().map(lambda d: d.isoformat()),
)
#: Hostile values for path parameters (None keeps the world's real id).
path_values_list = [None, "99999999999999999999", "0", "2147483648", "-1", "abc", "%00", "..", "x" * 300]
#: Some fields, some of them twice.
bodies = st.lists(st.tuples(st.sampled_from(FIELDS), values), max_size=8)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """The matrix's world on SQLite, and on a PostgreSQL database of its own (where NUL characters,
    integer ranges and column lengths are enforced)."""
    postgres_url = None
    if request.param == "postgresql":
        postgres_url = fresh_postgres_database(request.getfixturevalue("postgres_url"), "samrad_fuzz")
    built = build_world(tmp_path_factory.mktemp("fuzz"), postgres_url)
    type(built).__repr__ = lambda self: "World(…)"  # hypothesis prints its arguments when a case fails
    yield built
    with built.app.app_context():
        get_engine().dispose()


def _path(template: str, ids: dict, replacements: list) -> str:
    names = PLACEHOLDER.findall(template)
    filled = dict(ids)
    for name, replacement in zip(names, replacements, strict=False):
        if replacement is not None:
            filled[name] = replacement
    return template.format(**filled)


def _send(world, role, method, path, query=(), body=(), with_token=True):
    if method == "POST":  # a GET changes nothing another request could trip over
        world.restore()
    return world.request(role, method, path, query=query, body=body, with_token=with_token)


def _check(response, *context):
    assert response.status_code < 500, (*context, response.status_code)
    if response.status_code in (400, 404) and response.mimetype == "text/html":
        page = response.get_data(as_text=True)
        assert 'lang="sv"' in page, context
        assert "<script>alert(1)</script>" not in page, context


CASES = [(key, role) for key in sorted(PATHS) for role in ROLES]


@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{k[0]}-{k[1]}-{r}" for k, r in CASES])
def test_hostile_path_values_on_every_route(world, key, role):
    """Every placeholder of every route, with every hostile path value (huge ids, text for numbers …)."""
    endpoint, method, _variant = key
    names = PLACEHOLDER.findall(PATHS[key])
    hostile = [v for v in path_values_list if v is not None]
    for position in range(len(names)):
        for value in hostile:
            replacements = [None] * len(names)
            replacements[position] = value
            path = _path(PATHS[key], world.ids, replacements)
            _check(_send(world, role, method, path), endpoint, method, role, path)


@pytest.mark.parametrize(("key", "role"), CASES, ids=[f"{k[0]}-{k[1]}-{r}" for k, r in CASES])
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=bodies, body=bodies, with_token=st.booleans())
def test_hostile_fields_on_every_route(world, key, role, query, body, with_token):
    """Any form field of the app, any number of times, with hostile values, in the query and the body."""
    endpoint, method, _variant = key
    path = _path(PATHS[key], world.ids, [])
    response = _send(world, role, method, path, query, body, with_token)
    _check(response, endpoint, method, role, path, query, body)


def test_the_fuzz_covers_every_route_and_form_field():
    assert len(PATHS) > 120
    assert {"year", "title", "video_url", "base_version", "email", "password", "background"} <= set(FIELDS)
    assert all(c in string.printable for c in "".join(FIELDS))


@pytest.mark.parametrize("path", ["/login", "/join"])
def test_a_nul_character_is_refused_on_both_databases(any_db_app, path):
    """NUL crashes PostgreSQL's text columns; every request carrying one gets the 400 page instead."""
    client = any_db_app.test_client()
    token = csrf_from(client.get(path).get_data(as_text=True))
    response = client.post(
        path, data={"email": "anna\x00@kommun.example", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "Något var fel i begäran" in response.get_data(as_text=True)
    assert client.get(path, query_string={"next": "/\x00"}).status_code == 400


@pytest.mark.parametrize(
    ("path_template", "data", "field"),
    [
        ("/c/{slug}/meetings/new", {"date": "9999-12-31", "time": "13:00", "place": "Luleå"}, "date"),
        (
            "/c/{slug}/breaks",
            {"label": "Jul", "first_day": "0001-01-01", "last_day": "2027-01-06"},
            "first_day",
        ),
        ("/c/{slug}/meetings/plan", {"until": "9999-12-31"}, "until"),
        (
            "/c/{slug}/breaks",
            {"label": "Sommar", "first_day": "2027-06-20", "last_day": "9999-01-01"},
            "last_day",
        ),
    ],
)
def test_dates_far_away_get_a_message_next_to_the_field(world, path_template, data, field):
    path = path_template.format(**world.ids)
    response = _send(world, "coord_a", "POST", path, body=data.items())
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:200]
    assert f'id="{field}-error"' in page
    assert "Planera högst två år framåt." in page or "Välj ett datum högst 2 år bakåt." in page
