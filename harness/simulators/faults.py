"""Fault injection, configured per run, so a scenario can check how a DCC copes with a failing national service.

A simulator asks :meth:`FaultPlan.take` at each operation; a fault whose ``operation`` is ``None`` applies to any
operation. ``times`` is how many exchanges it affects (``None``: all of them). What each mode means is the
simulator's protocol's own form (SMTP reply codes, SOAP faults, FHIR OperationOutcome, …).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultMode(StrEnum):
    REFUSE = "refuse"
    ERROR_5XX = "error_5xx"
    TIMEOUT = "timeout"
    SLOW = "slow"
    MALFORMED = "malformed"
    DROP = "drop"


class FaultConfigError(ValueError):
    """A fault configuration entry that cannot be read; the message names the entry and field."""


@dataclass
class Fault:
    mode: FaultMode
    operation: str | None = None
    times: int | None = 1
    delay_s: float = 0.0


class FaultPlan:
    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._faults: list[Fault] = list(faults)
        self._lock = threading.Lock()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, operation: str | None) -> Fault | None:
        """The first fault for this operation, counted as used once."""
        with self._lock:
            for fault in self._faults:
                if fault.operation is None or fault.operation == operation:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    @classmethod
    def from_config(cls, items: Iterable[Mapping[str, Any]] | None) -> FaultPlan:
        faults = []
        for index, item in enumerate(items or []):
            where = f"faults[{index}]"
            if not isinstance(item, Mapping):
                raise FaultConfigError(f"{where}: expected a mapping with mode, operation, times, delay_s")
            unknown = set(item) - {"mode", "operation", "times", "delay_s"}
            if unknown:
                raise FaultConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
            try:
                mode = FaultMode(item.get("mode"))
            except ValueError:
                raise FaultConfigError(
                    f"{where}.mode: {item.get('mode')!r} is not one of {', '.join(m.value for m in FaultMode)}"
                ) from None
            times = item.get("times", 1)
            if times is not None and (not isinstance(times, int) or times < 1):
                raise FaultConfigError(f"{where}.times: {times!r} is not a positive integer or null")
            try:
                delay = float(item.get("delay_s", 0.0))
            except (TypeError, ValueError):
                raise FaultConfigError(f"{where}.delay_s: {item.get('delay_s')!r} is not a number") from None
            operation = item.get("operation")
            faults.append(Fault(mode, None if operation is None else str(operation), times, delay))
        return cls(faults)
