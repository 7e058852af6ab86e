"""Step 2 of the ISO pipeline: instantiate abstract patterns (``is-a`` + ``param``) and abstract rules (``extends``).

The ANS value-set checks are one abstract pattern (``dansJeuDeValeurs``) instantiated a few hundred times with
``$path_jdv``, ``$xpath_elt``... Parameters are substituted textually in every query attribute, as the ISO
reference does, longest names first so that ``$a_b`` is never taken for ``$a`` followed by ``_b``.
"""

from __future__ import annotations

import copy
import re

from lxml import etree

from harness.cda.schematron.include import SCH, SchematronError

_QUERY_ATTRIBUTES = ("context", "test", "select", "value", "path", "subject")


def _substitute(element: etree._Element, params: dict[str, str]) -> None:
    if not params:
        return
    names = sorted(params, key=len, reverse=True)
    pattern = re.compile(r"\$(" + "|".join(re.escape(n) for n in names) + r")(?![\w.\-])")

    def replace(match: re.Match[str]) -> str:
        return params[match.group(1)]

    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        for attribute in _QUERY_ATTRIBUTES:
            value = node.get(attribute)
            if value is not None and "$" in value:
                node.set(attribute, pattern.sub(replace, value))


def expand_abstract_patterns(schema: etree._Element) -> None:
    abstract = {
        p.get("id"): p for p in schema.iter(f"{SCH}pattern") if p.get("abstract") == "true" and p.get("id")
    }
    for pattern in list(schema.iter(f"{SCH}pattern")):
        base_id = pattern.get("is-a")
        if not base_id:
            continue
        base = abstract.get(base_id)
        if base is None:
            raise SchematronError(f"pattern {pattern.get('id')!r}: abstract pattern {base_id!r} not found")
        params = {p.get("name"): p.get("value", "") for p in pattern.findall(f"{SCH}param")}
        instance = copy.deepcopy(base)
        for attribute in ("abstract", "id"):
            instance.attrib.pop(attribute, None)
        if pattern.get("id"):
            instance.set("id", pattern.get("id"))
        _substitute(instance, params)
        instance.tail = pattern.tail
        pattern.getparent().replace(pattern, instance)
    for pattern in abstract.values():
        if pattern.getparent() is not None:
            pattern.getparent().remove(pattern)


def expand_abstract_rules(schema: etree._Element) -> None:
    rules = {r.get("id"): r for r in schema.iter(f"{SCH}rule") if r.get("abstract") == "true" and r.get("id")}
    for _ in range(20):  # an abstract rule may itself extend another one
        extends = list(schema.iter(f"{SCH}extends"))
        if not extends:
            break
        for extend in extends:
            base = rules.get(extend.get("rule"))
            if base is None:
                raise SchematronError(f"sch:extends: abstract rule {extend.get('rule')!r} not found")
            parent = extend.getparent()
            position = parent.index(extend)
            parent.remove(extend)
            for offset, child in enumerate(c for c in base if isinstance(c.tag, str)):
                parent.insert(position + offset, copy.deepcopy(child))
    else:
        raise SchematronError("sch:extends nested more than 20 levels (a cycle?)")
    for rule in rules.values():
        if rule.getparent() is not None:
            rule.getparent().remove(rule)
