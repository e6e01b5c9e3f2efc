"""Alembic environment: the engine comes from samrad (passed in, or built from the app config)."""

from alembic import context
from sqlmodel import SQLModel

import samrad.models  # noqa: F401  (registers every table)

config = context.config
target_metadata = SQLModel.metadata


def _engine():
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    from samrad import create_app
    from samrad.db import get_engine

    app = create_app()
    with app.app_context():
        return get_engine()


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
