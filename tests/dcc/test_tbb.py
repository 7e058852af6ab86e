"""The regional dashboard on generated activity: every indicator against an independent count (plain Python over
the rows, not the SQL cubes), the events the TBB rules read, the INCa layout, the faults, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from dcc import events, faults
from dcc.db.models import DccEvent, Document, Transmission, TransmissionAttempt
from dcc.tbb import inca, render, service
from dcc.tbb.generate import ActivitySpec, ChannelProfile, default_spec, generate
from dcc.tbb.periods import Month, Period
from rules.engine import Evaluator
from rules.loader import RuleSet, load_rule_file
from rules.trace import Event
from rules.verdict import Outcome

pytestmark = pytest.mark.persistence

TODAY = date(2026, 11, 15)
PERIOD = "2026-Q3"
RULES = Path(__file__).resolve().parents[2] / "rules" / "TBB.yaml"


@pytest.fixture(scope="module")
def activity(engine):
    """Two years for 3 FINESS with random failures and retries, written once for the module."""
    spec = default_spec(TODAY, documents_per_month=6, vary=True, rpps_per_finess=3)
    with engine.begin() as connection:
        return generate(connection, spec)


def _month(value: datetime) -> str:
    return (value if value.tzinfo is None else value.astimezone(UTC)).strftime("%Y-%m")


@pytest.fixture(scope="module")
def rows(engine, activity):
    """The activity read back row by row and joined in Python: what the independent count counts."""
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        documents = {d.id: d for d in session.scalars(select(Document))}
        transmissions = {t.id: t for t in session.scalars(select(Transmission))}
        attempts = []
        for a in session.scalars(select(TransmissionAttempt)):
            t = transmissions[a.transmission_id]
            d = documents[t.document_id]
            attempts.append(
                {
                    "month": _month(a.at),
                    "channel": t.channel,
                    "kind": d.kind,
                    "finess": t.finess or d.finess,
                    "rpps": t.rpps or d.author_rpps,
                    "result": a.result,
                    "ins_qualified": bool(a.ins_qualified),
                }
            )
        docs = [
            {
                "month": _month(d.created_at),
                "kind": d.kind,
                "finess": d.finess,
                "rpps": d.author_rpps,
                "first": d.version == 1,
            }
            for d in documents.values()
        ]
        received = [
            _month(e.at)
            for e in session.scalars(select(DccEvent).where(DccEvent.type == "document.received"))
        ]
    return {"attempts": attempts, "documents": docs, "received": received}


def _in(window: Period, month: str) -> bool:
    return str(window.first) <= month <= str(window.last)


def test_the_generator_wrote_what_it_says(activity, rows):
    assert activity.attempts == len(rows["attempts"]) > 0
    assert activity.failures == sum(r["result"] == "failure" for r in rows["attempts"]) > 0
    assert activity.documents == sum(d["first"] for d in rows["documents"])
    assert activity.versions == sum(not d["first"] for d in rows["documents"]) > 0
    assert activity.received == len(rows["received"]) > 0
    assert activity.attempts_ins_qualified == sum(r["ins_qualified"] for r in rows["attempts"])
    assert (
        0 < activity.attempts_ins_qualified < activity.attempts
    )  # both qualified and non-qualified identities


def test_indicators_match_an_independent_count(session, rows):
    dashboard = service.produce(session, PERIOD, today=TODAY, emit=False)
    attempts, documents = rows["attempts"], rows["documents"]
    for name, window in dashboard.windows.items():
        mine = [r for r in attempts if _in(window, r["month"])]
        assert dashboard.total("attempts", name) == len(mine), name
        assert dashboard.total("failures", name) == sum(r["result"] == "failure" for r in mine), name
        assert dashboard.total("attempts_ins_qualified", name) == sum(r["ins_qualified"] for r in mine)
        assert dashboard.total("dmp_shared", name) == sum(
            r["channel"] == "dmp" and r["result"] == "success" for r in mine
        )
        assert dashboard.total("mss_citoyenne_sent", name) == sum(
            r["channel"] == "mss_citoyenne" and r["result"] == "success" for r in mine
        )
        assert dashboard.total("documents_recorded", name) == sum(
            d["first"] and _in(window, d["month"]) for d in documents
        )
        assert dashboard.total("versions_recorded", name) == sum(
            not d["first"] and _in(window, d["month"]) for d in documents
        )
        assert dashboard.total("documents_received", name) == sum(_in(window, m) for m in rows["received"])
        for breakdown in (("channel",), ("kind",), ("finess",), ("rpps",), ("channel", "kind", "result")):
            expected = Counter(tuple(r[d] for d in breakdown) for r in mine)
            table = dashboard.table("attempts", name, breakdown)
            got = {tuple(row[:-1]): row[-1] for row in table.itertuples(index=False) if row[-1]}
            assert got == dict(expected), (name, breakdown)
        per_channel = Counter(r["channel"] for r in mine)
        failed = Counter(r["channel"] for r in mine if r["result"] == "failure")
        rates = dict(dashboard.table("failure_rate", name, ("channel",)).itertuples(index=False))
        for channel, count in per_channel.items():
            assert rates[channel] == pytest.approx(failed[channel] / count)
        by_finess = Counter(d["finess"] for d in documents if d["first"] and _in(window, d["month"]))
        got = dict(dashboard.table("documents_recorded", name, ("finess",)).itertuples(index=False))
        assert {k: v for k, v in got.items() if v} == dict(by_finess)


def test_attempts_without_their_copied_dimensions_are_counted_through_the_join(session, rows):
    """Rows whose dashboard columns are empty (written by hand, or by a writer older than migration
    0011_tbb_attempt_cube) are counted by joining them to their transmission and document, in the same cells."""
    from sqlalchemy import update

    a = TransmissionAttempt.__table__
    blanked = session.execute(
        update(a).where(a.c.id % 3 == 0).values(month=None, channel=None, kind=None, finess=None, rpps=None)
    ).rowcount
    assert blanked > 0
    dashboard = service.produce(session, PERIOD, today=TODAY, emit=False, parallel=False)  # sees the update
    span = dashboard.windows["span"]
    mine = [r for r in rows["attempts"] if _in(span, r["month"])]
    assert dashboard.total("attempts", "span") == len(mine)
    for breakdown in (("finess",), ("rpps",), ("channel", "kind", "result")):
        expected = Counter(tuple(r[d] for d in breakdown) for r in mine)
        table = dashboard.table("attempts", "span", breakdown)
        assert {tuple(row[:-1]): row[-1] for row in table.itertuples(index=False) if row[-1]} == dict(
            expected
        )
    session.rollback()


def test_the_dimensions_copied_into_each_attempt_are_its_transmission_and_document_s(session):
    """What the generator (and the transmission worker) copy is what the join gives."""
    a, t, d = TransmissionAttempt.__table__, Transmission.__table__, Document.__table__
    joined = select(
        a.c.id,
        a.c.at,
        a.c.month,
        a.c.channel,
        a.c.kind,
        a.c.finess,
        a.c.rpps,
        t.c.channel,
        d.c.kind,
        t.c.finess,
        d.c.finess,
        t.c.rpps,
        d.c.author_rpps,
    ).select_from(a.join(t, t.c.id == a.c.transmission_id).join(d, d.c.id == t.c.document_id))
    checked = 0
    for row in session.execute(joined):
        assert row[2] == _month(row[1])
        assert row[3:7] == (row[7], row[8], row[9] or row[10], row[11] or row[12]), row[0]
        checked += 1
    assert checked > 0


def test_the_monthly_series_matches_the_rows(session, rows):
    dashboard = service.produce(session, PERIOD, today=TODAY, emit=False)
    series = dict(dashboard.month_series("attempts").itertuples(index=False))
    expected = Counter(r["month"] for r in rows["attempts"])
    span = dashboard.windows["span"]
    assert {m: v for m, v in series.items() if v} == {m: c for m, c in expected.items() if _in(span, m)}
    months = [str(m) for m in span.months()]
    assert sorted(series) == months  # months without activity are there, at zero


def test_a_finess_filter_keeps_only_that_finess(session, rows, activity):
    finess = sorted(activity.documents_by_finess)[0]
    dashboard = service.produce(session, PERIOD, [finess], today=TODAY, emit=False)
    window = dashboard.windows["span"]
    assert dashboard.total("attempts", "span") == sum(
        r["finess"] == finess and _in(window, r["month"]) for r in rows["attempts"]
    )
    assert set(dashboard.table("attempts", "span", ("finess",)).finess) == {finess}


def test_produced_event_carries_what_the_rules_read(session, activity):
    """Its totals cover the span of the running year's dashboard: the previous year and this year to date."""
    last = max((e["seq"] for e in events.export(session)), default=0)
    service.produce(session, str(TODAY.year), today=TODAY)
    (produced,) = [e for e in events.export(session, after=last) if e["type"] == "tbb.produced"]
    data = produced["data"]
    assert data["documents_recorded"] == activity.documents
    assert (data["attempts"], data["failures"]) == (activity.attempts, activity.failures)
    for check in ("periods_ok", "by_finess", "by_channel", "by_document_type", "by_rpps", "failure_rates"):
        assert data[check] is True, check


