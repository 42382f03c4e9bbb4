"""The Gitflow commands' work below the CLI: build a plan under the repository lock, run it
(or say it, in a dry run), deliver its Jira actions; start a branch (from an issue), finish
one (and what a pull request already landed), continue or abort a stopped finish.

The CLI parses the options into the values these functions take and passes its state (a
`Session`): they say what they do through its renderer."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple, cast

from jiraflow.gitflow.model import FINISHED_KINDS

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import PullRequest
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.finish import Landed
    from jiraflow.gitflow.plan import Plan
    from jiraflow.jira.issues import Issue
    from jiraflow.jira.tracker import Tracker
    from jiraflow.outbox.actions import Action
    from jiraflow.services.protected_paths import OpenPullRequest
    from jiraflow.services.pull_requests import Forge
    from jiraflow.services.session import Session


def run_plan(
    state: Session,
    flow: FlowContext,
    build: Callable[[], Plan],
    *,
    tracker: Tracker | None = None,
    known: Issue | None = None,
) -> None:
    """Build the plan under the repository lock; print it (--dry-run) or run it, then
    deliver its Jira actions (queued in the outbox if Jira fails: exit 7)."""
    from jiraflow.gitflow import journal
    from jiraflow.outbox.actions import Assign
    from jiraflow.outbox.box import Outbox
    from jiraflow.services import remote

    with journal.lock(flow.repo):
        if not state.dry_run:
            journal.refuse_if_busy(flow.repo)
        plan = build()
        refuse_checked_out_elsewhere(flow, plan)
        if state.dry_run:
            lines = plan.describe() + (remote.describe(plan.remote) if tracker else [])
            if lines:
                state.renderer.plan(lines)
            else:
                state.renderer.note(plan=[])
                state.renderer.line("Nothing to do.")
            return
        outbox = Outbox(tracker) if tracker else None
        with protection_hint(flow):
            journal.execute(
                flow.repo,
                plan,
                on_step=lambda s: state.renderer.step(s.describe()),
                # the journal hands back its records of the plan's actions: these are they
                on_done=(lambda _records: outbox.enqueue(plan.remote)) if outbox else None,
            )
        state.renderer.summary(plan.summary)
        state.renderer.note(branch=flow.repo.head().branch)
        if known is not None:  # a start from an issue: whether it was assigned to you
            assigned = any(isinstance(a, Assign) for a in plan.remote)
            state.renderer.note(issue=known.key, assigned=assigned)
        if tracker is not None:
            remote.deliver(
                state,
                tracker,
                plan.remote,
                done=plan.summary[0] if plan.summary else "",
                known=known,
            )


def refuse_checked_out_elsewhere(flow: FlowContext, plan: Plan) -> None:
    """Exit 5 before anything changes when a branch the plan moves is checked out in another
    work tree (`git worktree`): git would refuse half-way, after the first steps ran."""
    import os
    import shlex

    from jiraflow.errors import RepoStateError
    from jiraflow.git import branch_of

    repo = flow.repo
    if not os.path.isdir(os.path.join(repo.common_dir, "worktrees")):
        return  # no linked work tree: nothing to ask git
    here = os.path.realpath(repo.root)
    for block in repo.out("worktree", "list", "--porcelain").split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines())
        path, ref = fields.get("worktree", ""), fields.get("branch", "")
        if ref in plan.moves and path and os.path.realpath(path) != here:
            name = branch_of(ref)
            raise RepoStateError(
                f"'{name}' is checked out in the work tree {path}: the {plan.operation} "
                "cannot change it from here",
                f"Leave it there first (`git -C {shlex.quote(path)} switch --detach`), "
                "then run the command again.",
            )


@contextlib.contextmanager
def protection_hint(flow: FlowContext) -> Iterator[None]:
    """A push refused by the server's branch permissions: the hint's `config set` names the
    branches already protected as well as the refused one (setting a list replaces it), or
    says which variable to change when the environment sets the list."""
    import os

    from jiraflow.config import KEYS
    from jiraflow.gitflow.journal import PushRefused

    try:
        yield
    except PushRefused as exc:
        names = [*flow.config.gitflow.protected]
        names += [exc.branch] if exc.branch not in names else []
        given = f"gitflow.protected {exc.branch}`"
        variable, hint = KEYS["gitflow.protected"].env_var, exc.hint or ""
        if variable in os.environ:
            exc.hint = hint.replace(
                f"`jiraflow config set {given}", f"{variable}={','.join(names)}"
            )
        else:
            exc.hint = hint.replace(given, f"gitflow.protected {','.join(names)}`")
        raise


def resume_or_abort(state: Session, flow: FlowContext, kind: str, cont: bool) -> None:
    """`<kind> finish --continue` (cont) or `--abort`: the stopped finish resumed or undone."""
    from jiraflow.errors import UsageError
    from jiraflow.gitflow import journal
    from jiraflow.outbox.box import Outbox
    from jiraflow.services import remote

    operation = kind if kind == "promote" else f"{kind} finish"  # `jiraflow promote --continue`
    with journal.lock(flow.repo):
        entry = journal.in_progress(flow.repo)
        if entry is None:
            raise UsageError(f"there is no {operation} to {'continue' if cont else 'abort'}")
        actions = remote.journal_actions(flow.repo, entry)  # damaged: exit 5, as on loading
        if entry.operation != operation:
            raise UsageError(
                f"the operation in progress is a {entry.operation}",
                journal.what_to_run(flow.repo, entry),
            )
        tracker = remote.tracker_for(flow, state) if actions else None
        if state.dry_run:
            lines = [s.describe() for s in entry.steps[entry.next :]]
            state.renderer.plan(lines + (remote.describe(actions) if tracker else []))
            return
        if cont:
            outbox = Outbox(tracker) if tracker else None
            with protection_hint(flow):
                journal.resume(
                    flow.repo,
                    entry,
                    on_step=lambda s: state.renderer.step(s.describe()),
                    on_done=(lambda _records: outbox.enqueue(actions)) if outbox else None,
                )
            done = f"{'promoted' if kind == 'promote' else 'finished'} '{entry.branch}'"
            state.renderer.summary([done])
            state.renderer.note(branch=flow.repo.head().branch)
            if tracker is not None:
                remote.deliver(state, tracker, actions, done=done)
        else:
            # what a remote has of it, not undone: asked while the local refs say what was pushed
            left = journal.remote_changes(flow.repo, entry)
            journal.abort(flow.repo, entry)
            back = "every local branch and tag" if left else "every branch and tag"
            state.renderer.summary([f"aborted the {operation} of '{entry.branch}'; {back} is back"])
            for line in journal.remote_undo(left):
                state.renderer.warn(line)
            state.renderer.note(branch=flow.repo.head().branch)


def landing(
    state: Session,
    flow: FlowContext,
    kind: str,
    branch: str,
    *,
    pulls: list[PullRequest] | None = None,
) -> tuple[Landed | None, str]:
    """Whether the branch already landed on the remote (its pull request was merged), and
    why its remote branch must be kept (an open pull request), for the finish plan.
    `pulls`: the branch's pull requests as Bitbucket listed them (open and merged, newest
    first), already known (`pr merge` just merged one): Bitbucket is not asked again."""
    from jiraflow.gitflow.finish import Landed, finish_target, is_protected
    from jiraflow.services.pull_requests import forge_for, remote_has_more
    from jiraflow.services.pull_requests import landing as find_landing

    if flow.model.remote not in flow.repo.remotes():
        return None, ""
    target = finish_target(flow, kind, branch)
    forge = forge_for(flow) if pulls is None else cast("Forge", _Listed(pulls))
    found = find_landing(flow, forge, branch, target, fetch=not state.dry_run)
    keep = ""
    if found.note:  # git alone decides, and the remote branch stays
        state.renderer.warn(f"could not ask Bitbucket about pull requests: {found.note}")
        keep = "Bitbucket could not be asked whether a pull request is open on it"
    if found.open_pr is not None:
        pull = found.open_pr
        # (into a protected target nothing merges here: the finish shows the pull request)
        if pull.destination == target and not found.landed and not is_protected(flow, target):
            state.renderer.warn(
                f"pull request #{pull.id} is open for '{branch}'; merging here, and Bitbucket "
                "marks it merged once the result is pushed"
            )
        keep = f"pull request #{pull.id} into '{pull.destination}' is open on it"
    if found.merged_pr is not None and not found.landed and state.dry_run:
        state.renderer.line(
            f"(pull request #{found.merged_pr.id} is merged: the finish would fetch "
            f"'{flow.model.remote}' and update '{target}' instead of merging)"
        )
        merge_commit = found.merged_pr.merge_commit
        if merge_commit and is_protected(flow, target):  # no merge here to plan: what follows
            return Landed(merge_commit, f"pull request #{found.merged_pr.id}"), ""
    if not found.landed or found.merge_commit is None:
        return None, keep
    if not keep and remote_has_more(flow, branch, target, found):
        keep = "it has commits pushed after the merge"
    how = f"pull request #{found.merged_pr.id}" if found.merged_pr else "a push"
    return Landed(found.merge_commit, how, keep), ""


class _Listed:
    """A forge whose pull requests are already known: the landing's question answered
    from them, as Bitbucket's list would answer it."""

    enabled = True

    def __init__(self, pulls: list[PullRequest]) -> None:
        self.client = self
        self._pulls = pulls

    def pull_requests(self, **_: object) -> list[PullRequest]:
        return self._pulls


