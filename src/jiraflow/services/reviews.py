"""The reviewer's side of pull requests: check out a colleague's branch, approve, request
changes, comment, decline, and the lists of one's own and of those to review.

Each action on a pull request named by number is one Bitbucket request (decline on Data Center
reads the pull request's version first: two); without a number, the current branch's open pull
request is looked up first (one more). This module decides; cli/pr_cmd.py renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jiraflow.errors import JiraflowError, RemoteError, RepoStateError, UsageError
from jiraflow.git import branch_ref, remote_ref
from jiraflow.text import plural

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import PullRequest
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.services.pull_requests import Forge

#: command -> (what it does, in the past tense; what an unchanged answer means)
ACTIONS = {
    "approve": ("approved", "you had approved it already"),
    "request-changes": ("requested changes on", "you had requested changes already"),
    "decline": ("declined", ""),
    "comment": ("commented on", ""),
}
ROLES = ("author", "reviewer")


@dataclass
class Review:
    """What a reviewer's command did (or, in a dry run, would do) to pull request `number`."""

    action: str  # a key of ACTIONS
    number: int
    url: str
    changed: bool = True  # False: Bitbucket had it so already (approve, request-changes)
    pull: PullRequest | None = None  # when it was read (looked up, or declined)
    comment_url: str = ""
    request: str = ""  # the Bitbucket request, for a dry run

    @property
    def summary(self) -> str:
        done, unchanged = ACTIONS[self.action]
        title = f" ({self.pull.title})" if self.pull is not None and self.pull.title else ""
        if not self.changed:
            return f"pull request #{self.number}{title}: {unchanged}"
        return f"{done} pull request #{self.number}{title}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.action,
            "pull_request": self.number,
            "url": self.url,
            "changed": self.changed,
        }
        if self.action == "comment":
            data["comment_url"] = self.comment_url
        if self.action == "decline" and self.pull is not None:
            data["state"] = self.pull.state
        return data


def _forge(flow: FlowContext, command: str) -> Forge:
    from jiraflow.services.pull_requests import forge_for

    forge = forge_for(flow)
    forge.require(f"pr {command}")
    return forge


def pull_url(forge: Forge, number: int) -> str:
    """The pull request's web page, without asking Bitbucket."""
    return f"{forge.repository.web_url}/pull-requests/{number}"


def current_pull(flow: FlowContext, forge: Forge, command: str) -> PullRequest:
    """The open pull request of the current branch (one request)."""
    branch = flow.current_branch()
    found = forge.client.pull_requests(source=branch, states=("OPEN",), limit=1)
    if not found:
        raise RepoStateError(
            f"'{branch}' has no open pull request",
            f"Name one: `jiraflow pr {command} 12` (`jiraflow pr list` shows them).",
        )
    return found[0]


def _my_status(forge: Forge, pull: PullRequest) -> str | None:
    """The token user's status among the reviewers of a pull request read (None: not one)."""
    me = forge.client.me()
    for reviewer in pull.reviewers:
        if me.id and (reviewer.user.is_named(me.id) or me.is_named(reviewer.user.id)):
            return reviewer.status
    return None


def verdict(
    flow: FlowContext, command: str, number: int | None, *, dry_run: bool = False
) -> Review:
    """`pr approve` or `pr request-changes` (Data Center: needs work)."""
    forge = _forge(flow, command)
    pull = current_pull(flow, forge, command) if number is None else None
    pr_id = pull.id if pull is not None else number
    assert pr_id is not None
    review = Review(command, pr_id, pull.url if pull else pull_url(forge, pr_id), pull=pull)
    wanted = "APPROVED" if command == "approve" else "NEEDS_WORK"
    if dry_run:
        review.request = _describe(forge, command, pr_id)
        return review
    if pull is not None and forge.client.cloud is False and _my_status(forge, pull) == wanted:
        review.changed = False  # Data Center sets it again without a word: say so ourselves
        return review
    act = forge.client.approve if command == "approve" else forge.client.request_changes
    try:
        review.changed = act(pr_id)
    except JiraflowError as exc:
        raise _refused(exc, command, pr_id) from None
    return review


