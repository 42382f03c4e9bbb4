"""What Bitbucket Cloud Pipelines really deployed to each environment that names a
`deployment` (for `where`, and the board to come).

Requests (docs/environments.md, "Deployments"): the repository's deployment environments
once (then cached per site: their uuids never change), and one page of each environment's
deployments, newest first, the environments at once. Data Center has no Pipelines, and a
repository without Bitbucket, or without a login, has no deployments to read: every name then
gets a note saying why, and the environment branch stands for what is deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jiraflow.concurrency import together
from jiraflow.errors import JiraflowError
from jiraflow.gitflow.context import FlowContext

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient, Deployment
    from jiraflow.gitflow.where import Change
    from jiraflow.services.pull_requests import Forge

NOT_SET_UP = "Bitbucket is not set up for this repository"


@dataclass
class Deployed:
    """The last successful deployment to each deployment environment asked for (None: it
    has none), and why an environment's is unknown (`notes`: not in `found`)."""

    found: dict[str, Deployment | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def note(self, name: str) -> str:
        return self.notes.get(name, "")


def deployed(flow: FlowContext, names: Iterable[str], *, forge: Forge | None = None) -> Deployed:
    """The last successful deployment to each of `names` (Bitbucket deployment environment
    names, any case); an unknown one gets a note: Data Center, not reachable, not logged in,
    no such environment."""
    wanted = list(dict.fromkeys(n for n in names if n))
    result = Deployed()
    if not wanted:
        return result
    if forge is None:
        from jiraflow.services.pull_requests import forge_for

        forge = forge_for(flow)
    client = _client(forge, wanted, result)
    if client is None:
        return result
    try:
        client.deployment_environments()  # once, before the environments are read at once
    except JiraflowError as error:
        return _unknown(result, wanted, _why(error))
    answers = together([_reader(client, name) for name in wanted])
    for name, (deployment, why) in zip(wanted, answers, strict=True):
        if why:
            result.notes[name] = why
        else:
            result.found[name] = deployment
    return result


def _client(forge: Forge, wanted: list[str], result: Deployed) -> BitbucketClient | None:
    from jiraflow.bitbucket.client import NO_PIPELINES

    if not forge.enabled:
        _unknown(result, wanted, NOT_SET_UP)
        return None
    try:
        client = forge.client
    except JiraflowError as error:
        _unknown(result, wanted, _why(error))
        return None
    if not client.cloud:
        _unknown(result, wanted, NO_PIPELINES)
        return None
    return client


def _reader(client: BitbucketClient, name: str) -> Callable[[], tuple[Deployment | None, str]]:
    def read() -> tuple[Deployment | None, str]:
        try:
            return client.last_deployment(name), ""
        except JiraflowError as error:
            return None, _why(error)

    return read


def _unknown(result: Deployed, names: list[str], why: str) -> Deployed:
    for name in names:
        result.notes[name] = why
    return result


def _why(error: JiraflowError) -> str:
    """An error as a note: "not logged in to Bitbucket (...)" for a missing or refused
    token, else its message."""
    from jiraflow.errors import AuthError

    if isinstance(error, AuthError):
        return f"not logged in to Bitbucket ({error.message})"
    return error.message


# -- for `where`: whether the last successful deployment holds an issue's changes -----------
def where_json(
    flow: FlowContext, changes: list[Change], answer: Deployed | str
) -> list[dict[str, Any]]:
    """One entry per environment that names a `deployment`: whether the commit last
    deployed there successfully holds the changes ("yes", "partly", "no", or "unknown" with
    a note: Bitbucket could not say, or the commit is not in this clone). `answer`: what
    deployed() found, or why it was not asked (every entry is then unknown)."""
    rows: list[dict[str, Any]] = []
    for environment in flow.config.environments:
        if not environment.deployment:
            continue
        row: dict[str, Any] = {
            "environment": environment.name,
            "deployment": environment.deployment,
            "deployed": "unknown",
            "contains": None,
            "commit": None,
            "finished": None,
            "url": None,
            "note": None,
        }
        rows.append(row)
        name = environment.deployment
        if isinstance(answer, str) or name not in answer.found:
            row["note"] = answer if isinstance(answer, str) else answer.note(name)
            continue
        deployment = answer.found[name]
        if deployment is None:
            row |= {"deployed": "no", "note": "no successful deployment"}
            continue
        row |= {
            "commit": deployment.commit,
            "finished": deployment.finished.isoformat() if deployment.finished else None,
            "url": deployment.url or None,
        }
        if flow.repo.commit_of(deployment.commit) is None:
            row["note"] = f"commit {deployment.commit[:7]} is not in this clone: `git fetch`"
            continue
        held = sum(1 for c in changes if _holds(flow, deployment.commit, c))
        row["contains"] = held
        row["deployed"] = "yes" if held == len(changes) else "partly" if held else "no"
    return rows


def _holds(flow: FlowContext, commit: str, change: Change) -> bool:
    """Whether `commit` has the change (itself, or a commit that is the same change)."""
    return any(flow.repo.is_ancestor(sha, commit) for sha in (change.sha, *change.same))
