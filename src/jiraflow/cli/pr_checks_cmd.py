"""`jiraflow pr checks`: the builds reported on a pull request's head commit (Cloud commit
statuses, Data Center build status), once or watched until they end. Registered on the `pr`
group at the end of pr_cmd.py. Exit 0: all successful (or none reported); 1: one failed or was
stopped; 8: still running."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BuildStatus
    from jiraflow.services.builds import Checks

pass_state = click.make_pass_decorator(AppState)
F = TypeVar("F", bound=Callable[..., Any])


def interval_option(flag: str) -> Callable[[F], F]:
    """--interval S: the seconds between polls of the builds (with `flag`)."""
    return click.option(
        "--interval",
        type=click.FloatRange(1, 3600),
        default=10,
        show_default=True,
        metavar="S",
        help=f"Seconds between polls with {flag}.",
    )


MARKS = {"SUCCESSFUL": "✓", "FAILED": "✗", "INPROGRESS": "*", "STOPPED": "-", "UNKNOWN": "?"}


@click.command("checks", context_settings=CONTEXT_SETTINGS)
@click.argument("number", type=int, required=False)
@click.option("--watch", is_flag=True, help="Poll until no build runs (redrawn on a terminal).")
@interval_option("--watch")
@click.option("--fail-fast", is_flag=True, help="With --watch: stop at the first failed build.")
@click.option(
    "--required",
    is_flag=True,
    help="Only the builds the merge checks require (Data Center; on Cloud every build counts).",
)
@pass_state
def checks(
    state: AppState,
    number: int | None,
    watch: bool,
    interval: float,
    fail_fast: bool,
    required: bool,
) -> None:
    """The builds of pull request NUMBER (default: the current branch's), each with its
    state, duration and URL. Exit 0 when all succeeded (or none were reported), 1 when one
    failed or was stopped, 8 while one is still running."""
    from jiraflow.errors import UsageError
    from jiraflow.services import builds as service

    if fail_fast and not watch:
        raise UsageError(
            "--fail-fast applies to --watch",
            f"Run `jiraflow pr checks{_number(number)} --watch --fail-fast`.",
        )
    reader = service.Reader(state.flow(), number, required=required)
    result = reader.first()
    if watch:
        show = WatchDisplay(state, result.number)
        last = service.watch(
            lambda: reader.again().builds,
            interval=interval,
            fail_fast=fail_fast,
            on_update=show.update,
            sleep=service.pause,
            first=result.builds,
        )
        result.builds = last
        show.end(result)
    else:
        _print(state, result)
    error = service.outcome_error(result, f"jiraflow pr checks {result.number}")
    if error is not None:
        raise error


def _number(number: int | None) -> str:
    return f" {number}" if number is not None else ""


def to_json(result: Checks) -> dict[str, object]:
    return {
        "pull_request": result.number,
        "commit": result.commit or None,
        "overall": result.overall,
        "required": result.required,
        "builds": [b.to_json() for b in result.builds],
    }


def rows(builds: list[BuildStatus]) -> list[str]:
    """One line a build: mark, name, state, duration, URL (names and states aligned)."""
    from jiraflow.services.builds import WORDS, duration_text

    width = max((len(b.name) for b in builds), default=0)
    return [
        f"{MARKS.get(b.state, '?')} {b.name:<{width}}  {WORDS.get(b.state, 'unknown'):<10}  "
        f"{duration_text(b):>7}  {b.url or b.description}".rstrip()
        for b in builds
    ]


def _heading(result: Checks) -> str:
    from jiraflow.services.builds import summary

    builds = f" builds on {result.commit[:12]}" if result.commit else ""
    return f"Pull request #{result.number}{builds}: {summary(result.builds)}"


def _print(state: AppState, result: Checks) -> None:
    if state.json:
        state.renderer.data(to_json(result))
        return
    state.renderer.line(_heading(result))
    for line in rows(result.builds):
        state.renderer.line(line)


class WatchDisplay:
    """What --watch shows (also `pr merge --wait`: `update` is watch()'s on_update, `end` the
    last builds): on a terminal the table, redrawn in place after each poll; else
    (a log, a pipe) one line for each build that appeared or changed state; with --json,
    nothing until the end."""

    def __init__(self, state: AppState, number: int) -> None:
        self.state = state
        self.number = number
        self.drawn = 0  # lines of the table on the terminal
        self.seen: dict[str, str] = {}  # key -> state last printed
        self.redraw = state.terminal.stdout_isatty and not state.json

    def update(self, builds: list[BuildStatus]) -> None:
        from jiraflow.services.builds import summary

        if self.state.json:
            return
        if self.redraw:
            width = max(self.state.terminal.columns - 1, 20)
            lines = [f"Pull request #{self.number}: {summary(builds)}", *rows(builds)]
            up = f"\x1b[{self.drawn}F\x1b[J" if self.drawn else ""  # back to the top, clear
            # color=True: click would strip the cursor movements as it strips colour
            click.echo(up + "\n".join(line[:width] for line in lines), color=True)
            self.drawn = len(lines)
            return
        changed = [b for b in builds if self.seen.get(b.key) != b.state]
        for b, line in zip(builds, rows(builds), strict=True):
            if b in changed:
                self.state.renderer.line(line)
        self.seen.update((b.key, b.state) for b in builds)

    def end(self, result: Checks) -> None:
        if self.state.json:
            self.state.renderer.data(to_json(result))
        elif not self.redraw:
            self.state.renderer.line(_heading(result))
