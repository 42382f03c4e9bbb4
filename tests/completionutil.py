"""TAB completion as the shell asks for it, and the cache of my open issues behind it: shared by
the completion tests and the test that the background refresher runs no repository code."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from click.shell_completion import ShellComplete

from gitutil import Repo
from jiraflow.cli import cli
from jiraflow.jira import issue_cache
from jiraflow.jira.issue_cache import IssueCache

# what alice could start in the seeded sandbox, no project configured: hers and unassigned
# ones (Done and others' issues left out), newest first
ALICE_OPEN = [
    ("OPS-1", "Rotate certificates"),
    ("PROJ-11", "Onboarding"),
    ("PROJ-10", "Login rate limiting"),
    ("PROJ-8", "Upgrade dependencies"),
    ("PROJ-6", "Dark mode"),
    ("PROJ-5", "Password reset email"),
    ("PROJ-2", "Crash when the password has “smart quotes”"),
    ("PROJ-1", "Add login form"),
]


def tab(repo: Repo, *words: str) -> list[tuple[str, str | None]]:
    """What a TAB after `jiraflow WORDS...` offers (the last word is the one completed),
    computed in this process as the shell's request would be."""
    comp = ShellComplete(cli, {}, "jiraflow", "_JIRAFLOW_COMPLETE")
    *args, incomplete = words
    items = comp.get_completions(["-C", str(repo.path), *args], incomplete)
    return [(item.value, item.help) for item in items]


def cache() -> IssueCache:
    return IssueCache(issue_cache.default_path())


def wait_for(what: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s")
        time.sleep(0.05)


def refreshed() -> bool:
    """The cache has an answer and no refresher is running."""
    return bool(cache().read()) and not os.path.exists(cache().marker)
