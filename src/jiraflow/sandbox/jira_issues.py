"""Jira sandbox routes on one issue: read, edit, assign, transition, comment, remote links.

Validation follows real Jira where clients commonly go wrong: rich text must be ADF on
``/rest/api/3`` and a string on 2; Cloud assigns by accountId and refuses names (GDPR), Data
Center by name; a transition must be available from the current status, its screen's required
resolution must be given and allowed, and fields not on its screen are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

from jiraflow.sandbox.jira_http import (
    NOT_ON_SCREEN,
    ApiError,
    Call,
    RouteTable,
    bad_request,
    field_errors,
)
from jiraflow.sandbox.jira_model import Issue, Json, Transition, Version, now, resolution_by_name
from jiraflow.sandbox.jira_views import adf_to_text, is_adf
from jiraflow.sandbox.server import Response

table = RouteTable()
Change = Callable[[], None]


@table.route("GET", "issue/{key}")
def get_issue(call: Call) -> Response:
    issue = call.issue(call.args["key"])
    fields = call.view.select_fields(call.request.params("fields"), "*all")
    expand = set(call.request.params("expand"))
    return Response.json(HTTPStatus.OK, call.view.issue(issue, fields, expand))


# -- edit --------------------------------------------------------------------------------------


@table.route("PUT", "issue/{key}")
def edit_issue(call: Call) -> Response:
    """``fields`` (set) and ``update`` (set/add/remove) edits, all validated before any applies."""
    issue = call.issue(call.args["key"])
    body = call.body()
    if "fields" not in body and "update" not in body:
        raise bad_request("one of 'fields' or 'update' required")
    fields, update = body.get("fields") or {}, body.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise bad_request("'fields' and 'update' must be JSON objects")
    operations: list[tuple[str, str, Any]] = [
        ("set", name, value) for name, value in fields.items()
    ]
    errors: dict[str, str] = {}
    for name, ops in update.items():
        for op in ops if isinstance(ops, list) else [ops]:
            if isinstance(op, dict):
                operations += [(verb, name, arg) for verb, arg in op.items()]
            else:
                errors[name] = f"Field '{name}': each operation must be a JSON object."
    changes: list[Change] = []
    for verb, name, value in operations:
        try:
            changes.append(_field_change(call, issue, name, verb, value))
        except ApiError as error:
            errors.update(error.errors or {name: "; ".join(error.messages)})
    if errors:
        raise field_errors(errors)
    for change in changes:
        change()
    issue.updated = now()
    return Response.empty()


def _field_change(call: Call, issue: Issue, name: str, verb: str, value: Any) -> Change:
    """Validate one edit operation and return the function that applies it."""
    if verb not in ("set", "add", "remove"):
        raise bad_request(**{name: f"Operation '{verb}' is not supported for field '{name}'."})
    if name == "summary" and verb == "set":
        if not isinstance(value, str) or not value.strip():
            raise bad_request(summary="You must specify a summary of the issue.")
        return lambda: setattr(issue, "summary", value)
    if name == "description" and verb == "set":
        text = _description_text(call, value)
        return lambda: setattr(issue, "description", text)
    if name == "labels":
        return _labels_change(issue, verb, value)
    if name == "fixVersions":
        refs = value if verb == "set" else [value]
        if not isinstance(refs, list):
            raise bad_request(fixVersions="Expected a list of versions.")
        ids = [_version_ref(call, issue, ref).id for ref in refs]
        return lambda: _apply_list(issue.fix_versions, verb, ids)
    if name == "assignee" and verb == "set":
        assignee = _assignee(call, value if isinstance(value, dict) else {})
        return lambda: setattr(issue, "assignee", assignee)
    raise bad_request(**{name: NOT_ON_SCREEN.format(name)})


def _description_text(call: Call, value: Any) -> str:
    if value is None:
        return ""
    if call.view.adf:
        if not is_adf(value):
            raise bad_request(
                description="Operation value must be an Atlassian Document (see the Atlassian "
                "Document Format)"
            )
        return adf_to_text(value)
    if not isinstance(value, str):
        raise bad_request(description="Operation value must be a string")
    return value


def _labels_change(issue: Issue, verb: str, value: Any) -> Change:
    labels = value if verb == "set" else [value]
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise bad_request(labels="Labels must be strings.")
    for label in labels:
        if " " in label:
            raise bad_request(labels=f"The label '{label}' contains spaces which is invalid.")
    return lambda: _apply_list(issue.labels, verb, labels)


def _version_ref(call: Call, issue: Issue, ref: Any) -> Version:
    """A version of the issue's project named by ``{"name": ...}`` or ``{"id": ...}``."""
    if not isinstance(ref, dict) or not ({"name", "id"} & set(ref)):
        raise bad_request(fixVersions="Could not find valid 'id' or 'name' in version object.")
    for version in call.state.project_versions(issue.project):
        if str(ref.get("id")) == str(version.id) or ref.get("name") == version.name:
            return version
    label = f"name '{ref['name']}'" if "name" in ref else f"id '{ref['id']}'"
    raise bad_request(fixVersions=f"Version {label} is not valid for this issue.")


