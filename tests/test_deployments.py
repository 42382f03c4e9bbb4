"""Bitbucket Cloud Pipelines deployments: the sandbox's environments and deployments (held to
the Cloud spec), the client reading the last successful deployment of an environment, Data
Center (no Pipelines), the service and `where`'s "deployed to" lines. Over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow.bitbucket.client import (
    NO_PIPELINES,
    InvalidAnswer,
    NoPipelines,
    UnknownEnvironment,
)
from jiraflow.bitbucket.cloud import CloudClient
from jiraflow.bitbucket.datacenter import DataCenterClient
from jiraflow.bitbucket.repository import CLOUD, DATACENTER, Repository
from jiraflow.credentials import Credential
from jiraflow.sandbox import BitbucketSandbox
from jiraflow.sandbox.server import round_trips
from jiraflow.store import SiteCache
from test_pr_checks import CLOUD_REPO, conforms
from test_sandbox_bitbucket import call, repo_path

NAME = "acme/shop"
OLD, NEW, NEWER = "a" * 40, "b" * 40, "c" * 40
DAY = dt.datetime(2026, 12, 1, 14, 2, tzinfo=dt.UTC)


@pytest.fixture
def cloud() -> Iterator[BitbucketSandbox]:
    with BitbucketSandbox("cloud") as sandbox:
        yield sandbox


def client(sb: BitbucketSandbox, cache: SiteCache | None = None) -> CloudClient:
    repo = Repository(CLOUD, sb.api_url, sb.url, "acme", "shop")
    credential = Credential("bitbucket", sb.api_url, sb.login(), sb.token(), "test")
    return CloudClient(credential, repo, cache=cache or SiteCache(None), sleep=lambda _: None)


def uuid_of(sb: BitbucketSandbox, name: str) -> str:
    return str(next(e["uuid"] for e in sb.environments(NAME) if e["name"] == name))


# == the sandbox, held to the spec =============================================================


def test_sandbox_environments_and_deployments_match_the_cloud_spec(
    cloud: BitbucketSandbox,
) -> None:
    listed = call(cloud, "GET", repo_path(cloud, "/environments"))
    conforms(cloud, listed, "GET", CLOUD_REPO + "/environments", 200)
    names = [(e["name"], e["environment_type"]["name"]) for e in listed.body["values"]]
    assert names == [("Test", "Test"), ("Staging", "Staging"), ("Production", "Production")]
    production = listed.body["values"][2]
    one = call(cloud, "GET", repo_path(cloud, f"/environments/{production['uuid']}"))
    conforms(cloud, one, "GET", CLOUD_REPO + "/environments/{environment_uuid}", 200)
    assert one.body == production
    cloud.deploy(NAME, "Production", OLD, when=DAY)
    cloud.deploy(NAME, "production", NEW, state="FAILED", when=DAY + dt.timedelta(hours=1))
    cloud.deploy(NAME, "Staging", NEWER, state="IN_PROGRESS")
    deployments = call(cloud, "GET", repo_path(cloud, "/deployments"))
    conforms(cloud, deployments, "GET", CLOUD_REPO + "/deployments", 200)
    states = [
        (
            d["release"]["commit"]["hash"],
            d["state"]["name"],
            d["state"].get("status", {}).get("name"),
        )
        for d in deployments.body["values"]
    ]
    assert states == [(NEWER, "IN_PROGRESS", None), (NEW, "COMPLETED", "FAILED"),
                      (OLD, "COMPLETED", "SUCCESSFUL")]  # fmt: skip
    first = deployments.body["values"][2]
    assert first["state"]["completed_on"].startswith("2026-12-01T14:02:00")
    assert first["environment"]["uuid"] == production["uuid"]
    one = call(cloud, "GET", repo_path(cloud, f"/deployments/{first['uuid']}"))
    conforms(cloud, one, "GET", CLOUD_REPO + "/deployments/{deployment_uuid}", 200)
    assert one.body == first
    missing = call(cloud, "GET", repo_path(cloud, "/deployments/{0000}"))
    assert missing.status == 404


def test_sandbox_deployments_filter_sort_page_and_replace(cloud: BitbucketSandbox) -> None:
    production = uuid_of(cloud, "Production")
    cloud.deploy(NAME, "Production", OLD, when=DAY)
    cloud.deploy(NAME, "Staging", NEW, when=DAY + dt.timedelta(hours=2))
    cloud.deploy(NAME, "Production", NEWER, when=DAY + dt.timedelta(hours=1))
    cloud.deploy(NAME, "Production", NEW, state="STOPPED", when=DAY - dt.timedelta(hours=1))
    params = {"environment": production.strip("{}"), "sort": "-state.completed_on"}
    answer = call(cloud, "GET", repo_path(cloud, "/deployments"), params={**params, "pagelen": 2})
    values = answer.body["values"]
    # newest first by completed_on; the successful one replaced is UNDEPLOYED, as Pipelines does
    assert [(d["release"]["commit"]["hash"], d["state"]["name"]) for d in values] == [
        (NEWER, "COMPLETED"),
        (OLD, "UNDEPLOYED"),
    ]
    assert answer.body["size"] == 3 and "page=2" in answer.body["next"]
    oldest = call(
        cloud, "GET", repo_path(cloud, "/deployments"), params={"sort": "state.started_on"}
    )
    assert oldest.body["values"][0]["release"]["commit"]["hash"] == NEW  # the STOPPED one
    wrong = call(cloud, "GET", repo_path(cloud, "/deployments"), params={"sort": "name"})
    assert wrong.status == 400
    with pytest.raises(KeyError):
        cloud.deploy(NAME, "Nowhere", OLD)
    with pytest.raises(ValueError, match="state"):
        cloud.deploy(NAME, "Test", OLD, state="DONE")


def test_sandbox_data_center_has_no_deployments() -> None:
    with BitbucketSandbox("datacenter") as sb:
        for path in ("/environments", "/deployments"):
            assert call(sb, "GET", repo_path(sb, path)).status == 404
        with pytest.raises(ValueError, match="only on Bitbucket Cloud"):
            sb.deploy(sb.repository_name, "Production", OLD)


# == the client ================================================================================


def test_the_last_successful_deployment_in_two_requests_then_one(cloud: BitbucketSandbox) -> None:
    cloud.deploy(NAME, "Production", OLD, when=DAY - dt.timedelta(days=1))
    cloud.deploy(NAME, "Production", NEW, when=DAY)
    cloud.deploy(NAME, "Production", NEWER, state="FAILED", when=DAY + dt.timedelta(hours=1))
    cloud.deploy(NAME, "Production", NEWER, state="IN_PROGRESS")
    cloud.deploy(NAME, "Staging", NEWER, when=DAY + dt.timedelta(hours=2))
    cache = SiteCache(None)
    found = client(cloud, cache).last_deployment("PRODUCTION")  # any case
    assert found is not None
    assert (found.environment, found.commit, found.state) == ("Production", NEW, "SUCCESSFUL")
    assert found.finished == DAY and found.url.endswith("/results/2")
    [environments, deployments] = cloud.requests
    assert environments.path.endswith("/environments")
    assert deployments.query == {
        "environment": [uuid_of(cloud, "Production")],
        "sort": ["-state.completed_on"],
        "pagelen": ["10"],
    }
    cloud.clear_requests()
    again = client(cloud, cache).last_deployment("Staging")  # the environments are cached
    assert again is not None and again.commit == NEWER
    assert cloud.count() == 1


def test_no_successful_deployment_is_none(cloud: BitbucketSandbox) -> None:
    assert client(cloud).last_deployment("Test") is None
    cloud.deploy(NAME, "Test", OLD, state="FAILED")
    cloud.deploy(NAME, "Test", NEW, state="IN_PROGRESS")
    assert client(cloud).last_deployment("Test") is None


def test_paging_is_followed_and_bounded(cloud: BitbucketSandbox) -> None:
    cloud.deploy(NAME, "Production", OLD, when=DAY)
    for n in range(15):
        cloud.deploy(NAME, "Production", NEW, state="FAILED", when=DAY + dt.timedelta(minutes=n))
    found = client(cloud).last_deployment("Production")
    assert found is not None and found.commit == OLD
    assert cloud.count("GET", "/deployments") == 2  # the 16th is on the second page
    for n in range(50):
        cloud.deploy(NAME, "Production", NEW, state="STOPPED", when=DAY + dt.timedelta(hours=n))
    cloud.clear_requests()
    assert client(cloud).last_deployment("Production") is None  # past the 50 newest: not read
    assert cloud.count("GET", "/deployments") == 5


def test_an_unknown_environment_is_asked_for_again_then_named(cloud: BitbucketSandbox) -> None:
    cache = SiteCache(None)
    cache.put(cloud.api_url, "environments acme/shop", [["{1}", "Test", "Test"]])
    cloud.deploy(NAME, "Staging", OLD)
    found = client(cloud, cache).last_deployment("staging")  # not cached: read afresh
    assert found is not None and found.commit == OLD
    assert cloud.count("GET", "/environments") == 1
    with pytest.raises(UnknownEnvironment) as raised:
        client(cloud, cache).last_deployment("Prod")
    assert "named 'Prod'" in raised.value.message
    assert "(it has Test, Staging, Production)" in raised.value.message
    assert raised.value.exit_code == 3 and "jiraflow config show" in str(raised.value.hint)


def deployment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "deployment",
        "uuid": "{d}",
        "state": {
            "type": "deployment_state_completed",
            "name": "COMPLETED",
            "completed_on": "2026-12-01T14:02:00+00:00",
            "status": {
                "type": "deployment_state_completed_status_successful",
                "name": "SUCCESSFUL",
            },
        },
        "environment": {"type": "deployment_environment", "uuid": "{e}"},
        "release": {"type": "deployment_release", "commit": {"type": "commit", "hash": OLD}},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = body
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return body


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/environments", {"values": [{"name": "Production"}]}, "values[0].uuid is missing"),
        ("/environments", {"values": {}}, "values is an object, not a list"),
        ("/deployments", {"values": [deployment(state=None)]}, "values[0].state is missing"),
        ("/deployments", {"values": [deployment(release__commit__hash=None)]}, "hash is missing"),
        ("/deployments", {"values": [deployment(release__commit__hash="xyz")]}, "a commit hash"),
        ("/deployments", {"values": [deployment(state__status=None)]}, "state.status is missing"),
        ("/deployments", {"values": [deployment(state__completed_on=None)]}, "completed_on is"),
        ("/deployments", {"values": [deployment(state__completed_on="soon")]}, "a date and time"),
        ("/deployments", {"values": [deployment(environment=None)]}, "environment is missing"),
        ("/deployments", {"values": [deployment(environment__uuid=7)]}, "uuid is a number"),
        ("/deployments", [], "the answer is a list"),
    ],
)
def test_malformed_answers_are_invalid(
    cloud: BitbucketSandbox, path: str, body: Any, problem: str
) -> None:
    cloud.fault("body", method="GET", path=path, status=200, body=body)
    with pytest.raises(InvalidAnswer) as raised:
        client(cloud).last_deployment("Production")
    assert problem in raised.value.message and raised.value.exit_code == 6


def test_a_well_formed_answer_is_read(cloud: BitbucketSandbox) -> None:
    """The body of test_malformed_answers_are_invalid, unbroken, is read (so each broken one
    fails for what it breaks)."""
    environment = {"type": "deployment_environment", "uuid": "{e}", "name": "Production"}
    cloud.fault("body", method="GET", path="/environments", status=200,
                body={"values": [environment]})  # fmt: skip
    cloud.fault("body", method="GET", path="/deployments", status=200,
                body={"values": [deployment()]})  # fmt: skip
    found = client(cloud).last_deployment("Production")
    assert found is not None and (found.commit, found.finished) == (OLD, DAY)


def test_data_center_has_no_pipelines_and_asks_nothing() -> None:
    with BitbucketSandbox("datacenter") as sb:
        repo = Repository(DATACENTER, sb.api_url, sb.url, "ACME", "shop")
        credential = Credential("bitbucket", sb.url, sb.login(), sb.token(), "test")
        dc = DataCenterClient(credential, repo, cache=SiteCache(None))
        for read in (dc.deployment_environments, lambda: dc.last_deployment("Production")):
            with pytest.raises(NoPipelines) as raised:
                read()
            assert NO_PIPELINES in raised.value.message and raised.value.exit_code == 3
        assert sb.count() == 0


# == the service and `where` ===================================================================

CHAIN = """
[[environments]]
name = "staging"
branch = "staging"
deployment = "Staging"

