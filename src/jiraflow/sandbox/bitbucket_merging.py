"""Merging in the Bitbucket sandbox beyond the plain POST: strategies, checks and tasks.

Importing this module registers its routes on the tables of bitbucket_cloud_api and
bitbucket_dc_api (bitbucket.py imports it before it reads them):

* Cloud ``POST .../pullrequests/{id}/merge`` (the only merge route): the strategy defaults
  to the destination branch's ``default_merge_strategy``; only the repository's enabled
  strategies are taken; merge restrictions set by a test (``MergeRules.restrictions``) refuse
  with a 400 naming each reason (the wording is the sandbox's: Cloud's merge checks say it
  their own way); ``?async=true`` (or a "slow" merge, ``MergeRules.polls``) answers 202 with
  ``Location: .../merge/task-status/{task_id}``, which answers ``{"task_status": "PENDING"}``
  ``polls`` times, then ``{"task_status": "SUCCESS", "merge_result": <pullrequest>}``.
* Cloud ``GET .../pullrequests/{id}`` shows the destination branch's ``merge_strategies``
  and ``default_merge_strategy`` when ``fields`` asks for them (``+destination.branch.*``;
  no captured answer has them without).
* Data Center ``GET .../pull-requests/{id}/merge`` (RestPullRequestMergeability: canMerge,
  conflicted, outcome, vetoes of summaryMessage/detailedMessage), ``GET .../settings/
  pull-requests`` (mergeConfig with defaultStrategy and strategies), and ``POST .../merge``
  (the only merge route) refused with PullRequestMergeVetoedException while vetoes are set,
  or while a required build (bitbucket_builds' required-builds merge checks) of the head has
  not succeeded.
* Data Center rescoping: a push to an open pull request's source branch raises its version
  (as the real server does), so a merge at the version read before the push is a 409
  PullRequestOutOfDateException.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import itertools
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from jiraflow.sandbox import bitbucket_cloud_api as cloud_api
from jiraflow.sandbox import bitbucket_dc_api as dc_api
from jiraflow.sandbox.bitbucket_errors import cloud_refusal, dc_error
from jiraflow.sandbox.bitbucket_git import refs_of
from jiraflow.sandbox.bitbucket_http import ApiError, Call, Handler, RouteTable, field_error
from jiraflow.sandbox.bitbucket_model import Flavour, Json, PullRequest, Repository
from jiraflow.sandbox.bitbucket_pulls import Refusal, has_conflicts, merge_pull_request
from jiraflow.sandbox.server import Response

#: What each flavour enables on a new repository, in its own words, the first the default.
DEFAULT_STRATEGIES: dict[Flavour, tuple[str, ...]] = {
    "cloud": ("merge_commit", "squash", "fast_forward"),
    "datacenter": ("no-ff", "ff", "ff-only", "squash"),
}
DC_STRATEGY_NAMES = {
    "no-ff": ("Merge commit", "--no-ff"),
    "ff": ("Fast-forward", "--ff"),
    "ff-only": ("Fast-forward only", "--ff-only"),
    "squash": ("Squash", "--squash"),
    "squash-ff-only": ("Squash, fast-forward only", "--squash --ff-only"),
    "rebase-no-ff": ("Rebase and merge", "--rebase --no-ff"),
    "rebase-ff-only": ("Rebase, fast-forward", "--rebase --ff-only"),
}
_TASKS = itertools.count(1)


@dataclass
class MergeRules:
    """A repository's merge settings and the checks a test sets (Repository.merge_rules)."""

    flavour: Flavour
    default: str = ""  # the default strategy, in the flavour's words ("": the first enabled)
    enabled: list[str] = field(default_factory=list)  # ([]: the flavour's DEFAULT_STRATEGIES)
    #: Data Center vetoes (summaryMessage, detailedMessage); Cloud merge restrictions
    #: (the reason, ""): while any is set, merges are refused naming each
    blockers: list[tuple[str, str]] = field(default_factory=list)
    polls: int = 0  # Cloud: PENDING answers of a merge task before SUCCESS (>0: always a task)
    task_location: str | None = None  # Cloud: the Location to send instead of the task's
    tasks: dict[str, list[Any]] = field(default_factory=dict)  # task id -> [polls left, pr]

    @property
    def strategies(self) -> list[str]:
        return list(self.enabled or DEFAULT_STRATEGIES[self.flavour])

    @property
    def default_strategy(self) -> str:
        return self.default or self.strategies[0]


def rules_of(repository: Repository, flavour: Flavour) -> MergeRules:
    if not isinstance(repository.merge_rules, MergeRules):
        repository.merge_rules = MergeRules(flavour)
    rules: MergeRules = repository.merge_rules
    return rules


def cloud_branch_fields(repository: Repository) -> Json:
    """The destination branch's members of a whole Cloud pull request."""
    rules = rules_of(repository, "cloud")
    return {"merge_strategies": rules.strategies, "default_merge_strategy": rules.default_strategy}


