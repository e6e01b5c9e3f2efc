"""Where the app's files are: in a checkout, or in an installed wheel (see setup.py and docs/deploy.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def resource_dir(name: str) -> Path:
    """``templates``, ``static`` or ``migrations``: inside the package in an installed wheel (setup.py puts
    them there), at the top level of a checkout."""
    bundled = PACKAGE / name
    return bundled if bundled.is_dir() else ROOT / name


def instance_path() -> Path:
    """Where config.toml, the SQLite database and the mail folder live: ``$SAMRAD_INSTANCE_PATH``, else
    ``instance/`` in a checkout, else ``<venv>/var/samrad-instance`` (Flask's place for installed apps)."""
    explicit = os.environ.get("SAMRAD_INSTANCE_PATH")
    if explicit:
        return Path(explicit)
    if (ROOT / "pyproject.toml").is_file():
        return ROOT / "instance"
    return Path(sys.prefix) / "var" / "samrad-instance"
