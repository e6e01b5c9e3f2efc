"""The web layer: one blueprint per feature."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
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
        stats,
    )

    for module in (
        pages,
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
    from samrad.web.access import Action, may

    # Templates ask the same permission layer as the views (e.g. whether to show the video link).
    app.jinja_env.globals.update(may=may, Action=Action)
