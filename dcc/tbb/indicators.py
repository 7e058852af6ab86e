"""The indicators of the regional dashboard, declared in one place, and their computation over the monthly cubes.

Each indicator says what it counts (its cube and the dimension values it keeps), how it is defined in words (the
definition printed in the workbook and docs/tbb.md) and which breakdowns it is shown by. A rate is the quotient of
two counts on the same breakdown. Adding an indicator is one entry here: the workbook, the CSV extractions, the
JSON of the API and the INCa sheet read this list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from dcc import faults
from dcc.tbb.extract import DIMENSIONS, Cubes
from dcc.tbb.periods import Period, windows

FAILURES_NOT_COUNTED = faults.register(
    "tbb_failures_not_counted",
    "the dashboard counts only delivered attempts: failed attempts vanish from attempts, failures and failure rates",
    breaks=["TBB.02", "TBB.03"],
)
MISSING_FINESS_BREAKDOWN = faults.register(
    "tbb_missing_finess_breakdown",
    "the dashboard gives regional totals only, no breakdown by FINESS géographique",
    breaks=["TBB.01"],
)
NO_RPPS_BREAKDOWN = faults.register(
    "tbb_no_rpps_breakdown",
    "the dashboard has no breakdown by the author's RPPS (the extraction by RPPS is empty)",
    breaks=["TBB.05"],
)

CHANNELS = ("dmp", "pdc", "mss_pro", "mss_citoyenne", "peer_dcc", "dpi")
CHANNEL_LABELS = {
    "dmp": "DMP",
    "pdc": "PDC (MSSanté)",
    "mss_pro": "MSSanté professionnelle",
    "mss_citoyenne": "MSSanté citoyenne",
    "peer_dcc": "DCC pair",
    "dpi": "DPI",
}
# Every dimension a breakdown may use, in the column order of the extractions.
BREAKDOWN_DIMENSIONS = (
    "finess",
    "rpps",
    "channel",
    "kind",
    "result",
    "ins_qualified",
    "state",
    "identity_status",
)

Breakdown = tuple[str, ...]
TOTAL: Breakdown = ()
ATTEMPT_BREAKDOWNS: tuple[Breakdown, ...] = (
    TOTAL,
    ("channel",),
    ("kind",),
    ("finess",),
    ("rpps",),
    ("channel", "result"),
    ("channel", "kind", "result"),
    ("channel", "ins_qualified", "result"),
    ("finess", "channel", "result"),
    ("rpps", "channel", "result"),
)
DOCUMENT_BREAKDOWNS: tuple[Breakdown, ...] = (TOTAL, ("kind",), ("finess",), ("rpps",), ("finess", "kind"))
MONTHLY: tuple[Breakdown, ...] = (("month",), ("month", "channel"), ("month", "kind"), ("month", "finess"))


@dataclass(frozen=True)
class Count:
    """The number of cube rows' ``n`` whose dimensions match ``where`` (a value, or a tuple of accepted values)."""

    name: str
    family: str
    label: str
    definition: str
    cube: str
    where: Mapping[str, Any] = field(default_factory=dict)
    breakdowns: tuple[Breakdown, ...] = (TOTAL,)


@dataclass(frozen=True)
class Rate:
    """``numerator / denominator`` on the same breakdown; empty when the denominator is zero."""

    name: str
    family: str
    label: str
    definition: str
    numerator: str
    denominator: str
    breakdowns: tuple[Breakdown, ...] = (TOTAL,)


FAMILIES = {
    "production": "Production",
    "envois": "Envois et partages",
    "echecs": "Échecs",
    "identite": "Identité (INS)",
}

