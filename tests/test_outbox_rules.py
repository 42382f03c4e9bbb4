"""The outbox's delivery rules (jiraflow.outbox.box.Outbox), pinned so that a change to them
fails a test: after an action fails, the later actions on the same issue wait (and those on
other issues still go); an issue Jira does not have makes an action moot, except a release's;
the error is recorded on the queued entry; a batch reports its progress; a refused comment's
"sent" note is forgotten so that the next sync posts it at once. Through `jiraflow sync`
against the sandbox Jira where the CLI shows it, else on the Outbox directly."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest

from gitutil import Repo, outbox
from jiraflow.errors import JiraflowError, RemoteError
from jiraflow.jira.client import IssueNotFound
from jiraflow.outbox.actions import KINDS, Action, Assign, Comment, Link, Move, Release
from jiraflow.outbox.box import Outbox
from jiraflow.sandbox.jira import JiraSandbox

if TYPE_CHECKING:
    from jiraflow.jira.tracker import Tracker

SITE = "https://acme.example"
SENDING = "jira: sending queued actions"


# -- the rules, on the Outbox itself (each action's delivery scripted) ----------------------------
class Script:
    """An outbox in a temporary directory whose actions' deliveries are scripted: `outcomes`
    maps an action id to the error it raises or the note it returns ("" or absent: done)."""

    def __init__(self, state_dir: Path) -> None:
        self.progress: list[tuple[str, int, int]] = []
        self.tracker = SimpleNamespace(
            state_dir=str(state_dir),
            progress=lambda what, done, total: self.progress.append((what, done, total)),
        )
        self.box = Outbox(cast("Tracker", self.tracker))
        self.outcomes: dict[str, JiraflowError | str] = {}
        self.tried: list[str] = []

    def deliver(self, action: Action, tracker: Any, box: Any, known: Any) -> tuple[None, str]:
        assert tracker is self.tracker and box is self.box
        self.tried.append(action["id"])
        outcome = self.outcomes.get(action["id"], "")
        if isinstance(outcome, JiraflowError):
            raise outcome
        return None, outcome

    def stored(self) -> list[dict[str, Any]]:
        path = Path(self.box.path)
        return json.loads(path.read_text()) if path.exists() else []


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Script:
    made = Script(tmp_path)

    def deliver(action: Action, tracker: Any, box: Any, known: Any) -> tuple[None, str]:
        return made.deliver(action, tracker, box, known)

    for kind in KINDS.values():
        monkeypatch.setattr(kind, "deliver", deliver)
    return made


def assign(key: str) -> Assign:
    return Assign.new(SITE, key, user="me", **{"from": None})


def move(key: str) -> Move:
    return Move.new(SITE, key, target="Done")


def link(key: str) -> Link:
    return Link.new(SITE, key, url=f"https://bb.example/pr/{key}", title="PR", resolved=False)


def release(project: str, *keys: str) -> Release:
    return Release.new(
        SITE, project, version="1.0", keys=list(keys), released=False, date=None, target=""
    )


def ids(actions: list[Action]) -> list[str]:
    return [a["id"] for a in actions]


def test_after_a_failure_later_actions_on_that_issue_wait_and_others_still_go(
    script: Script,
) -> None:
    first, then, other, last = assign("PROJ-1"), move("PROJ-1"), link("PROJ-2"), move("PROJ-1")
    script.outcomes[first["id"]] = RemoteError("Jira did not answer")
    result = script.box.deliver([first, then, other, last])

    assert script.tried == ids([first, other])  # the move never overtakes the assignment
    assert result.done == [other] and result.skipped == []
    assert [a for a, _ in result.failed] == [first, then, last]
    errors = [e for _, e in result.failed]
    assert errors[0] is script.outcomes[first["id"]]
    for waiting in errors[1:]:
        assert type(waiting) is RemoteError
        assert waiting.message == "waiting for the action before it" and waiting.hint is None
    # the failed one and those waiting stay queued, in order; only the failed one has an error
    stored = script.stored()
    assert [a["id"] for a in stored] == ids([first, then, last])
    assert stored[0]["error"] == "Jira did not answer" and first["error"] == "Jira did not answer"
    assert "error" not in stored[1] and "error" not in stored[2]
    assert all("queued" in a for a in stored)


def test_an_error_is_recorded_on_its_own_entry_only(script: Script) -> None:
    ok, bad = link("PROJ-1"), link("PROJ-2")
    script.outcomes[bad["id"]] = RemoteError("no such remote link", "Try again.")
    script.box.enqueue([ok])  # queued by an earlier command, untouched by this delivery
    result = script.box.deliver([bad])
    ((failed, error),) = result.failed
    assert failed is bad and error.message == "no such remote link"
    stored = {a["id"]: a for a in script.stored()}
    assert stored[bad["id"]]["error"] == "no such remote link" and "error" not in stored[ok["id"]]


def test_an_issue_jira_does_not_have_makes_the_action_moot_and_blocks_nothing(
    script: Script,
) -> None:
    gone, then = move("PROJ-1"), link("PROJ-1")
    script.outcomes[gone["id"]] = IssueNotFound("PROJ-1 was not found")
    result = script.box.deliver([gone, then])
    assert script.tried == ids([gone, then])
    assert result.skipped == [(gone, "PROJ-1 was not found")]
    assert result.done == [then] and result.failed == []
    assert script.stored() == []


def test_a_release_with_a_missing_issue_stays_queued_and_blocks_its_project(
    script: Script,
) -> None:
    """One issue of many missing must not drop the release: a retry must still run."""
    first, then, other = release("PROJ", "PROJ-1"), release("PROJ", "PROJ-2"), link("OPS-1")
    missing = IssueNotFound("PROJ-1 was not found")
    script.outcomes[first["id"]] = missing
    result = script.box.deliver([first, then, other])
    assert script.tried == ids([first, other])
    assert result.skipped == [] and result.done == [other]
    assert [(a, e.message) for a, e in result.failed] == [
        (first, "PROJ-1 was not found"),
        (then, "waiting for the action before it"),
    ]
    assert result.failed[0][1] is missing
    stored = script.stored()
    assert [a["id"] for a in stored] == ids([first, then])
    assert stored[0]["error"] == "PROJ-1 was not found" and "error" not in stored[1]


@pytest.mark.parametrize("count", [1, 2, 3])
def test_a_batch_reports_its_progress_and_one_action_none(script: Script, count: int) -> None:
    actions: list[Action] = [link(f"PROJ-{n}") for n in range(1, count + 1)]
    result = script.box.deliver(actions)
    assert result.done == actions
    expected = [(SENDING, done, count) for done in range(1, count + 1)] if count > 1 else []
    assert script.progress == expected


def test_unnote_forgets_a_fact_of_that_action_only(script: Script) -> None:
    """What a plain refusal of a comment does with "sent" (Comment.send)."""
    mine, other = Comment.new(SITE, "PROJ-1", text="a"), Comment.new(SITE, "PROJ-1", text="b")
    script.box.enqueue([mine, other])
    for action in (mine, other):
        script.box.note(action, tried=True, sent=1700000000.5)
    script.box.unnote(mine, "sent")
    assert "sent" not in mine and mine["tried"] is True
    assert other["sent"] == 1700000000.5
    stored = {a["id"]: a for a in script.stored()}
    assert "sent" not in stored[mine["id"]] and stored[mine["id"]]["tried"] is True
    assert stored[other["id"]]["sent"] == 1700000000.5 and stored[other["id"]]["tried"] is True
    script.box.unnote(mine, "sent")  # a fact already gone: nothing happens
    script.box.unnote(mine, "error")
    assert {a["id"]: a for a in script.stored()} == stored


# -- the same rules, seen through `jiraflow sync` ------------------------------------------------
def queue(repo: Repo, actions: list[Action]) -> None:
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{**a, "queued": "2026-11-20T10:11:12+0000"} for a in actions]))


def test_sync_holds_back_a_failed_issue_and_delivers_the_others(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    site = jira.url.rstrip("/")
    me = jira.me["accountId"] if jira.flavour == "cloud" else jira.me["name"]
    first = Assign.new(site, "PROJ-1", user=me, **{"from": None})
    then = Move.new(site, "PROJ-1", target="Done")
    other = Link.new(site, "PROJ-5", url="https://bb.example/pr/5", title="PR #5", resolved=False)
    queue(repo, [first, then, other])
    before = jira.issue("PROJ-1")["status"]
    jira.fault("status", status=400, method="PUT", path="/assignee", times=None)

    result = run(repo, "--json", "sync")
    assert result.code == 7, result.err  # partly done
    doc = json.loads(result.out)
    assert doc["synced"] == ["link PR #5 on PROJ-5"]
    assert doc["queued"] == ["assign PROJ-1 to you", "move PROJ-1 to Done"]
    assert doc["error"].startswith("assign PROJ-1 to you failed: ")
    assert "(2 actions still queued)" in doc["error"]
    assert jira.issue("PROJ-1")["status"] == before and jira.count(path_contains="transitions") == 0
    assert [link["globalId"] for link in jira.issue("PROJ-5")["remotelinks"]] == [
        "jiraflow:https://bb.example/pr/5"
    ]
    stored = outbox(repo)
    assert [a["id"] for a in stored] == [first["id"], then["id"]]
    error = stored[0]["error"]
    assert isinstance(error, str) and error and error in doc["error"]
    assert "error" not in stored[1]
    shown = run(repo, "status").out
    assert f"assign PROJ-1 to you  ({error})" in shown
    assert "  move PROJ-1 to Done\n" in shown


def test_sync_of_many_actions_shows_its_progress(repo: Repo, run, jira: JiraSandbox) -> None:
    site = jira.url.rstrip("/")
    actions: list[Action] = [
        Link.new(site, "PROJ-1", url=f"https://bb.example/pr/{n}", title=f"PR {n}", resolved=True)
        for n in range(20)  # render.PROGRESS_FROM: fewer show no progress at all
    ]
    queue(repo, actions)
    result = run(repo, "sync")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if line.startswith(SENDING)]
    assert lines == [f"{SENDING}: {done}/20" for done in range(2, 21, 2)]  # a line per tenth
    assert len(jira.issue("PROJ-1")["remotelinks"]) == 20 and outbox(repo) == []


def test_a_refused_comment_is_posted_by_the_next_sync_at_once(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    """A plain refusal saved nothing: no grace period to wait for (the "sent" note goes)."""
    comment = Comment.new(jira.url.rstrip("/"), "PROJ-1", text="merged")
    queue(repo, [comment])
    jira.fault("status", status=400, method="POST", path="/comment", times=1)
    assert run(repo, "sync").code != 0
    (stored,) = outbox(repo)
    assert stored["tried"] is True and "sent" not in stored and stored["error"]
    result = run(repo, "sync")
    assert result.code == 0, result.err
    (posted,) = jira.issue("PROJ-1")["comments"]
    assert posted["body"] == f"merged [jiraflow {comment['id'][:12]}]"
    assert outbox(repo) == []
