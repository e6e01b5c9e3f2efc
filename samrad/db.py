"""The one place that creates the database engine and sessions.

Web requests get one lazily opened session on ``g`` and call :func:`commit` once; jobs and CLI commands
use :func:`session_scope`. Both deliver e-mails queued in the transaction only after it committed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event, inspect, update
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine, select

from samrad import outbox
from samrad.models import STATISTICS_IGNORED_COLUMNS, STATISTICS_INPUTS, StatisticsGeneration

ENGINE_KEY = "samrad.engine"
#: Execution option of a connection that only reads: on SQLite it begins DEFERRED (no write lock), so a
#: read made while the same thread's request transaction holds the write lock does not wait for it.
READ_ONLY = "samrad_read_only"


def make_engine(url: str, *, busy_timeout_ms: int = 30_000) -> Engine:
    """Create an engine with samrad's connection rules for SQLite or PostgreSQL.

    ``hide_parameters`` keeps bound values (case text, e-mail bodies) out of exception messages, and so
    out of logs and job error details.
    """
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True, **kwargs)
        in_file = "poolclass" not in kwargs
        _configure_sqlite(engine, busy_timeout_ms, Path(url.removeprefix("sqlite:///")) if in_file else None)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, database: Path | None) -> None:
    take_turn = _writers_take_turns(engine, database, busy_timeout_ms) if database else lambda _conn: None

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        # Let SQLAlchemy emit BEGIN itself so that the "begin" hook below decides its kind.
        dbapi_conn.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={int(busy_timeout_ms)}",
            "synchronous=NORMAL",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn):
        # A deferred BEGIN lets two processes read and then fail to upgrade to a write lock
        # ("database is locked"); taking the lock up front makes them queue on busy_timeout instead.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            take_turn(conn)
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _writers_take_turns(engine: Engine, database: Path, busy_timeout_ms: int) -> Callable:
    """Writers of one SQLite file take turns through a lock file (``<database>-writer.lock``) before
    ``BEGIN IMMEDIATE``, and give it back as their transaction ends.

    SQLite's own wait for the write lock (busy_timeout) sleeps 1, 2, 5, 10 … 100 ms between tries, and a
    worker that finishes a write and at once begins the next takes the lock again while the other one
    sleeps, up to a dozen times in a row: under load a POST's p99 was 317 ms against a median of 54. A
    waiter here looks every half millisecond, so it has the lock soon after it is free (p99 113 ms,
    docs/performance.md). The wait is as long as busy_timeout, then the error is SQLite's own ("database
    is locked": 503, or a job's retry). Pages that only read take no turn (their transactions are
    DEFERRED and WAL lets them read beside a writer)."""
    lock_file = database.with_name(database.name + "-writer.lock")
    held = "samrad_writer_lock"

    @event.listens_for(engine, "connect")
    def _open(_dbapi_conn, record):
        # A descriptor per connection: flock excludes open files, so two connections of one process
        # (a job's thread, a test) take turns like two processes. The file gets the database's permission
        # bits, as SQLite gives its -wal and -shm files, so that whoever may write the database may queue.
        mode = database.stat().st_mode & 0o777 if database.exists() else 0o600
        record.info[held] = [os.open(lock_file, os.O_RDWR | os.O_CREAT, mode), False]

    @event.listens_for(engine, "close")
    def _close(_dbapi_conn, record):
        fd, _ = record.info.pop(held, (None, False))
        if fd is not None:
            os.close(fd)

    def take_turn(conn) -> None:
        turn = conn.connection.info[held]
        deadline = time.monotonic() + busy_timeout_ms / 1000
        while True:
            try:
                fcntl.flock(turn[0], fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError(
                        "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
                    ) from None
                time.sleep(0.0005)
            else:
                turn[1] = True
                return

    def _give_back(info: dict) -> None:
        turn = info.get(held)
        if turn and turn[1]:
            fcntl.flock(turn[0], fcntl.LOCK_UN)
            turn[1] = False

    # "commit" and "rollback" come just before SQLite's own; a waiter's first look after that finds the
    # write lock free, or waits a moment in busy_timeout. Checkin is the net for a connection that ends
    # otherwise (invalidated, closed by the pool).
    event.listen(engine, "commit", lambda conn: _give_back(conn.connection.info))
    event.listen(engine, "rollback", lambda conn: _give_back(conn.connection.info))
    event.listen(engine, "checkin", lambda _dbapi_conn, record: _give_back(record.info))
    return take_turn


#: PostgreSQL error classes (SQLSTATE) that mean the database cannot take work now, not that the request
#: was wrong: https://www.postgresql.org/docs/current/errcodes-appendix.html
_POSTGRES_UNAVAILABLE = {
    "53100": "full",  # disk_full
    "53200": "full",  # out_of_memory
    "25006": "read-only",  # read_only_sql_transaction
    "55P03": "locked",  # lock_not_available
    "57P01": "unreachable",  # admin_shutdown
    "57P02": "unreachable",  # crash_shutdown
    "57P03": "unreachable",  # cannot_connect_now
    "08006": "unreachable",  # connection_failure
}
#: The first line SQLite gives for the same conditions.
_SQLITE_UNAVAILABLE = {
    "database is locked": "locked",
    "database table is locked": "locked",
    "database or disk is full": "full",
    "attempt to write a readonly database": "read-only",
    "unable to open database file": "unreachable",
    "disk I/O error": "unreachable",
}


def describe_error(exc: BaseException) -> str:
    """A short reason for the health page and logs: the class name, plus what the database said.

    Never ``str(exc)`` of arbitrary exceptions: messages may quote data. Engines are built with
    ``hide_parameters``. From PostgreSQL only the error class and the constraint name are kept (its
    messages can quote a value, e.g. "invalid input syntax … "abc""); from SQLite the first line
    (e.g. "database is locked", "UNIQUE constraint failed: outboxmessage.dedupe_key"), which names no data.
    """
    name = type(exc).__name__
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return name
    orig = exc.orig
    if type(orig).__module__.startswith("psycopg"):
        constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
        return f"{name}: {type(orig).__name__}" + (f" ({constraint})" if constraint else "")
    lines = str(orig).strip().splitlines()
    return f"{name}: {lines[0]}"[:300] if lines else name


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database cannot serve now — "unreachable", "locked", "full" or "read-only" — or None when
    ``exc`` is another error (a bug, a broken constraint), which stays a 500."""
    if isinstance(exc, PoolTimeout):
        return "locked"  # every connection of the pool is busy
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return None
    orig = exc.orig
    if type(orig).__module__.startswith("psycopg"):
        sqlstate = getattr(orig, "sqlstate", None)
        if sqlstate in _POSTGRES_UNAVAILABLE:
            return _POSTGRES_UNAVAILABLE[sqlstate]
        # An OperationalError without SQLSTATE: the connection could not be made or was lost.
        return "unreachable" if sqlstate is None and isinstance(exc, OperationalError) else None
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return _SQLITE_UNAVAILABLE.get(first_line)


