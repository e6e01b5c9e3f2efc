"""The statistics queries on SQLite and PostgreSQL: exact counts, exclusions, boundaries, suppression."""

from __future__ import annotations

from datetime import date

import pytest

from samrad.enums import (
    AgeBand,
    Attendance,
    CaseCategory,
    CaseStatus,
    Exposer,
    InviteeKind,
    MeetingStatus,
    OrganisationType,
    RiskAssessment,
    Role,
    Sex,
)
from samrad.periods import all_years_period, custom_period, month_period, year_period
from samrad.services.access import Action, actor_for, consultations_where
from samrad.services.statistics import NotAStandardPeriod, consultation_statistics
from tests.factories import (
    at,
    attend,
    discuss,
    make_case,
    make_consultation,
    make_held_meeting,
    make_meeting,
    make_municipality,
    make_organisation,
    make_user,
)

YEAR = year_period(2027)


def texts(table):
    return {row.key: row.count.text for row in table.rows}


def labelled(table):
    return [(row.label, row.count.text) for row in table.rows]


def build_year(session):
    """Eleven real cases in 2027 with chosen breakdowns, and cases that must not count."""
    consultation = make_consultation(session, slug="una", name="Una")
    other = make_consultation(session, slug="annat", name="Annat samråd")
    m = {name: make_municipality(session, name=name) for name in ("Luleå", "Boden", "Kiruna", "Pajala")}
    social = make_organisation(session, name="Socialtjänsten Luleå", municipality_id=m["Luleå"].id)
    school = make_organisation(session, name="Skolan", type=OrganisationType.SCHOOL)
    municipality = ["Luleå"] * 5 + ["Boden"] * 3 + ["Kiruna"] * 2 + ["Pajala"]
    sexes = [Sex.FEMALE] * 6 + [Sex.MALE] * 4 + [Sex.OTHER_UNKNOWN]
    for i in range(11):
        categories = [CaseCategory.HONOUR_VIOLENCE] if i < 9 else [CaseCategory.PARTNER_VIOLENCE]
        if i in (0, 1, 9, 10):
            categories.append(CaseCategory.FORCED_MARRIAGE)
        if i == 2:
            categories.append(CaseCategory.CHILD_MARRIAGE)
        exposers = [Exposer.PARENT] if i < 9 else [Exposer.PARTNER]
        if i in (0, 1, 2):
            exposers.append(Exposer.SIBLING)
        if i in (3, 4):
            exposers.append(Exposer.RELATIVE)
        make_case(
            session,
            consultation,
            social if i < 8 else school,
            submitted_at=at(2027, 1 + i, 10),
            status=[CaseStatus.SUBMITTED, CaseStatus.DISCUSSED, CaseStatus.CLOSED, CaseStatus.RETURNED][
                i % 4
            ],
            sex=sexes[i],
            age_band=AgeBand.TEEN if i < 6 else AgeBand.YOUNG_ADULT,
            municipality=m[municipality[i]],
            risk_assessment=RiskAssessment.PATRIARK if i < 5 else RiskAssessment.NONE,
            report_of_concern_made=i < 3,
            categories=categories,
            exposers=exposers,
        )
    # None of these may count in 2027.
    make_case(
        session,
        consultation,
        social,
        submitted_at=at(2027, 3, 3),
        is_training=True,
        sex=Sex.MALE,
        municipality=m["Pajala"],
    )
    make_case(
        session, consultation, social, submitted_at=None, status=CaseStatus.DRAFT, municipality=m["Pajala"]
    )
    make_case(session, consultation, social, submitted_at=at(2027, 4, 4), status=CaseStatus.WITHDRAWN)
    make_case(session, other, social, submitted_at=at(2027, 5, 5), municipality=m["Pajala"])
    # 2027-12-31 23:30 UTC is already 2028 in Stockholm.
    make_case(session, consultation, social, submitted_at=at(2027, 12, 31, 23).replace(minute=30))
    return consultation, m


