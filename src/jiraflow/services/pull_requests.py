"""Pull requests of Gitflow branches: the Bitbucket connection of a repository, where a
branch's pull request goes, what it says, and whether a branch already landed through one.

The Bitbucket HTTP is in bitbucket.py; the repository's location in forge.py. This module
decides; the CLI renders.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from jiraflow import store
from jiraflow.errors import ConfigError, JiraflowError, RepoStateError
from jiraflow.gitflow.context import FlowContext

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient, PullRequest
    from jiraflow.bitbucket.repository import Repository

MAX_COMMITS_LISTED = 50


class Forge:
    """Bitbucket for one git repository: the Bitbucket repository, and a client for it."""

    def __init__(
        self,
        flow: FlowContext,
        *,
        app_dir: str,
        cache_dir: str | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.flow = flow
        self.app_dir = app_dir
        self.cache_dir = cache_dir if cache_dir is not None else store.cache_dir(environ)
        self.environ = os.environ if environ is None else environ
        self._sleep = sleep
        self._repository: Repository | None = None
        self._client: BitbucketClient | None = None

    @property
    def remote_url(self) -> str | None:
        return self.flow.repo.config().get(f"remote.{self.flow.model.remote}.url")

    @property
    def enabled(self) -> bool:
        from jiraflow.bitbucket import repository as forge

        return forge.configured(self.flow.config, self.remote_url)

    @property
    def repository(self) -> Repository:
        if self._repository is None:
            from jiraflow.bitbucket import repository as forge

            self._repository = forge.resolve(
                self.flow.config, self.remote_url, self.flow.model.remote
            )
        return self._repository

    @property
    def client(self) -> BitbucketClient:
        if self._client is None:
            from jiraflow.bitbucket.client import BitbucketClient
            from jiraflow.credentials import lookup

            repo = self.repository
            credential = lookup(
                "bitbucket",
                repo.api,
                self.flow.config.bitbucket.user,
                app_dir=self.app_dir,
                environ=self.environ,
            )
            self._client = BitbucketClient(
                credential,
                repo,
                timeout=float(self.flow.config.bitbucket.timeout),
                cache=store.SiteCache(os.path.join(self.cache_dir, "sites.json")),
                sleep=self._sleep,
            )
        return self._client

    @property
    def usable(self) -> bool:
        """Configured, and logged in (a token for its site is at hand)."""
        if not self.enabled:
            return False
        try:
            self.client  # noqa: B018 - resolves the repository, looks the credential up
        except JiraflowError:
            return False
        return True

    def require(self, what: str) -> None:
        """Stop with a configuration error when Bitbucket is not set up for this repo."""
        if not self.enabled:
            from jiraflow.bitbucket.repository import display_url

            url = display_url(self.remote_url or "") or "(none)"
            raise ConfigError(
                f"{what} needs Bitbucket, and this repository's remote "
                f"'{self.flow.model.remote}' ({url}) is not a Bitbucket one",
                "Set bitbucket.repository (and bitbucket.url for Data Center), "
                "e.g. `jiraflow config set bitbucket.repository acme/shop`.",
            )


# -- where a pull request goes, and what it says ---------------------------------------------


def destination(flow: FlowContext, branch: str) -> str:
    """Gitflow's target of a branch's pull request: features and bugfixes into their base
    (develop, or the release they started from), releases and hotfixes into main (or the
    support branch a hotfix started from)."""
    parsed = flow.model.parse(branch)
    kind = parsed[0] if parsed else None
    if kind in ("release", "hotfix"):
        from jiraflow.gitflow.finish import finish_target

        return finish_target(flow, kind, branch)
    if kind in ("feature", "bugfix"):
        return flow.base_of(branch, kind)
    if branch in (flow.model.main, flow.model.develop) or kind == "support":
        raise RepoStateError(
            f"'{branch}' is a long-lived branch; pull requests come from work branches",
            "Check out a feature, bugfix, release or hotfix branch (or pass --base).",
        )
    return flow.model.develop


@dataclass
class Text:
    """Title and description of a new pull request."""

    title: str
    description: str


def pr_text(
    flow: FlowContext,
    branch: str,
    base: str,
    *,
    key: str | None,
    summary: str | None,
    issue_url: str | None,
    commits: list[str],
) -> Text:
    """From the pr.title / pr.description templates. A branch without an issue is titled from
    its single commit's subject, or else from its name."""
    cfg = flow.config.pr
    short = branch
    parsed = flow.model.parse(branch)
    if parsed:
        short = parsed[1]
    if parsed and parsed[0] in ("release", "hotfix"):
        default_title = f"{parsed[0].capitalize()} {short}"
    elif len(commits) == 1:
        default_title = commits[0]
    else:
        default_title = humanise(short)
    issue = ""
    if key:
        issue = f"[{key}]({issue_url}) {summary or ''}".strip() if issue_url else key
    values = {
        "key": key or "",
        "summary": summary or "",
        "branch": branch,
        "base": base,
        "issue": issue,
        "commits": "\n".join(f"* {c}" for c in commits[:MAX_COMMITS_LISTED])
        + (
            f"\n* ... and {len(commits) - MAX_COMMITS_LISTED} more"
            if len(commits) > MAX_COMMITS_LISTED
            else ""
        ),
    }
    title = default_title
    if key and summary:
        title = _fill("pr.title", cfg.title, values)
    description = _fill("pr.description", cfg.description, values).strip()
    return Text(title.strip(), re.sub(r"\n{3,}", "\n\n", description))


