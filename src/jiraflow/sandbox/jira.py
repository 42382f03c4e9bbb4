"""A stateful Jira simulator (Cloud or Data Center flavour) serving real HTTP on 127.0.0.1.

jiraflow's Jira code is tested against this instead of mocks, so what it sends and receives
travels over HTTP in the shapes real Jira uses (tests/test_sandbox_jira.py checks them against
Atlassian's OpenAPI specs and against captured responses in tests/data/reference/). The two
flavours differ where real sites differ and where clients get them wrong:

* ``cloud``: ``/rest/api/3`` (ADF rich text), ``/rest/api/2`` and ``latest``; users by
  accountId; ``Authorization: Basic base64(email:api_token)``; ``/search/jql`` with
  ``nextPageToken`` while the old ``/search`` answers 410 Gone.
* ``datacenter``: ``/rest/api/2`` and ``/rest/api/latest`` only (``/rest/api/3`` is 404); users
  by name/key; ``Authorization: Bearer <personal access token>``; ``/search`` with ``startAt``.

The modules behind it: jira_model (catalogue, state, seed), jira_views (JSON shapes),
jira_http (auth, routing, errors), jira_site / jira_issues / jira_search (the endpoints),
jql (the query language) and server (HTTP, request log, faults, control endpoints).
"""

from __future__ import annotations

import threading
from typing import Any

from jiraflow.sandbox import jira_bulk, jira_issues, jira_search, jira_site, jira_worklogs
from jiraflow.sandbox.jira_http import Route, dispatch
from jiraflow.sandbox.jira_model import Flavour, JiraState, Json, now, project_by_key
from jiraflow.sandbox.server import Request, RequestRecord, Response, SandboxServer

__all__ = ["FLAVOURS", "Flavour", "JiraSandbox", "RequestRecord"]

FLAVOURS: tuple[Flavour, ...] = ("cloud", "datacenter")
ROUTES: tuple[Route, ...] = (
    *jira_site.table.routes,
    *jira_issues.table.routes,
    *jira_search.table.routes,
    *jira_worklogs.table.routes,
    *jira_bulk.table.routes,  # Cloud's bulk operations (issue 22)
)


class JiraSandbox(SandboxServer):
    """A Jira site on 127.0.0.1 with seeded users, projects, workflows, issues and versions.

    ``with JiraSandbox("datacenter") as sb:`` starts and stops it; ``sb.url`` is the base URL and
    ``sb.token("alice")`` the credential it accepts for alice. The methods below read and set up
    state directly (no HTTP), under the same lock as the requests.
    """

    def __init__(self, flavour: str = "cloud") -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be 'cloud' or 'datacenter', not {flavour!r}")
        super().__init__()
        self.flavour: Flavour = flavour  # narrowed by the check above
        self._lock = threading.RLock()
        self._state = JiraState.seeded()

    def __enter__(self) -> JiraSandbox:
        self.start()
        return self

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self._lock:
            return dispatch(request, ROUTES, self._state, self.flavour, self.url)

    def error_response(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        return Response.json(status, {"errorMessages": [message], "errors": {}}, headers)

    # -- state for tests -----------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed data (faults and the request log are separate)."""
        with self._lock:
            self._state = JiraState.seeded()

    def state_json(self) -> dict[str, Any]:
        with self._lock:
            return self._state.as_json(self.flavour)

    @property
    def me(self) -> Json:
        """The default user, alice."""
        return self.user("alice")

    def user(self, name: str) -> Json:
        """``{"name", "key", "accountId", "email", "displayName", "token"}`` of a user."""
        with self._lock:
            return self._state.users[name].as_dict()

    def token(self, user_name: str = "alice") -> str:
        """The API token (Cloud, sent as Basic email:token) or the PAT (Data Center, Bearer)."""
        with self._lock:
            return self._state.users[user_name].token

    def issue(self, key: str) -> Json:
        """The stored issue; ``assignee`` and comment authors are user names (``"bob"``)."""
        with self._lock:
            found = self._state.find_issue(key)
            if found is None:
                raise KeyError(f"no issue {key!r}")
            return self._state.issue_dict(found)

    def add_issue(
        self,
        project: str,
        summary: str,
        *,
        type: str = "Story",
        status: str | None = None,
        assignee: str | None = None,
        description: str = "",
    ) -> str:
        """Create an issue without HTTP; ``status`` defaults to the workflow's first one."""
        with self._lock:
            first_status = project_by_key(project).workflow.statuses[0].name
            created = self._state.add_issue(
                project, summary, type, status or first_status, assignee, description, now()
            )
            return created.key

    def set_status(self, key: str, status_name: str) -> None:
        """Put an issue in a status without a transition (test setup)."""
        with self._lock:
            found = self._state.find_issue(key)
            if found is None:
                raise KeyError(f"no issue {key!r}")
            self._state.move(found, found.workflow.status(status_name), None, now())

    def bulk_tasks(
        self,
        *,
        polls: int | None = None,
        failing: list[str] | None = None,
        failing_moves: list[str] | None = None,
        ending: str | None = None,
        applied: int = 0,
    ) -> None:
        """How Cloud's bulk tasks behave: `polls` reads of the queue until a task has ended
        (tasks still running too: that many more), the issue keys a task refuses (left as
        they are, listed as failed), those only a bulk transition refuses, and how the next
        tasks end ("FAILED", "CANCELLED", "DEAD": after making only their first `applied`
        changes; "COMPLETE", the default, again)."""
        with self._lock:
            bulk = jira_bulk.bulk_state(self._state)
            if polls is not None:
                bulk.polls = max(polls, 1)
                for task in bulk.tasks.values():
                    task.polls = task.seen + bulk.polls
            if failing is not None:
                bulk.failing = {key.upper() for key in failing}
            if failing_moves is not None:
                bulk.failing_moves = {key.upper() for key in failing_moves}
            if ending is not None:
                bulk.ending, bulk.applied = ending, max(applied, 0)

    def versions(self, project: str) -> list[Json]:
        with self._lock:
            return [v.as_dict() for v in self._state.project_versions(project)]
