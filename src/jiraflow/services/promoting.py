"""`jiraflow promote ENV`: the environment's branch brought up to its source (a plan run
under the repository lock, as a finish: --dry-run, --continue, --abort), pushed, and the
Jira issues of the commits it newly holds moved to the environment's status (never
backwards; failures queued in the outbox: exit 7).

Through a pull request (the environment's `via_pr`, a protected branch, --pr) nothing is
pushed to the environment's branch: the pull request source -> branch is opened, and what
the branch held then is recorded (.git/jiraflow/promote-ENV.json); `promote ENV` again,
once the branch holds the source, moves the issues of what it newly holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jiraflow.config import Environment
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.plan import Plan
    from jiraflow.jira.tracker import Tracker
    from jiraflow.outbox.actions import Action
    from jiraflow.services.protected_paths import OpenPullRequest
    from jiraflow.services.session import Session


def promote(
    state: Session,
    flow: FlowContext,
    name: str,
    *,
    source: str | None = None,
    pr: bool = False,
    merge: bool = False,
    no_jira: bool = False,
    open_pr: OpenPullRequest | None = None,
) -> None:
    from jiraflow.gitflow import promote as git
    from jiraflow.services import remote
    from jiraflow.services.flow import run_plan
    from jiraflow.services.protected_paths import is_protected

    env, later = git.environment(flow, name)
    tracker: Tracker | None = None
    if not no_jira and env.jira:
        tracker = remote.tracker_for(flow, state)
        if not tracker.enabled:
            tracker = None
    has_remote = flow.model.remote in flow.repo.remotes()
    if state.dry_run and has_remote:
        state.renderer.line(f"(would first run: git fetch --prune {flow.model.remote})")
    if pr or env.via_pr or is_protected(flow, env.branch):
        _through_pr(state, flow, env, later, source, tracker, open_pr)
        return

    def build() -> Plan:
        flow.require_clean()
        if has_remote and not state.dry_run:
            flow.repo.fetch(flow.model.remote)
        src = git.source_of(flow, env, source)
        plan = git.plan_promote(flow, env, src, merge=merge)
        old = git.tip(flow, env.branch)
        if tracker is not None and plan.steps and old is not None:
            plan.remote = _actions(flow, tracker, env, later, f"{old}..{git.resolve(flow, src)}")
        return plan

    run_plan(state, flow, build, tracker=tracker)


def _actions(
    flow: FlowContext, tracker: Tracker, env: Environment, later: list[Environment], rev: str
) -> list[Action]:
    """The moves of the issues whose keys are in the commits of `rev` (the key rules of a
    release's issues)."""
    from jiraflow.gitflow import notes
    from jiraflow.outbox.actions import Promote

    keys = notes.keys_of(notes.commits_in(flow.repo, rev), tracker.accepts)
    targets = [e.jira for e in later if e.jira]
    return list(Promote.for_keys(tracker, keys, env=env.name, target=env.jira, later=targets))


def _through_pr(
    state: Session,
    flow: FlowContext,
    env: Environment,
    later: list[Environment],
    source: str | None,
    tracker: Tracker | None,
    open_pr: OpenPullRequest | None,
) -> None:
    """Open the pull request source -> environment branch; or, when the branch already holds
    the source (the pull request is merged), move the issues of what it newly holds."""
    import json
    import os

    from jiraflow.errors import UsageError
    from jiraflow.git import remote_ref
    from jiraflow.gitflow import journal
    from jiraflow.gitflow import promote as git
    from jiraflow.services import remote

    repo, origin = flow.repo, flow.model.remote
    record_path = repo.state_path(f"promote-{env.name}.json")
    with journal.lock(repo):
        if not state.dry_run:
            journal.refuse_if_busy(repo)
            if origin in repo.remotes():
                repo.fetch(origin)
        src = git.source_of(flow, env, source)
        seen = git.resolve(flow, src)
        shared = repo.refs().get(remote_ref(origin, env.branch))
        if shared is None:
            raise UsageError(
                f"'{origin}' has no branch '{env.branch}' to open a pull request into",
                f"Push it first: `git push {origin} {env.branch}`.",
            )
        record = None
        if os.path.exists(record_path):
            with open(record_path, encoding="utf-8") as fh:
                record = json.load(fh)
        if not repo.is_ancestor(seen, shared):
            if not repo.has_branch(src):
                raise UsageError(
                    f"'{src}' is no local branch: a pull request needs one",
                    f"Promote without a pull request, or from a branch: "
                    f"`jiraflow promote {env.name} --from BRANCH`.",
                )
            if open_pr is None:  # pragma: no cover - the CLI always gives one
                raise UsageError(
                    "a pull request cannot be opened here", "Use `jiraflow pr create`."
                )
            if not state.dry_run and record is None:
                os.makedirs(os.path.dirname(record_path), exist_ok=True)
                with open(record_path, "w", encoding="utf-8") as fh:
                    json.dump({"old": shared, "source": seen}, fh)
            open_pr(src, env.branch, f"Promote {src} to {env.name}")
            if not state.dry_run and not state.json:
                state.renderer.line(
                    f"When it is merged, run `jiraflow promote {env.name}` to move its issues "
                    "in Jira."
                )
            return
        # the branch holds the source: the pull request was merged (or there was nothing)
        actions: list[Action] = []
        if record is not None and repo.is_ancestor(record["source"], shared):
            if tracker is not None:
                actions = _actions(flow, tracker, env, later, f"{record['old']}..{shared}")
            done = f"'{env.branch}' on '{origin}' has '{src}': promoted to {env.name}"
        else:
            done = f"'{env.branch}' already has '{src}': nothing to promote"
        if state.dry_run:
            lines = remote.describe(actions)
            if lines:
                state.renderer.plan(lines)
            else:
                state.renderer.line("Nothing to do.")
            return
        if record is not None:
            os.unlink(record_path)
    state.renderer.summary([done])
    if tracker is not None and actions:
        from jiraflow.outbox.box import Outbox

        Outbox(tracker).enqueue(actions)
        remote.deliver(state, tracker, actions, done=done)
