"""The register: municipalities, organisations, consultations, standing seats and roles."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from samrad import db
from samrad.enums import Role
from samrad.models import (
    Consultation,
    ConsultationRole,
    Municipality,
    Organisation,
    StandingSeat,
    User,
)


def municipalities(session: Session) -> list[Municipality]:
    return list(session.exec(select(Municipality).order_by(Municipality.county, Municipality.name)))


def organisations(session: Session) -> list[Organisation]:
    """The register's organisations, with their municipalities (the list shows them)."""
    return list(
        session.exec(
            select(Organisation).options(selectinload(Organisation.municipality)).order_by(Organisation.name)
        )
    )


def users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.name)))


def consultations(session: Session) -> list[Consultation]:
    """The consultations, with their hosts (the register's list shows them)."""
    return list(
        session.exec(
            select(Consultation)
            .options(selectinload(Consultation.host_organisation))
            .order_by(Consultation.name)
        )
    )


def consultation_by_slug(session: Session, slug: str) -> Consultation | None:
    return session.exec(select(Consultation).where(Consultation.slug == slug)).first()


class Clash(Exception):
    """Another register entry already has this unique value; ``field`` names the form field."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


#: The unique keys of the register entries (the first field of each key carries the message).
UNIQUE_KEYS: dict[type, tuple[tuple[str, ...], ...]] = {
    Municipality: (("name", "county"),),
    Organisation: (("name",),),
    User: (("email",),),
    Consultation: (("slug",),),
}


def save(session: Session, obj, values: dict | None = None):
    """Set ``values`` on a register entry and flush, after checking its unique keys.

    The check runs before anything is changed, so a clash leaves the entry and the session as they were
    and raises :class:`Clash` naming the field. A concurrent write between the check and the flush is
    caught by the database constraint and reported the same way.
    """
    values = values or {}
    if obj.id is not None:
        # Two administrators saving one entry at once: the second waits for the first and then writes the
        # whole entry, its roles, organisations or seats included, over it, instead of both adding the
        # same role or seat (an IntegrityError) or each keeping half of its own form.
        db.hold_current(session, obj)
    model = type(obj)
    keys = UNIQUE_KEYS.get(model, ())
    for key in keys:
        stmt = select(model.id).where(*(getattr(model, f) == values.get(f, getattr(obj, f)) for f in key))
        if obj.id is not None:
            stmt = stmt.where(model.id != obj.id)
        if session.exec(stmt).first() is not None:
            raise Clash(key[0])
    try:
        with session.begin_nested():
            for name, value in values.items():
                setattr(obj, name, value)
            session.add(obj)
            session.flush()
    except IntegrityError as exc:
        if obj in session:
            session.expunge(obj) if obj.id is None else session.expire(obj)
        raise Clash(keys[0][0] if keys else "") from exc
    return obj


def set_standing_seats(session: Session, consultation: Consultation, organisation_ids: set[int]) -> None:
    """Make exactly these organisations hold a standing seat in the consultation."""
    current = {
        seat.organisation_id: seat
        for seat in session.exec(select(StandingSeat).where(StandingSeat.consultation_id == consultation.id))
    }
    for org_id, seat in current.items():
        if org_id not in organisation_ids:
            session.delete(seat)
    for org_id in organisation_ids - current.keys():
        session.add(StandingSeat(consultation_id=consultation.id, organisation_id=org_id))
    session.flush()


def standing_seats(session: Session, consultation: Consultation) -> list[StandingSeat]:
    return sorted(
        session.exec(select(StandingSeat).where(StandingSeat.consultation_id == consultation.id)),
        key=lambda seat: seat.organisation.name,
    )


def roles_of(session: Session, user: User) -> list[ConsultationRole]:
    return list(session.exec(select(ConsultationRole).where(ConsultationRole.user_id == user.id)))


def grant_role(session: Session, user: User, consultation: Consultation, role: Role) -> ConsultationRole:
    """Give the user ``role`` in the consultation (idempotent)."""
    existing = session.exec(
        select(ConsultationRole)
        .where(ConsultationRole.user_id == user.id)
        .where(ConsultationRole.consultation_id == consultation.id)
        .where(ConsultationRole.role == role)
    ).first()
    if existing:
        return existing
    grant = ConsultationRole(user_id=user.id, consultation_id=consultation.id, role=role)
    session.add(grant)
    session.flush()
    return grant


def set_roles(session: Session, user: User, grants: set[tuple[int, Role]]) -> None:
    """Make ``grants`` (consultation id, role) exactly the user's roles."""
    held = {(grant.consultation_id, grant.role): grant for grant in roles_of(session, user)}
    for key, grant in held.items():
        if key not in grants:
            session.delete(grant)
    for consultation_id, role in sorted(grants - held.keys()):
        session.add(ConsultationRole(user_id=user.id, consultation_id=consultation_id, role=role))
    session.flush()


def people_with_role(session: Session, consultation: Consultation, role: Role) -> list[User]:
    return list(
        session.exec(
            select(User)
            .join(ConsultationRole, ConsultationRole.user_id == User.id)
            .where(ConsultationRole.consultation_id == consultation.id)
            .where(ConsultationRole.role == role)
            .where(User.is_active)
            .order_by(User.name)
        )
    )
