"""A national dataset for load tests (issue K): every county's consultation with years of history.

``samrad demo --national`` builds 21 counties × 10 years by default: a meeting every other Monday
(26 a year), 3–8 discussed cases per held meeting with their agenda items and published agenda version,
20 invitees per meeting with their answers and attendance, and a closed evaluation with its counts;
the next meeting of each county has a full queue and a half-built agenda. Deterministic for a seed.

The structure of a county (organisations, people, the questionnaire) goes through the services; the
history is written with bulk inserts, so the whole country takes minutes, not hours. Case text is short
and fictitious, and purged where the retention rule would have purged it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select
from sqlmodel import Session

from samrad.clock import STOCKHOLM
from samrad.enums import (
    AgeBand,
    AgendaItemKind,
    Attendance,
    CaseCategory,
    CaseStatus,
    Exposer,
    InviteeKind,
    MeetingStatus,
    OrganisationType,
    RiskAssessment,
    Role,
    Rsvp,
    Sector,
    Sex,
    VideoProvider,
    Weekday,
)
from samrad.models import (
    AgendaItem,
    AgendaVersion,
    Case,
    CaseCategoryEntry,
    CaseExposerEntry,
    Consultation,
    Evaluation,
    EvaluationCount,
    Invitee,
    Meeting,
    Municipality,
    Organisation,
    User,
)
from samrad.models.evaluation import EvaluationStatus, QuestionKind, ScaleOption
from samrad.passwords import hash_password
from samrad.services import accounts, directory, evaluations
from samrad.services.cases.references import reference_prefix

#: The 21 counties (län), with the town where the consultation meets.
COUNTIES = (
    ("Stockholms län", "Stockholm"),
    ("Uppsala län", "Uppsala"),
    ("Södermanlands län", "Nyköping"),
    ("Östergötlands län", "Linköping"),
    ("Jönköpings län", "Jönköping"),
    ("Kronobergs län", "Växjö"),
    ("Kalmar län", "Kalmar"),
    ("Gotlands län", "Visby"),
    ("Blekinge län", "Karlskrona"),
    ("Skåne län", "Malmö"),
    ("Hallands län", "Halmstad"),
    ("Västra Götalands län", "Göteborg"),
    ("Värmlands län", "Karlstad"),
    ("Örebro län", "Örebro"),
    ("Västmanlands län", "Västerås"),
    ("Dalarnas län", "Falun"),
    ("Gävleborgs län", "Gävle"),
    ("Västernorrlands län", "Härnösand"),
    ("Jämtlands län", "Östersund"),
    ("Västerbottens län", "Umeå"),
    ("Norrbottens län", "Luleå"),
)
MUNICIPALITIES_PER_COUNTY = 14
CASE_OFFICERS_PER_COUNTY = 20
INVITEES_PER_MEETING = 20
#: Cases waiting for the next meeting in every county (the coordinator's full queue).
QUEUE = 18
#: The national dataset's accounts all have this password (printed by the command).
PASSWORD = "nationell-demo-2027"
DOMAIN = "nationell.samrad.example"
WELCOME_MINUTES = 10


@dataclass(frozen=True)
class NationalCounts:
    counties: int = 0
    meetings: int = 0
    cases: int = 0
    invitees: int = 0
    evaluations: int = 0

    def __add__(self, other: NationalCounts) -> NationalCounts:
        return NationalCounts(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (self.counties, self.meetings, self.cases, self.invitees, self.evaluations)


def county_slug(number: int) -> str:
    return f"lan{number:02d}-samrad"


def seed_national(
    session: Session,
    *,
    counties: int = len(COUNTIES),
    years: int = 10,
    seed: int = 2027,
    now: datetime,
    queue: int = QUEUE,
    progress: Callable[[str], None] = lambda _name: None,
) -> NationalCounts:
    """Create ``counties`` counties with ``years`` years of history each, up to ``now``, and ``queue``
    cases waiting for each county's next meeting."""
    password_hash = hash_password(PASSWORD)
    total = NationalCounts()
    for number, (county, town) in enumerate(COUNTIES[:counties], start=1):
        rng = random.Random(seed * 101 + number)
        total = total + _seed_county(
            session,
            number,
            county,
            town,
            years=years,
            queue=queue,
            rng=rng,
            now=now,
            password_hash=password_hash,
        )
        session.flush()
        progress(county)
    return total


# --- One county ----------------------------------------------------------------------------------------


