"""Build status in the Bitbucket sandbox: Cloud's commit statuses and Data Center's build
statuses (and its required-builds merge checks), stored per repository and commit.

The routes are registered on the flavours' route tables (bitbucket_cloud_api.table and
bitbucket_dc_api.table); bitbucket.py imports this module before it reads the tables.

* Cloud: ``GET .../commit/{commit}/statuses`` (a page of commitstatus), ``POST
  .../commit/{commit}/statuses/build`` (201 with the status; a second POST with the same key
  updates it: created_on stays, updated_on moves) and ``GET .../pullrequests/{id}/statuses``
  (the statuses of the pull request's head commit). States: SUCCESSFUL, FAILED, INPROGRESS,
  STOPPED.
* Data Center: ``GET/POST /rest/build-status/{1.0,latest}/commits/{commitId}`` (not tied to a
  repository: a page of every build of the commit; POST answers 204) and
  ``GET/POST /rest/api/{1.0,latest}/projects/{p}/repos/{r}/commits/{commitId}/builds`` (9.x,
  repository-scoped: GET needs ``?key=`` and answers that one build, 404 when there is none).
  States: SUCCESSFUL, FAILED, INPROGRESS, CANCELLED, UNKNOWN. ``GET /rest/required-builds/
  {1.0,latest}/projects/{p}/repos/{r}/conditions`` pages the required-builds merge checks.

A commit is matched by prefix either way (Cloud gives pull requests' commits as 12-character
hashes, and accepts them in URLs); the sandbox does not check that a commit exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from jiraflow.sandbox import bitbucket_cloud_api as cloud_api
from jiraflow.sandbox import bitbucket_dc_api as dc_api
from jiraflow.sandbox.bitbucket_cloud_views import cloud_time
from jiraflow.sandbox.bitbucket_dc_views import branch_ref, epoch_millis
from jiraflow.sandbox.bitbucket_errors import dc_error
from jiraflow.sandbox.bitbucket_http import Call, field_error
from jiraflow.sandbox.bitbucket_model import BitbucketState, Flavour, Json, Repository
from jiraflow.sandbox.bitbucket_pulls import current_commits
from jiraflow.sandbox.server import Response

CLOUD_STATES = ("SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED")
DC_STATES = ("SUCCESSFUL", "FAILED", "INPROGRESS", "CANCELLED", "UNKNOWN")
#: a state in the other flavour's words
OTHER_WORD = {"STOPPED": "CANCELLED", "CANCELLED": "STOPPED"}


@dataclass
class Build:
    key: str
    state: str  # in the flavour's words
    name: str
    url: str
    description: str
    created: dt.datetime
    updated: dt.datetime
    ref: str = ""  # Cloud's refname, Data Center's ref
    build_number: str = ""
    parent: str = ""
    duration: int | None = None  # Data Center: milliseconds, as reported
    project_key: str = ""  # Data Center: the repository it was reported on (repository API)
    slug: str = ""
    commit: str = ""  # as first reported (a full or abbreviated hash)

    def as_json(self) -> Json:
        return {
            "key": self.key,
            "state": self.state,
            "name": self.name,
            "url": self.url,
            "description": self.description,
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
        }


@dataclass
class RequiredBuilds:
    """A Data Center required-builds merge check: these build keys, for pull requests into
    branches that `matcher` names (a branch name, a pattern with *, or None: any branch)."""

    id: int
    keys: list[str]
    matcher: str | None


@dataclass
class BuildBook:
    statuses: dict[str, dict[str, Build]] = field(default_factory=dict)  # commit -> key -> build
    required: list[RequiredBuilds] = field(default_factory=list)


def book(repository: Repository) -> BuildBook:
    if repository.build_status is None:
        repository.build_status = BuildBook()
    found: BuildBook = repository.build_status
    return found


def _same(stored: str, asked: str) -> bool:
    stored, asked = stored.lower(), asked.lower()
    return len(asked) >= 7 and (stored.startswith(asked) or asked.startswith(stored))


def builds_of(repository: Repository, commit: str) -> list[Build]:
    """The builds of a commit, in the order they were first reported."""
    found: list[Build] = []
    for stored, builds in book(repository).statuses.items():
        if _same(stored, commit):
            found += builds.values()
    return found


def record(
    state: BitbucketState,
    repository: Repository,
    commit: str,
    key: str,
    build_state: str,
    *,
    name: str = "",
    url: str = "",
    description: str = "",
    **more: Any,
) -> tuple[Build, bool]:
    """Report a build on a commit: (the build, True when new). A key already reported on the
    commit is updated (its first report's time stays)."""
    statuses = book(repository).statuses
    stored = next((c for c in statuses if _same(c, commit)), commit.lower())
    builds = statuses.setdefault(stored, {})
    now = state.clock.now()
    old = builds.get(key)
    created = old.created if old else now
    build = Build(key, build_state, name or key, url, description, created, now, **more)
    build.commit = stored
    builds[key] = build
    return build, old is None


def flavour_state(flavour: Flavour, value: str) -> str:
    """A state in the flavour's words (the other flavour's word for stopped is taken)."""
    upper = value.upper()
    words = CLOUD_STATES if flavour == "cloud" else DC_STATES
    if upper in OTHER_WORD and upper not in words:
        upper = OTHER_WORD[upper]
    if upper not in words:
        raise ValueError(f"a build state is one of {', '.join(words)}, not {value!r}")
    return upper


# == Cloud ======================================================================================


def cloud_status(call: Call, repository: Repository, commit: str, build: Build) -> Json:
    return cloud_json(call.base, repository, commit, build)


def cloud_json(base: str, repository: Repository, commit: str, build: Build) -> Json:
    """A commitstatus."""
    api = f"{base}/2.0/repositories/{repository.full_name}/commit/{build.commit or commit}"
    body: Json = {
        "type": "build",
        "key": build.key,
        "state": build.state,
        "name": build.name,
        "description": build.description,
        "url": build.url,
        "created_on": cloud_time(build.created),
        "updated_on": cloud_time(build.updated),
        "links": {
            "self": {"href": f"{api}/statuses/build/{build.key}"},
            "commit": {"href": api},
        },
    }
    if build.ref:
        body["refname"] = build.ref
    return body


def _cloud_page(call: Call, repository: Repository, commit: str) -> Response:
    values = [cloud_status(call, repository, commit, b) for b in builds_of(repository, commit)]
    return cloud_api.ok(cloud_api.page(call, values, maximum=100))


@cloud_api.route("GET", f"{cloud_api.REPO}/commit/{{commit}}/statuses")
def cloud_commit_statuses(call: Call) -> Response:
    return _cloud_page(call, cloud_api.repository(call), call.args["commit"])


@cloud_api.route("GET", f"{cloud_api.PULL}/statuses")
def cloud_pull_request_statuses(call: Call) -> Response:
    repository, pr = cloud_api.pull_request(call)
    return _cloud_page(call, repository, current_commits(repository, pr)[0])


def _text(body: Json, name: str, *, required: bool = False) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise field_error(name, "This field is required." if value is None else "Not a string.")
    return value


@cloud_api.route("POST", f"{cloud_api.REPO}/commit/{{commit}}/statuses/build")
def cloud_report_build(call: Call) -> Response:
    repository = cloud_api.repository(call)
    body = call.body()
    key, url = _text(body, "key", required=True), _text(body, "url", required=True)
    state = _text(body, "state", required=True)
    if state not in CLOUD_STATES:
        raise field_error("state", f"{state} is not a valid build state.")
    build, _ = record(
        call.state,
        repository,
        call.args["commit"],
        key,
        state,
        name=_text(body, "name"),
        url=url,
        description=_text(body, "description"),
        ref=_text(body, "refname"),
    )
    return cloud_api.ok(cloud_status(call, repository, call.args["commit"], build), 201)


# == Data Center ================================================================================


def dc_status(build: Build) -> Json:
    """A RestBuildStatus."""
    body: Json = {
        "key": build.key,
        "state": build.state,
        "name": build.name,
        "url": build.url,
        "description": build.description,
        "createdDate": epoch_millis(build.created),
        "updatedDate": epoch_millis(build.updated),
    }
    for name, value in (
        ("buildNumber", build.build_number),
        ("parent", build.parent),
        ("ref", build.ref),
        ("duration", build.duration),
        ("projectKey", build.project_key),
        ("repositorySlug", build.slug),
    ):
        if value:
            body[name] = value
    return body


def _dc_bad(message: str) -> Exception:
    return dc_error(HTTPStatus.BAD_REQUEST, None, message)


def _dc_report(call: Call, repository: Repository, *, scoped: bool) -> Response:
    body = call.body()
    fields: dict[str, Any] = {}
    for name in ("key", "state", "url", "name", "description", "buildNumber", "parent", "ref"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise _dc_bad(f"{name} must be a string")
        fields[name] = value or ""
    for name in ("key", "state", "url"):
        if not fields[name]:
            raise _dc_bad(f"{name} may not be blank")
    if fields["state"] not in DC_STATES:
        raise _dc_bad(f"state must be one of {', '.join(DC_STATES)}")
    if fields["ref"] and not fields["ref"].startswith("refs/"):
        raise _dc_bad("ref must start with refs/")
    duration = body.get("duration")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
        raise _dc_bad("duration must be a whole number of milliseconds")
    record(
        call.state,
        repository,
        call.args["commit"],
        fields["key"],
        fields["state"],
        name=fields["name"],
        url=fields["url"],
        description=fields["description"],
        ref=fields["ref"],
        build_number=fields["buildNumber"],
        parent=fields["parent"],
        duration=duration,
        project_key=repository.project_key if scoped else "",
        slug=repository.slug if scoped else "",
    )
    return Response.empty()


def _any_repository(call: Call) -> Repository:
    """Where the unscoped build-status API files a build: the repository that already has the
    commit's builds, else the first repository (the real one is keyed by commit alone)."""
    commit = call.args["commit"]
    for repository in call.state.repositories.values():
        if builds_of(repository, commit):
            return repository
    return next(iter(call.state.repositories.values()))


@dc_api.table.route("GET", "commits/{commit}", "build-status")
def dc_commit_builds(call: Call) -> Response:
    commit = call.args["commit"]
    found = [dc_status(b) for r in call.state.repositories.values() for b in builds_of(r, commit)]
    return dc_api.ok(dc_api.page(call, found))


@dc_api.table.route("POST", "commits/{commit}", "build-status")
def dc_report_build(call: Call) -> Response:
    return _dc_report(call, _any_repository(call), scoped=False)


@dc_api.table.route("GET", f"{dc_api.REPO}/commits/{{commit}}/builds")
def dc_repository_build(call: Call) -> Response:
    repository = dc_api.repository(call)
    key = call.request.param("key")
    if not key:
        raise _dc_bad("key may not be blank")
    for build in builds_of(repository, call.args["commit"]):
        if build.key == key:
            return dc_api.ok(dc_status(build))
    raise dc_error(
        HTTPStatus.NOT_FOUND,
        "build.NoSuchBuildStatusException",
        f"No build status with key {key} exists for commit {call.args['commit']}.",
    )


@dc_api.table.route("POST", f"{dc_api.REPO}/commits/{{commit}}/builds")
def dc_repository_report_build(call: Call) -> Response:
    return _dc_report(call, dc_api.repository(call), scoped=True)


def dc_condition(condition: RequiredBuilds) -> Json:
    """A RestRequiredBuildCondition."""
    if condition.matcher is None:
        matcher: Json = {"id": "ANY_REF_MATCHER_ID", "displayId": "ANY_REF_MATCHER_ID",
                         "type": {"id": "ANY_REF", "name": "Any branch"}}  # fmt: skip
    elif "*" in condition.matcher:
        matcher = {"id": condition.matcher, "displayId": condition.matcher,
                   "type": {"id": "PATTERN", "name": "Pattern"}}  # fmt: skip
    else:
        matcher = {"id": branch_ref(condition.matcher), "displayId": condition.matcher,
                   "type": {"id": "BRANCH", "name": "Branch"}}  # fmt: skip
    return {"id": condition.id, "buildParentKeys": list(condition.keys), "refMatcher": matcher}


@dc_api.table.route("GET", f"{dc_api.REPO}/conditions", "required-builds")
def dc_required_builds(call: Call) -> Response:
    repository = dc_api.repository(call)
    values = [dc_condition(c) for c in book(repository).required]
    return dc_api.ok(dc_api.page(call, values))
