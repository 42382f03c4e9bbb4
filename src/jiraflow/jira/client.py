"""Jira Cloud and Data Center over HTTP. The only module that imports the `jira` library.

The pycontribs library gives the authenticated session, and no more: its ResilientSession
with the headers and auth a JIRA object would set (public names only; no JIRA object, so no
serverInfo call and no update check), with no retries of its own (`max_retries=0`: it would
sleep for minutes). Requests go out through http.send, the plain
requests API of that session (`requests.Session.request`, not the library's
ResilientSession.request, which retries, and parses error bodies in ways a malformed one
makes raise TypeError), to endpoints built here, because its higher-level helpers cost
extra calls. Every request has a timeout and follows no redirect (`allow_redirects=False`,
and the session is capped at `max_redirects = 0`, so no other path could follow one
either): an answer that points elsewhere is an error naming where, so neither a request
body nor the token ever reaches another server. Retries on 429/503
are ours (http.send): Retry-After honoured, bounded.

A request that got no answer (no connection, or none in time) is not sent again, since a
write may have happened; and the client then sends nothing more to that site in this
command, so that a command waits `jira.timeout` once, not once per request.

Every answer is checked before it is used (the `_shape` functions below, one per kind of
answer): a 2xx whose JSON lacks what jiraflow reads, or has it in another type, is a
BadAnswer naming the request and what was wrong, never a KeyError further on.

The library's exceptions never leave this module: JIRAError's text includes the request
headers, which carry the token.

A client may be used from several threads at once (independent requests go out together,
see concurrency.py): the session is shared, and the site's kind is learnt by one thread while
the others wait for it.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from jiraflow.concurrency import together
from jiraflow.credentials import Credential
from jiraflow.errors import AuthError, JiraflowError, RemoteError
from jiraflow.http import CONNECT_TIMEOUT, RETRY_STATUSES, busy, reason, send
from jiraflow.jira.issues import Issue
from jiraflow.keys import is_key
from jiraflow.store import SiteCache

CLOUD, DATACENTER = "cloud", "datacenter"
ISSUE_FIELDS = "summary,issuetype,status,assignee,fixVersions"
# what a release needs to know of each issue: its fixVersions, and its project for a new version
SEARCH_FIELDS = [*ISSUE_FIELDS.split(","), "project"]
SEARCH_BATCH = 100  # keys per search: JQL stays short, and Cloud pages at 100 with fields
_QUOTED = re.compile(r"'([^']+)'")
WORKLOG_PAGE = 1000  # work logs per page (Jira answers up to 5000)
WORKLOG_PAGES = 100  # pages `worklogs` reads at most (100,000 work logs)
BULK_RUNNING = ("ENQUEUED", "RUNNING", "CANCEL_REQUESTED")  # a bulk task's status until it ends
BULK_ENDED = ("COMPLETE", "FAILED", "CANCELLED", "DEAD")
URL_HINT = "Check jira.url: it should be the site's address, e.g. https://acme.atlassian.net."


class IssueNotFound(RemoteError):
    """The site does not have the issue (or the user may not see it)."""


class Refused(RemoteError):
    """Jira answered with an error status (4xx); `messages` are its errorMessages and errors."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        status: int = 0,
        messages: list[str] | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.messages = messages or []


class Unavailable(RemoteError):
    """Jira could not be asked: no connection, no answer in time, busy after the retries,
    or a server error (5xx). Trying later may work; nothing can be said of the question."""


class BadAnswer(RemoteError):
    """Jira answered, but not with what the request returns: a redirect elsewhere, or JSON
    that lacks what jiraflow reads (or has it in another type)."""


class _Shape(ValueError):
    """What is wrong with an answer (turned into a BadAnswer naming the request)."""


