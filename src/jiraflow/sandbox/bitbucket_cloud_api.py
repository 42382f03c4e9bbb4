"""The Bitbucket Cloud REST 2.0 endpoints of the sandbox (under ``/2.0``).

Behaviour and wording follow what Cloud does (checked against live observations published with
other clients; the rest is marked as the sandbox's guess):

* a second POST for an open pull request with the same source and destination answers 200 with
  the existing pull request, unchanged (real Cloud also overwrites its title; the sandbox does
  not);
* the author among the reviewers, or an unknown reviewer, is a 400 with ``error.fields.reviewers``;
  a missing branch is a 400 ``source: branch not found: NAME``;
* ``GET .../pullrequests`` defaults to OPEN and takes ``state`` repeatedly (as the spec
  documents). Whether ``q`` alone lifts the OPEN-only default is reported both ways, so it is a
  switch (``BitbucketSandbox(q_lifts_state_default=...)``): True, a BBQL query sees every state
  and ``state`` is ignored beside it; False, the states are those of ``state`` (OPEN without
  it) and ``q`` filters within them. ``pagelen`` is 10 by default and at most 50 (more is a 400
  "Invalid pagelen"); ``next`` is an absolute URL;
* merge failures (conflicts, impossible fast-forward, closed pull request) are 400s.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from jiraflow.sandbox import bitbucket_bbql as bbql
from jiraflow.sandbox.bitbucket_cloud_views import CloudView
from jiraflow.sandbox.bitbucket_errors import cloud_refusal
from jiraflow.sandbox.bitbucket_http import CLOUD_NAMESPACE, ApiError, Call, RouteTable, field_error
from jiraflow.sandbox.bitbucket_model import Account, Json, PullRequest, Repository
from jiraflow.sandbox.bitbucket_pulls import (
    NewPullRequest,
    Refusal,
    Strategy,
    Verdict,
    decline_pull_request,
    open_pull_request,
    set_verdict,
)
from jiraflow.sandbox.server import Response

table = RouteTable()
REPO = "repositories/{workspace}/{repo_slug}"
PULL = f"{REPO}/pullrequests/{{pull_request_id}}"
STATES = ("OPEN", "MERGED", "DECLINED", "SUPERSEDED")
MERGE_STRATEGIES: dict[str, Strategy] = {
    "merge_commit": "merge_commit",
    "squash": "squash",
    "fast_forward": "fast_forward",
}
#: Strategies Cloud knows but that are not enabled on the sandbox's repositories.
OTHER_STRATEGIES = ("squash_fast_forward", "rebase_fast_forward", "rebase_merge")


def route(method: str, path: str) -> Callable[[Callable[[Call], Response]], Any]:
    return table.route(method, path, CLOUD_NAMESPACE)


def view(call: Call) -> CloudView:
    return CloudView(call.base, call.state)


def ok(payload: object, status: int = HTTPStatus.OK) -> Response:
    return Response.json(status, payload)


def repository(call: Call) -> Repository:
    workspace, slug = call.args["workspace"], call.args["repo_slug"]
    found = call.state.repository(workspace, slug)
    if found is None:
        raise ApiError(HTTPStatus.NOT_FOUND, f"Repository {workspace}/{slug} not found")
    scope = call.me.bot_repository
    if scope is not None and scope.lower() != found.full_name.lower():
        # an informed guess: a repository access token gets a 403 for any other repository
        raise ApiError(HTTPStatus.FORBIDDEN, f"Access denied: this access token is for {scope}.")
    return found


def pull_request(call: Call) -> tuple[Repository, PullRequest]:
    repo = repository(call)
    raw = call.args["pull_request_id"]
    pr = repo.pull_requests.get(int(raw)) if raw.isdigit() else None
    if pr is None:
        raise ApiError(HTTPStatus.NOT_FOUND, f"Pull request #{raw} not found in {repo.full_name}")
    return repo, pr


def page(call: Call, values: list[Json], *, maximum: int = 50) -> Json:
    """Cloud's page: ``{pagelen, size, values, page, next?, previous?}`` with absolute links."""
    pagelen = call.int_param("pagelen", 10)
    number = call.int_param("page", 1)
    if not 1 <= pagelen <= maximum:
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid pagelen")
    if number < 1:
        raise ApiError(HTTPStatus.BAD_REQUEST, "Invalid page")
    start = (number - 1) * pagelen
    body: Json = {
        "pagelen": pagelen,
        "size": len(values),
        "values": values[start : start + pagelen],
        "page": number,
    }

    def link(to: int) -> str:
        query = {k: v for k, v in call.request.query.items() if k != "page"}
        return f"{call.base}{call.request.path}?{urlencode({**query, 'page': [str(to)]}, True)}"

    if start + pagelen < len(values):
        body["next"] = link(number + 1)
    if number > 1:
        body["previous"] = link(number - 1)
    return body