def add_comment(
    flow: FlowContext, number: int | None, text: str, *, dry_run: bool = False
) -> Review:
    """`pr comment`: a general comment."""
    if not text.strip():
        raise UsageError(
            "the comment is empty", "Give its text: `jiraflow pr comment -b 'Looks good'`."
        )
    forge = _forge(flow, "comment")
    pull = current_pull(flow, forge, "comment") if number is None else None
    pr_id = pull.id if pull is not None else number
    assert pr_id is not None
    review = Review("comment", pr_id, pull.url if pull else pull_url(forge, pr_id), pull=pull)
    if dry_run:
        review.request = _describe(forge, "comment", pr_id)
        return review
    try:
        review.comment_url = forge.client.comment(pr_id, text)
    except JiraflowError as exc:
        raise _refused(exc, "comment", pr_id) from None
    return review


def decline(flow: FlowContext, number: int | None, *, dry_run: bool = False) -> Review:
    """`pr decline`: Data Center needs the version the pull request is at (read it first
    when the number is given; a lookup by branch has it)."""
    forge = _forge(flow, "decline")
    if number is None:
        pull = current_pull(flow, forge, "decline")
    elif forge.client.cloud:
        pull = None
    else:
        pull = forge.client.pull_request(number)
    pr_id = pull.id if pull is not None else number
    assert pr_id is not None
    review = Review("decline", pr_id, pull.url if pull else pull_url(forge, pr_id), pull=pull)
    if pull is not None and pull.state != "OPEN":
        raise RepoStateError(
            f"pull request #{pr_id} is {pull.state.lower()}, not open: there is nothing to decline",
            f"See it with `jiraflow pr view {pr_id}`.",
        )
    if dry_run:
        review.request = _describe(forge, "decline", pr_id, pull)
        return review
    from jiraflow.bitbucket.client import PullRequest as Pull
    from jiraflow.bitbucket.client import User

    target = pull or Pull(pr_id, "", "OPEN", "", "", review.url, User("", "", ""))
    try:
        review.pull = forge.client.decline(target)
    except JiraflowError as exc:
        raise _refused(exc, "decline", pr_id) from None
    review.url = review.pull.url or review.url
    return review


def _describe(forge: Forge, command: str, pr_id: int, pull: PullRequest | None = None) -> str:
    """The request a dry run would send."""
    client = forge.client
    pulls = f".../{client.pull_requests_path}/{pr_id}"
    if command in ("approve", "request-changes") and client.cloud:
        return f"POST {pulls}/{command}"
    if command in ("approve", "request-changes"):
        status = "APPROVED" if command == "approve" else "NEEDS_WORK"
        return f"PUT {pulls}/participants/{client.credential.user} {{status: {status}}}"
    if command == "comment":
        return f"POST {pulls}/comments"
    version = "" if client.cloud or pull is None else f"?version={pull.version}"
    return f"POST {pulls}/decline{version}"


def _refused(exc: JiraflowError, command: str, pr_id: int) -> JiraflowError:
    """Bitbucket's refusal as it said it, with a hint that works (a closed pull request, your
    own pull request: nothing to retry)."""
    if isinstance(exc, RemoteError) and not (exc.hint or "").startswith("Check bitbucket.url"):
        said = exc.message.lower()
        if "your own" in said or "author" in said:
            exc.hint = f"Ask a reviewer; `jiraflow pr view {pr_id}` shows who reviews it."
        elif "closed" in said or "declined" in said or "merged" in said:
            exc.hint = f"It is closed: `jiraflow pr view {pr_id}` shows its state."
    return exc


# -- checkout ----------------------------------------------------------------------------------


@dataclass
class Checkout:
    """What `pr checkout` did (or would do)."""

    pull: PullRequest
    branch: str
    commands: list[list[str]]  # git arguments, in order
    lines: list[str]  # the summary


