"""The web layer: one blueprint per feature."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from samrad.web import account, admin, auth, health, join, pages

    for module in (pages, auth, account, join, admin, health):
        app.register_blueprint(module.bp)
