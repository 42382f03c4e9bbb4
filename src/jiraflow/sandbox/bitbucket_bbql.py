"""A small, real subset of BBQL, Bitbucket Cloud's filter language (the ``q`` parameter).

Supported: ``field op value`` with ``=``, ``!=``, ``~`` (contains, ignoring case), ``!~``, and
``<``, ``<=``, ``>``, ``>=`` on numbers; values are double-quoted strings (with backslash
escapes), integers, ``true``, ``false`` or ``null``; ``AND`` and ``OR`` (AND binds tighter) and
parentheses. A field with several values (``reviewers.uuid``) matches when any value does.
The error messages are the sandbox's own wording; Bitbucket's differ but are 400s too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

Lookup = Callable[[str], list[Any]]  # field name -> its values for one object
Predicate = Callable[[Lookup], bool]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>!=|!~|>=|<=|=|~|>|<)
      | (?P<paren>[()])
      | (?P<number>-?\d+(?![\w.]))
      | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}


class QueryError(ValueError):
    """The query does not parse, or names a field that cannot be filtered on."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(query):
        if query[position:].strip() == "":
            break
        match = _TOKEN.match(query, position)
        if match is None or match.lastgroup is None:
            raise QueryError(f"Invalid query at position {position}: {query[position:]!r}")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), match.start()))
        position = match.end()
    return tokens


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class _Parser:
    def __init__(self, query: str, fields: Collection[str]) -> None:
        self.tokens = _tokens(query)
        self.position = 0
        self.fields = fields

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise QueryError("Invalid query: it ends where a value or field was expected")
        self.position += 1
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text.upper() == word

    def parse(self) -> Predicate:
        predicate = self.either()
        token = self.peek()
        if token is not None:
            raise QueryError(f"Invalid query: unexpected {token.text!r} at position {token.at}")
        return predicate

    def either(self) -> Predicate:
        parts = [self.both()]
        while self.is_word("OR"):
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else lambda get: any(p(get) for p in parts)

    def both(self) -> Predicate:
        parts = [self.term()]
        while self.is_word("AND"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else lambda get: all(p(get) for p in parts)

    def term(self) -> Predicate:
        token = self.take()
        if token.kind == "paren" and token.text == "(":
            inner = self.either()
            closing = self.take()
            if closing.text != ")":
                raise QueryError(f"Invalid query: expected ')' at position {closing.at}")
            return inner
        if token.kind != "word" or token.text in _LITERALS:
            raise QueryError(f"Invalid query: expected a field name at position {token.at}")
        if token.text not in self.fields:
            raise QueryError(f"Invalid field name: {token.text!r} cannot be filtered on")
        op = self.take()
        if op.kind != "op":
            raise QueryError(f"Invalid query: expected an operator at position {op.at}")
        return _comparison(token.text, op.text, self.value())

    def value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "number":
            return int(token.text)
        if token.kind == "word" and token.text in _LITERALS:
            return _LITERALS[token.text]
        raise QueryError(f"Invalid query: expected a value at position {token.at}")


def _matches(actual: Any, op: str, expected: Any) -> bool:
    if op in ("=", "!="):
        same = actual == expected or (
            isinstance(actual, int) and not isinstance(actual, bool) and str(actual) == expected
        )
        return same if op == "=" else not same
    if op in ("~", "!~"):
        found = str(expected).lower() in str(actual if actual is not None else "").lower()
        return found if op == "~" else not found
    try:
        left, right = int(actual), int(expected)
    except (TypeError, ValueError):
        return False
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _comparison(name: str, op: str, expected: Any) -> Predicate:
    if op in ("<", "<=", ">", ">=") and not isinstance(expected, int):
        raise QueryError(f"Invalid query: {op} needs a number, not {expected!r}")

    def predicate(get: Lookup) -> bool:
        values = get(name) or [None]
        if op in ("!=", "!~"):
            return all(_matches(v, op, expected) for v in values)
        return any(_matches(v, op, expected) for v in values)

    return predicate


def parse(query: str, fields: Collection[str]) -> Predicate:
    """Compile ``query``; ``fields`` are the names that may be filtered on."""
    if not query.strip():
        return lambda get: True
    return _Parser(query, fields).parse()
