"""The audit log: who viewed, changed, exported or deleted what, when, and for which organisation.

Append-only. The application has no update path for it, and the database refuses one (a trigger);
the only delete is the retention job's (:func:`samrad.services.audit.purge`). Rows hold ids and field
names, never values: no case text, no e-mail body, nothing from an evaluation.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from samrad.enums import AuditKind, AuditVerb
from samrad.models.base import UTCDateTime, enum_type, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    #: The account that acted; None for a scheduled job or a command. No foreign key: the log outlives
    #: the accounts it mentions and must not change when they do.
    user_id: int | None = Field(default=None, index=True)
    #: The account's address at the time, or the job or command that acted.
    actor: str = Field(max_length=254)
    #: The organisation the person acted for: the object's own organisation when they belong to it,
    #: otherwise their first organisation. Name kept as it was at the time.
    organisation_id: int | None = None
    organisation_name: str = Field(default="", max_length=200)
    consultation_id: int | None = Field(default=None, index=True)
    verb: AuditVerb = Field(sa_type=enum_type(AuditVerb))
    kind: AuditKind = Field(sa_type=enum_type(AuditKind), index=True)
    object_id: str = Field(default="", max_length=64)
    #: Names of the fields that changed (never their values), or a short code such as a role name.
    fields: str = Field(default="", sa_type=sa.Text)


_REFUSE_UPDATE = {
    "sqlite": [
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ],
}


def refuse_update_ddl(dialect_name: str) -> list[str]:
    """The statements that make the database itself refuse to change an audit row."""
    return _REFUSE_UPDATE[dialect_name]


@sa.event.listens_for(AuditEvent.__table__, "after_create")  # type: ignore[attr-defined]
def _append_only(target, connection, **_kw):
    for statement in refuse_update_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
