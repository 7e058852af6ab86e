"""The result of validating one CDA, as the CLI prints it and as proofs store it (``to_json``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.cda.schematron.svrl import AssertFailure
from harness.cda.xsd import XsdError


@dataclass
class CdaReport:
    file: str
    volet: str | None = None
    template: tuple[str | None, str | None] = (None, None)
    schematrons: list[str] = field(default_factory=list)
    xsd_errors: list[XsdError] = field(default_factory=list)
    schematron_failures: list[AssertFailure] = field(default_factory=list)
    error: str | None = None  # unreadable, unsafe or not a CDA: nothing else was checked
    notes: list[str] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[AssertFailure]:
        return [f for f in self.schematron_failures if f.blocking]

    @property
    def valid(self) -> bool:
        return self.error is None and not self.xsd_errors and not self.blocking_failures

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "valid": self.valid,
            "volet": self.volet,
            "template": {"root": self.template[0], "extension": self.template[1]},
            "schematrons": list(self.schematrons),
            "error": self.error,
            "notes": list(self.notes),
            "xsd_errors": [e.to_dict() for e in self.xsd_errors],
            "schematron_failures": [f.to_dict() for f in self.schematron_failures],
        }

    def to_text(self) -> str:
        status = "VALID" if self.valid else "INVALID"
        lines = [f"{self.file}: {status}"]
        if self.error:
            lines.append(f"  error: {self.error}")
            return "\n".join(lines)
        root, extension = self.template
        template = (f"{root} ext {extension}" if extension else root) if root else "none"
        lines.append(f"  volet: {self.volet or 'unknown'} (templateId {template})")
        lines.extend(f"  note: {note}" for note in self.notes)
        lines.append(f"  XML Schema: {'ok' if not self.xsd_errors else f'{len(self.xsd_errors)} error(s)'}")
        lines.extend(f"    line {e.line}: {e.message}" for e in self.xsd_errors)
        lines.append(
            f"  Schematron: {len(self.schematrons)} run, {len(self.blocking_failures)} failed assert(s)"
            f", {len(self.schematron_failures) - len(self.blocking_failures)} warning(s)"
        )
        for f in self.schematron_failures:
            lines.append(f"    [{f.role or 'error'}] {f.schematron} {f.id or f.pattern} at {f.location}")
            lines.append(f"      {f.text}")
        return "\n".join(lines)
