"""Bitbucket Cloud (REST 2.0) and Data Center (REST 1.0) behind one interface, over requests.

What jiraflow needs of Bitbucket is small: who am I, the pull requests of a branch, the
default reviewers (the API does not apply them to a new pull request, so we fetch them and
drop the author), and creating a pull request without ever making a second one for the same
source and destination (Cloud answers a repeated POST with the open one, Data Center with a
409 carrying it).

A token goes only to the site it was stored for: every URL is built from the repository's
API address, paging links are followed only below it, and redirects are not followed.
Retries on 429/503 are bounded (see retry.py). requests' exceptions never leave the module.
A client may be used from several threads at once: they share one session (made once).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jiraflow.credentials import Credential
from jiraflow.errors import AuthError, ConfigError, JiraflowError, RemoteError
from jiraflow.forge import Repository
from jiraflow.retry import CONNECT_TIMEOUT, MAX_WAIT, RETRY_STATUSES, TRIES, reason, retry_wait
from jiraflow.store import SiteCache

ACCESS_TOKEN_USER = "x-token-auth"  # Cloud's name for "a repository/project/workspace token"
PAGE = 50
APP_PASSWORD_PREFIX = "ATBB"
CLOUD_TOKEN_HELP = (
    "Create an API token with scopes (read:user, read:repository, read:pullrequest, "
    "write:pullrequest) and log in with your Atlassian e-mail: "
    "`jiraflow auth login bitbucket --user you@example.com`."
)


@dataclass
class User:
    id: str  # Cloud: uuid; Data Center: user name (slug)
    name: str  # Cloud: nickname; Data Center: user name
    display: str
    account_id: str = ""  # Cloud: the Atlassian account id, the other way to name a user

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "display": self.display}

    def is_named(self, ident: str) -> bool:
        """Whether an id (uuid, account id or Data Center name) is this user's."""
        return bool(ident) and ident.lower() in {self.id.lower(), self.account_id.lower()}


@dataclass
class Reviewer:
    user: User
    approved: bool
    status: str  # APPROVED, UNAPPROVED, NEEDS_WORK (Cloud: approved / changes_requested)

    def to_json(self) -> dict[str, Any]:
        return {**self.user.to_json(), "approved": self.approved, "status": self.status}


@dataclass
class PullRequest:
    id: int
    title: str
    state: str  # OPEN, MERGED, DECLINED, SUPERSEDED
    source: str
    destination: str
    url: str
    author: User
    reviewers: list[Reviewer] = field(default_factory=list)
    draft: bool = False
    source_commit: str = ""
    merge_commit: str = ""

    @property
    def approvals(self) -> int:
        return sum(1 for r in self.reviewers if r.approved)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "source": self.source,
            "destination": self.destination,
            "url": self.url,
            "author": self.author.to_json(),
            "reviewers": [r.to_json() for r in self.reviewers],
            "approvals": self.approvals,
            "draft": self.draft,
            "source_commit": self.source_commit,
            "merge_commit": self.merge_commit,
        }


