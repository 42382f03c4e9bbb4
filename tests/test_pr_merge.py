"""`jiraflow pr merge` end to end: real repositories with a bare origin that also backs the
sandbox Bitbucket (Cloud and Data Center) over real HTTP, the sandbox Jira, the CLI
in-process. Each refusal changes nothing: branches and tags, here and on the origin, are
compared before and after, and the pull request stays open."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo, git, outbox

NUMBERS = re.compile(r"/\d+(?=/|$)|/[0-9a-f]{40}")


def started(repo: Repo, run, key: str = "PROJ-1") -> str:
    result = run(repo, "feature", "start", key)
    assert result.code == 0, result.err
    repo.commit("login.html", "<form></form>\n", f"{key} add the login form")
    return repo.branch()


def opened(repo: Repo, run, sites: Sites, key: str = "PROJ-1") -> tuple[str, int]:
    """A feature with one commit and its open pull request (its builds passed)."""
    branch = started(repo, run, key)
    result = run(repo, "pr", "create")
    assert result.code == 0, result.err
    passed(sites, repo, branch)
    return branch, int(sites.prs()[-1]["id"])


def passed(sites: Sites, repo: Repo, branch: str, state: str = "SUCCESSFUL") -> None:
    commit = repo.git("rev-parse", branch)
    sites.bitbucket.set_build(sites.name, commit, "ci", state, name="unit tests")


def everything(repo: Repo) -> dict[str, str]:
    """Branches and tags, here and on the origin."""
    here = {r: s for r, s in repo.refs().items() if r.startswith(("refs/heads/", "refs/tags/"))}
    for line in repo.git("ls-remote", "--heads", "--tags", "origin").splitlines():
        sha, ref = line.split()
        here[f"origin {ref}"] = sha
    return here


def state_of(sites: Sites, pr_id: int) -> str:
    return str(sites.bitbucket.pull_request(sites.name, pr_id)["state"])


def parents(repo: Repo, rev: str) -> int:
    return len(repo.git("rev-list", "--parents", "-1", rev).split()) - 1


def colleague_pushes(repo: Repo, tmp_path, branch: str, name: str = "more.txt") -> str:
    """Someone else pushes a commit to `branch` on the origin; its new tip."""
    other = tmp_path / f"colleague-{name}"
    if not other.exists():
        git(tmp_path, "clone", "-q", repo.git("remote", "get-url", "origin"), str(other))
    git(other, "fetch", "-q", "origin")
    git(other, "checkout", "-q", "-B", branch, f"origin/{branch}")
    (other / name).write_text("more\n")
    git(other, "add", name)
    git(other, "commit", "-q", "-m", f"More in {name}")
    git(other, "push", "-q", "origin", branch)
    return git(other, "rev-parse", "HEAD")


def refused(result, before: dict[str, str], repo: Repo, sites: Sites, pr_id: int) -> None:
    assert result.code == 5, (result.code, result.err)
    assert everything(repo) == before
    assert state_of(sites, pr_id) == "OPEN"


# -- the merge and the finish after it ------------------------------------------------------


def test_a_feature_is_merged_on_bitbucket_and_finished_here(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    result = run(repo, "pr", "merge")
    assert result.code == 0, result.err
    assert f"Bitbucket merged pull request #{pr_id} ('{branch}' into 'develop'" in result.out
    assert f"pull request #{pr_id} merged '{branch}' into 'develop'" in result.out  # the finish
    assert state_of(sites, pr_id) == "MERGED"
    assert repo.branch() == "develop"
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")
    assert parents(repo, "develop") == 2  # Bitbucket's merge commit, not one made here
    assert not repo.exists(f"refs/heads/{branch}")
    assert repo.git("ls-remote", "--heads", "origin", branch) == ""
    assert (repo.path / "login.html").exists()
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


def test_keep_branch_keeps_it_here_and_on_the_remote(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    result = run(repo, "pr", "merge", str(pr_id), "--keep-branch")
    assert result.code == 0, result.err
    assert state_of(sites, pr_id) == "MERGED"
    assert repo.exists(f"refs/heads/{branch}")
    assert repo.git("ls-remote", "--heads", "origin", branch) != ""
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")


@pytest.mark.parametrize("flag", ["--merge", "--squash", "--ff"])
def test_each_strategy(repo: Repo, run, sites: Sites, flag: str) -> None:
    branch, _pr_id = opened(repo, run, sites)
    tip = repo.git("rev-parse", branch)
    result = run(repo, "pr", "merge", flag, "--keep-branch")
    assert result.code == 0, result.err
    develop = repo.git("rev-parse", "origin/develop")
    assert repo.git("rev-parse", "develop") == develop
    if flag == "--merge":
        assert parents(repo, develop) == 2 and repo.git("rev-parse", f"{develop}^2") == tip
    elif flag == "--squash":
        assert parents(repo, develop) == 1 and develop != tip
        assert repo.git("show", f"{develop}:login.html") == "<form></form>"
    else:
        assert develop == tip


def test_message_is_the_merge_commits(repo: Repo, run, sites: Sites) -> None:
    opened(repo, run, sites)
    result = run(repo, "pr", "merge", "-m", "Login form, reviewed by Bob")
    assert result.code == 0, result.err
    message = repo.git("log", "-1", "--format=%B", "origin/develop")
    assert message.endswith("Login form, reviewed by Bob")  # Data Center: after its subject


def test_the_repository_default_strategy_is_used_without_a_flag(
    repo: Repo, run, sites: Sites
) -> None:
    squash = "squash"
    sites.bitbucket.set_merge_rules(sites.name, default=squash)
    branch, _pr_id = opened(repo, run, sites)
    result = run(repo, "--json", "pr", "merge", "--keep-branch")
    assert result.code == 0, result.err
    develop = repo.git("rev-parse", "origin/develop")
    assert parents(repo, develop) == 1 and develop != repo.git("rev-parse", branch)
    assert json.loads(result.out)["strategy"] == "squash"


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_no_default_named_leaves_the_choice_to_bitbucket(repo: Repo, run, sites: Sites) -> None:
    sites.bitbucket.set_merge_rules(sites.name, default="squash")
    opened(repo, run, sites)
    sites.bitbucket.fault(  # settings that name no default and no strategy
        "body", status=200, body={"mergeConfig": {"strategies": []}}, path="/settings/"
    )
    result = run(repo, "--json", "pr", "merge", "--keep-branch")
    assert result.code == 0, result.err
    assert json.loads(result.out)["strategy"] is None
    assert "the destination's default strategy" in result.err
    assert parents(repo, repo.git("rev-parse", "origin/develop")) == 1  # Bitbucket's: squash


def test_a_strategy_the_repository_does_not_enable_is_refused(
    repo: Repo, run, sites: Sites
) -> None:
    enabled = ["merge_commit"] if sites.kind == "cloud" else ["no-ff"]
    sites.bitbucket.set_merge_rules(sites.name, enabled=enabled)
    _branch, pr_id = opened(repo, run, sites)
    before = everything(repo)
    result = run(repo, "pr", "merge", "--squash")
    refused(result, before, repo, sites, pr_id)
    assert "squash is not enabled for pull requests into 'develop'" in result.err
    assert "enabled: merge commit" in result.err
    assert f"jiraflow pr merge {pr_id} --merge" in result.err


def test_json_result(repo: Repo, run, sites: Sites) -> None:
    _branch, pr_id = opened(repo, run, sites)
    result = run(repo, "--json", "pr", "merge")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["ok"] is True and doc["branch"] == "develop"
    assert doc["pull_request"]["id"] == pr_id and doc["pull_request"]["state"] == "MERGED"
    assert doc["merge_commit"] == repo.git("rev-parse", "origin/develop")
    assert doc["strategy"] == "merge_commit" and doc["builds"] == "success"
    assert any(f"Bitbucket merged pull request #{pr_id}" in line for line in doc["done"])


def test_dry_run_prints_the_plan_and_changes_nothing(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    before = everything(repo)
    result = run(repo, "--dry-run", "pr", "merge", "--squash")
    assert result.code == 0, result.err
    assert f"merge pull request #{pr_id} ('{branch}' into 'develop') on Bitbucket: squash" in (
        result.out
    )
    assert f"jiraflow feature finish {branch} --fetch --no-keep" in result.out
    assert everything(repo) == before and state_of(sites, pr_id) == "OPEN"


@pytest.mark.parametrize(("kind", "version"), [("release", "1.1.0"), ("hotfix", "1.0.1")])
def test_a_release_pull_request_into_main_is_tagged_and_merged_back(
    repo: Repo, run, sites: Sites, kind: str, version: str
) -> None:
    branch = f"{kind}/{version}"
    assert run(repo, kind, "start", version).code == 0
    repo.commit("CHANGES", f"{version}\n", f"Changes for {version}")
    opened_pr = run(repo, kind, "finish", "--pr")
    assert opened_pr.code == 0, opened_pr.err
    [pr] = sites.prs()
    passed(sites, repo, branch)
    result = run(repo, "pr", "merge")
    assert result.code == 0, result.err
    merge_commit = repo.git("rev-parse", "origin/main")
    assert repo.git("rev-parse", f"{version}^{{commit}}") == merge_commit  # Bitbucket's, tagged
    assert parents(repo, merge_commit) == 2
    assert repo.branch() == "develop"
    repo.git("merge-base", "--is-ancestor", version, "develop")  # merged back (raises if not)
    assert not repo.exists(f"refs/heads/{branch}")
    assert repo.git("ls-remote", "--heads", "origin", branch) == ""
    assert state_of(sites, pr["id"]) == "MERGED"


def test_with_main_and_develop_protected_a_release_ends_with_two_merges(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    sites.bitbucket.protect(sites.name, ["main", "develop"])  # pushes to them are refused
    monkeypatch.setenv("JIRAFLOW_GITFLOW_PROTECTED", "main,develop")
    assert run(repo, "release", "start", "2.0.0").code == 0
    repo.commit("CHANGES", "2.0.0\n", "Changes for 2.0.0")
    assert run(repo, "release", "finish", "--pr").code == 0
    passed(sites, repo, "release/2.0.0")
    first = run(repo, "pr", "merge")  # into main: tagged, back-merge pull request opened
    assert first.code == 0, first.err
    merge_commit = repo.git("ls-remote", "origin", "refs/heads/main").split()[0]
    assert repo.git("rev-parse", "2.0.0^{commit}") == merge_commit
    back = [p for p in sites.prs() if p["state"] == "OPEN"]
    assert len(back) == 1 and repo.exists("refs/heads/release/2.0.0")
    repo.git("checkout", "-q", "develop")
    second = run(repo, "pr", "merge", str(back[0]["id"]))  # the back-merge completes it
    assert second.code == 0, second.err
    assert not repo.exists("refs/heads/release/2.0.0")
    assert repo.branch() == "develop"
    repo.git("merge-base", "--is-ancestor", "2.0.0", "develop")
    assert [p["state"] for p in sites.prs()] == ["MERGED", "MERGED"]


def test_a_source_that_is_no_gitflow_branch_only_updates_the_destination(
    repo: Repo, run, sites: Sites
) -> None:
    repo.git("checkout", "-q", "-b", "topic", "develop")
    repo.commit("topic.txt", "t\n", "A topic")
    repo.git("push", "-q", "origin", "topic")
    repo.git("checkout", "-q", "develop")
    pr = sites.bitbucket.create_pull_request(sites.name, "topic", "develop")
    result = run(repo, "pr", "merge", str(pr["id"]))
    assert result.code == 0, result.err
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")
    assert (repo.path / "topic.txt").exists()
    assert repo.exists("refs/heads/topic")  # not a Gitflow branch: left alone
    assert "updated 'develop' from 'origin'" in result.out


# -- refusals: nothing changes --------------------------------------------------------------


def test_local_commits_the_pull_request_lacks_are_refused(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    repo.commit("late.txt", "late\n", "A commit not pushed")
    before = everything(repo)
    result = run(repo, "pr", "merge")
    refused(result, before, repo, sites, pr_id)
    assert f"'{branch}' has 1 commit that pull request #{pr_id} lacks" in result.err
    assert "jiraflow pr create" in result.err and "git push" in result.err


def test_a_pull_request_that_is_not_open_is_refused(repo: Repo, run, sites: Sites) -> None:
    _branch, pr_id = opened(repo, run, sites)
    sites.bitbucket.decline(sites.name, pr_id)
    before = everything(repo)
    result = run(repo, "pr", "merge", str(pr_id))
    assert result.code == 5
    assert f"pull request #{pr_id} is declined" in result.err
    assert everything(repo) == before


def test_what_bitbucket_refuses_is_shown_line_by_line(repo: Repo, run, sites: Sites) -> None:
    reasons = [("Requires 2 approvals", "Only 0 of 2 reviewers approved."), ("Tasks open", "")]
    if sites.kind == "cloud":  # Cloud's merge checks: each a reason
        sites.bitbucket.set_merge_rules(sites.name, blockers=[r for r, _ in reasons])
        shown = ["  - Requires 2 approvals", "  - Tasks open"]
    else:  # Data Center's vetoes: summary and detail
        sites.bitbucket.set_merge_rules(sites.name, blockers=reasons)
        shown = ["  - Requires 2 approvals: Only 0 of 2 reviewers approved.", "  - Tasks open"]
    _branch, pr_id = opened(repo, run, sites)
    before = everything(repo)
    result = run(repo, "pr", "merge")
    refused(result, before, repo, sites, pr_id)
    lines = result.err.splitlines()
    assert all(line in lines for line in shown), result.err
    # Data Center is asked before the merge, which is then not sent; Cloud says it on the merge
    assert sites.bitbucket.count("POST", "/merge") == (1 if sites.kind == "cloud" else 0)
    assert f"jiraflow pr merge {pr_id}" in result.err
    as_json = run(repo, "--json", "pr", "merge")
    assert as_json.code == 5
    assert len(json.loads(as_json.out)["reasons"]) == 2


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_a_required_build_not_reported_is_a_data_center_veto(repo: Repo, run, sites: Sites) -> None:
    sites.bitbucket.require_builds(sites.name, ["ci", "e2e"], "develop")
    _branch, pr_id = opened(repo, run, sites)  # "ci" passed; "e2e" never reported
    before = everything(repo)
    result = run(repo, "pr", "merge")
    refused(result, before, repo, sites, pr_id)
    assert "  - Not all required builds are successful yet: You still need 1 successful " in (
        result.err
    )
    assert "(e2e)" in result.err


def test_a_conflict_is_refused(repo: Repo, run, sites: Sites, tmp_path) -> None:
    _branch, pr_id = opened(repo, run, sites)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", repo.git("remote", "get-url", "origin"), str(other))
    git(other, "checkout", "-q", "develop")
    (other / "login.html").write_text("<p>theirs</p>\n")
    git(other, "add", "login.html")
    git(other, "commit", "-q", "-m", "Theirs")
    git(other, "push", "-q", "origin", "develop")
    before = everything(repo)
    result = run(repo, "pr", "merge")
    refused(result, before, repo, sites, pr_id)
    assert "conflict" in result.err
    assert sites.bitbucket.count("POST", "/merge") == (1 if sites.kind == "cloud" else 0)


def test_failed_builds_are_refused(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    passed(sites, repo, branch, "FAILED")
    before = everything(repo)
    result = run(repo, "pr", "merge")
    refused(result, before, repo, sites, pr_id)
    assert f"1 build failed on pull request #{pr_id}: 'unit tests'" in result.err


def test_running_builds_stop_it_and_wait_waits_for_them(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch, pr_id = opened(repo, run, sites)
    passed(sites, repo, branch, "INPROGRESS")
    before = everything(repo)
    result = run(repo, "pr", "merge")
    assert result.code == 8, result.err
    assert f"jiraflow pr merge {pr_id} --wait" in result.err
    assert everything(repo) == before and state_of(sites, pr_id) == "OPEN"

    from jiraflow.services import builds

    polls: list[float] = []

    def pause(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) == 2:
            passed(sites, repo, branch)

    monkeypatch.setattr(builds, "pause", pause)
    result = run(repo, "pr", "merge", "--wait", "--interval", "3")
    assert result.code == 0, result.err
    assert polls == [3, 3]
    assert "unit tests" in result.out  # shown as pr checks --watch shows it
    assert state_of(sites, pr_id) == "MERGED"


def test_match_head_refuses_a_head_other_than_the_local_tip(
    repo: Repo, run, sites: Sites, tmp_path
) -> None:
    branch, pr_id = opened(repo, run, sites)
    colleague_pushes(repo, tmp_path, branch)  # the local branch is now behind the PR
    before = everything(repo)
    result = run(repo, "pr", "merge", "--match-head")
    refused(result, {**before, **{k: v for k, v in everything(repo).items() if "origin" in k}},
            repo, sites, pr_id)  # fmt: skip
    assert "--match-head" in result.err and f"not the tip of '{branch}'" in result.err


def test_a_push_between_the_check_and_the_merge_is_not_merged_unseen(
    repo: Repo, run, sites: Sites, tmp_path
) -> None:
    branch, pr_id = opened(repo, run, sites)
    checked = repo.git("rev-parse", branch)
    pushed: list[str] = []
    # the push lands while the builds are read: after the pull request was, before the merge
    build_path = "/statuses" if sites.kind == "cloud" else checked
    sites.bitbucket.before(
        "GET", build_path, lambda: pushed.append(colleague_pushes(repo, tmp_path, branch))
    )
    result = run(repo, "pr", "merge")
    assert pushed, "the push did not happen"
    assert result.code == 5, result.err
    assert f"pull request #{pr_id} changed since it was checked" in result.err
    assert state_of(sites, pr_id) == "OPEN"
    assert repo.git("ls-remote", "origin", "refs/heads/develop").split()[0] == repo.git(
        "rev-parse", "develop"
    )
    assert repo.git("rev-parse", branch) == checked


def test_bitbucket_down_before_the_merge_exits_6_with_nothing_changed(
    repo: Repo, run, sites: Sites
) -> None:
    _branch, pr_id = opened(repo, run, sites)
    before = everything(repo)
    sites.bitbucket.fault("status", status=500, method="POST", path="/merge")
    result = run(repo, "pr", "merge")
    assert result.code == 6, result.err
    assert everything(repo) == before and state_of(sites, pr_id) == "OPEN"


# -- after Bitbucket merged ------------------------------------------------------------------


def test_a_local_failure_after_the_merge_names_the_finish_that_completes_it(
    repo: Repo, run, sites: Sites
) -> None:
    branch, pr_id = opened(repo, run, sites)

    def edit() -> None:  # the tree becomes dirty while Bitbucket merges
        (repo.path / "login.html").write_text("<form>edited</form>\n")

    sites.bitbucket.before("POST", "/merge", edit)
    result = run(repo, "pr", "merge")
    assert result.code == 5, result.err
    assert f"Bitbucket merged pull request #{pr_id}, but the local part failed" in result.err
    assert f"jiraflow feature finish {branch}" in result.err
    assert state_of(sites, pr_id) == "MERGED"
    repo.git("checkout", "--", "login.html")
    finished = run(repo, "feature", "finish", branch)
    assert finished.code == 0, finished.err
    assert not repo.exists(f"refs/heads/{branch}")
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


def test_jira_down_after_the_merge_queues_the_move(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    sites.jira.fault("status", status=503, method="POST", path="/transitions", times=None)
    result = run(repo, "pr", "merge")
    assert result.code == 7, result.err
    assert state_of(sites, pr_id) == "MERGED"
    assert not repo.exists(f"refs/heads/{branch}")
    assert outbox(repo)


# -- Cloud's merge task ------------------------------------------------------------------------


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_a_cloud_merge_task_is_polled_until_it_ends(repo: Repo, run, sites: Sites) -> None:
    sites.bitbucket.set_merge_rules(sites.name, polls=3)
    _branch, pr_id = opened(repo, run, sites)
    sites.clear_requests()
    result = run(repo, "pr", "merge")
    assert result.code == 0, result.err
    assert sites.bitbucket.count("GET", "/merge/task-status/") == 4  # 3 PENDING, then SUCCESS
    assert state_of(sites, pr_id) == "MERGED"
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_a_cloud_task_outside_the_api_is_not_followed(repo: Repo, run, sites: Sites) -> None:
    sites.bitbucket.set_merge_rules(
        sites.name, polls=1, task_location="https://elsewhere.example/task/1"
    )
    branch, _pr_id = opened(repo, run, sites)
    sites.clear_requests()
    result = run(repo, "pr", "merge")
    assert result.code == 6, result.err
    assert "outside" in result.err and "elsewhere.example" in result.err
    assert sites.bitbucket.count("GET", "/task") == 0
    assert repo.exists(f"refs/heads/{branch}")  # no finish on an unconfirmed merge


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_a_cloud_202_without_a_task_is_an_invalid_answer(repo: Repo, run, sites: Sites) -> None:
    branch, _pr_id = opened(repo, run, sites)
    sites.bitbucket.fault("body", status=202, body={}, method="POST", path="/merge")
    result = run(repo, "pr", "merge")
    assert result.code == 6, result.err
    assert "202 with no task" in result.err
    assert repo.exists(f"refs/heads/{branch}")


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
@pytest.mark.parametrize(
    ("status", "code", "said"),
    [(409, 5, "it is being merged, or it changed meanwhile"), (555, 6, "it may still merge it")],
)
def test_cloud_409_and_555_are_explained(
    repo: Repo, run, sites: Sites, status: int, code: int, said: str
) -> None:
    _branch, pr_id = opened(repo, run, sites)
    before = everything(repo)
    sites.bitbucket.fault("status", status=status, method="POST", path="/merge")
    result = run(repo, "pr", "merge")
    assert result.code == code, result.err
    assert said in result.err and f"jiraflow pr view {pr_id}" in result.err
    assert everything(repo) == before
    assert sites.bitbucket.count("POST", "/merge") == 1  # sent once, never again


# -- request budget ----------------------------------------------------------------------------


def test_a_feature_with_passing_builds_takes_at_most_6_bitbucket_and_2_jira_requests(
    repo: Repo, run, sites: Sites
) -> None:
    from jiraflow.sandbox.server import round_trips

    assert run(repo, "feature", "start", "PROJ-8").code == 0  # the site caches are warm
    repo.commit("deps.txt", "upgraded\n", "PROJ-8 upgrade the dependencies")
    assert run(repo, "pr", "create").code == 0
    repo.git("checkout", "-q", "develop")
    opened(repo, run, sites)
    sites.clear_requests()
    sites.jira.latency = sites.bitbucket.latency = 0.1
    try:
        result = run(repo, "pr", "merge")
    finally:
        sites.jira.latency = sites.bitbucket.latency = 0.0
    assert result.code == 0, result.err
    asked = Counter(r.method + " " + NUMBERS.sub("/N", r.path) for r in sites.bitbucket.requests)
    if sites.kind == "cloud":
        pulls = "/2.0/repositories/acme/shop/pullrequests"
        assert asked == {
            f"GET {pulls}": 1,  # the branch's pull requests (the finish asks no more)
            f"GET {pulls}/N/statuses": 1,  # its builds
            f"GET {pulls}/N": 1,  # its head again, with the destination's strategies
            f"POST {pulls}/N/merge": 1,
        }
    else:
        pulls = "/rest/api/1.0/projects/ACME/repos/shop/pull-requests"
        assert asked == {
            f"GET {pulls}": 1,
            f"GET {pulls}/N/merge": 1,  # can it merge (vetoes, conflicts)
            "GET /rest/build-status/latest/commits/N": 1,
            "GET /rest/api/1.0/projects/ACME/repos/shop/settings/pull-requests": 1,
            f"POST {pulls}/N/merge": 1,
        }
    assert [r.method for r in sites.jira.requests] == ["GET", "POST"]  # the issue, its move
    # the issue read with the pull request's list; the checks at once; the merge; the move
    assert round_trips(sites.jira.requests + sites.bitbucket.requests) == 4


def test_a_push_with_its_own_builds_while_the_builds_are_read_is_refused(
    repo: Repo, run, sites: Sites, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head read goes out with the builds' read: a push between them (its commit's
    builds already reported) is not merged. Cloud: the head is read first here, the push
    lands before the statuses are: they name the pushed commit, not the head read."""
    import threading

    from jiraflow.bitbucket.cloud import CloudClient

    branch, pr_id = opened(repo, run, sites)
    checked = repo.git("rev-parse", branch)
    head_read = threading.Event()
    merge_head, builds_of = CloudClient.merge_head, CloudClient.pull_request_builds

    def read_head(self: CloudClient, pull: Any) -> Any:
        try:
            return merge_head(self, pull)
        finally:
            head_read.set()

    def read_builds(self: CloudClient, pull: Any) -> Any:
        assert head_read.wait(10)
        return builds_of(self, pull)

    monkeypatch.setattr(CloudClient, "merge_head", read_head)
    monkeypatch.setattr(CloudClient, "pull_request_builds", read_builds)

    def push_and_build() -> None:
        head = colleague_pushes(repo, tmp_path, branch)
        sites.bitbucket.set_build(sites.name, head, "ci", "SUCCESSFUL", name="unit tests")

    sites.bitbucket.before("GET", "/statuses" if sites.kind == "cloud" else checked, push_and_build)
    result = run(repo, "pr", "merge")
    assert result.code == 5, result.err
    assert f"pull request #{pr_id} changed" in result.err and "someone pushed" in result.err
    assert state_of(sites, pr_id) == "OPEN"
    assert repo.git("rev-parse", branch) == checked


