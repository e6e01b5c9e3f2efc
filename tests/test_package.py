"""The wheel is a complete product: built from the sources, installed in a fresh virtual environment and
started outside the checkout, it serves the Swedish login page with its stylesheet (issue J 7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.processes import ROOT, SECRET, wait_until

# What a build copies: the sources as git knows them, not the developer's venv, instance or build folders.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "instance",
    "mutants",
    "*.egg-info",
    "__pycache__",
    "*.mo",
    "test-artifacts",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    sources = tmp_path_factory.mktemp("sources") / "samrad"
    shutil.copytree(ROOT, sources, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(sources)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("samrad-*.whl")
    return built


def test_the_wheel_carries_templates_static_files_migrations_and_compiled_catalogues(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "samrad/templates/base.html",
        "samrad/templates/auth/login.html",
        "samrad/static/css/app.css",
        "samrad/migrations/env.py",
        "samrad/translations/sv/LC_MESSAGES/messages.mo",
        "samrad/translations/en/LC_MESSAGES/messages.mo",
    ):
        assert expected in names
    assert any(name.startswith("samrad/static/vendor/htmx-") for name in names)
    assert any(name.startswith("samrad/migrations/versions/") for name in names)
    # Nothing of the developer's machine: no database, no configuration with a secret, no caches.
    assert not [name for name in names if name.endswith((".db", ".toml", ".pyc")) or "/instance/" in name]


def test_installed_in_a_fresh_venv_it_migrates_and_serves_the_swedish_login_page_with_css(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [str(bin_dir / "pip"), "install", "--quiet", f"samrad[prod] @ {wheel.as_uri()}"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    elsewhere = tmp_path / "elsewhere"  # not the checkout: `import samrad` must find the installed wheel
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMRAD_", "PYTHON"))}
    env["SAMRAD_SECRET_KEY"] = SECRET
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import samrad; print(samrad.__file__)"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(env_dir))
    # No SAMRAD_INSTANCE_PATH: an installed app keeps its database in <venv>/var/samrad-instance.
    subprocess.run(
        [str(bin_dir / "samrad"), "init-db"], cwd=elsewhere, env=env, check=True, capture_output=True
    )
    assert (env_dir / "var" / "samrad-instance" / "samrad.db").is_file()

    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-c", "python:samrad.gunicorn_conf", "--workers", "2"]
        + ["--bind", f"127.0.0.1:{port}", "samrad:create_app()"],
        cwd=elsewhere,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base + "/login"), "gunicorn to answer", timeout=60)
        with urllib.request.urlopen(base + "/login") as response:
            page = response.read().decode()
        assert '<html lang="sv"' in page
        assert "Logga in" in page and "Lösenord" in page
        assert 'href="/static/css/app.css' in page
        with urllib.request.urlopen(base + "/static/css/app.css") as response:
            assert response.headers["Content-Type"].startswith("text/css")
            assert b".skip-link" in response.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _container_tool() -> str | None:
    """podman, or docker with a daemon that answers; None when neither can build here."""
    if shutil.which("podman"):
        return "podman"
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "info"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return "docker"
    return None


def test_the_containerfile_builds_and_serves_the_swedish_login_page(tmp_path):
    tool = _container_tool()
    if tool is None:
        pytest.skip("Containerfile not built: no podman, and no docker daemon running on this machine")
    tag = f"samrad-test:{os.getpid()}"
    subprocess.run([tool, "build", "-t", tag, "-f", "Containerfile", "."], cwd=ROOT, check=True, timeout=1800)
    port = free_port()
    container = subprocess.run(
        [
            tool,
            "run",
            "-d",
            "--rm",
            "-p",
            f"127.0.0.1:{port}:8000",
            "-e",
            f"SAMRAD_SECRET_KEY={SECRET}",
            tag,
            "sh",
            "-c",
            "samrad init-db && exec gunicorn -c python:samrad.gunicorn_conf --bind 0.0.0.0:8000 "
            "'samrad:create_app()'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base + "/login"), "the container to answer", timeout=120)
        with urllib.request.urlopen(base + "/login") as response:
            assert '<html lang="sv"' in response.read().decode()
    finally:
        subprocess.run([tool, "stop", container], capture_output=True, timeout=120)
        subprocess.run([tool, "rmi", tag], capture_output=True, timeout=120)


def test_the_gunicorn_settings_freeze_what_a_built_app_holds(tmp_path):
    """A worker's app (modules, templates, mappings) is moved out of the collector's way once built; in a
    process of its own, as a frozen object is never collected."""
    script = (
        "import gc; from samrad import create_app, gunicorn_conf; create_app(); "
        "before = gc.get_freeze_count(); gunicorn_conf.post_worker_init(None); "
        "print(before, gc.get_freeze_count())"
    )
    env = {**os.environ, "SAMRAD_INSTANCE_PATH": str(tmp_path), "SAMRAD_SECRET_KEY": SECRET}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.split()
    before, after = int(out[0]), int(out[1])
    assert before == 0 and after > 50_000
