"""The quarterly restitution to INCa (cahier des charges 2.4), in the fixed layout documented in docs/tbb.md.

INCa's own format is not public, so the project fixes one and documents it: a block of metadata, one header row,
then one row per indicator code in a fixed order, with the three months of the quarter and the quarter. A reader
can rely on cell positions; ``validate`` checks a produced sheet (or its rows) against this layout, and is what
``tbb.exported.format_valid`` reports.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from dcc import faults
from dcc.settings import dcc_oid
from dcc.tbb.periods import Month, Period

LAYOUT_BROKEN = faults.register(
    "tbb_inca_layout_broken",
    "the quarterly INCa sheet is written without its quarter column (not the documented layout)",
    breaks=["TBB.04"],
)

FORMAT_ID = "DCC-TBB-INCA/1"
SHEET = "INCa_trimestriel"
TITLE = "Restitution trimestrielle INCa — indicateurs du DCC régional"
HEADER = ("code", "indicateur", "canal", "type", "M1", "M2", "M3", "trimestre")
HEADER_ROW = 9  # 1-based row of HEADER; the metadata block is rows 1-7
RATES = {"failure_rate", "ins_qualified_rate"}

_CHANNEL_CODES = (("D", "dmp"), ("P", "pdc"), ("M", "mss_pro"), ("C", "mss_citoyenne"))
_PER_CHANNEL = ("attempts", "attempts_ins_qualified", "successes", "failures", "failure_rate")

# (code, indicator, channel, kind): the fixed rows, in order.
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("I01", "documents_recorded", "", "FRCP"),
    ("I02", "documents_recorded", "", "PPS"),
    ("I03", "versions_recorded", "", ""),
    ("I04", "documents_received", "", ""),
    ("I05", "documents_exchanged", "", ""),
    *(
        (f"{letter}{index:02d}", indicator, channel, "")
        for letter, channel in _CHANNEL_CODES
        for index, indicator in enumerate(_PER_CHANNEL, 1)
    ),
    ("Q01", "patients_created", "", ""),
    ("Q02", "ins_qualified_rate", "", ""),
)


def quarter_of(period: Period, today=None) -> Period:
    """The quarter restituted with a dashboard: the period if it is one, else the quarter of its reference month."""
    from dcc.tbb.periods import reference_month

    if period.kind == "quarter":
        return period
    month = reference_month(period, today)
    return Period.parse(f"{month.year}-Q{(month.month - 1) // 3 + 1}")


def windows(quarter: Period) -> dict[str, Period]:
    """The windows the INCa rows need: each month of the quarter and the quarter."""
    months = quarter.months()
    out = {f"inca_M{i}": Period(str(m), "month", m, m) for i, m in enumerate(months, 1)}
    out["inca_quarter"] = quarter
    return out


def rows(dashboard, quarter: Period, produced_at: datetime | None = None) -> list[list[Any]]:
    """The sheet as a matrix of cell values (row 1 first); what the workbook, the CSV and the API serve."""
    months: list[Month] = quarter.months()
    produced = (produced_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    matrix: list[list[Any]] = [
        [TITLE],
        ["format", FORMAT_ID],
        ["dcc", dcc_oid()],
        ["trimestre", quarter.label],
        ["mois", *(str(m) for m in months)],
        ["produit_le", produced],
        ["finess", ", ".join(dashboard.finess_filter) or "toutes"],
        [],
    ]
    header = list(HEADER)
    if faults.active(LAYOUT_BROKEN.name):
        header = header[:-1]
    matrix.append(header)
    values = dashboard.values
    for code, indicator, channel, kind in ROWS:
        breakdown = "channel" if channel else ("kind" if kind else "total")
        selected = values[(values.indicator == indicator) & (values.breakdown == breakdown)]
        if channel:
            selected = selected[selected.channel == channel]
        if kind:
            selected = selected[selected.kind == kind]
        cells = []
        for window in ("inca_M1", "inca_M2", "inca_M3", "inca_quarter"):
            found = selected[selected.window == window].value
            value = float(found.iloc[0]) if len(found) else (math.nan if indicator in RATES else 0.0)
            cells.append(_cell(indicator, value))
        matrix.append([code, indicator, channel, kind, *cells[: len(header) - 4]])
    return matrix


def _cell(indicator: str, value: float) -> float | int | None:
    if indicator in RATES:
        return None if math.isnan(value) else round(value, 6)
    return round(value)


def validate(matrix: list[list[Any]], quarter: str | None = None) -> list[str]:
    """What makes ``matrix`` differ from the documented layout; empty when it conforms."""
    problems: list[str] = []

    def cell(row: int, column: int) -> Any:
        line = matrix[row - 1] if len(matrix) >= row else []
        return line[column - 1] if len(line) >= column else None

    if cell(1, 1) != TITLE:
        problems.append("A1: title missing")
    if cell(2, 2) != FORMAT_ID:
        problems.append(f"B2: format {cell(2, 2)!r}, expected {FORMAT_ID!r}")
    if quarter is not None and cell(4, 2) != quarter:
        problems.append(f"B4: quarter {cell(4, 2)!r}, expected {quarter!r}")
    header = tuple(cell(HEADER_ROW, c) for c in range(1, len(HEADER) + 1))
    if header != HEADER:
        problems.append(f"row {HEADER_ROW}: header {header}, expected {HEADER}")
    for offset, (code, indicator, channel, kind) in enumerate(ROWS, 1):
        row = HEADER_ROW + offset
        got = tuple(cell(row, c) or "" for c in range(1, 5))
        if got != (code, indicator, channel, kind):
            problems.append(f"row {row}: {got}, expected {(code, indicator, channel, kind)}")
            continue
        numbers = [cell(row, c) for c in range(5, 9)]
        if indicator in RATES:
            bad = [v for v in numbers if v is not None and not (isinstance(v, int | float) and 0 <= v <= 1)]
            if bad:
                problems.append(f"row {row} ({code}): rates outside [0, 1]: {bad}")
        elif not all(isinstance(v, int | float) and v >= 0 for v in numbers):
            problems.append(f"row {row} ({code}): counts must be numbers ≥ 0, got {numbers}")
        elif sum(numbers[:3]) != numbers[3]:
            problems.append(f"row {row} ({code}): M1 + M2 + M3 = {sum(numbers[:3])} ≠ trimestre {numbers[3]}")
    if len(matrix) > HEADER_ROW + len(ROWS):
        problems.append(f"rows after {HEADER_ROW + len(ROWS)}: the layout has no more rows")
    return problems
