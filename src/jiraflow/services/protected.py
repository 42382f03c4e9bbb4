"""Finishes where the server protects main and develop (gitflow.protected, Bitbucket branch
permissions): nothing is ever pushed to a protected branch; a pull request does the merge.

- `feature|bugfix finish` into a protected base pushes the branch and opens (or shows) its
  pull request instead of merging here; once it is merged, the finish cleans up as after any
  merged pull request.
- `release|hotfix finish` into a protected main needs `--pr` (the finish refuses up front
  otherwise); when the back-merge target (develop, or the open release branch for a hotfix)
  is protected, the finish tags the merge commit, makes `backmerge/VERSION` at the tag and
  opens its pull request into that target, and keeps the release branch. A later finish (or
  `pr merge` of that pull request, through `complete_backmerge`) sees it merged and completes.

The paths themselves are in services.protected_paths (services.flow calls them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jiraflow.services.protected_paths import (
    MERGE_COMMAND,
    OpenPullRequest,
    ThroughPullRequest,
    is_protected,
)

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import PullRequest
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.services.session import Session

__all__ = [
    "MERGE_COMMAND",
    "OpenPullRequest",
    "ThroughPullRequest",
    "complete_backmerge",
    "is_protected",
]


def complete_backmerge(
    state: Session,
    flow: FlowContext,
    pull: PullRequest,
    open_pr: OpenPullRequest | None = None,
) -> bool:
    """For `pr merge` after it merged `pull`: when it is a release's or hotfix's back-merge
    (from backmerge/VERSION), complete that finish (update the target, delete the branches,
    Jira) and return True; False for any other pull request (nothing done)."""
    from jiraflow.gitflow.finish import BACKMERGE_PREFIX
    from jiraflow.services.flow import FinishFlags, finish

    if not pull.source.startswith(BACKMERGE_PREFIX):
        return False
    version = pull.source[len(BACKMERGE_PREFIX) :]
    for kind in ("release", "hotfix"):
        branch = flow.model.prefixes[kind] + version
        if flow.repo.has_branch(branch):
            finish(state, flow, kind, branch, FinishFlags(fetch=True), open_pr=open_pr)
            return True
    return False
