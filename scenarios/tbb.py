"""Chapter TBB: the regional dashboard (cahier des charges 2.4, TBB requirements of the Ségur REMs).

Each scenario generates its activity through the DCC's test driver (one FINESS, two years: the previous year and
the current year to date), announces what was generated (``harness.activity_generated``: the figures the rules
compare the dashboard with), then asks for the dashboard and its extractions. The checks are the rules'; the
scenario only keeps the proofs."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from scenarios.context import ScenarioContext
from scenarios.registry import scenario

FINESS = "330000001"  # a fictitious FINESS géographique (the scenario's "1 FINESS géographique")


def _year() -> str:
    return str(datetime.now(UTC).year)


def _elapsed_quarter() -> str:
    now = datetime.now(UTC)
    quarter = (now.month - 1) // 3  # the quarter before the current one
    return f"{now.year - 1}-Q4" if quarter == 0 else f"{now.year}-Q{quarter}"


def _generate(ctx: ScenarioContext, **arguments) -> dict:
    generated = ctx.dcc.call("tbb_generate_activity", finess=FINESS, documents_per_month=10, **arguments)
    ctx.check(generated["documents"] > 0 and generated["attempts"] > 0, f"no activity generated: {generated}")
    ctx.note(
        "harness.activity_generated",
        attempts=generated["attempts"],
        documents=generated["documents"],
        failures=generated["failures"],
        finess=FINESS,
    )
    return generated


def _dashboard(ctx: ScenarioContext) -> dict:
    return ctx.dcc.call("tbb_produce", period=_year(), finess=[FINESS])


def _json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@scenario("TBB.01.01")
def documents_per_period_and_finess(ctx: ScenarioContext) -> None:
    """10 fictitious documents a month over two years for one FINESS: the dashboard finds them per period and
    per FINESS."""
    _generate(ctx)
    dashboard = _dashboard(ctx)
    ctx.proof(1, "tableau-de-bord.json", _json(dashboard))
    extraction = ctx.dcc.call("tbb_export", period=_year(), kind="csv", breakdown="finess", finess=[FINESS])
    ctx.proof(2, "extraction-par-finess.csv", extraction["csv"])


@scenario("TBB.02.01")
def attempts_per_channel_type_and_result(ctx: ScenarioContext) -> None:
    """The transmissions of the fictitious documents with one failure per channel: attempts per channel, document
    type and result."""
    _generate(ctx, failures_per_channel=1)
    dashboard = _dashboard(ctx)
    ctx.proof(1, "tableau-de-bord.json", _json(dashboard))
    extraction = ctx.dcc.call(
        "tbb_export", period=_year(), kind="csv", breakdown="channel_kind_result", finess=[FINESS]
    )
    ctx.proof(2, "extraction-canal-type-resultat.csv", extraction["csv"])


@scenario("TBB.03.01")
def failure_rates_per_channel(ctx: ScenarioContext) -> None:
    """Flows with failures: the failure rate of each channel."""
    _generate(ctx)
    dashboard = _dashboard(ctx)
    rates = [r for r in dashboard["breakdowns"].get("channel", []) if r["indicator"] == "failure_rate"]
    ctx.proof(1, "taux-echec-par-canal.json", _json({"failure_rate": rates, "checks": dashboard["checks"]}))


@scenario("TBB.04.01")
def inca_quarterly_restitution(ctx: ScenarioContext) -> None:
    """The INCa restitution of an elapsed quarter, checked against the documented layout."""
    _generate(ctx)
    quarter = _elapsed_quarter()
    restitution = ctx.dcc.call("tbb_export", period=quarter, kind="inca_quarterly", finess=[FINESS])
    ctx.proof(1, f"inca_{quarter}.csv", restitution["csv"])
    ctx.proof(1, f"inca_{quarter}.xlsx", base64.b64decode(restitution["xlsx_base64"]))
    ctx.proof(
        2,
        "format-restitution-inca.json",
        _json(
            {
                "format_valid": restitution["format_valid"],
                "problems": restitution["problems"],
                "doc": "docs/tbb.md",
            }
        ),
    )


@scenario("TBB.05.01")
def breakdown_per_rpps(ctx: ScenarioContext) -> None:
    """The dashboard broken down by the authors' RPPS."""
    _generate(ctx)
    extraction = ctx.dcc.call("tbb_export", period=_year(), kind="csv", breakdown="rpps", finess=[FINESS])
    ctx.proof(1, "extraction-par-rpps.csv", extraction["csv"])
