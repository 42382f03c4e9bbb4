"""Bitbucket Cloud (REST 2.0, api.bitbucket.org/2.0): its URLs, request bodies and answers.

Cloud names users by uuid or Atlassian account id; an API token goes with the account's
e-mail (Basic), a repository/project/workspace access token alone (Bearer, no user of its
own). Lists are filtered with BBQL (`q`) and paged by `next` links, followed only below the
API address. A repeated POST of a pull request answers with the one already open.
"""

from __future__ import annotations

import base64
import string
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from jiraflow.bitbucket.client import (
    DEPLOYMENT_STATES,
    PAGE,
    BitbucketClient,
    BuildStatus,
    DeployEnvironment,
    Deployment,
    MergeCheck,
    MergeRefused,
    PullRequest,
    Reviewer,
    Shape,
    Unconfirmed,
    UnknownEnvironment,
    User,
    build_state,
    check_head,
    flag,
    inner,
    items,
    located,
    obj,
    pull_request_id,
    text,
    timestamp,
    whole,
)
from jiraflow.errors import JiraflowError, RemoteError

ACCESS_TOKEN_USER = "x-token-auth"  # Cloud's name for "a repository/project/workspace token"
APP_PASSWORD_PREFIX = "ATBB"
MERGE_TASK_WAIT = 120.0  # seconds a merge task is polled for, at most
DEPLOYMENTS_PAGE = 10  # deployments asked for at once (newest first: the first page answers)
MOST_DEPLOYMENTS = 50  # read at most, for an environment whose last ones all failed
MOST_ENVIRONMENTS = 500
STRATEGY_FIELDS = "+destination.branch.merge_strategies,+destination.branch.default_merge_strategy"
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

    # -- the reviewer's side (POST .../approve, .../request-changes: 409 when given already)
    def approve(self, pr_id: int) -> bool:
        return self._verdict(pr_id, "approve")

    def request_changes(self, pr_id: int) -> bool:
        return self._verdict(pr_id, "request-changes")

    def _verdict(self, pr_id: int, action: str) -> bool:
        path = f"{self._repo_path()}/pullrequests/{pr_id}/{action}"
        response = self._request(
            "POST", path, raw=True, accept=(409,), not_found=f"pull request #{pr_id}"
        )
        return bool(response.status_code != 409)

    def decline(self, pull: PullRequest) -> PullRequest:
        path = f"{self._repo_path()}/pullrequests/{pull.id}/decline"
        data = self._request("POST", path, not_found=f"pull request #{pull.id}")
        return self._checked("POST", path, cloud_pull_request, data, unconfirmed=True)

    def comment(self, pr_id: int, text: str) -> str:
        path = f"{self._repo_path()}/pullrequests/{pr_id}/comments"
        body = {"content": {"raw": text}}
        data = self._request("POST", path, json=body, not_found=f"pull request #{pr_id}")
        return self._checked("POST", path, cloud_comment_url, data, unconfirmed=True)

    def _list_role(self, role: str, states: tuple[str, ...], limit: int) -> Iterator[PullRequest]:
        """BBQL on the token's user: `author.uuid = "{...}"` or `reviewers.uuid = ...`."""
        from jiraflow.errors import ConfigError

        field = {"author": "author.uuid", "reviewer": "reviewers.uuid"}[role]
        me = self.me()
        if not me.id:
            raise ConfigError(
                "a repository access token has no user of its own, so it has no pull "
                "requests of its own either",
                "Log in with your API token: `jiraflow auth login bitbucket`.",
            )
        yield from self._list(None, None, states, limit, also=f"{field} = {_bbql_string(me.id)}")

    # -- build status: commit statuses ---------------------------------------------------------
    def builds(self, commit: str) -> list[BuildStatus]:
        path = f"{self._repo_path()}/commit/{commit}/statuses"
        return self._statuses(path, f"commit {commit}")

    def pull_request_builds(self, pull: PullRequest) -> list[BuildStatus]:
        """The pull request's statuses endpoint (its head commit's statuses)."""
        found = self.pull_request_builds_by_id(pull.id)
        assert found is not None
        return found

    def pull_request_builds_by_id(self, pr_id: int) -> list[BuildStatus] | None:
        path = f"{self._repo_path()}/pullrequests/{pr_id}/statuses"
        return self._statuses(path, f"pull request #{pr_id}")

    def _statuses(self, path: str, what: str) -> list[BuildStatus]:
        """Every status of a paged list (up to 500)."""
        return list(self._pages(path, {"pagelen": "100"}, 500, cloud_build, not_found=what))

    # -- deployments: Pipelines' environments and deployments ------------------------------
    def deployment_environments(self, *, fresh: bool = False) -> list[DeployEnvironment]:
        """GET .../environments (one page of 100), cached per site and repository: an
        environment's uuid never changes (last_deployment asks again, fresh, for a name the
        cache does not have)."""
        if not fresh:
            cached = self._cached_environments()
            if cached is not None:
                return cached
        path = f"{self._repo_path()}/environments"
        what = f"the deployment environments of {self.repo.full_name}"
        found = list(
            self._pages(
                path, {"pagelen": "100"}, MOST_ENVIRONMENTS, cloud_environment, not_found=what
            )
        )
        self.cache.put(
            self.repo.api, self._environments_key, [[e.uuid, e.name, e.type] for e in found]
        )
        return found

    def last_deployment(self, environment_name: str) -> Deployment | None:
        """GET .../deployments of the environment, newest first (sort=-state.completed_on),
        DEPLOYMENTS_PAGE at a time, up to MOST_DEPLOYMENTS: the first SUCCESSFUL one (an
        earlier one Pipelines replaced is UNDEPLOYED). Deployments of other environments
        (a server that ignored the filter) are skipped."""
        environment = self._environment(environment_name)
        params = {
            "environment": environment.uuid,
            "sort": "-state.completed_on",
            "pagelen": str(DEPLOYMENTS_PAGE),
        }
        path = f"{self._repo_path()}/deployments"
        for uuid, deployment in self._pages(path, params, MOST_DEPLOYMENTS, cloud_deployment):
            if uuid.lower() == environment.uuid.lower() and deployment.state == "SUCCESSFUL":
                return replace(deployment, environment=environment.name)
        return None

    @property
    def _environments_key(self) -> str:
        return f"environments {self.repo.full_name}"

    def _cached_environments(self) -> list[DeployEnvironment] | None:
        cached = self.cache.get(self.repo.api, self._environments_key)
        if not isinstance(cached, list):
            return None
        found: list[DeployEnvironment] = []
        for entry in cached:  # the cache is a file on disk: only whole, well-typed entries
            if not (isinstance(entry, list) and len(entry) == 3):
                return None
            if not all(isinstance(part, str) for part in entry) or not entry[0]:
                return None
            found.append(DeployEnvironment(*entry))
        return found

    def _environment(self, name: str) -> DeployEnvironment:
        """The environment of that name (any case): from the cache, else asked for."""
        cached = self._cached_environments()
        found = _named(cached or [], name)
        if found is not None:
            return found
        environments = self.deployment_environments(fresh=True)
        found = _named(environments, name)
        if found is None:
            names = ", ".join(e.name for e in environments) or "none"
            raise UnknownEnvironment(
                f"{self.repo.full_name} has no deployment environment named {name!r} in "
                f"Bitbucket (it has {names})",
                "`jiraflow config show` shows each environment's `deployment`: name one of "
                "those Bitbucket has (Repository settings > Deployments).",
            )
        return found

    # -- merging: POST .../merge (its task form polled); checks only when merging ----------
    def merge_check(self, pull: PullRequest) -> MergeCheck:
        """Cloud has no "can it merge" question: its merge checks answer the merge itself
        (a 400 naming them), so this asks nothing."""
        return MergeCheck(can_merge=True, conflicted=False)

    def merge_strategies(self, pull: PullRequest) -> tuple[str | None, list[str]]:
        """The destination branch's, which a pull request has when `fields` asks for them."""
        if pull.merge_strategies is None:
            path = f"{self._repo_path()}/pullrequests/{pull.id}"
            params = {"fields": STRATEGY_FIELDS}
            missing = f"pull request #{pull.id}"
            pull = self._get(path, cloud_pull_request, params=params, not_found=missing)
        return pull.default_merge_strategy or None, list(pull.merge_strategies or [])

    def merge_head(self, pull: PullRequest) -> PullRequest:
        """The pull request read again, with its destination's merge strategies (one GET)."""
        path = f"{self._repo_path()}/pullrequests/{pull.id}"
        params = {"fields": STRATEGY_FIELDS}
        missing = f"pull request #{pull.id}"
        now = self._get(path, cloud_pull_request, params=params, not_found=missing)
        if now.id != pull.id:
            raise self._invalid("GET", path, f"id is {now.id}, not {pull.id}")
        return now

    def merge(
        self,
        pull: PullRequest,
        *,
        strategy: str | None,
        message: str | None,
        close_source_branch: bool,
        head: PullRequest | None = None,
    ) -> PullRequest:
        """Cloud's merge names no head: the pull request is read again right before the POST
        (or `head`, read with the checks), and its head must still be `pull`'s (a push after
        that read is merged unseen)."""
        now = head if head is not None else self.pull_request(pull.id)
        check_head(pull, now)
        path = f"{self._repo_path()}/pullrequests/{pull.id}/merge"
        body: dict[str, Any] = {"type": "pullrequest", "close_source_branch": close_source_branch}
        if strategy is not None:
            body["merge_strategy"] = strategy
        if message:
            body["message"] = message
        response = self._request(
            "POST", path, json=body, raw=True, accept=(400, 409, 555),
            not_found=f"pull request #{pull.id}",
        )  # fmt: skip
        status = response.status_code
        if status == 400:
            reasons = cloud_refusals(response) or ["Bitbucket gave no reason"]
            raise MergeRefused(
                f"Bitbucket refused to merge pull request #{pull.id}",
                f"Fix what it names, then run `jiraflow pr merge {pull.id}` again.",
                reasons,
            )
        if status == 409:
            raise MergeRefused(
                f"Bitbucket could not merge pull request #{pull.id} now: it is being merged, "
                "or it changed meanwhile (409)",
                f"See `jiraflow pr view {pull.id}`, then run `jiraflow pr merge {pull.id}` again.",
                cloud_refusals(response),
            )
        if status == 555:
            raise Unconfirmed(
                f"Bitbucket took too long to merge pull request #{pull.id} (555): it may "
                "still merge it",
                f"See `jiraflow pr view {pull.id}`; once it is merged, finish with "
                "`jiraflow finish`.",
            )
        if status == 202:
            merged = self._merge_task(pull, path, response.headers.get("Location"))
        else:
            try:
                data = self._decode(response, "POST", path)
            except RemoteError as exc:  # it answered 2xx: the merge may well have been made
                raise self._maybe_merged(pull, exc) from None
            merged = self._checked("POST", path, cloud_pull_request, data, unconfirmed=True)
        return self._check_merged(pull, "POST", path, merged)

    def _maybe_merged(self, pull: PullRequest, error: JiraflowError) -> Unconfirmed:
        """A failure after Bitbucket took the merge: whether it merged is unknown."""
        return Unconfirmed(
            f"Bitbucket took the merge of pull request #{pull.id}, and it may have been "
            f"merged, but what followed failed: {error.message}",
            f"See `jiraflow pr view {pull.id}`.",
        )

    def _merge_task(self, pull: PullRequest, path: str, location: str | None) -> PullRequest:
        """Poll the merge task Location names (only below our API address), waiting
        0.25 s, 0.5 s, 1 s... (at most 5 s) between polls, for at most MERGE_TASK_WAIT s."""
        if not location or not location.startswith(self.repo.api + "/"):
            where = f"a task at {location}, outside {self.repo.api}" if location else "no task"
            raise self._invalid("POST", path, f"202 with {where}", unconfirmed=True)
        task = location[len(self.repo.api) :]
        waited, pause = 0.0, 0.25
        while True:
            try:
                status, result = self._get(task, cloud_task)
            except Unconfirmed:
                raise
            except JiraflowError as exc:  # a 5xx, a timeout, an answer not understood
                raise self._maybe_merged(pull, exc) from None
            if status == "SUCCESS":
                return self._checked("GET", task, cloud_pull_request, result, unconfirmed=True)
            if status != "PENDING":
                raise Unconfirmed(
                    f"Bitbucket's merge task for pull request #{pull.id} ended {status}",
                    f"See `jiraflow pr view {pull.id}`, then run `jiraflow pr merge "
                    f"{pull.id}` again if it is still open.",
                )
            if waited >= MERGE_TASK_WAIT:
                raise Unconfirmed(
                    f"Bitbucket is still merging pull request #{pull.id} after "
                    f"{MERGE_TASK_WAIT:.0f} s",
                    f"See `jiraflow pr view {pull.id}`; once it is merged, finish with "
                    "`jiraflow finish`.",
                )
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, 5.0)

    def _repo_path(self) -> str:
        return f"/repositories/{self._owner}/{self._slug}"

    def _list(
        self,
        source: str | None,
        destination: str | None,
        states: tuple[str, ...],
        limit: int,
        *,
        also: str | None = None,
    ) -> Iterator[PullRequest]:
        # `also`: one more BBQL term (_list_role's). The states go both as the repeated
        # `state` parameter (the documented way) and into `q`: reports differ on whether `q`
        # alone lifts the OPEN-only default, and whether `state` counts beside `q`; with
        # both, either reading lists them.
        # List items leave out reviewers and approvals unless `fields` asks for them.
        terms = ["(" + " OR ".join(f"state = {_bbql_string(s)}" for s in states) + ")"]
        if source is not None:
            terms.append(f"source.branch.name = {_bbql_string(source)}")
        if destination is not None:
            terms.append(f"destination.branch.name = {_bbql_string(destination)}")
        if also is not None:
            terms.append(also)
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


