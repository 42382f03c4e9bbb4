"""Jira answers of the wrong shape (issue 16): a 200 whose JSON lacks what jiraflow reads is
a RemoteError naming the request (exit 6, or 7 once the git part is done), never a
KeyError or TypeError ("internal error", exit 1). The sandbox serves the bad answers over
real HTTP (its "body" fault); hypothesis explores them against the client, and a table of
typical ones runs the whole CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import login_of
from gitutil import Repo, outbox
from jiraflow.credentials import Credential
from jiraflow.errors import JiraflowError
from jiraflow.jira.client import JiraClient
from jiraflow.jira.issues import choose_transition, screen_values
from jiraflow.sandbox.jira import JiraSandbox

# Keys Jira's answers use, so that generated objects come near the real shapes.
KEYS = [
    "key", "fields", "issues", "transitions", "to", "id", "name", "status", "statusCategory",
    "summary", "issuetype", "assignee", "accountId", "displayName", "fixVersions", "project",
    "total", "startAt", "nextPageToken", "isLast", "warningMessages", "comments", "body",
    "released", "deploymentType", "required", "allowedValues", "schema", "type", "resolution",
]  # fmt: skip
scalars = st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=12)
scalars |= st.sampled_from(["PROJ-1", "10001", "Done", "Cloud", "done", "In Progress"])
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=6)
    ),
    max_leaves=25,
)


@pytest.fixture(scope="module", params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with JiraSandbox(request.param) as sandbox:
        yield sandbox


def client_of(sandbox: JiraSandbox) -> JiraClient:
    credential = Credential("jira", sandbox.url, login_of(sandbox), sandbox.token(), "test")
    return JiraClient(credential, kind=sandbox.flavour, timeout=5)


def _use_issue(client: JiraClient) -> None:
    issue = client.issue("PROJ-1", transitions=True)
    if issue.transitions:
        try:
            transition = choose_transition(issue, issue.transitions, "Done")
            screen_values(issue, transition, {"resolution": "Done"})
        except JiraflowError:
            pass
    issue.status.matches("category:done")


CALLS: dict[str, tuple[str, str, Callable[[JiraClient], Any]]] = {
    "issue": ("GET", "/issue/PROJ-1", _use_issue),
    "search": ("POST", "/search", lambda c: c.search_keys(["PROJ-1", "PROJ-2"], where="")),
    "versions": ("GET", "/versions", lambda c: [v["id"] for v in c.versions("PROJ")]),
    "create version": (
        "POST",
        "/version",
        lambda c: c.create_version("10000", "9.9.9", released=False, date=None)["id"],
    ),
    "myself": ("GET", "/myself", lambda c: c.myself(fresh=True)["id"]),
    "comments": ("GET", "/comment", lambda c: c.has_comment("PROJ-1", "x")),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answer=json_values)
def test_any_answer_is_used_or_refused_as_a_jira_error(
    site: JiraSandbox, call: str, answer: Any
) -> None:
    method, path, use = CALLS[call]
    site.clear_faults()
    site.fault("body", method=method, path=path, status=200, body=answer, times=None)
    served = site.count(method, path)
    try:
        use(client_of(site))
    except JiraflowError:
        pass
    finally:
        site.clear_faults()
    assert site.count(method, path) > served  # the client did get the answer made for it


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(status=st.sampled_from([400, 403, 404, 409, 500, 502]), answer=json_values)
def test_any_error_body_is_a_jira_error(site: JiraSandbox, status: int, answer: Any) -> None:
    """Error answers are read for Jira's messages, whatever their body holds."""
    site.clear_faults()
    site.fault("body", method="GET", path="/issue/PROJ-1", status=status, body=answer, times=None)
    try:
        with pytest.raises(JiraflowError):
            client_of(site).issue("PROJ-1", transitions=True)
    finally:
        site.clear_faults()


# == the whole CLI ================================================================================

