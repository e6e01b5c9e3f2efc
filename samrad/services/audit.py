"""The audit log: record who viewed, changed, exported or deleted a case, an agenda, an account, a role
or a setting; list, export and purge the records.

Changes are captured where they cannot be forgotten: a session listener turns every flushed insert,
update or delete of an audited table into an event in the same transaction, so a change and its record
commit or roll back together and a new write path is covered without new code. Views and exports are
recorded by the pages that show them (:func:`record`), because reading leaves no trace in the tables.

Who acted comes from :func:`acting_as` (the web layer binds the logged-in person for each request, the
scheduler binds the job); without it the actor is "system". Evaluations are not audited on purpose: an
answer must not be linkable to its respondent, not even through the time someone opened the form.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, event, func, insert, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from samrad.clock import STOCKHOLM
from samrad.enums import AuditKind, AuditVerb
from samrad.models import (
    AgendaItem,
    AgendaVersion,
    AuditEvent,
    BreakPeriod,
    Case,
    CaseCategoryEntry,
    CaseExposerEntry,
    Consultation,
    ConsultationRole,
    Meeting,
    Membership,
    Municipality,
    Organisation,
    RecoveryCode,
    StandingSeat,
    TwoFactor,
    User,
    utcnow,
)
from samrad.periods import Period

SYSTEM = "system"
PAGE_SIZE = 100

#: Fields that change as a side effect of ordinary use and say nothing an auditor needs.
QUIET_FIELDS = frozenset({"last_counter", "updated_at", "version"})


@dataclass(frozen=True)
class Acting:
    """Who is acting: an account (with its organisations, id and name) or a job or command."""

    label: str
    user_id: int | None = None
    organisations: tuple[tuple[int, str], ...] = ()

    def organisation_for(self, organisation_id: int | None) -> tuple[int | None, str]:
        """The organisation the person acts for: the object's own if they belong to it, else their first."""
        for org in self.organisations:
            if org[0] == organisation_id:
                return org
        return self.organisations[0] if self.organisations else (None, "")


_acting: ContextVar[Acting | Callable[[], Acting] | None] = ContextVar("samrad_audit_acting", default=None)


@contextmanager
def acting_as(who: Acting | Callable[[], Acting]) -> Iterator[None]:
    """Attribute what happens inside the block to ``who`` (an :class:`Acting` or a function giving one,
    called only when something is recorded)."""
    token = _acting.set(who)
    try:
        yield
    finally:
        _acting.reset(token)


def bind(who: Acting | Callable[[], Acting]):
    """Like :func:`acting_as`, for code that cannot use a block (a request); returns the token for
    :func:`unbind`."""
    return _acting.set(who)


def unbind(token) -> None:
    _acting.reset(token)


def current_acting() -> Acting:
    who = _acting.get()
    if callable(who):
        who = who()
        _acting.set(who)
    return who or Acting(SYSTEM)


def acting_user(user: User) -> Acting:
    orgs = sorted((m.organisation_id, m.organisation.name) for m in user.memberships)
    return Acting(label=user.email, user_id=user.id, organisations=tuple(orgs))


@dataclass
class Entry:
    """One event before it is written; changes to one object in one flush merge into one entry."""

    verb: AuditVerb
    kind: AuditKind
    object_id: str
    consultation_id: int | None = None
    organisation_id: int | None = None
    fields: set[str] = field(default_factory=set)


def _row(entry: Entry, acting: Acting, now: datetime) -> dict:
    org_id, org_name = acting.organisation_for(entry.organisation_id)
    return {
        "at": now,
        "user_id": acting.user_id,
        "actor": acting.label[:254],
        "organisation_id": org_id,
        "organisation_name": org_name[:200],
        "consultation_id": entry.consultation_id,
        "verb": entry.verb.value,
        "kind": entry.kind.value,
        "object_id": entry.object_id[:64],
        "fields": ", ".join(sorted(entry.fields)),
    }


def record(
    session: Session,
    verb: AuditVerb,
    kind: AuditKind,
    object_id: object = "",
    *,
    consultation_id: int | None = None,
    organisation_id: int | None = None,
    fields: tuple[str, ...] = (),
    now: datetime,
) -> None:
    """Add one event to the session's transaction (views, exports, logins: what the tables do not show).
    Written as a row, not an object through the unit of work (which cost three times as much on every page
    that records a view); through the session, so that a reading session still refuses it."""
    entry = Entry(verb, kind, str(object_id), consultation_id, organisation_id, set(fields))
    session.execute(insert(AuditEvent), [_row(entry, current_acting(), now)])


