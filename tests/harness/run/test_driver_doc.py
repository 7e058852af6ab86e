"""docs/test-driver.md documents every operation of the test-driver API the reference serves."""

from harness.driver_doc import DOC, reference_openapi, rendered
from harness.targets.http import CORE, routes_from_openapi


def test_every_driver_operation_is_documented():
    openapi = reference_openapi()
    text = DOC.read_text(encoding="utf-8")
    routes = routes_from_openapi(openapi)
    assert set(CORE) <= set(routes)
    undocumented = [f"{name}: {m} {p}" for name, (m, p, _) in routes.items() if f"`{m} {p}`" not in text]
    assert not undocumented
    assert text == rendered(openapi), "regenerate with `python -m harness.driver_doc`"