@dataclass
class _County:
    consultation: Consultation
    municipality_ids: list[int]
    organisation_ids: list[int]
    members: list[User]
    officers: list[User]
    coordinator: User
    scale_question_ids: list[int]


def _seed_county(
    session: Session,
    number: int,
    county: str,
    town: str,
    *,
    years: int,
    queue: int,
    rng: random.Random,
    now: datetime,
    password_hash: str,
) -> NationalCounts:
    c = _structure(session, number, county, town, now=now, password_hash=password_hash)
    meetings = _meetings(session, c.consultation, years=years, now=now, rng=rng)
    held = [m for m in meetings if m.starts_at < now]
    upcoming = [m for m in meetings if m.starts_at >= now]
    cases = _history(session, c, held, rng=rng, now=now)
    invitees = _invitees(session, c, held, rng=rng)
    evaluated = _evaluations(session, c, held, rng=rng, now=now)
    _next_meeting(session, c, upcoming[0], queue=queue, rng=rng, now=now)
    return NationalCounts(1, len(meetings), cases + queue, invitees, evaluated)


def _structure(
    session: Session, number: int, county: str, town: str, *, now: datetime, password_hash: str
) -> _County:
    municipalities = [
        directory.save(session, Municipality(name=f"{town} {i}" if i else town, county=county))
        for i in range(MUNICIPALITIES_PER_COUNTY)
    ]

    def organisation(name: str, kind: OrganisationType, sector: Sector, municipality=None) -> Organisation:
        return directory.save(
            session,
            Organisation(
                name=name,
                type=kind,
                sector=sector,
                county=county,
                municipality_id=municipality.id if municipality else None,
            ),
        )

    social = [
        organisation(
            f"Socialtjänsten, {m.name} kommun", OrganisationType.SOCIAL_SERVICES, Sector.PUBLIC_AUTHORITY, m
        )
        for m in municipalities
    ]
    host = organisation(
        f"Kompetenscentrum mot våld, {town}",
        OrganisationType.CENTRE_AGAINST_VIOLENCE,
        Sector.PUBLIC_AUTHORITY,
    )
    police = organisation(f"Polisen, {county}", OrganisationType.POLICE, Sector.PUBLIC_AUTHORITY)
    region = organisation(f"Region, {county}", OrganisationType.HEALTH_CARE, Sector.PUBLIC_AUTHORITY)
    shelter = organisation(f"Kvinnojouren {town}", OrganisationType.WOMENS_SHELTER, Sector.CIVIL_SOCIETY)
    girls = organisation(f"Tjejjouren {town}", OrganisationType.GIRLS_SHELTER, Sector.CIVIL_SOCIETY)
    consultation = directory.save(
        session,
        Consultation(
            slug=county_slug(number),
            name=f"Regionalt samråd {county}",
            county=county,
            host_organisation_id=host.id,
            place=f"Kompetenscentrets lokaler, {town}",
            rhythm_weeks=2,
            weekday=Weekday.MONDAY,
            start_time=time(13, 0),
            case_deadline_days=7,
            video_provider=VideoProvider.JITSI,
            video_url="https://meet.jit.si",
        ),
    )
    seated = [police, region, shelter, girls, *social[:6]]
    directory.set_standing_seats(session, consultation, set(_ids(seated)))

    def person(local: str, name: str, org: Organisation | None, roles: tuple[Role, ...]) -> User:
        user = accounts.create_user(
            session, email=f"{local}.lan{number:02d}@{DOMAIN}", name=name, organisation=org
        )
        user.password_hash = password_hash
        user.password_changed_at = now
        for role in roles:
            directory.grant_role(session, user, consultation, role)
        return user

    coordinator = person("samordnare", f"Samordnare {county}", host, (Role.COORDINATOR, Role.MEMBER))
    person("statistik", f"Statistik {county}", None, (Role.STATISTICS_VIEWER,))
    members = [
        person(f"ledamot{i}", f"Ledamot {i} {town}", org, (Role.MEMBER,)) for i, org in enumerate(seated)
    ]
    officers = [
        person(f"handlaggare{i}", f"Handläggare {i} {town}", social[i % len(social)], (Role.CASE_OFFICER,))
        for i in range(CASE_OFFICERS_PER_COUNTY)
    ]
    questionnaire = evaluations.ensure_questionnaire(session, consultation, now=now)
    session.flush()
    return _County(
        consultation=consultation,
        municipality_ids=_ids(municipalities),
        organisation_ids=_ids(social),
        members=[coordinator, *members],
        officers=officers,
        coordinator=coordinator,
        scale_question_ids=_ids(q for q in questionnaire.questions if q.kind == QuestionKind.SCALE),
    )


