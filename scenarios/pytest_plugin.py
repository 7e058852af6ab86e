"""pytest plugin: the conformity scenarios as pytest tests, so an editor can run them in their own CI with the
tools they know (``-k``, ``-x``, JUnit, Allure) — ``pytest -p scenarios.pytest_plugin --pyargs scenarios``
or through a test module that uses ``scenario_params()`` (see tests/scenarios/).

Each test is marked ``rem("<requirement>")`` and ``rem("<scenario>")``, carries Allure labels (epic = section,
feature = requirement, story = scenario), runs the scenario against the chosen target and passes only when the
rules judge it « conforme »; the reasons are the failure message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.runner import judge_one, start_simulators
from harness.targets import make_target
from scenarios.registry import ScenarioSpec, discover


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dcc-recette", "conformity scenarios (dcc-recette)")
    group.addoption("--recette-target", default="reference", choices=("reference", "http"))
    group.addoption("--recette-driver-url", default=None, help="test-driver API base URL (http target)")
    group.addoption("--recette-fault", action="append", default=[], help="named fault of the reference DCC")
    group.addoption(
        "--rem-id", action="append", default=[], help="only these scenario/requirement/section ids"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rem(id): the REM requirement or scenario id a test checks")


def scenario_params() -> list[Any]:
    return [
        pytest.param(spec, id=spec.id, marks=[pytest.mark.rem(spec.requirement), pytest.mark.rem(spec.id)])
        for spec in discover().values()
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("--rem-id")
    if not wanted:
        return
    kept, dropped = [], []
    for item in items:
        ids = {m.args[0] for m in item.iter_markers("rem")}
        sections = {i.rsplit(".", 2)[0] for i in ids}
        (kept if not ids or ids & set(wanted) or sections & set(wanted) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def recette_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    option = request.config.getoption
    if option("--recette-target") == "reference":
        target = make_target("reference", faults=option("--recette-fault"))
    else:
        target = make_target("http", driver_url=option("--recette-driver-url"))
    # one set of simulators for the whole session (each scenario judges only its own evidence)
    stack = (
        start_simulators(target, tmp_path_factory.mktemp("simulators"))
        if any(s.needs for s in discover().values())
        else None
    )
    target.recette_stack = stack
    yield target
    if stack is not None:
        stack.stop()
    target.close()


@pytest.fixture
def recette(recette_target, tmp_path: Path):
    """Runs one scenario and returns its judged result (verdict, reasons, proof files under ``tmp_path``)."""

    def run(spec: ScenarioSpec):
        try:
            import allure

            allure.dynamic.epic(spec.section)
            allure.dynamic.feature(spec.requirement)
            allure.dynamic.story(spec.id)
        except ImportError:  # allure-pytest is optional for editors
            pass
        stack = getattr(recette_target, "recette_stack", None)
        # with shared simulators, their evidence lands in their store's directory: the scenario's own proofs go
        # there too, so that the rules' artifact checks find every file of the scenario in one bundle directory
        bundle = stack.evidence.root if stack is not None and stack.evidence.root is not None else tmp_path
        return judge_one(spec, recette_target, bundle, stack)

    return run
