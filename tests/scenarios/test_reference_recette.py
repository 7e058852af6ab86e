"""The reference DCC passes every executable scenario: each one, judged by the rules, is « conforme »."""

from __future__ import annotations

import pytest

from scenarios.pytest_plugin import scenario_params


@pytest.mark.parametrize("spec", scenario_params())
def test_scenario_is_conforme_on_the_reference(spec, recette):
    result = recette(spec)
    assert result.verdict.value == "conforme", "\n".join(result.reasons)
