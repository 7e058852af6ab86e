"""Fault injection shared by the HTTP simulators: one place for what each mode does on the wire, so every
simulator fails the same way. Each simulator gives only what is protocol-specific: its refusal (SOAP Fault,
RegistryError, OAuth error, OperationOutcome) and its malformed body."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from harness.simulators.faults import FaultMode

MAX_FAULT_DELAY_S = 30.0


class DroppedResponse(Response):
    """The ``drop`` fault: the answer starts (status and headers, a first chunk), then the connection is aborted
    (uvicorn closes the transport when the app fails after the response started)."""

    def __init__(self, media_type: str, first_chunk: bytes) -> None:
        super().__init__(b"", media_type=media_type)
        self._chunk = first_chunk

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", self.media_type.encode()), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": self._chunk, "more_body": True})
        raise ConnectionAbortedError("connection dropped (injected fault)")


async def injected(
    sim: Any,
    source: str,
    operation: str,
    refuse: Callable[[], Response],
    malformed: bytes,
    media_type: str,
    unavailable: Callable[[], Response] | None = None,
) -> Response | None:
    """The response a pending fault for ``operation`` calls for, or None to answer normally (after any delay).
    Every fault taken is recorded as a ``<source>.fault_injected`` event."""
    fault = sim.faults.take(operation) if sim.faults is not None else None
    if fault is None:
        return None
    mode = FaultMode(fault.mode)
    sim.evidence.emit(source, f"{source}.fault_injected", {"operation": operation, "mode": str(mode)})
    if mode is FaultMode.REFUSE:
        return refuse()
    if mode is FaultMode.ERROR_5XX:
        return (
            unavailable()
            if unavailable
            else Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        )
    if mode in (FaultMode.TIMEOUT, FaultMode.SLOW):
        default = 10.0 if mode is FaultMode.TIMEOUT else 1.0
        await asyncio.sleep(min(fault.delay_s or default, MAX_FAULT_DELAY_S))
        return None
    if mode is FaultMode.MALFORMED:
        return Response(malformed, media_type=media_type)
    return DroppedResponse(media_type, malformed[:16])
