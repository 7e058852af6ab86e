"""Scenario discovery: every function decorated with ``@scenario("DOC.01.01")`` in a module of this package.

A scenario is bound to its REM ids — the scenario id names the requirement (``DOC.01``) and the REM gives the proof
ids (``DOC.01.01.01``…) — so the run can put its verdict and its proof files on the REM's own rows. Scenario ids
are checked against the REM at run time: a scenario the REM does not know is an error, not a silent extra.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scenarios.context import ScenarioContext

SCENARIO_ID = re.compile(r"^(?P<requirement>[A-Z]+(?:/[A-Z]+)?\.\d{2})\.(?P<number>\d{2})$")
_INFRASTRUCTURE = {"registry", "context", "pytest_plugin", "data"}


@dataclass(frozen=True)
class ScenarioSpec:
    id: str
    requirement: str
    function: Callable[[ScenarioContext], None] = field(compare=False)
    module: str = ""
    title: str = ""
    needs: tuple[
        str, ...
    ] = ()  # simulators the scenario talks to (insi, dmp, mss, psc, annuaire, peer-dcc, dpi)
    # costly process-wide things the scenario uses (``resource``): the run gives every scenario using one to the
    # same worker process, which builds it once before anything else
    resources: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return self.requirement.rsplit(".", 1)[0]


_REGISTRY: dict[str, ScenarioSpec] = {}
_RESOURCES: dict[str, Callable[[], object]] = {}


def resource(name: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Registers the function that builds (and keeps) the process-wide resource ``name``; scenarios declare what they
    use with ``@scenario(..., resources=(name,))``."""

    def decorate(function: Callable[[], object]) -> Callable[[], object]:
        _RESOURCES[name] = function
        return function

    return decorate


def warm(name: str) -> None:
    """Builds resource ``name`` now (a worker process does it before its first scenario); unknown names are errors."""
    if name not in _RESOURCES:
        raise KeyError(
            f"no scenario resource named {name!r} (known: {', '.join(sorted(_RESOURCES)) or 'none'})"
        )
    _RESOURCES[name]()


def scenario(
    id: str, title: str = "", needs: tuple[str, ...] = (), resources: tuple[str, ...] = ()
) -> Callable:
    """Registers the decorated function as the executable form of REM scenario ``id``."""
    match = SCENARIO_ID.match(id)
    if not match:
        raise ValueError(f"scenario id {id!r}: expected <SECTION>.<nn>.<nn> like DOC.01.01 or INS/RAP.02.01")

    def decorate(function: Callable[[ScenarioContext], None]) -> Callable[[ScenarioContext], None]:
        spec = ScenarioSpec(
            id=id,
            requirement=match["requirement"],
            function=function,
            module=function.__module__,
            title=title or (function.__doc__ or "").strip().splitlines()[0]
            if (title or function.__doc__)
            else "",
            needs=tuple(needs),
            resources=tuple(resources),
        )
        existing = _REGISTRY.get(id)
        if existing is not None and existing.function is not function and existing.module != spec.module:
            raise ValueError(f"scenario {id} defined twice: in {existing.module} and {spec.module}")
        _REGISTRY[id] = spec
        function.scenario_id = id  # type: ignore[attr-defined]
        return function

    return decorate


def scenario_modules() -> list[str]:
    """The modules that define scenarios (every module of this package but the infrastructure)."""
    import scenarios

    return [
        f"scenarios.{module.name}"
        for module in pkgutil.iter_modules(scenarios.__path__)
        if module.name not in _INFRASTRUCTURE and not module.name.startswith("_")
    ]


def discover() -> dict[str, ScenarioSpec]:
    """Imports every scenario module of this package and returns the scenarios by id, in id order."""
    for name in scenario_modules():
        importlib.import_module(name)
    return dict(sorted(_REGISTRY.items()))


def select(specs: dict[str, ScenarioSpec], only: list[str] | None) -> dict[str, ScenarioSpec]:
    """``--only`` takes scenario ids (DOC.01.01), requirement ids (DOC.01) or sections (DOC, INS/RAP)."""
    if not only:
        return specs
    chosen = {
        sid: spec
        for sid, spec in specs.items()
        if any(sid == o or spec.requirement == o or spec.section == o for o in only)
    }
    return chosen
