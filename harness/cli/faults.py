"""``dcc-recette faults``: the named faults of the reference DCC, and (``--prove``) the run that shows each one makes
exactly the requirements it breaks « non conforme »."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from dcc import faults as dcc_faults
from harness.cli.errors import CliError
from harness.cli.rem import load_or_fail
from rem import default_rem_path
from rules.loader import load_rules
from rules.profile import load_profile
from scenarios.registry import discover


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("faults", help="list the reference DCC's named faults; --prove runs them")
    parser.add_argument("--json", action="store_true", help="JSON list of {name, description, breaks}")
    parser.add_argument(
        "--prove", nargs="*", metavar="NAME", help="run the scenarios of each fault (all if no name)"
    )
    parser.set_defaults(handler=cmd_faults)


def cmd_faults(args: argparse.Namespace) -> int:
    catalogue = dcc_faults.load_all()
    if args.prove is None:
        listing = [
            {"name": f.name, "description": f.description, "breaks": list(f.breaks)}
            for f in catalogue.values()
        ]
        if args.json:
            print(json.dumps(listing, ensure_ascii=False, indent=2))
            return 0
        table = Table(title=f"{len(listing)} faults of the reference DCC")
        for column in ("name", "breaks", "description"):
            table.add_column(column)
        for item in listing:
            table.add_row(item["name"], ", ".join(item["breaks"]), item["description"])
        Console(highlight=False).print(table)
        return 0
    unknown = [n for n in args.prove if n not in catalogue]
    if unknown:
        raise CliError(f"unknown fault(s): {', '.join(unknown)} (see `dcc-recette faults`)")
    rem = load_or_fail(default_rem_path()).rem
    rules = load_rules()
    from harness.fault_proof import prove, unbroken_rules  # here: it loads the whole reference DCC

    results = prove(discover(), rem, rules, load_profile(), args.prove or None)
    unbroken = unbroken_rules(rules)
    if args.json:
        print(
            json.dumps(
                {
                    "faults": [
                        {
                            "name": p.name,
                            "breaks": list(p.breaks),
                            "verdicts": p.verdicts,
                            "proven": p.proven,
                            "missing_scenarios": p.missing_scenarios,
                        }
                        for p in results
                    ],
                    "rules_without_fault": unbroken,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        console = Console(highlight=False)
        table = Table(title="Faults against the rules")
        for column in ("fault", "breaks", "verdicts with the fault", "proven"):
            table.add_column(column)
        for p in results:
            verdicts = ", ".join(f"{r}: {v}" for r, v in p.verdicts.items())
            if p.missing_scenarios:
                verdicts += " (no scenario: " + ", ".join(p.missing_scenarios) + ")"
            if p.collateral:
                verdicts += (
                    " (also changed: "
                    + ", ".join(f"{r} {a} → {b}" for r, (a, b) in p.collateral.items())
                    + ")"
                )
            table.add_row(
                p.name, ", ".join(p.breaks), verdicts, "[green]yes[/green]" if p.proven else "[red]no[/red]"
            )
        console.print(table)
        console.print(f"{len(unbroken)} automatic rules no fault breaks yet: {', '.join(unbroken)}")
    return 0 if all(p.proven for p in results) else 1
