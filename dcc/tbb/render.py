"""What a person reads of the dashboard: an xlsx workbook (one sheet per indicator family, the RPPS breakdown, the
monthly series, the INCa quarterly sheet), CSV extractions (one per breakdown) and PNG charts.

Values come from ``Dashboard`` only; nothing is recounted here. Charts use matplotlib's Agg backend (no display).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from dcc.tbb import inca
from dcc.tbb.indicators import (
    BREAKDOWN_DIMENSIONS,
    BY_NAME,
    CHANNEL_LABELS,
    FAMILIES,
    INDICATORS,
    Dashboard,
    Rate,
)

WINDOW_LABELS = {
    "period": "période",
    "current_month": "mois courant",
    "current_year": "année courante",
    "previous_year": "année précédente",
}
DIMENSION_LABELS = {
    "finess": "FINESS géographique",
    "rpps": "RPPS",
    "channel": "canal",
    "kind": "type de document",
    "result": "résultat",
    "ins_qualified": "INS qualifiée",
    "state": "état",
    "identity_status": "statut de l'identité",
}
RESULT_LABELS = {"success": "réussite", "failure": "échec", "True": "oui", "False": "non"}


def stem(dashboard: Dashboard) -> str:
    suffix = f"_{'-'.join(dashboard.finess_filter)}" if dashboard.finess_filter else ""
    return f"tbb_{dashboard.period.label}{suffix}"


def wide(dashboard: Dashboard, rows: pd.DataFrame) -> pd.DataFrame:
    """Windows side by side: one row per indicator and breakdown key, one column per window."""
    rows = rows[rows.window.isin(WINDOW_LABELS)]
    keys = ["indicator", "breakdown", *BREAKDOWN_DIMENSIONS]
    # unstack, not pivot_table(dropna=False), which builds the cartesian product of every key level.
    table = rows.set_index([*keys, "window"]).value.unstack("window")
    table = table.reindex(columns=[w for w in WINDOW_LABELS if w in table.columns]).reset_index()
    order = {i.name: n for n, i in enumerate(INDICATORS)}
    table["_order"] = table.indicator.map(order)
    return table.sort_values(["_order", "breakdown", *BREAKDOWN_DIMENSIONS], kind="stable").drop(
        columns="_order"
    )


def _number(value, rate: bool):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 4) if rate else round(float(value))


def _sheet(workbook: Workbook, title: str, dashboard: Dashboard, rows: pd.DataFrame) -> None:
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "C2"
    table = wide(dashboard, rows)
    windows = [w for w in WINDOW_LABELS if w in table.columns]
    used = [d for d in BREAKDOWN_DIMENSIONS if (table[d] != "").any()]
    header = ["indicateur", "ventilation", *(DIMENSION_LABELS[d] for d in used)]
    header += [f"{WINDOW_LABELS[w]} ({dashboard.windows[w].label})" for w in windows]
    sheet.append([_bold(sheet, h) for h in header])
    for record in table.itertuples(index=False):
        data = record._asdict()
        indicator = BY_NAME[data["indicator"]]
        rate = isinstance(indicator, Rate)
        keys = [RESULT_LABELS.get(data[d], CHANNEL_LABELS.get(data[d], data[d])) for d in used]
        sheet.append([indicator.label, data["breakdown"], *keys, *(_number(data[w], rate) for w in windows)])


def _bold(sheet, value):
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def write_workbook(dashboard: Dashboard, path: Path, quarter) -> Path:
    workbook = Workbook(write_only=True)
    readme = workbook.create_sheet("Lisez-moi")
    readme.append(["Tableau de bord régional du DCC", f"période {dashboard.period.label}"])
    readme.append(["FINESS", ", ".join(dashboard.finess_filter) or "toutes"])
    for name, label in WINDOW_LABELS.items():
        window = dashboard.windows[name]
        readme.append([label, window.label, str(window.first), str(window.last)])
    readme.append([])
    readme.append(["indicateur", "code", "famille", "définition", "ventilations"])
    for indicator in INDICATORS:
        readme.append(
            [
                indicator.label,
                indicator.name,
                FAMILIES[indicator.family],
                indicator.definition,
                "; ".join("×".join(b) or "total" for b in indicator.breakdowns),
            ]
        )
    values = dashboard.values
    not_rpps = ~values.breakdown.str.contains("rpps")
    for family, title in FAMILIES.items():
        _sheet(workbook, title, dashboard, values[(values.family == family) & not_rpps])
    _sheet(workbook, "Par RPPS", dashboard, values[~not_rpps])
    monthly = workbook.create_sheet("Mensuel")
    monthly.append(["indicateur", "ventilation", "mois", "canal", "type", "FINESS", "valeur"])
    for record in dashboard.monthly.itertuples(index=False):
        rate = isinstance(BY_NAME[record.indicator], Rate)
        monthly.append(
            [
                record.indicator,
                record.breakdown,
                record.month,
                record.channel,
                record.kind,
                record.finess,
                _number(record.value, rate),
            ]
        )
    sheet = workbook.create_sheet(inca.SHEET)
    for line in inca.rows(dashboard, quarter):
        sheet.append(line)
    workbook.save(path)
    return path


def write_inca(dashboard: Dashboard, out: Path, quarter) -> tuple[Path, Path, list[list]]:
    """The INCa sheet alone (xlsx) and as CSV (semicolon, UTF-8), and its matrix."""
    matrix = inca.rows(dashboard, quarter)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = inca.SHEET
    for line in matrix:
        sheet.append(line)
    xlsx = out / f"inca_{quarter.label}.xlsx"
    workbook.save(xlsx)
    path = out / f"inca_{quarter.label}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        for line in matrix:
            writer.writerow(["" if v is None else v for v in line])
    return xlsx, path, matrix


def read_inca(path: Path) -> list[list]:
    """The INCa sheet of a workbook back as a matrix (what ``inca.validate`` checks)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    matrix = []
    for row in workbook[inca.SHEET].iter_rows(values_only=True):
        line = list(row)
        while line and line[-1] is None:
            line.pop()
        matrix.append(line)
    workbook.close()
    while matrix and not matrix[-1]:
        matrix.pop()
    return matrix


