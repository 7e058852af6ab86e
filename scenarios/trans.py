"""Chapters TRANS, MSS (PRO, CIT, PDC, CDA), and DOC.04, DOC.06, INS.08, ANN.03: what leaves the DCC after a
validation (Figure 10 of the cahier des charges, 2.3.3–2.3.5). The scenarios validate documents through the
test-driver, let the DCC's outbox deliver (``run_outbox``, bounded), and read what the MSSanté and DMP simulators
received; the proofs are the mails (.eml) and archives (IHE_XDM.zip) the MSSanté simulator kept."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

from harness.simulators.faults import Fault, FaultMode
from scenarios.context import ScenarioContext
from scenarios.data import AUTHOR, FRCP_CONTENT, PPS_CONTENT, journal, snapshot, traits
from scenarios.registry import scenario

NEEDS = ("mss", "dmp")
INS = ("279035121518989", "1.2.250.1.213.1.4.10")
PATIENT_BOX = f"{INS[0]}@patient.mssante.fr"
# professionals integrated from the Annuaire Santé (ANN.03): the address the directory gives, source annuaire
PRO_A = {"mss": AUTHOR["mssante"], "rpps": AUTHOR["rpps"], "source": "annuaire"}
PRO_B = {"mss": "jean.durand@clinique-simulee.mssante.fr", "rpps": "10000000002", "source": "annuaire"}
WAIT_S = 3.0  # bound on one delivery round (retries of a failed transmission included)


# -- steps -----------------------------------------------------------------------------------------------------
def _patient(ctx: ScenarioContext, status: str = "validee", nom: str = "DURAND") -> str:
    """A fresh patient at ``status``: provisoire and validée (by default: a non-qualified identity whose traits
    were checked on an identity document) without INS; with the INSi test matricule, ``recuperee``, ``qualifiee``
    and ``validee_ins`` (validée, to be qualified later)."""
    if status in ("provisoire", "validee"):
        patient = ctx.dcc.create_patient(traits(nom, ("PIERRE", "ALAIN")))["patient_id"]
        if status == "validee":
            ctx.dcc.change_identity_status(patient, "validee", justificatif="carte_identite")
        return patient
    patient = ctx.dcc.create_patient(
        traits("PAT-TROIS", ("DOMINIQUE", "MARIE-LOUISE"), "F", "1979-03-28", "63220"),
        ins_matricule=INS[0],
        ins_oid=INS[1],
    )["patient_id"]
    if status == "recuperee":
        ctx.dcc.change_identity_status(patient, "recuperee")
        return patient
    ctx.dcc.change_identity_status(patient, "validee", justificatif="carte_identite")
    if status == "qualifiee":
        ctx.dcc.change_identity_status(patient, "qualifiee")
    return patient


def _recipients(ctx: ScenarioContext, document_id: str, recipients: tuple[dict, ...]) -> None:
    if recipients:
        ctx.dcc.call(
            "set_recipients", document_id=document_id, recipients=list(recipients), author="medecin-1"
        )


def _frcp(
    ctx: ScenarioContext, patient: str, recipients: tuple[dict, ...] = (), status: str = "valide"
) -> str:
    frcp = ctx.dcc.create_frcp(patient, content=FRCP_CONTENT)["document_id"]
    _recipients(ctx, frcp, recipients)
    ctx.dcc.set_status(frcp, "complete")
    if status == "valide":
        ctx.dcc.set_status(frcp, "valide")
    return frcp


def _pps(ctx: ScenarioContext, frcp: str, recipients: tuple[dict, ...] = (), status: str = "valide") -> str:
    pps = ctx.dcc.create_pps(frcp, content=PPS_CONTENT)["document_id"]
    _recipients(ctx, pps, recipients)
    ctx.dcc.set_status(pps, "complete")
    if status == "valide":
        ctx.dcc.set_status(pps, "valide")
    return pps


def _deliver(ctx: ScenarioContext, wait_s: float = WAIT_S) -> dict[str, Any]:
    """The DCC's outbox delivers what is due; then the acknowledgements the MSSanté operator sent back reach the
    DCC's BAL applicative (what its inbound SMTP does in production)."""
    result = ctx.dcc.call("run_outbox", wait_s=wait_s)
    _forward_acks(ctx)
    return result


