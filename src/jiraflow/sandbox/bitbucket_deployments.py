"""Deployments in the Bitbucket sandbox: Cloud Pipelines' environments and the deployments to
them, stored per repository. Data Center has no Pipelines: it has none of these routes (a 404,
as the real server answers).

The routes are registered on Cloud's route table (bitbucket_cloud_api.table); bitbucket.py
imports this module before it reads the tables.

* ``GET .../environments`` (paginated_environments) and ``GET .../environments/{uuid}``
  (deployment_environment): every repository starts with Test, Staging and Production (their
  ``environment_type`` named the same), each with a ``{uuid}``.
* ``GET .../deployments`` (paginated_deployments) and ``GET .../deployments/{uuid}``
  (deployment). The list takes ``environment`` (an environment's uuid, braces optional),
  ``sort`` (``state.completed_on``, ``state.started_on``, ``-`` for newest first; without it:
  newest first, the sandbox's guess) and ``pagelen`` (at most 100). A deployment's state is
  ``COMPLETED`` with a status (SUCCESSFUL, FAILED, STOPPED), ``IN_PROGRESS`` or
  ``UNDEPLOYED``; its ``release.commit.hash`` is the commit deployed.
* A successful deployment marks the environment's earlier successful one UNDEPLOYED, as
  Pipelines does when a newer release replaces it.

Tests record deployments with ``BitbucketSandbox.deploy``.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuids
from dataclasses import dataclass, field
from http import HTTPStatus

from jiraflow.sandbox import bitbucket_cloud_api as cloud_api
from jiraflow.sandbox.bitbucket_cloud_views import cloud_time
from jiraflow.sandbox.bitbucket_http import ApiError, Call
from jiraflow.sandbox.bitbucket_model import BitbucketState, Json, Repository
from jiraflow.sandbox.server import Response

SEEDED = ("Test", "Staging", "Production")
COMPLETED_STATUSES = ("SUCCESSFUL", "FAILED", "STOPPED")
STATES = (*COMPLETED_STATUSES, "IN_PROGRESS", "UNDEPLOYED")
SORTS = ("state.completed_on", "state.started_on")


def braced(value: str) -> str:
    """A uuid as Cloud writes it: ``{…}``, lower case."""
    return "{" + value.strip("{}").lower() + "}"


@dataclass
class Environment:
    uuid: str
    name: str
    type: str  # Test, Staging, Production
    rank: int


@dataclass
class Deploy:
    uuid: str
    environment: Environment
    commit: str
    state: str  # STATES
    started: dt.datetime
    completed: dt.datetime | None
    number: int  # the pipeline's build number (the release's name)


@dataclass
class DeploymentBook:
    environments: list[Environment] = field(default_factory=list)
    deployments: list[Deploy] = field(default_factory=list)  # in the order they were recorded


def book(repository: Repository) -> DeploymentBook:
    """The repository's environments and deployments (seeded on first use)."""
    if repository.deployments is None:
        seeded = [Environment(braced(str(uuids.uuid4())), n, n, i) for i, n in enumerate(SEEDED)]
        repository.deployments = DeploymentBook(seeded)
    found: DeploymentBook = repository.deployments
    return found


def environment_named(repository: Repository, name: str) -> Environment:
    """An environment by name (any case) or uuid (KeyError when there is none)."""
    for environment in book(repository).environments:
        if name.lower() in (environment.name.lower(), environment.uuid, braced(name)):
            return environment
    raise KeyError(f"no deployment environment {name!r} in {repository.full_name}")


def record(
    state: BitbucketState,
    repository: Repository,
    environment: str,
    commit: str,
    *,
    status: str = "SUCCESSFUL",
    when: dt.datetime | None = None,
) -> Deploy:
    """A deployment of `commit` to `environment` (a name or uuid) in `status` (STATES),
    completed at `when` (now by default; IN_PROGRESS ones have not completed)."""
    word = status.upper()
    if word not in STATES:
        raise ValueError(f"a deployment state is one of {', '.join(STATES)}, not {status!r}")
    target = environment_named(repository, environment)
    deployments = book(repository).deployments
    moment = when or state.clock.now()
    if word == "SUCCESSFUL":
        for earlier in deployments:
            if earlier.environment is target and earlier.state == "SUCCESSFUL":
                earlier.state = "UNDEPLOYED"
    deploy = Deploy(
        braced(str(uuids.uuid4())),
        target,
        commit.lower(),
        word,
        moment - dt.timedelta(minutes=2),
        None if word == "IN_PROGRESS" else moment,
        len(deployments) + 1,
    )
    deployments.append(deploy)
    return deploy


# == answers ====================================================================================


