"""A small but real JQL parser and evaluator for the Jira sandbox.

jiraflow builds JQL (``project = PROJ AND statusCategory != Done``, ``fixVersion = "1.5.0"``,
``assignee = currentUser()``); a sandbox that matched queries with string tricks would let a
malformed query pass. This module tokenises and parses the JQL subset jiraflow can send and
rejects the rest with Jira's own error wording, so a bad query fails here as it would on a site.

Supported: ``field op value`` clauses (``= != ~ !~ < <= > >=``, ``in``, ``not in``, ``is``,
``is not``), ``EMPTY``/``NULL``, ``currentUser()``, ``AND``/``OR``/``NOT`` (and ``&&``, ``||``,
``!``), parentheses, quoted or bare values, and ``ORDER BY field [ASC|DESC], ...``.
Keywords and field names are case-insensitive, as in Jira.

The module knows JQL, not the sandbox's data: the caller gives each issue's values per field
through :class:`IssueValues` and the values that exist through ``known_values``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "FIELDS",
    "JqlError",
    "Query",
    "check_values",
    "parse",
]


class JqlError(ValueError):
    """A query Jira would refuse with 400; the message is Jira's wording."""


#: Clause names Jira accepts (lower case) and the field each one means.
FIELDS: dict[str, str] = {
    "key": "key",
    "issuekey": "key",
    "issue": "key",
    "id": "key",
    "project": "project",
    "status": "status",
    "statuscategory": "statusCategory",
    "assignee": "assignee",
    "reporter": "reporter",
    "type": "issuetype",
    "issuetype": "issuetype",
    "resolution": "resolution",
    "fixversion": "fixVersion",
    "summary": "summary",
    "description": "description",
    "text": "text",
    "labels": "labels",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
}
TEXT_FIELDS = frozenset({"summary", "description", "text"})
DATE_FIELDS = frozenset({"created", "updated"})
USER_FIELDS = frozenset({"assignee", "reporter"})
#: Fields whose `=`, `in` values must exist (Jira checks them before searching).
CHECKED_FIELDS = frozenset(
    {"key", "project", "status", "statusCategory", "assignee", "reporter", "issuetype"}
    | {"resolution", "fixVersion"}
)
SORTABLE = frozenset(
    {"key", "project", "status", "assignee", "reporter", "issuetype", "resolution", "summary"}
    | DATE_FIELDS
)
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "empty", "null", "order", "by"})
FUNCTIONS = frozenset({"currentuser"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<op>!=|!~|<=|>=|=|~|<|>)
  | (?P<and>&&)
  | (?P<or>\|\|)
  | (?P<bang>!)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<quote>["'])
  | (?P<word>[^\s=!<>~(),"'&|]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # op, and, or, bang, lparen, rparen, comma, string, word, end
    text: str
    position: int  # 1-based character, as Jira reports it

    def describe(self) -> str:
        return "EOF" if self.kind == "end" else self.text


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens; an unclosed quote is Jira's "not completed" error."""
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:  # a lone '&' or '|'
            raise _syntax(f"The character '{text[index]}' is a reserved JQL character.", index)
        kind = match.lastgroup or ""
        if kind == "quote":
            value, index = _read_string(text, index)
            tokens.append(Token("string", value, match.start() + 1))
            continue
        if kind != "space":
            tokens.append(Token(kind, match.group(), match.start() + 1))
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    raise _syntax(f"The quoted string '{text[start + 1 :]}' has not been completed.", start)


def _syntax(message: str, index: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {message} (line 1, character {index + 1})")


# -- the syntax tree ---------------------------------------------------------------------------


class IssueValues(Protocol):
    """What the evaluator asks of an issue: its values for a field, lower-cased aliases.

    A user field gives every name the user is known by (name, accountId, email...); an empty
    list means the field is EMPTY.
    """

    def values(self, field: str) -> Sequence[str]: ...


@dataclass(frozen=True)
class Value:
    """A literal, EMPTY, or currentUser()."""

    text: str
    kind: str  # literal, empty, current_user


@dataclass(frozen=True)
class Clause:
    field: str  # canonical field name
    clause_name: str  # as written, for error messages
    operator: str  # = != ~ !~ < <= > >= in "not in" is "is not"
    values: tuple[Value, ...]

    def matches(self, issue: IssueValues, me: Collection[str]) -> bool:
        have = [value.lower() for value in issue.values(self.field)]
        if self.field in DATE_FIELDS:  # dates compare to the minute
            have = [value[:16] for value in have]
        if self.operator in ("is", "is not"):
            return not have if self.operator == "is" else bool(have)
        if self.operator in ("~", "!~"):
            found = _text_matches(" ".join(have), self.values[0].text)
            return found if self.operator == "~" else not found
        if self.operator in ("<", "<=", ">", ">="):
            return bool(have) and _compare(have[0], self.operator, self.values[0].text)
        wanted: set[str] = set()
        wants_empty = False
        for value in self.values:
            if value.kind == "empty":
                wants_empty = True
            elif value.kind == "current_user":
                wanted |= {alias.lower() for alias in me}
            else:
                wanted.add(value.text.lower())
        hit = any(item in wanted for item in have)
        if self.operator in ("=", "in"):
            return hit or (wants_empty and not have)
        return bool(have) and not hit  # != and "not in" never match EMPTY, as in Jira


@dataclass(frozen=True)
class Not:
    operand: Node

    def matches(self, issue: IssueValues, me: Collection[str]) -> bool:
        return not self.operand.matches(issue, me)


@dataclass(frozen=True)
class BoolOp:
    operator: str  # and, or
    operands: tuple[Node, ...]

    def matches(self, issue: IssueValues, me: Collection[str]) -> bool:
        results = (operand.matches(issue, me) for operand in self.operands)
        return all(results) if self.operator == "and" else any(results)


Node = Clause | Not | BoolOp


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    """A parsed query: a filter (None matches everything) and the requested order."""

    where: Node | None
    order_by: tuple[SortKey, ...]

    @property
    def bounded(self) -> bool:
        """Whether the query restricts the search (Jira Cloud refuses unbounded searches)."""
        return self.where is not None

    def matches(self, issue: IssueValues, me: Collection[str]) -> bool:
        return self.where is None or self.where.matches(issue, me)

    def clauses(self) -> list[Clause]:
        found: list[Clause] = []
        pending: list[Node] = [] if self.where is None else [self.where]
        while pending:
            node = pending.pop()
            if isinstance(node, Clause):
                found.append(node)
            elif isinstance(node, Not):
                pending.append(node.operand)
            else:
                pending.extend(node.operands)
        return found


def _text_matches(haystack: str, needle: str) -> bool:
    """Jira's ``~``: every word of the needle occurs in the text (prefix match, any case)."""
    words = re.findall(r"\w+", needle.lower())
    text_words = re.findall(r"\w+", haystack.lower())
    return bool(words) and all(any(tw.startswith(w) for tw in text_words) for w in words)


def _compare(have: str, operator: str, wanted: str) -> bool:
    """Date order on ``yyyy-mm-ddThh:mm`` text (``wanted`` is already in that form)."""
    left, right = have[:16].lower(), wanted.lower()
    return {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[operator]


_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$")
_PERIOD = re.compile(r"^([-+]?)(\d+)([wdhm])$")


def _date_value(text: str, field: str) -> str:
    """A JQL date (``2024/05/01``, ``2024-05-01 09:30``, ``-5d``) as ``yyyy-mm-ddThh:mm`` UTC."""
    absolute, period = _DATE.match(text.strip()), _PERIOD.match(text.strip().lower())
    try:
        if absolute:
            year, month, day, hour, minute = (int(part or 0) for part in absolute.groups())
            moment = dt.datetime(year, month, day, hour, minute)
        elif period:
            sign, amount, unit = period.groups()
            units = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
            delta = dt.timedelta(**{units[unit]: int(amount)})
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            moment = now - delta if sign == "-" else now + delta
        else:
            raise ValueError(text)
    except ValueError:
        raise JqlError(
            f"Date value '{text}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        ) from None
    return moment.strftime("%Y-%m-%dT%H:%M")


# -- the parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "word" and self.token.text.lower() in words

    def expected(self, what: str) -> JqlError:
        token = self.token
        return _syntax(f"Expecting {what} but got '{token.describe()}'.", token.position - 1)

    def query(self) -> Query:
        where = None if self.token.kind == "end" or self.is_keyword("order") else self.or_expr()
        order_by = self.order_by() if self.is_keyword("order") else ()
        if self.token.kind != "end":
            raise self.expected("either 'OR' or 'AND'")
        return Query(where, order_by)

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.is_keyword("or") or self.token.kind == "or":
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.not_expr()]
        while self.is_keyword("and") or self.token.kind == "and":
            self.advance()
            operands.append(self.not_expr())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def not_expr(self) -> Node:
        if self.is_keyword("not") or self.token.kind == "bang":
            self.advance()
            return Not(self.not_expr())
        if self.token.kind == "lparen":
            self.advance()
            inner = self.or_expr()
            if self.token.kind != "rparen":
                raise self.expected("')'")
            self.advance()
            return inner
        return self.clause()

    def clause(self) -> Clause:
        token = self.token
        if token.kind not in ("word", "string") or (
            token.kind == "word" and token.text.lower() in KEYWORDS
        ):
            raise self.expected("a field name")
        self.advance()
        name = token.text
        field = FIELDS.get(name.lower())
        if field is None:
            raise JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )
        operator = self.operator()
        if operator in ("in", "not in"):
            values = self.value_list()
        elif operator in ("is", "is not"):
            if not self.is_keyword("empty", "null"):
                raise self.expected("'EMPTY'")
            self.advance()
            values = (Value("", "empty"),)
        else:
            values = (self.value(),)
        if field in DATE_FIELDS:
            values = tuple(
                Value(_date_value(v.text, name), v.kind) if v.kind == "literal" else v
                for v in values
            )
        if field == "resolution":  # `resolution = Unresolved` means EMPTY in Jira
            values = tuple(
                Value("", "empty") if v.kind == "literal" and v.text.lower() == "unresolved" else v
                for v in values
            )
        _check_operator(field, name, operator, values)
        return Clause(field, name, operator, values)

    def operator(self) -> str:
        token = self.token
        if token.kind == "op":
            self.advance()
            return token.text
        if self.is_keyword("in"):
            self.advance()
            return "in"
        if self.is_keyword("not"):
            self.advance()
            if not self.is_keyword("in"):
                raise self.expected("'IN'")
            self.advance()
            return "not in"
        if self.is_keyword("is"):
            self.advance()
            if self.is_keyword("not"):
                self.advance()
                return "is not"
            return "is"
        raise self.expected("operator")

    def value_list(self) -> tuple[Value, ...]:
        if self.token.kind != "lparen":
            raise self.expected("'('")
        self.advance()
        values = [self.value()]
        while self.token.kind == "comma":
            self.advance()
            values.append(self.value())
        if self.token.kind != "rparen":
            raise self.expected("')'")
        self.advance()
        return tuple(values)

    def value(self) -> Value:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Value(token.text, "literal")
        if token.kind != "word" or token.text.lower() in KEYWORDS - {"empty", "null"}:
            raise self.expected("either a value, 'EMPTY' or a function")
        self.advance()
        if token.text.lower() in ("empty", "null"):
            return Value("", "empty")
        if self.token.kind == "lparen":
            return self.function(token)
        return Value(token.text, "literal")

    def function(self, name: Token) -> Value:
        self.advance()  # (
        if self.token.kind != "rparen":
            raise self.expected("')'")
        self.advance()
        if name.text.lower() not in FUNCTIONS:
            raise JqlError(f"Unable to find JQL function '{name.text}()'.")
        return Value(name.text, "current_user")

    def order_by(self) -> tuple[SortKey, ...]:
        self.advance()  # ORDER
        if not self.is_keyword("by"):
            raise self.expected("'by'")
        self.advance()
        keys = [self.sort_key()]
        while self.token.kind == "comma":
            self.advance()
            keys.append(self.sort_key())
        return tuple(keys)

    def sort_key(self) -> SortKey:
        token = self.token
        if token.kind not in ("word", "string"):
            raise self.expected("a field name")
        self.advance()
        field = FIELDS.get(token.text.lower())
        if field is None:
            raise JqlError(
                f"Field '{token.text}' does not exist or you do not have permission to view it."
            )
        if field not in SORTABLE:
            raise JqlError(f"Field '{token.text}' does not support sorting.")
        descending = False
        if self.is_keyword("asc", "desc"):
            descending = self.advance().text.lower() == "desc"
        return SortKey(field, descending)


def _check_operator(field: str, name: str, operator: str, values: tuple[Value, ...]) -> None:
    """Refuse operators and functions the field does not support, as Jira does."""
    if operator in ("is", "is not"):
        supported = True
    elif field in TEXT_FIELDS:
        supported = operator in ("~", "!~")
    elif field in DATE_FIELDS:
        supported = operator not in ("~", "!~")
    else:
        supported = operator in ("=", "!=", "in", "not in")
    if not supported:
        raise JqlError(f"The operator '{operator}' is not supported by the '{name}' field.")
    if any(value.kind == "current_user" for value in values) and field not in USER_FIELDS:
        raise JqlError(f"The function 'currentUser' is not supported by the '{name}' field.")


def parse(text: str) -> Query:
    """Parse a query or raise :class:`JqlError` with Jira's message."""
    return _Parser(text).query()


def check_values(
    query: Query,
    known_values: Callable[[str], Collection[str] | None],
    warnings: list[str] | None = None,
) -> None:
    """Refuse literal values that do not exist, as Jira does before it searches; with a
    ``warnings`` list (Data Center's ``validateQuery=false``) collect the messages instead.

    ``known_values(field)`` gives the lower-cased values that exist, or None when any value goes.
    """
    for clause in query.clauses():
        if clause.field not in CHECKED_FIELDS or clause.operator in ("~", "!~"):
            continue
        known = known_values(clause.field)
        if known is None:
            continue
        for value in clause.values:
            if value.kind != "literal" or value.text.lower() in known:
                continue
            if clause.field == "key":
                message = (
                    f"An issue with key '{value.text}' does not exist for field "
                    f"'{clause.clause_name}'."
                )
            else:
                message = (
                    f"The value '{value.text}' does not exist for the field '{clause.clause_name}'."
                )
            if warnings is None:
                raise JqlError(message)
            warnings.append(message)