def _ids(rows: Iterable) -> list[int]:
    return [row.id for row in rows if row.id is not None]


def _mondays(first: date, last: date) -> Iterator[date]:
    day = first + timedelta(days=(0 - first.weekday()) % 7)
    while day <= last:
        yield day
        day += timedelta(weeks=2)


def _meetings(
    session: Session, consultation: Consultation, *, years: int, now: datetime, rng: random.Random
) -> list[Meeting]:
    today = now.astimezone(STOCKHOLM).date()
    first = today - timedelta(weeks=52 * years)
    rows = []
    for day in _mondays(first, today + timedelta(weeks=26)):
        starts_at = datetime.combine(day, time(13, 0), tzinfo=STOCKHOLM).astimezone(UTC)
        past = starts_at < now
        rows.append(
            {
                "public_id": f"{rng.getrandbits(128):032x}",
                "consultation_id": consultation.id,
                "starts_at": starts_at,
                "length_minutes": 120,
                "place": consultation.place,
                "case_deadline_at": starts_at - timedelta(days=7),
                "status": MeetingStatus.CLOSED if past else MeetingStatus.PLANNED,
                "published_version": 1 if past else 0,
                "from_series": True,
                "series_date": day,
                "created_at": starts_at - timedelta(weeks=26),
                "closed_at": starts_at + timedelta(hours=2) if past else None,
            }
        )
    session.execute(insert(Meeting), rows)
    return list(
        session.scalars(
            select(Meeting).where(Meeting.consultation_id == consultation.id).order_by(Meeting.starts_at)
        )
    )


def _case_row(c: _County, rng: random.Random, *, status: CaseStatus, at: datetime, now: datetime) -> dict:
    purged = status in (CaseStatus.DISCUSSED, CaseStatus.CLOSED) and now - at > timedelta(days=40)
    officer = rng.choice(c.officers)
    return {
        "consultation_id": c.consultation.id,
        "organisation_id": rng.choice(c.organisation_ids),
        "officer_id": officer.id,
        "status": status,
        "is_training": False,
        "sex": rng.choice(list(Sex)),
        "age_band": rng.choice(list(AgeBand)),
        "municipality_id": rng.choice(c.municipality_ids),
        "risk_assessment": rng.choice(list(RiskAssessment)),
        "report_of_concern_made": rng.random() < 0.6,
        "questions": "" if purged else "Hur kan vi stötta den unga utan att öka risken?",
        "background": "" if purged else "Den unga berättar om kontroll i hemmet och oro inför sommaren.",
        "presentation_minutes": rng.choice((15, 20, 25)),
        "attested_deidentified": True,
        "created_at": at,
        "submitted_at": at,
        "updated_at": at,
        "text_purged_at": now if purged else None,
    }


class _References:
    """UNA-2026-014 style references per year, as the app gives them."""

    def __init__(self, consultation: Consultation):
        self.prefix = reference_prefix(consultation)
        self.next: dict[int, int] = {}

    def __call__(self, at: datetime) -> dict:
        year = at.astimezone(STOCKHOLM).year
        number = self.next.get(year, 1)
        self.next[year] = number + 1
        return {
            "reference": f"{self.prefix}-{year}-{number:03d}",
            "reference_year": year,
            "reference_number": number,
        }


