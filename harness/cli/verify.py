"""``dcc-recette verify BUNDLE``: the GRADeS/DSRC check of an editor's proof bundle, and ``dcc-recette keygen KEY``
for the key pair that signs bundles (docs/verify.md).

Exit status 0 when the dossier is accepted (every requirement accepted, no finding on the bundle), 1 when the
compte-rendu has points to correct or tests to replay, 2 when there is nothing to verify (not a bundle, a format
this version does not read, an unreadable key or REM) or the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.cli.errors import CliError
from proofs.compte_rendu import decision, write_report
from proofs.findings import Status, Verification
from proofs.signing import SigningError, generate
from proofs.verify import BundleError, verify_bundle

COLOURS = {Status.ACCEPTE: "green", Status.A_REJOUER: "yellow", Status.A_CORRIGER: "red"}
REPORT_SUFFIXES = {".xlsx", ".md"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="verify a proof bundle (GRADeS/DSRC): integrity, completeness, replay, compte-rendu"
    )
    parser.add_argument("bundle", type=Path, metavar="BUNDLE", help="the directory `dcc-recette run` wrote")
    parser.add_argument(
        "--rem", type=Path, help="the REM the region uses (default: the REM this harness ships); may be newer"
    )
    parser.add_argument(
        "--editor-rem",
        type=Path,
        help="the REM the bundle was made against, when this harness does not ship it",
    )
    parser.add_argument("--pubkey", type=Path, metavar="KEY", help="the editor's Ed25519 public key (PEM)")
    parser.add_argument(
        "--cisis-dir", type=Path, help="the CI-SIS folder (default: $DCC_CISIS_DIR, ../shared/ci-sis)"
    )
    parser.add_argument("--json", action="store_true", help="print the verification as JSON")
    parser.add_argument(
        "--report",
        type=Path,
        action="append",
        default=[],
        metavar="OUT.xlsx|OUT.md",
        help="write the compte-rendu (xlsx or Markdown, by suffix); repeatable",
    )
    parser.set_defaults(handler=cmd_verify)
    keygen = subparsers.add_parser(
        "keygen", help="write an Ed25519 key pair to sign proof bundles (KEY, KEY.pub)"
    )
    keygen.add_argument("key", type=Path, metavar="KEY")
    keygen.add_argument("--force", action="store_true", help="overwrite an existing key")
    keygen.set_defaults(handler=cmd_keygen)


def cmd_keygen(args: argparse.Namespace) -> int:
    public = args.key.with_name(args.key.name + ".pub")
    if not args.force and (args.key.exists() or public.exists()):
        raise CliError(
            f"{args.key if args.key.exists() else public}: exists (--force to replace the key pair)"
        )
    if not args.key.parent.is_dir():
        raise CliError(f"{args.key.parent}: no such directory")
    generate(args.key)
    print(f"private key: {args.key} (keep it secret; `dcc-recette run --sign {args.key}`)")
    print(f"public key:  {public} (give it to the region; `dcc-recette verify --pubkey {public}`)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    for report in args.report:
        if report.suffix.lower() not in REPORT_SUFFIXES:
            raise CliError(f"--report {report}: the compte-rendu is written as .xlsx or .md")
        if not report.parent.is_dir():
            raise CliError(f"--report {report}: no such directory {report.parent}")
    for option, path in (("--rem", args.rem), ("--editor-rem", args.editor_rem), ("--pubkey", args.pubkey)):
        if path is not None and not path.is_file():
            raise CliError(f"{option} {path}: no such file")
    try:
        verification = verify_bundle(
            args.bundle,
            rem=args.rem,
            editor_rem=args.editor_rem,
            pubkey=args.pubkey,
            cisis_dir=args.cisis_dir,
        )
    except BundleError as error:
        raise CliError(str(error)) from None
    except SigningError as error:
        raise CliError(f"--pubkey: {error}") from None
    for report in args.report:
        write_report(verification, report)
    if args.json:
        print(json.dumps(verification.to_json(), ensure_ascii=False, indent=1, sort_keys=True))
    else:
        print_verification(Console(highlight=False), verification)
        for report in args.report:
            Console(highlight=False).print(f"Compte-rendu: [bold]{report}[/bold]")
    return verification.exit_status


def print_verification(console: Console, verification: Verification) -> None:
    facts = verification.facts
    editor, region = facts.get("editor_rem", {}), facts.get("region_rem", {})
    console.print(
        f"[bold]{verification.bundle}[/bold]: dcc-recette {facts.get('harness', {}).get('version', '?')}, "
        f"REM {editor.get('version', '?')} (region: {region.get('version', '?')}), "
        f"signature {facts.get('signature', '?')}, {facts.get('files', '?')} files"
    )
    general = verification.general_findings
    if general:
        console.rule("Constats sur l'ensemble du dossier")
        for finding in general:
            colour = COLOURS[finding.status]
            where = f" [bold]{escape(finding.file)}[/bold]" if finding.file else ""
            console.print(
                f"[{colour}]{finding.status.value}[/{colour}] {finding.check.value}{where}: "
                + escape(finding.message),
                soft_wrap=True,
            )
    if verification.requirements:
        table = Table(title="Compte-rendu par exigence")
        for name in ("Exigence", "Déclaré", "Rejoué", "Statut", "Motif"):
            table.add_column(name, overflow="fold")
        for report in verification.requirements.values():
            colour = COLOURS[report.status]
            first = report.reasons[0] if report.reasons else ""
            more = f" (+{len(report.reasons) - 1})" if len(report.reasons) > 1 else ""
            table.add_row(
                report.id,
                report.claimed or "—",
                report.replayed or "—",
                f"[{colour}]{report.status.value}[/{colour}]",
                escape(first + more),
            )
        console.print(table)
        detailed = [r for r in verification.requirements.values() if r.status is not Status.ACCEPTE]
        if detailed:
            console.rule("Points à corriger et tests à rejouer")
        for report in detailed:
            colour = COLOURS[report.status]
            console.print(
                f"[bold]{report.id}[/bold] [{colour}]{report.status.value}[/{colour}]", soft_wrap=True
            )
            for reason in report.reasons:
                console.print(f"  - {reason}", soft_wrap=True, markup=False)
    for note in verification.notes:
        console.print(f"[bright_black]note: {note}[/bright_black]")
    if verification.out_of_scope:
        console.print(
            f"[bright_black]{len(verification.out_of_scope)} REM requirement(s) out of the bundle's scope[/bright_black]"
        )
    colour = "green" if verification.accepted else "red"
    console.print(
        f"[{colour}]{decision(verification)}[/{colour}]  ({verification.timings.get('total', 0):.1f} s)"
    )
