"""``dcc-recette dcc serve``: the reference DCC as an HTTP server (application API and test-driver API)."""

from __future__ import annotations

import argparse

from harness.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dcc", help="the reference DCC")
    commands = parser.add_subparsers(dest="dcc_command", metavar="COMMAND", required=True)
    serve = commands.add_parser("serve", help="serve the reference DCC over HTTP (OpenAPI at /openapi.json)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument(
        "--database-url", help="SQLAlchemy URL (default: DCC_DATABASE_URL, else SQLite in the user data dir)"
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="switch a named fault on (recette of the harness itself)",
    )
    serve.add_argument(
        "--no-test-driver",
        action="store_true",
        help="do not serve the test-driver API (/driver): for a DCC that is not a test instance",
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from dcc import faults
    from dcc.api.app import create_app

    catalogue = faults.load_all()
    unknown = [n for n in args.fault if n not in catalogue]
    if unknown:
        raise CliError(f"unknown fault(s): {', '.join(unknown)} (see `dcc-recette faults`)")
    if args.fault:
        os.environ["DCC_FAULTS"] = ",".join(args.fault)
    if not 0 < args.port < 65536:
        raise CliError(f"--port {args.port}: 1 to 65535")
    try:
        app = create_app(args.database_url, test_driver=not args.no_test_driver)
    except Exception as error:  # an unreachable or unmigratable database: say which
        raise CliError(f"cannot open the database: {error}") from None
    print(
        f"Reference DCC on http://{args.host}:{args.port} (OpenAPI: /openapi.json"
        + (")" if args.no_test_driver else ", test-driver API: /driver — a test instance)")
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