def rescope(repository: Repository, pr: PullRequest) -> None:
    """Data Center: a new tip of an open pull request's source raises its version."""
    if not pr.is_open:
        return
    tip = refs_of(repository).tip(pr.source)
    if tip is not None and tip != pr.source_commit:
        pr.source_commit = tip
        pr.version += 1


# == Cloud ======================================================================================


def cloud_merge(call: Call) -> Response:
    repo, pr = cloud_api.pull_request(call)
    rules = rules_of(repo, "cloud")
    body = call.body(optional=True)
    name = body.get("merge_strategy") or rules.default_strategy
    known = (*cloud_api.MERGE_STRATEGIES, *cloud_api.OTHER_STRATEGIES)
    if name not in rules.strategies and name in known:
        raise field_error(
            "merge_strategy",
            f"{name} is not an allowed merge strategy for pull requests targeting "
            f"{pr.destination}.",
        )
    if name in cloud_api.OTHER_STRATEGIES:  # enabled, but not something the sandbox can do
        raise field_error("merge_strategy", f"the sandbox cannot merge with {name}.")
    if name not in cloud_api.MERGE_STRATEGIES:
        raise field_error("merge_strategy", f"{name!r} is not a valid merge strategy.")
    if rules.blockers and pr.is_open:
        raise _CloudBlocked([reason for reason, _ in rules.blockers])
    close = body.get("close_source_branch", pr.close_source_branch)
    message = body.get("message")
    try:
        merge_pull_request(
            call.state,
            repo,
            pr,
            strategy=cloud_api.MERGE_STRATEGIES[name],
            by=call.me,
            flavour="cloud",
            message=message if isinstance(message, str) and message else None,
            close_source_branch=close is True,
        )
    except Refusal as refusal:
        raise cloud_refusal(refusal) from None
    asked_async = (call.request.param("async") or "").lower() == "true"
    if not asked_async and rules.polls <= 0:
        return cloud_api.ok(cloud_api.view(call).pull_request(repo, pr, full_merge_hash=True))
    task = f"{next(_TASKS):08x}-sandbox-merge-task"
    rules.tasks[task] = [rules.polls, pr.id]
    location = rules.task_location or (
        f"{call.base}/2.0/repositories/{repo.full_name}/pullrequests/{pr.id}"
        f"/merge/task-status/{task}"
    )
    return Response(HTTPStatus.ACCEPTED, None, (("Location", location),))


class _CloudBlocked(ApiError):
    """A 400 naming each merge restriction: ``error.message`` (the one, or how many) and
    ``error.detail`` (each on its own line)."""

    def __init__(self, reasons: list[str]) -> None:
        first = reasons[0] if len(reasons) == 1 else f"{len(reasons)} merge checks failed"
        super().__init__(HTTPStatus.BAD_REQUEST, first)
        self.reasons = reasons

    def body(self, flavour: Flavour) -> Json:
        body = super().body(flavour)
        body["error"]["detail"] = "\n".join(self.reasons)
        return body


def cloud_task_status(call: Call) -> Response:
    repo, pr = cloud_api.pull_request(call)
    rules = rules_of(repo, "cloud")
    task = rules.tasks.get(call.args["task_id"])
    if task is None or task[1] != pr.id:
        raise ApiError(HTTPStatus.NOT_FOUND, f"Task {call.args['task_id']} not found")
    if task[0] > 0:
        task[0] -= 1
        return cloud_api.ok({"task_status": "PENDING"})
    merged = cloud_api.view(call).pull_request(repo, pr, full_merge_hash=True)
    return cloud_api.ok({"task_status": "SUCCESS", "merge_result": merged})


def _with_strategies(original: Handler) -> Handler:
    """Cloud's GET of a pull request, with the destination's strategies when asked."""

    def read(call: Call) -> Response:
        response = original(call)
        fields = call.request.param("fields") or ""
        if response.status != HTTPStatus.OK or "destination.branch" not in fields:
            return response
        repo, _ = cloud_api.pull_request(call)
        body = json.loads(response.body or b"{}")
        body["destination"]["branch"].update(cloud_branch_fields(repo))
        return cloud_api.ok(body)

    return read


# == Data Center ================================================================================


def dc_mergeability(call: Call) -> Response:
    repo, pr = dc_api.pull_request(call)
    rescope(repo, pr)
    if not pr.is_open:
        raise dc_error(
            HTTPStatus.CONFLICT,
            "pull.IllegalPullRequestStateException",
            f"The pull request is already {pr.state.lower()}.",
        )
    conflicted = has_conflicts(repo, pr)
    vetoes = _vetoes(repo, pr)
    return dc_api.ok(
        {
            "canMerge": not conflicted and not vetoes,
            "conflicted": conflicted,
            "outcome": "CONFLICTED" if conflicted else "CLEAN",
            "vetoes": vetoes,
        }
    )


def _vetoes(repo: Repository, pr: PullRequest) -> list[Json]:
    rules = rules_of(repo, "datacenter")
    vetoes = [{"summaryMessage": s, "detailedMessage": d or s} for s, d in rules.blockers]
    missing = _required_builds_missing(repo, pr)
    if missing:  # the wording is close to Data Center's, not copied from it
        vetoes.append(
            {
                "summaryMessage": "Not all required builds are successful yet",
                "detailedMessage": f"You still need {len(missing)} successful "
                f"build{'s' if len(missing) > 1 else ''} ({', '.join(missing)}) before this "
                "pull request can be merged.",
            }
        )
    return vetoes


