"""Builds our REM DCC spreadsheet from its reviewable sources: ``python -m rem.build``.

The sources (``rem/source/<SECTION>.yaml``) are what people review and edit: one file per chapter, each
requirement citing its section of the cahier des charges in "Bloc". The spreadsheet (``rem/REM_DCC_2025.01.xlsx``)
is the published form, in the ANS layout, that the harness and the editors load.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from rem import DEFAULT_REM_NAME
from rem.model import Nature, Proof, Referential, Rem, Requirement, Scenario, SegurDocument
from rem.writer import write_rem

SOURCE_DIR = Path(__file__).resolve().parent / "source"
VERSION = "2025.01"
_REQUIREMENT_KEYS = {
    "id",
    "section_id",
    "section",
    "bloc",
    "fonction",
    "nature",
    "profil",
    "conditionnelle",
    "enonce",
    "scenarios",
}


class SourceError(ValueError):
    """A source entry that cannot become a requirement; the message names the file and the id."""


def _req(entry: dict, where: str, key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SourceError(f"{where}: missing or empty {key!r}")
    return " ".join(value.split())


def _proofs(raw: object, where: str, scenario_id: str) -> tuple[Proof, ...]:
    if not isinstance(raw, list) or not raw:
        raise SourceError(f"{where}: scenario {scenario_id} has no proofs")
    proofs = []
    for item in raw:
        if isinstance(item, dict):
            pid, text = item.get("id"), item.get("text")
        elif isinstance(item, list) and len(item) == 2:
            pid, text = item
        else:
            raise SourceError(f"{where}: scenario {scenario_id}: a proof is [id, text] or {{id, text}}")
        if not isinstance(pid, str) or not pid.startswith(scenario_id + "."):
            raise SourceError(f"{where}: proof {pid!r} is not numbered under scenario {scenario_id}")
        if any(p.id == pid for p in proofs):
            raise SourceError(f"{where}: duplicate proof {pid}")
        if not isinstance(text, str) or not text.strip():
            raise SourceError(f"{where}: proof {pid} has no text")
        proofs.append(Proof(pid, " ".join(text.split())))
    return tuple(proofs)


def _requirement(entry: object, where: str, section_id: str, section: str, subsections: dict) -> Requirement:
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: a requirement must be a mapping")
    rid = _req(entry, where, "id")
    where = f"{where}: {rid}"
    unknown = set(entry) - _REQUIREMENT_KEYS
    if unknown:
        raise SourceError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    own_section_id = entry.get("section_id", section_id)
    if not rid.startswith(own_section_id + "."):
        raise SourceError(f"{where}: id is not numbered under section {own_section_id}")
    nature = entry.get("nature", "EXIGENCE")
    if nature not in Nature.__members__:
        raise SourceError(f"{where}: nature {nature!r} is not EXIGENCE or PRECONISATION")
    conditionnelle = entry.get("conditionnelle", "NON")
    if conditionnelle not in ("OUI", "NON", "---"):
        raise SourceError(f"{where}: conditionnelle {conditionnelle!r} is not OUI, NON or ---")
    scenarios_raw = entry.get("scenarios")
    if not isinstance(scenarios_raw, list) or not scenarios_raw:
        raise SourceError(f"{where}: no scenario")
    scenarios: list[Scenario] = []
    for raw in scenarios_raw:
        sid = _req(raw, where, "id") if isinstance(raw, dict) else None
        if sid is None or not sid.startswith(rid + "."):
            raise SourceError(f"{where}: scenario {sid!r} is not numbered under {rid}")
        if any(s.id == sid for s in scenarios):
            raise SourceError(f"{where}: duplicate scenario {sid}")
        scenarios.append(Scenario(sid, _req(raw, where, "text"), _proofs(raw.get("proofs"), where, sid)))
    return Requirement(
        id=rid,
        section_id=own_section_id,
        section=entry.get("section") or subsections.get(own_section_id, section),
        bloc=_req(entry, where, "bloc"),
        fonction=_req(entry, where, "fonction"),
        nature=Nature[nature],
        statement=_req(entry, where, "enonce"),
        profil=entry.get("profil", "Général"),
        conditional={"OUI": True, "NON": False, "---": None}[conditionnelle],
        scenarios=tuple(scenarios),
    )


def load_sources(directory: Path = SOURCE_DIR) -> Rem:
    requirements: list[Requirement] = []
    referentials: tuple[Referential, ...] = ()
    documents: tuple[SegurDocument, ...] = ()
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise SourceError(f"{path.name}: not valid YAML ({error})") from None
        if path.name == "_tabs.yaml":
            referentials = tuple(Referential(*row) for row in data.get("referentials", []))
            documents = tuple(SegurDocument(*row) for row in data.get("segur_documents", []))
            continue
        if not isinstance(data, dict) or "requirements" not in data:
            raise SourceError(f"{path.name}: expected section_id, section and requirements")
        section_id = _req(data, path.name, "section_id")
        section = _req(data, path.name, "section")
        for entry in data["requirements"]:
            requirements.append(
                _requirement(entry, path.name, section_id, section, data.get("subsections", {}))
            )
    ids = [r.id for r in requirements]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SourceError(f"duplicate requirement id(s): {', '.join(duplicates)}")
    return Rem(DEFAULT_REM_NAME, "", VERSION, tuple(requirements), (), referentials, documents)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=SOURCE_DIR)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / DEFAULT_REM_NAME)
    args = parser.parse_args(argv)
    try:
        rem = load_sources(args.sources)
    except SourceError as error:
        print(f"rem.build: {error}", file=sys.stderr)
        return 2
    write_rem(rem, args.out)
    print(
        f"{args.out}: {len(rem.requirements)} requirements, {len(rem.scenarios)} scenarios, {len(rem.proofs)} proofs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