# == people =====================================================================================


@route("GET", "user")
def get_user(call: Call) -> Response:
    return ok(view(call).me(call.me))


@route("GET", "users/{selected_user}")
def get_account(call: Call) -> Response:
    wanted = call.args["selected_user"]
    for account in call.state.accounts.values():
        if wanted in (account.uuid, account.account_id):
            return ok(view(call).account(account))
    raise ApiError(HTTPStatus.NOT_FOUND, f"User {wanted} not found")


# == repositories ===============================================================================


@route("GET", REPO)
def get_repository(call: Call) -> Response:
    return ok(view(call).repository(repository(call)))


def _default_reviewers(call: Call) -> list[Account]:
    return [call.state.account(name) for name in repository(call).default_reviewers]


@route("GET", f"{REPO}/default-reviewers")
def get_default_reviewers(call: Call) -> Response:
    users = [view(call).account(a) for a in _default_reviewers(call)]
    return ok(page(call, users, maximum=100))


@route("GET", f"{REPO}/effective-default-reviewers")
def get_effective_default_reviewers(call: Call) -> Response:
    entries = [
        {"user": view(call).account(a), "reviewer_type": "repository", "type": "default_reviewer"}
        for a in _default_reviewers(call)
    ]
    return ok(page(call, entries, maximum=100))


# == pull requests ==============================================================================


def _fields(pr: PullRequest, call: Call) -> Callable[[str], list[Any]]:
    accounts = call.state.accounts

    def people(names: list[str], attribute: str) -> list[Any]:
        return [getattr(accounts[name], attribute) for name in names]

    lookup: dict[str, Callable[[], list[Any]]] = {
        "id": lambda: [pr.id],
        "title": lambda: [pr.title],
        "description": lambda: [pr.description],
        "state": lambda: [pr.state],
        "draft": lambda: [pr.draft],
        "source.branch.name": lambda: [pr.source],
        "destination.branch.name": lambda: [pr.destination],
        "author.uuid": lambda: people([pr.author], "uuid"),
        "author.account_id": lambda: people([pr.author], "account_id"),
        "author.nickname": lambda: people([pr.author], "nickname"),
        "reviewers.uuid": lambda: people(pr.reviewers, "uuid"),
        "reviewers.account_id": lambda: people(pr.reviewers, "account_id"),
        "reviewers.nickname": lambda: people(pr.reviewers, "nickname"),
    }
    return lambda name: lookup[name]()


QUERY_FIELDS = frozenset(
    {
        "id",
        "title",
        "description",
        "state",
        "draft",
        "source.branch.name",
        "destination.branch.name",
        "author.uuid",
        "author.account_id",
        "author.nickname",
        "reviewers.uuid",
        "reviewers.account_id",
        "reviewers.nickname",
    }
)
SORT_KEYS: dict[str, Callable[[PullRequest], Any]] = {
    "id": lambda pr: pr.id,
    "created_on": lambda pr: (pr.created, pr.id),
    "updated_on": lambda pr: (pr.updated, pr.id),
}


@route("GET", f"{REPO}/pullrequests")
def list_pull_requests(call: Call) -> Response:
    repo = repository(call)
    query = call.request.param("q")
    candidates = list(repo.pull_requests.values())
    if query:
        try:
            predicate = bbql.parse(query, QUERY_FIELDS)
        except bbql.QueryError as exc:
            raise ApiError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        candidates = [pr for pr in candidates if predicate(_fields(pr, call))]
    if not query or not call.state.q_lifts_state_default:
        states = [s.upper() for s in call.request.params("state")] or ["OPEN"]
        unknown = [s for s in states if s not in STATES]
        if unknown:
            raise field_error("state", f"{unknown[0]} is not a valid pull request state")
        candidates = [pr for pr in candidates if pr.state in states]
    sort = call.request.param("sort") or "-updated_on"
    key = SORT_KEYS.get(sort.lstrip("-"))
    if key is None:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid sort field: {sort}")
    candidates.sort(key=key, reverse=sort.startswith("-"))
    fields = call.request.param("fields") or ""
    people = "+values.reviewers" in fields or "+values.participants" in fields
    values = [
        view(call).pull_request(repo, pr, full=False, with_people=people) for pr in candidates
    ]
    return ok(page(call, values))


