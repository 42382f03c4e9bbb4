"""Issues as jiraflow sees them: branch names made from summaries, and the choice of
a workflow transition by its target status. Pure functions over plain data: no HTTP here
(that is jira/client.py), so every rule is testable on its own. What an issue key is
lives in jiraflow.keys.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from jiraflow.errors import ConfigError
from jiraflow.templates import fill

# Letters that Unicode does not decompose into an ASCII base letter.
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
# Apostrophes and quotes vanish ("don't" -> "dont"); other punctuation separates words.
_QUOTES = re.compile("['\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\"`\u00b4]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case ASCII words joined by dashes: 'Café “menu”: naïve' -> 'cafe-menu-naive'."""
    text = _QUOTES.sub("", text.translate(_FOLD))
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    )
    return _NOT_SLUG.sub("-", ascii_text).strip("-")


def branch_name(template: str, key: str, summary: str, issue_type: str, max_length: int) -> str:
    """The branch name (without prefix) for an issue, cut at a word boundary of the summary
    so it fits `max_length`; the key is never cut."""
    if "{key}" not in template:
        raise ConfigError(
            f"branch.name: {template!r} has no {{key}}",
            "jiraflow finds a branch's issue by its key: e.g. '{key}-{summary}'.",
        )
    whole = fill("branch.name", template, {"key": key, "summary": "\0", "type": slug(issue_type)})
    words = slug(summary)
    room = max(max_length - (len(whole) - 1), 0)
    if len(words) > room:
        cut = words[: room + 1]
        words = cut.rsplit("-", 1)[0] if "-" in cut else cut[:room]
    name = whole.replace("\0", words)
    # an empty summary slug leaves a dangling separator: PROJ-1- -> PROJ-1
    return re.sub(r"[-_/.]+$", "", re.sub(r"([-_])[-_]+", r"\1", name))


# -- issues and their workflow -----------------------------------------------------------------
@dataclass
class Status:
    name: str
    category: str  # "new", "indeterminate" or "done"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Status:
        return cls(data.get("name", ""), (data.get("statusCategory") or {}).get("key", ""))

    def matches(self, target: str) -> bool:
        """Whether this status is `target`: a status name, or `category:<key>`."""
        if target.lower().startswith("category:"):
            return self.category.lower() == target.split(":", 1)[1].strip().lower()
        return self.name.casefold() == target.casefold()


@dataclass
class Transition:
    id: str
    name: str
    to: Status
    fields: dict[str, Any] = field(default_factory=dict)
    available: bool = True

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transition:
        return cls(
            str(data["id"]),
            data.get("name", ""),
            Status.from_json(data.get("to") or {}),
            data.get("fields") or {},
            data.get("isAvailable", True) is not False,
        )


@dataclass
class Issue:
    key: str
    summary: str
    type: str
    status: Status
    assignee: str | None  # accountId on Cloud, name on Data Center
    assignee_name: str | None  # display name, for people
    transitions: list[Transition] | None = None  # when fetched with expand=transitions.fields
    fix_versions: list[str] = field(default_factory=list)  # names, when asked for
    project_id: str = ""  # when asked for (a new Jira version needs it)
    id: str = ""  # Jira's numeric id, when the answer had it (bulk tasks report issues by id)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, cloud: bool) -> Issue:
        fields = data.get("fields") or {}
        assignee = fields.get("assignee") or {}
        transitions = data.get("transitions")
        return cls(
            data["key"],
            fields.get("summary") or "",
            (fields.get("issuetype") or {}).get("name", ""),
            Status.from_json(fields.get("status") or {}),
            assignee.get("accountId" if cloud else "name"),
            assignee.get("displayName"),
            None if transitions is None else [Transition.from_json(t) for t in transitions],
            [str(v.get("name", "")) for v in fields.get("fixVersions") or []],
            str((fields.get("project") or {}).get("id") or ""),
            str(data.get("id") or ""),
        )


class NoTransition(ConfigError):
    """No transition from the issue's status reaches the target status."""


def choose_transition(issue: Issue, transitions: list[Transition], target: str) -> Transition:
    """The transition whose destination is `target`. Prefers one that needs no screen input
    when several lead there."""
    candidates = [t for t in transitions if t.available and t.to.matches(target)]
    if not candidates:
        reachable = sorted({t.to.name for t in transitions if t.available})
        listed = ", ".join(reachable) if reachable else "none"
        raise NoTransition(
            f"{issue.key} cannot move from '{issue.status.name}' to '{target}': "
            f"no transition leads there (reachable: {listed})",
            "Move the issue in Jira, or set the status in [jira.on] to one your workflow has.",
        )
    return min(candidates, key=lambda t: len(required_fields(t)))


def required_fields(transition: Transition) -> list[str]:
    return [
        name
        for name, spec in transition.fields.items()
        if spec.get("required") and not spec.get("hasDefaultValue")
    ]


def screen_values(
    issue: Issue, transition: Transition, configured: dict[str, str]
) -> dict[str, Any]:
    """Values for the fields the transition's screen requires, from [jira.fields]; a required
    resolution with nothing configured takes "Done" when the screen allows it."""
    wanted = {name.casefold(): value for name, value in configured.items()}
    values: dict[str, Any] = {}
    for field_id in required_fields(transition):
        spec = transition.fields[field_id]
        label = spec.get("name") or field_id
        value = wanted.get(field_id.casefold(), wanted.get(str(label).casefold()))
        allowed = spec.get("allowedValues")
        if value is None and field_id == "resolution" and _find_allowed(allowed, "Done"):
            value = "Done"
        if value is None:
            hint = f'Set it in .jiraflow.toml: [jira.fields] {field_id} = "..."'
            if allowed:
                hint += " (allowed: " + ", ".join(_allowed_names(allowed)) + ")"
            raise ConfigError(
                f"moving {issue.key} to '{transition.to.name}' needs a value for {label}", hint
            )
        values[field_id] = _field_value(issue, transition, field_id, spec, value)
    return values


def _allowed_names(allowed: list[dict[str, Any]]) -> list[str]:
    return [str(a.get("name") or a.get("value") or a.get("id")) for a in allowed]


def _find_allowed(allowed: list[dict[str, Any]] | None, value: str) -> dict[str, Any] | None:
    for option in allowed or []:
        names = (option.get("name"), option.get("value"), option.get("id"))
        if any(isinstance(n, str) and n.casefold() == value.casefold() for n in names):
            return option
    return None


def _field_value(
    issue: Issue, transition: Transition, field_id: str, spec: dict[str, Any], value: str
) -> Any:
    allowed = spec.get("allowedValues")
    schema = spec.get("schema") or {}
    if allowed:
        option = _find_allowed(allowed, value)
        if option is None:
            raise ConfigError(
                f"[jira.fields] {field_id} = {value!r} is not allowed when moving {issue.key} "
                f"to '{transition.to.name}'",
                "Allowed: " + ", ".join(_allowed_names(allowed)) + ".",
            )
        ref = {"id": str(option["id"])}
        return [ref] if schema.get("type") == "array" else ref
    if schema.get("type") == "number":
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"[jira.fields] {field_id} must be a number, not {value!r}") from None
    if schema.get("type") == "array":
        return [value]
    return value
