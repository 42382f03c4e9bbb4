"""Details of the finish (gitflow/finish.py) and its engine (gitflow/journal.py) that mutation
testing showed no test checked (issue 18): a finish of a branch a pull request landed, the
remote branch kept for an open pull request, a damaged journal, the steps shown with
--verbose, a failed step's git message, and the release notes written as UTF-8 whatever
the locale.

Real repositories with a bare origin; the CLI in-process where a command reaches the rule,
else the engine's functions on the real repository."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import pytest

from gitutil import Repo, Result
from jiraflow.git import GitRepo
from jiraflow.gitflow import journal
from jiraflow.gitflow.context import FlowContext
from jiraflow.gitflow.finish import FinishOptions, Landed, plan_finish
from jiraflow.gitflow.plan import MERGE, Plan

Run = Callable[..., Result]


def context(repo: Repo) -> FlowContext:
    return FlowContext.open(str(repo.path), user_path=None)


def landed(repo: Repo, branch: str, target: str) -> str:
    """`branch` (one commit, from develop) merged into `target` on origin, as a pull request
    does, not locally; `branch` checked out. Returns the merge commit."""
    repo.git("checkout", "-q", "-b", branch, "develop")
    repo.commit("work.txt")
    repo.git("checkout", "-q", target)
    repo.git("merge", "-q", "--no-ff", "--no-edit", branch)
    merge = repo.git("rev-parse", "HEAD")
    repo.git("push", "-q", "origin", target)
    repo.git("reset", "-q", "--hard", "HEAD^")
    repo.git("checkout", "-q", branch)
    return merge


# -- a finish after a pull request landed the branch ----------------------------------------
def test_a_landed_feature_is_not_merged_again(repo: Repo) -> None:
    merge = landed(repo, "feature/x", "develop")
    how = Landed(commit=merge, how="pull request #3")
    plan = plan_finish(context(repo), "feature", "x", FinishOptions(), landed=how)
    assert not [s for s in plan.steps if s.kind == MERGE and s.source == "feature/x"]
    assert plan.summary[0].startswith("pull request #3 merged 'feature/x' into 'develop'")
    journal.execute(GitRepo.discover(str(repo.path)), plan)
    assert repo.git("rev-parse", "develop") == merge


def test_a_landed_release_tags_the_pull_requests_merge(repo: Repo) -> None:
    merge = landed(repo, "release/1.0", "main")
    how = Landed(commit=merge, how="pull request #4")
    plan = plan_finish(context(repo), "release", "1.0", FinishOptions(), landed=how)
    (tag,) = [s.argv for s in plan.steps if s.argv[0] == "tag"]
    assert tag[-2:] == ("1.0", merge)
    assert plan.summary[0].startswith("pull request #4 merged 'release/1.0' into 'main'")
    assert not [s for s in plan.steps if s.kind == MERGE and s.source == "release/1.0"]


# -- the remote branch kept for an open pull request ----------------------------------------
@pytest.mark.parametrize("unpushed", [True, False])
def test_a_remote_branch_kept_is_named_and_unpushed_work_deleted_with_force(
    repo: Repo, unpushed: bool
) -> None:
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.commit("x.txt")
    repo.git("push", "-q", "origin", "feature/x")
    if unpushed:
        repo.commit("x.txt")
    opts = FinishOptions(no_ff=True)
    plan = plan_finish(context(repo), "feature", "x", opts, keep_remote="pull request #5 is open")
    assert "kept 'feature/x' on 'origin': pull request #5 is open" in plan.summary
    assert not [s for s in plan.steps if "--delete" in s.argv]
    (delete,) = [s.argv for s in plan.steps if s.argv[0] == "branch"]
    assert delete == ("branch", "--quiet", "-D" if unpushed else "-d", "feature/x")
    journal.execute(GitRepo.discover(str(repo.path)), plan)
    assert not repo.exists("refs/heads/feature/x")
    assert repo.exists("refs/remotes/origin/feature/x")


# -- the journal ------------------------------------------------------------------------------
def test_a_journal_that_is_not_json_says_how_to_look_at_it(repo: Repo, run: Run) -> None:
    state = repo.path / ".git" / "jiraflow" / "state.json"
    state.parent.mkdir(exist_ok=True)
    state.write_text("{not json")
    result = run(repo, "feature", "start", "x")
    assert result.code == 5, result.err
    assert result.err.startswith(f"error: {state} is damaged ("), result.err
    assert f"hint: `cat {state}` shows the interrupted operation" in result.err
    assert f"`rm {state}`" in result.err


def test_a_journal_of_the_wrong_shape_is_damaged(repo: Repo, run: Run) -> None:
    state = repo.path / ".git" / "jiraflow" / "state.json"
    state.parent.mkdir(exist_ok=True)
    state.write_text(
        '{"operation": 7, "branch": "feature/x", "head": {}, "refs": {}, "steps": [], "next": 0}'
    )
    result = run(repo, "feature", "start", "x")
    assert result.code == 5, result.err
    assert result.err.startswith(f"error: {state} is damaged ("), result.err


def test_verbose_shows_each_git_step_of_a_finish(repo: Repo, run: Run) -> None:
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt")
    result = run(repo, "--verbose", "feature", "finish")
    assert result.code == 0, result.err
    assert "+ git checkout --quiet develop" in result.err
    assert "+ git merge --quiet --ff --no-edit feature/x" in result.err


def test_a_failed_step_says_what_git_said(repo: Repo) -> None:
    plan = Plan("feature finish", "feature/x")
    plan.add("checkout", "--quiet", "no-such-branch")
    with pytest.raises(journal.StepFailed) as caught:
        journal.execute(GitRepo.discover(str(repo.path)), plan)
    assert "no-such-branch" in caught.value.message, caught.value.message
    assert "exit status" not in caught.value.message


def test_release_notes_are_written_as_utf8_in_a_c_locale(repo: Repo) -> None:
    """A C locale without Python's UTF-8 mode makes open() ASCII: the write step names
    its encoding."""
    code = (
        "import sys\n"
        "from jiraflow.git import GitRepo\n"
        "from jiraflow.gitflow import journal\n"
        "from jiraflow.gitflow.plan import WRITE, Plan\n"
        "plan = Plan('release finish', 'develop')\n"
        "plan.add('NOTES.md', kind=WRITE, message='Caf\\u00e9 \\u2713\\n')\n"
        "journal.execute(GitRepo.discover(sys.argv[1]), plan)\n"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}
    env["PYTHONCOERCECLOCALE"] = "0"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(repo.path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (repo.path / "NOTES.md").read_bytes() == "Café ✓\n".encode()
