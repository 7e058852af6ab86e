"""The outbox's default packager is the real CDA production: every Figure 10 format part comes out, and the CDA parts
pass the ANS chain (XSD, profiles, volet schematron) with 0 failed asserts."""

from __future__ import annotations

import pytest

from dcc import faults
from dcc.services import documents, patients
from dcc.services.patients import Traits
from dcc.transmissions.packaging import PackagingError, default_packager
from harness.cda import Validator

pytestmark = pytest.mark.persistence


@pytest.fixture(scope="module")
def validator():
    return Validator()


def test_every_part_is_produced_and_valid(session, validator, monkeypatch):
    monkeypatch.delenv("DCC_PACKAGER", raising=False)
    patient = patients.create_patient(session, Traits("MARTIN", ("CLAIRE",), "F", "1971-05-02"), "op")
    author = {"nom": "MARTIN", "prenom": "Claire", "rpps": "10000000001"}
    rcp = {"rrc_id": "RRC-IDF", "gestionnaire_id": "3C-SL", "rcp_id": "RCP-SEIN-01", "nom": "RCP Sénologie"}
    frcp = documents.create_frcp(session, patient, "op", {"auteur": author, "rcp": rcp})
    documents.set_status(session, frcp, documents.COMPLETE, "op")
    documents.set_status(session, frcp, documents.VALIDE, "op")
    pps = documents.create_pps(session, frcp, "op", {"auteur": author})
    files = default_packager().package(session, pps, "n1+n3pdf+pdf")
    assert [f.level for f in files] == ["n3pdf", "n1", "pdf"]
    assert files[2].content.startswith(b"%PDF")
    for cda in files[:2]:
        report = validator.validate(cda.content, name=cda.filename)
        assert report.valid, (cda.filename, report.xsd_errors, report.schematron_failures[:3])
    pps.content = {}
    with pytest.raises(PackagingError, match="RPPS"):
        default_packager().package(session, pps, "n3")
    pps.content = {"auteur": author}
    replaced = default_packager().package(session, pps, "n3", document_id="1.2.250.1.999.1.1^424242")
    assert b'extension="424242"' in replaced[0].content


def test_fault_dmp_cda_without_attachments(session, monkeypatch):
    monkeypatch.delenv("DCC_PACKAGER", raising=False)
    patient = patients.create_patient(session, Traits("MARTIN", ("ANNE",), "F", "1970-01-02"), "op")
    author = {"nom": "MARTIN", "prenom": "Claire", "rpps": "10000000001"}
    rcp = {"rrc_id": "RRC-IDF", "gestionnaire_id": "3C-SL", "rcp_id": "RCP-SEIN-01", "nom": "RCP Sénologie"}
    frcp = documents.create_frcp(session, patient, "op", {"auteur": author, "rcp": rcp})
    documents.set_status(session, frcp, documents.COMPLETE, "op")
    documents.set_status(session, frcp, documents.VALIDE, "op")
    pps = documents.create_pps(session, frcp, "op", {"auteur": author})
    documents.add_attachment(session, pps, "Effets secondaires", "application/pdf", b"%PDF-1.4 effets", "op")
    joined = b"Effets secondaires"
    assert joined in default_packager().package(session, pps, "n3pdf")[0].content
    with faults.enabled("dmp_cda_without_attachments"):
        assert joined not in default_packager().package(session, pps, "n3pdf")[0].content  # the DMP's
        mail = default_packager().package(session, pps, "n1+n3pdf+pdf")
        assert joined in mail[0].content  # what professionals and the patient receive keeps them
