"""Data reuse (2.1.2): what a new FRCP or PPS is offered, the user's choice, the CR-GM conclusion, the syntheses."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from dcc import audit, identifiers
from dcc.cda_input.crgm import CdaInputError
from dcc.db.models import DccEvent, FieldEntry
from dcc.identity.status import IdentityStatus
from dcc.services import reuse
from dcc.services.documents import COMPLETE, VALIDE, DocumentRuleError, set_status
from dcc.services.patients import Traits, change_status, create_patient

pytestmark = pytest.mark.persistence
CRGM = Path("/work/shared/ci-sis/testcontenucda/ExemplesCDA/CANCER-CR-GM_2022.01_AnalyseRealisee.xml")


@pytest.fixture
def patient(session):
    return create_patient(session, Traits("Leroy", ("Anne",), "F", "1970-05-02"), author="u1")


def validate(session, document):
    set_status(session, document, COMPLETE, "u1")
    return set_status(session, document, VALIDE, "u2")


def events_of(session, type_, document):
    wanted = identifiers.document_id(document)
    return [
        e.data
        for e in session.scalars(select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id))
        if e.data.get("document_id") == wanted
    ]


def care(categorie, libelle, when, confirme=True):
    return {"categorie": categorie, "libelle": libelle, "date": when, "confirme": confirme}


def test_first_frcp_is_offered_nothing(session, patient):
    proposal = reuse.new_frcp(session, patient, "u1", {"motif": "RCP sein"})
    assert proposal.items == ()
    created = events_of(session, "document.created", proposal.document)[0]
    assert (
        "latest_pps_id" not in created and "previous_frcp_id" not in created and created["prefill_from"] == []
    )
    assert events_of(session, "document.prefill_proposed", proposal.document) == []


def test_new_frcp_is_offered_latest_pps_and_previous_frcp(session, patient):
    frcp = reuse.new_frcp(
        session, patient, "u1", {"antecedents": "HTA", "diagnostic": "carcinome canalaire", "motif": "x"}
    ).document
    validate(session, frcp)
    old_pps = reuse.new_pps(session, frcp, "u1", {"traitements": "chirurgie"}).document
    validate(session, old_pps)
    frcp2 = reuse.new_frcp(session, patient, "u1").document
    validate(session, frcp2)
    latest = reuse.new_pps(
        session, frcp2, "u1", {"traitements": "FOLFOX", "informations_notables": "allergie"}
    )
    validate(session, latest.document)

    proposal = reuse.new_frcp(session, patient, "u3", {"motif": "réévaluation"})
    created = events_of(session, "document.created", proposal.document)[0]
    assert created["latest_pps_id"] == identifiers.document_id(latest.document)
    assert created["previous_frcp_id"] == identifiers.document_id(frcp2)
    by_field = {item.field: item for item in proposal.items}
    assert by_field["traitements_actuels"].value == "FOLFOX"  # the latest PPS, not the older one
    assert by_field["traitements_actuels"].from_document_id == identifiers.document_id(latest.document)
    assert by_field["informations_notables"].from_kind == "PPS"  # the PPS wins over the FRCP for one field
    proposed = events_of(session, "document.prefill_proposed", proposal.document)
    assert [(p["from_kind"], p["from_document_id"]) for p in proposed] == [
        ("PPS", identifiers.document_id(latest.document)),
        ("FRCP", identifiers.document_id(frcp2)),
    ]
    assert proposal.document.content == {
        "motif": "réévaluation"
    }  # nothing proposed is written before the choice


def test_previous_frcp_content_is_offered(session, patient):
    first = reuse.new_frcp(session, patient, "u1", {"antecedents": "diabète", "diagnostic": "adénocarcinome"})
    validate(session, first.document)
    second = reuse.new_frcp(session, patient, "u1")
    assert {i.field: i.value for i in second.items} == {
        "antecedents": "diabète",
        "diagnostic": "adénocarcinome",
    }
    assert {i.from_kind for i in second.items} == {"FRCP"}


@pytest.mark.parametrize(
    ("selection", "kept"),
    [("all", ["antecedents", "diagnostic"]), (["diagnostic"], ["diagnostic"]), ([], []), (None, [])],
)
def test_user_keeps_all_part_or_none(session, patient, selection, kept):
    first = reuse.new_frcp(session, patient, "u1", {"antecedents": "diabète", "diagnostic": "adénocarcinome"})
    validate(session, first.document)
    proposal = reuse.new_frcp(session, patient, "u1")
    entries = proposal.apply(session, selection, "810002222222")
    document = proposal.document
    assert [e.field for e in entries] == kept
    assert sorted(k for k in document.content if k in ("antecedents", "diagnostic")) == kept
    assert {e.author for e in entries} <= {"810002222222"}
    applied = [e for e in events_of(session, "document.prefill_applied", document)]
    assert applied[0]["kept"] == kept and sorted(applied[0]["kept"] + applied[0]["dropped"]) == [
        "antecedents",
        "diagnostic",
    ]
    with pytest.raises(DocumentRuleError) as again:
        proposal.apply(session, "all", "u1")
    assert again.value.reason == "already_applied"
    assert audit.verify(session) == []


def test_apply_refusals_write_nothing(session, patient):
    first = reuse.new_frcp(session, patient, "u1", {"antecedents": "diabète"})
    validate(session, first.document)
    proposal = reuse.new_frcp(session, patient, "u1")
    with pytest.raises(DocumentRuleError) as unknown:
        proposal.apply(session, ["antecedents", "pas_proposé"], "u1")
    assert unknown.value.reason == "unknown_field"
    validate(session, proposal.document)
    with pytest.raises(DocumentRuleError) as validated:
        proposal.apply(session, "all", "u1")
    assert validated.value.reason == "validated"
    assert (
        session.scalars(select(FieldEntry).where(FieldEntry.document_id == proposal.document.id)).all() == []
    )


def test_crgm_conclusion_offered_to_new_frcp(session, patient):
    stored = reuse.integrate_crgm(session, patient, CRGM.read_bytes(), "u1", source="mss")
    assert stored.document_id == "1.2.250.1.213.1.1.1.32.2022.2.1"
    assert reuse.integrate_crgm(session, patient, CRGM.read_bytes(), "u1").id == stored.id  # stored once
    proposal = reuse.new_frcp(session, patient, "u1")
    created = events_of(session, "document.created", proposal.document)[0]
    assert created["crgm_id"] == stored.document_id
    (item,) = proposal.items
    assert item.field == "conclusion_moleculaire" and "EGFR" in item.value and item.from_source == "mss"
    proposed = events_of(session, "document.prefill_proposed", proposal.document)
    assert proposed == [
        {
            "document_id": identifiers.document_id(proposal.document),
            "kind": "FRCP",
            "proposal_id": proposal.id,
            "from_kind": "CR-GM",
            "from_document_id": stored.document_id,
            "from_source": "mss",
            "fields": ["conclusion_moleculaire"],
        }
    ]
    proposal.apply(session, "all", "u1")
    assert "c.2573T>G" in proposal.document.content["conclusion_moleculaire"]


def test_crgm_for_another_ins_or_unreadable_is_refused(session):
    other = create_patient(
        session,
        Traits("Autre", ("Luc",), "M", "1950-01-01"),
        author="u1",
        ins_matricule="180017500000134",
        ins_oid="1.2.250.1.213.1.4.8",
    )
    # a typed matricule is held by the identity only once récupérée (INSi), since the identity tables landed
    change_status(session, other, IdentityStatus.RECUPEREE, "u1", "INSi 00")
    assert other.ins_matricule == "180017500000134"
    with pytest.raises(DocumentRuleError) as mismatch:
        reuse.integrate_crgm(session, other, CRGM.read_bytes(), "u1")
    assert mismatch.value.reason == "patient_mismatch"
    with pytest.raises(CdaInputError) as broken:
        reuse.integrate_crgm(session, other, b"<ClinicalDocument xmlns='urn:hl7-org:v3'>", "u1")
    assert broken.value.reason == "not_xml"


def test_new_pps_offered_its_frcp_and_previous_pps(session, patient):
    frcp = reuse.new_frcp(session, patient, "u1", {"proposition_therapeutique": "chimiothérapie"}).document
    validate(session, frcp)
    first = reuse.new_pps(session, frcp, "u1")
    assert [(i.field, i.from_kind) for i in first.items] == [("proposition_therapeutique", "FRCP")]
    first.document.content = {"soins_realises": [care("traitement", "chirurgie", "2024-01-10")]}
    validate(session, first.document)
    frcp2 = reuse.new_frcp(session, patient, "u1", {"proposition_therapeutique": "radiothérapie"}).document
    validate(session, frcp2)
    second = reuse.new_pps(session, frcp2, "u1")
    by_field = {i.field: i for i in second.items}
    assert by_field["proposition_therapeutique"].value == "radiothérapie"
    assert by_field["soins_realises"].from_document_id == identifiers.document_id(first.document)
    created = events_of(session, "document.created", second.document)[0]
    assert created["frcp_id"] == identifiers.document_id(frcp2) and created["frcp_status"] == VALIDE
    kinds = [p["from_kind"] for p in events_of(session, "document.prefill_proposed", second.document)]
    assert kinds == ["FRCP", "PPS"]


def test_actualised_pps_takes_realised_care(session, patient):
    frcp = reuse.new_frcp(session, patient, "u1").document
    validate(session, frcp)
    pps = reuse.new_pps(session, frcp, "u1").document
    pps.content = {
        "soins_realises": [care("traitement", "chirurgie", "2024-01-10")],
        "soins_prevus": [
            care(
                "traitement", "chimiothérapie C1", "2024-02-01"
            ),  # planned, now past and confirmed: realised
            care("soin_support", "kinésithérapie", "2099-01-01"),  # future
            care("soin_support", "psychologue", "2024-03-01", confirme=False),  # never confirmed
        ],
    }
    validate(session, pps)
    version = reuse.new_version(session, pps, "u1")
    (item,) = version.items
    assert item.field == "soins_realises" and item.from_source == "previous_version"
    assert [c["libelle"] for c in json.loads(item.value)] == ["chirurgie", "chimiothérapie C1"]
    proposed = events_of(session, "document.prefill_proposed", version.document)
    assert proposed[0]["fields"] == ["soins_realises"] and version.document.version == 2
    version.apply(session, "all", "u1")
    assert json.loads(version.document.content["soins_realises"]) == json.loads(item.value)


def test_syntheses_only_confirmed_past_items_from_validated_documents(session, patient):
    frcp = reuse.new_frcp(session, patient, "u1").document
    validate(session, frcp)
    old = reuse.new_pps(session, frcp, "u1").document
    old.content = {"soins_realises": [care("soin_support", "diététicienne", "2023-06-01")]}
    validate(session, old)
    draft_elsewhere = reuse.new_pps(session, frcp, "u1").document  # not validated: not a source
    draft_elsewhere.content = {"soins_realises": [care("traitement", "brouillon", "2023-01-01")]}
    pps = reuse.new_pps(session, frcp, "u1").document
    pps.content = {
        "soins_realises": [care("traitement", "chirurgie", "2024-01-10"), {"libelle": "malformé"}],
        "soins_prevus": json.dumps(
            [
                care("traitement", "chimiothérapie C1", "2024-02-01"),
                care("traitement", "chimiothérapie C6", "2024-07-01"),
                care("soin_support", "psychologue", "2024-03-01", confirme=False),
            ]
        ),
    }
    built = reuse.build_syntheses(session, pps, as_of=date(2024, 6, 1))
    assert [i.libelle for i in built.treatments] == ["chirurgie", "chimiothérapie C1"]
    assert [i.libelle for i in built.supportive_care] == ["diététicienne"]
    assert (built.future_items, built.ignored) == (0, 1)
    later = reuse.build_syntheses(session, pps, as_of=date(2024, 8, 1))  # the date moved: rebuilt
    assert [i.libelle for i in later.treatments] == ["chirurgie", "chimiothérapie C1", "chimiothérapie C6"]
    later.record(session)
    (event,) = events_of(session, "document.synthesis_built", pps)
    assert event["treatments_synthesis"] is True and event["supportive_care_synthesis"] is True
    assert event["future_items_in_syntheses"] == 0
    with pytest.raises(DocumentRuleError):
        reuse.build_syntheses(session, frcp)