def _forward_acks(ctx: ScenarioContext) -> None:
    done: set[str] = ctx.__dict__.setdefault("_acks_forwarded", set())
    for event in ctx.received("mss", "mss.ack_sent"):
        for path in event.artifacts:
            if path in done:
                continue
            done.add(path)
            raw = ctx.simulators.evidence.read(path)
            ctx.dcc.call("receive_mail", raw_base64=base64.b64encode(raw).decode("ascii"), sender="")


def _mails(ctx: ScenarioContext, to: str | None = None, document_id: str | None = None) -> list[Any]:
    """The mails the MSSanté simulator accepted in this scenario (one event per recipient)."""
    return [
        e
        for e in ctx.received("mss", "mss.message_received")
        if e.data.get("accepted")
        and (to is None or e.data.get("to_address") == to.lower())
        and (document_id is None or _same(e.data.get("document_id"), document_id))
    ]


def _same(a: str | None, b: str) -> bool:
    return (a or "").lower() == b.lower()


def _boxes(mails: list[Any], kind: str) -> list[Any]:
    return [m for m in mails if kind in (m.data.get("mailbox_types") or [])]


def _dmp(ctx: ScenarioContext) -> list[Any]:
    return ctx.received("dmp", "dmp.provide_and_register")


def _artifact(ctx: ScenarioContext, event: Any, suffix: str) -> bytes:
    path = next(p for p in event.artifacts if p.endswith(suffix))
    return ctx.simulators.evidence.read(path)


def _keep_mails(ctx: ScenarioContext, proof: int, mails: list[Any], xdm: bool = False) -> None:
    """The .eml of each mail (and its IHE_XDM.zip) as the proof."""
    ctx.check(bool(mails), "no mail to keep as the proof")
    for n, mail in enumerate(mails, 1):
        name = mail.data.get("to_address", "mail").replace("@", "_at_")
        ctx.proof(proof, f"{n:02d}-{name}.eml", _artifact(ctx, mail, ".eml"))


