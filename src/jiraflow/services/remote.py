"""Glue between the Gitflow commands and Jira: the tracker for a repository, the remote actions
start and finish ask of an issue, and delivery of the remote actions a plan carries (queued in
the outbox when they fail: exit 7)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.git import GitRepo
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.journal import Journal
    from jiraflow.jira.issues import Issue
    from jiraflow.jira.tracker import Site, Tracker
    from jiraflow.outbox.actions import Action
    from jiraflow.outbox.box import Delivery
    from jiraflow.services.session import Session


def tracker_for(flow: FlowContext, state: Session | None = None) -> Tracker:
    """The repository's tracker; with `state`, long Jira work shows its progress (and a dry
    run reads nothing ahead)."""
    from jiraflow.config import app_dir
    from jiraflow.jira.tracker import Tracker

    state_dir = os.path.dirname(flow.repo.state_path("outbox.json"))
    tracker = Tracker(flow.config, state_dir=state_dir, app_dir=app_dir())
    if state is not None:
        tracker.progress = state.renderer.progress
        tracker.dry_run = state.dry_run
    return tracker


def describe(actions: list[Action]) -> list[str]:
    return [f"jira: {a.describe()}" for a in actions]


def deliver(
    state: Session,
    tracker: Tracker,
    actions: list[Action],
    *,
    done: str,
    known: Issue | None = None,
) -> None:
    """Run the actions after the git part (`done` says what that was); on failure they stay
    in the outbox and the command exits 7 (PartialError)."""
    if not actions:
        return
    from jiraflow.errors import PartialError, RemoteError
    from jiraflow.outbox.box import Outbox

    result = Outbox(tracker).deliver(actions, known)
    if known is not None:  # a start
        refresh_issue_cache(state, tracker)
    report(state, result)
    failed = result.failed
    if failed:
        first_error = failed[0][1]
        what = "; ".join(a.describe() for a, _ in failed)
        state.renderer.note(queued=[a.describe() for a, _ in failed])
        fix = "" if isinstance(first_error, RemoteError) else (first_error.hint or "")
        raise PartialError(
            f"{done}, but Jira was not updated ({what}): {first_error.message}",
            (fix.rstrip(".") + ". Then run `jiraflow sync`; it is queued.")
            if fix
            else "Queued: run `jiraflow sync` when Jira can be reached "
            "(`jiraflow status` shows the queue).",
        )


def journal_actions(repo: GitRepo, entry: Journal) -> list[Action]:
    """The remote actions a stopped run's journal holds (their JSON records there: the
    engine does not know the outbox), made actions again. One jiraflow could not have
    written stops the command as a damaged journal does: exit 5, naming the file and what
    is wrong where (`remote[0].key`)."""
    from jiraflow import store
    from jiraflow.gitflow.journal import damaged
    from jiraflow.outbox.box import check_actions

    try:
        return check_actions(entry.remote, "remote")
    except store.Damaged as exc:
        raise damaged(repo, exc) from None


def refresh_issue_cache(state: Session, tracker: Tracker) -> None:
    """After a start: the issues TAB offers are refreshed in the background when their
    cache is there (TAB completion is in use) but stale. Never fails the start."""
    from jiraflow.jira import issue_cache

    if not os.path.exists(issue_cache.default_path()):
        return
    try:
        root = state.flow().repo.root
    except Exception:  # the start is done; the next TAB refreshes it
        return
    issue_cache.refresh_after(root, tracker.config)


def report(state: Session, result: Delivery) -> None:
    """What was done, and what was left alone and why."""
    state.renderer.summary([action.describe_done() for action in result.done])
    for action in result.done:
        for why in action.get("warnings") or []:
            state.renderer.warn(why)
    for _, why in result.skipped:
        state.renderer.warn(why)


class Synced:
    """What `sync` did: nothing pending, the plan of a dry run, the actions dropped, or the
    outcome of sending them."""

    def __init__(
        self,
        pending: list[Action],
        dropped: list[Action] | None = None,
        result: Delivery | None = None,
    ) -> None:
        self.pending = pending
        self.dropped = dropped or []
        self.result = result


def sync(flow: FlowContext, state: Session, *, drop: bool) -> Synced:
    """Send the outbox (or, with `drop`, forget it) under the repository lock; a dry run
    only reads it."""
    from jiraflow.gitflow import journal
    from jiraflow.outbox.box import Outbox

    box = Outbox(tracker_for(flow, state))
    with journal.lock(flow.repo):
        pending = box.read()
        if not pending or state.dry_run:
            return Synced(pending)
        if drop:
            return Synced(pending, dropped=box.drop())
        from jiraflow import http

        with http.patience():  # a batch write: it may wait out a rate limit for minutes
            return Synced(pending, result=box.sync())


def issue_start(
    flow: FlowContext,
    kind: str | None,
    name: str,
    state: Session | None = None,
    *,
    assign: bool = False,
) -> tuple[str, str, list[Action], Issue, Tracker] | None:
    """For `start KEY`: the branch type, the branch name made from the issue, the Jira
    actions, the issue as fetched and the tracker. None when NAME is a plain name (allowed
    unless jira.require_key). Jira unreachable here stops the start with nothing created."""
    if not flow.config.jira.site_rows():  # no Jira: no Jira client loaded
        return None
    from jiraflow.errors import UsageError
    from jiraflow.jira.issues import branch_name
    from jiraflow.keys import normalise_key

    tracker = tracker_for(flow)
    if not tracker.enabled:
        return None
    key = normalise_key(name, tracker.projects)
    if key is None:
        if flow.config.jira.require_key:
            raise UsageError(
                f"'{name}' is not a Jira issue key, and this project requires one",
                "Start from an issue, e.g. `jiraflow feature start PROJ-12` "
                "(or use --no-jira for a branch without one).",
            )
        return None
    if not tracker.accepts(key):
        raise UsageError(
            f"{key} is not in a configured Jira project ({', '.join(tracker.projects)})",
            "Check the key, or add its project to jira.projects.",
        )
    issue, site = tracker.fetch_to_start(key)
    if kind is None:
        kind = flow.config.jira.branch_types.get(issue.type, "feature")
        if kind not in ("feature", "bugfix"):
            from jiraflow.errors import ConfigError

            raise ConfigError(
                f"jira.branch_types maps '{issue.type}' to '{kind}'",
                "Use feature or bugfix.",
            )
    cfg = flow.config.branch
    name = branch_name(cfg.name, issue.key, issue.summary, issue.type, cfg.max_length)
    take_over = None if state is None else partial(take_over_or_not, state)
    actions = start_actions(tracker, issue, site, assign=assign, take_over=take_over)
    return kind, name, actions, issue, tracker


def start_actions(
    tracker: Tracker,
    issue: Issue,
    site: Site,
    *,
    assign: bool = False,
    take_over: Callable[[Issue, bool], bool] | None = None,
) -> list[Action]:
    """Assign (as configured) and move to the start status. Checked now, before any
    branch exists: a move that cannot happen stops `start` with nothing changed.

    An issue someone else has is never taken over silently: only with `assign`
    (--assign), or when `take_over(issue, default)` says so (it asks on a terminal, with
    Yes as the default under jira.assign = "always"; in a script it says the issue is
    left)."""
    from jiraflow.jira.issues import choose_transition, screen_values
    from jiraflow.outbox.actions import Assign, Move

    actions: list[Action] = []
    mode = tracker.config.jira.assign
    if assign or mode != "never":
        me = tracker.client(site).myself()
        theirs = issue.assignee is not None and issue.assignee != me["id"]
        if theirs and not assign:
            wanted = take_over is not None and take_over(issue, mode == "always")
        else:
            wanted = issue.assignee != me["id"]
        if wanted:
            had = {"from": issue.assignee}
            actions.append(Assign.new(site.url, issue.key, user=me["id"], **had))
    target = tracker.config.jira.on.start
    if target and not issue.status.matches(target):
        transition = choose_transition(issue, issue.transitions or [], target)
        screen_values(issue, transition, tracker.config.jira.fields)
        moved_from = {"from": issue.status.name}  # a replay leaves a changed issue alone
        actions.append(Move.new(site.url, issue.key, target=target, **moved_from))
    return actions


def take_over_or_not(state: Session, issue: Issue, default: bool) -> bool:
    """Whether `start` takes over an issue someone else has (without --assign): asked on a
    terminal, `default` the answer Enter gives (Yes with jira.assign = "always", else No);
    in a script (or --json) left, and said on stderr."""
    whose = f"{issue.key} ({issue.type}) is assigned to {issue.assignee_name or issue.assignee}"
    terminal = not state.json and state.terminal.interactive
    if terminal and not state.dry_run:
        return state.confirm(f"{whose}. Take it over?", default=default)
    if terminal:  # a dry run asks nothing: it says what start would do
        state.renderer.line(f"{whose}; start would ask whether to take it over", err=True)
    else:
        state.renderer.line(f"{whose}; left as it is (--assign takes it over)", err=True)
    return False


def issue_key(tracker: Tracker, flow: FlowContext, branch: str) -> str | None:
    """The Jira issue of a branch: the key it is named with, when a configured site takes
    that key (None without Jira or a key). Finish moves it; a pull request is titled from it."""
    from jiraflow.keys import branch_key

    if not tracker.enabled:
        return None
    key = branch_key(flow.model, branch)
    return key if key is not None and tracker.accepts(key) else None


def read_ahead_finish(tracker: Tracker, flow: FlowContext, branch: str) -> None:
    """Start reading the issue that finishing the branch moves, so that the move after the
    git part need not wait for it: called before Bitbucket is asked whether the branch
    landed, the read goes out with that question."""
    key = issue_key(tracker, flow, branch)
    if key is not None and flow.config.jira.on.finish:
        tracker.read_ahead(key)


def finish_actions(tracker: Tracker, flow: FlowContext, plan: Any) -> list[Action]:
    """What finishing a feature or bugfix asks of its issue (none without Jira or a key).
    The issue the move needs is read ahead (from here, at the latest: while the git part
    runs)."""
    from jiraflow.outbox.actions import Comment, Move

    key = issue_key(tracker, flow, plan.branch)
    if key is None:
        return []
    actions: list[Action] = []
    move = Move.on(tracker, key, "finish")
    if move is not None:
        actions.append(move)
        read_ahead_finish(tracker, flow, plan.branch)
    if flow.config.jira.comment_on_finish:  # after the move: a refused comment must not block it
        base = plan.summary[0] if plan.summary else ""
        actions.append(Comment.on(tracker, key, f"jiraflow: {base}."))
    return actions
