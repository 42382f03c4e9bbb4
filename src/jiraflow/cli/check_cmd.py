"""`jiraflow check branch|commit-msg|range|pr`: the rules of `[check]` (jiraflow.checks.rules)
applied to a branch name, a commit message, a range of commits or a pull request, before
Bitbucket's server-side hooks would refuse them. One line per problem; exit 1 on any.
The checking is services/checking.py; this module renders its reports. The git hooks
(cli/hooks_cmd.py) call check_commit_message and check_pushes."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState, user_config_path

if TYPE_CHECKING:
    from jiraflow.checks.hooks import Push
    from jiraflow.checks.rules import Report

pass_state = click.make_pass_decorator(AppState)

FAILED = 1  # a check found problems (documented in docs/exit-codes.md)

offline_option = click.option(
    "--offline", is_flag=True, help="Check the key pattern and projects only; ask Jira nothing."
)


@click.group(context_settings=CONTEXT_SETTINGS)
def check() -> None:
    """Check Jira issue keys as Bitbucket's server-side hooks would: in branch names,
    commit messages, ranges of commits and pull requests. The rules are [check] in the
    config; keys are looked up in Jira when it is configured. Exit 1 when a check fails."""


@check.command("branch", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@offline_option
@pass_state
def branch_cmd(state: AppState, name: str | None, offline: bool) -> None:
    """The branch NAME (default: the current one) follows the branch model and, for the
    types in check.branch_types, names an issue."""
    from jiraflow.services import checking

    _finish(state, checking.branch(state, name, offline=offline))


@check.command("commit-msg", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--add-key",
    is_flag=True,
    help="When the message names no issue, start it with the branch's key (and save it).",
)
@offline_option
@pass_state
def commit_msg_cmd(state: AppState, file: str, add_key: bool, offline: bool) -> None:
    """The commit message in FILE names an issue (for commit-msg hooks: comment lines and
    the diff of `git commit -v` are not part of the message)."""
    code = check_commit_message(state, file, add_key=add_key, offline=offline, quiet=False)
    if code:
        raise click.exceptions.Exit(code)


@check.command("range", context_settings=CONTEXT_SETTINGS)
@click.argument("rev_range", metavar="[REV_RANGE]", required=False)
@offline_option
@pass_state
def range_cmd(state: AppState, rev_range: str | None, offline: bool) -> None:
    """Every commit of REV_RANGE (e.g. origin/develop..HEAD; default: the commits of the
    current branch not on its base, BASE..HEAD) names an issue; with check.commits = any, at
    least one does. Merge commits are skipped unless check.merges."""
    from jiraflow.services import checking

    _finish(state, checking.commit_range(state, rev_range, offline=offline))


@check.command("pr", context_settings=CONTEXT_SETTINGS)
@offline_option
@click.option(
    "--single-commit",
    is_flag=True,
    help="The pull request must have exactly one commit (for teams that squash first).",
)
@pass_state
def pr_cmd(state: AppState, offline: bool, single_commit: bool) -> None:
    """The pull request's branch, title and commits. In Bitbucket Pipelines it reads
    BITBUCKET_PR_ID, BITBUCKET_BRANCH, BITBUCKET_PR_DESTINATION_BRANCH and BITBUCKET_COMMIT;
    elsewhere it checks the current branch and its open pull request."""
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.services import checking

    environ = os.environ
    env = checking.pipeline_environ(environ)
    state.hear_retries()
    flow = FlowContext.open(state.path, user_path=user_config_path(), environ=env)
    report = checking.pull_request(
        state, flow, environ, offline=offline, single_commit=single_commit
    )
    _finish(state, report)


# -- what the hooks call -------------------------------------------------------------------
def check_commit_message(
    state: AppState, path: str, *, add_key: bool, offline: bool, quiet: bool = True
) -> int:
    """Check the message being committed in `path`; with add_key, first start a message
    that names no issue with the branch's key. Prints the problems (and, unless quiet, the
    summary); returns the exit code."""
    from jiraflow.services import checking

    report = checking.commit_message(state, path, add_key=add_key, offline=offline)
    return _finish(state, report, quiet=quiet)


def check_pushes(state: AppState, pushes: list[Push], *, offline: bool) -> int:
    """Check what a push sends: each branch's name and new commits, with one Jira search
    for all their keys. Prints the problems; returns the exit code."""
    from jiraflow.services import checking

    return _finish(state, checking.pushes(state, pushes, offline=offline), quiet=True)


def _finish(state: AppState, report: Report, *, quiet: bool = False) -> int:
    """Print the judged report, and exit 1 on problems. `quiet` (hooks): nothing is
    printed when all is well."""
    _render(state, report, quiet=quiet)
    code = FAILED if report.problems else 0
    if code and not quiet:
        raise click.exceptions.Exit(code)
    return code


_SKIPPED_JIRA = {
    "offline": "--offline",
    "off": "check.jira = false",
    "not configured": "Jira is not configured",
}


def _render(state: AppState, report: Report, *, quiet: bool) -> None:
    out = state.renderer
    jira = report.jira
    if jira in _SKIPPED_JIRA and report.keys:
        report.notes.append(
            f"{_SKIPPED_JIRA[jira]}: the keys were checked against the pattern and projects only"
        )
    if state.json:
        out.data(report.to_json())
    else:
        if report.problems and report.header:
            out.line(report.header)
        for problem in report.problems:
            out.problem(problem.line())
        for warning in report.warnings:  # smart commits Jira would ignore (check.smart_commits)
            out.warn(warning.line())
        if not quiet or report.problems:
            out.line(_summary(report))
        if report.problems and report.footer:
            out.line(report.footer)
    if jira.startswith("unreachable: "):
        out.warn(
            f"Jira could not be asked ({jira.removeprefix('unreachable: ')}): whether the keys "
            "are issues (and meet check.jql) was not checked"
        )
    if not quiet:
        for note in report.notes:
            out.line(f"note: {note}", err=True)


def _summary(report: Report) -> str:
    """`main..HEAD: 3 commits (1 skipped), no problems.` or `wip: 1 problem in branch name.`"""
    from jiraflow.text import plural

    commits = sum(1 for item in report.items if item.kind == "commit")
    what = [
        name
        for kind, name in (("branch", "branch name"), ("title", "title"), ("message", "message"))
        if any(item.kind == kind for item in report.items)
    ]
    if commits or report.check in ("range", "pr", "push"):
        skipped = f" ({len(report.skipped)} skipped)" if report.skipped else ""
        what.append(f"{plural(commits, 'commit')}{skipped}")
    checked = ", ".join(what) or "nothing to check"
    if report.problems:
        n = len(report.problems)
        return f"{report.target}: {plural(n, 'problem')} in {checked}."
    jira = " (the keys are issues in Jira)" if report.jira == "checked" and report.keys else ""
    return f"{report.target}: {checked}, no problems{jira}."
