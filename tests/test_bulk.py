"""Jira Cloud's bulk operations (issue 22): the sandbox's bulk endpoints held to the v3 spec,
and releases and promotions on Cloud that set fixVersions and move issues with bulk edits and
bulk transitions (a task polled until it completes), while Data Center keeps its concurrent
one-by-one path. Requests are counted at the sandbox; no wall time is measured here
(benchmarks/bench_network.py has the times)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import point_at
from jiraflow import config
from jiraflow.errors import RemoteError
from jiraflow.jira import bulk
from jiraflow.jira.client import BadAnswer
from jiraflow.jira.tracker import Tracker
from jiraflow.outbox.actions import BULK_FROM, Promote, Release
from jiraflow.outbox.box import Outbox
from jiraflow.sandbox.jira import JiraSandbox
from openapi_check import SpecValidator, load_spec
from test_sandbox_jira import SPEC_OMISSIONS, call, reference_dir

V3 = "jira-cloud-platform-rest-v3.openapi.json"


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Any:
    with JiraSandbox("cloud") as sandbox:
        point_at(monkeypatch, sandbox)
        yield sandbox


@pytest.fixture
def datacenter(monkeypatch: pytest.MonkeyPatch) -> Any:
    with JiraSandbox("datacenter") as sandbox:
        point_at(monkeypatch, sandbox)
        yield sandbox


def tracker(tmp_path: Path, sleeps: list[float] | None = None, **values: Any) -> Tracker:
    """A tracker pointed at the sandbox, with config values; its waits are recorded in
    `sleeps` instead of slept."""
    cfg = config.load(user_path=None, repo_root=None, environ=os.environ)
    if values:
        cfg = config.build({k: cfg.get(k) for k in config.KEYS} | values)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    taken = sleeps if sleeps is not None else []
    made = Tracker(
        cfg,
        state_dir=str(state),
        app_dir=str(tmp_path),
        cache_dir=str(tmp_path),
        sleep=taken.append,
    )
    assert made.client(made.sites[0]).kind  # known, as on any machine that used jiraflow before
    return made


def release(t: Tracker, keys: list[str]) -> list[Release]:
    return Release.for_keys(t, keys, version="2.0.0", tag="2.0.0", released=True, date="2026-12-07")


def new_issues(jira: JiraSandbox, count: int, status: str | None = None) -> list[str]:
    return [jira.add_issue("PROJ", f"Change {i}", status=status) for i in range(count)]


def kinds(jira: JiraSandbox) -> Counter[str]:
    """The requests by method and kind of path (issue keys and task ids left out)."""
    import re

    def kind(path: str) -> str:
        path = re.sub(r"/rest/api/\d/", "", path)
        path = re.sub(r"[A-Z]+-\d+", "KEY", path)
        return re.sub(r"/\d+$", "/ID", path)

    return Counter(f"{r.method} {kind(r.path)}" for r in jira.requests)


def ids_of(jira: JiraSandbox, keys: list[str]) -> list[int]:
    return [int(jira.issue(k)["id"]) for k in keys]


# -- the sandbox: shapes and rules -------------------------------------------------------------


def test_sandbox_bulk_answers_match_the_v3_spec(cloud: JiraSandbox) -> None:
    validator = SpecValidator(load_spec(reference_dir() / "specs" / V3), SPEC_OMISSIONS)
    version = cloud.versions("PROJ")[0]["id"]
    cloud.bulk_tasks(polls=2, failing=["PROJ-2"])

    def check(method: str, path: str, status: int, body: Any = None) -> Any:
        reply = call(cloud, method, path.split("/rest/api/3/", 1)[1] if "3/" in path else path,
                     body)  # fmt: skip
        assert reply.status == status, reply.body
        spec_path = "/rest/api/3/bulk/queue/{taskId}" if "queue" in path else path.split("?")[0]
        schema = validator.response_schema(method, spec_path, status)
        assert validator.validate(reply.body, schema) == [], reply.body
        return reply.body

    edit = {
        "selectedIssueIdsOrKeys": ["PROJ-1", "PROJ-2", "NOPE-9"],
        "selectedActions": ["fixVersions"],
        "editedFieldsInput": {"multipleVersionPickerFields": [{
            "fieldId": "fixVersions", "bulkEditMultiSelectFieldOption": "ADD",
            "versions": [{"versionId": version}]}]},
    }  # fmt: skip
    task = check("POST", "/rest/api/3/bulk/issues/fields", 201, edit)["taskId"]
    running = check("GET", f"/rest/api/3/bulk/queue/{task}", 200)
    assert running["status"] == "RUNNING" and running["progressPercent"] == 50
    assert cloud.issue("PROJ-1")["fixVersions"] == []  # made when the task ends, not before
    done = check("GET", f"/rest/api/3/bulk/queue/{task}", 200)
    assert done["status"] == "COMPLETE"
    assert cloud.issue("PROJ-1")["fixVersions"] == ["1.0.0"]
    assert done["processedAccessibleIssues"] == ids_of(cloud, ["PROJ-1"])
    assert list(done["failedAccessibleIssues"]) == [str(ids_of(cloud, ["PROJ-2"])[0])]
    assert done["invalidOrInaccessibleIssueCount"] == 1 and done["totalIssueCount"] == 3
    assert cloud.issue("PROJ-2")["fixVersions"] == []  # refused: left as it was

    # To Do -> In Progress ("Start work", no screen) goes; "Close" has a resolution screen
    moves = {"bulkTransitionInputs": [
        {"selectedIssueIdsOrKeys": ["PROJ-5"], "transitionId": "11"},
        {"selectedIssueIdsOrKeys": ["PROJ-8"], "transitionId": "41"},
        {"selectedIssueIdsOrKeys": ["PROJ-10"], "transitionId": "71"},  # not from To Do
    ]}  # fmt: skip
    task = check("POST", "/rest/api/3/bulk/issues/transition", 201, moves)["taskId"]
    check("GET", f"/rest/api/3/bulk/queue/{task}", 200)
    done = check("GET", f"/rest/api/3/bulk/queue/{task}", 200)
    assert done["processedAccessibleIssues"] == ids_of(cloud, ["PROJ-5"])
    assert sorted(done["failedAccessibleIssues"]) == sorted(
        str(i) for i in ids_of(cloud, ["PROJ-8", "PROJ-10"])
    )
    assert [cloud.issue(k)["status"] for k in ("PROJ-5", "PROJ-8", "PROJ-10")] == [
        "In Progress", "To Do", "To Do"
    ]  # fmt: skip
    invalid = {
        "bulkTransitionInputs": [{"selectedIssueIdsOrKeys": ["NOPE-1"], "transitionId": "11"}]
    }
    check("POST", "/rest/api/3/bulk/issues/transition", 400, invalid)

    listed = check("GET", "/rest/api/3/bulk/issues/transition?issueIdsOrKeys=PROJ-1,PROJ-8", 200)
    [workflow] = listed["availableTransitions"]
    assert {t["transitionName"] for t in workflow["transitions"]} == {"Start work"}  # no Close

    wanted = {"issueIdsOrKeys": ["PROJ-3", "PROJ-1", "NOPE-1"], "fields": ["summary"]}
    fetched = check("POST", "/rest/api/3/issue/bulkfetch", 200, wanted)
    assert [i["key"] for i in fetched["issues"]] == ["PROJ-1", "PROJ-3"]  # by id, missing left out
    too_many = {"issueIdsOrKeys": [f"PROJ-{i}" for i in range(1, 102)]}
    assert call(cloud, "POST", "issue/bulkfetch", too_many).status == 400
    edit["selectedIssueIdsOrKeys"] = [f"PROJ-{i}" for i in range(1, 1002)]
    check("POST", "/rest/api/3/bulk/issues/fields", 400, edit)  # at most 1,000 issues


def test_data_center_has_no_bulk_operations(datacenter: JiraSandbox) -> None:
    for method, path in (("POST", "bulk/issues/fields"), ("GET", "bulk/queue/10000"),
                         ("POST", "bulk/issues/transition")):  # fmt: skip
        assert call(datacenter, method, path, {} if method == "POST" else None).status == 404
    # issue/bulkfetch is issue/{issueIdOrKey} there, which takes no POST
    assert call(datacenter, "POST", "issue/bulkfetch", {}).status == 405


# -- releases ----------------------------------------------------------------------------------


def test_a_release_of_1000_issues_on_cloud_takes_15_requests_and_the_task_polls(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    """The budget: 10 searches (100 keys each), the versions, the new version, one bulk edit,
    one bulk transition and the release; plus the polls of the two tasks."""
    keys = new_issues(cloud, 1000, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert not result.failed, result.failed
    got = kinds(cloud)
    polls = got.pop("GET bulk/queue/ID")
    assert got == {
        "POST search/jql": 10,
        "GET project/PROJ/versions": 1,
        "POST version": 1,
        "POST bulk/issues/fields": 1,
        "POST bulk/issues/transition": 1,
        "PUT version/ID": 1,
    }
    assert sum(got.values()) == 15 and polls == 4  # two polls per task (the sandbox's default)
    for key in (keys[0], keys[500], keys[-1]):
        assert cloud.issue(key)["fixVersions"] == ["2.0.0"]
        assert cloud.issue(key)["status"] == "Ready for Release"
    assert result.done[0].describe_done() == (
        "PROJ 2.0.0: created, 1000 issues have fixVersion 2.0.0, "
        "1000 moved to Ready for Release, released 2026-12-07"
    )


def test_a_transition_that_needs_fields_goes_one_by_one(tmp_path: Path, cloud: JiraSandbox) -> None:
    """To Do -> Done is "Close", whose screen requires a resolution: no bulk transition can
    give it, so the fixVersions go in bulk and each issue is closed on its own."""
    keys = new_issues(cloud, BULK_FROM)
    t = tracker(tmp_path)
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 1 and got["PUT issue/KEY"] == 0
    assert got["POST bulk/issues/transition"] == 0
    assert got["POST issue/KEY/transitions"] == BULK_FROM
    assert {cloud.issue(k)["resolution"] for k in keys} == {"Done"}
    assert {tuple(cloud.issue(k)["fixVersions"]) for k in keys} == {("2.0.0",)}


def test_issues_a_task_refuses_go_one_by_one(tmp_path: Path, cloud: JiraSandbox) -> None:
    """Issues the bulk tasks could not change (the workflow or a permission refused them)
    are then sent one by one, as before bulk operations; the others are done."""
    keys = new_issues(cloud, BULK_FROM + 10, status="In QA")
    refused = [keys[3], keys[17]]
    cloud.bulk_tasks(failing=refused)
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert not result.failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 1 and got["PUT issue/KEY"] == 2
    assert got["POST bulk/issues/transition"] == 1 and got["POST issue/KEY/transitions"] == 2
    for key in keys:
        assert cloud.issue(key)["fixVersions"] == ["2.0.0"], key
        assert cloud.issue(key)["status"] == "Ready for Release", key
    assert f"{len(keys)} moved to Ready for Release" in result.done[0].describe_done()


def test_a_task_polled_until_complete_with_growing_waits_and_its_progress_shown(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    keys = new_issues(cloud, BULK_FROM)
    cloud.bulk_tasks(polls=5)
    sleeps: list[float] = []
    t = tracker(tmp_path, sleeps, **{"jira.on.release": ""})
    shown: list[tuple[str, int, int]] = []
    t.progress = lambda what, done, total: shown.append((what, done, total))
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    assert kinds(cloud)["GET bulk/queue/ID"] == 5
    assert sleeps == list(bulk.WAITS[:5])  # each wait longer than the one before
    task = [(done, total) for what, done, total in shown if "issues of PROJ 2.0.0" in what]
    n = BULK_FROM
    assert task == [(n * p // 100, n) for p in (20, 40, 60, 80, 100)]  # 20%, 40%, ... of n


def test_a_task_still_running_after_the_longest_wait_leaves_the_release_queued(
    tmp_path: Path, cloud: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = new_issues(cloud, BULK_FROM)
    cloud.bulk_tasks(polls=1000)
    monkeypatch.setattr(bulk, "MOST_WAIT", 10.0)
    t = tracker(tmp_path)
    result = Outbox(t).deliver(release(t, keys))
    assert result.failed and "still running bulk task" in str(result.failed[0][1])
    [queued] = Outbox(t).read()
    [(task, about)] = queued["tasks"].items()  # noted before it was polled
    assert about == {"kind": "fields", "site": t.sites[0].url}
    cloud.clear_requests()
    assert Outbox(t).sync().failed  # still running: polled, never submitted again
    got = kinds(cloud)
    assert got["GET bulk/queue/ID"] > 1 and got["POST bulk/issues/fields"] == 0
    assert set(got) == {"GET bulk/queue/ID"}  # not even a read: nothing known yet
    cloud.bulk_tasks(polls=1)  # it ends at its next poll: the replay takes what it did
    cloud.clear_requests()
    assert not Outbox(t).sync().failed
    got = kinds(cloud)
    assert got["GET bulk/queue/ID"] == 1 and got["POST bulk/issues/fields"] == 0
    assert cloud.requests[0].path.endswith(f"/bulk/queue/{task}")  # before reading the issues
    assert {tuple(cloud.issue(k)["fixVersions"]) for k in keys} == {("2.0.0",)}
    assert {cloud.issue(k)["status"] for k in keys} == {"Done"}  # Close takes fields
    assert Outbox(t).read() == []


def test_a_malformed_task_answer_is_a_bad_answer(tmp_path: Path, cloud: JiraSandbox) -> None:
    keys = new_issues(cloud, BULK_FROM)
    cloud.fault("body", method="GET", path="/bulk/queue/", status=200,
                body={"status": "COMPLETE", "processedAccessibleIssues": ["PROJ-1"]})  # fmt: skip
    t = tracker(tmp_path)
    result = Outbox(t).deliver(release(t, keys))
    assert result.failed
    error = result.failed[0][1]
    assert isinstance(error, BadAnswer) and isinstance(error, RemoteError)
    assert "processed issue 'PROJ-1', which is no id" in error.message


def test_a_replay_only_reads(tmp_path: Path, cloud: JiraSandbox) -> None:
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    assert not Outbox(t).deliver(release(t, keys)).failed
    assert kinds(cloud)["POST bulk/issues/transition"] == 1
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    assert kinds(cloud) == {"POST search/jql": 1, "GET project/PROJ/versions": 1}


def test_data_center_keeps_one_request_per_issue(tmp_path: Path, datacenter: JiraSandbox) -> None:
    keys = new_issues(datacenter, BULK_FROM, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    datacenter.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    assert kinds(datacenter) == {
        "POST search": 1,
        "GET project/PROJ/versions": 1,
        "POST version": 1,
        "PUT issue/KEY": BULK_FROM,
        "POST issue/KEY/transitions": BULK_FROM,
        "PUT version/ID": 1,
    }


def test_below_the_threshold_cloud_goes_one_by_one(tmp_path: Path, cloud: JiraSandbox) -> None:
    keys = new_issues(cloud, BULK_FROM - 1, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    got = kinds(cloud)
    assert got["PUT issue/KEY"] == got["POST issue/KEY/transitions"] == BULK_FROM - 1
    assert not any("bulk" in kind for kind in got)


def test_without_bulk_permission_cloud_goes_one_by_one(tmp_path: Path, cloud: JiraSandbox) -> None:
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    cloud.fault("status", method="POST", path="/bulk/issues/", status=403, times=None)
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 1 and got["POST bulk/issues/transition"] == 0
    assert got["PUT issue/KEY"] == got["POST issue/KEY/transitions"] == BULK_FROM
    assert {cloud.issue(k)["status"] for k in keys} == {"Ready for Release"}


# -- promotions --------------------------------------------------------------------------------


def test_a_promotion_on_cloud_moves_the_issues_in_bulk_never_backwards(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    keys = new_issues(cloud, BULK_FROM, status="In Progress")
    ahead = new_issues(cloud, 1, status="Ready for Release")
    done = new_issues(cloud, 1, status="Done")
    t = tracker(tmp_path)
    actions = Promote.for_keys(
        t, keys + ahead + done, env="qa", target="In QA", later=["Ready for Release"]
    )
    cloud.clear_requests()
    result = Outbox(t).deliver(actions)
    assert not result.failed
    got = kinds(cloud)
    assert got["POST bulk/issues/transition"] == 1 and got["POST issue/KEY/transitions"] == 0
    assert {cloud.issue(k)["status"] for k in keys} == {"In QA"}
    assert cloud.issue(ahead[0])["status"] == "Ready for Release"
    assert cloud.issue(done[0])["status"] == "Done"
    moved = f"PROJ: {BULK_FROM} of {BULK_FROM + 2} issues moved to In QA (qa)"
    assert result.done[0].describe_done() == moved
    assert any("left alone" in w for w in result.done[0]["warnings"])


# -- through the commands ----------------------------------------------------------------------


def test_release_finish_queues_a_task_that_does_not_complete_and_sync_finishes_it(
    repo: Any, run: Any, cloud: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outbox semantics as before: the git part done, exit 7, the release queued; `sync`
    reads what the task did and sends only what is missing, and then changes nothing."""
    from gitutil import outbox

    keys = new_issues(cloud, BULK_FROM, status="Done")
    for key in keys:
        repo.git("commit", "--quiet", "--allow-empty", "-m", f"{key} change")
    assert run(repo, "release", "start", "1.1.0").code == 0
    monkeypatch.setattr(bulk, "WAITS", (0.01,))
    monkeypatch.setattr(bulk, "MOST_WAIT", 0.05)
    cloud.bulk_tasks(polls=1000)
    result = run(repo, "release", "finish")
    assert result.code == 7, result.err
    assert "still running bulk task" in result.err
    assert [a["do"] for a in outbox(repo)] == ["release"]
    cloud.bulk_tasks(polls=2)
    cloud.clear_requests()
    assert run(repo, "sync").code == 0
    assert outbox(repo) == []
    assert cloud.count(path_contains="/bulk/issues/") == 0  # the first task added the version
    assert all(cloud.issue(k)["fixVersions"] == ["1.1.0"] for k in keys)
    assert [v["released"] for v in cloud.versions("PROJ") if v["name"] == "1.1.0"] == [True]


