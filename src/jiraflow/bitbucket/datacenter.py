"""Bitbucket Data Center (REST 1.0, on the server's own address): its URLs, request bodies
and answers.

Data Center names users by user name; a personal or HTTP access token goes as a Bearer
token, and the user it belongs to comes back in X-AUSERNAME. Lists are paged by
nextPageStart; default reviewers come from the default-reviewers plugin, which needs the
numeric repository id. A repeated POST of a pull request is refused (409) with the one
already open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from jiraflow.bitbucket.client import (
    PAGE,
    BitbucketClient,
    BuildStatus,
    DeployEnvironment,
    Deployment,
    HeadMoved,
    MergeCheck,
    MergeRefused,
    PullRequest,
    Reviewer,
    Shape,
    User,
    build_state,
    epoch_millis,
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
#: Merge strategy ids by Cloud's names (client.MERGE_STRATEGIES), and back
DC_STRATEGY_IDS = {
    "merge_commit": "no-ff",
    "merge_or_fast_forward": "ff",
    "fast_forward": "ff-only",
    "squash": "squash",
    "squash_fast_forward": "squash-ff-only",
    "rebase_merge": "rebase-no-ff",
    "rebase_fast_forward": "rebase-ff-only",
}
DC_STRATEGY_NAMES = {dc: name for name, dc in DC_STRATEGY_IDS.items()}


class DataCenterClient(BitbucketClient):
    """One repository on a Bitbucket Data Center (or Server) site."""

    cloud = False
    pull_requests_path = "pull-requests"

    def me(self, *, fresh: bool = False) -> User:
        """The login name (no request)."""
        return User(self.credential.user, self.credential.user, self.credential.user)

    def verify(self) -> User:
        """The user, and that the token is theirs (X-AUSERNAME names the token's owner, on
        a 404 too). One request, users/{login}, for a login that is its own slug (most); a
        login that is not (`jo@acme.com` is `jo_acme.com`) is 404 there and is found with
        the user search instead. Either way the slug is cached for my_slug (`pr approve`)."""
        login = self.credential.user
        path = f"/rest/api/1.0/users/{quote(login)}"
        missing = f"the user {login}"
        response = self._request("GET", path, raw=True, not_found=missing, accept=(404,))
        owner = response.headers.get("X-AUSERNAME")
        if owner and owner.lower() != login.lower():
            raise AuthError(
                f"the token belongs to {owner}, not {login}",
                f"Log in as {owner}, or use a token of {login}.",
            )
        if response.status_code == 404:
            found = self._search_user(login)
            if found is None:
                raise self._error(response, "GET", path, missing)
            return found[0]
        data = self._decode(response, "GET", path)
        user, slug = self._checked("GET", path, lambda d: _dc_user_slug(d, "", True), data)
        if user.id.lower() == login.lower() and slug:
            self.cache.put(self.repo.api, f"slug {login}", slug)
        return user

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

    # -- the reviewer's side: PUT participants/{me} with a status; decline at a version ----
    def approve(self, pr_id: int) -> bool:
        return self._status(pr_id, "APPROVED")

    def request_changes(self, pr_id: int) -> bool:
        return self._status(pr_id, "NEEDS_WORK")

    def _status(self, pr_id: int, status: str) -> bool:
        """Data Center sets a status again without complaint: always True."""
        me = quote(self.my_slug(), safe="")
        path = f"{self._repo_path()}/pull-requests/{pr_id}/participants/{me}"
        self._request("PUT", path, json={"status": status}, not_found=f"pull request #{pr_id}")
        return True

    def my_slug(self) -> str:
        """The token user's slug, which URLs name users by and which need not be the login
        (`jo@acme.com` is `jo_acme.com`, and there is no rule to count on): found once with
        the user search, the user whose name is the login, then cached per site and login."""
        login = self.credential.user
        key = f"slug {login}"
        cached = self.cache.get(self.repo.api, key)
        if isinstance(cached, str) and cached:
            return cached
        found = self._search_user(login)
        return found[1] if found else login.lower()  # not found: the server answers for itself

    def _search_user(self, login: str) -> tuple[User, str] | None:
        """The user whose name is the login (a user whose name merely contains it may come
        first) and their slug, with the user search; the slug is cached (not when not found)."""
        params = {"filter": login, "limit": str(PAGE)}
        for user, slug in self._pages("/rest/api/1.0/users", params, PAGE * 4, _dc_user_slug):
            if user.id.lower() == login.lower() and slug:
                self.cache.put(self.repo.api, f"slug {login}", slug)
                return user, slug
        return None

    def decline(self, pull: PullRequest) -> PullRequest:
        path = f"{self._repo_path()}/pull-requests/{pull.id}/decline"
        data = self._request(
            "POST", path, params={"version": str(pull.version)}, json={},
            not_found=f"pull request #{pull.id}",
        )  # fmt: skip
        return self._checked("POST", path, dc_pull_request, data, unconfirmed=True)

    def comment(self, pr_id: int, text: str) -> str:
        path = f"{self._repo_path()}/pull-requests/{pr_id}/comments"
        data = self._request("POST", path, json={"text": text}, not_found=f"pull request #{pr_id}")
        number = self._checked("POST", path, lambda d: whole(obj(d), "id"), data, unconfirmed=True)
        web = f"{self.repo.api}/projects/{self._owner}/repos/{self._slug}/pull-requests/{pr_id}"
        return f"{web}/overview?commentId={number}"

    def _list_role(self, role: str, states: tuple[str, ...], limit: int) -> Iterator[PullRequest]:
        """The dashboard's list for the token's user in that role (the repository's list takes
        no role in 9.4), keeping this repository's."""
        state = states[0] if len(states) == 1 and states[0] in DC_STATES else "ALL"
        params = {
            "role": {"author": "AUTHOR", "reviewer": "REVIEWER"}[role],
            "state": state,
            "order": "NEWEST",
            "limit": str(PAGE),
        }
        ours = (self.repo.owner.upper(), self.repo.slug.lower())
        path = "/rest/api/1.0/dashboard/pull-requests"
        for pr, target in self._pages(path, params, max(limit * 4, PAGE * 4), _dc_pull_target):
            if target == ours and pr.state in states:
                yield pr

    # -- deployments: none (Data Center has no Pipelines) -----------------------------------
    def deployment_environments(self) -> list[DeployEnvironment]:
        """NoPipelines: Data Center has no Pipelines, so no deployments to read; callers say
        so in a note and take the environment branch for what is deployed."""
        raise self._no_pipelines()

    def last_deployment(self, environment_name: str) -> Deployment | None:
        """NoPipelines, as deployment_environments."""
        raise self._no_pipelines()

    # -- build status: the build-status API, required-builds merge checks ----------------------
    def builds(self, commit: str) -> list[BuildStatus]:
        """/rest/build-status/latest/commits/{commit}: every build of the commit (the
        repository-scoped 9.x API answers one key at a time, so it cannot list them)."""
        path = f"/rest/build-status/latest/commits/{commit}"
        what = f"commit {commit}"
        return list(self._pages(path, {"limit": "100"}, 500, dc_build, not_found=what))

    def required_builds(self, destination: str) -> list[str] | None:
        """The build keys the required-builds merge checks name for pull requests into
        `destination` (conditions on any branch, the branch itself, or a pattern matching it;
        conditions on the branching model's branches are not evaluated)."""
        path = f"/rest/required-builds/latest/projects/{self._owner}/repos/{self._slug}/conditions"
        keys: list[str] = []
        what = f"the required-builds merge checks of {self.repo.full_name}"
        conditions = self._pages(path, {"limit": "100"}, 500, dc_required, not_found=what)
        for matcher, wanted in conditions:
            if _matches(matcher, destination):
                keys += [k for k in wanted if k not in keys]
        return keys

    # -- merging: GET/POST .../merge (at the version read), settings/pull-requests ---------
    def merge_check(self, pull: PullRequest) -> MergeCheck:
        """RestPullRequestMergeability: canMerge, conflicted, and each veto (a 409: the pull
        request is not open)."""
        path = f"{self._repo_path()}/pull-requests/{pull.id}/merge"
        response = self._request(
            "GET", path, raw=True, accept=(409,), not_found=f"pull request #{pull.id}"
        )
        if response.status_code == 409:
            return MergeCheck(False, False, dc_refusals(response) or ["it is not open"])
        data = self._decode(response, "GET", path)
        return self._checked("GET", path, dc_mergeability, data)

    def merge_strategies(self, pull: PullRequest) -> tuple[str | None, list[str]]:
        """The repository's mergeConfig: its defaultStrategy and the enabled strategies."""
        path = f"{self._repo_path()}/settings/pull-requests"
        return self._get(path, dc_merge_config)

    def merge(
        self,
        pull: PullRequest,
        *,
        strategy: str | None,
        message: str | None,
        close_source_branch: bool,
        head: PullRequest | None = None,
    ) -> PullRequest:
        """POST ?version=N (the version `pull` was read at: a push since then is a 409;
        `head` is not needed); the source branch is not deleted here (Data Center's merge
        does not; the finish deletes it)."""
        path = f"{self._repo_path()}/pull-requests/{pull.id}/merge"
        body: dict[str, Any] = {}
        if strategy is not None:
            body["strategyId"] = DC_STRATEGY_IDS.get(strategy, strategy)
        if message:
            body["message"] = message
        response = self._request(
            "POST", path, params={"version": str(pull.version)}, json=body, raw=True,
            accept=(409,), not_found=f"pull request #{pull.id}",
        )  # fmt: skip
        if response.status_code == 409:
            raise dc_merge_refusal(pull, response)
        data = self._decode(response, "POST", path)
        merged = self._checked("POST", path, dc_pull_request, data, unconfirmed=True)
        return self._check_merged(pull, "POST", path, merged)

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


