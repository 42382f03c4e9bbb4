"""`feature.base = "release"`: features start from the open release branch (issue 20), in
real repositories with a bare origin; the pull request through the sandbox Bitbucket."""

from __future__ import annotations

import re

import pytest

from conftest import Sites
from gitutil import Repo
from hintutil import hinted, install_stop_hooks, stopped

REPO_STATE = 5


def release_based(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    result = run(repo, "config", "set", "feature.base", "release")
    assert result.code == 0, result.err


def commands(hint: str) -> list[str]:
    """The commands a hint names, as written between backticks."""
    return re.findall(r"`([^`]+)`", hint)


def base_of(repo: Repo, branch: str) -> str:
    return repo.git("config", "--get", f"gitflow.branch.{branch}.base", check=False)


def test_feature_starts_from_the_open_release_branch_and_records_it(repo: Repo, run) -> None:
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    tip = repo.commit("notes.txt", "1.0\n", "Prepare 1.0")
    result = run(repo, "feature", "start", "late")
    assert result.code == 0, result.err
    assert repo.branch() == "feature/late"
    assert repo.git("rev-parse", "feature/late") == tip
    assert base_of(repo, "feature/late") == "release/1.0"
    assert "created 'feature/late' from 'release/1.0'" in result.out


def test_a_release_branch_only_on_the_remote_is_tracked_and_used(repo: Repo, run) -> None:
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    tip = repo.commit("notes.txt", "1.0\n", "Prepare 1.0")
    repo.git("push", "--quiet", "origin", "release/1.0")
    repo.git("checkout", "--quiet", "develop")
    repo.git("branch", "--quiet", "-D", "release/1.0")
    before = repo.refs()
    plan = run(repo, "--dry-run", "feature", "start", "late")
    assert plan.code == 0, plan.err
    assert "git branch --quiet --track release/1.0 origin/release/1.0" in plan.out
    assert "git checkout --quiet -b feature/late release/1.0" in plan.out
    assert "git config gitflow.branch.feature/late.base release/1.0" in plan.out
    assert repo.refs() == before and repo.branch() == "develop"  # a dry run changes nothing
    result = run(repo, "feature", "start", "late")
    assert result.code == 0, result.err
    assert "created 'release/1.0' to track 'origin/release/1.0'" in result.out
    assert repo.git("rev-parse", "release/1.0") == tip
    assert repo.git("config", "branch.release/1.0.merge") == "refs/heads/release/1.0"
    assert repo.git("rev-parse", "feature/late") == tip
    assert base_of(repo, "feature/late") == "release/1.0"


def test_no_open_release_branch_is_refused_with_hints_that_work(repo: Repo, run) -> None:
    release_based(repo, run)
    before = repo.refs()
    result = run(repo, "feature", "start", "late")
    assert result.code == REPO_STATE
    assert "no release branch is open" in result.err
    assert repo.refs() == before and repo.branch() == "develop"
    [hint] = [line for line in result.err.splitlines() if line.startswith("hint:")]
    start_release, base_develop = commands(hint)
    assert start_release == "jiraflow release start VERSION"
    assert base_develop == "--base develop"
    # this one feature from develop, as the hint says
    here = run(repo, "feature", "start", "late", *base_develop.split())
    assert here.code == 0, here.err
    assert repo.git("rev-parse", "feature/late") == repo.git("rev-parse", "develop")
    assert base_of(repo, "feature/late") == ""
    # or a release branch first, as the hint says: then the next feature starts from it
    repo.git("checkout", "--quiet", "develop")
    args = start_release.replace("VERSION", "1.0").split()[1:]
    assert run(repo, *args).code == 0
    again = run(repo, "feature", "start", "other")
    assert again.code == 0, again.err
    assert base_of(repo, "feature/other") == "release/1.0"


def test_several_open_release_branches_are_refused_naming_them(repo: Repo, run) -> None:
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    repo.git("push", "--quiet", "origin", "release/1.0:release/2.0")  # one more, remote only
    repo.git("fetch", "--quiet", "origin")
    repo.git("checkout", "--quiet", "develop")
    result = run(repo, "feature", "start", "late")
    assert result.code == REPO_STATE
    assert "several release branches are open: release/1.0, release/2.0" in result.err
    [hint] = [line for line in result.err.splitlines() if line.startswith("hint:")]
    [choose] = commands(hint)
    assert choose == "--base release/1.0"
    chosen = run(repo, "feature", "start", "late", *choose.split())
    assert chosen.code == 0, chosen.err
    assert base_of(repo, "feature/late") == "release/1.0"


@pytest.mark.parametrize("base", ["develop", "main"])
def test_an_explicit_base_wins(repo: Repo, run, base: str) -> None:
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    repo.commit("notes.txt", "1.0\n", "Prepare 1.0")
    result = run(repo, "feature", "start", "late", "--base", base)
    assert result.code == 0, result.err
    assert repo.git("rev-parse", "feature/late") == repo.git("rev-parse", base)
    assert base_of(repo, "feature/late") == ("" if base == "develop" else base)


def test_bugfixes_and_the_default_still_start_from_develop(repo: Repo, run) -> None:
    assert run(repo, "release", "start", "1.0").code == 0
    repo.commit("notes.txt", "1.0\n", "Prepare 1.0")
    assert run(repo, "feature", "start", "plain").code == 0  # feature.base = "develop"
    assert repo.git("rev-parse", "feature/plain") == repo.git("rev-parse", "develop")
    release_based(repo, run)
    assert run(repo, "bugfix", "start", "crash").code == 0
    assert repo.git("rev-parse", "bugfix/crash") == repo.git("rev-parse", "develop")


def test_a_wrong_value_is_refused(repo: Repo, run) -> None:
    result = run(repo, "config", "set", "feature.base", "main")
    assert result.code != 0
    assert "'develop' or 'release'" in result.err or "'develop', 'release'" in result.err


def test_finish_merges_into_the_release_and_the_release_carries_it_on(repo: Repo, run) -> None:
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    assert run(repo, "feature", "start", "late").code == 0
    repo.commit("late.txt", "late\n")
    work = repo.commit("late.txt", "later\n")
    plan = run(repo, "--dry-run", "feature", "finish")
    assert plan.code == 0, plan.err
    assert "git merge" in plan.out and "release/1.0" in plan.out
    finished = run(repo, "feature", "finish")
    assert finished.code == 0, finished.err
    assert repo.branch() == "release/1.0"
    assert repo.git("merge-base", "--is-ancestor", work, "release/1.0", check=False) == ""
    assert not repo.exists("refs/heads/feature/late")
    develop_had_it = repo.git("branch", "--contains", work, "--list", "develop")
    assert develop_had_it == ""  # develop gets it only with the release
    released = run(repo, "release", "finish")
    assert released.code == 0, released.err
    for branch in ("main", "develop"):
        assert repo.git("branch", "--contains", work, "--list", branch).strip("* ") == branch
    assert repo.git("rev-parse", "1.0^{commit}") == repo.git("rev-parse", "main")


def test_start_from_an_issue_and_pr_create_target_the_release_branch(
    repo: Repo, run, sites: Sites
) -> None:
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    repo.git("push", "--quiet", "-u", "origin", "release/1.0")
    started = run(repo, "start", "PROJ-1")
    assert started.code == 0, started.err
    branch = repo.branch()
    assert branch.startswith("feature/PROJ-1")
    assert base_of(repo, branch) == "release/1.0"
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    created = run(repo, "pr", "create")
    assert created.code == 0, created.err
    [pr] = sites.prs()
    if sites.kind == "cloud":
        ends = (pr["source"]["branch"]["name"], pr["destination"]["branch"]["name"])
    else:
        ends = (pr["fromRef"]["displayId"], pr["toRef"]["displayId"])
    assert ends == (branch, "release/1.0")


def remote_only_release(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    release_based(repo, run)
    assert run(repo, "release", "start", "1.0").code == 0
    repo.commit("notes.txt", "1.0\n", "Prepare 1.0")
    repo.git("push", "--quiet", "origin", "release/1.0")
    repo.git("checkout", "--quiet", "develop")
    repo.git("branch", "--quiet", "-D", "release/1.0")
    install_stop_hooks(repo)


def test_a_failed_start_takes_the_tracking_branch_back_too(repo: Repo, run) -> None:
    remote_only_release(repo, run)
    before = repo.refs()
    # the checkout, after the tracking branch was made, is refused by a hook
    result = stopped(repo, "feature", "start", "late", at="prepared 2", how="fail")
    assert result.returncode == REPO_STATE, result.stderr
    assert repo.refs() == before and repo.branch() == "develop"
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()


def test_a_killed_start_is_undone_with_its_tracking_branch(repo: Repo, run) -> None:
    remote_only_release(repo, run)
    before = repo.refs()
    killed = stopped(repo, "feature", "start", "late", at="post-checkout 1", how="kill")
    assert killed.returncode == -9, killed.stderr
    assert repo.branch() == "feature/late"
    refused = run(repo, "feature", "start", "other")
    assert refused.code == REPO_STATE
    assert hinted(refused.err) == ["jiraflow feature start --abort"], refused.err
    done = run(repo, "feature", "start", "--abort")
    assert done.code == 0, done.err
    assert "deleted 'feature/late'" in done.out
    assert repo.refs() == before and repo.branch() == "develop"


def test_fetch_first_finds_a_release_branch_pushed_meanwhile(repo: Repo, run) -> None:
    release_based(repo, run)
    repo.git("push", "--quiet", "origin", "develop:release/1.0")  # as a teammate would
    repo.git("update-ref", "-d", "refs/remotes/origin/release/1.0")  # not fetched yet
    assert run(repo, "feature", "start", "late").code == REPO_STATE
    result = run(repo, "feature", "start", "late", "-F")
    assert result.code == 0, result.err
    assert base_of(repo, "feature/late") == "release/1.0"
    assert repo.git("rev-parse", "--abbrev-ref", "release/1.0@{upstream}") == "origin/release/1.0"
