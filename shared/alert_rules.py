"""Alert rules: what they say, the built-in defaults, and loading a YAML rules file.

A rules file looks like this (see samples/alerts.yaml)::

    include_defaults: true          # optional; false drops the built-in rules
    rules:
      - id: server-error-rate        # stable id: the ``rule`` attribute of every alert it raises
        match: "servers*.csv"        # glob on the object name (base name when it has no '/')
        severity: critical           # info | warning | critical
        kind: threshold
        column: error_rate
        metric: rows                 # rows | max | min | mean | missing_share | outliers
        op: ">"                      # > >= < <= (quote them: a bare > starts a YAML block scalar)
        value: 0.03
        label: server                # optional column that names offending rows

Every problem in a file is a ``ConfigurationError`` naming the file and the line, raised when the rules
are loaded (at startup), never half-way through a run.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from shared.errors import ConfigurationError, PermanentError

if TYPE_CHECKING:
    from shared.settings import Settings
    from shared.storage import ObjectStore

logger = logging.getLogger(__name__)

SEVERITIES = ("info", "warning", "critical")
KINDS = (
    "threshold",
    "empty_columns",
    "duplicate_rows",
    "constant_columns",
    "schema_change",
    "row_count",
    "analysis_failed",
)
# rows: every row's value is compared (names the offending rows); the others are profile metrics.
METRICS = ("rows", "max", "min", "mean", "missing_share", "outliers")
OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_OP_WORDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Keys each kind accepts besides the common ones; anything else is a typo and an error.
_COMMON = {"id", "kind", "severity", "match", "description", "repeat_window_s"}
_KEYS = {
    "threshold": {"column", "metric", "op", "value", "label"},
    "empty_columns": set(),
    "duplicate_rows": {"op", "value"},
    "constant_columns": set(),
    "schema_change": set(),
    "row_count": {"min", "max"},
    "analysis_failed": set(),
}


@dataclass(frozen=True)
class Rule:
    """One alert rule. ``line`` is where it starts in its file (None for built-in rules)."""

    id: str
    kind: str
    severity: str
    match: str = "*"
    column: str | None = None
    metric: str | None = None
    op: str | None = None
    value: float | None = None
    label: str | None = None
    min: int | None = None
    max: int | None = None
    description: str | None = None
    repeat_window_s: float | None = None
    line: int | None = None

    def matches(self, object_name: str) -> bool:
        """Whether the rule applies to ``object_name``.

        A pattern without '/' is matched against the base name, so ``servers*.csv`` also covers
        ``incoming/servers-eu.csv``; a pattern with '/' is matched against the whole name. Case-sensitive,
        like object names.
        """
        target = object_name if "/" in self.match else object_name.rsplit("/", 1)[-1]
        return fnmatch.fnmatchcase(target, self.match)

    def compare(self, observed: float) -> bool:
        """``observed <op> value``, compared exactly as floats.

        No tolerance: 0.03 read from a CSV and 0.03 written in YAML are the same double, so
        ``> 0.03`` does not fire on 0.03. A computed mean may carry rounding (0.1+0.2 > 0.3).
        """
        assert self.op is not None and self.value is not None
        return OPS[self.op](float(observed), float(self.value))

    @property
    def condition(self) -> str:
        """The rule in words, e.g. ``error_rate > 0.03``."""
        if self.kind == "threshold":
            subject = self.column if self.metric == "rows" else f"{self.metric}({self.column})"
            return f"{subject} {self.op} {_num(self.value)}"
        if self.kind == "duplicate_rows":
            return f"duplicate rows {self.op} {_num(self.value)}"
        if self.kind == "row_count":
            bounds = []
            if self.min is not None:
                bounds.append(f">= {self.min}")
            if self.max is not None:
                bounds.append(f"<= {self.max}")
            return "rows " + " and ".join(bounds)
        return self.kind.replace("_", " ")


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, and where they came from (for logs and error messages)."""

    rules: tuple[Rule, ...]
    source: str = "built-in defaults"
    repeat_window_s: float = 86400.0

    def for_object(self, object_name: str) -> list[Rule]:
        """The rules whose glob matches ``object_name``, in file order."""
        return [r for r in self.rules if r.matches(object_name)]

    def window(self, rule: Rule) -> float:
        return self.repeat_window_s if rule.repeat_window_s is None else rule.repeat_window_s


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        id="analysis-failed",
        kind="analysis_failed",
        severity="critical",
        description="The file could not be analysed.",
    ),
    Rule(
        id="schema-change",
        kind="schema_change",
        severity="warning",
        description="Columns were added, removed or changed type since the previous file of the dataset.",
    ),
    Rule(
        id="empty-columns",
        kind="empty_columns",
        severity="warning",
        description="A column has no values at all.",
    ),
    Rule(
        id="duplicate-rows",
        kind="duplicate_rows",
        severity="info",
        op=">",
        value=0,
        description="Some rows repeat an earlier row exactly.",
    ),
    Rule(
        id="constant-columns",
        kind="constant_columns",
        severity="info",
        description="A column holds one value in every row.",
    ),
)