def test_without_builds_cloud_reads_the_head_again_after_judging_them(
    repo: Repo, run, sites: Sites
) -> None:
    """No build names the head the statuses were read for: the head is read again once they
    were judged (a push meanwhile is then seen), as before the reads went out together."""
    started(repo, run)
    assert run(repo, "pr", "create").code == 0
    sites.clear_requests()
    result = run(repo, "pr", "merge")
    assert result.code == 0, result.err
    records = sites.bitbucket.requests
    heads = [r for r in records if r.method == "GET" and re.search(r"/pullrequests/\d+$", r.path)]
    statuses = [r for r in records if r.path.endswith("/statuses")]
    if sites.kind == "cloud":
        assert len(heads) == 2 and len(statuses) == 1
        assert heads[-1].started >= statuses[0].finished  # after the builds were judged
    else:  # the merge names the version read: nothing to read again
        assert not [r for r in records if re.search(r"/pull-requests/\d+$", r.path)]


def test_a_status_naming_another_commit_than_the_head_read_refuses() -> None:
    from jiraflow.bitbucket.client import HeadMoved, PullRequest, User
    from jiraflow.bitbucket.cloud import cloud_build
    from jiraflow.services.merging import _same_head

    head, other = "a" * 40, "b" * 40
    status = {
        "key": "ci",
        "state": "SUCCESSFUL",
        "links": {"commit": {"href": f"x/commit/{other}"}},
    }
    build = cloud_build(status)
    assert build.commit == other
    assert cloud_build({"key": "ci", "state": "FAILED"}).commit == ""  # the link is optional
    user = User(id="u", name="u", display="U")
    pull = PullRequest(id=3, title="t", state="OPEN", source="feature/x", destination="develop",
                       url="", author=user, source_commit=head[:12])  # fmt: skip
    _same_head(pull, pull, [cloud_build({**status, "links": {"commit": {"href": head}}})])
    with pytest.raises(HeadMoved, match=r"its builds are those of bbbbbbbbbbbb"):
        _same_head(pull, pull, [build])


