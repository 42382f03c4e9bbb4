"""Fuzzing the readers of the files jiraflow keeps: whatever is in the file (any JSON, a
valid file with one part replaced or removed, bytes that are no JSON), a reader either gives
data its callers can use, or (jiraflow's own files: the journal, the outbox, the accounts
file) a RepoStateError with exit 5 naming the file; a cache is read as empty and rewritten.
Never another exception.

The readers run in-process, on the real load functions, for speed; tests/test_bad_input.py
runs the CLI on a table of such files.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jiraflow import config, credentials, store
from jiraflow.errors import REPO_STATE, RepoStateError
from jiraflow.git import GitRepo
from jiraflow.gitflow.journal import Journal, resumable
from jiraflow.gitflow.plan import MERGE, PUSH, WRITE, Plan
from jiraflow.jira.issue_cache import IssueCache, SiteKey
from jiraflow.jira.tracker import Tracker
from jiraflow.outbox.actions import Assign, Comment, Link, Move, Release
from jiraflow.outbox.box import Outbox

SHA = "a" * 40
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["git", "merge", "write", "move", "release", "PROJ-1", SHA, "refs/heads/x"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
raw_bytes = st.binary(max_size=40) | st.sampled_from(
    [b"", b"{", b"\xff\xfe", b"[" * 5000, b"NaN", b"1e999", b'{"a": 1, "a": 2}', b"9" * 5000]
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document (a key of a table, an index of a list)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def replaced(doc: Any, where: tuple[Any, ...], value: Any, remove: bool) -> Any:
    doc = json.loads(json.dumps(doc))
    node = doc
    for part in where[:-1]:
        node = node[part]
    if remove:
        del node[where[-1]]
    else:
        node[where[-1]] = value
    return doc


def mutations(valid: Any) -> st.SearchStrategy[Any]:
    """The valid document with one part replaced by any JSON value, or removed."""
    return st.builds(
        replaced, st.just(valid), st.sampled_from(paths(valid)), json_values, st.booleans()
    )


def contents(valid: Any) -> st.SearchStrategy[bytes]:
    """What the file may hold: a damaged valid one, any JSON, or bytes."""
    as_json = (mutations(valid) | json_values).map(lambda v: json.dumps(v).encode())
    return as_json | raw_bytes


def assert_exit_5_naming(exc: RepoStateError, path: Path) -> None:
    assert exc.exit_code == REPO_STATE
    assert str(path) in exc.message and exc.hint and str(path) in exc.hint


# -- the journal ---------------------------------------------------------------------------------
def valid_journal() -> dict[str, Any]:
    plan = Plan("feature finish", "feature/x")
    plan.add("checkout", "--quiet", "develop")
    plan.add("merge", "--quiet", "--no-edit", "feature/x", kind=MERGE, source=SHA)
    plan.add("CHANGELOG.md", kind=WRITE, message="notes\n")
    plan.add("push", "--quiet", "origin", "develop", kind=PUSH)
    action = Move.new("https://acme.example", "PROJ-1", target="Done")
    return {
        "version": 1,
        "operation": plan.operation,
        "branch": plan.branch,
        "head": {"branch": "feature/x", "commit": SHA},
        "refs": {"refs/heads/develop": SHA, "refs/heads/feature/x": None},
        "steps": [step.to_json() for step in plan.steps],
        "next": 1,
        "pushed": ["origin develop"],
        "remote": [action],
    }


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    git = tmp_path / ".git"
    (git / "jiraflow").mkdir(parents=True)
    return GitRepo(str(tmp_path), str(git), str(git))


@SETTINGS
@given(data=contents(valid_journal()))
def test_a_journal_loads_as_one_or_is_exit_5(repo: GitRepo, data: bytes) -> None:
    path = Path(Journal.path(repo))
    path.write_text(json.dumps(valid_journal()))  # the undamaged one loads
    undamaged = Journal.load(repo)
    assert undamaged is not None and undamaged.next == 1 and len(undamaged.steps) == 4
    path.write_bytes(data)
    try:
        loaded = Journal.load(repo)
    except RepoStateError as exc:
        assert_exit_5_naming(exc, path)
        return
    assert loaded is not None
    # what the runner, --continue, --abort and status use of it
    assert isinstance(loaded.operation, str) and isinstance(resumable(loaded.operation), bool)
    assert 0 <= loaded.next <= len(loaded.steps)
    for step in loaded.steps:
        assert step.describe()
        assert all(isinstance(arg, str) for arg in step.argv)
    for ref, old in loaded.refs.items():
        assert ref.startswith("refs/") and (old is None or len(old) in (40, 64))
    assert loaded.head.get("branch") is None or isinstance(loaded.head["branch"], str)


# -- the outbox ----------------------------------------------------------------------------------
def valid_outbox() -> list[dict[str, Any]]:
    site = "https://acme.example"
    link = Link.new(site, "PROJ-1", url="https://bb.example/pr/1", title="PR #1")
    link["resolved"] = False
    release = Release.new(site, "PROJ", version="1.0", target="Done")
    release.update(keys=["PROJ-1", "PROJ-2"], released=True, date="2026-01-02")
    return [
        Assign.new(site, "PROJ-1", user="alice", **{"from": None}),
        Move.new(None, "PROJ-1", target="In Review", **{"from": "To Do"}),
        Comment.new(site, "PROJ-1", text="merged into develop"),
        link,
        {**release, "queued": "2026-01-02T03:04:05+0000", "error": "Jira did not answer"},
    ]


def tracker_at(tmp_path: Path) -> Tracker:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Tracker(
        config.build({}),
        state_dir=str(state),
        app_dir=str(tmp_path / "app"),
        cache_dir=str(tmp_path / "cache"),
    )


@SETTINGS
@given(data=contents(valid_outbox()))
def test_an_outbox_loads_as_one_or_is_exit_5_and_is_kept(tmp_path: Path, data: bytes) -> None:
    tracker = tracker_at(tmp_path)
    path = Path(Outbox(tracker).path)
    path.write_text(json.dumps(valid_outbox()))  # the undamaged one loads
    assert [a["do"] for a in Outbox(tracker).read()] == [
        "assign",
        "move",
        "comment",
        "link",
        "release",
    ]
    path.write_bytes(data)
    try:
        queued = Outbox(tracker).read()
    except RepoStateError as exc:
        assert_exit_5_naming(exc, path)
        with pytest.raises(RepoStateError):  # nothing that writes the outbox overwrites it
            Outbox(tracker).drop()
        assert path.read_bytes() == data
        return
    for action in queued:  # what `status`, `sync --dry-run` and delivery read first
        assert action.describe()
        assert isinstance(action["id"], str) and isinstance(action["key"], str)


# -- caches: read as empty when damaged, and rewritten -------------------------------------------
def valid_site_cache() -> dict[str, Any]:
    return {
        "https://acme.example": {
            "kind": "cloud",
            "myself a@b": {"id": "1", "display": "Ann"},
            "repository id x": "7",
        }
    }


def wrong_fact(name: str, value: Any) -> bytes:
    """The valid site cache with one fact of the wrong shape."""
    return json.dumps(
        replaced(valid_site_cache(), ("https://acme.example", name), value, False)
    ).encode()


@SETTINGS
@given(data=contents(valid_site_cache()))
@example(data=wrong_fact("kind", "server"))
@example(data=wrong_fact("myself a@b", {"id": "1", "display": 2}))
@example(data=wrong_fact("repository id x", "7; DROP"))
def test_a_damaged_site_cache_is_an_empty_one(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "sites.json"
    site = "https://acme.example"
    path.write_text(json.dumps(valid_site_cache()))  # the undamaged one reads back
    undamaged = store.SiteCache(str(path))
    assert undamaged.get(site, "kind") == "cloud"
    assert undamaged.get(site, "myself a@b") == {"id": "1", "display": "Ann"}
    assert undamaged.get(site, "repository id x") == "7"
    path.write_bytes(data)
    cache = store.SiteCache(str(path))
    kind = cache.get(site, "kind")
    assert kind in (None, "cloud", "datacenter")
    me = cache.get(site, "myself a@b")
    assert me is None or (isinstance(me["id"], str) and isinstance(me["display"], str))
    repository = cache.get(site, "repository id x")
    assert repository is None or re.fullmatch("[0-9]+", repository, re.ASCII)
    cache.put(site, "kind", "datacenter")
    assert store.SiteCache(str(path)).get(site, "kind") == "datacenter"
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


@SETTINGS
@given(data=contents({"PROJ-1": {"summary": "Add login", "type": "Story", "site": "https://x"}}))
def test_a_damaged_issue_cache_is_an_empty_one(tmp_path: Path, data: bytes) -> None:
    tracker = tracker_at(tmp_path)
    (tmp_path / "state" / "issues.json").write_bytes(data)
    entry = tracker.cached("PROJ-1")
    assert entry is None or all(isinstance(entry[k], str) for k in ("summary", "type", "site"))


@SETTINGS
@given(
    data=contents(
        {
            "format": 1,
            "sites": {"https://x u": {"fetched": 1.0, "issues": [["PROJ-1", "Add login"]]}},
        }
    )
)
def test_a_damaged_tab_cache_is_an_empty_one(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "my-issues.json"
    path.write_bytes(data)
    cache = IssueCache(str(path), clock=lambda: 10.0)
    site = SiteKey("https://x", "u", [])
    assert all(isinstance(k, str) and isinstance(s, str) for k, s in cache.issues([site]))
    assert isinstance(cache.stale([site]), bool)
    cache.store([(site, [("PROJ-2", "Fix it")], "")])
    assert cache.issues([site]) == [("PROJ-2", "Fix it")]
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


# -- the accounts file (TOML, written by `auth login`) -------------------------------------------
toml_values = st.recursive(
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
accounts_files = st.one_of(
    st.dictionaries(st.sampled_from(["account", "x"]), toml_values, max_size=2).map(
        lambda table: _toml(table)
    ),
    st.lists(
        st.dictionaries(
            st.sampled_from(["service", "url", "user", "kind", "token"]),
            st.sampled_from(["jira", "bitbucket", "https://x", "u"]) | toml_values,
            max_size=5,
        ),
        max_size=3,
    ).map(lambda rows: _toml({"account": rows})),
    raw_bytes,
)


def _toml(table: dict[str, Any]) -> bytes:
    import tomli_w

    try:
        return tomli_w.dumps(table).encode()
    except (TypeError, ValueError):  # what TOML cannot hold (a list at the top, mixed arrays)
        return b"account = 5\n"


@SETTINGS
@given(data=accounts_files)
def test_an_accounts_file_reads_or_is_exit_5(tmp_path: Path, data: bytes) -> None:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    path = app / "accounts.toml"
    path.write_bytes(data)
    try:
        rows = credentials.accounts(str(app))
    except RepoStateError as exc:
        assert_exit_5_naming(exc, path)
        return
    for row in rows:
        assert set(row) == {"service", "url", "user", "kind"}
        assert row["service"] in ("jira", "bitbucket")
        assert all(isinstance(v, str) for v in row.values())


def test_the_accounts_file_is_written_private(tmp_path: Path) -> None:
    app = tmp_path / "app"
    old = os.umask(0)
    try:
        credentials._write_accounts(
            str(app), [{"service": "jira", "url": "https://x", "user": "u"}]
        )
    finally:
        os.umask(old)
    assert oct((app / "accounts.toml").stat().st_mode & 0o777) == oct(0o600)
    assert oct(app.stat().st_mode & 0o777) == oct(0o700)
    assert credentials.accounts(str(app)) == [
        {"service": "jira", "url": "https://x", "user": "u", "kind": ""}
    ]
