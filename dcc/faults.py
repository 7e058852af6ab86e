"""Named faults of the reference DCC: each one breaks one behaviour of the cahier des charges on purpose.

Why they live in the DCC itself: the recette must prove that every rule can fail (a rule that never fails checks
nothing), so the harness runs the scenarios against the reference with one fault switched on and expects exactly the
requirements the fault ``breaks`` to become « non conforme ». Code paths ask ``active(NAME)`` at the one place the
fault changes; with no fault switched on (the default, and always in production) nothing changes.

Switch faults on with ``DCC_FAULTS=name1,name2`` or ``enabled(...)`` (a context manager, for in-process targets).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    breaks: tuple[str, ...]  # REM requirement ids this fault must make « non conforme »


CATALOGUE: dict[str, Fault] = {}
_enabled: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("dcc_faults", default=None)
# The faults asked about while a scenario ran (``recording``): a scenario whose run never asks about a fault cannot
# behave differently when that fault is on, so the fault proof need not replay it.
_probes: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("dcc_fault_probes", default=None)


def register(name: str, description: str, breaks: tuple[str, ...] | list[str]) -> Fault:
    """Declares a fault (at import time of the module that implements it); the name is its stable id."""
    if name in CATALOGUE and CATALOGUE[name].breaks != tuple(breaks):
        raise ValueError(f"fault {name!r} registered twice with different requirements")
    fault = Fault(name, description, tuple(breaks))
    CATALOGUE[name] = fault
    return fault


def load_all() -> dict[str, Fault]:
    """Imports every module of the reference DCC so that every fault is registered, and returns the catalogue."""
    import importlib
    import pkgutil

    import dcc

    for module in pkgutil.walk_packages(dcc.__path__, prefix="dcc."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return dict(sorted(CATALOGUE.items()))


def _from_environment() -> frozenset[str]:
    return frozenset(n.strip() for n in os.environ.get("DCC_FAULTS", "").split(",") if n.strip())


def active(name: str) -> bool:
    if name not in CATALOGUE:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(sorted(CATALOGUE)) or 'none'}")
    probes = _probes.get()
    if probes is not None:
        probes.add(name)
    enabled = _enabled.get()
    return name in (enabled if enabled is not None else _from_environment())


def current() -> frozenset[str]:
    """The faults switched on for the current context (for a cache whose content a fault may change)."""
    enabled = _enabled.get()
    return enabled if enabled is not None else _from_environment()


@contextmanager
def enabled(*names: str) -> Iterator[None]:
    """Switches exactly ``names`` on for the current context (thread or task); unknown names are refused."""
    unknown = [n for n in names if n not in CATALOGUE]
    if unknown:
        raise KeyError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(CATALOGUE))}")
    token = _enabled.set(frozenset(names))
    try:
        yield
    finally:
        _enabled.reset(token)


@contextmanager
def recording(probes: set[str]) -> Iterator[set[str]]:
    """Adds to ``probes`` the name of every fault ``active`` is asked about in the current context."""
    token = _probes.set(probes)
    try:
        yield probes
    finally:
        _probes.reset(token)
