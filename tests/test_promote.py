"""`jiraflow promote ENV`: the environment's branch fast-forwarded or merged to its source,
refused when it has commits the source lacks, pushed, continued or aborted after a conflict,
through a pull request, and the Jira issues of what it newly holds moved (never backwards).
Real repositories with a bare origin, the sandboxes over real HTTP (tests/conftest.py)."""

from __future__ import annotations

import json
import math

import pytest

from gitutil import Repo, outbox

CHAIN = """
[[environments]]
name = "qa"
branch = "qa"
jira = "In Progress"

[[environments]]
name = "staging"
branch = "staging"
jira = "In Review"

[[environments]]
name = "production"
branch = "main"
jira = "category:done"
"""


def chained(repo: Repo, chain: str = CHAIN) -> Repo:
    """The chain committed on develop, qa and staging made from it and pushed."""
    path = repo.path / ".jiraflow.toml"
    path.write_text(path.read_text() + chain)
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "--quiet", "-m", "the chain")
    repo.git("push", "--quiet", "origin", "develop")
    for branch in ("qa", "staging"):
        repo.git("branch", branch, "develop")
        repo.git("push", "--quiet", "origin", branch)
    return repo


def tip(repo: Repo, ref: str) -> str:
    return repo.git("rev-parse", ref)


def test_fast_forward_from_develop_and_push(repo: Repo, run) -> None:
    chained(repo)
    new = repo.commit(message="PROJ-1 login form")
    result = run(repo, "promote", "qa", "--no-jira")
    assert result.code == 0, result.err
    assert tip(repo, "qa") == new == tip(repo, "origin/qa")  # fast-forward, pushed
    assert repo.branch() == "develop"
    assert "fast-forward" in result.out


def test_merge_commit_when_no_fast_forward(repo: Repo, run) -> None:
    chained(repo)
    repo.commit(message="on develop")
    repo.git("checkout", "--quiet", "qa")
    repo.git("merge", "--quiet", "--no-ff", "-m", "merged", "develop")  # a merge only on qa
    repo.git("push", "--quiet", "origin", "qa")
    repo.git("checkout", "--quiet", "develop")
    newer = repo.commit(message="more")
    result = run(repo, "promote", "qa", "--no-jira")
    assert result.code == 0, result.err
    assert repo.git("log", "-1", "--format=%s", "qa") == "Promote develop to qa"
    assert repo.git("rev-parse", "qa^2") == newer
    assert tip(repo, "origin/qa") == tip(repo, "qa")


def test_refused_when_env_has_commits_the_source_lacks_unless_merge(repo: Repo, run) -> None:
    chained(repo)
    repo.commit(message="on develop")
    repo.git("checkout", "--quiet", "qa")
    repo.commit("hot.txt", message="hotfix made on qa")
    repo.git("checkout", "--quiet", "develop")
    before = repo.snapshot()
    result = run(repo, "promote", "qa", "--no-jira")
    assert result.code == 5
    assert "hotfix made on qa" in result.err and "--merge" in result.err
    assert repo.snapshot() == before
    result = run(repo, "promote", "qa", "--no-jira", "--merge")
    assert result.code == 0, result.err
    assert repo.git("log", "-1", "--format=%s", "qa") == "Promote develop to qa"


def test_from_a_tag_and_the_chain_order(repo: Repo, run) -> None:
    chained(repo)
    tagged = repo.commit(message="tagged")
    repo.git("tag", "v9")
    repo.commit(message="after the tag")
    assert run(repo, "promote", "qa", "--from", "v9", "--no-jira").code == 0
    assert tip(repo, "qa") == tagged
    assert run(repo, "promote", "staging", "--no-jira").code == 0  # from qa
    assert tip(repo, "staging") == tagged == tip(repo, "origin/staging")


def test_first_env_takes_the_one_open_release_branch(repo: Repo, run) -> None:
    chained(repo)
    repo.git("checkout", "--quiet", "-b", "release/1.0", "develop")
    on_release = repo.commit(message="release fix")
    repo.git("checkout", "--quiet", "develop")
    repo.commit(message="next thing")
    assert run(repo, "promote", "qa", "--no-jira").code == 0
    assert tip(repo, "qa") == on_release


def test_dry_run_changes_nothing_and_a_repeat_does_nothing(repo: Repo, run) -> None:
    chained(repo)
    repo.commit(message="x")
    before = repo.snapshot()
    result = run(repo, "--dry-run", "promote", "qa", "--no-jira")
    assert result.code == 0, result.err
    assert "git merge --quiet --ff-only" in result.out and "git push" in result.out
    assert repo.snapshot() == before
    assert run(repo, "promote", "qa", "--no-jira").code == 0
    again = run(repo, "promote", "qa", "--no-jira")
    assert again.code == 0 and "nothing to promote" in again.out


def test_continue_and_abort_after_a_conflict(repo: Repo, run) -> None:
    chained(repo)
    repo.commit("same.txt", "develop\n", "develop side")
    repo.git("checkout", "--quiet", "qa")
    repo.commit("same.txt", "qa\n", "qa side")
    repo.git("push", "--quiet", "origin", "qa")
    repo.git("checkout", "--quiet", "develop")
    before = repo.snapshot()
    result = run(repo, "promote", "qa", "--no-jira", "--merge")
    assert result.code == 5, result.err
    assert "jiraflow promote --continue" in result.err
    assert run(repo, "promote", "--abort").code == 0
    assert repo.snapshot() == before
    assert run(repo, "promote", "qa", "--no-jira", "--merge").code == 5
    (repo.path / "same.txt").write_text("both\n")
    repo.git("add", "same.txt")
    result = run(repo, "promote", "--continue")
    assert result.code == 0, result.err
    assert tip(repo, "origin/qa") == tip(repo, "qa")
    assert repo.git("show", "qa:same.txt") == "both"
    assert repo.branch() == "develop"