class JiraClient:
    """One Jira site, with one credential."""

    def __init__(
        self,
        credential: Credential,
        *,
        kind: str = "",
        timeout: float = 15.0,
        cache: SiteCache | None = None,
        sleep: Any = time.sleep,
    ) -> None:
        self.url = credential.url
        self.credential = credential
        self.timeout = timeout
        self.cache = cache or SiteCache(None)
        cached = self.cache.get(self.url, "kind")
        self._kind = kind or (cached if cached in (CLOUD, DATACENTER) else "")
        self._sleep = sleep
        self._session: Any = None
        self._auth_kind = ""
        self._lock = threading.RLock()  # the kind and the session are made once, for all threads
        self._gone: Unavailable | None = None  # a request got no answer: ask nothing more

    # -- site facts (cached) -----------------------------------------------------------------
    @property
    def kind(self) -> str:
        if self._kind:
            return self._kind
        with self._lock:
            if not self._kind:
                info = self._request("GET", "serverInfo", api="2", shape=_server_info)
                kind = CLOUD if info.get("deploymentType") == "Cloud" else DATACENTER
                self.cache.put(self.url, "kind", kind)
                if self._auth_kind != kind:
                    self._session = None  # authenticate the way this kind of site expects
                self._kind = kind
        return self._kind

    @property
    def cloud(self) -> bool:
        return self.kind == CLOUD

    def myself(self, *, fresh: bool = False) -> dict[str, str]:
        """The token's user: {"id": accountId (Cloud) or name (Data Center), "display": ...}.
        `fresh` asks the site even when cached: `auth login` checks a token that way."""
        known = None if fresh else self.known_myself()
        if known is not None:
            return known
        me: dict[str, str] = self._request("GET", "myself", shape=partial(_me, cloud=self.cloud))
        self.cache.put(self.url, self._myself_key, me)
        return me

    def known_myself(self) -> dict[str, str] | None:
        """What myself() answered before (from the site cache; no request), else None."""
        cached = self.cache.get(self.url, self._myself_key)
        if not _is_me(cached):
            return None
        return {k: str(cached[k]) for k in ("id", "display", "email")}

    @property
    def _myself_key(self) -> str:
        return f"myself {self.credential.user}"

    # -- issues --------------------------------------------------------------------------------
    def issue(self, key: str, *, transitions: bool = False) -> Issue:
        params = {"fields": ISSUE_FIELDS}
        if transitions:
            params["expand"] = "transitions.fields"
        shape = partial(_issue, transitions=transitions)
        data = self._request("GET", f"issue/{key}", params=params, not_found=key, shape=shape)
        return Issue.from_json(data, cloud=self.cloud)

    def assign(self, key: str, user_id: str) -> None:
        """Cloud names the user by accountId (GDPR), Data Center by name (its UserBean)."""
        body = {"accountId": user_id} if self.cloud else {"name": user_id}
        self._request("PUT", f"issue/{key}/assignee", json=body)

    def transition(self, key: str, transition_id: str, fields: dict[str, Any]) -> None:
        body: dict[str, Any] = {"transition": {"id": transition_id}}
        if fields:
            body["fields"] = fields
        self._request("POST", f"issue/{key}/transitions", json=body)

    def has_comment(self, key: str, text: str) -> bool:
        """Whether one of the issue's latest comments contains `text` (to post only once)."""
        import json

        params = {"orderBy": "-created", "maxResults": "50"}
        path = f"issue/{key}/comment"
        page = self._request("GET", path, params=params, not_found=key, shape=_comments)
        return any(text in json.dumps(c.get("body")) for c in page["comments"])

    def comment(self, key: str, text: str) -> None:
        """A comment: Atlassian Document Format on Cloud (v3), plain text on Data Center."""
        body: Any = _document(text) if self.cloud else text
        self._request("POST", f"issue/{key}/comment", json={"body": body})

    def link(self, key: str, global_id: str, url: str, title: str, *, resolved: bool) -> None:
        """Link a web page (a pull request) on the issue; the globalId makes a repeat update
        the same link instead of adding another."""
        body = {
            "globalId": global_id,
            "application": {"type": "com.atlassian.bitbucket", "name": "Bitbucket"},
            "relationship": "pull request",
            "object": {
                "url": url,
                "title": title,
                "icon": {"title": "Pull request", "url16x16": ""},
                "status": {"resolved": resolved},
            },
        }
        self._request("POST", f"issue/{key}/remotelink", json=body, not_found=key)

    # -- search --------------------------------------------------------------------------------
    def search_keys(
        self,
        keys: list[str],
        *,
        transitions: bool = False,
        where: str = "",
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[list[Issue], list[str]]:
        """The issues of `keys` (that also meet the JQL condition `where`, when given), one
        search per SEARCH_BATCH keys (the searches sent together), and the keys not found. A
        key Jira does not know makes it refuse the whole query, so Data Center is asked not
        to validate it (it then only warns), and on Cloud the keys it names are dropped and
        the query sent again. `progress(done, total)` hears how many keys are answered as
        each search returns."""
        lock = threading.Lock()
        answered = 0

        def batch(chunk: list[str]) -> list[Issue]:
            nonlocal answered
            found = self._search_batch(chunk, transitions, where)
            if progress is not None:
                with lock:
                    answered += len(chunk)
                    progress(answered, len(keys))
            return found

        batches = [
            partial(batch, keys[i : i + SEARCH_BATCH]) for i in range(0, len(keys), SEARCH_BATCH)
        ]
        found = [issue for batch in together(batches) for issue in batch]
        have = {issue.key for issue in found}
        return found, [key for key in keys if key not in have]

    def _search_batch(self, keys: list[str], transitions: bool, where: str) -> list[Issue]:
        remaining = list(keys)
        for attempt in range(1, 4):
            if not remaining:
                return []
            jql = f"key in ({', '.join(remaining)})" + (f" AND ({where})" if where else "")
            warnings: list[str] = []
            try:
                found = self.search(jql, transitions=transitions, warnings=warnings)
                # Data Center only warns; a warning about something else than our keys is
                # about the condition, which Cloud would refuse
                odd = [w for w in warnings if not set(_QUOTED.findall(w)) & set(remaining)]
                if where and odd:
                    raise Refused(f"Jira refused the query: {odd[0]}", None, 400, odd)
                return found
            except Refused as exc:
                named = {m for text in exc.messages for m in _QUOTED.findall(text)}
                unknown = [key for key in remaining if key in named]
                if exc.status != 400 or not unknown or attempt == 3:
                    raise
                remaining = [key for key in remaining if key not in unknown]
        raise AssertionError("unreachable")  # pragma: no cover

    def search(
        self,
        jql: str,
        *,
        transitions: bool = False,
        warnings: list[str] | None = None,
        limit: int | None = None,
    ) -> list[Issue]:
        """Every issue the query finds (the first `limit`, when given), following the pages:
        /search/jql on Cloud (page tokens), /search on Data Center (startAt, and
        `validateQuery: false`, Data Center's boolean: its warningMessages are added to
        `warnings`)."""
        most = min(limit, SEARCH_BATCH) if limit else SEARCH_BATCH
        body: dict[str, Any] = {"jql": jql, "fields": SEARCH_FIELDS, "maxResults": most}
        expand = ["transitions.fields"] if transitions else []
        issues: list[Issue] = []
        shape = partial(_search_page, transitions=transitions, cloud=self.cloud)
        if self.cloud:
            if expand:
                body["expand"] = ",".join(expand)
            seen: set[str] = set()
            while True:
                page = self._request("POST", "search/jql", json=body, shape=shape)
                issues += [Issue.from_json(i, cloud=True) for i in page["issues"]]
                token = page.get("nextPageToken")
                if page.get("isLast", True) or not token or (limit and len(issues) >= limit):
                    return issues[:limit]
                if token in seen:  # a server that pages in a circle would never end
                    raise self._bad("POST", "search/jql", "the same nextPageToken twice")
                seen.add(token)
                body["nextPageToken"] = token
        body.update(validateQuery=False, startAt=0)
        if expand:
            body["expand"] = expand
        while True:
            page = self._request("POST", "search", json=body, shape=shape)
            if warnings is not None:
                warnings += page.get("warningMessages") or []
            batch = page["issues"]
            issues += [Issue.from_json(i, cloud=False) for i in batch]
            body["startAt"] += len(batch)
            done = not batch or body["startAt"] >= page["total"]
            if done or (limit and len(issues) >= limit):
                return issues[:limit]

    # -- versions --------------------------------------------------------------------------------
    def versions(self, project: str) -> list[dict[str, Any]]:
        """The project's versions (id, name, released, ...)."""
        found: list[dict[str, Any]] = self._request(
            "GET", f"project/{project}/versions", shape=_versions
        )
        return found

    def create_version(
        self, project_id: str, name: str, *, released: bool, date: str | None
    ) -> dict[str, Any]:
        if not project_id.isdigit():  # from a search that did not say the issue's project
            raise self._bad("POST", "search", "an issue without its project's id")
        body: dict[str, Any] = {"name": name, "projectId": int(project_id), "released": released}
        if date:
            body["releaseDate"] = date
        created: dict[str, Any] = self._request("POST", "version", json=body, shape=_version)
        return created

    def release_version(self, version_id: str, date: str) -> None:
        self._request("PUT", f"version/{version_id}", json={"released": True, "releaseDate": date})

    def add_fix_version(self, key: str, version_id: str) -> None:
        """Add the version to the issue's fixVersions, keeping the others."""
        body = {"update": {"fixVersions": [{"add": {"id": version_id}}]}}
        self._request("PUT", f"issue/{key}", json=body, not_found=key)

    # -- work logs -------------------------------------------------------------------------------
    def add_worklog(
        self, key: str, time_spent: str, started: datetime.datetime, comment: str = ""
    ) -> dict[str, Any]:
        """Log `time_spent` ("1h 30m") on the issue, started at `started` (an aware time);
        the comment in ADF on Cloud (v3), plain text on Data Center. Returns the work log
        as `worklogs` gives each."""
        body: dict[str, Any] = {"timeSpent": time_spent, "started": jira_timestamp(started)}
        if comment:
            body["comment"] = _document(comment) if self.cloud else comment
        shape = partial(_worklog, cloud=self.cloud, where="the new work log")
        logged: dict[str, Any] = self._request(
            "POST", f"issue/{key}/worklog", json=body, not_found=key, shape=shape
        )
        return logged

    def worklogs(self, key: str) -> list[dict[str, Any]]:
        """Every work log of the issue (all pages, at most WORKLOG_PAGES), oldest first as
        Jira lists them: each {"id", "author": accountId (Cloud) or name (Data Center),
        "started": an aware datetime, "seconds", "time_spent", "comment": its text}. Each
        page must start where it was asked to (a server ignoring startAt would list the
        first page again and again); a work log listed twice counts once."""
        found: dict[str, dict[str, Any]] = {}
        path = f"issue/{key}/worklog"
        cloud = self.cloud
        start = 0

        def shape(data: Any) -> dict[str, Any]:
            page = _worklog_page(data, cloud=cloud)
            page["startAt"] = _optional(data, "startAt", int, "the work logs")
            return page

        for _ in range(WORKLOG_PAGES):
            params = {"startAt": str(start), "maxResults": str(WORKLOG_PAGE)}
            page = self._request("GET", path, params=params, not_found=key, shape=shape)
            if page["startAt"] != start:
                at = "no startAt" if page["startAt"] is None else f"startAt {page['startAt']}"
                raise self._bad("GET", path, f"a page with {at} when asked for startAt {start}")
            for log in page["worklogs"]:
                found.setdefault(log["id"], log)
            start += len(page["worklogs"])
            if not page["worklogs"] or start >= page["total"]:
                return list(found.values())
        raise BadAnswer(
            f"Jira at {self.url} lists more than {WORKLOG_PAGES * WORKLOG_PAGE} work logs on "
            f"{key}: jiraflow reads at most {WORKLOG_PAGES} pages of {WORKLOG_PAGE}",
            f"See them in Jira: {self.url}/browse/{key}",
        )

    # -- bulk operations (Jira Cloud only: bulk.py submits, polls and reads with these) ---------
    def bulk_edit(self, keys: list[str], version_id: str) -> str:
        """Submit the bulk edit that adds the version to the issues' fixVersions; the task id."""
        body = {
            "selectedIssueIdsOrKeys": keys,
            "selectedActions": ["fixVersions"],
            "editedFieldsInput": {
                "multipleVersionPickerFields": [
                    {
                        "fieldId": "fixVersions",
                        "bulkEditMultiSelectFieldOption": "ADD",
                        "versions": [{"versionId": version_id}],
                    }
                ]
            },
            "sendBulkNotification": True,  # Jira's default: one digest e-mail to the watchers
        }
        task: str = self._request("POST", "bulk/issues/fields", json=body, api="3", shape=_task_id)
        return task

    def bulk_transition(self, groups: list[tuple[str, list[str]]]) -> str:
        """Submit the bulk transition of each group (a transition id, and keys of issues of one
        workflow), all in one task; the task id."""
        body = {
            "bulkTransitionInputs": [
                {"selectedIssueIdsOrKeys": keys, "transitionId": transition_id}
                for transition_id, keys in groups
            ],
            "sendBulkNotification": True,  # Jira's default: one digest e-mail to the watchers
        }
        path = "bulk/issues/transition"
        task: str = self._request("POST", path, json=body, api="3", shape=_task_id)
        return task

    def bulk_task(self, task: str) -> dict[str, Any]:
        """Where the task stands: {"status", "percent" (0-100), "processed": the issue ids it
        changed, "failed": issue id -> Jira's reasons}."""
        state: dict[str, Any] = self._request(
            "GET", f"bulk/queue/{task}", api="3", shape=_bulk_task
        )
        return state

    def bulk_fetch(self, keys: list[str], *, transitions: bool = False) -> list[Issue]:
        """The issues of `keys` in one request (keys Jira lacks are left out), with their
        transitions when asked."""
        body: dict[str, Any] = {"issueIdsOrKeys": keys, "fields": SEARCH_FIELDS}
        if transitions:
            body["expand"] = ["transitions.fields"]  # as for one issue: with their screens
        shape = partial(_fetched, transitions=transitions)
        found = self._request("POST", "issue/bulkfetch", json=body, api="3", shape=shape)
        return [Issue.from_json(data, cloud=True) for data in found]

    def pause(self, seconds: float) -> None:
        """Wait, with the sleep this client was given (tests give one that records it)."""
        self._sleep(seconds)

    @staticmethod
    def may_have_arrived(exc: Exception) -> bool:
        """Whether a write that failed with `exc` may have been carried out: Jira got the
        request but its answer did not come (none in time, the connection closed before it) or
        was not what it should be (a 201 with a body jiraflow cannot read). Not when the
        connection was never made (refused, no such host, TLS failed): trying again is safe. The
        client raises these while handling what went wrong, which stays in `__context__`."""
        import requests

        cause = exc.__context__
        if isinstance(exc, BadAnswer):
            return isinstance(cause, ValueError)  # the answer's shape; not a redirect (3xx)
        if not isinstance(exc, Unavailable) or not isinstance(cause, requests.RequestException):
            return False  # Jira answered (busy, a server error): it says it did not
        if isinstance(cause, (requests.ConnectTimeout, requests.exceptions.SSLError)):
            return False
        if isinstance(cause, (requests.exceptions.ProxyError, requests.exceptions.InvalidURL)):
            return False
        if isinstance(cause, requests.ConnectionError):
            from urllib3.exceptions import NewConnectionError

            inner = cause.args[0] if cause.args else None
            return not isinstance(getattr(inner, "reason", inner), NewConnectionError)
        return True

    # -- HTTP ------------------------------------------------------------------------------------
    def _api(self, api: str | None) -> str:
        return api or ("3" if self.cloud else "2")

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        api: str | None = None,
        not_found: str | None = None,
        shape: Callable[[Any], Any] | None = None,
    ) -> Any:
        """One request (tried again only on 429/503), its answer checked by `shape` (for a
        request whose answer is used) and returned."""
        gone = self._gone
        if gone is not None:  # a request got no answer: this one would wait as long
            raise Unavailable(gone.message, gone.hint)
        url = f"{self.url}/rest/api/{self._api(api)}/{path}"
        response = send(
            self._client_session(),
            method,
            url,
            service="Jira",
            timeout=self.timeout,
            unanswered=self._unanswered,
            sleep=self._sleep,
            params=params,
            json=json,
        )
        status = response.status_code
        if status >= 300:
            raise self._error(status, response, method, path, not_found)
        if shape is None:  # a write: what it answers is not used
            return None
        try:
            data = response.json() if response.content else None
        except ValueError:
            raise BadAnswer(
                f"Jira at {self.url} answered {method} {path} with something not JSON",
                URL_HINT,
            ) from None
        try:
            return shape(data)
        except _Shape as exc:
            raise self._bad(method, path, str(exc)) from None

    def _unanswered(self, exc: Exception) -> Unavailable:
        """No answer (no connection, none in time): nothing more goes to this site."""
        self._gone = Unavailable(
            f"Jira at {self.url} cannot be reached ({reason(exc)})",
            "Check the URL and your connection, then try again.",
        )
        return self._gone

    def _bad(self, method: str, path: str, what: str) -> BadAnswer:
        return BadAnswer(
            f"Jira at {self.url} answered {method} {path} with {what}",
            f"{URL_HINT} If it is, something between you and Jira changes its answers; "
            "try again, with --debug to see them.",
        )

    def _error(
        self, status: int, response: Any, method: str, path: str, not_found: str | None
    ) -> JiraflowError:
        messages = _messages(response)
        detail = "; ".join(messages)
        user = self.credential.user or "the token"
        if 300 <= status < 400:
            where = response.headers.get("Location") or "nowhere it says"
            return BadAnswer(
                f"Jira at {self.url} answered {method} {path} with a redirect to {where}",
                "Set jira.url to the address Jira really answers at (jiraflow follows no "
                "redirect: the request and your token would go elsewhere).",
            )
        if status == 401:
            hint = f"Run `jiraflow auth login jira --url {self.url}` with a valid API token."
            if not self.credential.user and self._kind != DATACENTER:
                hint = "Jira Cloud also needs your e-mail: set JIRAFLOW_JIRA_USER or jira.user."
            return AuthError(
                f"Jira at {self.url} refused the credentials of {user} ({self.credential.source})",
                hint,
            )
        if status == 404 and not_found:
            return IssueNotFound(
                f"{not_found} was not found at {self.url}" + (f": {detail}" if detail else ""),
                "Check the key, and that your account may see the issue.",
            )
        if status in RETRY_STATUSES:
            return Unavailable(*busy("Jira", self.url, status, response))
        what = f"{method} {path} ({status}{': ' + detail if detail else ''})"
        if status >= 500:
            return Unavailable(
                f"Jira at {self.url} failed on {what}", "Try again; if it goes on, ask its admins."
            )
        return Refused(
            f"Jira refused {what}",
            "Run with --debug for details, or check the issue in Jira.",
            status,
            messages,
        )

    def _client_session(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._new_session()
            return self._session

    def _new_session(self) -> Any:
        """The session the jira library would make for JIRA(...), built from its public names
        (ResilientSession, TokenAuth, JIRA.DEFAULT_OPTIONS' headers) without the JIRA object:
        the same headers and auth, no request sent, no retries of its own (max_retries=0)."""
        from jira import JIRA
        from jira.client import TokenAuth
        from jira.resilientsession import ResilientSession

        self._auth_kind = self._kind_for_auth()
        session = ResilientSession(timeout=(CONNECT_TIMEOUT, self.timeout), max_retries=0)
        headers = JIRA.DEFAULT_OPTIONS["headers"]  # Content-Type, X-Atlassian-Token, ...
        assert isinstance(headers, dict)
        session.headers.update(headers)
        if self._auth_kind == CLOUD:
            session.auth = (self.credential.user, self.credential.token)
        else:
            session.auth = TokenAuth(self.credential.token)
        # Whatever sends through this session, a redirect raises TooManyRedirects before a
        # request goes to where it points (requests checks the count before each hop; even
        # with allow_redirects=False it prepares the next hop, so that is how ours come back).
        session.max_redirects = 0
        return session

    def _kind_for_auth(self) -> str:
        """Cloud takes e-mail + API token (Basic), Data Center a personal access token
        (Bearer). Before the kind is known, a login that is an e-mail address means Cloud."""
        if self._kind:
            return self._kind
        return CLOUD if "@" in self.credential.user else DATACENTER


def _messages(response: Any) -> list[str]:
    """Jira's errorMessages and errors of an error answer, whatever shape the body has."""
    if response is None:
        return []
    try:
        data = response.json()
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    listed = data.get("errorMessages")
    parts = [str(m) for m in listed] if isinstance(listed, list) else []
    errors = data.get("errors")
    if isinstance(errors, dict):
        parts += [f"{k}: {v}" for k, v in errors.items()]
    return parts


# -- what each answer must hold (the one place that checks Jira's JSON) -----------------------
def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Shape(f"{_kind_of(value)} where {where} should be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Shape(f"{_kind_of(value)} where {where} should be a list")
    return value


def _optional(data: dict[str, Any], name: str, kind: type, where: str) -> Any:
    """data[name] when it is of `kind`; None when absent or null; else _Shape."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _Shape(f"{_kind_of(value)} where {where}.{name} should be {_kind_of(kind())}")
    return value


def _text(data: dict[str, Any], name: str, where: str, *, required: bool = False) -> str:
    value = _optional(data, name, str, where)
    if value is None and required:
        raise _Shape(f"no {name} in {where}")
    return value or ""


def _is_id(value: Any) -> bool:
    """Whether the value is a numeric id as Jira sends one: "10001", or 10001."""
    return not isinstance(value, bool) and isinstance(value, int | str) and str(value).isdigit()


def _ident(data: dict[str, Any], name: str, where: str) -> str:
    """A numeric id (Jira sends "10001", or 10001): it goes into paths and bodies."""
    value = data.get(name)
    if not _is_id(value):
        raise _Shape(f"{_kind_of(value)} where {where}.{name} should be a numeric id")
    return str(value)


def _server_info(data: Any) -> dict[str, Any]:
    info = _object(data, "the server info")
    _text(info, "deploymentType", "the server info")
    return info


def _me(data: Any, *, cloud: bool) -> dict[str, str]:
    user = _object(data, "the user")
    field = "accountId" if cloud else "name"
    return {
        "id": _text(user, field, "the user", required=True),
        "display": _text(user, "displayName", "the user"),
        "email": _text(user, "emailAddress", "the user"),
    }


def _is_me(cached: Any) -> bool:
    return (
        isinstance(cached, dict)
        and all(isinstance(cached.get(k), str) for k in ("id", "display", "email"))
        and bool(cached["id"])
    )


def _status(value: Any, where: str) -> dict[str, Any]:
    status = _object(value, where)
    category = _optional(status, "statusCategory", dict, where) or {}
    return {
        "name": _text(status, "name", where, required=True),
        "statusCategory": {"key": _text(category, "key", f"{where}.statusCategory")},
    }


def _named(value: Any, where: str) -> dict[str, Any]:
    return {"name": _text(_object(value, where), "name", where)}


def _transition(value: Any, where: str) -> dict[str, Any]:
    transition = _object(value, where)
    screen: dict[str, Any] = {}
    for field_id, spec in (_optional(transition, "fields", dict, where) or {}).items():
        place = f"{where}.fields.{field_id}"
        spec = _object(spec, place)
        allowed = _optional(spec, "allowedValues", list, place)
        schema = _optional(spec, "schema", dict, place) or {}
        screen[str(field_id)] = {
            "required": _optional(spec, "required", bool, place) or False,
            "hasDefaultValue": _optional(spec, "hasDefaultValue", bool, place) or False,
            "name": _text(spec, "name", place),
            "schema": {"type": _text(schema, "type", f"{place}.schema")},
            **({"allowedValues": [_option(o, place) for o in allowed]} if allowed else {}),
        }
    return {
        "id": _ident(transition, "id", where),
        "name": _text(transition, "name", where),
        "to": _status(transition.get("to"), f"{where}.to"),
        "fields": screen,
        "isAvailable": _optional(transition, "isAvailable", bool, where) is not False,
    }


def _option(value: Any, where: str) -> dict[str, Any]:
    option = _object(value, f"{where}.allowedValues[]")
    kept = {k: option[k] for k in ("name", "value") if isinstance(option.get(k), str)}
    return {"id": _ident(option, "id", f"{where}.allowedValues[]"), **kept}


def _issue(data: Any, *, transitions: bool = False) -> dict[str, Any]:
    """An issue as Issue.from_json reads it, every value of the type it expects."""
    issue = _object(data, "the issue")
    key = _text(issue, "key", "the issue", required=True)
    if not is_key(key):
        raise _Shape(f"the issue key {key[:40]!r}, which is no issue key")
    where = f"issue {key}"
    fields = _object(issue.get("fields"), f"{where}.fields")
    assignee = _optional(fields, "assignee", dict, f"{where}.fields") or {}
    project = _optional(fields, "project", dict, f"{where}.fields")
    place = f"{where}.fields.assignee"
    clean: dict[str, Any] = {
        "key": key,
        "fields": {
            "summary": _text(fields, "summary", f"{where}.fields"),
            "issuetype": _named(fields.get("issuetype") or {}, f"{where}.fields.issuetype"),
            "status": _status(fields.get("status") or {"name": ""}, f"{where}.fields.status"),
            "assignee": {
                k: _optional(assignee, k, str, place) for k in ("accountId", "name", "displayName")
            },
            "fixVersions": [
                _named(v, f"{where}.fields.fixVersions[]")
                for v in _optional(fields, "fixVersions", list, f"{where}.fields") or []
            ],
            "project": {"id": _ident(project, "id", f"{where}.fields.project")} if project else {},
        },
    }
    if issue.get("id") is not None:  # bulk tasks name issues by id
        clean["id"] = _ident(issue, "id", where)
    if transitions:
        listed = _list(issue.get("transitions"), f"{where}.transitions")
        clean["transitions"] = [_transition(t, f"{where}.transitions[]") for t in listed]
    return clean


def _comments(data: Any) -> dict[str, Any]:
    page = _object(data, "the comments")
    listed = _optional(page, "comments", list, "the comments") or []
    return {"comments": [_object(c, "a comment") for c in listed]}


def _search_page(data: Any, *, transitions: bool, cloud: bool) -> dict[str, Any]:
    page = _object(data, "the search result")
    clean: dict[str, Any] = {
        "issues": [
            _issue(i, transitions=transitions)
            for i in _list(page.get("issues"), "the search result's issues")
        ]
    }
    if cloud:
        clean["nextPageToken"] = _optional(page, "nextPageToken", str, "the search result")
        clean["isLast"] = _optional(page, "isLast", bool, "the search result")
        if clean["isLast"] is None:
            del clean["isLast"]
        return clean
    total = _optional(page, "total", int, "the search result")
    if total is None:
        raise _Shape("no total in the search result")
    warned = _optional(page, "warningMessages", list, "the search result") or []
    clean["total"] = total
    clean["warningMessages"] = [str(w) for w in warned]
    return clean


def _version(data: Any) -> dict[str, Any]:
    version = _object(data, "the version")
    clean = dict(version)
    clean["id"] = _ident(version, "id", "the version")
    clean["name"] = _text(version, "name", "the version", required=True)
    clean["released"] = bool(_optional(version, "released", bool, "the version"))
    return clean


def _versions(data: Any) -> list[dict[str, Any]]:
    return [_version(v) for v in _list(data, "the project's versions")]


def _task_id(data: Any) -> str:
    task = _text(_object(data, "the submitted task"), "taskId", "the submitted task")
    if not task or not task.isalnum():
        raise _Shape(f"the task id {task[:40]!r}, which is no task id")
    return task


def _bulk_task(data: Any) -> dict[str, Any]:
    where = "the bulk task"
    task = _object(data, where)
    status = _text(task, "status", where, required=True)
    if status not in BULK_RUNNING + BULK_ENDED:
        raise _Shape(f"the task status {status[:40]!r}, which Jira does not have")
    percent = _optional(task, "progressPercent", int, where) or 0
    processed = _list(task.get("processedAccessibleIssues") or [], f"{where}'s processed issues")
    failed = _optional(task, "failedAccessibleIssues", dict, where) or {}
    ids = set()
    for issue_id in processed:
        if not _is_id(issue_id):
            raise _Shape(f"{where}'s processed issue {str(issue_id)[:40]!r}, which is no id")
        ids.add(str(issue_id))
    reasons: dict[str, list[str]] = {}
    for issue_id, why in failed.items():
        if not str(issue_id).isdigit():
            raise _Shape(f"{where}'s failed issue {str(issue_id)[:40]!r}, which is no id")
        listed = _list(why, f"{where}'s reasons for issue {issue_id}")
        reasons[str(issue_id)] = [str(reason) for reason in listed]
    return {
        "status": status,
        "percent": max(0, min(percent, 100)),
        "processed": ids,
        "failed": reasons,
    }


def _fetched(data: Any, *, transitions: bool = False) -> list[dict[str, Any]]:
    page = _object(data, "the fetched issues")
    listed = _list(page.get("issues"), "the fetched issues' issues")
    return [_issue(i, transitions=transitions) for i in listed]


# -- work logs ------------------------------------------------------------------------------------
def jira_timestamp(moment: datetime.datetime) -> str:
    """A time as Jira's REST API takes it: 2026-12-07T09:30:00.000+0100 (no other form)."""
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + (moment.strftime("%z") or "+0000")
    )


def _document(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph per blank-line-separated block."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": p}]}
        for p in text.split("\n\n")
        if p
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def _document_text(value: Any) -> str:
    """The text of an Atlassian Document (or of a plain string)."""
    if isinstance(value, str):
        return value
    blocks: list[str] = []

    def text_of(node: Any) -> str:
        if not isinstance(node, dict):
            return ""
        if isinstance(node.get("text"), str):
            return str(node["text"])
        content = node.get("content")
        return "".join(text_of(n) for n in content) if isinstance(content, list) else ""

    content = value.get("content") if isinstance(value, dict) else None
    for node in content if isinstance(content, list) else []:
        blocks.append(text_of(node))
    return "\n\n".join(b for b in blocks if b)


def _worklog(data: Any, *, cloud: bool, where: str = "a work log") -> dict[str, Any]:
    worklog = _object(data, where)
    seconds = _optional(worklog, "timeSpentSeconds", int, where)
    if seconds is None or seconds < 0:
        raise _Shape(f"no timeSpentSeconds in {where}")
    started = _text(worklog, "started", where, required=True)
    try:
        when = datetime.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise _Shape(f"{where}.started {started[:40]!r}, which is no time") from None
    author = _optional(worklog, "author", dict, where) or {}
    return {
        "id": _ident(worklog, "id", where),
        "author": _text(author, "accountId" if cloud else "name", f"{where}.author"),
        "started": when,
        "seconds": seconds,
        "time_spent": _text(worklog, "timeSpent", where),
        "comment": _document_text(worklog.get("comment")),
    }


def _worklog_page(data: Any, *, cloud: bool) -> dict[str, Any]:
    page = _object(data, "the work logs")
    total = _optional(page, "total", int, "the work logs")
    if total is None:
        raise _Shape("no total in the work logs")
    listed = _list(page.get("worklogs"), "the work logs' worklogs")
    return {"total": total, "worklogs": [_worklog(w, cloud=cloud) for w in listed]}