def _xdm_files(ctx: ScenarioContext, mail: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(_artifact(ctx, mail, "IHE_XDM.zip"))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _cdas(ctx: ScenarioContext, mail: Any) -> dict[str, bytes]:
    """The CDA files of a mail's archive (every XML document but the XDM metadata)."""
    return {
        n: c
        for n, c in _xdm_files(ctx, mail).items()
        if n.upper().endswith(".XML") and not n.upper().endswith("METADATA.XML")
    }


def _receipts(ctx: ScenarioContext, title: str) -> str:
    """« Relevé des simulateurs »: what the MSSanté boxes and the DMP received in this scenario."""
    rows = [
        (
            f"MSS {m.data.get('to_address')} ({','.join(m.data.get('mailbox_types') or [])})",
            f"{m.data.get('subject')} — {m.data.get('document_id')}",
        )
        for m in _mails(ctx)
    ]
    rows += [(f"DMP {e.data.get('patient_id') or ''}", e.data) for e in _dmp(ctx)]
    return snapshot(title, rows or [("(rien)", "aucune réception")])


def _transmissions(ctx: ScenarioContext, *document_ids: str) -> list[dict[str, Any]]:
    return [
        t for d in document_ids for t in ctx.dcc.call("list_transmissions", document_id=d)["transmissions"]
    ]


# -- TRANS -----------------------------------------------------------------------------------------------------
@scenario("TRANS.01.01", needs=NEEDS)
def each_professional(ctx: ScenarioContext) -> None:
    """A PPS with two professional recipients is validated: each one receives it by MSSanté."""
    frcp = _frcp(ctx, _patient(ctx))
    pps = _pps(ctx, frcp, (PRO_A, PRO_B))
    _deliver(ctx)
    mails = [m for pro in (PRO_A, PRO_B) for m in _mails(ctx, pro["mss"], pps)]
    ctx.check(len(mails) == 2, f"{len(mails)} professional(s) received the PPS, 2 expected")
    _keep_mails(ctx, 1, mails)


@scenario("TRANS.02.01", needs=NEEDS)
def dmp_pdc_after_qualification(ctx: ScenarioContext) -> None:
    """A PPS of a validée identity goes neither to the DMP nor to the PDC; qualified, its new version does."""
    patient = _patient(ctx, "validee_ins")
    pps = _pps(ctx, _frcp(ctx, patient), (PRO_A,))
    _deliver(ctx)
    ctx.check(not _dmp(ctx) and not _boxes(_mails(ctx), "PDC"), "DMP or PDC fed for a non-qualified identity")
    before = _receipts(ctx, "Avant qualification")
    ctx.dcc.change_identity_status(patient, "qualifiee")
    v2 = ctx.dcc.new_version(pps)["document_id"]
    ctx.dcc.set_status(v2, "complete")
    ctx.dcc.set_status(v2, "valide")
    _deliver(ctx)
    ctx.check(bool(_boxes(_mails(ctx, document_id=v2), "PDC")), "the PDC did not receive the qualified PPS")
    ctx.check(bool(_dmp(ctx)), "the DMP did not receive the qualified PPS")
    ctx.proof(1, "avant-qualification.html", before)
    ctx.proof(1, "apres-qualification.html", _receipts(ctx, "Après qualification et validation"))


@scenario("TRANS.02.02", needs=NEEDS)
def nothing_before_validation(ctx: ScenarioContext) -> None:
    """A completed, not validated PPS of a qualified patient goes neither to the DMP nor to the PDC."""
    frcp = _frcp(ctx, _patient(ctx, "qualifiee"))
    _deliver(ctx)
    pps = _pps(ctx, frcp, (PRO_A,), status="complete")
    _deliver(ctx)
    ctx.check(
        not _mails(ctx, document_id=pps) and not [e for e in _dmp(ctx) if pps in str(e.data)],
        "the completed PPS left the DCC",
    )
    ctx.proof(1, "releve.html", _receipts(ctx, f"PPS {pps} complété, non validé"))


@scenario("TRANS.03.01", needs=NEEDS)
def continuity_of_care(ctx: ScenarioContext) -> None:
    """An FRCP of a provisoire identity is sent to its professional with the traits only."""
    frcp = _frcp(ctx, _patient(ctx, "provisoire"), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], frcp)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s) to the professional, 1 expected")
    ctx.check(not mails[0].data.get("patient_ins"), "the mail carries an INS for a provisoire identity")
    _keep_mails(ctx, 1, mails)


@scenario("TRANS.04.01", needs=NEEDS)
def once_after_retry(ctx: ScenarioContext) -> None:
    """The DMP fails for a while, a PPS is validated, the retries succeed: one submission per recipient and
    channel."""
    frcp = _frcp(ctx, _patient(ctx, "qualifiee"))
    _deliver(ctx)
    dmp = ctx.simulator("dmp")
    dmp.faults.inject(Fault(FaultMode.ERROR_5XX, None, times=2))
    try:
        pps = _pps(ctx, frcp, (PRO_A,))
        _deliver(ctx, wait_s=0.0)
    finally:
        dmp.faults.clear()
    _deliver(ctx)
    submissions = _dmp(ctx)
    ids = [e.data.get("unique_id") or e.data.get("document_id") for e in submissions]
    ctx.check(len(ids) == len(set(ids)), f"the DMP received a document twice: {ids}")
    ctx.check(not any(e.data.get("duplicate") for e in submissions + _mails(ctx)), "a duplicate was received")
    ctx.proof(1, "tentatives.json", journal([{"transmissions": _transmissions(ctx, frcp, pps)}]))
    ctx.proof(2, "releve-dmp.html", _receipts(ctx, "Soumissions reçues par le DMP"))


