"""Jira sandbox routes of an issue's work logs: list them (paged) and log work.

As real Jira: ``timeSpent`` is read with the site's working day and week (8 hours, 5 days)
and answered normalised ("90m" -> "1h 30m") with ``timeSpentSeconds``; a duration Jira cannot
read is a 400 naming ``timeLogged``; ``started`` must be Jira's own timestamp format
(``2024-05-01T09:00:00.000+0000``); the comment is ADF on ``/rest/api/3`` and a string on 2;
the author is named by accountId on Cloud and by name/key on Data Center (the view's user).

The work logs are kept beside the issues, in the state the sandbox replaces on reset.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from http import HTTPStatus

from jiraflow.sandbox.jira_http import ApiError, Call, RouteTable, bad_request
from jiraflow.sandbox.jira_model import Issue, JiraState, Json, jira_time, now
from jiraflow.sandbox.jira_views import adf_to_text, is_adf, text_to_adf
from jiraflow.sandbox.server import Response

table = RouteTable()

HOURS_PER_DAY, DAYS_PER_WEEK = 8, 5  # the site's time tracking settings (Jira's defaults)
UNIT_SECONDS = {
    "w": DAYS_PER_WEEK * HOURS_PER_DAY * 3600,
    "d": HOURS_PER_DAY * 3600,
    "h": 3600,
    "m": 60,
}
DEFAULT_PAGE = 5000  # what Jira answers without maxResults
INVALID_DURATION = "Invalid time duration entered."
_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhm]?)", re.IGNORECASE)
_STARTED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}")


@dataclass
class Worklog:
    id: int
    issue_id: int
    author: str  # user name
    comment: str  # plain text; ADF on /rest/api/3
    started: str  # Jira's timestamp
    seconds: int
    created: str


def worklogs_of(state: JiraState) -> dict[int, list[Worklog]]:
    """The work logs of each issue (by issue id), kept on the state: a reset drops them."""
    kept: dict[int, list[Worklog]] = vars(state).setdefault("_worklogs", {})
    return kept


def seconds_of(text: str) -> int | None:
    """Seconds in Jira's duration ("1w 2d 4h 30m"; a bare number is minutes), None when it
    is not one."""
    words = text.split()
    if not words:
        return None
    total = 0.0
    for word in words:
        match = _PART.fullmatch(word)
        if match is None:
            return None
        total += float(match[1]) * UNIT_SECONDS[(match[2] or "m").lower()]
    return int(total) // 60 * 60


def time_spent(seconds: int) -> str:
    """Seconds as Jira writes a duration: "1w 2d 4h 30m", "1h 30m"."""
    parts, rest = [], seconds
    for unit, size in UNIT_SECONDS.items():
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


def render(call: Call, issue: Issue, worklog: Worklog) -> Json:
    author = call.view.user_by_name(worklog.author)
    body: Json = {
        "self": call.view.rest(f"issue/{issue.id}/worklog/{worklog.id}"),
        "author": author,
        "updateAuthor": author,
    }
    if worklog.comment:
        body["comment"] = text_to_adf(worklog.comment) if call.view.adf else worklog.comment
    body.update(
        created=worklog.created,
        updated=worklog.created,
        started=worklog.started,
        timeSpent=time_spent(worklog.seconds),
        timeSpentSeconds=worklog.seconds,
        id=str(worklog.id),
        issueId=str(issue.id),
    )
    return body


@table.route("GET", "issue/{key}/worklog")
def list_worklogs(call: Call) -> Response:
    issue = call.issue(call.args["key"])
    start = max(call.int_param("startAt", 0), 0)
    limit = min(max(call.int_param("maxResults", DEFAULT_PAGE), 1), DEFAULT_PAGE)
    logs = worklogs_of(call.state).get(issue.id, [])  # in the order they were logged
    page = [render(call, issue, w) for w in logs[start : start + limit]]
    body = {"startAt": start, "maxResults": limit, "total": len(logs), "worklogs": page}
    return Response.json(HTTPStatus.OK, body)


@table.route("POST", "issue/{key}/worklog")
def add_worklog(call: Call) -> Response:
    issue = call.issue(call.args["key"])
    body = call.body()
    seconds = _seconds(body)
    started = body.get("started")
    if started is None:
        started = now()
    elif not isinstance(started, str) or _STARTED.fullmatch(started) is None:
        raise bad_request(
            started="Invalid date format. Please enter the date in the format "
            "\"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"."
        )
    else:  # Jira keeps the instant, and answers it in UTC here
        started = jira_time(dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%f%z"))
    comment = _comment(call, body.get("comment"))
    kept = worklogs_of(call.state)
    next_id = 10000 + sum(len(logs) for logs in kept.values())
    worklog = Worklog(next_id, issue.id, call.user.name, comment, started, seconds, now())
    kept.setdefault(issue.id, []).append(worklog)
    issue.updated = worklog.created
    return Response.json(HTTPStatus.CREATED, render(call, issue, worklog))


def _seconds(body: Json) -> int:
    given, in_seconds = body.get("timeSpent"), body.get("timeSpentSeconds")
    if given is None and in_seconds is None:
        raise bad_request(timeLogged="You must indicate the time spent working.")
    if given is not None and in_seconds is not None:
        raise bad_request(timeLogged="Provide either timeSpent or timeSpentSeconds, not both.")
    if in_seconds is not None:
        if isinstance(in_seconds, bool) or not isinstance(in_seconds, int):
            raise bad_request(timeLogged=INVALID_DURATION)
        seconds: int | None = in_seconds // 60 * 60
    else:
        seconds = seconds_of(given) if isinstance(given, str) else None
    if seconds is None:
        raise _invalid()
    if seconds <= 0:
        raise bad_request(timeLogged="Time Spent can not be zero.")
    return seconds


def _invalid() -> ApiError:
    return ApiError(
        HTTPStatus.BAD_REQUEST, ["Worklog must not be null."], {"timeLogged": INVALID_DURATION}
    )


def _comment(call: Call, value: object) -> str:
    """The comment as text: ADF on v3, a string on v2 (absent or null: none)."""
    if value is None:
        return ""
    if call.view.adf:
        if not is_adf(value):
            raise bad_request(comment="Comment body is not valid!")
        return adf_to_text(value)
    if not isinstance(value, str):
        raise bad_request(
            "Can not deserialize instance of java.lang.String out of START_OBJECT token"
        )
    return value
