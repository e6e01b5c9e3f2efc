"""``samrad report evaluations`` and ``samrad evaluations open|close-due|remind``: thin wrappers over
``samrad.services.evaluations`` (registered in ``samrad.cli``)."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlmodel import select

from samrad.cli import period_options, report_period

#: Exit status when a report is withheld because it covers too few respondents.
WITHHELD = 3


@click.command("evaluations")
@click.option(
    "--consultation", "slug", required=True, help="The consultation's short name, e.g. una-norrbotten."
)
@period_options
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@with_appcontext
def report_evaluations(slug: str, first, last, fmt: str):
    """Print the combined evaluation report of the closed evaluations in a period.

    Like the pages, a period with fewer respondents than EVALUATION_MIN_RESPONDENTS is withheld: a
    message on standard error, nothing on standard output, exit status 3. Otherwise every option's
    count is printed (the threshold is on respondents, not on cells).
    """
    from samrad import db
    from samrad.services import directory
    from samrad.services import evaluations as service

    period = report_period(first, last)
    k = current_app.config["EVALUATION_MIN_RESPONDENTS"]
    with db.session_scope() as session:
        consultation = directory.consultation_by_slug(session, slug)
        if consultation is None:
            raise click.ClickException(f"No consultation with the short name {slug!r}.")
        report = service.period_report(session, consultation, period, min_respondents=k)
        if not report.shown:
            click.echo(
                f"Withheld: no meeting in the period was answered by at least {k} people "
                "(EVALUATION_MIN_RESPONDENTS). Choose a longer period.",
                err=True,
            )
            sys.exit(WITHHELD)
        output = service.export_json(report) if fmt == "json" else service.export_csv(report)
    click.echo(output, nl=fmt == "json")


evaluations = AppGroup("evaluations", help="Open, remind and close anonymous meeting evaluations.")


@evaluations.command("open")
@click.argument("meeting_public_id")
def open_evaluation(meeting_public_id: str):
    """Open the evaluation of a held (closed) meeting and mail every attendee a link."""
    from samrad import db
    from samrad.models import Meeting, utcnow
    from samrad.services import evaluations as service
    from samrad.urls import evaluation_link

    with db.session_scope() as session:
        meeting = session.exec(select(Meeting).where(Meeting.public_id == meeting_public_id)).first()
        if meeting is None:
            raise click.ClickException(f"No meeting {meeting_public_id}.")
        try:
            evaluation = service.open_evaluation(
                session,
                meeting,
                now=utcnow(),
                open_for=timedelta(days=current_app.config["EVALUATION_OPEN_DAYS"]),
                link_for=evaluation_link,
            )
        except service.MeetingNotClosed:
            raise click.ClickException("The meeting has not been closed (held) yet.") from None
        except service.EvaluationExists:
            raise click.ClickException("The meeting's evaluation has been opened already.") from None
        invited = len(service.attendee_addresses(session, meeting))
        closes_at = evaluation.closes_at
    click.echo(f"Opened; {invited} attendee(s) will get a link. Open until {closes_at:%Y-%m-%d %H:%M} UTC.")


@evaluations.command("close-due")
def close_due():
    """Close every evaluation whose time is up (what the scheduler runs)."""
    from samrad import db, keys
    from samrad.models import utcnow
    from samrad.services import evaluations as service

    with db.session_scope() as session:
        closed = service.close_due_evaluations(session, now=utcnow(), sealer=keys.sealer(keys.ANSWERS))
    click.echo(f"Closed {closed} evaluation(s).")


@evaluations.command("remind")
def remind():
    """Send the one reminder of evaluations opened EVALUATION_REMINDER_DAYS ago (to every attendee)."""
    from samrad import db
    from samrad.models import utcnow
    from samrad.services import evaluations as service

    days = current_app.config["EVALUATION_REMINDER_DAYS"]
    if not days:
        click.echo("Reminders are switched off (EVALUATION_REMINDER_DAYS = 0).")
        return
    with db.session_scope() as session:
        reminded = service.remind_evaluations(session, now=utcnow(), after=timedelta(days=days))
    click.echo(f"Reminded the attendees of {reminded} evaluation(s).")
