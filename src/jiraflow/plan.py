"""A Plan is what a changing command will do, built before anything changes.

`--dry-run` prints it; otherwise the journal records it and the runner executes it
step by step, so that a stopped run can be continued or undone.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

# How a step is run and, after a stop, resumed:
#   git      a plain git command; re-running it is harmless or it is the step that failed
#   merge    `git merge ...` that may stop on a conflict; resumed by committing the merge
#   squash   `git merge --squash ...` followed by a commit with `message`
#   rebase   `git rebase ...`; resumed with `git rebase --continue`
#   push     talks to the remote (push or fetch); a failure stops the run with exit 6
#   write    not git: writes `message` to the file argv[0] (relative to the work tree)
GIT, MERGE, SQUASH, REBASE, PUSH, WRITE = "git", "merge", "squash", "rebase", "push", "write"


@dataclass(frozen=True, eq=False, repr=False)
class Step:
    argv: tuple[str, ...]
    kind: str = GIT
    # merge/squash: the commit merged in (to tell whether a resumed merge already happened)
    source: str | None = None
    # squash: the message of the commit that completes it
    message: str | None = None

    def describe(self) -> str:
        if self.kind == WRITE:
            return f"write {self.argv[0]}"
        line = "git " + shlex.join(self.argv)
        if self.kind == SQUASH:
            line += "\ngit commit --no-edit"
        return line

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(
            tuple(data["argv"]), data.get("kind", GIT), data.get("source"), data.get("message")
        )


@dataclass(eq=False, repr=False)
class Plan:
    """An operation ("feature finish"), its steps, and the refs those steps may move."""

    operation: str
    branch: str
    steps: list[Step] = field(default_factory=list)
    moves: set[str] = field(default_factory=set)
    summary: list[str] = field(default_factory=list)
    # Jira/Bitbucket actions (JSON-able dicts, see tracker.py), run after every git step
    remote: list[dict[str, Any]] = field(default_factory=list)
    # the branch checked out when the plan is done (for the summary)
    branch_after: str = ""

    def add(self, *argv: str, kind: str = GIT, **extra: str | None) -> None:
        self.steps.append(Step(tuple(argv), kind, **extra))

    def describe(self) -> list[str]:
        return [step.describe() for step in self.steps]
