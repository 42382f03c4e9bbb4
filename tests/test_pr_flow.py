"""Pull requests end to end: real repositories with a bare origin, the sandbox Jira and
Bitbucket (Cloud and Data Center) over real HTTP, the sandbox repository backed by the same
origin so that branches are checked and merges are real, the CLI in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo

FEATURE = "feature/PROJ-1-add-login-form"


def norm(sites: Sites, pr: dict[str, Any]) -> dict[str, Any]:
    """The fields the tests look at, from either flavour's pull request shape."""
    if sites.kind == "cloud":
        reviewers = [r["nickname"] for r in pr.get("reviewers") or []]
        return {
            "id": pr["id"],
            "title": pr["title"],
            "description": pr.get("description") or pr["summary"]["raw"],
            "source": pr["source"]["branch"]["name"],
            "destination": pr["destination"]["branch"]["name"],
            "reviewers": sorted(reviewers),
            "state": pr["state"],
            "draft": bool(pr.get("draft")),
        }
    return {
        "id": pr["id"],
        "title": pr["title"],
        "description": pr.get("description", ""),
        "source": pr["fromRef"]["displayId"],
        "destination": pr["toRef"]["displayId"],
        "reviewers": sorted(r["user"]["name"] for r in pr.get("reviewers") or []),
        "state": pr["state"],
        "draft": bool(pr.get("draft")),
    }


def prs(sites: Sites) -> list[dict[str, Any]]:
    return [norm(sites, p) for p in sites.prs()]


def started(repo: Repo, run, key: str = "PROJ-1") -> str:
    result = run(repo, "feature", "start", key)
    assert result.code == 0, result.err
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    return repo.branch()


# -- pr create -------------------------------------------------------------------------------


