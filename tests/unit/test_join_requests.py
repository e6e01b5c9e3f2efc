from datetime import timedelta

import pytest
from sqlmodel import select

from samrad.enums import JoinRequestStatus, Role
from samrad.models import ConsultationRole, JoinRequest, OutboxMessage, User, utcnow
from samrad.services import join_requests
from samrad.services.access import actor_for
from tests.factories import make_consultation, make_organisation, make_user
from tests.races import read_by_both


def _submit(session, consultation, *, email="ny@kommun.example", organisation=None, name="Nina Ny"):
    return join_requests.submit_join_request(
        session,
        consultation,
        name=name,
        email=email,
        organisation=organisation,
        organisation_name="" if organisation else "Ny förening",
        role=Role.CASE_OFFICER,
        now=utcnow(),
    )


def _announce(session, now=None) -> int:
    return join_requests.announce_join_requests(
        session, now=now or utcnow(), review_link=lambda c: f"https://samrad.test/c/{c.slug}/join-requests"
    )


def _approve(session, request, actor, organisation):
    return join_requests.approve_join_request(
        session,
        request,
        actor=actor,
        organisation=organisation,
        role=Role.CASE_OFFICER,
        now=utcnow(),
        invitation_valid_for=timedelta(hours=72),
        invitation_link_for=lambda t: f"https://samrad.test/invitation/{t}",
        login_link="https://samrad.test/login",
    )


def test_a_request_sends_a_receipt_and_the_coordinators_hear_of_it_in_the_next_digest(session):
    consultation = make_consultation(session, slug="una")
    coordinator = make_user(
        session, email="samordnare@kommun.example", roles=["coordinator"], consultation=consultation
    )
    make_user(session, email="medlem@kommun.example", roles=["member"], consultation=consultation)
    request = _submit(session, consultation, email=" Ny@Kommun.Example ", name="Nina <b>Ny</b>")
    assert (request.email, request.status) == ("ny@kommun.example", JoinRequestStatus.PENDING)
    (receipt,) = session.exec(select(OutboxMessage)).all()
    assert receipt.recipient == "ny@kommun.example"
    # Anyone can send the form: nothing typed in it is echoed to the address it names.
    assert "Nina" not in receipt.body_text + receipt.body_html + receipt.subject
    # No account exists until the coordinator approves.
    assert session.exec(select(User).where(User.email == "ny@kommun.example")).first() is None

    assert _announce(session) == 1
    (digest,) = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == coordinator.email)).all()
    assert "1 ny förfrågan om att delta i" in digest.body_text
    assert "https://samrad.test/c/una/join-requests" in digest.body_text
    assert "Nina" not in digest.body_text + digest.body_html + digest.subject
    assert request.announced_at is not None


def test_the_digest_counts_only_what_came_in_since_the_last_one(session):
    consultation = make_consultation(session)
    coordinator = make_user(session, roles=["coordinator"], consultation=consultation)
    for n in range(4):
        _submit(session, consultation, email=f"ny{n}@kommun.example")
    assert (_announce(session), _announce(session)) == (1, 0)
    decided = _submit(session, consultation, email="snabb@kommun.example")
    join_requests.decline_join_request(session, decided, actor=coordinator, now=utcnow())
    assert _announce(session) == 0  # decided before any digest: nothing left to tell
    _submit(session, consultation, email="sen@kommun.example")
    assert _announce(session) == 1
    digests = session.exec(
        select(OutboxMessage).where(OutboxMessage.recipient == coordinator.email).order_by(OutboxMessage.id)
    ).all()
    assert len(digests) == 2
    assert "4 nya förfrågningar" in digests[0].body_text
    assert "1 ny förfrågan" in digests[1].body_text


def test_repeated_pending_request_is_stored_once(session):
    consultation = make_consultation(session)
    first = _submit(session, consultation)
    second = _submit(session, consultation)
    assert first.id == second.id
    assert len(session.exec(select(JoinRequest)).all()) == 1


def test_approval_creates_the_account_role_and_invitation(session):
    consultation = make_consultation(session)
    coordinator = make_user(session, roles=["coordinator"], consultation=consultation)
    org = make_organisation(session, name="Socialtjänsten, Kiruna kommun")
    request = _submit(session, consultation)
    user = _approve(session, request, coordinator, org)
    assert (user.email, user.password_hash, [o.name for o in user.organisations]) == (
        "ny@kommun.example",
        None,
        ["Socialtjänsten, Kiruna kommun"],
    )
    assert Role.CASE_OFFICER in actor_for(user).roles_in(consultation.id)
    assert request.status == JoinRequestStatus.APPROVED and request.decided_by_id == coordinator.id
    invitation = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == "ny@kommun.example")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert "https://samrad.test/invitation/" in invitation.body_text