@scenario("TRANS.05.01", needs=NEEDS)
def retried_until_delivered(ctx: ScenarioContext) -> None:
    """The MSSanté server is down when an FRCP is validated: the failure is recorded, and the mail leaves once
    the service is back."""
    mss = ctx.simulator("mss")
    mss.faults.inject(Fault(FaultMode.ERROR_5XX, "DATA", times=None))
    try:
        frcp = _frcp(ctx, _patient(ctx), (PRO_A,))
        _deliver(ctx, wait_s=0.0)
        failed = _transmissions(ctx, frcp)
    finally:
        mss.faults.clear()
    ctx.check(
        any(a["result"] == "failure" for t in failed for a in t["attempts"]), "no failed attempt recorded"
    )
    _deliver(ctx)
    ctx.check(bool(_mails(ctx, PRO_A["mss"], frcp)), "the FRCP did not arrive once the service was back")
    ctx.proof(
        1, "tentatives.json", journal([{"pendant la panne": failed}, {"après": _transmissions(ctx, frcp)}])
    )


@scenario("TRANS.06.01", needs=NEEDS)
def completed_frcp_to_professional(ctx: ScenarioContext) -> None:
    """A completed FRCP of a qualified patient is sent to a professional, and to nobody else."""
    frcp = _frcp(ctx, _patient(ctx, "qualifiee"), (PRO_A,), status="complete")
    ctx.dcc.call("send_to_professionals", document_id=frcp, author="medecin-1")
    _deliver(ctx)
    mails = _mails(ctx, document_id=frcp)
    ctx.check([m.data.get("to_address") for m in mails] == [PRO_A["mss"]], f"FRCP complétée sent to {mails}")
    ctx.check(not _dmp(ctx), "the DMP received the completed FRCP")
    ctx.proof(1, "releve.html", _receipts(ctx, f"FRCP {frcp} complétée envoyée à un professionnel"))


# -- MSS/PRO ---------------------------------------------------------------------------------------------------
@scenario("MSS/PRO.01.01", needs=NEEDS)
def automatic_to_professional(ctx: ScenarioContext) -> None:
    """An FRCP with one professional recipient is validated: the mail leaves with no one opening a mail client."""
    frcp = _frcp(ctx, _patient(ctx), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], frcp)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s) to the professional, 1 expected")
    _keep_mails(ctx, 1, mails)


@scenario("MSS/PRO.02.01", needs=NEEDS)
def error_ack_recorded(ctx: ScenarioContext) -> None:
    """The recipient's system does not know the patient and answers a processing acknowledgement in error (902):
    the DCC records it and shows it in the follow-up of its sendings."""
    mss = ctx.simulator("mss")
    known, mss.known_patients = mss.known_patients, frozenset({"100000000000000"})
    try:
        frcp = _frcp(ctx, _patient(ctx, "qualifiee"), (PRO_A,))
        _deliver(ctx)
    finally:
        mss.known_patients = known
    errors = [e for e in ctx.received("mss", "mss.ack_sent") if e.data.get("code") == 902]
    ctx.check(bool(errors), "the recipient sent no error acknowledgement (902)")
    ctx.proof(1, "mdn-902.eml", ctx.simulators.evidence.read(errors[0].artifacts[0]))
    follow = _transmissions(ctx, frcp)
    ctx.check(
        any("902" in (t.get("last_error") or "") for t in follow), "the 902 is not shown in the follow-up"
    )
    ctx.proof(
        2,
        "suivi-des-envois.html",
        snapshot(
            f"Suivi des envois de {frcp}",
            [
                (f"{t['channel']} {t['recipient']}", f"{t['state']} — {t.get('last_error') or 'OK'}")
                for t in follow
            ],
        ),
    )


