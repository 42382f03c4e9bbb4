"""What every command shares: the global options' state (with the terminal's facts and
the renderer) and the click settings. Imported by each command module, never the cli
package itself (whose root group imports the commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jiraflow.cli.render import Renderer, Terminal

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class AppState:
    """Global options, shared with every command through ctx.obj. (A plain class: the
    dataclasses module and a dataclass cost about 3 ms of every start, TAB included.)

    `terminal` is the one place commands learn whether they may ask (stdin and stdout are
    a terminal), the width and the colour; the renderer shares it."""

    def __init__(
        self,
        *,
        path: str = ".",
        dry_run: bool = False,
        json: bool = False,
        verbose: bool = False,
        debug: bool = False,
        renderer: Renderer | None = None,
        terminal: Terminal | None = None,
    ) -> None:
        self.path = path
        self.dry_run = dry_run
        self.json = json
        self.verbose = verbose
        self.debug = debug
        if renderer is None:
            renderer = Renderer(terminal=terminal)
        self.renderer = renderer
        self.terminal = terminal if terminal is not None else renderer.terminal
        self._hearing = False

    def flow(self) -> FlowContext:
        """The repository the command works in (and, from here on, retries are heard)."""
        from jiraflow.gitflow.context import FlowContext

        self.hear_retries()
        return FlowContext.open(self.path, user_path=user_config_path())

    def hear_retries(self) -> None:
        """Retries of the command's Jira and Bitbucket requests are shown as a line on
        stderr (never on stdout: --json stays one document), for every command (the root
        group sets it: `auth login` waits with a word too); none for TAB or the tool's own
        --help (nothing imported for them). For this command only: the listener goes when
        its context closes (ended or failed), so that a later command in the same process
        (tests) is never told of, nor prints, these."""
        if self._hearing:
            return
        from functools import partial

        from jiraflow import http

        self._hearing = True
        http.hear_retries(partial(self.renderer.line, err=True))
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.find_root().call_on_close(http.command_ended)

    def confirm(self, question: str, *, default: bool) -> bool:
        """Ask on the terminal (the question on stderr: --json keeps stdout one document)."""
        return bool(click.confirm(question, default=default, err=True))


def user_config_path() -> str:
    from jiraflow.config import app_dir, user_file

    return user_file(app_dir())
