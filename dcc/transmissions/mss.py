"""MSSanté client (2.3.5, NATIONAL-SERVICES §3): one RFC 5322 mail per document and recipient, the IHE_XDM.zip
attached, subject ``XDM/1.0/DDM+<libellé> <NOM> <prénom> <JJ/MM/AAAA>``, ``X-MSS-*`` headers, a processing
acknowledgement asked (``Disposition-Notification-To``) and delivery notifications asked (``NOTIFY=``) so the
DSN and MDN come back to this DCC's BAL applicative (``acks.py``).

One patient per message (MSS/CDA.02). The matricule travels (``X-MSS-INS``, XDM patientId) only when the
identity is qualifiée at the time of sending; otherwise the patient is named by his traits and a local id.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate

from dcc import faults, settings
from dcc.db.models import Document, Patient, Transmission
from dcc.transmissions import routing
from dcc.transmissions.config import TransmissionConfig
from dcc.transmissions.errors import DeliveryError
from dcc.transmissions.packaging import LABELS, TYPE_CODES, PackagedFile
from dcc.transmissions.xdm import build_xdm

FAULT_MATRICULE = faults.register(
    "matricule_in_non_qualified_message",
    "the INS matricule travels in X-MSS-INS and the XDM metadata although the identity is not qualifiée",
    breaks=["INS.08"],  # TRANS.03.01 is a provisoire identity: no matricule to leak
)
FAULT_NO_MDN = faults.register(
    "no_processing_ack_requested",
    "MSS messages are sent without Disposition-Notification-To (no processing acknowledgement asked)",
    breaks=["MSS/PRO.02"],
)

FAULT_NO_FIN = faults.register(
    "patient_message_without_fin",
    "the message to the patient's MSS citoyenne mailbox lacks X-MSS-MES: FIN (the patient seems able to answer)",
    breaks=["MSS/CIT.02"],
)
FAULT_SUBJECT = faults.register(
    "subject_without_birth_date",
    "the subject names the document and the patient but not the birth date",
    breaks=["MSS/CDA.03"],
)
FAULT_NO_CODECDA = faults.register(
    "no_x_mss_codecda",
    "MSS messages are sent without X-MSS-CODECDA (the type of the document)",
    breaks=["MSS/CDA.04"],
)
FAULT_NO_XDM = faults.register(
    "professional_mail_without_xdm",
    "mails to professionals carry the CDA and the PDF as loose attachments, without the IHE_XDM.zip",
    # Without the archive the receiver cannot tell which document the mail carries (its ids are in the CDA of the
    # IHE_XDM.zip) nor integrate it: every scenario that follows a document to a professional finds no mail of it
    # (PRO.01: no professional received the document; TRANS.01/03/05/06, DOC.04, ANN.03, INS.08, PDC.02 and the
    # other MSS/CDA ones check that mail). Shown by the fault proof, each one.
    breaks=[
        "MSS/CDA.01",
        "MSS/PRO.01",
        "MSS/CDA.02",
        "MSS/CDA.03",
        "MSS/CDA.04",
        "MSS/CDA.05",
        "MSS/PDC.02",
        "TRANS.01",
        "TRANS.03",
        "TRANS.05",
        "TRANS.06",
        "DOC.04",
        "ANN.03",
        "INS.08",
    ],
)


def subject(document: Document, patient: Patient) -> str:
    year, month, day = patient.date_naissance.split("-")
    first = (patient.prenoms.split() or [""])[0]
    named = f"XDM/1.0/DDM+{LABELS[document.kind]} {patient.nom_naissance.upper()} {first}"
    return named if faults.active(FAULT_SUBJECT.name) else f"{named} {day}/{month}/{year}"


def patient_identifier(patient: Patient, qualified: bool) -> str:
    """XDS patientId: the INS with its OID when qualifiée, else the DCC's local patient id (traits only)."""
    if qualified and patient.ins_matricule and patient.ins_oid:
        return f"{patient.ins_matricule}^^^&{patient.ins_oid}&ISO"
    return f"{patient.id}^^^&{settings.dcc_oid()}.2&ISO"


