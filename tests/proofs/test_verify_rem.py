"""A bundle verified against another REM than its own: what the region's REM adds to a section the bundle covers,
or changed in a requirement it claims, is a test to replay; the rest of the REM is out of the bundle's scope."""

from __future__ import annotations

import dataclasses

import pytest

from harness.cli import main
from proofs.findings import Check, Status
from proofs.verify import verify_bundle
from rem import default_rem_path
from rem.loader import load_rem
from rem.model import Proof, Rem
from rem.writer import write_rem
from tests.proofs.conftest import findings_about, load, make_bundle, save


def _rename(requirement, new_id):
    scenarios = tuple(
        dataclasses.replace(
            s,
            id=s.id.replace(requirement.id, new_id, 1),
            proofs=tuple(
                dataclasses.replace(p, id=p.id.replace(requirement.id, new_id, 1)) for p in s.proofs
            ),
        )
        for s in requirement.scenarios
    )
    return dataclasses.replace(requirement, id=new_id, scenarios=scenarios)


def _edit(rem: Rem, version: str, edit) -> Rem:
    requirements = edit({r.id: r for r in rem.requirements})
    return dataclasses.replace(rem, version=version, requirements=tuple(requirements.values()))


@pytest.fixture(scope="module")
def newer_rem(tmp_path_factory) -> Rem:
    """REM 2025.02: DOC.02 reworded, a proof added to DOC.01.01, DOC.10 new in DOC, INS.99 new elsewhere,
    DOC.09 removed."""
    rem = load_rem(default_rem_path()).rem

    def edit(requirements):
        requirements["DOC.02"] = dataclasses.replace(
            requirements["DOC.02"], statement=requirements["DOC.02"].statement + " Il DOIT aussi l'horodater."
        )
        doc01 = requirements["DOC.01"]
        first = doc01.scenarios[0]
        first = dataclasses.replace(
            first, proofs=(*first.proofs, Proof(f"{first.id}.03", "Export du journal"))
        )
        requirements["DOC.01"] = dataclasses.replace(doc01, scenarios=(first, *doc01.scenarios[1:]))
        requirements["DOC.10"] = _rename(requirements["DOC.09"], "DOC.10")
        requirements["INS.99"] = _rename(requirements["INS.01"], "INS.99")
        del requirements["DOC.09"]
        return requirements

    path = write_rem(_edit(rem, "2025.02", edit), tmp_path_factory.mktemp("rem") / "REM_DCC_2025.02.xlsx")
    return path


def test_newer_region_rem_names_what_the_bundle_does_not_cover(pristine, newer_rem, tmp_path):
    report = tmp_path / "cr.md"
    assert main(["verify", str(pristine), "--rem", str(newer_rem), "--report", str(report)]) == 1
    verification = verify_bundle(pristine, rem=newer_rem)
    rem_findings = {f.requirement: f for f in findings_about(verification, check=Check.REM)}
    assert set(rem_findings) == {"DOC.01", "DOC.02", "DOC.10"}
    assert "new in REM 2025.02" in rem_findings["DOC.10"].message
    assert "fields statement" in rem_findings["DOC.02"].message
    assert "proofs added DOC.01.01.03" in rem_findings["DOC.01"].message
    assert all(f.status is Status.A_REJOUER for f in rem_findings.values())
    assert "INS.99" in verification.out_of_scope and "DOC.10" not in verification.out_of_scope
    assert any("DOC.09" in note and "no longer" in note for note in verification.notes)
    assert verification.requirements["DOC.09"].in_region_rem is False
    assert verification.requirements["DOC.05"].status is Status.ACCEPTE
    text = report.read_text(encoding="utf-8")
    assert "DOC.10" in text and "2025.02" in text


@pytest.fixture(scope="module")
def older_bundle(tmp_path_factory):
    """A bundle made with REM 2024.12 (DOC.02 worded differently, no DOC.05), a REM this harness does not ship."""
    rem = load_rem(default_rem_path()).rem

    def edit(requirements):
        requirements["DOC.02"] = dataclasses.replace(
            requirements["DOC.02"], statement="Le PPS DOIT être clôturé."
        )
        del requirements["DOC.05"]
        return requirements

    folder = tmp_path_factory.mktemp("older")
    old = write_rem(_edit(rem, "2024.12", edit), folder / "REM_DCC_2024.12.xlsx")
    bundle = make_bundle(folder / "bundle", ["DOC.01.01", "DOC.02.01"], "--rem", str(old))
    return bundle, old


def test_bundle_made_against_an_older_rem(older_bundle):
    bundle, old = older_bundle
    verification = verify_bundle(bundle, editor_rem=old)
    rem_findings = {f.requirement: f.message for f in findings_about(verification, check=Check.REM)}
    assert set(rem_findings) == {"DOC.02", "DOC.05"}
    assert "2024.12" in rem_findings["DOC.05"] and "not covered" in rem_findings["DOC.05"]
    assert verification.requirements["DOC.01"].status is Status.ACCEPTE
    assert verification.facts["editor_rem"]["version"] == "2024.12"


def test_unknown_bundle_rem_is_a_finding_and_ids_are_still_compared(older_bundle):
    bundle, _old = older_bundle
    verification = verify_bundle(bundle)  # without --editor-rem
    [unknown] = [f for f in findings_about(verification, check=Check.REM) if f.requirement is None]
    assert "unknown here" in unknown.message and "--editor-rem" in unknown.message
    assert verification.facts["editor_rem"]["known"] is False
    assert verification.requirements["DOC.01"].replayed == "conforme"  # the replay needs no REM text


def test_manifest_pointing_at_an_unknown_rem(bundle):
    document = load(bundle)
    document["rem"]["sha256"] = "0" * 64
    save(bundle, document)
    verification = verify_bundle(bundle)
    assert [f.check for f in verification.general_findings] == [Check.REM]
    assert verification.exit_status == 1
