"""Reads rule files strictly: unknown keys, bad conditions and malformed entries are errors naming the file, the
line and the rule id (stage ``load``), so a typo never turns a check off silently."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rules.expr import ExprError, fields, parse, to_durable_dnf
from rules.model import Obligation, Pattern, Prohibition, ProofCheck, Rule

RULES_DIR = Path(__file__).resolve().parent
RULE_KEYS = {
    "rem_text_sha256",
    "titre",
    "si",
    "lorsque",
    "doit",
    "alors",
    "ne_doit_pas",
    "preuve",
    "manuelle",
    "preuve_attendue",
}
PATTERN_KEYS = {"event", "quand", "correler", "message", "dans", "apres_declencheur"}
PROOF_KEYS = {"xpath", "entete", "zip", "source", "artefact", "attendu", "message"}
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RuleError:
    """A problem with a rule file: the stage (load, compile, evaluate), the place and the rule id."""

    stage: str
    file: str
    line: int | None
    requirement: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "file": self.file,
            "line": self.line,
            "requirement": self.requirement,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rid = f" {self.requirement}:" if self.requirement else ""
        return f"{self.stage} error: {where}:{rid} {self.message}"


@dataclass
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256, recorded with every verdict


class _Fail(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _lines(node: yaml.Node) -> dict[str, int]:
    """Line (1-based) of each rule id under the top-level ``rules:`` mapping."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.MappingNode):
            return {k.value: k.start_mark.line + 1 for k, _ in value.value}
    return {}


def _condition(text: Any, what: str, allow_trigger: bool, allow_profile: bool = False):
    if not isinstance(text, str):
        raise _Fail(f"{what}: a condition is a string")
    try:
        node = parse(text)
    except ExprError as error:
        raise _Fail(f"{what}: {error}") from None
    if not allow_profile:
        try:
            to_durable_dnf(node)  # compile now: an error names the rule at load, not halfway through a run
        except ExprError as error:
            raise _Fail(f"{what}: {error}") from None
    for path in fields(node):
        if path.startswith("trigger.") and not allow_trigger:
            raise _Fail(f"{what}: 'trigger.' is only meaningful after the trigger")
        if path.startswith("profile.") != allow_profile and allow_profile:
            raise _Fail(f"{what}: a 'si' condition reads the run profile (profile.<field>), not {path!r}")
    return node


def _pattern(raw: Any, what: str, cls: type, with_trigger: bool) -> Pattern:
    if isinstance(raw, str):
        raw = {"event": raw}
    if not isinstance(raw, dict):
        raise _Fail(f"{what}: expected a mapping with 'event'")
    unknown = set(raw) - PATTERN_KEYS
    if unknown:
        raise _Fail(
            f"{what}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(PATTERN_KEYS))})"
        )
    event = raw.get("event")
    if not isinstance(event, str) or not _EVENT_TYPE.match(event):
        raise _Fail(f"{what}: 'event' must be a dotted event type such as document.status_changed")
    correler = raw.get("correler", [])
    if correler and not with_trigger:
        raise _Fail(f"{what}: 'correler' needs a trigger")
    if isinstance(correler, list):
        pairs = tuple((str(f), str(f)) for f in correler)
    elif isinstance(correler, dict):
        pairs = tuple((str(k), str(v)) for k, v in correler.items())
    else:
        raise _Fail(f"{what}: 'correler' is a list of fields or a mapping field: trigger_field")
    kwargs: dict[str, Any] = {
        "event": event,
        "quand": _condition(raw["quand"], f"{what} quand", with_trigger) if "quand" in raw else None,
        "quand_text": raw.get("quand", ""),
        "correler": pairs,
        "message": str(raw.get("message", "")),
    }
    if cls is Obligation:
        if "apres_declencheur" in raw:
            raise _Fail(
                f"{what}: an obligation always follows its trigger ('apres_declencheur' is for ne_doit_pas)"
            )
        dans = raw.get("dans")
        if dans is not None and dans != "fin_scenario":
            match = re.fullmatch(r"(\d+) evenements?", str(dans))
            if not match:
                raise _Fail(f"{what}: 'dans' is 'fin_scenario' or '<N> evenements'")
            kwargs["max_events"] = int(match.group(1))
    elif cls is Prohibition:
        kwargs["apres_declencheur"] = bool(raw.get("apres_declencheur", with_trigger))
    elif "dans" in raw or "apres_declencheur" in raw:
        raise _Fail(f"{what}: 'dans'/'apres_declencheur' belong to doit/ne_doit_pas")
    return cls(**kwargs)