# -- MSS/CIT ---------------------------------------------------------------------------------------------------
def _validated_pps(ctx: ScenarioContext, recipients: tuple[dict, ...] = (PRO_A,)) -> tuple[str, str]:
    frcp = _frcp(ctx, _patient(ctx, "qualifiee"))
    pps = _pps(ctx, frcp, recipients)
    _deliver(ctx)
    return frcp, pps


@scenario("MSS/CIT.01.01", needs=NEEDS)
def pps_to_patient(ctx: ScenarioContext) -> None:
    """A validated PPS of a qualified patient reaches the patient's MSSanté citoyenne mailbox."""
    _, pps = _validated_pps(ctx)
    mails = _mails(ctx, PATIENT_BOX, pps)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s) in the patient's mailbox, 1 expected")
    _keep_mails(ctx, 1, mails)


@scenario("MSS/CIT.02.01", needs=NEEDS)
def patient_message_content(ctx: ScenarioContext) -> None:
    """The patient's mail carries the PPS as CDA N1, CDA N3 with its PDF, PDF/A-1, and X-MSS-MES: FIN."""
    _, pps = _validated_pps(ctx)
    mails = _mails(ctx, PATIENT_BOX, pps)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s) in the patient's mailbox, 1 expected")
    data = mails[0].data
    ctx.check((data.get("headers") or {}).get("X-MSS-MES") == "FIN", "no X-MSS-MES: FIN")
    ctx.check(all(data.get(k) for k in ("has_cda_n1", "has_cda_n3_pdf", "has_pdf")), "a format is missing")
    _keep_mails(ctx, 1, mails)


@scenario("MSS/CIT.03.01", needs=NEEDS)
def no_frcp_to_patient(ctx: ScenarioContext) -> None:
    """An FRCP then its PPS are validated for a qualified patient: the patient's mailbox receives the PPS only."""
    frcp, pps = _validated_pps(ctx)
    box = _mails(ctx, PATIENT_BOX)
    ctx.check(not _mails(ctx, PATIENT_BOX, frcp), f"the FRCP reached the patient: {box}")
    ctx.check(bool(_mails(ctx, PATIENT_BOX, pps)), "the patient's mailbox did not receive the PPS")
    ctx.proof(
        1,
        "boite-citoyenne.html",
        snapshot(
            f"Boîte {PATIENT_BOX} (FRCP {frcp}, PPS {pps})",
            [(m.data.get("subject"), m.data.get("type_codes")) for m in box],
        ),
    )


# -- MSS/PDC ---------------------------------------------------------------------------------------------------
@scenario("MSS/PDC.01.01", needs=NEEDS)
def both_to_pdc(ctx: ScenarioContext) -> None:
    """An FRCP and a PPS of a qualified patient are validated: the PDC receives both."""
    frcp, pps = _validated_pps(ctx)
    pdc = _boxes(_mails(ctx), "PDC")
    got = {m.data.get("document_id", "").lower() for m in pdc}
    ctx.check({frcp.lower(), pps.lower()} <= got, f"the PDC received {sorted(got)}")
    _keep_mails(ctx, 1, pdc)


@scenario("MSS/PDC.02.01", needs=NEEDS)
def no_pdc_without_qualified_ins(ctx: ScenarioContext) -> None:
    """A PPS of a récupérée identity is validated: nothing reaches the PDC."""
    pps = _pps(ctx, _frcp(ctx, _patient(ctx, "recuperee")), (PRO_A,))
    _deliver(ctx)
    ctx.check(not _boxes(_mails(ctx), "PDC"), "the PDC received a document of a non-qualified identity")
    ctx.check(bool(_mails(ctx, PRO_A["mss"], pps)), "the professional did not receive the PPS")
    ctx.proof(1, "boite-pdc.html", _receipts(ctx, f"PPS {pps}, identité récupérée: boîte de la PDC vide"))


