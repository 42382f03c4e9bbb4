"""How the Jira sandbox renders its state: the JSON shapes of real Jira, per flavour and API.

Every object here mirrors what Jira Cloud or Data Center sends (key names, key order, JSON types,
``self`` URLs under the API version asked for, ADF on ``/rest/api/3`` and plain strings on 2).
tests/test_sandbox_jira.py validates these shapes against Atlassian's OpenAPI specs and against
captured responses, so change them only with those references at hand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from jiraflow.sandbox.jira_model import (
    Comment,
    Flavour,
    Issue,
    IssueType,
    JiraState,
    Json,
    Project,
    RemoteLink,
    Resolution,
    Status,
    StatusCategory,
    Transition,
    User,
    Version,
    Workflow,
    issue_type_by_name,
    now,
    project_by_key,
    resolution_by_name,
)

#: (id, name, navigable, schema) of the issue fields the sandbox serves, in Jira's order.
FIELD_CATALOGUE: tuple[tuple[str, str, bool, Json], ...] = (
    ("summary", "Summary", True, {"type": "string"}),
    ("issuetype", "Issue Type", True, {"type": "issuetype"}),
    ("project", "Project", True, {"type": "project"}),
    ("status", "Status", True, {"type": "status"}),
    ("resolution", "Resolution", True, {"type": "resolution"}),
    ("resolutiondate", "Resolved", True, {"type": "datetime"}),
    ("assignee", "Assignee", True, {"type": "user"}),
    ("reporter", "Reporter", True, {"type": "user"}),
    ("creator", "Creator", True, {"type": "user"}),
    ("priority", "Priority", True, {"type": "priority"}),
    ("labels", "Labels", True, {"type": "array", "items": "string"}),
    ("fixVersions", "Fix versions", True, {"type": "array", "items": "version"}),
    ("versions", "Affects versions", True, {"type": "array", "items": "version"}),
    ("components", "Components", True, {"type": "array", "items": "component"}),
    ("description", "Description", True, {"type": "string"}),
    ("created", "Created", True, {"type": "datetime"}),
    ("updated", "Updated", True, {"type": "datetime"}),
    ("statuscategorychangedate", "Status Category Changed", True, {"type": "datetime"}),
    ("issuelinks", "Linked Issues", True, {"type": "array", "items": "issuelinks"}),
    ("subtasks", "Sub-tasks", True, {"type": "array", "items": "issuelinks"}),
    ("comment", "Comment", False, {"type": "comments-page"}),
)
CLOUD_ONLY_FIELDS = frozenset({"statuscategorychangedate"})
CLAUSE_NAMES = {"fixVersions": ["fixVersion"], "issuetype": ["issuetype", "type"]}
ISSUE_EXPAND_CLOUD = (
    "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
)
ISSUE_EXPAND_DATACENTER = (
    "renderedFields,names,schema,transitions,operations,editmeta,changelog,versionedRepresentations"
)


@dataclass(frozen=True)
class View:
    """Renders state as one API version of one flavour answers it (self URLs, ADF, users)."""

    base: str
    api: str  # "2", "3" or "latest"
    flavour: Flavour
    state: JiraState

    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    @property
    def adf(self) -> bool:
        """Rich text is an ADF document on /rest/api/3 and a plain string on 2 and latest."""
        return self.api == "3"

    def rest(self, path: str) -> str:
        return f"{self.base}/rest/api/{self.api}/{path}"

    def avatar_urls(self, kind: str, owner: str) -> Json:
        """The four avatar sizes Jira lists (kind: "user" or "project")."""
        sizes = {"48x48": "large", "24x24": "small", "16x16": "xsmall", "32x32": "medium"}
        return {
            size: f"{self.base}/secure/{kind}avatar?size={name}&ownerId={quote(owner)}"
            for size, name in sizes.items()
        }

    def user(self, user: User | None) -> Json | None:
        if user is None:
            return None
        if self.cloud:
            return {
                "self": self.rest(f"user?accountId={quote(user.account_id)}"),
                "accountId": user.account_id,
                "emailAddress": user.email,
                "avatarUrls": self.avatar_urls("user", user.account_id),
                "displayName": user.display_name,
                "active": True,
                "timeZone": user.time_zone,
                "accountType": "atlassian",
            }
        return {
            "self": self.rest(f"user?username={quote(user.name)}"),
            "name": user.name,
            "key": user.key,
            "emailAddress": user.email,
            "avatarUrls": self.avatar_urls("user", user.name),
            "displayName": user.display_name,
            "active": True,
            "timeZone": user.time_zone,
        }

    def user_by_name(self, name: str | None) -> Json | None:
        return self.user(self.state.users[name] if name else None)

    def myself(self, user: User) -> Json:
        """/myself: the user plus locale, groups and roles (Data Center also says "deleted")."""
        body = cast(Json, self.user(user))
        if not self.cloud:
            body["deleted"] = False
        body.update(
            locale="en_US",
            groups={"size": 2, "items": []},
            applicationRoles={"size": 1, "items": []},
            expand="groups,applicationRoles",
        )
        return body

    def status_category(self, category: StatusCategory) -> Json:
        return {
            "self": self.rest(f"statuscategory/{category.id}"),
            "id": category.id,
            "key": category.key,
            "colorName": category.color,
            "name": category.name,
        }

    def status(self, status: Status) -> Json:
        return {
            "self": self.rest(f"status/{status.id}"),
            "description": status.description,
            "iconUrl": f"{self.base}/images/icons/statuses/{status.icon}",
            "name": status.name,
            "id": status.id,
            "statusCategory": self.status_category(status.category),
        }

    def issue_type(self, issue_type: IssueType) -> Json:
        body: Json = {
            "self": self.rest(f"issuetype/{issue_type.id}"),
            "id": issue_type.id,
            "description": issue_type.description,
            "iconUrl": f"{self.base}/secure/viewavatar?size=medium&avatarId="
            f"{issue_type.avatar_id}&avatarType=issuetype",
            "name": issue_type.name,
            "subtask": False,
            "avatarId": issue_type.avatar_id,
        }
        if self.cloud:
            body["hierarchyLevel"] = issue_type.hierarchy_level
        return body

    def project(self, project: Project) -> Json:
        body: Json = {
            "self": self.rest(f"project/{project.id}"),
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "avatarUrls": self.avatar_urls("project", project.id),
        }
        if self.cloud:
            body["simplified"] = False
        return body

    def resolution(self, resolution: Resolution | None) -> Json | None:
        if resolution is None:
            return None
        return {
            "self": self.rest(f"resolution/{resolution.id}"),
            "id": resolution.id,
            "description": resolution.description,
            "name": resolution.name,
        }

    def priority(self) -> Json:
        return {
            "self": self.rest("priority/3"),
            "iconUrl": f"{self.base}/images/icons/priorities/medium.svg",
            "name": "Medium",
            "id": "3",
        }

    def version(self, version: Version) -> Json:
        body: Json = {"self": self.rest(f"version/{version.id}"), "id": str(version.id)}
        if version.description:
            body["description"] = version.description
        body.update(name=version.name, archived=version.archived, released=version.released)
        if version.start_date:
            body["startDate"] = version.start_date
        if version.release_date:
            day = dt.date.fromisoformat(version.release_date)
            body["releaseDate"] = version.release_date
            body["overdue"] = not version.released and day < dt.date.today()
            body["userReleaseDate"] = (
                f"{day.day}/{day:%b}/{day:%Y}" if self.cloud else f"{day:%d/%b/%y}"
            )
        body["projectId"] = int(project_by_key(version.project).id)
        return body

    def rich_text(self, text: str) -> Any:
        """A description: ADF on v3, a string on v2, None when empty (as Jira sends it)."""
        if not text:
            return None
        return text_to_adf(text) if self.adf else text

    def comment(self, issue: Issue, comment: Comment) -> Json:
        author = self.user_by_name(comment.author)
        return {
            "self": self.rest(f"issue/{issue.id}/comment/{comment.id}"),
            "id": str(comment.id),
            "author": author,
            "body": text_to_adf(comment.body) if self.adf else comment.body,
            "updateAuthor": author,
            "created": comment.created,
            "updated": comment.updated,
        }

    def comments_page(self, issue: Issue) -> Json:
        comments = [self.comment(issue, c) for c in issue.comments]
        return {
            "comments": comments,
            "self": self.rest(f"issue/{issue.id}/comment"),
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }

    def remote_link(self, issue: Issue, link: RemoteLink) -> Json:
        body: Json = {"id": link.id, "self": self.rest(f"issue/{issue.key}/remotelink/{link.id}")}
        if link.global_id is not None:
            body["globalId"] = link.global_id
        body["application"] = link.application
        if link.relationship is not None:
            body["relationship"] = link.relationship
        body["object"] = link.object
        return body

    def field_value(self, issue: Issue, name: str) -> Any:
        """One field of an issue's ``fields`` object."""
        project = project_by_key(issue.project)
        renderers: dict[str, Callable[[], Any]] = {
            "summary": lambda: issue.summary,
            "issuetype": lambda: self.issue_type(issue_type_by_name(issue.type)),
            "project": lambda: self.project(project),
            "status": lambda: self.status(project.workflow.status(issue.status)),
            "resolution": lambda: self.resolution(
                resolution_by_name(issue.resolution) if issue.resolution else None
            ),
            "resolutiondate": lambda: issue.resolution_date,
            "assignee": lambda: self.user_by_name(issue.assignee),
            "reporter": lambda: self.user_by_name(issue.reporter),
            "creator": lambda: self.user_by_name(issue.reporter),
            "priority": self.priority,
            "labels": lambda: list(issue.labels),
            "fixVersions": lambda: [
                self.version(self.state.versions[vid]) for vid in issue.fix_versions
            ],
            "versions": list,
            "components": list,
            "description": lambda: self.rich_text(issue.description),
            "created": lambda: issue.created,
            "updated": lambda: issue.updated,
            "statuscategorychangedate": lambda: issue.status_changed,
            "issuelinks": list,
            "subtasks": list,
            "comment": lambda: self.comments_page(issue),
        }
        return renderers[name]()

    def field_ids(self, navigable_only: bool) -> list[str]:
        return [
            field_id
            for field_id, _name, navigable, _schema in FIELD_CATALOGUE
            if (navigable or not navigable_only)
            and (self.cloud or field_id not in CLOUD_ONLY_FIELDS)
        ]

    def select_fields(self, requested: list[str], default: str) -> list[str]:
        """Jira's ``fields`` parameter: ``*all``, ``*navigable``, names, ``-name`` to exclude.

        Unknown names are ignored, as Jira ignores them.
        """
        every = self.field_ids(navigable_only=False)
        chosen: list[str] = []
        excluded: set[str] = set()
        for token in requested or [default]:
            if token == "*all":
                chosen += every
            elif token == "*navigable":
                chosen += self.field_ids(navigable_only=True)
            elif token.startswith("-"):
                excluded.add(token[1:])
            elif token in every:
                chosen.append(token)
        if not chosen and excluded:  # only exclusions: from the default set
            chosen = self.select_fields([default], default)
        return [name for name in dict.fromkeys(chosen) if name not in excluded]

    def issue(self, issue: Issue, fields: list[str], expand: set[str]) -> Json:
        body: Json = {
            "expand": ISSUE_EXPAND_CLOUD if self.cloud else ISSUE_EXPAND_DATACENTER,
            "id": str(issue.id),
            "self": self.rest(f"issue/{issue.id}"),
            "key": issue.key,
            "fields": {name: self.field_value(issue, name) for name in fields},
        }
        if "transitions" in expand or "transitions.fields" in expand:
            body["transitions"] = self.transitions(issue, "transitions.fields" in expand)
        return body

    def transitions(self, issue: Issue, with_fields: bool) -> list[Json]:
        """The transitions available from the issue's current status, as Jira lists them."""
        workflow = issue.workflow
        return [self.transition(workflow, t, with_fields) for t in workflow.available(issue.status)]

    def transition(self, workflow: Workflow, transition: Transition, with_fields: bool) -> Json:
        body: Json = {
            "id": transition.id,
            "name": transition.name,
            "to": self.status(workflow.status(transition.to)),
            "hasScreen": transition.has_screen,
            "isGlobal": transition.sources is None,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if with_fields:
            body["fields"] = {}
            if transition.resolutions:
                body["fields"]["resolution"] = {
                    "required": True,
                    "schema": {"type": "resolution", "system": "resolution"},
                    "name": "Resolution",
                    "key": "resolution",
                    "hasDefaultValue": False,
                    "operations": ["set"],
                    "allowedValues": [
                        {"self": self.rest(f"resolution/{r.id}"), "id": r.id, "name": r.name}
                        for r in map(resolution_by_name, transition.resolutions)
                    ],
                }
        return body

    def server_info(self) -> Json:
        body: Json = {"baseUrl": self.base}
        if self.cloud:
            body.update(
                version="1001.0.0-SNAPSHOT",
                versionNumbers=[1001, 0, 0],
                deploymentType="Cloud",
                buildNumber=100289,
                buildDate="2025-11-20T10:12:41.000+0000",
            )
        else:
            body.update(
                version="9.12.15",
                versionNumbers=[9, 12, 15],
                deploymentType="Server",
                buildNumber=9120015,
                buildDate="2024-10-08T00:00:00.000+0000",
            )
        body.update(
            serverTime=now(),
            scmInfo="2f6a5c8d3e1b7f9a0c4d6e8b1a3c5e7f9b2d4a6c",
            serverTitle="Jira",
        )
        if self.cloud:
            body["defaultLocale"] = {"locale": "en_US"}
        return body

    def fields_catalogue(self) -> list[Json]:
        out: list[Json] = []
        for field_id, name, navigable, schema in FIELD_CATALOGUE:
            if not self.cloud and field_id in CLOUD_ONLY_FIELDS:
                continue
            out.append(
                {
                    "id": field_id,
                    "key": field_id,
                    "name": name,
                    "custom": False,
                    "orderable": field_id not in {"created", "updated", "status", "creator"},
                    "navigable": navigable,
                    "searchable": True,
                    "clauseNames": CLAUSE_NAMES.get(field_id, [field_id]),
                    "schema": {**schema, "system": field_id},
                }
            )
        return out


def text_to_adf(text: str) -> Json:
    """Plain text as an Atlassian Document: blank lines part paragraphs, newlines break lines."""
    paragraphs: list[Json] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        content: list[Json] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        if content:
            paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(document: Any) -> str:
    """The text of an Atlassian Document: block nodes become paragraphs (the inverse of
    :func:`text_to_adf`; marks and other formatting are dropped)."""
    blocks: list[str] = []

    def inline(node: Any) -> str:
        if not isinstance(node, dict):
            return ""
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        return "".join(inline(child) for child in node.get("content") or [])

    def block(node: Any) -> None:
        children = node.get("content") if isinstance(node, dict) else None
        if not isinstance(children, list):
            return
        if any(isinstance(c, dict) and c.get("type") in ("text", "hardBreak") for c in children):
            blocks.append(inline(node))
            return
        for child in children:
            block(child)

    block(document)
    return "\n\n".join(b for b in blocks if b)


def is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and "content" in value
