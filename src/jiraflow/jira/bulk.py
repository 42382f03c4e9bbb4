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
pause and poll, rate-limit waits included); the waits go through the client's `pause`, whose
sleep tests replace. The requests and the checks of their answers are the client's (its bulk
methods): a malformed answer is a BadAnswer naming the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jiraflow.jira.client import BULK_ENDED, JiraClient, Unavailable
from jiraflow.jira.issues import Issue

MOST_ISSUES = 1000  # issues per bulk edit or bulk transition request
MOST_FETCHED = 100  # issues per bulk fetch
WAITS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0)  # seconds before each poll of a task; then 5.0 again
MOST_WAIT = 600.0  # seconds of waiting for the tasks of one delivery (they may still finish)


@dataclass
class Outcome:
    """What a finished task did: issue ids it changed, and ids it could not change (with
    Jira's reasons)."""

    status: str
    processed: set[str] = field(default_factory=set)
    failed: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Patience:
    """The seconds one delivery has waited for its tasks, and so may still wait (MOST_WAIT in
    all): each poll is charged the clock time (http.clock) from before its pause to its
    answer, at least the pause (a poll's own rate-limit waits count too)."""

    waited: float = 0.0

    @property
    def left(self) -> float:
        return MOST_WAIT - self.waited

    def charge(self, seconds: float) -> None:
        self.waited += seconds


def add_fix_version(client: JiraClient, keys: list[str], version_id: str) -> str:
    """Submit the bulk edit that adds the version to the issues' fixVersions; the task id."""
    _check_count(keys, MOST_ISSUES)
    return client.bulk_edit(keys, version_id)


def transition(client: JiraClient, groups: list[tuple[str, list[str]]]) -> str:
    """Submit the bulk transition of each group (a transition id, and keys of issues of one
    workflow), all in one task; the task id."""
    _check_count([key for _, keys in groups for key in keys], MOST_ISSUES)
    return client.bulk_transition(groups)


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
        client.pause(pause)
        state = client.bulk_task(task)
        patience.charge(max(pause, http.clock.now() - began))
        if progress is not None:
            progress(state["percent"], 100)
        if state["status"] in BULK_ENDED:
            return Outcome(state["status"], state["processed"], state["failed"])
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
    return client.bulk_fetch(keys, transitions=transitions)


def chunks(items: list[Any], size: int = MOST_ISSUES) -> Iterable[list[Any]]:
    return (items[i : i + size] for i in range(0, len(items), size))


def _check_count(keys: list[str], most: int) -> None:
    if not keys or len(keys) > most:
        raise ValueError(f"a bulk request takes 1 to {most} issues, not {len(keys)}")
