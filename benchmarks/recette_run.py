"""Wall time of the full recette against the reference DCC (issue 8): every executable scenario, the rules, the
whole proof bundle (book, JUnit, Allure, HTML) — what ``make recette`` costs. One job, then one per core; three runs
each, median. Target: under 60 seconds on the 2-core machine."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.report import median, write_section
from harness.cli import main as cli

REPEATS = 3


def _once(jobs: int) -> float:
    import time

    with tempfile.TemporaryDirectory(prefix="bench-recette-") as out:
        start = time.perf_counter()
        cli(["run", "--out", str(Path(out) / "b"), "--jobs", str(jobs)])
        return time.perf_counter() - start


def main() -> None:
    from scenarios.registry import discover

    scenarios = len(discover())
    cores = os.cpu_count() or 1
    rows = []
    for jobs in sorted({1, cores}):
        times = [_once(jobs) for _ in range(REPEATS)]
        rows.append((jobs, median(times), min(times), max(times)))
    base = rows[0][1]
    table = "\n".join(
        f"| {jobs} | {med:.1f} s | {low:.1f}–{high:.1f} s | {base / med:.2f}× |" for jobs, med, low, high in rows
    )
    write_section(
        "recette_run",
        f"""Full recette against the reference DCC in-process: {scenarios} executable scenarios, rule evaluation of
every REM requirement, proof bundle and reports (`dcc-recette run`), {REPEATS} runs per setting.

| jobs | median wall time | range | speed-up |
|---|---|---|---|
{table}

Target: under 60 s on this 2-core machine.""",
    )


if __name__ == "__main__":
    main()
