"""Annuaire de contact PS (cahier des charges 2.1.5.2): the professionals and their MSSanté addresses, integrated
from the Annuaire Santé extraction files and looked up in its FHIR API (ANN.01–ANN.04).

Import behaviour (docs/resources.md):

- the file is streamed line by line (a national extraction does not fit in memory) and applied in batches, each
  batch one transaction: a line is applied whole or not at all, a batch never half-written, and a batch already
  committed is never undone by a later bad line;
- a malformed line is rejected with its file line number and reason while the valid lines go in (ANN.01);
- a re-import updates the contact in place (``directory.contact_updated`` per changed field), deactivates the
  professionals no longer listed, and ends by looking for doubles (``directory.duplicate_detected``, ANN.04).

:func:`run_import` owns its transactions (one per batch, as the requirement asks) and therefore takes a session
*factory*; every other function takes the caller's ``Session``.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import IO, Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dcc import audit, events, faults
from dcc.db.models_resources import AnnuaireImport, AnnuaireReject, MssMailbox, PsContact
from dcc.services import annuaire_files as files
from dcc.services.annuaire_client import AnnuaireClient, AnnuaireError, FhirPractitioner

BATCH_SIZE = 1000
REPORTED_REJECTS = 100  # rejected lines listed in the finish event (all of them are in annuaire_reject)
IDENTITY_FIELDS = ("civilite", "family", "given", "profession_code", "profession_label", "savoir_faire")

faults.register(
    "import_aborts_on_bad_line",
    "the extraction import stops at the first malformed line, losing the valid lines of its batch and all after",
    breaks=["ANN.01"],
)
faults.register(
    "reimport_creates_duplicates",
    "a new extraction inserts the professionals again instead of updating them",
    breaks=["ANN.04"],
)
faults.register(
    "rpps_search_bypasses_fhir",
    "a search by RPPS answers from the local directory only, never asking the Annuaire Santé FHIR API",
    breaks=["ANN.02"],
)


class DirectoryError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class ImportReport:
    import_id: str
    file: str
    kind: str
    sequence: int
    status: str = "running"
    lines: int = 0
    imported: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    deactivated: int = 0
    duplicates: int = 0
    error: str | None = None
    rejects: list[files.LineError] = field(default_factory=list)  # the first REPORTED_REJECTS

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "rejects"}
        out["rejects"] = [{"line": r.line, "reason": r.reason} for r in self.rejects]
        return out


def fold(text: str) -> str:
    """Upper case without accents: how names are compared and searched."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper()


def _now() -> datetime:
    return datetime.now(UTC)


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# --- applying one batch (caller's transaction) -----------------------------------------------------------------


@dataclass
class _BatchResult:
    created: list[str] = field(default_factory=list)
    updated: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    def change(self, contact: PsContact, name: str, value: Any) -> None:
        """Sets the field; a value that *changes* (not a first fill of an empty field) is an update to report."""
        before = getattr(contact, name)
        if before != value:
            if before not in (None, ""):
                self.updated.setdefault(contact.idnat, {})[name] = [before, value]
            setattr(contact, name, value)


def _contacts(session: Session, idnats: set[str]) -> dict[str, PsContact]:
    found: dict[str, PsContact] = {}
    for contact in session.scalars(
        select(PsContact).where(PsContact.idnat.in_(idnats)).order_by(PsContact.id)
    ):
        found.setdefault(contact.idnat, contact)  # the oldest, should a double exist
    return found


def _new_contact(idnat: str, id_type: str, rpps: str, family: str, source: str) -> PsContact:
    return PsContact(
        id_type=id_type,
        rpps=rpps,
        idnat=idnat,
        family=family,
        family_folded=fold(family),
        activities=[],
        active=True,
        source=source,
        updated_at=_now(),
    )


