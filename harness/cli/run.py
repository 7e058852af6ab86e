"""``dcc-recette run``: the recette of a DCC — scenarios, rules, proof bundle and recette book — and the CI gate.

Exit status 0 when every applicable mandatory requirement (EXIGENCE) is conforme, 1 otherwise, 2 when the run cannot
start (unknown scenario or fault, unreachable target, bad profile, output directory that is not a bundle).
"""

from __future__ import annotations

import argparse
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import harness
from harness.cli.errors import CliError
from harness.cli.rem import load_or_fail
from harness.gate import GateError, GateResult, evaluate_gate, load_gate, waiver_json
from harness.runner import RunError, RunOutcome, ScenarioRun, run
from harness.targets import Target, TargetError, make_target
from harness.workers import start_early as start_workers_early
from proofs import manifest as mf
from proofs.bundle import write_bundle
from proofs.signing import SigningError
from rem import default_rem_path
from rem.model import Rem
from rules.loader import load_rules
from rules.profile import DEFAULT_PROFILE_PATH, ProfileError, load_profile
from scenarios.registry import discover, select

BUNDLE_ENTRIES = {
    "artifacts",
    "allure-results",
    "trace.jsonl",
    "recette-book.xlsx",
    "junit.xml",
    "report.html",
    mf.MANIFEST,
    mf.SIGNATURE,
}
RECETTE_EXTRAS = {"rem-summary.json", "rules-check.json"}  # what `dcc-recette recette` adds beside the bundle
COLOURS = {
    "conforme": "green",
    "non conforme": "red",
    "non applicable": "bright_black",
    "non évalué": "yellow",
}


def add_run_options(parser: argparse.ArgumentParser, default_out: Path) -> None:
    parser.add_argument(
        "--rem", type=Path, default=None, help=f"REM file (default: {default_rem_path().name})"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help=f"run profile YAML (default: {DEFAULT_PROFILE_PATH.name})"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="ID",
        help="scenario ids (DOC.01.01), requirement ids (DOC.01) or sections (DOC)",
    )
    parser.add_argument(
        "--out", type=Path, default=default_out, help=f"bundle directory (default: {default_out})"
    )
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel (default: 2)")
    parser.add_argument(
        "--sign", type=Path, metavar="KEY", help="Ed25519 private key (PEM) to sign the manifest"
    )
    parser.add_argument(
        "--gate",
        type=Path,
        metavar="FILE",
        help="CI gate: thresholds by nature/section and dated waivers (docs/ci.md)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the recette against a DCC and write the proof bundle")
    parser.add_argument("--target", choices=("reference", "http"), default="reference")
    parser.add_argument("--driver-url", help="base URL of the DCC's test-driver API (--target http)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch a named fault of the reference DCC on (see `dcc-recette faults`); repeatable",
    )
    add_run_options(parser, Path("recette-out"))
    parser.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    if args.fault and args.target != "reference":
        raise CliError("--fault applies to the reference DCC only (--target reference)")
    if args.target == "reference" and args.jobs > 1:
        start_workers_early()
    try:
        target = (
            make_target(args.target, driver_url=args.driver_url, faults=args.fault)
            if args.target == "reference"
            else make_target(args.target, driver_url=args.driver_url)
        )
    except TargetError as error:
        raise CliError(str(error)) from None
    try:
        _outcome, _document, _rem, gate = execute(args, target, Console(highlight=False))
    finally:
        target.close()
    return 0 if gate.passed else 1