# --- Telling cached statistics that what they count has changed ------------------------------------------

_STATISTICS_CHANGED = "samrad_statistics_changed"
_STATISTICS_TABLES = frozenset(cls.__table__ for cls in STATISTICS_INPUTS)  # type: ignore[attr-defined,union-attr]
_IGNORED_BY_TABLE = {cls.__table__: columns for cls, columns in STATISTICS_IGNORED_COLUMNS.items()}  # type: ignore[attr-defined]
#: Execution option of an UPDATE through a session: the names of the only columns it sets.
SETS_ONLY = "samrad_sets_only"
log = logging.getLogger(__name__)


def _changes_statistics(session: Session) -> bool:
    """Whether the session's pending changes touch what the statistics count."""
    if any(isinstance(obj, STATISTICS_INPUTS) for obj in (*session.new, *session.deleted)):
        return True
    for obj in session.dirty:
        if not isinstance(obj, STATISTICS_INPUTS):
            continue
        ignored = STATISTICS_IGNORED_COLUMNS.get(type(obj), frozenset())
        state = inspect(obj)
        if any(attr.key not in ignored and attr.history.has_changes() for attr in state.attrs):
            return True
    return False


@event.listens_for(Session, "after_flush")
def _note_statistics_inputs(session, _context) -> None:
    # After a flush the session still lists what it wrote, with each attribute's history.
    if _changes_statistics(session):
        session.info[_STATISTICS_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statistics_statements(state) -> None:
    """Bulk INSERT, UPDATE and DELETE statements run through a session count as changes too, but for an
    UPDATE that says it sets only columns the statistics ignore (:data:`SETS_ONLY`, as
    :func:`compare_and_set` does for the agenda's revision)."""
    table = getattr(state.statement, "table", None)
    if not (state.is_insert or state.is_update or state.is_delete) or table not in _STATISTICS_TABLES:
        return
    sets_only = state.execution_options.get(SETS_ONLY)
    if state.is_update and sets_only and sets_only <= _IGNORED_BY_TABLE.get(table, frozenset()):
        return
    state.session.info[_STATISTICS_CHANGED] = True


def _move_generation_on(conn: Connection) -> None:
    table = StatisticsGeneration.__table__  # type: ignore[attr-defined]
    moved = conn.execute(
        table.update().where(table.c.id == 1).values(generation=table.c.generation + 1)
    ).rowcount
    if not moved:
        conn.execute(table.insert().values(id=1, generation=secrets.randbelow(2**62)))


@event.listens_for(Session, "before_commit")
def _bump_statistics_generation_with_the_change(session) -> None:
    """On SQLite the change already holds the one write lock, so the generation moves on in the same
    transaction: committed together (a worker that sees the new number sees the new rows), and no second
    write transaction to queue for. On PostgreSQL that would hold the generation's row lock to the end of
    every change the statistics count, so that each waited for the one before: there it moves on after
    the commit (:func:`_bump_statistics_generation`)."""
    if session.in_nested_transaction() or session.get_bind().dialect.name != "sqlite":
        return
    session.flush()  # commit would flush after this hook; what it writes must be noted first
    if session.info.pop(_STATISTICS_CHANGED, False):
        _move_generation_on(session.connection())


@event.listens_for(Session, "after_commit")
def _bump_statistics_generation(session) -> None:
    """After the change is committed (never before: a worker that sees the new number must also see the
    new rows), one short transaction of its own moves the generation on. Should that fail, cached
    statistics stay until they expire (``samrad.services.statistics.CACHE_SECONDS``)."""
    if session.in_nested_transaction():
        return  # a savepoint was released: the change is committed with the transaction around it
    if not session.info.pop(_STATISTICS_CHANGED, False):
        return
    bind = session.get_bind()
    engine = bind.engine if hasattr(bind, "engine") else bind
    try:
        with engine.begin() as conn:
            _move_generation_on(conn)
    except Exception as exc:  # noqa: BLE001 - the change itself is committed; this only ends caching early
        log.warning("statistics generation not moved on: %s", describe_error(exc))


@event.listens_for(Session, "after_rollback")
def _forget_statistics_changes(session) -> None:
    session.info.pop(_STATISTICS_CHANGED, None)


def statistics_generation(session: Session) -> int | None:
    """The current statistics generation, read before counting (the rows counted are then at least as
    new); None when cached statistics must not be used: the session has changes not yet committed, or
    the database has no generation yet."""
    if session.info.get(_STATISTICS_CHANGED) or _changes_statistics(session):
        return None
    return session.exec(select(StatisticsGeneration.generation).where(StatisticsGeneration.id == 1)).first()


def compare_and_set(session: Session, row, column: str, *, expected: int, new: int) -> bool:
    """Write ``new`` into ``row``'s ``column`` only if the database still holds ``expected`` there: one
    UPDATE, which on PostgreSQL waits for a concurrent writer of the row and then compares with what that
    writer committed. At READ COMMITTED two requests can read the same revision before either writes; this
    is how the second finds out (False) instead of writing over the first. True: written, and ``row`` holds
    ``new`` as stored."""
    model = type(row)
    moved: CursorResult = session.execute(  # type: ignore[assignment]  # an UPDATE's result has a rowcount
        update(model)
        .where(model.id == row.id, getattr(model, column) == expected)
        .values({column: new})
        .execution_options(synchronize_session=False, **{SETS_ONLY: frozenset({column})})
    )
    if moved.rowcount != 1:
        return False
    set_committed_value(row, column, new)
    return True


def move_on(session: Session, row, column: str) -> None:
    """Add one to ``row``'s ``column`` as the database holds it now, whatever this request read: every
    change that compares the value it read (:func:`compare_and_set`) before this one is refused. For a
    change that makes every page of the row out of date (a cancelled meeting's agenda)."""
    model = type(row)
    moved = session.execute(
        update(model)
        .where(model.id == row.id)
        .values({column: getattr(model, column) + 1})
        .returning(getattr(model, column))
        .execution_options(synchronize_session=False, **{SETS_ONLY: frozenset({column})})
    )
    set_committed_value(row, column, moved.scalar_one())


def hold_current(session: Session, row) -> None:
    """Read ``row`` again as stored now and keep it to this transaction until it ends: for a change that
    depends on what it reads of the row or of the rows under it (a join request decided once, a user's
    roles made exactly a set). At PostgreSQL's READ COMMITTED two requests can read the same row before
    either writes, and the second writes over the first or adds a row the first has just added (an
    IntegrityError); here the second waits for the first to end and then reads what it left. PostgreSQL:
    ``SELECT … FOR NO KEY UPDATE``, which lets rows that point at this one still be added meanwhile.
    SQLite: a plain read, since the write transaction (``BEGIN IMMEDIATE``) holds the whole database.
    Unflushed changes of ``row`` are lost: call it first."""
    if session.info.get(READING):
        raise WriteWhileReading("a page that only reads tried to hold a row for a change")
    session.refresh(row, with_for_update={"key_share": True})


#: ``Session.info`` key of a request's session while the request only reads (GET, HEAD, or the rendering
#: after a POST's commit).
READING = "samrad_reading"


class WriteWhileReading(RuntimeError):
    """A page that only reads tried to write through its reading session (use write_after_response)."""


@event.listens_for(Session, "before_flush")
def _refuse_flush_while_reading(session, _context, _instances) -> None:
    if session.info.get(READING) and (
        session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
    ):
        raise WriteWhileReading("a page that only reads changed data in its reading session")


@event.listens_for(Session, "do_orm_execute")
def _refuse_statements_while_reading(state) -> None:
    if state.session.info.get(READING) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteWhileReading("a page that only reads ran a writing statement in its reading session")


def init_app(app: Flask) -> None:
    app.extensions[ENGINE_KEY] = make_engine(
        app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )
    app.teardown_appcontext(close_session)


def get_engine() -> Engine:
    return current_app.extensions[ENGINE_KEY]


def get_session() -> Session:
    """Return the request's session, opening it on first use. On a page that only reads (GET, HEAD) it
    reads through :func:`_reading_engine` (SQLite: DEFERRED, so the web workers read side by side;
    PostgreSQL: no transaction) and refuses to write; what such a page must write goes through
    :func:`write_after_response`."""
    if "db_session" not in g:
        engine = get_engine()
        reading = _only_reads()
        g.db_session = Session(
            _reading_engine(engine) if reading else engine,
            expire_on_commit=False,
            info={READING: True} if reading else {},
        )
    return g.db_session


def _reading_engine(engine: Engine) -> Engine:
    """The engine of a session that only reads. On SQLite its transactions begin DEFERRED. On PostgreSQL it
    has none: at READ COMMITTED every statement takes its own snapshot even inside a transaction, so one
    adds nothing to a page that reads, and its BEGIN and ROLLBACK were two more round trips to the server
    on every page. Nothing can be written through it (:class:`WriteWhileReading`)."""
    engine = engine.execution_options(**{READ_ONLY: True})
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


@contextmanager
def read_before_writing() -> Iterator[Session]:
    """The request's session for what a change reads before it changes anything: who is asking (the
    login check), what a form is checked against. In a request that writes, while no transaction is open,
    those reads run in a transaction that only reads (SQLite: DEFERRED) and ends here; the change's own
    transaction begins at its next statement. Otherwise a POST on SQLite would take the one write lock
    (``BEGIN IMMEDIATE``) at its first read and hold it through all its checks. What is read here may be
    a moment older than the change, as on a page loaded a moment earlier: what the change depends on (a
    status, a revision, a token not yet used) must be read or compared again inside it."""
    session = get_session()
    if session.info.get(READING) or session.in_transaction():
        yield session
        return
    session.bind = _reading_engine(get_engine())
    session.info[READING] = True
    try:
        yield session
    except SQLAlchemyError:
        session.rollback()
        raise
    finally:
        # Ended by a commit, even when a check failed (a 404, a form error): nothing can have been written
        # (READING), and a rollback would expire what was read, to be read again inside a write.
        if session.in_transaction():
            session.commit()
        session.bind = get_engine()
        session.info.pop(READING, None)


def _only_reads() -> bool:
    return has_request_context() and (
        request.method in ("GET", "HEAD") or g.get("reading_after_commit", False)
    )


def write_after_response(write: Callable[[Session], None]) -> None:
    """A small write a page must make (a view in the audit log, the session's last activity): in the
    request's own transaction when the request changes things anyway; on a page that only reads, in one
    short transaction of its own after the response is built (:func:`run_writes_after_response`)."""
    if _only_reads():
        g.setdefault("writes_after_response", []).append(write)
    else:
        write(get_session())
        g.commit_after_response = True


def run_writes_after_response() -> None:
    """Commit what :func:`write_after_response` gathered (called once per request, after the view)."""
    if g.pop("commit_after_response", False) and "db_session" in g:
        get_session().commit()
    writes = g.pop("writes_after_response", [])
    if writes:
        with Session(get_engine(), expire_on_commit=False) as session:
            for write in writes:
                write(session)
            session.commit()


def close_session(exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def commit(*, then_read: bool = False) -> None:
    """Commit the request's transaction, then deliver the e-mails it queued.

    ``then_read``: the rest of the request only reads (it renders the answer to the change), so its next
    transaction begins DEFERRED like a page that only reads, and a small write it must still make goes
    through :func:`write_after_response`. Otherwise rendering would hold SQLite's write lock, and the
    other workers' changes would wait for it.
    """
    session = get_session()
    queued = outbox.take_queued(session)
    session.commit()
    outbox.deliver_after_commit(queued, get_engine())
    if then_read and has_request_context():
        session.bind = _reading_engine(get_engine())
        session.info[READING] = True
        g.reading_after_commit = True


@contextmanager
def session_scope(*, deliver_mail: bool = True) -> Iterator[Session]:
    """A session for jobs and commands: commit on success, roll back on error, deliver mail after.

    Scheduled jobs that queue many messages pass ``deliver_mail=False`` and leave sending to the outbox
    job, which retries with backoff and stops early when the mail server is down.
    """
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
        queued = outbox.take_queued(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    if deliver_mail:
        outbox.deliver_after_commit(queued, get_engine())
