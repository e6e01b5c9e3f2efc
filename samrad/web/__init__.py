"""The web layer: one blueprint per feature."""

from flask import Flask
from werkzeug.routing import IntegerConverter

#: The largest id a route accepts: the databases' INTEGER. A larger number finds no route (404) instead of
#: overflowing the query (a 500 on SQLite and PostgreSQL alike).
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in every route, bound once here rather than route by route."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntegerConverter
    from samrad.web import (
        account,
        admin,
        agenda,
        audit,
        auth,
        cases,
        evaluations,
        guard,
        health,
        join,
        meetings,
        pages,
        start,
        stats,
    )

    for module in (
        pages,
        start,
        auth,
        account,
        join,
        admin,
        audit,
        meetings,
        cases,
        agenda,
        evaluations,
        stats,
        health,
    ):
        app.register_blueprint(module.bp)
    audit.init_app(app)
    guard.init_app(app)
    from samrad.web import forms

    forms.init_app(app)
    from samrad.web.access import Action, may

    # Templates ask the same permission layer as the views (e.g. whether to show the video link).
    app.jinja_env.globals.update(may=may, Action=Action)