def _apply_list(items: list[Any], verb: str, values: list[Any]) -> None:
    if verb == "set":
        items[:] = list(dict.fromkeys(values))
    elif verb == "add":
        items.extend(v for v in values if v not in items)
    else:
        items[:] = [v for v in items if v not in values]


# -- assign ------------------------------------------------------------------------------------


def _assignee(call: Call, body: Json) -> str | None:
    """The user a body names: accountId on Cloud, name on Data Center; None/"-1" unassign."""
    if call.cloud:
        if "accountId" not in body and ("name" in body or "key" in body):
            raise bad_request(
                "'accountId' must be the only user identifying field in GDPR strict mode."
            )
        identifier = body.get("accountId")
    else:
        unknown = [k for k in body if k not in ("name", "key", "self", "displayName")]
        if unknown:
            raise bad_request(
                f'Unrecognized field "{unknown[0]}" (Class com.atlassian.jira.rest.v2.issue.'
                "UserBean), not marked as ignorable"
            )
        identifier = body.get("name") or body.get("key")
    if identifier in (None, "", "-1"):
        return None
    if not isinstance(identifier, str):
        raise bad_request(assignee="The user identifier must be a string.")
    return call.find_user(identifier, "assignee").name


@table.route("PUT", "issue/{key}/assignee")
def assign_issue(call: Call) -> Response:
    issue = call.issue(call.args["key"])
    issue.assignee = _assignee(call, call.body())
    issue.updated = now()
    return Response.empty()


# -- transitions -------------------------------------------------------------------------------


@table.route("GET", "issue/{key}/transitions")
def get_transitions(call: Call) -> Response:
    issue = call.issue(call.args["key"])
    with_fields = "transitions.fields" in call.request.params("expand")
    transitions = call.view.transitions(issue, with_fields)
    wanted = call.request.param("transitionId")
    if wanted:
        transitions = [t for t in transitions if t["id"] == wanted]
    return Response.json(HTTPStatus.OK, {"expand": "transitions", "transitions": transitions})


@table.route("POST", "issue/{key}/transitions")
def do_transition(call: Call) -> Response:
    """Move an issue along an available transition, with its screen's fields."""
    issue = call.issue(call.args["key"])
    body = call.body()
    transition = _available_transition(issue, body.get("transition"))
    resolution = _screen_resolution(transition, body.get("fields") or {})
    comment = _transition_comment(call, body.get("update") or {})
    when = now()
    call.state.move(issue, issue.workflow.status(transition.to), resolution, when)
    if comment is not None:
        call.state.add_comment(issue, call.user.name, comment, when)
    return Response.empty()


def _available_transition(issue: Issue, ref: Any) -> Transition:
    if not isinstance(ref, dict) or "id" not in ref:
        raise bad_request("Missing 'transition' identifier")
    transition_id = str(ref["id"])
    if not transition_id.isdigit():
        raise bad_request("'transition' identifier must be an integer")
    for transition in issue.workflow.available(issue.status):
        if transition.id == transition_id:
            return transition
    raise bad_request(f"Transition id '{transition_id}' is not valid for this issue.")


