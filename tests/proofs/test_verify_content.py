"""The evidence's content is re-checked, not only its hashes: a CDA artifact goes through the ANS chain again (an
ANS example, listed in a bundle, then altered), an e-mail artifact must be an MSS message with its XDM zip."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import pytest

from harness.cda import CisisNotFound, Validator, find_cisis_dir
from harness.simulators.xdm import XdmInput, build_xdm
from proofs.findings import Check, Status
from proofs.verify import verify_bundle
from tests.proofs.conftest import add_proof, findings_about, load, save

try:
    EXAMPLE = find_cisis_dir().examples / "CANCER-FRCP_2025.01_Appareil.xml"
except CisisNotFound:  # pragma: no cover - the CI-SIS folder is part of the test environment
    EXAMPLE = None
needs_cisis = pytest.mark.skipif(EXAMPLE is None or not EXAMPLE.is_file(), reason="needs DCC_CISIS_DIR")


@pytest.fixture(scope="module")
def validator():
    return Validator()


def _verify(bundle, validator):
    return verify_bundle(bundle, validator_factory=lambda: validator)


def _invalid(cda: bytes) -> bytes:
    """An element the CDA schema does not allow, right after the root's start tag."""
    start = cda.index(b">", cda.index(b"<ClinicalDocument")) + 1
    return cda[:start] + b'<champInconnu xmlns="urn:hl7-org:v3"/>' + cda[start:]


@needs_cisis
def test_listed_ans_example_cda_is_accepted(bundle, validator):
    add_proof(bundle, "DOC.01", "DOC.01.01.01", "frcp.xml", EXAMPLE.read_bytes())
    verification = _verify(bundle, validator)
    assert verification.facts["checked"]["cda"] == 1
    assert verification.accepted, [str(f) for f in verification.findings]


@needs_cisis
def test_modified_cda_is_named_by_its_hash_and_its_validation(bundle, validator):
    path = add_proof(bundle, "DOC.01", "DOC.01.01.01", "frcp.xml", EXAMPLE.read_bytes())
    (bundle / path).write_bytes(_invalid(EXAMPLE.read_bytes()))
    verification = _verify(bundle, validator)
    checks = {f.check for f in findings_about(verification, file=path, requirement="DOC.01")}
    assert checks == {Check.INTEGRITY, Check.CDA}
    assert verification.requirements["DOC.01"].status is Status.A_CORRIGER


@needs_cisis
def test_modified_cda_with_recomputed_hashes_fails_validation(bundle, validator):
    path = add_proof(bundle, "DOC.01", "DOC.01.01.01", "frcp.xml", EXAMPLE.read_bytes())
    (bundle / path).write_bytes(_invalid(EXAMPLE.read_bytes()))
    save(bundle, load(bundle), rehash=True)
    verification = _verify(bundle, validator)
    [finding] = verification.findings
    assert (finding.check, finding.file, finding.requirement) == (Check.CDA, path, "DOC.01")
    assert "invalid CDA" in finding.message and "XML Schema" in finding.message


def test_cda_that_no_longer_parses_is_named(bundle):
    cda = b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/></ClinicalDocument>'
    path = add_proof(bundle, "DOC.02", "DOC.02.01.01", "pps.xml", cda)
    (bundle / path).write_bytes(cda[:-10])
    save(bundle, load(bundle), rehash=True)
    verification = verify_bundle(bundle, validator_factory=lambda: pytest.fail("no CDA to validate"))
    [finding] = verification.findings
    assert finding.check is Check.CDA and finding.file == path and "unreadable XML" in finding.message


def test_cda_not_revalidated_without_the_ci_sis_folder(bundle, tmp_path):
    cda = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/></ClinicalDocument>'
    path = add_proof(bundle, "DOC.02", "DOC.02.01.01", "pps.xml", cda)
    verification = verify_bundle(bundle, cisis_dir=tmp_path / "no-ci-sis")
    [finding] = verification.findings
    assert finding.file == path and finding.status is Status.A_REJOUER and "unavailable" in finding.message


def _mail(zip_bytes: bytes | None, subject: str = "XDM/1.0/DDM+Compte rendu") -> bytes:
    message = EmailMessage()
    message["From"] = "dcc@dcc.mssante.fr"
    message["To"] = "dr.martin@hopital.mssante.fr"
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = email.utils.make_msgid(domain="dcc.mssante.fr")
    message["Subject"] = subject
    message.set_content("Document joint.")
    if zip_bytes is not None:
        message.add_attachment(zip_bytes, maintype="application", subtype="zip", filename="IHE_XDM.zip")
    return message.as_bytes()


CDA = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2"/></ClinicalDocument>'


def test_well_formed_mss_mail_is_accepted(bundle):
    add_proof(bundle, "DOC.05", "DOC.05.01.01", "envoi.eml", _mail(build_xdm([XdmInput(CDA)])))
    verification = verify_bundle(bundle)
    assert verification.facts["checked"]["eml"] == 1
    assert verification.accepted, [str(f) for f in verification.findings]


@pytest.mark.parametrize(
    ("mail", "expected"),
    [
        (_mail(build_xdm([XdmInput(CDA)])[:-40]), "IHE_XDM.zip refused"),
        (_mail(None), "no IHE_XDM.zip attachment"),
        (_mail(build_xdm([XdmInput(CDA)]), subject="Compte rendu"), "subject does not start"),
        (b"\x00\x01 not a mail", "not a readable MSS message"),
    ],
)
def test_broken_mails_are_named(bundle, mail, expected):
    path = add_proof(bundle, "DOC.05", "DOC.05.01.01", "envoi.eml", mail)
    verification = verify_bundle(bundle)
    findings = findings_about(verification, file=path, check=Check.EMAIL)
    assert findings and any(expected in f.message for f in findings), [str(f) for f in verification.findings]
    assert {f.requirement for f in findings} == {"DOC.05"}