def dc_errors(response: Any) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    raw = data.get("errors") if isinstance(data, dict) else None
    return [e for e in (raw if isinstance(raw, list) else []) if isinstance(e, dict)]


def _veto_lines(vetoes: Any) -> list[str]:
    lines = []
    for veto in vetoes if isinstance(vetoes, list) else []:
        if not isinstance(veto, dict):
            continue
        summary = str(veto.get("summaryMessage") or "").strip()
        detail = str(veto.get("detailedMessage") or "").strip()
        line = f"{summary}: {detail}" if summary and detail and detail != summary else summary
        if line or detail:
            lines.append(line or detail)
    return lines


def dc_refusals(response: Any) -> list[str]:
    """Each reason of a Data Center error answer: a conflict, each veto, else the message."""
    reasons: list[str] = []
    for error in dc_errors(response):
        if error.get("conflicted") is True:
            reasons.append("it has merge conflicts")
        vetoes = _veto_lines(error.get("vetoes"))
        reasons += vetoes
        if not vetoes and error.get("conflicted") is not True and error.get("message"):
            reasons.append(str(error["message"]))
    return reasons


def dc_merge_refusal(pull: PullRequest, response: Any) -> MergeRefused:
    """A 409 to a merge: out of date (someone pushed: its version moved), or refused."""
    errors = dc_errors(response)
    names = " ".join(str(e.get("exceptionName") or "") for e in errors)
    if "PullRequestOutOfDateException" in names:
        current = errors[0].get("currentVersion")
        return HeadMoved(
            f"pull request #{pull.id} changed since it was checked (version {current}, not "
            f"{pull.version}): someone pushed to it, or changed it",
            f"Look at the new commits (`git fetch`), then run `jiraflow pr merge {pull.id}` again.",
            ["it changed since it was checked"],
        )
    return MergeRefused(
        f"Bitbucket refused to merge pull request #{pull.id}",
        f"Fix what it names, then run `jiraflow pr merge {pull.id}` again.",
        dc_refusals(response) or ["Bitbucket gave no reason (409)"],
    )


