"""The terminal's facts come from one place on the app state (cli.render.Terminal), which a
test can inject instead of faking sys.stdin's isatty."""

from __future__ import annotations

import io

import pytest

from gitutil import Repo
from jiraflow.cli import cli
from jiraflow.cli.render import Renderer, Terminal


def test_given_facts_win_over_the_process() -> None:
    assert Terminal(stdin=True, stdout=True).interactive
    assert not Terminal(stdin=True, stdout=False).interactive
    assert Terminal(columns=123).columns == 123
    assert Terminal(color=True).color(err=True) and not Terminal(color=False).color()
    # under pytest stdin is no terminal: what the process says when nothing is given
    assert not Terminal().stdin_isatty


def test_progress_rewrites_one_line_only_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    for stderr in (True, False):
        renderer = Renderer(terminal=Terminal(stderr=stderr))
        for done in range(1, 21):
            renderer.progress("work", done, 20)
        err = capsys.readouterr().err
        assert ("\r" in err) is stderr, err


def start_release(repo: Repo, terminal: Terminal | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("7.0.0\n"))
    args = ["-C", str(repo.path), "release", "start"]
    cli.main(args=args, obj=terminal, standalone_mode=False)


def test_an_injected_terminal_is_asked_the_version(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start_release(repo, Terminal(stdin=True, stdout=True), monkeypatch)
    assert repo.branch() == "release/7.0.0"


def test_without_a_terminal_the_proposal_is_taken(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start_release(repo, None, monkeypatch)
    assert repo.branch().startswith("release/") and repo.branch() != "release/7.0.0"
