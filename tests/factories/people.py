"""Municipalities, organisations, consultations, people and their roles."""

from __future__ import annotations

from datetime import time
from itertools import count

from samrad.enums import OrganisationType, Role, VideoProvider, Weekday
from samrad.models import Consultation, ConsultationRole, Municipality, Organisation, User
from samrad.passwords import hash_password
from samrad.services import accounts

#: A password that satisfies the rules; hashing it once keeps the suite fast.
PASSWORD = "granris-myr-pulka-77"
_PASSWORD_HASH = hash_password(PASSWORD)
_seq = count(1)


def make_municipality(session, **kw) -> Municipality:
    m = Municipality(
        name=kw.pop("name", f"Kommun {next(_seq)}"), county=kw.pop("county", "Norrbottens län"), **kw
    )
    session.add(m)
    session.flush()
    return m


def make_organisation(session, **kw) -> Organisation:
    org_type = kw.pop("type", OrganisationType.SOCIAL_SERVICES)
    org = Organisation(
        name=kw.pop("name", f"Organisation {next(_seq)}"),
        type=org_type,
        sector=kw.pop("sector", org_type.default_sector),
        county=kw.pop("county", "Norrbottens län"),
        **kw,
    )
    session.add(org)
    session.flush()
    return org


def make_consultation(session, **kw) -> Consultation:
    host = kw.pop("host", None) or make_organisation(session, type=OrganisationType.CENTRE_AGAINST_VIOLENCE)
    n = next(_seq)
    c = Consultation(
        slug=kw.pop("slug", f"samrad-{n}"),
        name=kw.pop("name", f"Samråd {n}"),
        county=kw.pop("county", "Norrbottens län"),
        host_organisation_id=host.id,
        place=kw.pop("place", "Freda-mottagningen, Luleå"),
        weekday=kw.pop("weekday", Weekday.MONDAY),
        start_time=kw.pop("start_time", time(13, 0)),
        video_provider=kw.pop("video_provider", VideoProvider.NONE),
        **kw,
    )
    session.add(c)
    session.flush()
    return c


def make_user(
    session, *, password: str | None = PASSWORD, organisation=None, roles=(), consultation=None, **kw
) -> User:
    n = next(_seq)
    user = accounts.create_user(
        session,
        email=kw.pop("email", f"person{n}@kommun.example"),
        name=kw.pop("name", f"Person {n}"),
        organisation=organisation,
        is_admin=kw.pop("is_admin", False),
        locale=kw.pop("locale", None),
    )
    for key, value in kw.items():
        setattr(user, key, value)
    if password == PASSWORD:
        user.password_hash = _PASSWORD_HASH
    elif password is not None:
        user.password_hash = hash_password(password)
    for role in roles:
        session.add(ConsultationRole(user_id=user.id, consultation_id=consultation.id, role=Role(role)))
    session.flush()
    return user


def make_team(session, **consultation_kw):
    """A consultation with a coordinator, two standing members (police, Kiruna), a case officer and a
    colleague of the Kiruna member who is not in the consultation."""
    consultation = make_consultation(session, **consultation_kw)
    police = make_organisation(session, name=f"Polisen {next(_seq)}", type=OrganisationType.POLICE)
    kiruna = make_organisation(session, name=f"Socialtjänsten Kiruna {next(_seq)}")
    freda = make_organisation(
        session, name=f"Freda {next(_seq)}", type=OrganisationType.CENTRE_AGAINST_VIOLENCE
    )
    team = {
        "consultation": consultation,
        "police": police,
        "kiruna": kiruna,
        "coordinator": make_user(
            session,
            email=f"samordnare{next(_seq)}@lulea.example",
            name="Åsa Öberg",
            organisation=freda,
            roles=[Role.COORDINATOR, Role.MEMBER],
            consultation=consultation,
        ),
        "polis": make_user(
            session,
            email=f"polis{next(_seq)}@polisen.example",
            name="Per Lantto",
            organisation=police,
            roles=[Role.MEMBER],
            consultation=consultation,
        ),
        "soc": make_user(
            session,
            email=f"soc{next(_seq)}@kiruna.example",
            name="Sara Niemi",
            organisation=kiruna,
            roles=[Role.MEMBER],
            consultation=consultation,
            locale="en",
        ),
        "officer": make_user(
            session,
            email=f"handlaggare{next(_seq)}@kiruna.example",
            name="Ida Rova",
            organisation=kiruna,
            roles=[Role.CASE_OFFICER],
            consultation=consultation,
        ),
        "colleague": make_user(
            session, email=f"kollega{next(_seq)}@kiruna.example", name="Karin Strand", organisation=kiruna
        ),
    }
    return team
