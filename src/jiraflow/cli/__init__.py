"""The command line: click commands that parse, call the core and render.

Only click and the standard library are imported here; everything else is imported
inside the command that needs it, because shell completion runs this program on
every TAB press.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from jiraflow import __version__
from jiraflow.cli.render import Renderer

if TYPE_CHECKING:
    from jiraflow.flow.context import FlowContext

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


@dataclass(eq=False, repr=False)
class AppState:
    """Global options, shared with every command through ctx.obj."""

    path: str = "."
    dry_run: bool = False
    json: bool = False
    verbose: bool = False
    debug: bool = False
    color: bool | None = None
    renderer: Renderer = field(default_factory=Renderer)

    def flow(self) -> FlowContext:
        from jiraflow.flow.context import FlowContext

        return FlowContext.open(self.path, user_path=user_config_path())


def user_config_path() -> str:
    from jiraflow.config import user_file

    return user_file(click.get_app_dir("jiraflow"))


class LazyGroup(click.Group):
    """A group whose subcommands live in modules imported only when one is used."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            import importlib

            module_name, attr = self.lazy[name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            self.add_command(command, name)
        return self.commands.get(name)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(
    cls=LazyGroup,
    context_settings=CONTEXT_SETTINGS,
    lazy={
        "init": "jiraflow.cli.init_cmd:init",
        "config": "jiraflow.cli.config_cmd:config",
        "feature": "jiraflow.cli.flow_cmd:feature",
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
        "hooks": "jiraflow.cli.hooks_cmd:hooks",
        "check": "jiraflow.cli.check_cmd:check",
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
    ctx.obj = AppState(
        path=path,
        dry_run=dry_run,
        json=as_json,
        verbose=verbose,
        debug=debug,
        color=color,
        renderer=Renderer(as_json=as_json, color=color, verbose=verbose),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one or two lines."""
    from jiraflow.errors import JiraflowError

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    color = False if "--no-color" in args else None
    renderer = Renderer(color=color)
    prog = os.path.basename(sys.argv[0]) if argv is None else "jiraflow"
    prog = "git jiraflow" if prog == "git-jiraflow" else "jiraflow"
    try:
        result = cli.main(args=args, prog_name=prog, standalone_mode=False)
        return result if isinstance(result, int) else 0
    except JiraflowError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        renderer.error(exc.message, exc.hint)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        renderer.error(
            "interrupted", "Nothing is lost: a started finish can be resumed with --continue."
        )
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the one place an unexpected error is turned into exit 1
        if debug:
            raise
        renderer.error(
            f"internal error: {type(exc).__name__}: {exc}",
            "Run the command again with --debug for the traceback, and report it.",
        )
        return EXIT_INTERNAL
