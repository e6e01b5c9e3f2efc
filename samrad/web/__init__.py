"""The web layer: one blueprint per feature."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from samrad.web import account, admin, auth, evaluations, join, pages

    for module in (pages, auth, account, join, admin, evaluations):
        app.register_blueprint(module.bp)
