"""Jira sandbox routes about the site rather than one issue: server, users, fields, versions.

jiraflow reads serverInfo to tell Cloud from Data Center, /myself to check credentials, and
creates and releases versions at ``release finish``; the `jira` library also reads /field and
searches users before assigning, so those answer too.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from urllib.parse import urlencode

from jiraflow.sandbox.jira_http import ApiError, Call, RouteTable, bad_request
from jiraflow.sandbox.jira_model import Json, Version, project_by_key
from jiraflow.sandbox.server import Response

GDPR_USERNAME = "The query parameter 'username' is not supported in GDPR strict mode."
VERSION_EXISTS = "A version with this name already exists in this project."
#: Keys of Jira's VersionBean; anything else is refused like Jackson refuses it.
VERSION_KEYS = frozenset(
    {"archived", "description", "expand", "id", "moveUnfixedIssuesTo", "name", "operations"}
    | {"overdue", "project", "projectId", "releaseDate", "released", "self", "startDate"}
    | {"userReleaseDate", "userStartDate", "approvers", "driver", "issuesStatusForFixVersion"}
)

table = RouteTable()


@table.route("GET", "serverInfo", anonymous=True)
def get_server_info(call: Call) -> Response:
    return Response.json(HTTPStatus.OK, call.view.server_info())


@table.route("GET", "myself")
def get_myself(call: Call) -> Response:
    return Response.json(HTTPStatus.OK, call.view.myself(call.user))


@table.route("GET", "field")
def get_fields(call: Call) -> Response:
    return Response.json(HTTPStatus.OK, call.view.fields_catalogue())


@table.route("GET", "user")
def get_user(call: Call) -> Response:
    """One user: by accountId on Cloud (usernames are refused there), by name or key on DC."""
    request = call.request
    if call.cloud and (request.param("username") or request.param("key")):
        raise bad_request(GDPR_USERNAME)
    wanted = request.param("accountId") if call.cloud else request.param("username")
    user = call.state.find_user(wanted or request.param("key") or "", call.flavour)
    if user is None:
        raise ApiError(
            HTTPStatus.NOT_FOUND,
            ["Specified user does not exist or you do not have required permissions"],
        )
    return Response.json(HTTPStatus.OK, call.view.user(user))


@table.route("GET", "user/search")
def search_users(call: Call) -> Response:
    """Users whose names start with the term: ``query`` on Cloud, ``username`` on DC."""
    request = call.request
    if call.cloud and request.param("username") is not None:
        raise bad_request(GDPR_USERNAME)
    term = request.param("query") or request.param("accountId") or request.param("username")
    if not term:
        raise bad_request("The query parameter 'query' or 'accountId' is required.")
    needle = term.lower().strip(" .*")
    found = [
        user
        for user in call.state.users.values()
        if any(alias.startswith(needle) for alias in user.aliases(call.flavour))
        or any(word.startswith(needle) for word in user.display_name.lower().split())
    ]
    start, limit = call.int_param("startAt", 0), call.int_param("maxResults", 50)
    return Response.json(HTTPStatus.OK, [call.view.user(u) for u in found[start : start + limit]])


# -- versions ----------------------------------------------------------------------------------


@table.route("GET", "project/{key}/versions")
def list_versions(call: Call) -> Response:
    project = call.project(call.args["key"])
    versions = call.state.project_versions(project.key)
    return Response.json(HTTPStatus.OK, [call.view.version(v) for v in versions])


@table.route("GET", "project/{key}/version")
def page_versions(call: Call) -> Response:
    """The paged form: query, status and orderBy filters, startAt/maxResults, isLast."""
    project = call.project(call.args["key"])
    versions = _filter_versions(call, call.state.project_versions(project.key))
    start = max(call.int_param("startAt", 0), 0)
    limit = max(call.int_param("maxResults", 50), 1)
    is_last = start + limit >= len(versions)
    params = {k: v[0] for k, v in call.request.query.items() if k not in ("startAt", "maxResults")}
    url = call.view.rest(f"project/{project.key}/version")
    body: Json = {"self": f"{url}?{urlencode({**params, 'maxResults': limit, 'startAt': start})}"}
    if not is_last:
        next_params = {**params, "maxResults": limit, "startAt": start + limit}
        body["nextPage"] = f"{url}?{urlencode(next_params)}"
    body.update(
        maxResults=limit,
        startAt=start,
        total=len(versions),
        isLast=is_last,
        values=[call.view.version(v) for v in versions[start : start + limit]],
    )
    return Response.json(HTTPStatus.OK, body)


def _filter_versions(call: Call, versions: list[Version]) -> list[Version]:
    query = (call.request.param("query") or "").lower()
    if query:
        versions = [
            v for v in versions if query in v.name.lower() or query in v.description.lower()
        ]
    statuses = set(call.request.params("status"))
    if statuses:
        versions = [
            v
            for v in versions
            if ("archived" in statuses and v.archived)
            or ("released" in statuses and v.released and not v.archived)
            or ("unreleased" in statuses and not v.released and not v.archived)
        ]
    order = call.request.param("orderBy") or ""
    if order.lstrip("+-") == "name":
        versions = sorted(versions, key=lambda v: v.name, reverse=order.startswith("-"))
    return versions


@table.route("GET", "version/{id}")
def get_version(call: Call) -> Response:
    return Response.json(HTTPStatus.OK, call.view.version(call.version(call.args["id"])))


@table.route("POST", "version")
def create_version(call: Call) -> Response:
    """A new version in the project named by ``projectId`` or ``project`` (key or id)."""
    body = call.body()
    _check_version_body(body, require_name=True)
    project_ref = body.get("projectId", body.get("project"))
    if project_ref is None:
        raise bad_request(project="Project must be specified to create a version.")
    try:
        project = project_by_key(str(project_ref))
    except KeyError:
        raise bad_request(project=f"Project '{project_ref}' does not exist.") from None
    name = str(body["name"]).strip()
    if _name_taken(call, project.key, name, None):
        raise bad_request(name=VERSION_EXISTS)
    version = call.state.add_version(
        project.key,
        name,
        str(body.get("description") or ""),
        released=bool(body.get("released", False)),
        archived=bool(body.get("archived", False)),
        release_date=body.get("releaseDate"),
        start_date=body.get("startDate"),
    )
    return Response.json(HTTPStatus.CREATED, call.view.version(version))


@table.route("PUT", "version/{id}")
def update_version(call: Call) -> Response:
    """Rename, describe, (un)release or archive a version; only the keys sent change."""
    version = call.version(call.args["id"])
    body = call.body()
    _check_version_body(body, require_name=False)
    if "name" in body:
        name = str(body["name"]).strip()
        if _name_taken(call, version.project, name, version.id):
            raise bad_request(name=VERSION_EXISTS)
        version.name = name
    if "description" in body:
        version.description = str(body["description"] or "")
    if "released" in body:
        version.released = bool(body["released"])
    if "archived" in body:
        version.archived = bool(body["archived"])
    if "releaseDate" in body:
        version.release_date = body["releaseDate"]
    if "startDate" in body:
        version.start_date = body["startDate"]
    return Response.json(HTTPStatus.OK, call.view.version(version))


def _name_taken(call: Call, project_key: str, name: str, except_id: int | None) -> bool:
    return any(
        v.name.lower() == name.lower() and v.id != except_id
        for v in call.state.project_versions(project_key)
    )


def _check_version_body(body: Json, *, require_name: bool) -> None:
    unknown = sorted(set(body) - VERSION_KEYS)
    if unknown:
        raise bad_request(
            f'Unrecognized field "{unknown[0]}" (Class com.atlassian.jira.rest.v2.issue.version.'
            "VersionBean), not marked as ignorable"
        )
    for key in ("releaseDate", "startDate"):
        value = body.get(key)
        if value is not None:
            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                raise bad_request(
                    **{key: "Please enter the date in the following format: yyyy-MM-dd"}
                ) from None
    if require_name or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad_request(name="You must specify a valid version name")
