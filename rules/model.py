"""A rule: one REM requirement formalised. Rule files (``rules/<CHAPTER>.yaml``) are read into these."""

from __future__ import annotations

from dataclasses import dataclass, field

from rules.expr import Node


@dataclass(frozen=True)
class Pattern:
    """An event pattern: its type, an optional condition on its data, and its correlation with the trigger."""

    event: str
    quand: Node | None = None
    quand_text: str = ""
    correler: tuple[tuple[str, str], ...] = ()  # (this event's field, trigger's field)
    message: str = ""


@dataclass(frozen=True)
class Obligation(Pattern):
    """An event that must follow the trigger (``doit``), optionally within ``max_events`` events."""

    max_events: int | None = None


@dataclass(frozen=True)
class Prohibition(Pattern):
    """An event that must never occur in the scenario (``ne_doit_pas``); with ``apres_declencheur`` only once the
    trigger has been seen (and correlated with it)."""

    apres_declencheur: bool = True


@dataclass(frozen=True)
class ProofCheck:
    """An assertion on an artifact of an event (``preuve``): an XPath on an XML document, a header of an e-mail, the
    entries of a ZIP. ``source`` says whose artifacts: the trigger's (``declencheur``) or an obligation's (its index)."""

    kind: str  # "xpath" | "entete" | "zip"
    expression: str
    source: str = "declencheur"
    artifact: str = ""  # regular expression the artifact path must match (e.g. "\\.xml$")
    attendu: str | None = None  # for entete: regular expression the header must match
    message: str = ""


@dataclass(frozen=True)
class Rule:
    requirement: str
    file: str
    line: int
    rem_text_sha256: str
    titre: str = ""
    si: Node | None = None
    si_text: str = ""
    lorsque: Pattern | None = None
    doit: tuple[Obligation, ...] = ()
    ne_doit_pas: tuple[Prohibition, ...] = ()
    preuve: tuple[ProofCheck, ...] = ()
    manuelle: bool = False
    preuve_attendue: str = ""
    source_text: str = field(default="", compare=False)  # the rule's YAML, for ``rules explain``

    @property
    def event_types(self) -> set[str]:
        types = {p.event for p in (*self.doit, *self.ne_doit_pas)}
        if self.lorsque:
            types.add(self.lorsque.event)
        return types