def apply_people(session: Session, import_id: str, records: list[files.PersonLine]) -> _BatchResult:
    """Applies valid PS_LibreAcces lines: the first line of a professional in an import sets their identity and
    activities, the next ones add activities."""
    result = _BatchResult()
    known = _contacts(session, {r.idnat for r in records})
    duplicating = faults.active("reimport_creates_duplicates")
    for record in records:
        contact = known.get(record.idnat)
        if contact is None or (duplicating and contact.ps_import_id != import_id):
            contact = _new_contact(record.idnat, record.id_type, record.rpps, record.family, "extraction")
            for name in IDENTITY_FIELDS:
                setattr(contact, name, getattr(record, name))
            contact.activities = [record.activity] if record.activity else []
            contact.ps_import_id = import_id
            session.add(contact)
            known[record.idnat] = contact
            result.created.append(record.idnat)
        elif contact.ps_import_id != import_id:
            for name in IDENTITY_FIELDS:
                result.change(contact, name, getattr(record, name))
            result.change(contact, "active", True)
            contact.family_folded = fold(contact.family)
            contact.activities = [record.activity] if record.activity else []
            contact.ps_import_id = import_id
            contact.updated_at = _now()
        elif record.activity and record.activity not in contact.activities:
            contact.activities = [*contact.activities, record.activity]
    session.flush()
    return result


def apply_mailboxes(session: Session, import_id: str, records: list[files.MailboxLine]) -> _BatchResult:
    """Applies valid MSSanté lines: the mailbox is stored, and a professional's personal (PER, else CAB) mailbox
    becomes their contact address — the address documents are sent to (ANN.03)."""
    result = _BatchResult()
    boxes = {
        b.address: b
        for b in session.scalars(
            select(MssMailbox).where(MssMailbox.address.in_({r.address for r in records}))
        )
    }
    known = _contacts(session, {r.idnat_pp for r in records if r.idnat_pp})
    for record in records:
        box = boxes.get(record.address)
        if box is None:
            box = MssMailbox(address=record.address)
            session.add(box)
            boxes[record.address] = box
        box.type, box.idnat_pp, box.structure_id = record.type, record.idnat_pp, record.structure_id
        box.service, box.import_id = record.service, import_id
        if record.idnat_pp is None or record.type not in ("PER", "CAB"):
            continue
        contact = known.get(record.idnat_pp)
        if contact is None:  # listed with a mailbox but not (yet) in PS_LibreAcces: known by the mailbox line
            contact = _new_contact(
                record.idnat_pp,
                record.id_type or record.idnat_pp[0],
                record.rpps or record.idnat_pp[1:],
                record.family or "",
                "mssante",
            )
            contact.civilite, contact.given = record.civilite, record.given
            contact.profession_code = record.profession_code
            session.add(contact)
            known[record.idnat_pp] = contact
            result.created.append(record.idnat_pp)
        if contact.mss_import_id != import_id:
            result.change(contact, "mss_address", record.address)
            contact.mss_import_id = import_id
        elif record.type == "PER" and contact.mss_address != record.address:
            current = boxes.get(contact.mss_address or "") or session.scalar(
                select(MssMailbox).where(MssMailbox.address == contact.mss_address)
            )
            if current is None or current.type != "PER":
                result.change(contact, "mss_address", record.address)
    session.flush()
    return result


# --- the import (owns one transaction per batch) ---------------------------------------------------------------


def _record_batch(
    session: Session,
    report: ImportReport,
    author: str,
    applied: _BatchResult,
    count: int,
    rejects: list[files.LineError],
) -> None:
    row = session.scalar(select(AnnuaireImport).where(AnnuaireImport.import_id == report.import_id))
    for reject in rejects:
        session.add(AnnuaireReject(import_id=report.import_id, line=reject.line, reason=reject.reason))
    row.lines += count + len(rejects)
    row.imported += count
    row.rejected += len(rejects)
    row.created += len(applied.created)
    row.updated += len(applied.updated)
    for idnat, changes in applied.updated.items():
        for name, (before, after) in changes.items():
            events.emit(
                session,
                "directory.contact_updated",
                import_id=report.import_id,
                idnat=idnat,
                field=name,
                before=before,
                after=after,
            )
    audit.record(
        session,
        author,
        "directory.batch_imported",
        "annuaire_import",
        report.import_id,
        None,
        {
            "created": applied.created,
            "updated": applied.updated,
            "rejected": [[r.line, r.reason] for r in rejects],
        },
    )
    session.flush()


