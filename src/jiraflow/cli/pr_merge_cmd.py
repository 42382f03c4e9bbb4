"""`jiraflow pr merge`: merge a pull request on Bitbucket (Cloud or Data Center), then do
what `<kind> finish` does after a merged pull request (services/merging.py). Registered on
the `pr` group at the end of pr_cmd.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.pr_checks_cmd import interval_option

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BuildStatus

pass_state = click.make_pass_decorator(AppState)


@click.command("merge", context_settings=CONTEXT_SETTINGS)
@click.argument("number", type=int, required=False)
@click.option(
    "--merge",
    "strategy",
    flag_value="merge_commit",
    default=None,
    help="Merge with a merge commit.",
)
@click.option("--squash", "strategy", flag_value="squash", help="Squash into one commit.")
@click.option("--ff", "strategy", flag_value="fast_forward", help="Fast-forward only.")
@click.option("-m", "--message", metavar="MSG", help="The merge commit's message.")
@click.option("--wait", is_flag=True, help="Wait for running builds first (as pr checks --watch).")
@interval_option("--wait")
@click.option("--keep-branch", is_flag=True, help="Keep the branch, locally and on the remote.")
@click.option(
    "--match-head",
    is_flag=True,
    help="Refuse unless the pull request's head is exactly the local branch's tip.",
)
@pass_state
def merge(
    state: AppState,
    number: int | None,
    strategy: str | None,
    message: str | None,
    wait: bool,
    interval: float,
    keep_branch: bool,
    match_head: bool,
) -> None:
    """Merge pull request NUMBER (default: the current branch's) on Bitbucket with the
    strategy given (default: the destination's), after checking that Bitbucket can merge
    it, that its builds passed and that the local branch has nothing it lacks; then finish
    the branch as `feature finish` (or release, hotfix, bugfix finish) does after a merged
    pull request."""
    from jiraflow.cli.pr_open import opener
    from jiraflow.services import merging

    flow = state.flow()
    options = merging.MergeOptions(
        number=number,
        strategy=strategy,
        message=message,
        wait=wait,
        interval=interval,
        keep_branch=keep_branch,
        match_head=match_head,
    )
    merging.merge(state, flow, options, on_builds=_display(state), open_pr=opener(state, flow))


def _display(state: AppState) -> Callable[[int], Callable[[list[BuildStatus]], None]]:
    """How --wait shows the builds of pull request N: `pr checks --watch`'s display."""
    from jiraflow.cli import pr_checks_cmd

    return lambda number: pr_checks_cmd.WatchDisplay(state, number).update
