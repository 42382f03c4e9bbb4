"""Bitbucket Cloud (REST 2.0) and Data Center (REST 1.0) behind one interface, over requests.

What jiraflow needs of Bitbucket is small: who am I, the pull requests of a branch, the
default reviewers (the API does not apply them to a new pull request, so we fetch them and
drop the author), and creating a pull request without ever making a second one for the same
source and destination (Cloud answers a repeated POST with the open one, Data Center with a
409 carrying it).

A token goes only to the site it was stored for: every URL is built from the repository's
API address, paging links are followed only below it, and redirects are not followed.
Retries on 429/503 are bounded (see retry.py); a request that timed out is not sent again.
Every answer is read through the readers at the end of this module, which check the members
jiraflow uses: an answer without them is an InvalidAnswer (exit 6), never an empty list or a
pull request #0. requests' exceptions never leave the module.
A client may be used from several threads at once: they share one session (made once).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from jiraflow.bitbucket.repository import Repository
from jiraflow.credentials import Credential
from jiraflow.errors import AuthError, ConfigError, JiraflowError, RemoteError
from jiraflow.retry import (
    CONNECT_TIMEOUT,
    MAX_WAIT,
    RETRY_STATUSES,
    TRIES,
    reason,
    retry_wait,
    retrying,
)
from jiraflow.store import SiteCache

T = TypeVar("T")
ACCESS_TOKEN_USER = "x-token-auth"  # Cloud's name for "a repository/project/workspace token"
PAGE = 50
DC_STATES = ("OPEN", "DECLINED", "MERGED")  # and ALL: what getPage's `state` takes
APP_PASSWORD_PREFIX = "ATBB"
CLOUD_TOKEN_HELP = (
    "Create an API token with scopes (read:user, read:repository, read:pullrequest, "
    "write:pullrequest) and log in with your Atlassian e-mail: "
    "`jiraflow auth login bitbucket --user you@example.com`."
)


class InvalidAnswer(RemoteError):
    """A 2xx answer whose JSON lacks what jiraflow reads, or has it in the wrong type
    (`{}`, a list, a string for a number): never taken as an empty or zero value."""


class Unconfirmed(InvalidAnswer):
    """A change was asked for (a POST), and whether it was made is unknown: its answer did
    not come in time, or could not be read. It is not sent again."""


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
        fields = ("id", "name", "display", "account_id")
        if (
            not fresh
            and isinstance(cached, dict)
            and all(isinstance(cached.get(f), str) for f in fields)
            and cached["id"]
        ):  # the cache is a file on disk: only a whole, well-typed entry is used
            return User(*(str(cached[f]) for f in fields))
        me = self._get("/user", lambda data: cloud_user(data, required=True))
        self.cache.put(self.repo.api, key, {**me.to_json(), "account_id": me.account_id})
        return me

    def verify(self) -> User:
        """Check the credential with one request (for `auth login`), returning its user."""
        if self.cloud and not self.access_token:
            return self.me(fresh=True)
        if self.cloud:
            self._get(self._repo_path(), obj)
            return self.me()
        path = f"/rest/api/1.0/users/{quote(self.credential.user)}"
        response = self._request(
            "GET", path, raw=True, not_found=f"the user {self.credential.user}"
        )
        owner = response.headers.get("X-AUSERNAME")
        if owner and owner.lower() != self.credential.user.lower():
            raise AuthError(
                f"the token belongs to {owner}, not {self.credential.user}",
                f"Log in as {owner}, or use a token of {self.credential.user}.",
            )
        data = self._decode(response, "GET", path)
        return self._checked("GET", path, lambda d: dc_user(d, required=True), data)

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
        read = self._reader()
        pull = self._get(path, lambda data: read(data, ""), not_found=f"pull request #{pr_id}")
        if pull.id != pr_id:
            raise self._invalid("GET", path, f"id is {pull.id}, not {pr_id}")
        return pull

    def default_reviewers(self, source: str, destination: str) -> list[User]:
        """The repository's effective default reviewers (Cloud), or those the Data Center
        default-reviewers conditions name for this source and destination."""
        if self.cloud:
            path = f"{self._repo_path()}/effective-default-reviewers"
            users = list(self._pages(path, {}, PAGE * 2, cloud_default_reviewer))
            return [u for u in users if u.id]
        repo_id = self.repository_id()
        path = f"/rest/default-reviewers/1.0/projects/{self._owner}/repos/{self._slug}/reviewers"
        params = {
            "sourceRepoId": repo_id,
            "targetRepoId": repo_id,
            "sourceRefId": f"refs/heads/{source}",
            "targetRefId": f"refs/heads/{destination}",
        }
        users = self._get(path, dc_reviewers, params=params)
        unique: dict[str, User] = {}
        for user in users:  # several conditions may name one person
            unique.setdefault(user.id.lower(), user)
        return list(unique.values())

    def repository_id(self) -> str:
        """Data Center's numeric repository id (the default-reviewers plugin needs it),
        cached: it never changes."""
        key = f"repository id {self.repo.full_name}"
        cached = self.cache.get(self.repo.api, key)
        if isinstance(cached, str) and cached.isdigit():
            return cached
        repo_id = self._get(self._repo_path(), repository_id)
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
        open for the same source and destination, that one comes back with False.

        A POST is sent once: when its answer does not come in time, or cannot be read,
        Unconfirmed says that the pull request may be open (listing finds it)."""
        if self.cloud:
            path = f"{self._repo_path()}/pullrequests"
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
            response = self._request("POST", path, json=body, raw=True)
            data = self._decode(response, "POST", path)
            pull = self._checked("POST", path, cloud_pull_request, data, unconfirmed=True)
            self._check_sides("POST", path, pull, source, destination)
            return pull, response.status_code == 201
        # Data Center: RestPullRequest, each ref naming its repository by slug and project key
        path = f"{self._repo_path()}/pull-requests"
        ref = {"repository": {"slug": self.repo.slug, "project": {"key": self.repo.owner}}}
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
            data = self._request("POST", path, json=body)
        except _Duplicate as dup:
            pull = self._checked("POST", path, dc_pull_request, dup.existing)
            self._check_sides("POST", path, pull, source, destination)
            return pull, False
        pull = self._checked("POST", path, dc_pull_request, data, unconfirmed=True)
        self._check_sides("POST", path, pull, source, destination)
        return pull, True

    def _check_sides(
        self, method: str, path: str, pull: PullRequest, source: str, destination: str
    ) -> None:
        """A pull request given back for a create must be the one asked for."""
        if (pull.source, pull.destination) != (source, destination):
            raise self._invalid(
                method,
                path,
                f"pull request #{pull.id} of {pull.source} -> {pull.destination}, "
                f"not {source} -> {destination}",
                unconfirmed=True,
            )

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

    def _reader(self) -> Callable[[Any, str], PullRequest]:
        return cloud_pull_request if self.cloud else dc_pull_request

    def _list(
        self, source: str | None, destination: str | None, states: tuple[str, ...], limit: int
    ) -> Iterator[PullRequest]:
        if self.cloud:
            # The states go both as the repeated `state` parameter (the documented way) and
            # into `q`: reports differ on whether `q` alone lifts the OPEN-only default, and
            # whether `state` counts beside `q`; with both, either reading lists them.
            # List items leave out reviewers and approvals unless `fields` asks for them.
            terms = ["(" + " OR ".join(f"state = {_bbql_string(s)}" for s in states) + ")"]
            if source is not None:
                terms.append(f"source.branch.name = {_bbql_string(source)}")
            if destination is not None:
                terms.append(f"destination.branch.name = {_bbql_string(destination)}")
            params: dict[str, Any] = {
                "q": " AND ".join(terms),
                "state": list(states),
                "pagelen": str(min(limit, PAGE)),
                "fields": "+values.participants,+values.reviewers",
            }
            path = f"{self._repo_path()}/pullrequests"
            for pr in self._pages(path, params, limit, cloud_pull_request):
                if pr.state in states:
                    yield pr
            return
        # Data Center's getPage: one `state` (OPEN, DECLINED, MERGED, or ALL), `at` a
        # fully-qualified ref, `direction` OUTGOING for the source side (INCOMING: target).
        state = states[0] if len(states) == 1 and states[0] in DC_STATES else "ALL"
        params = {"state": state, "limit": str(min(limit, PAGE)), "order": "NEWEST"}
        if source is not None:
            params |= {"at": f"refs/heads/{source}", "direction": "OUTGOING"}
        elif destination is not None:
            params |= {"at": f"refs/heads/{destination}", "direction": "INCOMING"}
        path = f"{self._repo_path()}/pull-requests"
        for pr in self._pages(path, params, limit * 4, dc_pull_request):
            if pr.state in states:
                yield pr

    def _pages(
        self, path: str, params: dict[str, Any], most: int, read: Callable[[Any, str], T]
    ) -> Iterator[T]:
        """The values of a paged list, each read with `read`, following Cloud's `next` links
        (only below our own API address) or Data Center's nextPageStart, up to `most`
        values. A page that promises more but gives none, or sends us back to a page
        already read, is an invalid answer (it would never end)."""
        seen = 0
        url: str | None = path
        visited: set[str] = set()
        start = -1
        while url is not None and seen < most:
            asked = f"{url}?{sorted(params.items())}"
            values, following = self._get(url, cloud_page if self.cloud else dc_page, params=params)
            visited.add(asked)
            for n, value in enumerate(values):
                seen += 1
                yield self._checked("GET", url, self._item(read, n), value)
            if following is None:
                return
            if not values:
                raise self._invalid("GET", url, "an empty page that says more follow")
            if self.cloud:
                assert isinstance(following, str)
                if not following.startswith(self.repo.api + "/"):
                    raise self._invalid(
                        "GET", url, f"a next page at {following}, outside {self.repo.api}"
                    )
                url, params = following[len(self.repo.api) :], {}
                if f"{url}?{sorted(params.items())}" in visited:
                    raise self._invalid("GET", url, "a next page it already sent")
            else:
                assert isinstance(following, int)
                if following <= start or following < seen:
                    raise self._invalid("GET", url, f"nextPageStart {following} going back")
                start = following
                params = {**params, "start": str(following)}

    @staticmethod
    def _item(read: Callable[[Any, str], T], n: int) -> Callable[[Any], T]:
        """`read` for the n-th value of a page (so that a problem names where it is)."""
        return lambda value: read(value, f"values[{n}]")

    # -- HTTP ------------------------------------------------------------------------------------
    def _get(
        self,
        path: str,
        read: Callable[[Any], T],
        *,
        params: dict[str, Any] | None = None,
        not_found: str | None = None,
    ) -> T:
        """GET path and read the answer with `read` (InvalidAnswer when it cannot)."""
        data = self._request("GET", path, params=params, not_found=not_found)
        return self._checked("GET", path, read, data)

    def _checked(
        self,
        method: str,
        path: str,
        read: Callable[[Any], T],
        data: Any,
        *,
        unconfirmed: bool = False,
    ) -> T:
        try:
            return read(data)
        except Shape as shape:
            raise self._invalid(method, path, str(shape), unconfirmed=unconfirmed) from None

    def _invalid(
        self, method: str, path: str, problem: str, *, unconfirmed: bool = False
    ) -> InvalidAnswer:
        error = Unconfirmed if unconfirmed else InvalidAnswer
        return error(
            f"Bitbucket at {self.repo.api} answered {method} {path} with JSON jiraflow "
            f"cannot use: {problem}",
            "Check bitbucket.url (another service or a proxy may be answering there), "
            "then try again.",
        )

    def _authorization(self) -> str:
        token = self.credential.token
        if self.cloud and not self.access_token:
            pair = f"{self.credential.user}:{token}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return f"Bearer {token}"

    def _decode(self, response: Any, method: str, path: str) -> Any:
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise RemoteError(
                f"Bitbucket at {self.repo.api} answered {method} {path} with something not JSON",
                "Check bitbucket.url: https://api.bitbucket.org/2.0 for Cloud, the "
                "server's address for Data Center.",
            ) from None

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
                # never sent again: a request that timed out may have been carried out
                if method != "GET" and isinstance(exc, requests.ReadTimeout):
                    raise Unconfirmed(
                        f"Bitbucket at {self.repo.api} did not answer {method} {path} in "
                        f"time ({self.timeout:g} s); it may have been carried out",
                        "Check bitbucket.url and your connection, then try again.",
                    ) from None
                raise RemoteError(
                    f"Bitbucket at {self.repo.api} cannot be reached ({reason(exc)})",
                    "Check bitbucket.url and your connection, then try again.",
                ) from None
            if response.status_code in RETRY_STATUSES and attempt < TRIES:
                wait = retry_wait(response, attempt)
                if wait is not None:
                    retrying("Bitbucket", wait, attempt)
                    self._sleep(wait)
                    continue
            if response.status_code >= 300:
                raise self._error(response, method, path, not_found)
            if raw:
                return response
            return self._decode(response, method, path)
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
    """The service's error text, and Data Center's error objects (an error body is no more
    trusted than any other answer: whatever its shape, this returns what it can read)."""
    try:
        data = response.json()
    except ValueError:
        return "", []
    if not isinstance(data, dict):
        return "", []
    if isinstance(data.get("error"), dict):  # Cloud: {"type": "error", "error": {...}}
        error = data["error"]
        parts = [str(error.get("message") or "")]
        fields = error.get("fields")
        for name, problems in fields.items() if isinstance(fields, dict) else ():
            listed = problems if isinstance(problems, list) else [problems]
            parts += [f"{name}: {p}" for p in listed if f"{name}: {p}" not in parts]
        return "; ".join(p for p in parts if p), []
    raw = data.get("errors")
    errors = [e for e in (raw if isinstance(raw, list) else []) if isinstance(e, dict)]
    parts = []
    for error in errors:
        parts.append(str(error.get("message") or ""))
        more = error.get("reviewerErrors")
        for r in more if isinstance(more, list) else []:
            parts.append(str(r.get("message") or "") if isinstance(r, dict) else str(r))
    return "; ".join(p for p in parts if p), errors


