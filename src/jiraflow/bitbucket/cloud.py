"""Bitbucket Cloud (REST 2.0, api.bitbucket.org/2.0): its URLs, request bodies and answers.

Cloud names users by uuid or Atlassian account id; an API token goes with the account's
e-mail (Basic), a repository/project/workspace access token alone (Bearer, no user of its
own). Lists are filtered with BBQL (`q`) and paged by `next` links, followed only below the
API address. A repeated POST of a pull request answers with the one already open.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from jiraflow.bitbucket.client import (
    PAGE,
    BitbucketClient,
    PullRequest,
    Reviewer,
    User,
    flag,
    inner,
    items,
    located,
    obj,
    pull_request_id,
    text,
)

ACCESS_TOKEN_USER = "x-token-auth"  # Cloud's name for "a repository/project/workspace token"
APP_PASSWORD_PREFIX = "ATBB"
CLOUD_TOKEN_HELP = (
    "Create an API token with scopes (read:user, read:repository, read:pullrequest, "
    "write:pullrequest) and log in with your Atlassian e-mail: "
    "`jiraflow auth login bitbucket --user you@example.com`."
)


class CloudClient(BitbucketClient):
    """One repository on Bitbucket Cloud."""

    cloud = True
    pull_requests_path = "pullrequests"

    @property
    def access_token(self) -> bool:
        """A repository/project/workspace access token (Bearer, no user of its own)."""
        return self.credential.user in ("", ACCESS_TOKEN_USER)

    def me(self, *, fresh: bool = False) -> User:
        """The token's user: /user, cached per site and login; an access token has no user
        of its own (id '')."""
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
        """/user; an access token (which has no user) against the repository it was made for."""
        if not self.access_token:
            return self.me(fresh=True)
        self._get(self._repo_path(), obj)
        return self.me()

    def default_reviewers(self, source: str, destination: str) -> list[User]:
        """The repository's effective default reviewers."""
        path = f"{self._repo_path()}/effective-default-reviewers"
        users = list(self._pages(path, {}, PAGE * 2, cloud_default_reviewer))
        return [u for u in users if u.id]

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
        """A repeated POST answers 200 with the pull request already open (201: a new one)."""
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

    def _repo_path(self) -> str:
        return f"/repositories/{self._owner}/{self._slug}"

    def _list(
        self, source: str | None, destination: str | None, states: tuple[str, ...], limit: int
    ) -> Iterator[PullRequest]:
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

    def _read_pull_request(self, value: Any, where: str) -> PullRequest:
        return cloud_pull_request(value, where)

    def _read_page(self, value: Any) -> tuple[list[Any], Any]:
        return cloud_page(value)

    def _next_page(
        self, url: str, params: dict[str, Any], following: Any, seen: int, visited: set[str]
    ) -> tuple[str, dict[str, Any]]:
        """The `next` link, only below our own API address, and not one already read."""
        assert isinstance(following, str)
        if not following.startswith(self.repo.api + "/"):
            raise self._invalid("GET", url, f"a next page at {following}, outside {self.repo.api}")
        url, params = following[len(self.repo.api) :], {}
        if f"{url}?{sorted(params.items())}" in visited:
            raise self._invalid("GET", url, "a next page it already sent")
        return url, params

    def _authorization(self) -> str:
        token = self.credential.token
        if self.access_token:
            return f"Bearer {token}"
        pair = f"{self.credential.user}:{token}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def _auth_hint(self) -> str:
        login = f"jiraflow auth login bitbucket --url {self.repo.api}"
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


def _bbql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- reading answers (the primitives are client.py's) ------------------------------------------
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


def cloud_page(value: Any) -> tuple[list[Any], str | None]:
    """A Cloud page: its values, and the next page's address (None on the last)."""
    data = obj(value)
    following = text(data, "next", "") or None
    return items(data, "values", required=True), following


def cloud_default_reviewer(value: Any, where: str) -> User:
    """One entry of effective-default-reviewers: {user, reviewer_type, type}."""
    return cloud_user(
        inner(obj(value, where), "user", where, required=True), located(where, "user")
    )


# a Cloud participant's state, in Data Center's words
_CLOUD_STATES = {"approved": "APPROVED", "changes_requested": "NEEDS_WORK"}


def _branch(data: dict[str, Any], side: str, where: str) -> dict[str, Any]:
    return inner(
        inner(data, side, where, required=True), "branch", located(where, side), required=True
    )


def cloud_pull_request(value: Any, where: str = "") -> PullRequest:
    """A Cloud pull request (a list item, or a whole one)."""
    data = obj(value, where)
    reviewers = []
    for n, entry in enumerate(items(data, "participants", where)):
        at = f"{located(where, 'participants')}[{n}]"
        p = obj(entry, at)
        if text(p, "role", at) == "REVIEWER":
            approved = flag(p, "approved", at)
            state = text(p, "state", at)
            status = "APPROVED" if approved else _CLOUD_STATES.get(state, "UNAPPROVED")
            user = cloud_user(inner(p, "user", at), located(at, "user"))
            reviewers.append(Reviewer(user, approved, status))
    listed = {r.user.id for r in reviewers}
    for n, entry in enumerate(items(data, "reviewers", where)):
        user = cloud_user(entry, f"{located(where, 'reviewers')}[{n}]")
        if user.id not in listed:
            reviewers.append(Reviewer(user, False, "UNAPPROVED"))
    source = inner(data, "source", where)
    html = inner(inner(data, "links", where), "html", located(where, "links"))
    merge = inner(data, "merge_commit", where)
    return PullRequest(
        id=pull_request_id(data, where),
        title=text(data, "title", where),
        state=text(data, "state", where, required=True),
        source=text(_branch(data, "source", where), "name", located(where, "source.branch"),
                    required=True),
        destination=text(_branch(data, "destination", where), "name",
                         located(where, "destination.branch"), required=True),
        url=text(html, "href", located(where, "links.html")),
        author=cloud_user(inner(data, "author", where), located(where, "author")),
        reviewers=reviewers,
        draft=flag(data, "draft", where),
        source_commit=text(inner(source, "commit", located(where, "source")), "hash",
                           located(where, "source.commit")),
        merge_commit=text(merge, "hash", located(where, "merge_commit")),
    )  # fmt: skip
