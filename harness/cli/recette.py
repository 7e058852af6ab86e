"""``dcc-recette recette``: the full recette against the reference DCC, with embedded defaults.

What exists end to end today: our REM DCC is loaded and checked, its summary printed, and the rules that formalise
it are checked against it (traceability and drift). The scenario run (issue 8) is not built yet; this command says
so plainly rather than print a success it has not earned.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from harness.cli.rem import load_or_fail, print_summary, summary
from rem import default_rem_path
from rules.check import check
from rules.loader import load_rules


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recette", help="run the recette against the reference DCC (embedded defaults)"
    )
    parser.add_argument(
        "--rem", type=Path, default=None, help=f"REM file (default: {default_rem_path().name})"
    )
    parser.add_argument("--out", type=Path, default=Path("recette-out"), help="output directory")
    parser.set_defaults(handler=cmd_recette)


def cmd_recette(args: argparse.Namespace) -> int:
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
    console.print(
        "[yellow]Scenario run, proof bundle and recette book: not available yet in this version "
        "(no verdict is claimed).[/yellow]"
    )
    return 0