def environment_json(base: str, repository: Repository, environment: Environment) -> Json:
    """A deployment_environment, as Cloud gives it."""
    api = f"{base}/2.0/repositories/{repository.full_name}/environments/{environment.uuid}"
    return {
        "type": "deployment_environment",
        "uuid": environment.uuid,
        "name": environment.name,
        "slug": environment.name.lower(),
        "rank": environment.rank,
        "hidden": False,
        "environment_type": {
            "type": "deployment_environment_type",
            "name": environment.type,
            "rank": SEEDED.index(environment.type) if environment.type in SEEDED else 0,
        },
        "category": {"name": environment.type},
        "links": {"self": {"href": api}},
    }


def deployment_json(base: str, repository: Repository, deploy: Deploy) -> Json:
    """A deployment, as Cloud gives it: state, environment (its uuid), release (its commit)."""
    web = f"https://bitbucket.org/{repository.full_name}/addon/pipelines/home#!/results/"
    url = f"{web}{deploy.number}"
    state: Json = {"started_on": cloud_time(deploy.started), "url": url}
    if deploy.state in COMPLETED_STATUSES:
        assert deploy.completed is not None
        state |= {
            "type": "deployment_state_completed",
            "name": "COMPLETED",
            "completed_on": cloud_time(deploy.completed),
            "status": {
                "type": f"deployment_state_completed_status_{deploy.state.lower()}",
                "name": deploy.state,
            },
        }
    else:
        state |= {"type": f"deployment_state_{deploy.state.lower()}", "name": deploy.state}
    commit_api = f"{base}/2.0/repositories/{repository.full_name}/commit/{deploy.commit}"
    return {
        "type": "deployment",
        "uuid": deploy.uuid,
        "state": state,
        "environment": {"type": "deployment_environment", "uuid": deploy.environment.uuid},
        "release": {
            "type": "deployment_release_pipeline",
            "uuid": braced(str(uuids.uuid5(uuids.NAMESPACE_URL, url))),
            "name": str(deploy.number),
            "url": url,
            "commit": {
                "type": "commit",
                "hash": deploy.commit,
                "links": {"self": {"href": commit_api}},
            },
            "created_on": cloud_time(deploy.started),
        },
    }


def _sorted(deployments: list[Deploy], sort: str | None) -> list[Deploy]:
    """Newest first without `sort`; by completed_on or started_on (``-``: descending), those
    without the time last."""
    if not sort:
        return list(reversed(deployments))
    name = sort.lstrip("-")
    if name not in SORTS:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid sort field: {name}")
    newest = sort.startswith("-")
    timed = [d for d in deployments if (d.completed if "completed" in name else d.started)]

    def moment(deploy: Deploy) -> dt.datetime:
        found = deploy.completed if "completed" in name else deploy.started
        assert found is not None
        return found

    rest = [d for d in deployments if d not in timed]
    return sorted(timed, key=moment, reverse=newest) + rest


@cloud_api.route("GET", f"{cloud_api.REPO}/environments")
def list_environments(call: Call) -> Response:
    repository = cloud_api.repository(call)
    values = [environment_json(call.base, repository, e) for e in book(repository).environments]
    return cloud_api.ok(cloud_api.page(call, values, maximum=100))


@cloud_api.route("GET", f"{cloud_api.REPO}/environments/{{environment_uuid}}")
def get_environment(call: Call) -> Response:
    repository = cloud_api.repository(call)
    wanted = braced(call.args["environment_uuid"])
    for environment in book(repository).environments:
        if environment.uuid == wanted:
            return cloud_api.ok(environment_json(call.base, repository, environment))
    raise ApiError(HTTPStatus.NOT_FOUND, f"Environment {wanted} not found")


@cloud_api.route("GET", f"{cloud_api.REPO}/deployments")
def list_deployments(call: Call) -> Response:
    repository = cloud_api.repository(call)
    deployments = book(repository).deployments
    environment = call.request.param("environment")
    if environment:
        deployments = [d for d in deployments if d.environment.uuid == braced(environment)]
    ordered = _sorted(deployments, call.request.param("sort"))
    values = [deployment_json(call.base, repository, d) for d in ordered]
    return cloud_api.ok(cloud_api.page(call, values, maximum=100))


@cloud_api.route("GET", f"{cloud_api.REPO}/deployments/{{deployment_uuid}}")
def get_deployment(call: Call) -> Response:
    repository = cloud_api.repository(call)
    wanted = braced(call.args["deployment_uuid"])
    for deploy in book(repository).deployments:
        if deploy.uuid == wanted:
            return cloud_api.ok(deployment_json(call.base, repository, deploy))
    raise ApiError(HTTPStatus.NOT_FOUND, f"Deployment {wanted} not found")
