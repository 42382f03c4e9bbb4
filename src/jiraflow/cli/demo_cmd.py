"""`jiraflow demo`: the whole flow in a temporary repository against the built-in sandbox."""

from __future__ import annotations

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

pass_state = click.make_pass_decorator(AppState)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--kind",
    type=click.Choice(["cloud", "datacenter"]),
    default="cloud",
    show_default=True,
    help="Show it against Jira and Bitbucket Cloud, or Data Center.",
)
@pass_state
def demo(state: AppState, kind: str) -> None:
    """Walk the whole flow with real jiraflow commands against a sandbox Jira and Bitbucket:
    start from an issue, commit, open the pull request, merge it, finish, release.

    No account and no network are needed; everything happens in a temporary directory
    that is removed afterwards.
    """
    from jiraflow import demo as demo_mod

    seconds = demo_mod.run(kind, state.renderer.line)
    state.renderer.line("")
    state.renderer.line(
        f"Done in {seconds:.1f} s. Try it by hand against the same sandbox: "
        "`jiraflow sandbox serve`."
    )
