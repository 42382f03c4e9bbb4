"""`jiraflow promote ENV`: see jiraflow.services.promoting."""

from __future__ import annotations

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

pass_state = click.make_pass_decorator(AppState)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("env", metavar="[ENV]", required=False)
@click.option("--from", "source", metavar="REF", help="Promote this branch or tag instead.")
@click.option("--pr", is_flag=True, help="Open a pull request into ENV's branch instead.")
@click.option(
    "--merge", is_flag=True, help="Merge even when ENV's branch has commits the source lacks."
)
@click.option("--no-jira", is_flag=True, help="Leave Jira alone.")
@click.option("--continue", "cont", is_flag=True, help="Resume after resolving a conflict.")
@click.option("--abort", is_flag=True, help="Undo the interrupted promote completely.")
@pass_state
def promote(
    state: AppState,
    env: str | None,
    source: str | None,
    pr: bool,
    merge: bool,
    no_jira: bool,
    cont: bool,
    abort: bool,
) -> None:
    """Promote to environment ENV: its branch brought up to the previous environment's
    (develop, or the one open release branch, for the first), pushed, and the Jira issues
    of the commits it newly holds moved to ENV's status. A fast-forward when possible, else
    a merge commit; refused when ENV's branch has commits the source lacks (unless --merge).
    Through a pull request when the environment has via_pr, its branch is protected, or
    --pr is given: `promote ENV` again after the merge moves the issues."""
    from jiraflow.errors import UsageError

    flow = state.flow()
    if cont or abort:
        if cont and abort:
            raise UsageError("--continue and --abort cannot be used together", "Give one.")
        from jiraflow.services.flow import resume_or_abort

        resume_or_abort(state, flow, "promote", cont)
        return
    if not env:
        raise UsageError("promote needs an environment", "e.g. `jiraflow promote qa`.")
    from jiraflow.cli.pr_open import opener
    from jiraflow.services.promoting import promote as run

    run(
        state,
        flow,
        env,
        source=source,
        pr=pr,
        merge=merge,
        no_jira=no_jira,
        open_pr=opener(state, flow),
    )
