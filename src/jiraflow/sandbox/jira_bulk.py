"""Jira Cloud's bulk operations in the sandbox: bulk edit, bulk transition, their task queue,
and bulk fetch. Cloud only: Data Center has none of these, and answers 404 as it does for any
path it does not know.

What real Jira Cloud documents, and the sandbox enforces:

* ``POST bulk/issues/fields`` edits up to 1,000 issues per request; jiraflow's use, adding a
  version to ``fixVersions``, is ``multipleVersionPickerFields`` with
  ``bulkEditMultiSelectFieldOption: "ADD"`` and ``selectedActions: ["fixVersions"]``. Other
  fields are refused (400, Jira's BulkOperationErrorResponse ``{"errors": [{"message"}]}``).
* ``POST bulk/issues/transition`` moves up to 1,000 issues, one input per transition of one
  workflow (an input whose issues have different workflows is refused, 400: transition ids
  repeat across workflows); only transitions that need no field input may be used (``GET
  bulk/issues/transition`` lists only those): an issue whose transition has a screen, or is
  not available from its status, fails. A key that is no issue refuses the whole request
  (400), as the spec's example says.
* Both answer 201 ``{"taskId"}``; ``GET bulk/queue/{taskId}`` reports ENQUEUED/RUNNING with
  ``progressPercent`` until the task ends (after ``polls`` reads, settable), then COMPLETE
  with ``processedAccessibleIssues`` (issue ids), ``failedAccessibleIssues`` (id -> reasons)
  and ``invalidOrInaccessibleIssueCount``.
* ``POST issue/bulkfetch`` returns up to 100 issues; keys that are no issue are left out.

A task makes its changes when it ends, at the poll that reports it ended (under the sandbox's
lock), as a real task works after it was submitted: until then Jira is unchanged. Tests
control it (``JiraSandbox.bulk_tasks``): ``failing`` keys stand for issues the workflow or the
permissions refuse (left as they are, listed as failed), ``failing_moves`` the same for bulk
transitions only; ``ending`` makes the next tasks end FAILED (or CANCELLED, DEAD) after
making only their first ``applied`` changes, listed as processed, the others not listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Any

from jiraflow.sandbox.jira_http import ApiError, Call, RouteTable
from jiraflow.sandbox.jira_issues import _apply_list, _available_transition
from jiraflow.sandbox.jira_model import Issue, JiraState, Json, now
from jiraflow.sandbox.server import Response

MOST_ISSUES = 1000  # per bulk edit or bulk transition request
MOST_FETCHED = 100  # per bulk fetch
WORKFLOWS_PER_PAGE = 50  # GET bulk/issues/transition
CLOUD_ONLY: tuple[Any, ...] = ("cloud",)
REFUSED = "You do not have permission to edit this issue, or its workflow does not allow it."

table = RouteTable()


Step = tuple[Issue, Callable[[], str]]  # an issue, and its change: "" when made, else why not


@dataclass
class Task:
    id: str
    total: int
    steps: list[Step]  # the changes, made when the task ends
    failed: dict[str, list[str]]  # refused at submission
    invalid: int
    submitted_by: str
    created: str
    polls: int  # reads of the queue until it has ended
    ending: str = "COMPLETE"
    applied: int = 0  # changes made by a task that does not complete
    seen: int = 0
    processed: list[int] | None = None  # once ended


@dataclass
class BulkState:
    """The tasks of one sandbox state, and how they behave (set by tests or `sandbox serve`)."""

    tasks: dict[str, Task] = field(default_factory=dict)
    polls: int = 2
    failing: set[str] = field(default_factory=set)
    failing_moves: set[str] = field(default_factory=set)
    ending: str = "COMPLETE"
    applied: int = 0
    next_task: int = 10000


def bulk_state(state: JiraState) -> BulkState:
    """The bulk part of a state (made on first use; a reset makes a new state, and so this)."""
    found = state.__dict__.get("_bulk")
    if not isinstance(found, BulkState):
        found = BulkState()
        state.__dict__["_bulk"] = found
    return found


def error(status: int, message: str) -> ApiError:
    """A bulk endpoint's error: BulkOperationErrorResponse, {"errors": [{"message"}]}."""
    return BulkError(status, message)


class BulkError(ApiError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, [message])

    def response(self) -> Response:
        return Response.json(self.status, {"errors": [{"message": m} for m in self.messages]})


def _keys(body: Json, name: str) -> list[str]:
    keys = body.get(name)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or not keys:
        raise error(HTTPStatus.BAD_REQUEST, f"{name} must be a non-empty list of issue keys")
    if len(keys) > MOST_ISSUES:
        raise error(
            HTTPStatus.BAD_REQUEST,
            f"A bulk operation accepts at most {MOST_ISSUES} issues, not {len(keys)}.",
        )
    return list(dict.fromkeys(keys))


