"""The reviewer's side, end to end: `pr checkout`, `pr approve`, `pr request-changes`,
`pr comment`, `pr decline` and `pr list --mine|--reviewing`, against the sandbox Bitbucket of
both kinds over real HTTP, with real repositories (a colleague pushes from a clone of their own
to the bare origin that backs the sandbox repository). Request budgets are counted at the
sandbox; the sandbox's new answers (comments, needs work, the dashboard) are held to the specs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo, git

FEATURE = "feature/PROJ-7-search"


def colleague_pushes(
    repo: Repo, tmp_path: Path, branch: str = FEATURE, base: str = "develop"
) -> Path:
    """Bob clones the origin, commits on `branch` from `base` and pushes it."""
    origin = repo.git("remote", "get-url", "origin")
    clone = tmp_path / "bob"
    if not clone.exists():
        git(tmp_path, "clone", "--quiet", origin, str(clone))
        git(clone, "config", "user.name", "Bob Builder")
        git(clone, "config", "user.email", "bob@example.com")
    git(clone, "checkout", "--quiet", "-B", branch, f"origin/{base}")
    (clone / "search.py").write_text("def search(): ...\n")
    git(clone, "add", "search.py")
    git(clone, "commit", "--quiet", "-m", "Add search")
    git(clone, "push", "--quiet", "origin", branch)
    return clone


def bobs_pull_request(
    sites: Sites, branch: str = FEATURE, reviewers: tuple[str, ...] = ("alice",)
) -> int:
    pr = sites.bitbucket.create_pull_request(
        sites.name, branch, "develop", "PROJ-7: Search", author="bob", reviewers=reviewers
    )
    return int(pr["id"])


def status_of(sites: Sites, pr_id: int, user: str = "alice") -> str:
    """The user's status on the pull request, in Data Center's words."""
    pr = sites.bitbucket.pull_request(sites.name, pr_id)
    if sites.kind == "cloud":
        for p in pr["participants"]:
            if p["user"]["nickname"] == user:
                return {"approved": "APPROVED", "changes_requested": "NEEDS_WORK"}.get(
                    p["state"] or "", "UNAPPROVED"
                )
        return "NONE"
    for r in pr["reviewers"] + pr["participants"]:
        if r["user"]["name"] == user:
            return str(r["status"])
    return "NONE"


def bitbucket_requests(sites: Sites) -> list[str]:
    return [f"{r.method} {r.path}" for r in sites.bitbucket.requests]


# -- pr checkout -----------------------------------------------------------------------------


def test_checkout_makes_a_colleagues_branch_a_local_tracking_branch(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    sites.clear_requests()
    result = run(repo, "pr", "checkout", str(pr_id))
    assert result.code == 0, result.err
    assert repo.branch() == FEATURE
    assert repo.git("config", f"branch.{FEATURE}.merge") == f"refs/heads/{FEATURE}"
    assert repo.git("config", f"branch.{FEATURE}.remote") == "origin"
    assert repo.git("rev-parse", FEATURE) == repo.git("rev-parse", f"origin/{FEATURE}")
    assert f"created '{FEATURE}' tracking 'origin/{FEATURE}'" in result.out
    assert result.out.strip().splitlines()[-1].endswith(f"/pull-requests/{pr_id}")
    assert len(sites.bitbucket.requests) == 1  # the pull request
    # a normal Gitflow branch now: `feature list` knows it
    assert "PROJ-7-search" in run(repo, "feature", "list").out


def test_checkout_fast_forwards_an_existing_branch(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    clone = colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    assert run(repo, "pr", "checkout", str(pr_id)).code == 0
    repo.git("checkout", "--quiet", "develop")
    (clone / "more.py").write_text("x = 1\n")
    git(clone, "add", "more.py")
    git(clone, "commit", "--quiet", "-m", "More")
    git(clone, "push", "--quiet", "origin", FEATURE)
    result = run(repo, "pr", "checkout", str(pr_id))
    assert result.code == 0, result.err
    assert "fast-forwarded" in result.out
    assert repo.branch() == FEATURE
    assert repo.git("rev-parse", FEATURE) == git(clone, "rev-parse", "HEAD")


def test_checkout_refuses_a_diverged_branch(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    clone = colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    assert run(repo, "pr", "checkout", str(pr_id)).code == 0
    mine = repo.commit("mine.txt", "mine\n", "Mine")
    (clone / "theirs.py").write_text("y = 2\n")
    git(clone, "add", "theirs.py")
    git(clone, "commit", "--quiet", "-m", "Theirs")
    git(clone, "push", "--quiet", "origin", FEATURE)
    result = run(repo, "pr", "checkout", str(pr_id))
    assert result.code == 5
    assert "have diverged" in result.err and "git pull --rebase origin" in result.err
    assert repo.git("rev-parse", FEATURE) == mine  # untouched


def test_checkout_refuses_when_local_changes_would_be_overwritten(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    (repo.path / "search.py").write_text("my own draft\n")  # untracked, and theirs has it
    result = run(repo, "pr", "checkout", str(pr_id))
    assert result.code == 5, result.err
    assert "search.py" in result.err and "git stash" in result.err
    assert repo.branch() == "develop"
    assert (repo.path / "search.py").read_text() == "my own draft\n"


def test_checkout_of_a_fork_says_where_it_comes_from(
    repo: Repo, run, sites: Sites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox opens no pull requests across repositories: its answer is read as if the
    source were a fork (the HTTP stays real)."""
    from jiraflow.bitbucket import cloud, datacenter

    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)

    def forked(read: Any) -> Any:
        def reader(value: Any, where: str = "") -> Any:
            if sites.kind == "cloud":
                value["source"]["repository"]["full_name"] = "bob/shop"
            else:
                value["fromRef"]["repository"]["project"]["key"] = "~BOB"
            return read(value, where)

        return reader

    if sites.kind == "cloud":
        monkeypatch.setattr(cloud, "cloud_pull_request", forked(cloud.cloud_pull_request))
    else:
        monkeypatch.setattr(datacenter, "dc_pull_request", forked(datacenter.dc_pull_request))
    result = run(repo, "pr", "checkout", str(pr_id))
    assert result.code == 5
    assert "comes from the fork" in result.err and "git fetch <fork URL>" in result.err
    assert repo.branch() == "develop" and not repo.exists(f"refs/heads/{FEATURE}")


