"""The reference DCC passes every executable scenario: each one, judged by the rules, is « conforme »."""

from __future__ import annotations

import pytest

from scenarios.pytest_plugin import scenario_params

# Scenarios whose DMP transaction needs the CDA producer (dcc.transmissions.packaging.default_packager): until it
# is wired they cannot be « conforme » on the reference, and say so (« no CDA producer wired »).
NEED_CDA_PRODUCER = {"PSC.05.01"}


def _cda_producer_wired() -> bool:
    from dcc.transmissions.packaging import PackagingError, default_packager

    try:
        default_packager()
    except PackagingError:
        return False
    return True


@pytest.mark.parametrize("spec", scenario_params())
def test_scenario_is_conforme_on_the_reference(spec, recette):
    if spec.id in NEED_CDA_PRODUCER and not _cda_producer_wired():
        pytest.xfail("no CDA producer wired (DCC_PACKAGER): the DMP transaction cannot be made")
    result = recette(spec)
    assert result.verdict.value == "conforme", "\n".join(result.reasons)