def default_rules(repeat_window_s: float = 86400.0) -> RuleSet:
    """The built-in rules used when no rules file is configured."""
    return RuleSet(DEFAULT_RULES, "built-in defaults", repeat_window_s)


def load_rules(settings: Settings, store: ObjectStore | None = None) -> RuleSet:
    """The rules named by ``settings.alert_rules`` (local path or gs:// URI), or the defaults.

    Raises ConfigurationError for a missing or malformed file, naming the line. Transient storage
    errors propagate unchanged (the start may be retried).
    """
    where = settings.alert_rules.strip()
    window = settings.alert_repeat_window_s
    if not where:
        return default_rules(window)
    if where.startswith("gs://"):
        bucket, _, name = where[len("gs://") :].partition("/")
        if not bucket or not name:
            raise ConfigurationError(f"ALERT_RULES={where!r} is not a gs://bucket/object URI")
        if store is None:
            raise ConfigurationError(f"ALERT_RULES={where!r} needs an object store to read from")
        try:
            raw = store.read(bucket, name)
        except PermanentError as err:
            raise ConfigurationError(f"ALERT_RULES={where!r} cannot be read: {err.message}") from err
    else:
        try:
            raw = Path(where).read_bytes()
        except OSError as err:
            raise ConfigurationError(f"ALERT_RULES={where!r} cannot be read: {err.strerror or err}") from err
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConfigurationError(f"{where}: not UTF-8 text") from err
    rules = parse_rules(text, where, repeat_window_s=window)
    logger.info("alert rules loaded", extra={"rules_source": where, "rules": len(rules.rules)})
    return rules


