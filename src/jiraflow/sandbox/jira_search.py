"""Jira sandbox search: the JQL glue and the two search APIs.

Cloud: ``/search/jql`` (GET and POST) returns only issue ids unless fields are asked for, pages
with an opaque ``nextPageToken`` and ``isLast``, has no total, and refuses unbounded queries;
the old ``/search`` answers 410 Gone there. Data Center: ``/search`` (GET and POST) pages with
``startAt``/``maxResults`` and reports ``total``; its ``validateQuery`` is a boolean (false:
what would be refused comes back as ``warningMessages``), and its POST body is Jackson's
SearchRequestBean, which refuses keys it does not have and a non-boolean validateQuery.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from jiraflow.sandbox import jql
from jiraflow.sandbox.jira_http import ApiError, Call, RouteTable, bad_request
from jiraflow.sandbox.jira_model import (
    CATEGORIES,
    ISSUE_TYPES,
    PROJECTS,
    RESOLUTIONS,
    Flavour,
    Issue,
    JiraState,
    Json,
    issue_type_by_name,
    project_by_key,
    resolution_by_name,
)
from jiraflow.sandbox.server import Response

SEARCH_GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED_JQL = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
BAD_PAGE_TOKEN = "The provided next page token is invalid or expired."

table = RouteTable()


@dataclass(frozen=True)
class IssueJqlValues:
    """An issue as the JQL evaluator sees it: its values per field, lower-cased."""

    issue: Issue
    state: JiraState
    flavour: Flavour

    def values(self, field: str) -> list[str]:
        issue, state = self.issue, self.state
        project = project_by_key(issue.project)
        status = project.workflow.status(issue.status)
        category = status.category
        by_field: dict[str, Callable[[], Iterable[str]]] = {
            "key": lambda: [issue.key, str(issue.id)],
            "project": lambda: [project.key, project.name, project.id],
            "status": lambda: [status.name, status.id],
            "statusCategory": lambda: [category.name, category.key, str(category.id)],
            "assignee": lambda: self._user(issue.assignee),
            "reporter": lambda: self._user(issue.reporter),
            "issuetype": lambda: [issue.type, issue_type_by_name(issue.type).id],
            "resolution": lambda: (
                [issue.resolution, resolution_by_name(issue.resolution).id]
                if issue.resolution
                else []
            ),
            "fixVersion": lambda: [
                value
                for vid in issue.fix_versions
                for value in (state.versions[vid].name, str(vid))
            ],
            "summary": lambda: [issue.summary],
            "description": lambda: [issue.description] if issue.description else [],
            "text": lambda: [issue.summary, issue.description, *(c.body for c in issue.comments)],
            "labels": lambda: issue.labels,
            "created": lambda: [issue.created],
            "updated": lambda: [issue.updated],
        }
        return [value.lower() for value in by_field[field]()]

    def _user(self, name: str | None) -> list[str]:
        return self.state.users[name].aliases(self.flavour) if name else []


def known_values(state: JiraState, flavour: Flavour) -> Callable[[str], set[str] | None]:
    """The values that exist per JQL field, for Jira's "does not exist" check."""
    catalogue: dict[str, Callable[[], Iterable[str]]] = {
        "key": lambda: [*state.issues, *(str(i.id) for i in state.issues.values())],
        "project": lambda: [v for p in PROJECTS for v in (p.key, p.name, p.id)],
        "status": lambda: [v for p in PROJECTS for s in p.workflow.statuses
                           for v in (s.name, s.id)],
        "statusCategory": lambda: [v for c in CATEGORIES.values()
                                   for v in (c.name, c.key, str(c.id))],
        "assignee": lambda: [a for u in state.users.values() for a in u.aliases(flavour)],
        "reporter": lambda: [a for u in state.users.values() for a in u.aliases(flavour)],
        "issuetype": lambda: [v for t in ISSUE_TYPES for v in (t.name, t.id)],
        "resolution": lambda: [v for r in RESOLUTIONS for v in (r.name, r.id)],
        "fixVersion": lambda: [v for x in state.versions.values() for v in (x.name, str(x.id))],
    }  # fmt: skip

    def known(field: str) -> set[str] | None:
        values = catalogue.get(field)
        return None if values is None else {value.lower() for value in values()}

    return known


def run_jql(call: Call, text: str, warnings: list[str] | None = None) -> list[Issue]:
    """Parse, check and run a query; the issues come back in the query's order. With a
    ``warnings`` list, values that do not exist are reported there instead of refused."""
    problems: list[str] = []  # Jira names every value that does not exist, not just the first
    try:
        query = jql.parse(text)
        jql.check_values(query, known_values(call.state, call.flavour), problems)
    except jql.JqlError as error:
        raise bad_request(str(error)) from None
    if problems and warnings is None:
        raise ApiError(HTTPStatus.BAD_REQUEST, problems)
    if warnings is not None:
        warnings += problems
    if call.cloud and not query.bounded:
        raise bad_request(UNBOUNDED_JQL)
    me = call.user.aliases(call.flavour)
    issues = [
        issue
        for issue in call.state.issues.values()
        if query.matches(IssueJqlValues(issue, call.state, call.flavour), me)
    ]
    issues.sort(key=lambda i: (i.project, i.number), reverse=not query.order_by)  # default: newest
    for sort in reversed(query.order_by):  # stable sorts, last key first
        issues.sort(key=functools.partial(_sort_value, call, sort.field), reverse=sort.descending)
    return issues


def _sort_value(call: Call, field: str, issue: Issue) -> tuple[Any, ...]:
    if field == "key":
        return (issue.project, issue.number)
    values = IssueJqlValues(issue, call.state, call.flavour).values(field)
    return (not values, values[0] if values else "")


