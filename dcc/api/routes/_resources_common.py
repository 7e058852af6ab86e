"""What the resources routes (bdt, directory, rcp) share: refusals as clear 4xx answers. No ``router`` here, so the
application factory does not mount this module."""

from __future__ import annotations

from fastapi import HTTPException

NOT_FOUND = {
    "unknown_entry",
    "unknown_rcp",
    "unknown_session",
    "unknown_patient",
    "unknown_document",
    "unknown_import",
}
CONFLICT = {"duplicate_entry", "already_registered", "final_list_closed"}


def refused(error: ValueError) -> HTTPException:
    """A service refusal (a ``ValueError`` with a stable ``reason``) as 404, 409 or 422 with reason and message."""
    reason = getattr(error, "reason", "invalid")
    status = 404 if reason in NOT_FOUND else 409 if reason in CONFLICT else 422
    return HTTPException(status, detail={"reason": reason, "message": str(error)})


def not_found(reason: str, message: str) -> HTTPException:
    return HTTPException(404, detail={"reason": reason, "message": message})
