"""Requests to join a consultation. The Norrbotten rule: register with the coordinator first; only an
approved request leads to an account and invitations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, select

from samrad import db, outbox
from samrad.enums import JoinRequestStatus, Role
from samrad.models import Consultation, JoinRequest, Organisation, User
from samrad.services import accounts, directory


class JoinRequestClosed(Exception):
    """The request was already decided (possibly by another coordinator a moment ago)."""


def submit_join_request(
    session: Session,
    consultation: Consultation,
    *,
    name: str,
    email: str,
    organisation: Organisation | None,
    organisation_name: str,
    role: Role,
    now: datetime,
) -> JoinRequest:
    """Record a request and send the person a receipt. A repeated pending request is not stored twice.

    Anyone can send this form, so nothing typed in it goes into e-mail: the receipt greets no name, and the
    coordinators hear of new requests in a digest (:func:`announce_join_requests`) that holds only a count
    and a link, at most one per run of the digest job however many requests a flood brings."""
    email = accounts.normalise_email(email)
    # The same form sent twice at once (a double click) is one request: the second waits for the first.
    db.hold_current(session, consultation)
    pending = session.exec(
        select(JoinRequest)
        .where(JoinRequest.consultation_id == consultation.id)
        .where(JoinRequest.email == email)
        .where(JoinRequest.status == JoinRequestStatus.PENDING)
    ).first()
    if pending is not None:
        return pending
    request = JoinRequest(
        consultation_id=consultation.id,
        name=name.strip(),
        email=email,
        organisation_id=organisation.id if organisation else None,
        organisation_name="" if organisation else organisation_name.strip(),
        role=role,
        created_at=now,
    )
    session.add(request)
    session.flush()
    outbox.queue_email(session, to=email, template="join_request_receipt", now=now, consultation=consultation)
    return request


def announce_join_requests(
    session: Session, *, now: datetime, review_link: Callable[[Consultation], str]
) -> int:
    """Tell each consultation's coordinators in one e-mail how many requests have come in since the last
    digest. Returns the number of messages queued."""
    new = session.exec(
        select(JoinRequest)
        .where(JoinRequest.status == JoinRequestStatus.PENDING)
        .where(JoinRequest.announced_at.is_(None))
        .order_by(JoinRequest.consultation_id, JoinRequest.id)
    ).all()
    by_consultation: dict[int, list[JoinRequest]] = {}
    for request in new:
        by_consultation.setdefault(request.consultation_id, []).append(request)
    queued = 0
    for consultation_id, requests in by_consultation.items():
        consultation = session.get(Consultation, consultation_id)
        newest = requests[-1].id
        for coordinator in directory.people_with_role(session, consultation, Role.COORDINATOR):
            message = outbox.queue_email_once(
                session,
                dedupe_key=f"join-digest:{consultation_id}:{newest}:user:{coordinator.id}",
                to=coordinator.email,
                template="join_request_received",
                locale=coordinator.locale,
                now=now,
                consultation=consultation,
                count=len(requests),
                link=review_link(consultation),
            )
            queued += message is not None
        for request in requests:
            request.announced_at = now
    session.flush()
    return queued


def pending_requests(session: Session, consultation: Consultation) -> list[JoinRequest]:
    return list(
        session.exec(
            select(JoinRequest)
            .where(JoinRequest.consultation_id == consultation.id)
            .where(JoinRequest.status == JoinRequestStatus.PENDING)
            .order_by(JoinRequest.created_at, JoinRequest.id)
        )
    )


def _decide(
    session: Session, request: JoinRequest, status: JoinRequestStatus, *, actor: User, now: datetime
) -> None:
    # Two coordinators may decide the same request at once: the second sees the first's decision.
    db.hold_current(session, request)
    if request.status != JoinRequestStatus.PENDING:
        raise JoinRequestClosed()
    request.status = status
    request.decided_at = now
    request.decided_by_id = actor.id


def approve_join_request(
    session: Session,
    request: JoinRequest,
    *,
    actor: User,
    organisation: Organisation,
    role: Role,
    now: datetime,
    invitation_valid_for: timedelta,
    invitation_link_for: Callable[[str], str],
    login_link: str,
) -> User:
    """Approve: create (or reuse) the account, place it in the organisation, grant the role, invite.

    Someone who already has an account gets a short notice instead of a new password link.
    """
    _decide(session, request, JoinRequestStatus.APPROVED, actor=actor, now=now)
    consultation = session.get(Consultation, request.consultation_id)
    user = accounts.user_by_email(session, request.email)
    if user is None:
        user = accounts.create_user(
            session, email=request.email, name=request.name, organisation=organisation
        )
    elif organisation.id not in {m.organisation_id for m in user.memberships}:
        accounts.set_memberships(session, user, [*user.organisations, organisation])
    request.organisation_id = organisation.id
    request.role = role
    directory.grant_role(session, user, consultation, role)
    if user.password_hash is None:
        accounts.invite_user(
            session,
            user,
            now=now,
            valid_for=invitation_valid_for,
            link_for=invitation_link_for,
            consultation_name=consultation.name,
        )
    else:
        outbox.queue_email(
            session,
            to=user.email,
            template="join_request_approved",
            locale=user.locale,
            now=now,
            consultation=consultation,
            role=role,
            link=login_link,
        )
    session.flush()
    return user


def decline_join_request(session: Session, request: JoinRequest, *, actor: User, now: datetime) -> None:
    """Decline and tell the person, without giving reasons by e-mail."""
    _decide(session, request, JoinRequestStatus.DECLINED, actor=actor, now=now)
    consultation = session.get(Consultation, request.consultation_id)
    outbox.queue_email(
        session,
        to=request.email,
        template="join_request_declined",
        now=now,
        consultation=consultation,
        name=request.name,
    )
    session.flush()
