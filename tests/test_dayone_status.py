"""`jiraflow status` on a long-lived branch (develop, main, the where.environments branches):
how far it is from its remote-tracking branch, as of the last fetch; and a retry listener
that lasts only as long as its command. Real repositories with a bare origin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gitutil import Repo
from jiraflow import http


def status(run, repo: Repo) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = run(repo, "--json", "status")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_develop_up_to_date_with_origin(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "develop")
    assert status(run, repo)["upstream"] == {"branch": "origin/develop", "ahead": 0, "behind": 0}
    result = run(repo, "status")
    assert "develop: up to date with origin/develop (as of the last fetch)\n" in result.out


def test_develop_ahead_and_behind_as_of_the_last_fetch(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "develop")
    repo.push_unseen("develop")
    repo.commit("a.txt", message="mine 1")
    repo.commit("b.txt", message="mine 2")
    # nothing is fetched: the pushed commit is not known yet
    assert status(run, repo)["upstream"] == {"branch": "origin/develop", "ahead": 2, "behind": 0}
    repo.git("fetch", "-q", "origin")
    assert status(run, repo)["upstream"] == {"branch": "origin/develop", "ahead": 2, "behind": 1}
    result = run(repo, "status")
    assert result.out.startswith("On develop\n")
    assert "develop: 2 ahead, 1 behind origin/develop (as of the last fetch)\n" in result.out


def test_main_follows_its_configured_upstream(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "main")
    repo.git("push", "-q", "origin", "main:refs/heads/production")
    repo.git("fetch", "-q", "origin")
    repo.git("branch", "-q", "--set-upstream-to=origin/production", "main")
    repo.commit("c.txt", message="on main")
    assert status(run, repo)["upstream"] == {
        "branch": "origin/production",
        "ahead": 1,
        "behind": 0,
    }


def test_an_environment_branch_is_long_lived(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text('[where]\nenvironments = ["staging"]\n')
    repo.git("checkout", "-q", "-b", "staging", "develop")
    assert status(run, repo)["upstream"] is None  # not pushed: nothing to say
    assert "ahead" not in run(repo, "status").out and "up to date" not in run(repo, "status").out
    repo.git("push", "-q", "origin", "staging")
    repo.commit("d.txt", message="deployed fix")
    assert status(run, repo)["upstream"] == {"branch": "origin/staging", "ahead": 1, "behind": 0}


def test_no_remote_no_upstream(make_repo, run) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(remote=False)
    repo.git("checkout", "-q", "develop")
    info = status(run, repo)
    assert info["upstream"] is None
    out = run(repo, "status").out
    assert out == "On develop\n", out


def test_a_feature_branch_has_its_base_and_no_upstream(repo: Repo, run) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    repo.git("push", "-q", "-u", "origin", "feature/login")
    repo.commit("e.txt", message="work")
    info = status(run, repo)
    assert (info["base"], info["ahead"], info["behind"], info["upstream"]) == (
        "develop",
        1,
        0,
        None,
    )
    assert "up to date" not in run(repo, "status").out


def test_the_upstream_costs_one_git_process_at_most(
    repo: Repo, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Budgeted in the big-repository benchmark: no fetch, and one `git rev-list` only when
    the branch and its remote branch differ (none when they are the same commit)."""
    repo.git("checkout", "-q", "develop")
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))

    def gits() -> list[str]:
        lines = trace.read_text().splitlines() if trace.exists() else []
        trace.write_text("")
        return [line.partition("built-in: ")[2] for line in lines if "built-in: " in line]

    status(run, repo)
    same = gits()
    assert not [g for g in same if g.startswith(("git rev-list", "git fetch"))], same
    repo.commit("f.txt", message="ahead")
    gits()
    status(run, repo)
    ahead = gits()
    assert len([g for g in ahead if g.startswith("git rev-list")]) == 1, ahead
    assert len(ahead) == len(same) + 1, (same, ahead)


# -- retries are heard by the running command only -----------------------------------------------


def test_the_retry_listener_ends_with_its_command(
    repo: Repo, run, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_URL", "http://127.0.0.1:9")  # set up; never reached
    monkeypatch.setenv("JIRAFLOW_JIRA_USER", "ada")
    monkeypatch.setenv("JIRAFLOW_JIRA_TOKEN", "not-a-real-token")
    repo.git("checkout", "-q", "develop")
    for _ in range(2):  # two commands in this process
        assert run(repo, "status").code == 0
        assert http._listener is None
        http.retrying("Jira", 1.0, 1)  # a request after the command: nobody is told
        captured = capsys.readouterr()
        assert "busy" not in captured.err + captured.out
