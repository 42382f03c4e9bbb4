"""The reviewer's side of the Bitbucket sandbox: comments on pull requests (both flavours) and
Data Center's dashboard list of the pull requests one writes or reviews, and its user search
(GET users?filter=: how a client learns its own slug).

Routes are added to the tables of bitbucket_cloud_api and bitbucket_dc_api (bitbucket.py imports
this module before it reads them). Shapes: Cloud ``pullrequest_comment`` and Data Center
``RestComment`` of the specs in tests/data/reference/specs. Only general comments exist here (no
inline anchors, replies, tasks or edits). Data Center's ``GET .../comments`` answers the general
comments without the ``path`` a real server asks for (the sandbox's simplification).
"""

from __future__ import annotations

from http import HTTPStatus

from jiraflow.sandbox import bitbucket_cloud_api as cloud
from jiraflow.sandbox import bitbucket_dc_api as dc
from jiraflow.sandbox.bitbucket_cloud_views import CloudView, cloud_time, rendered
from jiraflow.sandbox.bitbucket_dc_views import DataCenterView, epoch_millis
from jiraflow.sandbox.bitbucket_http import Call, field_error
from jiraflow.sandbox.bitbucket_model import (
    Account,
    BitbucketState,
    Comment,
    Json,
    PullRequest,
    Repository,
)
from jiraflow.sandbox.server import Response

DASHBOARD_ROLES = ("AUTHOR", "REVIEWER", "PARTICIPANT")


def add_comment(state: BitbucketState, pr: PullRequest, author: Account, text: str) -> Comment:
    """A general comment; comments are numbered across the whole sandbox, as Bitbucket's are."""
    numbers = [c.id for r in state.repositories.values() for p in r.pull_requests.values()
               for c in p.comments]  # fmt: skip
    now = state.clock.now()
    comment = Comment(max(numbers, default=0) + 1, author.name, text, now)
    pr.comments.append(comment)
    pr.participated.setdefault(author.name, now)
    pr.updated = now
    return comment


# == Cloud ======================================================================================


def cloud_comment(view: CloudView, repo: Repository, pr: PullRequest, comment: Comment) -> Json:
    api = view.api(f"repositories/{repo.full_name}/pullrequests/{pr.id}")
    web = view.web(f"{repo.full_name}/pull-requests/{pr.id}")
    return {
        "type": "pullrequest_comment",
        "id": comment.id,
        "created_on": cloud_time(comment.created),
        "updated_on": cloud_time(comment.created),
        "content": rendered(comment.text),
        "user": view.account_named(comment.author),
        "deleted": False,
        "pending": False,
        "links": {
            "self": {"href": f"{api}/comments/{comment.id}"},
            "html": {"href": f"{web}/_/diff#comment-{comment.id}"},
        },
        "pullrequest": {
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "links": {"self": {"href": api}, "html": {"href": web}},
        },
    }


@cloud.route("POST", f"{cloud.PULL}/comments")
def cloud_post_comment(call: Call) -> Response:
    repo, pr = cloud.pull_request(call)
    content = call.body().get("content")
    text = content.get("raw") if isinstance(content, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise field_error("content", "This field is required.")
    comment = add_comment(call.state, pr, call.me, text)
    return cloud.ok(cloud_comment(cloud.view(call), repo, pr, comment), HTTPStatus.CREATED)


@cloud.route("GET", f"{cloud.PULL}/comments")
def cloud_get_comments(call: Call) -> Response:
    repo, pr = cloud.pull_request(call)
    values = [cloud_comment(cloud.view(call), repo, pr, c) for c in pr.comments]
    return cloud.ok(cloud.page(call, values, maximum=100))


# == Data Center ================================================================================


def dc_comment(view: DataCenterView, comment: Comment) -> Json:
    when = epoch_millis(comment.created)
    return {
        "properties": {"repositoryId": 1},
        "id": comment.id,
        "version": comment.version,
        "text": comment.text,
        "author": view.user_named(comment.author),
        "createdDate": when,
        "updatedDate": when,
        "comments": [],
        "severity": "NORMAL",
        "state": "OPEN",
        "threadResolved": False,
    }


@dc.table.route("POST", f"{dc.PULL}/comments")
def dc_post_comment(call: Call) -> Response:
    repo, pr = dc.pull_request(call)
    text = call.body().get("text")
    if not isinstance(text, str) or not text.strip():
        raise dc.bad_request("Please enter a non-empty value for the comment text", "text")
    comment = add_comment(call.state, pr, call.me, text)
    body = dc_comment(dc.view(call), comment)
    body["properties"] = {"repositoryId": repo.dc_id}
    return dc.ok(body, HTTPStatus.CREATED)


@dc.table.route("GET", f"{dc.PULL}/comments")
def dc_get_comments(call: Call) -> Response:
    repo, pr = dc.pull_request(call)
    values = []
    for comment in pr.comments:
        body = dc_comment(dc.view(call), comment)
        body["properties"] = {"repositoryId": repo.dc_id}
        values.append(body)
    return dc.ok(dc.page(call, values))


@dc.table.route("GET", "dashboard/pull-requests")
def dc_dashboard(call: Call) -> Response:
    """The pull requests of every repository in which the caller has ``role`` (AUTHOR,
    REVIEWER or PARTICIPANT; any without it), in ``state`` (OPEN without it, or ALL)."""
    role = (call.request.param("role") or "").upper()
    state = (call.request.param("state") or "OPEN").upper()
    order = (call.request.param("order") or "NEWEST").upper()
    if role and role not in DASHBOARD_ROLES:
        raise dc.bad_request(f"{role} is not a valid participant role", "role")
    if state not in dc.STATES or order not in ("NEWEST", "OLDEST"):
        raise dc.bad_request(f"Invalid state {state} or order {order}")
    me = call.me.name
    found: list[tuple[Repository, PullRequest]] = []
    for repo in call.state.repositories.values():
        for pr in repo.pull_requests.values():
            roles = {
                "AUTHOR": pr.author == me,
                "REVIEWER": me in pr.reviewers,
                "PARTICIPANT": me in pr.participated and me not in pr.reviewers,
            }
            if state in ("ALL", pr.state) and (roles[role] if role else any(roles.values())):
                found.append((repo, pr))
    found.sort(key=lambda pair: pair[1].updated, reverse=order == "NEWEST")
    values = [dc.view(call).pull_request(repo, pr) for repo, pr in found]
    return dc.ok(dc.page(call, values))


@dc.table.route("GET", "users")
def dc_users(call: Call) -> Response:
    """The users whose name, display name or e-mail address contains ``filter`` (any case),
    by name; how a client learns its own slug, which need not be its name."""
    wanted = (call.request.param("filter") or "").lower()
    people = sorted(call.state.people())
    accounts = [call.state.account(name) for name in people]
    values = [
        dc.view(call).user(a)
        for a in accounts
        if wanted in a.name.lower() or wanted in a.display_name.lower() or wanted in a.email.lower()
    ]
    return dc.ok(dc.page(call, values))