def _history(session: Session, c: _County, held: list[Meeting], *, rng: random.Random, now: datetime) -> int:
    """3–8 discussed cases on every held meeting, their agenda items and the published version."""
    references = _References(c.consultation)
    rows, per_meeting = [], []
    for meeting in held:
        n = rng.randint(3, 8)
        per_meeting.append(n)
        for _ in range(n):
            at = meeting.starts_at - timedelta(days=rng.randint(8, 20), hours=rng.randint(0, 6))
            status = (
                CaseStatus.DISCUSSED if now - meeting.starts_at < timedelta(days=60) else CaseStatus.CLOSED
            )
            row = _case_row(c, rng, status=status, at=at, now=now)
            row.update(references(at), meeting_id=meeting.id, last_discussed_at=meeting.starts_at)
            if status == CaseStatus.CLOSED:
                row["closed_at"] = meeting.starts_at + timedelta(days=30)
            rows.append(row)
    session.execute(insert(Case), rows)
    cases = list(
        session.execute(
            select(Case.id, Case.meeting_id, Case.reference, Case.presentation_minutes)
            .where(Case.consultation_id == c.consultation.id)
            .order_by(Case.id)
        )
    )
    _categories(session, [case.id for case in cases], rng)
    by_meeting: dict[int, list] = {}
    for case in cases:
        by_meeting.setdefault(case.meeting_id, []).append(case)
    items: list[dict[str, object]] = []
    for meeting in held:
        items.append(
            {
                "meeting_id": meeting.id,
                "position": 0,
                "kind": AgendaItemKind.WELCOME,
                "title": "Välkommen och samrådets regler",
                "duration_minutes": WELCOME_MINUTES,
            }
        )
        for position, case in enumerate(by_meeting.get(meeting.id, []), start=1):
            items.append(
                {
                    "meeting_id": meeting.id,
                    "position": position,
                    "kind": AgendaItemKind.CASE,
                    "case_id": case.id,
                    "duration_minutes": case.presentation_minutes,
                    "advice": "",
                    "discussed_at": meeting.starts_at + timedelta(minutes=15 * position),
                }
            )
    session.execute(insert(AgendaItem), items)
    _published_versions(session, c, held)
    return len(rows)


def _categories(session: Session, case_ids: list[int], rng: random.Random) -> None:
    session.execute(
        insert(CaseCategoryEntry),
        [{"case_id": i, "category": rng.choice(list(CaseCategory))} for i in case_ids],
    )
    session.execute(
        insert(CaseExposerEntry), [{"case_id": i, "exposer": rng.choice(list(Exposer))} for i in case_ids]
    )


def _published_versions(session: Session, c: _County, held: list[Meeting]) -> None:
    """Version 1 of every held meeting's agenda, in the form the publishing service stores."""
    meeting_ids = [m.id for m in held]
    items = session.execute(
        select(AgendaItem.id, AgendaItem.meeting_id, AgendaItem.kind, AgendaItem.case_id, AgendaItem.title)
        .add_columns(AgendaItem.duration_minutes, Case.reference)
        .outerjoin(Case, Case.id == AgendaItem.case_id)
        .where(AgendaItem.meeting_id.in_(meeting_ids))
        .order_by(AgendaItem.meeting_id, AgendaItem.position)
    )
    snapshots: dict[int, list[dict]] = {}
    offsets: dict[int, int] = {}
    for item in items:
        offset = offsets.get(item.meeting_id, 0)
        snapshots.setdefault(item.meeting_id, []).append(
            {
                "item_id": item.id,
                "kind": item.kind.value,
                "case_id": item.case_id,
                "reference": item.reference,
                "title": item.title,
                "offset": offset,
                "duration": item.duration_minutes,
            }
        )
        offsets[item.meeting_id] = offset + item.duration_minutes
    session.execute(
        insert(AgendaVersion),
        [
            {
                "meeting_id": m.id,
                "version": 1,
                "published_at": m.starts_at - timedelta(days=5),
                "published_by_id": c.coordinator.id,
                "snapshot": json.dumps(snapshots.get(m.id, []), ensure_ascii=False),
                "changes": "[]",
            }
            for m in held
        ],
    )


def _invitees(session: Session, c: _County, held: list[Meeting], *, rng: random.Random) -> int:
    rows = []
    people = [*c.members, *c.officers]
    for meeting in held:
        for person in people[:INVITEES_PER_MEETING]:
            answer = rng.choices((Rsvp.ON_SITE, Rsvp.VIA_LINK, Rsvp.CANNOT_ATTEND), (5, 3, 2))[0]
            attended = {Rsvp.ON_SITE: Attendance.ON_SITE, Rsvp.VIA_LINK: Attendance.VIA_LINK}.get(
                answer, Attendance.ABSENT
            )
            rows.append(
                {
                    "meeting_id": meeting.id,
                    "user_id": person.id,
                    "email": person.email,
                    "kind": InviteeKind.STANDING,
                    "rsvp": answer,
                    "rsvp_at": meeting.starts_at - timedelta(days=3),
                    "attendance": attended,
                    "sent_sequence": 0,
                    "confidentiality_confirmed_at": meeting.starts_at
                    if attended != Attendance.ABSENT
                    else None,
                }
            )
    session.execute(insert(Invitee), rows)
    return len(rows)


