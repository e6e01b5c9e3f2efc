"""Schema migrations with Alembic, run from code (``samrad init-db``, ``make run``, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from samrad.resources import resource_dir

MIGRATIONS = resource_dir("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    # No alembic.ini: it is for developers' `alembic revision` in a checkout, and a wheel has none.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)
