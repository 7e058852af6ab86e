"""``dcc-recette recette``: the full recette against the reference DCC, with embedded defaults.

The walk-through a newcomer runs first (``make recette``): our REM DCC is loaded and checked, the rules that formalise
it are checked against it (traceability and drift), then every scenario runs against the reference DCC in-process
and the proof bundle and recette book are written. It exits 0 when the run completed, whatever the verdicts (they
are in the book); ``dcc-recette run`` is the command whose exit status gates a release.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from harness.cli.rem import load_or_fail, print_summary, summary
from harness.cli.run import add_run_options, execute, start_workers_early
from harness.targets.reference import ReferenceTarget
from rem import default_rem_path
from rules.check import check
from rules.loader import load_rules


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recette", help="run the recette against the reference DCC (embedded defaults)"
    )
    add_run_options(parser, Path("recette-out"))
    parser.set_defaults(handler=cmd_recette)


def cmd_recette(args: argparse.Namespace) -> int:
    if args.jobs > 1:
        start_workers_early()  # the recette runs the reference DCC
    console = Console(highlight=False)
    result = load_or_fail(args.rem or default_rem_path())
    console.rule("REM")
    print_summary(result, console)
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / "rem-summary.json"
    report.write_text(json.dumps(summary(result), ensure_ascii=False, sort_keys=True, indent=2) + "\n")
    console.print(f"REM summary written to {report}")
    if result.errors:
        console.print("[red]The REM has errors: the recette cannot start.[/red]")
        return 1
    console.rule("Rules")
    traceability = check(load_rules(), result.rem)
    console.print(
        f"{len(traceability.automatic)} automatic rules, {len(traceability.manual)} manual (proof to give "
        f"by a person), {len(traceability.unbound)} unbound, {len(traceability.orphans)} orphans, "
        f"{len(traceability.drifted)} drifted, {len(traceability.errors)} errors"
    )
    (args.out / "rules-check.json").write_text(
        json.dumps(traceability.to_json(), ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    )
    if not traceability.ok:
        console.print(
            "[red]The rules do not trace to the REM: see rules-check.json (dcc-recette rules check).[/red]"
        )
        return 1
    console.rule("Scénarios (DCC de référence, en processus)")
    target = ReferenceTarget()
    try:
        _outcome, _document, _rem, gate = execute(args, target, console)
    finally:
        target.close()
    console.print(
        "The recette ran to its end; its verdicts are in the book. `dcc-recette run` is the CI gate "
        f"(exit status {'0' if gate.passed else '1'} for this result)."
    )
    return 0
