"""`samrad report statistics`: the dashboard's suppressed tables for scripted yearly reports."""

from __future__ import annotations

import csv
import io
import json

from sqlmodel import Session, create_engine

from samrad import db
from samrad.enums import Sex
from samrad.periods import year_period
from samrad.services import statistics as service
from tests.factories import (
    at,
    make_case,
    make_consultation,
    make_held_meeting,
    make_municipality,
    make_organisation,
)


def app_with_data(tmp_path):
    from tests.conftest import schema_app

    app = schema_app(f"sqlite:///{tmp_path}/cli.db", tmp_path)
    engine = create_engine(app.config["DATABASE_URL"])
    with Session(engine) as s:
        una = make_consultation(s, slug="una", name="Una Norrbotten")
        lulea, pajala = make_municipality(s, name="Luleå"), make_municipality(s, name="Pajala")
        org = make_organisation(s)
        for i in range(7):
            make_case(
                s,
                una,
                org,
                submitted_at=at(2027, 3, 1 + i),
                municipality=pajala if i == 0 else lulea,
                sex=Sex.MALE if i < 2 else Sex.FEMALE,
            )
        make_case(s, una, org, submitted_at=at(2027, 3, 9), is_training=True, municipality=pajala)
        make_held_meeting(s, una, at(2027, 3, 15))
        s.commit()
    engine.dispose()
    return app


def test_csv_prints_the_same_rows_as_the_export(tmp_path):
    app = app_with_data(tmp_path)
    result = app.test_cli_runner().invoke(
        args=["report", "statistics", "--consultation", "una", "--year", "2027"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    values = {(r["table_key"], r["row_key"]): r["value"] for r in rows}
    assert values[("summary", "cases_submitted")] == "7"
    assert values[("summary", "meetings_held")] == "1"
    # Two boys and five girls: with only the girls' cell left to hide, both are withheld.
    assert (values[("sex", "male")], values[("sex", "female")]) == ("..", "..")
    assert "Pajala" not in result.output
    with app.app_context(), db.session_scope() as s:
        from samrad.services import directory

        period = year_period(2027)
        stats = service.consultation_statistics(
            s, directory.consultation_by_slug(s, "una"), period, threshold=3
        )
        expected = service.to_csv(service.export_rows(stats))
        assert result.output.replace("\r\n", "\n") == expected.replace("\r\n", "\n")


def test_json_groups_the_rows_per_table(tmp_path):
    app = app_with_data(tmp_path)
    result = app.test_cli_runner().invoke(
        args=[
            "report",
            "statistics",
            "--consultation",
            "una",
            "--year",
            "2027",
            "--format",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["consultation"], data["threshold"]) == ("una", 3)
    assert data["period"] == {"first": "2027-01-01", "last": "2027-12-31", "label": "2027"}
    tables = {t["key"]: t for t in data["tables"]}
    assert tables["summary"]["title"] == "Sammanfattning"
    assert {r["key"]: r["value"] for r in tables["summary"]["rows"]}["cases_submitted"] == 7
    municipality = {r["label"]: r["value"] for r in tables["municipality"]["rows"]}
    # Pajala (1) is the only small municipality, so the smallest named one joins it in the group.
    assert municipality == {"Övriga kommuner": 7, "Kommun ej angiven": 0, "Totalt": 7}
    assert "Pajala" not in result.output


def test_bad_input_gives_a_clear_message(tmp_path):
    app = app_with_data(tmp_path)
    runner = app.test_cli_runner()
    base = ["report", "statistics", "--consultation", "una"]
    unknown = runner.invoke(args=["report", "statistics", "--consultation", "nope", "--year", "2027"])
    assert unknown.exit_code == 1 and "No consultation with the short name 'nope'." in unknown.output
    # Only whole months, terms and years (or all years): from–to dates are no longer accepted.
    dates = runner.invoke(args=[*base, "--from", "2027-01-01", "--to", "2027-03-01"])
    assert dates.exit_code == 2 and "No such option '--from'" in dates.output
    no_period = runner.invoke(args=base)
    assert (
        no_period.exit_code == 2
        and "give --year (with --term or --month if you like), or --all." in no_period.output
    )
    both = runner.invoke(args=[*base, "--year", "2027", "--term", "vt", "--month", "3"])
    assert both.exit_code == 2 and "give --term or --month, not both." in both.output
    mixed = runner.invoke(args=[*base, "--all", "--year", "2027"])
    assert mixed.exit_code == 2 and "use --all on its own." in mixed.output
    month = runner.invoke(args=[*base, "--year", "2027", "--month", "13"])
    assert month.exit_code == 2
    wrong_format = runner.invoke(args=[*base, "--year", "2027", "--format", "xml"])
    assert wrong_format.exit_code == 2
    march = runner.invoke(args=[*base, "--year", "2027", "--month", "3", "--format", "json"])
    assert json.loads(march.output)["period"]["label"] == "mars 2027"
    everything = runner.invoke(args=[*base, "--all", "--format", "json"])
    assert json.loads(everything.output)["period"]["label"] == "alla år (2027)"
