"""The test-driver operations of the reference DCC: what a recette scenario asks a DCC to do, one transaction each.

Why a facade: a scenario drives the DCC the way a user would (create a patient, validate a document…) and then
reads what the DCC recorded. The same operations are served over HTTP (``dcc/api/routes/driver.py``, documented in
docs/test-driver.md, which an editor's DCC implements too) and called in-process by the harness's ``reference``
target; both go through this class so that the in-process and HTTP recettes judge the same behaviour.

Each operation owns its unit of work: it commits on success; on a refusal it rolls back everything the operation
wrote, then records the refusal event (the rules judge refusals too) in a transaction of its own, and raises
``Refused`` with the stable reason code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from dcc import audit, events, identifiers
from dcc.auth.config import AuthSettings
from dcc.db import make_engine, make_session_factory, migrate
from dcc.db.models import AuditEntry, Document, Patient
from dcc.identity.status import IdentityRuleError, IdentityStatus
from dcc.services import cgu, commands, documents, patients, reuse
from dcc.services.patients import Traits

T = TypeVar("T")


class Refused(ValueError):
    """The DCC refused the operation; ``reason`` is the stable code (HTTP 409 with it in the test-driver API)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotFound(LookupError):
    """An id the DCC does not know (HTTP 404)."""


@dataclass(frozen=True)
class Operation:
    """A test-driver operation registered by an area of the DCC (``dcc/driver_ops/<area>.py``): served over HTTP at
    ``method path`` with ``operationId`` = ``name`` (what the harness's http target looks up), called in-process by
    name. ``function(session, **arguments) -> dict`` runs in one transaction; ``refusal(session, arguments)`` gives
    the (event type, fields) recorded when the DCC refuses it."""

    name: str
    method: str
    path: str
    function: Callable[..., dict[str, Any]]
    body: type | None
    refusal: Callable[[Session, dict[str, Any]], tuple[str, dict[str, Any]]]
    summary: str
    transactional: bool = (
        True  # False: the function gets ``sessions`` (a factory) and commits its own batches
    )


OPERATIONS: dict[str, Operation] = {}