# -- MSS/CDA ---------------------------------------------------------------------------------------------------
@scenario("MSS/CDA.01.01", needs=NEEDS)
def xdm_archive(ctx: ScenarioContext) -> None:
    """The mail of a validated PPS carries an IHE_XDM archive with INDEX.HTM, README.TXT, METADATA.XML and the
    CDA."""
    pps = _pps(ctx, _frcp(ctx, _patient(ctx)), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], pps)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s), 1 expected")
    files = _xdm_files(ctx, mails[0])
    for name in ("INDEX.HTM", "README.TXT", "IHE_XDM/SUBSET01/METADATA.XML"):
        ctx.check(name in files, f"{name} missing from IHE_XDM.zip ({sorted(files)})")
    _keep_mails(ctx, 1, mails)
    ctx.proof(2, "IHE_XDM.zip", _artifact(ctx, mails[0], "IHE_XDM.zip"))


@scenario("MSS/CDA.02.01", needs=NEEDS)
def one_patient_per_mail(ctx: ScenarioContext) -> None:
    """Documents of two patients validated together for the same recipient: one mail per patient."""
    first = _pps(ctx, _frcp(ctx, _patient(ctx)), (PRO_A,))
    second = _pps(ctx, _frcp(ctx, _patient(ctx, nom="LEROY")), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"])
    ctx.check(len(mails) == 2, f"{len(mails)} mail(s) for two documents, 2 expected ({first}, {second})")
    ctx.check(all(m.data.get("patients") == 1 for m in mails), "a mail concerns several patients")
    _keep_mails(ctx, 1, mails)


@scenario("MSS/CDA.03.01", needs=NEEDS)
def subject(ctx: ScenarioContext) -> None:
    """The subject of the mail of a validated PPS: XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>."""
    pps = _pps(ctx, _frcp(ctx, _patient(ctx)), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], pps)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s), 1 expected")
    ctx.check(str(mails[0].data.get("subject", "")).startswith("XDM/1.0/DDM+"), "subject not XDM/1.0/DDM+")
    _keep_mails(ctx, 1, mails)


@scenario("MSS/CDA.04.01", needs=NEEDS)
def x_mss_headers(ctx: ScenarioContext) -> None:
    """The mail of a qualified patient's validated PPS carries X-MSS-INS (the matricule) and X-MSS-CODECDA."""
    _, pps = _validated_pps(ctx)
    mails = _mails(ctx, PRO_A["mss"], pps)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s), 1 expected")
    headers = mails[0].data.get("headers") or {}
    ctx.check(headers.get("X-MSS-INS") == INS[0], f"X-MSS-INS: {headers.get('X-MSS-INS')}")
    ctx.check(bool(headers.get("X-MSS-CODECDA")), "no X-MSS-CODECDA")
    _keep_mails(ctx, 1, mails)


@scenario("MSS/CDA.05.01", needs=NEEDS)
def pdf_attached(ctx: ScenarioContext) -> None:
    """The mail of a validated FRCP to its professional carries the PDF/A-1."""
    frcp = _frcp(ctx, _patient(ctx), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], frcp)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s), 1 expected")
    pdfs = [content for name, content in _xdm_files(ctx, mails[0]).items() if name.lower().endswith(".pdf")]
    ctx.check(bool(pdfs), "no PDF in the mail's archive")
    _keep_mails(ctx, 1, mails)
    ctx.proof(2, "FRCP.pdf", pdfs[0])