def checkout(flow: FlowContext, number: int, *, dry_run: bool = False) -> Checkout:
    """Fetch the pull request's source branch and check it out tracking the remote one: a
    new local branch, or the existing one fast-forwarded (refused when they diverged)."""
    from jiraflow.services.pull_requests import guarded

    forge = _forge(flow, "checkout")
    pull = forge.client.pull_request(number)
    repo, remote = flow.repo, flow.model.remote
    ours = forge.repository.full_name.lower()
    if pull.source_repository and pull.source_repository.lower() != ours:
        raise RepoStateError(
            f"pull request #{number} comes from the fork {pull.source_repository}, not from "
            f"{forge.repository.full_name}",
            f"Fetch it from there: `git fetch <fork URL> {pull.source}` then "
            f"`git checkout -b {pull.source} FETCH_HEAD`.",
        )
    if remote not in repo.remotes():
        raise RepoStateError(
            f"there is no remote '{remote}' to fetch '{pull.source}' from",
            f"Add it with `git remote add {remote} URL`, or set gitflow.remote.",
        )
    branch = pull.source
    tracking = f"{remote}/{branch}"
    fetch = ["fetch", "--quiet", remote, f"+{branch_ref(branch)}:{remote_ref(remote, branch)}"]
    with guarded(flow, dry_run=dry_run):
        if dry_run:
            return _plan(flow, pull, fetch, None)
        proc = repo.run(*fetch, check=False)
        repo.forget_refs()
        if proc.returncode != 0:
            from jiraflow.git import reason

            gone = pull.state != "OPEN" and "couldn't find remote ref" in proc.stderr
            raise RemoteError(
                f"git fetch {remote} {branch} failed: {reason(proc.stderr)}"
                + (f" (pull request #{number} is {pull.state.lower()})" if gone else ""),
                "Check the remote and your network, then run "
                f"`jiraflow pr checkout {number}` again.",
            )
        done = _plan(flow, pull, fetch, repo.commit_of(tracking))
        for args in done.commands[1:]:
            _git(flow, args, number)
        repo.forget_refs()
        return done


def _plan(flow: FlowContext, pull: PullRequest, fetch: list[str], tip: str | None) -> Checkout:
    """The git commands after the fetch; `tip`: the fetched commit (None in a dry run: the
    remote-tracking branch as it is now)."""
    repo, remote = flow.repo, flow.model.remote
    branch = pull.source
    tracking = f"{remote}/{branch}"
    commands = [fetch]
    lines: list[str] = []
    current = repo.head().branch
    if not repo.has_branch(branch):
        commands.append(["checkout", "--quiet", "-b", branch, "--track", tracking])
        lines.append(f"created '{branch}' tracking '{tracking}'")
        commands += _record_base(flow, pull)
    else:
        known = tip is not None or repo.remote_branch(remote, branch) is not None
        ahead, behind = repo.ahead_behind(branch, tracking) if known else (0, 0)
        if ahead and behind:
            raise RepoStateError(
                f"'{branch}' and '{tracking}' have diverged ({ahead} and "
                f"{plural(behind, 'commit')} of their own)",
                f"Bring yours onto it: `git checkout {branch} && git pull --rebase "
                f"{remote} {branch}`.",
            )
        if current != branch:
            commands.append(["checkout", "--quiet", branch])
        if behind:
            commands.append(["merge", "--quiet", "--ff-only", tracking])
            lines.append(f"fast-forwarded '{branch}' to '{tracking}' ({plural(behind, 'commit')})")
        elif ahead:
            lines.append(f"'{branch}' has {plural(ahead, 'commit')} that '{tracking}' lacks")
        else:
            lines.append(f"'{branch}' is up to date with '{tracking}'")
        if repo.config().get(f"branch.{branch}.merge") is None:
            commands.append(["branch", "--quiet", f"--set-upstream-to={tracking}", branch])
    lines.append(f"you are now on '{branch}' (pull request #{pull.id} into '{pull.destination}')")
    return Checkout(pull, branch, commands, lines)


def _record_base(flow: FlowContext, pull: PullRequest) -> list[list[str]]:
    """A feature or bugfix into another base than the default one records it, as `start`
    does, so that `finish` merges it back there."""
    parsed = flow.model.parse(pull.source)
    if parsed is None or parsed[0] not in ("feature", "bugfix"):
        return []
    if pull.destination == flow.model.default_base(parsed[0]):
        return []
    return [["config", f"gitflow.branch.{pull.source}.base", pull.destination]]


def _git(flow: FlowContext, args: list[str], number: int) -> None:
    from jiraflow.git import reason

    proc = flow.repo.run(*args, check=False)
    if proc.returncode != 0:
        raise RepoStateError(
            f"git {args[0]} failed: {reason(proc.stderr)}",
            "Commit or stash your changes first (`git stash`), then run "
            f"`jiraflow pr checkout {number}` again.",
        )


# -- lists -------------------------------------------------------------------------------------


def role_list(
    flow: FlowContext, which: str, limit: int, role: str
) -> tuple[str, list[PullRequest]]:
    """`pr list --mine` (role author) or `--reviewing` (role reviewer)."""
    from jiraflow.services.pull_requests import STATES

    forge = _forge(flow, "list")
    pulls = forge.client.pull_requests(states=STATES[which], limit=limit, role=role)
    return forge.repository.full_name, pulls