def _apply(session: Session, kind: str, import_id: str, records: list[Any]) -> _BatchResult:
    apply = apply_people if kind == files.PERSONNE_ACTIVITE else apply_mailboxes
    return apply(session, import_id, records)


def _apply_batch(
    factory: sessionmaker[Session],
    report: ImportReport,
    author: str,
    records: list[Any],
    rejects: list[files.LineError],
) -> None:
    """One transaction for the batch; should the database refuse it, each line is retried in its own savepoint
    so that the refused line alone is rejected (with the database's reason)."""
    try:
        with factory.begin() as session:
            applied = _apply(session, report.kind, report.import_id, records)
            _record_batch(session, report, author, applied, len(records), rejects)
    except SQLAlchemyError:
        applied, kept = _BatchResult(), []
        with factory.begin() as session:
            for record in records:
                try:
                    with session.begin_nested():
                        one = _apply(session, report.kind, report.import_id, [record])
                except SQLAlchemyError as error:
                    reason = str(error.orig if getattr(error, "orig", None) else error).splitlines()[0]
                    rejects = [*rejects, files.LineError(record.line, f"refused by the database: {reason}")]
                    continue
                kept.append(record)
                applied.created.extend(one.created)
                applied.updated.update(one.updated)
            rejects.sort(key=lambda r: r.line)
            _record_batch(session, report, author, applied, len(kept), rejects)
        records = kept
    report.lines += len(records) + len(rejects)
    report.imported += len(records)
    report.created += len(applied.created)
    report.updated += len(applied.updated)
    report.rejected += len(rejects)
    report.rejects.extend(rejects[: max(0, REPORTED_REJECTS - len(report.rejects))])


def _start(
    factory: sessionmaker[Session], file: str, kind: str, author: str, expected_rejected: int | None
) -> ImportReport:
    with factory.begin() as session:
        previous = session.scalar(
            select(func.count())
            .select_from(AnnuaireImport)
            .where(AnnuaireImport.kind == kind, AnnuaireImport.status == "finished")
        )
        report = ImportReport(str(uuid.uuid4()), file, kind, previous + 1)
        session.add(
            AnnuaireImport(
                import_id=report.import_id,
                kind=kind,
                file=file,
                sequence=report.sequence,
                status="running",
                lines=0,
                imported=0,
                created=0,
                updated=0,
                rejected=0,
                started_by=author,
                started_at=_now(),
            )
        )
        session.flush()
        events.emit(
            session,
            "annuaire.import_started",
            import_id=report.import_id,
            file=file,
            kind=kind,
            sequence=report.sequence,
            expected_rejected=expected_rejected,
            author=author,
        )
        audit.record(
            session,
            author,
            "annuaire.import_started",
            "annuaire_import",
            report.import_id,
            None,
            {"file": file, "kind": kind, "sequence": report.sequence},
        )
    return report


