"""``dcc-recette``: one command, one sub-command module per area.

Each module of this package that defines ``register(subparsers)`` adds its own sub-commands, so an area (REM,
rules, CDA, simulators, reference DCC, run, verify, TBB) ships its CLI beside its code without editing this file.
A handler returns the process exit status. Exit statuses are the same everywhere: 0 success, 1 a finding (non
conforme, invalid document, failed verification), 2 a usage or input error that stops the command.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from harness.cli.errors import CliError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dcc-recette",
        description="Recette harness for the regional cancer platforms (DCC): REM, rules, reference DCC, proofs.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_") or module_info.name == "errors":
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register: Callable[[argparse._SubParsersAction], None] | None = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(handler(args))
    except CliError as error:
        print(f"dcc-recette {args.command}: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