class BitbucketClient:
    """One repository on one Bitbucket site, with one credential."""

    def __init__(
        self,
        credential: Credential,
        repo: Repository,
        *,
        timeout: float = 15.0,
        cache: SiteCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credential = credential
        self.repo = repo
        self.timeout = timeout
        self.cache = cache or SiteCache(None)
        self._sleep = sleep
        self._session: Any = None
        self._session_lock = threading.Lock()

    @property
    def cloud(self) -> bool:
        return self.repo.cloud

    @property
    def access_token(self) -> bool:
        """A Cloud repository/project/workspace access token (Bearer, no user of its own)."""
        return self.cloud and self.credential.user in ("", ACCESS_TOKEN_USER)

    # -- who am I ------------------------------------------------------------------------------
    def me(self, *, fresh: bool = False) -> User:
        """The token's user. Data Center: the login name (no request). Cloud: /user, cached
        per site and login; an access token has no user of its own (id '')."""
        if not self.cloud:
            return User(self.credential.user, self.credential.user, self.credential.user)
        if self.access_token:
            return User("", ACCESS_TOKEN_USER, "access token")
        key = f"user {self.credential.user}"
        cached = self.cache.get(self.repo.api, key)
        if isinstance(cached, dict) and not fresh and "account_id" in cached:
            return User(**cached)
        me = _cloud_user(self._request("GET", "/user"))
        self.cache.put(self.repo.api, key, {**me.to_json(), "account_id": me.account_id})
        return me

    def verify(self) -> User:
        """Check the credential with one request (for `auth login`), returning its user."""
        if self.cloud and not self.access_token:
            return self.me(fresh=True)
        if self.cloud:
            self._request("GET", self._repo_path())
            return self.me()
        response = self._request(
            "GET",
            f"/rest/api/1.0/users/{quote(self.credential.user)}",
            raw=True,
            not_found=f"the user {self.credential.user}",
        )
        owner = response.headers.get("X-AUSERNAME")
        if owner and owner.lower() != self.credential.user.lower():
            raise AuthError(
                f"the token belongs to {owner}, not {self.credential.user}",
                f"Log in as {owner}, or use a token of {self.credential.user}.",
            )
        return _dc_user(response.json())

    # -- pull requests -------------------------------------------------------------------------
    def pull_requests(
        self,
        *,
        source: str | None = None,
        destination: str | None = None,
        states: tuple[str, ...] = ("OPEN",),
        limit: int = PAGE,
    ) -> list[PullRequest]:
        """Pull requests of the repository, newest first, filtered as asked."""
        found = []
        for pr in self._list(source, destination, states, limit):
            if destination is not None and pr.destination != destination:
                continue
            if source is not None and pr.source != source:
                continue
            found.append(pr)
            if len(found) >= limit:
                break
        return found

    def pull_request(self, pr_id: int) -> PullRequest:
        path = f"{self._repo_path()}/{'pullrequests' if self.cloud else 'pull-requests'}/{pr_id}"
        return self._parse(self._request("GET", path, not_found=f"pull request #{pr_id}"))

    def default_reviewers(self, source: str, destination: str) -> list[User]:
        """The repository's effective default reviewers (Cloud), or those the Data Center
        default-reviewers conditions name for this source and destination."""
        if self.cloud:
            path = f"{self._repo_path()}/effective-default-reviewers"
            users = [_cloud_user(v.get("user") or {}) for v in self._pages(path, {}, PAGE * 2)]
            return [u for u in users if u.id]
        repo_id = self.repository_id()
        data = self._request(
            "GET",
            f"/rest/default-reviewers/1.0/projects/{self._owner}/repos/{self._slug}/reviewers",
            params={
                "sourceRepoId": repo_id,
                "targetRepoId": repo_id,
                "sourceRefId": f"refs/heads/{source}",
                "targetRefId": f"refs/heads/{destination}",
            },
        )
        return [_dc_user(u) for u in data or [] if isinstance(u, dict)]

    def repository_id(self) -> str:
        """Data Center's numeric repository id (the default-reviewers plugin needs it),
        cached: it never changes."""
        key = f"repository id {self.repo.full_name}"
        cached = self.cache.get(self.repo.api, key)
        if cached:
            return str(cached)
        data = self._request("GET", self._repo_path())
        repo_id = str(data.get("id", ""))
        self.cache.put(self.repo.api, key, repo_id)
        return repo_id

    def create(
        self,
        *,
        title: str,
        description: str,
        source: str,
        destination: str,
        reviewers: list[str],
        draft: bool = False,
        close_source_branch: bool = True,
    ) -> tuple[PullRequest, bool]:
        """Open a pull request; (the pull request, True when it is new). When one is already
        open for the same source and destination, that one comes back with False."""
        if self.cloud:
            body: dict[str, Any] = {
                "title": title,
                "description": description,
                "source": {"branch": {"name": source}},
                "destination": {"branch": {"name": destination}},
                "reviewers": [
                    {"uuid": r} if r.startswith("{") else {"account_id": r} for r in reviewers
                ],
                "close_source_branch": close_source_branch,
            }
            if draft:
                body["draft"] = True
            response = self._request(
                "POST", f"{self._repo_path()}/pullrequests", json=body, raw=True
            )
            return self._parse(response.json()), response.status_code == 201
        ref = {"repository": {"slug": self._slug, "project": {"key": self._owner}}}
        body = {
            "title": title,
            "description": description,
            "fromRef": {"id": f"refs/heads/{source}", **ref},
            "toRef": {"id": f"refs/heads/{destination}", **ref},
            "reviewers": [{"user": {"name": r}} for r in reviewers],
        }
        if draft:
            body["draft"] = True
        try:
            data = self._request("POST", f"{self._repo_path()}/pull-requests", json=body)
        except _Duplicate as dup:
            return self._parse(dup.existing), False
        return self._parse(data), True

    # -- paths and parsing ---------------------------------------------------------------------
    @property
    def _owner(self) -> str:
        return quote(self.repo.owner, safe="~")

    @property
    def _slug(self) -> str:
        return quote(self.repo.slug)

    def _repo_path(self) -> str:
        if self.cloud:
            return f"/repositories/{self._owner}/{self._slug}"
        return f"/rest/api/1.0/projects/{self._owner}/repos/{self._slug}"

    def _list(
        self, source: str | None, destination: str | None, states: tuple[str, ...], limit: int
    ) -> Iterator[PullRequest]:
        if self.cloud:
            # With `q`, Cloud ignores the `state` parameter: the states go into the query.
            # List items leave out reviewers and approvals unless `fields` asks for them.
            terms = ["(" + " OR ".join(f"state = {_bbql_string(s)}" for s in states) + ")"]
            if source is not None:
                terms.append(f"source.branch.name = {_bbql_string(source)}")
            if destination is not None:
                terms.append(f"destination.branch.name = {_bbql_string(destination)}")
            params: dict[str, Any] = {
                "q": " AND ".join(terms),
                "pagelen": str(min(limit, PAGE)),
                "fields": "+values.participants,+values.reviewers",
            }
            for value in self._pages(f"{self._repo_path()}/pullrequests", params, limit):
                pr = self._parse(value)
                if pr.state in states:
                    yield pr
            return
        state = states[0] if len(states) == 1 else "ALL"
        params = {"state": state, "limit": str(min(limit, PAGE)), "order": "NEWEST"}
        if source is not None:
            params |= {"at": f"refs/heads/{source}", "direction": "OUTGOING"}
        elif destination is not None:
            params |= {"at": f"refs/heads/{destination}", "direction": "INCOMING"}
        for value in self._pages(f"{self._repo_path()}/pull-requests", params, limit * 4):
            pr = self._parse(value)
            if pr.state in states:
                yield pr

    def _pages(self, path: str, params: dict[str, Any], most: int) -> Iterator[dict[str, Any]]:
        """The values of a paged list, following Cloud's `next` links (only below our own API
        address) or Data Center's nextPageStart, up to `most` values."""
        seen = 0
        url: str | None = path
        while url is not None and seen < most:
            page = self._request("GET", url, params=params)
            values = page.get("values") if isinstance(page, dict) else None
            for value in values or []:
                seen += 1
                yield value
            url = None
            if self.cloud:
                nxt = page.get("next")
                if isinstance(nxt, str) and nxt.startswith(self.repo.api + "/"):
                    url, params = nxt[len(self.repo.api) :], {}
            elif not page.get("isLastPage", True) and page.get("nextPageStart") is not None:
                params = {**params, "start": str(page["nextPageStart"])}
                url = path

    def _parse(self, data: dict[str, Any]) -> PullRequest:
        return _parse_cloud(data) if self.cloud else _parse_dc(data)

    # -- HTTP ------------------------------------------------------------------------------------
    def _authorization(self) -> str:
        token = self.credential.token
        if self.cloud and not self.access_token:
            pair = f"{self.credential.user}:{token}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return f"Bearer {token}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        raw: bool = False,
        not_found: str | None = None,
    ) -> Any:
        import requests

        with self._session_lock:
            if self._session is None:
                # proxies and CA bundles from the environment are honoured; .netrc is not
                # consulted because every request carries its own auth
                self._session = requests.Session()
        url = self.repo.api + path
        for attempt in range(1, TRIES + 1):
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers={"Accept": "application/json"},
                    auth=_TokenAuth(self._authorization()),
                    timeout=(CONNECT_TIMEOUT, self.timeout),
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise RemoteError(
                    f"Bitbucket at {self.repo.api} cannot be reached ({reason(exc)})",
                    "Check bitbucket.url and your connection, then try again.",
                ) from None
            if response.status_code in RETRY_STATUSES and attempt < TRIES:
                wait = retry_wait(response, attempt)
                if wait is not None:
                    self._sleep(wait)
                    continue
            if response.status_code >= 300:
                raise self._error(response, method, path, not_found)
            if raw:
                return response
            if response.status_code == 204 or not response.content:
                return {}
            try:
                return response.json()
            except ValueError:
                raise RemoteError(
                    f"Bitbucket at {self.repo.api} answered {method} {path} with something "
                    "not JSON",
                    "Check bitbucket.url: https://api.bitbucket.org/2.0 for Cloud, the "
                    "server's address for Data Center.",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: Any, method: str, path: str, not_found: str | None) -> Exception:
        status = response.status_code
        detail, errors = _messages(response)
        who = self.credential.user or "the token"
        if status == 401:
            return AuthError(
                f"Bitbucket at {self.repo.api} refused the credentials of {who} "
                f"({self.credential.source})",
                self._auth_hint(),
            )
        if status == 403:
            return AuthError(
                f"Bitbucket refused {method} {path} for {who}" + (f": {detail}" if detail else ""),
                "The token lacks a permission or scope for this; create one that has it.",
            )
        if (
            status == 409
            and errors
            and "DuplicatePullRequest" in str(errors[0].get("exceptionName"))
        ):
            existing = errors[0].get("existingPullRequest")
            if isinstance(existing, dict):
                return _Duplicate(existing)
        if status == 404 and not_found is None:  # every other path is below the repository
            return ConfigError(
                f"Bitbucket has no repository {self.repo.full_name} at {self.repo.api}, "
                f"or {who} may not see it",
                "Check bitbucket.repository (or the remote URL) and the token's access.",
            )
        if status == 404 and not_found:
            where = self.repo.full_name if self.repo.slug else self.repo.api
            return RemoteError(f"{not_found} was not found in {where}")
        if status in RETRY_STATUSES:
            return RemoteError(
                f"Bitbucket is busy ({status}) and stayed so after {TRIES} tries, "
                f"or asked for a wait longer than {MAX_WAIT:.0f} s",
                "Try again in a minute.",
            )
        if 300 <= status < 400:
            return RemoteError(
                f"Bitbucket answered {method} {path} with a redirect to "
                f"{response.headers.get('Location', 'elsewhere')}",
                "Set bitbucket.url to the address the API really lives at.",
            )
        return RemoteError(
            f"Bitbucket refused {method} {path} ({status}{': ' + detail if detail else ''})",
            "Fix what Bitbucket names, or try again if it was a passing failure.",
        )

    def _auth_hint(self) -> str:
        login = f"jiraflow auth login bitbucket --url {self.repo.api}"
        if not self.cloud:
            return f"Run `{login}` with an HTTP access token."
        if self.credential.token.startswith(APP_PASSWORD_PREFIX):
            return (
                "This looks like an app password: Bitbucket Cloud stopped accepting them on "
                "2026-07-28. " + CLOUD_TOKEN_HELP
            )
        if self.credential.user == "":
            return (
                "Without a user the token is sent as an access token. For an API token set "
                "JIRAFLOW_BITBUCKET_USER (or bitbucket.user) to your Atlassian e-mail."
            )
        if not self.access_token and "@" not in self.credential.user:
            return "Bitbucket Cloud API tokens go with your Atlassian account e-mail. " + (
                CLOUD_TOKEN_HELP
            )
        return f"Run `{login}` with a valid API token."