def dc_mergeability(value: Any) -> MergeCheck:
    """RestPullRequestMergeability."""
    data = obj(value)
    conflicted = flag(data, "conflicted")
    if "canMerge" in data:
        can = flag(data, "canMerge")
    else:  # the 9.4 spec leaves canMerge out; servers send it
        can = not conflicted and not items(data, "vetoes")
    reasons = (["it has merge conflicts"] if conflicted else []) + _veto_lines(
        items(data, "vetoes")
    )
    if not can and not reasons:
        reasons = [f"Bitbucket says it cannot merge ({text(data, 'outcome') or 'no reason'})"]
    return MergeCheck(can, conflicted, reasons)


def dc_merge_config(value: Any) -> tuple[str | None, list[str]]:
    """RestRepositoryPullRequestSettings' mergeConfig: (default, enabled) in Cloud's names."""
    config = inner(obj(value), "mergeConfig", "", required=True)
    default = text(inner(config, "defaultStrategy", "mergeConfig"), "id", "mergeConfig")
    enabled = []
    for n, entry in enumerate(items(config, "strategies", "mergeConfig")):
        strategy = obj(entry, f"mergeConfig.strategies[{n}]")
        if flag(strategy, "enabled"):
            ident = text(strategy, "id", f"mergeConfig.strategies[{n}]")
            enabled.append(DC_STRATEGY_NAMES.get(ident, ident))
    return (DC_STRATEGY_NAMES.get(default, default) if default else None), enabled


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


