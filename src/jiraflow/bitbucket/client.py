"""Bitbucket behind one interface: what jiraflow asks of a Bitbucket repository, and what
Bitbucket Cloud (REST 2.0, cloud.py) and Data Center (REST 1.0, datacenter.py) share. Each
kind is one class (its URLs, request bodies and answer readers); `client_for` in the package
picks the class from the repository's kind.

What jiraflow needs of Bitbucket is small: who am I, the pull requests of a branch, the
default reviewers (the API does not apply them to a new pull request, so we fetch them and
drop the author), and creating a pull request without ever making a second one for the same
source and destination (Cloud answers a repeated POST with the open one, Data Center with a
409 carrying it).

A token goes only to the site it was stored for: every URL is built from the repository's
API address, paging links are followed only below it, and redirects are not followed.
Retries on 429/503 are bounded (http.send); a request that timed out is not sent again.
Every answer is read through readers (the primitives at the end of this module, each kind's
in its module), which check the members jiraflow uses: an answer without them is an
InvalidAnswer (exit 6), never an empty list or a pull request #0. requests' exceptions never
leave the package.
A client may be used from several threads at once: they share one session (made once).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from jiraflow.bitbucket.repository import Repository
from jiraflow.credentials import Credential
from jiraflow.errors import AuthError, ConfigError, RemoteError, RepoStateError
from jiraflow.http import RETRY_STATUSES, busy, reason, send
from jiraflow.store import SiteCache

T = TypeVar("T")
PAGE = 50


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
    version: int = 0  # Data Center: what changes (merge, decline) must name; Cloud: 0
    source_repository: str = ""  # the source's repository (OWNER/slug; another one: a fork)
    #: Cloud, in a whole pull request: the destination's merge strategies and its default
    merge_strategies: list[str] | None = None
    default_merge_strategy: str = ""

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


#: build states in Data Center's words; Cloud's STOPPED and Data Center's CANCELLED are STOPPED
BUILD_STATES = ("SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED", "UNKNOWN")


def build_state(value: str) -> str:
    """A build state as jiraflow says it: Data Center's words, CANCELLED -> STOPPED,
    anything unknown -> UNKNOWN."""
    upper = value.upper()
    if upper == "CANCELLED":
        return "STOPPED"
    return upper if upper in BUILD_STATES else "UNKNOWN"


@dataclass
class BuildStatus:
    """A build reported on a commit (Cloud: a commit status; Data Center: a build status)."""

    key: str
    name: str
    state: str  # BUILD_STATES
    url: str
    started: dt.datetime | None  # when it was first reported
    finished: dt.datetime | None  # when it reported its end (None while it runs)
    description: str = ""
    reported_duration: dt.timedelta | None = None  # Data Center's `duration`, when sent
    commit: str = ""  # the commit it was reported on, where the answer names it (Cloud)

    @property
    def duration(self) -> dt.timedelta | None:
        if self.reported_duration is not None:
            return self.reported_duration
        if self.started is None or self.finished is None:
            return None
        return max(self.finished - self.started, dt.timedelta(0))

    def to_json(self) -> dict[str, Any]:
        duration = self.duration
        return {
            "key": self.key,
            "name": self.name,
            "state": self.state,
            "url": self.url,
            "description": self.description,
            "started": self.started.isoformat() if self.started else None,
            "finished": self.finished.isoformat() if self.finished else None,
            "duration": duration.total_seconds() if duration is not None else None,
        }


#: deployment states as jiraflow says them: Cloud's COMPLETED is its status (SUCCESSFUL,
#: FAILED, STOPPED); IN_PROGRESS and UNDEPLOYED as Cloud says them; anything else UNKNOWN
DEPLOYMENT_STATES = ("SUCCESSFUL", "FAILED", "STOPPED", "IN_PROGRESS", "UNDEPLOYED", "UNKNOWN")
NO_PIPELINES = "Data Center has no Pipelines: the environment branch stands for what is deployed"


@dataclass(frozen=True)
class DeployEnvironment:
    """A Bitbucket Cloud (Pipelines) deployment environment."""

    uuid: str  # "{...}", as Cloud writes it
    name: str  # "Production"
    type: str  # Test, Staging, Production (its environment_type); "" when not said


@dataclass
class Deployment:
    """A deployment to an environment: which commit, how it ended, and when."""

    environment: str  # the environment's name
    commit: str  # the full hash, as Cloud gives it
    finished: dt.datetime | None  # completed_on (None while it runs)
    state: str  # DEPLOYMENT_STATES
    url: str  # the pipeline's page, "" when not said

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "commit": self.commit,
            "finished": self.finished.isoformat() if self.finished else None,
            "state": self.state,
            "url": self.url,
        }


class NoPipelines(ConfigError):
    """This kind of Bitbucket has no deployments (Data Center has no Pipelines)."""


class UnknownEnvironment(ConfigError):
    """No deployment environment of that name in the repository."""


#: Merge strategies, in Cloud's names (Data Center's ids in datacenter.py)
MERGE_STRATEGIES = (
    "merge_commit",
    "squash",
    "fast_forward",
    "squash_fast_forward",
    "rebase_fast_forward",
    "rebase_merge",
    "merge_or_fast_forward",  # Data Center's "ff": fast-forward when it can, else merge
)


@dataclass
class MergeCheck:
    """Whether Bitbucket would merge a pull request now, and each reason it would not."""

    can_merge: bool
    conflicted: bool
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"can_merge": self.can_merge, "conflicted": self.conflicted, "reasons": self.reasons}


class MergeRefused(RepoStateError):
    """Bitbucket refused the merge and changed nothing: each reason in `reasons`."""

    def __init__(self, message: str, hint: str | None, reasons: list[str]) -> None:
        super().__init__(message, hint)
        self.reasons = reasons


class HeadMoved(MergeRefused):
    """The pull request's head is no longer the commit it was checked against."""


