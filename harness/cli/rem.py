"""``dcc-recette rem load | show | diff``: what an editor or a GRADeS reviewer asks of a REM spreadsheet."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.cli.errors import CliError
from rem import default_rem_path
from rem.diff import RemDiff, diff_rems
from rem.loader import LoadResult, RemFormatError, load_rem
from rem.model import Rem
from rem.statement import parse

MAX_LISTED_ISSUES = 40


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rem", help="load, show and diff REM spreadsheets")
    commands = parser.add_subparsers(dest="rem_command", metavar="SUBCOMMAND", required=True)

    load = commands.add_parser("load", help="load a REM, report its summary, errors and warnings")
    load.add_argument("file", type=Path)
    load.add_argument("--json", action="store_true", help="machine-readable summary")
    load.set_defaults(handler=cmd_load)

    show = commands.add_parser("show", help="one requirement with its clauses, scenarios and proofs")
    show.add_argument("id")
    show.add_argument("--rem", type=Path, default=None, help=f"REM file (default: {default_rem_path().name})")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    diff = commands.add_parser(
        "diff", help="requirements added, removed and changed between two REM versions"
    )
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--json", action="store_true")
    diff.set_defaults(handler=cmd_diff)


def load_or_fail(path: Path) -> LoadResult:
    """Loads a REM for a command; an unreadable one stops it with exit 2 and the loader's one-line reason."""
    try:
        return load_rem(path)
    except RemFormatError as error:
        raise CliError(str(error)) from None


def summary(result: LoadResult) -> dict[str, object]:
    rem = result.rem
    return {
        "file": rem.source,
        "sha256": rem.sha256,
        "version": rem.version,
        "layout": rem.layout,
        "requirements": len(rem.requirements),
        "scenarios": len(rem.scenarios),
        "proofs": len(rem.proofs),
        "sections": dict(sorted(Counter(r.section_id for r in rem.requirements).items())),
        "natures": dict(sorted(Counter(r.nature.value for r in rem.requirements).items())),
        "business_scenarios": len(rem.business_scenarios),
        "referentials": len(rem.referentials),
        "segur_documents": len(rem.segur_documents),
        "errors": [i.to_json() for i in result.errors],
        "warnings": [i.to_json() for i in result.warnings],
    }


def print_summary(result: LoadResult, console: Console) -> None:
    rem = result.rem
    console.print(
        f"[bold]{rem.source}[/bold] — REM version {rem.version}, {rem.layout} layout, sha256 {rem.sha256[:16]}…"
    )
    table = Table("Section", "Requirements", "Scenarios", "Proofs", title=None)
    by_section: dict[str, list[int]] = {}
    for requirement in rem.requirements:
        counts = by_section.setdefault(requirement.section_id, [0, 0, 0])
        counts[0] += 1
        counts[1] += len(requirement.scenarios)
        counts[2] += len(requirement.proofs)
    for section, (reqs, scens, proofs) in by_section.items():
        table.add_row(section, str(reqs), str(scens), str(proofs))
    table.add_row("[bold]total", str(len(rem.requirements)), str(len(rem.scenarios)), str(len(rem.proofs)))
    console.print(table)
    for label, issues in (("error", result.errors), ("warning", result.warnings)):
        for issue in issues[:MAX_LISTED_ISSUES]:
            console.print(f"  {issue}", markup=False, highlight=False, soft_wrap=True)
        if len(issues) > MAX_LISTED_ISSUES:
            console.print(f"  … and {len(issues) - MAX_LISTED_ISSUES} more {label}s (use --json for all)")
    console.print(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)")


def cmd_load(args: argparse.Namespace) -> int:
    result = load_or_fail(args.file)
    if args.json:
        print(json.dumps(summary(result), ensure_ascii=False, sort_keys=True, indent=2))
    else:
        print_summary(result, Console(highlight=False))
    return 1 if result.errors else 0