def _dc_repository(data: dict[str, Any], side: str, where: str) -> tuple[str, str]:
    """(project key, slug) of the repository of fromRef or toRef (("", "") when not said)."""
    at = located(where, side)
    repo = inner(inner(data, side, where), "repository", at)
    project = inner(repo, "project", located(at, "repository"))
    key = text(project, "key", located(at, "repository.project"))
    return key.upper(), text(repo, "slug", located(at, "repository")).lower()


def _dc_user_slug(value: Any, where: str, required: bool = False) -> tuple[User, str]:
    """A user (of the user search, or users/{slug}) and their slug."""
    data = obj(value, where)
    return dc_user(data, where, required=required), text(data, "slug", where)


def _dc_pull_target(value: Any, where: str) -> tuple[PullRequest, tuple[str, str]]:
    """A pull request of the dashboard, and its target repository."""
    return dc_pull_request(value, where), _dc_repository(obj(value, where), "toRef", where)


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
        version=whole(data, "version", where, required=False) or 0,
        source_repository="/".join(p for p in _dc_repository(data, "fromRef", where) if p),
    )


def dc_build(value: Any, where: str = "") -> BuildStatus:
    """A RestBuildStatus: key and state required; createdDate (or the older dateAdded) is when
    it was first reported, updatedDate when it last changed; `duration` when the CI sent it."""
    data = obj(value, where)
    state = build_state(text(data, "state", where, required=True))
    key = text(data, "key", where, required=True)
    started = epoch_millis(data, "createdDate", where) or epoch_millis(data, "dateAdded", where)
    updated = epoch_millis(data, "updatedDate", where)
    millis = whole(data, "duration", where, required=False)
    return BuildStatus(
        key=key,
        name=text(data, "name", where) or key,
        state=state,
        url=text(data, "url", where),
        started=started,
        finished=updated if state not in ("INPROGRESS", "UNKNOWN") else None,
        description=text(data, "description", where),
        reported_duration=dt.timedelta(milliseconds=millis) if millis is not None else None,
    )


def dc_required(value: Any, where: str = "") -> tuple[tuple[str, str, str], list[str]]:
    """A RestRequiredBuildCondition: ((matcher type, id, displayId), build keys)."""
    data = obj(value, where)
    keys = items(data, "buildParentKeys", where, required=True)
    for n, key in enumerate(keys):
        if not isinstance(key, str):
            raise Shape(f"{located(where, 'buildParentKeys')}[{n}] is {kind_of(key)}, not a string")
    at = located(where, "refMatcher")
    matcher = inner(data, "refMatcher", where, required=True)
    kind = text(inner(matcher, "type", at, required=True), "id", located(at, "type"), required=True)
    return (kind, text(matcher, "id", at), text(matcher, "displayId", at)), keys


def _matches(matcher: tuple[str, str, str], branch: str) -> bool:
    kind, ident, display = matcher
    if kind == "ANY_REF":
        return True
    if kind == "BRANCH":
        return branch_ref(branch) == ident or branch == display
    if kind == "PATTERN":
        import fnmatch

        pattern = display or ident
        return any(fnmatch.fnmatchcase(name, pattern) for name in (branch, branch_ref(branch)))
    return False
