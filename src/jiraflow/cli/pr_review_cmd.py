"""`jiraflow pr checkout|approve|request-changes|comment|decline`: the reviewer's side (the
logic is services/reviews.py; registered on the `pr` group at the end of pr_cmd.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

if TYPE_CHECKING:
    from jiraflow.services.reviews import Review

pass_state = click.make_pass_decorator(AppState)
NUMBER_HELP = "N: the pull request's number (default: the current branch's open one)."


@click.command("checkout", context_settings=CONTEXT_SETTINGS)
@click.argument("number", type=click.IntRange(1))
@pass_state
def checkout(state: AppState, number: int) -> None:
    """Fetch pull request NUMBER's branch and check it out, tracking the remote one (an
    existing local branch is fast-forwarded; one that diverged is refused)."""
    from jiraflow.services import reviews

    done = reviews.checkout(state.flow(), number, dry_run=state.dry_run)
    if state.dry_run:
        state.renderer.plan(
            ["bitbucket: GET pull request #" + str(number)]
            + ["git " + " ".join(args) for args in done.commands]
        )
        return
    if state.json:
        state.renderer.data(
            {
                "pull_request": done.pull.to_json(),
                "branch": done.branch,
                "done": done.lines,
            }
        )
        return
    state.renderer.summary(done.lines)
    state.renderer.line(done.pull.url)


def _show(state: AppState, review: Review) -> None:
    if state.dry_run:
        state.renderer.plan([f"bitbucket: {review.request}"])
        return
    if state.json:
        state.renderer.data(review.to_json())
        return
    state.renderer.summary([review.summary])
    state.renderer.line(review.comment_url or review.url)


@click.command("approve", context_settings=CONTEXT_SETTINGS, epilog=NUMBER_HELP)
@click.argument("number", type=click.IntRange(1), required=False)
@pass_state
def approve(state: AppState, number: int | None) -> None:
    """Approve pull request N (again: nothing changes)."""
    from jiraflow.services import reviews

    _show(state, reviews.verdict(state.flow(), "approve", number, dry_run=state.dry_run))


@click.command("request-changes", context_settings=CONTEXT_SETTINGS, epilog=NUMBER_HELP)
@click.argument("number", type=click.IntRange(1), required=False)
@pass_state
def request_changes(state: AppState, number: int | None) -> None:
    """Request changes on pull request N (Data Center: mark it "needs work")."""
    from jiraflow.services import reviews

    _show(state, reviews.verdict(state.flow(), "request-changes", number, dry_run=state.dry_run))


@click.command("comment", context_settings=CONTEXT_SETTINGS, epilog=NUMBER_HELP)
@click.argument("number", type=click.IntRange(1), required=False)
@click.option("-b", "--body", required=True, metavar="TEXT", help="The comment; - reads stdin.")
@pass_state
def comment(state: AppState, number: int | None, body: str) -> None:
    """Comment on pull request N."""
    import sys

    from jiraflow.services import reviews

    text = body if body != "-" else sys.stdin.read() if sys.stdin else ""
    _show(state, reviews.add_comment(state.flow(), number, text, dry_run=state.dry_run))


@click.command("decline", context_settings=CONTEXT_SETTINGS, epilog=NUMBER_HELP)
@click.argument("number", type=click.IntRange(1), required=False)
@pass_state
def decline(state: AppState, number: int | None) -> None:
    """Decline pull request N (its branch stays)."""
    from jiraflow.services import reviews

    _show(state, reviews.decline(state.flow(), number, dry_run=state.dry_run))


COMMANDS: tuple[click.Command, ...] = (checkout, approve, request_changes, comment, decline)
