"""``dcc-recette rules check | explain | eval``: the REM's formalisation, its traceability and its replay."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.cli.errors import CliError
from harness.cli.rem import load_or_fail
from rem import default_rem_path
from rem.statement import parse
from rules.check import accept, check, statement_sha256
from rules.engine import EngineError, Evaluator, compile_rule, dumps, report
from rules.loader import RULES_DIR, load_rules
from rules.profile import ProfileError, load_profile
from rules.trace import TraceError, read_trace
from rules.verdict import Outcome


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules", help="check, explain and evaluate the rules that formalise the REM"
    )
    commands = parser.add_subparsers(dest="rules_command", metavar="SUBCOMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--rem", type=Path, default=None, help=f"REM file (default: {default_rem_path().name})"
    )
    common.add_argument("--rules-dir", type=Path, default=RULES_DIR, help="directory of the rule files")

    cmd = commands.add_parser(
        "check", parents=[common], help="traceability: unbound, orphan, drifted rules, errors"
    )
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=cmd_check)

    cmd = commands.add_parser(
        "explain", parents=[common], help="a requirement's text next to its formal rule"
    )
    cmd.add_argument("id")
    cmd.set_defaults(handler=cmd_explain)

    cmd = commands.add_parser(
        "accept",
        parents=[common],
        help="record the current REM statement hash in reviewed rules (after drift)",
    )
    cmd.add_argument("ids", nargs="+")
    cmd.set_defaults(handler=cmd_accept)

    cmd = commands.add_parser("eval", parents=[common], help="evaluate a recorded trace into verdicts")
    cmd.add_argument("trace", type=Path)
    cmd.add_argument(
        "--profile", type=Path, default=None, help="run profile YAML (default: rules/profiles/default.yaml)"
    )
    cmd.add_argument(
        "--artifacts",
        type=Path,
        default=None,
        help="bundle directory artifacts are relative to (default: the trace's directory)",
    )
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=cmd_eval)


def cmd_check(args: argparse.Namespace) -> int:
    rem = load_or_fail(args.rem or default_rem_path()).rem
    result = check(load_rules(args.rules_dir), rem)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2, sort_keys=True))
        return 0 if result.ok else 1
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"{len(rem.requirements)} requirements in {rem.source}: {len(result.automatic)} automatic rules, "
        f"{len(result.manual)} manual"
    )
    for error in result.errors:
        console.print(f"  {error}", markup=False)
    for rid in result.unbound:
        console.print(f"  unbound: {rid} has no rule", markup=False)
    for rid in result.orphans:
        console.print(f"  orphan: {rid} is not in the REM", markup=False)
    for drift in result.drifted:
        console.print(
            f"  drifted: {drift['requirement']} ({drift['file']}:{drift['line']}): the REM statement "
            f"changed; its sha256 is now {drift['rem_sha256']}",
            markup=False,
        )
    console.print("ok" if result.ok else "traceability problems found")
    return 0 if result.ok else 1


def cmd_accept(args: argparse.Namespace) -> int:
    rem = load_or_fail(args.rem or default_rem_path()).rem
    try:
        updated = accept(load_rules(args.rules_dir), rem, args.ids, args.rules_dir)
    except KeyError as error:
        raise CliError(str(error.args[0])) from None
    print("accepted: " + ", ".join(updated))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    rem = load_or_fail(args.rem or default_rem_path()).rem
    requirement = rem.get(args.id)
    rules = load_rules(args.rules_dir)
    rule = rules.rules.get(args.id)
    if requirement is None and rule is None:
        raise CliError(f"{args.id}: neither a requirement of {rem.source} nor a rule")
    console = Console(highlight=False, soft_wrap=True)
    if requirement is not None:
        console.print(f"[bold]{requirement.id}[/bold] — {requirement.nature.value}, {requirement.bloc}")
        console.print(requirement.statement, markup=False)
        for clause in parse(requirement.statement).walk():
            console.print(f"  · {clause.kind.value.upper()}: {clause.text}", markup=False)
        console.print(f"statement sha256: {statement_sha256(requirement.statement)}")
    console.print()
    if rule is None:
        console.print("[red]no rule formalises this requirement[/red]")
        return 1
    console.print(f"[bold]Rule[/bold] {rule.file}:{rule.line}" + (" (manuelle)" if rule.manuelle else ""))
    console.print(rule.source_text, markup=False)
    if not rule.manuelle:
        console.print("\n[bold]durable_rules ruleset[/bold]")
        console.print(json.dumps(compile_rule(rule), ensure_ascii=False, indent=2), markup=False)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    rem = load_or_fail(args.rem or default_rem_path()).rem
    rules = load_rules(args.rules_dir)
    if rules.errors:
        raise CliError("the rule files have errors: " + "; ".join(str(e) for e in rules.errors[:5]))
    try:
        profile = load_profile(args.profile)
        events = read_trace(args.trace)
    except (ProfileError, TraceError, OSError) as error:
        raise CliError(str(error)) from None
    evaluator = Evaluator(rules, rem, profile, args.artifacts or args.trace.resolve().parent)
    try:
        verdicts = evaluator.evaluate(events)
    except EngineError as error:
        raise CliError(f"evaluate error: {error}") from None
    document = report(verdicts, rules, rem, profile)
    if args.json:
        print(dumps(document), end="")
    else:
        _print(verdicts)
    return 1 if any(v.verdict is Outcome.NON_CONFORME for v in verdicts) else 0


_STYLE = {"conforme": "green", "non conforme": "bold red", "non applicable": "dim", "non évalué": "yellow"}


def _print(verdicts) -> None:
    console = Console(highlight=False, soft_wrap=True)
    table = Table("Exigence", "Scénario", "Verdict", "Pourquoi")
    not_run = 0
    for v in verdicts:
        if v.reasons and v.reasons[0].startswith("scénario non exécuté"):
            not_run += 1
            continue
        style = _STYLE[v.verdict.value]
        table.add_row(
            v.requirement, v.scenario, f"[{style}]{v.verdict.value}[/{style}]", "\n".join(v.reasons)
        )
    console.print(table)
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.verdict.value] = counts.get(v.verdict.value, 0) + 1
    console.print(
        ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + (f" ({not_run} scenarios absent from the trace)" if not_run else "")
    )
