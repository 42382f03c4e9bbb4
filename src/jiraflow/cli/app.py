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

    def flow(self) -> FlowContext:
        from jiraflow.gitflow.context import FlowContext

        return FlowContext.open(self.path, user_path=user_config_path())


def user_config_path() -> str:
    from jiraflow.config import user_file

    return user_file(click.get_app_dir("jiraflow"))
