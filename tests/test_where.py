"""`jiraflow where KEY`: real repositories with a bare origin, features finished every way
Gitflow finishes them, releases and hotfixes, environment branches; Jira and Bitbucket from
the sandboxes over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Sites, point_at
from gitutil import Repo, Result
from jiraflow.gitflow.where import merged_branch, stands_for
from jiraflow.keys import mentions
from jiraflow.sandbox.jira import JiraSandbox


def where(run, repo: Repo, *args: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = run(repo, "--json", "where", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def branch(info: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [b for b in info["branches"] if b["name"] == name]
    return found


def states(info: dict[str, Any]) -> dict[str, str]:
    return {b["name"]: b["state"] for b in info["branches"]}


def feature(
    run, repo: Repo, name: str, *messages: str, finish: tuple[str, ...] | None = ()
) -> list[str]:  # type: ignore[no-untyped-def]
    """Start feature NAME, commit MESSAGES on it, finish it (unless finish is None)."""
    assert run(repo, "feature", "start", name).code == 0
    shas = [repo.commit(f"{name}.txt", message=m) for m in messages]
    if finish is not None:
        result = run(repo, "feature", "finish", *finish)
        assert result.code == 0, result.err
    return shas


def text_rows(result: Result) -> dict[str, str]:
    rows = {}
    for line in result.out.splitlines()[2:]:
        label, _, rest = line.strip().partition("  ")
        if line.startswith("  ") and not line.startswith("    ") and rest:
            rows[label] = rest.strip()
    return rows


# -- what the key matches ------------------------------------------------------------------------
def test_a_key_is_matched_whole() -> None:
    assert mentions("PROJ-12: fix", "PROJ-12")
    assert mentions("feature/PROJ-12-login", "PROJ-12")
    assert mentions("[PROJ-12] fix\n\nsee PROJ-9", "PROJ-12")
    assert not mentions("PROJ-123 other", "PROJ-12")
    assert not mentions("XPROJ-12 other", "PROJ-12")
    assert not mentions("proj-12 lower case", "PROJ-12")


def test_merge_messages_name_the_merged_branch() -> None:
    assert merged_branch("Merge branch 'feature/PROJ-12-x' into develop") == "feature/PROJ-12-x"
    assert merged_branch("Merge branch 'release/1.0.0'") == "release/1.0.0"
    remote = "Merge remote-tracking branch 'origin/feature/PROJ-1' into develop"
    assert merged_branch(remote, ["origin"]) == "feature/PROJ-1"
    cloud = "Merged in feature/PROJ-3-x (pull request #3)\n\nPROJ-3: X"
    assert merged_branch(cloud) == "feature/PROJ-3-x"
    dc = "Merge pull request #4 in PROJ/shop from feature/PROJ-4-y to develop\n\n* commit 'ab'"
    assert merged_branch(dc) == "feature/PROJ-4-y"
    dc_squash = "Pull request #5: Y\n\nMerge in PROJ/shop from bugfix/PROJ-5 to develop"
    assert merged_branch(dc_squash) == "bugfix/PROJ-5"
    assert merged_branch("Merge tag '1.0.0' into develop") is None
    assert merged_branch("PROJ-12 fix\n\n    Merge branch 'feature/PROJ-9' into develop") is None


def test_squash_and_cherry_pick_messages_list_what_they_stand_for() -> None:
    squash = "Squashed commit of the following:\n\ncommit 0123456789abcdef0123\nAuthor: A\n"
    assert stands_for(squash) == ["0123456789abcdef0123"]
    assert stands_for("fix\n\n(cherry picked from commit abcdef12345)") == ["abcdef12345"]
    assert stands_for("commit to the plan") == []


# -- features ------------------------------------------------------------------------------------
def test_a_merged_feature_is_found_by_its_merge_even_when_no_commit_names_the_key(
    repo: Repo, run
) -> None:
    shas = feature(run, repo, "PROJ-12-login", "add the form", "style the form")
    assert not repo.exists("feature/PROJ-12-login")  # deleted: only the merge names it
    info = where(run, repo, "PROJ-12")
    assert sorted(c["sha"] for c in info["commits"]) == sorted(shas)
    assert info["commits"][0]["subject"] == "add the form"  # parents first
    assert states(info) == {
        "develop": "all",
        "origin/develop": "none",
        "main": "none",
        "origin/main": "none",
    }
    assert info["verdict"] == "on develop, not in a release yet"
    assert info["released_in"] is None and info["tags"] == []
    assert info["work_branches"] == []


def test_a_fast_forwarded_single_commit_is_found_by_its_message(repo: Repo, run) -> None:
    [sha] = feature(run, repo, "PROJ-7", "PROJ-7 add the footer")
    assert repo.git("rev-parse", "develop") == sha  # fast-forwarded: no merge commit
    info = where(run, repo, "PROJ-7")
    assert [c["sha"] for c in info["commits"]] == [sha]
    assert branch(info, "develop")["state"] == "all"
    # ...and one whose message does not name it leaves no trace: said plainly, exit 0
    feature(run, repo, "PROJ-8", "add the header")
    result = run(repo, "where", "PROJ-8")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ["PROJ-8", "Not named in any commit message or branch name."]
    assert where(run, repo, "PROJ-8")["commits"] == []


def test_a_squash_merge_counts_once_with_the_commits_it_squashed(repo: Repo, run) -> None:
    originals = feature(
        run, repo, "PROJ-12-sq", "PROJ-12 first", "second", finish=("--squash", "--keep")
    )
    squash = repo.git("rev-parse", "develop")
    assert repo.git("rev-list", "--count", f"{squash}^@") == "1"  # not a merge
    info = where(run, repo, "PROJ-12")
    [change] = info["commits"]
    assert change["sha"] == squash
    assert sorted(change["same_as"]) == sorted(originals)
    assert branch(info, "develop")["state"] == "all"  # the branch's own commits are not on it
    assert info["work_branches"] == ["feature/PROJ-12-sq"]


def test_a_bitbucket_squash_stands_for_the_branch_it_names(repo: Repo, run) -> None:
    originals = feature(run, repo, "PROJ-3-x", "first", "second", finish=None)
    repo.git("push", "-q", "origin", "feature/PROJ-3-x")
    repo.git("checkout", "-q", "develop")
    repo.git("merge", "-q", "--squash", "feature/PROJ-3-x")
    repo.git("commit", "-q", "-m", "Merged in feature/PROJ-3-x (pull request #3)\n\nX")
    info = where(run, repo, "PROJ-3")
    [change] = info["commits"]
    assert change["sha"] == repo.git("rev-parse", "develop")
    assert sorted(change["same_as"]) == sorted(originals)
    assert branch(info, "develop")["state"] == "all"
    assert info["work_branches"] == ["feature/PROJ-3-x", "origin/feature/PROJ-3-x"]


def test_a_feature_in_progress_is_not_merged_yet(repo: Repo, run) -> None:
    shas = feature(run, repo, "PROJ-5-reset", "draft", "more", finish=None)
    assert run(repo, "feature", "publish").code == 0
    repo.commit("later.txt", message="unpushed")
    info = where(run, repo, "PROJ-5")
    assert [c["subject"] for c in info["commits"]] == ["draft", "more", "unpushed"]  # in order
    assert set(shas) <= {c["sha"] for c in info["commits"]}
    assert info["verdict"] == "not merged into develop yet"
    assert info["work_branches"] == ["feature/PROJ-5-reset", "origin/feature/PROJ-5-reset"]
    assert branch(info, "develop")["state"] == "none"
    result = run(repo, "where", "PROJ-5")
    assert "Not merged into develop yet." in result.out
    assert text_rows(result)["branch"] == "feature/PROJ-5-reset, origin/feature/PROJ-5-reset"


def test_keys_that_only_look_alike_are_not_confused(repo: Repo, run) -> None:
    [mine] = feature(run, repo, "PROJ-12-a", "PROJ-12 mine")
    feature(run, repo, "PROJ-123-b", "PROJ-123 not mine", "XPROJ-12 not mine either")
    feature(run, repo, "PROJ-1-c", "PROJ-1 not mine", "see PROJ-12a")  # PROJ-12a names it
    info = where(run, repo, "PROJ-12")
    subjects = sorted(c["subject"] for c in info["commits"])
    assert subjects == ["PROJ-12 mine", "see PROJ-12a"]
    assert mine in {c["sha"] for c in info["commits"]}
    assert [c["subject"] for c in where(run, repo, "PROJ-123")["commits"]] == [
        "PROJ-123 not mine",
        "XPROJ-12 not mine either",
    ]


def test_several_changes_some_of_them_on_a_branch(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "develop")
    first = repo.commit("a.txt", message="PROJ-20 first part")
    repo.git("branch", "staging")  # deployed before the second part
    second = repo.commit("b.txt", message="PROJ-20 second part")
    (repo.path / ".jiraflow.toml").write_text('[where]\nenvironments = ["staging"]\n')
    info = where(run, repo, "PROJ-20")
    assert branch(info, "staging") == {
        "name": "staging",
        "ref": "refs/heads/staging",
        "role": "environment",
        "state": "some",
        "contains": 1,
        "total": 2,
        "missing": [second],
        "remote_of": None,
        "environment": "staging",
    }
    assert [c["sha"] for c in info["commits"]] == [first, second]
    result = run(repo, "where", "PROJ-20")
    assert text_rows(result)["staging"] == "some (1 of 2 commits)"
    assert f"lacks {second[:10]} PROJ-20 second part" in result.out


# -- releases, hotfixes and tags -----------------------------------------------------------------
def test_before_and_after_a_release(repo: Repo, run) -> None:
    feature(run, repo, "PROJ-12-login", "add the form", "style the form")
    assert run(repo, "release", "start", "1.0.0").code == 0
    info = where(run, repo, "PROJ-12")
    assert branch(info, "release/1.0.0")["state"] == "all"
    assert info["open_releases"] == ["release/1.0.0"]
    assert info["verdict"] == "in release/1.0.0, not released yet"
    assert branch(info, "main")["state"] == "none"
    assert run(repo, "release", "finish").code == 0
    info = where(run, repo, "PROJ-12")
    assert info["released_in"] == "1.0.0" and info["verdict"] == "released in 1.0.0"
    assert [(t["name"], t["state"]) for t in info["tags"]] == [("1.0.0", "all")]
    assert states(info)["main"] == states(info)["develop"] == "all"
    assert not [b for b in info["branches"] if b["role"] == "release"]
    # a later release holds it too; the first one stays the answer
    feature(run, repo, "PROJ-13", "PROJ-13 more")
    assert run(repo, "release", "start", "1.1.0").code == 0
    assert run(repo, "release", "finish").code == 0
    info = where(run, repo, "PROJ-12")
    assert [t["name"] for t in info["tags"]] == ["1.0.0", "1.1.0"]
    assert info["released_in"] == "1.0.0"
    result = run(repo, "where", "PROJ-12")
    assert result.out.splitlines()[:2] == ["PROJ-12", "Released in 1.0.0."]
    assert text_rows(result)["tags"] == "1.0.0, 1.1.0"
    assert where(run, repo, "PROJ-13")["released_in"] == "1.1.0"


def test_the_first_version_is_found_among_many_tags_in_version_order(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "main")
    for patch in range(15):
        if patch == 5:
            repo.commit("fix.txt", message="PROJ-30 the fix")
        else:
            repo.commit("other.txt")
        repo.git("tag", "-a", "-m", "v", f"v1.0.{patch}")
    repo.git("tag", "not-a-version")
    repo.git("config", "gitflow.prefix.versiontag", "v")
    info = where(run, repo, "PROJ-30")
    assert info["released_in"] == "v1.0.5"
    assert [t["version"] for t in info["tags"]] == [f"1.0.{p}" for p in range(5, 15)]
    result = run(repo, "where", "PROJ-30")
    assert text_rows(result)["tags"] == "v1.0.5, v1.0.6, v1.0.7, v1.0.8, ..., v1.0.14 (10 tags)"


def test_refs_that_do_not_point_at_commits_are_left_out(repo: Repo, run) -> None:
    [sha] = feature(run, repo, "PROJ-31", "PROJ-31 the fix")
    repo.git("tag", "-a", "-m", "v", "1.0.0", sha)
    repo.git("tag", "-a", "-m", "a tree", "1.0.1", f"{sha}^{{tree}}")  # a version, not a commit
    repo.git("tag", "1.0.2", f"{sha}^{{tree}}")
    repo.git("update-ref", "refs/remotes/origin/feature/PROJ-31-tree", f"{sha}^{{tree}}")
    info = where(run, repo, "PROJ-31")
    assert [t["name"] for t in info["tags"]] == ["1.0.0"]
    assert info["work_branches"] == []


def test_a_tag_with_part_of_the_issue(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "main")
    repo.commit("a.txt", message="PROJ-31 part one")
    repo.git("tag", "2.0.0")
    repo.git("checkout", "-q", "-b", "wip")
    repo.commit("b.txt", message="PROJ-31 part two")
    info = where(run, repo, "PROJ-31")
    assert info["released_in"] is None and info["partly_released_in"] == "2.0.0"
    assert info["verdict"] == "partly released in 2.0.0"
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "wip")
    info = where(run, repo, "PROJ-31")
    assert info["verdict"] == "on main, not in a version tag yet (partly in 2.0.0)"
    repo.git("tag", "2.0.1")
    info = where(run, repo, "PROJ-31")
    assert info["verdict"] == "released in 2.0.1 (partly in 2.0.0)"
    rows = text_rows(run(repo, "where", "PROJ-31"))
    assert (rows["tags"], rows["partly in"]) == ("2.0.1", "2.0.0")


def test_on_main_without_a_tag(repo: Repo, run) -> None:
    feature(run, repo, "PROJ-60", "PROJ-60 one")
    assert run(repo, "release", "start", "1.0.0").code == 0
    assert run(repo, "release", "finish", "--no-tag").code == 0
    info = where(run, repo, "PROJ-60")
    assert info["tags"] == [] and info["verdict"] == "on main, not in a version tag yet"


def test_an_open_hotfix_then_its_finish(repo: Repo, run) -> None:
    assert run(repo, "hotfix", "start", "1.0.1").code == 0
    repo.commit("fix.txt", message="PROJ-40 stop the crash")
    assert run(repo, "hotfix", "publish").code == 0
    info = where(run, repo, "PROJ-40")
    assert info["verdict"] == "in hotfix/1.0.1, not released yet"
    assert branch(info, "hotfix/1.0.1")["state"] == "all"
    assert branch(info, "origin/hotfix/1.0.1")["remote_of"] == "hotfix/1.0.1"
    assert states(info)["develop"] == states(info)["main"] == "none"
    result = run(repo, "where", "PROJ-40")
    rows = text_rows(result)
    assert rows["hotfix/1.0.1"] == "yes" and "origin/hotfix/1.0.1" not in rows  # same answer
    assert run(repo, "hotfix", "finish").code == 0
    info = where(run, repo, "PROJ-40")
    assert info["released_in"] == "1.0.1"
    assert states(info)["develop"] == states(info)["main"] == "all"


def test_a_cherry_pick_counts_as_the_change(repo: Repo, run) -> None:
    [original] = feature(run, repo, "PROJ-50", "PROJ-50 fix it")
    assert run(repo, "release", "start", "2.0.0").code == 0
    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "release/1.9.0")
    repo.git("cherry-pick", "-x", original)
    info = where(run, repo, "PROJ-50")
    [change] = info["commits"]
    assert {change["sha"], *change["same_as"]} == {original, repo.git("rev-parse", "HEAD")}
    assert states(info)["release/1.9.0"] == states(info)["release/2.0.0"] == "all"
    assert states(info)["main"] == "none"


# -- environments and remotes --------------------------------------------------------------------
def test_environment_branches_on_the_remote_count_first(repo: Repo, run) -> None:
    before = repo.git("rev-parse", "develop")
    feature(run, repo, "PROJ-12-login", "PROJ-12 add the form", "PROJ-12 style it")
    form, style = repo.git("rev-list", "--reverse", "develop^1..develop^2").split()
    # qa: deployed from the remote at the old develop; the local qa is ahead (not deployed)
    repo.git("push", "-q", "origin", f"{before}:refs/heads/qa")
    repo.git("fetch", "-q", "origin")
    repo.git("branch", "qa", "develop")
    # staging: only local, with the first commit
    repo.git("branch", "staging", form)
    (repo.path / ".jiraflow.toml").write_text('[where]\nenvironments = ["qa", "staging", "uat"]\n')
    info = where(run, repo, "PROJ-12")
    assert branch(info, "qa")["ref"] == "refs/remotes/origin/qa"
    assert states(info) | {} == {
        "develop": "all",
        "origin/develop": "none",
        "main": "none",
        "origin/main": "none",
        "qa": "none",
        "staging": "some",
        "uat": "missing",
    }
    assert branch(info, "staging")["missing"] == [style]
    result = run(repo, "where", "PROJ-12")
    rows = text_rows(result)
    assert rows["develop"] == "yes (all 2 commits)"
    assert rows["origin/develop"] == "no"  # not pushed yet: shown because it differs
    assert "origin/main" not in rows  # says the same as main
    assert rows["qa"] == "no" and rows["uat"] == "(no such branch)"
    assert rows["staging"] == "some (1 of 2 commits)"
    repo.git("push", "-q", "origin", "develop", "develop:qa")
    repo.git("fetch", "-q", "origin")
    info = where(run, repo, "PROJ-12")
    assert states(info)["qa"] == states(info)["origin/develop"] == "all"
    assert info["verdict"] == "on develop, not in a release yet; all of it on qa"
    assert "origin/develop" not in text_rows(run(repo, "where", "PROJ-12"))


# -- the command line ----------------------------------------------------------------------------
def test_json_shape(repo: Repo, run) -> None:
    feature(run, repo, "PROJ-12-login", "PROJ-12 add the form")
    info = where(run, repo, "PROJ-12")
    assert list(info) == [
        "key",
        "verdict",
        "commits",
        "branches",
        "tags",
        "released_in",
        "partly_released_in",
        "open_releases",
        "work_branches",
        "issue",
        "pull_requests",
        "deployments",
        "warnings",
    ]
    assert list(info["commits"][0]) == ["sha", "subject", "same_as"]
    assert info["issue"] is None and info["pull_requests"] is None and info["warnings"] == []
    nothing = where(run, repo, "PROJ-99")
    assert nothing["commits"] == [] and nothing["branches"] == [] and nothing["tags"] == []
    assert nothing["verdict"] == "not named in any commit message or branch name"


def test_keys_as_typed(repo: Repo, run) -> None:
    feature(run, repo, "PROJ-12-login", "PROJ-12 add the form")
    result = run(repo, "where", "proj-12")
    assert result.code == 2 and "'proj-12' is not a Jira issue key" in result.err
    assert "hint:" in result.err
    (repo.path / ".jiraflow.toml").write_text('[jira]\nprojects = ["PROJ"]\n')
    assert where(run, repo, "proj-12")["key"] == "PROJ-12"
    for bad in ("login", "PROJ-0", "PROJ12", "12"):
        result = run(repo, "where", bad)
        assert result.code == 2, bad
        assert "Traceback" not in result.err


def test_help_imports_no_heavy_library() -> None:
    from test_cli import HEAVY, modules_loaded

    loaded = modules_loaded(["where", "--help"])
    assert "jiraflow.cli.where_cmd" in loaded
    assert not [m for m in HEAVY if m in loaded]


def test_where_in_a_repository_without_gitflow(make_repo, run) -> None:  # type: ignore[no-untyped-def]
    plain = make_repo(init=False, remote=False)
    plain.commit("x.txt", message="PROJ-1 on main")
    info = where(run, plain, "PROJ-1")
    assert states(info) == {"develop": "missing", "main": "all"}
    assert info["verdict"] == "on main, not in a version tag yet"


# -- Jira and Bitbucket --------------------------------------------------------------------------
def test_jira_unreachable_is_a_warning(repo: Repo, run, monkeypatch: pytest.MonkeyPatch) -> None:
    feature(run, repo, "PROJ-12-login", "PROJ-12 add the form")
    with JiraSandbox("cloud") as stopped:
        point_at(monkeypatch, stopped)
    result = run(repo, "where", "PROJ-12")
    assert result.code == 0, result.err
    assert "warning: could not ask Jira about PROJ-12:" in result.err
    assert text_rows(result)["develop"] == "yes"
    info = where(run, repo, "PROJ-12")
    assert info["issue"] is None and info["warnings"][0].startswith("could not ask Jira")
    offline = run(repo, "where", "--offline", "PROJ-12")
    assert offline.code == 0 and offline.err == ""


def test_jira_status_and_summary(repo: Repo, run, jira: JiraSandbox) -> None:
    jira.set_status("PROJ-12", "Done")
    repo.git("checkout", "-q", "develop")
    repo.commit("footer.html", message="PROJ-12 fix the typo")
    result = run(repo, "where", "PROJ-12")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "PROJ-12  Fix typo in footer (Bug, Done, Bob Builder)"
    info = where(run, repo, "PROJ-12")
    assert info["issue"]["status"] == "Done" and info["issue"]["type"] == "Bug"
    assert info["issue"]["url"] == f"{jira.url}/browse/PROJ-12"
    jira.clear_requests()
    assert run(repo, "where", "--offline", "PROJ-12").code == 0
    assert jira.count() == 0
    result = run(repo, "where", "PROJ-404")
    assert result.code == 0 and "could not ask Jira about PROJ-404" in result.err


def test_the_pull_request_is_shown_within_one_request_each(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    assert run(repo, "pr", "create").code == 0
    [pr] = sites.prs()
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    repo.git("fetch", "-q", "origin")
    assert run(repo, "where", "PROJ-1").code == 0  # the site's kind is cached from here on
    sites.clear_requests()
    result = run(repo, "where", "PROJ-1")
    assert result.code == 0, result.err
    # Bitbucket: the pull requests, the builds of the newest one's head, of origin/develop's
    assert sites.jira.count() == 1 and sites.bitbucket.count() == 3
    rows = text_rows(result)
    branch_name = "feature/PROJ-1-add-login-form"
    assert rows["pull request"] == f"#{pr['id']} MERGED  {branch_name} -> develop"
    assert rows["origin/develop"] == "yes"  # merged by Bitbucket, not pulled yet
    assert rows["develop"] == "no"
    assert result.out.splitlines()[:2] == [
        "PROJ-1  Add login form (Story, In Review, Alice Example)",
        "On origin/develop, not in a release yet.",
    ]
    info = where(run, repo, "PROJ-1")
    [pull] = info["pull_requests"]
    assert (pull["id"], pull["state"], pull["source"]) == (pr["id"], "MERGED", branch_name)
    assert info["issue"]["status"] == "In Review"


def test_the_pull_request_of_a_deleted_branch_comes_from_the_merge_message(
    repo: Repo, run, sites: Sites
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    repo.commit("login.css", "form {}\n", "Style it")
    assert run(repo, "pr", "create").code == 0
    [pr] = sites.prs()
    sites.bitbucket.merge(sites.name, pr["id"], user="bob", close_source_branch=True)
    repo.git("checkout", "-q", "develop")
    repo.git("branch", "-D", "feature/PROJ-1-add-login-form")
    repo.git("fetch", "-q", "--prune", "origin")
    info = where(run, repo, "PROJ-1")
    assert info["work_branches"] == []
    assert [p["id"] for p in info["pull_requests"]] == [pr["id"]]
    assert len(info["commits"]) == 2
    assert branch(info, "origin/develop")["state"] == "all"


def test_bitbucket_unreachable_is_a_warning(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature(run, repo, "PROJ-2-crash", "PROJ-2 fix", finish=None)
    with JiraSandbox("cloud") as stopped:
        closed = stopped.url
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_URL", closed)
    result = run(repo, "where", "PROJ-2")
    assert result.code == 0, result.err
    assert "could not ask Bitbucket about feature/PROJ-2-crash" in result.err
    assert "Crash when the password" in result.out.splitlines()[0]  # Jira still answered
