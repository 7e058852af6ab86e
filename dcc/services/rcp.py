"""Annuaire régional de RCP and the organisation of RCP (cahier des charges 2.1.5.3; Cadre national DCC/DMP
5.2–5.5): the RCP directory loaded from the national referential, sessions planned by the 3C, patients' files
registered by their treating doctor, the final list closed by the 3C (the registering doctor is told) and the
quorum of the meeting. :func:`frcp_context` gives the FRCP header what it must carry about the RCP (RCP.01,
RCP.04: encompassingEncounter ids, date, place, quorum and its members).

The national referential file layout (``;``-separated UTF-8 CSV, header row) is in docs/resources.md.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, identifiers
from dcc.db.models import Document, Patient
from dcc.db.models_resources import PsContact, Rcp, RcpNotification, RcpRegistration, RcpSession

RRC_ROOT = "1.2.250.1.161.1.20.1.1"  # identifiant national du RRC (réseau régional de cancérologie)
MANAGER_ROOT = "1.2.250.1.161.1.20.2.1"  # identifiant national du gestionnaire de la RCP
RCP_ROOT = "1.2.250.1.161.1.20.3.1"  # identifiant national de la RCP
SESSION_ROOT = "1.2.250.1.213.1.1.9"  # identifiant de la session de la RCP
QUORUM_REACHED, QUORUM_NOT_REACHED, QUORUM_UNKNOWN = "ORG-126", "ORG-133", "GEN-010"  # JDV_StatutQuorum-CISIS
QUORUM_LABELS = {
    QUORUM_REACHED: "Quorum atteint",
    QUORUM_NOT_REACHED: "Quorum non atteint",
    QUORUM_UNKNOWN: "Ne sait pas",
}
ROLES = ("responsable", "suppleant", "membre")
REFERENTIAL_COLUMNS = (
    "identifiant_rcp",
    "libelle",
    "identifiant_rrc",
    "identifiant_gestionnaire",
    "organisateur",
    "finess_organisateur",
    "centre_3c",
    "specialite",
    "quorum_specialites",
)
REFERENTIAL_REQUIRED = ("identifiant_rcp", "libelle", "organisateur", "centre_3c", "specialite")
CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

faults.register(
    "rcp_session_without_deputy",
    "a RCP session can be planned with no deputy (suppléant) for its responsible",
    breaks=["RCP.02"],
)
faults.register(
    "rcp_registration_not_notified",
    "closing the final list does not tell the doctors who registered the files",
    breaks=["RCP.03"],
)
faults.register(
    "quorum_not_recorded",
    "the quorum is announced but not stored with the session: the FRCP carries none",
    breaks=["RCP.04"],
)
faults.register(
    "frcp_without_rcp_ids",
    "the FRCP context gives the RCP manager's identifier in place of the national identifier of the RCP the file "
    "was registered to",
    breaks=["RCP.01"],
)


class RcpError(ValueError):
    """A refused RCP operation; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """Dates are stored in UTC; SQLite gives them back without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def rcp_identifier(rcp: Rcp) -> str:
    """``root^extension`` of the RCP's national identifier, as in the FRCP header and the events."""
    return f"{RCP_ROOT}^{rcp.code}"


def _rcp_snapshot(rcp: Rcp) -> dict[str, Any]:
    return {
        "code": rcp.code,
        "name": rcp.name,
        "rrc_id": rcp.rrc_id,
        "manager_id": rcp.manager_id,
        "organiser": rcp.organiser,
        "organiser_finess": rcp.organiser_finess,
        "centre_3c": rcp.centre_3c,
        "specialty": rcp.specialty,
        "quorum_specialties": rcp.quorum_specialties,
    }


# --- the RCP directory ---------------------------------------------------------------------------------------------


