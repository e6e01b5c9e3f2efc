"""The web layer: one blueprint per feature."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from samrad.web import account, admin, agenda, auth, cases, join, meetings, pages

    for module in (pages, auth, account, join, admin, meetings, cases, agenda):
        app.register_blueprint(module.bp)
