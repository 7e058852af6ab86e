"""Targets: the DCC a recette runs against, behind one interface (``Target``/``TargetSession``).

``reference`` runs the reference DCC in-process (one fresh database per scenario: fast and isolated); ``http``
drives any DCC that implements the test-driver API of docs/test-driver.md (an editor's DCC, or the reference DCC
served by ``dcc-recette dcc serve``). Scenarios only ever see ``TargetSession``.
"""

from harness.targets.base import NotFound, Refused, Target, TargetError, TargetSession

__all__ = ["NotFound", "Refused", "Target", "TargetError", "TargetSession", "make_target"]


def make_target(kind: str, driver_url: str | None = None, **options) -> Target:
    """The target named on the command line; a usage problem raises ``TargetError`` with what to change."""
    if kind == "reference":
        from harness.targets.reference import ReferenceTarget

        return ReferenceTarget(**options)
    if kind == "http":
        if not driver_url:
            raise TargetError("--target http needs --driver-url (the base URL of the DCC's test-driver API)")
        from harness.targets.http import HttpTarget

        return HttpTarget(driver_url)
    raise TargetError(f"unknown target {kind!r}: reference or http")
