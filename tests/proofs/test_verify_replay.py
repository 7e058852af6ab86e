"""The replay: a bundle whose run found failures verifies with the same verdicts (the rules' verdict combined with
the scenario's execution exactly as the run did), a trace edited to hide a failure is caught, and rules that
differ from the run's are said."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from proofs.findings import Check, Status
from proofs.verify import verify_bundle
from rules.loader import RULES_DIR
from scenarios.context import ScenarioFailed
from scenarios.registry import discover
from tests.proofs.conftest import copy, findings_about, load, make_bundle, result, save

HIDDEN_TYPE = "document.field_entered"


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """A real run in which DOC.07 records an entry without its operator (the rule's forbidden event) and a step
    of DOC.09.01 fails (the execution makes its verdict non conforme); DOC.01 passes."""
    specs = discover()

    def untraced_entry(ctx, original=specs["DOC.07.01"].function):
        original(ctx)
        ctx.note(HIDDEN_TYPE, document_id="1.2.250.1.999.1.1^999", field="motif")

    def failed_step(ctx, original=specs["DOC.09.01"].function):
        original(ctx)
        raise ScenarioFailed("the DCC showed a third version")

    patched = dict(specs)
    patched["DOC.07.01"] = dataclasses.replace(specs["DOC.07.01"], function=untraced_entry)
    patched["DOC.09.01"] = dataclasses.replace(specs["DOC.09.01"], function=failed_step)
    folder = tmp_path_factory.mktemp("failing")
    gate = folder / "gate.yaml"  # the editor's CI waives DOC.07: the region still sees it non conforme
    gate.write_text(
        "waivers:\n  - requirement: DOC.07\n    justification: correctif livré en version 3.2\n"
        "    expires: 2099-12-31\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("harness.cli.run.discover", lambda: patched)
        return make_bundle(folder / "bundle", ["DOC.01.01", "DOC.07.01", "DOC.09.01"], "--gate", str(gate))


def test_failures_replay_to_the_same_verdicts(failing):
    verification = verify_bundle(failing)
    assert {f.check for f in verification.findings} == {Check.VERDICT}
    reports = verification.requirements
    assert {rid: (r.claimed, r.replayed, r.status) for rid, r in reports.items()} == {
        "DOC.01": ("conforme", "conforme", Status.ACCEPTE),
        "DOC.07": ("non conforme", "non conforme", Status.A_CORRIGER),
        "DOC.09": ("non conforme", "non conforme", Status.A_CORRIGER),
    }
    assert any("interdit" in r for r in reports["DOC.07"].reasons)
    assert any("dérogation de l'éditeur jusqu'au 2099-12-31" in r for r in reports["DOC.07"].reasons)
    assert result(load(failing), "DOC.07")["waiver"]["active"] is True
    assert any("étape du scénario en échec" in r for r in reports["DOC.09"].reasons)


def _hide_failure(bundle):
    lines = (bundle / "trace.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [
        line for line in lines if not (f'"type":"{HIDDEN_TYPE}"' in line and '"source":"harness"' in line)
    ]
    assert len(kept) == len(lines) - 1
    (bundle / "trace.jsonl").write_text("".join(kept), encoding="utf-8")
    document = load(bundle)
    entry = result(document, "DOC.07")
    entry["verdict"], entry["reasons"] = "conforme", ["tout va bien"]
    document["requirements"]["DOC.07"] = "conforme"
    save(bundle, document)


def test_trace_edited_to_hide_a_failure_is_caught_by_the_hashes(failing, tmp_path):
    bundle = copy(failing, tmp_path / "b")
    _hide_failure(bundle)
    verification = verify_bundle(bundle)
    named = findings_about(verification, file="trace.jsonl", check=Check.INTEGRITY)
    assert {f.requirement for f in named} == {"DOC.01", "DOC.07", "DOC.09"}
    assert "modified after the run" in named[0].message
    assert verification.requirements["DOC.07"].status is not Status.ACCEPTE
    assert verification.requirements["DOC.01"].status is Status.A_REJOUER  # its evidence is the same trace
    assert verification.exit_status == 1


def test_trace_edited_and_rehashed_still_shows_the_gap(failing, tmp_path):
    """An unsigned bundle whose editor recomputed every hash: the trace's numbering and the manifest's event
    counts still betray the removed event."""
    bundle = copy(failing, tmp_path / "b")
    _hide_failure(bundle)
    save(bundle, load(bundle), rehash=True)
    verification = verify_bundle(bundle)
    trace = findings_about(verification, file="trace.jsonl", check=Check.TRACE)
    messages = " ".join(f.message for f in trace)
    assert "without gap" in messages and "DOC.07.01" in messages
    assert verification.exit_status == 1


def test_execution_edited_in_a_result_is_caught(failing, tmp_path):
    bundle = copy(failing, tmp_path / "b")
    document = load(bundle)
    entry = result(document, "DOC.09")
    entry["execution"]["status"], entry["verdict"] = "passed", "conforme"
    document["requirements"]["DOC.09"] = "conforme"
    save(bundle, document)
    verification = verify_bundle(bundle)
    messages = [f.message for f in findings_about(verification, requirement="DOC.09", check=Check.REPLAY)]
    assert any("execution passed differs from the scenario's failed" in m for m in messages)
    assert any("« conforme »" in m and "« non conforme »" in m for m in messages)


def test_rules_that_differ_from_the_runs_are_said(failing, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in RULES_DIR.glob("*.yaml"):
        shutil.copy(path, rules / path.name)
    text = (rules / "DOC.yaml").read_text(encoding="utf-8")
    changed = text.replace(
        """quand: 'to == "valide"', correler: [document_id], message: la FRCP""",
        """quand: 'to == "jamais"', correler: [document_id], message: la FRCP""",
    )
    assert changed != text
    (rules / "DOC.yaml").write_text(changed, encoding="utf-8")
    verification = verify_bundle(failing, rules_dir=rules)
    [rule_file] = findings_about(verification, check=Check.RULES)
    assert rule_file.file == "rules/DOC.yaml" and rule_file.status is Status.A_REJOUER
    [replayed] = findings_about(verification, requirement="DOC.01", check=Check.REPLAY)
    assert "changed since the run" in replayed.message and replayed.status is Status.A_REJOUER
    assert verification.requirements["DOC.01"].replayed == "non conforme"


def test_the_json_names_each_finding(failing, tmp_path, capsys):
    from harness.cli import main

    bundle = copy(failing, tmp_path / "b")
    _hide_failure(bundle)
    assert main(["verify", str(bundle), "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert {"trace.jsonl"} <= {f["file"] for f in document["findings"]}
    assert document["accepted"] is False
