"""The dashboard as the API and the CLI produce it: count, compute, check, write, and say so in the journal.

``produce`` emits ``tbb.produced`` with the totals of the span it covers (previous year + current year to date) and
self-checks the recette reads (each breakdown adds up to its total, the windows add up); each extraction is
``tbb.export_requested`` then ``tbb.exported`` with its row count and, for the INCa sheet, whether the file read
back conforms to the documented layout. Events go in the caller's transaction (``dcc.events.emit``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dcc import events
from dcc.tbb import inca, render
from dcc.tbb.extract import load_cubes
from dcc.tbb.indicators import BY_NAME, INDICATORS, Dashboard, Rate, breakdown_label, compute, loaded_span
from dcc.tbb.periods import Period

TOLERANCE = 1e-9


def produce(
    session: Session,
    period: Period | str,
    finess: tuple[str, ...] | list[str] = (),
    today: date | None = None,
    emit: bool = True,
    parallel: bool = True,
) -> Dashboard:
    """Every indicator of ``period`` (and its windows, and the INCa quarter) from the recorded activity.

    ``parallel`` (default): count on two reading connections of the session's engine at once — committed activity
    only, and no lock held on the DCC's writers meanwhile; ``False``: in the session's own transaction."""
    period = Period.parse(period) if isinstance(period, str) else period
    extra = inca.windows(inca.quarter_of(period, today))
    source = session.get_bind() if parallel else session
    cubes = load_cubes(source, loaded_span(period, today, extra))
    dashboard = compute(cubes, period, today, tuple(finess), extra)
    if emit:
        events.emit(session, "tbb.produced", **produced_fields(dashboard))
    return dashboard


def _sums(dashboard: Dashboard, indicator: str, window: str, breakdown: tuple[str, ...]) -> bool:
    """The breakdown exists and its rows add up to the indicator's total."""
    if breakdown_label(breakdown) not in set(dashboard.values.breakdown):
        return False
    rows = dashboard.table(indicator, window, breakdown)
    total = dashboard.total(indicator, window)
    return (len(rows) > 0 or total == 0) and abs(float(rows.value.sum()) - total) < 0.5


def _periods_ok(dashboard: Dashboard) -> bool:
    """Month ≤ current year; previous year + current year = span; the monthly series adds up to each window."""
    monthly = dashboard.monthly[dashboard.monthly.breakdown == "month"]
    for indicator in ("documents_recorded", "attempts", "failures"):
        total = {w: dashboard.total(indicator, w) for w in dashboard.windows}
        if total["current_month"] > total["current_year"] + TOLERANCE:
            return False
        if abs(total["previous_year"] + total["current_year"] - total["span"]) > TOLERANCE:
            return False
        series = monthly[monthly.indicator == indicator]
        for name in ("current_year", "previous_year", "period"):
            window = dashboard.windows[name]
            inside = series[(series.month >= str(window.first)) & (series.month <= str(window.last))]
            if abs(float(inside.value.sum()) - total[name]) > TOLERANCE:
                return False
    return True


def _failure_rates(dashboard: Dashboard, window: str = "span") -> bool:
    """A failure rate for every channel with attempts, equal to its failures / attempts."""
    attempts = dashboard.table("attempts", window, ("channel",))
    if not len(attempts):
        return False
    failures = dict(dashboard.table("failures", window, ("channel",)).itertuples(index=False))
    rates = dict(dashboard.table("failure_rate", window, ("channel",)).itertuples(index=False))
    for channel, count in attempts.itertuples(index=False):
        if count <= 0:
            continue
        rate = rates.get(channel)
        if rate is None or math.isnan(rate) or abs(rate - failures.get(channel, 0) / count) > TOLERANCE:
            return False
    return True


def produced_fields(dashboard: Dashboard) -> dict[str, Any]:
    """The fields of ``tbb.produced`` (docs/trace-events.md): totals over the span, and the self-checks."""
    span = dashboard.windows["span"]
    return {
        "period": dashboard.period.label,
        "span": f"{span.first}..{span.last}",
        "finess": list(dashboard.finess_filter),
        "documents_recorded": int(dashboard.total("documents_recorded", "span")),
        "attempts": int(dashboard.total("attempts", "span")),
        "attempts_ins_qualified": int(dashboard.total("attempts_ins_qualified", "span")),
        "failures": int(dashboard.total("failures", "span")),
        "periods_ok": _periods_ok(dashboard),
        "by_finess": _sums(dashboard, "documents_recorded", "span", ("finess",))
        and _sums(dashboard, "attempts", "span", ("finess",)),
        "by_channel": _sums(dashboard, "attempts", "span", ("channel",))
        and _sums(dashboard, "attempts", "span", ("channel", "kind", "result")),
        "by_document_type": _sums(dashboard, "attempts", "span", ("kind",))
        and _sums(dashboard, "documents_recorded", "span", ("kind",)),
        "by_rpps": _sums(dashboard, "attempts", "span", ("rpps",)),
        "failure_rates": _failure_rates(dashboard),
    }


