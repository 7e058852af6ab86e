"""Reading back the SVRL-like report our compiled stylesheets write."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from lxml import etree

from harness.cda.schematron.compile import SVRL

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

# ANS marks most asserts role="error"; "warning"/"info" ones are advice and do not make a document invalid.
NON_BLOCKING_ROLES = frozenset({"warning", "warn", "info", "information"})


@dataclass(frozen=True)
class AssertFailure:
    """One failed assert (or fired report) with where it fired: the XPath of the context node."""

    schematron: str
    id: str | None
    role: str | None
    location: str
    test: str
    text: str
    pattern: str = ""
    kind: str = "assert"

    @property
    def blocking(self) -> bool:
        if self.kind == "report":
            return (self.role or "").lower() in {"error", "fatal"}
        return (self.role or "error").lower() not in NON_BLOCKING_ROLES

    def to_dict(self) -> dict:
        return {**asdict(self), "blocking": self.blocking}


def parse_svrl(svrl: str | bytes, schematron: str) -> list[AssertFailure]:
    data = svrl.encode("utf-8") if isinstance(svrl, str) else svrl
    root = etree.fromstring(data, _PARSER)
    failures = []
    for node in root.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report"):
        text_node = node.find(f"{SVRL}text")
        text = " ".join("".join(text_node.itertext()).split()) if text_node is not None else ""
        failures.append(
            AssertFailure(
                schematron=schematron,
                id=node.get("id"),
                role=node.get("role"),
                location=node.get("location", ""),
                test=" ".join(node.get("test", "").split()),
                text=text,
                pattern=node.get("pattern", ""),
                kind="assert" if node.tag == f"{SVRL}failed-assert" else "report",
            )
        )
    return failures
