"""Annuaire de contact PS over HTTP (2.1.5.2): import of the Annuaire Santé extraction files (the raw file, or the
zip the public site serves, as the request body), the import report, search by name / MSSanté address, and the
RPPS lookup through the Annuaire Santé FHIR API."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc.api.deps import session as db_session
from dcc.api.routes._resources_common import not_found, refused
from dcc.db.models_resources import AnnuaireImport, AnnuaireReject
from dcc.services import directory
from dcc.services.annuaire_client import AnnuaireClient, HttpAnnuaireClient
from dcc.services.annuaire_files import ExtractionError

router = APIRouter(prefix="/directory", tags=["annuaire de contact PS"])
Db = Annotated[Session, Depends(db_session)]
MAX_UPLOAD = 2 * 1024**3  # a national extraction is a few hundred MB
SPOOL = 16 * 1024**2
ORDER = (
    "PS_LibreAcces_Personne_activite",
    "Extraction_Correspondance_MSSante",
)  # people before their mailboxes


class Contact(BaseModel):
    idnat: str
    rpps: str
    id_type: str
    civilite: str | None
    family: str
    given: str | None
    profession_code: str | None
    profession_label: str | None
    savoir_faire: str | None
    activities: list[dict[str, Any]]
    mss_address: str | None
    active: bool
    source: str


class Lookup(BaseModel):
    source: str  # fhir or local
    error: str | None
    contacts: list[Contact]


def annuaire_client(request: Request) -> Iterator[AnnuaireClient | None]:
    """The FHIR client: one set on the application (tests, in-process targets), else one made from
    ``DCC_ANNUAIRE_URL`` for the request (and closed after it)."""
    client = getattr(request.app.state, "annuaire_client", None)
    if client is not None:
        yield client
        return
    made = HttpAnnuaireClient.from_env()
    try:
        yield made
    finally:
        if made is not None:
            made.close()


async def _spooled(request: Request) -> IO[bytes]:
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            body.close()
            raise HTTPException(
                413, detail={"reason": "too_large", "message": f"more than {MAX_UPLOAD} bytes"}
            )
        body.write(chunk)
    body.seek(0)
    return body


def _import_all(
    request: Request, body: IO[bytes], file: str, author: str, expected: int | None
) -> list[dict]:
    factory = request.app.state.session_factory
    if not zipfile.is_zipfile(body):
        body.seek(0)
        return [directory.run_import(factory, body, file, author, expected).as_dict()]
    with zipfile.ZipFile(body) as archive:
        members = sorted(
            (m for m in archive.infolist() if not m.is_dir()),
            key=lambda m: next((i for i, p in enumerate(ORDER) if m.filename.startswith(p)), len(ORDER)),
        )
        reports = []
        for member in members:
            with archive.open(member) as stream:
                reports.append(
                    directory.run_import(factory, stream, member.filename, author, expected).as_dict()
                )
        return reports


@router.post("/imports", status_code=201)
async def import_extraction(
    request: Request,
    file: Annotated[str, Query(min_length=1, max_length=200, description="the extraction's file name")],
    author: Annotated[str, Query(min_length=1, max_length=64)],
    expected_rejected: Annotated[int | None, Query(ge=0)] = None,
) -> list[dict[str, Any]]:
    """The request body is the extraction file (pipe-separated text) or the zip of both files. Each batch of lines
    commits on its own: the answer is the import report (rejected lines with their number)."""
    body = await _spooled(request)
    try:
        return await run_in_threadpool(_import_all, request, body, file, author, expected_rejected)
    except ExtractionError as error:
        raise refused(error) from None
    except zipfile.BadZipFile as error:
        raise HTTPException(422, detail={"reason": "bad_zip", "message": f"{file}: {error}"}) from None
    finally:
        body.close()


@router.get("/imports/{import_id}")
def import_report(
    import_id: str,
    db: Db,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    row = db.scalar(select(AnnuaireImport).where(AnnuaireImport.import_id == import_id))
    if row is None:
        raise not_found("unknown_import", f"no import {import_id}")
    rejects = db.scalars(
        select(AnnuaireReject)
        .where(AnnuaireReject.import_id == import_id)
        .order_by(AnnuaireReject.line)
        .offset(offset)
        .limit(limit)
    )
    fields = (
        "import_id",
        "kind",
        "file",
        "sequence",
        "status",
        "lines",
        "imported",
        "created",
        "updated",
        "rejected",
    )
    return {
        **{k: getattr(row, k) for k in fields},
        "error": row.error,
        "rejects": [{"line": r.line, "reason": r.reason} for r in rejects],
    }


@router.get("/contacts", response_model=list[Contact])
def search(
    db: Db,
    user: Annotated[str, Query(min_length=1, max_length=64)],
    name: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    mss: Annotated[str | None, Query(min_length=3, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    try:
        return [directory.describe(c) for c in directory.search(db, user, name=name, mss=mss, limit=limit)]
    except directory.DirectoryError as error:
        raise refused(error) from None


@router.get("/contacts/rpps/{rpps}", response_model=Lookup)
def lookup_rpps(
    rpps: str,
    db: Db,
    user: Annotated[str, Query(min_length=1, max_length=64)],
    client: Annotated[AnnuaireClient | None, Depends(annuaire_client)],
) -> dict[str, Any]:
    """Search by RPPS through the Annuaire Santé FHIR API (ANN.02); the local directory answers when it cannot."""
    try:
        found, source, error = directory.lookup_rpps(db, user, rpps, client)
    except directory.DirectoryError as failure:
        raise refused(failure) from None
    return {"source": source, "error": error, "contacts": [directory.describe(c) for c in found]}