def _retire_missing(session: Session, report: ImportReport) -> None:
    """A complete extraction lists everybody: who is no longer listed is deactivated (PS) or loses the address
    (MSSanté) — never deleted, documents may name them."""
    if report.kind == files.PERSONNE_ACTIVITE:
        gone = select(PsContact).where(
            PsContact.ps_import_id.is_not(None),
            PsContact.ps_import_id != report.import_id,
            PsContact.active.is_(True),
        )
        name, value = "active", False
    else:
        for box in session.scalars(select(MssMailbox).where(MssMailbox.import_id != report.import_id)):
            session.delete(box)
        gone = select(PsContact).where(
            PsContact.mss_address.is_not(None),
            or_(PsContact.mss_import_id.is_(None), PsContact.mss_import_id != report.import_id),
        )
        name, value = "mss_address", None
    for contact in session.scalars(gone):
        events.emit(
            session,
            "directory.contact_updated",
            import_id=report.import_id,
            idnat=contact.idnat,
            field=name,
            before=getattr(contact, name),
            after=value,
        )
        setattr(contact, name, value)
        contact.updated_at = _now()
        report.deactivated += 1


def find_duplicates(session: Session) -> list[tuple[str, int]]:
    """IdNat held by more than one contact."""
    return [
        (idnat, count)
        for idnat, count in session.execute(
            select(PsContact.idnat, func.count()).group_by(PsContact.idnat).having(func.count() > 1)
        )
    ]


def _finish(factory: sessionmaker[Session], report: ImportReport, author: str) -> None:
    with factory.begin() as session:
        if report.status == "finished":
            _retire_missing(session, report)
        for idnat, count in find_duplicates(session):
            report.duplicates += 1
            events.emit(
                session, "directory.duplicate_detected", import_id=report.import_id, idnat=idnat, count=count
            )
        row = session.scalar(select(AnnuaireImport).where(AnnuaireImport.import_id == report.import_id))
        row.status, row.error, row.finished_at = report.status, report.error, _now()
        events.emit(session, "annuaire.import_finished", **report.as_dict())
        audit.record(
            session,
            author,
            "annuaire.import_finished",
            "annuaire_import",
            report.import_id,
            None,
            {k: v for k, v in report.as_dict().items() if k != "rejects"},
        )


