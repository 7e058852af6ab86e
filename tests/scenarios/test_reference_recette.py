"""The reference DCC passes every executable scenario: each one, judged by the rules, is « conforme »."""

from __future__ import annotations

import pytest

from scenarios.pytest_plugin import scenario_params

# Scenarios whose DMP transaction needs the CDA producer (dcc.transmissions.packaging.default_packager): until it
# is wired (``DCC_PACKAGER`` naming nothing usable) they cannot be « conforme » on the reference.
NEED_CDA_PRODUCER = {"PSC.05.01"}


def _cda_producer_wired() -> bool:
    from dcc.transmissions.packaging import PackagingError, default_packager

    try:
        default_packager()
    except PackagingError:
        return False
    return True


def _manual(requirement: str) -> bool:
    from rules.loader import load_rules

    rule = load_rules().rules.get(requirement)
    return rule is not None and rule.manuelle


@pytest.mark.parametrize("spec", scenario_params())
def test_scenario_is_conforme_on_the_reference(spec, recette):
    if spec.id in NEED_CDA_PRODUCER and not _cda_producer_wired():
        pytest.xfail("no CDA producer wired (DCC_PACKAGER): the DMP transaction cannot be made")
    result = recette(spec)
    if _manual(spec.requirement):  # a human judges it: the scenario ran and delivered every proof file
        assert result.verdict.value == "non évalué", "\n".join(result.reasons)
        assert result.execution and result.execution["status"] == "passed", result.execution
        assert all(p["delivered"] for p in result.expected_proofs), result.expected_proofs
        return
    assert result.verdict.value == "conforme", "\n".join(result.reasons)