def _evaluations(
    session: Session, c: _County, held: list[Meeting], *, rng: random.Random, now: datetime
) -> int:
    """A closed evaluation with its counts for every held meeting that is over a week old."""
    questionnaire_id = evaluations.ensure_questionnaire(session, c.consultation, now=now).id
    done = [m for m in held if now - m.starts_at > timedelta(days=8)]
    session.execute(
        insert(Evaluation),
        [
            {
                "public_id": f"{rng.getrandbits(128):032x}",
                "meeting_id": m.id,
                "questionnaire_id": questionnaire_id,
                "status": EvaluationStatus.CLOSED,
                "opened_at": m.starts_at + timedelta(hours=2),
                "closes_at": m.starts_at + timedelta(days=7),
                "closed_at": m.starts_at + timedelta(days=7),
                "respondents": rng.randint(8, 16),
            }
            for m in done
        ],
    )
    counted = session.execute(
        select(Evaluation.id, Evaluation.respondents)
        .join(Meeting, Meeting.id == Evaluation.meeting_id)
        .where(Meeting.consultation_id == c.consultation.id)
    )
    counts = []
    options = (ScaleOption.AGREE_FULLY, ScaleOption.AGREE_PARTLY, ScaleOption.DISAGREE)
    for evaluation in counted:
        for question_id in c.scale_question_ids:
            fully = rng.randint(evaluation.respondents // 2, evaluation.respondents)
            partly = rng.randint(0, evaluation.respondents - fully)
            for option, n in zip(
                options, (fully, partly, evaluation.respondents - fully - partly), strict=True
            ):
                counts.append(
                    {"evaluation_id": evaluation.id, "question_id": question_id, "option": option, "n": n}
                )
    session.execute(insert(EvaluationCount), counts)
    return len(done)


def _next_meeting(
    session: Session, c: _County, meeting: Meeting, *, queue: int, rng: random.Random, now: datetime
) -> None:
    """The coordinator's work ahead: a full queue for the next meeting, a third of it already accepted."""
    references = _References(c.consultation)
    last = session.execute(
        select(Case.reference_year, Case.reference_number)
        .where(Case.consultation_id == c.consultation.id)
        .order_by(Case.reference_year.desc(), Case.reference_number.desc())
        .limit(1)
    ).first()
    if last:
        references.next[last.reference_year] = last.reference_number + 1
    rows = []
    for n in range(queue):
        at = now - timedelta(days=rng.randint(1, 12), hours=n)
        accepted = n % 3 == 0
        row = _case_row(
            c, rng, status=CaseStatus.ACCEPTED if accepted else CaseStatus.SUBMITTED, at=at, now=now
        )
        row.update(
            references(at), requested_meeting_id=meeting.id, meeting_id=meeting.id if accepted else None
        )
        rows.append(row)
    session.execute(insert(Case), rows)
    waiting = list(
        session.execute(
            select(Case.id, Case.status, Case.presentation_minutes)
            .where(Case.consultation_id == c.consultation.id)
            .where(Case.status.in_((CaseStatus.SUBMITTED, CaseStatus.ACCEPTED)))
            .order_by(Case.id)
        )
    )
    _categories(session, [case.id for case in waiting], rng)
    items = [
        {
            "meeting_id": meeting.id,
            "position": 0,
            "kind": AgendaItemKind.WELCOME,
            "title": "Välkommen och samrådets regler",
            "duration_minutes": WELCOME_MINUTES,
        }
    ]
    on_agenda = [case for case in waiting if case.status == CaseStatus.ACCEPTED]
    for position, case in enumerate(on_agenda, start=1):
        items.append(
            {
                "meeting_id": meeting.id,
                "position": position,
                "kind": AgendaItemKind.CASE,
                "case_id": case.id,
                "duration_minutes": case.presentation_minutes,
            }
        )
    session.execute(insert(AgendaItem), items)
    people = [*c.members, *c.officers][:INVITEES_PER_MEETING]
    session.execute(
        insert(Invitee),
        [
            {
                "meeting_id": meeting.id,
                "user_id": person.id,
                "email": person.email,
                "kind": InviteeKind.STANDING,
                "rsvp": rng.choice(list(Rsvp)),
                "sent_sequence": 0,
            }
            for person in people
        ],
    )
    session.flush()
