"""A Plan is what a changing command will do, built before anything changes.

`--dry-run` prints it; otherwise the journal records it and the runner executes it
step by step, so that a stopped run can be continued or undone.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

# How a step is run and, after a stop, resumed (a step a killed run already did is
# recognised by journal.already_done and not run again):
#   git      a plain git command
#   merge    `git merge ...` that may stop on a conflict; resumed by committing the merge
#   squash   `git merge --squash ...` followed by a commit with `message`
#   rebase   `git rebase ...`; resumed with `git rebase --continue`
#   push     talks to the remote (push or fetch); a failure stops the run with exit 6
#   write    not git: writes `message` to the file argv[0] (relative to the work tree)
GIT, MERGE, SQUASH, REBASE, PUSH, WRITE = "git", "merge", "squash", "rebase", "push", "write"
KINDS = frozenset({GIT, MERGE, SQUASH, REBASE, PUSH, WRITE})
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # an object name, SHA-1 or SHA-256


@dataclass(frozen=True, eq=False, repr=False)
class Step:
    argv: tuple[str, ...]
    kind: str = GIT
    # merge/squash: the commit merged in (to tell whether a resumed merge already happened)
    source: str | None = None
    # squash: the message of the commit that completes it; write: the file's text;
    # `config --remove-section S`: what S held, for --abort (journal.section_record)
    message: str | None = None
    # What the refs this step changes held before it ran: "HEAD" for a step that commits,
    # the remote's branches and tags (as last fetched, None: absent) for a push. A killed
    # run is continued by telling from them whether the step already happened, and an
    # abort says from them how to put the remote back.
    expect: dict[str, str | None] | None = None

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
    def from_json(cls, data: Any) -> Step:
        """The step as the journal holds it; jiraflow.store.Damaged when it is not one that
        jiraflow writes (the file is on disk: anything may be in it). A git step starts with
        a git command, not an option (`-c` would run anything); a write stays in the tree."""
        from jiraflow import store

        shape = {
            "argv": [str],
            "kind?": set(KINDS),
            "source?": (str, None),
            "message?": (str, None),
        }
        shape["expect?"] = ({store.NAME: (_SHA, None)}, None)  # see Step.expect
        store.check(data, shape)
        argv, kind = tuple(data["argv"]), data.get("kind", GIT)
        if not argv:
            raise store.Damaged("an empty command", "argv")
        first = argv[0]
        if kind == WRITE:
            parts = first.replace("\\", "/").split("/")
            if not first or first.startswith("/") or ".." in parts:
                raise store.Damaged(f"{first!r} is not a file of the work tree", "argv[0]")
        elif not first[:1].isalpha() or not first.replace("-", "").isalnum():
            raise store.Damaged(f"{first!r} is not a git command", "argv[0]")
        return cls(argv, kind, data.get("source"), data.get("message"), data.get("expect"))


@dataclass(eq=False, repr=False)
class Plan:
    """An operation ("feature finish"), its steps, and the refs those steps may move."""

    operation: str
    branch: str
    steps: list[Step] = field(default_factory=list)
    moves: set[str] = field(default_factory=set)
    summary: list[str] = field(default_factory=list)
    # Jira actions (jiraflow.outbox.actions, carried here and stored by their to_json()),
    # run after every git step
    remote: list[Any] = field(default_factory=list)
    # the branch checked out when the plan is done (for the summary)
    branch_after: str = ""

    def add(self, *argv: str, kind: str = GIT, **extra: Any) -> None:
        self.steps.append(Step(tuple(argv), kind, **extra))

    def describe(self) -> list[str]:
        return [step.describe() for step in self.steps]
