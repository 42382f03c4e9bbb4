"""Words jiraflow writes, the same in the core and the CLI."""

from __future__ import annotations


def plural(count: int, word: str, many: str | None = None) -> str:
    """A count in English: "1 issue", "2 issues", "0 issues" (`many` for a plural other
    than word + "s": plural(n, "entry", "entries"))."""
    return f"{count} {word if count == 1 else many or word + 's'}"
