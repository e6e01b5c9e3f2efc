"""The statistics pages: access, filters and bad input, exports, no re-identification, query counts."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from samrad import db
from samrad.enums import (
    AgeBand,
    Attendance,
    CaseCategory,
    Exposer,
    InviteeKind,
    MeetingStatus,
    OrganisationType,
    RiskAssessment,
    Role,
    Sex,
)
from samrad.models import ConsultationRole
from samrad.services import directory
from tests.factories import (
    BACKGROUND,
    PASSWORD,
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

YEAR = "/stats/?consultation=una&period=year&year=2027"


class CellParser(HTMLParser):
    """Collects {(table, row): text} from the tables marked with data-table / data-row."""

    def __init__(self):
        super().__init__()
        self.cells, self.table, self.row, self.in_td, self.text = {}, None, None, False, ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self.table = attrs["data-table"]
        elif tag == "tr" and self.table:
            self.row = attrs.get("data-row")
        elif tag == "td" and self.row:
            self.in_td, self.text = True, ""

    def handle_endtag(self, tag):
        if tag == "td" and self.in_td:
            self.cells[(self.table, self.row)] = self.text.strip()
            self.in_td = False
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.in_td:
            self.text += data


def dashboard_cells(html: str) -> dict:
    parser = CellParser()
    parser.feed(html)
    return parser.cells


def export_text(value) -> str:
    """An exported value as the Swedish dashboard writes it (decimal comma)."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace(".", ",") if re.fullmatch(r"\d+\.\d+", text) else text


def seed(web_session):
    """Una with a year of cases (one from Pajala), a training case, meetings and attendance."""
    una = make_consultation(web_session, slug="una", name="Una Norrbotten")
    other = make_consultation(web_session, slug="annat", name="Hemligt samråd")
    lulea, boden, kiruna, pajala = (
        make_municipality(web_session, name=n) for n in ("Luleå", "Boden", "Kiruna", "Pajala")
    )
    social = make_organisation(web_session, name="Socialtjänsten, Luleå kommun", municipality_id=lulea.id)
    police = make_organisation(web_session, name="Polisen", type=OrganisationType.POLICE)
    directory.set_standing_seats(web_session, una, {social.id, police.id})
    coordinator = make_user(
        web_session,
        email="samordnare@una.example",
        roles=[Role.COORDINATOR],
        consultation=una,
        organisation=social,
    )
    make_user(web_session, email="statistik@lst.example", roles=[Role.STATISTICS_VIEWER], consultation=una)
    make_user(
        web_session,
        email="medlem@polisen.example",
        roles=[Role.MEMBER, Role.CASE_OFFICER],
        consultation=una,
        organisation=police,
    )
    make_user(web_session, email="admin@region.example", is_admin=True)
    places = [lulea] * 6 + [boden] * 3 + [kiruna] * 2 + [pajala]
    cases = [
        make_case(
            web_session,
            una,
            social,
            submitted_at=at(2027, 2 + i % 3, 3 + i),
            municipality=place,
            sex=Sex.FEMALE if i < 8 else Sex.MALE,
            age_band=AgeBand.TEEN,
            risk_assessment=RiskAssessment.PATRIARK if i % 2 else RiskAssessment.NONE,
            categories=(CaseCategory.HONOUR_VIOLENCE,),
            exposers=(Exposer.PARENT,),
        )
        for i, place in enumerate(places)
    ]
    # A fictitious training case from Pajala and a case of another consultation: never counted.
    training = make_case(
        web_session,
        una,
        social,
        submitted_at=at(2027, 3, 1),
        is_training=True,
        municipality=pajala,
        sex=Sex.OTHER_UNKNOWN,
    )
    make_case(web_session, other, social, submitted_at=at(2027, 3, 1), municipality=pajala)
    meetings = [make_held_meeting(web_session, una, at(2027, 5, d)) for d in (3, 17, 31)]
    make_meeting(web_session, una, at(2027, 6, 14), status=MeetingStatus.CANCELLED)
    for i, case in enumerate(cases):
        discuss(web_session, meetings[i % 3], case)
    discuss(web_session, meetings[0], training)
    for meeting in meetings:
        attend(web_session, meeting, coordinator)
    web_session.commit()
    return una