INDICATORS: tuple[Count | Rate, ...] = (
    Count(
        "documents_recorded",
        "production",
        "FRCP et PPS enregistrés",
        "Documents (FRCP, PPS) créés dans le DCC pendant la période : premières versions (version 1).",
        "documents",
        {"first_version": True},
        DOCUMENT_BREAKDOWNS,
    ),
    Count(
        "versions_recorded",
        "production",
        "Nouvelles versions enregistrées",
        "Versions suivantes (version ≥ 2) de FRCP et PPS créées pendant la période.",
        "documents",
        {"first_version": False},
        DOCUMENT_BREAKDOWNS,
    ),
    Count(
        "documents_received",
        "production",
        "Documents reçus",
        "FRCP et PPS reçus d'un DCC pair ou d'un DPI (événements document.received de la période).",
        "received",
        {},
        (TOTAL, ("channel",), ("kind",), ("finess",), ("rpps",)),
    ),
    Count(
        "documents_exchanged",
        "production",
        "Documents échangés",
        "Envois réussis de FRCP et PPS vers un DCC pair ou un DPI (tentatives réussies, canaux peer_dcc et dpi).",
        "attempts",
        {"channel": ("peer_dcc", "dpi"), "result": "success"},
        (TOTAL, ("kind",), ("finess",), ("rpps",)),
    ),
    Count(
        "attempts",
        "envois",
        "Tentatives d'envoi",
        "Tentatives de transmission (chaque essai d'un envoi, y compris les nouvelles tentatives), par date de tentative.",
        "attempts",
        {},
        ATTEMPT_BREAKDOWNS,
    ),
    Count(
        "attempts_ins_qualified",
        "envois",
        "Tentatives d'envoi avec INS qualifiée",
        "Tentatives dont l'identité du patient était qualifiée au moment de l'envoi (matricule INS transmis).",
        "attempts",
        {"ins_qualified": True},
        ATTEMPT_BREAKDOWNS,
    ),
    Count(
        "successes",
        "envois",
        "Envois réussis",
        "Tentatives réussies (le destinataire ou le service a accepté le document).",
        "attempts",
        {"result": "success"},
        ATTEMPT_BREAKDOWNS,
    ),
    Count(
        "dmp_shared",
        "envois",
        "Documents partagés au DMP",
        "Alimentations du DMP réussies.",
        "attempts",
        {"channel": "dmp", "result": "success"},
        (TOTAL, ("kind",), ("finess",), ("rpps",)),
    ),
    Count(
        "pdc_shared",
        "envois",
        "Documents partagés à la PDC",
        "Envois réussis vers la plateforme de données en cancérologie (PDC).",
        "attempts",
        {"channel": "pdc", "result": "success"},
        (TOTAL, ("kind",), ("finess",), ("rpps",)),
    ),
    Count(
        "mss_pro_sent",
        "envois",
        "Envois MSSanté professionnelle",
        "Envois réussis par MSSanté vers des professionnels (un par destinataire).",
        "attempts",
        {"channel": "mss_pro", "result": "success"},
        (TOTAL, ("kind",), ("finess",), ("rpps",)),
    ),
    Count(
        "mss_citoyenne_sent",
        "envois",
        "Envois MSSanté citoyenne",
        "Envois réussis par MSSanté vers la messagerie citoyenne du patient (Mon espace santé).",
        "attempts",
        {"channel": "mss_citoyenne", "result": "success"},
        (TOTAL, ("kind",), ("finess",), ("rpps",)),
    ),
    Count(
        "failures",
        "echecs",
        "Échecs d'envoi",
        "Tentatives en échec (refus, erreur ou délai dépassé du destinataire ou du service).",
        "attempts",
        {"result": "failure"},
        ATTEMPT_BREAKDOWNS,
    ),
    Rate(
        "failure_rate",
        "echecs",
        "Taux d'échec",
        "Échecs / tentatives, sur la même ventilation ; un taux élevé signale une transmission à surveiller.",
        "failures",
        "attempts",
        tuple(b for b in ATTEMPT_BREAKDOWNS if "result" not in b),
    ),
    Count(
        "transmissions_abandoned",
        "echecs",
        "Envois abandonnés",
        "Envois créés pendant la période et abandonnés après le nombre maximal de tentatives (état failed).",
        "transmissions",
        {"state": "failed"},
        (TOTAL, ("channel",), ("finess",)),
    ),
    Count(
        "transmissions_pending",
        "echecs",
        "Envois en attente",
        "Envois créés pendant la période et pas encore délivrés au moment du tableau de bord (état pending : "
        "nouvelle tentative programmée).",
        "transmissions",
        {"state": "pending"},
        (TOTAL, ("channel",), ("finess",)),
    ),
    Count(
        "patients_created",
        "identite",
        "Patients créés",
        "Identités créées pendant la période, par statut actuel (provisoire, récupérée, validée, qualifiée). "
        "Régional : non ventilé par FINESS.",
        "patients",
        {},
        (TOTAL, ("identity_status",)),
    ),
    Rate(
        "ins_qualified_rate",
        "identite",
        "Part des tentatives avec INS qualifiée",
        "Tentatives avec INS qualifiée / tentatives.",
        "attempts_ins_qualified",
        "attempts",
        (TOTAL, ("channel",), ("finess",)),
    ),
)
BY_NAME = {indicator.name: indicator for indicator in INDICATORS}
MONTHLY_INDICATORS = ("documents_recorded", "attempts", "failures", "successes", "attempts_ins_qualified")


