"""The layer rule of docs/architecture.md, checked on the source: who may import whom, no import cycle,
every module importable on its own, and the services free of request state.

Read from the AST (imports inside functions count too: a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "samrad"

#: Layers from the bottom; a module may import its own layer and the ones below, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "pure",
        (
            "samrad.clock",
            "samrad.config",
            "samrad.enums",
            "samrad.tokens",
            "samrad.sealing",
            "samrad.passwords",
            "samrad.deidentify",
            "samrad.periods",
            "samrad.statistics",
            "samrad.calendar",
            "samrad.series",
            "samrad.charts",
            "samrad.logs",
            "samrad.resources",
            "samrad.extensions",
        ),
    ),
    ("models", ("samrad.models",)),
    (
        "infrastructure",
        (
            "samrad.db",
            "samrad.outbox",
            "samrad.urls",
            "samrad.i18n",
            "samrad.keys",
            "samrad.migrate",
            "samrad.backup",
            "samrad.ratelimits",
        ),
    ),
    ("services", ("samrad.services",)),
    ("application", ("samrad.jobs", "samrad.demo")),
    (
        "entry",
        ("samrad.web", "samrad.cli", "samrad.cli_evaluations", "samrad.scheduler", "samrad.gunicorn_conf"),
    ),
]
#: The application factory wires everything together.
FACTORY = "samrad"
#: Flask objects bound to a request or an app; services take settings and the clock as arguments.
REQUEST_STATE = {"current_app", "request", "g", "session", "url_for", "render_template"}
#: Reads of the app's state still inside a service (see docs/architecture.md); none are left.
SETTINGS_STILL_READ: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _imports(path: Path, *, top_level_only: bool = False):
    """(imported samrad module or 'flask', names, line) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [a.name for a in node.names]
            if node.module.startswith("samrad"):
                for name in names:
                    full = f"{node.module}.{name}"
                    yield (full if full in MODULES else node.module), names, node.lineno
            elif node.module == "flask":
                yield "flask", names, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("samrad") or alias.name == "flask":
                    yield alias.name, [], node.lineno


def test_every_module_belongs_to_a_layer():
    assert sorted(m for m in MODULES if m != FACTORY and _layer(m) is None) == []


def test_no_module_imports_a_layer_above_its_own():
    violations = []
    for module, path in MODULES.items():
        own = _layer(module)
        if own is None:
            continue
        for target, _, line in _imports(path):
            theirs = _layer(target) if target != FACTORY else None
            if target == FACTORY and LAYERS[own][0] != "entry":
                violations.append(f"{module}:{line} imports the application factory")
            elif theirs is not None and theirs > own:
                violations.append(
                    f"{module}:{line} ({LAYERS[own][0]}) imports {target} ({LAYERS[theirs][0]})"
                )
    assert violations == []


def test_the_web_and_the_commands_do_not_import_each_other():
    pairs = []
    for module, path in MODULES.items():
        for target, _, line in _imports(path):
            if module.startswith("samrad.web") and target.startswith(("samrad.cli", "samrad.scheduler")):
                pairs.append(f"{module}:{line} -> {target}")
            if module.startswith(("samrad.cli", "samrad.scheduler", "samrad.jobs")) and target.startswith(
                "samrad.web"
            ):
                pairs.append(f"{module}:{line} -> {target}")
    assert pairs == []


def test_pure_modules_and_models_know_nothing_of_flask():
    found = [
        f"{module}:{line}"
        for module, path in MODULES.items()
        if (_layer(module) or 0) <= 1 and module != FACTORY
        for target, _, line in _imports(path)
        if target == "flask"
    ]
    assert found == []


def test_services_take_settings_as_arguments_instead_of_reading_request_state():
    found = set()
    for module, path in MODULES.items():
        if not module.startswith("samrad.services"):
            continue
        for target, names, _ in _imports(path):
            if target == "flask":
                found |= {(module, name) for name in names if name in REQUEST_STATE}
    assert found == SETTINGS_STILL_READ


def test_no_import_cycle_at_module_level():
    graph = {
        m: {t for t, _, _ in _imports(p, top_level_only=True) if t in MODULES} for m, p in MODULES.items()
    }
    # A package importing its own submodules to re-export them is not a cycle.
    for module in graph:
        graph[module] = {
            t
            for t in graph[module]
            if not (t.startswith(module + ".") and MODULES[module].name == "__init__.py")
        }
    seen, on_path, cycles = set(), [], []

    def visit(node):
        if node in on_path:
            cycles.append(on_path[on_path.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        on_path.append(node)
        for target in sorted(graph[node]):
            visit(target)
        on_path.pop()

    for module in sorted(graph):
        visit(module)
    assert cycles == []


def _third_party_imports() -> list[str]:
    """Every module outside samrad that samrad's modules import at their top level."""
    found = set()
    for path in MODULES.values():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
    return sorted(m for m in found if m.split(".")[0] not in ("samrad", "__future__"))


# One interpreter imports the libraries, then forks a child per samrad module: each child starts with no
# samrad module imported, which is what the test is about, without paying an interpreter and Flask,
# SQLAlchemy and Babel for each of seventy modules (a minute of the suite).
_FORK_EACH = """
import importlib, os, sys, traceback
for name in sys.argv[1].split(","):
    importlib.import_module(name)
assert not [m for m in sys.modules if m == "samrad" or m.startswith("samrad.")]
failed, running = 0, 0
for module in sys.argv[2].split(","):
    if running == (os.cpu_count() or 1):
        failed += os.wait()[1] != 0
        running -= 1
    if os.fork() == 0:
        try:
            importlib.import_module(module)
        except BaseException:
            print(module + ": " + traceback.format_exc().strip().splitlines()[-1], flush=True)
            os._exit(1)
        os._exit(0)
    running += 1
for _ in range(running):
    failed += os.wait()[1] != 0
sys.exit(1 if failed else 0)
"""


def test_each_module_imports_on_its_own():
    """Each in a process where no other samrad module has been imported, so that none has prepared the
    ground (a module that works only after another is imported fails here)."""
    done = subprocess.run(
        [sys.executable, "-c", _FORK_EACH, ",".join(_third_party_imports()), ",".join(sorted(MODULES))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (0, [], "")