class _TokenAuth:
    """requests auth that sets the Authorization header (an auth object, not a header, so
    that requests never replaces it with .netrc credentials)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self.value
        return request


class _Duplicate(JiraflowError):
    """Data Center's 409: a pull request is already open for this source and destination."""

    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__("a pull request is already open")
        self.existing = existing


def _bbql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _messages(response: Any) -> tuple[str, list[dict[str, Any]]]:
    """The service's error text, and Data Center's error objects."""
    try:
        data = response.json()
    except ValueError:
        return "", []
    if not isinstance(data, dict):
        return "", []
    if isinstance(data.get("error"), dict):  # Cloud: {"type": "error", "error": {...}}
        error = data["error"]
        parts = [str(error.get("message") or "")]
        for name, problems in (error.get("fields") or {}).items():
            listed = problems if isinstance(problems, list) else [problems]
            parts += [f"{name}: {p}" for p in listed if f"{name}: {p}" not in parts]
        return "; ".join(p for p in parts if p), []
    errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
    parts = []
    for error in errors:
        parts.append(str(error.get("message") or ""))
        parts += [str(r.get("message")) for r in error.get("reviewerErrors") or [] if r]
    return "; ".join(p for p in parts if p), errors


def _cloud_user(data: dict[str, Any]) -> User:
    return User(
        str(data.get("uuid") or ""),
        str(data.get("nickname") or data.get("display_name") or ""),
        str(data.get("display_name") or data.get("nickname") or ""),
        str(data.get("account_id") or ""),
    )


