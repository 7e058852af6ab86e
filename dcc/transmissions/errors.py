"""How a delivery failed: ``transient`` failures are retried with backoff, permanent ones are not.

``in_doubt``: the request may have reached the receiver before the failure (a timeout or a dropped connection
after it was sent), so the receiver may already hold the document. The worker then asks the receiver before any
resend (TRANS.04), as after a crash mid-delivery."""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, transient: bool = True, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.in_doubt = in_doubt
