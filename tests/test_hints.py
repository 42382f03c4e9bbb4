"""Every hint is a command that works in the state that printed it.

Each test drives jiraflow into a real state (a conflict, a killed or interrupted run, a
Ctrl-C while Jira is being updated, a finish refused because of a work tree, commits beyond
a merged pull request), takes each backticked command out of the `hint:` lines (and out of
`jiraflow status`), and checks it: a jiraflow command must be accepted in that state (run
with --dry-run first, so that a missing option, "nothing to continue" or a usage error shows;
then the ones that resolve the state are run for real); git commands are run for real.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from conftest import Sites
from gitutil import Repo, Result, git
from hintutil import conflicting_feature, hinted, install_stop_hooks, resolve, stopped

Run = Callable[..., Result]


def accepted(repo: Repo, run: Run, command: str) -> None:
    """A hinted jiraflow command parses and applies here: its dry run succeeds (exit 0);
    a missing option, "nothing to continue" or any other refusal fails the test."""
    args = shlex.split(command)
    assert args[0] == "jiraflow", command
    result = run(repo, "--dry-run", *args[1:])
    assert result.code == 0, f"`{command}` in this state: {result.err}"


def check_all(repo: Repo, run: Run, text: str, *, lines: str = "hint:") -> list[str]:
    """Check every jiraflow command hinted in `text`; return all hinted commands."""
    commands = hinted(text, lines=lines)
    for command in commands:
        if command.startswith("jiraflow "):
            accepted(repo, run, command)
    return commands


def local(repo: Repo) -> tuple[object, ...]:
    """The repository as the user has it, remote-tracking refs (a fetch) aside."""
    refs, *rest = repo.snapshot()
    return ({r: c for r, c in refs.items() if not r.startswith("refs/remotes/")}, *rest)


def run_git(repo: Repo, command: str) -> None:
    args = shlex.split(command)
    assert args[0] == "git", command
    git(repo.path, *args[1:])


def jiraflow(repo: Repo, run: Run, command: str) -> Result:
    return run(repo, *shlex.split(command)[1:])


# -- a stopped finish -------------------------------------------------------------------------
def test_conflict_hints_continue_and_abort_and_both_work(repo: Repo, run: Run) -> None:
    conflicting_feature(repo, run)
    result = run(repo, "feature", "finish")
    assert result.code == 5
    commands = check_all(repo, run, result.err)
    assert commands[-2:] == [
        "jiraflow feature finish --continue",
        "jiraflow feature finish --abort",
    ]
    # status and any other changing command name the same way out
    status = run(repo, "status")
    assert check_all(repo, run, status.out, lines="A feature finish") == [
        "jiraflow feature finish --continue",
        "jiraflow feature finish --abort",
    ]
    refused = run(repo, "feature", "start", "other")
    assert refused.code == 5
    assert check_all(repo, run, refused.err)
    # the wrong kind names the right command
    wrong = run(repo, "release", "finish", "--continue")
    assert wrong.code == 2
    assert "jiraflow feature finish --continue" in check_all(repo, run, wrong.err)
    resolve(repo)
    assert jiraflow(repo, run, "jiraflow feature finish --continue").code == 0


def test_conflict_abort_as_hinted(repo: Repo, run: Run) -> None:
    conflicting_feature(repo, run)
    before = repo.snapshot()
    assert run(repo, "feature", "finish").code == 5
    status = run(repo, "status")
    abort = [c for c in check_all(repo, run, status.out, lines="A ") if c.endswith("--abort")]
    assert jiraflow(repo, run, abort[0]).code == 0
    assert repo.snapshot() == before


def test_a_killed_finish_hints_continue_and_abort(repo: Repo, run: Run) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    repo.commit("a.txt", "a\n", "A")
    repo.commit("b.txt", "b\n", "B")
    install_stop_hooks(repo)
    killed = stopped(repo, "feature", "finish", at="post-checkout 1")  # develop checked out
    assert killed.returncode == -9, killed.stderr
    refused = run(repo, "feature", "start", "other")
    assert refused.code == 5
    commands = check_all(repo, run, refused.err)
    assert commands == ["jiraflow feature finish --continue", "jiraflow feature finish --abort"]
    status = run(repo, "status")
    assert check_all(repo, run, status.out, lines="A feature finish") == commands
    assert jiraflow(repo, run, commands[0]).code == 0
    assert not repo.exists("refs/heads/feature/login")


# -- a start killed half-way ------------------------------------------------------------------
def test_a_killed_start_hints_an_abort_that_exists(repo: Repo, run: Run) -> None:
    before = repo.snapshot()
    install_stop_hooks(repo)
    # killed as the branch is about to be created: the ref update never happens
    killed = stopped(repo, "release", "start", "1.1.0", at="prepared 1", how="kill-first")
    assert killed.returncode == -9, killed.stderr
    status = run(repo, "status")
    assert status.code == 0
    commands = check_all(repo, run, status.out, lines="A release start")
    assert commands == ["jiraflow release start --abort"]
    wrong = run(repo, "release", "finish", "--abort")  # status used to lead here
    assert wrong.code == 2
    assert check_all(repo, run, wrong.err) == ["jiraflow release start --abort"]
    cont = run(repo, "release", "finish", "--continue")
    assert check_all(repo, run, cont.err) == ["jiraflow release start --abort"]
    assert jiraflow(repo, run, commands[0]).code == 0
    assert repo.snapshot() == before


# -- Ctrl-C ----------------------------------------------------------------------------------
def test_ctrl_c_in_the_jira_phase_hints_sync(repo: Repo, run: Run, jira) -> None:  # type: ignore[no-untyped-def]
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    # the transition to Done hangs; Ctrl-C once the sandbox has it
    jira.fault("latency", method="POST", path="/transitions", delay=60)

    def ctrl_c_once_asked(proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while [f.times for f in jira._faults] != [0]:  # (taken: the request has arrived)
            assert proc.poll() is None and time.monotonic() < deadline, "no transition sent"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)

    result = stopped(repo, "feature", "finish", while_running=ctrl_c_once_asked)
    jira.clear_faults()
    assert result.returncode == 130, result.stderr
    assert repo.branch() == "develop"  # the git part is done
    commands = check_all(repo, run, result.stderr)
    assert commands == ["jiraflow sync"], result.stderr
    assert jiraflow(repo, run, commands[0]).code == 0
    assert jira.issue("PROJ-1")["status"] == "Done"


def test_ctrl_c_while_a_finish_runs_hints_continue(repo: Repo, run: Run) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    repo.commit("a.txt", "a\n", "A")
    repo.commit("b.txt", "b\n", "B")
    install_stop_hooks(repo)
    result = stopped(repo, "feature", "finish", at="post-checkout 1", how="int")
    assert result.returncode == 130, result.stderr
    commands = check_all(repo, run, result.stderr)
    assert commands == ["jiraflow feature finish --continue", "jiraflow feature finish --abort"]
    assert jiraflow(repo, run, commands[0]).code == 0


def test_ctrl_c_with_nothing_half_done_hints_no_continue(repo: Repo, run: Run) -> None:
    install_stop_hooks(repo)
    result = stopped(repo, "feature", "start", "login", at="prepared 1", how="int")
    assert result.returncode == 130, result.stderr
    assert "--continue" not in result.stderr and hinted(result.stderr) == []


# -- work trees -------------------------------------------------------------------------------
@pytest.mark.parametrize("rebase", [False, True])
def test_a_finish_refused_by_a_work_tree_hints_what_frees_it(
    repo: Repo, run: Run, tmp_path, rebase: bool
) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    repo.commit("a.txt", "a\n", "A")
    other = tmp_path / "other-tree"
    repo.git("worktree", "add", "-q", str(other), "develop")
    before = repo.snapshot()
    result = run(repo, "feature", "finish", *(["--rebase"] if rebase else []))
    assert result.code == 5
    assert "--continue" not in result.err
    assert repo.snapshot() == before  # refused before anything changed
    commands = check_all(repo, run, result.err)
    assert commands and commands[0].startswith("git "), result.err
    run_git(repo, commands[0])
    assert run(repo, "feature", "finish").code == 0


def test_a_first_step_that_fails_does_not_hint_continue(repo: Repo, run: Run) -> None:
    """The finish's checkout of develop fails (an untracked file would be overwritten):
    nothing was changed, so there is nothing to continue."""
    repo.commit("late.txt", "develop's\n", "late.txt on develop")
    repo.git("checkout", "-q", "HEAD~1")
    repo.git("checkout", "-q", "-b", "feature/x")
    (repo.path / "late.txt").write_text("mine, untracked\n")
    result = run(repo, "feature", "finish")
    assert result.code == 5
    assert "--continue" not in result.err and "Nothing was changed" in result.err
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()


# -- Jira and Bitbucket ------------------------------------------------------------------------
def test_a_queued_jira_update_hints_status_and_sync(repo: Repo, run: Run, jira) -> None:  # type: ignore[no-untyped-def]
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    jira.fault("status", status=503, retry_after=0, path="/issue/", times=None)
    result = run(repo, "feature", "finish")
    assert result.code == 7
    commands = check_all(repo, run, result.err)
    assert "jiraflow sync" in commands and "jiraflow status" in commands
    jira.clear_faults()
    assert jiraflow(repo, run, "jiraflow sync").code == 0


def test_commits_beyond_a_merged_pull_request_are_named_and_the_hint_works(
    repo: Repo, run: Run, sites: Sites
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    branch = repo.branch()
    assert run(repo, "pr", "create").code == 0
    first = sites.prs()[0]["id"]
    sites.bitbucket.merge(sites.name, first, strategy="merge_commit", user="bob")
    late = [repo.commit(f"late{i}.txt", "late\n", f"Late commit {i}") for i in range(5)]
    before = local(repo)
    result = run(repo, "feature", "finish")
    assert result.code == 5
    assert local(repo) == before  # refused before anything changed (but the fetch)
    assert f"{late[0][:7]} Late commit 0" in result.err and "and 2 more" in result.err
    commands = check_all(repo, run, result.err)
    assert commands == ["jiraflow pr create"]
    assert jiraflow(repo, run, commands[0]).code == 0
    second = max(pr["id"] for pr in sites.prs())
    assert second != first
    sites.bitbucket.merge(sites.name, second, strategy="merge_commit", user="bob")
    done = run(repo, "feature", "finish")
    assert done.code == 0, done.err
    assert not repo.exists(f"refs/heads/{branch}")
    repo.git("merge-base", "--is-ancestor", late[-1], "develop")


@pytest.mark.parametrize("case", ["open pull request", "bitbucket down", "delete_remote off"])
def test_commits_not_pushed_to_a_remote_branch_that_stays_are_carried(
    repo: Repo, run: Run, sites: Sites, monkeypatch, case: str
) -> None:
    """A local finish merges every local commit; the remote branch stays (a pull request is
    open on it, Bitbucket cannot be asked, or finish.delete_remote is off), and the commits
    it lacks must not make `git branch -d` fail after the merge."""
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    branch = repo.branch()
    assert run(repo, "pr", "create").code == 0
    late = repo.commit("late.txt", "late\n", "A late commit, never pushed")
    if case == "bitbucket down":
        monkeypatch.setenv("JIRAFLOW_BITBUCKET_TOKEN", "wrong")
    if case == "delete_remote off":
        monkeypatch.setenv("JIRAFLOW_FINISH_DELETE_REMOTE", "false")
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert not repo.exists(f"refs/heads/{branch}") and repo.exists(f"refs/remotes/origin/{branch}")
    repo.git("merge-base", "--is-ancestor", late, "develop")
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()
