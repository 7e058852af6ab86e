"""Hypothesis strategies for whole REMs: ids in the ANS convention, French text with the characters real sheets
carry (accents, quotes, line breaks)."""

from __future__ import annotations

from hypothesis import strategies as st

from rem.model import BusinessScenario, Nature, Proof, Referential, Rem, Requirement, Scenario, SegurDocument

SECTION_IDS = ["INS", "DMP/ALIM", "DMP/CONS", "MSS/CIT", "PSC", "TBB", "DOC"]
_ALPHABET = st.characters(
    whitelist_categories=("Lu", "Ll", "Nd", "Zs"), whitelist_characters="'’«»().,:;-\n", max_codepoint=0x24F
)
text = st.text(_ALPHABET, min_size=1, max_size=80).map(lambda s: " ".join(s.split())).filter(bool)


@st.composite
def requirements(draw, section_id: str, number: int) -> Requirement:
    rid = f"{section_id}.{number:02d}"
    scenarios = []
    for s in range(1, draw(st.integers(1, 3)) + 1):
        sid = f"{rid}.{s:02d}"
        proofs = tuple(Proof(f"{sid}.{p:02d}", draw(text)) for p in range(1, draw(st.integers(1, 10)) + 1))
        scenarios.append(Scenario(sid, draw(text), proofs))
    conditional = draw(st.sampled_from([True, False, None]))
    profil = "Général" if conditional is not True else draw(st.sampled_from(["PS libéral", "Établissement"]))
    if conditional is False:
        profil = "Général"
    return Requirement(
        id=rid,
        section_id=section_id,
        section=draw(text),
        bloc=draw(text),
        fonction=draw(text),
        nature=draw(st.sampled_from(list(Nature))),
        statement=draw(text),
        profil=profil,
        conditional=conditional,
        scenarios=tuple(scenarios),
    )


@st.composite
def rems(draw, max_requirements: int = 8) -> Rem:
    count = draw(st.integers(1, max_requirements))
    reqs = []
    for index in range(count):
        section = draw(st.sampled_from(SECTION_IDS))
        reqs.append(draw(requirements(section, index + 1)))
    business = tuple(
        BusinessScenario(
            f"SCN_DB/CO.{i:02d}",
            draw(text),
            ((f"SCN_DB/CO.{i:02d}.01", draw(text)),),
            (Proof(f"SCN_DB/CO.{i:02d}.01.01", draw(text)),),
        )
        for i in range(1, draw(st.integers(0, 2)) + 1)
    )
    referentials = tuple(
        Referential(draw(text), draw(text), "https://esante.gouv.fr") for _ in range(draw(st.integers(0, 2)))
    )
    documents = tuple(SegurDocument(draw(text), "34794-8", "N3") for _ in range(draw(st.integers(0, 2))))
    return Rem("generated.xlsx", "", "2099.01", tuple(reqs), business, referentials, documents)
