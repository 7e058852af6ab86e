"""Checks the one-way imports of the design card; exits 1 and names each offending import.

rem → rules → harness/proofs/scenarios; ``dcc`` never imports the harness side; simulators never import ``dcc``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS_SIDE = {"rem", "rules", "harness", "scenarios", "proofs"}
FORBIDDEN: dict[str, set[str]] = {
    "rem": {"rules", "harness", "scenarios", "proofs", "dcc"},
    "rules": {"harness", "scenarios", "proofs", "dcc"},
    "dcc": HARNESS_SIDE,
    "harness/simulators": {"dcc"},
    "proofs": {"dcc"},
    "scenarios": {"dcc"},  # scenarios talk to a DCC only through the target interface (harness.targets)
}


def imported_top_levels(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations() -> list[str]:
    problems = []
    for prefix, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / prefix).rglob("*.py")):
            for line, name in imported_top_levels(path):
                if name in forbidden:
                    problems.append(f"{path.relative_to(ROOT)}:{line}: {prefix} must not import {name}")
    return problems


if __name__ == "__main__":
    found = violations()
    print("\n".join(found) or "imports: one-way, as the design card asks")
    sys.exit(1 if found else 0)
