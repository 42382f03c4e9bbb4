"""Build status end to end: the sandbox's commit statuses (Cloud) and build status (Data
Center) held to the specs, the client reading them (and refusing malformed ones), and
`jiraflow pr checks` (exit codes 0/1/8, --watch on a terminal and in a log, --fail-fast,
--required, --json, its request budget), plus the build line of `pr view` and `pr status`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow.bitbucket.client import BuildStatus
from jiraflow.cli import cli
from jiraflow.cli.render import Terminal
from jiraflow.sandbox import BitbucketSandbox
from jiraflow.services import builds as service
from openapi_check import SpecValidator, load_spec
from test_sandbox_bitbucket import (
    CLOUD_SPEC,
    DC_SPEC,
    SPEC_NULLS,
    SPEC_OMISSIONS,
    call,
    prs_path,
    repo_path,
)

SPECS = Path(__file__).parent / "data" / "reference" / "specs"
HEAD = "0123456789abcdef0123456789abcdef01234567"
CLOUD_REPO = "/repositories/{workspace}/{repo_slug}"
DC_REPO = "/api/latest/projects/{projectKey}/repos/{repositorySlug}"


# == the sandbox, held to the specs ============================================================


@pytest.fixture(params=["cloud", "datacenter"])
def sb(request: pytest.FixtureRequest) -> Iterator[BitbucketSandbox]:
    with BitbucketSandbox(request.param) as sandbox:
        yield sandbox


def validator(sb: BitbucketSandbox) -> SpecValidator:
    spec = load_spec(SPECS / (CLOUD_SPEC if sb.flavour == "cloud" else DC_SPEC))
    return SpecValidator(spec, SPEC_OMISSIONS[sb.flavour], SPEC_NULLS[sb.flavour])


def conforms(sb: BitbucketSandbox, reply: Any, method: str, path: str, status: int) -> None:
    assert reply.status == status, reply.body
    check = validator(sb)
    assert check.validate(reply.body, check.response_schema(method, path, status)) == []


@pytest.mark.parametrize("sb", ["cloud"], indirect=True)
def test_cloud_commit_statuses_match_the_spec(sb: BitbucketSandbox) -> None:
    pr = sb.create_pull_request(sb.repository_name, "feature/x", "main")
    head = pr["source"]["commit"]["hash"]  # 12 characters, as Cloud gives them
    body = {"key": "ci", "state": "INPROGRESS", "url": "https://ci/1", "name": "CI"}
    posted = call(sb, "POST", repo_path(sb, f"/commit/{head}/statuses/build"), body)
    conforms(sb, posted, "POST", CLOUD_REPO + "/commit/{commit}/statuses/build", 201)
    again = {**body, "state": "SUCCESSFUL", "refname": "feature/x"}
    updated = call(sb, "POST", repo_path(sb, f"/commit/{head}/statuses/build"), again)
    assert updated.body["created_on"] == posted.body["created_on"]
    assert updated.body["updated_on"] > posted.body["updated_on"]
    sb.set_build(sb.repository_name, head, "lint", "STOPPED")
    listed = call(sb, "GET", repo_path(sb, f"/commit/{head}/statuses"))
    conforms(sb, listed, "GET", CLOUD_REPO + "/commit/{commit}/statuses", 200)
    assert [(s["key"], s["state"]) for s in listed.body["values"]] == [
        ("ci", "SUCCESSFUL"),
        ("lint", "STOPPED"),
    ]
    of_pr = call(sb, "GET", prs_path(sb, f"/{pr['id']}/statuses"))
    conforms(sb, of_pr, "GET", CLOUD_REPO + "/pullrequests/{pull_request_id}/statuses", 200)
    assert of_pr.body["values"] == listed.body["values"]
    no_state = {"key": "x", "url": "https://ci/2"}
    wrong = call(sb, "POST", repo_path(sb, f"/commit/{head}/statuses/build"), no_state)
    assert wrong.status == 400 and "state" in wrong.body["error"]["fields"]


@pytest.mark.parametrize("sb", ["datacenter"], indirect=True)
def test_datacenter_build_status_matches_the_spec(sb: BitbucketSandbox) -> None:
    old = {"key": "ci", "state": "INPROGRESS", "url": "https://ci/1", "name": "CI"}
    assert call(sb, "POST", f"build-status/1.0/commits/{HEAD}", old).status == 204
    new = {"key": "e2e", "state": "CANCELLED", "url": "https://ci/2", "duration": 65000,
           "ref": "refs/heads/feature/x", "buildNumber": "7"}  # fmt: skip
    assert call(sb, "POST", repo_path(sb, f"/commits/{HEAD}/builds"), new).status == 204
    listed = call(sb, "GET", f"build-status/latest/commits/{HEAD}")
    conforms(sb, listed, "GET", "/build-status/latest/commits/{commitId}", 200)
    assert [(b["key"], b["state"]) for b in listed.body["values"]] == [
        ("ci", "INPROGRESS"),
        ("e2e", "CANCELLED"),
    ]
    one = call(sb, "GET", repo_path(sb, f"/commits/{HEAD}/builds"), params={"key": "e2e"})
    conforms(sb, one, "GET", DC_REPO + "/commits/{commitId}/builds", 200)
    assert one.body["duration"] == 65000 and one.body["repositorySlug"] == "shop"
    none = call(sb, "GET", repo_path(sb, f"/commits/{HEAD}/builds"), params={"key": "zz"})
    assert none.status == 404
    assert call(sb, "GET", repo_path(sb, f"/commits/{HEAD}/builds")).status == 400
    bad = call(sb, "POST", f"build-status/1.0/commits/{HEAD}", {**old, "state": "STOPPED"})
    assert bad.status == 400
    sb.require_builds(sb.repository_name, ["ci"], "develop")
    sb.require_builds(sb.repository_name, ["lint"], None)
    sb.require_builds(sb.repository_name, ["rel"], "release/*")
    conditions = call(
        sb, "GET", "required-builds/latest/projects/ACME/repos/shop/conditions", params=None
    )
    path = "/required-builds/latest/projects/{projectKey}/repos/{repositorySlug}/conditions"
    conforms(sb, conditions, "GET", path, 200)
    kinds = [c["refMatcher"]["type"]["id"] for c in conditions.body["values"]]
    assert kinds == ["BRANCH", "ANY_REF", "PATTERN"]


def test_set_build_speaks_each_flavours_words(sb: BitbucketSandbox) -> None:
    stopped = sb.set_build(sb.repository_name, HEAD, "ci", "CANCELLED")
    assert stopped["state"] == ("STOPPED" if sb.flavour == "cloud" else "CANCELLED")
    with pytest.raises(ValueError, match="build state"):
        sb.set_build(sb.repository_name, HEAD, "ci", "DONE")
    assert [b["key"] for b in sb.builds(sb.repository_name, HEAD[:12])] == ["ci"]


# == the command ================================================================================


def opened(repo: Repo, run: Callable[..., Any]) -> tuple[int, str]:
    """A feature branch with its pull request open: (its number, the head commit)."""
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    created = run(repo, "--json", "pr", "create")
    assert created.code == 0, created.err
    return json.loads(created.out)["pull_request"]["id"], repo.git("rev-parse", "HEAD")


def report(sites: Sites, head: str, key: str, state: str, **kw: Any) -> None:
    kw.setdefault("url", f"https://ci.example.com/{key}/1")
    sites.bitbucket.set_build(sites.name, head, key, state, **kw)


def test_all_successful_exit_0_each_build_with_state_duration_and_url(
    repo: Repo, run, sites: Sites
) -> None:
    number, head = opened(repo, run)
    dc = sites.kind == "datacenter"
    report(
        sites, head, "ci", "SUCCESSFUL", name="Unit tests", **({"duration": 65000} if dc else {})
    )
    report(sites, head, "lint", "SUCCESSFUL", name="Lint")
    result = run(repo, "pr", "checks")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"Pull request #{number}") and "2 successful" in lines[0]
    assert lines[1].startswith("✓ Unit tests  successful")
    assert lines[1].endswith("https://ci.example.com/ci/1")
    if dc:
        assert "1m 5s" in lines[1]
    assert "Lint" in lines[2] and result.err == ""


def test_a_failed_build_exits_1_and_names_it(repo: Repo, run, sites: Sites) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "SUCCESSFUL")
    report(sites, head, "e2e", "FAILED", name="End to end")
    report(sites, head, "lint", "INPROGRESS")
    result = run(repo, "pr", "checks", str(number))
    assert result.code == 1
    assert "✗ End to end" in result.out and "failed" in result.out
    assert f"error: 1 build failed on pull request #{number}: 'End to end'" in result.err
    assert f"`jiraflow pr checks {number} --watch`" in result.err
    assert "https://ci.example.com/e2e/1" in result.err


def test_a_stopped_build_fails_too(repo: Repo, run, sites: Sites) -> None:
    _, head = opened(repo, run)
    report(sites, head, "ci", "STOPPED")
    result = run(repo, "pr", "checks")
    assert result.code == 1 and "stopped" in result.out and "failed or stopped" in result.err


def test_running_builds_exit_8(repo: Repo, run, sites: Sites) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "SUCCESSFUL")
    report(sites, head, "e2e", "INPROGRESS")
    result = run(repo, "pr", "checks")
    assert result.code == 8
    assert "1 successful, 1 running" in result.out
    assert f"error: 1 build still running on pull request #{number}" in result.err
    assert f"hint: Wait for them with `jiraflow pr checks {number} --watch`." in result.err


def test_no_builds_is_exit_0_and_says_so(repo: Repo, run, sites: Sites) -> None:
    number, _ = opened(repo, run)
    result = run(repo, "pr", "checks")
    assert result.code == 0
    assert result.out.startswith(f"Pull request #{number}") and "no builds reported" in result.out


def test_without_a_pull_request_says_how_to_open_one(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    result = run(repo, "pr", "checks")
    assert result.code == 5 and "jiraflow pr create" in result.err


def test_json_is_one_document_with_every_build(repo: Repo, run, sites: Sites) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "FAILED", description="3 tests failed")
    result = run(repo, "--json", "pr", "checks")
    assert result.code == 1
    doc = json.loads(result.out)
    assert (doc["pull_request"], doc["overall"]) == (number, "failure")
    assert head.startswith(doc["commit"])  # as Bitbucket gives it: 12 characters on Cloud
    assert doc["required"] is None
    (build,) = doc["builds"]
    assert (build["key"], build["state"], build["description"]) == (
        "ci",
        "FAILED",
        "3 tests failed",
    )
    assert build["url"] == "https://ci.example.com/ci/1"
    assert set(build) == {"key", "name", "state", "url", "description", "started", "finished",
                          "duration"}  # fmt: skip
    assert build["finished"] is not None and build["duration"] >= 0


def test_fail_fast_needs_watch(repo: Repo, run) -> None:
    result = run(repo, "pr", "checks", "--fail-fast")
    assert result.code == 2 and "`jiraflow pr checks --watch --fail-fast`" in result.err


# -- --watch ---------------------------------------------------------------------------------


def polls(monkeypatch: pytest.MonkeyPatch, steps: list[Callable[[], None]]) -> list[float]:
    """Replace the wait between polls: each wait runs the next step (a CI reporting), and
    the waits are recorded; more waits than steps fail the test."""
    waited: list[float] = []

    def pause(seconds: float) -> None:
        assert len(waited) < len(steps), "polled after the builds ended"
        steps[len(waited)]()
        waited.append(seconds)

    monkeypatch.setattr(service, "pause", pause)
    return waited


def test_watch_in_a_log_prints_each_change_until_all_end(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "INPROGRESS", name="CI")
    report(sites, head, "lint", "INPROGRESS", name="Lint")
    waited = polls(
        monkeypatch,
        [
            lambda: report(sites, head, "lint", "SUCCESSFUL", name="Lint"),
            lambda: None,  # nothing changed
            lambda: report(sites, head, "ci", "SUCCESSFUL", name="CI"),
        ],
    )
    result = run(repo, "pr", "checks", "--watch", "--interval", "3")
    assert result.code == 0, result.err
    assert waited == [3, 3, 3]
    lines = result.out.splitlines()
    assert [line.split()[:3] for line in lines[:-1]] == [
        ["*", "CI", "running"],
        ["*", "Lint", "running"],
        ["✓", "Lint", "successful"],
        ["✓", "CI", "successful"],
    ]
    assert lines[-1].startswith(f"Pull request #{number}") and "2 successful" in lines[-1]
    assert "\x1b[" not in result.out


def test_watch_without_fail_fast_waits_for_the_others_then_exits_1(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, head = opened(repo, run)
    report(sites, head, "ci", "INPROGRESS")
    report(sites, head, "e2e", "INPROGRESS")
    steps = [
        lambda: report(sites, head, "ci", "FAILED"),
        lambda: report(sites, head, "e2e", "SUCCESSFUL"),
    ]
    waited = polls(monkeypatch, steps)
    result = run(repo, "pr", "checks", "--watch")
    assert result.code == 1 and len(waited) == 2 and waited[0] == 10


def test_fail_fast_stops_at_the_first_failure(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "INPROGRESS")
    report(sites, head, "e2e", "INPROGRESS")
    waited = polls(monkeypatch, [lambda: report(sites, head, "ci", "FAILED"), lambda: None])
    result = run(repo, "--json", "pr", "checks", str(number), "--watch", "--fail-fast")
    assert result.code == 1 and len(waited) == 1
    doc = json.loads(result.out)  # with --json: one document, at the end
    assert [b["state"] for b in doc["builds"]] == ["FAILED", "INPROGRESS"]


def test_watch_on_a_terminal_redraws_in_place(
    repo: Repo,
    run,
    sites: Sites,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, head = opened(repo, run)
    report(sites, head, "ci", "INPROGRESS")
    polls(monkeypatch, [lambda: report(sites, head, "ci", "SUCCESSFUL")])
    capsys.readouterr()
    args = ["-C", str(repo.path), "pr", "checks", "--watch"]
    code = cli.main(args=args, obj=Terminal(stdout=True, columns=60), standalone_mode=False)
    out = capsys.readouterr().out
    assert not code  # click gives back None: the command returned
    first, second = out.split("\x1b[2F\x1b[J")  # up over the 2 lines drawn, cleared
    assert "1 running" in first and "1 successful" in second
    assert "running" not in second


# -- --required ------------------------------------------------------------------------------


def test_required_on_data_center_shows_the_required_builds_and_waits_for_missing_ones(
    repo: Repo, run, sites: Sites
) -> None:
    _, head = opened(repo, run)
    report(sites, head, "ci", "SUCCESSFUL")
    report(sites, head, "lint", "FAILED")
    if sites.kind == "cloud":  # Cloud names no required builds: every build counts
        result = run(repo, "--json", "pr", "checks", "--required")
        assert result.code == 1
        assert [b["key"] for b in json.loads(result.out)["builds"]] == ["ci", "lint"]
        return
    sites.bitbucket.require_builds(sites.name, ["ci", "deploy"], "develop")
    sites.bitbucket.require_builds(sites.name, ["lint"], "main")  # not this destination
    result = run(repo, "--json", "pr", "checks", "--required")
    assert result.code == 8, result.err
    doc = json.loads(result.out)
    assert doc["required"] == ["ci", "deploy"]
    assert [(b["key"], b["state"]) for b in doc["builds"]] == [
        ("ci", "SUCCESSFUL"),
        ("deploy", "UNKNOWN"),
    ]
    assert doc["builds"][1]["description"] == service.NOT_REPORTED


# -- reading answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sites", "value", "problem"),
    [
        (kind, value, problem)
        for kind in ("cloud", "datacenter")
        for value, problem in [
            ({"state": "SUCCESSFUL", "url": "u"}, "values[0].key is missing"),
            ({"key": "ci", "state": 3}, "values[0].state is a number, not a string"),
        ]
    ]
    + [
        ("cloud", {"key": "ci", "state": "SUCCESSFUL", "created_on": "yesterday"}, "not a date"),
        ("datacenter", {"key": "ci", "state": "SUCCESSFUL", "createdDate": "1"}, "whole number"),
    ],
    indirect=["sites"],
)
def test_a_malformed_answer_is_exit_6_naming_the_problem(
    repo: Repo, run, sites: Sites, value: dict[str, Any], problem: str
) -> None:
    number, _ = opened(repo, run)
    cloud = sites.kind == "cloud"
    body = {"values": [value], "isLastPage": True, "size": 1, "start": 0, "limit": 25}
    where = "/statuses" if cloud else "/build-status/"
    sites.bitbucket.fault("body", path=where, status=200, body=body)
    result = run(repo, "pr", "checks", str(number))
    assert result.code == 6
    assert "JSON jiraflow cannot use" in result.err and problem in result.err
    assert "hint: Check bitbucket.url" in result.err


def test_a_missing_pull_request_is_exit_6(repo: Repo, run, sites: Sites) -> None:
    opened(repo, run)
    result = run(repo, "pr", "checks", "99")
    assert result.code == 6 and "pull request #99 was not found" in result.err


# -- request budgets -------------------------------------------------------------------------


def bitbucket_requests(sites: Sites) -> list[str]:
    return [f"{r.method} {r.path}" for r in sites.bitbucket.requests]


def test_request_budget(repo: Repo, run, sites: Sites) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "SUCCESSFUL")
    sites.clear_requests()
    assert run(repo, "pr", "checks").code == 0
    asked = bitbucket_requests(sites)
    assert len(asked) == 2, asked  # the branch's pull request, then its builds
    assert sites.jira.requests == []
    sites.clear_requests()
    assert run(repo, "pr", "checks", str(number)).code == 0
    asked = bitbucket_requests(sites)
    if sites.kind == "cloud":  # the pull request's statuses, by its number
        assert asked == [f"GET /2.0/repositories/acme/shop/pullrequests/{number}/statuses"]
    else:  # the pull request (for its head commit), then the commit's builds
        assert len(asked) == 2 and asked[1] == f"GET /rest/build-status/latest/commits/{head}"


def test_view_and_status_show_the_builds_at_one_request_each(repo: Repo, run, sites: Sites) -> None:
    number, head = opened(repo, run)
    report(sites, head, "ci", "SUCCESSFUL")
    report(sites, head, "lint", "SUCCESSFUL")
    report(sites, head, "e2e", "INPROGRESS")
    for args in (["pr", "view"], ["pr", "view", str(number)], ["pr", "status"]):
        sites.clear_requests()
        result = run(repo, *args)
        assert result.code == 0, result.err
        assert "Builds: 2 successful, 1 running" in result.out
        about_builds = [p for p in bitbucket_requests(sites) if "status" in p.split("/")[-1]
                        or "/build-status/" in p]  # fmt: skip
        assert len(about_builds) == 1, bitbucket_requests(sites)


def test_view_says_when_the_builds_cannot_be_read(repo: Repo, run, sites: Sites) -> None:
    opened(repo, run)
    where = "/statuses" if sites.kind == "cloud" else "/build-status/"
    sites.bitbucket.fault("status", path=where, status=500)
    result = run(repo, "pr", "view")
    assert result.code == 0 and "Builds: unknown (Bitbucket refused GET" in result.out


# == the service alone ==========================================================================


def build(state: str, key: str = "ci") -> BuildStatus:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return BuildStatus(key, key, state, "", moment, moment + dt.timedelta(seconds=125))


def test_overall_and_summary() -> None:
    assert service.overall([]) == "none"
    assert service.overall([build("SUCCESSFUL")]) == "success"
    assert service.overall([build("SUCCESSFUL"), build("INPROGRESS")]) == "pending"
    assert service.overall([build("UNKNOWN")]) == "pending"
    assert service.overall([build("INPROGRESS"), build("STOPPED")]) == "failure"
    assert service.overall([build("FAILED"), build("SUCCESSFUL")]) == "failure"
    assert service.summary([build("INPROGRESS"), build("SUCCESSFUL"), build("SUCCESSFUL")]) == (
        "2 successful, 1 running"
    )
    assert service.duration_text(build("SUCCESSFUL")) == "2m 5s"


def test_watch_polls_until_done_with_an_injected_sleep() -> None:
    answers = iter([[build("INPROGRESS")], [build("INPROGRESS")], [build("SUCCESSFUL")]])
    seen: list[str] = []
    slept: list[float] = []
    last = service.watch(
        lambda: next(answers),
        interval=5,
        on_update=lambda b: seen.append(service.summary(b)),
        sleep=slept.append,
    )
    assert [b.state for b in last] == ["SUCCESSFUL"] and slept == [5, 5]
    assert seen == ["1 running", "1 running", "1 successful"]
    failing = iter([[build("FAILED"), build("INPROGRESS", "e2e")]])
    stopped = service.watch(lambda: next(failing), interval=5, fail_fast=True, sleep=slept.append)
    assert service.overall(stopped) == "failure" and slept == [5, 5]


def test_exit_8_is_documented() -> None:
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "exit-codes.md").read_text()
    assert "| 8 |" in page and "\n## 8: builds still running\n" in page
    assert "| 8 |" in (root / "README.md").read_text()
    section = page.split("\n## 8: ", 1)[1].split("\n## ", 1)[0]
    assert "hint: Wait for them with `jiraflow pr checks 14 --watch`." in section
