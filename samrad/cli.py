"""The ``samrad`` command: ``samrad run``, ``samrad init-db``, ``samrad demo`` and the rest.

Commands are thin wrappers over ``samrad.services`` and ``samrad.db``, like views.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlmodel import select

from samrad.config import ConfigError, config_file_path, write_instance_config


def _create_app(*_args, **_kwargs) -> Flask:
    from samrad import create_app

    try:
        return create_app()
    except ConfigError as exc:
        # A deployer needs the key and the problem, not a traceback.
        click.echo(f"samrad: configuration error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def cli():
    """samrad – regionalt samråd."""


@cli.command("init-config", with_appcontext=False)
def init_config():
    """Write instance/config.toml with a random SECRET_KEY unless it exists."""
    from samrad.resources import instance_path

    path = config_file_path(str(instance_path()))
    if write_instance_config(path):
        click.echo(f"Wrote {path} with a new random SECRET_KEY.")
    else:
        click.echo(f"Using existing {path}.")


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema to the newest version (alembic upgrade head)."""
    from samrad import db, migrate

    migrate.upgrade(db.get_engine())
    click.echo("Database schema is up to date.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path):
    """Write the whole database to TARGET: SQLite's online backup, or pg_dump's custom format."""
    from samrad import backup, db

    try:
        backup.backup(db.get_engine(), target)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup written to {target} ({target.stat().st_size} bytes).")


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--yes", is_flag=True, help="Replace the database without asking (stop the app and scheduler first)."
)
@with_appcontext
def restore_command(source: Path, yes: bool):
    """Replace everything in the database with the backup SOURCE."""
    from samrad import backup, db

    if not yes:
        click.confirm("This replaces everything in the database. Go on?", abort=True)
    try:
        backup.restore(db.get_engine(), source)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored from {source}.")


@click.command("demo")
@click.option("--seed", default=42, show_default=True, help="Makes names and passwords reproducible.")
@click.option("--password", default=None, help="Give every demo account this password.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has consultations.")
@click.option("--national", is_flag=True, help="Every county with years of history (load tests), not Una.")
@click.option(
    "--counties", default=21, show_default=True, type=click.IntRange(1, 21), help="With --national."
)
@click.option("--years", default=10, show_default=True, type=click.IntRange(1, 20), help="With --national.")
@with_appcontext
def demo(seed: int, password: str | None, if_empty: bool, national: bool, counties: int, years: int):
    """Seed the demo county Una Norrbotten (migrating the database first), or with --national the
    national dataset for load tests."""
    from samrad import db, migrate
    from samrad import demo as demo_service
    from samrad.models import Consultation
    from samrad.passwords import password_problems

    migrate.upgrade(db.get_engine())
    if password is not None and password_problems(password):
        click.echo("Warning: this password breaks the password rules; use it for demos only.", err=True)
    if national:
        _seed_national(counties=counties, years=years, seed=seed)
        return
    with db.session_scope() as session:
        if if_empty and session.exec(select(Consultation)).first() is not None:
            accounts = demo_service.demo_accounts(seed=seed, password=password)
            click.echo("The database already has data; the demo was not seeded again.")
            _print_accounts(accounts, note="(passwords as seeded, unless someone changed them)")
            return
        accounts = demo_service.seed_demo(session, seed=seed, password=password)
    click.echo("Seeded the demo county “Una Norrbotten – kompetensteam mot våld”.")
    _print_accounts(accounts)


def _seed_national(*, counties: int, years: int, seed: int) -> None:
    from samrad import db
    from samrad.demo import national
    from samrad.models import utcnow

    with (
        db.session_scope(deliver_mail=False) as session,
        click.progressbar(length=counties, label="Counties", show_pos=True) as bar,
    ):
        counts = national.seed_national(
            session,
            counties=counties,
            years=years,
            seed=seed,
            now=utcnow(),
            progress=lambda _c: bar.update(1),
        )
    click.echo(
        f"Seeded {counts.counties} counties: {counts.meetings} meetings, {counts.cases} cases, "
        f"{counts.invitees} invitees, {counts.evaluations} closed evaluations."
    )
    click.echo(
        f"Accounts: samordnare.lan01@{national.DOMAIN} … (coordinator), handlaggare0.lan01@… (case officer), "
        f"ledamot0.lan01@… (standing member), statistik.lan01@… (statistics); password {national.PASSWORD}"
    )