def test_checkout_dry_run_changes_nothing(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    before = repo.refs()
    result = run(repo, "--dry-run", "pr", "checkout", str(pr_id))
    assert result.code == 0, result.err
    assert f"git checkout --quiet -b {FEATURE} --track origin/{FEATURE}" in result.out
    assert repo.refs() == before and repo.branch() == "develop"


# -- approve, request changes, comment, decline ----------------------------------------------


def test_approve_by_number_is_one_request_and_shows_in_bitbucket(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    sites.clear_requests()
    result = run(repo, "pr", "approve", str(pr_id))
    assert result.code == 0, result.err
    assert status_of(sites, pr_id) == "APPROVED"
    assert f"approved pull request #{pr_id}" in result.out
    assert result.out.strip().splitlines()[-1].endswith(f"/pull-requests/{pr_id}")
    # Data Center: the first time, the user search for the token user's slug (then cached)
    first = bitbucket_requests(sites)
    assert len(first) == (2 if sites.kind == "datacenter" else 1), first
    assert sites.jira.count() == 0
    sites.clear_requests()
    assert run(repo, "pr", "request-changes", str(pr_id)).code == 0
    assert len(bitbucket_requests(sites)) == 1, bitbucket_requests(sites)


def test_approving_again_changes_nothing_and_says_so(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    assert run(repo, "pr", "approve", str(pr_id)).code == 0
    repo.git("fetch", "--quiet", "origin")
    repo.git("checkout", "--quiet", "-b", FEATURE, f"origin/{FEATURE}")
    again = run(repo, "pr", "approve")  # by branch: Data Center is told by the lookup
    assert again.code == 0, again.err
    assert "you had approved it already" in again.out
    assert status_of(sites, pr_id) == "APPROVED"
    if sites.kind == "cloud":  # by number, Cloud's 409 says it
        by_number = run(repo, "pr", "approve", str(pr_id))
        assert by_number.code == 0 and "already" in by_number.out


def test_request_changes_without_a_number_uses_the_current_branch(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    assert run(repo, "pr", "checkout", str(pr_id)).code == 0
    sites.clear_requests()
    result = run(repo, "pr", "request-changes")
    assert result.code == 0, result.err
    assert status_of(sites, pr_id) == "NEEDS_WORK"
    assert f"requested changes on pull request #{pr_id} (PROJ-7: Search)" in result.out
    sent = bitbucket_requests(sites)  # lookup + change (Data Center: + its slug, once)
    assert len(sent) == (3 if sites.kind == "datacenter" else 2), sent
    if sites.kind == "datacenter":
        assert any("/participants/alice" in r for r in sent)


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_a_data_center_slug_that_is_not_the_login(
    repo: Repo, run, sites: Sites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data Center names a user in URLs by slug: `dave@acme.com` is `dave_acme.com` (the
    user search finds it; a user whose name merely contains the login comes first)."""
    bb = sites.bitbucket
    dave = "dave@acme.com"
    bb.add_user("bigdave@acme.com", "Big Dave")
    bb.add_user(dave, "Dave Acme")
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_USER", bb.login(dave))
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_TOKEN", bb.token(dave))
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites, reviewers=(dave,))
    sites.clear_requests()
    result = run(repo, "pr", "approve", str(pr_id))
    assert result.code == 0, result.err
    assert status_of(sites, pr_id, dave) == "APPROVED"
    participant = f"PUT /rest/api/1.0/projects/ACME/repos/shop/pull-requests/{pr_id}/participants"
    assert bitbucket_requests(sites) == ["GET /rest/api/1.0/users", f"{participant}/dave_acme.com"]
    sites.clear_requests()
    result = run(repo, "pr", "request-changes", str(pr_id))  # the slug is cached: one request
    assert result.code == 0, result.err
    assert status_of(sites, pr_id, dave) == "NEEDS_WORK"
    assert bitbucket_requests(sites) == [f"{participant}/dave_acme.com"]


def test_comment_is_visible_in_bitbucket(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    sites.clear_requests()
    result = run(repo, "pr", "comment", str(pr_id), "-b", "Nice search, one question.")
    assert result.code == 0, result.err
    assert sites.bitbucket.comments(sites.name, pr_id) == [("alice", "Nice search, one question.")]
    assert f"commented on pull request #{pr_id}" in result.out
    assert "comment" in result.out.strip().splitlines()[-1].lower()  # the comment's address
    assert len(bitbucket_requests(sites)) == 1


def test_comment_reads_stdin_and_refuses_an_empty_one(
    repo: Repo, run, sites: Sites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    monkeypatch.setattr("sys.stdin", io.StringIO("From a file\nwith two lines\n"))
    assert run(repo, "pr", "comment", str(pr_id), "-b", "-").code == 0
    assert sites.bitbucket.comments(sites.name, pr_id) == [
        ("alice", "From a file\nwith two lines\n")
    ]
    empty = run(repo, "pr", "comment", str(pr_id), "-b", "  ")
    assert empty.code == 2 and "the comment is empty" in empty.err


def test_decline_by_number(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    sites.clear_requests()
    result = run(repo, "--json", "pr", "decline", str(pr_id))
    assert result.code == 0, result.err
    assert sites.bitbucket.pull_request(sites.name, pr_id)["state"] == "DECLINED"
    data = json.loads(result.out)
    assert data["action"] == "decline" and data["pull_request"] == pr_id
    assert data["state"] == "DECLINED" and data["changed"] is True
    # Cloud: one POST; Data Center reads the version first
    assert len(bitbucket_requests(sites)) == (1 if sites.kind == "cloud" else 2)
    if sites.kind == "datacenter":
        assert sites.bitbucket.requests[-1].query.get("version") == ["0"]
    again = run(repo, "pr", "decline", str(pr_id))
    assert again.code in (5, 6)  # Cloud: Bitbucket refuses (6); Data Center: we see it (5)
    assert "closed" in again.err or "declined" in again.err


def test_decline_of_the_current_branch(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    assert run(repo, "pr", "checkout", str(pr_id)).code == 0
    sites.clear_requests()
    result = run(repo, "pr", "decline")
    assert result.code == 0, result.err
    assert sites.bitbucket.pull_request(sites.name, pr_id)["state"] == "DECLINED"
    assert len(bitbucket_requests(sites)) == 2  # the lookup (with the version) + decline


def test_approving_your_own_pull_request_shows_bitbuckets_refusal(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr = sites.bitbucket.create_pull_request(sites.name, FEATURE, "develop", author="alice")
    result = run(repo, "pr", "approve", str(pr["id"]))
    assert result.code == 6
    assert "own pull request" in result.err or "author" in result.err
    assert "jiraflow pr view" in result.err  # the hint
    assert status_of(sites, int(pr["id"])) in ("NONE", "UNAPPROVED")


def test_no_pull_request_on_the_current_branch(repo: Repo, run, sites: Sites) -> None:
    result = run(repo, "pr", "approve")
    assert result.code == 5
    assert "'develop' has no open pull request" in result.err
    assert "jiraflow pr approve 12" in result.err


def test_an_unknown_pull_request(repo: Repo, run, sites: Sites) -> None:
    result = run(repo, "pr", "comment", "42", "-b", "hello")
    assert result.code == 6 and "pull request #42 was not found" in result.err


def test_dry_run_names_the_request_and_sends_none(
    repo: Repo, run, sites: Sites, tmp_path: Path
) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    sites.clear_requests()
    for command in ("approve", "request-changes", "decline"):
        result = run(repo, "--dry-run", "pr", command, str(pr_id))
        assert result.code == 0, result.err
        assert f"/{pr_id}/" in result.out and "bitbucket:" in result.out
    result = run(repo, "--dry-run", "pr", "comment", str(pr_id), "-b", "x")
    assert result.code == 0 and "/comments" in result.out
    changing = [r for r in bitbucket_requests(sites) if not r.startswith("GET")]
    assert changing == []
    assert status_of(sites, pr_id) in ("NONE", "UNAPPROVED")
    assert sites.bitbucket.pull_request(sites.name, pr_id)["state"] == "OPEN"


def test_json_of_approve(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    colleague_pushes(repo, tmp_path)
    pr_id = bobs_pull_request(sites)
    result = run(repo, "--json", "pr", "approve", str(pr_id))
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data == {
        "action": "approve",
        "pull_request": pr_id,
        "url": data["url"],
        "changed": True,
    }
    assert data["url"].endswith(f"/pull-requests/{pr_id}")


# -- pr list --mine | --reviewing -------------------------------------------------------------


def test_list_mine_and_reviewing(repo: Repo, run, sites: Sites, tmp_path: Path) -> None:
    colleague_pushes(repo, tmp_path)
    colleague_pushes(repo, tmp_path, "feature/PROJ-8-other")
    colleague_pushes(repo, tmp_path, "feature/PROJ-9-mine")
    bb = sites.bitbucket
    asked = bobs_pull_request(sites)  # bob's, alice reviews
    bb.create_pull_request(sites.name, "feature/PROJ-8-other", "develop", author="bob",
                           reviewers=("carol",))  # fmt: skip
    mine = bb.create_pull_request(
        sites.name, "feature/PROJ-9-mine", "develop", author="alice", reviewers=("bob",)
    )["id"]
    other = "acme/other" if sites.kind == "cloud" else "ACME/other"
    bb.add_repository(other)  # Data Center's dashboard lists this one's too: left out
    bb.create_pull_request(other, "feature/elsewhere", "main", author="alice", reviewers=("bob",))
    sites.clear_requests()
    result = run(repo, "--json", "pr", "list", "--mine")
    assert result.code == 0, result.err
    assert [p["id"] for p in json.loads(result.out)] == [mine]
    result = run(repo, "--json", "pr", "list", "--reviewing")
    assert result.code == 0, result.err
    assert [p["id"] for p in json.loads(result.out)] == [asked]
    # one request each (and Cloud's /user once: it is cached)
    sent = bitbucket_requests(sites)
    assert len([r for r in sent if "pull" in r]) == 2 and len(sent) <= 3, sent
    plain = run(repo, "pr", "list", "--reviewing", "--state", "merged")
    assert plain.code == 0 and "No merged pull requests asking for your review" in plain.out
    both = run(repo, "pr", "list", "--mine", "--reviewing")
    assert both.code == 2 and "cannot be used together" in both.err


# -- the sandbox's new answers, held to the specs ---------------------------------------------

CLOUD_PR = "/repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}"
DC_PR = "/api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests/{pullRequestId}"


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_sandbox_answers_match_the_specs(flavour: str) -> None:
    from jiraflow.sandbox import BitbucketSandbox
    from openapi_check import SpecValidator, load_spec
    from test_sandbox_bitbucket import (
        CLOUD_SPEC,
        DC_SPEC,
        SPEC_NULLS,
        SPEC_OMISSIONS,
        call,
        create,
        prs_path,
        reference_dir,
    )

    spec = load_spec(reference_dir() / "specs" / (CLOUD_SPEC if flavour == "cloud" else DC_SPEC))
    validator = SpecValidator(spec, SPEC_OMISSIONS[flavour], SPEC_NULLS[flavour])
    cloud = flavour == "cloud"
    pr = CLOUD_PR if cloud else DC_PR
    with BitbucketSandbox(flavour) as sb:
        assert create(sb, "feature/x", "main", reviewers=("bob",)).status == 201
        checked: list[tuple[Any, str, str, int]] = []  # reply, method, spec path, status
        if cloud:
            changes = call(sb, "POST", prs_path(sb, "/1/request-changes"), user="bob")
            checked.append((changes, "POST", pr + "/request-changes", 200))
            body: dict[str, Any] = {"content": {"raw": "One question."}}
        else:
            changes = call(
                sb, "PUT", prs_path(sb, "/1/participants/bob"), {"status": "NEEDS_WORK"}, user="bob"
            )
            checked.append((changes, "PUT", pr + "/participants/{userSlug}", 200))
            body = {"text": "One question."}
        posted = call(sb, "POST", prs_path(sb, "/1/comments"), body, user="bob")
        listed = call(sb, "GET", prs_path(sb, "/1/comments"))
        checked += [(posted, "POST", pr + "/comments", 201), (listed, "GET", pr + "/comments", 200)]
        if not cloud:
            board = call(
                sb,
                "GET",
                "api/1.0/dashboard/pull-requests",
                user="bob",
                params={"role": "REVIEWER"},
            )
            assert [p["id"] for p in board.body["values"]] == [1]
            checked.append((board, "GET", "/api/latest/dashboard/pull-requests", 200))
            # the user search (its path is not in the trimmed spec; its users are)
            sb.add_user("dave@acme.com")
            found = call(sb, "GET", "api/1.0/users", params={"filter": "DAVE@"})
            assert found.status == 200 and found.body["isLastPage"] is True
            assert [(u["name"], u["slug"]) for u in found.body["values"]] == [
                ("dave@acme.com", "dave_acme.com")
            ]
            user = validator.schema("RestApplicationUser")
            assert all(validator.validate(u, user) == [] for u in found.body["values"])
            assert call(sb, "GET", "api/1.0/users/dave_acme.com").body["slug"] == "dave_acme.com"
            assert call(sb, "GET", "api/1.0/users/dave@acme.com").status == 404
        for reply, method, path, status in checked:
            assert reply.status == status, reply.body
            schema = validator.response_schema(method, path, status)
            assert validator.validate(reply.body, schema) == [], path
        assert sb.comments(sb.repository_name, 1) == [("bob", "One question.")]
        assert (posted.body["content"]["raw"] if cloud else posted.body["text"]) == "One question."
        # refusals: approving one's own pull request; Cloud: approving twice
        own = call(sb, "POST", prs_path(sb, "/1/approve"), user="alice")
        refusals = [own]
        assert own.status == (400 if cloud else 409), own.body
        if cloud:
            assert call(sb, "POST", prs_path(sb, "/1/approve"), user="bob").status == 200
            twice = call(sb, "POST", prs_path(sb, "/1/approve"), user="bob")
            assert twice.status == 409 and "already" in twice.body["error"]["message"]
            refusals.append(twice)
        error = validator.schema("error" if cloud else "RestErrors")
        assert all(validator.validate(r.body, error) == [] for r in refusals)