def check_head(checked: PullRequest, now: PullRequest) -> None:
    """Refuse (HeadMoved, MergeRefused) when pull request `now` is not the open one with
    the head `checked` was read with."""
    if now.state != "OPEN":
        raise MergeRefused(
            f"pull request #{now.id} is {now.state.lower()}",
            f"`jiraflow pr view {now.id}` shows it.",
            [f"it is {now.state.lower()}"],
        )
    if checked.source_commit and now.source_commit != checked.source_commit:
        raise HeadMoved(
            f"pull request #{now.id} changed since it was checked: its head is now "
            f"{now.source_commit[:12]}, not {checked.source_commit[:12]} (someone pushed)",
            f"Look at the new commits (`git fetch`), then run `jiraflow pr merge {now.id}` again.",
            [f"its head moved to {now.source_commit[:12]}"],
        )


class BitbucketClient(ABC):
    """One repository on one Bitbucket site, with one credential: the interface the rest of
    jiraflow uses, and the sending, paging and error reading both kinds share."""

    cloud: ClassVar[bool]  # Bitbucket Cloud (True) or Data Center (False)
    pull_requests_path: ClassVar[str]  # below the repository: pullrequests, pull-requests

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

    # -- the interface ---------------------------------------------------------------------------
    @abstractmethod
    def me(self, *, fresh: bool = False) -> User:
        """The token's user."""

    @abstractmethod
    def verify(self) -> User:
        """Check the credential with one request (for `auth login`), returning its user."""

    def pull_requests(
        self,
        *,
        source: str | None = None,
        destination: str | None = None,
        states: tuple[str, ...] = ("OPEN",),
        limit: int = PAGE,
        role: str | None = None,
    ) -> list[PullRequest]:
        """Pull requests of the repository, newest first, filtered as asked; `role` "author"
        or "reviewer": only those the token's user wrote, or is asked to review."""
        found = []
        listed = (
            self._list(source, destination, states, limit)
            if role is None
            else self._list_role(role, states, limit)
        )
        for pr in listed:
            if destination is not None and pr.destination != destination:
                continue
            if source is not None and pr.source != source:
                continue
            found.append(pr)
            if len(found) >= limit:
                break
        return found

    def pull_request(self, pr_id: int) -> PullRequest:
        path = f"{self._repo_path()}/{self.pull_requests_path}/{pr_id}"
        read = self._read_pull_request
        pull = self._get(path, lambda data: read(data, ""), not_found=f"pull request #{pr_id}")
        if pull.id != pr_id:
            raise self._invalid("GET", path, f"id is {pull.id}, not {pr_id}")
        return pull

    @abstractmethod
    def default_reviewers(self, source: str, destination: str) -> list[User]:
        """The default reviewers of a pull request from `source` to `destination`."""

    @abstractmethod
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

    # -- the reviewer's side --------------------------------------------------------------------
    @abstractmethod
    def approve(self, pr_id: int) -> bool:
        """Approve as the token's user; False when Bitbucket says it was approved already."""

    @abstractmethod
    def request_changes(self, pr_id: int) -> bool:
        """Request changes (Data Center: "needs work"); False when they were already."""

    @abstractmethod
    def decline(self, pull: PullRequest) -> PullRequest:
        """Decline an open pull request (Data Center: at the version `pull` was read at)."""

    @abstractmethod
    def comment(self, pr_id: int, text: str) -> str:
        """Add a general comment; the comment's URL."""

    @abstractmethod
    def _list_role(self, role: str, states: tuple[str, ...], limit: int) -> Iterator[PullRequest]:
        """Pull requests of the repository the token's user wrote ("author") or reviews
        ("reviewer"), newest first."""

    # -- build status ------------------------------------------------------------------------
    @abstractmethod
    def builds(self, commit: str) -> list[BuildStatus]:
        """The builds reported on a commit (a full or abbreviated hash)."""

    def pull_request_builds(self, pull: PullRequest) -> list[BuildStatus]:
        """The builds of a pull request's head commit."""
        return self.builds(pull.source_commit)

    def pull_request_builds_by_id(self, pr_id: int) -> list[BuildStatus] | None:
        """The builds of pull request `pr_id`'s head commit in one request, where this kind of
        Bitbucket can (Cloud); None: the pull request must be read first (Data Center)."""
        return None

    def required_builds(self, destination: str) -> list[str] | None:
        """The keys of the builds a pull request into `destination` needs to merge; None:
        this kind of Bitbucket names none (Cloud counts builds, it does not name them)."""
        return None

    # -- deployments (Cloud Pipelines) ----------------------------------------------------------
    def deployment_environments(self) -> list[DeployEnvironment]:
        """The repository's deployment environments (NoPipelines where there are none)."""
        raise self._no_pipelines()

    def last_deployment(self, environment_name: str) -> Deployment | None:
        """The newest successful deployment to the environment of that name (any case): None
        when it has none; UnknownEnvironment when there is no such environment; NoPipelines
        where this kind of Bitbucket has no deployments."""
        raise self._no_pipelines()

    def _no_pipelines(self) -> NoPipelines:
        return NoPipelines(
            f"{NO_PIPELINES} ({self.repo.full_name} is on Data Center)",
            "`jiraflow config show` lists the environments; on Data Center name no `deployment`.",
        )

    # -- merging -----------------------------------------------------------------------------
    @abstractmethod
    def merge_check(self, pull: PullRequest) -> MergeCheck:
        """Whether Bitbucket would merge `pull` now (Cloud says why not only when merging)."""

    @abstractmethod
    def merge_strategies(self, pull: PullRequest) -> tuple[str | None, list[str]]:
        """(the default, the enabled) merge strategies for `pull`'s destination, in Cloud's
        names (MERGE_STRATEGIES); None and [] when Bitbucket does not say."""

    def merge_head(self, pull: PullRequest) -> PullRequest:
        """The pull request as the merge will name it, read with the checks: Data Center's
        merge names `pull`'s version itself (no request); Cloud's names no head, so the pull
        request is read again (with its destination's merge strategies)."""
        return pull

    @abstractmethod
    def merge(
        self,
        pull: PullRequest,
        *,
        strategy: str | None,
        message: str | None,
        close_source_branch: bool,
        head: PullRequest | None = None,
    ) -> PullRequest:
        """Merge `pull` at the head it was read with (Data Center: its version; Cloud: the
        head is read again right before and must be the same; `head`: that read, already
        made by merge_head, after or with the checks), with `strategy` (None: the
        destination's default). The merged pull request comes back, merge_commit set.

        The POST is sent once; MergeRefused (exit 5) when Bitbucket refused it and changed
        nothing, HeadMoved when the head moved, Unconfirmed when it is unknown whether it
        merged."""

    def _check_merged(
        self, pull: PullRequest, method: str, path: str, merged: PullRequest
    ) -> PullRequest:
        """The answer to a merge must be `pull`, merged, with its merge commit."""
        if merged.id != pull.id or merged.state != "MERGED" or not merged.merge_commit:
            raise self._invalid(
                method,
                path,
                f"pull request #{merged.id} {merged.state.lower()}, not #{pull.id} merged",
                unconfirmed=True,
            )
        return merged

    # -- what each kind of Bitbucket says its own way ------------------------------------------
    @abstractmethod
    def _repo_path(self) -> str:
        """The repository's path below the API address."""

    @abstractmethod
    def _list(
        self, source: str | None, destination: str | None, states: tuple[str, ...], limit: int
    ) -> Iterator[PullRequest]:
        """Pull requests, newest first, as the server filters them (more may come)."""

    @abstractmethod
    def _read_pull_request(self, value: Any, where: str) -> PullRequest:
        """A pull request of an answer (Shape when it is not one)."""

    @abstractmethod
    def _read_page(self, value: Any) -> tuple[list[Any], Any]:
        """A page of a list: its values, and where the next page is (None on the last)."""

    @abstractmethod
    def _next_page(
        self, url: str, params: dict[str, Any], following: Any, seen: int, visited: set[str]
    ) -> tuple[str, dict[str, Any]]:
        """The path and parameters of the page `following` names, after `seen` values and
        the pages `visited` (InvalidAnswer when it would never end, or leaves the site)."""

    @abstractmethod
    def _authorization(self) -> str:
        """The Authorization header."""

    @abstractmethod
    def _auth_hint(self) -> str:
        """What to do when the credentials are refused (401)."""

    def _refusal(self, status: int, errors: list[dict[str, Any]]) -> Exception | None:
        """An error answer this kind of server gives a meaning of its own (None: none)."""
        return None

    # -- shared --------------------------------------------------------------------------------
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

    @property
    def _owner(self) -> str:
        return quote(self.repo.owner, safe="~")

    @property
    def _slug(self) -> str:
        return quote(self.repo.slug)

    def _pages(
        self,
        path: str,
        params: dict[str, Any],
        most: int,
        read: Callable[[Any, str], T],
        *,
        not_found: str | None = None,
    ) -> Iterator[T]:
        """The values of a paged list, each read with `read`, following the pages (see
        _next_page) up to `most` values. A page that promises more but gives none is an
        invalid answer (it would never end)."""
        seen = 0
        url: str | None = path
        visited: set[str] = set()
        while url is not None and seen < most:
            asked = f"{url}?{sorted(params.items())}"
            values, following = self._get(url, self._read_page, params=params, not_found=not_found)
            visited.add(asked)
            for n, value in enumerate(values):
                seen += 1
                yield self._checked("GET", url, self._item(read, n), value)
            if following is None:
                return
            if not values:
                raise self._invalid("GET", url, "an empty page that says more follow")
            url, params = self._next_page(url, params, following, seen, visited)

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
        accept: tuple[int, ...] = (),
    ) -> Any:
        """The decoded answer (`raw`: the response); an error status raises, except those
        in `accept`, whose response comes back as it is."""
        with self._session_lock:
            if self._session is None:
                import requests

                # proxies and CA bundles from the environment are honoured; .netrc is not
                # consulted because every request carries its own auth
                self._session = requests.Session()
        response = send(
            self._session,
            method,
            self.repo.api + path,
            service="Bitbucket",
            timeout=self.timeout,
            unanswered=partial(self._unanswered, method, path),
            sleep=self._sleep,
            params=params,
            json=json,
            headers={"Accept": "application/json"},
            auth=_TokenAuth(self._authorization()),
        )
        if response.status_code >= 300 and response.status_code not in accept:
            raise self._error(response, method, path, not_found)
        if raw or response.status_code in accept:
            return response
        return self._decode(response, method, path)

    def _unanswered(self, method: str, path: str, exc: Exception) -> RemoteError:
        """A request that got no answer; never sent again: it may have been carried out."""
        import requests

        if method != "GET" and isinstance(exc, requests.ReadTimeout):
            return Unconfirmed(
                f"Bitbucket at {self.repo.api} did not answer {method} {path} in "
                f"time ({self.timeout:g} s); it may have been carried out",
                "Check bitbucket.url and your connection, then try again.",
            )
        return RemoteError(
            f"Bitbucket at {self.repo.api} cannot be reached ({reason(exc)})",
            "Check bitbucket.url and your connection, then try again.",
        )

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
        special = self._refusal(status, errors)
        if special is not None:
            return special
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
            return RemoteError(*busy("Bitbucket", self.repo.api, status, response))
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


