"""Configuration: typed defaults, then the TOML file, then ``SAMRAD_*`` environment variables.

Every key the application reads is declared once in :data:`SPEC` with its type and default;
``config.example.toml`` documents the same keys (a test keeps the two in step).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limits import parse_many

ENV_PREFIX = "SAMRAD_"


class ConfigError(Exception):
    """A configuration value is missing or invalid; the message names the key."""


@dataclass(frozen=True)
class Key:
    default: Any
    kind: type | tuple[str, ...]  # a Python type, or the allowed string values
    minimum: int | None = None
    maximum: int | None = None


#: Every configuration key, its type and its default.
SPEC: dict[str, Key] = {
    "SECRET_KEY": Key(None, str),
    "SECRET_KEY_PREVIOUS": Key("", str),
    "DATABASE_URL": Key("", str),
    "PUBLIC_URL": Key("http://127.0.0.1:5000", str),
    "SITE_NAME": Key("Regionalt samråd", str),
    "LOG_LEVEL": Key("INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    "PROXY_FIX_HOPS": Key(0, int, 0, 5),
    "MAX_CONTENT_LENGTH": Key(1_048_576, int, 1024, 100 * 1_048_576),
    "SESSION_COOKIE_SECURE": Key(False, bool),
    "SESSION_IDLE_MINUTES": Key(30, int, 1, 24 * 60),
    "SESSION_MAX_HOURS": Key(10, int, 1, 24 * 7),
    "TWO_FACTOR_REQUIRED": Key(False, bool),
    "LOGIN_MAX_FAILURES": Key(5, int, 1, 1000),
    "LOGIN_MAX_FAILURES_PER_ADDRESS": Key(50, int, 1, 100_000),
    "LOGIN_FAILURE_WINDOW_MINUTES": Key(15, int, 1, 24 * 60),
    "INVITATION_VALID_HOURS": Key(72, int, 1, 24 * 30),
    "PASSWORD_MIN_LENGTH": Key(12, int, 12, 128),
    "MAIL_TRANSPORT": Key("file", ("file", "smtp")),
    "MAIL_FROM": Key("Regionalt samråd <noreply@samrad.example>", str),
    "MAIL_FILE_DIR": Key("", str),
    "MAIL_FILE_KEEP_HOURS": Key(24, int, 1, 24 * 30),
    "MAIL_SMTP_HOST": Key("localhost", str),
    "MAIL_SMTP_PORT": Key(25, int, 1, 65535),
    "MAIL_SMTP_SECURITY": Key("none", ("none", "starttls", "ssl")),
    "MAIL_SMTP_USERNAME": Key("", str),
    "MAIL_SMTP_PASSWORD": Key("", str),
    "MAIL_SMTP_TIMEOUT": Key(10, int, 1, 300),
    "MAIL_MAX_ATTEMPTS": Key(8, int, 1, 100),
    "CASE_DEADLINE_REMINDER_DAYS": Key(2, int, 1, 60),
    "CASE_TEXT_RETENTION_DAYS": Key(30, int, 1, 3650),
    "AUDIT_RETENTION_DAYS": Key(730, int, 90, 3650),
    "MEETINGS_PLANNED_WEEKS_AHEAD": Key(26, int, 2, 104),
    "SQLITE_BUSY_TIMEOUT_MS": Key(30_000, int, 100, 600_000),
    "PRIVACY_CONTROLLER": Key("", str),
    "PRIVACY_CONTACT": Key("", str),
    "PRIVACY_NOTICE": Key("", str),
    "ACCESSIBILITY_CONTACT": Key("", str),
    "STATISTICS_MIN_COUNT": Key(3, int, 3, 100),
    "EVALUATION_MIN_RESPONDENTS": Key(3, int, 3, 100),
    "EVALUATION_OPEN_DAYS": Key(7, int, 1, 60),
    "EVALUATION_REMINDER_DAYS": Key(2, int, 0, 59),
    "EVALUATION_COMMENT_RETENTION_DAYS": Key(365, int, 30, 3650),
    "RATE_LIMIT_ENABLED": Key(True, bool),
    "RATE_LIMIT_STORAGE_URI": Key("", str),
    "RATE_LIMIT_LOGIN": Key("20 per minute", str),
    "RATE_LIMIT_LOGIN_ALL": Key("300 per minute", str),
    "RATE_LIMIT_JOIN": Key("5 per hour", str),
    "RATE_LIMIT_JOIN_ALL": Key("60 per hour", str),
    "RATE_LIMIT_LINKS": Key("60 per minute", str),
    "RATE_LIMIT_LINKS_ALL": Key("1200 per minute", str),
    "RATE_LIMIT_EVALUATION": Key("60 per minute", str),
    "RATE_LIMIT_EVALUATION_ALL": Key("600 per minute", str),
}

#: The rate limits (Flask-Limiter's notation, e.g. "20 per minute" or "5/hour; 50/day"), checked at start.
RATE_LIMITS = tuple(
    name
    for name in SPEC
    if name.startswith("RATE_LIMIT_") and name not in ("RATE_LIMIT_ENABLED", "RATE_LIMIT_STORAGE_URI")
)

#: Keys Flask and its extensions read that samrad sets itself and does not let deployers change.
FIXED = {
    "BABEL_DEFAULT_LOCALE": "sv",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "samrad_session",
    # The CSRF token lives as long as the login session; a coordinator may keep a page open for hours.
    "WTF_CSRF_TIME_LIMIT": None,
    "WTF_CSRF_SSL_STRICT": True,
    "REMEMBER_COOKIE_DURATION": 0,
    "TEMPLATES_AUTO_RELOAD": None,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _describe(key: Key) -> str:
    if isinstance(key.kind, tuple):
        return "one of " + ", ".join(repr(v) for v in key.kind)
    name = {str: "a text string", int: "a whole number", bool: "true or false"}[key.kind]
    if key.minimum is not None and key.maximum is not None:
        name += f" from {key.minimum} to {key.maximum}"
    return name


def coerce(name: str, value: Any, *, from_text: bool = False) -> Any:
    """Return ``value`` converted to the declared type of ``name`` or raise :class:`ConfigError`."""
    key = SPEC[name]
    if value is None and key.default is None:
        return None
    wrong = ConfigError(f"Configuration key {name} must be {_describe(key)}, got {value!r}.")
    if isinstance(key.kind, tuple):
        if not isinstance(value, str) or value not in key.kind:
            raise wrong
        return value
    if key.kind is bool:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise wrong
    if key.kind is int:
        if isinstance(value, bool):
            raise wrong
        if from_text and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise wrong from None
        if not isinstance(value, int):
            raise wrong
        if (key.minimum is not None and value < key.minimum) or (
            key.maximum is not None and value > key.maximum
        ):
            raise wrong
        return value
    if not isinstance(value, str):
        raise wrong
    return value


def config_file_path(instance_path: str) -> Path:
    """Where the TOML configuration lives: ``$SAMRAD_CONFIG`` or ``instance/config.toml``."""
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    return Path(explicit) if explicit else Path(instance_path) / "config.toml"


def read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        if os.environ.get(ENV_PREFIX + "CONFIG"):
            raise ConfigError(f"SAMRAD_CONFIG points to {path}, which does not exist.")
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    for name, value in data.items():
        if name not in SPEC:
            raise ConfigError(f"{path}: unknown configuration key {name} (see config.example.toml).")
        data[name] = coerce(name, value)
    return data


def read_environment(environ: dict[str, str]) -> dict[str, Any]:
    values = {}
    for name in SPEC:
        raw = environ.get(ENV_PREFIX + name)
        if raw is not None:
            values[name] = coerce(name, raw, from_text=True)
    return values


def load_config(app, test_config: dict[str, Any] | None = None) -> None:
    """Fill ``app.config``: defaults → config file → environment → ``test_config``; then validate."""
    app.config.update({name: key.default for name, key in SPEC.items()})
    app.config.update(FIXED)
    if test_config is None:
        app.config.update(read_config_file(config_file_path(app.instance_path)))
        app.config.update(read_environment(dict(os.environ)))
    else:
        app.config.update(test_config)
    validate_config(app)


def validate_config(app) -> None:
    """Refuse settings the app cannot run safely with; fill in derived defaults."""
    cfg = app.config
    for name in SPEC:
        cfg[name] = coerce(name, cfg[name])
    if not cfg["SECRET_KEY"]:
        if not (cfg.get("DEBUG") or cfg.get("TESTING")):
            raise ConfigError(
                "SECRET_KEY is not set. Run `samrad init-config` or set SAMRAD_SECRET_KEY; "
                "the app only starts without one in debug or testing mode."
            )
        cfg["SECRET_KEY"] = "insecure-development-key"
    elif len(cfg["SECRET_KEY"]) < 16:
        raise ConfigError("Configuration key SECRET_KEY must be at least 16 characters long.")
    # Flask opens session cookies signed with the fallbacks; samrad.keys opens sealed values with them.
    cfg["SECRET_KEY_FALLBACKS"] = [cfg["SECRET_KEY_PREVIOUS"]] if cfg["SECRET_KEY_PREVIOUS"] else []
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path) / "samrad.db")
    if not cfg["DATABASE_URL"].startswith(("sqlite:", "postgresql")):
        raise ConfigError(
            "Configuration key DATABASE_URL must start with sqlite:// or postgresql+psycopg://, "
            f"got {cfg['DATABASE_URL'].split(':', 1)[0]!r}."
        )
    for name in RATE_LIMITS:
        try:
            parse_many(cfg[name])
        except ValueError:
            raise ConfigError(
                f'Configuration key {name} must be a rate such as "20 per minute", got {cfg[name]!r}.'
            ) from None
    if not cfg["PUBLIC_URL"].startswith(("http://", "https://")):
        raise ConfigError("Configuration key PUBLIC_URL must start with http:// or https://.")
    cfg["PUBLIC_URL"] = cfg["PUBLIC_URL"].rstrip("/")
    if not cfg["MAIL_FILE_DIR"]:
        cfg["MAIL_FILE_DIR"] = str(Path(app.instance_path) / "mail")


def write_instance_config(path: Path) -> bool:
    """Create ``path`` with a fresh random SECRET_KEY unless it already exists. Returns True if written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `samrad init-config`. See config.example.toml for every key.\n"
        f'SECRET_KEY = "{secrets.token_urlsafe(48)}"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return True