def test_breakdowns_count_exactly_the_real_submitted_cases(session):
    consultation, _ = build_year(session)
    stats = consultation_statistics(session, consultation, YEAR, threshold=3)
    assert stats.cases_submitted.text == "11"
    tables = {t.key: t for t in stats.breakdowns}
    assert texts(tables["sex"]) == {"female": "6", "male": "..", "other_unknown": "<3"}
    assert texts(tables["age_band"]) == {"0-12": "0", "13-17": "6", "18-26": "5", "27-64": "0", "65+": "0"}
    assert texts(tables["risk_assessment"]) == {"patriark": "5", "other": "0", "none": "6"}
    assert texts(tables["report_of_concern"]) == {"yes": "3", "no": "8"}
    assert labelled(tables["municipality"]) == [
        ("Luleå", "5"),
        ("Boden", "3"),
        ("Övriga kommuner", "3"),
        ("Kommun ej angiven", "0"),
    ]
    org = texts(tables["organisation_type"])
    assert (org["social_services"], org["school"], org["police"]) == ("8", "3", "0")
    # Multi-select: child marriage 1 and partner violence 2 are small; forced marriage (4), the smallest
    # published non-zero cell, is hidden as well.
    assert texts(tables["category"]) == {
        "honour_violence": "9",
        "child_marriage": "<3",
        "forced_marriage": "..",
        "genital_mutilation": "0",
        "taken_abroad": "0",
        "partner_violence": "<3",
        "prostitution_trafficking": "0",
        "other": "0",
    }
    assert texts(tables["exposer"]) == {
        "parent": "9",
        "sibling": "..",
        "partner": "<3",
        "relative": "<3",
        "other": "0",
    }
    months = texts(stats.cases_by_month)
    assert len(months) == 12
    # One case in each month January–November: every non-zero cell is small, so the table is withheld.
    assert set(months.values()) == {".."}


def test_a_month_shows_what_its_year_shows_and_no_breakdowns(session):
    consultation, _ = build_year(session)
    january = consultation_statistics(session, consultation, month_period(2027, 1), threshold=3)
    # The year's months are all withheld (see above), so January is too: the same mark in every view.
    assert january.cases_submitted.text == ".."
    assert [(row.key, row.count.text) for row in january.cases_by_month.rows] == [("2027-01", "..")]
    # Breakdowns, discussions and waiting time are published per year only.
    assert january.breakdowns == () and january.meetings_per_case is None
    assert (january.cases_discussed, january.waiting_days, january.yearly) == (None, None, False)
    assert "cases_discussed" not in {row.key for row in january.summary.rows}


def test_only_standard_periods_are_published(session):
    consultation, _ = build_year(session)
    with pytest.raises(NotAStandardPeriod):
        consultation_statistics(
            session, consultation, custom_period(date(2027, 1, 1), date(2027, 2, 9)), threshold=3
        )


def test_periods_follow_stockholm_midnight(session):
    consultation = make_consultation(session)
    org = make_organisation(session)
    for _ in range(3):
        make_case(session, consultation, org, submitted_at=at(2026, 12, 31, 22).replace(minute=30))  # 23:30
        make_case(session, consultation, org, submitted_at=at(2026, 12, 31, 23).replace(minute=30))  # 00:30
    december = consultation_statistics(session, consultation, month_period(2026, 12), threshold=3)
    january = consultation_statistics(session, consultation, month_period(2027, 1), threshold=3)
    assert [(row.key, row.count.text) for row in december.cases_by_month.rows] == [("2026-12", "3")]
    assert [(row.key, row.count.text) for row in january.cases_by_month.rows] == [("2027-01", "3")]
    assert consultation_statistics(session, consultation, YEAR, threshold=3).cases_submitted.text == "3"
    everything = consultation_statistics(session, consultation, all_years_period(2027, 2027), threshold=3)
    assert (everything.period.first, everything.period.last) == (date(2026, 1, 1), date(2027, 12, 31))
    assert [(row.key, row.count.text) for row in everything.cases_by_month.rows] == [
        ("2026", "3"),
        ("2027", "3"),
    ]
    assert everything.cases_submitted.text == "6"


