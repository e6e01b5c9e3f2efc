import csv
import io
import json
from datetime import timedelta

from sqlmodel import select

from samrad import db
from samrad.models import Evaluation, OutboxMessage, utcnow
from samrad.models.evaluation import EvaluationStatus
from tests.factories import attend, make_consultation, make_held_meeting


def file_app(tmp_path):
    from tests.conftest import make_app

    return make_app(f"sqlite:///{tmp_path}/cli.db", tmp_path)


def _report(runner, *extra):
    return runner.invoke(args=["report", "evaluations", "--consultation", "una-norrbotten", *extra])


def test_report_evaluations_prints_the_published_combined_report(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    result = _report(runner, "--from", "2019-11-01", "--to", "2020-02-29", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 18
    assert {(r["question"], r["option"]): (r["n"], r["percent"]) for r in rows} == {
        (1, "agree_fully"): (26, 96.3),
        (1, "agree_partly"): (1, 3.7),
        (1, "disagree"): (0, 0.0),
        (2, "agree_fully"): (26, 96.3),
        (2, "agree_partly"): (1, 3.7),
        (2, "disagree"): (0, 0.0),
        (3, "agree_fully"): (17, 62.96),
        (3, "agree_partly"): (10, 37.04),
        (3, "disagree"): (0, 0.0),
        (4, "agree_fully"): (18, 66.67),
        (4, "agree_partly"): (9, 33.33),
        (4, "disagree"): (0, 0.0),
        (5, "agree_fully"): (16, 59.26),
        (5, "agree_partly"): (7, 25.93),
        (5, "disagree"): (4, 14.81),
        (6, "agree_fully"): (18, 66.67),
        (6, "agree_partly"): (9, 33.33),
        (6, "disagree"): (0, 0.0),
    }
    assert rows[0]["option_label"] == "Instämmer helt"
    as_csv = _report(runner, "--from", "2019-11-01", "--to", "2020-02-29", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [(r["question"], r["option"], r["n"], r["percent"]) for r in table][12:15] == [
        ("5", "agree_fully", "16", "59.26"),
        ("5", "agree_partly", "7", "25.93"),
        ("5", "disagree", "4", "14.81"),
    ]


def test_a_report_below_k_respondents_is_withheld_with_exit_status_3(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    # Only 2020-02-03, the meeting with one respondent.
    result = _report(runner, "--from", "2020-02-01", "--to", "2020-02-29", "--format", "json")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "Withheld: no meeting in the period was answered by at least 3 people "
        "(EVALUATION_MIN_RESPONDENTS). Choose a longer period.\n"
    )
    # With it and 2020-01-20 (9 respondents) the report counts that meeting only: the single respondent
    # counts nowhere. Every cell is shown, zeros too.
    both = json.loads(
        _report(runner, "--from", "2020-01-20", "--to", "2020-02-03", "--format", "json").output
    )
    assert [(r["n"], r["percent"]) for r in both if r["question"] == 5] == [(7, 77.78), (2, 22.22), (0, 0.0)]


def test_report_arguments_are_checked(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    reversed_dates = _report(runner, "--from", "2020-02-01", "--to", "2020-01-01")
    # The same parser and messages as `samrad report statistics`.
    assert reversed_dates.exit_code == 2 and "the last day is before the first day." in reversed_dates.output
    malformed = _report(runner, "--from", "2020-02-30", "--to", "2020-03-01")
    assert malformed.exit_code == 2 and "'2020-02-30' is not a date as YYYY-MM-DD." in malformed.output
    unknown = runner.invoke(
        args=[
            "report",
            "evaluations",
            "--consultation",
            "finns-inte",
            "--from",
            "2020-01-01",
            "--to",
            "2020-02-01",
        ]
    )
    assert unknown.exit_code == 1 and "No consultation with the short name 'finns-inte'." in unknown.output
    assert runner.invoke(args=["report", "--help"]).exit_code == 0


def test_evaluations_commands_open_remind_and_close(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    with app.app_context(), db.session_scope() as s:
        consultation = make_consultation(s)
        meeting = make_held_meeting(s, consultation, starts_at=utcnow() - timedelta(days=3))
        attend(s, meeting, email="deltagare@kommun.example")
        public_id = meeting.public_id
    opened = runner.invoke(args=["evaluations", "open", public_id])
    assert opened.exit_code == 0 and opened.output.startswith("Opened; 1 attendee(s) will get a link.")
    assert runner.invoke(args=["evaluations", "open", public_id]).output.endswith(
        "The meeting's evaluation has been opened already.\n"
    )
    assert runner.invoke(args=["evaluations", "open", "finns-inte"]).exit_code == 1
    assert (
        runner.invoke(args=["evaluations", "remind"]).output == "Reminded the attendees of 0 evaluation(s).\n"
    )
    assert runner.invoke(args=["evaluations", "close-due"]).output == "Closed 0 evaluation(s).\n"
    with app.app_context(), db.session_scope() as s:
        evaluation = s.exec(select(Evaluation)).one()
        evaluation.opened_at -= timedelta(days=3)
        evaluation.closes_at = utcnow() - timedelta(seconds=1)
    # Past its closing time (not yet closed by the job): no reminder.
    assert (
        runner.invoke(args=["evaluations", "remind"]).output == "Reminded the attendees of 0 evaluation(s).\n"
    )
    with app.app_context(), db.session_scope() as s:
        evaluation = s.exec(select(Evaluation)).one()
        evaluation.closes_at = utcnow() + timedelta(days=4)
    assert (
        runner.invoke(args=["evaluations", "remind"]).output == "Reminded the attendees of 1 evaluation(s).\n"
    )
    with app.app_context(), db.session_scope() as s:
        subjects = [m.subject for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert [subject.rsplit(" ", 4)[0] for subject in subjects] == [
            "Utvärdering av mötet",
            "Påminnelse: utvärdering av mötet",
        ]
        evaluation = s.exec(select(Evaluation)).one()
        evaluation.closes_at = utcnow() - timedelta(seconds=1)
    assert runner.invoke(args=["evaluations", "close-due"]).output == "Closed 1 evaluation(s).\n"
    with app.app_context(), db.session_scope() as s:
        assert s.exec(select(Evaluation)).one().status == EvaluationStatus.CLOSED