def test_approving_an_existing_account_sends_a_notice_not_a_password_link(session):
    consultation = make_consultation(session)
    coordinator = make_user(session, roles=["coordinator"], consultation=consultation)
    existing = make_user(session, email="ny@kommun.example")
    org = make_organisation(session)
    request = _submit(session, consultation, organisation=org)
    assert _approve(session, request, coordinator, org).id == existing.id
    last = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert "/invitation/" not in last.body_text and "https://samrad.test/login" in last.body_text


def test_decline_tells_the_person_and_creates_nothing(session):
    consultation = make_consultation(session)
    coordinator = make_user(session, roles=["coordinator"], consultation=consultation)
    request = _submit(session, consultation)
    join_requests.decline_join_request(session, request, actor=coordinator, now=utcnow())
    assert request.status == JoinRequestStatus.DECLINED
    assert session.exec(select(User).where(User.email == "ny@kommun.example")).first() is None
    assert (
        session.exec(select(ConsultationRole).where(ConsultationRole.role == Role.CASE_OFFICER)).all() == []
    )


def test_a_decided_request_cannot_be_decided_again(session):
    consultation = make_consultation(session)
    coordinator = make_user(session, roles=["coordinator"], consultation=consultation)
    request = _submit(session, consultation)
    join_requests.decline_join_request(session, request, actor=coordinator, now=utcnow())
    with pytest.raises(join_requests.JoinRequestClosed):
        _approve(session, request, coordinator, make_organisation(session))
    assert join_requests.pending_requests(session, consultation) == []


def test_a_request_approved_and_declined_at_once_is_decided_once(shared_db_app):
    """Two coordinators decide the same request from pages read at the same time: one approves, the other
    declines. Both requests read it before either writes (PostgreSQL's READ COMMITTED); the second must
    find it decided, not write its decision over the first (an account made and a refusal mailed)."""
    from sqlmodel import Session

    from samrad import db
    from samrad.models import Organisation

    with shared_db_app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            consultation = make_consultation(s)
            organisation = make_organisation(s)
            coordinator = make_user(s, roles=["coordinator"], consultation=consultation)
            request = _submit(s, consultation)
            s.commit()
            ids = request.id, coordinator.id, organisation.id

        def read(x):
            return (x.get(JoinRequest, ids[0]), x.get(User, ids[1]), x.get(Organisation, ids[2]))

        with read_by_both(engine, read) as (
            (a, (request_a, coordinator_a, organisation_a)),
            (b, (request_b, coordinator_b, _)),
        ):
            _approve(a, request_a, coordinator_a, organisation_a)
            a.commit()
            with pytest.raises(join_requests.JoinRequestClosed):
                join_requests.decline_join_request(b, request_b, actor=coordinator_b, now=utcnow())
            assert request_b.status == JoinRequestStatus.APPROVED  # the row shows the decision that stands
            b.rollback()
        with Session(engine) as s:
            stored = s.get(JoinRequest, ids[0])
            assert (stored.status, stored.decided_by_id) == (JoinRequestStatus.APPROVED, ids[1])
            # The receipt and the approval's invitation to set a password; no refusal.
            assert [m.recipient for m in s.exec(select(OutboxMessage))] == ["ny@kommun.example"] * 2


def test_the_same_request_sent_twice_at_once_on_postgresql_is_stored_once(postgres_url, tmp_path):
    """A double click on the join form: two requests for the same address at the same moment. At
    PostgreSQL's READ COMMITTED neither saw the other's pending request (nothing unique forbids two), and
    the coordinator got the same person twice. The consultation is held while a request is recorded."""
    import threading

    from sqlmodel import Session

    from samrad import db
    from samrad.models import Consultation
    from tests.conftest import schema_app
    from tests.races import wait_until_a_transaction_waits

    app = schema_app(postgres_url, tmp_path)
    with app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            consultation_id = make_consultation(s).id
            s.commit()
        errors = []

        def second_click():
            with Session(engine, expire_on_commit=False) as b:
                try:
                    _submit(b, b.get(Consultation, consultation_id))
                    b.commit()
                except Exception as exc:  # reported below
                    errors.append(exc)

        with Session(engine, expire_on_commit=False) as a:
            _submit(a, a.get(Consultation, consultation_id))
            thread = threading.Thread(target=second_click)
            thread.start()
            wait_until_a_transaction_waits(engine)
            a.commit()
        thread.join(timeout=60)
        assert errors == []
        with Session(engine) as s:
            assert len(s.exec(select(JoinRequest)).all()) == 1
            assert len(s.exec(select(OutboxMessage)).all()) == 1  # one receipt
        engine.dispose()