def _screen_resolution(transition: Transition, fields: Any) -> str | None:
    """The resolution the transition's screen requires, checked as Jira checks it."""
    if not isinstance(fields, dict):
        raise bad_request("'fields' must be a JSON object")
    off_screen = {
        name: NOT_ON_SCREEN.format(name)
        for name in fields
        if name != "resolution" or not transition.has_screen
    }
    if off_screen:
        raise field_errors(off_screen)
    if not transition.has_screen:
        return None
    value = fields.get("resolution")
    if value is None:
        raise bad_request(resolution="Resolution is required.")
    unknown = "Could not find valid 'id' or 'name' in resolution object."
    if not isinstance(value, dict) or not ({"id", "name"} & set(value)):
        raise bad_request(resolution=unknown)
    try:
        resolution = resolution_by_name(str(value.get("id") or value.get("name")))
    except KeyError:
        raise bad_request(resolution=unknown) from None
    if resolution.name not in transition.resolutions:
        raise bad_request(
            resolution=f"The resolution '{resolution.name}' is not valid for this transition. "
            f"Allowed values: {', '.join(transition.resolutions)}."
        )
    return resolution.name


def _transition_comment(call: Call, update: Any) -> str | None:
    """``update.comment[].add.body`` of a transition; no other update is on the screen."""
    if not isinstance(update, dict):
        raise bad_request("'update' must be a JSON object")
    off_screen = {name: NOT_ON_SCREEN.format(name) for name in update if name != "comment"}
    if off_screen:
        raise field_errors(off_screen)
    operations = update.get("comment") or []
    bodies = [op["add"].get("body") for op in operations if isinstance(op, dict) and "add" in op]
    return _comment_text(call, bodies[0]) if bodies else None


# -- comments ----------------------------------------------------------------------------------


def _comment_text(call: Call, body: Any) -> str:
    """A comment body as text: ADF required on v3, a string on v2, as real Jira enforces."""
    if body is None or body == "":
        raise bad_request(comment="Comment body can not be empty!")
    if call.view.adf:
        if not is_adf(body):
            raise bad_request(comment="Comment body is not valid!")
        text = adf_to_text(body)
    elif isinstance(body, str):
        text = body
    else:
        raise bad_request(
            "Can not deserialize instance of java.lang.String out of START_OBJECT token"
        )
    if not text.strip():
        raise bad_request(comment="Comment body can not be empty!")
    return text


@table.route("GET", "issue/{key}/comment")
def get_comments(call: Call) -> Response:
    page = call.view.comments_page(call.issue(call.args["key"]))
    del page["self"]  # the comment field of an issue has it, this resource does not
    return Response.json(HTTPStatus.OK, page)


@table.route("POST", "issue/{key}/comment")
def add_comment(call: Call) -> Response:
    issue = call.issue(call.args["key"])
    text = _comment_text(call, call.body().get("body"))
    comment = call.state.add_comment(issue, call.user.name, text, now())
    return Response.json(HTTPStatus.CREATED, call.view.comment(issue, comment))


# -- remote links ------------------------------------------------------------------------------


@table.route("GET", "issue/{key}/remotelink")
def get_remote_links(call: Call) -> Response:
    """Every link of the issue, or the one with ``?globalId=``."""
    issue = call.issue(call.args["key"])
    global_id = call.request.param("globalId")
    if global_id is None:
        links = [call.view.remote_link(issue, link) for link in issue.remote_links]
        return Response.json(HTTPStatus.OK, links)
    for link in issue.remote_links:
        if link.global_id == global_id:
            return Response.json(HTTPStatus.OK, call.view.remote_link(issue, link))
    raise ApiError(HTTPStatus.NOT_FOUND, [f"No remote link with globalId '{global_id}'."])


@table.route("POST", "issue/{key}/remotelink")
def upsert_remote_link(call: Call) -> Response:
    """Create a link (201), or update the one with the same globalId (200)."""
    issue = call.issue(call.args["key"])
    body = call.body()
    link_object = body.get("object")
    if not isinstance(link_object, dict):
        raise bad_request(object="'object' is required.")
    missing = {key: f"'{key}' is required." for key in ("url", "title") if not link_object.get(key)}
    if missing:
        raise field_errors(missing)
    link, created = call.state.upsert_remote_link(
        issue,
        body.get("globalId"),
        cast(Json, body.get("application") or {}),
        body.get("relationship"),
        link_object,
    )
    issue.updated = now()
    rendered = call.view.remote_link(issue, link)
    status = HTTPStatus.CREATED if created else HTTPStatus.OK
    return Response.json(status, {"id": rendered["id"], "self": rendered["self"]})