def test_inca_sheet_conforms_and_its_quarter_adds_up(session, tmp_path, rows):
    dashboard = service.produce(session, PERIOD, today=TODAY, emit=False)
    xlsx, csv_path, problems = service.export_inca(session, dashboard, tmp_path, TODAY)
    assert problems == []
    matrix = render.read_inca(xlsx)
    assert inca.validate(matrix, PERIOD) == []
    by_code = {line[0]: line for line in matrix[inca.HEADER_ROW :]}
    months = [str(m) for m in Period.parse(PERIOD).months()]
    for offset, month in enumerate(months):
        dmp = [r for r in rows["attempts"] if r["channel"] == "dmp" and r["month"] == month]
        assert by_code["D01"][4 + offset] == len(dmp)
        assert by_code["D04"][4 + offset] == sum(r["result"] == "failure" for r in dmp)
    assert csv_path.read_text(encoding="utf-8").splitlines()[inca.HEADER_ROW - 1] == ";".join(inca.HEADER)
    # A sheet whose rows are swapped, or whose quarter does not add up, is not the documented layout.
    swapped = [list(line) for line in matrix]
    first = inca.HEADER_ROW
    swapped[first], swapped[first + 1] = swapped[first + 1], swapped[first]
    assert inca.validate(swapped, PERIOD)
    wrong = [list(line) for line in matrix]
    wrong[first][7] = wrong[first][7] + 1
    assert any("≠ trimestre" in p for p in inca.validate(wrong, PERIOD))
    assert inca.validate(matrix, "2026-Q2")


