"""A stateful Bitbucket simulator (Cloud or Data Center flavour) serving real HTTP on 127.0.0.1.

jiraflow's Bitbucket client is tested against this instead of mocks; tests/test_sandbox_bitbucket.py
holds its answers to the Cloud Swagger 2.0 and Data Center OpenAPI specs and to captured real
responses. The flavours differ where the real services do:

* ``cloud``: REST 2.0 under ``/2.0`` (``api_url`` is ``url + "/2.0"``); ``Authorization: Basic
  base64(email:api_token)`` or ``Bearer <repository access token>`` (a bot that sees one
  repository); app passwords are refused. Repositories are ``workspace/slug``.
* ``datacenter``: REST 1.0 under ``/rest/api/{1.0,latest}`` plus the default-reviewers and
  branch-utils plugins (``api_url`` is ``url``); ``Bearer <HTTP access token>`` (or Basic
  ``name:token``); every authenticated answer carries ``X-AUSERNAME``. Repositories are
  ``PROJECT/slug``.

A repository may be backed by a bare git repository (``git_dir``): branches and commits are then
real, and merging merges in it. The modules behind it: bitbucket_model (state, seed),
bitbucket_git (refs and merges), bitbucket_pulls (the rules), bitbucket_bbql (Cloud's ``q``),
bitbucket_cloud_views / bitbucket_dc_views (JSON shapes), bitbucket_http (auth, routing, error
bodies), bitbucket_errors (each service's wording of a refusal), bitbucket_cloud_api /
bitbucket_dc_api (the endpoints) and server (HTTP, request log, faults, control endpoints).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from jiraflow.sandbox import bitbucket_builds as builds  # registers its routes on the tables
from jiraflow.sandbox import bitbucket_cloud_api, bitbucket_dc_api
from jiraflow.sandbox import bitbucket_deployments as deployments  # registers its routes
from jiraflow.sandbox import bitbucket_merging as merging  # registers its routes on the tables
from jiraflow.sandbox import bitbucket_reviews as reviews  # registers its routes on the tables
from jiraflow.sandbox.bitbucket_cloud_views import CloudView
from jiraflow.sandbox.bitbucket_dc_views import DataCenterView
from jiraflow.sandbox.bitbucket_http import ApiError, Route, dispatch
from jiraflow.sandbox.bitbucket_model import (
    BitbucketState,
    Flavour,
    Json,
    PullRequest,
    Repository,
)
from jiraflow.sandbox.bitbucket_pulls import (
    NewPullRequest,
    Strategy,
    decline_pull_request,
    merge_pull_request,
    open_pull_request,
    set_verdict,
)
from jiraflow.sandbox.server import Request, Response, SandboxServer

__all__ = ["FLAVOURS", "BitbucketSandbox", "Flavour"]

FLAVOURS: tuple[Flavour, ...] = ("cloud", "datacenter")
ROUTES: dict[Flavour, tuple[Route, ...]] = {
    "cloud": tuple(bitbucket_cloud_api.table.routes),
    "datacenter": tuple(bitbucket_dc_api.table.routes),
}
#: Merge strategies by the names of either flavour.
STRATEGY_NAMES: dict[str, Strategy] = {
    "merge_commit": "merge_commit",
    "squash": "squash",
    "fast_forward": "fast_forward",
    **bitbucket_dc_api.STRATEGIES,
}


class BitbucketSandbox(SandboxServer):
    """A Bitbucket on 127.0.0.1 with alice, bob and carol and one repository, ``acme/shop``
    (Cloud) or ``ACME/shop`` (Data Center), whose default reviewers are alice and bob.

    ``with BitbucketSandbox("datacenter") as sb:`` starts and stops it. The methods below read
    and set up state directly (no HTTP), under the same lock as the requests, and answer in the
    flavour's API shapes.
    """

    service = "bitbucket"  # the shape of its 429s (sandbox.ratelimit)

    def __init__(self, flavour: str = "cloud", *, q_lifts_state_default: bool = True) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be 'cloud' or 'datacenter', not {flavour!r}")
        super().__init__()
        self.flavour: Flavour = "cloud" if flavour == "cloud" else "datacenter"
        self._lock = threading.RLock()
        self._state = BitbucketState.seeded(self.flavour)
        self.q_lifts_state_default = q_lifts_state_default
        self._hooks: list[list[Any]] = []

    @property
    def q_lifts_state_default(self) -> bool:
        """Cloud: whether a ``q`` query alone lifts the pull-request list's OPEN-only default
        (True), or only the repeated ``state`` parameter does (False). Kept across reset()."""
        return self._state.q_lifts_state_default

    @q_lifts_state_default.setter
    def q_lifts_state_default(self, value: bool) -> None:
        with self._lock:
            self._state.q_lifts_state_default = value

    def __enter__(self) -> BitbucketSandbox:
        self.start()
        return self

    @property
    def api_url(self) -> str:
        """What a client is configured with: ``url + "/2.0"`` on Cloud, ``url`` on Data Center
        (whose clients append ``/rest/api/1.0/...``)."""
        return f"{self.url}/2.0" if self.flavour == "cloud" else self.url

    # -- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self._lock:
            self._run_hooks(request)
            return dispatch(request, ROUTES[self.flavour], self._state, self.flavour, self.url)

    def before(
        self, method: str, path_end: str, action: Callable[[], object], *, nth: int = 1
    ) -> None:
        """Run `action` (say, a push by a colleague) just before the `nth` request whose
        method is `method` and whose path ends with `path_end` is answered, once."""
        self._hooks.append([method.upper(), path_end, nth, action])

    def _run_hooks(self, request: Request) -> None:
        for hook in list(self._hooks):
            method, path_end, _, action = hook
            if request.method == method and request.path.rstrip("/").endswith(path_end):
                hook[2] -= 1
                if hook[2] == 0:
                    self._hooks.remove(hook)
                    action()

    def error_response(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        return ApiError(status, message, headers=headers).response(self.flavour)

    def _control(self, request: Request) -> Response:
        """The shared ``/_sandbox/`` endpoints plus this sandbox's own (bitbucket_control):
        build, approve, merge-rules and protect, for curl against ``sandbox serve``."""
        from jiraflow.sandbox.bitbucket_control import control

        return control(self, request) or super()._control(request)

    # -- credentials and people ----------------------------------------------------------------

    def token(self, user: str = "alice") -> str:
        """Cloud: the user's Atlassian API token (Basic, with ``login()``, the e-mail address);
        Data Center: the user's HTTP access token (``Bearer``)."""
        with self._lock:
            account = self._state.account(user)
            return account.api_token if self.flavour == "cloud" else account.http_token

    def login(self, user: str = "alice") -> str:
        """What a client sends as the user: the e-mail address on Cloud, the name on DC."""
        with self._lock:
            account = self._state.account(user)
            return account.email if self.flavour == "cloud" else account.name

    def access_token(self, full_name: str) -> str:
        """Cloud only: a repository access token (``Bearer``) that sees only that repository."""
        self._cloud_only("repository access tokens")
        with self._lock:
            return self._state.access_token(self._state.repository_by_name(full_name))

    def app_password(self, user: str = "alice") -> str:
        """Cloud only: a legacy app password; Basic logins with it are refused (401)."""
        self._cloud_only("app passwords")
        with self._lock:
            return self._state.account(user).app_password

    def _cloud_only(self, what: str) -> None:
        if self.flavour != "cloud":
            raise ValueError(f"{what} exist only on Bitbucket Cloud")

    @property
    def me(self) -> Json:
        """The default user, alice, in the flavour's API shape."""
        return self.user("alice")

    def user(self, name: str) -> Json:
        with self._lock:
            account = self._state.account(name)
            if self.flavour == "cloud":
                return self._cloud_view().account(account)
            return self._dc_view().user(account)

    def add_user(self, name: str, display_name: str = "", email: str = "") -> None:
        """Another user, e.g. ``dave@acme.com``, whose Data Center slug (``dave_acme.com``) is
        not the name."""
        with self._lock:
            self._state.add_person(name, display_name or name, email or f"{name}@example.com")

    # -- repositories --------------------------------------------------------------------------

    @property
    def repository_name(self) -> str:
        """The seeded repository: ``acme/shop`` (Cloud) or ``ACME/shop`` (Data Center)."""
        return "acme/shop" if self.flavour == "cloud" else "ACME/shop"

    def add_repository(
        self,
        full_name: str,
        *,
        git_dir: str | Path | None = None,
        main_branch: str = "main",
        default_reviewers: Iterable[str] = ("alice", "bob"),
    ) -> None:
        with self._lock:
            repository = self._state.add_repository(full_name, self.flavour)
            repository.main_branch = main_branch
            self._set_reviewers(repository, default_reviewers)
            repository.git_dir = _bare_repository(git_dir) if git_dir is not None else None

    def set_git_dir(self, full_name: str, git_dir: str | Path | None) -> None:
        """Back a repository by a bare git repository (None: back to made-up branches)."""
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            repository.git_dir = _bare_repository(git_dir) if git_dir is not None else None

    def protect(self, full_name: str, branches: Iterable[str]) -> Path:
        """Branch permissions: pushes to `branches` (names or glob patterns; none: no
        permissions) are refused by a real pre-receive hook in the repository's bare git
        directory, in this flavour's words; merges of pull requests still move them.
        Returns the hook's path."""
        from jiraflow.sandbox.bitbucket_protected import install_hook

        with self._lock:
            repository = self._state.repository_by_name(full_name)
            if repository.git_dir is None:
                raise ValueError(f"{full_name} has no git directory to protect branches in")
            return install_hook(repository.git_dir, branches, cloud=self.flavour == "cloud")

    def set_default_reviewers(self, full_name: str, users: Iterable[str]) -> None:
        with self._lock:
            self._set_reviewers(self._state.repository_by_name(full_name), users)

    def _set_reviewers(self, repository: Repository, users: Iterable[str]) -> None:
        names = list(users)
        for name in names:
            self._state.account(name)  # KeyError for an unknown user
        repository.default_reviewers = names

    # -- pull requests -------------------------------------------------------------------------

    def create_pull_request(
        self,
        full_name: str,
        source: str,
        destination: str,
        title: str | None = None,
        *,
        author: str = "alice",
        reviewers: Iterable[str] = (),
        description: str = "",
        draft: bool = False,
        close_source_branch: bool = False,
    ) -> Json:
        """Open a pull request as ``author`` (test setup); the service's checks apply and
        raise :class:`~jiraflow.sandbox.bitbucket_pulls.Refusal` (a ValueError)."""
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            new = NewPullRequest(
                source=source,
                destination=destination,
                title=title or f"Merge {source} into {destination}",
                author=self._state.account(author),
                description=description,
                reviewers=tuple(self._state.account(name) for name in reviewers),
                draft=draft,
                close_source_branch=close_source_branch,
            )
            return self._render(repository, open_pull_request(self._state, repository, new))

    def pull_request(self, full_name: str, pr_id: int) -> Json:
        with self._lock:
            repository, pr = self._find(full_name, pr_id)
            return self._render(repository, pr)

    def pull_requests(self, full_name: str, state: str | None = None) -> list[Json]:
        """Every pull request of the repository, oldest first; ``state`` filters
        (OPEN, MERGED, DECLINED)."""
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            wanted = state.upper() if state else None
            return [
                self._render(repository, pr)
                for pr in repository.pull_requests.values()
                if wanted in (None, pr.state)
            ]

    def merge(
        self,
        full_name: str,
        pr_id: int,
        *,
        strategy: str = "merge_commit",
        user: str = "bob",
        close_source_branch: bool | None = None,
        delete_source_branch: bool | None = None,
        message: str | None = None,
    ) -> Json:
        """Merge like the service would; ``strategy`` is a Cloud name (merge_commit, squash,
        fast_forward) or a Data Center id (no-ff, ff, ff-only, squash). The source branch is
        deleted with ``close_source_branch`` or ``delete_source_branch`` (either name, either
        flavour); on Cloud it defaults to the pull request's own setting."""
        if strategy not in STRATEGY_NAMES:
            raise ValueError(f"unknown merge strategy {strategy!r}; use one of "
                             f"{', '.join(STRATEGY_NAMES)}")  # fmt: skip
        with self._lock:
            repository, pr = self._find(full_name, pr_id)
            delete = (
                close_source_branch if close_source_branch is not None else delete_source_branch
            )
            if delete is None:
                delete = pr.close_source_branch and self.flavour == "cloud"
            merge_pull_request(
                self._state, repository, pr,
                strategy=STRATEGY_NAMES[strategy],
                by=self._state.account(user),
                flavour=self.flavour,
                message=message,
                close_source_branch=delete,
            )  # fmt: skip
            return self._render(repository, pr)

    def decline(self, full_name: str, pr_id: int, user: str = "bob") -> Json:
        with self._lock:
            repository, pr = self._find(full_name, pr_id)
            decline_pull_request(self._state, repository, pr, self._state.account(user))
            return self._render(repository, pr)

    def approve(self, full_name: str, pr_id: int, user: str) -> None:
        with self._lock:
            repository, pr = self._find(full_name, pr_id)
            set_verdict(self._state, repository, pr, self._state.account(user), "approved")

    def head_commit(self, full_name: str, pr_id: int) -> str:
        """The full hash of a pull request's source commit (its branch's tip while open)."""
        from jiraflow.sandbox.bitbucket_pulls import current_commits

        with self._lock:
            repository, pr = self._find(full_name, pr_id)
            return current_commits(repository, pr)[0]

    # -- merge settings and checks (sandbox/bitbucket_merging.py) ----------------------------

    def set_merge_rules(
        self,
        full_name: str,
        *,
        default: str | None = None,
        enabled: Iterable[str] | None = None,
        blockers: Iterable[str | tuple[str, str]] | None = None,
        polls: int | None = None,
        task_location: str | None = None,
    ) -> None:
        """The repository's merge strategies in the flavour's words (Cloud merge_commit,
        squash, fast_forward; Data Center no-ff, ff, ff-only, squash), what refuses a merge
        (Data Center vetoes ``(summary, detail)``, Cloud merge restrictions: a reason), and
        Cloud's merge tasks (``polls`` PENDING answers; a ``task_location`` to send instead)."""
        with self._lock:
            rules = merging.rules_of(self._state.repository_by_name(full_name), self.flavour)
            if default is not None:
                rules.default = default
            if enabled is not None:
                rules.enabled = list(enabled)
            if blockers is not None:
                rules.blockers = [(b, "") if isinstance(b, str) else b for b in blockers]
            if polls is not None:
                rules.polls = polls
            if task_location is not None:
                rules.task_location = task_location

    def comment(self, full_name: str, pr_id: int, text: str, user: str = "bob") -> None:
        """A general comment on a pull request, as ``user``."""
        with self._lock:
            _, pr = self._find(full_name, pr_id)
            reviews.add_comment(self._state, pr, self._state.account(user), text)

    def comments(self, full_name: str, pr_id: int) -> list[tuple[str, str]]:
        """(author, text) of each comment on a pull request, oldest first."""
        with self._lock:
            _, pr = self._find(full_name, pr_id)
            return [(c.author, c.text) for c in pr.comments]

    # -- build status (sandbox/bitbucket_builds.py) ------------------------------------------

    def set_build(
        self,
        full_name: str,
        commit: str,
        key: str,
        state: str,
        *,
        name: str = "",
        url: str = "",
        description: str = "",
        duration: int | None = None,
    ) -> Json:
        """Report a build on a commit, as a CI server would (a key already reported there is
        updated). ``state`` in either flavour's words (STOPPED and CANCELLED are one); the
        answer is the build in the flavour's shape (commitstatus, RestBuildStatus)."""
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            word = builds.flavour_state(self.flavour, state)
            more = {"duration": duration} if self.flavour == "datacenter" else {}
            build, _ = builds.record(
                self._state, repository, commit, key, word,
                name=name, url=url or f"https://ci.example.com/{key}", description=description,
                **more,
            )  # fmt: skip
            if self.flavour == "cloud":
                return builds.cloud_json(self._base(), repository, commit, build)
            return builds.dc_status(build)

    def builds(self, full_name: str, commit: str) -> list[Json]:
        """The builds reported on a commit (by prefix), oldest first, as stored."""
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            return [b.as_json() for b in builds.builds_of(repository, commit)]

    def require_builds(self, full_name: str, keys: Iterable[str], branch: str | None) -> None:
        """Data Center: a required-builds merge check for pull requests into ``branch`` (a
        name, a pattern with *, or None: any branch)."""
        if self.flavour != "datacenter":
            raise ValueError("required-builds merge checks exist only on Data Center")
        with self._lock:
            book = builds.book(self._state.repository_by_name(full_name))
            number = len(book.required) + 1
            book.required.append(builds.RequiredBuilds(number, list(keys), branch))

    # -- deployments (sandbox/bitbucket_deployments.py; Cloud only) ---------------------------

    def deploy(
        self,
        full_name: str,
        environment: str,
        commit: str,
        *,
        state: str = "SUCCESSFUL",
        when: dt.datetime | None = None,
    ) -> Json:
        """Record a Pipelines deployment of ``commit`` to ``environment`` (a name, any case,
        or a uuid; Test, Staging and Production exist), as Cloud would: ``state`` SUCCESSFUL,
        FAILED or STOPPED (completed at ``when``, now by default), IN_PROGRESS or UNDEPLOYED.
        The answer is the deployment in Cloud's shape."""
        if self.flavour != "cloud":
            raise ValueError("deployments exist only on Bitbucket Cloud (Pipelines)")
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            deploy = deployments.record(
                self._state, repository, environment, commit, status=state, when=when
            )
            return deployments.deployment_json(self._base(), repository, deploy)

    def environments(self, full_name: str) -> list[Json]:
        """Cloud: the repository's deployment environments, in Cloud's shape."""
        if self.flavour != "cloud":
            raise ValueError("deployment environments exist only on Bitbucket Cloud")
        with self._lock:
            repository = self._state.repository_by_name(full_name)
            book = deployments.book(repository)
            return [deployments.environment_json(self._base(), repository, e)
                    for e in book.environments]  # fmt: skip

    def _find(self, full_name: str, pr_id: int) -> tuple[Repository, PullRequest]:
        repository = self._state.repository_by_name(full_name)
        if pr_id not in repository.pull_requests:
            raise KeyError(f"no pull request #{pr_id} in {repository.full_name}")
        return repository, repository.pull_requests[pr_id]

    def _render(self, repository: Repository, pr: PullRequest) -> Json:
        if self.flavour == "cloud":
            return self._cloud_view().pull_request(repository, pr)
        return self._dc_view().pull_request(repository, pr)

    def _base(self) -> str:
        return self._url or "http://127.0.0.1"

    def _cloud_view(self) -> CloudView:
        return CloudView(self._base(), self._state)

    def _dc_view(self) -> DataCenterView:
        return DataCenterView(self._base(), self._state)

    # -- whole state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed data (faults and the request log are separate)."""
        with self._lock:
            switch = self._state.q_lifts_state_default
            self._state = BitbucketState.seeded(self.flavour)
            self._state.q_lifts_state_default = switch

    def state_json(self) -> dict[str, Any]:
        with self._lock:
            return {"flavour": self.flavour, **self._state.as_json()}


def _bare_repository(git_dir: str | Path) -> Path:
    path = Path(git_dir)
    if not (path / "HEAD").is_file() or not (path / "objects").is_dir():
        raise ValueError(f"{path} is not a bare git repository (no HEAD and objects/)")
    return path
