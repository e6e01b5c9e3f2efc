"""The bare Flask app the load benchmark compares samrad with: the stack's own limit on this machine.

Flask, SQLModel and Jinja as samrad uses them, nothing else: ``/hello`` (text), ``/db`` (one SQL query,
a 100-row template) and ``/update`` (an htmx-style edit: UPDATE one row, SELECT, render a fragment).
Served by the same gunicorn settings as samrad. The database is ``BASELINE_DATABASE_URL`` (a table of
its own, created and filled at start).
"""

from __future__ import annotations

import os
import random

from flask import Flask, request
from sqlalchemy import text
from sqlmodel import Field, Session, SQLModel, create_engine, select

ROWS = 10_000


class Item(SQLModel, table=True):
    __tablename__ = "baseline_item"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    value: int = 0


PAGE = """<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Baslinje</title></head><body>
<main><h1>Rader</h1><table><thead><tr><th>Id</th><th>Namn</th><th>Värde</th></tr></thead><tbody>
{% for item in items %}<tr><td>{{ item.id }}</td><td>{{ item.name }}</td><td>{{ item.value }}</td></tr>
{% endfor %}</tbody></table></main></body></html>"""
FRAGMENT = (
    '<tr id="item-{{ item.id }}"><td>{{ item.id }}</td><td>{{ item.name }}</td><td>{{ item.value }}</td></tr>'
)


def _engine(url: str):
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    return create_engine(url, pool_pre_ping=True)


def prepare_database(url: str) -> None:
    """Make the table and its rows (SQLite in WAL mode). The benchmark calls this once before the workers
    start: two workers doing it at once on a new SQLite file could find it locked and fail to boot."""
    engine = _engine(url)
    if url.startswith("sqlite"):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    Item.__table__.create(engine, checkfirst=True)
    with Session(engine) as s:
        if s.exec(select(Item).limit(1)).first() is None:
            s.add_all(Item(name=f"Rad {n}", value=n) for n in range(ROWS))
            s.commit()
    engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["BASELINE_DATABASE_URL"]
    prepare_database(url)  # already done when the benchmark started the workers
    engine = _engine(url)

    page_template = app.jinja_env.from_string(PAGE)
    fragment_template = app.jinja_env.from_string(FRAGMENT)

    @app.get("/hello")
    def hello():
        return "Hej"

    @app.get("/db")
    def page():
        start = random.randrange(ROWS - 100)
        with Session(engine) as s:
            items = s.exec(select(Item).where(Item.id > start).order_by(Item.id).limit(100)).all()
        return page_template.render(items=items)

    @app.post("/update")
    def update():
        item_id = int(request.form.get("id", random.randrange(1, ROWS)))
        with Session(engine) as s:
            s.execute(text("UPDATE baseline_item SET value = value + 1 WHERE id = :id"), {"id": item_id})
            s.commit()
            item = s.get(Item, item_id)
            return fragment_template.render(item=item)

    return app