# -- reading answers -------------------------------------------------------------------------
# Every answer is read through these: a member jiraflow uses that is missing or of the wrong
# type raises Shape, which the client turns into InvalidAnswer naming the request.


class Shape(Exception):
    """What is wrong in an answer, and where in it (`values[2].id is missing`)."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def obj(value: Any, where: str = "") -> dict[str, Any]:
    """The value as a JSON object."""
    if not isinstance(value, dict):
        raise Shape(f"{where or 'the answer'} is {_kind(value)}, not an object")
    return value


def member(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> Any:
    value = data.get(key)
    if value is None and required:
        raise Shape(f"{_at(where, key)} is missing")
    return value


def text(data: dict[str, Any], key: str, where: str = "", *, required: bool = False) -> str:
    """A string member ('' when absent and not required; an empty required one is missing)."""
    value = member(data, key, where, required=required)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Shape(f"{_at(where, key)} is {_kind(value)}, not a string")
    if required and not value:
        raise Shape(f"{_at(where, key)} is empty")
    return value


def whole(data: dict[str, Any], key: str, where: str = "", *, required: bool = True) -> int | None:
    """A whole-number member (true/false is not one)."""
    value = member(data, key, where, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Shape(f"{_at(where, key)} is {_kind(value)}, not a whole number")
    return value


def flag(data: dict[str, Any], key: str, where: str = "") -> bool:
    value = member(data, key, where)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Shape(f"{_at(where, key)} is {_kind(value)}, not true/false")
    return value


def items(data: dict[str, Any], key: str, where: str = "", *, required: bool = False) -> list[Any]:
    value = member(data, key, where, required=required)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Shape(f"{_at(where, key)} is {_kind(value)}, not a list")
    return value


def inner(
    data: dict[str, Any], key: str, where: str = "", *, required: bool = False
) -> dict[str, Any]:
    """An object member ({} when absent and not required)."""
    value = member(data, key, where, required=required)
    return {} if value is None else obj(value, _at(where, key))


def pull_request_id(data: dict[str, Any], where: str) -> int:
    number = whole(data, "id", where)
    if number is None or number <= 0:
        raise Shape(f"{_at(where, 'id')} is {number}, not a pull request number")
    return number


def cloud_user(value: Any, where: str = "", *, required: bool = False) -> User:
    """A Cloud account; `required`: it must have a uuid (the token's own user)."""
    data = obj(value, where)
    nickname, display = text(data, "nickname", where), text(data, "display_name", where)
    return User(
        text(data, "uuid", where, required=required),
        nickname or display,
        display or nickname,
        text(data, "account_id", where),
    )


def dc_user(value: Any, where: str = "", *, required: bool = False) -> User:
    """A Data Center user; `required`: it must have a name (or slug)."""
    data = obj(value, where)
    name = text(data, "name", where) or text(data, "slug", where)
    if required and not name:
        raise Shape(f"{_at(where, 'name')} is missing")
    return User(name, name, text(data, "displayName", where) or name)


def cloud_page(value: Any) -> tuple[list[Any], str | None]:
    """A Cloud page: its values, and the next page's address (None on the last)."""
    data = obj(value)
    following = text(data, "next", "") or None
    return items(data, "values", required=True), following


def dc_page(value: Any) -> tuple[list[Any], int | None]:
    """A Data Center page: its values, and where the next page starts (None on the last)."""
    data = obj(value)
    values = items(data, "values", required=True)
    last = member(data, "isLastPage", "", required=True)
    if not isinstance(last, bool):
        raise Shape(f"isLastPage is {_kind(last)}, not true/false")
    if last:
        return values, None
    return values, whole(data, "nextPageStart")


def dc_reviewers(value: Any) -> list[User]:
    """The default-reviewers plugin's answer for a source and target: a list of users (what
    servers send), or of conditions with their `reviewers` (the 9.4 spec's schema)."""
    if not isinstance(value, list):
        raise Shape(f"the answer is {_kind(value)}, not a list")
    found: list[User] = []
    for n, entry in enumerate(value):
        where = f"[{n}]"
        data = obj(entry, where)
        if "reviewers" in data and "name" not in data and "slug" not in data:
            people = items(data, "reviewers", where)
            found += [dc_user(u, f"{where}.reviewers[{i}]", required=True) for i, u in
                      enumerate(people)]  # fmt: skip
        else:
            found.append(dc_user(data, where, required=True))
    return found


def cloud_default_reviewer(value: Any, where: str) -> User:
    """One entry of effective-default-reviewers: {user, reviewer_type, type}."""
    return cloud_user(inner(obj(value, where), "user", where, required=True), _at(where, "user"))


def repository_id(value: Any) -> str:
    number = whole(obj(value), "id")
    return str(number)


# a Cloud participant's state, in Data Center's words
_CLOUD_STATES = {"approved": "APPROVED", "changes_requested": "NEEDS_WORK"}


def _branch(data: dict[str, Any], side: str, where: str) -> dict[str, Any]:
    return inner(inner(data, side, where, required=True), "branch", _at(where, side), required=True)


def cloud_pull_request(value: Any, where: str = "") -> PullRequest:
    """A Cloud pull request (a list item, or a whole one)."""
    data = obj(value, where)
    reviewers = []
    for n, entry in enumerate(items(data, "participants", where)):
        at = f"{_at(where, 'participants')}[{n}]"
        p = obj(entry, at)
        if text(p, "role", at) == "REVIEWER":
            approved = flag(p, "approved", at)
            state = text(p, "state", at)
            status = "APPROVED" if approved else _CLOUD_STATES.get(state, "UNAPPROVED")
            user = cloud_user(inner(p, "user", at), _at(at, "user"))
            reviewers.append(Reviewer(user, approved, status))
    listed = {r.user.id for r in reviewers}
    for n, entry in enumerate(items(data, "reviewers", where)):
        user = cloud_user(entry, f"{_at(where, 'reviewers')}[{n}]")
        if user.id not in listed:
            reviewers.append(Reviewer(user, False, "UNAPPROVED"))
    source = inner(data, "source", where)
    html = inner(inner(data, "links", where), "html", _at(where, "links"))
    merge = inner(data, "merge_commit", where)
    return PullRequest(
        id=pull_request_id(data, where),
        title=text(data, "title", where),
        state=text(data, "state", where, required=True),
        source=text(_branch(data, "source", where), "name", _at(where, "source.branch"),
                    required=True),
        destination=text(_branch(data, "destination", where), "name",
                         _at(where, "destination.branch"), required=True),
        url=text(html, "href", _at(where, "links.html")),
        author=cloud_user(inner(data, "author", where), _at(where, "author")),
        reviewers=reviewers,
        draft=flag(data, "draft", where),
        source_commit=text(inner(source, "commit", _at(where, "source")), "hash",
                           _at(where, "source.commit")),
        merge_commit=text(merge, "hash", _at(where, "merge_commit")),
    )  # fmt: skip


def _dc_ref(data: dict[str, Any], side: str, where: str) -> tuple[str, str]:
    """(branch, latest commit) of fromRef or toRef."""
    at = _at(where, side)
    ref = inner(data, side, where, required=True)
    name = text(ref, "displayId", at) or text(ref, "id", at).removeprefix("refs/heads/")
    if not name:
        raise Shape(f"{_at(at, 'displayId')} is missing")
    return name, text(ref, "latestCommit", at)


def dc_pull_request(value: Any, where: str = "") -> PullRequest:
    """A Data Center pull request."""
    data = obj(value, where)
    reviewers = []
    for n, entry in enumerate(items(data, "reviewers", where)):
        at = f"{_at(where, 'reviewers')}[{n}]"
        r = obj(entry, at)
        user = dc_user(inner(r, "user", at, required=True), _at(at, "user"))
        reviewers.append(Reviewer(user, flag(r, "approved", at), text(r, "status", at)))
    links = items(inner(data, "links", where), "self", _at(where, "links"))
    first = obj(links[0], _at(where, "links.self[0]")) if links else {}
    properties = inner(data, "properties", where)
    merge = inner(properties, "mergeCommit", _at(where, "properties"))
    source, source_commit = _dc_ref(data, "fromRef", where)
    destination, _ = _dc_ref(data, "toRef", where)
    author = inner(data, "author", where)
    return PullRequest(
        id=pull_request_id(data, where),
        title=text(data, "title", where),
        state=text(data, "state", where, required=True),
        source=source,
        destination=destination,
        url=text(first, "href", _at(where, "links.self[0]")),
        author=dc_user(inner(author, "user", _at(where, "author")), _at(where, "author.user")),
        reviewers=reviewers,
        draft=flag(data, "draft", where),
        source_commit=source_commit,
        merge_commit=text(merge, "id", _at(where, "properties.mergeCommit")),
    )