def prepare_out(out: Path) -> None:
    """A new or empty directory, or an earlier bundle (replaced); anything else is refused, never deleted."""
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        names = {p.name for p in out.iterdir()}
        foreign = names - BUNDLE_ENTRIES - RECETTE_EXTRAS
        if foreign:
            raise CliError(
                f"--out {out}: not empty and not an earlier proof bundle (has {', '.join(sorted(foreign)[:5])}); "
                "choose a new or empty directory"
            )
        for name in names & BUNDLE_ENTRIES:
            path = out / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def execute(
    args: argparse.Namespace, target: Target, console: Console
) -> tuple[RunOutcome, dict[str, Any], Rem, GateResult]:
    """The run shared by ``run`` and ``recette``: load, select, execute with progress, write the bundle, summarise."""
    if args.jobs < 1:
        raise CliError("--jobs must be at least 1")
    rem = load_or_fail(args.rem or default_rem_path()).rem
    rules = load_rules()
    try:
        profile = load_profile(args.profile)
    except ProfileError as error:
        raise CliError(str(error)) from None
    specs = discover()
    selected = select(specs, args.only)
    if args.only and not selected:
        known = ", ".join(sorted({s.section for s in specs.values()}))
        raise CliError(
            f"--only {' '.join(args.only)}: no scenario matches (sections with scenarios: {known})"
        )
    if args.only:
        requirements = {s.requirement for s in selected.values()} | {
            r.id for r in rem.requirements if r.id in args.only or r.section_id in args.only
        }
    else:
        requirements = None
    try:
        policy = load_gate(args.gate, rem)
    except GateError as error:
        raise CliError(str(error)) from None
    prepare_out(args.out)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    failures: Counter[str] = Counter()
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("scénarios", total=len(selected))

        def advance(scenario_id: str, execution: ScenarioRun) -> None:
            failures[execution.status] += 1
            progress.update(task, advance=1, description=f"scénarios ({scenario_id} {execution.status})")

        try:
            outcome = run(
                selected,
                target,
                rem,
                rules,
                profile,
                args.out,
                jobs=args.jobs,
                progress=advance,
                requirements=requirements,
            )
        except RunError as error:
            raise CliError(str(error)) from None
        except TargetError as error:
            raise CliError(f"target: {error}") from None
    verdicts = {rid: v.value for rid, v in outcome.requirement_verdicts().items()}
    gate = evaluate_gate(policy, rem, verdicts)
    results = [_result_json(r) for r in outcome.results]
    for result in results:
        waiver = gate.waived.get(result["requirement"]) or gate.expired.get(result["requirement"])
        if waiver is not None and result["verdict"] == "non conforme":
            state = "dérogation" if result["requirement"] in gate.waived else "dérogation EXPIRÉE"
            result["waiver"] = {**waiver_json(waiver), "active": result["requirement"] in gate.waived}
            result["reasons"].insert(
                0, f"{state} jusqu'au {waiver.expires.isoformat()} : {waiver.justification}"
            )
    scenarios = {
        sid: {
            "status": r.status,
            "message": r.message,
            "duration_s": round(r.duration_s, 3),
            "events": len(r.events),
        }
        for sid, r in sorted(outcome.runs.items())
    }
    try:
        document = write_bundle(
            args.out,
            rem=rem,
            rule_files=rules.files,
            profile=profile,
            profile_source=str(args.profile or DEFAULT_PROFILE_PATH.name),
            target=target.describe(),
            harness_version=harness.__version__,
            started=outcome.started,
            finished=outcome.finished,
            results=results,
            trace=outcome.trace,
            scenarios=scenarios,
            sign_key=args.sign,
            gate={
                "passed": gate.passed,
                "failures": gate.failures,
                "source": str(args.gate) if args.gate else None,
                "waivers": {
                    rid: waiver_json(w) for rid, w in sorted({**gate.waived, **gate.expired}.items())
                },
            },
        )
    except SigningError as error:
        raise CliError(str(error)) from None
    print_summary(console, rem, document, gate)
    console.print(
        f"Recette book: [bold]{args.out / 'recette-book.xlsx'}[/bold]  (report: {args.out / 'report.html'})"
    )
    return outcome, document, rem, gate


def _result_json(result) -> dict[str, Any]:
    return {
        "requirement": result.requirement,
        "scenario": result.scenario,
        "verdict": result.verdict.value,
        "mandatory": result.mandatory,
        "reasons": result.reasons,
        "proofs": result.proofs,
        "expected_proofs": result.expected_proofs,
        "execution": result.execution,
        "rule_file": result.rule_file,
        "events": result.events,
    }


def print_summary(console: Console, rem: Rem, document: dict[str, Any], gate: GateResult) -> None:
    per_section: dict[str, Counter[str]] = {}
    for rid, verdict in document["requirements"].items():
        per_section.setdefault(rem.requirement(rid).section_id, Counter())[verdict] += 1
    table = Table(title="Verdicts par exigence", show_lines=False)
    table.add_column("Section")
    for verdict, colour in COLOURS.items():
        table.add_column(verdict, style=colour, justify="right")
    for section, counts in per_section.items():
        table.add_row(section, *(str(counts.get(v, 0)) for v in COLOURS))
    totals = document["summary"]["requirements"]
    table.add_row("[bold]Total[/bold]", *(f"[bold]{totals.get(v, 0)}[/bold]" for v in COLOURS))
    console.print(table)
    failed = [rid for rid, v in document["requirements"].items() if v == "non conforme"]
    if failed:
        console.print(f"[red]Non conformes[/red]: {', '.join(failed)}")
    broken = [sid for sid, r in document["scenarios"].items() if r["status"] == "error"]
    if broken:
        console.print(f"[yellow]Scenarios in error (harness or target)[/yellow]: {', '.join(broken)}")
    for requirement in gate.waived:
        console.print(
            f"[yellow]Waived[/yellow] {requirement} (non conforme, waiver until {gate.waived[requirement].expires})"
        )
    console.print("CI gate: " + ("[green]passed[/green]" if gate.passed else "[red]failed[/red]"))
    for failure in gate.failures:
        console.print(f"  {failure}", markup=False)