#: The keys of Data Center's SearchRequestBean; Jackson refuses any other (no nextPageToken).
DC_SEARCH_KEYS = frozenset({"jql", "startAt", "maxResults", "fields", "expand", "validateQuery"})


@dataclass(frozen=True)
class SearchArguments:
    jql: str
    fields: list[str]
    expand: set[str]
    max_results: int
    start_at: int
    next_page_token: str | None
    validate: bool = True  # Data Center's validateQuery, a boolean there

    @classmethod
    def of(cls, call: Call) -> SearchArguments:
        """From the query string (GET) or the JSON body (POST)."""
        request = call.request
        if request.method == "GET":
            return cls(
                request.param("jql") or "",
                request.params("fields"),
                set(request.params("expand")),
                call.int_param("maxResults", 50),
                call.int_param("startAt", 0),
                request.param("nextPageToken"),
                # a Boolean query parameter: Jersey takes Boolean.valueOf, so anything but
                # "true" means false (validateQuery=warn searches without validating)
                (request.param("validateQuery") or "true").lower() == "true",
            )
        body = call.body()
        if not call.cloud:
            _check_datacenter_body(body)
        fields, expand = body.get("fields") or [], body.get("expand") or []
        if not isinstance(fields, list):
            raise bad_request("'fields' must be a list of field names")
        if isinstance(expand, str):
            expand = expand.split(",")
        try:
            max_results, start_at = int(body.get("maxResults", 50)), int(body.get("startAt", 0))
        except (TypeError, ValueError):
            raise bad_request("'maxResults' and 'startAt' must be integers") from None
        validate = body.get("validateQuery")
        return cls(
            str(body.get("jql") or ""),
            [part.strip() for f in fields for part in str(f).split(",") if part.strip()],
            {str(e).strip() for e in expand},
            max_results,
            start_at,
            body.get("nextPageToken"),
            True if validate is None else str(validate).lower() == "true",
        )


def _check_datacenter_body(body: Json) -> None:
    """What Jackson refuses when it reads Data Center's SearchRequestBean: keys it does not
    have (Cloud's nextPageToken, say), a validateQuery that is no boolean (Cloud's
    "strict"/"warn"/"none"), and a string where a list of strings goes."""
    bean = "(Class com.atlassian.jira.rest.v2.search.SearchRequestBean)"
    unknown = sorted(set(body) - DC_SEARCH_KEYS)
    if unknown:
        raise bad_request(f'Unrecognized field "{unknown[0]}" {bean}, not marked as ignorable')
    validate = body.get("validateQuery")
    if isinstance(validate, str) and validate.lower() not in ("true", "false"):
        raise bad_request(
            f'Can not deserialize value of type java.lang.Boolean from String "{validate}": '
            'only "true" or "false" recognized'
        )
    if validate is not None and not isinstance(validate, bool | str):
        raise bad_request("Can not deserialize instance of java.lang.Boolean")
    for name in ("fields", "expand"):
        if isinstance(body.get(name), str):
            raise bad_request(
                f"Can not deserialize instance of java.util.ArrayList out of VALUE_STRING token "
                f'(through reference chain: {bean[7:-1]}["{name}"])'
            )


def _page_token(offset: int, query: str) -> str:
    payload = {"offset": offset, "jql": hashlib.sha1(query.encode()).hexdigest()[:12]}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode("ascii").rstrip("=")


def _token_offset(token: str, query: str) -> int:
    """The offset a token stands for; a token from another query is refused."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if payload["jql"] == hashlib.sha1(query.encode()).hexdigest()[:12]:
            return int(payload["offset"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    raise bad_request(BAD_PAGE_TOKEN)


@table.route("GET", "search/jql", flavours=("cloud",))
@table.route("POST", "search/jql", flavours=("cloud",))
def search_jql(call: Call) -> Response:
    """Cloud's enhanced search: ids only by default, ``nextPageToken`` paging, no total."""
    args = SearchArguments.of(call)
    issues = run_jql(call, args.jql)
    fields = call.view.select_fields(args.fields, "id") if args.fields else []
    ids_only = not fields and set(args.fields) <= {"id"}
    limit = min(max(args.max_results, 1), 5000 if ids_only else 100)
    start = _token_offset(args.next_page_token, args.jql) if args.next_page_token else 0
    page = issues[start : start + limit]
    body: Json = {
        "issues": [
            {"id": str(issue.id)} if ids_only else call.view.issue(issue, fields, args.expand)
            for issue in page
        ]
    }
    if start + limit < len(issues):
        body["nextPageToken"] = _page_token(start + limit, args.jql)
    body["isLast"] = start + limit >= len(issues)
    return Response.json(HTTPStatus.OK, body)


@table.route("GET", "search")
@table.route("POST", "search")
def search(call: Call) -> Response:
    """Data Center's search (startAt, total); on Cloud the endpoint is gone (410)."""
    if call.cloud:
        raise ApiError(HTTPStatus.GONE, [SEARCH_GONE])
    args = SearchArguments.of(call)
    warnings: list[str] | None = None if args.validate else []
    issues = run_jql(call, args.jql, warnings)
    start, limit = max(args.start_at, 0), min(max(args.max_results, 0), 1000)
    fields = call.view.select_fields(args.fields, "*navigable")
    page = issues[start : start + limit]
    return Response.json(
        HTTPStatus.OK,
        {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": limit,
            "total": len(issues),
            "issues": [call.view.issue(issue, fields, args.expand) for issue in page],
            # validateQuery=false: what strict validation would refuse, as warnings
            **({"warningMessages": warnings} if warnings else {}),
        },
    )
