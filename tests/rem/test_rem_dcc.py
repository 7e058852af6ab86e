"""Our REM DCC: in sync with its YAML sources, complete over the cahier des charges, ids in the ANS convention."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rem import default_rem_path
from rem.build import SOURCE_DIR, SourceError, load_sources, main
from rem.loader import load_rem

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "001_0173f4f7d5b46cb7.txt"

# The sections of seed 001 that issue 2 asks the REM to cover, with the REM section ids that cover them.
COVERAGE = {
    "2.1.1": {"DOC"},
    "2.1.1.3": {"RGPD"},
    "2.1.2": {"REPR"},
    "2.1.3": {"REPR"},
    "2.1.4": {"ECH"},
    "2.1.5.1": {"BDT"},
    "2.1.5.2": {"ANN"},
    "2.1.5.3": {"RCP"},
    "2.2": {"AUTH", "PSC"},
    "2.3.1": {"CGU"},
    "2.3.2": {"INS", "INS/RAP"},
    "2.3.3": {"TRANS"},
    "2.3.4": {"DMP/CONS", "DMP/ALIM", "DMP/ACC"},
    "2.3.5": {"MSS/PRO", "MSS/CIT", "MSS/PDC", "MSS/CDA"},
    "2.3.6": {"PRES"},
    "2.4": {"TBB"},
}
ID = re.compile(r"^[A-Z]+(?:/[A-Z]+)?\.\d{2}$")


@pytest.fixture(scope="module")
def loaded():
    return load_rem(default_rem_path())


def test_spreadsheet_is_in_sync_with_the_sources(loaded):
    sources = load_sources()
    assert loaded.rem.requirements == sources.requirements
    assert loaded.rem.referentials == sources.referentials
    assert loaded.rem.segur_documents == sources.segur_documents
    assert loaded.rem.version == "2025.01"


def test_loads_without_defect_and_is_large_enough(loaded):
    assert loaded.issues == []
    rem = loaded.rem
    assert len(rem.requirements) >= 80
    assert all(r.scenarios and r.proofs for r in rem.requirements)
    assert sum(len(r.scenarios) > 1 for r in rem.requirements) >= 3
    assert {r.nature.value for r in rem.requirements} == {"EXIGENCE", "PRECONISATION"}
    assert any(r.conditional for r in rem.requirements)
    assert rem.referentials and rem.segur_documents


def test_every_section_of_the_cahier_des_charges_is_covered(loaded):
    by_section = {r.section_id for r in loaded.rem.requirements}
    blocs = " ".join(r.bloc for r in loaded.rem.requirements)
    for seed_section, rem_sections in COVERAGE.items():
        assert rem_sections <= by_section, seed_section
        assert re.search(rf"(^| ){re.escape(seed_section)}(\.| |$)", blocs), (
            f"no requirement cites {seed_section}"
        )


def test_every_requirement_cites_a_section_that_exists_in_the_seed(loaded):
    seed = SEED.read_text(encoding="utf-8")
    for requirement in loaded.rem.requirements:
        number = requirement.bloc.split()[0]
        assert re.fullmatch(r"\d(\.\d+)+", number), (requirement.id, requirement.bloc)
        assert re.search(rf"(^|\n)#*\s*\**{re.escape(number)}\s", seed) or f"{number}\t" in seed, (
            requirement.id,
            number,
        )


def test_ids_follow_the_ans_convention(loaded):
    for requirement in loaded.rem.requirements:
        assert ID.match(requirement.id), requirement.id
        assert requirement.id.startswith(requirement.section_id + ".")
        for scenario in requirement.scenarios:
            assert re.fullmatch(re.escape(requirement.id) + r"\.\d{2}", scenario.id)
            assert scenario.text.startswith("L'éditeur DOIT exécuter le scénario de conformité suivant")
            for proof in scenario.proofs:
                assert re.fullmatch(re.escape(scenario.id) + r"\.\d{2}", proof.id)


def test_wording_matches_the_nature(loaded):
    for requirement in loaded.rem.requirements:
        if requirement.nature.value == "EXIGENCE":
            assert "DOIT" in requirement.statement, requirement.id
        else:
            assert "PEUT" in requirement.statement, requirement.id


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda s: s + s[s.index("- id: DOC.01") : s.index("- id: DOC.02")],
            "duplicate requirement id(s): DOC.01",
        ),
        (
            lambda s: s.replace("  - id: DOC.02.01\n", "  - id: DOC.03.01\n", 1),
            "DOC.02: scenario 'DOC.03.01'",
        ),
        (lambda s: s.replace("[DOC.02.01.01,", "[DOC.02.09,", 1), "proof 'DOC.02.09' is not numbered"),
        (
            lambda s: s.replace("- id: DOC.08\n", "- id: DOC.08\n  nature: OBLIGATOIRE\n", 1),
            "nature 'OBLIGATOIRE'",
        ),
        (
            lambda s: s.replace("  fonction: Cycle de vie du PPS\n", "", 1),
            "DOC.02: missing or empty 'fonction'",
        ),
    ],
)
def test_build_rejects_a_bad_source_naming_file_and_id(tmp_path, edit, message):
    sources = tmp_path / "source"
    shutil.copytree(SOURCE_DIR, sources)
    doc = sources / "DOC.yaml"
    doc.write_text(edit(doc.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        load_sources(sources)
    assert message in str(caught.value)
    out = tmp_path / "REM.xlsx"
    assert main(["--sources", str(sources), "--out", str(out)]) == 2
    assert not out.exists()


def test_diff_between_two_versions_of_our_rem_shows_exactly_the_edits(tmp_path, capsys):
    """A 2025.02 made from our sources by three edits: the diff lists those three and nothing else."""
    import json

    from harness.cli import main as cli

    sources = tmp_path / "source"
    shutil.copytree(SOURCE_DIR, sources)
    ins = sources / "INS.yaml"
    text = ins.read_text(encoding="utf-8")
    text = text.replace(
        "l'auteur du changement.", "l'auteur et le motif du changement.", 1
    )  # INS.03 reworded
    text = text.replace(
        '    - [INS.04.01.01, "Traces des appels INSi et des retours"]\n',
        '    - [INS.04.01.01, "Traces des appels INSi et des retours"]\n    - [INS.04.01.02, "Rapport INSi"]\n',
    )
    ins.write_text(text, encoding="utf-8")
    bdt = sources / "BDT.yaml"
    bdt_text = bdt.read_text(encoding="utf-8")
    bdt.write_text(bdt_text[: bdt_text.index("- id: BDT.04")], encoding="utf-8")  # BDT.04 removed
    new = tmp_path / "REM_DCC_2025.02.xlsx"
    assert main(["--sources", str(sources), "--out", str(new)]) == 0
    capsys.readouterr()
    assert cli(["rem", "diff", str(default_rem_path()), str(new), "--json"]) == 1
    diff = json.loads(capsys.readouterr().out)
    assert diff["added"] == [] and diff["removed"] == ["BDT.04"]
    assert [c["id"] for c in diff["changed"]] == ["INS.03", "INS.04"]
    ins03, ins04 = diff["changed"]
    assert list(ins03) == ["fields", "id"] and list(ins03["fields"]) == ["statement"]
    assert ins04 == {
        "id": "INS.04",
        "scenarios_changed": [{"id": "INS.04.01", "proofs_added": ["INS.04.01.02"]}],
    }
