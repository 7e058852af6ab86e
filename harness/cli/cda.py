"""``dcc-recette cda validate FILE...``: the ANS chain (XSD, five profiles, volet schematron) on each file.

Exit 0 only when every file is valid; 1 when one is not (or cannot be read: the others are still checked);
2 when the CI-SIS folder is missing.
"""

from __future__ import annotations

import argparse
import json
import sys

from harness.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cda", help="CDA documents: validation against the ANS CI-SIS chain")
    commands = parser.add_subparsers(dest="cda_command", metavar="CDA_COMMAND")
    validate = commands.add_parser(
        "validate", help="XML Schema, then the 5 CI-SIS profiles, then the volet's schematron, per file"
    )
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--json", action="store_true", help="a JSON list, one object per file")
    validate.add_argument("--cisis-dir", help="the CI-SIS folder (default: $DCC_CISIS_DIR, ../shared/ci-sis)")
    validate.set_defaults(handler=run_validate)
    parser.set_defaults(handler=lambda args: (parser.print_help(sys.stderr), 2)[1])


def run_validate(args: argparse.Namespace) -> int:
    from harness.cda import CisisNotFound, Validator
    from harness.cda.schematron.include import SchematronError

    try:
        validator = Validator(cisis_dir=args.cisis_dir)
    except CisisNotFound as error:
        raise CliError(str(error)) from error
    reports = []
    for file in args.files:
        try:
            report = validator.validate(file, name=file)
        except SchematronError as error:
            raise CliError(f"cannot compile a CI-SIS schematron: {error}") from error
        reports.append(report)
        if not args.json:
            print(report.to_text(), flush=True)
    if args.json:
        print(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=1, sort_keys=True))
    return 0 if all(r.valid for r in reports) else 1
