"""Rate-limit counters in the app's own database, for Flask-Limiter (the ``limits`` storage interface).

Flask-Limiter keeps its counters in memory (each gunicorn worker counting for itself, so n workers allow
n times the limit), Redis, Memcached or MongoDB; it has no SQL store, and a county's installation has
PostgreSQL but rarely Redis. This store keeps one row per fixed window in the shared database, so a limit
holds across every worker and process. One atomic upsert per counted request: no read-then-write race.

The storage URI is ``samrad+database://``; the engine is the app's (``samrad.db.get_engine``), since
Flask-Limiter counts inside requests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from samrad.models import RateLimitCounter, utcnow

SCHEME = "samrad+database"
COUNTERS = RateLimitCounter.__table__  # type: ignore[attr-defined]


def _engine() -> Engine:
    from samrad.db import get_engine

    return get_engine()


def count_hit(engine: Engine, key: str, *, window_seconds: int, amount: int, now: datetime) -> int:
    """Add ``amount`` to the window of ``key`` (starting a new window once the last one has expired) and
    return the window's count, in one statement."""
    insert = (postgresql if engine.dialect.name == "postgresql" else sqlite).insert
    new = insert(COUNTERS).values(key=key, hits=amount, expires_at=now + timedelta(seconds=window_seconds))
    expired = COUNTERS.c.expires_at <= now
    statement = new.on_conflict_do_update(
        index_elements=[COUNTERS.c.key],
        set_={
            "hits": case((expired, amount), else_=COUNTERS.c.hits + amount),
            "expires_at": case((expired, new.excluded.expires_at), else_=COUNTERS.c.expires_at),
        },
    ).returning(COUNTERS.c.hits)
    with engine.begin() as connection:
        return connection.execute(statement).scalar_one()


def purge_expired(engine: Engine, *, now: datetime) -> int:
    """Delete the windows that have ended (the scheduler's ``purge-login-attempts`` job calls this)."""
    with engine.begin() as connection:
        return connection.execute(delete(COUNTERS).where(COUNTERS.c.expires_at <= now)).rowcount


class DatabaseStorage(Storage):
    """``limits`` storage on the app's database (fixed windows only, which is Flask-Limiter's default)."""

    STORAGE_SCHEME = [SCHEME]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return count_hit(_engine(), key, window_seconds=int(expiry), amount=amount, now=utcnow())

    def get(self, key: str) -> int:
        row = self._live(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._live(key)
        return (row.expires_at if row else utcnow()).timestamp()

    def check(self) -> bool:
        from samrad.db import READ_ONLY

        try:
            with _engine().connect().execution_options(**{READ_ONLY: True}) as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with _engine().begin() as connection:
            return connection.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as connection:
            connection.execute(delete(COUNTERS).where(COUNTERS.c.key == key))

    @staticmethod
    def _live(key: str):
        # Read after the view (Flask-Limiter's headers), while the request's own transaction may still
        # hold SQLite's write lock: a read-only connection does not queue behind it.
        from samrad.db import READ_ONLY

        with _engine().connect().execution_options(**{READ_ONLY: True}) as connection:
            return connection.execute(
                select(COUNTERS.c.hits, COUNTERS.c.expires_at)
                .where(COUNTERS.c.key == key)
                .where(COUNTERS.c.expires_at > utcnow())
            ).first()
