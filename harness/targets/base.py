"""The adapter interface between scenarios and a DCC: the test-driver operations of docs/test-driver.md."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class TargetError(RuntimeError):
    """The target cannot be used (unreachable, misconfigured): a configuration problem, exit status 2."""


class Refused(Exception):
    """The DCC refused an operation (HTTP 409 of the driver API); ``reason`` is its stable code."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason


class NotFound(Exception):
    """The DCC does not know the id (HTTP 404)."""


class TargetSession(ABC):
    """One scenario's view of the DCC. Operations return the DCC's JSON answer as a dict; ``events`` returns what
    the DCC recorded on behalf of this scenario, in the trace envelope (docs/trace-events.md)."""

    scope: str

    @abstractmethod
    def call(self, operation: str, /, **arguments: Any) -> dict[str, Any]: ...

    @abstractmethod
    def events(self) -> list[dict[str, Any]]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Releases what the session holds (database file, HTTP connections)."""

    # The operations, spelt out so that scenarios read like the REM's steps.
    def create_patient(self, traits: dict[str, Any], author: str = "medecin-1", **kw: Any) -> dict[str, Any]:
        return self.call("create_patient", traits=traits, author=author, **kw)

    def get_patient(self, patient_id: str) -> dict[str, Any]:
        return self.call("get_patient", patient_id=patient_id)

    def change_identity_status(self, patient_id: str, to: str, author: str = "medecin-1", **kw: Any) -> dict:
        return self.call("change_identity_status", patient_id=patient_id, to=to, author=author, **kw)

    def accept_cgu(self, user_id: str, cgu_version: str, user_kind: str) -> dict[str, Any]:
        return self.call("accept_cgu", user_id=user_id, cgu_version=cgu_version, user_kind=user_kind)

    def create_frcp(
        self,
        patient_id: str,
        author: str = "medecin-1",
        content: dict | None = None,
        finess: str | None = None,
    ) -> dict:
        extra = {"finess": finess} if finess else {}
        return self.call("create_frcp", patient_id=patient_id, author=author, content=content or {}, **extra)

    def create_pps(self, frcp_id: str, author: str = "medecin-1", content: dict | None = None) -> dict:
        return self.call("create_pps", frcp_id=frcp_id, author=author, content=content or {})

    def enter(self, document_id: str, field: str, value: str, author: str = "medecin-1") -> dict[str, Any]:
        return self.call("enter", document_id=document_id, field=field, value=value, author=author)

    def set_status(self, document_id: str, to: str, author: str = "medecin-1") -> dict[str, Any]:
        return self.call("set_status", document_id=document_id, to=to, author=author)

    def new_version(self, document_id: str, author: str = "medecin-1") -> dict[str, Any]:
        return self.call("new_version", document_id=document_id, author=author)

    def add_attachment(
        self, document_id: str, title: str, mime_type: str, content_base64: str, author: str = "medecin-1"
    ) -> dict[str, Any]:
        return self.call(
            "add_attachment",
            document_id=document_id,
            title=title,
            mime_type=mime_type,
            content_base64=content_base64,
            author=author,
        )

    def get_document(self, document_id: str) -> dict[str, Any]:
        return self.call("get_document", document_id=document_id)

    def export_audit(self) -> dict[str, Any]:
        return self.call("export_audit")


class Target(ABC):
    """A DCC under test. ``session(scope)`` gives each scenario its own isolated view."""

    name: str

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What the manifest records about the target (kind, URL or version, faults switched on)."""

    @abstractmethod
    def session(self, scope: str) -> TargetSession: ...

    def configure(self, environment: dict[str, str]) -> None:  # noqa: B027 - optional hook
        """Where the simulators are (``DCC_INSI_URL``…, harness.simulators.stack.ENVIRONMENT); an empty mapping
        forgets them. A DCC the harness does not run itself must have been configured beforehand."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stops what the target started."""

    def recipe(self) -> dict[str, Any] | None:
        """How another process makes an equivalent target (keyword arguments of ``make_target``, picklable), or None
        when there is only one DCC to talk to. With a recipe the run spreads the scenarios over worker processes,
        each with its own DCC and its own simulators; without, it runs them on threads of this process."""
        return None