def _submit(call: Call, total: int, steps: list[Step], failed: dict[str, list[str]],
            invalid: int) -> Response:  # fmt: skip
    bulk = bulk_state(call.state)
    task = Task(
        str(bulk.next_task), total, steps, failed, invalid,
        call.user.account_id, now(), max(bulk.polls, 1), bulk.ending, bulk.applied,
    )  # fmt: skip
    bulk.next_task += 1
    bulk.tasks[task.id] = task
    return Response.json(HTTPStatus.CREATED, {"taskId": task.id})


@table.route("POST", "bulk/issues/fields", flavours=CLOUD_ONLY)
def bulk_edit(call: Call) -> Response:
    body = call.body()
    keys = _keys(body, "selectedIssueIdsOrKeys")
    actions = body.get("selectedActions")
    edited = body.get("editedFieldsInput")
    if actions != ["fixVersions"] or not isinstance(edited, dict):
        raise error(HTTPStatus.BAD_REQUEST, "The sandbox bulk-edits fixVersions only.")
    pickers = edited.get("multipleVersionPickerFields")
    other = sorted(set(edited) - {"multipleVersionPickerFields"})
    if other:
        raise error(
            HTTPStatus.BAD_REQUEST,
            f"The following editedFieldInput values are not listed as selectedActions : {other[0]}",
        )
    if not isinstance(pickers, list) or len(pickers) != 1 or not isinstance(pickers[0], dict):
        raise error(HTTPStatus.BAD_REQUEST, "multipleVersionPickerFields must hold fixVersions.")
    picker = pickers[0]
    if picker.get("fieldId") != "fixVersions" or picker.get("bulkEditMultiSelectFieldOption") != (
        "ADD"
    ):
        raise error(HTTPStatus.BAD_REQUEST, "The sandbox only ADDs to fixVersions.")
    versions = picker.get("versions")
    if not isinstance(versions, list) or not versions:
        raise error(HTTPStatus.BAD_REQUEST, "versions must list at least one version.")
    ids = []
    for ref in versions:
        raw = ref.get("versionId") if isinstance(ref, dict) else None
        version = call.state.versions.get(int(str(raw))) if str(raw).isdigit() else None
        if version is None:
            raise error(HTTPStatus.BAD_REQUEST, f"Version id '{raw}' is not valid.")
        ids.append(version.id)
    bulk = bulk_state(call.state)
    steps: list[Step] = []
    failed: dict[str, list[str]] = {}
    invalid = 0

    def edit(issue: Issue) -> str:
        if issue.key in bulk.failing:
            return REFUSED
        _apply_list(issue.fix_versions, "add", ids)
        issue.updated = now()
        return ""

    for key in keys:
        issue = call.state.find_issue(key)
        if issue is None:
            invalid += 1
            continue
        if any(call.state.versions[v].project != issue.project for v in ids):
            failed[str(issue.id)] = ["Version is not valid for this issue."]
            continue
        steps.append((issue, partial(edit, issue)))
    return _submit(call, len(keys), steps, failed, invalid)


@table.route("POST", "bulk/issues/transition", flavours=CLOUD_ONLY)
def bulk_transition(call: Call) -> Response:
    body = call.body()
    inputs = body.get("bulkTransitionInputs")
    if not isinstance(inputs, list) or not inputs:
        raise error(HTTPStatus.BAD_REQUEST, "bulkTransitionInputs must not be empty.")
    groups: list[tuple[str, list[Issue]]] = []
    total = 0
    for one in inputs:
        if not isinstance(one, dict) or not str(one.get("transitionId", "")).isdigit():
            raise error(HTTPStatus.BAD_REQUEST, "Each input needs a transitionId.")
        keys = _keys(one, "selectedIssueIdsOrKeys")
        total += len(keys)
        found = [call.state.find_issue(k) for k in keys]
        issues = [i for i in found if i is not None]
        if len(issues) != len(keys):
            raise error(
                HTTPStatus.BAD_REQUEST, "Some of the issues in the issueIdsOrKeys are not valid"
            )
        if len({id(i.workflow) for i in issues}) > 1:
            raise error(
                HTTPStatus.BAD_REQUEST,
                "The issues of one bulk transition input must share a workflow.",
            )
        groups.append((str(one["transitionId"]), issues))
    if total > MOST_ISSUES:
        raise error(
            HTTPStatus.BAD_REQUEST, f"A bulk transition accepts at most {MOST_ISSUES} issues."
        )
    bulk = bulk_state(call.state)
    state = call.state

    def move(issue: Issue, transition_id: str) -> str:
        """Move the issue along the transition: "" when moved, else why not."""
        if issue.key in bulk.failing or issue.key in bulk.failing_moves:
            return REFUSED
        try:  # as one issue's transition: available from its status
            transition = _available_transition(issue, {"id": transition_id})
        except ApiError as exc:
            return exc.messages[0]
        if transition.has_screen:
            return (
                f"Transition '{transition.name}' needs field input (resolution): "
                "bulk transitions take none."
            )
        state.move(issue, issue.workflow.status(transition.to), None, now())
        return ""

    steps: list[Step] = [
        (issue, partial(move, issue, transition_id))
        for transition_id, issues in groups
        for issue in issues
    ]
    return _submit(call, total, steps, {}, 0)


