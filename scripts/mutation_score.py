"""Print the mutation score per module after `mutmut run` (used by `make mutation`).

A mutant is a function ``x_<name>__mutmut_<n>`` in the mutated copy under ``mutants/``; ``mutmut results``
lists those that were not killed (survived, or no test reached them).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANT = re.compile(r"^def (x_\w+__mutmut_\d+)\(", re.M)


def main() -> int:
    results = subprocess.run(
        [str(ROOT / ".venv/bin/mutmut"), "results"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    not_killed = {line.split(":")[0].strip(): line.rsplit(":", 1)[1].strip() for line in results.splitlines()}
    print(f"{'module':32} {'mutants':>8} {'killed':>8} {'survived':>9} {'no test':>8} {'score':>7}")
    for path in sorted((ROOT / "mutants" / "samrad").rglob("*.py")):
        names = MUTANT.findall(path.read_text(encoding="utf-8"))
        if not names:
            continue
        module = ".".join(path.relative_to(ROOT / "mutants").with_suffix("").parts)
        mine = {k: v for k, v in not_killed.items() if k.startswith(module + ".")}
        survived = sum(1 for v in mine.values() if v == "survived")
        untested = len(mine) - survived
        killed = len(names) - len(mine)
        score = 100 * killed / len(names)
        print(f"{module:32} {len(names):8} {killed:8} {survived:9} {untested:8} {score:6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