def which(flow: FlowContext, name: str | None) -> tuple[str, str]:
    """(type, branch) of the branch `jiraflow finish [NAME]` finishes: the current branch,
    or the one NAME names (its full name, or its name in one of the types)."""
    from jiraflow.errors import JiraflowError, UsageError

    kinds = ", ".join(FINISHED_KINDS[:-1]) + " or " + FINISHED_KINDS[-1]
    if not name:
        current = flow.current_branch()
        parsed = flow.model.parse(current)
        if parsed and parsed[0] in FINISHED_KINDS:
            return parsed[0], current
        prefixes = [flow.model.prefixes[k] for k in FINISHED_KINDS]
        branches = [b for p in prefixes for b in flow.repo.branches(p)]
        raise UsageError(
            f"the current branch '{current}' is no {kinds} branch: there is nothing to finish",
            f"Name the branch: `jiraflow finish {branches[0]}`."
            if branches
            else "Start one first: `jiraflow feature start NAME`.",
        )
    parsed = flow.model.parse(name)
    if parsed and parsed[0] in FINISHED_KINDS and flow.repo.has_branch(name):
        return parsed[0], name
    found: list[tuple[str, str]] = []
    for kind in FINISHED_KINDS:
        try:
            found.append((kind, flow.resolve(kind, name)))
        except JiraflowError:
            continue
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(branch for _, branch in found)
        raise UsageError(
            f"'{name}' matches several branches: {shown}",
            f"Name one in full: `jiraflow finish {found[0][1]}`.",
        )
    raise UsageError(
        f"there is no {kinds} branch '{name}'",
        "`jiraflow feature list` (or bugfix, release, hotfix list) shows them.",
    )