def _proof(raw: Any, what: str, obligations: int) -> ProofCheck:
    if not isinstance(raw, dict):
        raise _Fail(f"{what}: expected a mapping with one of xpath, entete, zip")
    unknown = set(raw) - PROOF_KEYS
    if unknown:
        raise _Fail(f"{what}: unknown key(s) {', '.join(sorted(unknown))}")
    kinds = [k for k in ("xpath", "entete", "zip") if k in raw]
    if len(kinds) != 1:
        raise _Fail(f"{what}: exactly one of xpath, entete, zip")
    source = str(raw.get("source", "declencheur"))
    if source != "declencheur" and not (source.isdigit() and int(source) < obligations):
        raise _Fail(f"{what}: source is 'declencheur' or the index of an obligation (0..{obligations - 1})")
    if kinds[0] == "xpath":
        from lxml import etree

        try:
            etree.XPath(raw["xpath"], namespaces={"hl7": "urn:hl7-org:v3"})
        except etree.XPathSyntaxError as error:
            raise _Fail(f"{what}: bad XPath ({error})") from None
    return ProofCheck(
        kinds[0],
        str(raw[kinds[0]]),
        source,
        str(raw.get("artefact", "")),
        raw.get("attendu"),
        str(raw.get("message", "")),
    )


def _rule(rid: str, raw: Any, file: str, line: int, text: str) -> Rule:
    if not isinstance(raw, dict):
        raise _Fail("a rule is a mapping")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise _Fail(f"unknown key(s) {', '.join(sorted(unknown))}")
    sha = raw.get("rem_text_sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise _Fail("rem_text_sha256 must be the quoted 64-hex sha256 of the normalised REM statement")
    common = {
        "requirement": rid,
        "file": file,
        "line": line,
        "rem_text_sha256": sha,
        "titre": str(raw.get("titre", "")),
        "source_text": text,
    }
    if raw.get("manuelle"):
        extra = set(raw) & {"lorsque", "doit", "alors", "ne_doit_pas", "preuve", "si"}
        if extra:
            raise _Fail(f"a manual rule has no {', '.join(sorted(extra))}")
        if not str(raw.get("preuve_attendue", "")).strip():
            raise _Fail("a manual rule names the proof a person must give (preuve_attendue)")
        return Rule(**common, manuelle=True, preuve_attendue=str(raw["preuve_attendue"]))
    if "lorsque" not in raw:
        raise _Fail("an automatic rule needs 'lorsque' (the trigger that makes its verdict meaningful)")
    doit_raw = raw.get("doit", raw.get("alors", []))
    if "doit" in raw and "alors" in raw:
        raise _Fail("'alors' is another name for 'doit': use one")
    obligations = tuple(_pattern(o, f"doit[{i}]", Obligation, True) for i, o in enumerate(doit_raw or []))
    prohibitions = tuple(
        _pattern(p, f"ne_doit_pas[{i}]", Prohibition, True)
        for i, p in enumerate(raw.get("ne_doit_pas", []) or [])
    )
    proofs = tuple(
        _proof(p, f"preuve[{i}]", len(obligations)) for i, p in enumerate(raw.get("preuve", []) or [])
    )
    if not (obligations or prohibitions or proofs):
        raise _Fail("an automatic rule needs at least one of doit, ne_doit_pas, preuve")
    si = raw.get("si")
    return Rule(
        **common,
        si=_condition(si, "si", False, allow_profile=True) if si is not None else None,
        si_text=si or "",
        lorsque=_pattern(raw["lorsque"], "lorsque", Pattern, False),
        doit=obligations,
        ne_doit_pas=prohibitions,
        preuve=proofs,
    )


def _rule_text(lines: list[str], start: int) -> str:
    """The YAML lines of one rule (from its id to the next id at the same indentation)."""
    first = lines[start - 1]
    indent = len(first) - len(first.lstrip())
    out = [first]
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        out.append(line)
    return "\n".join(out).rstrip()


# libyaml's safe loader when PyYAML was built with it (ten times faster: the rule files are read at every run)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_rule_file(path: Path, ruleset: RuleSet) -> None:
    name = path.name
    raw_text = path.read_text(encoding="utf-8")
    ruleset.files[name] = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
    try:
        node = yaml.compose(raw_text, Loader=YAML_LOADER)
        data = yaml.load(raw_text, Loader=YAML_LOADER)  # YAML_LOADER is a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        ruleset.errors.append(
            RuleError("load", name, mark.line + 1 if mark else None, None, f"not valid YAML: {error}")
        )
        return
    if not isinstance(data, dict) or not isinstance(data.get("rules"), dict):
        ruleset.errors.append(RuleError("load", name, 1, None, "expected a top-level 'rules:' mapping"))
        return
    lines = _lines(node)
    text_lines = raw_text.splitlines()
    for rid, raw in data["rules"].items():
        line = lines.get(rid)
        if rid in ruleset.rules:
            other = ruleset.rules[rid]
            ruleset.errors.append(
                RuleError("load", name, line, rid, f"also defined in {other.file}:{other.line}")
            )
            continue
        try:
            ruleset.rules[rid] = _rule(
                rid, raw, name, line or 0, _rule_text(text_lines, line) if line else ""
            )
        except _Fail as error:
            ruleset.errors.append(RuleError("load", name, error.line or line, rid, str(error)))


def load_rules(directory: Path = RULES_DIR) -> RuleSet:
    ruleset = RuleSet()
    paths = sorted(directory.glob("*.yaml"))
    for path in paths:
        load_rule_file(path, ruleset)
    return ruleset
