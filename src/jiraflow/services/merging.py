"""`jiraflow pr merge`: merge a pull request on Bitbucket, then do what `<kind> finish`
does after a merged pull request.

Before anything changes it refuses (exit 5) when the local branch has commits the pull
request lacks, when the pull request is not open, when Bitbucket says it cannot merge
(Data Center's vetoes and conflicts; Cloud says its merge checks only when merging, and
they are then shown the same way), or when a build failed; running builds stop it with
exit 8 unless `--wait` waits for them (services.builds.watch). The merge names the head it
was checked against: Data Center through the pull request's version (a push since the
check is a 409), Cloud by reading the pull request again and comparing its head (Cloud's
merge names no head, so a push in the moment between that read and the POST is merged
unseen).

Round trips (4 for a feature with passing builds, at most 6 Bitbucket + 2 Jira requests):
the issue the finish moves is read ahead with the branch's pull requests; the checks go out
at once (Data Center: mergeability, the head's build status, the repository's strategies;
Cloud: the statuses, and the pull request read again with its destination's strategies);
then the POST; the finish after it takes the list of the branch's pull requests (with the
merged one in it) instead of asking for it again, and the issue read ahead (Ahead).
Why Cloud's head read may go with the statuses: a push before the head read is caught by
it; one after it is merged unseen whatever the order (the window reopens with any read).
What concurrency could add is a push between the head read and the statuses read, judging
the builds of a commit the head read did not see: so the statuses must name the head read
(each Cloud status names its commit: another one refuses as a moved head), and when they
prove nothing (no build reported, a status naming no commit) or --wait waited, the head is
read again right before the POST, after the builds were judged, as before (one round trip
more there). The list read at the start stands for the finish's own lookup (Bitbucket
answers it the same way just after the merge, save a pull request opened from the branch
meanwhile).

After Bitbucket merged: the finish of the branch's Gitflow kind (update the base from the
remote, delete the branch locally and on the remote unless --keep-branch, move the issue;
a release or hotfix into main is tagged and merged back). A source that is no Gitflow
branch only has its local destination brought up to date. A feature or bugfix that is only
on the remote (a colleague's) gets what a finish does there: its branch deleted on the
remote unless kept (Cloud closes it with the merge; Data Center does not, so it is deleted
as the finish deletes it) and its issue moved as jira.on.finish says (queued in the outbox
when Jira fails: exit 7).
When the local part fails after Bitbucket merged, the error says so and names the finish
that completes it; when that finish stopped with a journal, its own error (exit code and
`--continue`/`--abort` hint) stands, with the merge named first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jiraflow.errors import JiraflowError, PartialError, RemoteError, RepoStateError
from jiraflow.git import branch_ref
from jiraflow.gitflow.finish import BACKMERGE_PREFIX
from jiraflow.gitflow.model import FINISHED_KINDS, WORK_KINDS
from jiraflow.text import plural

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient, BuildStatus, PullRequest
    from jiraflow.concurrency import Ahead
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.jira.tracker import Tracker
    from jiraflow.services.session import Session

#: the --merge, --squash, --ff flags, and how a strategy reads
STRATEGY_WORDS = {
    "merge_commit": "merge commit",
    "squash": "squash",
    "fast_forward": "fast-forward",
    "squash_fast_forward": "squash, fast-forward only",
    "rebase_fast_forward": "rebase, fast-forward",
    "rebase_merge": "rebase and merge commit",
    "merge_or_fast_forward": "fast-forward if possible, else merge commit",
}
#: a strategy Bitbucket does not name (None): its own default, a merge commit where unset
UNNAMED = "the destination's default strategy"


@dataclass
class MergeOptions:
    number: int | None = None
    strategy: str | None = None  # Cloud's name; None: the destination's default
    message: str | None = None
    wait: bool = False
    interval: float = 10.0
    keep_branch: bool = False
    match_head: bool = False


@dataclass
class Checked:
    """A pull request checked and ready to merge, with what was learned on the way."""

    pull: PullRequest
    kind: str | None  # the Gitflow kind of its source whose finish follows; None: none
    local: str | None  # the local branch of its source, when there is one
    strategy: str | None  # None: Bitbucket did not name its default (it applies it)
    default: str | None
    allowed: list[str]
    builds: list[BuildStatus] = field(default_factory=list)
    overall: str = "none"
    remote_kind: str | None = None  # a feature or bugfix only on the remote: its kind
    head: PullRequest | None = None  # read with the checks for the merge (see the module)

    @property
    def words(self) -> str:
        if self.strategy is None:
            return UNNAMED
        return STRATEGY_WORDS.get(self.strategy, self.strategy)

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "default_strategy": self.default,
            "strategies": self.allowed,
            "builds": self.overall,
            "kind": self.kind,
        }


def merge(
    state: Session,
    flow: FlowContext,
    options: MergeOptions,
    *,
    on_builds: Callable[[int], Callable[[list[BuildStatus]], None]] | None = None,
    open_pr: Any = None,
) -> None:
    """`pr merge`: check, merge on Bitbucket, then finish locally (see the module)."""
    from jiraflow.services.pull_requests import forge_for

    forge = forge_for(flow)
    forge.require("pr merge")
    client = forge.client
    branch = flow.current_branch() if options.number is None else None
    tracker = _read_ahead(state, flow, None, branch)  # goes out with the pull request's read
    pull, listed = _find(flow, client, options.number, branch)
    tracker = _read_ahead(state, flow, tracker, pull.source)  # (N given: with the checks)
    shown = on_builds(pull.id) if on_builds is not None else None
    checked = check(state, flow, client, pull, options, on_builds=shown)
    if state.dry_run:
        state.renderer.note(**checked.to_json())
        state.renderer.plan(_plan(flow, checked, options))
        return
    close = checked.remote_kind is not None and not _keeps(flow, options)
    close = close and flow.config.finish.delete_remote
    merged = _merge(state, client, checked, options, flow.model.remote, close=close)
    state.renderer.summary(
        [
            f"Bitbucket merged pull request #{merged.id} ('{merged.source}' into "
            f"'{merged.destination}', {checked.words}"
            f"): {merged.merge_commit[:12]}"
        ]
    )
    state.renderer.note(
        pull_request=merged.to_json(), merge_commit=merged.merge_commit, **checked.to_json()
    )
    # the list after the merge: this one merged (just updated: the newest), the others as listed
    known = [merged, *(p for p in listed if p.id != merged.id)] if listed is not None else None
    after_merge(
        state, flow, checked, merged, options, open_pr=open_pr, tracker=tracker, pulls=known
    )


def _read_ahead(
    state: Session, flow: FlowContext, tracker: Tracker | None, branch: str | None
) -> Tracker | None:
    """The tracker the finish after the merge uses, with the issue a feature's or bugfix's
    finish moves already being read (in the background: the move after the merge need not
    wait for it; a merge refused leaves the read unused). None: no such branch."""
    from jiraflow.services import remote

    if branch is None or _kind(flow, branch) not in WORK_KINDS:
        return tracker
    tracker = tracker or remote.tracker_for(flow, state)  # a dry run's reads nothing ahead
    remote.read_ahead_finish(tracker, flow, branch)
    return tracker


#: how many of a branch's pull requests (open and merged) are listed: the finish's landing
#: lookup asks for as many, so the list stands for its question after the merge
LISTED = 20


def _find(
    flow: FlowContext, client: BitbucketClient, number: int | None, branch: str | None
) -> tuple[PullRequest, list[PullRequest] | None]:
    """Pull request N, or the current branch's open one (open: a merge needs one), with
    the branch's pull requests open and merged (newest first) as listed to find it (None:
    N was given)."""
    if number is not None or branch is None:
        assert number is not None
        return client.pull_request(number), None
    listed = client.pull_requests(source=branch, states=("OPEN", "MERGED"), limit=LISTED)
    found = [p for p in listed if p.state == "OPEN"]
    if not found and len(listed) >= LISTED:  # merged ones only, as far as listed: ask again
        listed, found = [], client.pull_requests(source=branch, states=("OPEN",), limit=1)
    if not found:
        raise RepoStateError(
            f"'{branch}' has no open pull request",
            "Open one with `jiraflow pr create`, or name one: `jiraflow pr merge 12`.",
        )
    return found[0], listed or None


def check(
    state: Session,
    flow: FlowContext,
    client: BitbucketClient,
    pull: PullRequest,
    options: MergeOptions,
    *,
    on_builds: Callable[[list[BuildStatus]], None] | None = None,
) -> Checked:
    """Every refusal before the merge (nothing has changed when one is raised)."""
    from jiraflow.gitflow import journal

    if pull.state != "OPEN":
        kind = _kind(flow, pull.source)
        hint = (
            f"Finish it here with `jiraflow {kind} finish {pull.source}`."
            if pull.state == "MERGED" and kind and flow.repo.has_branch(pull.source)
            else f"`jiraflow pr view {pull.id}` shows it."
        )
        raise RepoStateError(f"pull request #{pull.id} is {pull.state.lower()}", hint)
    local = pull.source if flow.repo.has_branch(pull.source) else None
    kind = _kind(flow, pull.source) if local else None
    if kind is not None and _target(flow, kind, pull.source) != pull.destination:
        kind = None  # not into its Gitflow target: no finish follows, only an update
    if not state.dry_run:
        journal.refuse_if_busy(flow.repo)
    if local is not None:
        _check_local(flow, pull, local, options.match_head, fetch=not state.dry_run)
    if kind is not None or pull.source.startswith(BACKMERGE_PREFIX):
        flow.require_clean()  # the finish after the merge switches branches
    from jiraflow.concurrency import Ahead

    # the three reads at once (see the module); their answers judged in this order
    first = Ahead(lambda: client.pull_request_builds(pull))
    settings = Ahead(lambda: _settings(client, pull))
    result = client.merge_check(pull)
    if not result.can_merge:
        raise _cannot_merge(state, pull, result.reasons)
    builds, overall, waited = _builds(state, client, pull, options, on_builds, first)
    head, default, allowed = settings.result()
    if not waited:
        _same_head(pull, head, builds)
    # the head read with the builds stands for the merge only when every build names it
    proven = not waited and bool(builds) and all(b.commit for b in builds)
    strategy = options.strategy or default
    if allowed and strategy is not None and strategy not in allowed:
        enabled = ", ".join(STRATEGY_WORDS.get(s, s) for s in allowed)
        raise RepoStateError(
            f"{STRATEGY_WORDS.get(strategy, strategy)} is not enabled for pull requests "
            f"into '{pull.destination}' (enabled: {enabled})",
            _choose(pull, allowed),
        )
    remote_kind = None
    if local is None:  # a colleague's feature or bugfix: its finish's remote part follows
        theirs = _kind(flow, pull.source)
        if theirs in WORK_KINDS and _target(flow, theirs, pull.source) == pull.destination:
            remote_kind = theirs
    return Checked(
        pull,
        kind,
        local,
        strategy,
        default,
        allowed,
        builds,
        overall,
        remote_kind=remote_kind,
        head=head if proven else None,  # None: read again, after the builds (see the module)
    )


def _settings(
    client: BitbucketClient, pull: PullRequest
) -> tuple[PullRequest, str | None, list[str]]:
    """The pull request as the merge names it, and the (default, enabled) strategies: one
    request (Cloud: its read again carries them; Data Center: the repository's settings)."""
    head = client.merge_head(pull)
    return (head, *client.merge_strategies(head))


def _same_head(pull: PullRequest, head: PullRequest, builds: list[BuildStatus]) -> None:
    """The builds judged must be those of the head the merge names: a status naming
    another commit than the head read with it (Cloud; someone pushed between the two
    reads) refuses as a moved head does."""
    from jiraflow.bitbucket.client import HeadMoved

    now = head.source_commit
    other = next((b.commit for b in builds if b.commit and not _same(b.commit, now)), None)
    if now and other is not None:
        raise HeadMoved(
            f"pull request #{pull.id} changed while it was checked: its builds are those of "
            f"{other[:12]}, its head is {now[:12]} (someone pushed)",
            f"Look at the new commits (`git fetch`), then run `jiraflow pr merge {pull.id}` again.",
            [f"its head moved to {other[:12]}"],
        )


def _same(one: str, other: str) -> bool:
    """Whether two commit ids (either maybe abbreviated, as Cloud's are) are one commit."""
    one, other = one.lower(), other.lower()
    return one.startswith(other) or other.startswith(one)


def _keeps(flow: FlowContext, options: MergeOptions) -> bool:
    """Whether the branch is kept: --keep-branch, else the configuration's finish.keep."""
    return options.keep_branch or flow.config.finish.keep


def _kind(flow: FlowContext, branch: str) -> str | None:
    parsed = flow.model.parse(branch)
    return parsed[0] if parsed and parsed[0] in FINISHED_KINDS else None


def _target(flow: FlowContext, kind: str, branch: str) -> str:
    from jiraflow.gitflow.finish import finish_target

    return finish_target(flow, kind, branch)


def _choose(pull: PullRequest, allowed: list[str]) -> str:
    """A hint that works: the first enabled strategy with a flag, else Bitbucket's page of
    the pull request (its Merge button offers the strategies no flag names)."""
    flags = {"merge_commit": "--merge", "squash": "--squash", "fast_forward": "--ff"}
    flag = next((flags[s] for s in allowed if s in flags), None)
    if flag is not None:
        return f"Choose one: `jiraflow pr merge {pull.id} {flag}`."
    where = pull.url or f"the page `jiraflow pr view {pull.id}` names"
    return f"No flag of `jiraflow pr merge` names them: merge it on Bitbucket ({where})."


def _check_local(
    flow: FlowContext, pull: PullRequest, local: str, match_head: bool, *, fetch: bool
) -> None:
    """The local branch must hold nothing the pull request lacks (--match-head: be its head).
    A head not here yet is fetched first (not in a dry run, which changes nothing: it then
    goes unchecked)."""
    repo = flow.repo
    tip = repo.refs()[branch_ref(local)]
    head = pull.source_commit
    if head and repo.commit_of(head) is None:
        if not fetch:
            return
        repo.fetch(flow.model.remote)  # the pull request has commits not here yet
        repo.forget_refs()
    known = bool(head) and repo.commit_of(head) is not None
    if match_head and (not known or repo.out("rev-parse", head) != tip):
        raise RepoStateError(
            f"pull request #{pull.id}'s head is {head[:12] or 'unknown'}, not the tip of "
            f"'{local}' ({tip[:12]}) (--match-head)",
            f"Bring them together (`git pull` or `git push`), then run `jiraflow pr merge "
            f"{pull.id} --match-head` again.",
        )
    if known and repo.is_ancestor(tip, head):
        return
    ahead = repo.count(f"{head}..{tip}") if known else 0
    what = plural(ahead, "commit") if ahead else "commits"
    raise RepoStateError(
        f"'{local}' has {what} that pull request #{pull.id} lacks: merging now would leave "
        "them out",
        "Push them first (`jiraflow pr create` or `git push`), then run "
        f"`jiraflow pr merge {pull.id}` again.",
    )


def _cannot_merge(state: Session, pull: PullRequest, reasons: list[str]) -> RepoStateError:
    """Exit 5 with each reason on its own line (and in --json's `reasons`)."""
    state.renderer.note(reasons=reasons)
    listed = "".join(f"\n  - {r}" for r in reasons)
    return RepoStateError(
        f"Bitbucket cannot merge pull request #{pull.id}:{listed}",
        f"Fix what it names, then run `jiraflow pr merge {pull.id}` again.",
    )


def _builds(
    state: Session,
    client: BitbucketClient,
    pull: PullRequest,
    options: MergeOptions,
    on_builds: Callable[[list[BuildStatus]], None] | None,
    first: Ahead[list[BuildStatus]],
) -> tuple[list[BuildStatus], str, bool]:
    """The head's builds (`first`: their first read): a failure refuses (exit 5); running
    ones stop it (exit 8) unless --wait waits for them, shown as `pr checks --watch` shows
    them (then True: waited)."""
    from jiraflow.errors import BuildsRunning
    from jiraflow.services import builds as service

    builds = first.result()
    result = service.overall(builds)
    waited = result == service.PENDING and options.wait
    if waited:
        builds = service.watch(
            lambda: client.pull_request_builds(pull),
            interval=options.interval,
            on_update=on_builds,
            sleep=service.pause,
            first=builds,
        )
        result = service.overall(builds)
    state.renderer.note(builds=result)
    if result == service.FAILURE:
        bad = [b for b in builds if b.state in service.FAILED_STATES]
        names = ", ".join(f"'{b.name}'" for b in bad)
        raise RepoStateError(
            f"{plural(len(bad), 'build')} failed on pull request #{pull.id}: {names}",
            f"Push a fix, then `jiraflow pr merge {pull.id} --wait` merges once they pass.",
        )
    if result == service.PENDING:
        running = [b for b in builds if b.state in service.RUNNING_STATES]
        raise BuildsRunning(
            f"{plural(len(running), 'build')} still running on pull request #{pull.id}",
            f"Wait for them and merge: `jiraflow pr merge {pull.id} --wait`.",
        )
    return builds, result, waited


def _plan(flow: FlowContext, checked: Checked, options: MergeOptions) -> list[str]:
    pull = checked.pull
    words = checked.words
    lines = [
        f"merge pull request #{pull.id} ('{pull.source}' into '{pull.destination}') on "
        f"Bitbucket: {words}, at its head {pull.source_commit[:12]}"
    ]
    remote = flow.model.remote
    if checked.kind is not None:
        keep = " --keep" if _keeps(flow, options) else " --no-keep"
        lines.append(f"jiraflow {checked.kind} finish {pull.source} --fetch{keep}")
        return lines
    lines.append(f"git fetch {remote}; bring '{pull.destination}' up to date")
    if checked.remote_kind is not None:
        if not _keeps(flow, options) and flow.config.finish.delete_remote:
            lines.append(f"delete '{pull.source}' on '{remote}'")
        lines.append(f"move its issue as `jiraflow {checked.remote_kind} finish` does")
    return lines


def _merge(
    state: Session,
    client: BitbucketClient,
    checked: Checked,
    options: MergeOptions,
    remote: str,
    *,
    close: bool = False,
) -> PullRequest:
    """The merge itself (one POST, never repeated); a refusal lists its reasons. `close`:
    Bitbucket closes the source branch (Cloud; Data Center's merge does not)."""
    from jiraflow.bitbucket.client import HeadMoved, MergeRefused, Unconfirmed

    pull = checked.pull
    try:
        return client.merge(
            pull,
            strategy=checked.strategy,
            message=options.message,
            # a local branch's finish deletes it (or keeps it); one only on the remote: Cloud
            close_source_branch=close,
            head=checked.head,
        )
    except HeadMoved:
        raise
    except MergeRefused as refused:
        if not refused.reasons:
            raise
        state.renderer.note(reasons=refused.reasons)
        listed = "".join(f"\n  - {r}" for r in refused.reasons)
        raise RepoStateError(refused.message + ":" + listed, refused.hint) from None
    except Unconfirmed as unknown:
        then = (
            f"`jiraflow {checked.kind} finish {pull.source}` completes it"
            if checked.kind is not None and checked.local is not None
            else f"`git pull {remote} {pull.destination}` brings it here"
        )
        raise Unconfirmed(
            unknown.message,
            f"See `jiraflow pr view {pull.id}`: once it is merged, {then}; while it is open, "
            f"run `jiraflow pr merge {pull.id}` again.",
        ) from None


def after_merge(
    state: Session,
    flow: FlowContext,
    checked: Checked,
    merged: PullRequest,
    options: MergeOptions,
    *,
    open_pr: Any = None,
    tracker: Tracker | None = None,
    pulls: list[PullRequest] | None = None,
) -> None:
    """The local part: the finish of the branch's kind; for a release's or hotfix's
    back-merge pull request (protected develop), the finish it completes; else an update of
    the destination. What is known is not asked again: `tracker` (its issue read ahead),
    `pulls` (the branch's pull requests after the merge: the finish's landing lookup)."""
    from jiraflow.services import flow as flow_service
    from jiraflow.services import protected

    kind, branch = checked.kind, merged.source
    try:
        if kind is None or checked.local is None:
            if not protected.complete_backmerge(state, flow, merged, open_pr):
                update_destination(state, flow, merged.destination)
                if checked.remote_kind is not None:
                    _finish_remote(state, flow, merged, keep=_keeps(flow, options), tracker=tracker)
            return
        # --keep-branch keeps it; without it the configuration's finish.keep decides
        flags = flow_service.FinishFlags(keep=True if options.keep_branch else None, fetch=True)
        flow_service.finish(
            state, flow, kind, branch, flags, open_pr=open_pr, tracker=tracker, pulls=pulls
        )
    except PartialError:
        raise  # the git part is done; Jira's part waits in the outbox
    except JiraflowError as exc:
        if _stopped(flow):  # the finish's own error names --continue/--abort: it stands
            exc.message = f"Bitbucket merged pull request #{merged.id}; then {exc.message}"
            exc.args = (exc.message,)
            raise
        hint = (
            exc.hint
            if isinstance(exc, _NotDeleted)
            else f"Complete it with `{_completion(flow, checked, merged)}`."
        )
        raise RepoStateError(
            f"Bitbucket merged pull request #{merged.id}, but the local part failed: {exc.message}",
            hint,
        ) from exc


class _NotDeleted(RemoteError):
    """The remote branch of a merged pull request could not be deleted (its hint stands)."""


def _stopped(flow: FlowContext) -> bool:
    """Whether a finish stopped with a journal (then `--continue`/`--abort` go on)."""
    from jiraflow.gitflow import journal

    try:
        return journal.in_progress(flow.repo) is not None
    except JiraflowError:  # a damaged journal: its own error says so on the next command
        return True


def _finish_remote(
    state: Session,
    flow: FlowContext,
    merged: PullRequest,
    *,
    keep: bool,
    tracker: Tracker | None = None,
) -> None:
    """What a finish does for a branch that is only on the remote: delete it there unless
    kept (Cloud closed it with the merge; Data Center's is deleted here, as a finish does,
    only if it is still at the merged head), then move its issue (jira.on.finish; queued
    in the outbox when Jira fails: exit 7)."""
    from types import SimpleNamespace

    from jiraflow.services import remote as remote_service

    repo, remote, branch = flow.repo, flow.model.remote, merged.source
    done = [f"pull request #{merged.id} merged '{branch}' into '{merged.destination}'"]
    on_remote = repo.remote_branch(remote, branch)
    if on_remote and not keep and flow.config.finish.delete_remote:
        head = merged.source_commit  # what was merged: a push since then keeps it there
        seen = head if len(head) == 40 else repo.refs()[on_remote]
        lease = f"--force-with-lease={branch_ref(branch)}:{seen}"
        proc = repo.run("push", "--quiet", lease, remote, "--delete", branch, check=False)
        if proc.returncode != 0:
            raise _NotDeleted(
                f"git push {remote} --delete {branch} failed: {proc.stderr.strip()}",
                f"See what is on it: `git log {remote}/{branch}`; delete it with "
                f"`git push {remote} --delete {branch}`.",
            )
        repo.forget_refs()
        done.append(f"deleted '{branch}' on '{remote}'")
    state.renderer.summary(done[1:])
    tracker = tracker or remote_service.tracker_for(flow, state)
    plan = SimpleNamespace(branch=branch, summary=done)
    actions = remote_service.finish_actions(tracker, flow, plan)
    if actions:
        remote_service.deliver(state, tracker, actions, done=done[0])


def _completion(flow: FlowContext, checked: Checked, merged: PullRequest) -> str:
    """The command that completes the local part after the merge."""
    if checked.kind is not None and checked.local is not None:
        return f"jiraflow {checked.kind} finish {merged.source}"
    if merged.source.startswith(BACKMERGE_PREFIX):
        version = merged.source[len(BACKMERGE_PREFIX) :]
        for kind in ("release", "hotfix"):
            if flow.repo.has_branch(flow.model.prefixes[kind] + version):
                return f"jiraflow {kind} finish {version}"
    return f"git pull {flow.model.remote} {merged.destination}"


def update_destination(state: Session, flow: FlowContext, destination: str) -> None:
    """Fetch, then fast-forward the local destination (when there is one) to the remote's."""
    repo, remote = flow.repo, flow.model.remote
    repo.fetch(remote)
    repo.forget_refs()
    theirs = repo.remote_branch(remote, destination)
    if theirs is None or not repo.has_branch(destination):
        return
    ours = repo.refs()[branch_ref(destination)]
    if ours == repo.out("rev-parse", theirs) or not repo.is_ancestor(ours, theirs):
        return
    if repo.head().branch == destination:
        repo.out("merge", "--ff-only", "--quiet", theirs)
    else:
        repo.out("update-ref", branch_ref(destination), theirs, ours)
    state.renderer.summary([f"updated '{destination}' from '{remote}'"])
