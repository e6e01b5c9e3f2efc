"""samrad: a regional multi-agency case consultation (regionalt samråd)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from samrad.config import ConfigError, load_config
from samrad.resources import instance_path, resource_dir

__all__ = ["ConfigError", "create_app", "instance_path", "resource_dir"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web application. Only wires things up: no migrations, no scheduler, no network."""
    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        instance_path=str(instance_path()),
        instance_relative_config=True,
    )
    load_config(app, test_config)
    logging.getLogger("samrad").setLevel(app.config["LOG_LEVEL"])
    from samrad.logs import install_redaction

    install_redaction()

    from samrad import db, i18n
    from samrad.extensions import csrf, login_manager
    from samrad.services import audit  # noqa: F401  (its session listeners record every audited change)
    from samrad.web import register_blueprints, security

    db.init_app(app)
    i18n.init_app(app)
    # Headers first: CSRFProtect aborts in before_request and after_request handlers must not depend on
    # anything a skipped before_request would have set up.
    security.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    register_blueprints(app)

    from samrad.cli import register_commands

    register_commands(app)
    return app
