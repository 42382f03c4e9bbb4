"""Typed outbox actions (jiraflow.outbox): an outbox.json written by the previous release is
delivered by `jiraflow sync` against the sandbox Jira, and each kind of action keeps its
stored form and says what it does (before and after) as before."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitutil import Repo, outbox
from jiraflow.outbox.actions import Action, Assign, Comment, Link, Move, Release
from jiraflow.outbox.box import check_actions
from jiraflow.sandbox.jira import JiraSandbox

QUEUED = "2026-11-20T10:11:12+0000"


def old_outbox(site: str, key: str, me: str) -> list[dict[str, Any]]:
    """The outbox of a finish whose Jira updates all failed, exactly as the previous release
    wrote it (tracker.py's dicts, each with "queued", and "error" once tried)."""
    return [
        {
            "id": "a" * 32,
            "site": site,
            "key": key,
            "do": "assign",
            "user": me,
            "from": None,
            "queued": QUEUED,
            "error": "Jira did not answer",
        },
        {
            "id": "b" * 32,
            "site": None,  # the site was not known when it was queued
            "key": key,
            "do": "move",
            "target": "In Progress",
            "from": "To Do",
            "queued": QUEUED,
            "error": "waiting for the action before it",
        },
        {
            "id": "c" * 32,
            "site": site,
            "key": key,
            "do": "comment",
            "text": "jiraflow: merged it.",
            "queued": QUEUED,
        },
        {
            "id": "d" * 32,
            "site": site,
            "key": key,
            "do": "link",
            "url": "https://bitbucket.example/pr/7",
            "title": "pull request #7",
            "resolved": False,
            "queued": QUEUED,
        },
        {
            "id": "e" * 32,
            "site": site,
            "key": "PROJ",
            "do": "release",
            "version": "9.9.0",
            "keys": [key],
            "released": True,
            "date": "2026-11-22",
            "target": "Done",
            "queued": QUEUED,
        },
    ]


def test_an_outbox_of_the_previous_release_is_delivered_by_sync(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    key = jira.add_issue("PROJ", "Queued by an older jiraflow")
    me = jira.me["accountId"] if jira.flavour == "cloud" else jira.me["name"]
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(old_outbox(jira.url.rstrip("/"), key, me), indent=1))

    status = json.loads(run(repo, "--json", "status").out)
    assert [a["action"] for a in status["outbox"]] == [
        f"assign {key} to you",
        f"move {key} to In Progress",
        f"comment on {key}",
        f"link pull request #7 on {key}",
        f"PROJ 9.9.0: set fixVersion 9.9.0 on {key}, move them to Done, release 9.9.0 (2026-11-22)",
    ]
    result = run(repo, "sync")
    assert result.code == 0, result.err
    assert outbox(repo) == []
    for said in (
        f"{key} is assigned to you",
        f"{key} is In Progress",
        f"commented on {key}",
        f"{key} links to pull request #7",
        "PROJ 9.9.0: created, 1 issue has fixVersion 9.9.0, 1 moved to Done, released 2026-11-22",
    ):
        assert said in result.out, result.out
    issue = jira.issue(key)
    assert issue["assignee"] == jira.me["name"]
    assert issue["status"] == "Done" and issue["fixVersions"] == ["9.9.0"]
    (comment,) = issue["comments"]
    assert comment["body"] == f"jiraflow: merged it. [jiraflow {'c' * 12}]"
    (link,) = issue["remotelinks"]
    assert link["globalId"] == "jiraflow:https://bitbucket.example/pr/7"
    (version,) = [v for v in jira.versions("PROJ") if v["name"] == "9.9.0"]
    assert version["released"] and version["releaseDate"] == "2026-11-22"
    # delivered once: a second sync has nothing to do
    assert run(repo, "sync").code == 0 and len(jira.issue(key)["comments"]) == 1


# -- each kind: its stored form, and what it says --------------------------------------------------
SITE = "https://acme.example"
KINDS: list[tuple[Action, type[Action], str, dict[str, Any], str]] = [
    (
        Assign.new(SITE, "PROJ-1", user="alice", **{"from": None}),
        Assign,
        "assign PROJ-1 to you",
        {},
        "PROJ-1 is assigned to you",
    ),
    (
        Move.new(None, "PROJ-1", target="done", **{"from": "To Do"}),
        Move,
        "move PROJ-1 to done",
        {"reached": "Done"},  # what a category target turned out to be
        "PROJ-1 is Done",
    ),
    (
        Comment.new(SITE, "PROJ-1", text="merged"),
        Comment,
        "comment on PROJ-1",
        {"tried": True, "sent": 1700000000.5},
        "commented on PROJ-1",
    ),
    (
        Link.new(SITE, "PROJ-1", url="https://bb.example/pr/1", title="PR #1", resolved=False),
        Link,
        "link PR #1 on PROJ-1",
        {},
        "PROJ-1 links to PR #1",
    ),
    (
        Release.new(
            SITE,
            "PROJ",
            version="2.0",
            keys=[f"PROJ-{n}" for n in range(1, 8)],
            released=True,
            date="2026-01-02",
            target="Done",
        ),
        Release,
        "PROJ 2.0: set fixVersion 2.0 on PROJ-1, PROJ-2, PROJ-3, PROJ-4, PROJ-5 and 2 more, "
        "move them to Done, release 2.0 (2026-01-02)",
        {"result": {"issues": 7, "moved": 3, "created": True, "reached": "Closed"}},
        "PROJ 2.0: created, 7 issues have fixVersion 2.0, 3 moved to Closed, released 2026-01-02",
    ),
]


@pytest.mark.parametrize(
    ("action", "kind", "before", "notes", "after"), KINDS, ids=[k[1].do for k in KINDS]
)
def test_each_kind_round_trips_and_describes_itself_as_before(
    action: Action, kind: type[Action], before: str, notes: dict[str, Any], after: str
) -> None:
    action = kind({**action, **notes, "queued": QUEUED})
    stored = json.loads(json.dumps(action.to_json()))
    assert stored["do"] == kind.do and set(stored) >= {"id", "site", "key", "do", "queued"}
    (loaded,) = check_actions([stored])
    assert type(loaded) is kind and loaded == action and loaded.to_json() == stored
    assert loaded.describe() == before
    assert loaded.describe_done() == after


def test_every_kind_a_previous_release_wrote_is_known() -> None:
    old = old_outbox(SITE, "PROJ-1", "alice")
    loaded = check_actions(old)
    assert [type(a) for a in loaded] == [Assign, Move, Comment, Link, Release]
    assert [a.to_json() for a in loaded] == old  # the stored form is unchanged