def login(auth, email):
    response = auth.login(email, PASSWORD)
    assert response.status_code in (302, 303)


# --- Access ----------------------------------------------------------------------------------------


def test_statistics_need_login_and_a_statistics_role(client, auth, web_session):
    seed(web_session)
    assert client.get(YEAR).status_code == 302
    login(auth, "medlem@polisen.example")
    for path in (YEAR, "/stats/export.csv?consultation=una", "/stats/export.xlsx", "/stats/report"):
        assert client.get(path).status_code == 403, path


def test_administrators_see_no_statistics_without_a_role(client, auth, web_session):
    seed(web_session)
    login(auth, "admin@region.example")
    assert client.get(YEAR).status_code == 403


@pytest.mark.parametrize("email", ["samordnare@una.example", "statistik@lst.example"])
def test_coordinators_and_statistics_viewers_see_the_dashboard(client, auth, web_session, email):
    seed(web_session)
    login(auth, email)
    response = client.get(YEAR)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 id="stats-heading">Una Norrbotten, 2027</h2>' in html
    cells = dashboard_cells(html)
    assert cells[("summary", "cases_submitted")] == "12"
    assert cells[("summary", "meetings_held")] == "3"
    assert cells[("summary", "meetings_cancelled")] == "1"
    assert cells[("attendance", str(_org_id(web_session, "Socialtjänsten, Luleå kommun")))] == "3"
    assert "Hemligt samråd" not in html  # a consultation where they hold no role


def _org_id(web_session, name):
    from sqlmodel import select

    from samrad.models import Organisation

    return web_session.exec(select(Organisation).where(Organisation.name == name)).one().id