[[environments]]
name = "production"
branch = "main"
deployment = "Production"
"""


def shipped(repo: Repo, run) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """PROJ-1 finished into develop and pushed: (develop before it, develop after it)."""
    before = repo.git("rev-parse", "develop")
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "PROJ-1 add the login form")
    assert run(repo, "feature", "finish").code == 0
    repo.git("push", "-q", "origin", "develop")
    (repo.path / ".jiraflow.toml").write_text(CHAIN)
    return before, repo.git("rev-parse", "develop")


def where_rows(run, repo: Repo, *args: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    result = run(repo, "where", *args, "PROJ-1")
    assert result.code == 0, result.err
    return {
        label: rest.strip()
        for line in result.out.splitlines()
        if line.startswith("  deployed to ")
        for label, _, rest in [line.strip().partition("  ")]
    }


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_the_service_reads_environments_at_once_with_notes(repo: Repo, sites: Sites) -> None:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.services.deployments import deployed

    sb = sites.bitbucket
    sb.deploy(NAME, "Production", OLD, when=DAY)
    sb.deploy(NAME, "Staging", NEW, when=DAY)
    sb.latency = 0.1
    flow = FlowContext.open(str(repo.path), user_path=None)
    answer = deployed(flow, ["Production", "Staging", "Test", "Nowhere"])
    assert {n: d.commit if d else None for n, d in answer.found.items()} == {
        "Production": OLD,
        "Staging": NEW,
        "Test": None,
    }
    assert "no deployment environment named 'Nowhere'" in answer.notes["Nowhere"]
    # the environments, then the four at once (Nowhere's read the environments afresh)
    assert sb.count("GET", "/environments") == 2 and sb.count("GET", "/deployments") == 3
    assert round_trips(sb.requests) == 2


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_where_says_whether_the_last_deployment_holds_the_issue(
    repo: Repo, run, sites: Sites
) -> None:
    before, after = shipped(repo, run)
    assert where_rows(run, repo) == {
        "deployed to staging": "no (no successful deployment)",
        "deployed to production": "no (no successful deployment)",
    }
    sites.bitbucket.deploy(NAME, "Staging", after, when=DAY)
    sites.bitbucket.deploy(NAME, "Production", before, when=DAY)
    local = DAY.astimezone().strftime("%Y-%m-%d %H:%M")
    assert where_rows(run, repo) == {
        "deployed to staging": f"yes ({after[:7]}, {local})",
        "deployed to production": f"no ({before[:7]}, {local})",
    }
    sites.bitbucket.deploy(NAME, "Production", "f" * 40, when=DAY)
    rows = where_rows(run, repo)
    assert rows["deployed to production"] == (
        "unknown (commit fffffff is not in this clone: `git fetch`)"
    )
    info = json.loads(run(repo, "--json", "where", "PROJ-1").out)
    assert info["deployments"][0] == {
        "environment": "staging",
        "deployment": "Staging",
        "deployed": "yes",
        "contains": 1,
        "commit": after,
        "finished": DAY.isoformat(),
        "url": f"https://bitbucket.org/{NAME}/addon/pipelines/home#!/results/1",
        "note": None,
    }
    offline = where_rows(run, repo, "--offline")
    assert offline["deployed to staging"] == "unknown (not asked (--offline))"


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_where_on_data_center_says_the_branch_stands_for_the_deployment(
    repo: Repo, run, sites: Sites
) -> None:
    shipped(repo, run)
    sites.clear_requests()
    rows = where_rows(run, repo)
    assert rows["deployed to production"] == f"unknown ({NO_PIPELINES})"
    assert sites.bitbucket.count("GET", "deployments") == 0


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_where_says_partly_when_the_deployment_holds_some_commits(
    repo: Repo, run, sites: Sites
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    first = repo.commit("login.html", "<form></form>\n", "PROJ-1 add the login form")
    repo.commit("login.css", "form {}\n", "PROJ-1 style it")
    assert run(repo, "feature", "finish").code == 0
    (repo.path / ".jiraflow.toml").write_text(CHAIN)
    sites.bitbucket.deploy(NAME, "Production", first, when=DAY)
    local = DAY.astimezone().strftime("%Y-%m-%d %H:%M")
    rows = where_rows(run, repo)
    assert rows["deployed to production"] == f"partly (1 of 2 commits: {first[:7]}, {local})"