def run_import(
    factory: sessionmaker[Session],
    stream: IO[bytes] | Iterable[bytes],
    file: str,
    author: str,
    expected_rejected: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Integrates one extraction file (PS_LibreAcces_Personne_activite or Extraction_Correspondance_MSSante,
    recognised by its header). ``expected_rejected``: how many malformed lines the caller planted (the recette's
    test driver); it is only reported in ``annuaire.import_started``, for ANN.01 to compare.

    Raises :class:`~dcc.services.annuaire_files.ExtractionError` before writing anything when the header is not
    usable."""
    lines = iter(stream)
    header = next(lines, b"")
    shape = files.layout(header, file)
    report = _start(factory, file, shape.kind, author, expected_rejected)
    aborting = faults.active("import_aborts_on_bad_line")
    try:
        for batch in _batches(files.parsed_lines(lines, shape), batch_size):
            records = [r for r in batch if not isinstance(r, files.LineError)]
            rejects = [r for r in batch if isinstance(r, files.LineError)]
            if rejects and aborting:
                report.status = "aborted"
                report.error = f"{file}:{rejects[0].line}: {rejects[0].reason}"
                break
            _apply_batch(factory, report, author, records, rejects)
        else:
            report.status = "finished"
    except (
        Exception
    ) as error:  # the stream or the database failed: what is committed stays, the import says so
        report.status, report.error = "aborted", f"{file}: {type(error).__name__}: {error}"
        _finish(factory, report, author)
        raise
    _finish(factory, report, author)
    return report


# --- search ------------------------------------------------------------------------------------------------------


def contact_by_idnat(session: Session, idnat: str) -> PsContact | None:
    return session.scalar(select(PsContact).where(PsContact.idnat == idnat).order_by(PsContact.id).limit(1))


def search(
    session: Session,
    user: str,
    name: str | None = None,
    mss: str | None = None,
    limit: int = 50,
) -> list[PsContact]:
    """Local directory search by name (start of the family name, accents ignored) or MSSanté address. A search
    by RPPS is :func:`lookup_rpps`: it must ask the Annuaire Santé (ANN.02)."""
    statement = select(PsContact).where(PsContact.active.is_(True))
    criteria = []
    if name:
        criteria.append("name")
        statement = statement.where(PsContact.family_folded.like(fold(name.strip()) + "%"))
    if mss:
        criteria.append("mss")
        statement = statement.where(PsContact.mss_address == mss.strip().lower())
    if not criteria:
        raise DirectoryError("no_criteria", "search by name or mss (by RPPS: lookup_rpps)")
    found = list(session.scalars(statement.order_by(PsContact.family_folded, PsContact.given).limit(limit)))
    events.emit(
        session,
        "directory.search_requested",
        by=",".join(criteria),
        user=user,
        source="local",
        count=len(found),
    )
    return found


def _merge_fhir(session: Session, found: FhirPractitioner) -> PsContact:
    contact = contact_by_idnat(session, found.idnat)
    if contact is None:
        id_type = found.idnat[0]
        contact = _new_contact(found.idnat, id_type, found.rpps or found.idnat[1:], found.family, "fhir")
        session.add(contact)
    changes = _BatchResult()
    for name in ("civilite", "family", "given", "profession_code"):
        changes.change(contact, name, getattr(found, name))
    contact.family_folded = fold(contact.family)
    if found.activities:
        contact.activities = [dict(a) for a in found.activities]
    personal = [a for a, t in found.mailboxes if t == "PER"] or [a for a, t in found.mailboxes if t == "CAB"]
    if personal and contact.mss_address not in personal:
        changes.change(contact, "mss_address", personal[0])
    session.flush()
    for name, (before, after) in changes.updated.get(contact.idnat, {}).items():
        events.emit(
            session,
            "directory.contact_updated",
            import_id=None,
            source="fhir",
            idnat=contact.idnat,
            field=name,
            before=before,
            after=after,
        )
    return contact


def lookup_rpps(
    session: Session, user: str, rpps: str, client: AnnuaireClient | None
) -> tuple[list[PsContact], str, str | None]:
    """Search by RPPS through the Annuaire Santé FHIR API (ANN.02); the answer refreshes the local directory.
    Returns the contacts, where they came from (``fhir`` or ``local``) and the Annuaire's error if it could not
    answer (the local directory is then the fallback, so care does not stop)."""
    rpps = rpps.strip()
    if not (rpps.isdigit() and len(rpps) in (9, 11)):
        raise DirectoryError(
            "invalid_rpps", f"{rpps!r} is not an RPPS (11 digits) or ADELI (9 digits) number"
        )
    error = None
    requested_at = _now()
    if client is not None and not faults.active("rpps_search_bypasses_fhir"):
        try:
            found = client.practitioners(rpps=rpps)
        except AnnuaireError as failure:
            error = str(failure)
        else:
            contacts = [_merge_fhir(session, p) for p in found]
            events.emit(
                session,
                "directory.search_requested",
                occurred_at=requested_at,
                by="rpps",
                user=user,
                source="fhir",
                count=len(contacts),
            )
            return contacts, "fhir", None
    local = list(
        session.scalars(select(PsContact).where(or_(PsContact.rpps == rpps, PsContact.idnat == "8" + rpps)))
    )
    events.emit(
        session,
        "directory.search_requested",
        occurred_at=requested_at,
        by="rpps",
        user=user,
        source="local",
        count=len(local),
        fhir_error=error,
    )
    return local, "local", error


def describe(contact: PsContact) -> dict[str, Any]:
    return {
        "idnat": contact.idnat,
        "rpps": contact.rpps,
        "id_type": "RPPS" if contact.id_type == "8" else "ADELI",
        "civilite": contact.civilite,
        "family": contact.family,
        "given": contact.given,
        "profession_code": contact.profession_code,
        "profession_label": contact.profession_label,
        "savoir_faire": contact.savoir_faire,
        "activities": contact.activities,
        "mss_address": contact.mss_address,
        "active": contact.active,
        "source": contact.source,
    }