def test_a_higher_threshold_suppresses_more(session):
    consultation, _ = build_year(session)
    stats = consultation_statistics(session, consultation, YEAR, threshold=4)
    tables = {t.key: t for t in stats.breakdowns}
    assert labelled(tables["municipality"]) == [
        ("Luleå", "5"),
        ("Övriga kommuner", "6"),
        ("Kommun ej angiven", "0"),
    ]
    assert texts(tables["report_of_concern"]) == {"yes": "..", "no": ".."}


def test_a_municipality_with_one_case_is_never_named(session):
    consultation, _ = build_year(session)
    stats = consultation_statistics(session, consultation, YEAR, threshold=3)
    names = {row.label for table in stats.tables for row in table.rows}
    assert "Pajala" not in names and "Kiruna" not in names


def test_meetings_discussions_and_waiting_time(session):
    consultation = make_consultation(session)
    org = make_organisation(session)
    held = [make_held_meeting(session, consultation, at(2027, 3, d)) for d in (1, 15, 29)]
    cancelled = make_meeting(session, consultation, at(2027, 4, 12), status=MeetingStatus.CANCELLED)
    make_meeting(session, consultation, at(2027, 4, 26), status=MeetingStatus.PLANNED)
    make_held_meeting(session, consultation, at(2028, 1, 10))  # another year
    cases = [make_case(session, consultation, org, submitted_at=at(2027, 2, 20)) for _ in range(5)]
    # Case 0 at three meetings, case 1 at two, cases 2–4 once; first discussed after 9, 23, 9, 23, 37 days.
    for meeting in held:
        discuss(session, meeting, cases[0])
    discuss(session, held[1], cases[1])
    discuss(session, held[2], cases[1])
    discuss(session, held[0], cases[2])
    discuss(session, held[1], cases[3])
    discuss(session, held[2], cases[4])
    # Not discussions: cancelled meeting, on the agenda but not discussed, a training case.
    discuss(session, cancelled, cases[3])
    discuss(
        session, held[0], make_case(session, consultation, org, submitted_at=at(2027, 2, 1)), discussed=False
    )
    training = make_case(session, consultation, org, submitted_at=at(2027, 2, 1), is_training=True)
    discuss(session, held[0], training)

    stats = consultation_statistics(session, consultation, YEAR, threshold=3)
    assert (stats.meetings_held, stats.meetings_cancelled, stats.meetings_planned) == (3, 1, 1)
    assert [(m.month.month, m.held) for m in stats.meetings_by_month if m.held] == [(3, 3)]
    assert stats.cases_discussed.text == "5"
    assert stats.cases_submitted.text == "6"
    # 3, 1 and 1 cases: two small cells and only one other to hide, so the table is withheld.
    assert texts(stats.meetings_per_case) == {"1": "..", "2": "..", "3+": ".."}
    assert (stats.waiting_days.median, stats.waiting_days.shortest, stats.waiting_days.longest) == (23, 9, 37)

    # A month shows its meetings exactly; discussions and waiting time only in the year's view.
    march = consultation_statistics(session, consultation, month_period(2027, 3), threshold=3)
    assert (march.meetings_held, march.cases_discussed, march.waiting_days) == (3, None, None)
    april = consultation_statistics(session, consultation, month_period(2027, 4), threshold=3)
    assert (april.meetings_held, april.meetings_cancelled, april.meetings_planned) == (0, 1, 1)


