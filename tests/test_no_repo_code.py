"""No Python file of the user's repository runs when jiraflow starts Python: modules named like
the standard library's (and like jiraflow) committed in the work tree, then real `git commit`
and `git push` with jiraflow's hooks installed, `pr create` (its push runs the pre-push hook),
the demo's commands, TAB's background refresher and the pre-commit framework's entries."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from completionutil import ALICE_OPEN, refreshed, tab, wait_for
from conftest import Sites
from gitutil import Repo, Result
from jiraflow.checks.hooks import HOOKS, MARKER
from jiraflow.sandbox.jira import JiraSandbox

Run = Callable[..., Result]
FEATURE = "feature/PROJ-12-fix-login"
MANIFEST = Path(__file__).parent.parent / ".pre-commit-hooks.yaml"
# what `python -m jiraflow` would import from the current directory, were it on sys.path
PLANTED = ("typing.py", "json.py", "csv.py", "jiraflow/__init__.py", "jiraflow/__main__.py")


def plant(repo: Repo, marker: Path, key: str = "PROJ-12") -> None:
    """Modules in the work tree that leave a line in `marker` (outside the repository) and
    fail when imported; committed, as a repository would hold them (no hook sees that)."""
    for name in PLANTED:
        path = repo.path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            "import os as _os, sys as _sys\n"
            f"with open({str(marker)!r}, 'a') as _fh:\n"
            f"    _fh.write({name!r} + ' ' + ' '.join(_sys.argv) + '\\n')\n"
            f"raise RuntimeError('the repository\\'s {name} ran')\n"
        )
    repo.git("add", *PLANTED)
    repo.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", f"{key} Add modules")


def ran(marker: Path) -> str:
    return marker.read_text() if marker.exists() else ""


def git_proc(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """git as a user runs it, hooks and all."""
    return subprocess.run(
        ["git", *args], cwd=repo.path, capture_output=True, text=True, check=False
    )


@pytest.fixture(params=["as it is", "with an empty entry", "with a relative entry"])
def pythonpath(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """PYTHONPATH as the tests run with it, or with an entry that means the current
    directory: an empty one (`export PYTHONPATH=$PYTHONPATH:/opt/lib` with none set before)
    or a relative one."""
    entries = [e for e in os.environ.get("PYTHONPATH", "").split(os.pathsep) if e]
    entries = entries or ["/nonexistent"]  # so that ":" below separates two entries
    first = {"with an empty entry": "", "with a relative entry": "."}.get(request.param)
    if first is not None:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([first, *entries]))


@pytest.fixture
def planted(repo: Repo, run: Run, tmp_path: Path) -> tuple[Repo, Path]:
    """On a feature branch with jiraflow's hooks installed and the modules committed."""
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    assert run(repo, "hooks", "install").code == 0
    marker = tmp_path / "repository-code-ran"
    plant(repo, marker)
    return repo, marker