def abort_start(state: Session, flow: FlowContext, kind: str) -> None:
    """`<kind> start --abort`: undo a start that was killed half-way (see
    gitflow.start.abort_start)."""
    from jiraflow.gitflow import journal
    from jiraflow.gitflow.start import abort_start as plan_abort

    with journal.lock(flow.repo):
        lines = plan_abort(flow, kind, dry_run=state.dry_run)
    if state.dry_run:
        state.renderer.plan(lines)
    else:
        state.renderer.summary(lines)
        state.renderer.note(branch=flow.repo.head().branch)


Ask = Callable[[str, str], str]  # (question, default) -> the answer, on a terminal


def start_work(
    state: Session,
    flow: FlowContext,
    kind: str,
    name: str | None,
    base: str | None,
    *,
    fetch: bool,
    no_jira: bool = False,
    assign: bool = False,
    part: str | None = None,
    ask: Ask | None = None,
) -> None:
    """`<kind> start`: a feature or bugfix NAME that is a Jira issue key is started from
    the issue (unless no_jira); then the branch is started."""
    from jiraflow.services import remote

    tracker: Tracker | None = None
    known: Issue | None = None
    actions: list[Action] = []
    if assign and no_jira:
        from jiraflow.errors import UsageError

        raise UsageError("--assign and --no-jira cannot be used together", "Give one.")
    if kind in ("feature", "bugfix") and not no_jira and name is not None:
        started = remote.issue_start(flow, kind, name, state, assign=assign)
        if started is not None:
            _, name, actions, known, tracker = started
    start_branch(state, flow, kind, name, base, fetch, actions, tracker, known, part=part, ask=ask)


