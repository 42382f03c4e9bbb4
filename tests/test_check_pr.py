"""`jiraflow check pr`: in a simulated Bitbucket Pipelines pull-request pipeline (a shallow
single-branch clone, the BITBUCKET_* variables) and locally, against the sandbox Jira and
Bitbucket over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Sites
from gitutil import Repo, git

FEATURE = "feature/PROJ-1-add-login-form"


def pushed_feature(repo: Repo, *messages: str, branch: str = FEATURE) -> str:
    repo.git("checkout", "-q", "-b", branch, "develop")
    for message in messages:
        repo.commit(message=message)
    repo.git("push", "-q", "-u", "origin", branch)
    return repo.git("rev-parse", "HEAD")


def pipeline_clone(repo: Repo, tmp_path: Path, branch: str = FEATURE) -> Path:
    """What Bitbucket Pipelines checks out: a clone of depth 1 of the source branch only."""
    origin = repo.git("remote", "get-url", "origin")
    clone = tmp_path / "build"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", branch, f"file://{origin}", str(clone))
    return clone


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch, sites: Sites):  # type: ignore[no-untyped-def]
    """Sets the variables of a pull-request pipeline for a pull request."""

    def set_vars(pr: dict, commit: str, branch: str = FEATURE) -> None:  # type: ignore[type-arg]
        monkeypatch.setenv("CI", "true")
        monkeypatch.setenv("BITBUCKET_PR_ID", str(pr["id"]))
        monkeypatch.setenv("BITBUCKET_BRANCH", branch)
        monkeypatch.setenv("BITBUCKET_PR_DESTINATION_BRANCH", "develop")
        monkeypatch.setenv("BITBUCKET_COMMIT", commit)
        # Pipelines names the repository; jiraflow uses it when nothing else does
        monkeypatch.setenv("BITBUCKET_REPO_FULL_NAME", sites.name)
        monkeypatch.delenv("JIRAFLOW_BITBUCKET_REPOSITORY")

    return set_vars


def test_a_good_pull_request_passes_in_pipelines(
    repo: Repo, run, sites: Sites, pipeline, tmp_path: Path
) -> None:
    head = pushed_feature(repo, "PROJ-1 Add the form", "PROJ-1 Validate it")
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", "PROJ-1: Login form")
    pipeline(pr, head)
    clone = pipeline_clone(repo, tmp_path)
    result = run(clone, "check", "pr")
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines()[-1] == (
        f"pull request #{pr['id']} {FEATURE} -> develop: branch name, title, 2 commits, "
        "no problems (the keys are issues in Jira)."
    )
    assert "shallow" in result.err  # depth 1 does not reach develop: history fetched
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"


def test_branch_title_and_commits_are_each_named(
    repo: Repo, run, sites: Sites, pipeline, tmp_path: Path
) -> None:
    head = pushed_feature(repo, "PROJ-1 Add the form", "Fix typo", "PROJ-99 Style")
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", "Login form")
    pipeline(pr, head)
    result = run(pipeline_clone(repo, tmp_path), "--json", "check", "pr")
    assert result.code == 1
    data = json.loads(result.out)
    assert [(p["code"], p["kind"]) for p in data["problems"]] == [
        ("no-key", "title"),
        ("no-key", "commit"),
        ("not-in-jira", "commit"),
    ]
    assert data["problems"][0]["name"] == f"pull request #{pr['id']} title"
    assert (
        data["problems"][0]["fix"] == "Edit the title to name the issue, e.g. PROJ-12: Login form"
    )
    # in the pipeline, the fix of a commit is never `git commit --amend` of the build's HEAD
    assert "git rebase -i" in data["problems"][2]["fix"]


def test_a_branch_without_key(repo: Repo, run, sites: Sites, pipeline, tmp_path: Path) -> None:
    head = pushed_feature(repo, "PROJ-1 Add the form", branch="feature/login")
    pr = sites.bitbucket.create_pull_request(sites.name, "feature/login", "develop", "PROJ-1 x")
    pipeline(pr, head, "feature/login")
    result = run(pipeline_clone(repo, tmp_path, "feature/login"), "check", "pr")
    assert result.code == 1
    assert result.out.startswith("✗ branch feature/login: names no Jira issue.")


def test_without_bitbucket_credentials_the_title_is_skipped(
    repo: Repo, run, sites: Sites, pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = pushed_feature(repo, "PROJ-1 Add the form")
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", "No key here")
    pipeline(pr, head)
    monkeypatch.delenv("JIRAFLOW_BITBUCKET_TOKEN")
    sites.clear_requests()
    result = run(pipeline_clone(repo, tmp_path), "check", "pr")
    assert result.code == 0, result.out
    assert "the title was not checked: Bitbucket is not set up" in result.err
    assert sites.bitbucket.count() == 0


def test_missing_pipeline_variables(repo: Repo, run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITBUCKET_PR_ID", "7")
    monkeypatch.setenv("BITBUCKET_BRANCH", FEATURE)
    result = run(repo, "check", "pr")
    assert result.code == 2
    assert "BITBUCKET_PR_DESTINATION_BRANCH is not set" in result.err


def test_an_exempt_branch_is_not_checked(
    repo: Repo, run, sites: Sites, pipeline, tmp_path: Path
) -> None:
    (repo.path / ".jiraflow.toml").write_text('[check]\nexempt_branches = ["feature/PROJ-1-*"]\n')
    repo.git("add", ".jiraflow.toml")
    head = pushed_feature(repo, "No key at all")
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", "No key")
    pipeline(pr, head)
    result = run(pipeline_clone(repo, tmp_path), "check", "pr")
    assert result.code == 0, result.out
    assert "exempt" in result.err


def test_a_destination_that_cannot_be_fetched(
    repo: Repo, run, sites: Sites, pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = pushed_feature(repo, "PROJ-1 Add the form")
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", "PROJ-1 x")
    pipeline(pr, head)
    monkeypatch.setenv("BITBUCKET_PR_DESTINATION_BRANCH", "nope")
    result = run(pipeline_clone(repo, tmp_path), "check", "pr")
    assert result.code == 6 and "could not fetch nope from origin" in result.err


# -- outside Pipelines ---------------------------------------------------------------------
def test_locally_the_open_pull_request_of_the_branch(repo: Repo, run, sites: Sites) -> None:
    pushed_feature(repo, "PROJ-1 Add the form")
    result = run(repo, "check", "pr")
    assert result.code == 0, result.out
    assert "the title was not checked: the branch has no open pull request" in result.err
    assert "the branch feature/PROJ-1-add-login-form -> develop" in result.out
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", "Login form")
    result = run(repo, "check", "pr")
    assert result.code == 1
    assert result.out.startswith(f"✗ pull request #{pr['id']} title: names no Jira issue.")
