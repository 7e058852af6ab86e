"""How a delivery failed: ``transient`` failures are retried with backoff, permanent ones are not."""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient
