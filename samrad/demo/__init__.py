"""The demo county: Una Norrbotten – kompetensteam mot våld (domain brief §1.1).

Demo data is not part of the domain: this package uses the services like any other caller
(``samrad demo`` and the tests seed with it) and no service imports it.

Deterministic for a given seed, so that names and passwords can be printed again later.
Every person here is fictitious; the organisations are the ones the final report names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from samrad.demo import agenda as demo_agenda
from samrad.demo import meetings as demo_meetings
from samrad.enums import (
    AgeBand,
    CaseCategory,
    CaseStatus,
    Exposer,
    MeetingStatus,
    OrganisationType,
    RiskAssessment,
    Role,
    Sector,
    Sex,
    VideoProvider,
    Weekday,
)
from samrad.models import Case, Consultation, Meeting, Municipality, Organisation, User, utcnow
from samrad.passwords import hash_password
from samrad.services import accounts, cases, directory

COUNTY = "Norrbottens län"
DOMAIN = "demo.samrad.example"
SLUG = "una-norrbotten"
NAME = "Una Norrbotten – kompetensteam mot våld"

#: Norrbotten's 14 municipalities (the report names four; the rest are public knowledge).
MUNICIPALITIES = (
    "Arjeplog",
    "Arvidsjaur",
    "Boden",
    "Gällivare",
    "Haparanda",
    "Jokkmokk",
    "Kalix",
    "Kiruna",
    "Luleå",
    "Pajala",
    "Piteå",
    "Älvsbyn",
    "Överkalix",
    "Övertorneå",
)

#: (name, type, sector, municipality or None) besides the 14 social services.
ORGANISATIONS = (
    ("Polisen (BOPS), polisregion Nord", OrganisationType.POLICE, Sector.PUBLIC_AUTHORITY, None),
    ("Kvinnojouren Iris", OrganisationType.WOMENS_SHELTER, Sector.CIVIL_SOCIETY, None),
    ("Tjejjouren Luleå", OrganisationType.GIRLS_SHELTER, Sector.CIVIL_SOCIETY, "Luleå"),
    (
        "Flyktingmottagningen, Luleå kommun",
        OrganisationType.REFUGEE_RECEPTION,
        Sector.PUBLIC_AUTHORITY,
        "Luleå",
    ),
    (
        "Freda-mottagningen, Luleå kommun",
        OrganisationType.CENTRE_AGAINST_VIOLENCE,
        Sector.PUBLIC_AUTHORITY,
        "Luleå",
    ),
    ("Region Norrbotten", OrganisationType.HEALTH_CARE, Sector.PUBLIC_AUTHORITY, None),
    ("Länsstyrelsen Norrbotten", OrganisationType.COUNTY_BOARD, Sector.PUBLIC_AUTHORITY, None),
)
HOST = "Freda-mottagningen, Luleå kommun"
#: Organisations without a standing seat: the county board funds and follows up but does not sit in.
NO_SEAT = {"Länsstyrelsen Norrbotten"}

FIRST_NAMES = (
    "Anna",
    "Maria",
    "Elin",
    "Sara",
    "Karin",
    "Linnea",
    "Johanna",
    "Ida",
    "Emma",
    "Malin",
    "Erik",
    "Johan",
    "Anders",
    "Mikael",
    "Jonas",
    "Niklas",
    "Per",
    "Lars",
    "Henrik",
    "Oskar",
)
SURNAMES = (
    "Lindqvist",
    "Nilsson",
    "Lundberg",
    "Öberg",
    "Sundström",
    "Holmgren",
    "Isaksson",
    "Forsberg",
    "Strand",
    "Björk",
    "Hedlund",
    "Lantto",
    "Niemi",
    "Rova",
    "Marklund",
    "Wikström",
)
PASSWORD_WORDS = (
    "myr",
    "fjall",
    "tjara",
    "lodda",
    "norrsken",
    "kaffe",
    "renlav",
    "isvak",
    "kokskniv",
    "pulka",
    "skoter",
    "hjortron",
    "midnatt",
    "granris",
    "sparkstotting",
    "lappkok",
)


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
        (
            "statistik",
            "Statistics viewer (Länsstyrelsen)",
            "Länsstyrelsen Norrbotten",
            (Role.STATISTICS_VIEWER,),
            False,
        ),
        ("polis", "Standing member, police", ORGANISATIONS[0][0], (Role.MEMBER,), False),
        ("kvinnojour", "Standing member, women's shelter", "Kvinnojouren Iris", (Role.MEMBER,), False),
        ("tjejjour", "Standing member, girls' shelter", "Tjejjouren Luleå", (Role.MEMBER,), False),
        (
            "flyktingmottagning",
            "Standing member, refugee reception",
            ORGANISATIONS[3][0],
            (Role.MEMBER,),
            False,
        ),
        ("region", "Standing member, health care", "Region Norrbotten", (Role.MEMBER,), False),
        ("socialtjanst.lulea", "Standing member, social services Luleå", soc("Luleå"), (Role.MEMBER,), False),
        (
            "socialtjanst.kiruna",
            "Standing member, social services Kiruna",
            soc("Kiruna"),
            (Role.MEMBER,),
            False,
        ),
        (
            "socialtjanst.gallivare",
            "Standing member, social services Gällivare",
            soc("Gällivare"),
            (Role.MEMBER,),
            False,
        ),
        ("socialtjanst.boden", "Standing member, social services Boden", soc("Boden"), (Role.MEMBER,), False),
        (
            "handlaggare.lulea",
            "Case officer, social services Luleå",
            soc("Luleå"),
            (Role.CASE_OFFICER,),
            False,
        ),
        (
            "handlaggare.kiruna",
            "Case officer, social services Kiruna",
            soc("Kiruna"),
            (Role.CASE_OFFICER,),
            False,
        ),
        (
            "handlaggare.pitea",
            "Case officer, social services Piteå",
            soc("Piteå"),
            (Role.CASE_OFFICER,),
            False,
        ),
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


def seed_demo(
    session: Session, *, seed: int = 42, password: str | None = None, now: datetime | None = None
) -> list[DemoAccount]:
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
    seated = {org.id for name, org in organisations.items() if name not in NO_SEAT and org.id is not None}
    directory.set_standing_seats(session, consultation, seated)

    now = now or utcnow()
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
    demo_meetings.seed_meetings(session, consultation, seed=seed, now=now)
    submitters = [accounts.user_by_email(session, f"{local}@{DOMAIN}") for local in CASE_SUBMITTERS]
    history = seed_history_cases(
        session, consultation, submitters=submitters, rng=random.Random(seed * 13 + 5), now=now
    )
    seed_demo_cases(session, consultation, submitters=submitters, rng=random.Random(seed), now=now)
    demo_agenda.seed_agendas(
        session,
        consultation,
        history=history,
        coordinator=accounts.user_by_email(session, f"samordnare@{DOMAIN}"),
        seed=seed,
        now=now,
    )
    # The five evaluated meetings of the final report, with their answers as published (issue E).
    from samrad.demo.evaluations import seed_published_evaluations

    seed_published_evaluations(session, consultation, now=now)
    return accounts_spec


# --- Cases (issue B) ---------------------------------------------------------------------------------------

#: Demo accounts that bring cases: the case officers, and standing members who bring their own.
CASE_SUBMITTERS = (
    "handlaggare.lulea",
    "handlaggare.kiruna",
    "handlaggare.pitea",
    "polis",
    "kvinnojour",
    "tjejjour",
    "socialtjanst.boden",
    "socialtjanst.gallivare",
)
#: Where cases come from: the large municipalities most (Fyrbodal: "the two largest 5 and 8 cases,
#: 8 municipalities 1–2, 6 none"; domain brief §2.3).
MUNICIPALITY_WEIGHTS = {
    "Luleå": 8,
    "Piteå": 5,
    "Boden": 3,
    "Kiruna": 3,
    "Gällivare": 2,
    "Kalix": 1,
    "Haparanda": 1,
    "Älvsbyn": 1,
    "Arvidsjaur": 1,
    "Jokkmokk": 1,
}
#: Statuses that need no meeting, with counts (the meetings work adds accepted/on-agenda/discussed).
DEMO_STATUSES = (
    (CaseStatus.SUBMITTED, 14),
    (CaseStatus.RETURNED, 4),
    (CaseStatus.WITHDRAWN, 3),
    (CaseStatus.DRAFT, 3),
)
#: Mostly 13–26 (the target group), some younger children and adults (domain brief §2.1).
AGE_WEIGHTS = {AgeBand.TEEN: 6, AgeBand.YOUNG_ADULT: 4, AgeBand.CHILD: 1, AgeBand.ADULT: 2}
#: Case sketches: (categories, exposers, questions, background). De-identified by construction; a test
#: runs every one through the guard.
CASE_SKETCHES = (
    (
        (CaseCategory.HONOUR_VIOLENCE, CaseCategory.TAKEN_ABROAD),
        (Exposer.PARENT, Exposer.RELATIVE),
        "Hur bedömer ni risken att hon förs utomlands under sommarlovet, och vilka skyddsåtgärder finns "
        "om hon inte vill att vi kontaktar föräldrarna?",
        "Flickan har berättat för skolkuratorn att familjen planerar en resa till släkten i hemlandet i "
        "sommar och att hon är rädd att inte få komma tillbaka. Hon har inte fått gå på klassresor och "
        "hämtas varje dag efter skolan.",
    ),
    (
        (CaseCategory.HONOUR_VIOLENCE,),
        (Exposer.PARENT, Exposer.SIBLING),
        "Hur kan vi arbeta med familjen utan att öka risken för henne? Finns det erfarenhet av "
        "familjesamtal i liknande ärenden?",
        "En ung kvinna berättar att en äldre bror kontrollerar hennes telefon och vilka hon umgås med. "
        "Föräldrarna stöder broderns kontroll. Hon vill bo kvar hemma men vill att kontrollen upphör.",
    ),
    (
        (CaseCategory.FORCED_MARRIAGE, CaseCategory.HONOUR_VIOLENCE),
        (Exposer.PARENT, Exposer.RELATIVE),
        "Vilka möjligheter finns till skyddat boende för en person över 18 år, och hur hanterar vi "
        "kontakten med släkten?",
        "Kvinnan har berättat att hon ska giftas bort med en släkting och att hon inte vill. Hon har "
        "inget eget boende och är beroende av familjen ekonomiskt.",
    ),
    (
        (CaseCategory.CHILD_MARRIAGE,),
        (Exposer.PARENT,),
        "Hur ska vi se på ett äktenskap som ingåtts utomlands när flickan var under 18 år, och vad "
        "behöver vi göra nu?",
        "Flickan kom till kommunen i höstas och uppger att hon är gift. Maken bor i ett annat land. Hon "
        "går i förberedelseklass och har en kontaktperson på skolan.",
    ),
    (
        (CaseCategory.GENITAL_MUTILATION,),
        (Exposer.RELATIVE,),
        "Hur bedömer vi risken för yngre systrar, och hur samverkar vi med elevhälsan och vården?",
        "Skolsköterskan har uppmärksammat att en äldre syster berättat om könsstympning. Det finns två "
        "yngre systrar i familjen och familjen planerar en längre resa.",
    ),
    (
        (CaseCategory.PARTNER_VIOLENCE,),
        (Exposer.PARTNER,),
        "Hur kan vi stödja henne att bryta upp när hon inte vill polisanmäla?",
        "En kvinna i 30-årsåldern har sökt stöd hos kvinnojouren efter upprepat psykiskt och fysiskt våld "
        "från sambon. Hon har två barn i förskoleåldern och oroar sig för vårdnaden.",
    ),
    (
        (CaseCategory.PARTNER_VIOLENCE, CaseCategory.HONOUR_VIOLENCE),
        (Exposer.PARTNER, Exposer.RELATIVE),
        "Hur ser ni på riskerna om hon flyttar till en annan kommun, och vad behöver mottagande kommun veta?",
        "Kvinnan har lämnat maken och bor tillfälligt hos en väninna. Makens släkt har sökt upp henne "
        "flera gånger och hotat med att ta barnen.",
    ),
    (
        (CaseCategory.PROSTITUTION_TRAFFICKING,),
        (Exposer.OTHER,),
        "Vilka aktörer bör vi samverka med, och hur bedömer vi om det rör sig om människohandel?",
        "En ung kvinna har under en kortare tid bott hos en man som hon träffat på nätet. Polisen har "
        "uppmärksammat att hon erbjuds pengar för sex och att hon saknar egna kontakter i Sverige.",
    ),
    (
        (CaseCategory.HONOUR_VIOLENCE,),
        (Exposer.PARENT,),
        "Hur kan vi ge stöd till en pojke som själv både utsätts och förväntas kontrollera sina systrar?",
        "En pojke i 15-årsåldern berättar att pappan kräver att han håller koll på systrarna och straffar "
        "honom när han inte gör det. Pojken har hög frånvaro och visar tecken på nedstämdhet.",
    ),
    (
        (CaseCategory.OTHER, CaseCategory.HONOUR_VIOLENCE),
        (Exposer.PARENT, Exposer.SIBLING),
        "Hur bemöter vi en ung person som identifierar sig som hbtq och är rädd för familjens reaktion?",
        "En ungdom har berättat för fritidsledaren att hen inte vågar berätta om sin sexuella läggning "
        "hemma. Hen har hört föräldrarna säga att det skulle vara en skam för familjen.",
    ),
)
RETURN_COMMENTS = (
    "Ta bort uppgiften om vilken skola det gäller och skicka igen.",
    "Beskriv gärna tydligare vad ni vill ha råd om, så hittar vi rätt tid på mötet.",
    "Ärendet gäller ett akut läge. Kontakta polisen direkt och ta upp det här i efterhand om ni vill.",
    "Beskrivningen av släkten kan göra personen igenkännbar i en liten ort. Skriv mer allmänt.",
)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seed_demo_cases(
    session: Session,
    consultation: Consultation,
    *,
    submitters: list[User],
    rng: random.Random,
    now: datetime,
) -> list[Case]:
    """Register a realistic set of de-identified demo cases through the case service (and its guard).

    Volumes follow the domain brief §2.5 (a few cases a fortnight, mostly girls 13–26, honour-related
    first); statuses are those that need no meeting. Deterministic for a given ``rng`` state. The
    meetings work can extend this with accepted and discussed cases.
    """
    rows = session.exec(select(Municipality).where(Municipality.county == COUNTY))
    municipalities = {m.name: m for m in rows}
    statuses = [status for status, n in DEMO_STATUSES for _ in range(n)]
    rng.shuffle(statuses)
    # Oldest first, so that the references run in the order the cases came in.
    times = sorted(now - timedelta(days=rng.randint(1, 56), hours=rng.randint(0, 8)) for _ in statuses)
    created = []
    for i, (status, when) in enumerate(zip(statuses, times, strict=True)):
        officer = submitters[i % len(submitters)]
        organisation = officer.organisations[0]
        own = next((name for name, m in municipalities.items() if m.id == organisation.municipality_id), None)
        place = own or _weighted(rng, MUNICIPALITY_WEIGHTS)
        categories, exposers, questions, background = rng.choice(CASE_SKETCHES)
        female = rng.random() < 0.85 or CaseCategory.GENITAL_MUTILATION in categories
        data = cases.CaseInput(
            categories=list(categories),
            sex=Sex.FEMALE if female else rng.choice([Sex.MALE, Sex.MALE, Sex.OTHER_UNKNOWN]),
            age_band=_weighted(rng, AGE_WEIGHTS),
            municipality_id=municipalities[place].id,
            exposers=list(exposers),
            questions=questions,
            background=background,
            risk_assessment=_weighted(
                rng, {RiskAssessment.PATRIARK: 3, RiskAssessment.OTHER: 2, RiskAssessment.NONE: 4}
            ),
            report_of_concern_made=rng.random() < 0.45,
            presentation_minutes=rng.choice([10, 15, 15, 20, 30]),
        )
        case = cases.create_case(
            session,
            consultation,
            data,
            officer=officer,
            organisation_id=organisation.id,
            now=when,
            submit=status != CaseStatus.DRAFT,
            attestation=cases.Attestation(attested=True),
        )
        if status == CaseStatus.RETURNED:
            # Set directly: the service would e-mail the demo case officer.
            case.status = CaseStatus.RETURNED
            case.return_comment = rng.choice(RETURN_COMMENTS)
            case.returned_at = when + timedelta(days=1)
        elif status == CaseStatus.WITHDRAWN:
            cases.withdraw_case(session, case, actor=officer, now=when + timedelta(days=2), link="")
        created.append(case)
    session.flush()
    return created


def seed_history_cases(
    session: Session,
    consultation: Consultation,
    *,
    submitters: list[User],
    rng: random.Random,
    now: datetime,
) -> list[Case]:
    """Cases for the held meetings (the agenda's demo discusses them): two or three submitted one to
    three weeks before each held meeting, through the case service and its guard."""
    rows = session.exec(select(Municipality).where(Municipality.county == COUNTY))
    municipalities = {m.name: m for m in rows}
    held = session.exec(
        select(Meeting)
        .where(Meeting.consultation_id == consultation.id)
        .where(Meeting.status == MeetingStatus.CLOSED)
        .order_by(Meeting.starts_at)
    ).all()
    times = sorted(
        m.case_deadline_at - timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8))
        for m in held
        for _ in range(3)
    )
    created = []
    for i, when in enumerate(times):
        officer = submitters[(i * 3) % len(submitters)]
        organisation = officer.organisations[0]
        own = next((name for name, m in municipalities.items() if m.id == organisation.municipality_id), None)
        categories, exposers, questions, background = rng.choice(CASE_SKETCHES)
        data = cases.CaseInput(
            categories=list(categories),
            sex=Sex.FEMALE if rng.random() < 0.85 else Sex.MALE,
            age_band=_weighted(rng, AGE_WEIGHTS),
            municipality_id=municipalities[own or _weighted(rng, MUNICIPALITY_WEIGHTS)].id,
            exposers=list(exposers),
            questions=questions,
            background=background,
            risk_assessment=_weighted(
                rng, {RiskAssessment.PATRIARK: 3, RiskAssessment.OTHER: 2, RiskAssessment.NONE: 4}
            ),
            report_of_concern_made=rng.random() < 0.45,
            presentation_minutes=rng.choice([10, 15, 15, 20, 30]),
        )
        created.append(
            cases.create_case(
                session,
                consultation,
                data,
                officer=officer,
                organisation_id=organisation.id,
                now=when,
                submit=True,
                attestation=cases.Attestation(attested=True),
            )
        )
    session.flush()
    return created