@dataclass
class Written:
    """The files of one ``write_all``: what a person opens, and the CSV extractions with their row counts."""

    workbook: Path
    inca_xlsx: Path
    inca_csv: Path
    inca_valid: bool
    inca_problems: list[str]
    extractions: dict[str, tuple[Path, int]] = field(default_factory=dict)
    charts: list[Path] = field(default_factory=list)


def export_inca(
    session: Session, dashboard: Dashboard, out: Path, today: date | None = None
) -> tuple[Path, Path, list[str]]:
    """The quarterly INCa restitution, checked by reading the written file back against the layout."""
    quarter = inca.quarter_of(dashboard.period, today)
    events.emit(
        session, "tbb.export_requested", kind="inca_quarterly", breakdown="total", period=quarter.label
    )
    xlsx, csv_path, _ = render.write_inca(dashboard, out, quarter)
    problems = inca.validate(render.read_inca(xlsx), quarter.label)
    events.emit(
        session,
        "tbb.exported",
        kind="inca_quarterly",
        breakdown="total",
        period=quarter.label,
        rows=len(inca.ROWS),
        format_valid=not problems,
        problems=problems[:10],
        artifacts=None,
    )
    return xlsx, csv_path, problems


def export_breakdown(session: Session, dashboard: Dashboard, breakdown: str, out: Path) -> tuple[Path, int]:
    """One CSV extraction (``breakdown`` as in the values: ``rpps``, ``finess``, ``channel×kind×result``...)."""
    name = breakdown.replace("×", "_")
    events.emit(session, "tbb.export_requested", kind="csv", breakdown=name, period=dashboard.period.label)
    path = out / f"{render.stem(dashboard)}_{name}.csv"
    rows = render.write_csv(dashboard, breakdown, path)
    events.emit(
        session,
        "tbb.exported",
        kind="csv",
        breakdown=name,
        period=dashboard.period.label,
        rows=rows,
        format_valid=True,
    )
    return path, rows


def write_all(session: Session, dashboard: Dashboard, out: Path, today: date | None = None) -> Written:
    """The workbook, the INCa sheet, every breakdown's CSV and the charts, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    quarter = inca.quarter_of(dashboard.period, today)
    workbook = render.write_workbook(dashboard, out / f"{render.stem(dashboard)}.xlsx", quarter)
    xlsx, csv_path, problems = export_inca(session, dashboard, out, today)
    written = Written(workbook, xlsx, csv_path, not problems, problems)
    labels = {breakdown_label(b) for i in INDICATORS for b in i.breakdowns}
    for label in sorted(labels):
        written.extractions[label] = export_breakdown(session, dashboard, label, out)
    written.charts = render.write_charts(dashboard, out)
    return written


def _json_value(value: float, indicator: str) -> float | int | None:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(BY_NAME[indicator], Rate):
        return round(float(value), 6)
    return round(float(value))


def to_json(dashboard: Dashboard, breakdowns: list[str] | None = None) -> dict[str, Any]:
    """The dashboard for the API: windows, definitions, totals per window, and the requested breakdowns' rows."""
    values = dashboard.values
    totals: dict[str, dict[str, Any]] = {}
    for record in values[values.breakdown == "total"].itertuples(index=False):
        totals.setdefault(record.indicator, {})[record.window] = _json_value(record.value, record.indicator)
    wanted = breakdowns if breakdowns is not None else ["channel", "kind", "finess", "channel×kind×result"]
    rows: dict[str, list[dict[str, Any]]] = {}
    for label in wanted:
        dims = label.split("×")
        subset = values[
            (values.breakdown == label)
            & values.window.isin(["period", "current_month", "current_year", "previous_year"])
        ]
        rows[label] = [
            {
                "indicator": r["indicator"],
                "window": r["window"],
                **{d: r[d] for d in dims},
                "value": _json_value(r["value"], r["indicator"]),
            }
            for r in subset.to_dict("records")
        ]
    return {
        "period": dashboard.period.label,
        "finess": list(dashboard.finess_filter),
        "windows": {
            name: {"label": w.label, "first_month": str(w.first), "last_month": str(w.last)}
            for name, w in dashboard.windows.items()
        },
        "definitions": [
            {
                "name": i.name,
                "family": i.family,
                "label": i.label,
                "definition": i.definition,
                "breakdowns": ["×".join(b) or "total" for b in i.breakdowns],
            }
            for i in INDICATORS
        ],
        "totals": totals,
        "breakdowns": rows,
        "checks": produced_fields(dashboard),
    }
