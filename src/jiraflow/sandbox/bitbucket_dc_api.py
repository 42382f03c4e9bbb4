"""The Bitbucket Data Center REST 1.0 endpoints of the sandbox.

``/rest/api/{1.0,latest}/...``, ``/rest/default-reviewers/{1.0,latest}/...`` and
``/rest/branch-utils/{1.0,latest}/...`` (deleting a branch, which is how Data Center clients
delete a source branch after a merge). What Data Center does and the sandbox copies:

* refusals are 409s naming the exception: DuplicatePullRequestException (with
  ``existingPullRequest``), InvalidPullRequestReviewersException (with ``reviewerErrors``),
  EmptyPullRequestException, PullRequestMergeVetoedException (``conflicted: true`` on conflicts),
  PullRequestOutOfDateException (with ``currentVersion`` and ``expectedVersion``);
* merge and decline need ``?version=N`` matching the pull request's version (the sandbox treats a
  missing version as a stale one, expectedVersion -1);
* ``GET .../pull-requests`` defaults to state OPEN and direction INCOMING (``at`` then names the
  target branch; with OUTGOING, the source), newest first, 25 a page. ``state`` is one value
  (OPEN, DECLINED, MERGED or ALL; a repeated one counts once, as JAX-RS reads the first);
  anything else is a 400, as are a bad ``direction``, ``order``, ``start`` or ``limit``;
* a new pull request's ``fromRef`` and ``toRef`` name their repository (slug and project key)
  and its reviewers are ``{"user": {"name": ...}}``: other shapes are 400s.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from jiraflow.sandbox.bitbucket_dc_views import DataCenterView, branch_ref
from jiraflow.sandbox.bitbucket_errors import (
    dc_error,
    dc_missing_branch,
    dc_out_of_date,
    dc_refusal,
)
from jiraflow.sandbox.bitbucket_git import refs_of
from jiraflow.sandbox.bitbucket_http import ApiError, Call, RouteTable, json_list
from jiraflow.sandbox.bitbucket_model import Account, Json, PullRequest, Repository
from jiraflow.sandbox.bitbucket_pulls import (
    NewPullRequest,
    Refusal,
    Strategy,
    Verdict,
    decline_pull_request,
    open_pull_request,
    set_verdict,
)
from jiraflow.sandbox.server import Response

table = RouteTable()
REPO = "projects/{project}/repos/{slug}"
PULL = f"{REPO}/pull-requests/{{pull_request_id}}"
STRATEGIES: dict[str, Strategy] = {
    "no-ff": "merge_commit",
    "ff": "ff",
    "ff-only": "fast_forward",
    "squash": "squash",
}
STATES = ("OPEN", "DECLINED", "MERGED", "ALL")


def view(call: Call) -> DataCenterView:
    return DataCenterView(call.base, call.state)


def ok(payload: object, status: int = HTTPStatus.OK) -> Response:
    return Response.json(status, payload)


def bad_request(message: str, context: str | None = None) -> ApiError:
    return dc_error(HTTPStatus.BAD_REQUEST, None, message, context=context)


def repository(call: Call) -> Repository:
    key, slug = call.args["project"].upper(), call.args["slug"]
    found = call.state.repository(key, slug)
    if found is not None:
        return found
    if not any(r.project_key == key for r in call.state.repositories.values()):
        raise dc_error(
            HTTPStatus.NOT_FOUND, "project.NoSuchProjectException", f"Project {key} does not exist."
        )
    raise dc_error(
        HTTPStatus.NOT_FOUND,
        "repository.NoSuchRepositoryException",
        f"Repository {key}/{slug} does not exist.",
    )


def pull_request(call: Call) -> tuple[Repository, PullRequest]:
    repo = repository(call)
    raw = call.args["pull_request_id"]
    pr = repo.pull_requests.get(int(raw)) if raw.isdigit() else None
    if pr is None:
        raise dc_error(
            HTTPStatus.NOT_FOUND,
            "pull.NoSuchPullRequestException",
            f"Pull request {raw} does not exist in {repo.full_name}.",
        )
    return repo, pr


def page(call: Call, values: list[Any], *, limit_default: int = 25) -> Json:
    """Data Center's page: ``{size, limit, isLastPage, values, start, nextPageStart?}``."""
    start = max(call.int_param("start", 0), 0)
    limit = min(max(call.int_param("limit", limit_default), 1), 1000)
    chunk = values[start : start + limit]
    last = start + limit >= len(values)
    body: Json = {
        "size": len(chunk),
        "limit": limit,
        "isLastPage": last,
        "values": chunk,
        "start": start,
    }
    if not last:
        body["nextPageStart"] = start + limit
    return body


def refused(refusal: Refusal, call: Call, repo: Repository) -> ApiError:
    """Data Center's error for a refusal of the sandbox's pull request model."""
    return dc_refusal(refusal, repo, lambda pr: view(call).pull_request(repo, pr))


