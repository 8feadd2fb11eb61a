"""Pub/Sub subscription filters on alert attributes, kept as data, and a small evaluator for them.

Terraform writes these exact strings into the alert subscriptions. The Pub/Sub emulator accepts a
filter but does not apply it, so the tests evaluate the strings here against sample attribute sets,
and the local subscriber applies them in code.

The evaluator implements the subset of Pub/Sub's filter grammar these filters need, with the
service's rules: ``attributes.KEY = "v"``, ``attributes.KEY != "v"``, ``attributes:KEY`` (has key),
``hasPrefix(attributes.KEY, "p")``, ``NOT`` / ``-``, ``AND``, ``OR`` and parentheses; AND and OR
may not be mixed without parentheses; keys and values are case-sensitive; at most 256 bytes.
A missing attribute makes ``=`` and ``hasPrefix`` false and ``!=`` true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MAX_FILTER_BYTES = 256

# The critical subscription: every critical alert, repeats included (subscribers may drop repeats by
# the `repeat` attribute; a pager usually wants to know the condition persists).
CRITICAL = 'attributes.severity = "critical"'
# The optional webhook push subscription: new (non-repeat) warnings and critical alerts, so a chat
# channel or pager hook hears about each problem once per repeat window.
WEBHOOK = (
    '(attributes.severity = "critical" OR attributes.severity = "warning") AND attributes.repeat = "false"'
)

FILTERS = {"critical": CRITICAL, "webhook": WEBHOOK}

Attributes = Mapping[str, str]
Predicate = Callable[[Attributes], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>!=|=|:|\(|\)|,|-)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    )""",
    re.VERBOSE,
)


class FilterSyntaxError(ValueError):
    """The filter is not valid in the supported grammar (Pub/Sub would reject it, or we cannot check it)."""


@dataclass(frozen=True)
class _Tok:
    kind: str  # string | op | word
    text: str


def _tokens(expr: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(f"unexpected text at {pos}: {expr[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append(_Tok(kind, m.group(kind)))
        pos = m.end()
    return out


def _unquote(literal: str) -> str:
    return bytes(literal[1:-1], "utf-8").decode("unicode_escape") if "\\" in literal else literal[1:-1]


class _Parser:
    def __init__(self, expr: str) -> None:
        self.toks = _tokens(expr)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, text: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text != text):
            raise FilterSyntaxError(
                f"expected {text or 'more'}, found {tok.text if tok else 'end of filter'!r}"
            )
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        pred = self.expression()
        if self.peek() is not None:
            raise FilterSyntaxError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return pred

    def expression(self) -> Predicate:
        terms = [self.unary()]
        joiner: str | None = None
        while (tok := self.peek()) is not None and tok.kind == "word" and tok.text in ("AND", "OR"):
            if joiner is not None and tok.text != joiner:
                raise FilterSyntaxError("AND and OR cannot be mixed without parentheses")
            joiner = tok.text
            self.take()
            terms.append(self.unary())
        if joiner is None:
            return terms[0]
        if joiner == "AND":
            return lambda a, ts=tuple(terms): all(t(a) for t in ts)
        return lambda a, ts=tuple(terms): any(t(a) for t in ts)

    def unary(self) -> Predicate:
        tok = self.peek()
        if tok is not None and (tok.text == "-" or (tok.kind == "word" and tok.text == "NOT")):
            self.take()
            inner = self.unary()
            return lambda a: not inner(a)
        if tok is not None and tok.text == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        return self.condition()

    def key(self, tok: _Tok) -> str:
        if tok.kind == "string":
            return _unquote(tok.text)
        return tok.text

    def condition(self) -> Predicate:
        tok = self.take()
        if tok.kind == "word" and tok.text == "hasPrefix":
            self.take("(")
            key = self.attribute_key(self.take())
            self.take(",")
            prefix = self.literal()
            self.take(")")
            return lambda a: key in a and a[key].startswith(prefix)
        if tok.kind == "word" and tok.text == "attributes":
            self.take(":")
            key = self.key(self.take())
            return lambda a: key in a
        key = self.attribute_key(tok)
        op = self.take()
        if op.text not in ("=", "!="):
            raise FilterSyntaxError(f"expected = or != after attributes.{key}, found {op.text!r}")
        value = self.literal()
        if op.text == "=":
            return lambda a: a.get(key) == value
        return lambda a: a.get(key) != value

    def attribute_key(self, tok: _Tok) -> str:
        if tok.kind == "word" and tok.text.startswith("attributes.") and len(tok.text) > len("attributes."):
            return tok.text[len("attributes.") :]
        raise FilterSyntaxError(f"expected attributes.KEY, found {tok.text!r}")

    def literal(self) -> str:
        tok = self.take()
        if tok.kind != "string":
            raise FilterSyntaxError(f"values must be quoted strings, found {tok.text!r}")
        return _unquote(tok.text)


def compile_filter(expr: str) -> Predicate:
    """A predicate over a message's attributes; FilterSyntaxError when the filter is not valid."""
    if len(expr.encode()) > MAX_FILTER_BYTES:
        raise FilterSyntaxError(f"filter is {len(expr.encode())} bytes; Pub/Sub allows {MAX_FILTER_BYTES}")
    if not expr.strip():
        return lambda a: True
    return _Parser(expr).parse()


def matches(expr: str, attributes: Attributes) -> bool:
    """Whether a message with ``attributes`` passes the subscription filter ``expr``."""
    return compile_filter(expr)(attributes)