def test_write_all_writes_the_workbook_extractions_and_charts(session, tmp_path):
    from openpyxl import load_workbook

    dashboard = service.produce(session, PERIOD, today=TODAY, emit=False)
    written = service.write_all(session, dashboard, tmp_path, TODAY)
    sheets = load_workbook(written.workbook, read_only=True).sheetnames
    assert sheets[0] == "Lisez-moi" and inca.SHEET in sheets and "Par RPPS" in sheets and "Échecs" in sheets
    assert written.inca_valid
    path, count = written.extractions["rpps"]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "indicator,window,first_month,last_month,rpps,value" and len(lines) == count + 1 > 1
    assert [p.suffix for p in written.charts] == [".png"] * 3
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written.charts)


# -- The TBB rules over the trace of a scenario, with and without each fault --------------------------------------


def _trace(session, generated, tmp_path) -> list[Event]:
    """What the recette would record: the harness announcing the activity, then the DCC's journal."""
    last = max((e["seq"] for e in events.export(session)), default=0)
    service.produce(session, str(TODAY.year), today=TODAY)  # the running year: all the generated activity
    quarter = service.produce(session, PERIOD, today=TODAY, emit=False)  # an elapsed quarter, for INCa
    service.write_all(session, quarter, tmp_path, TODAY)
    stamp = "2026-11-15T10:00:00.000000Z"
    trace = [Event("h-1", 1, stamp, "harness", "harness.activity_generated", generated.event_fields())]
    trace += [
        Event(f"s-{n}", n + 1, stamp, "harness", "harness.scenario_started", {}, scenario)
        for n, scenario in enumerate(("TBB.01.01", "TBB.02.01", "TBB.03.01", "TBB.04.01", "TBB.05.01"), 1)
    ]
    for record in events.export(session, after=last):
        trace.append(
            Event(record["id"], 100 + record["seq"], record["time"], "dcc", record["type"], record["data"])
        )
    return trace