def start_issue(
    state: Session, flow: FlowContext, key: str, base: str | None, *, fetch: bool, assign: bool
) -> None:
    """`jiraflow start KEY`: a bugfix for a Bug, a feature otherwise, named from the issue."""
    from jiraflow.errors import UsageError
    from jiraflow.services import remote

    started = remote.issue_start(flow, None, key, state, assign=assign)
    if started is None:
        if not remote.tracker_for(flow).enabled:
            raise UsageError(
                "`jiraflow start KEY` needs Jira, and none is configured",
                "Set jira.url (`jiraflow config set jira.url https://...`), or use "
                "`jiraflow feature start NAME`.",
            )
        raise UsageError(f"'{key}' is not a Jira issue key", "e.g. `jiraflow start PROJ-12`.")
    kind, name, actions, issue, tracker = started
    start_branch(state, flow, kind, name, base, fetch, actions, tracker, issue)


def start_branch(
    state: Session,
    flow: FlowContext,
    kind: str,
    name: str | None,
    base: str | None,
    fetch: bool,
    actions: list[Action],
    tracker: Tracker | None,
    known: Issue | None,
    *,
    part: str | None = None,
    ask: Ask | None = None,
) -> None:
    """Build and run the start plan. A release or hotfix without `name` (VERSION) gets the
    next `part` version: as it is with --major/--minor/--patch, asked for (`ask`) on a
    terminal otherwise (the proposal as the default), or taken and said when there is none."""
    from jiraflow.gitflow.start import Proposal, plan_start
    from jiraflow.services import remote

    if state.dry_run and fetch:
        state.renderer.line(f"(would first run: git fetch --prune {flow.model.remote})")
    # a dry run changes nothing, remote-tracking refs included
    fetch = fetch and not state.dry_run

    def choose(proposal: Proposal) -> str:
        proposed = str(proposal.version)
        asked = part is None and not state.dry_run and not state.json
        if asked and ask is not None and state.terminal.interactive:
            return ask(f"{kind.capitalize()} version", proposed)
        if state.dry_run:  # otherwise the summary says it
            state.renderer.line(proposal.describe(), err=state.json)
        return proposed

    if kind in ("release", "hotfix") and flow.config.jira.version_on_start:
        tracker = remote.tracker_for(flow, state)

    def build() -> Plan:
        plan = plan_start(flow, kind, name, base, fetch=fetch, part=part, choose=choose)
        plan.remote = actions
        if kind in ("release", "hotfix") and tracker is not None:
            from jiraflow.services.releasing import start_actions

            version = plan.branch[len(flow.model.prefixes[kind]) :]
            plan.remote = start_actions(
                flow, tracker, version, base or flow.model.default_base(kind)
            )
        return plan

    run_plan(state, flow, build, tracker=tracker, known=known)


class FinishFlags(NamedTuple):
    """The finish options as given: None where a --x/--no-x option was not (the
    configuration's [finish] default then applies). (No dataclass: this module is on the
    TAB path, which the dataclasses module would slow down.)"""

    squash: bool = False
    no_ff: bool = False
    rebase: bool = False
    keep: bool | None = None
    push: bool | None = None
    fetch: bool | None = None
    message: str | None = None
    no_tag: bool = False
    log: str | None = None  # --log DURATION (feature, bugfix): time logged on the issue