def humanise(name: str) -> str:
    """`add-login-form` -> `Add login form`."""
    words = re.sub(r"[-_/]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def _fill(key: str, template: str, values: dict[str, str]) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        names = ", ".join("{" + v + "}" for v in values)
        raise ConfigError(
            f"{key} = {template!r} is not a valid template",
            f"Use {names} as placeholders (double braces for a literal brace).",
        ) from None


def commit_subjects(flow: FlowContext, base_ref: str, branch: str) -> list[str]:
    """Subjects of the branch's commits that the base lacks, oldest first, merges left out."""
    text = flow.repo.out("log", "--reverse", "--no-merges", "--format=%s", f"{base_ref}..{branch}")
    return [line for line in text.splitlines() if line.strip()]


# -- did the branch land already? --------------------------------------------------------------


@dataclass
class Landing:
    """What Bitbucket and the remote say about a branch about to be finished."""

    open_pr: PullRequest | None = None  # a pull request still open from it into its target
    merged_pr: PullRequest | None = None  # the pull request that merged it
    merge_commit: str | None = None  # where it landed on the remote target (to tag)
    note: str = ""  # why Bitbucket could not be asked, when it could not

    @property
    def landed(self) -> bool:
        return self.merge_commit is not None


def pull_requests_of(forge: Forge, branch: str, target: str) -> tuple[Any, Any]:
    """(a pull request still open from branch, into any destination; the newest merged one
    from branch into target)."""
    prs = forge.client.pull_requests(source=branch, states=("OPEN", "MERGED"), limit=20)
    open_pr = next((p for p in prs if p.state == "OPEN"), None)
    merged = next((p for p in prs if p.state == "MERGED" and p.destination == target), None)
    return open_pr, merged


def landing(
    flow: FlowContext, forge: Forge | None, branch: str, target: str, *, fetch: bool = True
) -> Landing:
    """Whether `branch` already reached `target` on the remote (through a merged pull request
    or a push by someone), and where; also any pull request still open from it.

    Bitbucket is asked only when the branch was ever pushed. When it cannot be asked (down,
    refused, not logged in, misconfigured), the answer comes from git alone and `note` says
    why: the caller then keeps the remote branch, as a pull request may be open on it."""
    repo, remote = flow.repo, flow.model.remote
    result = Landing()
    pushed = repo.remote_branch(remote, branch) or repo.config().get(f"branch.{branch}.merge")
    if forge is not None and pushed and forge.enabled:
        try:
            result.open_pr, result.merged_pr = pull_requests_of(forge, branch, target)
        except JiraflowError as exc:
            result.note = exc.message
    tip = repo.refs()[f"refs/heads/{branch}"]
    merged = result.merged_pr
    if merged is not None and not _related(flow, tip, merged):
        result.merged_pr = merged = None  # an older branch of the same name: not this work
    if merged is not None and fetch:
        repo.fetch(remote)
    elif result.note and fetch:  # Bitbucket could not say: the remote may show the merge
        with contextlib.suppress(JiraflowError):
            repo.fetch(remote)
    remote_target = repo.remote_branch(remote, target)
    if remote_target is None:
        return result
    if (
        merged is not None
        and merged.merge_commit
        and repo.ok("cat-file", "-e", merged.merge_commit)
    ):
        if not _contained(flow, tip, merged):
            raise RepoStateError(
                f"'{branch}' has commits that are not in the merged pull request #{merged.id}: "
                + _beyond(flow, tip, merged),
                "They were never reviewed: open a pull request for them (`jiraflow pr create`), "
                "and finish once it is merged.",
            )
        if repo.is_ancestor(merged.merge_commit, remote_target):
            result.merge_commit = repo.out("rev-parse", merged.merge_commit)
            return result
    if repo.is_ancestor(tip, remote_target) and not repo.is_ancestor(tip, target):
        result.merge_commit = _first_containing(flow, tip, remote_target)
    return result


def remote_has_more(flow: FlowContext, branch: str, target: str, landed: Landing) -> bool:
    """Whether the remote branch holds commits that neither the remote target nor the merged
    pull request has (a follow-up pushed after the merge): deleting it would lose them."""
    repo, remote = flow.repo, flow.model.remote
    remote_ref = repo.remote_branch(remote, branch)
    remote_target = repo.remote_branch(remote, target)
    if remote_ref is None:
        return False
    if remote_target and repo.is_ancestor(remote_ref, remote_target):
        return False
    source = _commit(flow, landed.merged_pr.source_commit) if landed.merged_pr else None
    return not (source and repo.is_ancestor(remote_ref, source))


def _commit(flow: FlowContext, rev: str) -> str | None:
    return flow.repo.commit_of(rev)


def _related(flow: FlowContext, tip: str, merged: PullRequest) -> bool:
    """Whether a merged pull request was made from this branch's work: its source commit is
    the tip, before it, or after it. Unknown here, or on another line: an older branch."""
    source = _commit(flow, merged.source_commit)
    if source is None:
        return bool(merged.merge_commit) and flow.repo.ok(
            "merge-base", "--is-ancestor", tip, merged.merge_commit
        )
    return flow.repo.is_ancestor(source, tip) or flow.repo.is_ancestor(tip, source)


def _contained(flow: FlowContext, tip: str, merged: PullRequest) -> bool:
    """Whether the local branch holds nothing beyond what the pull request merged (a squash
    merge leaves the branch's own commits out of the target, so ask the PR's source)."""
    repo = flow.repo
    if repo.is_ancestor(tip, merged.merge_commit):
        return True
    source = _commit(flow, merged.source_commit)
    return source is not None and repo.is_ancestor(tip, source)


def _beyond(flow: FlowContext, tip: str, merged: PullRequest, shown: int = 3) -> str:
    """The commits of `tip` that the merged pull request did not bring, for a message:
    "abc1234 Fix it; def5678 And this" (the first few, then how many more)."""
    exclude = [f"^{merged.merge_commit}"]
    source = _commit(flow, merged.source_commit)
    if source is not None:
        exclude.append(f"^{source}")
    lines = flow.repo.out("log", "--reverse", "--format=%h %s", tip, *exclude).splitlines()
    more = len(lines) - shown
    return "; ".join(lines[:shown]) + (f"; and {more} more" if more > 0 else "")


def _first_containing(flow: FlowContext, tip: str, remote_target: str) -> str:
    """The first commit on the target's first-parent line that contains tip: the merge
    commit that brought the branch in (or tip itself after a fast-forward)."""
    text = flow.repo.out(
        "rev-list", "--first-parent", "--ancestry-path", "--reverse", f"{tip}..{remote_target}"
    )
    full_tip = flow.repo.out("rev-parse", tip)
    lines = text.splitlines()
    if not lines or flow.repo.out("rev-parse", lines[0] + "^1") == full_tip:
        return full_tip  # fast-forwarded: the tip itself is on the line
    return lines[0]


# -- a new pull request ------------------------------------------------------------------------


@dataclass
class Proposal:
    """What `pr create` is about to do: push (when needed), then open the pull request (or
    show the one already open), then tell Jira."""

    branch: str
    base: str
    push: tuple[str, ...] | None  # git arguments, when the remote lacks commits
    existing: PullRequest | None = None
    title: str = ""
    description: str = ""
    reviewers: list[Any] = field(default_factory=list)  # bitbucket.User
    key: str | None = None
    dropped: list[str] = field(default_factory=list)  # reviewers left out, and why


def push_args(flow: FlowContext, branch: str) -> tuple[str, ...] | None:
    """The push that brings the remote branch up to the local one (None: it is there).
    A remote branch with commits the local one lacks stops everything: pull first."""
    repo, remote = flow.repo, flow.model.remote
    args = ("push", "--quiet", "--set-upstream", remote, f"{branch}:refs/heads/{branch}")
    remote_ref = repo.remote_branch(remote, branch)
    if remote_ref is None:
        return args
    ahead, behind = repo.ahead_behind(branch, remote_ref)
    if behind:
        raise RepoStateError(
            f"'{remote}/{branch}' has {behind} commit{'s' if behind > 1 else ''} that "
            f"'{branch}' lacks",
            "Pull them first (`git pull --rebase`), then run `jiraflow pr create` again.",
        )
    return args if ahead else None


def check_branches(flow: FlowContext, branch: str, base: str) -> None:
    """The destination must be on the remote, and the branch must add something to it."""
    repo, remote = flow.repo, flow.model.remote
    if remote not in repo.remotes():
        raise RepoStateError(
            f"there is no remote '{remote}' to push '{branch}' to",
            f"Add it with `git remote add {remote} URL`, or set gitflow.remote.",
        )
    if repo.remote_branch(remote, base) is None:
        raise RepoStateError(
            f"'{base}' is not on '{remote}', so a pull request cannot target it",
            f"Push it first: `git push {remote} {base}` (or pass --base).",
        )
    if repo.count(f"{remote}/{base}..{branch}") == 0:
        raise RepoStateError(
            f"'{branch}' has no commits that '{remote}/{base}' lacks: nothing to review",
            "Commit your work first (or fetch, if it was merged already).",
        )


def choose_reviewers(
    forge: Forge, branch: str, base: str, asked: tuple[str, ...]
) -> tuple[list[Any], list[str]]:
    """The default reviewers (when configured) and the asked-for ones, without the author;
    plus notes on who was left out. Who you are and who the default reviewers are is asked
    at once."""
    from jiraflow.bitbucket.client import User
    from jiraflow.retry import together

    client = forge.client
    reads: list[Callable[[], Any]] = [client.me]
    cloud_names = [a for a in asked if not _is_cloud_id(a)] if client.cloud else []
    if forge.flow.config.bitbucket.default_reviewers or cloud_names:
        reads.append(partial(client.default_reviewers, branch, base))
    me, *found = together(reads)
    defaults: list[User] = found[0] if found else []
    chosen = list(defaults) if forge.flow.config.bitbucket.default_reviewers else []
    for name in asked:
        if client.cloud and not _is_cloud_id(name):
            found = [u for u in defaults if name.lower() in (u.name.lower(), u.display.lower())]
            if not found:
                raise ConfigError(
                    f"reviewer '{name}' is not one of the default reviewers, and Bitbucket "
                    "Cloud cannot look people up by name",
                    "Give the reviewer's account id or {uuid} (shown in their profile URL).",
                )
            chosen.append(found[0])
        else:  # an id: the default reviewer it names, if it is one (for the display name)
            known = [u for u in defaults if u.is_named(name)]
            chosen.append(known[0] if known else User(name, name, name))
    dropped: list[str] = []
    unique: list[User] = []
    for user in chosen:
        if me.is_named(user.id) or me.is_named(user.account_id):
            dropped.append(f"{user.display} (you are the author)")
        elif not any(u.is_named(user.id) or user.is_named(u.id) for u in unique):
            unique.append(user)
    return unique, dropped


def _is_cloud_id(value: str) -> bool:
    """A Bitbucket Cloud uuid ({...}) or Atlassian account id (557058:..., or 24 hex)."""
    return value.startswith("{") or ":" in value or bool(re.fullmatch(r"[0-9a-f]{24}", value))
