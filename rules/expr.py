"""The rules' condition language: small, safe (no Python ``eval``), compiled to durable_rules conditions.

Grammar (``quand:`` and ``si:`` fields of a rule file)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | atom
    atom    := "(" expr ")" | "exists" path | value "in" path | path "in" list | path op value
    op      := "==" | "!=" | "<" | "<=" | ">" | ">=" | "~="        (~= : regular expression search)
    value   := "string" | number | true | false | null | trigger.path
    path    := name ("." name)*

A ``path`` names a field of the event's ``data`` (``to``, ``document_id``, ``headers.X-MSS-INS``); ``trigger.x``
names field ``x`` of the event that triggered the rule, which is how obligations correlate. ``profile.x`` in a
``si:`` names the run profile. ``value in path`` tests membership of a list field (``"INVISIBLE_PATIENT" in
confidentiality_codes``); ``path in [..]`` tests the field against a list of literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|<=|>=|~=|<|>|\(|\)|\[|\]|,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "exists", "true", "false", "null"}
MAX_DISJUNCTS = 16  # one durable_rules rule per alternative; past this durable_rules refuses the ruleset
COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "~="}


class ExprError(ValueError):
    """A condition that does not parse or cannot be compiled; ``column`` is 1-based within the expression."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message if column is None else f"{message} (column {column})")
        self.column = column


@dataclass(frozen=True)
class Field:
    path: str  # dotted path; "trigger." / "profile." prefixes kept

    @property
    def is_trigger(self) -> bool:
        return self.path.startswith("trigger.")


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Compare:
    op: str
    left: Field
    right: Field | Literal


@dataclass(frozen=True)
class Member:  # literal in list-field
    value: Literal | Field
    field: Field


@dataclass(frozen=True)
class OneOf:  # field in [literals]
    field: Field
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Exists:
    field: Field


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


