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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from jiraflow import store
from jiraflow.errors import ConfigError, JiraflowError, RepoStateError
from jiraflow.git import branch_ref
from jiraflow.gitflow.context import FlowContext
from jiraflow.templates import fill
from jiraflow.text import plural

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient, PullRequest
    from jiraflow.bitbucket.repository import Repository
    from jiraflow.jira.tracker import Tracker
    from jiraflow.outbox.actions import Action
    from jiraflow.services.session import Output

MAX_COMMITS_LISTED = 50
STATES = {  # `pr list --state`: the Bitbucket states of each
    "open": ("OPEN",),
    "merged": ("MERGED",),
    "declined": ("DECLINED",),
    "all": ("OPEN", "MERGED", "DECLINED", "SUPERSEDED"),
}


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
            from jiraflow.bitbucket import client_for
            from jiraflow.credentials import lookup

            repo = self.repository
            credential = lookup(
                "bitbucket",
                repo.api,
                self.flow.config.bitbucket.user,
                app_dir=self.app_dir,
                environ=self.environ,
            )
            self._client = client_for(
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
        title = fill("pr.title", cfg.title, values)
    description = fill("pr.description", cfg.description, values).strip()
    return Text(title.strip(), re.sub(r"\n{3,}", "\n\n", description))


def humanise(name: str) -> str:
    """`add-login-form` -> `Add login form`."""
    words = re.sub(r"[-_/]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


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
    tip = repo.refs()[branch_ref(branch)]
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
    args = ("push", "--quiet", "--set-upstream", remote, f"{branch}:{branch_ref(branch)}")
    remote_ref = repo.remote_branch(remote, branch)
    if remote_ref is None:
        return args
    ahead, behind = repo.ahead_behind(branch, remote_ref)
    if behind:
        raise RepoStateError(
            f"'{remote}/{branch}' has {plural(behind, 'commit')} that '{branch}' lacks",
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
    from jiraflow.concurrency import together

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


# -- opening one: `pr create` ------------------------------------------------------------------


@contextlib.contextmanager
def guarded(flow: FlowContext, *, dry_run: bool) -> Iterator[None]:
    """The repository's lock, held while `pr create` pushes, opens and tells Jira; a
    Gitflow operation stopped half-way refuses it (a dry run only looks)."""
    from jiraflow.gitflow import journal

    with journal.lock(flow.repo):
        if not dry_run:
            journal.refuse_if_busy(flow.repo)
        yield


def forge_for(flow: FlowContext) -> Forge:
    """The repository's Bitbucket connection (its retries are shown on the running command:
    the CLI listens)."""
    from jiraflow.config import app_dir

    return Forge(flow, app_dir=app_dir())


@dataclass
class Opening:
    """What `pr create` did (or, in a dry run, would do): the push, the pull request (opened
    now or already open), and the Jira actions that follow it."""

    forge: Forge
    branch: str
    base: str
    push: tuple[str, ...] | None
    web_url: str | None = None  # --web: the new-PR page, instead of all below
    tracker: Tracker | None = None
    proposal: Proposal | None = None
    draft: bool = False
    jira: list[Action] = field(default_factory=list)
    pushed: bool = False
    pull: PullRequest | None = None
    created: bool = False


def open_pull_request(
    flow: FlowContext,
    branch: str,
    *,
    ui: Output,
    dry_run: bool = False,
    base: str | None = None,
    title: str | None = None,
    body: str | None = None,
    draft: bool | None = None,
    reviewers: tuple[str, ...] = (),
    web: bool = False,
    on_pushed: Callable[[], None] = lambda: None,
) -> Opening:
    """`pr create`, also used by `release|hotfix finish --pr`: push the branch and open its
    pull request (or find the one open). `on_pushed` is told as soon as the push is done:
    the pull request may still fail. The Jira actions (`jira`) are the caller's to deliver."""
    from jiraflow.services import remote

    forge = forge_for(flow)
    forge.require("pr create")
    base = base or destination(flow, branch)
    check_branches(flow, branch, base)
    push = push_args(flow, branch)
    if web:
        url = forge.repository.new_pr_url(branch, base)
        if not dry_run:
            _push(ui, flow, push)
        return Opening(forge, branch, base, push, web_url=url)
    tracker = remote.tracker_for(flow)
    proposal = _propose(
        ui, flow, forge, tracker, branch, base, push, title, body, reviewers, dry_run=dry_run
    )
    use_draft = flow.config.pr.draft if draft is None else draft
    opening = Opening(forge, branch, base, push, tracker=tracker, proposal=proposal)
    opening.draft = use_draft
    opening.jira = _jira_actions(tracker, proposal, None)
    if dry_run:
        return opening
    opening.pushed = pushed = _push(ui, flow, push)
    if pushed:
        on_pushed()
    pull = proposal.existing
    created = False
    if pull is None:
        try:
            pull, created = _create(flow, forge, proposal, use_draft)
        except JiraflowError as exc:
            from jiraflow.bitbucket.client import Unconfirmed

            if isinstance(exc, Unconfirmed):  # maybe opened: never "opened #0", never sent again
                exc.message = f"the pull request may or may not be open: {exc.message}"
                exc.hint = (
                    "Run `jiraflow pr create` again: it finds the pull request if Bitbucket "
                    "opened it (and links it in Jira), or opens it."
                )
            if not pushed:
                raise
            # the push stays (it loses nothing); running the command again opens the PR
            if isinstance(exc, Unconfirmed):
                exc.message = f"pushed '{branch}', but {exc.message}"
                raise
            exc.message = f"pushed '{branch}', but no pull request was opened: {exc.message}"
            exc.hint = (exc.hint + " " if exc.hint else "") + (
                "`jiraflow pr create` again pushes nothing twice and opens it."
            )
            raise
    opening.pull, opening.created = pull, created
    opening.jira = _jira_actions(tracker, proposal, pull)
    return opening


def _create(
    flow: FlowContext, forge: Forge, proposal: Proposal, draft: bool
) -> tuple[PullRequest, bool]:
    from jiraflow.errors import RemoteError

    try:
        return forge.client.create(
            title=proposal.title,
            description=proposal.description,
            source=proposal.branch,
            destination=proposal.base,
            reviewers=[u.id for u in proposal.reviewers],
            draft=draft,
            close_source_branch=flow.config.bitbucket.close_source_branch,
        )
    except RemoteError as exc:
        if "reviewer" not in exc.message.lower():
            raise
        asked = ", ".join(u.display for u in proposal.reviewers)
        raise RemoteError(
            exc.message,
            f"The reviewers sent were: {asked}. Leave out the refused one (-r, or "
            "bitbucket.default_reviewers = false) and run `jiraflow pr create` again.",
        ) from None


def _propose(
    ui: Output,
    flow: FlowContext,
    forge: Forge,
    tracker: Tracker,
    branch: str,
    base: str,
    push: tuple[str, ...] | None,
    title: str | None,
    body: str | None,
    reviewers: tuple[str, ...],
    *,
    dry_run: bool,
) -> Proposal:
    """The reads go out together: the pull request already open, the reviewers, and the
    issue (read ahead for its move, and its summary when the summary cache lacks it)."""
    from jiraflow.concurrency import Ahead
    from jiraflow.services import remote

    proposal = Proposal(branch, base, push)
    proposal.key = remote.issue_key(tracker, flow, branch)
    client = forge.client  # made here: its credential is looked up in this thread
    if proposal.key is not None and not dry_run:
        summary_known = (tracker.cached(proposal.key) or {}).get("summary")
        if flow.config.jira.on.pr or not summary_known:
            tracker.read_ahead(proposal.key)
    chosen = Ahead(partial(choose_reviewers, forge, branch, base, reviewers))
    try:
        existing = client.pull_requests(source=branch, destination=base)
    finally:
        chosen.wait()  # no request outlives the proposal
    if existing:
        proposal.existing = existing[0]
        return proposal
    summary, issue_url = _issue_facts(ui, tracker, proposal.key)
    commits = commit_subjects(flow, f"{flow.model.remote}/{base}", branch)
    text = pr_text(
        flow,
        branch,
        base,
        key=proposal.key,
        summary=summary,
        issue_url=issue_url,
        commits=commits,
    )
    proposal.title = title if title is not None else text.title
    proposal.description = body if body is not None else text.description
    proposal.reviewers, proposal.dropped = chosen.result()
    return proposal


def _issue_facts(ui: Output, tracker: Tracker, key: str | None) -> tuple[str | None, str | None]:
    """Summary and browse URL of the issue: from the summary cache, else one GET. Jira being
    down must not stop a pull request: the title then comes from the branch."""
    if key is None:
        return None, None
    cached = tracker.cached(key)
    if cached and cached.get("summary"):
        url = cached.get("site")
        return cached["summary"], f"{url}/browse/{key}" if url else None
    try:
        issue, site = tracker.fetch(key)
    except JiraflowError as exc:
        ui.warn(f"could not read {key} from Jira ({exc.message}); titled from the branch")
        return None, None
    return issue.summary, f"{site.url}/browse/{key}"


def _push(ui: Output, flow: FlowContext, push: tuple[str, ...] | None) -> bool:
    from jiraflow.errors import RemoteError
    from jiraflow.git import hook_output, reason

    if push is None:
        return False
    ui.step("git " + " ".join(push))
    proc = flow.repo.run(*push, check=False)
    if proc.returncode != 0:
        from jiraflow.git import refused_by_branch_permissions

        refused = refused_by_branch_permissions(proc.stderr)
        if refused is not None:  # the branch itself is protected: push it under another name
            raise RemoteError(
                f"'{flow.model.remote}' refused the push to '{refused}': its branch permissions "
                "take changes only through pull requests",
                "Open the pull request from a branch it does not protect: `git switch -c NAME`, "
                "then `jiraflow pr create`.",
            )
        why, fix = reason(proc.stderr), "Check the remote and your access"
        said = hook_output(f"{proc.stdout}\n{proc.stderr}")
        if said:  # a pre-push hook refused it, and said why: show that, not git's last words
            why, fix = "its pre-push hook refused it:\n" + "\n".join(said), "Fix what it says"
        raise RemoteError(
            f"git push to '{flow.model.remote}' failed: {why}",
            f"{fix}, then run `jiraflow pr create` again.",
        )
    flow.repo.forget_refs()
    return True


def _jira_actions(tracker: Tracker, proposal: Proposal, pull: PullRequest | None) -> list[Action]:
    """Link the pull request on the issue (upserted by URL), then move the issue to
    jira.on.pr: the link first, so that a move the workflow refuses does not hold it up."""
    from jiraflow.outbox.actions import Link, Move

    if proposal.key is None:
        return []
    pr_id = pull.id if pull else (proposal.existing.id if proposal.existing else None)
    label = f"pull request #{pr_id}" if pr_id else "the pull request"
    url = pull.url if pull else ""
    actions: list[Action] = [Link.on(tracker, proposal.key, url, label, resolved=False)]
    move = Move.on(tracker, proposal.key, "pr")
    if move is not None:
        actions.append(move)
    return actions


# -- reading: `pr view|list|status` ------------------------------------------------------------


def pull_request(flow: FlowContext, number: int | None) -> PullRequest:
    """Pull request `number`, or the newest one of the current branch."""
    forge = forge_for(flow)
    forge.require("pr view")
    if number is not None:
        return forge.client.pull_request(number)
    branch = flow.current_branch()
    found = forge.client.pull_requests(source=branch, states=STATES["all"], limit=1)
    if not found:
        raise RepoStateError(
            f"'{branch}' has no pull request",
            "Open one with `jiraflow pr create`, or name one: `jiraflow pr view 12`.",
        )
    return forge.client.pull_request(found[0].id)  # lists leave out the reviewers


def pull_requests(flow: FlowContext, which: str, limit: int) -> tuple[str, list[PullRequest]]:
    """The Bitbucket repository's name, and its pull requests in state `which`."""
    forge = forge_for(flow)
    forge.require("pr list")
    pulls = forge.client.pull_requests(states=STATES[which], limit=limit)
    return forge.repository.full_name, pulls


def review_status(
    flow: FlowContext,
) -> tuple[str | None, PullRequest | None, list[PullRequest], list[PullRequest]]:
    """The current branch, its pull request, the open ones you made, and those that ask
    for your review."""
    forge = forge_for(flow)
    forge.require("pr status")
    client = forge.client
    me = client.me()
    branch = flow.repo.head().branch
    open_prs = client.pull_requests(states=("OPEN",), limit=100)
    current = next((p for p in open_prs if p.source == branch), None)
    if current is None and branch:
        found = client.pull_requests(source=branch, states=STATES["all"], limit=1)
        current = found[0] if found else None
    mine = [p for p in open_prs if me.id and p.author.id == me.id]
    asked = [p for p in open_prs if any(r.user.id == me.id for r in p.reviewers) and me.id]
    return branch, current, mine, asked
