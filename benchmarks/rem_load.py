"""Load time of a 5,000-scenario REM (issue 2): the size of a large Ségur REM several times over.

The REM is generated with the writer (2,000 requirements, 2–3 scenarios each, 3 proofs per scenario), then loaded
five times; the median is what an editor waits for ``rem load``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.report import median, timed, write_section
from rem.loader import load_rem
from rem.model import Nature, Proof, Rem, Requirement, Scenario
from rem.writer import write_rem

SCENARIOS = 5_000
STATEMENT = (
    "LORSQUE un PPS est validé et que l'identité du patient est qualifiée, ALORS le système DOIT le transmettre "
    "par MSSanté citoyenne au patient, dans un courriel conforme au référentiel socle MSSanté."
)
SCENARIO = (
    "L'éditeur DOIT exécuter le scénario de conformité suivant : 1. Créer un patient. 2. Valider un PPS. " * 2
)


def generated_rem(scenarios: int = SCENARIOS) -> Rem:
    requirements, made, index = [], 0, 0
    while made < scenarios:
        index += 1
        rid = f"SEC{index % 17:02d}/SUB.{index:04d}"
        count = min(2 + index % 2, scenarios - made)
        scen = tuple(
            Scenario(
                f"{rid}.{s:02d}",
                SCENARIO,
                tuple(Proof(f"{rid}.{s:02d}.{p:02d}", "Capture d'écran") for p in (1, 2, 3)),
            )
            for s in range(1, count + 1)
        )
        made += count
        requirements.append(
            Requirement(
                rid,
                rid.rsplit(".", 1)[0],
                "Section",
                "2.3.5",
                "Fonction",
                Nature.EXIGENCE,
                STATEMENT,
                scenarios=scen,
            )
        )
    return Rem("generated", "", "2099.01", tuple(requirements))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rem = generated_rem()
        write_times, path = timed(lambda: write_rem(rem, Path(tmp) / "REM_big_2099.01.xlsx"), 1)
        size = Path(path).stat().st_size
        load_times, result = timed(lambda: load_rem(path), 5)
    assert len(result.rem.scenarios) == SCENARIOS and not result.issues
    body = f"""
REM of {len(rem.requirements):,} requirements, {SCENARIOS:,} scenarios, {len(rem.proofs):,} proofs
({size / 1024:,.0f} KiB .xlsx, published layout), generated with `rem.writer`.

| measure | value |
|---|---|
| load (`rem.loader.load_rem`), median of 5 | {median(load_times):.2f} s |
| load, min / max | {min(load_times):.2f} s / {max(load_times):.2f} s |
| scenarios loaded per second (median) | {SCENARIOS / median(load_times):,.0f} |
| write (`rem.writer.write_rem`), once | {write_times[0]:.2f} s |
"""
    write_section("rem_load", body)


if __name__ == "__main__":
    main()
