"""Entry points, start-up imports and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete

from conftest import require_tool
from gitutil import Repo
from jiraflow.cli import cli

HEAVY = ("git", "jira", "keyring", "requests")
BIN = Path(sys.executable).parent


def modules_loaded(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> set[str]:
    code = (
        "import sys, json\n"
        "from jiraflow.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=False,
    )
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["feature", "--help"],
        ["release", "finish", "--help"],
        ["feature", "start", "--help"],
        ["auth", "login", "--help"],
        ["status", "--help"],
        ["sync", "--help"],
        ["start", "--help"],
        ["sandbox", "serve", "--help"],
        ["pr", "create", "--help"],
        ["pr", "status", "--help"],
        ["demo", "--help"],
    ],
)
def test_help_imports_no_heavy_library(argv: list[str]) -> None:
    loaded = modules_loaded(argv)
    assert "click" in loaded
    assert not [m for m in HEAVY if m in loaded]


@pytest.mark.parametrize("words", ["feature finish ", "feature start "])
def test_completion_imports_no_heavy_library(repo: Repo, words: str) -> None:
    """A TAB, also one offering my Jira issues from a warm cache (which must not load the
    Jira client to say so)."""
    from jiraflow.jira.issue_cache import IssueCache, SiteKey, default_path

    site = "https://jira.example.com"
    IssueCache(default_path()).store([(SiteKey(site, "ada", []), [("PROJ-1", "One")], "")])
    env = {
        "_JIRAFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": f"jiraflow {words}",
        "COMP_CWORD": "3",
        "JIRAFLOW_JIRA_URL": site,
        "JIRAFLOW_JIRA_USER": "ada",
    }
    loaded = modules_loaded([], env, cwd=repo.path)
    assert not [m for m in HEAVY if m in loaded]
    assert "jiraflow.jira.tracker" not in loaded and "jiraflow.jira.client" not in loaded
    if words == "feature start ":
        assert "jiraflow.jira.issue_cache" in loaded  # the issues were looked up


def test_a_tab_of_branch_names_imports_the_same_modules_as_ever(repo: Repo) -> None:
    """The jiraflow modules a TAB of branch names loads, exactly: a new one on this path
    costs every TAB (start-up budget). Moving code below the CLI must not add to it."""
    env = {
        "_JIRAFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": "jiraflow feature finish ",
        "COMP_CWORD": "3",
    }
    loaded = modules_loaded([], env, cwd=repo.path)
    assert {m for m in loaded if m.startswith("jiraflow")} == {
        "jiraflow",
        "jiraflow.cli",
        "jiraflow.cli.app",
        "jiraflow.cli.complete",
        "jiraflow.cli.flow_cmd",
        "jiraflow.cli.render",
        "jiraflow.config",
        "jiraflow.errors",
        "jiraflow.git",
        "jiraflow.gitflow",
        "jiraflow.gitflow.context",
        "jiraflow.gitflow.model",
        "jiraflow.store",
    }


def test_the_import_check_can_fail() -> None:
    code = "import sys, requests; print('requests' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"


def test_help_imports_no_command_module_and_nothing_it_does_not_need() -> None:
    """`jiraflow --help` lists the commands from their summaries (start-up budget)."""
    loaded = modules_loaded(["--help"])
    assert {m for m in loaded if m.startswith("jiraflow")} == {
        "jiraflow",
        "jiraflow.cli",
        "jiraflow.cli.app",
        "jiraflow.cli.render",
        "jiraflow.errors",
    }
    assert not {"dataclasses", "shutil"} & loaded  # (json: modules_loaded uses it)


def git_that_counts(folder: Path) -> tuple[dict[str, str], Path]:
    """PATH with a `git` first on it that logs each run, then runs the real git."""
    import shutil

    log = folder / "git-runs.log"
    fake = folder / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {shutil.which("git")} "$@"\n')
    fake.chmod(0o755)
    log.write_text("")
    return {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}, log


def test_issue_key_completion_without_jira_starts_no_process(repo: Repo, tmp_path: Path) -> None:
    """Finding the repository and reading its config runs no git (start-up budget)."""
    path, log = git_that_counts(tmp_path)
    env = {"_JIRAFLOW_COMPLETE": "bash_complete", "COMP_CWORD": "3", **path}
    loaded = modules_loaded([], {**env, "COMP_WORDS": "jiraflow feature start "}, cwd=repo.path)
    assert "jiraflow.git" in loaded and "subprocess" not in loaded
    assert log.read_text() == ""
    modules_loaded([], {**env, "COMP_WORDS": "jiraflow feature finish "}, cwd=repo.path)
    assert [line.split()[2] for line in log.read_text().splitlines()] == [
        "config",  # -C ROOT config -z --list: the prefixes
        "for-each-ref",  # the branches of the type
    ]


def test_branch_completion_spawns_git_without_subprocess_and_parses_toml_once(
    repo: Repo,
) -> None:
    """A TAB of branch names runs git (posix_spawn: the subprocess module is a tenth of a
    TAB), and parses .jiraflow.toml only when its bytes are new (start-up budget)."""
    repo.git("branch", "feature/ready")
    config = repo.path / ".jiraflow.toml"
    config.write_text(config.read_text() + "# edited\n")
    env = {
        "_JIRAFLOW_COMPLETE": "bash_complete",
        "COMP_CWORD": "3",
        "COMP_WORDS": "jiraflow feature finish ",
    }
    first = modules_loaded([], env, cwd=repo.path)
    assert "jiraflow.git" in first and "subprocess" not in first
    assert "tomllib" in first  # new bytes: parsed
    again = modules_loaded([], env, cwd=repo.path)
    assert not {"subprocess", "tomllib"} & again
    proc = subprocess.run(
        [sys.executable, "-m", "jiraflow"],
        cwd=repo.path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.split() == ["plain,ready"]


def test_every_command_summary_reads_as_the_command_own_help() -> None:
    from jiraflow.cli import SUMMARIES

    for name in cli.lazy:
        cmd = cli.get_command(click.Context(cli), name)
        assert cmd is not None
        assert name in SUMMARIES, f"add the first sentence of `{name}`'s help to SUMMARIES"
        if cmd.hidden:
            assert SUMMARIES[name] is None, name
            continue
        stand_in = click.Command(name, help=SUMMARIES[name])
        for limit in range(10, 300, 7):
            assert stand_in.get_short_help_str(limit) == cmd.get_short_help_str(limit), name


@pytest.mark.parametrize("columns", ["", "60", "200"])
@pytest.mark.parametrize("argv", [["--help"], ["feature", "--help"], ["nosuch"]])
def test_help_is_what_click_alone_prints(argv: list[str], columns: str) -> None:
    """The summaries and the terminal width found without shutil change nothing."""
    plain = (
        "import click\n"
        "from jiraflow.cli import LazyGroup, cli\n"
        "cli.summaries = {}\n"
        "LazyGroup.make_context = click.Group.make_context\n"
    )
    outputs = []
    for setup in ("", plain):
        code = f"import sys\n{setup}from jiraflow.cli import main\nmain(sys.argv[1:])\n"
        outputs.append(
            subprocess.run(
                [sys.executable, "-c", code, *argv],
                capture_output=True,
                text=True,
                env={**os.environ, "COLUMNS": columns},
                check=False,
            )
        )
    ours, clicks = outputs
    assert (ours.stdout, ours.stderr) == (clicks.stdout, clicks.stderr)
    assert "Usage: " in ours.stdout + ours.stderr or "error: no such command" in ours.stderr


def test_terminal_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from jiraflow.cli.render import terminal_columns

    monkeypatch.setenv("COLUMNS", "123")
    assert terminal_columns() == 123
    monkeypatch.setenv("COLUMNS", "wide")
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((97, 30)))
    assert terminal_columns() == 97

    def no_terminal(fd: int) -> os.terminal_size:
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", no_terminal)
    assert terminal_columns() == 80


@pytest.mark.parametrize(
    "command",
    [[str(BIN / "jiraflow")], ["git", "jiraflow"], [sys.executable, "-m", "jiraflow"]],
    ids=["jiraflow", "git-jiraflow", "python-m"],
)
def test_entry_points(repo: Repo, command: list[str]) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [*command, "feature", "start", "via-entry"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert repo.branch() == "feature/via-entry"
    version = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, env=env, check=False
    )
    assert "jiraflow, version" in version.stdout


def test_errors_exit_with_their_code_from_the_real_executable(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "jiraflow"), "feature", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 5
    assert "Traceback" not in proc.stderr


def completions(args: list[str], incomplete: str) -> list[str]:
    comp = ShellComplete(cli, {}, "jiraflow", "_JIRAFLOW_COMPLETE")
    return [c.value for c in comp.get_completions(args, incomplete)]


def test_completes_commands_and_flags() -> None:
    assert {"feature", "release", "init", "config"} <= set(completions([], ""))
    assert set(completions(["feature"], "")) >= {"start", "finish", "list"}
    assert "--squash" in completions(["feature", "finish"], "--s")


def test_completes_branch_names_of_the_type(repo: Repo, run) -> None:
    run(repo, "feature", "start", "login-form")
    run(repo, "feature", "start", "logout")
    run(repo, "bugfix", "start", "crash")
    names = completions(["-C", str(repo.path), "feature", "finish"], "log")
    assert names == ["login-form", "logout"]
    assert completions(["-C", str(repo.path), "bugfix", "finish"], "") == ["crash"]


def test_completes_config_keys() -> None:
    assert "finish.push" in completions(["config", "get"], "finish.")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(run, shell: str, tmp_path: Path) -> None:
    result = run(tmp_path, "completion", shell)
    assert result.code == 0 and "_JIRAFLOW_COMPLETE" in result.out


def test_bash_completion_in_a_real_shell(repo: Repo, run) -> None:
    require_tool("bash")
    run(repo, "feature", "start", "tabbed")
    script = run(repo, "completion", "bash").out
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    program = script + (
        "\nCOMP_WORDS=(jiraflow feature finish ta); COMP_CWORD=3\n"
        '_jiraflow_completion jiraflow\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "-c", program], cwd=repo.path, capture_output=True, text=True, env=env, check=False
    )
    assert proc.stdout.split() == ["tabbed"], proc.stderr