class _TokenAuth:
    """requests auth that sets the Authorization header (an auth object, not a header, so
    that requests never replaces it with .netrc credentials)."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self.value
        return request


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
# Every answer is read through these (and each kind's readers, made of them): a member
# jiraflow uses that is missing or of the wrong type raises Shape, which the client turns
# into InvalidAnswer naming the request.


class Shape(Exception):
    """What is wrong in an answer, and where in it (`values[2].id is missing`)."""


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def located(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def obj(value: Any, where: str = "") -> dict[str, Any]:
    """The value as a JSON object."""
    if not isinstance(value, dict):
        raise Shape(f"{where or 'the answer'} is {kind_of(value)}, not an object")
    return value


def member(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> Any:
    value = data.get(key)
    if value is None and required:
        raise Shape(f"{located(where, key)} is missing")
    return value


def text(data: dict[str, Any], key: str, where: str = "", *, required: bool = False) -> str:
    """A string member ('' when absent and not required; an empty required one is missing)."""
    value = member(data, key, where, required=required)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Shape(f"{located(where, key)} is {kind_of(value)}, not a string")
    if required and not value:
        raise Shape(f"{located(where, key)} is empty")
    return value


def whole(data: dict[str, Any], key: str, where: str = "", *, required: bool = True) -> int | None:
    """A whole-number member (true/false is not one)."""
    value = member(data, key, where, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Shape(f"{located(where, key)} is {kind_of(value)}, not a whole number")
    return value


def flag(data: dict[str, Any], key: str, where: str = "") -> bool:
    value = member(data, key, where)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Shape(f"{located(where, key)} is {kind_of(value)}, not true/false")
    return value


def items(data: dict[str, Any], key: str, where: str = "", *, required: bool = False) -> list[Any]:
    value = member(data, key, where, required=required)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Shape(f"{located(where, key)} is {kind_of(value)}, not a list")
    return value


def inner(
    data: dict[str, Any], key: str, where: str = "", *, required: bool = False
) -> dict[str, Any]:
    """An object member ({} when absent and not required)."""
    value = member(data, key, where, required=required)
    return {} if value is None else obj(value, located(where, key))


def pull_request_id(data: dict[str, Any], where: str) -> int:
    number = whole(data, "id", where)
    if number is None or number <= 0:
        raise Shape(f"{located(where, 'id')} is {number}, not a pull request number")
    return number


def timestamp(data: dict[str, Any], key: str, where: str = "") -> dt.datetime | None:
    """An ISO 8601 date-time member (Cloud), aware; None when absent."""
    value = text(data, key, where)
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Shape(f"{located(where, key)} is {value!r}, not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def epoch_millis(data: dict[str, Any], key: str, where: str = "") -> dt.datetime | None:
    """A member in milliseconds since 1970 (Data Center), as an aware time; None when absent."""
    value = whole(data, key, where, required=False)
    if value is None:
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise Shape(f"{located(where, key)} is {value}, not a time") from None
