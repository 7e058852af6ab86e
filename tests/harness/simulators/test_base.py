"""The simulators' shared parts tested directly: the evidence store (events, artifacts, the trace) and the
fault plan (which fault applies, how many times, configuration errors)."""

from __future__ import annotations

import threading

import pytest

from harness.simulators.evidence import EvidenceError, EvidenceStore
from harness.simulators.faults import Fault, FaultConfigError, FaultMode, FaultPlan
from rules.trace import read_trace


def test_events_are_numbered_in_order_and_carry_the_current_scenario(tmp_path):
    store = EvidenceStore(tmp_path, clock=lambda: "2026-11-24T00:00:00.000000Z")
    first = store.emit("dmp", "dmp.retrieve", {"unique_id": "1"})
    store.current_scenario = "DMP/ALIM.01.01"
    second = store.emit("mss", "mss.message_received", {"message_id": "m"}, artifacts=["artifacts/x"])
    assert (first.seq, second.seq) == (1, 2) and first.id != second.id
    assert (first.scenario, second.scenario) == (None, "DMP/ALIM.01.01")
    store.write_trace(tmp_path / "trace.jsonl")
    assert [e.type for e in read_trace(tmp_path / "trace.jsonl")] == ["dmp.retrieve", "mss.message_received"]


def test_concurrent_emits_never_share_a_sequence_number():
    store = EvidenceStore()
    threads = [
        threading.Thread(target=lambda: [store.emit("insi", "insi.request", {}) for _ in range(200)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e.seq for e in store.events) == list(range(1, 801))


def test_artifacts_on_disk_and_in_memory(tmp_path):
    for store in (EvidenceStore(tmp_path), EvidenceStore()):
        path = store.store("mss", "../../etc/passwd", b"raw bytes")
        assert path.startswith("artifacts/mss/") and ".." not in path
        assert store.read(path) == b"raw bytes"
        with pytest.raises(EvidenceError, match="no such artifact"):
            store.read("artifacts/mss/999999-missing")
    with pytest.raises(EvidenceError, match="outside the bundle"):
        EvidenceStore(tmp_path).read("../outside.txt")
    assert not list(tmp_path.rglob(".tmp-*"))  # atomic writes leave no temporary file


def test_fault_plan_applies_by_operation_and_counts_uses():
    plan = FaultPlan(
        [Fault(FaultMode.ERROR_5XX, operation="token", times=2), Fault(FaultMode.SLOW, times=None)]
    )
    assert plan.take("token").mode is FaultMode.ERROR_5XX
    assert plan.take("token").mode is FaultMode.ERROR_5XX
    assert plan.take("token").mode is FaultMode.SLOW  # the 5xx is used up; the unbounded catch-all remains
    assert plan.take("userinfo").mode is FaultMode.SLOW
    plan.clear()
    assert plan.take("token") is None and plan.pending == []


@pytest.mark.parametrize(
    "items, message",
    [
        ([{"mode": "explode"}], "faults[0].mode: 'explode' is not one of"),
        ([{"mode": "refuse", "times": 0}], "faults[0].times: 0 is not a positive integer"),
        ([{"mode": "slow", "delay_s": "soon"}], "faults[0].delay_s: 'soon' is not a number"),
        ([{"mode": "drop", "colour": "red"}], "faults[0]: unknown field(s) colour"),
        (["refuse"], "faults[0]: expected a mapping"),
    ],
)
def test_fault_configuration_errors_name_the_entry_and_field(items, message):
    with pytest.raises(FaultConfigError) as caught:
        FaultPlan.from_config(items)
    assert message in str(caught.value)


def test_fault_configuration_reads_what_a_run_config_gives():
    plan = FaultPlan.from_config([{"mode": "timeout", "operation": "insi", "times": None, "delay_s": 2}])
    (fault,) = plan.pending
    assert (fault.mode, fault.operation, fault.times, fault.delay_s) == (FaultMode.TIMEOUT, "insi", None, 2.0)
