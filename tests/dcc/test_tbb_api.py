"""The dashboard served as JSON by the reference DCC's API, and ``dcc-recette tbb`` writing its files."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from dcc import events
from dcc.api.app import create_app
from dcc.db import make_session_factory
from dcc.tbb import inca
from dcc.tbb.generate import default_spec, generate
from harness.cli import main

pytestmark = pytest.mark.persistence

TODAY = date(2026, 11, 15)


@pytest.fixture(scope="module")
def generated(engine):
    with engine.begin() as connection:
        return generate(connection, default_spec(TODAY, documents_per_month=3, seed=7))


@pytest.fixture(scope="module")
def client(engine, generated):
    return TestClient(create_app(engine=engine, run_migrations=False))


def test_dashboard_json_has_totals_windows_and_breakdowns(client, generated):
    response = client.get("/tbb", params={"period": "2026", "today": TODAY.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["windows"]["current_month"]["first_month"] == "2026-11"
    assert body["totals"]["attempts"]["span"] == generated.attempts
    assert body["totals"]["failures"]["span"] == generated.failures
    assert body["totals"]["documents_recorded"]["span"] == generated.documents
    by_channel = [
        r for r in body["breakdowns"]["channel"] if r["indicator"] == "attempts" and r["window"] == "period"
    ]
    assert sum(r["value"] for r in by_channel) == body["totals"]["attempts"]["period"]
    assert {d["name"] for d in body["definitions"]} >= {"attempts", "failure_rate", "documents_recorded"}
    assert body["checks"]["by_finess"] and body["checks"]["failure_rates"]


def test_rpps_breakdown_on_request_is_an_export_event(client, engine):
    with make_session_factory(engine)() as session:
        last = max((e["seq"] for e in events.export(session)), default=0)
    response = client.get(
        "/tbb", params={"period": "2026-Q3", "breakdown": "rpps", "today": TODAY.isoformat()}
    )
    assert response.status_code == 200
    rows = response.json()["breakdowns"]["rpps"]
    assert rows and all(len(r["rpps"]) == 11 for r in rows)
    with make_session_factory(engine)() as session:
        exported = [e["data"] for e in events.export(session, after=last) if e["type"] == "tbb.exported"]
    assert exported == [
        {"kind": "json", "breakdown": "rpps", "period": "2026-Q3", "rows": len(rows), "format_valid": True}
    ]


def test_inca_rows_conform(client):
    response = client.get("/tbb/inca", params={"period": "2026-Q3", "today": TODAY.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["problems"] == [] and body["quarter"] == "2026-Q3"
    assert inca.validate(body["rows"], "2026-Q3") == []


@pytest.mark.parametrize(
    ("params", "reason"),
    [({"period": "2026-Q7"}, "bad_period"), ({"period": "2026", "breakdown": "nope"}, "unknown_breakdown")],
)
def test_bad_requests_are_422_with_a_reason(client, params, reason):
    response = client.get("/tbb", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]["reason"] == reason


def test_cli_writes_workbook_inca_extractions_and_charts(database_url, generated, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(
        [
            "tbb",
            "--period",
            "2026-Q3",
            "--database",
            database_url,
            "--today",
            TODAY.isoformat(),
            "--out",
            str(out),
            "--json",
        ]
    )
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["inca"]["valid"] is True
    assert (out / "tbb_2026-Q3.xlsx").exists() and (out / "inca_2026-Q3.csv").exists()
    assert report["extractions"]["rpps"]["rows"] > 0
    assert len(report["charts"]) == 3
    assert all(report["checks"][k] for k in ("periods_ok", "by_finess", "by_channel", "by_document_type"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--period", "2026-13"], "period '2026-13'"),
        (["--period", "2026", "--finess", "12"], "--finess '12'"),
        (["--period", "2026", "--today", "15/11/2026"], "--today"),
    ],
)
def test_cli_usage_errors_exit_2(argv, message, capsys):
    assert main(["tbb", *argv]) == 2
    assert message in capsys.readouterr().err
