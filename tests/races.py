"""Two requests at once, for tests of changes that must not write over each other (issue K's review of the
rows two people can change at the same moment)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session

from tests.processes import wait_until


@contextmanager
def read_by_both(engine, read: Callable[[Session], Any]) -> Iterator[tuple[tuple[Session, Any], ...]]:
    """Two sessions, each of which has read what ``read(session)`` returns before either writes: what
    PostgreSQL's READ COMMITTED gives two requests at once, and SQLite a change whose checks read before
    its write transaction. Yields ``(session, what it read)`` for each; what was read stays loaded."""
    with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
        readings = []
        for session in (a, b):
            readings.append((session, read(session)))
            session.commit()  # ends the reading; on SQLite the other may begin
        yield tuple(readings)


def wait_until_a_transaction_waits(engine) -> None:
    """Return once a PostgreSQL backend waits for a lock another transaction holds: the second of two
    concurrent changes has reached the row the first holds, and the first may now end."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    # Outside a transaction: pg_stat_activity is read once per transaction and kept until it ends.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
        wait_until(lambda: watcher.exec_driver_sql(waiting).scalar() >= 1, "a transaction to wait for a lock")
