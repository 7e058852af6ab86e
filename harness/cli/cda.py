"""``dcc-recette cda validate FILE...``: the ANS chain (XSD, five profiles, volet schematron) on each file.
``dcc-recette cda render FILE``: the document as a person reads it (HTML), with our rendering or a given XSLT.

validate: exit 0 only when every file is valid; 1 when one is not (or cannot be read: the others are still
checked); 2 when the CI-SIS folder is missing. render: 0, or 2 with the reason (unreadable file, not a CDA, a
stylesheet that fails).
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
    render = commands.add_parser(
        "render", help="an FRCP/PPS (any CDA) as HTML for a person: header and narrative sections"
    )
    render.add_argument("file", metavar="FILE")
    render.add_argument(
        "--stylesheet", help="an XSLT 1.0 to apply instead (e.g. the ANS generic stylesheet you downloaded)"
    )
    render.add_argument("--out", help="the HTML file to write (default: standard output)")
    render.set_defaults(handler=run_render)
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


def run_render(args: argparse.Namespace) -> int:
    from lxml import etree

    from dcc.render.html import render
    from harness.cda.volets import find_clinical_document
    from harness.cda.xmlsafe import UnsafeDocument, parse, read_bytes

    try:
        data = read_bytes(args.file)
        clinical_document = find_clinical_document(parse(data).getroot())
    except UnsafeDocument as error:
        raise CliError(f"{args.file}: {error}") from None
    if clinical_document is None:
        raise CliError(f"{args.file}: not a CDA (no urn:hl7-org:v3 ClinicalDocument)")
    try:  # render finds the ClinicalDocument inside a self-presenting CDA itself
        html = render(data, stylesheet=args.stylesheet)
    except (OSError, etree.XMLSyntaxError, etree.XSLTError) as error:
        raise CliError(f"--stylesheet {args.stylesheet}: {error}") from None
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(html)
        print(f"{args.file} → {args.out}")
    else:
        sys.stdout.write(html)
    return 0
