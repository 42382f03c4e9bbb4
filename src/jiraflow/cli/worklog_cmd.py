"""`jiraflow worklog add DURATION [KEY]` and `jiraflow worklog list [KEY]`: time logged on Jira
issues (jiraflow.services.worklogs)."""

from __future__ import annotations

from typing import Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import complete_issues

pass_state = click.make_pass_decorator(AppState)


@click.group(context_settings=CONTEXT_SETTINGS)
def worklog() -> None:
    """Log time on Jira issues, and list the time you logged (Cloud and Data Center)."""


@worklog.command("add", context_settings=CONTEXT_SETTINGS)
@click.argument(
    "words", nargs=-1, required=True, metavar="DURATION [KEY]", shell_complete=complete_issues
)
@click.option("-m", "--message", "comment", default="", metavar="COMMENT", help="A comment.")
@click.option(
    "--started",
    metavar="WHEN",
    help='When the work started: "HH:MM" (today), "yesterday HH:MM", or an ISO date and time '
    '("2026-12-07 09:30"); local time. Default: now.',
)
@pass_state
def add(state: AppState, words: tuple[str, ...], comment: str, started: str | None) -> None:
    """Log DURATION on issue KEY (default: the current branch's issue). DURATION is Jira's:
    numbers with w, d, h or m ("1h 30m", "2d", "45m"; a day is the site's working day, 8
    hours unless it says otherwise). Sent at once: when Jira refuses it or cannot be
    reached, the command fails (exit 6) and nothing is queued."""
    import datetime

    from jiraflow.services import worklogs

    logged = worklogs.add(state, state.flow(), words, comment=comment, started=started)
    if logged is None:  # a dry run: the request was printed
        return
    when = datetime.datetime.fromisoformat(logged["started"]).astimezone()
    state.renderer.summary(
        [f"logged {logged['time_spent']} on {logged['key']} (started {when:%Y-%m-%d %H:%M})"]
    )
    state.renderer.note(worklog=logged)


@worklog.command("list", context_settings=CONTEXT_SETTINGS)
@click.argument("key", required=False, metavar="[KEY]", shell_complete=complete_issues)
@pass_state
def list_(state: AppState, key: str | None) -> None:
    """Your work logs on issue KEY (default: the current branch's issue), newest first, and
    their total."""
    from jiraflow.services import worklogs

    found = worklogs.mine(state, state.flow(), key)
    if state.json:
        state.renderer.data(found)
        return
    _print(state, found)


def _print(state: AppState, found: dict[str, Any]) -> None:
    import datetime

    out = state.renderer.line
    logs = found["worklogs"]
    if not logs:
        out(f"You have logged no time on {found['key']}.")
        return
    out(f"Your work logs on {found['key']}:")
    width = max(len(log["time_spent"]) for log in logs)
    for log in logs:
        when = datetime.datetime.fromisoformat(log["started"]).astimezone()
        comment = (log["comment"].splitlines() or [""])[0]
        line = f"  {when:%Y-%m-%d %H:%M}  {log['time_spent']:<{width}}  {comment}"
        out(line.rstrip())
    out(f"Total: {found['total']}")