BAD = {
    "{}": {},
    "[]": [],
    "null": None,
    "a string": "oops",
    "a number": 7,
    "wrong types": {"key": 5, "fields": [], "issues": {}, "total": "x", "id": None},
    "issues not a list": {"issues": {"PROJ-1": {}}, "total": 1, "isLast": True},
    "issue without key": {"issues": [{"fields": {}}], "total": 1, "isLast": True},
    "fields null": {"key": "PROJ-1", "fields": None, "issues": [{"key": "PROJ-1"}], "total": 1},
    "status null": {"key": "PROJ-1", "fields": {"status": None, "summary": None}},
    "transitions without to": {
        "key": "PROJ-1",
        "fields": {"status": {"name": "In Progress"}},
        "transitions": [{"id": "31", "name": "Done"}],
    },
    "transition to no name": {
        "key": "PROJ-1",
        "fields": {"status": {"name": "In Progress"}},
        "transitions": [{"id": None, "to": {"name": None}}],
    },
    "version without id": [{"name": "1.1.0", "released": False}],
}


def _answer(jira: JiraSandbox, method: str, path: str, body: Any) -> None:
    jira.fault("body", method=method, path=path, status=200, body=body, times=None)


def _run_clean(result: Any, *expected: int) -> None:
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert result.code in expected, (result.code, result.out, result.err)
    if result.code:
        assert result.err.startswith("error: ") or "\nerror: " in result.err, result.err


@pytest.mark.usefixtures("jira")
@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize("path", ["/issue/PROJ-1", "/myself", "/serverInfo"])
def test_start_refuses_a_bad_answer_before_anything_changed(
    repo: Repo, run: Any, jira: JiraSandbox, path: str, bad: str
) -> None:
    _answer(jira, "GET", path, BAD[bad])
    served = jira.count("GET", path)
    result = run(repo, "feature", "start", "PROJ-1")
    assert jira.count("GET", path) > served
    if path == "/serverInfo" and isinstance(BAD[bad], dict):
        # an object that says nothing is taken for Data Center: the token then goes as Data
        # Center's, which a Data Center site takes and Cloud refuses (its hint: auth login)
        if jira.flavour == "datacenter":
            _run_clean(result, 0)
            return
        _run_clean(result, 4)
        assert "hint: Run `jiraflow auth login jira" in result.err
        assert not repo.exists("refs/heads/feature/PROJ-1-add-login-form")
        return
    _run_clean(result, 6)
    assert not repo.exists("refs/heads/feature/PROJ-1-add-login-form")


@pytest.mark.usefixtures("jira")
@pytest.mark.parametrize("bad", sorted(BAD))
def test_finish_queues_the_move_on_a_bad_answer(
    repo: Repo, run: Any, jira: JiraSandbox, bad: str
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.py", "form = True\n", "PROJ-1 add the form")
    _answer(jira, "GET", "/issue/PROJ-1", BAD[bad])
    result = run(repo, "feature", "finish")
    _run_clean(result, 7)
    assert [a["do"] for a in outbox(repo)] == ["move"]


@pytest.mark.usefixtures("jira")
@pytest.mark.parametrize("bad", sorted(BAD))
def test_a_check_does_not_pass_on_a_bad_search_answer(
    repo: Repo, run: Any, jira: JiraSandbox, bad: str
) -> None:
    repo.commit("b.py", "b = 1\n", "PROJ-999 no such issue")
    _answer(jira, "POST", "/search", BAD[bad])
    _run_clean(run(repo, "check", "range", "develop~1..develop"), 6)


@pytest.mark.usefixtures("jira")
@pytest.mark.parametrize("bad", sorted(BAD))
@pytest.mark.parametrize(("method", "path"), [("POST", "/search"), ("GET", "/versions")])
def test_release_finish_queues_its_jira_part_on_a_bad_answer(
    repo: Repo, run: Any, jira: JiraSandbox, bad: str, method: str, path: str
) -> None:
    repo.commit("a.py", "a = 1\n", "PROJ-1 a change")
    assert run(repo, "release", "start", "1.1.0").code == 0
    _answer(jira, method, path, BAD[bad])
    result = run(repo, "release", "finish", "-m", "1.1.0")
    _run_clean(result, *((0,) if (path, bad) == ("/versions", "[]") else (7,)))  # none yet
    assert repo.exists("refs/tags/1.1.0")
