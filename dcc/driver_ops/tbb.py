"""Test-driver operations of the regional dashboard (2.4): generate fictitious activity, produce the dashboard,
produce an extraction (a breakdown as CSV, or the INCa quarterly restitution)."""

from __future__ import annotations

import base64
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dcc.driver import operation
from dcc.tbb import service
from dcc.tbb.generate import default_spec, generate
from dcc.tbb.indicators import INDICATORS, breakdown_label


class TbbRequestError(ValueError):
    """A request the dashboard cannot answer (bad date, unknown export kind or breakdown); ``reason`` is stable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TbbRequestError("bad_date", f"today {text!r}: expected YYYY-MM-DD") from None


def _breakdown(name: str) -> str:
    """A breakdown as the values label it (``channel×kind×result``), from that label or its ``_`` form."""
    labels = {breakdown_label(b) for i in INDICATORS for b in i.breakdowns}
    by_file_name = {label.replace("×", "_"): label for label in labels}
    label = name if name in labels else by_file_name.get(name)
    if label is None:
        raise TbbRequestError("unknown_breakdown", f"breakdown {name!r}; known: {', '.join(sorted(labels))}")
    return label


@operation("tbb_generate_activity", "POST", "/driver/tbb/activity")
def tbb_generate_activity(
    session: Session,
    finess: str,
    documents_per_month: int = 10,
    failures_per_channel: int | None = None,
    today: str | None = None,
    seed: int = 2026,
) -> dict[str, Any]:
    """Generate fictitious activity for one FINESS over the previous year and the current year to date.

    FRCP and PPS, their transmissions on every channel and the attempts, with failures (exactly
    ``failures_per_channel`` per channel when given)."""
    spec = default_spec(
        _date(today),
        finess=(finess,),
        documents_per_month=int(documents_per_month),
        failures_per_channel=None if failures_per_channel is None else int(failures_per_channel),
        seed=int(seed),
    )
    generated = generate(session, spec)
    return {
        **generated.event_fields(),
        "first_month": str(spec.first),
        "months": spec.months,
        "versions": generated.versions,
        "received": generated.received,
        "attempts_ins_qualified": generated.attempts_ins_qualified,
        "attempts_by_channel": dict(generated.by_channel),
        "failures_by_channel": dict(generated.failures_by_channel),
    }


@operation("tbb_produce", "POST", "/driver/tbb/dashboards")
def tbb_produce(
    session: Session, period: str, finess: list[str] | None = None, today: str | None = None
) -> dict[str, Any]:
    """Produce the regional dashboard of a period (YYYY, YYYY-Qn, YYYY-MM), optionally for some FINESS."""
    dashboard = service.produce(session, period, finess or [], _date(today))
    body = service.to_json(dashboard)
    return {key: body[key] for key in ("period", "finess", "windows", "totals", "breakdowns", "checks")}


@operation("tbb_export", "POST", "/driver/tbb/exports")
def tbb_export(
    session: Session,
    period: str,
    kind: str,
    breakdown: str = "total",
    finess: list[str] | None = None,
    today: str | None = None,
) -> dict[str, Any]:
    """Produce an extraction of the dashboard: one breakdown as CSV, or the INCa quarterly restitution.

    ``kind`` csv with ``breakdown``; ``inca_quarterly``: the quarter of ``period``, in its documented layout."""
    if kind not in ("csv", "inca_quarterly"):
        raise TbbRequestError("unknown_export_kind", f"kind {kind!r}: expected csv or inca_quarterly")
    label = _breakdown(breakdown) if kind == "csv" else "total"
    reference = _date(today)
    dashboard = service.produce(session, period, finess or [], reference, emit=False)
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        if kind == "inca_quarterly":
            xlsx, csv_path, problems = service.export_inca(session, dashboard, out, reference)
            return {
                "kind": kind,
                "period": xlsx.stem.removeprefix("inca_"),
                "format_valid": not problems,
                "problems": problems,
                "csv": csv_path.read_text(encoding="utf-8"),
                "xlsx_base64": base64.b64encode(xlsx.read_bytes()).decode("ascii"),
            }
        path, rows = service.export_breakdown(session, dashboard, label, out)
        return {"kind": kind, "breakdown": label, "rows": rows, "csv": path.read_text(encoding="utf-8")}