# --- Capturing changes ------------------------------------------------------------------------------


def _meeting_consultation(session: OrmSession, meeting_id: int | None) -> int | None:
    if meeting_id is None:
        return None
    with session.no_autoflush:
        meeting = session.get(Meeting, meeting_id)
    return meeting.consultation_id if meeting else None


def _case_of(session: OrmSession, case_id: int) -> Case | None:
    # A case created in this flush is not in the identity map yet (after_flush runs before it is put
    # there), so asking the session for it would read it back once for each of its categories and
    # exposers: find it among what is being flushed first.
    for obj in session.new:
        if isinstance(obj, Case) and obj.id == case_id:
            return obj
    with session.no_autoflush:
        return session.get(Case, case_id)


def _describe(session: OrmSession, obj) -> tuple[AuditKind, str, int | None, int | None, str] | None:
    """(kind, object id, consultation id, organisation id, field label) of an audited object, else None.

    Rows that belong to a larger object (a case's categories, an agenda's items, a consultation's
    standing seats) are recorded as a change of that object under the given field label.
    """
    match obj:
        case Case():
            return AuditKind.CASE, str(obj.id), obj.consultation_id, obj.organisation_id, ""
        case CaseCategoryEntry() | CaseExposerEntry():
            case = _case_of(session, obj.case_id)
            label = "categories" if isinstance(obj, CaseCategoryEntry) else "exposers"
            return (
                AuditKind.CASE,
                str(obj.case_id),
                case.consultation_id if case else None,
                case.organisation_id if case else None,
                label,
            )
        case Meeting():
            return AuditKind.MEETING, str(obj.id), obj.consultation_id, None, ""
        case AgendaItem() | AgendaVersion():
            label = "items" if isinstance(obj, AgendaItem) else "version"
            return (
                AuditKind.AGENDA,
                str(obj.meeting_id),
                _meeting_consultation(session, obj.meeting_id),
                None,
                label,
            )
        case BreakPeriod():
            return AuditKind.CONSULTATION, str(obj.consultation_id), obj.consultation_id, None, "breaks"
        case StandingSeat():
            return (
                AuditKind.CONSULTATION,
                str(obj.consultation_id),
                obj.consultation_id,
                None,
                "standing_seats",
            )
        case Consultation():
            return AuditKind.CONSULTATION, str(obj.id), obj.id, None, ""
        case User():
            return AuditKind.USER, str(obj.id), None, None, ""
        case Membership():
            return AuditKind.USER, str(obj.user_id), None, obj.organisation_id, "organisations"
        case ConsultationRole():
            return AuditKind.ROLE, str(obj.user_id), obj.consultation_id, None, str(obj.role)
        case TwoFactor():
            return AuditKind.TWO_FACTOR, str(obj.user_id), None, None, ""
        case RecoveryCode():
            return AuditKind.TWO_FACTOR, str(obj.user_id), None, None, "recovery_code"
        case Organisation():
            return AuditKind.ORGANISATION, str(obj.id), None, obj.id, ""
        case Municipality():
            return AuditKind.MUNICIPALITY, str(obj.id), None, None, ""
    return None


def _changed_fields(obj) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()}


def changes_in(session: OrmSession) -> list[Entry]:
    """The audit entries for what ``session`` is flushing (call during a flush)."""
    entries: dict[tuple[AuditKind, str], Entry] = {}

    def add(verb: AuditVerb, obj, changed: set[str] | None = None) -> None:
        described = _describe(session, obj)
        if described is None:
            return
        kind, object_id, consultation_id, organisation_id, label = described
        if label:
            # A part of a larger object: its own creation or removal changes the larger one.
            verb, changed = AuditVerb.CHANGED if kind != AuditKind.ROLE else verb, {label}
        elif changed is not None:
            changed -= QUIET_FIELDS
            if not changed:
                return
        key = (kind, object_id)
        entry = entries.get(key)
        if entry is None:
            entries[key] = Entry(verb, kind, object_id, consultation_id, organisation_id, set(changed or ()))
            return
        if verb in (AuditVerb.CREATED, AuditVerb.DELETED) and entry.verb == AuditVerb.CHANGED:
            entry.verb = verb  # created (or deleted) together with its parts: one event
        if entry.verb == AuditVerb.CHANGED or kind == AuditKind.ROLE:
            entry.fields |= changed or set()

    for obj in session.new:
        add(AuditVerb.CREATED, obj)
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            add(AuditVerb.CHANGED, obj, _changed_fields(obj))
    for obj in session.deleted:
        add(AuditVerb.DELETED, obj)
    # A role granted and revoked in one flush (the whole set written again) is no change.
    return [e for e in entries.values() if not (e.kind == AuditKind.ROLE and _net_zero(session, e))]