def _named(environments: list[DeployEnvironment], name: str) -> DeployEnvironment | None:
    wanted = name.strip().lower()
    return next((e for e in environments if e.name.lower() == wanted), None)


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


def cloud_comment_url(value: Any) -> str:
    """A new comment's address: its web page, else its API address (it must have an id)."""
    data = obj(value)
    number = whole(data, "id")
    links = inner(data, "links")
    href = text(inner(links, "html", "links"), "href", "links.html")
    return href or text(inner(links, "self", "links"), "href", "links.self") or f"#{number}"


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
        source_repository=text(inner(source, "repository", located(where, "source")),
                               "full_name", located(where, "source.repository")),
        **cloud_merge_strategies(data, where),
    )  # fmt: skip


def cloud_merge_strategies(data: dict[str, Any], where: str) -> dict[str, Any]:
    """The destination branch's merge_strategies and default_merge_strategy (a whole pull
    request has them; None when it does not)."""
    branch = _branch(data, "destination", where)
    at = located(where, "destination.branch")
    if "merge_strategies" not in branch:
        return {}
    names = [n for n in items(branch, "merge_strategies", at) if isinstance(n, str)]
    return {
        "merge_strategies": names,
        "default_merge_strategy": text(branch, "default_merge_strategy", at),
    }


