"""What a new user reads (issue 17): a dirty tree names its files, a retry says so on stderr,
a push that a hook refused inside `pr create` shows the hook's words, counts read as English.
Real repositories, the sandbox Jira and Bitbucket over real HTTP, the CLI in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow.outbox.actions import Release
from jiraflow.sandbox.jira import JiraSandbox
from jiraflow.text import plural

# -- a dirty tree names its files -----------------------------------------------------------------


def test_a_dirty_tree_names_the_first_five_files_and_how_many_more(repo: Repo, run) -> None:
    names = [f"f{i}.txt" for i in range(7)]
    for name in names:
        repo.commit(name, "one\n")
    for name in names:
        (repo.path / name).write_text("two\n")
    result = run(repo, "release", "start", "1.1.0")
    assert result.code == 5
    assert result.err.splitlines()[0] == (
        "error: the working tree has uncommitted changes: "
        "f0.txt, f1.txt, f2.txt, f3.txt, f4.txt (and 2 more)"
    )
    assert result.err.splitlines()[1].startswith("hint: ")


def test_a_staged_rename_is_named_once_by_its_new_name_and_untracked_files_not_at_all(
    repo: Repo, run
) -> None:
    repo.git("mv", "README", "READ ME.md")  # a space: git quotes it unless -z
    (repo.path / "untracked.txt").write_text("new\n")
    result = run(repo, "release", "start", "1.1.0")
    assert result.code == 5
    assert "error: the working tree has uncommitted changes: READ ME.md\n" in result.err


def test_a_clean_start_asks_git_for_its_status_once(
    repo: Repo, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming the files costs no git process: the one `git status` that finds the tree clean
    also lists what is dirty."""
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    result = run(repo, "release", "start", "1.1.0")  # a start that needs a clean tree
    assert result.code == 0, result.err
    calls = [line for line in trace.read_text().splitlines() if "built-in: git status" in line]
    assert len(calls) == 1, calls


# -- a retry says so, on stderr only -------------------------------------------------------------


def test_a_busy_jira_is_noted_on_stderr_and_json_stays_one_document(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    jira.fault("status", status=429, retry_after=1, path="/issue/PROJ-1", method="GET")
    result = run(repo, "--json", "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    assert "Jira asks jiraflow to slow down; waiting 1 s\n" in result.err
    doc = json.loads(result.out)  # stdout: the result alone
    assert doc["ok"] is True and "busy" not in result.out


def test_a_busy_jira_is_noted_once_per_retry(repo: Repo, run, jira: JiraSandbox) -> None:
    jira.fault("status", status=503, retry_after=0, path="/issue/PROJ-1", method="GET", times=2)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if "busy" in line]
    assert notes == [
        "Jira is busy; retrying in 0 s (1/3)",
        "Jira is busy; retrying in 0 s (2/3)",
    ]
    assert "busy" not in result.out


def started(repo: Repo, run) -> str:
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    repo.commit("login.html", "<form></form>\n", "PROJ-1 Add the login form")
    return repo.branch()


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_a_busy_bitbucket_is_noted_on_stderr(repo: Repo, run, sites: Sites) -> None:
    started(repo, run)
    sites.bitbucket.fault("status", status=429, retry_after=1, method="POST", times=1)
    result = run(repo, "--json", "pr", "create")
    assert result.code == 0, result.err
    assert "Bitbucket asks jiraflow to slow down; waiting 1 s\n" in result.err
    assert json.loads(result.out)["created"] is True
    assert "busy" not in result.out


# -- a push refused by a hook inside `pr create` ---------------------------------------------------


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_a_push_a_hook_refused_in_pr_create_shows_the_hooks_words(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'lint: app.py:3: unused import os' >&2\nexit 1\n")
    os.chmod(hook, 0o755)
    result = run(repo, "pr", "create")
    assert result.code == 6
    lines = result.err.splitlines()
    assert lines[0] == "error: git push to 'origin' failed: its pre-push hook refused it:"
    assert lines[1] == "lint: app.py:3: unused import os"
    assert lines[2] == "hint: Fix what it says, then run `jiraflow pr create` again."
    assert sites.prs() == []
    assert not repo.exists(f"refs/remotes/origin/{branch}")


# -- counts read as English -----------------------------------------------------------------------


def test_plural() -> None:
    assert [plural(n, "issue") for n in (0, 1, 2)] == ["0 issues", "1 issue", "2 issues"]
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(("count", "said"), [(1, "1 issue has"), (3, "3 issues have")])
def test_a_release_says_how_many_issues_in_english(count: int, said: str) -> None:
    action = {"key": "PROJ", "version": "1.5.0", "released": False, "target": ""}
    done = Release({**action, "result": {"issues": count}}).describe_done()
    assert done == f"PROJ 1.5.0: {said} fixVersion 1.5.0"


def test_one_loose_commit_is_one_commit(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text('[check]\ncommits = "any"\n')
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.commit("a.txt", "a\n", "Add a")
    result = run(repo, "check", "range", "HEAD~1..HEAD")
    assert result.code == 1
    assert result.out.startswith("✗ 1 commit: none of them names a valid Jira issue.")