# == people, repositories, branches =============================================================


@table.route("GET", "users/{user_slug}")
def get_user(call: Call) -> Response:
    wanted = call.args["user_slug"].lower()
    account = next((a for a in call.state.accounts.values() if a.slug == wanted), None)
    if account is None or account.bot_repository is not None:
        raise dc_error(
            HTTPStatus.NOT_FOUND,
            "user.NoSuchUserException",
            f"User {call.args['user_slug']} does not exist.",
        )
    return ok(view(call).user(account))


@table.route("GET", REPO)
def get_repository(call: Call) -> Response:
    return ok(view(call).repository(repository(call)))


def _main_tip(repo: Repository) -> str:
    tip = refs_of(repo).tip(repo.main_branch)
    if tip is None:
        raise dc_missing_branch(repo, repo.main_branch)
    return tip


@table.route("GET", f"{REPO}/default-branch")
def get_default_branch(call: Call) -> Response:
    repo = repository(call)
    _main_tip(repo)
    return ok(view(call).minimal_ref(repo.main_branch))


@table.route("GET", f"{REPO}/branches/default")
def get_default_branch_legacy(call: Call) -> Response:
    repo = repository(call)
    return ok(view(call).branch(repo.main_branch, _main_tip(repo), default=True))


@table.route("GET", f"{REPO}/reviewers", "default-reviewers")
def get_default_reviewers(call: Call) -> Response:
    """The default reviewers for a source and target; all four parameters are required, and
    the author is *not* left out (clients drop them)."""
    repo = repository(call)
    names = ("sourceRepoId", "targetRepoId", "sourceRefId", "targetRefId")
    missing = [name for name in names if not call.request.param(name)]
    if missing:
        raise bad_request(f"{missing[0]} is required", context=missing[0])  # wording: a guess
    for name in ("sourceRepoId", "targetRepoId"):
        raw = call.request.param(name) or ""
        if not raw.isdigit() or call.state.repository_by_id(int(raw)) is None:
            raise bad_request(f"{name} must be the id of a repository, not {raw!r}", name)
    people = [view(call).user(call.state.account(n)) for n in repo.default_reviewers]
    return ok(people)


@table.route("DELETE", f"{REPO}/branches", "branch-utils")
def delete_branch(call: Call) -> Response:
    repo = repository(call)
    body = call.body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("The name of the branch to delete is required.", "name")
    branch = name.removeprefix("refs/heads/")
    if branch == repo.main_branch:
        raise bad_request(f"The default branch {branch} cannot be deleted.", "name")
    refs = refs_of(repo)
    tip = refs.tip(branch)
    if tip is None:
        raise dc_missing_branch(repo, branch)
    if body.get("dryRun") is not True:
        refs.delete(branch, tip)
    return Response.empty()


# == pull requests ==============================================================================


@table.route("GET", f"{REPO}/pull-requests")
def list_pull_requests(call: Call) -> Response:
    repo = repository(call)
    state = (call.request.param("state") or "OPEN").upper()
    direction = (call.request.param("direction") or "INCOMING").upper()
    order = (call.request.param("order") or "NEWEST").upper()
    if state not in STATES:
        raise bad_request(f"{state} is not a valid pull request state", "state")
    if direction not in ("INCOMING", "OUTGOING") or order not in ("NEWEST", "OLDEST"):
        raise bad_request(f"Invalid direction {direction} or order {order}")
    at = call.request.param("at")
    found = [pr for pr in repo.pull_requests.values() if state in ("ALL", pr.state)]
    if at:
        side = "destination" if direction == "INCOMING" else "source"
        found = [pr for pr in found if branch_ref(getattr(pr, side)) == branch_ref(at)]
    found.sort(key=lambda pr: pr.id, reverse=order == "NEWEST")
    return ok(page(call, [view(call).pull_request(repo, pr) for pr in found]))


def _ref_branch(body: Json, side: str, repo: Repository) -> str:
    ref = body.get(side)
    ref_id = ref.get("id") if isinstance(ref, dict) else None
    if not isinstance(ref_id, str) or not ref_id:
        raise bad_request(f'{side} must name a branch: {{"id": "refs/heads/..."}}', side)
    # The spec's create body names each ref's repository by slug and project key (a ref
    # without one is refused: the message is the sandbox's wording).
    target = ref.get("repository") if isinstance(ref, dict) else None
    project = target.get("project") if isinstance(target, dict) else None
    slug = target.get("slug") if isinstance(target, dict) else None
    key = project.get("key") if isinstance(project, dict) else None
    if not isinstance(slug, str) or not isinstance(key, str):
        raise bad_request(
            f'{side} must name its repository: {{"slug": ..., "project": {{"key": ...}}}}',
            f"{side}.repository",
        )
    if slug.lower() != repo.slug or key.upper() != repo.project_key:
        raise bad_request(
            "Pull requests between repositories are not supported by the sandbox.", side
        )
    if ref_id.startswith("refs/") and not ref_id.startswith("refs/heads/"):
        raise bad_request(f"{ref_id} is not a branch", side)
    return ref_id.removeprefix("refs/heads/")