def _validated(values: dict[str, str], where: str) -> dict[str, Any]:
    missing = [c for c in REFERENTIAL_REQUIRED if not values.get(c)]
    if missing:
        raise RcpError("missing_field", f"{where}: empty {', '.join(missing)}")
    if not CODE.match(values["identifiant_rcp"]):
        raise RcpError(
            "invalid_code",
            f"{where}: identifiant_rcp {values['identifiant_rcp']!r} is not 1–40 letters, digits, . _ -",
        )
    finess = values.get("finess_organisateur") or None
    if finess and not re.match(r"^[0-9A-Za-z]{9}$", finess):
        raise RcpError("invalid_finess", f"{where}: finess_organisateur {finess!r} is not 9 characters")
    quorum = values.get("quorum_specialites") or "3"
    if not quorum.isdigit() or not 1 <= int(quorum) <= 20:
        raise RcpError(
            "invalid_quorum", f"{where}: quorum_specialites {quorum!r} is not a number from 1 to 20"
        )
    for column, limit in (
        ("libelle", 200),
        ("organisateur", 200),
        ("centre_3c", 200),
        ("specialite", 100),
        ("identifiant_rrc", 40),
        ("identifiant_gestionnaire", 40),
    ):
        if len(values.get(column) or "") > limit:
            raise RcpError("too_long", f"{where}: {column} longer than {limit} characters")
    return {
        "code": values["identifiant_rcp"],
        "name": values["libelle"],
        "rrc_id": values.get("identifiant_rrc") or None,
        "manager_id": values.get("identifiant_gestionnaire") or None,
        "organiser": values["organisateur"],
        "organiser_finess": finess,
        "centre_3c": values["centre_3c"],
        "specialty": values["specialite"],
        "quorum_specialties": int(quorum),
    }


def save_rcp(session: Session, author: str, **fields: Any) -> tuple[Rcp, str]:
    """Creates or updates a RCP by its national code; returns it and ``created``, ``updated`` or ``unchanged``."""
    rcp = session.scalar(select(Rcp).where(Rcp.code == fields["code"]))
    before = _rcp_snapshot(rcp) if rcp is not None else None
    if rcp is None:
        rcp = Rcp(active=True, updated_at=_now(), **fields)
        session.add(rcp)
        outcome = "created"
    else:
        for key, value in fields.items():
            setattr(rcp, key, value)
        outcome = "unchanged" if _rcp_snapshot(rcp) == before else "updated"
        rcp.active = True
    if outcome != "unchanged":
        rcp.updated_at = _now()
        session.flush()
        events.emit(
            session, "rcp.directory_changed", rcp_id=rcp_identifier(rcp), change=outcome, author=author
        )
        audit.record(
            session, author, f"rcp.{outcome}", "rcp", rcp_identifier(rcp), before, _rcp_snapshot(rcp)
        )
    return rcp, outcome


def create_rcp(session: Session, author: str, **values: str) -> Rcp:
    """One RCP entered by hand (the referential lacks it); ``values`` use the referential's column names."""
    fields = _validated({k: (v or "").strip() for k, v in values.items() if v is not None}, "RCP")
    return save_rcp(session, author, **fields)[0]


@dataclass
class ReferentialReport:
    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)