@dataclass
class Dashboard:
    """Every indicator of one period, in two long tables.

    ``values``: indicator, window, breakdown (dimensions joined by ``×``, ``total`` for none), one column per
    dimension of ``BREAKDOWN_DIMENSIONS`` ("" when not part of the breakdown), value. ``monthly``: the same with a
    ``month`` column, for the months of the span (charts, INCa sheet).
    """

    period: Period
    windows: dict[str, Period]
    values: pd.DataFrame
    monthly: pd.DataFrame
    finess_filter: tuple[str, ...] = ()

    def total(self, indicator: str, window: str = "period") -> float:
        rows = self.values[
            (self.values.indicator == indicator)
            & (self.values.window == window)
            & (self.values.breakdown == "total")
        ]
        return float(rows.value.iloc[0]) if len(rows) else 0.0

    def table(self, indicator: str, window: str, breakdown: Breakdown) -> pd.DataFrame:
        """The rows of one breakdown: its dimensions and ``value``."""
        label = breakdown_label(breakdown)
        rows = self.values[
            (self.values.indicator == indicator)
            & (self.values.window == window)
            & (self.values.breakdown == label)
        ]
        return rows[[*breakdown, "value"]].reset_index(drop=True)

    def breakdowns(self) -> list[str]:
        return sorted(self.values.breakdown.unique())

    def month_series(self, indicator: str, breakdown: Breakdown = ("month",)) -> pd.DataFrame:
        label = breakdown_label(breakdown)
        rows = self.monthly[(self.monthly.indicator == indicator) & (self.monthly.breakdown == label)]
        return rows[[*breakdown, "value"]].reset_index(drop=True)


def breakdown_label(breakdown: Breakdown) -> str:
    return "×".join(breakdown) if breakdown else "total"


