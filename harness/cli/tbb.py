"""``dcc-recette tbb --period 2026-Q3|2026-10|2026 [--finess F ...] [--out DIR]``: the regional dashboard of the
reference DCC — xlsx workbook, INCa quarterly sheet, CSV extractions and PNG charts — from its recorded activity.

The computation is ``dcc.tbb``; this command opens the database, asks for the dashboard, writes the files and
commits the ``tbb.*`` events the recette reads.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from harness.cli.errors import CliError

SHOWN = (
    "documents_recorded",
    "documents_received",
    "attempts",
    "attempts_ins_qualified",
    "failures",
    "failure_rate",
    "dmp_shared",
    "pdc_shared",
    "mss_pro_sent",
    "mss_citoyenne_sent",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tbb", help="regional dashboard of the reference DCC: workbook, INCa sheet, CSV, charts"
    )
    parser.add_argument("--period", required=True, help="YYYY, YYYY-Qn or YYYY-MM")
    parser.add_argument("--finess", nargs="+", default=[], help="only these FINESS géographiques")
    parser.add_argument(
        "--out", type=Path, default=Path("tbb-out"), help="output directory (default tbb-out)"
    )
    parser.add_argument(
        "--database", default=None, help="database URL (default: DCC_DATABASE_URL or the local file)"
    )
    parser.add_argument("--today", default=None, help="reference date YYYY-MM-DD (default: today)")
    parser.add_argument("--json", action="store_true", help="print the written files and checks as JSON")
    parser.set_defaults(handler=cmd_tbb)


def _today(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"--today {text!r}: expected YYYY-MM-DD") from None


def cmd_tbb(args: argparse.Namespace) -> int:
    from dcc.db import make_engine, make_session_factory, migrate
    from dcc.settings import database_url
    from dcc.tbb import service
    from dcc.tbb.periods import Period, PeriodError

    try:
        period = Period.parse(args.period)
    except PeriodError as error:
        raise CliError(str(error)) from None
    today = _today(args.today)
    finess = [f.strip() for f in args.finess if f.strip()]
    for value in finess:
        if not (value.isdigit() and len(value) == 9) and not (len(value) == 9 and value[:2] in ("2A", "2B")):
            raise CliError(f"--finess {value!r}: a FINESS is 9 characters (digits, 2A/2B for Corsica)")
    url = args.database or database_url()
    try:
        migrate(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            dashboard = service.produce(session, period, finess, today)
            written = service.write_all(session, dashboard, args.out, today)
            checks = service.produced_fields(dashboard)
            session.commit()
        engine.dispose()
    except SQLAlchemyError as error:
        raise CliError(
            f"database {url.split('@')[-1]}: {error.__class__.__name__}: {str(error).splitlines()[0]}"
        ) from None
    except OSError as error:
        raise CliError(f"{args.out}: {error}") from None
    if args.json:
        print(
            json.dumps(
                {
                    "period": period.label,
                    "workbook": str(written.workbook),
                    "inca": {
                        "xlsx": str(written.inca_xlsx),
                        "csv": str(written.inca_csv),
                        "valid": written.inca_valid,
                    },
                    "extractions": {
                        k: {"file": str(p), "rows": n} for k, (p, n) in written.extractions.items()
                    },
                    "charts": [str(p) for p in written.charts],
                    "checks": checks,
                },
                ensure_ascii=False,
                indent=2,
                sort_keys=True,
            )
        )
    else:
        _print(dashboard, written, checks)
    return 0 if written.inca_valid else 1


def _print(dashboard, written, checks) -> None:
    from dcc.tbb.indicators import BY_NAME, Rate
    from dcc.tbb.render import WINDOW_LABELS

    console = Console(highlight=False)
    table = Table(title=f"Tableau de bord {dashboard.period.label}")
    table.add_column("indicateur")
    for name, label in WINDOW_LABELS.items():
        table.add_column(f"{label}\n{dashboard.windows[name].label}", justify="right")
    for name in SHOWN:
        rate = isinstance(BY_NAME[name], Rate)
        cells = []
        for window in WINDOW_LABELS:
            value = dashboard.total(name, window)
            cells.append("—" if value != value else (f"{100 * value:.1f} %" if rate else f"{int(value):,}"))
        table.add_row(BY_NAME[name].label, *cells)
    console.print(table)
    console.print(f"workbook: {written.workbook}")
    state = "conforms to" if written.inca_valid else "DOES NOT conform to"
    console.print(f"INCa sheet: {written.inca_xlsx} ({state} the documented layout)")
    for problem in written.inca_problems[:10]:
        console.print(f"  [red]{problem}[/red]")
    console.print(
        f"{len(written.extractions)} CSV extractions, {len(written.charts)} charts in {written.workbook.parent}"
    )
    failed = [
        k
        for k in ("periods_ok", "by_finess", "by_channel", "by_document_type", "failure_rates")
        if not checks[k]
    ]
    if failed:
        console.print(f"[yellow]self-checks not met: {', '.join(failed)}[/yellow]")