def _dc_user(data: dict[str, Any]) -> User:
    name = str(data.get("name") or data.get("slug") or "")
    return User(name, name, str(data.get("displayName") or name))


# a Cloud participant's state, in Data Center's words
_CLOUD_STATES = {"approved": "APPROVED", "changes_requested": "NEEDS_WORK"}


def _parse_cloud(data: dict[str, Any]) -> PullRequest:
    reviewers = []
    for p in data.get("participants") or []:
        if p.get("role") == "REVIEWER":
            state = str(p.get("state") or "")
            approved = bool(p.get("approved"))
            status = "APPROVED" if approved else _CLOUD_STATES.get(state, "UNAPPROVED")
            reviewers.append(Reviewer(_cloud_user(p.get("user") or {}), approved, status))
    listed = {r.user.id for r in reviewers}
    for r in data.get("reviewers") or []:
        user = _cloud_user(r)
        if user.id not in listed:
            reviewers.append(Reviewer(user, False, "UNAPPROVED"))
    links = data.get("links") or {}
    return PullRequest(
        id=int(data.get("id") or 0),
        title=str(data.get("title") or ""),
        state=str(data.get("state") or ""),
        source=str(((data.get("source") or {}).get("branch") or {}).get("name") or ""),
        destination=str(((data.get("destination") or {}).get("branch") or {}).get("name") or ""),
        url=str((links.get("html") or {}).get("href") or ""),
        author=_cloud_user(data.get("author") or {}),
        reviewers=reviewers,
        draft=bool(data.get("draft")),
        source_commit=str(((data.get("source") or {}).get("commit") or {}).get("hash") or ""),
        merge_commit=str((data.get("merge_commit") or {}).get("hash") or ""),
    )


def _parse_dc(data: dict[str, Any]) -> PullRequest:
    reviewers = [
        Reviewer(_dc_user(r.get("user") or {}), bool(r.get("approved")), str(r.get("status") or ""))
        for r in data.get("reviewers") or []
    ]
    self_links = (data.get("links") or {}).get("self") or [{}]
    merge = ((data.get("properties") or {}).get("mergeCommit") or {}).get("id") or ""
    return PullRequest(
        id=int(data.get("id") or 0),
        title=str(data.get("title") or ""),
        state=str(data.get("state") or ""),
        source=str((data.get("fromRef") or {}).get("displayId") or ""),
        destination=str((data.get("toRef") or {}).get("displayId") or ""),
        url=str(self_links[0].get("href") or ""),
        author=_dc_user((data.get("author") or {}).get("user") or {}),
        reviewers=reviewers,
        draft=bool(data.get("draft")),
        source_commit=str((data.get("fromRef") or {}).get("latestCommit") or ""),
        merge_commit=str(merge),
    )
