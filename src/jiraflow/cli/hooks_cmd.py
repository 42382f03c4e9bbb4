"""`jiraflow hooks install|uninstall`: jiraflow's git hooks, chained with the ones a repository
has; and the hidden `jiraflow hooks run HOOK [ARGS]...` that the hook scripts (and the
pre-commit framework) call. The work is in jiraflow.checks.hooks; this module parses and renders."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

if TYPE_CHECKING:
    from jiraflow.git import GitRepo

pass_state = click.make_pass_decorator(AppState)


@click.group(context_settings=CONTEXT_SETTINGS)
def hooks() -> None:
    """Git hooks: the issue key put in front of commit messages, messages and pushes checked.

    The hooks go where git looks for them (core.hooksPath is honoured). A hook that is there
    already is kept and runs first. Skip them once with `git commit --no-verify`.
    """


@hooks.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def install(state: AppState) -> None:
    """Install the commit-msg, prepare-commit-msg and pre-push hooks.

    prepare-commit-msg puts the branch's issue key in front of a message that names none;
    commit-msg checks the message (`jiraflow check commit-msg`); pre-push checks the commits
    and branches being pushed. A hook that is not jiraflow's is kept as
    HOOK.jiraflow-previous and runs first. Run it again after moving or reinstalling
    jiraflow: the hooks call jiraflow by the path of its Python interpreter.
    """
    from jiraflow.checks.hooks import hooks_dir, install, plan_install
    from jiraflow.errors import UsageError
    from jiraflow.git import GitRepo

    python = sys.executable
    if not python:
        raise UsageError(
            "cannot tell which Python runs jiraflow, so the hooks could not call it",
            "Run `python -P -m jiraflow hooks install` with the Python jiraflow is installed in.",
        )
    repo = GitRepo.discover(state.path)
    directory = hooks_dir(repo)
    steps = plan_install(directory)
    if state.dry_run:
        mkdir = [] if os.path.isdir(directory) else [f"mkdir -p {_shown(repo, directory)}"]
        lines = [line for step in steps for line in step.describe(python)]
        state.renderer.plan(mkdir + [_relative(repo, line) for line in lines])
        return
    install(directory, steps, python)
    if state.json:
        state.renderer.data(
            [
                {
                    "hook": s.hook,
                    "path": s.path,
                    "chained": s.chained,
                    "previous": s.previous if s.kept else None,
                }
                for s in steps
            ]
        )
        return
    for step in steps:
        text = f"{'rewrote' if step.rewrite else 'wrote'} {_shown(repo, step.path)}"
        previous = os.path.basename(step.previous)
        if step.chained:
            text += f"; it runs the previous {step.hook} hook first (kept as {previous})"
        elif step.kept:
            text += f"; the previous hook is kept as {previous} but not run (not executable)"
        state.renderer.summary([text])


@hooks.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def uninstall(state: AppState) -> None:
    """Remove jiraflow's hooks and put back the hooks they replaced.

    Only files jiraflow wrote are removed; another hook under the same name is left alone.
    """
    from jiraflow.checks.hooks import hooks_dir, plan_uninstall, uninstall
    from jiraflow.git import GitRepo

    repo = GitRepo.discover(state.path)
    directory = hooks_dir(repo)
    steps = plan_uninstall(directory)
    if not any(s.remove or s.restore for s in steps):
        state.renderer.line(f"No jiraflow hooks in {_shown(repo, directory)}: nothing to remove.")
        return
    if state.dry_run:
        state.renderer.plan([_relative(repo, line) for s in steps for line in s.describe()])
        return
    uninstall(directory, steps)
    for step in steps:
        if step.foreign:
            kept = f" (and {os.path.basename(step.previous)}, kept by jiraflow, stays too)"
            extra = kept if os.path.lexists(step.previous) else ""
            state.renderer.warn(
                f"{_shown(repo, step.path)} is not jiraflow's hook: left alone{extra}"
            )
        elif step.remove or step.restore:
            text = f"removed {_shown(repo, step.path)}" if step.remove else ""
            if step.restore:
                put_back = f"put the previous {step.hook} hook back"
                text = f"{text}; {put_back}" if text else put_back
            state.renderer.summary([text])


# -- the hidden runner the hook scripts call ---------------------------------------------------
@hooks.command(
    "run",
    hidden=True,
    context_settings={**CONTEXT_SETTINGS, "ignore_unknown_options": True},
)
@click.argument("hook")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_state
def run_hook(state: AppState, hook: str, args: tuple[str, ...]) -> int:
    """Internal: what the installed hooks and the pre-commit framework run. HOOK is
    prepare-commit-msg FILE [SOURCE [SHA]], commit-msg FILE or pre-push REMOTE URL."""
    from jiraflow.errors import UsageError

    _warn_if_outdated(state, hook)
    if hook == "prepare-commit-msg":
        return _prepare_commit_msg(state, args)
    if hook == "commit-msg":
        return _commit_msg(state, args)
    if hook == "pre-push":
        return _pre_push(state, args)
    raise UsageError(
        f"there is no jiraflow hook '{hook}'",
        "The hooks are commit-msg, prepare-commit-msg and pre-push.",
    )


def _warn_if_outdated(state: AppState, hook: str) -> None:
    """Hooks an older jiraflow wrote (marker v1) run `python -m jiraflow` in the work tree, where
    Python looks for modules first: a `typing.py` of the repository's runs in them. By now it
    has, and the hook cannot undo that; it can say how to stop it. A hook started with -P
    (today's) is fine, and the pre-commit framework starts a console script, which does not
    put the work tree on sys.path: only a hook run without -P reads the hook file."""
    if sys.flags.safe_path or os.environ.get("PRE_COMMIT") == "1":
        return
    from jiraflow.services.checking import outdated_hook

    path = outdated_hook(state.path, hook)
    if path is not None:
        state.renderer.warn(
            f"jiraflow {hook} hook: {path} was written by an older jiraflow and lets Python "
            "files in the repository run; run 'jiraflow hooks install' to rewrite it"
        )


def _prepare_commit_msg(state: AppState, args: tuple[str, ...]) -> int:
    """Never stops the commit: whatever goes wrong is one warning line."""
    from jiraflow.checks.hooks import prepare_message
    from jiraflow.errors import JiraflowError

    try:
        if not 1 <= len(args) <= 3:
            raise JiraflowError("expects FILE [SOURCE [SHA]]")
        source = args[1] if len(args) > 1 else os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE", "")
        prepare_message(state.flow(), args[0], source)
    except JiraflowError as exc:
        state.renderer.warn(f"jiraflow prepare-commit-msg hook: {exc.message}")
    except Exception as exc:  # the commit goes on whatever happens here
        state.renderer.warn(f"jiraflow prepare-commit-msg hook: {type(exc).__name__}: {exc}")
    return 0


def _commit_msg(state: AppState, args: tuple[str, ...]) -> int:
    from jiraflow.cli.check_cmd import check_commit_message
    from jiraflow.errors import UsageError

    if len(args) != 1:
        raise UsageError("the commit-msg hook expects one argument: FILE")
    return check_commit_message(state, args[0], add_key=True, offline=True)


def _pre_push(state: AppState, args: tuple[str, ...]) -> int:
    from jiraflow.cli.check_cmd import check_pushes
    from jiraflow.errors import UsageError
    from jiraflow.services.checking import pushes_of_hook

    def git_input() -> tuple[str, list[str]]:
        """The remote and git's lines on stdin, when git started the hook."""
        if len(args) != 2:
            raise UsageError("the pre-push hook expects two arguments: REMOTE URL")
        lines = [] if state.terminal.stdin_isatty else sys.stdin.read().splitlines()
        return args[0], lines

    pushes = pushes_of_hook(state.path, os.environ, git_input)
    if not pushes:
        return 0
    return check_pushes(state, pushes, offline=False)


def _shown(repo: GitRepo, path: str) -> str:
    """A path as people read it: relative to the work tree when inside it."""
    relative = os.path.relpath(path, repo.root)
    return path if relative.startswith("..") else relative


def _relative(repo: GitRepo, line: str) -> str:
    """A plan line with the work tree's paths shortened."""
    return line.replace(repo.root + os.sep, "")
