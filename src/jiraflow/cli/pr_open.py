"""How `pr create` opens a pull request and shows it: also used by `release|hotfix finish
--pr`, by a finish into a protected branch and by `pr merge`. A module of its own so that
those commands share it without importing each other."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import AppState
from jiraflow.services import remote

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.outbox.actions import Action
    from jiraflow.services.protected_paths import OpenPullRequest
    from jiraflow.services.pull_requests import Opening


def opener(state: AppState, flow: FlowContext) -> OpenPullRequest:
    """How a finish into a protected branch opens its pull request: `pr create`'s way."""

    def open_pr(branch: str, base: str, title: str | None, /, jira: Sequence[Action] = ()) -> None:
        open_pull_request(state, flow, branch, base=base, title=title, jira=jira)

    return open_pr


def open_pull_request(
    state: AppState,
    flow: FlowContext,
    branch: str,
    *,
    base: str | None = None,
    title: str | None = None,
    body: str | None = None,
    draft: bool | None = None,
    reviewers: tuple[str, ...] = (),
    web: bool = False,
    jira: Sequence[Action] = (),
) -> None:
    """`pr create`, also used by `release|hotfix finish --pr`. `jira`: actions of the caller
    (a finish's work log) delivered first, with the pull request's own."""
    from jiraflow.services import pull_requests as prs

    def pushed() -> None:  # said now: the pull request may still fail
        if not state.json:
            state.renderer.summary([f"pushed '{branch}' to '{flow.model.remote}'"])

    opening = prs.open_pull_request(
        flow,
        branch,
        ui=state.renderer,
        dry_run=state.dry_run,
        base=base,
        title=title,
        body=body,
        draft=draft,
        reviewers=reviewers,
        web=web,
        on_pushed=pushed,
    )
    if opening.web_url is not None:
        _render_web(state, opening.web_url, opening.push)
        return
    assert opening.tracker is not None and opening.proposal is not None
    opening.jira[:0] = jira
    if state.dry_run:
        _print_plan(state, opening)
        return
    pull, proposal = opening.pull, opening.proposal
    assert pull is not None
    if state.json:
        state.renderer.data(
            {"pull_request": pull.to_json(), "created": opening.created, "pushed": opening.pushed}
        )
    else:
        lines = []
        if opening.created:
            names = ", ".join(r.user.display for r in pull.reviewers) or "none"
            left_out = "".join(f"; left out {note}" for note in proposal.dropped)
            lines.append(
                f"opened pull request #{pull.id}: {branch} -> {opening.base} "
                f"(reviewers: {names}{left_out})"
            )
        else:
            lines.append(f"pull request #{pull.id} ({branch} -> {opening.base}) is already open")
        state.renderer.summary(lines)
    try:
        remote.deliver(
            state, opening.tracker, opening.jira, done=f"pull request #{pull.id} is open"
        )
    finally:  # the URL last, where scripts and eyes look for it, even when Jira failed
        if not state.json:
            state.renderer.line(pull.url)


def _print_plan(state: AppState, opening: Opening) -> None:
    proposal, push = opening.proposal, opening.push
    assert proposal is not None and opening.tracker is not None
    lines = ["git " + " ".join(push)] if push else []
    if proposal.existing is not None:
        lines.append(f"bitbucket: show pull request #{proposal.existing.id} (already open)")
    else:
        names = ", ".join(u.display for u in proposal.reviewers) or "none"
        kind = "draft pull request" if opening.draft else "pull request"
        lines.append(
            f"bitbucket: open {kind} '{proposal.title}' ({proposal.branch} -> {proposal.base}), "
            f"reviewers: {names}"
        )
    state.renderer.plan(lines + remote.describe(opening.jira))


def _render_web(state: AppState, url: str, push: tuple[str, ...] | None) -> None:
    if state.dry_run:
        state.renderer.plan((["git " + " ".join(push)] if push else []) + [f"open {url}"])
        return
    state.renderer.line(url)
    if state.terminal.stdout_isatty and not state.json:
        click.launch(url)