def test_pr_create_pushes_opens_with_default_reviewers_and_moves_the_issue(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    sites.clear_requests()
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    assert repo.git("rev-parse", f"origin/{branch}") == repo.git("rev-parse", branch)
    assert repo.git("config", f"branch.{branch}.merge") == f"refs/heads/{branch}"
    [pr] = prs(sites)
    assert pr["title"] == "PROJ-1: Add login form"
    assert (pr["source"], pr["destination"]) == (branch, "develop")
    assert pr["reviewers"] == ["bob"]  # alice is a default reviewer, and the author
    assert "PROJ-1" in pr["description"] and f"{sites.jira.url}/browse/PROJ-1" in pr["description"]
    assert "* Add the login form" in pr["description"]
    issue = sites.jira.issue("PROJ-1")
    assert issue["status"] == "In Review"
    url = result.out.strip().splitlines()[-1]
    assert url.startswith(sites.bitbucket.url) and url.endswith(f"/{pr['id']}")
    assert "PROJ-1 is In Review" in result.out
    # the budget: Bitbucket and Jira together, issue summary cached by `start`
    assert sites.count() <= 8, [r.path for r in sites.jira.requests + sites.bitbucket.requests]


def test_pr_create_links_the_pull_request_once_however_often_it_runs(
    repo: Repo, run, sites: Sites
) -> None:
    started(repo, run)
    assert run(repo, "pr", "create").code == 0
    again = run(repo, "pr", "create")
    assert again.code == 0, again.err
    assert "is already open" in again.out
    assert len(prs(sites)) == 1
    links = [r for r in sites.jira.requests if r.path.endswith("/remotelink")]
    assert len(links) == 2
    assert json.loads(links[0].body)["globalId"] == json.loads(links[1].body)["globalId"]
    assert len(sites.jira.issue("PROJ-1")["remotelinks"]) == 1


def test_a_new_commit_is_pushed_to_the_open_pull_request(repo: Repo, run, sites: Sites) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    tip = repo.commit("login.html", "<form>v2</form>\n", "Polish the form")
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    assert repo.git("rev-parse", f"origin/{branch}") == tip
    assert len(prs(sites)) == 1


@pytest.mark.parametrize(
    ("kind", "name", "base", "expected"),
    [
        ("bugfix", "crash", None, "develop"),
        ("release", "2.0.0", None, "main"),
        ("hotfix", "1.0.1", None, "main"),
        ("feature", "side", "release/2.0.0", "release/2.0.0"),
    ],
)
def test_destination_follows_gitflow(
    repo: Repo, run, sites: Sites, kind: str, name: str, base: str | None, expected: str
) -> None:
    if base:
        assert run(repo, "release", "start", "2.0.0").code == 0
        repo.git("push", "-q", "origin", base)
        assert run(repo, "feature", "start", name, "--base", base).code == 0
    else:
        assert run(repo, kind, "start", name).code == 0
    repo.commit("work.txt", f"{kind}\n", f"Work on {name}")
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    [pr] = prs(sites)
    assert pr["destination"] == expected
    if kind in ("release", "hotfix"):
        assert pr["title"] == f"{kind.capitalize()} {name}"
    else:
        assert pr["title"] == f"Work on {name}"  # one commit, no issue: its subject


def test_base_title_body_draft_and_an_extra_reviewer(repo: Repo, run, sites: Sites) -> None:
    started(repo, run)
    carol = sites.bitbucket.user("carol")
    reviewer = carol["uuid"] if sites.kind == "cloud" else "carol"
    result = run(
        repo,
        "pr",
        "create",
        "--base",
        "main",
        "--title",
        "Login, early look",
        "--body",
        "Please look at the form.",
        "--draft",
        "-r",
        reviewer,
    )
    assert result.code == 0, result.err
    [pr] = prs(sites)
    assert pr["destination"] == "main"
    assert (pr["title"], pr["description"]) == ("Login, early look", "Please look at the form.")
    assert pr["draft"] is True
    assert pr["reviewers"] == ["bob", "carol"]


def test_no_default_reviewers_when_switched_off(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "config", "set", "bitbucket.default_reviewers", "false").code == 0
    started(repo, run)
    assert run(repo, "pr", "create").code == 0
    assert prs(sites)[0]["reviewers"] == []
    assert sites.bitbucket.count(path_contains="reviewers") == 0


def test_dry_run_shows_the_plan_and_changes_nothing(repo: Repo, run, sites: Sites) -> None:
    branch = started(repo, run)
    sites.clear_requests()
    result = run(repo, "--dry-run", "pr", "create")
    assert result.code == 0, result.err
    assert f"git push --quiet --set-upstream origin {branch}:refs/heads/{branch}" in result.out
    assert "bitbucket: open pull request 'PROJ-1: Add login form'" in result.out
    assert "reviewers: Bob" in result.out
    assert "jira: move PROJ-1 to In Review" in result.out
    assert not repo.exists(f"refs/remotes/origin/{branch}")
    assert prs(sites) == []
    methods = {r.method for r in sites.jira.requests + sites.bitbucket.requests}
    assert methods == {"GET"}


def test_web_pushes_and_prints_the_new_pull_request_page(
    repo: Repo, run, sites: Sites, mocker
) -> None:
    branch = started(repo, run)
    launch = mocker.patch("click.launch")
    terminal = "jiraflow.cli.render.Terminal.stdout_isatty"
    mocker.patch(terminal, new_callable=mocker.PropertyMock, return_value=True)
    result = run(repo, "pr", "create", "--web")
    assert result.code == 0, result.err
    url = result.out.strip().splitlines()[-1]
    assert url.startswith(sites.bitbucket.url) and "develop" in url
    launch.assert_called_once_with(url)
    assert repo.exists(f"refs/remotes/origin/{branch}")
    assert prs(sites) == []
    assert sites.bitbucket.count() == 0  # the page, not the API


def test_nothing_to_review_and_a_remote_ahead_are_refused(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    empty = run(repo, "pr", "create")
    assert empty.code == 5
    assert "nothing to review" in empty.err
    repo.commit("a.txt", "a\n", "A")
    assert run(repo, "pr", "create").code == 0
    branch = repo.branch()
    repo.push_unseen(branch)
    repo.git("fetch", "-q", "origin")
    repo.commit("b.txt", "b\n", "B")
    behind = run(repo, "pr", "create")
    assert behind.code == 5
    assert "git pull" in behind.err


def test_refused_credentials_exit_4_with_nothing_created(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(repo, run)
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_TOKEN", "not-the-token")
    result = run(repo, "pr", "create")
    assert result.code == 4
    assert "refused the credentials" in result.err
    assert "not-the-token" not in result.out + result.err
    assert prs(sites) == []


def test_an_app_password_is_explained(repo: Repo, run, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import point_bitbucket_at
    from jiraflow.sandbox.bitbucket import BitbucketSandbox

    with BitbucketSandbox("cloud") as bitbucket:
        point_bitbucket_at(monkeypatch, bitbucket)
        monkeypatch.setenv("JIRAFLOW_BITBUCKET_TOKEN", bitbucket.app_password())
        repo.commit("x.txt", "x\n", "x")
        assert run(repo, "feature", "start", "x").code == 0
        repo.commit("y.txt", "y\n", "y")
        result = run(repo, "pr", "create")
    assert result.code == 4
    assert "app password" in result.err and "2026-07-28" in result.err


def test_a_refused_reviewer_is_named(repo: Repo, run, sites: Sites) -> None:
    started(repo, run)
    reviewer = "{00000000-0000-0000-0000-000000000000}" if sites.kind == "cloud" else "nobody"
    result = run(repo, "pr", "create", "-r", reviewer)
    assert result.code == 6
    assert "reviewer" in result.err
    assert ("nobody" if sites.kind == "datacenter" else "{00000000-") in result.err
    assert prs(sites) == []


def test_reviewers_by_name_work_on_data_center_and_are_explained_on_cloud(
    repo: Repo, run, sites: Sites
) -> None:
    started(repo, run)
    result = run(repo, "pr", "create", "-r", "carol")
    if sites.kind == "datacenter":  # user names are what Data Center takes
        assert result.code == 0, result.err
        assert prs(sites)[0]["reviewers"] == ["bob", "carol"]
    else:  # Cloud has no lookup by name: the account id or uuid is needed
        assert result.code == 3
        assert "account id" in result.err
        assert prs(sites) == []


def test_rate_limited_bitbucket_is_retried(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from jiraflow import http

    slept: list[float] = []  # waits are not slept here, only counted
    monkeypatch.setattr(http, "clock", SimpleNamespace(now=lambda: 0.0, sleep=slept.append))
    started(repo, run)
    sites.bitbucket.fault("status", status=429, retry_after=0, method="POST", times=1)
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    assert len(prs(sites)) == 1
    assert sites.bitbucket.count("POST") == 2
    assert len(slept) == 1 and slept[0] >= 1.0  # a 0 s wait is none asked: the backoff


def test_bitbucket_unreachable_exits_6_before_anything_changed(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    sites.bitbucket.stop()
    result = run(repo, "pr", "create")
    assert result.code == 6
    assert "cannot be reached" in result.err
    assert not repo.exists(f"refs/remotes/origin/{branch}")


@pytest.mark.parametrize("fault", ["status", "drop"])
def test_jira_down_after_the_pull_request_queues_the_move_for_sync(
    repo: Repo, run, sites: Sites, fault: str
) -> None:
    started(repo, run)
    sites.jira.fault(fault, status=500, times=None)
    result = run(repo, "pr", "create")
    assert result.code == 7, result.err
    assert len(prs(sites)) == 1
    assert "jiraflow sync" in result.err
    sites.jira.clear_faults()
    synced = run(repo, "sync")
    assert synced.code == 0, synced.err
    assert sites.jira.issue("PROJ-1")["status"] == "In Review"
    assert len(sites.jira.issue("PROJ-1")["remotelinks"]) == 1


def test_without_jira_a_pull_request_is_still_opened(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("URL", "USER", "TOKEN"):
        monkeypatch.delenv(f"JIRAFLOW_JIRA_{name}")
    assert run(repo, "feature", "start", "add-search").code == 0
    repo.commit("search.py", "s\n", "Search box")
    repo.commit("search.py", "s2\n", "Search results")
    sites.clear_requests()
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    assert prs(sites)[0]["title"] == "Add search"
    assert sites.jira.count() == 0


def test_not_a_bitbucket_repository_is_a_config_error(repo: Repo, run) -> None:
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "x")
    result = run(repo, "pr", "create")
    assert result.code == 3
    assert "bitbucket.repository" in result.err


def test_pr_create_on_develop_is_refused(repo: Repo, run, sites: Sites) -> None:
    result = run(repo, "pr", "create")
    assert result.code == 5
    assert "long-lived" in result.err


# -- reading -----------------------------------------------------------------------------------


def test_view_list_and_status(repo: Repo, run, sites: Sites) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    pr_id = prs(sites)[0]["id"]
    sites.bitbucket.approve(sites.name, pr_id, "bob")
    repo.git("checkout", "-q", "-b", "feature/other", "develop")
    repo.commit("other.txt", "o\n", "Other work")
    repo.git("push", "-q", "origin", "feature/other")
    repo.git("checkout", "-q", branch)
    other = sites.bitbucket.create_pull_request(
        sites.name,
        "feature/other",
        "develop",
        title="Someone else's",
        author="bob",
        reviewers=("alice",),
    )

    view = run(repo, "pr", "view")
    assert view.code == 0, view.err
    assert f"#{pr_id} PROJ-1: Add login form  [OPEN]" in view.out
    bob = sites.jira.user("bob")["displayName"]
    assert f"{bob} (approved)" in view.out and "1/1 approved" in view.out

    as_json = run(repo, "--json", "pr", "view", str(pr_id))
    data = json.loads(as_json.out)
    assert (data["id"], data["source"], data["approvals"]) == (pr_id, branch, 1)

    listed = run(repo, "--json", "pr", "list")
    assert {p["id"] for p in json.loads(listed.out)} == {pr_id, other["id"]}
    text = run(repo, "pr", "list")
    assert f"#{pr_id}" in text.out and "Someone else's" in text.out

    status = json.loads(run(repo, "--json", "pr", "status").out)
    assert status["current"]["id"] == pr_id
    assert [p["id"] for p in status["created_by_you"]] == [pr_id]
    assert [p["id"] for p in status["review_requested"]] == [other["id"]]

    overall = json.loads(run(repo, "--json", "status").out)
    assert (overall["pull_request"]["id"], overall["pull_request"]["state"]) == (pr_id, "OPEN")
    assert f"Pull request #{pr_id} [OPEN] into develop" in run(repo, "status").out


def test_view_without_a_pull_request_says_how_to_open_one(repo: Repo, run, sites: Sites) -> None:
    started(repo, run)
    result = run(repo, "pr", "view")
    assert result.code == 5
    assert "jiraflow pr create" in result.err


# -- finishing through the pull request -------------------------------------------------------


@pytest.mark.parametrize("strategy", ["merge_commit", "squash"])
def test_finish_after_the_pull_request_merged_does_not_merge_again(
    repo: Repo, run, sites: Sites, strategy: str
) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    pr_id = prs(sites)[0]["id"]
    sites.bitbucket.merge(sites.name, pr_id, strategy=strategy, user="bob")
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert f"pull request #{pr_id} merged '{branch}' into 'develop'" in result.out
    assert repo.branch() == "develop"
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")
    assert not repo.exists(f"refs/heads/{branch}")
    assert repo.git("ls-remote", "--heads", "origin", branch) == ""
    assert (repo.path / "login.html").exists()
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


def test_finish_with_the_pull_request_open_keeps_the_remote_branch(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    tip = repo.git("rev-parse", branch)
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "is open" in result.err
    assert f"kept '{branch}' on 'origin'" in result.out
    assert repo.git("ls-remote", "--heads", "origin", branch) != ""
    repo.git("merge-base", "--is-ancestor", tip, "develop")  # merged here (raises if not)
    assert prs(sites)[0]["state"] == "OPEN"


def test_commits_beyond_a_squash_merged_pull_request_are_never_dropped(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    sites.bitbucket.merge(sites.name, prs(sites)[0]["id"], strategy="squash", user="bob")
    extra = repo.commit("late.txt", "late\n", "A late commit")
    result = run(repo, "feature", "finish")
    assert result.code == 5
    assert "not in the merged pull request" in result.err
    assert repo.git("rev-parse", branch) == extra


def test_finish_sees_a_merge_pushed_by_someone_else_without_bitbucket(
    repo: Repo, run, tmp_path
) -> None:
    assert run(repo, "feature", "start", "search").code == 0
    repo.commit("s.txt", "s\n", "Search")
    repo.commit("s.txt", "s2\n", "Search more")
    assert run(repo, "feature", "publish").code == 0
    # a colleague merges it on the server side
    other = tmp_path / "colleague"
    from gitutil import git

    git(tmp_path, "clone", "-q", repo.git("remote", "get-url", "origin"), str(other))
    git(other, "checkout", "-q", "develop")
    git(other, "merge", "-q", "--no-ff", "-m", "Merge search", "origin/feature/search")
    git(other, "push", "-q", "origin", "develop")
    repo.git("fetch", "-q", "origin")
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "a push merged 'feature/search' into 'develop'" in result.out
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")
    assert not repo.exists("refs/heads/feature/search")


@pytest.mark.parametrize(("kind", "version"), [("release", "1.1.0"), ("hotfix", "1.0.1")])
def test_release_through_a_pull_request_tags_the_merge_commit(
    repo: Repo, run, sites: Sites, kind: str, version: str
) -> None:
    branch = f"{kind}/{version}"
    assert run(repo, kind, "start", version).code == 0
    repo.commit("CHANGES", f"{version}\n", f"Changes for {version}")
    opened = run(repo, kind, "finish", "--pr")
    assert opened.code == 0, opened.err
    assert f"jiraflow {kind} finish" in opened.out
    [pr] = prs(sites)
    assert (pr["source"], pr["destination"], pr["title"]) == (
        branch,
        "main",
        f"{kind.capitalize()} {version}",
    )
    assert repo.git("rev-parse", "main") != repo.git("rev-parse", branch)  # not merged here
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    finished = run(repo, kind, "finish")
    assert finished.code == 0, finished.err
    assert f"pull request #{pr['id']} merged '{branch}' into 'main'" in finished.out
    merge_commit = repo.git("rev-parse", "origin/main")
    assert repo.git("rev-parse", f"{version}^{{commit}}") == merge_commit
    assert repo.git("rev-parse", "main") == merge_commit
    assert repo.git("rev-list", "--parents", "-1", merge_commit).count(" ") == 2  # Bitbucket's
    assert repo.branch() == "develop"
    repo.git("merge-base", "--is-ancestor", version, "develop")  # merged back (raises if not)
    assert not repo.exists(f"refs/heads/{branch}")
    assert repo.git("ls-remote", "--heads", "origin", branch) == ""


def test_finish_without_a_bitbucket_login_keeps_the_remote_branch(
    repo: Repo, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request may be open on it, and nobody could ask: it stays, and finish says so."""
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_URL", "http://127.0.0.1:9/2.0")
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_REPOSITORY", "acme/shop")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "x")
    assert run(repo, "feature", "publish").code == 0
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "could not ask Bitbucket" in result.err and "no Bitbucket login" in result.err
    assert repo.git("ls-remote", "--heads", "origin", "feature/x") != ""
    assert not repo.exists("refs/heads/feature/x")


def test_finish_without_bitbucket_at_all_deletes_the_remote_branch(repo: Repo, run) -> None:
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "x")
    assert run(repo, "feature", "publish").code == 0
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert result.err == ""
    assert repo.git("ls-remote", "--heads", "origin", "feature/x") == ""


def test_finish_when_bitbucket_is_down_keeps_the_remote_branch(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    sites.bitbucket.stop()
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "could not ask Bitbucket" in result.err
    assert f"kept '{branch}' on 'origin'" in result.out
    assert repo.git("ls-remote", "--heads", "origin", branch) != ""


def test_json_pr_create_prints_one_document(repo: Repo, run, sites: Sites) -> None:
    started(repo, run)
    result = run(repo, "--json", "pr", "create")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert (data["created"], data["pushed"]) == (True, True)
    assert data["pull_request"]["title"] == "PROJ-1: Add login form"
    assert "PROJ-1 is In Review" in result.err  # the human summary, out of stdout's way


def test_a_repository_bitbucket_does_not_have_is_a_config_error(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(repo, run)
    other = "acme/nope" if sites.kind == "cloud" else "ACME/nope"
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_REPOSITORY", other)
    result = run(repo, "pr", "create")
    assert result.code == 3, result.err
    assert f"no repository {other}" in result.err


def test_pr_flag_refuses_the_options_of_the_later_finish(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "release", "start", "1.1.0").code == 0
    repo.commit("CHANGES", "1.1.0\n", "Changes")
    result = run(repo, "release", "finish", "--pr", "-m", "Tag message")
    assert result.code == 2
    assert "--message cannot be used with --pr" in result.err
    assert prs(sites) == []


def test_a_hotfix_of_a_support_branch_opens_its_pull_request_into_that_branch(
    repo: Repo, run, sites: Sites
) -> None:
    assert run(repo, "support", "start", "1.x", "main").code == 0
    repo.git("push", "-q", "origin", "support/1.x")
    assert run(repo, "hotfix", "start", "1.0.1", "support/1.x").code == 0
    repo.commit("fix.txt", "fix\n", "Fix")
    assert run(repo, "pr", "create").code == 0
    assert prs(sites)[0]["destination"] == "support/1.x"


def test_a_move_jira_refuses_does_not_hold_up_the_link(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(repo, run)
    monkeypatch.setenv("JIRAFLOW_JIRA_ON_PR", "No Such Status")
    result = run(repo, "pr", "create")
    assert result.code == 7
    assert len(sites.jira.issue("PROJ-1")["remotelinks"]) == 1
    assert "No Such Status" in result.err


def test_finish_with_fetch_sees_a_merge_made_on_the_server(repo: Repo, run, sites: Sites) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    sites.bitbucket.merge(sites.name, prs(sites)[0]["id"], user="bob")
    sites.bitbucket.stop()  # and then Bitbucket is down: git alone must see the merge
    result = run(repo, "feature", "finish", "-F")
    assert result.code == 0, result.err
    assert "could not ask Bitbucket" in result.err
    assert f"a push merged '{branch}' into 'develop'" in result.out
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")


def test_changes_requested_shows_as_needs_work(repo: Repo, run, sites: Sites) -> None:
    import requests

    started(repo, run)
    assert run(repo, "pr", "create").code == 0
    pr_id = prs(sites)[0]["id"]
    bb = sites.bitbucket
    if sites.kind == "cloud":
        url = f"{bb.api_url}/repositories/{sites.name}/pullrequests/{pr_id}/request-changes"
        answer = requests.post(url, auth=(bb.login("bob"), bb.token("bob")), timeout=5)
    else:
        url = f"{bb.url}/rest/api/1.0/projects/ACME/repos/shop/pull-requests/{pr_id}"
        answer = requests.put(
            f"{url}/participants/bob",
            json={"status": "NEEDS_WORK"},
            headers={"Authorization": f"Bearer {bb.token('bob')}"},
            timeout=5,
        )
    assert answer.status_code < 400, answer.text
    view = run(repo, "pr", "view")
    assert "Bob Builder (needs work)" in view.out


def test_a_follow_up_pushed_after_the_merge_keeps_the_remote_branch(
    repo: Repo, run, sites: Sites, tmp_path
) -> None:
    from gitutil import git

    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    sites.bitbucket.merge(sites.name, prs(sites)[0]["id"], user="bob", close_source_branch=False)
    other = tmp_path / "colleague"
    git(tmp_path, "clone", "-q", "-b", branch, repo.git("remote", "get-url", "origin"), str(other))
    (other / "late.txt").write_text("late\n")
    git(other, "add", "late.txt")
    git(other, "commit", "-qm", "A follow-up")
    git(other, "push", "-q", "origin", branch)
    late = git(other, "rev-parse", "HEAD")
    result = run(repo, "feature", "finish", "-F")
    assert result.code == 0, result.err
    assert "commits pushed after the merge" in result.out
    assert repo.git("ls-remote", "--heads", "origin", branch).split()[0] == late


def test_an_open_pull_request_into_another_branch_keeps_the_remote_branch(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create", "--base", "main").code == 0
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "into 'main' is open on it" in result.out
    assert repo.git("ls-remote", "--heads", "origin", branch) != ""
    assert prs(sites)[0]["state"] == "OPEN"


def test_a_merged_pull_request_of_an_older_branch_with_the_same_name_is_ignored(
    repo: Repo, run, sites: Sites
) -> None:
    branch = started(repo, run)
    assert run(repo, "pr", "create").code == 0
    sites.bitbucket.merge(sites.name, prs(sites)[0]["id"], user="bob")
    assert run(repo, "feature", "finish").code == 0
    repo.git("fetch", "-q", "--prune", "origin")
    # the issue is reopened: the same branch name, new work from the new develop
    repo.git("checkout", "-q", "-b", branch, "develop")
    repo.commit("login.html", "<form>again</form>\n", "Fix the login form")
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "merged 'feature/PROJ-1-add-login-form' into 'develop'" in result.out
    assert "pull request #" not in result.out


def test_my_own_account_id_as_reviewer_is_left_out(repo: Repo, run, sites: Sites) -> None:
    started(repo, run)
    me = sites.bitbucket.me
    mine = me["account_id"] if sites.kind == "cloud" else me["name"]
    result = run(repo, "pr", "create", "-r", mine)
    assert result.code == 0, result.err
    assert "you are the author" in result.out
    assert prs(sites)[0]["reviewers"] == ["bob"]


def test_bitbucket_failing_after_the_push_says_what_was_done(repo: Repo, run, sites: Sites) -> None:
    branch = started(repo, run)
    sites.bitbucket.fault("status", status=500, method="POST", times=1)
    result = run(repo, "pr", "create")
    assert result.code == 6
    assert f"pushed '{branch}', but no pull request was opened" in result.err
    assert repo.exists(f"refs/remotes/origin/{branch}")
    again = run(repo, "pr", "create")
    assert again.code == 0, again.err
    assert len(prs(sites)) == 1


def test_a_token_in_the_remote_url_is_never_printed(repo: Repo, run) -> None:
    repo.git("remote", "set-url", "origin", "https://bob:s3cr3tTOKEN@github.com/acme/shop.git")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "x")
    result = run(repo, "pr", "create")
    assert result.code == 3
    assert "github.com/acme/shop.git" in result.err
    assert "s3cr3t" not in result.out + result.err


def test_a_release_through_a_pull_request_carries_its_notes_and_releases_jira(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--pr commits the notes to the changelog before pushing; the finish after Bitbucket's
    merge tags the merge commit and releases the Jira version (the changelog is not added
    twice)."""
    monkeypatch.setattr("jiraflow.jira.releases.today", lambda: "2026-11-22")
    assert run(repo, "config", "set", "release.changelog", "CHANGELOG.md").code == 0
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "Keep a changelog")
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("form.txt", "form\n", "login form")
    repo.commit("form.txt", "form+\n", "form validation")
    assert run(repo, "feature", "finish").code == 0
    assert run(repo, "release", "start", "1.0.0").code == 0
    opened = run(repo, "release", "finish", "--pr")
    assert opened.code == 0, opened.err
    assert "added the release notes to CHANGELOG.md on 'release/1.0.0'" in opened.out
    pushed = repo.git("show", "origin/release/1.0.0:CHANGELOG.md")
    assert pushed.startswith("# Changelog\n\n## 1.0.0 (2026-11-22)\n") and "PROJ-1" in pushed
    again = run(repo, "release", "finish", "--pr")  # nothing new to write: no second commit
    assert again.code == 0 and "added the release notes" not in again.out
    [pr] = sites.prs()
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    finished = run(repo, "release", "finish")
    assert finished.code == 0, finished.err
    assert repo.git("show", "main:CHANGELOG.md").count("## 1.0.0") == 1
    assert next(v for v in sites.jira.versions("PROJ") if v["name"] == "1.0.0")["released"]
    assert sites.jira.issue("PROJ-1")["fixVersions"] == ["1.0.0"]
