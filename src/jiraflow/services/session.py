"""What a service needs of the command that runs it: the global options, somewhere to
say things, the terminal's facts. The CLI's `AppState` is one (cli/app.py); services name
only these protocols, so that they import nothing of the CLI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext


class Output(Protocol):
    """Where a service says what it does (the CLI's Renderer: plain or --json)."""

    def line(self, text: str = "", *, err: bool = False) -> None: ...
    def warn(self, text: str) -> None: ...
    def summary(self, lines: Iterable[str]) -> None: ...
    def note(self, **fields: Any) -> None: ...
    def plan(self, commands: Iterable[str]) -> None: ...
    def step(self, command: str) -> None: ...
    def progress(self, what: str, done: int, total: int) -> None: ...


class TerminalFacts(Protocol):
    @property
    def stdin_isatty(self) -> bool: ...
    @property
    def stdout_isatty(self) -> bool: ...
    @property
    def interactive(self) -> bool: ...


class Session(Protocol):
    path: str
    dry_run: bool
    json: bool

    @property
    def renderer(self) -> Output: ...
    @property
    def terminal(self) -> TerminalFacts: ...
    def flow(self) -> FlowContext: ...
    def confirm(self, question: str, *, default: bool) -> bool:
        """Ask on the terminal (stderr), Enter giving `default`."""
        ...