def test_a_consultation_without_a_role_is_refused_like_an_unknown_one(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    for slug in ("annat", "finns-inte"):
        response = client.get(f"/stats/?consultation={slug}&period=year&year=2027")
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'id="consultation-error"' in html and "Välj ett samråd i listan." in html
        assert "Hemligt samråd" not in html and 'data-table="summary"' not in html


# --- Filters and bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("period=week&year=2027", "period", "Välj månad, termin, år eller alla år."),
        # From–to dates would let two views differ by a day (docs/statistics.md): refused.
        ("period=custom&start=2027-03-01&end=2027-03-10", "period", "Välj månad, termin, år eller alla år."),
        ("period=year&year=tjugo", "year", "Skriv ett år från 2000 till 2100."),
        ("period=year&year=1899", "year", "Skriv ett år från 2000 till 2100."),
        ("period=month&year=2027&month=13", "month", "Välj en månad i listan."),
        ("period=term&year=2027&term=sommar", "term", "Välj vårtermin eller hösttermin."),
    ],
)
def test_bad_filter_values_get_a_message_next_to_the_field(client, auth, web_session, query, field, message):
    seed(web_session)
    login(auth, "samordnare@una.example")
    for path in ("/stats/", "/stats/export.csv", "/stats/export.xlsx"):
        response = client.get(f"{path}?consultation=una&{query}")
        html = response.get_data(as_text=True)
        assert response.status_code == 400, (path, query)
        assert f'id="{field}-error"' in html, (path, query)
        if message:
            # One message next to the field: never WTForms' "not a valid integer" as well.
            [shown] = re.findall(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
            assert re.sub(r"<[^>]+>|\s+", " ", shown).strip() == message, (path, query)
        assert 'data-table="summary"' not in html


def test_month_term_all_years_and_default_periods(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    cases = {
        "period=month&year=2027&month=5": ("maj 2027", "3"),
        "period=term&year=2027&term=vt": ("vårtermin 2027", "3"),
        "period=term&year=2027&term=ht": ("hösttermin 2027", "0"),
        "period=all": ("alla år (2027)", "3"),
    }
    for query, (label, held) in cases.items():
        html = client.get(f"/stats/?consultation=una&{query}").get_data(as_text=True)
        assert f"Una Norrbotten, {label}</h2>" in html, query
        assert dashboard_cells(html)[("summary", "meetings_held")] == held, query
    default = client.get("/stats/")
    assert default.status_code == 200 and 'data-table="summary"' in default.get_data(as_text=True)
    from_start_page = client.get("/stats/?consultation=una")  # the link on the start page
    assert from_start_page.status_code == 200
    assert (
        '<input checked id="period-2" name="period" type="radio" value="year">'
        in from_start_page.get_data(as_text=True)
    )


def test_the_kept_rendering_follows_the_data_the_filter_and_the_language(client, auth, web_session):
    """The dashboard's tables and charts are kept with the counted view: a committed change, another
    filter of the same view and another language each show what rendering afresh would."""
    una = seed(web_session)
    login(auth, "samordnare@una.example")

    def shown(path=YEAR):
        html = client.get(path).get_data(as_text=True)
        return dashboard_cells(html)[("summary", "cases_submitted")], html

    assert shown()[0] == "12"
    make_case(web_session, una, make_organisation(web_session, name="Ny"), submitted_at=at(2027, 9, 1))
    web_session.commit()
    assert shown()[0] == "13"
    # The same view asked with another filter (the month is not used for a year) links its exports with it.
    count, html = shown(YEAR + "&month=5")
    assert (
        count == "13"
        and "/stats/export.csv?consultation=una&amp;period=year&amp;year=2027&amp;month=5" in html
    )
    client.post("/language", data={"locale": "en", "next": "/", "csrf_token": auth.token("/")})
    count, html = shown()
    assert count == "13" and "Download as CSV" in html and "Ladda ner som CSV" not in html


def test_the_kept_filter_is_each_persons_own_consultations_values_and_language(client, auth, web_session):
    """The filter of a counted view is kept with it: a person who sees statistics of two consultations and
    one who sees one, asking for the same view, each get their own list (never the other's consultation's
    name); another month and another language get their own filter."""
    una = seed(web_session)
    other = directory.consultation_by_slug(web_session, "annat")
    both = make_user(web_session, email="tva@lst.example", roles=[Role.STATISTICS_VIEWER], consultation=una)
    web_session.add(ConsultationRole(user_id=both.id, consultation_id=other.id, role=Role.STATISTICS_VIEWER))
    web_session.commit()

    def consultations_and_month(query):
        html = client.get(f"/stats/?consultation=una&{query}").get_data(as_text=True)
        choices = re.search(r'<select[^>]*name="consultation".*?</select>', html, re.S).group(0)
        month = re.search(r'<select[^>]*name="month".*?</select>', html, re.S).group(0)
        return re.findall(r">([^<]+)</option>", choices), re.search(r"<option selected[^>]*>([^<]+)<", month)[
            1
        ]

    login(auth, "tva@lst.example")
    assert consultations_and_month("period=month&year=2027&month=3") == (
        ["Hemligt samråd", "Una Norrbotten"],
        "mars",
    )
    auth.logout()
    login(auth, "statistik@lst.example")
    assert consultations_and_month("period=month&year=2027&month=3") == (["Una Norrbotten"], "mars")
    assert consultations_and_month("period=month&year=2027&month=5") == (["Una Norrbotten"], "maj")
    client.post("/language", data={"locale": "en", "next": "/", "csrf_token": auth.token("/")})
    assert consultations_and_month("period=month&year=2027&month=5") == (["Una Norrbotten"], "May")
    html = client.get("/stats/?consultation=una&period=month&year=2027&month=5").get_data(as_text=True)
    assert "Choose consultation and period" in html and "Välj samråd och period" not in html


def test_the_start_page_links_to_statistics_for_statistics_roles(client, auth, web_session):
    seed(web_session)
    login(auth, "statistik@lst.example")
    assert 'href="/stats/?consultation=una"' in client.get("/").get_data(as_text=True)
    auth.logout()
    login(auth, "medlem@polisen.example")
    assert 'href="/stats/' not in client.get("/").get_data(as_text=True)


def test_an_empty_period_and_a_period_without_meetings_show_an_empty_state(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    response = client.get("/stats/?consultation=una&period=year&year=2030")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Inga möten under perioden." in html and "Inga ärenden under perioden." in html
    cells = dashboard_cells(html)
    assert (cells[("summary", "cases_submitted")], cells[("summary", "meetings_held")]) == ("0", "0")
    january = client.get("/stats/?consultation=una&period=month&year=2027&month=1").get_data(as_text=True)
    assert "Inga möten under perioden." in january


def test_htmx_gets_the_dashboard_fragment(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    response = client.get(YEAR, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div class="error-summary"') or html.lstrip().startswith(
        '<div id="stats-dashboard">'
    )
    assert "<html" not in html and 'data-table="summary"' in html
    bad = client.get(YEAR.replace("year=2027", "year=abc"), headers={"HX-Request": "true"})
    assert bad.status_code == 200 and 'id="year-error"' in bad.get_data(as_text=True)


# --- What may be shown -----------------------------------------------------------------------------


def test_training_cases_are_excluded_everywhere(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    cells = dashboard_cells(client.get(YEAR).get_data(as_text=True))
    assert cells[("summary", "cases_submitted")] == "12"
    assert cells[("summary", "cases_discussed")] == "12"
    assert cells[("sex", "other_unknown")] == "0"  # only the training case had this sex
    assert cells[("category", "honour_violence")] == "12"


def test_a_municipality_with_one_case_never_appears_with_a_count(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    html = client.get(YEAR).get_data(as_text=True)
    cells = dashboard_cells(html)
    assert "Pajala" not in html and "Kiruna" not in html
    assert cells[("municipality", "other")] == "3"  # Kiruna 2 + Pajala 1, added up
    csv_text = client.get(YEAR.replace("/stats/", "/stats/export.csv")).get_data(as_text=True)
    assert "Pajala" not in csv_text and "Kiruna" not in csv_text
    book = load_workbook(io.BytesIO(client.get(YEAR.replace("/stats/", "/stats/export.xlsx")).get_data()))
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not any("Pajala" in str(v) or "Kiruna" in str(v) for v in row if v is not None)


def test_no_case_text_is_shown_or_exported(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    for path in ("/stats/", "/stats/export.csv", "/stats/report"):
        body = client.get(path + "?consultation=una&period=year&year=2027").get_data(as_text=True)
        assert BACKGROUND[:40] not in body and "TEST-" not in body


def test_the_exports_contain_exactly_the_dashboards_cells(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    cells = dashboard_cells(client.get(YEAR).get_data(as_text=True))
    assert ("municipality", "other") in cells and ("waiting_days", "median") in cells

    response = client.get(YEAR.replace("/stats/", "/stats/export.csv"))
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="statistik-una-2027-01-01-2027-12-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {(r["table_key"], r["row_key"]): export_text(r["value"]) for r in rows} == cells
    assert len(rows) == len(cells)

    response = client.get(YEAR.replace("/stats/", "/stats/export.xlsx"))
    assert (
        response.headers["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("table_key", "table", "row_key", "row", "value")
    assert {(r[0], r[2]): export_text(r[4]) for r in values[1:]} == cells
    assert len(values) - 1 == len(cells)


def test_charts_are_accessible_svg_without_style_attributes(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    html = client.get(YEAR).get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert len(svgs) >= 8
    for svg in svgs:
        chart_id = re.search(r'aria-labelledby="([\w-]+)-title" aria-describedby="\1-desc"', svg).group(1)
        assert 'role="img"' in svg
        assert f'<title id="{chart_id}-title">' in svg and f'<desc id="{chart_id}-desc">' in svg
        assert " style=" not in svg
    sex_chart = next(s for s in svgs if 'id="chart-sex-title"' in s)
    assert "Flicka eller kvinna: 8; Pojke eller man: 4; Annat eller okänt: 0" in sex_chart
    assert (
        "<caption>Ärenden efter kön</caption>" in html and '<th scope="row">Flicka eller kvinna</th>' in html
    )


def test_annual_report_follows_the_reporting_template(client, auth, web_session):
    seed(web_session)
    login(auth, "statistik@lst.example")
    response = client.get("/stats/report?consultation=una&year=2027")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    headings = re.findall(r'<h2 id="r-[\w-]+">(.*?)</h2>', html)
    assert headings == [
        "Styrning och samverkan",
        "Förankring",
        "Utformning och organisering",
        "Kartläggning, målgruppsanalys och uppföljning",
        "Nuläge och planering framåt",
        "Analys – lärdomar och utmaningar",
    ]
    assert "<h1>Årsrapport 2027: Una Norrbotten</h1>" in html
    assert dashboard_cells(html)[("summary", "cases_submitted")] == "12"
    bad = client.get("/stats/report?consultation=una&year=abc")
    assert bad.status_code == 400 and 'id="year-error"' in bad.get_data(as_text=True)


def test_evaluation_section_is_labelled_and_has_no_data(client, auth, web_session):
    seed(web_session)
    login(auth, "samordnare@una.example")
    html = client.get(YEAR).get_data(as_text=True)
    assert "Vad deltagarna tyckte om mötena redovisas på utvärderingssidorna" in html
    # The link opens the evaluation report of the same consultation and period.
    link = re.search(r'href="(/c/[^"]*/evaluations/report[^"]*)"', html).group(1).replace("&amp;", "&")
    assert link.startswith("/c/") and "first=" in link and "last=" in link
    first = re.search(r"first=([\d-]+)", link).group(1)
    assert first.endswith("-01-01")
    assert client.get(link).status_code == 200


# --- Scale -----------------------------------------------------------------------------------------


def _statement_count(app, client, path) -> int:
    statements = []
    with app.app_context():
        engine = db.get_engine()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


def test_queries_per_page_do_not_grow_with_the_data(app, client, auth, web_session):
    una = seed(web_session)
    login(auth, "samordnare@una.example")
    small = _statement_count(app, client, YEAR)

    municipalities = [make_municipality(web_session, name=f"Kommun {i}") for i in range(10)]
    organisations = [
        make_organisation(web_session, name=f"Org {i}", type=OrganisationType.SCHOOL) for i in range(5)
    ]
    members = [make_user(web_session, organisation=org) for org in organisations]
    meetings = [
        make_held_meeting(web_session, una, at(2027, 1 + i % 12, 1 + i % 27, 8 + i % 8)) for i in range(24)
    ]
    for i in range(400):
        case = make_case(
            web_session,
            una,
            organisations[i % 5],
            submitted_at=at(2027, 1 + i % 12, 1 + i % 28),
            municipality=municipalities[i % 10],
            sex=list(Sex)[i % 3],
            age_band=list(AgeBand)[i % 5],
            categories=list(CaseCategory)[: 1 + i % 4],
            exposers=list(Exposer)[: 1 + i % 3],
        )
        discuss(web_session, meetings[i % 24], case)
        if i % 3 == 0:
            discuss(web_session, meetings[(i + 5) % 24], case)
    for meeting in meetings:
        for member in members:
            attend(web_session, meeting, member, attendance=Attendance.VIA_LINK)
        attend(
            web_session,
            meeting,
            make_user(web_session, organisation=organisations[1]),
            kind=InviteeKind.PRESENTER,
        )
    web_session.commit()
    large = _statement_count(app, client, YEAR)
    print(f"statements per dashboard request: small {small}, large {large}")
    assert large == small
    assert small <= 25