def _find(rem: Rem, requirement_id: str) -> tuple[str, object]:
    requirement = rem.get(requirement_id)
    if requirement is not None:
        return "requirement", requirement
    for r in rem.requirements:
        for scenario in r.scenarios:
            if scenario.id == requirement_id:
                return "requirement", r
    raise CliError(f"{requirement_id}: no such requirement or scenario in {rem.source}")


def cmd_show(args: argparse.Namespace) -> int:
    rem = load_or_fail(args.rem or default_rem_path()).rem
    _, requirement = _find(rem, args.id)
    statement = parse(requirement.statement)
    if args.json:
        out = {
            "id": requirement.id,
            "section_id": requirement.section_id,
            "section": requirement.section,
            "bloc": requirement.bloc,
            "fonction": requirement.fonction,
            "nature": requirement.nature.value,
            "profil": requirement.profil,
            "statement": requirement.statement,
            "clauses": statement.to_json(),
            "scenarios": [
                {"id": s.id, "text": s.text, "proofs": [{"id": p.id, "text": p.text} for p in s.proofs]}
                for s in requirement.scenarios
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    console = Console(highlight=False)
    console.print(f"[bold]{requirement.id}[/bold] — {requirement.section_id} {requirement.section}")
    console.print(f"Bloc: {requirement.bloc}   Fonction: {requirement.fonction}")
    console.print(f"Nature: {requirement.nature.value}   Profil: {requirement.profil}")
    console.print()
    console.print(requirement.statement, markup=False)
    console.print()
    console.print("[bold]Clauses[/bold]")
    for clause in statement.clauses:
        _print_clause(console, clause, 1)
    for scenario in requirement.scenarios:
        console.print()
        console.print(f"[bold]Scénario {scenario.id}[/bold]")
        console.print(scenario.text, markup=False)
        for proof in scenario.proofs:
            console.print(f"  Preuve {proof.id}: ", end="")
            console.print(proof.text, markup=False)
    return 0


def _print_clause(console: Console, clause, depth: int) -> None:
    label = clause.kind.value.upper().replace("_", " ")
    subject = f"[{clause.subject}] " if clause.subject else ""
    console.print("  " * depth + f"{label}: {subject}{clause.text}", markup=False)
    for child in clause.then:
        _print_clause(console, child, depth + 1)


def print_diff(diff: RemDiff, out=None) -> None:
    out = (
        out or sys.stdout
    )  # resolved at call time: a default bound at import would outlive a redirected stdout
    print(f"REM {diff.old_version} → {diff.new_version}", file=out)
    if diff.empty:
        print("no difference in requirements, scenarios or proofs", file=out)
        return
    for rid in diff.added:
        print(f"+ {rid} (new requirement)", file=out)
    for rid in diff.removed:
        print(f"- {rid} (removed)", file=out)
    for change in diff.changed:
        print(f"~ {change.id}", file=out)
        for name, (old, new) in sorted(change.fields.items()):
            print(f"    {name}:\n      - {old}\n      + {new}", file=out)
        for sid in change.scenarios_added:
            print(f"    + scenario {sid}", file=out)
        for sid in change.scenarios_removed:
            print(f"    - scenario {sid}", file=out)
        for scenario in change.scenarios_changed:
            print(f"    ~ scenario {scenario.id}", file=out)
            if scenario.text:
                print(f"      - {scenario.text[0]}\n      + {scenario.text[1]}", file=out)
            for pid in scenario.proofs_added:
                print(f"      + proof {pid}", file=out)
            for pid in scenario.proofs_removed:
                print(f"      - proof {pid}", file=out)
            for pid, old, new in scenario.proofs_changed:
                print(f"      ~ proof {pid}\n        - {old}\n        + {new}", file=out)
    print(f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed", file=out)


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0 when the two REMs ask the same thing, 1 when they differ (like diff(1))."""
    diff = diff_rems(load_or_fail(args.old).rem, load_or_fail(args.new).rem)
    if args.json:
        print(json.dumps(diff.to_json(), ensure_ascii=False, sort_keys=True, indent=2))
    else:
        print_diff(diff)
    return 0 if diff.empty else 1
