"""The build state of the commits `status` and `where` show, on Cloud and Data Center: the
builds of the branch's pull request's head (or of its pushed tip), of the newest pull
request `where` lists and of the pushed branches and tags holding the issue; what each
asks of Bitbucket (exact counts, round trips), and Bitbucket failing (a line, exit 0).
Real repositories with a bare origin, the sandboxes over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo, Result
from jiraflow.sandbox.jira import JiraSandbox
from jiraflow.sandbox.server import round_trips

BRANCH = "feature/PROJ-1-add-login-form"


def opened(repo: Repo, run: Callable[..., Result]) -> tuple[int, str]:
    """A feature branch with its pull request open: (its number, the head commit)."""
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    created = run(repo, "--json", "pr", "create")
    assert created.code == 0, created.err
    return json.loads(created.out)["pull_request"]["id"], repo.git("rev-parse", "HEAD")


def report(sites: Sites, commit: str, key: str, state: str) -> None:
    sites.bitbucket.set_build(sites.name, commit, key, state, url=f"https://ci.example/{key}")


def status(run: Callable[..., Result], repo: Repo) -> dict[str, Any]:
    result = run(repo, "--json", "status")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def asked(sites: Sites) -> list[str]:
    return [f"{r.method} {r.path}" for r in sites.bitbucket.requests]


def is_builds(request: str) -> bool:
    return request.endswith("/statuses") or "/build-status/" in request


def trips(sites: Sites, run: Callable[..., Result], repo: Repo, *args: str) -> int:
    """Round trips of the command (Jira's and Bitbucket's), at 100 ms a request."""
    sites.clear_requests()
    sites.jira.latency = sites.bitbucket.latency = 0.1
    try:
        assert run(repo, *args).code == 0
    finally:
        sites.jira.latency = sites.bitbucket.latency = 0.0
    return round_trips(sites.jira.requests + sites.bitbucket.requests)


# == status =====================================================================================


@pytest.mark.parametrize(
    ("states", "overall", "line"),
    [
        (["SUCCESSFUL", "SUCCESSFUL"], "success", "2 successful"),
        (["SUCCESSFUL", "FAILED"], "failure", "1 successful, 1 failed"),
        (["SUCCESSFUL", "INPROGRESS"], "pending", "1 successful, 1 running"),
    ],
)
def test_status_shows_the_builds_of_the_pull_requests_head(
    repo: Repo, run, sites: Sites, states: list[str], overall: str, line: str
) -> None:
    number, head = opened(repo, run)
    for key, state in zip(["ci", "e2e"], states, strict=True):
        report(sites, head, key, state)
    sites.clear_requests()
    result = run(repo, "status")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    at = lines.index(f"Pull request #{number} [OPEN] into develop")
    assert lines[at + 1] == f"  Builds: {line}"  # pr view's words
    assert lines[at + 2].startswith("  http")
    # exactly: the pull request, then its head's builds; and the issue from Jira
    assert len(asked(sites)) == 2 and is_builds(asked(sites)[1]), asked(sites)
    assert sites.jira.count() == 1
    builds = status(run, repo)["builds"]
    assert builds["of"] == f"pull request #{number}" and head.startswith(builds["commit"])
    assert (builds["overall"], builds["summary"]) == (overall, line)
    assert [(b["key"], b["state"]) for b in builds["builds"]] == list(
        zip(["ci", "e2e"], states, strict=True)
    )
    assert set(builds["builds"][0]) >= {"key", "name", "state", "url", "duration"}


def test_status_asks_jira_while_bitbucket_answers(repo: Repo, run, sites: Sites) -> None:
    """The builds cost no round trip: the pull request and its builds (two, one after the
    other) go out while Jira answers (one), as the pull request alone did before."""
    opened(repo, run)
    assert trips(sites, run, repo, "status") == 2


def test_status_of_a_pushed_branch_without_a_pull_request(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    head = repo.commit("login.html", "<form></form>\n", "Add the login form")
    repo.git("push", "-q", "-u", "origin", BRANCH)
    report(sites, head, "ci", "FAILED")
    repo.commit("later.txt", message="not pushed yet")  # the pushed tip is the one built
    sites.clear_requests()
    result = run(repo, "status")
    assert result.code == 0, result.err
    assert f"Builds: 1 failed (origin/{BRANCH} at {head[:10]})\n" in result.out
    assert "Pull request" not in result.out
    assert len(asked(sites)) == 2, asked(sites)  # no pull request, then the tip's builds
    assert head in asked(sites)[1] and is_builds(asked(sites)[1])
    builds = status(run, repo)["builds"]
    assert (builds["of"], builds["commit"], builds["overall"]) == (
        f"origin/{BRANCH}",
        head,
        "failure",
    )
    assert status(run, repo)["pull_request"] is None


def test_status_of_a_branch_not_pushed_asks_bitbucket_nothing(
    repo: Repo, run, sites: Sites
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    sites.clear_requests()
    result = run(repo, "status")
    assert result.code == 0 and "Builds" not in result.out
    assert asked(sites) == []
    assert status(run, repo)["builds"] is None


def test_status_without_bitbucket_asks_nothing(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened(repo, run)
    for name in ("URL", "USER", "TOKEN", "REPOSITORY"):
        monkeypatch.delenv(f"JIRAFLOW_BITBUCKET_{name}")
    sites.clear_requests()
    info = status(run, repo)
    assert info["builds"] is None and info["pull_request"] is None
    assert asked(sites) == []


def test_status_on_develop_shows_the_builds_of_origin_develop(
    repo: Repo, run, sites: Sites
) -> None:
    tip = repo.git("rev-parse", "origin/develop")
    report(sites, tip, "ci", "INPROGRESS")
    repo.git("checkout", "-q", "develop")
    sites.clear_requests()
    result = run(repo, "status")
    assert result.code == 0, result.err
    assert f"Builds: 1 running (origin/develop at {tip[:10]})\n" in result.out
    assert len(asked(sites)) == 1 and tip in asked(sites)[0]
    assert status(run, repo)["builds"]["overall"] == "pending"


def test_status_with_bitbucket_unreachable_says_unknown_and_exits_0(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened(repo, run)
    with JiraSandbox("cloud") as stopped:
        closed = stopped.url
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_URL", closed)
    result = run(repo, "status")
    assert result.code == 0, result.err
    assert "Bitbucket unavailable" in result.err
    assert "Builds: unknown (" in result.out
    assert "error" in status(run, repo)["builds"]


def test_status_when_only_the_builds_fail_says_unknown(repo: Repo, run, sites: Sites) -> None:
    number, _ = opened(repo, run)
    where = "/statuses" if sites.kind == "cloud" else "/build-status/"
    sites.bitbucket.fault("status", path=where, status=500)
    result = run(repo, "status")
    assert result.code == 0, result.err
    assert f"Pull request #{number}" in result.out
    assert "  Builds: unknown (Bitbucket refused GET" in result.out


# == where ======================================================================================


def merged(repo: Repo, run: Callable[..., Result], sites: Sites) -> tuple[int, str, str]:
    """PROJ-1's pull request merged by Bitbucket and fetched: (its number, its head, the
    merge on origin/develop)."""
    number, head = opened(repo, run)
    sites.bitbucket.merge(sites.name, number, user="bob")
    repo.git("fetch", "-q", "origin")
    assert run(repo, "where", "PROJ-1").code == 0  # the site caches are warm from here on
    return number, head, repo.git("rev-parse", "origin/develop")


def where(run: Callable[..., Result], repo: Repo) -> dict[str, Any]:
    result = run(repo, "--json", "where", "PROJ-1")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def place(info: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [p for p in info["branches"] + info["tags"] if p["name"] == name]
    return found


def test_where_shows_the_builds_of_the_pull_request_and_of_the_branches(
    repo: Repo, run, sites: Sites
) -> None:
    number, head, merge = merged(repo, run, sites)
    report(sites, head, "ci", "SUCCESSFUL")
    report(sites, merge, "ci", "SUCCESSFUL")
    report(sites, merge, "deploy", "FAILED")
    repo.git("tag", "1.0.0", merge)
    repo.git("push", "-q", "origin", "1.0.0")
    sites.clear_requests()
    result = run(repo, "where", "PROJ-1")
    assert result.code == 0, result.err
    lines = [" ".join(line.split()) for line in result.out.splitlines()]
    at = lines.index(f"pull request #{number} MERGED {BRANCH} -> develop")
    assert lines[at + 1] == "builds: 1 successful"
    assert "origin/develop yes; builds: 1 successful, 1 failed" in lines
    assert "develop no" in lines  # not pulled: no builds asked for it
    assert "builds of 1.0.0: 1 successful, 1 failed" in lines
    # the pull requests with origin/develop's builds (the tag's commit is the same), then
    # the newest pull request's builds
    assert sites.jira.count() == 1 and len(asked(sites)) == 3, asked(sites)
    assert sum(merge in r for r in asked(sites)) == 1
    info = where(run, repo)
    [pull] = info["pull_requests"]
    assert pull["builds"]["of"] == f"pull request #{number}"
    assert head.startswith(pull["builds"]["commit"]) and pull["builds"]["overall"] == "success"
    theirs = place(info, "origin/develop")["builds"]
    assert (theirs["of"], theirs["commit"], theirs["overall"]) == (
        "origin/develop",
        merge,
        "failure",
    )
    assert place(info, "1.0.0")["builds"]["of"] == "1.0.0"
    assert place(info, "develop")["builds"] is None  # holds none of it
    assert info["warnings"] == []


def test_where_reads_builds_in_two_round_trips_beside_jira(repo: Repo, run, sites: Sites) -> None:
    merged(repo, run, sites)
    assert trips(sites, run, repo, "where", "PROJ-1") == 2


def test_where_reads_the_builds_of_five_commits_at_most(repo: Repo, run, sites: Sites) -> None:
    merged(repo, run, sites)
    envs = [f"env{i}" for i in range(1, 7)]
    for env in envs:  # each deployed at its own commit on top of the merge
        repo.git("checkout", "-q", "-B", env, "origin/develop")
        sha = repo.commit(f"{env}.txt", message=f"deploy {env}")
        repo.git("push", "-q", "origin", f"{env}:refs/heads/{env}")
        report(sites, sha, "deploy", "SUCCESSFUL")
    repo.git("fetch", "-q", "origin")
    repo.git("checkout", "-q", "develop")
    with (repo.path / ".jiraflow.toml").open("a") as config:
        config.write(f"\n[where]\nenvironments = {json.dumps(envs)}\n")
    sites.clear_requests()
    info = where(run, repo)
    # the pull requests, the newest one's builds, and five distinct commits' builds
    assert len(asked(sites)) == 7, asked(sites)
    read = [name for name in ["origin/develop", *envs] if place(info, name)["builds"]]
    assert read == ["origin/develop", "env1", "env2", "env3", "env4"]
    assert place(info, "env4")["builds"]["summary"] == "1 successful"


def test_where_says_when_the_builds_cannot_be_read(repo: Repo, run, sites: Sites) -> None:
    merged(repo, run, sites)
    where_ = "/statuses" if sites.kind == "cloud" else "/build-status/"
    sites.bitbucket.fault("status", path=where_, status=500, times=None)
    result = run(repo, "where", "PROJ-1")
    assert result.code == 0, result.err
    assert "could not read the builds from Bitbucket: Bitbucket refused GET" in result.err
    assert "builds: unknown (Bitbucket refused GET" in result.out
    info = where(run, repo)
    assert "error" in info["pull_requests"][0]["builds"]
    assert "error" in place(info, "origin/develop")["builds"]


def test_where_offline_asks_nothing(repo: Repo, run, sites: Sites) -> None:
    merged(repo, run, sites)
    sites.clear_requests()
    result = run(repo, "--json", "where", "--offline", "PROJ-1")
    assert result.code == 0 and asked(sites) == [] and sites.jira.count() == 0
    assert "builds" not in json.loads(result.out)["branches"][0]
