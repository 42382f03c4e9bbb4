from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitutil import Repo, Result, git, jf

IN_CI = bool(os.environ.get("CI"))


def require_tool(name: str) -> None:
    """Skip (on a laptop) or fail (in CI) when a system tool the test needs is missing."""
    if shutil.which(name) is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed, and CI must run this test (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """git and jiraflow see nothing of the developer's machine: no global config, a fixed
    identity and clock (so runs are reproducible), no JIRAFLOW_* variables, no colour."""
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(("JIRAFLOW_", "GIT_")):
            monkeypatch.delenv(key)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
        "GIT_TERMINAL_PROMPT": "0",
        "NO_COLOR": "1",
        "COLUMNS": "80",
        "LC_ALL": "C",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    return home


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Repo]:
    """A repository with one commit on main; with `remote=True` a bare origin holds it too;
    with `init=True` it is set up for Gitflow (develop exists) and develop is pushed."""
    counter = iter(range(1000))

    def make(*, remote: bool = True, init: bool = True, name: str | None = None) -> Repo:
        n = name or f"repo{next(counter)}"
        path = tmp_path / n
        path.mkdir()
        git(path, "init", "--quiet", "-b", "main")
        repo = Repo(path)
        repo.commit("README", "hello\n", "Initial commit")
        if remote:
            bare = tmp_path / f"{n}-origin.git"
            git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
            repo.git("remote", "add", "origin", str(bare))
            repo.git("push", "--quiet", "-u", "origin", "main")
        if init:
            result = jf(repo, "init", "--defaults")
            assert result.code == 0
            if remote:
                repo.git("push", "--quiet", "-u", "origin", "develop")
        return repo

    return make


@pytest.fixture
def repo(make_repo: Callable[..., Repo]) -> Repo:
    return make_repo()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run_(repo: Repo | Path, *args: str) -> Result:
        return jf(repo, *args, capsys=capsys)

    return run_