def test_follow_ups_are_counted_per_case_within_the_period(session):
    consultation = make_consultation(session)
    org = make_organisation(session)
    meetings = [make_held_meeting(session, consultation, at(2027, 9, d)) for d in (6, 20)]
    cases = [make_case(session, consultation, org, submitted_at=at(2027, 8, 1)) for _ in range(7)]
    for case in cases[:3]:
        discuss(session, meetings[0], case)
        discuss(session, meetings[1], case)
    for case in cases[3:]:
        discuss(session, meetings[0], case)
    stats = consultation_statistics(session, consultation, YEAR, threshold=3)
    assert texts(stats.meetings_per_case) == {"1": "4", "2": "3", "3+": "0"}
    assert stats.meetings_per_case.total.text == "7"


def test_attendance_counts_standing_members_per_organisation(session):
    consultation = make_consultation(session)
    lulea, pajala, kiruna = (make_municipality(session, name=n) for n in ("Luleå", "Pajala", "Kiruna"))
    police = make_organisation(session, name="Polisen", type=OrganisationType.POLICE)
    soc_lulea = make_organisation(session, name="Socialtjänsten Luleå", municipality_id=lulea.id)
    soc_pajala = make_organisation(session, name="Socialtjänsten Pajala", municipality_id=pajala.id)
    soc_kiruna = make_organisation(session, name="Socialtjänsten Kiruna", municipality_id=kiruna.id)
    from samrad.services import directory

    directory.set_standing_seats(session, consultation, {police.id, soc_lulea.id, soc_pajala.id})
    officer = make_user(session, organisation=police)
    lulea_member = make_user(session, organisation=soc_lulea)
    presenter = make_user(session, organisation=soc_kiruna)
    meetings = [make_held_meeting(session, consultation, at(2027, 5, d)) for d in (3, 17, 31)]
    for meeting in meetings:
        attend(session, meeting, officer)
    attend(session, meetings[0], lulea_member, attendance=Attendance.VIA_LINK)
    attend(session, meetings[1], lulea_member, attendance=Attendance.ABSENT)
    attend(session, meetings[2], presenter, kind=InviteeKind.PRESENTER)  # would reveal where a case is from
    planned = make_meeting(session, consultation, at(2027, 6, 14), status=MeetingStatus.PLANNED)
    attend(session, planned, lulea_member)

    stats = consultation_statistics(session, consultation, YEAR, threshold=3)
    assert labelled(stats.attendance) == [
        ("Polisen", "3"),
        ("Socialtjänsten Luleå", "<3"),
        ("Socialtjänsten Pajala", "0"),
    ]
    assert (stats.municipalities_taking_part, stats.municipalities_with_seat) == (1, 2)


def test_an_empty_period_has_zeros_everywhere(session):
    consultation, _ = build_year(session)
    stats = consultation_statistics(session, consultation, year_period(2031), threshold=3)
    assert (stats.cases_submitted.text, stats.cases_discussed.text, stats.meetings_held) == ("0", "0", 0)
    assert not stats.has_meetings and stats.waiting_days is None
    assert all(t.empty for t in stats.breakdowns)
    assert {row.count.text for t in stats.breakdowns for row in t.rows} == {"0"}


def test_statistics_access_follows_roles(session):
    a = make_consultation(session, name="A")
    b = make_consultation(session, name="B")
    coordinator = make_user(session, roles=[Role.COORDINATOR], consultation=a)
    viewer = make_user(session, roles=[Role.STATISTICS_VIEWER], consultation=b)
    member = make_user(session, roles=[Role.MEMBER, Role.CASE_OFFICER], consultation=a)
    admin = make_user(session, is_admin=True)
    assert [c.name for c in consultations_where(session, actor_for(coordinator), Action.VIEW_STATISTICS)] == [
        "A"
    ]
    assert [c.name for c in consultations_where(session, actor_for(viewer), Action.VIEW_STATISTICS)] == ["B"]
    assert consultations_where(session, actor_for(member), Action.VIEW_STATISTICS) == []
    # The administrator's flag runs the register; it reads no statistics without a role.
    assert consultations_where(session, actor_for(admin), Action.VIEW_STATISTICS) == []