@table.route("GET", "bulk/issues/transition", flavours=CLOUD_ONLY)
def bulk_transitions(call: Call) -> Response:
    """The transitions that need no input and that every issue of a workflow has, by workflow."""
    raw = call.request.param("issueIdsOrKeys") or ""
    keys = list(dict.fromkeys(k.strip() for k in raw.split(",") if k.strip()))
    if not keys or len(keys) > MOST_ISSUES:
        raise error(HTTPStatus.BAD_REQUEST, f"Give 1 to {MOST_ISSUES} issueIdsOrKeys.")
    by_project: dict[str, list[Issue]] = {}
    for key in keys:
        issue = call.state.find_issue(key)
        if issue is None:
            raise error(
                HTTPStatus.BAD_REQUEST, "Some of the issues in the issueIdsOrKeys are not valid"
            )
        by_project.setdefault(issue.project, []).append(issue)
    listed = []
    for issues in list(by_project.values())[:WORKFLOWS_PER_PAGE]:
        workflow = issues[0].workflow
        common = [
            t
            for t in workflow.transitions
            if not t.has_screen and all(t in workflow.available(i.status) for i in issues)
        ]
        listed.append(
            {
                "isTransitionsFiltered": len(common) != len(workflow.transitions),
                "issues": [i.key for i in issues],
                "transitions": [
                    {
                        "to": {
                            "statusId": int(workflow.status(t.to).id),
                            "statusName": workflow.status(t.to).name,
                        },
                        "transitionId": int(t.id),
                        "transitionName": t.name,
                    }
                    for t in common
                ],
            }
        )
    return Response.json(HTTPStatus.OK, {"availableTransitions": listed})


@table.route("GET", "bulk/queue/{task}", flavours=CLOUD_ONLY)
def bulk_queue(call: Call) -> Response:
    bulk = bulk_state(call.state)
    task = bulk.tasks.get(call.args["task"])
    if task is None:
        raise ApiError(
            HTTPStatus.NOT_FOUND, ["The task associated with this taskId does not exist"]
        )
    task.seen += 1
    body: Json = {
        "taskId": task.id,
        "submittedBy": {"accountId": task.submitted_by},
        "created": _iso(task.created),
        "started": _iso(task.created),
        "updated": _iso(now()),
        "totalIssueCount": task.total,
    }
    if task.seen < task.polls and task.processed is None:
        body["status"] = "ENQUEUED" if task.seen == 1 and task.polls > 2 else "RUNNING"
        body["progressPercent"] = 100 * task.seen // task.polls
        return Response.json(HTTPStatus.OK, body)
    if task.processed is None:
        _end(task)
    body.update(
        status=task.ending,
        progressPercent=100,
        processedAccessibleIssues=list(task.processed or []),
        failedAccessibleIssues={k: list(v) for k, v in task.failed.items()},
        invalidOrInaccessibleIssueCount=task.invalid,
    )
    return Response.json(HTTPStatus.OK, body)


def _end(task: Task) -> None:
    """Make the task's changes, now that it ends: all of them when it completes, else the
    first `applied`."""
    steps = task.steps if task.ending == "COMPLETE" else task.steps[: task.applied]
    task.processed = []
    for issue, change in steps:
        reason = change()
        if reason:
            task.failed[str(issue.id)] = [reason]
        else:
            task.processed.append(issue.id)


def _iso(jira_time: str) -> str:
    """A date-time as the schema types it (``2024-05-01T09:00:00.000Z``)."""
    moment = dt.datetime.strptime(jira_time, "%Y-%m-%dT%H:%M:%S.%f%z")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@table.route("POST", "issue/bulkfetch", flavours=CLOUD_ONLY)
def bulk_fetch(call: Call) -> Response:
    body = call.body()
    keys = body.get("issueIdsOrKeys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ApiError(HTTPStatus.BAD_REQUEST, ["issueIdsOrKeys must be a list of strings"])
    if len(keys) > MOST_FETCHED:
        raise ApiError(
            HTTPStatus.BAD_REQUEST, [f"You can request at most {MOST_FETCHED} issues at a time."]
        )
    requested = body.get("fields") or ["*navigable"]
    if not isinstance(requested, list):
        raise ApiError(HTTPStatus.BAD_REQUEST, ["'fields' must be a list of field names"])
    fields = call.view.select_fields(
        [p.strip() for f in requested for p in str(f).split(",") if p.strip()], "*navigable"
    )
    expand = body.get("expand") or []
    found = {i.id: i for i in (call.state.find_issue(k) for k in keys) if i is not None}
    issues = [call.view.issue(found[i], fields, set(map(str, expand))) for i in sorted(found)]
    return Response.json(HTTPStatus.OK, {"issues": issues, "issueErrors": []})