def _required_builds_missing(repo: Repository, pr: PullRequest) -> list[str]:
    """The keys of the required-builds merge checks (bitbucket_builds) for the pull
    request's destination that its head has no successful build of."""
    from jiraflow.sandbox.bitbucket_builds import book, builds_of

    keys = [
        key
        for condition in book(repo).required
        if condition.matcher is None or fnmatch.fnmatchcase(pr.destination, condition.matcher)
        for key in condition.keys
    ]
    if not keys or not pr.is_open:
        return []
    head = refs_of(repo).tip(pr.source) or pr.source_commit
    passed = {b.key for b in builds_of(repo, head) if b.state == "SUCCESSFUL"}
    return [key for key in dict.fromkeys(keys) if key not in passed]


def _dc_strategy(strategy_id: str, enabled: bool) -> Json:
    name, flag = DC_STRATEGY_NAMES.get(strategy_id, (strategy_id, ""))
    return {
        "description": f"{name} ({flag})" if flag else name,
        "enabled": enabled,
        "flag": flag,
        "id": strategy_id,
        "name": name,
    }


def dc_settings(call: Call) -> Response:
    repo = dc_api.repository(call)
    rules = rules_of(repo, "datacenter")
    enabled = set(rules.strategies)
    return dc_api.ok(
        {
            "mergeConfig": {
                "defaultStrategy": _dc_strategy(rules.default_strategy, True),
                "strategies": [_dc_strategy(s, s in enabled) for s in DC_STRATEGY_NAMES],
                "type": "REPOSITORY",
            },
            "requiredAllApprovers": False,
            "requiredAllTasksComplete": False,
            "requiredApprovers": {"count": "0", "enabled": False},
            "requiredSuccessfulBuilds": {"count": "0", "enabled": False},
        }
    )


def dc_merge(call: Call) -> Response:
    """The plain merge, after a rescope, the version, the vetoes and the enabled strategies."""
    repo, pr = dc_api.pull_request(call)
    rules = rules_of(repo, "datacenter")
    rescope(repo, pr)
    body = call.body(optional=True)
    dc_api.check_version(call, pr, body)
    vetoes = _vetoes(repo, pr)
    if vetoes and pr.is_open:
        raise dc_error(
            HTTPStatus.CONFLICT,
            "pull.PullRequestMergeVetoedException",
            "Merging the pull request has been vetoed.",
            conflicted=False,
            vetoes=vetoes,
        )
    strategy_id = body.get("strategyId") or rules.default_strategy
    if strategy_id not in rules.strategies or strategy_id not in dc_api.STRATEGIES:
        raise dc_error(  # the wording is a guess
            HTTPStatus.CONFLICT,
            "pull.PullRequestMergeVetoedException",
            f"The merge strategy '{strategy_id}' is not enabled for this repository.",
            conflicted=False,
            vetoes=[],
        )
    message = body.get("message")
    try:
        merge_pull_request(
            call.state,
            repo,
            pr,
            strategy=dc_api.STRATEGIES[strategy_id],
            by=call.me,
            flavour="datacenter",
            message=message if isinstance(message, str) and message else None,
        )
    except Refusal as refusal:
        raise dc_api.refused(refusal, call, repo) from None
    return dc_api.ok(dc_api.view(call).pull_request(repo, pr))


def _rescoping(original: Handler) -> Handler:
    """A read of pull requests that first rescopes the open ones of the repository."""

    def read(call: Call) -> Response:
        repo = dc_api.repository(call)
        for pr in list(repo.pull_requests.values()):
            if str(pr.id) == call.args.get("pull_request_id", str(pr.id)):
                rescope(repo, pr)
        return original(call)

    return read


# == registration ===============================================================================


def _replace(table: RouteTable, method: str, handler: Handler, wrap: Any) -> None:
    for n, route in enumerate(table.routes):
        if route.method == method and route.handler is handler:
            table.routes[n] = dataclasses.replace(route, handler=wrap(handler))
            return
    raise LookupError(f"no {method} route for {handler.__name__}")


cloud_api.route("POST", f"{cloud_api.PULL}/merge")(cloud_merge)
cloud_api.table.route("GET", f"{cloud_api.PULL}/merge/task-status/{{task_id}}", "2.0")(
    cloud_task_status
)
_replace(cloud_api.table, "GET", cloud_api.get_pull_request, _with_strategies)
dc_api.table.route("POST", f"{dc_api.PULL}/merge")(dc_merge)
_replace(dc_api.table, "GET", dc_api.get_pull_request, _rescoping)
_replace(dc_api.table, "GET", dc_api.list_pull_requests, _rescoping)
dc_api.table.route("GET", f"{dc_api.PULL}/merge")(dc_mergeability)
dc_api.table.route("GET", f"{dc_api.REPO}/settings/pull-requests")(dc_settings)
