"""`jiraflow release notes [REV_RANGE]`: the issues of a range of commits, as Markdown or
JSON, with their summaries from one batched Jira search (or from the commits without
Jira)."""

from __future__ import annotations

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import complete_range

pass_state = click.make_pass_decorator(AppState)


@click.command("notes", context_settings=CONTEXT_SETTINGS)
@click.argument("rev_range", metavar="[REV_RANGE]", required=False, shell_complete=complete_range)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json"]),
    default=None,
    help="Markdown (the default) or JSON (like the global --json).",
)
@pass_state
def notes(state: AppState, rev_range: str | None, fmt: str | None) -> None:
    """Release notes of REV_RANGE (default: since the last version tag), grouped by issue
    type, with the issue summaries from Jira when it is configured.

    The title is the version when the range ends at a release or hotfix branch or a
    version tag, else "Unreleased". On a commit that has a version tag (main after a
    release) the default range is that release's. Markdown goes to stdout alone, so
    `jiraflow release notes > NOTES.md` works."""
    from jiraflow.gitflow import notes as core
    from jiraflow.services.notes import release_notes

    result = release_notes(state.flow(), rev_range, warn=state.renderer.warn)
    if fmt == "json" or (fmt is None and state.json):
        state.renderer.data(core.to_json(result))
    else:
        state.renderer.raw(core.markdown(result), nl=False)