def finish(
    state: Session,
    flow: FlowContext,
    kind: str,
    name: str | None,
    flags: FinishFlags,
    *,
    open_pr: OpenPullRequest | None = None,
    tracker: Tracker | None = None,
    pulls: list[PullRequest] | None = None,
) -> None:
    """`<kind> finish [NAME]`: fetch first (as asked or configured), find whether a pull
    request already landed the branch, build the plan (with the release's changelog, tag
    notes and Jira release actions for a release or hotfix) and run it. Where the target is
    protected (gitflow.protected) a pull request does the merge: `open_pr` opens it
    (services.protected). What a caller already has is not asked again: `tracker` (with
    the issue maybe read ahead), `pulls` (the branch's pull requests: see landing)."""
    from jiraflow.gitflow.finish import BackMerge, FinishOptions, back_merge, plan_finish
    from jiraflow.services import protected_paths as protected
    from jiraflow.services import remote

    defaults = flow.config.finish
    version_kind = kind in ("release", "hotfix")
    fetch = defaults.fetch if flags.fetch is None else flags.fetch
    opts = FinishOptions(
        squash=flags.squash,
        no_ff=flags.no_ff or defaults.no_ff,
        rebase=flags.rebase,
        keep=defaults.keep if flags.keep is None else flags.keep,
        push=defaults.push if flags.push is None else flags.push,
        message=flags.message,
        no_tag=flags.no_tag,
    )
    if state.dry_run and fetch:
        state.renderer.line(f"(would first run: git fetch --prune {flow.model.remote})")
    fetch = fetch and not state.dry_run  # a dry run changes nothing, remote-tracking refs included
    tracker = tracker or remote.tracker_for(flow, state)
    pending: list[tuple[str, BackMerge]] = []  # a back-merge pull request still to open

    def build() -> Plan:
        import dataclasses

        branch = flow.resolve(kind, name)
        if fetch:  # before looking at what the remote already has
            flow.repo.fetch(flow.model.remote)
        elif version_kind and not state.dry_run:
            protected.fetch_for_back_merge(flow, kind, branch)
        if not version_kind:  # the issue's read goes out with the question whether it landed
            remote.read_ahead_finish(tracker, flow, branch)
        landed, keep_remote = landing(state, flow, kind, branch, pulls=pulls)
        if not version_kind:
            base = flow.base_of(branch, kind)
            log = []
            if flags.log:  # checked before anything changes, whichever way the finish goes
                from jiraflow.services.worklogs import finish_log

                log = [finish_log(tracker, flow, branch, flags.log)]
            if landed is None and protected.is_protected(flow, base):
                raise protected.ThroughPullRequest(branch, base, log)  # logged with the PR
            plan = plan_finish(flow, kind, branch, opts, landed=landed, keep_remote=keep_remote)
            # the log first: a workflow may refuse work logs on a done issue
            plan.remote = log + remote.finish_actions(tracker, flow, plan)
            return plan
        from jiraflow.services.releasing import finish_extras

        flow.require_clean()  # before reading the release: the plan checks it too
        extras = finish_extras(
            state.renderer, flow, tracker, kind, branch, landed=landed is not None
        )
        plan = plan_finish(
            flow,
            kind,
            branch,
            dataclasses.replace(opts, changelog=extras.changelog, notes=extras.tag_notes),
            landed=landed,
            keep_remote=keep_remote,
        )
        back = back_merge(flow, kind, branch)
        if back is not None and not back.merged:
            pending.append((branch, back))
            plan.remote = []  # released (Jira) once the back-merge completes the finish
        else:
            plan.remote = extras.actions
        return plan

    try:
        run_plan(state, flow, build, tracker=tracker)
    except protected.ThroughPullRequest as refusal:
        protected.finish_through_pr(state, flow, kind, refusal, open_pr, flags)
        return
    for branch, back in pending:
        protected.open_back_merge(state, flow, kind, branch, back, open_pr)


def open_version_pr(
    state: Session,
    flow: FlowContext,
    kind: str,
    version: str | None,
    open_pull_request: Callable[[str], None],
) -> None:
    """`release|hotfix finish --pr`: the release notes committed to the changelog (as
    configured), then the branch pushed and its pull request into main opened (by
    `open_pull_request`, under the same lock)."""
    from jiraflow.gitflow import journal
    from jiraflow.services.releasing import commit_changelog

    branch = flow.resolve(kind, version)
    flow.require_clean()
    with journal.lock(flow.repo):
        if not state.dry_run:
            journal.refuse_if_busy(flow.repo)
        commit_changelog(state, flow, kind, branch)
        open_pull_request(branch)
    if not state.dry_run and not state.json:
        state.renderer.line(
            f"When it is merged, run `jiraflow {kind} finish` to tag it and merge it back."
        )


def stopped_finish(flow: FlowContext, cont: bool) -> str:
    """The type of the finish that stopped, for `jiraflow finish --continue|--abort`."""
    from jiraflow.errors import UsageError
    from jiraflow.gitflow import journal

    entry = journal.in_progress(flow.repo)
    if entry is None:
        raise UsageError(
            f"there is no finish to {'continue' if cont else 'abort'}",
            "`jiraflow status` shows where you are.",
        )
    kind = entry.operation.split()[0]
    if kind not in FINISHED_KINDS or not entry.operation.endswith(" finish"):
        raise UsageError(
            f"the operation in progress is a {entry.operation}",
            journal.what_to_run(flow.repo, entry),
        )
    return kind
