"""Finishes where main and develop are protected (gitflow.protected; Bitbucket branch
permissions): a real pre-receive hook in the bare origin, which is the sandbox repository's
git directory, refuses every push to them in Bitbucket's words (Cloud and Data Center), while
the sandbox's own merge of a pull request moves them. Nothing jiraflow does may push to a
protected branch: the hook would refuse it, and the finish would fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow.git import refused_by_branch_permissions

FEATURE = "feature/PROJ-1-add-login-form"


def origin(repo: Repo) -> Path:
    return Path(repo.git("remote", "get-url", "origin"))


def protect(sites: Sites, monkeypatch: pytest.MonkeyPatch, *branches: str, config: bool = True):
    """Protect `branches` on the server (the hook); with `config`, tell jiraflow too."""
    sites.bitbucket.protect(sites.name, branches)
    if config:
        monkeypatch.setenv("JIRAFLOW_GITFLOW_PROTECTED", ",".join(branches))


def remote_tip(repo: Repo, branch: str) -> str:
    line = repo.git("ls-remote", "--heads", "origin", branch)
    return line.split("\t")[0] if line else ""


def pr_of(sites: Sites, source: str) -> dict:  # type: ignore[type-arg]
    for pr in sites.prs():
        name = (
            pr["source"]["branch"]["name"] if sites.kind == "cloud" else pr["fromRef"]["displayId"]
        )
        if name == source:
            return pr
    raise AssertionError(f"no pull request from {source}: {sites.prs()}")


def destination(sites: Sites, pr: dict) -> str:  # type: ignore[type-arg]
    return (
        pr["destination"]["branch"]["name"] if sites.kind == "cloud" else pr["toRef"]["displayId"]
    )


# -- the sandbox's branch permissions ----------------------------------------------------------


def test_the_hook_refuses_pushes_in_bitbucket_words_and_the_merge_still_works(
    repo: Repo, run, sites: Sites
) -> None:
    sites.bitbucket.protect(sites.name, ["develop"])
    assert (origin(repo) / "hooks" / "pre-receive").is_file()
    repo.git("checkout", "-q", "develop")
    repo.commit("x.txt", "x\n", "Direct")
    done = subprocess.run(
        ["git", "push", "origin", "develop"], cwd=repo.path, capture_output=True, text=True
    )
    assert done.returncode != 0
    if sites.kind == "cloud":
        assert "remote: Permission denied to update branch develop." in done.stderr
    else:
        assert (
            "remote: Branch refs/heads/develop can only be modified through pull requests."
            in done.stderr
        )
    assert "(pre-receive hook declined)" in done.stderr
    assert refused_by_branch_permissions(done.stderr) == "develop"
    # a pull request still merges into it on the server side
    repo.git("reset", "-q", "--hard", "origin/develop")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("y.txt", "y\n", "Work")
    assert run(repo, "pr", "create").code == 0
    pr = pr_of(sites, "feature/x")
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    assert remote_tip(repo, "develop") != repo.git("rev-parse", "develop")


def test_refusal_parser_knows_both_wordings_and_ignores_other_refusals() -> None:
    dc = (
        "remote: Branch refs/heads/main can only be modified through pull requests.\n"
        "remote: Check your branch permissions configuration with the project administrator.\n"
        "To ssh://bb/acme/shop.git\n ! [remote rejected] main -> main (pre-receive hook declined)\n"
        "error: failed to push some refs to 'ssh://bb/acme/shop.git'\n"
    )
    cloud = (
        "remote: Permission denied to update branch release/2.0.        \n"
        "To bitbucket.org:acme/shop.git\n"
        " ! [remote rejected] release/2.0 -> release/2.0 (pre-receive hook declined)\n"
    )
    other = (
        "remote: commit abc123 does not name a Jira issue\n"
        " ! [remote rejected] develop -> develop (pre-receive hook declined)\n"
    )
    stale = " ! [rejected]        develop -> develop (fetch first)\n"
    assert refused_by_branch_permissions(dc) == "main"
    assert refused_by_branch_permissions(cloud) == "release/2.0"
    assert refused_by_branch_permissions(other) is None
    assert refused_by_branch_permissions(stale) is None


# -- detection: the server refuses, jiraflow was not told ----------------------------------------


def test_the_refusal_hint_keeps_the_branches_already_protected(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config set` replaces a list: the hint names main (already protected) and develop (the
    refused one), or the variable to change when the environment sets the list."""
    sites.bitbucket.protect(sites.name, ("main", "develop"))
    run(repo, "config", "set", "gitflow.protected", "main")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Work")
    result = run(repo, "feature", "finish", "--push")
    assert result.code == 6, result.err
    assert "`jiraflow config set gitflow.protected main,develop`" in result.err
    assert run(repo, "feature", "finish", "--abort").code == 0
    assert run(repo, "config", "set", "gitflow.protected", "").code == 0
    monkeypatch.setenv("JIRAFLOW_GITFLOW_PROTECTED", "release/*")
    result = run(repo, "feature", "finish", "--push")
    assert result.code == 6, result.err
    assert "JIRAFLOW_GITFLOW_PROTECTED=release/*,develop" in result.err
    assert "config set" not in result.err