def _verdicts(trace: list[Event]) -> dict[str, Outcome]:
    ruleset = RuleSet()
    load_rule_file(RULES, ruleset)
    assert ruleset.errors == []
    return {v.requirement: v.verdict for v in Evaluator(ruleset).evaluate(trace)}


def _scenario_database(tmp_path_factory):
    """A database of its own for the rule scenarios: exactly the generated activity, 1 failure per channel
    (scenario TBB.02.01)."""
    import os
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from dcc.db import make_engine, migrate

    url = os.environ.get("DCC_DATABASE_URL", "")
    drop = None
    if url.startswith("postgresql"):
        name = f"dcc_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        target = make_url(url).set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        target = f"sqlite:///{tmp_path_factory.mktemp('tbbrules') / 'dcc.sqlite3'}"
    migrate(target)
    return make_engine(target), drop


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    engine, drop = _scenario_database(tmp_path_factory)
    spec = ActivitySpec(
        first=Month(TODAY.year - 1, 1),
        months=12 + TODAY.month,
        finess=("750000001",),
        documents_per_month=10,
        channels={
            "dmp": ChannelProfile(1.0, qualified_only=True),
            "pdc": ChannelProfile(1.0),
            "mss_pro": ChannelProfile(1.0, 2),
            "mss_citoyenne": ChannelProfile(1.0, qualified_only=True),
        },
        failures_per_channel=1,
    )
    with engine.begin() as connection:
        generated = generate(connection, spec)
    yield engine, generated
    engine.dispose()
    if drop:
        drop()


def test_scenario_activity_has_one_failure_per_channel(scenario):
    _, generated = scenario
    frcp = 10 * (12 + TODAY.month)  # 10 a month over the previous year and this year to date
    assert frcp < generated.documents < 2 * frcp  # plus the PPS of about half of them
    assert dict(generated.failures_by_channel) == {"dmp": 1, "pdc": 1, "mss_pro": 1, "mss_citoyenne": 1}


def _run(scenario, tmp_path, *fault_names) -> dict[str, Outcome]:
    from sqlalchemy.orm import Session

    engine, generated = scenario
    with Session(engine) as session, faults.enabled(*fault_names):
        try:
            return _verdicts(_trace(session, generated, tmp_path))
        finally:
            session.rollback()


TBB_IDS = ("TBB.01", "TBB.02", "TBB.03", "TBB.04", "TBB.05")


def test_the_reference_dashboard_is_conforme(scenario, tmp_path):
    verdicts = _run(scenario, tmp_path)
    assert {r: verdicts[r] for r in TBB_IDS} == dict.fromkeys(TBB_IDS, Outcome.CONFORME)


@pytest.mark.parametrize(
    "fault",
    [
        "tbb_failures_not_counted",
        "tbb_missing_finess_breakdown",
        "tbb_no_rpps_breakdown",
        "tbb_inca_layout_broken",
    ],
)
def test_each_fault_breaks_exactly_its_requirements(scenario, tmp_path, fault):
    verdicts = _run(scenario, tmp_path, fault)
    broken = {r for r in TBB_IDS if verdicts[r] == Outcome.NON_CONFORME}
    assert broken == set(faults.CATALOGUE[fault].breaks)
    assert all(verdicts[r] == Outcome.CONFORME for r in set(TBB_IDS) - broken)


def test_faults_change_the_dashboard_itself(session):
    with faults.enabled("tbb_failures_not_counted"):
        blind = service.produce(session, PERIOD, today=TODAY, emit=False)
    normal = service.produce(session, PERIOD, today=TODAY, emit=False)
    assert blind.total("failures", "span") == 0 < normal.total("failures", "span")
    with faults.enabled("tbb_missing_finess_breakdown"):
        fields = service.produced_fields(service.produce(session, PERIOD, today=TODAY, emit=False))
    assert fields["by_finess"] is False and fields["by_channel"] is True
    with faults.enabled("tbb_no_rpps_breakdown"):
        no_rpps = service.produce(session, PERIOD, today=TODAY, emit=False)
    assert not any("rpps" in b for b in no_rpps.breakdowns())
    with faults.enabled("tbb_inca_layout_broken"):
        matrix = inca.rows(normal, Period.parse(PERIOD))
    assert inca.validate(matrix, PERIOD)
