"""All terminal output goes through one Renderer, which honours --json and NO_COLOR."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

import click

PROGRESS_FROM = 20  # items of work below which progress is not worth a line


class Terminal:
    """What jiraflow knows of the terminal it runs in, in one place (as httpie's
    `Environment`): whether stdin, stdout and stderr are terminals, its width, whether
    output may be coloured. Each fact is read from the process when asked (so a test that
    replaces sys.stdin is seen), unless it was given: tests inject a terminal with the facts
    they need (`cli.main(obj=Terminal(stdin=True, stdout=True))`)."""

    def __init__(
        self,
        *,
        stdin: bool | None = None,
        stdout: bool | None = None,
        stderr: bool | None = None,
        columns: int | None = None,
        color: bool | None = None,
    ) -> None:
        self._stdin = stdin
        self._stdout = stdout
        self._stderr = stderr
        self._columns = columns
        self._color = color

    @property
    def stdin_isatty(self) -> bool:
        return _isatty(sys.stdin) if self._stdin is None else self._stdin

    @property
    def stdout_isatty(self) -> bool:
        return _isatty(sys.stdout) if self._stdout is None else self._stdout

    @property
    def stderr_isatty(self) -> bool:
        return _isatty(sys.stderr) if self._stderr is None else self._stderr

    @property
    def interactive(self) -> bool:
        """Someone to ask: stdin and stdout are both a terminal."""
        return self.stdin_isatty and self.stdout_isatty

    @property
    def columns(self) -> int:
        return terminal_columns() if self._columns is None else self._columns

    def color(self, *, err: bool = False) -> bool:
        """Colour on stdout (or stderr): on a terminal, unless NO_COLOR is set to anything
        but the empty string."""
        if self._color is not None:
            return self._color
        if os.environ.get("NO_COLOR"):
            return False
        return self.stderr_isatty if err else self.stdout_isatty


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Renderer:
    """With --json, stdout carries exactly one JSON document: what a reporting command
    returns (data), or else the result of a changing command (what was done, the branch it
    left checked out, warnings; or the error), printed by `result()` at the end. Everything
    for people then goes to stderr. Colour only on a terminal, never with NO_COLOR."""

    def __init__(
        self,
        *,
        as_json: bool = False,
        color: bool | None = None,
        verbose: bool = False,
        terminal: Terminal | None = None,
    ):
        self.as_json = as_json
        self.terminal = terminal if terminal is not None else Terminal()
        self.verbose = verbose
        self.forced_color = color  # False with --no-color; None: decided per stream
        self.printed = False  # a JSON document is already on stdout
        self.done: list[str] = []
        self.warnings: list[str] = []
        self.fields: dict[str, Any] = {}
        self._tenths: dict[str, int] = {}  # progress: the last tenth shown of each work
        self._rewriting = False  # a progress line is open on the terminal (no newline yet)

    def _style(self, text: str, **style: Any) -> str:
        # styled whenever colour is not off; click.echo strips it for a stream without colour
        return text if self.forced_color is False else click.style(text, **style)

    def line(self, text: str = "", *, err: bool = False) -> None:
        err = err or self.as_json
        if self._rewriting and err:  # end the progress line: this one must not follow it
            click.echo(err=True)
            self._rewriting = False
        color = self.terminal.color(err=err) if self.forced_color is None else self.forced_color
        click.echo(text, err=err, color=color)

    def data(self, obj: Any) -> None:
        self.printed = True
        import json  # here: 2 ms that only --json output needs

        click.echo(json.dumps(obj, indent=2, sort_keys=False))

    def raw(self, text: str, *, nl: bool = True) -> None:
        """Output that is itself the command's document (a script, Markdown notes)."""
        self.printed = True
        click.echo(text, nl=nl, color=False)

    def note(self, **fields: Any) -> None:
        """Fields for the --json result of a changing command (e.g. branch=...)."""
        self.fields.update(fields)

    def result(self, exit_code: int, error: str | None = None, hint: str | None = None) -> None:
        """With --json and no document printed yet: the command's result on stdout."""
        if not self.as_json or self.printed:
            return
        doc: dict[str, Any] = {"ok": exit_code == 0, "exit_code": exit_code}
        if error is not None:
            doc["error"] = error
            doc["hint"] = hint
        doc.update(done=self.done, warnings=self.warnings)
        doc.update(self.fields)
        self.data(doc)

    def summary(self, lines: Iterable[str]) -> None:
        """What was done, for people: on stderr with --json, so stdout stays one document."""
        for text in lines:
            self.done.append(text)
            self.line(self._style("✓ ", fg="green") + text, err=self.as_json)

    def plan(self, commands: Iterable[str]) -> None:
        commands = list(commands)
        if self.as_json:  # the result document carries the plan
            self.note(dry_run=True, plan=[line for c in commands for line in c.splitlines()])
            return
        self.line(self._style("Would run:", bold=True))
        for command in commands:
            for part in command.splitlines():
                self.line("  " + part)

    def step(self, command: str) -> None:
        if self.verbose:
            self.line(self._style("+ " + command, dim=True), err=True)

    def progress(self, what: str, done: int, total: int) -> None:
        """Progress of long work on stderr: one line rewritten in a terminal; elsewhere
        (CI logs) a line per tenth. Short work shows none."""
        from jiraflow import http  # said with a rate limit's wait, also when not shown here

        http.progressed(done, total)
        if total < PROGRESS_FROM or self.as_json:
            return
        if self.terminal.stderr_isatty:  # \x1b[K: the rest of a longer line before is cleared
            click.echo(f"\r{what}: {done}/{total}\x1b[K", err=True, nl=done == total)
            self._rewriting = done != total
        else:  # a line as each tenth is passed (work done in batches may skip some)
            tenth = done * 10 // total
            if done == total or tenth > self._tenths.get(what, 0):
                self._tenths[what] = 0 if done == total else tenth  # the next run starts anew
                self.line(f"{what}: {done}/{total}", err=True)

    def problem(self, text: str) -> None:
        """A problem a check found (stdout: it is the check's result)."""
        self.line(self._style("✗ ", fg="red") + text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.line(self._style("warning: ", fg="yellow") + text, err=True)

    def error(self, message: str, hint: str | None = None) -> None:
        """On stderr, also with --json (where `result()` then repeats it on stdout)."""
        self.line(self._style("error: ", fg="red", bold=True) + message, err=True)
        if hint:
            self.line(self._style("hint: ", fg="cyan") + hint, err=True)
