"""`samrad backup` and `samrad restore`: a round trip that compares every table, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session, SQLModel, select

from samrad import backup, demo
from samrad.db import get_engine
from samrad.models import Case, User
from tests.conftest import make_app, schema_app


def _everything(engine) -> dict:
    """Every row of every table, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(table.select().order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def backed_app(any_db_app, tmp_path):
    """PostgreSQL as the suite runs it; SQLite as a file (the suite's SQLite is in memory)."""
    if any_db_app.config["DATABASE_URL"].startswith("sqlite"):
        return schema_app(f"sqlite:///{tmp_path}/samrad.db", tmp_path)
    return any_db_app


def test_a_backup_restores_every_row_of_every_table(backed_app, tmp_path):
    with backed_app.app_context():
        engine = get_engine()
        with Session(engine) as s:
            demo.seed_demo(s, seed=5, password="ett-langt-demo-losenord-1")
            s.commit()
        before = _everything(engine)
        assert sum(len(rows) for rows in before.values()) > 500
        target = tmp_path / "samrad.backup"
        backup.backup(engine, target)
        assert target.stat().st_size > 10_000
        # Everything changes after the backup: a case deleted, a user renamed, the outbox emptied.
        with Session(engine) as s:
            case = s.exec(select(Case).order_by(Case.id)).first()
            for entry in [*case.categories, *case.exposers]:
                s.delete(entry)
            s.flush()
            s.execute(Case.__table__.update().where(Case.id == case.id).values(background="ändrad"))
            user = s.exec(select(User).order_by(User.id)).first()
            user.name = "Någon annan"
            s.commit()
        assert _everything(engine) != before
        backup.restore(engine, target)
        assert _everything(engine) == before


def test_the_commands_round_trip_and_refuse_a_file_that_is_no_backup(tmp_path):
    runner = make_app(f"sqlite:///{tmp_path}/samrad.db", tmp_path).test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    target = tmp_path / "kopia.db"
    made = runner.invoke(args=["backup", str(target)])
    assert made.exit_code == 0 and f"Backup written to {target}" in made.output
    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0 and f"Restored from {target}." in restored.output
    missing = runner.invoke(args=["restore", str(tmp_path / "finns-inte.db"), "--yes"])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    junk = tmp_path / "skrap.db"
    junk.write_text("inte en databas")
    refused = runner.invoke(args=["restore", str(junk), "--yes"])
    assert refused.exit_code == 1 and "is not a SQLite backup" in refused.output
    asked = runner.invoke(args=["restore", str(target)], input="n\n")
    assert asked.exit_code == 1 and "Aborted" in asked.output
