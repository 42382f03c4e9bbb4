"""`jiraflow pr create|view|list|status`: Bitbucket pull requests of Gitflow branches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.services import remote

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import PullRequest
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.services.pull_requests import Opening

pass_state = click.make_pass_decorator(AppState)
STATES = ("open", "merged", "declined", "all")  # services.pull_requests.STATES, for --help


@click.group(context_settings=CONTEXT_SETTINGS)
def pr() -> None:
    """Bitbucket pull requests (Cloud or Data Center) of Gitflow branches."""


@pr.command(context_settings=CONTEXT_SETTINGS)
@click.option("--base", metavar="B", help="Merge into B instead of the Gitflow target.")
@click.option("--title", metavar="T", help="The title (default: from pr.title).")
@click.option("--body", metavar="B", help="The description (default: from pr.description).")
@click.option("--draft", is_flag=True, default=None, help="Open it as a draft.")
@click.option(
    "-r", "--reviewer", "reviewers", multiple=True, metavar="USER", help="Add a reviewer."
)
@click.option("--web", is_flag=True, help="Push, then open the new-PR page instead.")
@pass_state
def create(
    state: AppState,
    base: str | None,
    title: str | None,
    body: str | None,
    draft: bool | None,
    reviewers: tuple[str, ...],
    web: bool,
) -> None:
    """Push the branch and open its pull request into develop (features, bugfixes) or
    main (releases, hotfixes), with the default reviewers; the issue moves to In Review."""
    from jiraflow.services.pull_requests import guarded

    flow = state.flow()
    branch = flow.current_branch()
    with guarded(flow, dry_run=state.dry_run):
        open_pull_request(
            state,
            flow,
            branch,
            base=base,
            title=title,
            body=body,
            draft=draft,
            reviewers=reviewers,
            web=web,
        )


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
) -> None:
    """`pr create`, also used by `release|hotfix finish --pr`."""
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


# -- reading -------------------------------------------------------------------------------------


@pr.command(context_settings=CONTEXT_SETTINGS)
@click.argument("number", type=int, required=False)
@pass_state
def view(state: AppState, number: int | None) -> None:
    """Show pull request NUMBER, or the one of the current branch."""
    from jiraflow.services.pull_requests import pull_request

    pull = pull_request(state.flow(), number)
    if state.json:
        state.renderer.data(pull.to_json())
        return
    _print_pull(state, pull)


def _print_pull(state: AppState, pull: PullRequest) -> None:
    out = state.renderer.line
    draft = ", draft" if pull.draft else ""
    out(f"#{pull.id} {pull.title}  [{pull.state}{draft}]")
    out(f"{pull.source} -> {pull.destination}, by {pull.author.display}")
    if pull.reviewers:
        names = [
            r.user.display
            + (" (approved)" if r.approved else "")
            + (" (needs work)" if r.status == "NEEDS_WORK" else "")
            for r in pull.reviewers
        ]
        out(f"Reviewers: {', '.join(names)} - {pull.approvals}/{len(pull.reviewers)} approved")
    else:
        out("Reviewers: none")
    out(pull.url)


@pr.command("list", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--state",
    "which",
    type=click.Choice(STATES),
    default="open",
    show_default=True,
    help="Which pull requests.",
)
@click.option("-L", "--limit", type=click.IntRange(1, 500), default=30, show_default=True)
@pass_state
def list_(state: AppState, which: str, limit: int) -> None:
    """The pull requests of this repository, newest first."""
    from jiraflow.services.pull_requests import pull_requests

    where, pulls = pull_requests(state.flow(), which, limit)
    if state.json:
        state.renderer.data([p.to_json() for p in pulls])
        return
    if not pulls:
        state.renderer.line(f"No {which} pull requests in {where}.")
        return
    for p in pulls:
        state.renderer.line(_row(p))


def _row(p: PullRequest) -> str:
    approved = f"{p.approvals}/{len(p.reviewers)} approved" if p.reviewers else "no reviewers"
    return f"#{p.id:<5} {p.state:<8} {p.source} -> {p.destination}  {p.title}  ({approved})"


@pr.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """The current branch's pull request, yours, and those waiting for your review."""
    from jiraflow.services.pull_requests import review_status

    branch, current, mine, asked = review_status(state.flow())
    if state.json:
        state.renderer.data(
            {
                "branch": branch,
                "current": current.to_json() if current else None,
                "created_by_you": [p.to_json() for p in mine],
                "review_requested": [p.to_json() for p in asked],
            }
        )
        return
    out = state.renderer.line
    out("Current branch")
    out("  " + (_row(current) if current else f"no pull request for '{branch}'"))
    for title, rows in (("Created by you", mine), ("Requesting your review", asked)):
        out(title)
        for p in rows:
            out("  " + _row(p))
        if not rows:
            out("  none")
