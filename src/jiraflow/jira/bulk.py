"""Jira Cloud's bulk operations: many issues changed by one request, done by a task to poll.

Data Center has none of them; the callers ask `client.cloud` first. What Atlassian documents,
and what this module keeps to:

* bulk edit (`POST /rest/api/3/bulk/issues/fields`): up to 1,000 issues a request; a version
  is added to fixVersions with `multipleVersionPickerFields`, option `ADD`, which keeps the
  issue's other fix versions;
* bulk transition (`POST /rest/api/3/bulk/issues/transition`): up to 1,000 issues, one input
  per transition of one workflow (transition ids such as 11, 21, 31 repeat across workflows,
  so the caller groups issues by project, issue type and transition: one project and type
  always share a workflow); only transitions that take no field input can be used (Jira's own list,
  `GET .../bulk/issues/transition`, leaves the others out), so issues whose transition needs
  a screen's fields are moved one by one by the caller;
* both answer a task id; `GET /rest/api/3/bulk/queue/{taskId}` says ENQUEUED or RUNNING (with
  progressPercent) until the task is COMPLETE, FAILED, CANCELLED or DEAD, and then which
  issues (by id) it changed (`processedAccessibleIssues`), which it could not change and why
  (`failedAccessibleIssues`), and how many keys were invalid or not visible;
* bulk fetch (`POST /rest/api/3/issue/bulkfetch`): up to 100 issues a request;
* `sendBulkNotification` is sent true, Jira's default: the watchers get one digest e-mail for
  the bulk change (false would silently drop the mail they get one by one).

Tasks are polled with growing waits (WAITS, then the last of them again), up to MOST_WAIT
seconds in all for one delivery (a Patience shared by its tasks, charged the clock time of each
pause and poll, rate-limit waits included); the waits go through the client's sleep, which
tests replace. Every answer is checked like the client's others: a
malformed one is a BadAnswer naming the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jiraflow.jira.client import (
    ISSUE_FIELDS,
    JiraClient,
    Unavailable,
    _issue,
    _list,
    _object,
    _optional,
    _Shape,
    _text,
)
from jiraflow.jira.issues import Issue

MOST_ISSUES = 1000  # issues per bulk edit or bulk transition request
MOST_FETCHED = 100  # issues per bulk fetch
WAITS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0)  # seconds before each poll of a task; then 5.0 again
MOST_WAIT = 600.0  # seconds of waiting for the tasks of one delivery (they may still finish)
RUNNING = ("ENQUEUED", "RUNNING", "CANCEL_REQUESTED")
ENDED = ("COMPLETE", "FAILED", "CANCELLED", "DEAD")


@dataclass
class Outcome:
    """What a finished task did: issue ids it changed, ids it could not change (with Jira's
    reasons), and how many of the keys were no issue or not visible."""

    status: str
    processed: set[str] = field(default_factory=set)
    failed: dict[str, list[str]] = field(default_factory=dict)
    invalid: int = 0


@dataclass
class Patience:
    """The seconds one delivery may still wait for its tasks (MOST_WAIT in all), and the
    seconds it has waited: each poll is charged the clock time (http.clock) from before its
    pause to its answer, at least the pause (a poll's own rate-limit waits count too)."""

    left: float = field(default_factory=lambda: MOST_WAIT)
    waited: float = 0.0

    def charge(self, seconds: float) -> None:
        self.left -= seconds
        self.waited += seconds


def add_fix_version(client: JiraClient, keys: list[str], version_id: str) -> str:
    """Submit the bulk edit that adds the version to the issues' fixVersions; the task id."""
    _check_count(keys, MOST_ISSUES)
    body = {
        "selectedIssueIdsOrKeys": keys,
        "selectedActions": ["fixVersions"],
        "editedFieldsInput": {
            "multipleVersionPickerFields": [
                {
                    "fieldId": "fixVersions",
                    "bulkEditMultiSelectFieldOption": "ADD",
                    "versions": [{"versionId": version_id}],
                }
            ]
        },
        "sendBulkNotification": True,  # Jira's default: one digest e-mail to the watchers
    }
    task: str = client._request("POST", "bulk/issues/fields", json=body, api="3", shape=_task_id)
    return task


def transition(client: JiraClient, groups: list[tuple[str, list[str]]]) -> str:
    """Submit the bulk transition of each group (a transition id, and keys of issues of one
    workflow), all in one task; the task id."""
    _check_count([key for _, keys in groups for key in keys], MOST_ISSUES)
    body = {
        "bulkTransitionInputs": [
            {"selectedIssueIdsOrKeys": keys, "transitionId": transition_id}
            for transition_id, keys in groups
        ],
        "sendBulkNotification": True,  # Jira's default: one digest e-mail to the watchers
    }
    path = "bulk/issues/transition"
    task: str = client._request("POST", path, json=body, api="3", shape=_task_id)
    return task


def wait(
    client: JiraClient,
    task: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    patience: Patience | None = None,
) -> Outcome:
    """Poll the task until it has ended, with growing waits; `progress(percent, 100)` hears
    how far it is. Unavailable when it is still running once `patience` (MOST_WAIT seconds
    when not given) is spent."""
    from jiraflow import http

    patience = patience if patience is not None else Patience()
    for attempt in range(10_000):
        pause = WAITS[min(attempt, len(WAITS) - 1)]
        if pause > patience.left:
            break
        began = http.clock.now()
        client._sleep(pause)
        state = client._request("GET", f"bulk/queue/{task}", api="3", shape=_progress)
        patience.charge(max(pause, http.clock.now() - began))
        if progress is not None:
            progress(state["percent"], 100)
        if state["status"] in ENDED:
            return Outcome(state["status"], state["processed"], state["failed"], state["invalid"])
    raise Unavailable(
        f"Jira at {client.url} is still running bulk task {task} after jiraflow waited "
        f"{patience.waited:.0f} s for the bulk tasks of this update",
        "Run `jiraflow sync` later: it waits for that task (it never submits it again), "
        "then reads the issues and sends only what is still missing.",
    )


def fetch(client: JiraClient, keys: list[str], *, transitions: bool = False) -> list[Issue]:
    """The issues of up to MOST_FETCHED keys in one request (keys Jira lacks are left out),
    with their transitions when asked."""
    _check_count(keys, MOST_FETCHED)
    body: dict[str, Any] = {"issueIdsOrKeys": keys, "fields": [*ISSUE_FIELDS.split(","), "project"]}
    if transitions:
        body["expand"] = ["transitions.fields"]  # as for one issue: with their screens
    shape = partial(_fetched, transitions=transitions)
    found = client._request("POST", "issue/bulkfetch", json=body, api="3", shape=shape)
    return [Issue.from_json(data, cloud=True) for data in found]


def chunks(items: list[Any], size: int = MOST_ISSUES) -> Iterable[list[Any]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _check_count(keys: list[str], most: int) -> None:
    if not keys or len(keys) > most:
        raise ValueError(f"a bulk request takes 1 to {most} issues, not {len(keys)}")


# -- what each answer must hold ------------------------------------------------------------------
def _task_id(data: Any) -> str:
    task = _text(_object(data, "the submitted task"), "taskId", "the submitted task")
    if not task or not task.isalnum():
        raise _Shape(f"the task id {task[:40]!r}, which is no task id")
    return task


def _progress(data: Any) -> dict[str, Any]:
    where = "the bulk task"
    task = _object(data, where)
    status = _text(task, "status", where, required=True)
    if status not in RUNNING + ENDED:
        raise _Shape(f"the task status {status[:40]!r}, which Jira does not have")
    percent = _optional(task, "progressPercent", int, where) or 0
    processed = _list(task.get("processedAccessibleIssues") or [], f"{where}'s processed issues")
    failed = _optional(task, "failedAccessibleIssues", dict, where) or {}
    invalid = _optional(task, "invalidOrInaccessibleIssueCount", int, where) or 0
    ids = set()
    for issue_id in processed:
        if isinstance(issue_id, bool) or not isinstance(issue_id, int | str):
            raise _Shape(f"{where}'s processed issue {str(issue_id)[:40]!r}, which is no id")
        if not str(issue_id).isdigit():
            raise _Shape(f"{where}'s processed issue {str(issue_id)[:40]!r}, which is no id")
        ids.add(str(issue_id))
    reasons: dict[str, list[str]] = {}
    for issue_id, why in failed.items():
        if not str(issue_id).isdigit():
            raise _Shape(f"{where}'s failed issue {str(issue_id)[:40]!r}, which is no id")
        listed = _list(why, f"{where}'s reasons for issue {issue_id}")
        reasons[str(issue_id)] = [str(reason) for reason in listed]
    return {
        "status": status,
        "percent": max(0, min(percent, 100)),
        "processed": ids,
        "failed": reasons,
        "invalid": max(invalid, 0),
    }


def _fetched(data: Any, *, transitions: bool = False) -> list[dict[str, Any]]:
    page = _object(data, "the fetched issues")
    listed = _list(page.get("issues"), "the fetched issues' issues")
    return [_issue(i, transitions=transitions) for i in listed]