def test_a_refused_push_in_a_finish_says_so_and_leaves_continue_and_abort_working(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "develop", config=False)
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Work")
    before = repo.snapshot()
    develop = remote_tip(repo, "develop")
    result = run(repo, "feature", "finish", "--push")
    assert result.code == 6, result.err
    lines = result.err.strip().splitlines()
    assert lines[0] == (
        "error: 'origin' refused the push to 'develop': its branch permissions take changes "
        "only through pull requests"
    )
    assert "jiraflow feature finish --abort" in lines[1]
    assert "gitflow.protected develop" in lines[1] and "failed to push" not in result.err
    assert remote_tip(repo, "develop") == develop
    again = run(repo, "feature", "finish", "--continue")  # refused again, nothing lost
    assert again.code == 6 and "refused the push to 'develop'" in again.err
    aborted = run(repo, "feature", "finish", "--abort")
    assert aborted.code == 0, aborted.err
    assert repo.snapshot() == before
    # the hint's way works: protected, the finish opens the pull request
    monkeypatch.setenv("JIRAFLOW_GITFLOW_PROTECTED", "develop")
    opened = run(repo, "feature", "finish")
    assert opened.code == 0, opened.err
    assert destination(sites, pr_of(sites, "feature/x")) == "develop"


# -- feature finish on a protected develop ------------------------------------------------------


def test_feature_finish_on_protected_develop_goes_through_the_pull_request(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "main", "develop")
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    develop = repo.git("rev-parse", "develop")
    opened = run(repo, "feature", "finish", "--push")
    assert opened.code == 0, opened.err
    pr = pr_of(sites, FEATURE)
    assert destination(sites, pr) == "develop"
    assert "jiraflow pr merge" in opened.out and "jiraflow feature finish" in opened.out
    assert repo.git("rev-parse", "develop") == develop  # nothing merged here
    assert repo.branch() == FEATURE
    assert remote_tip(repo, FEATURE) == repo.git("rev-parse", FEATURE)
    shown = run(repo, "feature", "finish")  # not merged yet: shows it, opens no second one
    assert shown.code == 0, shown.err
    assert "is already open" in shown.out and len(sites.prs()) == 1
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    merged = remote_tip(repo, "develop")
    finished = run(repo, "feature", "finish", "--push")
    assert finished.code == 0, finished.err
    assert f"pull request #{pr['id']} merged '{FEATURE}' into 'develop'" in finished.out
    assert repo.git("rev-parse", "develop") == merged == remote_tip(repo, "develop")
    assert not repo.exists(f"refs/heads/{FEATURE}")
    assert repo.branch() == "develop"
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