Node = Compare | Member | OneOf | Exists | Not | BoolOp


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out: list[tuple[str, Any, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExprError(f"unexpected character {text[position:].strip()[0]!r}", position + 1)
        kind = match.lastgroup
        raw = match.group(kind)
        column = match.start(kind) + 1
        if kind == "string":
            body = raw[1:-1].replace("\\\\", "\x00").replace('\\"', '"').replace("\\'", "'")
            out.append(("lit", body.replace("\x00", "\\"), column))
        elif kind == "number":
            out.append(("lit", float(raw) if "." in raw else int(raw), column))
        elif kind == "name" and raw in KEYWORDS:
            constants = {"true": True, "false": False, "null": None}
            out.append(("lit", constants[raw], column) if raw in constants else ("kw", raw, column))
        elif kind == "name":
            out.append(("field", raw, column))
        else:
            out.append(("op", raw, column))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, Any, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, Any, int]:
        token = self.peek()
        if token is None:
            raise ExprError("unexpected end of condition", len(self.text) + 1)
        self.index += 1
        return token

    def accept(self, kind: str, value: Any = None) -> bool:
        token = self.peek()
        if token and token[0] == kind and (value is None or token[1] == value):
            self.index += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            raise ExprError(f"unexpected {token[1]!r}", token[2])
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.accept("kw", "or"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.accept("kw", "and"):
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def parse_not(self) -> Node:
        if self.accept("kw", "not"):
            return Not(self.parse_not())
        return self.parse_atom()

    def value(self) -> Field | Literal:
        kind, value, column = self.take()
        if kind == "lit":
            return Literal(value)
        if kind == "field":
            return Field(value)
        raise ExprError(f"expected a value, got {value!r}", column)

    def parse_atom(self) -> Node:
        if self.accept("op", "("):
            node = self.parse_or()
            if not self.accept("op", ")"):
                raise ExprError("missing ')'", (self.peek() or ("", "", len(self.text) + 1))[2])
            return node
        if self.accept("kw", "exists"):
            kind, value, column = self.take()
            if kind != "field":
                raise ExprError("'exists' takes a field", column)
            return Exists(Field(value))
        left = self.value()
        token = self.peek()
        if token and token[0] == "kw" and token[1] == "in":
            self.take()
            if self.accept("op", "["):
                if not isinstance(left, Field):
                    raise ExprError("'in [..]' needs a field on its left", token[2])
                values = []
                while not self.accept("op", "]"):
                    item = self.value()
                    if not isinstance(item, Literal):
                        raise ExprError("a list holds literals only", token[2])
                    values.append(item.value)
                    self.accept("op", ",")
                return OneOf(left, tuple(values))
            kind, value, column = self.take()
            if kind != "field":
                raise ExprError("'in' takes a list field or a [list]", column)
            return Member(left, Field(value))
        if token is None or token[0] != "op" or token[1] not in COMPARISONS:
            where = token[2] if token else len(self.text) + 1
            raise ExprError("expected a comparison (==, !=, <, <=, >, >=, ~=) or 'in'", where)
        self.take()
        right = self.value()
        if (
            isinstance(left, Field)
            and (left.is_trigger or left.path.startswith("profile."))
            and isinstance(right, Field)
        ):
            raise ExprError("compare a field of this event with a literal or a trigger field", token[2])
        if isinstance(left, Literal):
            if isinstance(right, Literal):
                raise ExprError("a comparison needs a field", token[2])
            left, right = right, left
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(token[1], token[1])
        else:
            op = token[1]
        if op == "~=" and not (isinstance(right, Literal) and isinstance(right.value, str)):
            raise ExprError("'~=' takes a regular expression string", token[2])
        if op == "~=":
            try:
                re.compile(right.value)
            except re.error as error:
                raise ExprError(f"bad regular expression: {error}", token[2]) from None
        return Compare(op, left, right)


def parse(text: str) -> Node:
    if not isinstance(text, str) or not text.strip():
        raise ExprError("empty condition")
    return _Parser(text).parse()


def fields(node: Node) -> set[str]:
    """Every field path a condition reads (trigger references included, with their prefix)."""
    if isinstance(node, Compare):
        return {node.left.path} | ({node.right.path} if isinstance(node.right, Field) else set())
    if isinstance(node, Member):
        return {node.field.path} | ({node.value.path} if isinstance(node.value, Field) else set())
    if isinstance(node, (OneOf, Exists)):
        return {node.field.path}
    if isinstance(node, Not):
        return fields(node.operand)
    return set().union(*(fields(o) for o in node.operands))


# --- evaluation in Python (profile conditions, and the reference semantics the engine is tested against) -------

_MISSING = object()


def _lookup(path: str, env: dict[str, Any]) -> Any:
    value: Any = env
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def evaluate(node: Node, env: dict[str, Any]) -> bool:
    """True/False for ``env`` (a mapping; ``trigger.x`` and ``profile.x`` resolve inside it). A missing field makes
    any comparison false, as in durable_rules."""
    if isinstance(node, BoolOp):
        results = (evaluate(o, env) for o in node.operands)
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Not):
        return not evaluate(node.operand, env)
    if isinstance(node, Exists):
        return _lookup(node.field.path, env) is not _MISSING
    if isinstance(node, OneOf):
        value = _lookup(node.field.path, env)
        return value is not _MISSING and value in node.values
    if isinstance(node, Member):
        container = _lookup(node.field.path, env)
        item = node.value.value if isinstance(node.value, Literal) else _lookup(node.value.path, env)
        return isinstance(container, list) and item is not _MISSING and item in container
    left = _lookup(node.left.path, env)
    right = node.right.value if isinstance(node.right, Literal) else _lookup(node.right.path, env)
    if left is _MISSING or right is _MISSING:
        return False
    try:
        if node.op == "==":
            return left == right
        if node.op == "!=":
            return left != right
        if node.op == "~=":
            return isinstance(left, str) and re.search(right, left) is not None
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[node.op]
    except TypeError:
        return False


# --- compilation to durable_rules JSON conditions ---------------------------------------------------------------

_DR_OPS = {"==": None, "!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "~=": "$mt"}
_NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def membership_key(value: Any) -> str:
    """A field name for "value is in the list" (hex of its JSON: any value, no dots or spaces)."""
    import json as _json

    return "m" + _json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8").hex()


def membership_path(list_field: str, value: Any) -> str:
    return f"data.{list_field}__has.{membership_key(value)}"


def _dr_path(field: Field) -> str:
    if field.is_trigger:
        raise ExprError(
            f"{field.path}: a condition on the trigger belongs in 'lorsque'; here compare a field of "
            "this event with trigger.<field>"
        )
    return "data." + field.path


def _dr_value(value: Field | Literal, trigger_alias: str) -> Any:
    if isinstance(value, Literal):
        return value.value
    if not value.is_trigger:
        raise ExprError(f"{value.path}: the right side of a comparison is a literal or trigger.<field>")
    return {trigger_alias: "data." + value.path[len("trigger.") :]}


def to_durable(node: Node, trigger_alias: str = "t", negate: bool = False) -> dict[str, Any]:
    """The durable_rules condition for ``node``. durable_rules has no general negation: ``not`` is pushed down to
    the leaves (De Morgan, inverted comparisons, ``$nex``); a negated list membership or regular expression has
    no durable_rules form and is refused here with the workaround named (write the prohibition positively)."""
    if isinstance(node, BoolOp):
        op = node.op if not negate else ("or" if node.op == "and" else "and")
        return {f"${op}": [to_durable(o, trigger_alias, negate) for o in node.operands]}
    if isinstance(node, Not):
        return to_durable(node.operand, trigger_alias, not negate)
    if isinstance(node, Exists):
        return {("$nex" if negate else "$ex"): {_dr_path(node.field): 1}}
    if isinstance(node, OneOf):
        if not node.values:
            raise ExprError(f"{node.field.path} in []: an empty list never matches")
        leaves = [Compare("==", node.field, Literal(v)) for v in node.values]
        return to_durable(BoolOp("or", tuple(leaves)), trigger_alias, negate)
    if isinstance(node, Member):
        if negate:
            raise ExprError(
                f"'not ... in {node.field.path}': durable_rules cannot negate a list membership; "
                "write it as a prohibition (ne_doit_pas) on the positive membership"
            )
        if not isinstance(node.value, Literal):
            raise ExprError(f"{node.value.path} in {node.field.path}: list membership takes a literal value")
        # durable_rules 2.0.28 crashes on "$iany" inside a join (found by the property tests of tests/rules/test_engine.py): membership
        # is read from the map rules.engine adds beside every list field instead.
        return {membership_path(node.field.path, node.value.value): True}
    op = _NEGATED[node.op] if negate and node.op != "~=" else node.op
    if node.op == "~=" and negate:
        raise ExprError(
            "'not (x ~= re)': durable_rules cannot negate a regular expression; use a prohibition"
        )
    path = _dr_path(node.left)
    value = _dr_value(node.right, trigger_alias)
    if op == "!=" and isinstance(node.right, Field):
        raise ExprError(
            f"{node.left.path} != {node.right.path}: durable_rules 2.0.28 crashes on a '!=' join with "
            "the trigger; state the rule with '==' joins (correler) and conditions on literals"
        )
    durable_op = _DR_OPS[op]
    if op == "~=":
        # durable_rules matches the whole string, in its own regular-expression dialect: a search is ".*re.*"
        head = value[1:] if value.startswith("^") else ".*" + value
        tail = head[:-1] if head.endswith("$") and not head.endswith("\\$") else head + ".*"
        return {"$mt": {path: tail}}
    return {path: value} if durable_op is None else {durable_op: {path: value}}


def to_durable_dnf(node: Node, trigger_alias: str = "t") -> list[list[dict[str, Any]]]:
    """``node`` in disjunctive normal form, each conjunct a list of durable_rules leaf conditions.

    durable_rules 2.0.28 gives wrong joins when an ``$or`` holding trigger references sits inside an ``$and``
    (seen on the REPR.05 fixtures); a rule per disjunct, each a flat conjunction, has none of that."""

    def expand(n: Node, negate: bool) -> list[list[tuple[Node, bool]]]:
        if isinstance(n, Not):
            return expand(n.operand, not negate)
        if isinstance(n, OneOf):
            leaves = tuple(Compare("==", n.field, Literal(v)) for v in n.values)
            if not leaves:
                raise ExprError(f"{n.field.path} in []: an empty list never matches")
            return expand(BoolOp("or", leaves), negate)
        if isinstance(n, BoolOp):
            conjunctive = (n.op == "and") != negate
            parts = [expand(o, negate) for o in n.operands]
            if not conjunctive:
                return [c for p in parts for c in p]
            result: list[list[tuple[Node, bool]]] = [[]]
            for p in parts:
                result = [r + c for r in result for c in p]
            return result
        if negate and isinstance(n, Compare) and isinstance(n.right, Literal):
            # "not (x == v)" holds when x is absent (evaluate's semantics); durable_rules' inverted comparison
            # never matches an absent field, so the absence is its own disjunct.
            return [[(Exists(n.left), True)], [(n, True)]]
        return [[(n, negate)]]

    conjuncts = expand(node, False)
    if len(conjuncts) > MAX_DISJUNCTS:
        raise ExprError(
            f"the condition expands to {len(conjuncts)} alternatives (more than {MAX_DISJUNCTS}): "
            "state it positively or split it into several patterns"
        )
    return [
        [to_durable(leaf, trigger_alias, negated) for leaf, negated in conjunct] for conjunct in conjuncts
    ]