def write_csv(dashboard: Dashboard, breakdown: str, path: Path) -> int:
    """One breakdown's extraction: indicator, window, window's months, the breakdown's dimensions, value."""
    rows = dashboard.values[dashboard.values.breakdown == breakdown]
    dims = [] if breakdown == "total" else breakdown.split("×")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["indicator", "window", "first_month", "last_month", *dims, "value"])
        for record in rows.itertuples(index=False):
            data = record._asdict()
            window = dashboard.windows[data["window"]]
            value = data["value"]
            value = "" if isinstance(value, float) and math.isnan(value) else value
            if (
                isinstance(value, float)
                and value.is_integer()
                and not isinstance(BY_NAME[data["indicator"]], Rate)
            ):
                value = int(value)
            writer.writerow(
                [
                    data["indicator"],
                    data["window"],
                    window.first,
                    window.last,
                    *(data[d] for d in dims),
                    value,
                ]
            )
    return len(rows)


def write_charts(dashboard: Dashboard, out: Path) -> list[Path]:
    """Monthly attempts per channel, monthly failure rate per channel, monthly documents by type."""
    paths = []
    by_channel = dashboard.month_series("attempts", ("month", "channel"))
    if len(by_channel):
        pivot = by_channel.pivot_table(
            index="month", columns="channel", values="value", aggfunc="sum"
        ).fillna(0)
        pivot.columns = [CHANNEL_LABELS.get(c, c) for c in pivot.columns]
        figure, axis = plt.subplots(figsize=(12, 5))
        pivot.plot(kind="bar", stacked=True, ax=axis, width=0.85)
        axis.set_ylim(0, max(1.0, float(pivot.sum(axis=1).max())) * 1.05)
        axis.set_title(f"Tentatives d'envoi par mois et par canal — {dashboard.period.label}")
        axis.set_xlabel("mois")
        axis.set_ylabel("tentatives")
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        figure.tight_layout()
        paths.append(out / f"{stem(dashboard)}_envois_par_canal.png")
        figure.savefig(paths[-1], dpi=110)
        plt.close(figure)
    rates = dashboard.month_series("failure_rate", ("month", "channel"))
    if len(rates):
        pivot = rates.pivot_table(index="month", columns="channel", values="value", aggfunc="sum") * 100
        pivot.columns = [CHANNEL_LABELS.get(c, c) for c in pivot.columns]
        figure, axis = plt.subplots(figsize=(12, 5))
        pivot.plot(ax=axis, marker="o")
        axis.set_title(f"Taux d'échec par mois et par canal (%) — {dashboard.period.label}")
        axis.set_xlabel("mois")
        axis.set_ylabel("% des tentatives en échec")
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        figure.tight_layout()
        paths.append(out / f"{stem(dashboard)}_taux_echec.png")
        figure.savefig(paths[-1], dpi=110)
        plt.close(figure)
    documents = dashboard.month_series("documents_recorded", ("month", "kind"))
    if len(documents):
        pivot = documents.pivot_table(index="month", columns="kind", values="value", aggfunc="sum").fillna(0)
        figure, axis = plt.subplots(figsize=(11, 4))
        pivot.plot(kind="bar", ax=axis, width=0.85)
        axis.set_title(f"FRCP et PPS enregistrés par mois — {dashboard.period.label}")
        axis.set_xlabel("mois")
        axis.set_ylabel("documents")
        figure.tight_layout()
        paths.append(out / f"{stem(dashboard)}_documents.png")
        figure.savefig(paths[-1], dpi=110)
        plt.close(figure)
    return paths