def load_referential(session: Session, lines: Iterable[bytes], file: str, author: str) -> ReferentialReport:
    """Loads the national RCP referential (docs/resources.md): each valid line creates or updates its RCP, each bad
    line is reported with its number; a bad header refuses the whole file before anything is written."""
    iterator = iter(lines)
    header = next(iterator, b"")
    try:
        names = [
            n.strip() for n in next(csv.reader([header.decode("utf-8").lstrip("\ufeff")], delimiter=";"))
        ]
    except (UnicodeDecodeError, StopIteration):
        raise RcpError("bad_header", f"{file}:1: no UTF-8 header line") from None
    missing = [c for c in REFERENTIAL_REQUIRED if c not in names]
    if missing:
        raise RcpError("bad_header", f"{file}:1: missing column(s) {', '.join(missing)}")
    report = ReferentialReport(file)
    for number, raw in enumerate(iterator, start=2):
        if not raw.strip():
            continue
        try:
            row = next(csv.reader([raw.decode("utf-8").rstrip("\r\n")], delimiter=";"))
            if len(row) != len(names):
                raise RcpError(
                    "field_count", f"{file}:{number}: {len(row)} fields, the header has {len(names)}"
                )
            fields = _validated({n: v.strip() for n, v in zip(names, row, strict=True)}, f"{file}:{number}")
        except UnicodeDecodeError as error:
            report.rejects.append({"line": number, "reason": f"not UTF-8 ({error.reason})"})
            continue
        except RcpError as error:
            report.rejects.append({"line": number, "reason": str(error).split(": ", 1)[-1]})
            continue
        outcome = save_rcp(session, author, **fields)[1]
        setattr(report, outcome, getattr(report, outcome) + 1)
    events.emit(
        session,
        "rcp.referential_loaded",
        file=file,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=len(report.rejects),
        rejects=report.rejects[:100],
    )
    return report


def get_rcp(session: Session, code: str) -> Rcp:
    rcp = session.scalar(select(Rcp).where(Rcp.code == code))
    if rcp is None:
        raise RcpError("unknown_rcp", f"no RCP {code!r} in the directory")
    return rcp


def list_rcps(session: Session, specialty: str | None = None) -> list[Rcp]:
    statement = select(Rcp).where(Rcp.active.is_(True)).order_by(Rcp.name)
    if specialty:
        statement = statement.where(Rcp.specialty == specialty)
    return list(session.scalars(statement))


# --- sessions --------------------------------------------------------------------------------------------------


