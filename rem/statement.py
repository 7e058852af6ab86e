"""Splits a REM statement into its clauses, following the wording the cahier des charges defines (1.6.2.2).

"DOIT" is mandatory, "NE DOIT PAS" forbids, "PEUT" recommends; "LORSQUE … ALORS …" is a trigger, "SI … ALORS …" a
condition tied to the requirement's profile. The tree is what a rule author reads next to the formal rule, and
``normalise`` is the text whose hash pins a rule to the exact statement it formalises (drift detection).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class ClauseKind(StrEnum):
    OBLIGATION = "doit"
    PROHIBITION = "ne_doit_pas"
    RECOMMENDATION = "peut"
    TRIGGER = "lorsque"
    CONDITION = "si"
    CONTEXT = "contexte"  # a sentence with no modal verb: context for the clauses around it


MODAL_KINDS = (ClauseKind.OBLIGATION, ClauseKind.PROHIBITION, ClauseKind.RECOMMENDATION)


@dataclass(frozen=True)
class Clause:
    """One clause. Modal clauses have a ``subject`` and ``text`` (the action); conditions and triggers have
    ``text`` (the condition) and ``then`` (the clauses that follow ALORS)."""

    kind: ClauseKind
    text: str
    subject: str = ""
    then: tuple[Clause, ...] = ()

    def walk(self) -> Iterator[Clause]:
        yield self
        for clause in self.then:
            yield from clause.walk()


@dataclass(frozen=True)
class Statement:
    text: str
    clauses: tuple[Clause, ...]

    def walk(self) -> Iterator[Clause]:
        for clause in self.clauses:
            yield from clause.walk()

    @property
    def modality(self) -> ClauseKind | None:
        """The strongest modal verb of the statement: a requirement with any DOIT / NE DOIT PAS is mandatory."""
        kinds = {c.kind for c in self.walk()}
        for kind in (ClauseKind.PROHIBITION, ClauseKind.OBLIGATION, ClauseKind.RECOMMENDATION):
            if kind in kinds:
                return kind
        return None

    @property
    def conditions(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.walk() if c.kind is ClauseKind.CONDITION)

    @property
    def triggers(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.walk() if c.kind is ClauseKind.TRIGGER)

    def to_json(self) -> list[dict[str, object]]:
        def dump(clause: Clause) -> dict[str, object]:
            out: dict[str, object] = {"kind": clause.kind.value, "text": clause.text}
            if clause.subject:
                out["subject"] = clause.subject
            if clause.then:
                out["then"] = [dump(c) for c in clause.then]
            return out

        return [dump(c) for c in self.clauses]


_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "«": '"', "»": '"', "‐": "-", "–": "-"}
)
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The statement as a rule is pinned to: NFC, typographic quotes folded, all whitespace runs one space.

    Whitespace and quote-style edits (re-typing a cell, a non-breaking space) are not drift; any change of
    wording is.
    """
    text = unicodedata.normalize("NFC", text or "").translate(_QUOTES)
    return _WHITESPACE.sub(" ", text).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀÂÉÈÊÎÔÛÇ\"'(])")
_OPENER = re.compile(r"^(?P<kw>SI\b|S'(?=ILS?\b)|LORSQU(?:E\b|')|QUAND\b)\s*", re.IGNORECASE)
_ALORS = re.compile(r"[,\s]*\bALORS\b[,\s]*", re.IGNORECASE)
_MODAL = re.compile(
    r"\b(?:(?P<neg>ne|n')\s*)?(?P<verb>DOI(?:T|VENT)|PEU(?:T|VENT))\b(?P<pas>\s+pas\b)?", re.IGNORECASE
)
_LEADING_JOINERS = re.compile(r"^(?:\s|,|;|:|-|\bet\b|\bpuis\b|\balors\b|\bmais\b)+", re.IGNORECASE)
_TRAILING_JOINERS = re.compile(r"(?:\s|,|;|:|\.|\bet\b|\bpuis\b|\bmais\b)+$", re.IGNORECASE)


def _clean(text: str) -> str:
    return _TRAILING_JOINERS.sub("", _LEADING_JOINERS.sub("", text)).strip()


def parse(text: str) -> Statement:
    sentences = [s for s in _SENTENCE_END.split(normalise(text)) if s.strip()]
    return Statement(text, tuple(c for s in sentences for c in _parse_sentence(s)))


def _parse_sentence(sentence: str) -> tuple[Clause, ...]:
    opener = _OPENER.match(sentence)
    if opener is None:
        return _parse_modals(sentence)
    keyword = opener.group("kw").upper()
    kind = ClauseKind.CONDITION if keyword.startswith("S") else ClauseKind.TRIGGER
    rest = sentence[opener.end() :]
    alors = _ALORS.search(rest)
    if alors is not None:
        condition, consequence = rest[: alors.start()], rest[alors.end() :]
    else:
        # No ALORS: the condition ends at the last comma before the first modal verb ("S'il existe…, le système…").
        modal = _MODAL.search(rest)
        cut = rest.rfind(",", 0, modal.start()) if modal else -1
        if cut < 0:
            return (Clause(kind, _clean(rest)),)
        condition, consequence = rest[:cut], rest[cut + 1 :]
    if keyword.startswith("S'"):
        condition = "il" + condition if not condition.lower().startswith("il") else condition
    return (Clause(kind, _clean(condition), then=_parse_sentence(_clean(consequence))),)


def _parse_modals(sentence: str) -> tuple[Clause, ...]:
    matches = list(_MODAL.finditer(sentence))
    if not matches:
        cleaned = _clean(sentence)
        return (Clause(ClauseKind.CONTEXT, cleaned),) if cleaned else ()
    clauses: list[Clause] = []
    subject = ""
    previous_end = 0
    for index, match in enumerate(matches):
        own_subject = _clean(sentence[previous_end : match.start()])
        if own_subject:
            subject = own_subject
        end = matches[index + 1].start() if index + 1 < len(matches) else len(sentence)
        action = sentence[match.end() : end]
        if index + 1 < len(matches):
            # the next clause's subject, if any, sits between "et"/"," and its verb: keep it out of this action
            tail = re.search(r"(?:,|;|\bet\b|\bpuis\b)(?!.*(?:,|;|\bet\b|\bpuis\b))", action, re.IGNORECASE)
            if tail is not None:
                action = action[: tail.start()]
                previous_end = match.end() + tail.start()
            else:
                previous_end = end
        verb = match.group("verb").upper()
        negated = bool(match.group("neg")) or bool(match.group("pas"))
        if verb.startswith("PEU"):
            kind = ClauseKind.PROHIBITION if negated else ClauseKind.RECOMMENDATION
        else:
            kind = ClauseKind.PROHIBITION if negated else ClauseKind.OBLIGATION
        clauses.append(Clause(kind, _clean(action), subject=subject))
    return tuple(clauses)
