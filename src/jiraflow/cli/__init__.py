"""The command line: click commands that parse, call the core and render.

Only click and the standard library are imported here; everything else is imported
inside the command that needs it, because shell completion runs this program on
every TAB press.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from jiraflow import __version__
from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.render import Renderer, Terminal, terminal_columns
from jiraflow.errors import INTERNAL, INTERRUPTED


class LazyGroup(click.Group):
    """A group whose subcommands live in modules imported only when one is used.

    `--help` lists a command not imported yet from its one-line summary in `summaries`
    (None: hidden), so that it imports no command module; tests/test_cli.py checks that
    each summary gives the same line as the command's own help."""

    def __init__(
        self,
        *args: Any,
        lazy: dict[str, str] | None = None,
        summaries: dict[str, str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}
        self.summaries = summaries or {}

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # The width click would use, found without importing shutil (which imports bz2,
        # lzma and zlib: 2.5 ms of every --help); subcommands inherit it. Not when a test
        # runner forces a width.
        if parent is None and "terminal_width" not in extra:
            from click import formatting

            if formatting.FORCED_WIDTH is None:
                max_width = self.context_settings.get("max_content_width") or 80
                extra["terminal_width"] = max(min(terminal_columns(), max_width) - 2, 50)
        return super().make_context(info_name, args, parent, **extra)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's list of commands, with a stand-in for each command not imported yet."""
        from gettext import gettext as _

        listed = []
        for name in self.list_commands(ctx):
            if name not in self.commands and name in self.summaries:
                summary = self.summaries[name]
                cmd: click.Command | None = click.Command(
                    name, help=summary, hidden=summary is None
                )
            else:
                cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                listed.append((name, cmd))
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _cmd in listed)
            with formatter.section(_("Commands")):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            import importlib

            module_name, attr = self.lazy[name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            self.add_command(command, name)
        return self.commands.get(name)


# What `jiraflow --help` says of each command (the first sentence of its help), so that it
# need not import them all; None: a hidden command.
SUMMARIES: dict[str, str | None] = {
    "auth": "Log in to Jira or Bitbucket (tokens kept in the OS keyring), see who you are, "
    "log out.",
    "board": "Where each issue is along the [[environments]] chain: merged and deployed per "
    "environment, with its Jira status and pull request.",
    "bugfix": "Bugfix branches: fixes for develop, merged like features.",
    "check": "Check Jira issue keys as Bitbucket's server-side hooks would: in branch names, "
    "commit messages, ranges of commits and pull requests.",
    "completion": "Print the completion script for SHELL.",
    "config": "Show and change the configuration (see docs/configuration.md).",
    "demo": "Walk the whole flow with real jiraflow commands against a sandbox Jira and "
    "Bitbucket: start from an issue, commit, open the pull request, merge it, finish, release.",
    "feature": "Feature branches: new work, merged into develop.",
    "finish": "Finish the current branch (or NAME), whatever its type: as `feature finish`, "
    "`bugfix finish`, `release finish` or `hotfix finish` would.",
    "hooks": "Git hooks: the issue key put in front of commit messages, messages and pushes "
    "checked.",
    "hotfix": "Hotfix branches: from main, merged into main, tagged, and merged back.",
    "init": "Set up Gitflow here: main and develop, prefixes, .jiraflow.toml.",
    "pr": "Bitbucket pull requests (Cloud or Data Center) of Gitflow branches.",
    "promote": "Promote to environment ENV: its branch brought up to the previous "
    "environment's (develop, or the one open release branch, for the first), pushed, and the "
    "Jira issues of the commits it newly holds moved to ENV's status.",
    "release": "Release branches: from develop, merged into main and tagged.",
    "sandbox": "Local simulators of Jira and Bitbucket (Cloud or Data Center) on 127.0.0.1.",
    "start": "Start work on issue KEY: a bugfix for a Bug, a feature otherwise (see "
    "jira.branch_types), named from the issue's summary.",
    "status": "The current branch, its issue in Jira, its pull request, how far it is from "
    "its base, and anything waiting to be sent to Jira.",
    "support": "Support branches: long-lived maintenance lines from a tag on main.",
    "sync": "Send the Jira updates that could not be made when they happened (the outbox).",
    "where": "Which branches (develop, main, the environment branches in promotion order, "
    "open releases and hotfixes) and version tags hold the commits of issue KEY, with its "
    "Jira status and pull request when configured.",
    "worklog": "Log time on Jira issues, and list the time you logged (Cloud and Data Center).",
    "_refresh-issues": None,
}


@click.group(
    cls=LazyGroup,
    context_settings=CONTEXT_SETTINGS,
    summaries=SUMMARIES,
    lazy={
        "init": "jiraflow.cli.init_cmd:init",
        "config": "jiraflow.cli.config_cmd:config",
        "feature": "jiraflow.cli.flow_cmd:feature",
        "finish": "jiraflow.cli.flow_cmd:finish_any",
        "bugfix": "jiraflow.cli.flow_cmd:bugfix",
        "release": "jiraflow.cli.flow_cmd:release",
        "hotfix": "jiraflow.cli.flow_cmd:hotfix",
        "support": "jiraflow.cli.flow_cmd:support",
        "completion": "jiraflow.cli.completion_cmd:completion",
        "start": "jiraflow.cli.jira_cmd:start",
        "status": "jiraflow.cli.jira_cmd:status",
        "sync": "jiraflow.cli.jira_cmd:sync",
        "auth": "jiraflow.cli.auth_cmd:auth",
        "sandbox": "jiraflow.cli.sandbox_cmd:sandbox",
        "pr": "jiraflow.cli.pr_cmd:pr",
        "demo": "jiraflow.cli.demo_cmd:demo",
        "where": "jiraflow.cli.where_cmd:where",
        "promote": "jiraflow.cli.promote_cmd:promote",
        "board": "jiraflow.cli.board_cmd:board",
        "hooks": "jiraflow.cli.hooks_cmd:hooks",
        "check": "jiraflow.cli.check_cmd:check",
        "worklog": "jiraflow.cli.worklog_cmd:worklog",
        "_refresh-issues": "jiraflow.cli.complete:refresh_issues",
    },
)
@click.version_option(__version__, "--version", prog_name="jiraflow")
@click.option("-C", "path", metavar="PATH", default=".", help="Run as if started in PATH.")
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-v", "--verbose", is_flag=True, help="Show each git command as it runs.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--no-color", is_flag=True, help="No colours (also: NO_COLOR=1).")
@click.pass_context
def cli(
    ctx: click.Context,
    path: str,
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    debug: bool,
    no_color: bool,
) -> None:
    """Gitflow for teams on Jira and Bitbucket.

    Works as a drop-in for git-flow AVH with nothing configured.
    Exit codes: 0 ok, 1 internal error, 2 usage, 3 configuration, 4 authentication,
    5 repository state, 6 remote refused or unreachable, 7 partial (queued for sync),
    130 interrupted.
    """
    if path != "." and not os.path.isdir(path):
        raise click.BadParameter(f"'{path}' is not a directory", param_hint="-C")
    color = False if no_color else None
    # the terminal's facts: the process's, or those a test passed in (`cli.main(obj=...)`)
    terminal = ctx.obj if isinstance(ctx.obj, Terminal) else Terminal()
    global _current
    ctx.obj = _current = AppState(
        path=path,
        dry_run=dry_run,
        json=as_json,
        verbose=verbose,
        debug=debug,
        renderer=Renderer(as_json=as_json, color=color, verbose=verbose, terminal=terminal),
    )
    _current.renderer.note(dry_run=dry_run)
    _current.hear_retries()  # every command's rate-limit waits are told (on stderr)


_current: AppState | None = None  # the running command's state, for main() to finish with


def _standard_streams() -> None:
    """A closed standard stream (`jiraflow ... <&-`) becomes /dev/null. Otherwise the first
    file jiraflow opens takes its number (and git, started later, reads or writes that
    file), and sys.stdin is None, which click's prompts and every isatty() check trip on.
    Reading /dev/null is then an ordinary end of input, which each prompt reports."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:  # pragma: no cover - only when a lower one was closed too
                os.dup2(opened, fd)
                os.close(opened)
    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 - for the process


def _local_failure(exc: Exception) -> Any:
    """A RepoStateError (exit 5) for an OSError about a file or directory on this machine
    (a read-only .git, a full disk, no permission, a file where jiraflow keeps a directory)
    that no code nearer to it turned into a message; None for anything else. Only what the
    user's machine can cause: any other OSError (a file that vanished under jiraflow's
    own feet, a bad argument) is a bug, and stays an internal error that says so."""
    import errno

    if not isinstance(exc, OSError):
        return None
    full = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)  # the system names no file
    refused = (errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG)
    if exc.errno not in full and (exc.errno not in refused or exc.filename is None):
        return None
    from jiraflow.store import os_error

    return os_error(exc, doing="use")


GLOBAL_FLAGS = frozenset({"--dry-run", "--json", "-v", "--verbose", "--debug", "--no-color"})


def globals_first(args: list[str]) -> list[str]:
    """The global options typed after the command (`jiraflow feature start --dry-run x`)
    moved in front of it, where click looks for them (after those typed there: a later -C
    still wins). Stops at `--`; leaves alone an option
    the command itself has under the same name (and every option's value), and the
    arguments of a command that passes unknown options through (the hooks' runner)."""
    ctx = click.Context(cli)
    command: click.Command = cli
    moved: list[str] = []
    kept: list[str] = []
    i = at = 0
    while i < len(args):
        arg = args[i]
        i += 1
        passed_on = command.context_settings.get("ignore_unknown_options")
        if arg == "--" or passed_on or command.ignore_unknown_options:
            kept += args[i - 1 :]
            break
        options = [p for p in command.params if isinstance(p, click.Option)]
        if arg in {name for p in options for name in (*p.opts, *p.secondary_opts)}:
            kept.append(arg)
            valued = any(arg in p.opts and not p.is_flag and not p.count for p in options)
            if valued and i < len(args):  # its value, whatever it looks like
                kept.append(args[i])
                i += 1
        elif arg in GLOBAL_FLAGS:
            moved.append(arg)
        elif arg == "-C" and i < len(args):
            moved += [arg, args[i]]
            i += 1
        elif arg.startswith("-C") and command is not cli and not arg.startswith("--"):
            moved.append(arg)  # -CPATH
        else:
            kept.append(arg)
            if isinstance(command, click.Group) and not arg.startswith("-"):
                sub = command.get_command(ctx, arg)
                if sub is None:  # click says so
                    kept += args[i:]
                    break
                if command is cli:
                    at = len(kept) - 1  # where the command starts: the moved options go there
                command = sub
    return kept[:at] + moved + kept[at:]


def usage_error(exc: click.ClickException, prog: str) -> tuple[str, str]:
    """click's error (a wrong command line) as jiraflow's message and hint: what is wrong,
    then click's "did you mean" and the help of the command it was said about."""
    message = exc.format_message().strip()
    guess = ""
    if isinstance(exc, click.NoSuchOption) and exc.possibilities:
        guess = "Did you mean " + " or ".join(f"'{p}'" for p in sorted(exc.possibilities)) + "? "
        message = f"No such option '{exc.option_name}'"
    elif " Did you mean " in message:
        message, _, rest = message.partition(" Did you mean ")
        guess = f"Did you mean {rest} "
    elif isinstance(exc, click.UsageError) and message.startswith("No such command '"):
        ctx = exc.ctx
        group = ctx.command if ctx is not None else None
        if isinstance(group, click.Group) and ctx is not None:
            from difflib import get_close_matches  # here: only a mistyped command needs it

            name = message.split("'")[1]
            visible = [n for n in group.list_commands(ctx) if not n.startswith("_")]
            close = get_close_matches(name, visible, n=2)
            guess = ("Did you mean " + " or ".join(f"'{c}'" for c in close) + "? ") if close else ""
    message = message.rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else prog
    return message, f"{guess}See `{path} --help`."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one or two lines."""
    from jiraflow.errors import JiraflowError

    global _current
    _current = None
    _standard_streams()
    args = globals_first(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args
    color = False if "--no-color" in args else None
    prog = os.path.basename(sys.argv[0]) if argv is None else "jiraflow"
    prog = "git jiraflow" if prog == "git-jiraflow" else "jiraflow"

    # Until the command's own renderer exists (the group's options parsed), one from the
    # arguments: a wrong command or -C PATH fails before that, and still owes its document.
    early = Renderer(as_json="--json" in args, color=color)

    def renderer() -> Renderer:
        return _current.renderer if _current is not None else early

    error: tuple[str, str | None] | None = None  # (message, hint) when it is said here
    code = 0
    try:
        try:
            result = cli.main(args=args, prog_name=prog, standalone_mode=False)
            if result == 0 and {"-h", "--help", "--version"} & set(args):
                return 0  # their text is the whole output, also with --json
            # click returns the code of an Exit it caught (a check that printed its report)
            code = result if isinstance(result, int) else 0
        except JiraflowError as exc:
            if debug:
                import traceback

                traceback.print_exc()
            code, error = exc.exit_code, (exc.message, exc.hint)
        except click.exceptions.NoArgsIsHelpError as exc:  # `jiraflow feature`: its help
            exc.show()
            renderer().result(exc.exit_code, "a command is needed", f"Run `{prog} --help`.")
            return exc.exit_code
        except click.ClickException as exc:  # usage errors: in the shape of every other error
            code, error = exc.exit_code, usage_error(exc, prog)
        except (KeyboardInterrupt, click.exceptions.Abort):
            from jiraflow.services.status import interrupted_hint

            code = INTERRUPTED  # the hint: what this state allows (continue, abort, sync)
            error = ("interrupted", interrupted_hint(_current.path if _current else "."))
        except BrokenPipeError:
            raise
        except Exception as exc:  # the one place an unexpected error is turned into exit 1
            if debug:
                raise
            local = _local_failure(exc)
            if local is not None:  # a file or directory the system refused: exit 5
                code, error = local.exit_code, (local.message, local.hint)
            else:
                code = INTERNAL
                error = (
                    f"internal error: {type(exc).__name__}: {exc}",
                    "Run the command again with --debug for the traceback, and report it.",
                )
        # said outside the handlers, so that a closed stdout here is not a second error
        if error is not None:
            renderer().error(*error)
        renderer().result(code, *(error or (None, None)))
        return code
    except BrokenPipeError:  # the reader went away (`| head`): it has what it wanted
        return code
