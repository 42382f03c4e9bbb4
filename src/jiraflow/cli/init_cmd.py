"""`jiraflow init`."""

from __future__ import annotations

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.services.flow import run_plan

pass_state = click.make_pass_decorator(AppState)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "-d", "--defaults", is_flag=True, help="Ask nothing; use what exists or the defaults."
)
@click.option("-f", "--force", is_flag=True, help="Choose again even when already set up.")
@click.option(
    "--environments",
    is_flag=True,
    help="Also create the missing branches of [[environments]] from main (locally).",
)
@pass_state
def init(state: AppState, defaults: bool, force: bool, environments: bool) -> None:
    """Set up Gitflow here: main and develop, prefixes, .jiraflow.toml.

    An existing git-flow AVH setup is adopted without asking. Asks only on a terminal
    and without --defaults. With --environments, the environment branches of the
    configuration that exist neither here nor on the remote are created from main.
    """
    from jiraflow.gitflow.init import plan_init

    flow = state.flow()
    interactive = not defaults and not state.dry_run and state.terminal.stdin_isatty

    def ask(question: str, default: str) -> str:
        return str(click.prompt(question, default=default, show_default=True, err=True))

    asking = ask if interactive else None
    run_plan(
        state, flow, lambda: plan_init(flow, force=force, ask=asking, environments=environments)
    )