def test_bulk_fetch_reads_up_to_100_issues_with_their_ids(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    client = t.client(t.sites[0])
    cloud.clear_requests()
    found = bulk.fetch(client, ["PROJ-4", "PROJ-1", "NOPE-1"])
    assert [(i.key, i.id, i.status.name) for i in found] == [
        ("PROJ-1", cloud.issue("PROJ-1")["id"], "To Do"),
        ("PROJ-4", cloud.issue("PROJ-4")["id"], "Done"),
    ]
    assert found[1].fix_versions == ["1.0.0"] and cloud.count() == 1
    with pytest.raises(ValueError, match="1 to 100"):
        bulk.fetch(client, [f"PROJ-{i}" for i in range(1, 102)])
    cloud.fault("body", path="/issue/bulkfetch", status=200, body={"issues": [{"key": "x"}]})
    with pytest.raises(BadAnswer, match="no issue key"):
        bulk.fetch(client, ["PROJ-1"])


# -- what a task reports, and what it leaves (review of issue 22) ------------------------------


def test_a_transition_task_refuses_an_issue_it_edited_and_that_one_goes_one_by_one(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    """The edit took every issue, the bulk transition refused one: that one is read again
    and moved on its own; the others are not sent again."""
    keys = new_issues(cloud, BULK_FROM + 2, status="In QA")
    cloud.bulk_tasks(failing_moves=[keys[7]])
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert not result.failed, result.failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 1 and got["POST bulk/issues/transition"] == 1
    assert got["POST issue/bulkfetch"] == 1  # the refused issue, read again
    assert got["POST issue/KEY/transitions"] == 1 and got["PUT issue/KEY"] == 0
    assert {cloud.issue(k)["status"] for k in keys} == {"Ready for Release"}
    assert f"{len(keys)} moved to Ready for Release" in result.done[0].describe_done()


def test_a_task_that_ends_failed_leaves_the_rest_to_the_one_by_one_path(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    """A task that ends FAILED (or CANCELLED, DEAD) made only part of its changes: those it
    reports are taken, the other issues are read again and sent one by one, and the release
    is done: it does not stay queued to submit the same task at every sync."""
    keys = new_issues(cloud, BULK_FROM + 10, status="In QA")
    cloud.bulk_tasks(ending="FAILED", applied=15)
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert not result.failed, result.failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 1 and got["POST issue/bulkfetch"] == 1
    assert got["PUT issue/KEY"] == len(keys) - 15  # what the task did is not sent again
    assert got["POST bulk/issues/transition"] == 0  # 15 edited in bulk: below BULK_FROM
    assert got["POST issue/KEY/transitions"] == len(keys)
    for key in keys:
        assert cloud.issue(key)["fixVersions"] == ["2.0.0"], key
        assert cloud.issue(key)["status"] == "Ready for Release", key
    assert Outbox(t).read() == []


def test_the_task_reasons_stay_when_the_one_by_one_path_fails_too(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    cloud.bulk_tasks(failing_moves=[keys[4]])
    cloud.fault("status", method="POST", path=f"/issue/{keys[4]}/transitions", status=400,
                times=None)  # fmt: skip
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    result = Outbox(t).deliver(release(t, keys))
    assert not result.failed, result.failed
    [warning] = result.done[0]["warnings"]
    assert warning.startswith(f"{keys[4]} was not moved to Ready for Release")
    assert warning.endswith("(the bulk task said: You do not have permission to edit this "
                            "issue, or its workflow does not allow it.)")  # fmt: skip
    assert cloud.issue(keys[4])["status"] == "In QA"


def test_a_task_without_an_answer_stays_noted_and_sync_takes_its_moves(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    """The bulk transition's task got no answer (503s): the release stays queued with the
    task noted; `sync` polls that task and counts what it moved, submitting nothing."""
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.fault("status", method="GET", path="/bulk/queue/10001", status=503, times=None)
    result = Outbox(t).deliver(release(t, keys))
    assert result.failed
    [queued] = Outbox(t).read()
    assert queued["tasks"] == {"10001": {"kind": "transition", "site": t.sites[0].url}}
    cloud.clear_faults()
    cloud.clear_requests()
    delivered = Outbox(t).sync()
    assert not delivered.failed
    assert not any(kind.startswith("POST bulk") for kind in kinds(cloud))
    assert kinds(cloud)["GET bulk/queue/ID"] == 2
    assert f"{BULK_FROM} moved to Ready for Release" in delivered.done[0].describe_done()
    assert {cloud.issue(k)["status"] for k in keys} == {"Ready for Release"}


def test_one_deadline_for_all_the_tasks_of_a_delivery(
    tmp_path: Path, cloud: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    cloud.bulk_tasks(polls=3)
    monkeypatch.setattr(bulk, "WAITS", (1.0,))
    monkeypatch.setattr(bulk, "MOST_WAIT", 4.5)  # the edit takes 3 s of it, 1.5 s are left
    sleeps: list[float] = []
    t = tracker(tmp_path, sleeps, **{"jira.on.release": "Ready for Release"})
    result = Outbox(t).deliver(release(t, keys))
    assert result.failed and "still running bulk task" in str(result.failed[0][1])
    assert sum(sleeps) <= 4.5


def test_few_issues_lacking_the_version_get_it_one_by_one_while_the_moves_go_in_bulk(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    keys = new_issues(cloud, BULK_FROM + 1, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": ""})
    assert not Outbox(t).deliver(release(t, keys[:-1])).failed  # all but one have 2.0.0
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 0 and got["PUT issue/KEY"] == 1
    assert got["POST bulk/issues/transition"] == 1 and got["POST issue/KEY/transitions"] == 1
    assert {cloud.issue(k)["status"] for k in keys} == {"Ready for Release"}


def test_1001_issues_take_two_requests_of_each_bulk_kind_and_notify_the_watchers(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    import json

    keys = new_issues(cloud, 1001, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.clear_requests()
    assert not Outbox(t).deliver(release(t, keys)).failed
    got = kinds(cloud)
    assert got["POST bulk/issues/fields"] == 2 and got["POST bulk/issues/transition"] == 2
    sent = [json.loads(r.body) for r in cloud.requests if "/bulk/issues/" in r.path]
    assert [len(b.get("selectedIssueIdsOrKeys") or b["bulkTransitionInputs"][0][
        "selectedIssueIdsOrKeys"]) for b in sent] == [1000, 1, 1000, 1]  # fmt: skip
    assert [b["sendBulkNotification"] for b in sent] == [True] * 4  # one digest e-mail each
    assert {cloud.issue(k)["status"] for k in (keys[0], keys[999], keys[1000])} == {
        "Ready for Release"
    }


def test_a_promotion_never_moves_a_done_issue_backwards_in_bulk(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    """Done -> To Do is "Reopen", which takes no fields: bulk could take it, but a done
    issue is never moved out of done unless the target is done too."""
    keys = new_issues(cloud, BULK_FROM, status="In Progress")
    done = new_issues(cloud, 1, status="Done")
    t = tracker(tmp_path)
    actions = Promote.for_keys(t, keys + done, env="back", target="To Do", later=[])
    cloud.clear_requests()
    result = Outbox(t).deliver(actions)
    assert not result.failed
    assert kinds(cloud)["POST bulk/issues/transition"] == 1
    assert {cloud.issue(k)["status"] for k in keys} == {"To Do"}
    assert cloud.issue(done[0])["status"] == "Done"
    assert f"{done[0]} is Done (done); left alone" in result.done[0]["warnings"]


def test_bulk_transition_inputs_hold_one_workflow_each(tmp_path: Path, cloud: JiraSandbox) -> None:
    """PROJ's "Start work" and OPS's "Begin triage" are both transition 11: one input per
    project (and issue type), all in one request, one task."""
    import json

    from jiraflow.outbox.actions import BulkRun, bulk_moves

    keys = new_issues(cloud, 25) + [cloud.add_issue("OPS", f"Op {i}") for i in range(25)]
    t = tracker(tmp_path)
    found = t.lookup(keys, transitions=True)
    issues = [found.issues[k] for k in keys]
    action = Promote.for_keys(t, keys[:1], env="dev", target="x", later=[])[0]
    run = BulkRun(t, Outbox(t), action, t.sites[0].url, bulk.Patience())
    result: dict[str, Any] = {"moved": 0}
    cloud.clear_requests()
    bulk_moves(run, issues, "category:indeterminate", result, "mixed")
    [sent] = [json.loads(r.body) for r in cloud.requests if r.method == "POST"]
    inputs = sent["bulkTransitionInputs"]
    assert [(i["transitionId"], len(i["selectedIssueIdsOrKeys"])) for i in inputs] == [
        ("11", 25), ("11", 25)
    ]  # fmt: skip
    assert result["moved"] == 50
    assert {cloud.issue(k)["status"] for k in keys[:25]} == {"In Progress"}
    assert {cloud.issue(k)["status"] for k in keys[25:]} == {"Triage"}


# -- saved tasks, submitted task ids and the deadline (review of issue 22) -----------------------


def test_a_damaged_saved_task_id_is_a_damaged_outbox(
    repo: Any, run: Any, cloud: JiraSandbox
) -> None:
    """A noted task id goes into .../bulk/queue/{task}: one jiraflow could not have written
    (`../../serverInfo`) makes the outbox damaged (exit 5), and nothing is sent."""
    import json

    action = {"id": "a1", "site": cloud.url, "key": "PROJ", "do": "release", "version": "1.0.0",
              "keys": ["PROJ-1"], "released": False, "date": None, "target": "",
              "tasks": {"../../serverInfo": {"kind": "fields", "site": cloud.url}}}  # fmt: skip
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([action]))
    cloud.clear_requests()
    result = run(repo, "sync")
    assert result.code == 5, (result.out, result.err)
    assert "outbox.json is damaged ([0].tasks: '../../serverInfo' is not a bulk task id)" in (
        result.err
    )
    assert cloud.requests == []


@pytest.mark.parametrize("status", [404, 403, 400, 410])
def test_a_saved_task_jira_forgot_or_refuses_is_forgotten_and_sync_completes(
    tmp_path: Path, cloud: JiraSandbox, status: int
) -> None:
    """A noted task Jira no longer knows (404) or shows (403 after a permission change, 400,
    410) is forgotten: the issues are read again and sent what they still need."""
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.fault("status", method="GET", path="/bulk/queue/10001", status=503, times=None)
    assert Outbox(t).deliver(release(t, keys)).failed
    [queued] = Outbox(t).read()
    assert list(queued["tasks"]) == ["10001"]
    cloud.clear_faults()
    cloud.fault("status", method="GET", path="/bulk/queue/10001", status=status, times=None)
    delivered = Outbox(t).sync()
    assert not delivered.failed, delivered.failed
    assert Outbox(t).read() == []
    assert {cloud.issue(k)["status"] for k in keys} == {"Ready for Release"}
    assert kinds(cloud)["POST bulk/issues/transition"] == 2  # the forgotten one, then anew


def test_a_saved_task_refused_401_stays_noted(tmp_path: Path, cloud: JiraSandbox) -> None:
    keys = new_issues(cloud, BULK_FROM, status="In QA")
    t = tracker(tmp_path, **{"jira.on.release": "Ready for Release"})
    cloud.fault("status", method="GET", path="/bulk/queue/10001", status=503, times=None)
    assert Outbox(t).deliver(release(t, keys)).failed
    cloud.clear_faults()
    cloud.fault("status", method="GET", path="/bulk/queue/10001", status=401, times=None)
    assert Outbox(t).sync().failed
    [queued] = Outbox(t).read()
    assert list(queued["tasks"]) == ["10001"]


def test_a_submitted_task_id_that_is_none_is_a_bad_answer(
    tmp_path: Path, cloud: JiraSandbox
) -> None:
    keys = new_issues(cloud, BULK_FROM)
    cloud.fault("body", method="POST", path="/bulk/issues/fields", status=201,
                body={"taskId": "../x"})  # fmt: skip
    t = tracker(tmp_path, **{"jira.on.release": ""})
    cloud.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert result.failed
    error = result.failed[0][1]
    assert isinstance(error, BadAnswer) and isinstance(error, RemoteError)
    assert "bulk/issues/fields" in error.message
    assert "the task id '../x', which is no task id" in error.message
    [queued] = Outbox(t).read()
    assert "tasks" not in queued  # nothing noted to poll
    assert kinds(cloud)["GET bulk/queue/ID"] == 0
    assert not any("queue" in r.path and ".." in r.path for r in cloud.requests)


class ticking(list[float]):  # used as a function
    """The tracker's waits, recorded and slept on the fake clock."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock

    def append(self, seconds: float) -> None:
        super().append(seconds)
        self.clock.sleep(seconds)


def test_the_deadline_counts_the_clock_time_of_polls_and_their_rate_limit_waits(
    tmp_path: Path, cloud: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll answered 429 (Retry-After 30) waits 30 s or more: that is charged to the 20 s
    deadline (not only the pauses between polls), and the error says how long it waited."""
    from jiraflow import http
    from test_rate_limit import FakeClock

    clock = FakeClock()
    monkeypatch.setattr(http, "clock", clock)
    http.hear_retries(None)
    keys = new_issues(cloud, BULK_FROM)
    cloud.bulk_tasks(polls=1000)
    monkeypatch.setattr(bulk, "MOST_WAIT", 20.0)
    cloud.fault("status", status=429, retry_after=30, method="GET", path="/bulk/queue/", times=1)
    t = tracker(tmp_path, ticking(clock), **{"jira.on.release": ""})
    cloud.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert result.failed
    message = str(result.failed[0][1])
    assert "still running bulk task" in message
    waited = int(message.split("after jiraflow waited ")[1].split(" s")[0])
    assert 30 <= waited <= 40 and clock.slept[:1] == [0.1] and clock.slept[1] >= 30
    assert kinds(cloud)["GET bulk/queue/ID"] == 2  # refused, then answered: past 20 s already


def test_a_promotion_waits_out_a_rate_limit_longer_than_an_interactive_command(
    tmp_path: Path, cloud: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A promotion is a batch write: it waits out a Retry-After of 30 s (beyond the 20 s of an
    interactive command) instead of failing."""
    from jiraflow import http
    from test_rate_limit import FakeClock

    clock = FakeClock()
    monkeypatch.setattr(http, "clock", clock)
    http.hear_retries(None)
    keys = new_issues(cloud, 3, status="In Progress")
    t = tracker(tmp_path, ticking(clock))
    actions = Promote.for_keys(t, keys, env="qa", target="In QA", later=[])
    cloud.fault("status", status=429, retry_after=30, method="POST", path="/transitions", times=1)
    result = Outbox(t).deliver(actions)
    assert not result.failed, result.failed
    assert clock.slept and sum(clock.slept) > http.SHORT_BUDGET
    assert {cloud.issue(k)["status"] for k in keys} == {"In QA"}
    assert http.budget() == http.SHORT_BUDGET  # and after it, the short budget again
