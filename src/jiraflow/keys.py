"""The one home of what a Jira issue key is, and of the issue key a branch is named with.

Pure functions over strings, importing nothing of jiraflow: the git side (gitflow, checks)
and the Jira side (jira, outbox, services) both use them without depending on each other.
config.KEY_PATTERN_DEFAULT repeats KEY_PATTERN as text (config is on the TAB path);
tests/test_checks.py keeps the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

# A project key as Jira makes them: an upper-case letter, then upper-case letters, digits
# or underscores, two at least.
PROJECT_PATTERN = r"[A-Z][A-Z0-9_]+"
# An issue key as the server-side hooks match it: project key, dash, number (from 1).
KEY_PATTERN = rf"{PROJECT_PATTERN}-[1-9][0-9]*"
# A key named in a text: not inside a word before it, not followed by more digits.
KEY_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9]){KEY_PATTERN}(?![0-9])")
_KEY_ALONE = re.compile(KEY_PATTERN)
_PROJECT_ALONE = re.compile(PROJECT_PATTERN)


def is_key(text: str) -> bool:
    """Whether the whole of `text` is an issue key (nothing after it, not even a newline)."""
    return _KEY_ALONE.fullmatch(text) is not None


def is_project(text: str) -> bool:
    """Whether the whole of `text` is a project key."""
    return _PROJECT_ALONE.fullmatch(text) is not None


def normalise_key(text: str, projects: list[str]) -> str | None:
    """`PROJ-12` as typed, or `proj-12` when PROJ is a configured project; else None (a
    plain branch name such as `fix-2` is not taken for an issue of project FIX)."""
    if is_key(text):
        return text
    upper = text.upper()
    if is_key(upper) and project_of(upper) in projects:
        return upper
    return None


def keys_in(text: str) -> list[str]:
    """The keys `text` names, in order, each once."""
    return list(dict.fromkeys(KEY_IN_TEXT.findall(text)))


def key_in(text: str) -> str | None:
    """The first issue key in a branch name or message."""
    match = KEY_IN_TEXT.search(text)
    return match.group(0) if match else None


def mentions(text: str, key: str) -> bool:
    """Whether `text` names `key` as a whole key: PROJ-12 in "PROJ-12: fix" and
    "feature/PROJ-12-login", not in "PROJ-123" or "XPROJ-12"."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![0-9])", text) is not None


def project_of(key: str) -> str:
    return key.rsplit("-", 1)[0]


class _Parses(Protocol):
    """A branch model (jiraflow.gitflow.model.BranchModel): (kind, short name) or None."""

    def parse(self, branch: str) -> tuple[str, str] | None: ...


def branch_key(
    model: _Parses,
    branch: str,
    *,
    find: Callable[[str], list[str]] = keys_in,
    accept: Callable[[str], bool] | None = None,
) -> str | None:
    """The issue key a branch is named with: the first key in its name after its Gitflow
    prefix (in the whole name when it has none). `find` lists the keys of a text (the
    standard rule, or check.key_pattern's); with `accept`, the first key it accepts."""
    parsed = model.parse(branch)
    rest = parsed[1] if parsed else branch
    return next((key for key in find(rest) if accept is None or accept(key)), None)