def test_json_output(repo: Repo, run) -> None:
    chained(repo)
    repo.commit(message="x")
    result = run(repo, "--json", "promote", "qa", "--no-jira")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["ok"] and data["done"][0].startswith("promoted 'develop' to qa")
    assert data["branch"] == "develop"


# -- Jira ------------------------------------------------------------------------------------------
def test_issues_move_never_backwards(repo: Repo, run, jira) -> None:
    chained(repo)
    for key in ("PROJ-1", "PROJ-4", "PROJ-6"):  # To Do, Done, In Review (staging's status)
        repo.commit(message=f"{key} work")
    result = run(repo, "promote", "qa")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-1")["status"] == "In Progress"
    assert jira.issue("PROJ-4")["status"] == "Done"  # done, and qa is not
    assert jira.issue("PROJ-6")["status"] == "In Review"  # staging's: further along
    assert "PROJ-4 is already Done, further along; left alone" in result.err  # production's
    assert "PROJ-6 is already In Review, further along; left alone" in result.err
    jira.clear_requests()
    assert run(repo, "promote", "qa").code == 0  # a repeat: nothing new
    assert jira.count(method="POST") == 0
    assert run(repo, "promote", "staging").code == 0
    assert jira.issue("PROJ-1")["status"] == "In Review"


def test_done_issues_stay_done_when_the_target_is_not(repo: Repo, run, jira) -> None:
    chained(repo, CHAIN.split('[[environments]]\nname = "production"')[0])  # no later env
    jira.set_status("PROJ-1", "In Review")
    repo.commit(message="PROJ-4 PROJ-1 work")
    result = run(repo, "promote", "staging", "--from", "develop")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-4")["status"] == "Done"
    assert "PROJ-4 is Done (done); left alone" in result.err
    assert jira.issue("PROJ-1")["status"] == "In Review"


def test_request_budget(repo: Repo, run, jira) -> None:
    chained(repo)
    keys = [jira.add_issue("PROJ", f"issue {i}") for i in range(120)]
    repo.commit(message=" ".join(keys))
    jira.clear_requests()
    assert run(repo, "promote", "qa").code == 0
    searches = jira.count(path_contains="/search")
    assert searches == math.ceil(len(keys) / 100)
    # the moves: one by one on Data Center, one bulk transition on Cloud (and its task polled)
    moves = 1 if jira.flavour == "cloud" else len(keys)
    polls = jira.count(path_contains="/bulk/queue/")
    assert jira.count(method="POST") - searches == moves
    assert (polls > 0) == (jira.flavour == "cloud")
    # + the site's kind (serverInfo), once per site and machine
    assert jira.count() == searches + moves + polls + 1
    assert jira.count(path_contains="serverInfo") == 1


def test_jira_down_queues_exit_7_and_sync_completes(repo: Repo, run, jira) -> None:
    chained(repo)
    repo.commit(message="PROJ-1 work")
    jira.fault("drop", times=None)
    result = run(repo, "promote", "qa")
    assert result.code == 7
    assert tip(repo, "origin/qa") == tip(repo, "develop")  # the git part is done
    assert [a["do"] for a in outbox(repo)] == ["promote"]
    jira.clear_faults()
    assert run(repo, "sync").code == 0
    assert jira.issue("PROJ-1")["status"] == "In Progress"
    assert outbox(repo) == []


# -- through a pull request ------------------------------------------------------------------------
@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_through_a_pull_request_then_complete(repo: Repo, run, sites) -> None:
    chained(repo)
    repo.commit(message="PROJ-1 work")
    repo.git("push", "--quiet", "origin", "develop")
    before = tip(repo, "origin/qa")
    result = run(repo, "promote", "qa", "--pr")
    assert result.code == 0, result.err
    assert tip(repo, "origin/qa") == before  # nothing pushed to qa
    (pull,) = sites.prs()
    assert sites.jira.issue("PROJ-1")["status"] == "To Do"
    sites.bitbucket.merge(sites.name, pull["id"])
    result = run(repo, "promote", "qa", "--pr")
    assert result.code == 0, result.err
    assert sites.jira.issue("PROJ-1")["status"] == "In Progress"
    assert "nothing to promote" in run(repo, "promote", "qa", "--pr").out


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_via_pr_in_the_chain_opens_a_pull_request(repo: Repo, run, sites) -> None:
    chained(repo, CHAIN.replace('jira = "In Progress"', 'jira = "In Progress"\nvia_pr = true'))
    repo.commit(message="PROJ-1 work")
    before = tip(repo, "origin/qa")
    dry = run(repo, "--dry-run", "promote", "qa")
    assert dry.code == 0, dry.err
    assert "develop -> qa" in dry.out and sites.prs() == []
    assert run(repo, "promote", "qa").code == 0
    (pull,) = sites.prs()
    assert (pull["source"]["branch"]["name"], pull["destination"]["branch"]["name"]) == (
        "develop",
        "qa",
    )
    assert tip(repo, "origin/qa") == before


def test_dry_run_lists_the_jira_moves(repo: Repo, run, jira) -> None:
    chained(repo)
    repo.commit(message="PROJ-1 work")
    jira.clear_requests()
    result = run(repo, "--dry-run", "promote", "qa")
    assert result.code == 0, result.err
    assert "jira: move PROJ-1 to In Progress (qa)" in result.out
    assert jira.issue("PROJ-1")["status"] == "To Do"