def _print_accounts(accounts, note: str = "") -> None:
    base = current_app.config["PUBLIC_URL"]
    click.echo(f"\nLog in at {base}/login {note}".rstrip())
    width = max(len(a.email) for a in accounts)
    for account in accounts:
        click.echo(f"  {account.email:<{width}}  {account.password}   {account.description}")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option("--password", default=None, help="Set a password now instead of printing an invitation link.")
@with_appcontext
def create_user(email: str, name: str, admin: bool, password: str | None):
    """Create an account (the first administrator, typically)."""
    from datetime import timedelta

    from samrad import db
    from samrad.models import utcnow
    from samrad.services import accounts
    from samrad.urls import external_url

    with db.session_scope() as session:
        if accounts.user_by_email(session, email):
            raise click.ClickException(f"An account for {email} already exists.")
        user = accounts.create_user(session, email=email, name=name, is_admin=admin)
        if password:
            try:
                accounts.set_password(
                    session,
                    user,
                    password,
                    now=utcnow(),
                    min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                )
            except accounts.PasswordRejected as exc:
                raise click.ClickException(str(exc)) from None
        else:
            accounts.invite_user(
                session,
                user,
                now=utcnow(),
                valid_for=timedelta(hours=current_app.config["INVITATION_VALID_HOURS"]),
                link_for=lambda token: external_url("auth.accept_invitation", token=token),
            )
    click.echo(f"Created {email}." + ("" if password else " An invitation e-mail with a link was queued."))


@click.group("report")
def report():
    """Reports for the county's yearly follow-up."""


class DateParam(click.ParamType):
    """A day written YYYY-MM-DD (the one date format of every command)."""

    name = "date"

    def convert(self, value, param, ctx):
        from datetime import date

        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date as YYYY-MM-DD.", param, ctx)


DATE = DateParam()


def period_options(command):
    """``--from`` and ``--to`` (Stockholm days, inclusive) for every report command."""
    command = click.option(
        "--to", "last", required=True, type=DATE, help="Last day (inclusive), YYYY-MM-DD."
    )(command)
    return click.option("--from", "first", required=True, type=DATE, help="First day, YYYY-MM-DD.")(command)


def report_period(first, last):
    """The report's :class:`samrad.periods.Period`, with the same rules and messages for every report."""
    from samrad.periods import PeriodError, custom_period

    try:
        return custom_period(first, last)
    except PeriodError as exc:
        if exc.code == "inverted":
            raise click.BadParameter("the last day is before the first day.", param_hint="--to") from None
        raise click.BadParameter("choose a period of at most ten years.", param_hint="--to") from None


def statistics_period(year: int | None, term: str | None, month: int | None, all_years: bool):
    """A standard period (the only kind statistics are published for), from the command's options."""
    from samrad.clock import STOCKHOLM
    from samrad.models import utcnow
    from samrad.periods import Term, all_years_period, month_period, term_period, year_period

    if all_years:
        if year or term or month:
            raise click.BadParameter("use --all on its own.", param_hint="--all")
        this_year = utcnow().astimezone(STOCKHOLM).year
        return all_years_period(this_year, this_year)
    if year is None:
        raise click.BadParameter(
            "give --year (with --term or --month if you like), or --all.", param_hint="--year"
        )
    if term and month:
        raise click.BadParameter("give --term or --month, not both.", param_hint="--month")
    if month:
        return month_period(year, month)
    if term:
        return term_period(year, Term(term))
    return year_period(year)


