"""`jiraflow where KEY`: which branches, environments, release tags and open releases hold
an issue's commits (jiraflow.gitflow.where, from git alone), with its Jira status and pull
request when those are configured. Jira or Bitbucket failing is a warning: git still answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.where import Whereabouts

PULL_REQUESTS = 5  # the newest pull requests of the issue's branch shown (one request)


def whereabouts(
    flow: FlowContext, key: str, *, offline: bool
) -> tuple[Whereabouts, dict[str, Any]]:
    """Where issue KEY's commits are, and the JSON of `where` (with the issue and its pull
    requests unless offline, and the warnings of what could not be asked)."""
    from jiraflow.errors import UsageError
    from jiraflow.gitflow.where import locate
    from jiraflow.keys import normalise_key

    jira = flow.config.jira
    projects = [*jira.projects, *(p for row in jira.sites for p in row.get("projects") or [])]
    normal = normalise_key(key.strip(), projects)
    if normal is None:
        raise UsageError(
            f"'{key}' is not a Jira issue key",
            "Give one like PROJ-12 (lower case works for a project in jira.projects).",
        )
    found = locate(flow, normal)
    info = found.to_json()
    warnings: list[str] = []
    info["issue"] = None if offline else _issue(flow, normal, warnings)
    info["pull_requests"] = None if offline else _pull_requests(flow, found, warnings)
    info["warnings"] = warnings
    return found, info


def _issue(flow: FlowContext, key: str, warnings: list[str]) -> dict[str, Any] | None:
    """The issue as Jira has it (one request), or None when Jira is not set up for the key."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.remote import tracker_for

    try:
        tracker = tracker_for(flow)
        if not tracker.enabled or not tracker.accepts(key):
            return None
        issue, site = tracker.fetch(key)
    except JiraflowError as exc:
        warnings.append(f"could not ask Jira about {key}: {exc.message}")
        return None
    return {
        "key": issue.key,
        "summary": issue.summary,
        "type": issue.type,
        "status": issue.status.name,
        "assignee": issue.assignee_name,
        "fix_versions": list(getattr(issue, "fix_versions", None) or []),
        "url": f"{site.url}/browse/{issue.key}",
    }


def _pull_requests(
    flow: FlowContext, found: Whereabouts, warnings: list[str]
) -> list[dict[str, Any]] | None:
    """The newest pull requests of the issue's likeliest branch (one request); None when
    Bitbucket is not set up or no branch is known."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import STATES, forge_for

    if not found.pr_branches:
        return None
    branch = found.pr_branches[0]
    try:
        forge = forge_for(flow)
        # a Bitbucket remote alone switches it on: no token then is not worth a warning
        bitbucket = flow.config.bitbucket
        named = bool(bitbucket.url or bitbucket.repository)
        if not forge.enabled or not (named or forge.usable):
            return None
        pulls = forge.client.pull_requests(source=branch, states=STATES["all"], limit=PULL_REQUESTS)
    except JiraflowError as exc:
        warnings.append(f"could not ask Bitbucket about {branch}: {exc.message}")
        return None
    return [p.to_json() for p in pulls]
