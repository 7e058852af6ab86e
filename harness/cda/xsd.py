"""Step 1 of the ANS chain: ``CDA_extended.xsd`` (with the xslt20 import for self-presenting documents), on lxml."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from lxml import etree


@dataclass(frozen=True)
class XsdError:
    line: int
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


class XsdValidator:
    def __init__(self, xsd_path: Path) -> None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        self.schema = etree.XMLSchema(etree.parse(str(xsd_path), parser))

    def validate(self, tree: etree._ElementTree) -> list[XsdError]:
        if self.schema.validate(tree):
            return []
        return [XsdError(e.line, e.message) for e in self.schema.error_log]