def cloud_task(value: Any) -> tuple[str, Any]:
    """A merge task's status (PENDING, SUCCESS, FAILED...) and, on SUCCESS, its merge_result."""
    data = obj(value)
    status = text(data, "task_status", required=True).upper()
    result = data.get("merge_result")
    if status == "SUCCESS" and result is None:
        raise Shape("task_status is SUCCESS, but merge_result is missing")
    return status, result


def cloud_refusals(response: Any) -> list[str]:
    """Each reason of a Cloud error answer: error.message, then each line of error.detail
    and each field's message (a reason said twice counts once)."""
    try:
        data = response.json()
    except ValueError:
        return []
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return []
    reasons: list[str] = []
    detail = error.get("detail")
    lines = detail.splitlines() if isinstance(detail, str) else []
    fields = error.get("fields")
    for problems in fields.values() if isinstance(fields, dict) else ():
        lines += [str(p) for p in (problems if isinstance(problems, list) else [problems])]
    message = error.get("message")
    if isinstance(message, str) and message and not lines:
        reasons.append(message)
    for line in lines:
        if line.strip() and line.strip() not in reasons:
            reasons.append(line.strip())
    return reasons


def cloud_build(value: Any, where: str = "") -> BuildStatus:
    """A commitstatus: key and state required; created_on is when it was first reported,
    updated_on when it last changed (its end, once it is no longer INPROGRESS)."""
    data = obj(value, where)
    state = build_state(text(data, "state", where, required=True))
    key = text(data, "key", where, required=True)
    updated = timestamp(data, "updated_on", where)
    return BuildStatus(
        key=key,
        name=text(data, "name", where) or key,
        state=state,
        url=text(data, "url", where),
        started=timestamp(data, "created_on", where),
        finished=updated if state not in ("INPROGRESS", "UNKNOWN") else None,
        description=text(data, "description", where),
        commit=_status_commit(data),
    )


