"""The web layer: one blueprint per feature."""

from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from werkzeug.routing import IntegerConverter

#: The largest id a route accepts: the databases' INTEGER. A larger number finds no route (404) instead of
#: overflowing the query (a 500 on SQLite and PostgreSQL alike).
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in every route, bound once here rather than route by route."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


#: The links every page carries (assets, menu, footer), by the name base.html uses: (endpoint, arguments).
SITE_LINKS: dict[str, tuple[str, dict[str, Any]]] = {
    "icon": ("static", {"filename": "favicon.svg"}),
    "stylesheet": ("static", {"filename": "css/app.css"}),
    "htmx": ("static", {"filename": "vendor/htmx-2.0.11.min.js"}),
    "script": ("static", {"filename": "js/app.js"}),
    "start": ("pages.index", {}),
    "my_cases": ("cases.mine", {}),
    "administration": ("admin.index", {}),
    "operations": ("health.index", {}),
    "account": ("account.index", {}),
    "logout": ("auth.logout", {}),
    "login": ("auth.login", {}),
    "join": ("join.request_form", {}),
    "language": ("pages.set_language", {}),
    "rules": ("pages.rules_index", {}),
    "privacy": ("pages.privacy", {}),
    "accessibility": ("pages.accessibility", {}),
}
_SITE_LINKS_KEY = "samrad.site_links"


def site_links() -> dict[str, str]:
    """:data:`SITE_LINKS` built with ``url_for``, once per script root: they are the same for every request
    under it, and building them on every page was a twentieth of a light page's work."""
    root = request.script_root if has_request_context() else None
    kept = current_app.extensions.setdefault(_SITE_LINKS_KEY, {})
    links = kept.get(root)
    if links is None:
        links = kept[root] = {
            name: url_for(endpoint, **args) for name, (endpoint, args) in SITE_LINKS.items()
        }
    return links


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
    app.jinja_env.globals.update(may=may, Action=Action, site_links=site_links)
