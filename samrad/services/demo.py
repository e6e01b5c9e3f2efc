"""The demo county: Una Norrbotten – kompetensteam mot våld (domain brief §1.1).

Deterministic for a given seed, so that names and passwords can be printed again later.
Every person here is fictitious; the organisations are the ones the final report names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time

from sqlmodel import Session

from samrad.enums import OrganisationType, Role, Sector, VideoProvider, Weekday
from samrad.models import Consultation, Municipality, Organisation, utcnow
from samrad.passwords import hash_password
from samrad.services import accounts, directory

COUNTY = "Norrbottens län"
DOMAIN = "demo.samrad.example"
SLUG = "una-norrbotten"
NAME = "Una Norrbotten – kompetensteam mot våld"

#: Norrbotten's 14 municipalities (the report names four; the rest are public knowledge).
MUNICIPALITIES = (
    "Arjeplog", "Arvidsjaur", "Boden", "Gällivare", "Haparanda", "Jokkmokk", "Kalix",
    "Kiruna", "Luleå", "Pajala", "Piteå", "Älvsbyn", "Överkalix", "Övertorneå",
)

#: (name, type, sector, municipality or None) besides the 14 social services.
ORGANISATIONS = (
    ("Polisen (BOPS), polisregion Nord", OrganisationType.POLICE, Sector.PUBLIC_AUTHORITY, None),
    ("Kvinnojouren Iris", OrganisationType.WOMENS_SHELTER, Sector.CIVIL_SOCIETY, None),
    ("Tjejjouren Luleå", OrganisationType.GIRLS_SHELTER, Sector.CIVIL_SOCIETY, "Luleå"),
    ("Flyktingmottagningen, Luleå kommun", OrganisationType.REFUGEE_RECEPTION, Sector.PUBLIC_AUTHORITY, "Luleå"),
    ("Freda-mottagningen, Luleå kommun", OrganisationType.CENTRE_AGAINST_VIOLENCE, Sector.PUBLIC_AUTHORITY,
     "Luleå"),
    ("Region Norrbotten", OrganisationType.HEALTH_CARE, Sector.PUBLIC_AUTHORITY, None),
    ("Länsstyrelsen Norrbotten", OrganisationType.COUNTY_BOARD, Sector.PUBLIC_AUTHORITY, None),
)
HOST = "Freda-mottagningen, Luleå kommun"
#: Organisations without a standing seat: the county board funds and follows up but does not sit in.
NO_SEAT = {"Länsstyrelsen Norrbotten"}

FIRST_NAMES = ("Anna", "Maria", "Elin", "Sara", "Karin", "Linnea", "Johanna", "Ida", "Emma", "Malin",
               "Erik", "Johan", "Anders", "Mikael", "Jonas", "Niklas", "Per", "Lars", "Henrik", "Oskar")
SURNAMES = ("Lindqvist", "Nilsson", "Lundberg", "Öberg", "Sundström", "Holmgren", "Isaksson", "Forsberg",
            "Strand", "Björk", "Hedlund", "Lantto", "Niemi", "Rova", "Marklund", "Wikström")
PASSWORD_WORDS = ("myr", "fjall", "tjara", "lodda", "norrsken", "kaffe", "renlav", "isvak", "kokskniv",
                  "pulka", "skoter", "hjortron", "midnatt", "granris", "sparkstotting", "lappkok")


def social_services_name(municipality: str) -> str:
    return f"Socialtjänsten, {municipality} kommun"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    description: str
    organisation: str
    roles: tuple[Role, ...] = ()
    is_admin: bool = False


def demo_accounts(*, seed: int, password: str | None = None) -> list[DemoAccount]:
    """The demo accounts with their (seeded) passwords, in the order they are printed."""
    rng = random.Random(seed)

    def pw() -> str:
        words = rng.sample(PASSWORD_WORDS, 3)
        generated = "-".join(words) + f"-{rng.randint(10, 99)}"
        return password if password is not None else generated

    soc = social_services_name
    spec = [
        ("admin", "Administrator", HOST, (), True),
        ("samordnare", "Coordinator (Freda-mottagningen)", HOST, (Role.COORDINATOR, Role.MEMBER), False),
        ("statistik", "Statistics viewer (Länsstyrelsen)", "Länsstyrelsen Norrbotten",
         (Role.STATISTICS_VIEWER,), False),
        ("polis", "Standing member, police", ORGANISATIONS[0][0], (Role.MEMBER,), False),
        ("kvinnojour", "Standing member, women's shelter", "Kvinnojouren Iris", (Role.MEMBER,), False),
        ("tjejjour", "Standing member, girls' shelter", "Tjejjouren Luleå", (Role.MEMBER,), False),
        ("flyktingmottagning", "Standing member, refugee reception", ORGANISATIONS[3][0], (Role.MEMBER,), False),
        ("region", "Standing member, health care", "Region Norrbotten", (Role.MEMBER,), False),
        ("socialtjanst.lulea", "Standing member, social services Luleå", soc("Luleå"), (Role.MEMBER,), False),
        ("socialtjanst.kiruna", "Standing member, social services Kiruna", soc("Kiruna"), (Role.MEMBER,), False),
        ("socialtjanst.gallivare", "Standing member, social services Gällivare", soc("Gällivare"),
         (Role.MEMBER,), False),
        ("socialtjanst.boden", "Standing member, social services Boden", soc("Boden"), (Role.MEMBER,), False),
        ("handlaggare.lulea", "Case officer, social services Luleå", soc("Luleå"), (Role.CASE_OFFICER,), False),
        ("handlaggare.kiruna", "Case officer, social services Kiruna", soc("Kiruna"), (Role.CASE_OFFICER,), False),
        ("handlaggare.pitea", "Case officer, social services Piteå", soc("Piteå"), (Role.CASE_OFFICER,), False),
    ]
    return [
        DemoAccount(f"{local}@{DOMAIN}", pw(), description, org, roles, admin)
        for local, description, org, roles, admin in spec
    ]


def person_names(*, seed: int, count: int) -> list[str]:
    rng = random.Random(seed * 7919 + 1)
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        if name not in names:
            names.append(name)
    return names


def seed_demo(session: Session, *, seed: int = 42, password: str | None = None) -> list[DemoAccount]:
    """Create the demo county, its consultation and accounts. Returns the accounts with passwords.

    Re-running on a database that already holds the demo updates nothing but the passwords of the
    demo accounts (when ``password`` is given), so scripted checks can rely on a known password.
    """
    accounts_spec = demo_accounts(seed=seed, password=password)
    existing = directory.consultation_by_slug(session, SLUG)
    if existing is not None:
        for spec in accounts_spec:
            user = accounts.user_by_email(session, spec.email)
            if user is not None and password is not None:
                user.password_hash = hash_password(password)
        session.flush()
        return accounts_spec

    municipalities = {}
    for name in MUNICIPALITIES:
        municipalities[name] = directory.save(session, Municipality(name=name, county=COUNTY))
    organisations: dict[str, Organisation] = {}
    for name in MUNICIPALITIES:
        org = Organisation(
            name=social_services_name(name),
            type=OrganisationType.SOCIAL_SERVICES,
            sector=Sector.PUBLIC_AUTHORITY,
            county=COUNTY,
            municipality_id=municipalities[name].id,
        )
        organisations[org.name] = directory.save(session, org)
    for name, org_type, sector, municipality in ORGANISATIONS:
        org = Organisation(
            name=name,
            type=org_type,
            sector=sector,
            county=COUNTY,
            municipality_id=municipalities[municipality].id if municipality else None,
        )
        organisations[name] = directory.save(session, org)

    consultation = directory.save(
        session,
        Consultation(
            slug=SLUG,
            name=NAME,
            county=COUNTY,
            host_organisation_id=organisations[HOST].id,
            place="Freda-mottagningens lokaler, Luleå",
            meeting_length_minutes=120,
            rhythm_weeks=2,
            weekday=Weekday.MONDAY,
            start_time=time(13, 0),
            case_deadline_days=7,
            video_provider=VideoProvider.JITSI,
            video_url="https://meet.jit.si",
        ),
    )
    directory.set_standing_seats(
        session, consultation, {org.id for name, org in organisations.items() if name not in NO_SEAT}
    )

    now = utcnow()
    names = person_names(seed=seed, count=len(accounts_spec))
    for spec, name in zip(accounts_spec, names, strict=True):
        user = accounts.create_user(
            session,
            email=spec.email,
            name="Admin " + name.split()[1] if spec.is_admin else name,
            organisation=organisations[spec.organisation],
            is_admin=spec.is_admin,
        )
        user.password_hash = hash_password(spec.password)
        user.password_changed_at = now
        for role in spec.roles:
            directory.grant_role(session, user, consultation, role)
    session.flush()
    # The five evaluated meetings of the final report, with their answers as published (issue E).
    from samrad.services.demo_evaluations import seed_published_evaluations

    seed_published_evaluations(session, consultation, now=now)
    return accounts_spec