def test_feature_finish_landed_with_own_commits_on_develop_pushes_nothing_to_it(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "develop")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Work")
    assert run(repo, "feature", "finish").code == 0  # opens the pull request
    sites.bitbucket.merge(sites.name, pr_of(sites, "feature/x")["id"], user="bob")
    repo.git("checkout", "-q", "develop")
    repo.commit("local.txt", "mine\n", "A local commit on develop")
    repo.git("checkout", "-q", "feature/x")
    result = run(repo, "feature", "finish", "--push")  # the hook would refuse a push
    assert result.code == 0, result.err
    assert "pushed 'develop'" not in result.out
    assert repo.git("rev-list", "--count", "origin/develop..develop") != "0"


def test_dry_run_plans_of_protected_finishes(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "main", "develop")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Work")
    before = repo.snapshot()
    planned = run(repo, "--dry-run", "feature", "finish")
    assert planned.code == 0, planned.err
    assert "'develop' is protected" in planned.out
    assert "git push --quiet --set-upstream origin feature/x:refs/heads/feature/x" in planned.out
    assert "merge" not in planned.out.replace("merging", "")
    assert sites.prs() == [] and repo.snapshot() == before
    # release: refused up front without --pr; --pr plans the pull request into main
    assert run(repo, "release", "start", "1.1.0").code == 0
    repo.commit("CHANGES", "1.1.0\n", "Changes")
    refused = run(repo, "--dry-run", "release", "finish")
    assert refused.code == 5
    assert "'main' is protected" in refused.err and "jiraflow release finish --pr" in refused.err
    pr_plan = run(repo, "--dry-run", "release", "finish", "--pr")
    assert pr_plan.code == 0, pr_plan.err
    assert "release/1.1.0" in pr_plan.out and sites.prs() == []


# -- release and hotfix finish with main and develop protected ----------------------------------


@pytest.mark.parametrize(("kind", "version"), [("release", "1.1.0"), ("hotfix", "1.0.1")])
def test_release_through_both_pull_requests_to_the_end(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch, kind: str, version: str
) -> None:
    protect(sites, monkeypatch, "main", "develop")
    branch = f"{kind}/{version}"
    assert run(repo, kind, "start", version).code == 0
    repo.commit("CHANGES", f"{version}\n", f"Changes for {version}")
    refused = run(repo, kind, "finish")  # main is protected: --pr, up front
    assert refused.code == 5 and f"jiraflow {kind} finish --pr" in refused.err
    assert run(repo, kind, "finish", "--pr").code == 0
    to_main = pr_of(sites, branch)
    assert destination(sites, to_main) == "main"
    sites.bitbucket.merge(sites.name, to_main["id"], user="bob")
    merge_commit = remote_tip(repo, "main")
    develop = remote_tip(repo, "develop")
    repo.git("checkout", "-q", "develop")  # a commit of one's own: --push must not push it
    repo.commit("local.txt", "mine\n", "A local commit on develop")
    repo.git("checkout", "-q", branch)

    planned = run(repo, "--dry-run", kind, "finish", "--push")
    assert planned.code == 0, planned.err
    assert f"git branch --force backmerge/{version} {version}" in planned.out
    assert f"push 'backmerge/{version}' and open its pull request into 'develop'" in planned.out
    assert "git push --quiet --atomic origin refs/tags/" in planned.out
    assert remote_tip(repo, "main") == merge_commit and sites.prs()[-1]["id"] == to_main["id"]

    tagged = run(repo, kind, "finish", "--push")
    assert tagged.code == 0, tagged.err
    assert repo.git("rev-parse", f"{version}^{{commit}}") == merge_commit
    assert repo.git("ls-remote", "--tags", "origin", version) != ""  # --push: the tag only
    back = pr_of(sites, f"backmerge/{version}")
    assert destination(sites, back) == "develop"
    assert remote_tip(repo, f"backmerge/{version}") == merge_commit
    assert remote_tip(repo, "develop") == develop  # nothing pushed to develop
    assert repo.exists(f"refs/heads/{branch}")  # kept until the back-merge is merged
    assert repo.branch() == branch
    assert "jiraflow pr merge" in tagged.out

    waiting = run(repo, kind, "finish")  # still open: shown, nothing else
    assert waiting.code == 0, waiting.err
    assert "is already open" in waiting.out and repo.exists(f"refs/heads/{branch}")

    sites.bitbucket.merge(sites.name, back["id"], user="bob")
    done = run(repo, "finish", "--push")
    assert done.code == 0, done.err
    repo.git("merge-base", "--is-ancestor", remote_tip(repo, "develop"), "develop")
    assert repo.git("log", "-1", "--format=%s", "develop") == (
        "Merge remote-tracking branch 'origin/develop' into develop"
    )
    repo.git("merge-base", "--is-ancestor", version, "develop")
    assert not repo.exists(f"refs/heads/{branch}")
    assert not repo.exists(f"refs/heads/backmerge/{version}")
    assert remote_tip(repo, f"backmerge/{version}") == ""
    assert remote_tip(repo, branch) == ""
    assert repo.branch() == "develop"
    assert len(sites.prs()) == 2