def build_message(
    job: Transmission,
    document: Document,
    patient: Patient,
    files: list[PackagedFile],
    config: TransmissionConfig,
) -> EmailMessage:
    qualified = patient.identity_status == routing.QUALIFIEE and bool(patient.ins_matricule)
    leak = faults.active(FAULT_MATRICULE.name) and bool(patient.ins_matricule)
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = job.recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = job.external_id or ""
    message["Subject"] = subject(document, patient)
    if not faults.active(FAULT_NO_MDN.name):
        message["Disposition-Notification-To"] = config.sender
    if qualified or leak:
        message["X-MSS-INS"] = patient.ins_matricule or ""
    if not faults.active(FAULT_NO_CODECDA.name):
        message["X-MSS-CODECDA"] = TYPE_CODES[document.kind]
    if job.channel == routing.MSS_CITOYENNE and not faults.active(FAULT_NO_FIN.name):
        message["X-MSS-MES"] = "FIN"  # the patient cannot answer (NATIONAL-SERVICES §3)
    message.set_content(
        f"{LABELS[document.kind]} transmis par le DCC (plateforme régionale de cancérologie).\r\n"
        "Les documents sont dans la pièce jointe IHE_XDM.zip.\r\n"
    )
    if job.channel == routing.MSS_PRO and faults.active(FAULT_NO_XDM.name):
        for item in files:  # loose files: the receiving software finds no IHE_XDM.zip to integrate
            maintype, _, subtype = item.mime.partition("/")
            message.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
        return message
    unique_id = (job.external_id or "").strip("<>").partition("@")[0]
    xdm = build_xdm(
        files,
        document.kind,
        patient_identifier(patient, qualified or leak),
        f"{settings.dcc_oid()}.3.{unique_id}",
    )
    message.add_attachment(xdm, maintype="application", subtype="zip", filename="IHE_XDM.zip")
    return message


def send(message: EmailMessage, recipient: str, config: TransmissionConfig) -> str:
    """One SMTP transaction; returns the server's reply. Failures raise :class:`DeliveryError` (4xx and network
    errors are transient, 5xx permanent; a network error after connecting is ``in_doubt``)."""
    if config.mss_smtp is None:
        raise DeliveryError("no MSSanté SMTP configured (DCC_MSS_SMTP)", transient=True)
    host, port = config.mss_smtp
    raw = message.as_bytes(policy=SMTP_POLICY)
    connected = False  # before that, the operator cannot have the mail: a failure there is not in doubt
    try:
        with smtplib.SMTP(host, port, timeout=config.smtp_timeout_s) as client:
            connected = True
            client.ehlo()
            dsn = client.has_extn("dsn")
            refused = client.sendmail(
                config.sender,
                [recipient],
                raw,
                mail_options=["RET=HDRS"] if dsn else [],
                rcpt_options=["NOTIFY=SUCCESS,FAILURE,DELAY"] if dsn else [],
            )
            if refused:
                code, text = next(iter(refused.values()))
                raise DeliveryError(f"{recipient}: {code} {text!r}", transient=400 <= code < 500)
            return "250"
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()))
        raise DeliveryError(
            f"RCPT {recipient}: {code} {text.decode(errors='replace')}", 400 <= code < 500
        ) from None
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        transient = not (500 <= error.smtp_code < 600)
        raise DeliveryError(f"SMTP {error.smtp_code} {text}", transient=transient) from None
    except (TimeoutError, smtplib.SMTPException, OSError) as error:
        # a timeout or a dropped connection once connected: the operator may have taken the mail before it went
        # silent, so the worker looks for its acknowledgement before sending again (TRANS.04)
        raise DeliveryError(
            f"SMTP {type(error).__name__}: {error}", transient=True, in_doubt=connected
        ) from None
