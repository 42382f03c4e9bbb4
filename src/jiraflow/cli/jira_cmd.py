"""`jiraflow start KEY`, `jiraflow status` and `jiraflow sync`."""

from __future__ import annotations

from typing import Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import complete_base, complete_issues
from jiraflow.services import remote

pass_state = click.make_pass_decorator(AppState)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("key", shell_complete=complete_issues)
@click.option(
    "--base",
    metavar="B",
    help="Start from B instead of develop.",
    shell_complete=complete_base("feature"),
)
@click.option("-F", "--fetch", is_flag=True, help="Fetch the base from the remote first.")
@click.option(
    "--assign",
    is_flag=True,
    help="Assign the issue to you, also taking it over from someone who has it.",
)
@pass_state
def start(state: AppState, key: str, base: str | None, fetch: bool, assign: bool) -> None:
    """Start work on issue KEY: a bugfix for a Bug, a feature otherwise (see
    jira.branch_types), named from the issue's summary."""
    from jiraflow.services.flow import start_issue

    start_issue(state, state.flow(), key, base, fetch=fetch, assign=assign)


@click.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """The current branch, its issue in Jira, its pull request, how far it is from its base,
    and anything waiting to be sent to Jira."""
    from jiraflow.services.status import status_of

    info, what_to_run = status_of(state.flow())
    if state.json:
        state.renderer.data(info)
        return
    _print_status(state, info, what_to_run)


def _print_status(state: AppState, info: dict[str, Any], what_to_run: str = "") -> None:
    out = state.renderer.line
    branch = info["branch"] or "(detached HEAD)"
    line = f"On {branch}"
    if info["base"]:
        line += f" ({info['type']} from {info['base']}"
        if "ahead" in info:
            line += f": {info['ahead']} ahead, {info['behind']} behind"
        line += ")"
    out(line)
    upstream = info.get("upstream")
    if upstream:
        if upstream["ahead"] or upstream["behind"]:
            where = f"{upstream['ahead']} ahead, {upstream['behind']} behind {upstream['branch']}"
        else:
            where = f"up to date with {upstream['branch']}"
        out(f"{branch}: {where} (as of the last fetch)")
    issue = info["issue"]
    if issue:
        out(f"Issue {issue['key']}: {issue.get('summary') or '(summary unknown)'}")
        if "status" in issue:
            out(f"  status: {issue['status']}, assignee: {issue['assignee'] or 'nobody'}")
            out(f"  {issue['url']}")
    pull = info["pull_request"]
    if pull and "error" in pull:
        state.renderer.warn(f"Bitbucket unavailable: {pull['error']}")
    elif pull:
        out(f"Pull request #{pull['id']} [{pull['state']}] into {pull['destination']}")
    builds = info.get("builds")
    if builds:
        if "error" in builds:
            text = f"Builds: unknown ({builds['error']})"
        else:
            text = f"Builds: {builds['summary']}"
            if not pull:  # a pushed tip, not a pull request's head
                text += f" ({builds['of']} at {builds['commit'][:10]})"
        out(("  " if pull and "error" not in pull else "") + text)
    if pull and "error" not in pull:
        out(f"  {pull['url']}")
    if info["jira"].startswith("unavailable"):
        state.renderer.warn(f"Jira {info['jira']}")
    for waiting in info["back_merges"]:
        through = (
            f"back-merge of {waiting['version']} into {waiting['into']} through {waiting['branch']}"
        )
        if waiting["merged"]:
            out(
                f"waiting: {through} is merged (as of the last fetch); `{waiting['run']}` "
                f"completes the {waiting['type']} finish"
            )
        else:
            out(
                f"waiting: {through} (its pull request is not merged as of the last fetch); "
                f"`{waiting['run']}` completes it once merged"
            )
    if info["operation"]:
        from jiraflow.gitflow.journal import resumable

        how = "is stopped" if resumable(info["operation"]) else "was interrupted"
        out(f"A {info['operation']} {how}. {what_to_run}")
    if info["outbox"]:
        out(f"Waiting for `jiraflow sync` ({len(info['outbox'])}):")
        for entry in info["outbox"]:
            out(f"  {entry['action']}" + (f"  ({entry['error']})" if entry["error"] else ""))


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--drop", is_flag=True, help="Forget the queued actions instead of sending them.")
@pass_state
def sync(state: AppState, drop: bool) -> None:
    """Send the Jira updates that could not be made when they happened (the outbox)."""
    from jiraflow.errors import PartialError
    from jiraflow.text import plural

    done = remote.sync(state.flow(), state, drop=drop)
    if not done.pending:
        state.renderer.note(synced=[], queued=[])
        state.renderer.line("Nothing to sync.")
        return
    if done.result is None and not done.dropped:  # a dry run
        state.renderer.plan(remote.describe(done.pending))
        return
    if done.result is None:
        dropped = [a.describe() for a in done.dropped]
        state.renderer.note(dropped=dropped, queued=[])
        state.renderer.summary([f"dropped: {what}" for what in dropped])
        return
    result = done.result
    remote.report(state, result)
    failed, delivered = result.failed, result.done
    state.renderer.note(
        synced=[a.describe() for a in delivered],
        queued=[a.describe() for a, _ in failed],
    )
    if failed:
        action, error = failed[0]
        still = f"{plural(len(failed), 'action')} still queued"
        # nothing delivered: the error's own exit code (6 unreachable, 4 refused token, ...)
        cls = PartialError if delivered else type(error)
        raise cls(
            f"{action.describe()} failed: {error.message} ({still})",
            error.hint or "Run `jiraflow sync` again later.",
        )
