import pytest

from samrad import create_app
from samrad.config import SPEC, ConfigError, read_environment


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMRAD_INSTANCE_PATH", str(tmp_path))
    for key in list(__import__("os").environ):
        if key.startswith("SAMRAD_") and key not in ("SAMRAD_INSTANCE_PATH",):
            monkeypatch.delenv(key)
    return tmp_path


def test_refuses_to_start_without_secret_key(instance):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_debug_mode_starts_without_secret_key(instance, monkeypatch):
    (instance / "config.toml").write_text("", encoding="utf-8")
    app = create_app({"DEBUG": True})
    assert app.config["SECRET_KEY"]


def test_file_then_environment_override_defaults(instance, monkeypatch):
    (instance / "config.toml").write_text(
        'SECRET_KEY = "from-the-file-0123456789"\nMAIL_SMTP_PORT = 2525\nSITE_NAME = "Fil"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SAMRAD_SITE_NAME", "Miljö")
    monkeypatch.setenv("SAMRAD_SESSION_COOKIE_SECURE", "true")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-file-0123456789"
    assert app.config["MAIL_SMTP_PORT"] == 2525
    assert app.config["SITE_NAME"] == "Miljö"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance}/samrad.db"


def test_samrad_config_points_to_another_file(instance, monkeypatch, tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text('SECRET_KEY = "elsewhere-0123456789abc"\n', encoding="utf-8")
    monkeypatch.setenv("SAMRAD_CONFIG", str(other))
    assert create_app().config["SECRET_KEY"] == "elsewhere-0123456789abc"


def test_missing_samrad_config_file_is_an_error(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("SAMRAD_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        create_app()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SAMRAD_MAIL_SMTP_PORT": "abc"},
            "MAIL_SMTP_PORT must be a whole number from 1 to 65535, got 'abc'",
        ),
        ({"SAMRAD_MAIL_TRANSPORT": "pigeon"}, "MAIL_TRANSPORT must be one of 'file', 'smtp', got 'pigeon'"),
        ({"SAMRAD_SESSION_COOKIE_SECURE": "kanske"}, "SESSION_COOKIE_SECURE must be true or false"),
        ({"SAMRAD_DATABASE_URL": "mysql://x"}, "DATABASE_URL must start with sqlite:// or postgresql"),
        ({"SAMRAD_SECRET_KEY": "short"}, "SECRET_KEY must be at least 16 characters"),
        (
            {"SAMRAD_RATE_LIMIT_JOIN": "fem i timmen"},
            'RATE_LIMIT_JOIN must be a rate such as "20 per minute"',
        ),
        ({"SAMRAD_RATE_LIMIT_LINKS_ALL": ""}, "RATE_LIMIT_LINKS_ALL must be a rate"),
    ],
)
def test_invalid_values_name_the_key(instance, monkeypatch, env, message):
    monkeypatch.setenv("SAMRAD_SECRET_KEY", "a-valid-secret-key-123456")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as exc:
        create_app()
    assert message in str(exc.value)


def test_unknown_key_in_file_is_named(instance):
    (instance / "config.toml").write_text(
        'SECRET_KEY = "x0123456789abcdefg"\nMAIL_PORT = 25\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="unknown configuration key MAIL_PORT"):
        create_app()


def test_wrong_type_in_file_is_named(instance):
    (instance / "config.toml").write_text('SECRET_KEY = "x0123456789abcdefg"\nSESSION_IDLE_MINUTES = "30"\n')
    with pytest.raises(ConfigError, match="SESSION_IDLE_MINUTES must be a whole number"):
        create_app()


def test_every_key_has_an_environment_variable():
    environ = {f"SAMRAD_{name}": "" for name, key in SPEC.items() if key.kind is str}
    assert set(read_environment(environ)) == {name for name, key in SPEC.items() if key.kind is str}


def test_example_config_documents_every_key_with_a_comment():
    import tomllib
    from pathlib import Path

    text = (Path(__file__).parents[2] / "config.example.toml").read_text(encoding="utf-8")
    documented = tomllib.loads(text)
    lines = text.splitlines()
    for name in SPEC:
        index = next((i for i, line in enumerate(lines) if line.lstrip("# ").startswith(f"{name} =")), None)
        assert index is not None, f"{name} missing from config.example.toml"
        assert lines[index - 1].startswith("#"), f"{name} has no comment above it"
    assert set(documented) <= set(SPEC)
