"""Jira Cloud and Data Center over HTTP. The only module that imports the `jira` library.

The pycontribs client is configured so that it does what the request budgets allow and no
more: no serverInfo call on construction (`get_server_info=False`), no update check, no
retries of its own (`max_retries=0`: it would sleep for minutes), a timeout on every request.
Requests go through its authenticated session to endpoints built here, because its
higher-level helpers cost extra calls (a user search before assigning, a transitions GET
before transitioning). Retries on 429/503 are ours: Retry-After honoured, bounded.

The library's exceptions never leave this module: JIRAError's text includes the request
headers, which carry the token.

A client may be used from several threads at once (independent requests go out together,
see retry.py): the session is shared, and the site's kind is learnt by one thread while
the others wait for it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from jiraflow.credentials import Credential
from jiraflow.errors import AuthError, JiraflowError, RemoteError
from jiraflow.issues import Issue
from jiraflow.retry import CONNECT_TIMEOUT, MAX_WAIT, TRIES, reason, retry_wait, together
from jiraflow.store import SiteCache

CLOUD, DATACENTER = "cloud", "datacenter"
ISSUE_FIELDS = "summary,issuetype,status,assignee,fixVersions"
# what a release needs to know of each issue: its fixVersions, and its project for a new version
SEARCH_FIELDS = [*ISSUE_FIELDS.split(","), "project"]
SEARCH_BATCH = 100  # keys per search: JQL stays short, and Cloud pages at 100 with fields
_QUOTED = re.compile(r"'([^']+)'")


class IssueNotFound(RemoteError):
    """The site does not have the issue (or the user may not see it)."""


class Refused(RemoteError):
    """Jira answered with an error status; `messages` are its errorMessages and errors."""

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
        self._kind = kind or self.cache.get(self.url, "kind") or ""
        self._sleep = sleep
        self._session: Any = None
        self._auth_kind = ""
        self._lock = threading.RLock()  # the kind and the session are made once, for all threads

    # -- site facts (cached) -----------------------------------------------------------------
    @property
    def kind(self) -> str:
        if self._kind:
            return self._kind
        with self._lock:
            if not self._kind:
                info = self._request("GET", "serverInfo", api="2")
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
        key = f"myself {self.credential.user}"
        cached = self.cache.get(self.url, key)
        if isinstance(cached, dict) and not fresh:
            return cached
        data = self._request("GET", "myself")
        me = {
            "id": str(data.get("accountId" if self.cloud else "name") or ""),
            "display": str(data.get("displayName") or ""),
            "email": str(data.get("emailAddress") or ""),
        }
        self.cache.put(self.url, key, me)
        return me

    # -- issues --------------------------------------------------------------------------------
    def issue(self, key: str, *, transitions: bool = False) -> Issue:
        params = {"fields": ISSUE_FIELDS}
        if transitions:
            params["expand"] = "transitions.fields"
        data = self._request("GET", f"issue/{key}", params=params, not_found=key)
        return Issue.from_json(data, cloud=self.cloud)

    def assign(self, key: str, user_id: str) -> None:
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
        page = self._request("GET", f"issue/{key}/comment", params=params, not_found=key)
        return any(text in json.dumps(c.get("body")) for c in page.get("comments") or [])

    def comment(self, key: str, text: str) -> None:
        """A comment: Atlassian Document Format on Cloud (v3), plain text on Data Center."""
        body: Any = text
        if self.cloud:
            paragraphs = [
                {"type": "paragraph", "content": [{"type": "text", "text": p}]}
                for p in text.split("\n\n")
                if p
            ]
            body = {"type": "doc", "version": 1, "content": paragraphs}
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
        key Jira does not know makes it refuse the whole query, so Data Center is asked to
        only warn, and on Cloud the keys it names are dropped and the query sent again.
        `progress(done, total)` hears how many keys are answered as each search returns."""
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
        /search/jql on Cloud (page tokens), /search on Data Center (startAt,
        validateQuery=warn: its warningMessages are added to `warnings`)."""
        most = min(limit, SEARCH_BATCH) if limit else SEARCH_BATCH
        body: dict[str, Any] = {"jql": jql, "fields": SEARCH_FIELDS, "maxResults": most}
        expand = ["transitions.fields"] if transitions else []
        issues: list[Issue] = []
        if self.cloud:
            if expand:
                body["expand"] = ",".join(expand)
            while True:
                page = self._request("POST", "search/jql", json=body)
                issues += [Issue.from_json(i, cloud=True) for i in page.get("issues") or []]
                token = page.get("nextPageToken")
                if page.get("isLast", True) or not token or (limit and len(issues) >= limit):
                    return issues[:limit]
                body["nextPageToken"] = token
        body.update(validateQuery="warn", startAt=0)
        if expand:
            body["expand"] = expand
        while True:
            page = self._request("POST", "search", json=body)
            if warnings is not None:
                warnings += [str(w) for w in page.get("warningMessages") or []]
            batch = page.get("issues") or []
            issues += [Issue.from_json(i, cloud=False) for i in batch]
            body["startAt"] += len(batch)
            done = not batch or body["startAt"] >= int(page.get("total") or 0)
            if done or (limit and len(issues) >= limit):
                return issues[:limit]

    # -- versions --------------------------------------------------------------------------------
    def versions(self, project: str) -> list[dict[str, Any]]:
        """The project's versions (id, name, released, ...)."""
        data = self._request("GET", f"project/{project}/versions")
        return data if isinstance(data, list) else []

    def create_version(
        self, project_id: str, name: str, *, released: bool, date: str | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "projectId": int(project_id), "released": released}
        if date:
            body["releaseDate"] = date
        data = self._request("POST", "version", json=body)
        return data if isinstance(data, dict) else {}

    def release_version(self, version_id: str, date: str) -> None:
        self._request("PUT", f"version/{version_id}", json={"released": True, "releaseDate": date})

    def add_fix_version(self, key: str, version_id: str) -> None:
        """Add the version to the issue's fixVersions, keeping the others."""
        body = {"update": {"fixVersions": [{"add": {"id": version_id}}]}}
        self._request("PUT", f"issue/{key}", json=body, not_found=key)

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
    ) -> Any:
        url = f"{self.url}/rest/api/{self._api(api)}/{path}"
        session = self._client_session()
        from jira import JIRAError
        from requests import RequestException

        for attempt in range(1, TRIES + 1):
            try:
                response = session.request(method, url, params=params, json=json)
            except JIRAError as exc:
                status = exc.status_code or 0
                wait = retry_wait(exc.response, attempt) if status in (429, 503) else None
                if wait is not None and attempt < TRIES:
                    self._sleep(wait)
                    continue
                raise self._error(status, exc.response, method, path, not_found) from None
            except RequestException as exc:
                raise RemoteError(
                    f"Jira at {self.url} cannot be reached ({reason(exc)})",
                    "Check the URL and your connection, then try again.",
                ) from None
            if response.status_code == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise RemoteError(
                    f"Jira at {self.url} answered {method} {path} with something not JSON",
                    "Check jira.url: it should be the site's address, e.g. https://acme.atlassian.net.",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(
        self, status: int, response: Any, method: str, path: str, not_found: str | None
    ) -> JiraflowError:
        messages = _messages(response)
        detail = "; ".join(messages)
        user = self.credential.user or "the token"
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
        if status == 429 or status == 503:
            return RemoteError(
                f"Jira at {self.url} is busy ({status}) and stayed so after {TRIES} tries, "
                f"or asked for a wait longer than {MAX_WAIT:.0f} s",
                "Try again in a minute.",
            )
        what = f"{method} {path}"
        return Refused(
            f"Jira refused {what} ({status}{': ' + detail if detail else ''})",
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
        from jira import JIRA

        self._auth_kind = self._kind_for_auth()
        auth: dict[str, Any] = (
            {"basic_auth": (self.credential.user, self.credential.token)}
            if self._auth_kind == CLOUD
            else {"token_auth": self.credential.token}
        )
        client = JIRA(
            server=self.url,
            options={"check_update": False},
            get_server_info=False,
            validate=False,
            max_retries=0,
            timeout=(CONNECT_TIMEOUT, self.timeout),
            **auth,
        )
        return client._session

    def _kind_for_auth(self) -> str:
        """Cloud takes e-mail + API token (Basic), Data Center a personal access token
        (Bearer). Before the kind is known, a login that is an e-mail address means Cloud."""
        if self._kind:
            return self._kind
        return CLOUD if "@" in self.credential.user else DATACENTER


def _messages(response: Any) -> list[str]:
    if response is None:
        return []
    try:
        data = response.json()
    except ValueError:
        return []
    if not isinstance(data, dict):
        return []
    parts = [str(m) for m in data.get("errorMessages") or []]
    parts += [f"{k}: {v}" for k, v in (data.get("errors") or {}).items()]
    return parts
