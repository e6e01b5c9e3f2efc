import fcntl
import os
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, func, select

from samrad import db, migrate
from samrad.enums import AuditKind, AuditVerb
from samrad.models import Membership, Organisation, User, utcnow
from samrad.services import audit
from tests.conftest import make_app
from tests.factories import make_organisation, make_user


def test_datetimes_are_stored_in_utc_and_read_back_aware(session):
    stockholm_summer = timezone(timedelta(hours=2))
    user = make_user(session, password=None)
    user.created_at = datetime(2027, 6, 1, 13, 0, tzinfo=stockholm_summer)
    session.commit()
    session.expire_all()
    loaded = session.get(User, user.id)
    assert loaded.created_at == datetime(2027, 6, 1, 11, 0, tzinfo=UTC)
    assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session):
    user = make_user(session, password=None)
    user.created_at = datetime(2027, 6, 1, 13, 0)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_foreign_keys_are_enforced(session):
    session.add(Membership(user_id=999_999, organisation_id=999_999))
    with pytest.raises(IntegrityError):
        session.flush()


def test_unique_email_is_enforced(session):
    make_user(session, email="a@kommun.example", password=None)
    session.add(User(email="a@kommun.example", name="Dubblett"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_sqlite_connection_uses_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path}/lock.db")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as first:
        first.exec(text("SELECT 1"))  # BEGIN IMMEDIATE: this transaction now holds the write lock
        other = engine.raw_connection()
        try:
            other.execute("PRAGMA busy_timeout=0")
            with pytest.raises(Exception, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def _turn_is_taken(database) -> bool:
    """Whether a writer holds the turn of ``database`` (looked at from outside, like another process)."""
    fd = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_sqlite_writers_take_turns_and_readers_do_not(tmp_path):
    """A write transaction holds the writers' turn from BEGIN to COMMIT or ROLLBACK (so a waiting worker
    gets SQLite's write lock as soon as it is free, not after busy_timeout's sleeps); a reading one never
    takes it."""
    database = tmp_path / "turns.db"
    database.touch(mode=0o640)
    engine = db.make_engine(f"sqlite:///{database}")
    SQLModel.metadata.create_all(engine)
    assert not _turn_is_taken(database)
    # Whoever may write the database may queue: the lock file has the database's permissions.
    assert (tmp_path / "turns.db-writer.lock").stat().st_mode & 0o777 == database.stat().st_mode & 0o777
    with Session(engine) as writer:
        make_organisation(writer, name="Skrivande")
        assert _turn_is_taken(database)
        writer.commit()
        assert not _turn_is_taken(database)
        make_organisation(writer, name="Ångrad")
        assert _turn_is_taken(database)
        writer.rollback()
        assert not _turn_is_taken(database)
    reading = engine.execution_options(**{db.READ_ONLY: True})
    with Session(reading) as reader:
        assert reader.exec(select(func.count()).select_from(Organisation)).one() == 1
        assert not _turn_is_taken(database)
    engine.dispose()


def test_a_sqlite_writer_takes_its_turn_before_it_asks_sqlite_for_the_write_lock(tmp_path, monkeypatch):
    """Waiting for the turn while holding SQLite's write lock would keep the other writer in busy_timeout's
    sleeps, which is what the turns are there to end."""
    database = tmp_path / "order.db"
    engine = db.make_engine(f"sqlite:///{database}")
    SQLModel.metadata.create_all(engine)
    steps = []
    event.listen(engine, "connect", lambda dbapi_conn, _r: dbapi_conn.set_trace_callback(steps.append))
    engine.dispose()
    real_flock = fcntl.flock
    monkeypatch.setattr(fcntl, "flock", lambda fd, op: steps.append(f"flock {op}") or real_flock(fd, op))
    with Session(engine) as writer:
        make_organisation(writer, name="I tur och ordning")
        writer.commit()
    wrote = [s for s in steps if s.startswith(("flock", "BEGIN", "COMMIT"))]
    one_transaction = [
        f"flock {fcntl.LOCK_EX | fcntl.LOCK_NB}",
        "BEGIN IMMEDIATE",
        f"flock {fcntl.LOCK_UN}",
        "COMMIT",
    ]
    # The change, then the statistics generation moved on: each in its turn.
    assert wrote == one_transaction * (len(wrote) // 4) and len(wrote) >= 4
    engine.dispose()


def test_a_sqlite_writer_that_never_gets_its_turn_fails_as_locked(tmp_path):
    """The wait for the turn is as long as busy_timeout, and ends in SQLite's own error, so the page
    answers 503 and a job retries as they did when SQLite itself made them wait."""
    database = tmp_path / "waits.db"
    first = db.make_engine(f"sqlite:///{database}")
    second = db.make_engine(f"sqlite:///{database}", busy_timeout_ms=100)
    SQLModel.metadata.create_all(first)
    with Session(first) as holder:
        make_organisation(holder, name="Håller turen")
        with Session(second) as waiter, pytest.raises(OperationalError) as refused:
            waiter.exec(text("SELECT 1"))
        assert db.unavailable_reason(refused.value) == "locked"
        holder.commit()
    with Session(second) as waiter:  # the turn is free again
        make_organisation(waiter, name="Fick turen")
        waiter.commit()
    first.dispose()
    second.dispose()


def _assert_migrations_match_models(engine):
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == []


def test_migrations_match_models_on_sqlite(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/m.db", tmp_path)
    with app.app_context():
        engine = db.get_engine()
        _assert_migrations_match_models(engine)
        assert set(inspect(engine).get_table_names()) >= {t.name for t in SQLModel.metadata.sorted_tables}
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}


@pytest.mark.postgres
def test_migrations_match_models_on_postgresql(postgres_url, tmp_path):
    base, _, _ = postgres_url.rpartition("/")
    admin = db.make_engine(base + "/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("DROP DATABASE IF EXISTS samrad_migrations"))
        conn.execute(text("CREATE DATABASE samrad_migrations"))
    admin.dispose()
    app = make_app(base + "/samrad_migrations", tmp_path)
    with app.app_context():
        engine = db.get_engine()
        _assert_migrations_match_models(engine)
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        engine.dispose()


def test_session_scope_rolls_back_on_error(any_db_app):
    with any_db_app.app_context():
        org_name = "Rollback-organisationen"
        with pytest.raises(RuntimeError):
            with db.session_scope() as s:
                make_organisation(s, name=org_name)
                raise RuntimeError("boom")
        with db.session_scope() as s:
            from samrad.services import directory

            assert org_name not in [o.name for o in directory.organisations(s)]


def test_a_reading_session_refuses_writes_and_runs_without_a_transaction_on_postgresql(shared_db_app):
    """A page that only reads (GET, HEAD, the answer rendered after a POST's commit) cannot write through
    its session: it would be half a change (PostgreSQL reads without a transaction there) or an
    upgrade of SQLite's read lock that can fail. Such writes go through ``db.write_after_response``."""
    postgresql = shared_db_app.config["DATABASE_URL"].startswith("postgresql")
    with shared_db_app.test_request_context("/", method="GET"):
        s = db.get_session()
        with pytest.raises(db.WriteWhileReading):
            make_organisation(s, name="Skrivs aldrig")
        s.rollback()
        with pytest.raises(db.WriteWhileReading):
            s.execute(update(Organisation).values(name="Skrivs aldrig"))
        with pytest.raises(db.WriteWhileReading):  # an audit row too (it is written as a row, not an object)
            audit.record(s, AuditVerb.VIEWED, AuditKind.AGENDA, 1, now=utcnow())
        assert s.exec(select(func.count()).select_from(Organisation)).one() == 0  # reading works
        if postgresql:
            assert s.connection().connection.dbapi_connection.autocommit is True
        db.write_after_response(lambda ws: make_organisation(ws, name="Efteråt"))
        db.run_writes_after_response()
    with shared_db_app.test_request_context("/", method="POST"):
        s = db.get_session()
        make_organisation(s, name="Ändringen")
        if postgresql:
            assert s.connection().connection.dbapi_connection.autocommit is False
        db.commit(then_read=True)
        with pytest.raises(db.WriteWhileReading):
            make_organisation(s, name="Efter svaret")
        s.rollback()
    with shared_db_app.app_context(), db.session_scope() as s:
        assert sorted(s.exec(select(Organisation.name))) == ["Efteråt", "Ändringen"]


def test_what_a_change_reads_first_ends_before_it_and_stays_read(shared_db_app):
    """``db.read_before_writing`` in a request that writes: the reads run in a transaction that only reads
    (PostgreSQL: none at all) and refuses writes; it ends at the block's end, what was read stays loaded
    (not expired, so not read again inside the change), and the change then writes as usual."""
    postgresql = shared_db_app.config["DATABASE_URL"].startswith("postgresql")
    with shared_db_app.app_context(), db.session_scope() as s:
        make_organisation(s, name="Före")
    with shared_db_app.test_request_context("/", method="POST"):
        s = db.get_session()
        with db.read_before_writing():
            organisation = s.exec(select(Organisation)).one()
            if postgresql:
                assert s.connection().connection.dbapi_connection.autocommit is True
            with pytest.raises(db.WriteWhileReading):
                s.execute(update(Organisation).values(name="Skrivs aldrig"))
        assert not s.in_transaction()
        statements: list[str] = []
        listen = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.get_engine(), "before_cursor_execute", listen)
        try:
            assert organisation.name == "Före"  # kept from the read, not read again
            organisation.name = "Efter"
            db.commit()
        finally:
            event.remove(db.get_engine(), "before_cursor_execute", listen)
        assert not any(st.lstrip().startswith("SELECT") for st in statements)
        if not postgresql:
            assert statements[0] == "BEGIN IMMEDIATE"
    with shared_db_app.app_context(), db.session_scope() as s:
        assert list(s.exec(select(Organisation.name))) == ["Efter"]
