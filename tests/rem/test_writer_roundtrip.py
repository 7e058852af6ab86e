"""Round trip: any REM the writer lays out, the loader reads back equal, in both layouts."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from rem.loader import load_rem
from rem.writer import write_rem
from tests.rem.strategies import rems


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rems())
def test_published_layout_round_trip(rem):
    with tempfile.TemporaryDirectory() as tmp:
        result = load_rem(write_rem(rem, Path(tmp) / "REM_DCC_2099.01.xlsx"))
    assert result.issues == []
    assert result.rem.requirements == rem.requirements
    assert result.rem.business_scenarios == rem.business_scenarios
    assert result.rem.referentials == rem.referentials
    assert result.rem.segur_documents == rem.segur_documents
    assert result.rem.version == "2099.01"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rems(max_requirements=4))
def test_pre_publication_layout_round_trip(rem):
    with tempfile.TemporaryDirectory() as tmp:
        result = load_rem(write_rem(rem, Path(tmp) / "rem.xlsx", layout="pre-publication"))
    assert result.rem.layout == "pre-publication"
    for loaded, written in zip(result.rem.requirements, rem.requirements, strict=True):
        assert (loaded.id, loaded.statement, loaded.scenarios, loaded.nature, loaded.conditional) == (
            written.id,
            written.statement,
            written.scenarios,
            written.nature,
            written.conditional,
        )


def _one_requirement_rem(proofs: int):
    from rem.model import Nature, Proof, Rem, Requirement, Scenario

    scenario = Scenario("A.01.01", "s", tuple(Proof(f"A.01.01.{i:02d}", "p") for i in range(1, proofs + 1)))
    return Rem(
        "x", "", "1", (Requirement("A.01", "A", "", "", "", Nature.EXIGENCE, "DOIT", scenarios=(scenario,)),)
    )


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    path = write_rem(_one_requirement_rem(1), tmp_path / "rem.xlsx")
    before = path.read_bytes()
    try:
        write_rem(_one_requirement_rem(11), path)
    except ValueError as error:
        assert "11 proofs" in str(error)
    else:
        raise AssertionError("11 proofs must not fit the layout")
    assert path.read_bytes() == before