def _branch_name(body: Json, side: str) -> str | None:
    endpoint = body.get(side)
    branch = endpoint.get("branch") if isinstance(endpoint, dict) else None
    name = branch.get("name") if isinstance(branch, dict) else None
    return name if isinstance(name, str) and name else None


def _reviewers(call: Call, raw: Any) -> tuple[list[Account], list[str]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise field_error("reviewers", "Malformed reviewers list")
    found: list[Account] = []
    unknown: list[str] = []
    for entry in raw:
        wanted = entry.get("uuid") or entry.get("account_id") if isinstance(entry, dict) else None
        match = next(
            (
                a
                for a in call.state.accounts.values()
                if a.bot_repository is None and wanted in (a.uuid, a.account_id)
            ),
            None,
        )
        if match is None:
            unknown.append(str(wanted or entry))
        else:
            found.append(match)
    return found, unknown


@route("POST", f"{REPO}/pullrequests")
def create_pull_request(call: Call) -> Response:
    repo = repository(call)
    body = call.body()
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise field_error("title", "This field is required.")
    source = _branch_name(body, "source")
    if source is None:
        raise field_error("source", "This field is required.")
    source_repo = (body.get("source") or {}).get("repository")
    if isinstance(source_repo, dict) and source_repo.get("full_name") not in (
        None,
        repo.full_name,
    ):
        raise field_error("source", "Pull requests from forks are not supported by the sandbox.")
    reviewers, unknown = _reviewers(call, body.get("reviewers"))
    description = body.get("description")
    new = NewPullRequest(
        source=source,
        destination=_branch_name(body, "destination") or repo.main_branch,
        title=title,
        author=call.me,
        description=description if isinstance(description, str) else "",
        reviewers=tuple(reviewers),
        unknown_reviewers=tuple(unknown),
        draft=body.get("draft") is True,
        close_source_branch=body.get("close_source_branch") is True,
    )
    try:
        pr = open_pull_request(call.state, repo, new)
    except Refusal as refusal:
        if refusal.code == "duplicate":
            return ok(view(call).pull_request(repo, refusal.details["existing"]))
        raise cloud_refusal(refusal) from None
    return ok(view(call).pull_request(repo, pr), HTTPStatus.CREATED)


@route("GET", PULL)
def get_pull_request(call: Call) -> Response:
    repo, pr = pull_request(call)
    return ok(view(call).pull_request(repo, pr))


@route("POST", f"{PULL}/decline")
def decline(call: Call) -> Response:
    repo, pr = pull_request(call)
    message = call.body(optional=True).get("message")
    try:
        decline_pull_request(
            call.state, repo, pr, call.me, message if isinstance(message, str) else ""
        )
    except Refusal as refusal:
        raise cloud_refusal(refusal) from None
    return ok(view(call).pull_request(repo, pr))


def _verdict(call: Call, verdict: Verdict, *, given: bool) -> Response:
    repo, pr = pull_request(call)
    if given and pr.is_open and pr.verdicts.get(call.me.name) == verdict:
        # Cloud answers a second approval with 409 (as clients record); the wording is a guess
        said = "approved" if verdict == "approved" else "requested changes on"
        raise ApiError(HTTPStatus.CONFLICT, f"You already {said} this pull request.")
    try:
        set_verdict(call.state, repo, pr, call.me, verdict, given=given)
    except Refusal as refusal:
        raise cloud_refusal(refusal) from None
    if not given:
        return Response.empty()
    return ok(view(call).participant(pr, call.me.name))


@route("POST", f"{PULL}/approve")
def approve(call: Call) -> Response:
    return _verdict(call, "approved", given=True)


@route("DELETE", f"{PULL}/approve")
def unapprove(call: Call) -> Response:
    return _verdict(call, "approved", given=False)


@route("POST", f"{PULL}/request-changes")
def request_changes(call: Call) -> Response:
    return _verdict(call, "changes_requested", given=True)


@route("DELETE", f"{PULL}/request-changes")
def withdraw_request_changes(call: Call) -> Response:
    return _verdict(call, "changes_requested", given=False)