def operation(
    name: str,
    method: str,
    path: str,
    body: type | None = None,
    refusal: Callable[[Session, dict[str, Any]], tuple[str, dict[str, Any]]] | None = None,
    transactional: bool = True,
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Registers a test-driver operation; path parameters (``{name}``) are passed as keyword arguments."""

    def register(function: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        if name in OPERATIONS and OPERATIONS[name].function is not function:
            raise ValueError(f"test-driver operation {name!r} registered twice")
        OPERATIONS[name] = Operation(
            name,
            method,
            path,
            function,
            body,
            refusal or (lambda _s, _a: ("driver.operation_refused", {"operation": name})),
            (function.__doc__ or name).strip().splitlines()[0],
            transactional,
        )
        return function

    return register


def load_operations() -> dict[str, Operation]:
    """Imports every ``dcc.driver_ops`` module so that all operations are registered."""
    import importlib
    import pkgutil

    from dcc import driver_ops

    for module in pkgutil.iter_modules(driver_ops.__path__):
        importlib.import_module(f"{driver_ops.__name__}.{module.name}")
    return OPERATIONS


class Driver:
    """The operations of docs/test-driver.md on one reference DCC database."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @classmethod
    def for_url(cls, url: str, engine: Engine | None = None) -> Driver:
        migrate(url)
        return cls(make_session_factory(engine or make_engine(url)))

    @contextmanager
    def _unit(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def call(self, operation_name: str, /, **arguments: Any) -> dict[str, Any]:
        """A registered operation (``load_operations``) by name, in its own unit of work."""
        op = load_operations().get(operation_name)
        if op is None:
            raise NotFound(f"no test-driver operation {operation_name!r}")
        if not op.transactional:
            return self._run(
                lambda _unused: op.function(sessions=self._sessions, **arguments),
                lambda s: op.refusal(s, arguments),
            )
        return self._run(
            lambda session: op.function(session, **arguments), lambda s: op.refusal(s, arguments)
        )

    def _run(self, operation: Callable[[Session], T], refusal: Callable[[Session], tuple[str, dict]]) -> T:
        """Runs ``operation`` in one transaction; a domain refusal is rolled back, recorded, and raised as
        ``Refused``. ``refusal`` maps the domain error to (event type, event fields)."""
        try:
            with self._unit() as session:
                return operation(session)
        except (documents.DocumentRuleError, IdentityRuleError, patients.NoTrustClause, ValueError) as error:
            if isinstance(error, Refused | NotFound):
                raise
            reason = getattr(error, "reason", None) or type(error).__name__
            with self._unit() as session:
                event_type, fields = refusal(session)
                commands.journal_refusal(
                    session, event_type, dict(reason=reason, message=str(error), **fields)
                )
            raise Refused(reason, str(error)) from error

    # -- lookups ------------------------------------------------------------------------------------------------

    @staticmethod
    def _document(session: Session, document_id: str) -> Document:
        root, _, extension = document_id.rpartition("^")
        if root != identifiers.document_root() or not extension.isdigit():
            raise NotFound(
                f"document {document_id!r}: not an id of this DCC ({identifiers.document_root()}^<n>)"
            )
        document = session.get(Document, int(extension))
        if document is None:
            raise NotFound(f"document {document_id!r} does not exist")
        return document

    @staticmethod
    def _patient(session: Session, patient_id: str) -> Patient:
        patient = session.get(Patient, int(patient_id)) if str(patient_id).isdigit() else None
        if patient is None:
            raise NotFound(f"patient {patient_id!r} does not exist")
        return patient

    def _document_fields(self, session: Session, document_id: str) -> dict[str, Any]:
        """What a refusal event says of the document concerned (its common fields when it exists)."""
        try:
            return documents.describe(session, self._document(session, document_id))
        except NotFound:
            return {"document_id": document_id}

    # -- identities ---------------------------------------------------------------------------------------------

    def create_patient(
        self,
        traits: dict[str, Any],
        author: str,
        mode: str = "saisie",
        ins_matricule: str | None = None,
        ins_oid: str | None = None,
    ) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            patient = patients.create_patient(
                session, _traits(traits), author, mode=mode, ins_matricule=ins_matricule, ins_oid=ins_oid
            )
            return self._patient_view(patient)

        return self._run(operation, lambda _s: ("patient.create_refused", {"mode": mode}))

    def change_identity_status(
        self,
        patient_id: str,
        to: str,
        author: str,
        reason: str = "",
        justificatif: str | None = None,
        downgrade: bool = False,
        user_kind: str | None = None,
        finess: str | None = None,
        cgu_version: str | None = None,
    ) -> dict[str, Any]:
        qualifying = to in ("validee", "qualifiee") and not downgrade and user_kind is not None

        def trust(session: Session) -> dict[str, Any]:
            """The acting professional's clause de confiance (2.3.1, 2.3.2.3): CGU accepted and current, and for
            an establishment user its convention in force — what ``identity.qualification_requested`` says."""
            assert user_kind is not None
            version = cgu_version or cgu.in_force(session, AuthSettings.from_env().cgu_version)
            clause, why = cgu.trust_clause(session, author, version, user_kind, finess)
            found: dict[str, Any] = {"trust_clause": clause, "user_kind": user_kind, "why_not": why}
            if user_kind == "etablissement":
                found["convention_valid"] = bool(finess) and cgu.convention_in_force(session, finess or "")
            return found

        def operation(session: Session) -> dict[str, Any]:
            patient = self._patient(session, patient_id)
            try:
                status = IdentityStatus(to)
            except ValueError:
                raise IdentityRuleError(
                    f"identity status {to!r}: one of {[s.value for s in IdentityStatus]}"
                ) from None
            clause, fields = True, {}
            if qualifying:
                found = trust(session)
                clause = found["trust_clause"]
                fields = {k: v for k, v in found.items() if k != "why_not"}
                events.emit(
                    session,
                    "identity.qualification_requested",
                    patient_id=str(patient_id),
                    to=to,
                    author=author,
                    **fields,
                )
            patients.change_status(
                session,
                patient,
                status,
                author,
                reason or f"passage en {to}",
                justificatif=justificatif,
                downgrade=downgrade,
                trust_clause=clause,
                event_fields=fields or None,
            )
            return self._patient_view(patient)

        def refusal(session: Session) -> tuple[str, dict]:
            if to not in ("validee", "qualifiee"):
                return "identity.change_refused", {"patient_id": str(patient_id), "to": to}
            found: dict[str, Any] = {}
            if qualifying:  # the request was rolled back with the refused change: journal it again
                found = trust(session)
                requested = {k: v for k, v in found.items() if k != "why_not"}
                events.emit(
                    session,
                    "identity.qualification_requested",
                    patient_id=str(patient_id),
                    to=to,
                    author=author,
                    **requested,
                )
            return "identity.qualification_refused", {
                "patient_id": str(patient_id),
                "to": to,
                **({"detail": found["why_not"]} if found.get("why_not") else {}),
            }

        return self._run(operation, refusal)

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        with self._unit() as session:
            return self._patient_view(self._patient(session, patient_id))

    @staticmethod
    def _patient_view(patient: Patient) -> dict[str, Any]:
        return {
            "patient_id": str(patient.id),
            "identity_status": patient.identity_status,
            "ins_matricule": patient.ins_matricule,
            "ins_oid": patient.ins_oid,
            "justificatif": patient.justificatif,
            "mode": patient.mode,
        }

    def accept_cgu(self, user_id: str, cgu_version: str, user_kind: str) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            cgu.accept(session, user_id, cgu_version, user_kind)
            return {"user_id": user_id, "cgu_version": cgu_version, "user_kind": user_kind}

        return self._run(operation, lambda _s: ("cgu.accept_refused", {"user_id": user_id}))

    # -- documents ----------------------------------------------------------------------------------------------

    def create_frcp(
        self, patient_id: str, author: str, content: dict[str, Any] | None = None, finess: str | None = None
    ) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            proposal = reuse.new_frcp(
                session, self._patient(session, patient_id), author, content, finess=finess
            )
            return _with_proposal(session, proposal)

        return self._run(
            operation, lambda _s: ("document.create_refused", {"kind": "FRCP", "patient_id": patient_id})
        )

    def create_pps(self, frcp_id: str, author: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            proposal = reuse.new_pps(session, self._document(session, frcp_id), author, content)
            return _with_proposal(session, proposal)

        return self._run(
            operation,
            lambda s: (
                "document.create_refused",
                {
                    "kind": "PPS",
                    "frcp_id": frcp_id,
                    "frcp_status": self._document_fields(s, frcp_id).get("status"),
                },
            ),
        )

    def enter(self, document_id: str, field: str, value: str, author: str) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            document = self._document(session, document_id)
            documents.enter(session, document, field, value, author)
            return documents.describe(session, document)

        return self._run(
            operation,
            lambda s: (
                "document.modification_refused",
                {**self._document_fields(s, document_id), "field": field},
            ),
        )

    def set_status(self, document_id: str, to: str, author: str) -> dict[str, Any]:
        current: dict[str, str] = {}

        def operation(session: Session) -> dict[str, Any]:
            document = self._document(session, document_id)
            current["from"] = document.status
            if to == documents.VALIDE:  # validation queues what Figure 10 sends, in the same transaction
                from dcc.transmissions.outbox import validate_and_route

                validate_and_route(session, document, author)
            else:
                documents.set_status(session, document, to, author)
            return documents.describe(session, document)

        return self._run(
            operation,
            lambda s: (
                "document.transition_refused",
                {**self._document_fields(s, document_id), "from": current.get("from"), "to": to},
            ),
        )

    def new_version(self, document_id: str, author: str) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            proposal = reuse.new_version(session, self._document(session, document_id), author)
            from dcc.transmissions.outbox import version_created

            version_created(session, proposal.document, author)
            return _with_proposal(session, proposal)

        return self._run(
            operation, lambda s: ("document.version_refused", self._document_fields(s, document_id))
        )

    def add_attachment(
        self, document_id: str, title: str, mime_type: str, content_base64: str, author: str
    ) -> dict[str, Any]:
        def operation(session: Session) -> dict[str, Any]:
            try:
                content = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError):
                raise documents.DocumentRuleError(
                    "bad_base64", f"attachment {title!r}: content is not base64"
                ) from None
            attachment = documents.add_attachment(
                session, self._document(session, document_id), title, mime_type, content, author
            )
            return {"document_id": document_id, "sha256": attachment.sha256, "title": title}

        return self._run(
            operation,
            lambda s: (
                "attachment.rejected",
                {
                    **self._document_fields(s, document_id),
                    "title": title,
                    "sha256": _sha256_b64(content_base64),
                },
            ),
        )

    def get_document(self, document_id: str) -> dict[str, Any]:
        with self._unit() as session:
            document = self._document(session, document_id)
            return {**documents.describe(session, document), "content": dict(document.content)}

    # -- audit -----------------------------------------------------------------------------------------------------

    def export_audit(self) -> dict[str, Any]:
        """The whole audit log in chain order, with the DCC's own integrity check of it (2.1.2.1, DOC.08)."""
        with self._unit() as session:
            entries = [
                {
                    "entry_id": entry.id,
                    "at": entry.at.isoformat(),
                    "actor": entry.actor,
                    "action": entry.action,
                    "entity": entry.entity,
                    "entity_id": entry.entity_id,
                    "previous_hash": entry.previous_hash,
                    "hash": entry.hash,
                }
                for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ]
            return {"entries": entries, "problems": audit.verify(session)}

    # -- what the DCC recorded ----------------------------------------------------------------------------------

    def events(
        self, after: int = 0, limit: int | None = None, scope: str | None = None
    ) -> list[dict[str, Any]]:
        with self._unit() as session:
            return list(events.export(session, after=after, limit=limit, only_scope=scope))


def _with_proposal(session: Session, proposal: reuse.Proposal) -> dict[str, Any]:
    """A created document's fields and what it is offered (data reuse: docs/data-reuse.md)."""
    return {
        **documents.describe(session, proposal.document),
        "proposal_id": proposal.id,
        "proposed": [item.as_dict() for item in proposal.items],
    }


def _sha256_b64(content_base64: str) -> str | None:
    try:
        return hashlib.sha256(base64.b64decode(content_base64, validate=True)).hexdigest()
    except (binascii.Error, ValueError):
        return None


def _traits(data: dict[str, Any]) -> Traits:
    try:
        prenoms = data["prenoms"]
        return Traits(
            nom_naissance=str(data["nom_naissance"]),
            prenoms=tuple(prenoms.split() if isinstance(prenoms, str) else prenoms),
            sexe=str(data["sexe"]),
            date_naissance=str(data["date_naissance"]),
            lieu_naissance=data.get("lieu_naissance"),
        )
    except KeyError as missing:
        raise patients_error(f"traits: field {missing.args[0]!r} is required") from None


def patients_error(message: str) -> ValueError:
    error = ValueError(message)
    error.reason = "invalid_traits"  # type: ignore[attr-defined]
    return error