def parse_rules(text: str, source: str = "alerts.yaml", *, repeat_window_s: float = 86400.0) -> RuleSet:
    """Parse a rules file's text. Errors say ``<source> line N: <problem>``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigurationError(f"{source} line {line}: YAML syntax error: {err.problem or err}") from err
    except yaml.YAMLError as err:
        raise ConfigurationError(f"{source}: YAML error: {err}") from err
    return _Parser(source, repeat_window_s).document(root)


class _Parser:
    """Walks the composed YAML nodes, which keep their line numbers, into Rule objects."""

    def __init__(self, source: str, repeat_window_s: float) -> None:
        self.source = source
        self.repeat_window_s = repeat_window_s
        self._constructor = yaml.SafeLoader("")

    def fail(self, node: yaml.Node | None, problem: str) -> ConfigurationError:
        line = node.start_mark.line + 1 if node is not None else 1
        return ConfigurationError(f"{self.source} line {line}: {problem}")

    def scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "expected a single value, not a list or mapping")
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of key: value")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"key {key!r} must be text")
            if key in out:
                raise self.fail(key_node, f"duplicate key {key!r}")
            out[key] = (key_node, value_node)
        return out

    def document(self, root: yaml.Node | None) -> RuleSet:
        if root is None:
            raise self.fail(None, "the file is empty; expected a 'rules:' list")
        top = self.mapping(root, "the file")
        for key, (key_node, _) in top.items():
            if key not in {"rules", "include_defaults"}:
                raise self.fail(
                    key_node, f"unknown top-level key {key!r} (expected 'rules', 'include_defaults')"
                )
        if "rules" not in top:
            raise self.fail(root, "missing 'rules:' list")
        include_defaults = True
        if "include_defaults" in top:
            value = self.scalar(top["include_defaults"][1])
            if not isinstance(value, bool):
                raise self.fail(top["include_defaults"][1], "include_defaults must be true or false")
            include_defaults = value
        rules_node = top["rules"][1]
        if isinstance(rules_node, yaml.ScalarNode) and self.scalar(rules_node) is None:
            items: list[yaml.Node] = []
        elif isinstance(rules_node, yaml.SequenceNode):
            items = list(rules_node.value)
        else:
            raise self.fail(rules_node, "'rules' must be a list of rules (each item starts with '-')")
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for item in items:
            rule = self.rule(item)
            if rule.id in seen:
                raise self.fail(item, f"rule id {rule.id!r} is already used on line {seen[rule.id]}")
            seen[rule.id] = rule.line or 0
            rules.append(rule)
        if include_defaults:
            # A file rule with a default's id replaces that default; the others stay, ahead of the file's.
            own = {r.id for r in rules}
            rules = [r for r in DEFAULT_RULES if r.id not in own] + rules
        return RuleSet(tuple(rules), self.source, self.repeat_window_s)

    def rule(self, node: yaml.Node) -> Rule:
        fields_ = self.mapping(node, "a rule")
        line = node.start_mark.line + 1

        def value_of(key: str) -> tuple[Any, yaml.Node] | None:
            if key not in fields_:
                return None
            return self.scalar(fields_[key][1]), fields_[key][1]

        def text(key: str, required: bool = False) -> str | None:
            got = value_of(key)
            if got is None or got[0] is None:
                if required:
                    raise self.fail(node, f"rule is missing '{key}'")
                return None
            value, vnode = got
            if not isinstance(value, str) or not value.strip():
                raise self.fail(vnode, f"'{key}' must be text, not {_describe(value)}")
            return value.strip()

        def number(key: str, *, integer: bool = False, required: bool = False) -> float | int | None:
            got = value_of(key)
            if got is None or got[0] is None:
                if required:
                    raise self.fail(node, f"rule is missing '{key}'")
                return None
            value, vnode = got
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise self.fail(vnode, f"'{key}' must be a number, not {_describe(value)}")
            if integer:
                if value != int(value) or value < 0:
                    raise self.fail(vnode, f"'{key}' must be a whole number >= 0, not {value!r}")
                return int(value)
            return float(value) if isinstance(value, float) else value

        rule_id = text("id", required=True)
        assert rule_id is not None
        if not _ID.match(rule_id):
            raise self.fail(
                fields_["id"][1], f"rule id {rule_id!r} may use letters, digits, '-', '_' and '.' only"
            )
        kind = text("kind", required=True)
        if kind not in KINDS:
            raise self.fail(
                fields_["kind"][1], f"unknown rule kind {kind!r} (expected one of {', '.join(KINDS)})"
            )
        severity = text("severity", required=True)
        if severity not in SEVERITIES:
            raise self.fail(
                fields_["severity"][1], f"severity must be info, warning or critical, not {severity!r}"
            )
        allowed = _COMMON | _KEYS[kind]
        for key, (key_node, _) in fields_.items():
            if key not in allowed:
                raise self.fail(
                    key_node, f"unknown key {key!r} for a {kind} rule (allowed: {', '.join(sorted(allowed))})"
                )
        match = text("match") or "*"
        window = number("repeat_window_s")
        if window is not None and window < 0:
            raise self.fail(fields_["repeat_window_s"][1], "'repeat_window_s' must be >= 0")
        rule = Rule(
            id=rule_id,
            kind=kind,
            severity=severity,
            match=match,
            description=text("description"),
            repeat_window_s=None if window is None else float(window),
            line=line,
        )
        if kind == "threshold":
            metric = text("metric", required=True)
            if metric not in METRICS:
                raise self.fail(
                    fields_["metric"][1], f"unknown metric {metric!r} (expected one of {', '.join(METRICS)})"
                )
            rule = replace(
                rule,
                column=text("column", required=True),
                metric=metric,
                op=self.op(fields_, node, required=True),
                value=number("value", required=True),
                label=text("label"),
            )
        elif kind == "duplicate_rows":
            op = self.op(fields_, node, required=False) or ">"
            value = number("value")
            rule = replace(rule, op=op, value=0 if value is None else value)
        elif kind == "row_count":
            low, high = number("min", integer=True), number("max", integer=True)
            if low is None and high is None:
                raise self.fail(node, "a row_count rule needs 'min', 'max' or both")
            if low is not None and high is not None and low > high:
                raise self.fail(fields_["min"][1], f"'min' ({low}) is above 'max' ({high})")
            rule = replace(rule, min=low, max=high)
        return rule

    def op(
        self, fields_: dict[str, tuple[yaml.Node, yaml.Node]], node: yaml.Node, *, required: bool
    ) -> str | None:
        if "op" not in fields_:
            if required:
                raise self.fail(node, "rule is missing 'op'")
            return None
        vnode = fields_["op"][1]
        value = self.scalar(vnode)
        op = _OP_WORDS.get(value, value) if isinstance(value, str) else value
        if op not in OPS:
            raise self.fail(
                vnode, f"op must be one of '>', '>=', '<', '<=' (quoted: op: \">\"), not {value!r}"
            )
        return op


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return format_number(value)


def format_number(value: Any) -> str:
    """A number as a person writes it: 0.05, 12, 1234567.5 (no float noise, no exponent if avoidable)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (math.isfinite(value) and value == int(value) and abs(value) < 1e15):
        return str(int(value))
    text = f"{value:.6g}"
    if "e" in text and 1e-4 <= abs(value) < 1e15:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text


__all__ = [
    "DEFAULT_RULES",
    "KINDS",
    "METRICS",
    "OPS",
    "SEVERITIES",
    "Rule",
    "RuleSet",
    "default_rules",
    "format_number",
    "load_rules",
    "parse_rules",
]
