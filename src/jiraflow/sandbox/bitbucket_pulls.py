"""Pull request rules both flavours share: open, merge, decline, approve.

Each operation checks what Bitbucket checks and raises :class:`Refusal` with a code when the
service would refuse; the Cloud and Data Center layers turn a refusal into their own status code
and error body (Cloud answers a duplicate with the existing pull request instead of an error).
The Python API of the sandbox calls these same functions, so tests can set up state that HTTP
clients then see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from jiraflow.sandbox.bitbucket_git import Commit, MergeConflict, Refs, refs_of
from jiraflow.sandbox.bitbucket_model import (
    Account,
    BitbucketState,
    Flavour,
    PullRequest,
    Repository,
)

RefusalCode = Literal[
    "missing_branch",  # details: branch, side ("source" | "destination")
    "duplicate",  # details: existing (PullRequest)
    "reviewers",  # details: problems (list[ReviewerProblem])
    "no_changes",
    "closed",  # details: state
    "conflict",
    "not_fast_forward",
    "own",  # the author approving, or requesting changes on, their own pull request
]
#: merge_commit: always a merge commit; squash: one commit on the destination; fast_forward:
#: move the destination or refuse; ff: fast-forward when possible, else a merge commit (DC).
Strategy = Literal["merge_commit", "squash", "fast_forward", "ff"]
Verdict = Literal["approved", "changes_requested"]


class Refusal(ValueError):
    """The service refuses the operation; ``code`` says why, ``details`` carry the specifics."""

    def __init__(self, code: RefusalCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code: RefusalCode = code
        self.details = details


@dataclass(frozen=True)
class ReviewerProblem:
    identifier: str  # as the client sent it (uuid, account id or user name)
    account: Account | None  # None: nobody by that identifier
    problem: Literal["author", "unknown"]


@dataclass(frozen=True)
class NewPullRequest:
    source: str
    destination: str
    title: str
    author: Account
    description: str = ""
    reviewers: tuple[Account, ...] = ()
    unknown_reviewers: tuple[str, ...] = ()
    draft: bool = False
    close_source_branch: bool = False


def find_open(repository: Repository, source: str, destination: str) -> PullRequest | None:
    for pr in repository.pull_requests.values():
        if pr.is_open and pr.source == source and pr.destination == destination:
            return pr
    return None


def _tip(refs: Refs, branch: str, side: str) -> str:
    tip = refs.tip(branch)
    if tip is None:
        raise Refusal(
            "missing_branch", f"{side} branch {branch!r} does not exist", branch=branch, side=side
        )
    return tip


def open_pull_request(
    state: BitbucketState, repository: Repository, new: NewPullRequest
) -> PullRequest:
    """Create a pull request after Bitbucket's checks, in Bitbucket's order."""
    refs = refs_of(repository)
    source_tip = _tip(refs, new.source, "source")
    destination_tip = _tip(refs, new.destination, "destination")
    existing = find_open(repository, new.source, new.destination)
    if existing is not None:
        raise Refusal(
            "duplicate",
            f"pull request #{existing.id} is already open for {new.source} -> {new.destination}",
            existing=existing,
        )
    problems = [ReviewerProblem(i, None, "unknown") for i in new.unknown_reviewers]
    problems += [
        ReviewerProblem(r.name, r, "author") for r in new.reviewers if r.name == new.author.name
    ]
    if problems:
        raise Refusal(
            "reviewers",
            "invalid reviewers: " + ", ".join(p.identifier for p in problems),
            problems=problems,
        )
    if refs.contains(source_tip, destination_tip):
        raise Refusal("no_changes", f"{new.destination} already contains {new.source}")
    now = state.clock.now()
    reviewers = list(dict.fromkeys(r.name for r in new.reviewers))
    pr = PullRequest(
        id=repository.next_pull_request_id(),
        title=new.title,
        description=new.description,
        source=new.source,
        destination=new.destination,
        author=new.author.name,
        reviewers=reviewers,
        created=now,
        updated=now,
        source_commit=source_tip,
        destination_commit=destination_tip,
        draft=new.draft,
        close_source_branch=new.close_source_branch,
    )
    repository.pull_requests[pr.id] = pr
    return pr


def current_commits(repository: Repository, pr: PullRequest) -> tuple[str, str]:
    """(source, destination) commits: the branch tips while open, as recorded once closed."""
    if not pr.is_open:
        return pr.source_commit, pr.destination_commit
    refs = refs_of(repository)
    return (
        refs.tip(pr.source) or pr.source_commit,
        refs.tip(pr.destination) or pr.destination_commit,
    )


_CONFLICTS: dict[tuple[str, str, str], bool] = {}


def has_conflicts(repository: Repository, pr: PullRequest) -> bool:
    """Whether merging an open pull request now would conflict (commits never change, so the
    answer is cached per pair of commits)."""
    if not pr.is_open or repository.git_dir is None:
        return False
    source, destination = current_commits(repository, pr)
    key = (str(repository.git_dir), destination, source)
    if key not in _CONFLICTS:
        if len(_CONFLICTS) > 10_000:
            _CONFLICTS.clear()
        _CONFLICTS[key] = refs_of(repository).conflicts(destination, source)
    return _CONFLICTS[key]


def default_message(
    flavour: Flavour,
    repository: Repository,
    pr: PullRequest,
    strategy: Strategy,
    commits: list[Commit],
    state: BitbucketState,
) -> str:
    """The commit message each service writes when the client sends none (close to the real
    ones; the exact wording of Cloud's commit list and of DC's squash message are informed
    guesses)."""
    if flavour == "cloud":
        lines = [f"Merged in {pr.source} (pull request #{pr.id})", "", pr.title]
        for commit in reversed(commits):
            lines += ["", f"* {commit.subject}"]
        approvers = [n for n, verdict in pr.verdicts.items() if verdict == "approved"]
        if approvers:
            lines.append("")
            lines += [f"Approved-by: {state.account(n).display_name}" for n in approvers]
        return "\n".join(lines)
    where = f"{repository.project_key}/{repository.slug} from {pr.source} to {pr.destination}"
    listed = [f"* commit '{c.id}':\n  {c.subject}" for c in commits]
    if strategy == "squash":
        return "\n\n".join([f"Pull request #{pr.id}: {pr.title}", f"Merge in {where}", *listed])
    return "\n\n".join([f"Merge pull request #{pr.id} in {where}", "\n".join(listed)]).rstrip()


def merge_pull_request(
    state: BitbucketState,
    repository: Repository,
    pr: PullRequest,
    *,
    strategy: Strategy,
    by: Account,
    flavour: Flavour,
    message: str | None = None,
    close_source_branch: bool = False,
) -> PullRequest:
    """Merge for real (or in made-up refs); a conflict or an impossible fast-forward changes
    nothing."""
    if not pr.is_open:
        raise Refusal("closed", f"pull request #{pr.id} is {pr.state.lower()}", state=pr.state)
    refs = refs_of(repository)
    source = _tip(refs, pr.source, "source")
    destination = _tip(refs, pr.destination, "destination")
    if strategy in ("fast_forward", "ff") and refs.contains(destination, source):
        result = source
    elif strategy == "fast_forward":
        raise Refusal("not_fast_forward", f"{pr.destination} has commits {pr.source} lacks")
    else:
        commits = refs.commits(destination, source)
        if message is None:
            text = default_message(flavour, repository, pr, strategy, commits, state)
        elif flavour == "datacenter":  # DC puts its subject line before the client's message
            subject = default_message(flavour, repository, pr, strategy, [], state).split("\n")[0]
            text = f"{subject}\n\n{message}"
        else:
            text = message
        parents = (destination,) if strategy == "squash" else (destination, source)
        try:
            result = refs.merge(destination, source, parents, text, by)
        except MergeConflict:
            raise Refusal("conflict", f"{pr.source} conflicts with {pr.destination}") from None
    refs.move(pr.destination, result, destination)
    if close_source_branch:
        refs.delete(pr.source, source)
    _close(state, pr, "MERGED", by)
    pr.merge_commit = result
    pr.source_commit, pr.destination_commit = source, destination
    return pr


def decline_pull_request(
    state: BitbucketState, repository: Repository, pr: PullRequest, by: Account, reason: str = ""
) -> PullRequest:
    if not pr.is_open:
        raise Refusal("closed", f"pull request #{pr.id} is {pr.state.lower()}", state=pr.state)
    pr.source_commit, pr.destination_commit = current_commits(repository, pr)
    _close(state, pr, "DECLINED", by)
    pr.reason = reason
    return pr


def _close(
    state: BitbucketState, pr: PullRequest, to: Literal["MERGED", "DECLINED"], by: Account
) -> None:
    now = state.clock.now()
    pr.state = to
    pr.closed = pr.updated = now
    pr.closed_by = by.name
    pr.version += 1


def set_verdict(
    state: BitbucketState,
    repository: Repository,
    pr: PullRequest,
    account: Account,
    verdict: Verdict,
    *,
    given: bool = True,
) -> None:
    """Approve or request changes (``given=False`` withdraws that verdict); a reviewer keeps
    their role, anybody else becomes a participant."""
    if not pr.is_open:
        raise Refusal("closed", f"pull request #{pr.id} is {pr.state.lower()}", state=pr.state)
    if given and account.name == pr.author:
        raise Refusal("own", f"{account.name} is the author of pull request #{pr.id}")
    now = state.clock.now()
    if given:
        pr.verdicts[account.name] = verdict
        pr.reviewed_commit[account.name] = current_commits(repository, pr)[0]
    elif pr.verdicts.get(account.name) == verdict:
        del pr.verdicts[account.name]
    pr.participated[account.name] = now
    pr.updated = now