def _net_zero(session: OrmSession, entry: Entry) -> bool:
    granted = {
        str(o.role)
        for o in session.new
        if isinstance(o, ConsultationRole)
        and str(o.user_id) == entry.object_id
        and o.consultation_id == entry.consultation_id
    }
    revoked = {
        str(o.role)
        for o in session.deleted
        if isinstance(o, ConsultationRole)
        and str(o.user_id) == entry.object_id
        and o.consultation_id == entry.consultation_id
    }
    entry.verb = AuditVerb.CHANGED
    entry.fields = {f"+{r}" for r in granted - revoked} | {f"-{r}" for r in revoked - granted}
    return not entry.fields


class AppendOnly(Exception):
    """Something tried to change or delete an audit record outside the retention rule."""


@event.listens_for(OrmSession, "before_flush")
def _refuse_changes(session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent):
            raise AppendOnly("the audit log is append-only")


@event.listens_for(OrmSession, "after_flush")
def _capture(session, _context) -> None:
    entries = changes_in(session)
    if not entries:
        return
    acting = current_acting()
    now = utcnow()
    session.connection().execute(insert(AuditEvent), [_row(e, acting, now) for e in entries])


@event.listens_for(OrmSession, "do_orm_execute")
def _refuse_bulk_changes(state) -> None:
    if (state.is_update or state.is_delete) and not state.execution_options.get("audit_retention"):
        if any(getattr(m, "class_", None) is AuditEvent for m in state.all_mappers):
            raise AppendOnly("the audit log is append-only")


# --- Reading, exporting, purging --------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    verb: AuditVerb | None = None
    kind: AuditKind | None = None
    actor: str = ""
    object_id: str = ""
    consultation_id: int | None = None
    #: Stockholm days, as in every report.
    period: Period | None = None


def _query(filters: Filters):
    query = select(AuditEvent)
    if filters.verb:
        query = query.where(AuditEvent.verb == filters.verb)
    if filters.kind:
        query = query.where(AuditEvent.kind == filters.kind)
    if filters.actor:
        query = query.where(func.lower(AuditEvent.actor).contains(filters.actor.lower(), autoescape=True))
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.consultation_id:
        query = query.where(AuditEvent.consultation_id == filters.consultation_id)
    if filters.period:
        query = query.where(AuditEvent.at >= filters.period.start_utc).where(
            AuditEvent.at < filters.period.end_utc
        )
    return query


def events(session: Session, filters: Filters, *, page: int = 1) -> tuple[list[AuditEvent], bool]:
    """One page of events, newest first, and whether there is a next page."""
    rows = list(
        session.exec(
            _query(filters)
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


CSV_COLUMNS = (
    "time",
    "actor",
    "user_id",
    "organisation",
    "consultation_id",
    "verb",
    "kind",
    "object_id",
    "fields",
)


def export_csv(session: Session, filters: Filters) -> str:
    """Every matching event, oldest first, as CSV (Stockholm time; cells that a spreadsheet would run
    as a formula are quoted with a leading apostrophe)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    query = _query(filters).order_by(col(AuditEvent.at), col(AuditEvent.id))
    for e in session.exec(query):
        writer.writerow(
            [
                e.at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S"),
                _cell(e.actor),
                e.user_id or "",
                _cell(e.organisation_name),
                e.consultation_id or "",
                e.verb.value,
                e.kind.value,
                _cell(e.object_id),
                _cell(e.fields),
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def purge(session: Session, *, now: datetime, retention_days: int) -> int:
    """Delete events older than ``retention_days``: the only way an audit record leaves the log."""
    result = session.execute(
        delete(AuditEvent).where(AuditEvent.at < now - timedelta(days=retention_days)),
        execution_options={"audit_retention": True, "synchronize_session": False},
    )
    return result.rowcount
