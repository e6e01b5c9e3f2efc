import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from samrad import db
from samrad.demo import demo_accounts
from samrad.enums import Role
from samrad.models import Consultation, ConsultationRole, Municipality, Organisation, StandingSeat, User
from samrad.passwords import verify_password

ROOT = Path(__file__).resolve().parents[1]


def file_app(tmp_path):
    from tests.conftest import make_app

    return make_app(f"sqlite:///{tmp_path}/cli.db", tmp_path)


def test_init_db_creates_the_schema_and_is_idempotent(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).output == "Database schema is up to date.\n"
    assert runner.invoke(args=["init-db"]).exit_code == 0


def test_demo_seeds_una_norrbotten_deterministically(tmp_path):
    app = file_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["demo", "--seed", "7"])
    assert result.exit_code == 0, result.output
    expected = demo_accounts(seed=7)
    for account in expected:
        assert f"{account.email}" in result.output and account.password in result.output
    with app.app_context(), db.session_scope() as s:
        consultation = s.exec(select(Consultation)).one()
        assert (consultation.slug, consultation.name) == (
            "una-norrbotten",
            "Una Norrbotten – kompetensteam mot våld",
        )
        assert consultation.host_organisation.name == "Freda-mottagningen, Luleå kommun"
        assert len(s.exec(select(Municipality)).all()) == 14
        names = {o.name for o in s.exec(select(Organisation))}
        assert {
            "Polisen (BOPS), polisregion Nord",
            "Kvinnojouren Iris",
            "Tjejjouren Luleå",
            "Region Norrbotten",
            "Länsstyrelsen Norrbotten",
            "Socialtjänsten, Kiruna kommun",
        } <= names
        assert len(names) == 21
        assert len(s.exec(select(StandingSeat)).all()) == 20
        emails = {u.email for u in s.exec(select(User))}
        for local in (
            "admin",
            "samordnare",
            "statistik",
            "polis",
            "kvinnojour",
            "handlaggare.lulea",
            "handlaggare.kiruna",
        ):
            assert f"{local}@demo.samrad.example" in emails
        coordinator = s.exec(select(User).where(User.email == "samordnare@demo.samrad.example")).one()
        roles = {
            g.role for g in s.exec(select(ConsultationRole).where(ConsultationRole.user_id == coordinator.id))
        }
        assert Role.COORDINATOR in roles
        admin = s.exec(select(User).where(User.email == "admin@demo.samrad.example")).one()
        assert admin.is_admin and verify_password(admin.password_hash, expected[0].password)
    # Same seed, same accounts and passwords.
    assert demo_accounts(seed=7) == expected
    assert demo_accounts(seed=8) != expected


def test_demo_if_empty_keeps_existing_data_and_password_option_sets_every_password(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "already has data" in again.output
    result = runner.invoke(args=["demo", "--password", "pulka-isvak-kaffe-91"])
    assert result.exit_code == 0
    with app.app_context(), db.session_scope() as s:
        users = s.exec(select(User)).all()
        assert len(users) == len(demo_accounts(seed=42))
        assert all(verify_password(u.password_hash, "pulka-isvak-kaffe-91") for u in users)


def test_create_user_queues_an_invitation(tmp_path):
    app = file_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["create-user", "Ada@Region.example", "--name", "Ada Admin", "--admin"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert runner.invoke(args=["create-user", "ada@region.example", "--name", "X"]).exit_code == 1


def _samrad(*args, env):
    return subprocess.run(
        [sys.executable, "-c", "from samrad.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_configuration_errors_are_one_clear_line_without_traceback(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMRAD_")}
    env.update(
        SAMRAD_INSTANCE_PATH=str(tmp_path),
        SAMRAD_SECRET_KEY="a-long-enough-secret-key",
        SAMRAD_MAIL_SMTP_PORT="port",
    )
    result = _samrad("init-db", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "samrad: configuration error: "
        "Configuration key MAIL_SMTP_PORT must be a whole number from 1 to 65535, "
        "got 'port'."
    )
    assert "Traceback" not in result.stderr


def test_init_config_writes_a_secret_key_once(tmp_path):
    import os
    import tomllib

    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMRAD_")}
    env["SAMRAD_INSTANCE_PATH"] = str(tmp_path)
    assert "Wrote" in _samrad("init-config", env=env).stdout
    first = tomllib.loads((tmp_path / "config.toml").read_text())["SECRET_KEY"]
    assert len(first) >= 48
    assert "Using existing" in _samrad("init-config", env=env).stdout
    assert tomllib.loads((tmp_path / "config.toml").read_text())["SECRET_KEY"] == first
    # The written file is enough to start the app (and to migrate an empty database).
    assert _samrad("init-db", env=env).returncode == 0
    assert (tmp_path / "samrad.db").exists()


def test_demo_can_be_seeded_into_postgresql_through_the_environment(postgres_url, tmp_path):
    import os

    from sqlalchemy import create_engine, text

    base, _, _ = postgres_url.rpartition("/")
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS samrad_demo"))
        conn.execute(text("CREATE DATABASE samrad_demo"))
    admin.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMRAD_")}
    env.update(
        SAMRAD_INSTANCE_PATH=str(tmp_path),
        SAMRAD_SECRET_KEY="a-long-enough-secret-key",
        SAMRAD_DATABASE_URL=base + "/samrad_demo",
    )
    result = _samrad("demo", "--password", "pulka-isvak-kaffe-91", env=env)
    assert result.returncode == 0, result.stderr
    assert "admin@demo.samrad.example" in result.stdout
    engine = create_engine(base + "/samrad_demo")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM municipality")).scalar() == 14
        assert conn.execute(text("SELECT slug FROM consultation")).scalar() == "una-norrbotten"
    engine.dispose()
    assert not (tmp_path / "samrad.db").exists()
