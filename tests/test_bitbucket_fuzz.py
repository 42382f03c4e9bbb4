"""Bitbucket answers that are not what they should be: a 200/201 whose JSON lacks what
jiraflow reads (`{}`, a list, wrong types). The readers either return a well-formed value or
raise Shape; the commands exit 6 (a finish warns and goes on as without Bitbucket), never 1,
never with a traceback, never as if nothing were wrong ("opened pull request #0")."""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Sites
from gitutil import Repo
from jiraflow import store
from jiraflow.bitbucket import client as bb
from jiraflow.bitbucket import cloud, datacenter
from jiraflow.sandbox.bitbucket import BitbucketSandbox

FEATURE = "feature/PROJ-1-add-login-form"

# -- the readers, fed directly ------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["id", "values", "state", "user", "name", "uuid", "next", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
DROP = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _paths(item, (*prefix, n))


def _mutate(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return None if new is DROP else new
    copied = copy.deepcopy(value)
    holder = copied
    for step in path[:-1]:
        holder = holder[step]
    if new is DROP:
        del holder[path[-1]]
    else:
        holder[path[-1]] = new
    return copied


REFERENCE = Path(__file__).parent / "data" / "reference"


def _captured(name: str) -> Any:
    """A real answer captured from Bitbucket (tests/data/reference)."""
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def _samples() -> dict[str, Any]:
    """Real shapes to mutate: as the sandbox renders them, or as captured from Bitbucket."""
    found: dict[str, Any] = {}
    for kind in ("cloud", "datacenter"):
        sb = BitbucketSandbox(kind)
        pr = sb.create_pull_request(sb.repository_name, "feature/x", "main", reviewers=["bob"])
        found[f"{kind} pull request"] = pr
        found[f"{kind} user"] = sb.user("alice")
    found["cloud page"] = _captured("bitbucket-cloud/go-scm/prs.json")
    found["datacenter page"] = _captured("bitbucket-server/go-scm/prs.json")
    # what Data Center servers send for default reviewers: a list of users
    found["datacenter reviewers"] = [_captured("bitbucket-server/go-scm/user.json")]
    # an effective-default-reviewers entry: the spec's default_reviewer_and_type
    found["cloud default reviewer"] = {
        "type": "default_reviewer",
        "reviewer_type": "project",
        "user": _captured("bitbucket-cloud/atlassian-python-api/default-reviewer.GET.json"),
    }
    found["repository id"] = _captured("bitbucket-server/jenkins-bbs/repository.json")
    return found


#: what each reader must make of its unchanged sample
READ_AS: dict[str, Callable[[Any], bool]] = {
    "cloud pull request": lambda pr: pr.source == "feature/x" and pr.destination == "main",
    "datacenter pull request": lambda pr: pr.source == "feature/x" and pr.destination == "main",
    "cloud user": lambda user: user.display == "Alice Example",
    "datacenter user": lambda user: user.id == "alice",
    "cloud page": lambda page: [pr["id"] for pr in page[0]] == [4982] and page[1] is None,
    "datacenter page": lambda page: [pr["id"] for pr in page[0]] == [1] and page[1] is None,
    "datacenter reviewers": lambda users: [u.id for u in users] == ["jcitizen"],
    "cloud default reviewer": lambda user: user.id == "DefaultReviewer1Uuid",
    "repository id": lambda number: number == "1",
}


SAMPLES = _samples()


def readers() -> dict[str, Callable[[Any], Any]]:
    return {
        "cloud pull request": cloud.cloud_pull_request,
        "datacenter pull request": datacenter.dc_pull_request,
        "cloud user": lambda v: cloud.cloud_user(v, required=True),
        "datacenter user": lambda v: datacenter.dc_user(v, required=True),
        "cloud page": cloud.cloud_page,
        "datacenter page": datacenter.dc_page,
        "datacenter reviewers": datacenter.dc_reviewers,
        "cloud default reviewer": lambda v: cloud.cloud_default_reviewer(v, "values[0]"),
        "repository id": datacenter.repository_id,
    }


READERS = (
    "cloud pull request",
    "datacenter pull request",
    "cloud user",
    "datacenter user",
    "cloud page",
    "datacenter page",
    "datacenter reviewers",
    "cloud default reviewer",
    "repository id",
)
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _well_formed(name: str, value: Any) -> None:
    if isinstance(value, bb.PullRequest):
        assert isinstance(value.id, int) and value.id > 0
        assert value.source and value.destination and value.state
        assert all(isinstance(r.user.id, str) for r in value.reviewers)
    elif isinstance(value, bb.User):  # a default reviewer without a uuid is left out later
        assert value.id or name == "cloud default reviewer"
        assert isinstance(value.display, str)
    elif name == "repository id":
        assert isinstance(value, str) and value.lstrip("-").isdigit()
    elif name == "datacenter reviewers":
        assert isinstance(value, list)
        for user in value:
            _well_formed("datacenter user", user)
    elif name.endswith(" page"):
        values, following = value
        assert isinstance(values, list)
        next_type = str if name == "cloud page" else int
        assert following is None or (isinstance(following, next_type) and following != "")
    else:
        raise AssertionError(f"{name}: {value!r} is of no shape the callers take")


@pytest.mark.parametrize("name", READERS)
@FUZZ
@given(data=json_values)
def test_readers_take_any_json(name: str, data: Any) -> None:
    with contextlib.suppress(bb.Shape):  # what is wrong: the client's InvalidAnswer says it
        _well_formed(name, readers()[name](data))


@pytest.mark.parametrize("name", READERS)
@FUZZ
@given(data=st.data())
def test_readers_take_real_shapes_with_one_part_changed(name: str, data: Any) -> None:
    sample = SAMPLES[name]
    path = data.draw(st.sampled_from(list(_paths(sample))))
    new = data.draw(st.just(DROP) | json_values)
    try:
        _well_formed(name, readers()[name](_mutate(sample, path, new)))
    except bb.Shape as shape:
        assert str(shape)  # says what and where


def test_the_unchanged_samples_are_read() -> None:
    """Every reader takes real answers (so one that refuses everything fails here)."""
    assert set(SAMPLES) == set(READERS) == set(READ_AS)
    for name, sample in SAMPLES.items():
        value = readers()[name](sample)
        _well_formed(name, value)
        assert READ_AS[name](value), f"{name}: read as {value!r}"


# -- whole commands against a sandbox that answers so -------------------------------------------

BAD = {  # bodies that are wrong for every endpoint below (a DC reviewers `[]` is fine: see)
    "{}": {},
    "[]": [],
    "a string": "ok",
    "a list of nothing": {"values": [{}], "isLastPage": True},
    "wrong types": {
        "values": [{"id": "1", "state": 1}],
        "isLastPage": "yes",
        "id": True,
        "uuid": 7,
        "name": ["alice"],
    },
}
# (method, path fault pattern) of each answer a command reads, per flavour
ENDPOINTS = {
    "cloud": {
        "user": ("GET", "/2.0/user$"),
        "default reviewers": ("GET", "/effective-default-reviewers$"),
        "list": ("GET", "/pullrequests$"),
        "get": ("GET", "/pullrequests/"),
        "create": ("POST", "/pullrequests$"),
    },
    "datacenter": {
        "repository": ("GET", "/repos/shop$"),
        "default reviewers": ("GET", "/reviewers$"),
        "list": ("GET", "/pull-requests$"),
        "get": ("GET", "/pull-requests/"),
        "create": ("POST", "/pull-requests$"),
    },
}
READS = {  # what each command reads
    "pr create": ("user", "repository", "default reviewers", "list", "create"),
    "pr view": ("list", "get"),
    "pr view N": ("get",),
    "pr list": ("list",),
    "pr status": ("user", "list"),
    "feature finish": ("list",),
}


def _without_id(kind: str) -> dict[str, Any]:
    """A pull request of this test's branch as the sandbox renders it, but with no id: what
    none of the endpoints answers (the issue's "201 without a pull request id")."""
    sb = BitbucketSandbox(kind)
    pr = sb.create_pull_request(sb.repository_name, FEATURE, "develop", reviewers=["bob"])
    del pr["id"]
    return pr


NO_ID = "a pull request without its id"
BAD_OF_KIND = {kind: {**BAD, NO_ID: _without_id(kind)} for kind in ("cloud", "datacenter")}


def bodies(kind: str, endpoint: str) -> list[str]:
    if kind == "datacenter" and endpoint == "default reviewers":
        return [k for k in BAD_OF_KIND[kind] if k != "[]"]  # no default reviewers: fine
    return list(BAD_OF_KIND[kind])


CASES = [
    pytest.param(
        kind, command, endpoint, body, status, id=f"{kind}-{command}-{endpoint}-{body}-{status}"
    )
    for kind in ("cloud", "datacenter")
    for command, endpoints in READS.items()
    for endpoint in endpoints
    if endpoint in ENDPOINTS[kind]
    for body in bodies(kind, endpoint)
    for status in ((201, 200) if endpoint == "create" else (200,))  # create: 201, as Bitbucket
]


def served(sites: Sites, method: str, path: str) -> int:
    """Requests the sandbox took that a fault (method, path pattern) answers."""
    return sum(
        1
        for r in sites.bitbucket.requests
        if r.method == method
        and (r.path.endswith(path[:-1]) if path.endswith("$") else path in r.path)
    )


def prepare(repo: Repo, run, sites: Sites, command: str) -> list[str]:
    """Set the scene; the command line to run with a bad answer."""
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    if command == "pr create":
        assert run(repo, "feature", "publish").code == 0
        return ["pr", "create"]
    assert run(repo, "pr", "create").code == 0
    [pr] = sites.prs()
    if command == "feature finish":
        sites.bitbucket.merge(sites.name, pr["id"], user="bob")
        return ["feature", "finish"]
    if command == "pr view N":
        return ["pr", "view", str(pr["id"])]
    shutil.rmtree(store.cache_dir(), ignore_errors=True)  # who you are is asked again
    return command.split()


def outcome(result: Any, command: str) -> str:
    """'' when the bad answer was handled as it must be, else what went wrong."""
    text = result.out + result.err
    if result.code == 1 or "Traceback" in text or "internal error" in text:
        return f"exit {result.code}: {result.err.strip()[-200:]}"
    if command == "feature finish":
        if result.code == 0 and "could not ask Bitbucket" in result.err:
            return ""
        return f"exit {result.code} without saying Bitbucket could not be asked"
    if result.code != 6 or "answered" not in result.err:
        return f"exit {result.code}: {(result.out + result.err).strip()[-200:]}"
    return ""


@pytest.mark.parametrize(
    ("sites", "command", "endpoint", "body", "status"), CASES, indirect=["sites"]
)
def test_commands_refuse_bad_answers(
    repo: Repo, run, sites: Sites, command: str, endpoint: str, body: str, status: int
) -> None:
    args = prepare(repo, run, sites, command)
    method, path = ENDPOINTS[sites.kind][endpoint]
    before = len(sites.prs())
    sites.bitbucket.fault(
        "body",
        method=method,
        path=path,
        status=status,
        body=BAD_OF_KIND[sites.kind][body],
        times=None,
    )
    asked = served(sites, method, path)
    result = run(repo, *args)
    assert served(sites, method, path) > asked, f"{method} {path} was not asked: nothing tested"
    problem = outcome(result, command)
    assert not problem, problem
    if command == "pr create":
        assert not [r for r in sites.jira.requests if r.path.endswith("/remotelink")]
        assert "opened pull request" not in result.out
    assert len(sites.prs()) == before, "a pull request was opened after a bad answer"