def test_pr_create_of_a_branch_the_server_protects_says_so(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "feature/*", config=False)
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Work")
    result = run(repo, "pr", "create")
    assert result.code == 6
    error, hint = result.err.strip().splitlines()[-2:]
    assert error == (
        "error: 'origin' refused the push to 'feature/x': its branch permissions take changes "
        "only through pull requests"
    )
    assert "jiraflow pr create" in hint
    assert sites.prs() == []


def test_complete_backmerge_finishes_the_release_after_its_back_merge_is_merged(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `pr merge` calls after merging a back-merge pull request."""
    from jiraflow.cli.app import AppState
    from jiraflow.services.protected import complete_backmerge
    from jiraflow.services.pull_requests import pull_request

    protect(sites, monkeypatch, "main", "develop")
    assert run(repo, "release", "start", "2.0.0").code == 0
    repo.commit("CHANGES", "2.0.0\n", "Changes")
    assert run(repo, "release", "finish", "--pr").code == 0
    sites.bitbucket.merge(sites.name, pr_of(sites, "release/2.0.0")["id"], user="bob")
    assert run(repo, "release", "finish").code == 0
    back = pr_of(sites, "backmerge/2.0.0")
    sites.bitbucket.merge(sites.name, back["id"], user="bob")
    state = AppState(path=str(repo.path))
    flow = state.flow()
    to_main = pull_request(flow, pr_of(sites, "release/2.0.0")["id"])
    assert complete_backmerge(state, flow, to_main) is False  # not a back-merge: nothing done
    assert repo.exists("refs/heads/release/2.0.0")
    assert complete_backmerge(state, state.flow(), pull_request(flow, back["id"])) is True
    assert not repo.exists("refs/heads/release/2.0.0")
    assert not repo.exists("refs/heads/backmerge/2.0.0")
    assert repo.branch() == "develop"
    repo.git("merge-base", "--is-ancestor", "2.0.0", "develop")


def test_a_back_merge_pull_request_that_could_not_be_opened_is_opened_by_the_next_finish(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "main", "develop")
    assert run(repo, "release", "start", "3.0.0").code == 0
    repo.commit("CHANGES", "3.0.0\n", "Changes")
    assert run(repo, "release", "finish", "--pr").code == 0
    sites.bitbucket.fault("status", status=500, method="POST", times=None)
    sites.bitbucket.merge(sites.name, pr_of(sites, "release/3.0.0")["id"], user="bob")
    failed = run(repo, "release", "finish")
    assert failed.code == 6, failed.err
    hint = failed.err.strip().splitlines()[-1]
    assert "`jiraflow release finish 3.0.0` again" in hint and "pr create" not in hint
    assert repo.exists("refs/tags/3.0.0") and repo.exists("refs/heads/backmerge/3.0.0")
    assert len(sites.prs()) == 1
    sites.bitbucket.clear_faults()
    again = run(repo, "release", "finish", "3.0.0")
    assert again.code == 0, again.err
    assert destination(sites, pr_of(sites, "backmerge/3.0.0")) == "develop"
    assert repo.exists("refs/heads/release/3.0.0")


def test_only_develop_protected_merges_into_main_here_and_back_through_a_pull_request(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    protect(sites, monkeypatch, "develop")
    assert run(repo, "release", "start", "1.5.0").code == 0
    repo.commit("CHANGES", "1.5.0\n", "Changes")
    develop = remote_tip(repo, "develop")
    first = run(repo, "release", "finish", "-p")
    assert first.code == 0, first.err
    assert remote_tip(repo, "main") == repo.git("rev-parse", "main")  # main is not protected
    assert repo.git("rev-parse", "1.5.0^{commit}") == repo.git("rev-parse", "main")
    assert remote_tip(repo, "develop") == develop
    back = pr_of(sites, "backmerge/1.5.0")
    assert destination(sites, back) == "develop"
    sites.bitbucket.merge(sites.name, back["id"], user="bob")
    done = run(repo, "finish")
    assert done.code == 0, done.err
    assert not repo.exists("refs/heads/release/1.5.0")
    assert repo.git("rev-parse", "develop") == remote_tip(repo, "develop")
    repo.git("merge-base", "--is-ancestor", "1.5.0", "develop")


def test_a_hotfix_merges_back_into_a_protected_release_branch_through_a_pull_request(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(repo, "release", "start", "1.1.0").code == 0
    repo.git("push", "-q", "origin", "release/1.1.0")  # before the permission: it exists
    protect(sites, monkeypatch, "release/*")
    repo.git("checkout", "-q", "main")
    assert run(repo, "hotfix", "start", "1.0.1").code == 0
    repo.commit("fix.txt", "fix\n", "Fix")
    first = run(repo, "hotfix", "finish", "-p")
    assert first.code == 0, first.err
    back = pr_of(sites, "backmerge/1.0.1")
    assert destination(sites, back) == "release/1.1.0"
    sites.bitbucket.merge(sites.name, back["id"], user="bob")
    done = run(repo, "hotfix", "finish", "1.0.1")
    assert done.code == 0, done.err
    assert not repo.exists("refs/heads/hotfix/1.0.1")
    repo.git("merge-base", "--is-ancestor", "1.0.1", "release/1.1.0")


@pytest.mark.parametrize("cloud", [True, False])
def test_a_refused_release_push_names_the_branch_and_aborts_cleanly(
    repo: Repo, run, cloud: bool
) -> None:
    """No Bitbucket at all: the server's words alone tell jiraflow what happened."""
    from jiraflow.sandbox.bitbucket_protected import install_hook

    install_hook(origin(repo), ["main"], cloud=cloud)
    assert run(repo, "release", "start", "1.1.0").code == 0
    repo.commit("CHANGES", "1.1.0\n", "Changes")
    before = repo.snapshot()
    result = run(repo, "release", "finish", "-p")
    assert result.code == 6, result.err
    error, hint = result.err.strip().splitlines()
    assert error.startswith("error: 'origin' refused the push to 'main': its branch permissions")
    assert "`jiraflow release finish --abort`" in hint and "`jiraflow release finish --pr`" in hint
    assert repo.git("ls-remote", "--tags", "origin") == ""  # atomic: nothing arrived
    assert run(repo, "release", "finish", "--abort").code == 0
    assert repo.snapshot() == before


# -- status: a finish waiting for its back-merge ------------------------------------------------


def test_status_says_a_finish_waits_for_its_back_merge_and_the_hint_completes_it(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From git alone (no request more than status makes anyway), on the kept release branch
    and anywhere else; the command it names works before and after the merge."""
    import json
    import shlex

    protect(sites, monkeypatch, "main", "develop")
    assert run(repo, "release", "start", "1.2.0").code == 0
    repo.commit("CHANGES", "1.2.0\n", "Changes")
    assert run(repo, "release", "finish", "--pr").code == 0
    sites.bitbucket.merge(sites.name, pr_of(sites, "release/1.2.0")["id"], user="bob")
    assert run(repo, "release", "finish").code == 0
    back = pr_of(sites, "backmerge/1.2.0")
    waiting = (
        "waiting: back-merge of 1.2.0 into develop through backmerge/1.2.0 (its pull request "
        "is not merged as of the last fetch); `jiraflow release finish 1.2.0` completes it "
        "once merged"
    )
    sites.clear_requests()
    shown = run(repo, "status")
    assert shown.code == 0, shown.err
    assert waiting in shown.out.splitlines(), shown.out
    # the release branch's pull request and its builds, as on any work branch: nothing more
    assert len(sites.bitbucket.requests) == 2, [r.path for r in sites.bitbucket.requests]
    doc = json.loads(run(repo, "--json", "status").out)
    assert doc["back_merges"] == [
        {
            "type": "release",
            "version": "1.2.0",
            "branch": "backmerge/1.2.0",
            "into": "develop",
            "merged": False,
            "run": "jiraflow release finish 1.2.0",
        }
    ]
    hint = shlex.split(waiting.split("`")[1])[1:]
    early = run(repo, *hint)  # not merged yet: shows the pull request, changes nothing
    assert early.code == 0, early.err
    assert "is already open" in early.out and repo.exists("refs/heads/release/1.2.0")
    repo.git("checkout", "-q", "develop")  # anywhere
    assert waiting in run(repo, "status").out.splitlines()
    sites.bitbucket.merge(sites.name, back["id"], user="bob")
    repo.git("fetch", "-q", "origin")
    merged = run(repo, "status")
    assert merged.code == 0, merged.err
    assert (
        "waiting: back-merge of 1.2.0 into develop through backmerge/1.2.0 is merged (as of "
        "the last fetch); `jiraflow release finish 1.2.0` completes the release finish"
    ) in merged.out.splitlines(), merged.out
    assert json.loads(run(repo, "--json", "status").out)["back_merges"][0]["merged"] is True
    done = run(repo, *hint)
    assert done.code == 0, done.err
    assert not repo.exists("refs/heads/release/1.2.0")
    assert not repo.exists("refs/heads/backmerge/1.2.0")
    after = run(repo, "status")
    assert "waiting:" not in after.out
    assert json.loads(run(repo, "--json", "status").out)["back_merges"] == []


def test_merge_options_on_the_pull_request_path_are_named_in_one_warning(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--squash, --no-ff and --rebase shape a merge made here: through the pull request, its
    merge strategy decides (`pr merge --squash`), so a finish into a protected base says so."""
    protect(sites, monkeypatch, "develop")
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Work")
    planned = run(repo, "--dry-run", "feature", "finish", "--squash")
    assert planned.code == 0, planned.err
    assert planned.err.splitlines() == [
        "warning: --squash does nothing here: 'develop' is protected, so the pull request does "
        "the merge, the way its merge strategy says (choose it: `jiraflow pr merge --squash`)"
    ]
    opened = run(repo, "feature", "finish", "--squash", "--no-ff", "--rebase", "-k")
    assert opened.code == 0, opened.err
    assert [line for line in opened.err.splitlines() if line.startswith("warning:")] == [
        "warning: --squash, --no-ff, --rebase do nothing here: 'develop' is protected, so the "
        "pull request does the merge, the way its merge strategy says (choose it: "
        "`jiraflow pr merge --squash` or `jiraflow pr merge --merge`)"
    ]
    assert destination(sites, pr_of(sites, "feature/x")) == "develop"
    monkeypatch.setenv("JIRAFLOW_FINISH_NO_FF", "true")  # configured, not given: no warning
    again = run(repo, "feature", "finish", "-k", "-p")
    assert again.code == 0, again.err
    assert "warning:" not in again.err and "is already open" in again.out
    # what the warning suggests works: the pull request merged with a squash
    squashed = run(repo, "pr", "merge", "--squash")
    assert squashed.code == 0, squashed.err
