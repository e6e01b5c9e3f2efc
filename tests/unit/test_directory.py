"""What the pages read of the register: a consultation without its host, a person's organisations without
their municipalities (every request reads both), and the register's lists with them, in one statement
more whatever their length."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import select

from samrad.models import Consultation
from samrad.services import accounts, directory
from tests.factories import make_consultation, make_municipality, make_organisation


def test_every_request_reads_no_host_and_no_municipality():
    assert "JOIN" not in str(select(Consultation))
    assert "JOIN municipality" not in str(accounts._LIVE_SESSION)


def test_the_register_lists_read_hosts_and_municipalities_in_one_statement_each(session):
    municipality = make_municipality(session, name="Kiruna")
    for n in range(3):
        make_consultation(session, name=f"Samråd {n}", host=make_organisation(session, name=f"Värd {n}"))
    make_organisation(session, name="Socialtjänsten Kiruna", municipality_id=municipality.id)
    session.commit()
    session.expunge_all()
    statements = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    hosts = [c.host_organisation.name for c in directory.consultations(session)]
    places = {o.name: o.municipality.name if o.municipality else "" for o in directory.organisations(session)}
    assert hosts == ["Värd 0", "Värd 1", "Värd 2"]
    assert places["Socialtjänsten Kiruna"] == "Kiruna"
    assert len([s for s in statements if s.startswith("SELECT")]) == 4


def test_two_administrators_saving_one_persons_roles_at_once_on_postgresql_both_land_whole(
    postgres_url, tmp_path
):
    """Two administrators save the same person's form at the same moment, each adding a role and changing
    nothing else of the account (so nothing else makes the second wait). At PostgreSQL's READ COMMITTED
    both read the person's roles before either writes, and both added the same role (an IntegrityError,
    a 500 for the second administrator). The entry is held while it is saved: the second waits for the
    first and then makes the roles exactly its own form's. (SQLite's writers wait for each other anyway.)"""
    import threading

    from sqlmodel import Session

    from samrad import db
    from samrad.enums import Role
    from samrad.models import ConsultationRole, User
    from tests.conftest import schema_app
    from tests.factories import make_user
    from tests.races import wait_until_a_transaction_waits

    app = schema_app(postgres_url, tmp_path)
    with app.app_context():
        engine = db.get_engine()
        with Session(engine) as s:
            consultation = make_consultation(s)
            person = make_user(s, name="Pia Person")
            s.commit()
            ids = person.id, consultation.id
        values = {"name": "Pia Person"}
        first = {(ids[1], Role.MEMBER)}
        second = {(ids[1], Role.MEMBER), (ids[1], Role.COORDINATOR)}
        errors = []

        def second_administrator():
            with Session(engine, expire_on_commit=False) as b:
                try:
                    user = b.get(User, ids[0])
                    directory.save(b, user, values)
                    directory.set_roles(b, user, second)
                    b.commit()
                except Exception as exc:  # reported below
                    errors.append(exc)

        with Session(engine, expire_on_commit=False) as a:
            user = a.get(User, ids[0])
            directory.save(a, user, values)
            directory.set_roles(a, user, first)
            a.flush()
            thread = threading.Thread(target=second_administrator)
            thread.start()
            wait_until_a_transaction_waits(engine)
            a.commit()
        thread.join(timeout=60)
        assert errors == []
        with Session(engine) as s:
            held = s.exec(select(ConsultationRole).where(ConsultationRole.user_id == ids[0])).all()
            assert {(g.consultation_id, g.role) for g in held} == second
        engine.dispose()
