"""Entry points, start-up imports and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete

from conftest import require_tool
from gitutil import Repo
from jiraflow.cli import cli

HEAVY = ("git", "jira", "keyring", "requests")
BIN = Path(sys.executable).parent


def modules_loaded(argv: list[str], env: dict[str, str] | None = None) -> set[str]:
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


def test_completion_imports_no_heavy_library(repo: Repo) -> None:
    env = {
        "_JIRAFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": "jiraflow feature finish ",
        "COMP_CWORD": "3",
    }
    loaded = modules_loaded(["-C", str(repo.path)], env)
    assert not [m for m in HEAVY if m in loaded]


def test_the_import_check_can_fail() -> None:
    code = "import sys, git; print('git' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"


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