def _reviewers(call: Call, raw: Any) -> tuple[list[Account], list[str]]:
    found: list[Account] = []
    unknown: list[str] = []
    for entry in json_list(raw, "reviewers"):
        user = entry.get("user") if isinstance(entry, dict) else None
        name = user.get("name") or user.get("slug") if isinstance(user, dict) else None
        if not isinstance(name, str) or not name:
            raise bad_request('each reviewer must be {"user": {"name": ...}}', "reviewers")
        account = call.state.accounts.get(name.lower())
        if account is None or account.bot_repository is not None:
            unknown.append(str(name))
        else:
            found.append(account)
    return found, unknown


@table.route("POST", f"{REPO}/pull-requests")
def create_pull_request(call: Call) -> Response:
    repo = repository(call)
    body = call.body()
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request("Please enter a non-empty value less than 255 characters", "title")
    source, destination = _ref_branch(body, "fromRef", repo), _ref_branch(body, "toRef", repo)
    reviewers, unknown = _reviewers(call, body.get("reviewers"))
    description = body.get("description")
    new = NewPullRequest(
        source=source,
        destination=destination,
        title=title,
        author=call.me,
        description=description if isinstance(description, str) else "",
        reviewers=tuple(reviewers),
        unknown_reviewers=tuple(unknown),
        draft=body.get("draft") is True,
    )
    try:
        pr = open_pull_request(call.state, repo, new)
    except Refusal as refusal:
        if refusal.code == "no_changes":
            refusal = Refusal(
                "no_changes",
                f'Branch "{source}" is already up-to-date with '
                f'branch "{destination}" in repository "{repo.slug}".',
            )
        raise refused(refusal, call, repo) from None
    return ok(view(call).pull_request(repo, pr), HTTPStatus.CREATED)


@table.route("GET", PULL)
def get_pull_request(call: Call) -> Response:
    repo, pr = pull_request(call)
    return ok(view(call).pull_request(repo, pr))


def check_version(call: Call, pr: PullRequest, body: Json) -> None:
    """A change to a pull request names the version it was read at (a 409 when stale)."""
    raw = call.request.param("version")
    if raw is None and isinstance(body.get("version"), int):
        raw = str(body["version"])
    expected = int(raw) if raw is not None and raw.lstrip("-").isdigit() else -1
    if expected != pr.version:
        raise dc_out_of_date(pr, expected)


@table.route("POST", f"{PULL}/decline")
def decline(call: Call) -> Response:
    repo, pr = pull_request(call)
    body = call.body(optional=True)
    check_version(call, pr, body)
    comment = body.get("comment")
    try:
        decline_pull_request(
            call.state, repo, pr, call.me, comment if isinstance(comment, str) else ""
        )
    except Refusal as refusal:
        raise refused(refusal, call, repo) from None
    return ok(view(call).pull_request(repo, pr))


def _verdict(call: Call, verdict: Verdict, *, given: bool, account: Account) -> Response:
    repo, pr = pull_request(call)
    try:
        set_verdict(call.state, repo, pr, account, verdict, given=given)
    except Refusal as refusal:
        raise refused(refusal, call, repo) from None
    return ok(view(call).participant(pr, account.name))


@table.route("POST", f"{PULL}/approve")
def approve(call: Call) -> Response:
    return _verdict(call, "approved", given=True, account=call.me)


@table.route("DELETE", f"{PULL}/approve")
def unapprove(call: Call) -> Response:
    return _verdict(call, "approved", given=False, account=call.me)


@table.route("PUT", f"{PULL}/participants/{{user_slug}}")
def set_status(call: Call) -> Response:
    """The current way to approve or mark "needs work" (only for oneself)."""
    if call.args["user_slug"].lower() != call.me.slug:
        raise dc_error(HTTPStatus.BAD_REQUEST, None, "You can only change your own status.")
    status = call.body().get("status")
    verdicts: dict[str, Verdict] = {"APPROVED": "approved", "NEEDS_WORK": "changes_requested"}
    if status == "UNAPPROVED":
        _, pr = pull_request(call)
        current = pr.verdicts.get(call.me.name)
        if current is None:
            return ok(view(call).participant(pr, call.me.name))
        return _verdict(
            call,
            "approved" if current == "approved" else "changes_requested",
            given=False,
            account=call.me,
        )
    if status not in verdicts:
        raise bad_request(f"Invalid status {status!r}", "status")
    return _verdict(call, verdicts[str(status)], given=True, account=call.me)
