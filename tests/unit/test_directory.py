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
