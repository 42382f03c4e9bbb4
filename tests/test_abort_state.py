"""What `--abort` of a stopped finish puts back, and when a finish's Jira actions reach the
outbox (issue 17: behaviours of gitflow/journal.py that mutation testing showed no test checked).

Real repositories and the CLI in-process; the sandbox Jira over real HTTP for the outbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitutil import Repo, Result, outbox
from hintutil import conflicting_feature, resolve
from jiraflow.gitflow import journal
from jiraflow.sandbox.jira import JiraSandbox

Run = Callable[..., Result]


def refuse_pushes(repo: Repo) -> None:
    """A pre-push hook that refuses every push: the finish stops at its push step, after
    the merges moved the branch it has checked out."""
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)


def state_file(repo: Repo) -> Path:
    return repo.path / ".git" / "jiraflow" / "state.json"


# -- the checked-out branch moved before the stop -----------------------------------------------
@pytest.mark.parametrize("kind", ["feature", "release"])
def test_abort_resets_the_checked_out_branch_that_moved(repo: Repo, run: Run, kind: str) -> None:
    """The finish stopped (its push refused) on develop after merging into it: --abort puts
    develop back at its old tip, and checks the branch the finish began on out again."""
    if kind == "feature":
        assert run(repo, "feature", "start", "login").code == 0
        repo.commit("login.txt")
        repo.commit("login.txt")
        branch = "feature/login"
    else:
        assert run(repo, "release", "start", "1.0").code == 0
        repo.commit("release.txt")
        branch = "release/1.0"
    refuse_pushes(repo)
    develop, main = repo.git("rev-parse", "develop"), repo.git("rev-parse", "main")
    before = repo.snapshot()

    result = run(repo, kind, "finish", "--push")
    assert result.code == 6 and "pushes are closed today" in result.err, result.err
    assert repo.branch() == "develop" and repo.git("rev-parse", "develop") != develop
    assert state_file(repo).exists()

    result = run(repo, kind, "finish", "--abort")
    assert result.code == 0, result.err
    assert repo.git("rev-parse", "develop") == develop
    assert repo.git("rev-parse", "main") == main
    assert repo.branch() == branch
    assert repo.snapshot() == before
    assert not state_file(repo).exists()


# -- nothing of git's own is left in progress ---------------------------------------------------
def test_abort_of_a_rebase_stopped_on_a_conflict_leaves_no_rebase(repo: Repo, run: Run) -> None:
    conflicting_feature(repo, run)
    before = repo.snapshot()
    assert before[4] == ()
    result = run(repo, "feature", "finish", "--rebase")
    assert result.code == 5 and "rebase" in result.err, result.err
    assert set(repo.in_progress()) & {"rebase-merge", "rebase-apply"}

    result = run(repo, "feature", "finish", "--abort")
    assert result.code == 0, result.err
    assert repo.in_progress() == ()
    assert repo.snapshot() == before
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""


def test_abort_of_a_resolved_merge_leaves_no_merge_head(repo: Repo, run: Run) -> None:
    """Finished from develop itself, the conflict resolved as develop had it and staged:
    the tree is clean and nothing is unmerged, yet git's merge is still in progress."""
    conflicting_feature(repo, run)
    repo.git("checkout", "-q", "develop")
    before = repo.snapshot()
    result = run(repo, "feature", "finish", "clash")
    assert result.code == 5, result.err
    resolve(repo, "develop\n")
    assert repo.in_progress() == ("MERGE_HEAD",)
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""

    result = run(repo, "feature", "finish", "--abort")
    assert result.code == 0, result.err
    assert repo.in_progress() == ()
    assert repo.snapshot() == before


# -- a detached HEAD ----------------------------------------------------------------------------
def test_abort_puts_back_a_detached_head(repo: Repo, run: Run) -> None:
    """The journal records HEAD as no branch and a commit: --abort detaches it there again,
    rather than leaving the branch the finish had checked out."""
    conflicting_feature(repo, run)
    repo.git("checkout", "-q", "--detach", "main")
    commit = repo.git("rev-parse", "HEAD")
    before = repo.snapshot()
    assert before[1] == "HEAD"
    result = run(repo, "feature", "finish", "clash")
    assert result.code == 5, result.err
    recorded = json.loads(state_file(repo).read_text())["head"]
    assert recorded == {"branch": None, "commit": commit}
    assert repo.branch() == "develop"

    result = run(repo, "feature", "finish", "--abort")
    assert result.code == 0, result.err
    assert repo.branch() == ""
    assert repo.git("rev-parse", "HEAD") == commit
    assert repo.snapshot() == before


# -- the Jira actions reach the outbox before the journal goes ----------------------------------
def watch_journal_removal(
    monkeypatch: pytest.MonkeyPatch, repo: Repo, *, interrupt: bool = False
) -> list[dict[str, Any]]:
    """Each time the journal is removed, what the outbox then holds (one record per call);
    `interrupt`: the first removal is a Ctrl-C instead (the outbox written, the journal not
    yet removed)."""
    seen: list[dict[str, Any]] = []
    real = journal.Journal.remove

    def remove(self: journal.Journal, git_repo: Any) -> None:
        seen.append({"outbox": outbox(repo), "journal": state_file(repo).exists()})
        if interrupt and len(seen) == 1:
            raise KeyboardInterrupt
        real(self, git_repo)

    monkeypatch.setattr(journal.Journal, "remove", remove)
    return seen


def moves_to_done(actions: list[dict[str, Any]]) -> list[str]:
    return [a["id"] for a in actions if a["do"] == "move" and a["target"] == "Done"]


def test_a_finish_queues_its_jira_actions_before_it_removes_its_journal(
    repo: Repo, run: Run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("drop", times=None)
    seen = watch_journal_removal(monkeypatch, repo)
    result = run(repo, "feature", "finish")
    assert result.code == 7, result.err
    # when the journal went, the move was already queued: a kill there loses nothing
    assert len(seen) == 1 and seen[0]["journal"]
    assert len(moves_to_done(seen[0]["outbox"])) == 1
    assert not state_file(repo).exists()
    assert moves_to_done(outbox(repo)) == moves_to_done(seen[0]["outbox"])


def test_a_finish_stopped_after_queueing_does_not_queue_twice_when_continued(
    repo: Repo, run: Run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    seen = watch_journal_removal(monkeypatch, repo, interrupt=True)
    result = run(repo, "feature", "finish")
    assert result.code == 130, result.err
    assert state_file(repo).exists()  # stopped between the outbox and the journal's removal
    queued = moves_to_done(outbox(repo))
    assert len(queued) == 1 and len(seen) == 1
    assert jira.issue("PROJ-1")["status"] != "Done"

    jira.fault("drop", times=None)
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 7, result.err
    assert not state_file(repo).exists()
    assert moves_to_done(outbox(repo)) == queued
    assert len(outbox(repo)) == 1

    jira.clear_faults()
    jira.clear_requests()
    assert run(repo, "sync").code == 0
    assert jira.issue("PROJ-1")["status"] == "Done"
    assert jira.count(method="POST") == 1
    assert outbox(repo) == []
