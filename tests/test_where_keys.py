"""`jiraflow where KEY...`: several keys at once: one section each in text, a JSON list (one
object for one key, as before), the issues read from Jira with one search instead of one
read each. Real repositories with a bare origin, the sandboxes over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow.sandbox.jira import JiraSandbox


def where(run, repo: Repo, *args: str) -> Any:  # type: ignore[no-untyped-def]
    result = run(repo, "--json", "where", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def committed(repo: Repo) -> None:
    repo.git("checkout", "-q", "develop")
    repo.commit("footer.html", message="PROJ-12 fix the typo")
    repo.commit("login.html", message="PROJ-1 add the login form")


def test_one_section_per_key_in_the_order_given(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    committed(repo)
    result = run(repo, "where", "PROJ-12", "PROJ-99", "PROJ-1")
    assert result.code == 0, result.err
    sections = result.out.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == ["PROJ-12", "PROJ-99", "PROJ-1"]
    assert sections[0].splitlines()[1] == "On develop, not in a release yet."
    assert "Not named in any commit message" in sections[1]
    assert "add the login form" in sections[2] and "fix the typo" not in sections[2]
    one = run(repo, "where", "PROJ-12")
    assert one.out == sections[0] + "\n"  # a section is what `where KEY` prints alone


def test_json_is_a_list_for_several_keys_and_an_object_for_one(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    committed(repo)
    several = where(run, repo, "PROJ-12", "PROJ-1")
    assert [info["key"] for info in several] == ["PROJ-12", "PROJ-1"]
    alone = where(run, repo, "PROJ-1")
    assert isinstance(alone, dict) and alone == several[1]
    assert isinstance(where(run, repo, "PROJ-1", "PROJ-1"), dict)  # each key once


def test_a_bad_key_among_several_is_refused_before_anything_is_said(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    committed(repo)
    result = run(repo, "where", "PROJ-12", "login")
    assert result.code == 2 and result.out == ""
    assert "'login' is not a Jira issue key" in result.err and "hint:" in result.err
    result = run(repo, "where")
    assert result.code == 2 and "missing argument 'KEY...'" in result.err


def test_jira_is_asked_once_for_all_the_keys(repo: Repo, run, jira: JiraSandbox) -> None:  # type: ignore[no-untyped-def]
    jira.set_status("PROJ-12", "Done")
    committed(repo)
    assert run(repo, "where", "PROJ-12").code == 0  # the site's kind is cached from here on
    jira.clear_requests()
    result = run(repo, "where", "PROJ-12", "PROJ-1")
    assert result.code == 0, result.err
    assert jira.count() == 1 and jira.count(path_contains="search") == 1  # no read each
    heads = [s.splitlines()[0] for s in result.out.split("\n\n")]
    assert heads == [
        "PROJ-12  Fix typo in footer (Bug, Done, Bob Builder)",
        "PROJ-1  Add login form (Story, To Do)",
    ]
    result = run(repo, "where", "PROJ-12", "PROJ-1", "PROJ-404")
    assert result.code == 0, result.err
    assert result.out.split("\n\n")[2].splitlines()[0] == "PROJ-404"
    assert "warning: Jira has no issue PROJ-404 (or you may not see it)" in result.err
    infos = where(run, repo, "PROJ-12", "PROJ-1", "PROJ-404")
    assert infos[0]["issue"]["url"] == f"{jira.url}/browse/PROJ-12"
    assert infos[1]["issue"]["status"] == "To Do" and infos[2]["issue"] is None
    assert infos[2]["warnings"] == ["Jira has no issue PROJ-404 (or you may not see it)"]
    assert infos[0]["warnings"] == []
    jira.clear_requests()
    assert run(repo, "where", "--offline", "PROJ-12", "PROJ-1").code == 0
    assert jira.count() == 0


def test_each_key_gets_its_own_pull_request(repo: Repo, run, sites: Sites) -> None:  # type: ignore[no-untyped-def]
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    assert run(repo, "pr", "create").code == 0
    [pr] = sites.prs()
    repo.git("checkout", "-q", "develop")
    repo.commit("footer.html", message="PROJ-12 fix the typo")
    infos = where(run, repo, "PROJ-12", "PROJ-1")
    assert infos[0]["pull_requests"] is None  # no branch of its own: nothing to ask
    [pull] = infos[1]["pull_requests"]
    assert (pull["id"], pull["source"]) == (pr["id"], "feature/PROJ-1-add-login-form")
    assert infos[1]["issue"]["status"] == "In Review"


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_the_deployments_are_read_once_for_all_the_keys(repo: Repo, run, sites: Sites) -> None:  # type: ignore[no-untyped-def]
    repo.git("checkout", "-q", "develop")
    repo.commit("footer.html", message="PROJ-12 fix the typo")
    before = repo.git("rev-parse", "develop")
    repo.commit("login.html", message="PROJ-1 add the login form")
    repo.git("push", "-q", "origin", "develop")
    (repo.path / ".jiraflow.toml").write_text(
        '[[environments]]\nname = "production"\nbranch = "main"\ndeployment = "Production"\n'
    )
    sites.bitbucket.deploy(sites.name, "Production", before)
    assert run(repo, "where", "PROJ-12").code == 0  # the site's kind is cached from here on
    sites.clear_requests()
    infos = where(run, repo, "PROJ-12", "PROJ-1")
    assert [i["deployments"][0]["deployed"] for i in infos] == ["yes", "no"]
    assert sites.bitbucket.count("GET", "/deployments") == 1  # once, not once per key
