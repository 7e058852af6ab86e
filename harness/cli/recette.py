"""``dcc-recette recette``: the full recette against the reference DCC, with embedded defaults.

What exists end to end today: our REM DCC is loaded and checked, and its summary printed. The scenario run (issue
8) is not built yet; this command says so plainly rather than print a success it has not earned.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from harness.cli.rem import load_or_fail, print_summary, summary
from rem import default_rem_path


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
    console.print(
        "[yellow]Scenario run, proof bundle and recette book: not available yet in this version "
        "(no verdict is claimed).[/yellow]"
    )
    return 0
