"""Bitbucket Data Center (REST 1.0, on the server's own address): its URLs, request bodies
and answers.

Data Center names users by user name; a personal or HTTP access token goes as a Bearer
token, and the user it belongs to comes back in X-AUSERNAME. Lists are paged by
nextPageStart; default reviewers come from the default-reviewers plugin, which needs the
numeric repository id. A repeated POST of a pull request is refused (409) with the one
already open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from jiraflow.bitbucket.client import (
    PAGE,
    BitbucketClient,
    PullRequest,
    Reviewer,
    Shape,
    User,
    flag,
    inner,
    items,
    kind_of,
    located,
    member,
    obj,
    pull_request_id,
    text,
    whole,
)
from jiraflow.errors import AuthError, JiraflowError
from jiraflow.git import BRANCHES, branch_ref

DC_STATES = ("OPEN", "DECLINED", "MERGED")  # and ALL: what getPage's `state` takes


class DataCenterClient(BitbucketClient):
    """One repository on a Bitbucket Data Center (or Server) site."""

    cloud = False
    pull_requests_path = "pull-requests"

    def me(self, *, fresh: bool = False) -> User:
        """The login name (no request)."""
        return User(self.credential.user, self.credential.user, self.credential.user)

    def verify(self) -> User:
        """The user, and that the token is theirs (X-AUSERNAME names the token's owner)."""
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

    def default_reviewers(self, source: str, destination: str) -> list[User]:
        """Those the default-reviewers conditions name for this source and destination."""
        repo_id = self.repository_id()
        path = f"/rest/default-reviewers/1.0/projects/{self._owner}/repos/{self._slug}/reviewers"
        params = {
            "sourceRepoId": repo_id,
            "targetRepoId": repo_id,
            "sourceRefId": branch_ref(source),
            "targetRefId": branch_ref(destination),
        }
        users = self._get(path, dc_reviewers, params=params)
        unique: dict[str, User] = {}
        for user in users:  # several conditions may name one person
            unique.setdefault(user.id.lower(), user)
        return list(unique.values())

    def repository_id(self) -> str:
        """The numeric repository id (the default-reviewers plugin needs it), cached: it
        never changes."""
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
        """A RestPullRequest, each ref naming its repository by slug and project key; a 409
        carries the pull request already open."""
        path = f"{self._repo_path()}/pull-requests"
        ref = {"repository": {"slug": self.repo.slug, "project": {"key": self.repo.owner}}}
        body: dict[str, Any] = {
            "title": title,
            "description": description,
            "fromRef": {"id": branch_ref(source), **ref},
            "toRef": {"id": branch_ref(destination), **ref},
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

    def _repo_path(self) -> str:
        return f"/rest/api/1.0/projects/{self._owner}/repos/{self._slug}"

    def _list(
        self, source: str | None, destination: str | None, states: tuple[str, ...], limit: int
    ) -> Iterator[PullRequest]:
        # getPage: one `state` (OPEN, DECLINED, MERGED, or ALL), `at` a fully-qualified
        # ref, `direction` OUTGOING for the source side (INCOMING: target).
        state = states[0] if len(states) == 1 and states[0] in DC_STATES else "ALL"
        params = {"state": state, "limit": str(min(limit, PAGE)), "order": "NEWEST"}
        if source is not None:
            params |= {"at": branch_ref(source), "direction": "OUTGOING"}
        elif destination is not None:
            params |= {"at": branch_ref(destination), "direction": "INCOMING"}
        path = f"{self._repo_path()}/pull-requests"
        for pr in self._pages(path, params, limit * 4, dc_pull_request):
            if pr.state in states:
                yield pr

    def _read_pull_request(self, value: Any, where: str) -> PullRequest:
        return dc_pull_request(value, where)

    def _read_page(self, value: Any) -> tuple[list[Any], Any]:
        return dc_page(value)

    def _next_page(
        self, url: str, params: dict[str, Any], following: Any, seen: int, visited: set[str]
    ) -> tuple[str, dict[str, Any]]:
        """The next page's start, which must lie beyond this page's (and every value read)."""
        assert isinstance(following, int)
        start = int(params.get("start", -1))
        if following <= start or following < seen:
            raise self._invalid("GET", url, f"nextPageStart {following} going back")
        return url, {**params, "start": str(following)}

    def _authorization(self) -> str:
        return f"Bearer {self.credential.token}"

    def _auth_hint(self) -> str:
        login = f"jiraflow auth login bitbucket --url {self.repo.api}"
        return f"Run `{login}` with an HTTP access token."

    def _refusal(self, status: int, errors: list[dict[str, Any]]) -> Exception | None:
        """409 DuplicatePullRequest: the pull request already open, in the answer."""
        if (
            status == 409
            and errors
            and "DuplicatePullRequest" in str(errors[0].get("exceptionName"))
        ):
            existing = errors[0].get("existingPullRequest")
            if isinstance(existing, dict):
                return _Duplicate(existing)
        return None


class _Duplicate(JiraflowError):
    """A 409: a pull request is already open for this source and destination."""

    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__("a pull request is already open")
        self.existing = existing


# -- reading answers (the primitives are client.py's) ------------------------------------------
def dc_user(value: Any, where: str = "", *, required: bool = False) -> User:
    """A Data Center user; `required`: it must have a name (or slug)."""
    data = obj(value, where)
    name = text(data, "name", where) or text(data, "slug", where)
    if required and not name:
        raise Shape(f"{located(where, 'name')} is missing")
    return User(name, name, text(data, "displayName", where) or name)


def dc_page(value: Any) -> tuple[list[Any], int | None]:
    """A Data Center page: its values, and where the next page starts (None on the last)."""
    data = obj(value)
    values = items(data, "values", required=True)
    last = member(data, "isLastPage", "", required=True)
    if not isinstance(last, bool):
        raise Shape(f"isLastPage is {kind_of(last)}, not true/false")
    if last:
        return values, None
    return values, whole(data, "nextPageStart")


def dc_reviewers(value: Any) -> list[User]:
    """The default-reviewers plugin's answer for a source and target: a list of users (what
    servers send), or of conditions with their `reviewers` (the 9.4 spec's schema)."""
    if not isinstance(value, list):
        raise Shape(f"the answer is {kind_of(value)}, not a list")
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


def repository_id(value: Any) -> str:
    number = whole(obj(value), "id")
    return str(number)


def _dc_ref(data: dict[str, Any], side: str, where: str) -> tuple[str, str]:
    """(branch, latest commit) of fromRef or toRef."""
    at = located(where, side)
    ref = inner(data, side, where, required=True)
    name = text(ref, "displayId", at) or text(ref, "id", at).removeprefix(BRANCHES)
    if not name:
        raise Shape(f"{located(at, 'displayId')} is missing")
    return name, text(ref, "latestCommit", at)


def dc_pull_request(value: Any, where: str = "") -> PullRequest:
    """A Data Center pull request."""
    data = obj(value, where)
    reviewers = []
    for n, entry in enumerate(items(data, "reviewers", where)):
        at = f"{located(where, 'reviewers')}[{n}]"
        r = obj(entry, at)
        user = dc_user(inner(r, "user", at, required=True), located(at, "user"))
        reviewers.append(Reviewer(user, flag(r, "approved", at), text(r, "status", at)))
    links = items(inner(data, "links", where), "self", located(where, "links"))
    first = obj(links[0], located(where, "links.self[0]")) if links else {}
    properties = inner(data, "properties", where)
    merge = inner(properties, "mergeCommit", located(where, "properties"))
    source, source_commit = _dc_ref(data, "fromRef", where)
    destination, _ = _dc_ref(data, "toRef", where)
    author = inner(data, "author", where)
    return PullRequest(
        id=pull_request_id(data, where),
        title=text(data, "title", where),
        state=text(data, "state", where, required=True),
        source=source,
        destination=destination,
        url=text(first, "href", located(where, "links.self[0]")),
        author=dc_user(
            inner(author, "user", located(where, "author")), located(where, "author.user")
        ),
        reviewers=reviewers,
        draft=flag(data, "draft", where),
        source_commit=source_commit,
        merge_commit=text(merge, "id", located(where, "properties.mergeCommit")),
    )