def _participants(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, seen = [], set()
    for n, item in enumerate(items):
        pid, name = str(item.get("id") or "").strip(), str(item.get("name") or "").strip()
        role = str(item.get("role") or "membre")
        if not pid or not name:
            raise RcpError("invalid_participant", f"participants[{n}]: needs an id and a name")
        if role not in ROLES:
            raise RcpError(
                "invalid_participant", f"participants[{n}].role: {role!r} is not one of {', '.join(ROLES)}"
            )
        if pid in seen:
            raise RcpError("invalid_participant", f"participants[{n}]: {pid} is listed twice")
        seen.add(pid)
        out.append(
            {
                "id": pid,
                "name": name,
                "specialty": str(item.get("specialty") or "").strip() or None,
                "role": role,
            }
        )
    return out


def plan_session(
    session: Session,
    rcp: Rcp,
    title: str,
    date: datetime,
    place: str,
    participants: list[dict[str, Any]],
    author: str,
    visio: bool = False,
    visio_url: str | None = None,
) -> RcpSession:
    """A session of a RCP (5.2): title, date, place, visio, expected participants with exactly one responsible and
    one deputy (RCP.02)."""
    title, place = (title or "").strip(), (place or "").strip()
    if not title or not place:
        raise RcpError("missing_field", "a session needs a title and a place")
    if date.tzinfo is None:
        raise RcpError("naive_date", "the session date needs its time zone")
    date = date.astimezone(UTC)
    people = _participants(participants)
    if not people:
        raise RcpError("no_participant", "a session needs its expected participants")
    responsible = [p for p in people if p["role"] == "responsable"]
    deputy = [p for p in people if p["role"] == "suppleant"]
    if len(responsible) != 1:
        raise RcpError("responsible_required", f"exactly one responsable, not {len(responsible)}")
    if len(deputy) != 1 and not (faults.active("rcp_session_without_deputy") and not deputy):
        raise RcpError("deputy_required", f"exactly one suppléant, not {len(deputy)}")
    if visio and visio_url is not None and not visio_url.startswith("https://"):
        raise RcpError("invalid_visio", "the visio link must be an https URL")
    planned = RcpSession(
        rcp_id=rcp.id,
        title=title,
        date=date,
        place=place,
        visio=visio,
        visio_url=visio_url if visio else None,
        participants=people,
        planned_by=author,
    )
    session.add(planned)
    session.flush()
    data: dict[str, Any] = {
        "session_id": str(planned.id),
        "rcp_id": rcp_identifier(rcp),
        "title": title,
        "date": date.isoformat(),
        "place": place,
        "visio": visio,
        "responsible": responsible[0]["id"],
        "expected_participants": len(people),
        "participants": [p["id"] for p in people],
        "author": author,
    }
    if deputy:
        data["deputy"] = deputy[0]["id"]
    events.emit(session, "rcp.session_planned", **data)
    audit.record(
        session,
        author,
        "rcp.session_planned",
        "rcp_session",
        str(planned.id),
        None,
        {"rcp": rcp.code, "title": title, "date": date.isoformat(), "place": place, "participants": people},
    )
    return planned


def get_session(session: Session, session_id: int) -> RcpSession:
    found = session.get(RcpSession, session_id)
    if found is None:
        raise RcpError("unknown_session", f"no RCP session {session_id}")
    return found


def calendar(
    session: Session, rcp: Rcp | None = None, start: datetime | None = None, end: datetime | None = None
) -> list[RcpSession]:
    """The planned sessions, in date order (the calendar of RCP.02)."""
    statement = select(RcpSession).order_by(RcpSession.date, RcpSession.id)
    if rcp is not None:
        statement = statement.where(RcpSession.rcp_id == rcp.id)
    if start is not None:
        statement = statement.where(RcpSession.date >= start.astimezone(UTC))
    if end is not None:
        statement = statement.where(RcpSession.date < end.astimezone(UTC))
    return list(session.scalars(statement))


# --- registration, final list, quorum ----------------------------------------------------------------------------


def _doctor_mss(session: Session, doctor: str) -> str | None:
    """The doctor's MSSanté address from the PS directory (the Annuaire Santé's, ANN.03), by IdNat or RPPS."""
    return session.scalar(
        select(PsContact.mss_address)
        .where((PsContact.idnat == doctor) | (PsContact.rpps == doctor), PsContact.active.is_(True))
        .order_by(PsContact.id)
        .limit(1)
    )


def register(
    session: Session,
    rcp_session: RcpSession,
    patient: Patient,
    doctor: str,
    registered_by: str | None = None,
    document: Document | None = None,
    motive: str | None = None,
) -> RcpRegistration:
    """The treating doctor (or the 3C on their request, ``registered_by``) puts a patient's file on a session
    (5.4)."""
    if rcp_session.final_list_closed_at is not None:
        raise RcpError("final_list_closed", f"session {rcp_session.id}: the final list is already closed")
    if not doctor:
        raise RcpError("no_doctor", "a registration names the treating doctor")
    if document is not None and (document.kind != "FRCP" or document.patient_id != patient.id):
        raise RcpError(
            "not_the_patients_frcp", f"document {document.id} is not an FRCP of patient {patient.id}"
        )
    taken = session.scalar(
        select(RcpRegistration.id).where(
            RcpRegistration.session_id == rcp_session.id, RcpRegistration.patient_id == patient.id
        )
    )
    if taken is not None:
        raise RcpError("already_registered", f"patient {patient.id} is already on session {rcp_session.id}")
    rcp = session.get(Rcp, rcp_session.rcp_id)
    registration = RcpRegistration(
        session_id=rcp_session.id,
        patient_id=patient.id,
        document_id=document.id if document is not None else None,
        doctor=doctor,
        doctor_mss=_doctor_mss(session, doctor),
        motive=motive,
        registered_by=registered_by or doctor,
        registered_at=_now(),
    )
    session.add(registration)
    session.flush()
    extra = {"document_id": identifiers.document_id(document)} if document is not None else {}
    events.emit(
        session,
        "rcp.registration",
        registration_id=str(registration.id),
        session_id=str(rcp_session.id),
        rcp_id=rcp_identifier(rcp),
        patient_id=str(patient.id),
        doctor=doctor,
        registered_by=registration.registered_by,
        **extra,
    )
    audit.record(
        session,
        registration.registered_by,
        "rcp.registration",
        "rcp_session",
        str(rcp_session.id),
        None,
        {"registration_id": registration.id, "patient_id": patient.id, "doctor": doctor},
    )
    return registration


def registrations(session: Session, rcp_session: RcpSession) -> list[RcpRegistration]:
    return list(
        session.scalars(
            select(RcpRegistration)
            .where(RcpRegistration.session_id == rcp_session.id)
            .order_by(RcpRegistration.id)
        )
    )


def close_final_list(
    session: Session, rcp_session: RcpSession, by_3c: str, not_retained: Iterable[int] = ()
) -> list[RcpNotification]:
    """The 3C closes the final list of the session (5.4); each registering doctor is told whether their patient's
    file is on it (RCP.03). ``not_retained``: registration ids the 3C leaves out."""
    if rcp_session.final_list_closed_at is not None:
        raise RcpError("final_list_closed", f"session {rcp_session.id}: the final list is already closed")
    listed = registrations(session, rcp_session)
    left_out = set(not_retained)
    unknown = left_out - {r.id for r in listed}
    if unknown:
        raise RcpError(
            "unknown_registration", f"registration(s) {sorted(unknown)} are not on session {rcp_session.id}"
        )
    rcp = session.get(Rcp, rcp_session.rcp_id)
    rcp_session.final_list_closed_at, rcp_session.final_list_closed_by = _now(), by_3c
    for registration in listed:
        registration.retained = registration.id not in left_out
    session.flush()
    events.emit(
        session,
        "rcp.final_list_closed",
        session_id=str(rcp_session.id),
        rcp_id=rcp_identifier(rcp),
        closed_by=by_3c,
        retained=sum(1 for r in listed if r.retained),
        not_retained=len(left_out),
    )
    audit.record(
        session,
        by_3c,
        "rcp.final_list_closed",
        "rcp_session",
        str(rcp_session.id),
        None,
        {"retained": [r.id for r in listed if r.retained], "not_retained": sorted(left_out)},
    )
    if faults.active("rcp_registration_not_notified"):
        return []
    sent = []
    when = _aware(rcp_session.date).strftime("%d/%m/%Y %H:%M UTC")
    for registration in listed:
        verdict = "retenu" if registration.retained else "non retenu"
        notification = RcpNotification(
            session_id=rcp_session.id,
            registration_id=registration.id,
            recipient=registration.doctor,
            recipient_mss=registration.doctor_mss,
            reason="rcp_final_list",
            text=f"{rcp.name} — {rcp_session.title} du {when} : le dossier du patient {registration.patient_id} "
            f"est {verdict} sur la liste définitive.",
            at=_now(),
        )
        session.add(notification)
        session.flush()
        events.emit(
            session,
            "notification.sent",
            reason="rcp_final_list",
            session_id=str(rcp_session.id),
            registration_id=str(registration.id),
            patient_id=str(registration.patient_id),
            recipient=registration.doctor,
            recipient_mss=registration.doctor_mss,
            retained=registration.retained,
        )
        sent.append(notification)
    return sent


def record_quorum(
    session: Session, rcp_session: RcpSession, present: list[str], author: str, quorum: str | None = None
) -> str:
    """The participants present at the meeting and its quorum (RCP.04): reached when the present participants
    cover the RCP's number of specialties, unless the responsible states it (``quorum``, a JDV_StatutQuorum
    code)."""
    expected = {p["id"]: p for p in rcp_session.participants}
    unknown = [p for p in present if p not in expected]
    if unknown:
        raise RcpError(
            "unknown_participant", f"not expected at session {rcp_session.id}: {', '.join(unknown)}"
        )
    if quorum is not None and quorum not in QUORUM_LABELS:
        raise RcpError("invalid_quorum", f"quorum {quorum!r} is not one of {', '.join(QUORUM_LABELS)}")
    rcp = session.get(Rcp, rcp_session.rcp_id)
    specialties = sorted({expected[p]["specialty"] for p in present if expected[p]["specialty"]})
    if quorum is None:
        quorum = QUORUM_REACHED if len(specialties) >= rcp.quorum_specialties else QUORUM_NOT_REACHED
    before = {"present": rcp_session.present, "quorum": rcp_session.quorum}
    if not faults.active("quorum_not_recorded"):
        rcp_session.present, rcp_session.quorum, rcp_session.quorum_recorded_by = (
            list(present),
            quorum,
            author,
        )
    session.flush()
    events.emit(
        session,
        "rcp.quorum_recorded",
        session_id=str(rcp_session.id),
        rcp_id=rcp_identifier(rcp),
        quorum=quorum,
        present=len(present),
        specialties=specialties,
        author=author,
    )
    audit.record(
        session,
        author,
        "rcp.quorum_recorded",
        "rcp_session",
        str(rcp_session.id),
        before,
        {"present": list(present), "quorum": quorum},
    )
    return quorum


def frcp_context(
    session: Session, patient_id: int, document: Document | None = None
) -> dict[str, Any] | None:
    """What the FRCP header says about the RCP the file was registered to (encompassingEncounter ids, date,
    location, responsible, quorum and its members — RCP.01, RCP.04): the registration tied to ``document``, else
    the patient's latest. None when the patient was never registered."""
    statement = select(RcpRegistration).where(RcpRegistration.patient_id == patient_id)
    if document is not None:
        tied = session.scalar(statement.where(RcpRegistration.document_id == document.id))
        if tied is not None:
            statement = statement.where(RcpRegistration.id == tied.id)
    registration = session.scalar(statement.order_by(RcpRegistration.id.desc()).limit(1))
    if registration is None:
        return None
    planned = session.get(RcpSession, registration.session_id)
    rcp = session.get(Rcp, planned.rcp_id)
    people = {p["id"]: p for p in planned.participants}
    context: dict[str, Any] = {
        "rcp_name": rcp.name,
        "session_id": str(planned.id),
        "session_identifier": f"{SESSION_ROOT}^{planned.id}",
        "date": _aware(planned.date).isoformat(),
        "place": planned.place,
        "organiser": rcp.organiser,
        "organiser_finess": rcp.organiser_finess,
        "responsible": next((p for p in planned.participants if p["role"] == "responsable"), None),
        "quorum": planned.quorum,
        "quorum_label": QUORUM_LABELS.get(planned.quorum or ""),
        "quorum_members": [people[p] for p in planned.present or [] if p in people],
        "registration_id": str(registration.id),
        "doctor": registration.doctor,
    }
    context["rcp_id"] = rcp_identifier(rcp)
    context["rrc_id"] = f"{RRC_ROOT}^{rcp.rrc_id}" if rcp.rrc_id else None
    context["manager_id"] = f"{MANAGER_ROOT}^{rcp.manager_id}" if rcp.manager_id else None
    if faults.active("frcp_without_rcp_ids"):  # a header that still builds, naming the wrong structure
        context["rcp_id"] = f"{RCP_ROOT}^{rcp.manager_id or rcp.rrc_id or 'RCP'}"
    return context


def describe_session(session: Session, planned: RcpSession) -> dict[str, Any]:
    rcp = session.get(Rcp, planned.rcp_id)
    return {
        "session_id": planned.id,
        "rcp": rcp.code,
        "rcp_id": rcp_identifier(rcp),
        "title": planned.title,
        "date": _aware(planned.date).isoformat(),
        "place": planned.place,
        "visio": planned.visio,
        "visio_url": planned.visio_url,
        "participants": planned.participants,
        "final_list_closed": planned.final_list_closed_at is not None,
        "quorum": planned.quorum,
        "present": planned.present,
    }
