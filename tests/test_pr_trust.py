"""Pull requests that merged are recognised whatever Cloud's list does with `q`, Data Center
gets the requests its documents describe, a timed-out POST is never sent again and redirects
are never followed. Real repositories with a bare origin, the sandbox over real HTTP."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from conftest import Sites, point_bitbucket_at
from gitutil import Repo
from httputil import local_server
from jiraflow.sandbox.bitbucket import BitbucketSandbox

FEATURE = "feature/PROJ-1-add-login-form"
#: the Cloud sandbox's two readings of `q` (reports differ), and Data Center
SETTINGS = [
    pytest.param(("cloud", {"q_lifts_state_default": True}), id="cloud, q lifts the OPEN default"),
    pytest.param(("cloud", {"q_lifts_state_default": False}), id="cloud, only state lifts it"),
    pytest.param("datacenter", id="datacenter"),
]


def merges_on_origin(repo: Repo, branch: str) -> int:
    origin = repo.git("remote", "get-url", "origin")
    return len(repo.git("--git-dir", origin, "rev-list", "--merges", branch).split())


def posts(sites: Sites, suffix: str) -> int:
    return sum(
        1 for r in sites.bitbucket.requests if r.method == "POST" and r.path.endswith(suffix)
    )


@pytest.mark.parametrize("sites", SETTINGS, indirect=True)
def test_feature_finish_recognises_the_merged_pull_request(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    assert run(repo, "pr", "create").code == 0
    [pr] = sites.prs()
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    sites.clear_requests()

    result = run(repo, "feature", "finish", "--push")
    assert result.code == 0, result.err
    assert f"pull request #{pr['id']} merged '{FEATURE}' into 'develop'" in result.out
    assert repo.git("rev-parse", "develop") == repo.git("rev-parse", "origin/develop")
    assert merges_on_origin(repo, "develop") == 1  # Bitbucket's, and no second one
    assert posts(sites, "/merge") == 0 and posts(sites, "pullrequests") == 0
    assert posts(sites, "pull-requests") == 0
    assert len(sites.prs()) == 1
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


@pytest.mark.parametrize("sites", SETTINGS, indirect=True)
def test_release_finish_after_its_pull_request_merged(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "release", "start", "1.1.0").code == 0
    repo.commit("CHANGES", "1.1.0\n", "Changes for 1.1.0")
    opened = run(repo, "release", "finish", "--pr")
    assert opened.code == 0, opened.err
    [pr] = sites.prs()
    sites.bitbucket.merge(sites.name, pr["id"], user="bob")
    sites.clear_requests()

    finished = run(repo, "release", "finish")
    assert finished.code == 0, finished.err
    assert f"pull request #{pr['id']} merged 'release/1.1.0' into 'main'" in finished.out
    merge_commit = repo.git("rev-parse", "origin/main")
    assert repo.git("rev-parse", "main") == merge_commit
    assert repo.git("rev-parse", "1.1.0^{commit}") == merge_commit  # Bitbucket's merge, tagged
    assert merges_on_origin(repo, "main") == 1
    assert posts(sites, "/merge") == 0 and posts(sites, "pullrequests") == 0
    assert posts(sites, "pull-requests") == 0
    assert len(sites.prs()) == 1


# -- the request shapes -------------------------------------------------------------------------


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_cloud_lists_send_the_states_as_parameters_and_in_q(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("a.txt", "a\n", "a")
    assert run(repo, "pr", "create").code == 0
    sites.clear_requests()
    assert run(repo, "pr", "list", "--state", "all").code == 0
    [listed] = [r for r in sites.bitbucket.requests if r.path.endswith("/pullrequests")]
    assert listed.query["state"] == ["OPEN", "MERGED", "DECLINED", "SUPERSEDED"]
    for state in listed.query["state"]:
        assert f'state = "{state}"' in listed.query["q"][0]


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_datacenter_lists_follow_get_page(repo: Repo, run, sites: Sites) -> None:
    """getPage (GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests):
    one `state` of OPEN, DECLINED, MERGED or ALL; `at` fully qualified; `direction`."""
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("a.txt", "a\n", "a")
    assert run(repo, "pr", "create").code == 0
    sites.clear_requests()
    assert run(repo, "pr", "list", "--state", "merged").code == 0
    assert run(repo, "pr", "view").code == 0
    assert run(repo, "feature", "finish").code == 0
    lists = [r.query for r in sites.bitbucket.requests if r.path.endswith("/pull-requests")]
    assert lists[0]["state"] == ["MERGED"] and "at" not in lists[0]
    for query in lists[1:]:  # the branch's, by source
        assert query["state"] == ["ALL"]
        assert query["at"] == [f"refs/heads/{FEATURE}"] and query["direction"] == ["OUTGOING"]
    assert all(set(q) <= {"state", "at", "direction", "order", "limit", "start"} for q in lists)
    assert len(lists) == 3
    for record in sites.bitbucket.requests:
        assert record.headers["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_datacenter_create_names_each_refs_repository(repo: Repo, run, sites: Sites) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("a.txt", "a\n", "a")
    assert run(repo, "pr", "create").code == 0
    [post] = [r for r in sites.bitbucket.requests if r.method == "POST"]
    body = json.loads(post.body)
    for side, branch in (("fromRef", FEATURE), ("toRef", "develop")):
        assert body[side] == {
            "id": f"refs/heads/{branch}",
            "repository": {"slug": "shop", "project": {"key": "ACME"}},
        }
    assert body["reviewers"] == [{"user": {"name": "bob"}}]
    [reviewers] = [r for r in sites.bitbucket.requests if r.path.endswith("/reviewers")]
    assert reviewers.path == "/rest/default-reviewers/1.0/projects/ACME/repos/shop/reviewers"
    assert reviewers.query == {
        "sourceRepoId": ["1"],
        "targetRepoId": ["1"],
        "sourceRefId": [f"refs/heads/{FEATURE}"],
        "targetRefId": ["refs/heads/develop"],
    }


# -- the Data Center sandbox refuses what Data Center refuses -----------------------------------


def dc_call(sb: BitbucketSandbox, method: str, path: str, **kw: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {sb.token()}"}
    return requests.request(method, sb.url + path, headers=headers, timeout=10, **kw)


def dc_error(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert set(error) >= {"context", "message", "exceptionName"}
    return error  # type: ignore[no-any-return]


PULLS = "/rest/api/1.0/projects/ACME/repos/shop/pull-requests"


@pytest.mark.parametrize(
    "body",
    [
        {"fromRef": {"id": "refs/heads/feature/x"}},  # no repository
        {"fromRef": {"id": "refs/heads/feature/x", "repository": {"slug": "shop"}}},
        {"source": {"branch": {"name": "feature/x"}}},  # Cloud's shape
        {"reviewers": ["bob"]},
        {"reviewers": [{"name": "bob"}]},
        {"reviewers": [{"uuid": "{1234}"}]},
    ],
)
def test_datacenter_refuses_a_create_body_of_another_shape(body: dict[str, Any]) -> None:
    repository = {"slug": "shop", "project": {"key": "ACME"}}
    good = {
        "title": "x",
        "fromRef": {"id": "refs/heads/feature/x", "repository": repository},
        "toRef": {"id": "refs/heads/main", "repository": repository},
    }
    with BitbucketSandbox("datacenter") as sb:
        sent = {**good, **body}
        if "source" in body:
            del sent["fromRef"]
        dc_error(dc_call(sb, "POST", PULLS, json=sent))
        assert sb.pull_requests(sb.repository_name) == []


@pytest.mark.parametrize(
    "query",
    [{"state": "OPEN,MERGED"}, {"state": "SUPERSEDED"}, {"direction": "BOTH"}, {"limit": "x"}],
)
def test_datacenter_refuses_list_parameters_it_does_not_take(query: dict[str, str]) -> None:
    with BitbucketSandbox("datacenter") as sb:
        dc_error(dc_call(sb, "GET", PULLS, params=query))


# -- a POST is sent once; redirects are not followed --------------------------------------------


def test_a_create_that_timed_out_is_not_sent_again(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(repo, "config", "set", "bitbucket.timeout", "1").code == 0
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("a.txt", "a\n", "a")
    path = "pullrequests" if sites.kind == "cloud" else "pull-requests"
    sites.bitbucket.fault("latency", method="POST", path=path, delay=2.5)
    result = run(repo, "pr", "create")
    assert result.code == 6, result.err
    assert "may or may not be open" in result.err and "jiraflow pr create" in result.err
    deadline = time.monotonic() + 10
    while sites.bitbucket.count("POST") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # the sandbox records the request once it has answered
    assert sites.bitbucket.count("POST") == 1
    assert not [r for r in sites.jira.requests if r.path.endswith("/remotelink")]
    again = run(repo, "pr", "create")  # finds the one Bitbucket opened, links it
    assert again.code == 0, again.err
    assert "is already open" in again.out
    assert len(sites.prs()) == 1 and sites.bitbucket.count("POST") == 1


@pytest.mark.parametrize("kind", ["cloud", "datacenter"])
def test_redirects_are_refused_and_nothing_reaches_their_target(
    repo: Repo, run, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with BitbucketSandbox(kind) as elsewhere, local_server(redirect_to=elsewhere.url) as redirect:
        point_bitbucket_at(monkeypatch, elsewhere)
        api = urlsplit(elsewhere.api_url)
        monkeypatch.setenv("JIRAFLOW_BITBUCKET_URL", redirect.url + api.path)
        monkeypatch.setenv("JIRAFLOW_BITBUCKET_KIND", kind)
        assert run(repo, "feature", "start", "x").code == 0
        repo.commit("x.txt", "x\n", "x")
        result = run(repo, "pr", "create")
        assert result.code == 6, result.err
        assert "redirect to" in result.err and elsewhere.url in result.err
        assert elsewhere.requests == []
        assert redirect.received  # the redirect was what jiraflow got
        assert "Traceback" not in result.err