def _mask(frame: pd.DataFrame, where: Mapping[str, Any]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, accepted in where.items():
        if isinstance(accepted, tuple | list | set | frozenset):
            mask &= frame[column].isin(list(accepted))
        else:
            mask &= frame[column] == accepted
    return mask


def _allowed(breakdown: Breakdown) -> bool:
    if "finess" in breakdown and faults.active(MISSING_FINESS_BREAKDOWN.name):
        return False
    return not ("rpps" in breakdown and faults.active(NO_RPPS_BREAKDOWN.name))


def _measures(cubes: Cubes) -> dict[str, tuple[pd.DataFrame, list[Count]]]:
    """Per cube, its frame with one column per count indicator (``n`` where the indicator's filter holds, else 0)."""
    out: dict[str, tuple[pd.DataFrame, list[Count]]] = {}
    for cube in DIMENSIONS:
        counts = [i for i in INDICATORS if isinstance(i, Count) and i.cube == cube]
        if not counts or cube not in cubes.frames:
            continue
        frame = cubes[cube]
        if cube == "attempts" and faults.active(FAILURES_NOT_COUNTED.name):
            frame = frame[frame.result != "failure"]
        frame = frame.copy()
        for indicator in counts:
            frame[indicator.name] = frame["n"].where(_mask(frame, indicator.where), 0)
        out[cube] = (frame, counts)
    return out


def _long(grouped: pd.DataFrame, keys: list[str], columns: list[str], label: str) -> pd.DataFrame:
    """``grouped``'s ``columns`` as long rows: the keys, indicator, value — what ``DataFrame.melt`` returns, in its
    order (every row of the first column, then of the next), built from the arrays: melt costs ~20 ms a call
    whatever the size, and a dashboard makes dozens of these small reshapes."""
    rows = len(grouped)
    repeat = np.tile(np.arange(rows), len(columns))
    long = {key: grouped[key].array.take(repeat) for key in keys}  # .array: the column's dtype is kept
    long["indicator"] = np.repeat(np.array(columns, dtype=str), rows)
    long["value"] = grouped[columns].to_numpy().ravel(order="F")
    out = pd.DataFrame(long)
    out["breakdown"] = label
    return out


def _atoms(windows_: Mapping[str, Period]) -> tuple[dict[str, int], pd.DataFrame]:
    """The months cut into « atoms », the runs of months that belong to the same windows (the previous year, the
    current year before this month, this month…), and which windows each atom belongs to.

    Why: summing every window separately passed over the activity once per window (five times for a dashboard)
    and made one small pandas computation per window and breakdown; summing per atom once, then adding the few
    atom rows into their windows, passes once and makes a fifth of the calls. The figures are the same."""
    signature: dict[str, tuple[str, ...]] = {}
    for name, period in windows_.items():
        for month in period.months():
            signature[str(month)] = (*signature.get(str(month), ()), name)
    atom_of: dict[tuple[str, ...], int] = {}
    month_atom = {month: atom_of.setdefault(names, len(atom_of)) for month, names in signature.items()}
    membership = pd.DataFrame(
        [(float(atom), name) for names, atom in atom_of.items() for name in names],
        columns=["_atom", "window"],
    )
    return month_atom, membership


def _counts(measures, windows_: dict[str, Period], breakdowns_of) -> pd.DataFrame:
    """Every count indicator per window and breakdown, as long rows in a fixed order (cube, window, breakdown, then
    indicator and the breakdown's values), whatever the order pandas computed them in."""
    month_atom, membership = _atoms(windows_)
    window_order = {name: index for index, name in enumerate(windows_)}
    parts = []
    for cube_index, (frame, counts) in enumerate(measures.values()):
        by_breakdown: dict[Breakdown, list[str]] = {}
        for indicator in counts:
            for breakdown in breakdowns_of(indicator):
                if _allowed(breakdown) and set(breakdown) <= set(frame.columns):
                    by_breakdown.setdefault(breakdown, []).append(indicator.name)
        if not by_breakdown:
            continue
        atom = frame["month"].map(month_atom).astype("float64").rename("_atom")  # NaN: in no window
        for breakdown_index, (breakdown, columns) in enumerate(by_breakdown.items()):
            keys = list(breakdown)
            per_atom = frame.groupby([atom, *keys], sort=False, observed=True)[columns].sum().reset_index()
            per_window = (
                per_atom.merge(membership, on="_atom")
                .groupby(["window", *keys], sort=True, observed=True)[columns]
                .sum()
                .reset_index()
            )
            if not keys:  # a total exists for every window, zero when nothing happened in it
                per_window = (
                    per_window.set_index("window")[columns]
                    .reindex(list(windows_), fill_value=0)
                    .rename_axis("window")
                    .reset_index()
                )
            long = _long(per_window, ["window", *keys], columns, breakdown_label(breakdown))
            long["_order"] = (
                cube_index * 1_000_000 + long["window"].map(window_order) * 1_000 + breakdown_index
            )
            parts.append(long)
    if not parts:
        return pd.DataFrame()
    counts = pd.concat(parts, ignore_index=True)
    return counts.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def _rates(counts: pd.DataFrame, breakdowns_of, keys: list[str]) -> pd.DataFrame:
    parts = []
    for rate in (i for i in INDICATORS if isinstance(i, Rate)):
        for breakdown in breakdowns_of(rate):
            if not _allowed(breakdown):
                continue
            label = breakdown_label(breakdown)
            on = [*keys, *breakdown]
            num = counts[(counts.indicator == rate.numerator) & (counts.breakdown == label)][[*on, "value"]]
            den = counts[(counts.indicator == rate.denominator) & (counts.breakdown == label)][[*on, "value"]]
            merged = den.merge(num, on=on, how="left", suffixes=("_den", "_num")).fillna({"value_num": 0})
            value = merged.value_num / merged.value_den.replace(0, np.nan)
            part = merged[on].copy()
            part["value"] = value
            part["indicator"] = rate.name
            part["breakdown"] = label
            parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _finish(frame: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    for column in BREAKDOWN_DIMENSIONS:
        if column not in frame:
            frame[column] = ""
        frame[column] = frame[column].fillna("").astype(str)
    family = {i.name: i.family for i in INDICATORS}
    frame["family"] = frame.indicator.map(family)
    return frame[[*first, "family", "breakdown", *BREAKDOWN_DIMENSIONS, "value"]].reset_index(drop=True)


def compute(
    cubes: Cubes,
    period: Period,
    today: date | None = None,
    finess: tuple[str, ...] = (),
    extra_windows: Mapping[str, Period] | None = None,
) -> Dashboard:
    """Every indicator of ``INDICATORS`` for the windows of ``period`` (plus ``extra_windows``, e.g. the months of
    the INCa quarter), and the monthly series of the months loaded."""
    windows_ = {**windows(period, today), **(extra_windows or {})}
    if finess:
        cubes = Cubes(
            cubes.span,
            {n: f[f.finess.isin(finess)] if "finess" in f else f for n, f in cubes.frames.items()},
        )
    measures = _measures(cubes)
    counts = _counts(measures, windows_, lambda i: i.breakdowns)
    rates = _rates(counts, lambda i: i.breakdowns, ["window"])
    values = _finish(pd.concat([counts, rates], ignore_index=True), ["indicator", "window"])

    loaded = {"loaded": cubes.span}
    monthly_counts = _counts(
        {k: (f, [c for c in cs if c.name in MONTHLY_INDICATORS]) for k, (f, cs) in measures.items()},
        loaded,
        lambda i: MONTHLY,
    )
    monthly_counts = monthly_counts[monthly_counts.indicator.isin(MONTHLY_INDICATORS)]
    failures = monthly_counts[monthly_counts.indicator.isin(("failures", "attempts"))]
    monthly_rates = _monthly_failure_rate(failures)
    monthly = pd.concat([monthly_counts, monthly_rates], ignore_index=True).drop(columns="window")
    monthly = _finish(_all_months(monthly, cubes.span), ["indicator", "month"])
    return Dashboard(period, windows_, values, monthly, tuple(finess))


def _monthly_failure_rate(counts: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for breakdown in (("month",), ("month", "channel")):
        label = breakdown_label(breakdown)
        num = counts[(counts.indicator == "failures") & (counts.breakdown == label)][[*breakdown, "value"]]
        den = counts[(counts.indicator == "attempts") & (counts.breakdown == label)][[*breakdown, "value"]]
        merged = den.merge(num, on=list(breakdown), how="left", suffixes=("_den", "_num")).fillna(
            {"value_num": 0}
        )
        part = merged[list(breakdown)].copy()
        part["value"] = merged.value_num / merged.value_den.replace(0, np.nan)
        part["indicator"], part["breakdown"] = "failure_rate", label
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _all_months(monthly: pd.DataFrame, span: Period) -> pd.DataFrame:
    """Adds a zero row for the months of the span without activity (so a chart shows the gap, not a jump)."""
    months = [str(m) for m in span.months()]
    extra = []
    for indicator in MONTHLY_INDICATORS:
        present = set(monthly[(monthly.indicator == indicator) & (monthly.breakdown == "month")].month)
        extra += [
            {"indicator": indicator, "breakdown": "month", "month": m, "value": 0}
            for m in months
            if m not in present
        ]
    if extra:
        monthly = pd.concat([monthly, pd.DataFrame(extra)], ignore_index=True)
    return monthly.sort_values(["indicator", "breakdown", "month"], kind="stable")


def loaded_span(
    period: Period, today: date | None = None, extra_windows: Mapping[str, Period] | None = None
) -> Period:
    """The months to read for a dashboard of ``period``: its windows' union."""
    windows_ = {**windows(period, today), **(extra_windows or {})}
    first = min(p.first for p in windows_.values())
    last = max(p.last for p in windows_.values())
    return Period.between(f"{first}..{last}", first, last)
