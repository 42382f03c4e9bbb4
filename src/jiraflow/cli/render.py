"""All terminal output goes through one Renderer, which honours --json and NO_COLOR."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any

import click

PROGRESS_FROM = 20  # items of work below which progress is not worth a line


class Renderer:
    def __init__(self, *, as_json: bool = False, color: bool | None = None, verbose: bool = False):
        self.as_json = as_json
        self.verbose = verbose
        if color is None:
            color = "NO_COLOR" not in os.environ and sys.stdout.isatty()
        self.color = color

    def _style(self, text: str, **style: Any) -> str:
        return click.style(text, **style) if self.color else text

    def line(self, text: str = "", *, err: bool = False) -> None:
        click.echo(text, err=err, color=self.color)

    def data(self, obj: Any) -> None:
        click.echo(json.dumps(obj, indent=2, sort_keys=False))

    def summary(self, lines: Iterable[str]) -> None:
        """What was done, for people: on stderr with --json, so stdout stays one document."""
        for text in lines:
            self.line(self._style("✓ ", fg="green") + text, err=self.as_json)

    def plan(self, commands: Iterable[str]) -> None:
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
        if total < PROGRESS_FROM or self.as_json:
            return
        if sys.stderr.isatty():
            end = "\n" if done == total else ""
            click.echo(f"\r{what}: {done}/{total}", err=True, nl=False)
            click.echo(end, err=True, nl=False)
        elif done == total or done % max(total // 10, 1) == 0:
            self.line(f"{what}: {done}/{total}", err=True)

    def problem(self, text: str) -> None:
        """A problem a check found (stdout: it is the check's result)."""
        self.line(self._style("✗ ", fg="red") + text)

    def warn(self, text: str) -> None:
        self.line(self._style("warning: ", fg="yellow") + text, err=True)

    def error(self, message: str, hint: str | None = None) -> None:
        self.line(self._style("error: ", fg="red", bold=True) + message, err=True)
        if hint:
            self.line(self._style("hint: ", fg="cyan") + hint, err=True)