# -- DOC.04, DOC.06, INS.08, ANN.03 --------------------------------------------------------------------------
@scenario("DOC.04.01", needs=NEEDS)
def updated_pps_revalidated(ctx: ScenarioContext) -> None:
    """A validated PPS is updated: nothing of the new version leaves before its validation; validated, it is
    sent, attached to the same FRCP, and its CDA replaces (RPLC) the previous version."""
    _, pps = _validated_pps(ctx)
    v2 = ctx.dcc.new_version(pps)["document_id"]
    _deliver(ctx)
    before = _transmissions(ctx, v2)
    ctx.check(
        not before and not _mails(ctx, document_id=v2), f"the new version left before validation: {before}"
    )
    ctx.dcc.set_status(v2, "complete")
    ctx.dcc.set_status(v2, "valide")
    _deliver(ctx)
    document = ctx.dcc.get_document(v2)
    ctx.check(str(document.get("frcp_id")) == str(ctx.dcc.get_document(pps).get("frcp_id")), "another FRCP")
    mails = _mails(ctx, PRO_A["mss"], v2)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s) of the new version, 1 expected")
    ctx.proof(
        1,
        "transmissions.json",
        journal([{"avant validation": before}, {"après validation": _transmissions(ctx, v2)}]),
    )
    rplc = [c for c in _cdas(ctx, mails[0]).values() if b'typeCode="RPLC"' in c]
    ctx.check(bool(rplc), "the CDA of the new version does not replace (RPLC) the previous")
    ctx.proof(2, "pps-v2.xml", rplc[0])


@scenario("DOC.06.01", needs=NEEDS)
def nothing_out_before_validation(ctx: ScenarioContext) -> None:
    """An FRCP and a PPS of a qualified patient are completed: nothing reaches the DMP, the PDC or the patient
    until they are validated."""
    patient = _patient(ctx, "qualifiee")
    first = _frcp(ctx, patient)  # the validated FRCP the PPS needs (DOC.05)
    _deliver(ctx)
    mark = len(_dmp(ctx))
    pps = _pps(ctx, first, (PRO_A,), status="complete")
    frcp = _frcp(ctx, patient, (PRO_A,), status="complete")
    ctx.dcc.call("send_to_professionals", document_id=frcp, author="medecin-1")  # allowed: to professionals
    _deliver(ctx)
    early = [
        m
        for m in _boxes(_mails(ctx), "PATIENT") + _boxes(_mails(ctx), "PDC")
        if m.data.get("document_id", "").lower() in (pps.lower(), frcp.lower())
    ]
    ctx.check(not early and len(_dmp(ctx)) == mark, f"a completed document left the DCC: {early}")
    ctx.proof(
        1, "journal-avant-validation.json", journal([{"transmissions": _transmissions(ctx, frcp, pps)}])
    )
    ctx.proof(2, "releve-avant-validation.html", _receipts(ctx, "Réceptions avant validation"))
    ctx.dcc.set_status(frcp, "valide")
    ctx.dcc.set_status(pps, "valide")
    _deliver(ctx)
    ctx.check(bool(_mails(ctx, PATIENT_BOX, pps)), "the validated PPS did not reach the patient")
    ctx.proof(
        1, "journal-apres-validation.json", journal([{"transmissions": _transmissions(ctx, frcp, pps)}])
    )


@scenario("INS.08.01", needs=NEEDS)
def no_matricule_when_not_qualified(ctx: ScenarioContext) -> None:
    """An FRCP of a récupérée identity goes to its professional without the INS, in the mail and in the CDA."""
    frcp = _frcp(ctx, _patient(ctx, "recuperee"), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], frcp)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s), 1 expected")
    raw = _artifact(ctx, mails[0], ".eml")
    ctx.check(INS[0].encode() not in raw, "the mail carries the matricule")
    cdas = _cdas(ctx, mails[0])
    ctx.check(bool(cdas) and not any(INS[0].encode() in c for c in cdas.values()), "the CDA carries the INS")
    _keep_mails(ctx, 1, mails)
    for name, content in cdas.items():
        ctx.proof(2, name.rpartition("/")[2], content)


@scenario("ANN.03.01", needs=NEEDS)
def directory_address(ctx: ScenarioContext) -> None:
    """A professional of the Annuaire Santé is the recipient of a PPS: the mail goes to the directory's address."""
    pps = _pps(ctx, _frcp(ctx, _patient(ctx)), (PRO_A,))
    _deliver(ctx)
    mails = _mails(ctx, PRO_A["mss"], pps)
    ctx.check(len(mails) == 1, f"{len(mails)} mail(s) to {PRO_A['mss']}, 1 expected")
    _keep_mails(ctx, 1, mails)