@report.command("statistics")
@click.option("--consultation", "slug", required=True, help="The consultation's short name (slug).")
@click.option("--year", type=click.IntRange(2000, 2100), help="The year (alone: the whole year).")
@click.option("--term", type=click.Choice(["vt", "ht"]), help="vt: January–June, ht: July–December.")
@click.option("--month", type=click.IntRange(1, 12), help="A month of the year, 1–12.")
@click.option("--all", "all_years", is_flag=True, help="Every year with cases, per year.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@with_appcontext
def report_statistics(slug: str, year, term, month, all_years: bool, fmt: str):
    """Print the suppressed statistics tables of the dashboard (no case text). Statistics are published
    for whole months, terms and years (and all years) only: see docs/statistics.md."""
    import json

    from samrad import db
    from samrad.services import directory
    from samrad.services import statistics as service

    period = statistics_period(year, term, month, all_years)
    with db.session_scope() as session:
        consultation = directory.consultation_by_slug(session, slug)
        if consultation is None:
            raise click.ClickException(f"No consultation with the short name {slug!r}.")
        stats = service.consultation_statistics(
            session, consultation, period, threshold=current_app.config["STATISTICS_MIN_COUNT"]
        )
        rows = service.export_rows(stats)
        if fmt == "csv":
            click.echo(service.to_csv(rows), nl=False)
        else:
            click.echo(json.dumps(service.to_json(stats, rows), ensure_ascii=False, indent=2))


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs (e-mail delivery, reminders, retention) until stopped. One per database."""
    import logging

    from samrad import scheduler

    logging.basicConfig(
        level=current_app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sys.exit(scheduler.run(current_app._get_current_object()))


@click.command("run-job")
@click.argument("name")
@with_appcontext
def run_job_command(name: str):
    """Run the scheduled job NAME once now (for cron instead of `samrad scheduler`).

    NAME is one of: deliver-outbox, case-deadline-reminders, queue-ready-notices, rsvp-reminders,
    purge-case-text, extend-series, close-evaluations, evaluation-reminders,
    purge-sent-mail.
    """
    from samrad import db, jobs
    from samrad.enums import JobOutcome
    from samrad.models import JobRun

    if name not in jobs.JOBS:
        raise click.BadParameter(f"{name!r} is not one of {', '.join(jobs.JOBS)}.", param_hint="NAME")
    outcome = jobs.run_job(name)
    with db.session_scope() as session:
        run = session.get(JobRun, name)
        detail = run.last_detail if run else ""
    click.echo(f"{name}: {outcome.value}: {detail}")
    if outcome != JobOutcome.OK:
        sys.exit(1)


@click.command("status")
@with_appcontext
def status_command():
    """Show each job's last and next run and the e-mail outbox by state."""
    from samrad import db, jobs, outbox
    from samrad.models import utcnow

    now = utcnow()
    with db.session_scope() as session:
        statuses = jobs.job_statuses(session)
        counts = outbox.counts_by_status(session)
    click.echo("Jobs (times in Europe/Stockholm):")
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        outcome = s.last_outcome.value if s.last_outcome else "never run"
        click.echo(
            f"  {s.name:<{width}}  last {_local(s.last_started_at):<16}  {outcome:<9}  "
            f"next {_local(s.next_run_at):<16}  {s.last_detail}".rstrip()
        )
    click.echo("E-mail outbox: " + ", ".join(f"{status.value} {n}" for status, n in counts.items()))
    if not jobs.scheduler_running(statuses, now):
        click.echo("Warning: no scheduler seems to be running (start one with `samrad scheduler`).")


def _local(value) -> str:
    from samrad.clock import STOCKHOLM

    return value.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if value else "-"


def register_commands(app: Flask) -> None:
    from samrad.cli_evaluations import evaluations, report_evaluations

    if "evaluations" not in report.commands:
        report.add_command(report_evaluations)
    for command in (
        init_db,
        backup_command,
        restore_command,
        demo,
        create_user,
        report,
        evaluations,
        scheduler_command,
        run_job_command,
        status_command,
    ):
        app.cli.add_command(command)


def main() -> None:
    cli.main(prog_name="samrad")
