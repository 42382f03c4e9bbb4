"""`jiraflow pr create|view|list|status`: Bitbucket pull requests of Gitflow branches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import PullRequest

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
    from jiraflow.cli.pr_open import open_pull_request
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


# -- reading -------------------------------------------------------------------------------------


@pr.command(context_settings=CONTEXT_SETTINGS)
@click.argument("number", type=int, required=False)
@pass_state
def view(state: AppState, number: int | None) -> None:
    """Show pull request NUMBER, or the one of the current branch."""
    from jiraflow.services.builds import build_line
    from jiraflow.services.pull_requests import pull_request

    flow = state.flow()
    pull = pull_request(flow, number)
    if state.json:
        state.renderer.data(pull.to_json())
        return
    _print_pull(state, pull, build_line(flow, pull))


def _print_pull(state: AppState, pull: PullRequest, builds: str) -> None:
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
    out(builds)
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
@click.option("--mine", is_flag=True, help="Only those you opened.")
@click.option("--reviewing", is_flag=True, help="Only those you are asked to review.")
@pass_state
def list_(state: AppState, which: str, limit: int, mine: bool, reviewing: bool) -> None:
    """The pull requests of this repository, newest first."""
    from jiraflow.services.pull_requests import pull_requests

    if mine and reviewing:
        from jiraflow.errors import UsageError

        raise UsageError(
            "--mine and --reviewing cannot be used together",
            "Use one: `jiraflow pr list --mine` or `jiraflow pr list --reviewing`.",
        )
    if mine or reviewing:
        from jiraflow.services.reviews import role_list

        role = "author" if mine else "reviewer"
        where, pulls = role_list(state.flow(), which, limit, role)
    else:
        where, pulls = pull_requests(state.flow(), which, limit)
    if state.json:
        state.renderer.data([p.to_json() for p in pulls])
        return
    if not pulls:
        whose = " of yours" if mine else " asking for your review" if reviewing else ""
        state.renderer.line(f"No {which} pull requests{whose} in {where}.")
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
    from jiraflow.services.builds import build_line
    from jiraflow.services.pull_requests import review_status

    flow = state.flow()
    branch, current, mine, asked = review_status(flow)
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
    if current is not None:
        out("  " + build_line(flow, current))
    for title, rows in (("Created by you", mine), ("Requesting your review", asked)):
        out(title)
        for p in rows:
            out("  " + _row(p))
        if not rows:
            out("  none")


from jiraflow.cli.pr_review_cmd import COMMANDS as _REVIEW_COMMANDS  # noqa: E402

for _command in _REVIEW_COMMANDS:
    pr.add_command(_command)


from jiraflow.cli.pr_checks_cmd import checks  # noqa: E402 - registered last (issue 19)

pr.add_command(checks)


from jiraflow.cli.pr_merge_cmd import merge  # noqa: E402 - registered last (issue 19)

pr.add_command(merge)
