"""Wall time of ``dcc-recette verify`` on a full-REM bundle (issue 9): what a GRADeS/DSRC waits for an editor's
bundle — manifest, hashes, replay of the rules on the trace, book, completeness, content checks. The bundle is made
once by ``dcc-recette run`` against the reference DCC; the first verification loads the REM and the rules, the
next ones reuse them (a region verifying several bundles in one process)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.report import median, write_section
from harness.cli import main as cli
from proofs.verify import verify_bundle

REPEATS = 5


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as folder:
        bundle = Path(folder) / "bundle"
        cli(["run", "--out", str(bundle), "--jobs", "1"])
        files = sum(1 for p in bundle.rglob("*") if p.is_file())
        first_start = time.perf_counter()
        verification = verify_bundle(bundle)
        first = time.perf_counter() - first_start
        times, steps = [], []
        for _ in range(REPEATS):
            start = time.perf_counter()
            again = verify_bundle(bundle)
            times.append(time.perf_counter() - start)
            steps.append(again.timings)
    requirements = len(verification.requirements)
    phases = ("load", "integrity", "replay", "book", "completeness", "artifacts")
    breakdown = " · ".join(f"{p} {median([s.get(p, 0.0) for s in steps]) * 1000:.0f} ms" for p in phases)
    write_section(
        "verify_bundle",
        f"""`dcc-recette verify` on a full-REM bundle made by `dcc-recette run` against the reference DCC ({requirements}
requirements, {files} files).

| | wall time |
|---|---|
| first verification (REM and rules loaded) | {first:.2f} s |
| next ones, median of {REPEATS} | {median(times):.2f} s (range {min(times):.2f}–{max(times):.2f} s) |

Median per phase: {breakdown}. CDA re-validation adds the CI-SIS chain per CDA artifact (see `cda_validate`).""",
    )


if __name__ == "__main__":
    main()
