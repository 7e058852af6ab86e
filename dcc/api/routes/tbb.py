"""The regional dashboard as JSON: ``GET /tbb`` (indicators, windows, breakdowns), ``GET /tbb/inca`` (the quarterly
INCa restitution in its documented layout), ``GET /tbb/definitions``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from dcc import events
from dcc.api.deps import session as db_session
from dcc.tbb import inca, service
from dcc.tbb.indicators import INDICATORS
from dcc.tbb.periods import Period, PeriodError

router = APIRouter(prefix="/tbb", tags=["tableau de bord"])


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError as error:
        raise HTTPException(status_code=422, detail={"reason": error.reason, "message": str(error)}) from None


@router.get("")
def dashboard(
    db: Annotated[Session, Depends(db_session)],
    period: str,
    finess: Annotated[list[str] | None, Query()] = None,
    breakdown: Annotated[list[str] | None, Query()] = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Totals of every indicator per window, the requested breakdowns (default: channel, kind, FINESS, and
    channel × kind × result; ``rpps`` on request), the self-checks."""
    result = service.produce(db, _period(period), finess or [], today)
    known = set(result.values.breakdown)
    unknown = [b for b in breakdown or [] if b not in known]
    if unknown:
        raise HTTPException(
            status_code=422,
            detail={
                "reason": "unknown_breakdown",
                "message": f"unknown breakdown(s) {unknown}; known: {sorted(known)}",
            },
        )
    body = service.to_json(result, breakdown)
    for label in breakdown or []:
        events.emit(
            db,
            "tbb.export_requested",
            kind="json",
            breakdown=label.replace("×", "_"),
            period=result.period.label,
        )
        events.emit(
            db,
            "tbb.exported",
            kind="json",
            breakdown=label.replace("×", "_"),
            period=result.period.label,
            rows=len(body["breakdowns"][label]),
            format_valid=True,
        )
    return body


@router.get("/inca")
def inca_quarterly(
    db: Annotated[Session, Depends(db_session)],
    period: str,
    finess: Annotated[list[str] | None, Query()] = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The INCa sheet of the quarter (``period`` a quarter, or the quarter of its reference month) as cell rows."""
    asked = _period(period)
    quarter = inca.quarter_of(asked, today)
    events.emit(db, "tbb.export_requested", kind="inca_quarterly", breakdown="total", period=quarter.label)
    result = service.produce(db, asked, finess or [], today)
    matrix = inca.rows(result, quarter)
    problems = inca.validate(matrix, quarter.label)
    events.emit(
        db,
        "tbb.exported",
        kind="inca_quarterly",
        breakdown="total",
        period=quarter.label,
        rows=len(inca.ROWS),
        format_valid=not problems,
    )
    return {"format": inca.FORMAT_ID, "quarter": quarter.label, "rows": matrix, "problems": problems}


@router.get("/definitions")
def definitions() -> list[dict[str, Any]]:
    return [
        {
            "name": i.name,
            "family": i.family,
            "label": i.label,
            "definition": i.definition,
            "breakdowns": ["×".join(b) or "total" for b in i.breakdowns],
        }
        for i in INDICATORS
    ]
