"""The pull-request paths of finishes into protected branches (see services.protected, which
documents them): what `services.flow.finish` calls. Kept apart from services.protected so that
it can call the finish (`complete_backmerge`) without an import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.finish import BackMerge
    from jiraflow.outbox.actions import Action
    from jiraflow.services.session import Session


class OpenPullRequest(Protocol):
    """(branch, base, title or None): push the branch and open (or show) its pull request into
    base; the CLI's `pr create` machinery (cli.pr_open.open_pull_request), rendering included.
    `jira`: Jira actions delivered before the pull request's own (the work log of `finish
    --log`)."""

    def __call__(
        self, branch: str, base: str, title: str | None, /, jira: Sequence[Action] = ()
    ) -> None: ...


MERGE_COMMAND = "jiraflow pr merge"


class FinishFlags(Protocol):
    """The finish options that shape a merge made here (services.flow.FinishFlags has them;
    named here by their shape, so that this module does not import services.flow back)."""

    @property
    def squash(self) -> bool: ...

    @property
    def no_ff(self) -> bool: ...

    @property
    def rebase(self) -> bool: ...


class ThroughPullRequest(Exception):
    """Raised while a feature or bugfix finish is planned (before anything changed) when its
    base is protected and no pull request merged it yet: the finish takes the PR path.
    `jira`: what the finish asked of Jira that is not the merge's (the work log of --log),
    delivered with the pull request's own actions."""

    def __init__(self, branch: str, base: str, jira: Sequence[Action] = ()) -> None:
        super().__init__(branch)
        self.branch = branch
        self.base = base
        self.jira = list(jira)


def is_protected(flow: FlowContext, branch: str) -> bool:
    from jiraflow.gitflow.finish import is_protected as protected

    return protected(flow, branch)


def _need(open_pr: OpenPullRequest | None, base: str) -> OpenPullRequest:
    from jiraflow.errors import RepoStateError

    if open_pr is None:
        raise RepoStateError(
            f"'{base}' is protected (gitflow.protected): this goes into it through a pull request",
            "Open it with `jiraflow pr create`; once it is merged, finish again.",
        )
    return open_pr


def finish_through_pr(
    state: Session,
    flow: FlowContext,
    kind: str,
    refusal: ThroughPullRequest,
    open_pr: OpenPullRequest | None,
    flags: FinishFlags | None = None,
) -> None:
    """`feature|bugfix finish` into a protected base: push the branch and open (or show) its
    pull request; no local branch changes. Merging it, then finishing again, completes.
    `flags`: the finish options as given; those that shape the merge are named in a warning.
    The work of `--log` is done: its work log goes to Jira now, with the pull request's
    link and move (refusal.jira), not at the finish after the merge."""
    from jiraflow.gitflow import journal

    branch, base = refusal.branch, refusal.base
    opener = _need(open_pr, base)
    ignored = merge_flags_ignored(flags, base) if flags is not None else ""
    if ignored:
        state.renderer.warn(ignored)
    if state.dry_run:
        state.renderer.line(
            f"('{base}' is protected: the finish would push '{branch}' and open its pull "
            "request instead of merging)"
        )
    with journal.lock(flow.repo):
        if not state.dry_run:
            journal.refuse_if_busy(flow.repo)
        opener(branch, base, None, jira=refusal.jira)
    if not state.dry_run and not state.json:
        state.renderer.line(
            f"'{base}' is protected (gitflow.protected): nothing was merged here. Merge the "
            f"pull request (`{MERGE_COMMAND}`), then run `jiraflow {kind} finish` again."
        )


def merge_flags_ignored(flags: FinishFlags, base: str) -> str:
    """The warning for the options given that shape a merge made here (--squash, --no-ff,
    --rebase) when the pull request into the protected `base` does the merge instead: the
    merge strategy of `pr merge` (or Bitbucket's default) decides; "" when none was given.
    (-k and -p change nothing here either, but what they ask holds: the branch stays and is
    pushed, as the pull request needs; they apply to the finish after the merge.)"""
    given = [
        name
        for name, on in (
            ("--squash", flags.squash),
            ("--no-ff", flags.no_ff),
            ("--rebase", flags.rebase),
        )
        if on
    ]
    if not given:
        return ""
    ways = [f"`{MERGE_COMMAND} --squash`"] if flags.squash else []
    ways += [f"`{MERGE_COMMAND} --merge`"] if flags.no_ff else []
    verb = "does" if len(given) == 1 else "do"
    text = (
        f"{', '.join(given)} {verb} nothing here: '{base}' is protected, so the pull request "
        "does the merge, the way its merge strategy says"
    )
    return text + (f" (choose it: {' or '.join(ways)})" if ways else "")


def fetch_for_back_merge(flow: FlowContext, kind: str, branch: str) -> None:
    """Before a release or hotfix finish whose back-merge branch exists: fetch, so that a
    back-merge merged on the server is seen (the finish then completes)."""
    from jiraflow.gitflow.finish import back_merge

    pending = back_merge(flow, kind, branch)
    if pending is not None and flow.repo.has_branch(pending.branch):
        flow.repo.fetch(flow.model.remote)


def open_back_merge(
    state: Session,
    flow: FlowContext,
    kind: str,
    branch: str,
    pending: BackMerge,
    open_pr: OpenPullRequest | None,
) -> None:
    """After the finish's git part (tagged, backmerge/VERSION made): push the back-merge
    branch and open (or show) its pull request into the protected target."""
    from jiraflow.errors import JiraflowError, PartialError
    from jiraflow.gitflow import journal

    version = branch[len(flow.model.prefixes[kind]) :]
    title = f"Merge {kind} {version} back into {pending.into}"
    if state.dry_run:
        state.renderer.line(
            f"(then: push '{pending.branch}' and open its pull request into '{pending.into}', "
            f"which is protected; '{branch}' stays until it is merged)"
        )
        return
    opener = _need(open_pr, pending.into)
    again = f"jiraflow {kind} finish {version}"
    with journal.lock(flow.repo):
        journal.refuse_if_busy(flow.repo)
        try:
            opener(pending.branch, pending.into, title)
        except JiraflowError as exc:  # the git part is done: the finish again opens it
            if not isinstance(exc, PartialError):  # (opened: Jira's part is for `sync`)
                exc.hint = (
                    f"The finish's git part is done. Fix the cause, then run `{again}` again: "
                    "it opens the back-merge pull request, doing nothing twice."
                )
            raise
    if not state.json:
        state.renderer.line(
            f"'{pending.into}' is protected (gitflow.protected): merge the back-merge pull "
            f"request (`{MERGE_COMMAND}`), then run `{again}` again to complete the finish."
        )