# -- the sandbox's new answers, against the specs ---------------------------------------------


def validator_for(kind: str, **extra: set[str]) -> Any:
    from openapi_check import SpecValidator, load_spec
    from test_sandbox_bitbucket import CLOUD_SPEC, DC_SPEC, REFERENCE, SPEC_NULLS, SPEC_OMISSIONS

    spec = load_spec(REFERENCE / "specs" / (CLOUD_SPEC if kind == "cloud" else DC_SPEC))
    return SpecValidator(spec, {**SPEC_OMISSIONS[kind], **extra}, SPEC_NULLS[kind])


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_cloud_shapes(repo: Repo, run, sites: Sites) -> None:
    from test_sandbox_bitbucket import call, prs_path

    sb = sites.bitbucket
    sb.set_merge_rules(sites.name, default="squash", polls=1)
    _branch, pr_id = opened(repo, run, sites)
    validator = validator_for("cloud")
    schema = validator.schema("pullrequest")
    fields = {
        "fields": "+destination.branch.merge_strategies,+destination.branch.default_merge_strategy"
    }
    whole = call(sb, "GET", prs_path(sb, f"/{pr_id}"), params=fields)
    assert validator.validate(whole.body, schema) == []
    assert whole.body["destination"]["branch"] == {
        "name": "develop",
        "merge_strategies": ["merge_commit", "squash", "fast_forward"],
        "default_merge_strategy": "squash",
    }
    plain = call(sb, "GET", prs_path(sb, f"/{pr_id}"))
    assert plain.body["destination"]["branch"] == {"name": "develop"}  # as captured
    body = {"type": "pullrequest", "merge_strategy": "merge_commit"}
    assert validator.validate(body, validator.schema("pullrequest_merge_parameters")) == []
    sb.set_merge_rules(sites.name, blockers=["You need 2 approvals"])
    blocked = call(sb, "POST", prs_path(sb, f"/{pr_id}/merge"), body, user="bob")
    assert blocked.status == 400
    assert validator.validate(blocked.body, validator.schema("error")) == []
    sb.set_merge_rules(sites.name, blockers=[])
    task = call(
        sb, "POST", prs_path(sb, f"/{pr_id}/merge"), body, user="bob", params={"async": "true"}
    )
    assert task.status == 202
    location = task.headers["Location"]
    assert location.startswith(
        f"{sb.url}/2.0/repositories/acme/shop/pullrequests/{pr_id}/merge/task-status/"
    )
    path = location.removeprefix(f"{sb.url}/2.0/")
    assert call(sb, "GET", path).body == {"task_status": "PENDING"}
    done = call(sb, "GET", path).body
    assert done["task_status"] == "SUCCESS"
    assert validator.validate(done["merge_result"], schema) == []
    assert done["merge_result"]["state"] == "MERGED"


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_data_center_shapes(repo: Repo, run, sites: Sites) -> None:
    from test_sandbox_bitbucket import call, prs_path, repo_path

    sb = sites.bitbucket
    sb.set_merge_rules(sites.name, blockers=[("Needs 2 approvals", "0 of 2 approved")])
    _branch, pr_id = opened(repo, run, sites)
    # canMerge: sent by servers, left out of the 9.4 spec's schema
    validator = validator_for("datacenter", RestPullRequestMergeability={"canMerge"})
    prefix = "/api/latest/projects/{projectKey}/repos/{repositorySlug}"
    check = call(sb, "GET", prs_path(sb, f"/{pr_id}/merge"))
    schema = validator.response_schema(
        "get", f"{prefix}/pull-requests/{{pullRequestId}}/merge", 200
    )
    assert validator.validate(check.body, schema) == []
    assert check.body == {
        "canMerge": False,
        "conflicted": False,
        "outcome": "CLEAN",
        "vetoes": [{"summaryMessage": "Needs 2 approvals", "detailedMessage": "0 of 2 approved"}],
    }
    settings = call(sb, "GET", repo_path(sb, "/settings/pull-requests"))
    schema = validator.response_schema("get", f"{prefix}/settings/pull-requests", 200)
    assert validator.validate(settings.body, schema) == []
    config = settings.body["mergeConfig"]
    assert config["defaultStrategy"]["id"] == "no-ff"
    assert [s["id"] for s in config["strategies"] if s["enabled"]] == [
        "no-ff",
        "ff",
        "ff-only",
        "squash",
    ]
    version = sb.pull_request(sites.name, pr_id)["version"]
    vetoed = call(sb, "POST", prs_path(sb, f"/{pr_id}/merge"), {}, params={"version": version})
    assert vetoed.status == 409
    [error] = vetoed.body["errors"]
    assert error["exceptionName"].endswith("PullRequestMergeVetoedException")
    assert validator.validate(error, validator.schema("RestErrorMessage")) == []
    assert error["vetoes"] == check.body["vetoes"]


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_data_center_push_raises_the_version(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    version = sites.bitbucket.pull_request(sites.name, pr_id)["version"]
    repo.commit("more.txt", "more\n", "More")
    repo.git("push", "-q", "origin", branch)
    assert sites.bitbucket.pull_request(sites.name, pr_id)["version"] == version  # not read yet
    from test_sandbox_bitbucket import call, prs_path

    read = call(sites.bitbucket, "GET", prs_path(sites.bitbucket, f"/{pr_id}"))
    assert read.body["version"] == version + 1
    assert read.body["fromRef"]["latestCommit"] == repo.git("rev-parse", branch)


# -- a colleague's branch, the configuration, a stopped finish (FIX-MERGE) -------------------


def colleagues_feature(repo: Repo, tmp_path, sites: Sites, key: str = "PROJ-2") -> tuple[str, int]:
    """A feature pushed by someone else (no local branch here), with its open pull request
    into develop and passing builds."""
    branch = f"feature/{key}-their-work"
    other = tmp_path / f"colleague-{key}"
    git(tmp_path, "clone", "-q", repo.git("remote", "get-url", "origin"), str(other))
    git(other, "checkout", "-q", "-b", branch, "origin/develop")
    (other / "theirs.txt").write_text("theirs\n")
    git(other, "add", "theirs.txt")
    git(other, "commit", "-q", "-m", f"{key} their work")
    git(other, "push", "-q", "origin", branch)
    commit = git(other, "rev-parse", "HEAD")
    sites.bitbucket.set_build(sites.name, commit, "ci", "SUCCESSFUL", name="unit tests")
    pr = sites.bitbucket.create_pull_request(sites.name, branch, "develop")
    repo.git("fetch", "-q", "origin")
    return branch, int(pr["id"])


@pytest.mark.parametrize("keep", [False, True])
def test_a_colleagues_feature_is_finished_on_the_remote(
    repo: Repo, run, sites: Sites, tmp_path, keep: bool
) -> None:
    branch, pr_id = colleagues_feature(repo, tmp_path, sites)
    result = run(repo, "pr", "merge", str(pr_id), *(["--keep-branch"] if keep else []))
    assert result.code == 0, result.err
    assert state_of(sites, pr_id) == "MERGED"
    assert not repo.exists(f"refs/heads/{branch}")  # never made here
    on_remote = repo.git("ls-remote", "--heads", "origin", branch)
    assert (on_remote != "") is keep
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")
    assert (repo.path / "theirs.txt").exists()
    assert sites.jira.issue("PROJ-2")["status"] == "Done"  # jira.on.finish, as a finish


def test_a_colleagues_feature_with_jira_down_queues_the_move(
    repo: Repo, run, sites: Sites, tmp_path
) -> None:
    branch, pr_id = colleagues_feature(repo, tmp_path, sites)
    sites.jira.fault("status", status=503, method="POST", path="/transitions", times=None)
    result = run(repo, "pr", "merge", str(pr_id))
    assert result.code == 7, result.err
    assert state_of(sites, pr_id) == "MERGED"
    assert repo.git("ls-remote", "--heads", "origin", branch) == ""
    assert outbox(repo)
    assert "jiraflow sync" in result.err


def test_a_colleagues_feature_in_the_dry_run_plan(repo: Repo, run, sites: Sites, tmp_path) -> None:
    branch, pr_id = colleagues_feature(repo, tmp_path, sites)
    result = run(repo, "--dry-run", "pr", "merge", str(pr_id))
    assert result.code == 0, result.err
    assert f"delete '{branch}' on 'origin'" in result.out
    assert "move its issue as `jiraflow feature finish` does" in result.out
    assert state_of(sites, pr_id) == "OPEN"


def test_finish_keep_in_the_configuration_keeps_the_branch(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRAFLOW_FINISH_KEEP", "true")
    branch, pr_id = opened(repo, run, sites)
    dry = run(repo, "--dry-run", "pr", "merge")
    assert f"jiraflow feature finish {branch} --fetch --keep" in dry.out
    result = run(repo, "pr", "merge")
    assert result.code == 0, result.err
    assert state_of(sites, pr_id) == "MERGED"
    assert repo.exists(f"refs/heads/{branch}")
    assert repo.git("ls-remote", "--heads", "origin", branch) != ""


def test_a_finish_that_stops_keeps_its_own_error_and_hint(repo: Repo, run, sites: Sites) -> None:
    branch, pr_id = opened(repo, run, sites)
    sites.bitbucket.protect(sites.name, ["feature/*"])  # the server refuses deleting it
    result = run(repo, "pr", "merge")
    assert state_of(sites, pr_id) == "MERGED"
    assert result.code == 6, result.err
    assert f"Bitbucket merged pull request #{pr_id}" in result.err
    assert "--continue" in result.err or "--abort" in result.err
    assert f"Complete it with `jiraflow feature finish {branch}`" not in result.err
    assert "in progress" in run(repo, "feature", "finish", branch).err  # why it must not say so


def test_only_strategies_without_a_flag_send_to_bitbucket(repo: Repo, run, sites: Sites) -> None:
    enabled = ["rebase_merge"] if sites.kind == "cloud" else ["rebase-no-ff"]
    sites.bitbucket.set_merge_rules(sites.name, enabled=enabled, default=enabled[0])
    _branch, pr_id = opened(repo, run, sites)
    before = everything(repo)
    result = run(repo, "pr", "merge", "--squash")
    refused(result, before, repo, sites, pr_id)
    assert "enabled: rebase and merge commit" in result.err
    assert "merge it on Bitbucket (http" in result.err
    assert "--merge" not in result.err


# -- Cloud: a failure after the 202 ------------------------------------------------------------


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
@pytest.mark.parametrize("fault", ["500", "timeout", "malformed"])
def test_a_failure_while_polling_the_task_may_have_merged(
    repo: Repo, run, sites: Sites, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sites.bitbucket.set_merge_rules(sites.name, polls=1)
    branch, pr_id = opened(repo, run, sites)
    path = "/merge/task-status/"
    if fault == "500":
        sites.bitbucket.fault("status", status=500, method="GET", path=path)
    elif fault == "timeout":
        monkeypatch.setenv("JIRAFLOW_BITBUCKET_TIMEOUT", "1")
        sites.bitbucket.fault("latency", delay=2.5, method="GET", path=path, times=None)
    else:
        sites.bitbucket.fault("body", status=200, body={"task_status": 7}, method="GET", path=path)
    result = run(repo, "pr", "merge")
    assert result.code == 6, result.err
    assert "may have been merged" in result.err
    assert f"jiraflow pr view {pr_id}" in result.err
    assert repo.exists(f"refs/heads/{branch}")  # no finish on an unconfirmed merge
