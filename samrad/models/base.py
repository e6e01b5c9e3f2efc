"""Column types shared by all models."""

from __future__ import annotations

from datetime import UTC
from enum import StrEnum
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from samrad.clock import utcnow

__all__ = ["UTCDateTime", "enum_type", "utcnow"]

# Named constraints from the first migration on, so that SQLite batch migrations can drop them later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware datetime that is always stored as UTC and read back as aware UTC.

    SQLite has no time zone type, so values are normalised to UTC before they are written and tagged
    with UTC when read; PostgreSQL stores ``timestamptz``. Naive datetimes are refused: they are bugs.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls: type[StrEnum]) -> sa.Enum:
    """Store a StrEnum by value in a VARCHAR, so adding a member needs no database type change."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


T = TypeVar("T")


def get_row(session: Session, model: type[T], ident) -> T:
    """A row that a foreign key promises exists (raises LookupError, a bug, if it does not)."""
    row = session.get(model, ident)
    if row is None:
        raise LookupError(f"{model.__name__} {ident} does not exist")
    return row