def _status_commit(data: dict[str, Any]) -> str:
    """The commit a commitstatus names (the last part of links.commit.href), or "" (the
    link is optional: one missing or not understood names none)."""
    links = data.get("links")
    commit = links.get("commit") if isinstance(links, dict) else None
    href = commit.get("href") if isinstance(commit, dict) else None
    last = href.rstrip("/").rpartition("/")[2] if isinstance(href, str) else ""
    hexadecimal = all(c in "0123456789abcdefABCDEF" for c in last)
    return last if 7 <= len(last) <= 40 and hexadecimal else ""


def cloud_environment(value: Any, where: str = "") -> DeployEnvironment:
    """A deployment_environment: uuid and name required; environment_type.name when given."""
    data = obj(value, where)
    kind = inner(data, "environment_type", where)
    return DeployEnvironment(
        text(data, "uuid", where, required=True),
        text(data, "name", where, required=True),
        text(kind, "name", located(where, "environment_type")),
    )


def cloud_deployment(value: Any, where: str = "") -> tuple[str, Deployment]:
    """A deployment: (its environment's uuid, the deployment without the environment's name).
    Required: state.name (COMPLETED: with status.name and completed_on), environment.uuid,
    release.commit.hash (a commit hash)."""
    data = obj(value, where)
    at = located(where, "state")
    state = inner(data, "state", where, required=True)
    name = text(state, "name", at, required=True).upper()
    finished = timestamp(state, "completed_on", at)
    if name == "COMPLETED":
        status = inner(state, "status", at, required=True)
        word = text(status, "name", located(at, "status"), required=True).upper()
        word = word if word in ("SUCCESSFUL", "FAILED", "STOPPED") else "UNKNOWN"
        if finished is None:
            raise Shape(f"{located(at, 'completed_on')} is missing")
    else:
        word = name if name in DEPLOYMENT_STATES else "UNKNOWN"
    environment = inner(data, "environment", where, required=True)
    uuid = text(environment, "uuid", located(where, "environment"), required=True)
    release = inner(data, "release", where, required=True)
    commit_at = located(located(where, "release"), "commit")
    commit = inner(release, "commit", located(where, "release"), required=True)
    hash_ = text(commit, "hash", commit_at, required=True)
    if not 7 <= len(hash_) <= 40 or any(c not in string.hexdigits for c in hash_):
        raise Shape(f"{located(commit_at, 'hash')} is {hash_!r}, not a commit hash")
    url = text(state, "url", at) or text(release, "url", located(where, "release"))
    return uuid, Deployment("", hash_.lower(), finished, word, url)