def test_commit_and_push_run_jiraflows_hooks_not_the_repositorys_modules(
    planted: tuple[Repo, Path], pythonpath: None
) -> None:
    repo, marker = planted
    proc = git_proc(repo, "commit", "--allow-empty", "-m", "Fix login")
    assert proc.returncode == 0, proc.stderr
    assert repo.git("log", "-1", "--format=%s") == "PROJ-12 Fix login"  # the hooks did run
    proc = git_proc(repo, "commit", "--allow-empty", "-m", "No key")  # commit-msg adds it
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    proc = git_proc(repo, "push", "-q", "origin", FEATURE)
    assert proc.returncode == 0, proc.stderr
    assert repo.git("ls-remote", "origin", f"refs/heads/{FEATURE}")
    # a push the pre-push hook refuses is refused by jiraflow, not by a crash
    repo.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "--allow-empty", "-m", "Oops")
    proc = git_proc(repo, "push", "origin", FEATURE)
    assert proc.returncode != 0
    assert "Oops" in proc.stdout + proc.stderr and "RuntimeError" not in proc.stderr
    assert ran(marker) == ""
    for hook in HOOKS:
        assert " -P -m jiraflow hooks run " in (repo.path / ".git" / "hooks" / hook).read_text()


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_pr_create_pushes_through_the_pre_push_hook(
    repo: Repo, sites: Sites, run: Run, tmp_path: Path
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    assert run(repo, "hooks", "install").code == 0
    marker = tmp_path / "repository-code-ran"
    plant(repo, marker, "PROJ-1")
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    [pull] = sites.prs()
    assert pull["title"].startswith("PROJ-1: ")
    assert ran(marker) == ""


def test_an_outdated_hook_says_to_reinstall_and_install_rewrites_it(
    repo: Repo, run: Run, tmp_path: Path
) -> None:
    """Hooks written by an older jiraflow (`# jiraflow-hook v1`, no -P) let the repository's
    modules run before jiraflow could stop them; what they can do is say how to fix that."""
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    assert run(repo, "hooks", "install").code == 0
    hooks = repo.path / ".git" / "hooks"
    for hook in HOOKS:
        text = (hooks / hook).read_text()
        old = text.replace(MARKER, "# jiraflow-hook v1").replace(" -P -m jiraflow", " -m jiraflow")
        (hooks / hook).write_text(old)
    proc = git_proc(repo, "commit", "--allow-empty", "-m", "Fix login")
    assert proc.returncode == 0, proc.stderr  # it warns, and does its work
    assert repo.git("log", "-1", "--format=%s") == "PROJ-12 Fix login"
    for hook in ("prepare-commit-msg", "commit-msg"):
        assert (
            f"warning: jiraflow {hook} hook: {hooks / hook} was written by an older jiraflow "
            "and lets Python files in the repository run; run 'jiraflow hooks install' to "
            "rewrite it"
        ) in proc.stderr.splitlines()
    result = run(repo, "hooks", "install")
    assert result.code == 0
    assert result.out.count("rewrote .git/hooks/") == len(HOOKS)
    marker = tmp_path / "repository-code-ran"
    plant(repo, marker)
    proc = git_proc(repo, "commit", "--allow-empty", "-m", "Fix logout")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert ran(marker) == ""


def test_the_demos_commands_run_no_module_of_their_work_tree(
    repo: Repo, tmp_path: Path, pythonpath: None
) -> None:
    from jiraflow.demo import Demo

    marker = tmp_path / "repository-code-ran"
    plant(repo, marker)
    shown: list[str] = []
    demo = Demo(str(tmp_path), str(repo.path), dict(os.environ), None, None, shown.append)
    demo.jiraflow("check", "branch", FEATURE)
    assert shown[0] == f"$ jiraflow check branch {FEATURE}"
    assert ran(marker) == ""


@pytest.mark.parametrize("jira", ["cloud"], indirect=True)
def test_tabs_background_refresher_runs_no_module_of_the_work_tree(
    repo: Repo, jira: JiraSandbox, tmp_path: Path, pythonpath: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "repository-code-ran"
    plant(repo, marker)
    monkeypatch.chdir(repo.path)  # TAB in the work tree: the refresher starts there
    assert tab(repo, "feature", "start", "") == []  # starts the refresher in the work tree
    wait_for(refreshed)
    assert tab(repo, "feature", "start", "") == ALICE_OPEN
    assert ran(marker) == ""


def test_the_pre_commit_frameworks_entries_run_no_module_of_the_work_tree(
    planted: tuple[Repo, Path], tmp_path: Path
) -> None:
    """pre-commit runs an entry's command from the hook's virtual environment: for
    `language: python`, the console script, which puts its own directory on sys.path, not
    the work tree. Each entry run that way, in the work tree, as pre-commit would."""
    from pre_commit.clientlib import load_manifest

    repo, marker = planted
    message = tmp_path / "COMMIT_EDITMSG"
    args = {
        "jiraflow-commit-msg": [str(message)],
        "jiraflow-prepare-commit-msg": [str(message), "message"],
    }
    env = {
        **os.environ,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        "PRE_COMMIT": "1",
        "PRE_COMMIT_REMOTE_NAME": "origin",
        "PRE_COMMIT_REMOTE_BRANCH": f"refs/heads/{FEATURE}",
        "PRE_COMMIT_LOCAL_BRANCH": f"refs/heads/{FEATURE}",
    }
    for hook in load_manifest(str(MANIFEST)):
        command = shlex.split(hook["entry"])
        assert command[0] == "jiraflow"  # a console script, never `python -m`
        message.write_text("Fix login\n")
        proc = subprocess.run(
            [*command, *args.get(hook["id"], [])],
            cwd=repo.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, (hook["id"], proc.stdout + proc.stderr)
        if hook["id"] in args:
            assert message.read_text() == "PROJ-12 Fix login\n"
    assert ran(marker) == ""
