"""Keeping Jira in step with a release: the version in each project the release touches, the
fixVersions of its issues, their status, and the version's release date.

A release is one outbox action per project (see tracker.py for the others):
  {"id", "site", "key": project, "do": "release", "version": Jira version name,
   "keys": [...], "released": bool, "date": "YYYY-MM-DD" or None, "target": status or ""}
Delivering it reads the issues with one search per 100 keys while it reads the project's
versions (the searches and that read go out together), finds or creates the version, adds it
to the issues lacking it and moves the issues not yet at the target (WRITERS issues at a
time, each issue's two writes in order), and releases the version last. Every part looks
before it writes, so a repeat (a second finish, `jiraflow sync` after a failure half-way)
neither duplicates nor undoes anything.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from jiraflow.errors import ConfigError, JiraflowError
from jiraflow.jira.client import IssueNotFound, Refused
from jiraflow.jira.issues import Issue, choose_transition, project_of, screen_values
from jiraflow.retry import Ahead

if TYPE_CHECKING:
    from jiraflow.jira.tracker import Tracker

WRITERS = 8  # issues updated at once: quick for big releases, still gentle on Jira
Progress = Callable[[str, int, int], None]  # (what, done, total)


def today() -> str:
    """The release date: the local calendar day."""
    return datetime.date.today().isoformat()


def version_name(template: str, version: str, tag: str, project: str) -> str:
    try:
        return template.format(version=version, tag=tag, project=project)
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            f"jira.version_name = {template!r} is not a valid template",
            "Use {version}, {tag} and {project} as placeholders, e.g. '{version}'.",
        ) from None


def release_actions(
    tracker: Tracker,
    keys: list[str],
    *,
    version: str,
    tag: str,
    released: bool,
    date: str | None = None,
) -> list[dict[str, Any]]:
    """One action per Jira project among `keys` (keys of other projects are not Jira's)."""
    by_project: dict[str, list[str]] = {}
    for key in keys:
        if tracker.accepts(key):
            by_project.setdefault(project_of(key), []).append(key)
    template = tracker.config.jira.version_name
    target = tracker.config.jira.on.release if released else ""
    actions = []
    for project, project_keys in by_project.items():
        owners = tracker.sites_for(project_keys[0])
        action = tracker.new_action(owners[0].url if len(owners) == 1 else None, project, "release")
        action.update(
            version=version_name(template, version, tag, project),
            keys=project_keys,
            released=released,
            date=(date or today()) if released else None,
            target=target,
        )
        actions.append(action)
    return actions


def describe(action: dict[str, Any]) -> str:
    keys = action["keys"]
    listed = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    text = f"set fixVersion {action['version']} on {listed}"
    if action["target"]:
        text += f", move them to {action['target']}"
    if action["released"]:
        text += f", release {action['version']} ({action['date']})"
    return text


def describe_done(action: dict[str, Any]) -> str:
    result = action.get("result") or {}
    name = f"{action['key']} {action['version']}"
    count = result.get("issues", 0)  # "1 issue has", "3 issues have"
    have = "issue has" if count == 1 else "issues have"
    parts = [f"{count} {have} fixVersion {action['version']}"]
    if result.get("moved"):
        parts.append(f"{result['moved']} moved to {result.get('reached') or action['target']}")
    if result.get("created"):
        parts.insert(0, "created")
    if action["released"]:
        parts.append(f"released {action['date']}")
    return f"{name}: " + ", ".join(parts)


def deliver(tracker: Tracker, action: dict[str, Any], progress: Progress | None) -> list[str]:
    """Make Jira match the action; returns warnings (keys Jira does not have, issues whose
    workflow refuses the move). Raises JiraflowError for what a retry may fix."""
    target = action["target"]
    versions = _versions_ahead(tracker, action)
    try:
        found = tracker.lookup(action["keys"], transitions=bool(target))
    finally:
        if versions is not None:
            versions.wait()  # no request outlives the delivery
    tracker.forget()  # what this delivery reads, it may change
    warnings = []
    if found.missing:
        warnings.append(f"not in Jira, left out of {action['version']}: {', '.join(found.missing)}")
    issues = [found.issues[k] for k in action["keys"] if k in found.issues]
    result: dict[str, Any] = {"issues": len(issues), "moved": 0, "created": False}
    action["result"] = result
    if not issues:
        return warnings
    site = tracker.site(found.sites[issues[0].key])
    client = tracker.client(site)
    listed = versions if versions is not None and site.url == action["site"] else None
    version = _version(client, action, issues[0], result, listed)
    name = action["version"].casefold()
    todo = [
        issue
        for issue in issues
        if name not in (v.casefold() for v in issue.fix_versions)
        or (target and not issue.status.matches(target))
    ]

    def update(issue: Issue) -> str:
        """One issue: "moved", "" or a warning. What one issue refuses (gone since the
        search, a workflow that will not go there) is said and does not hold up the others;
        what may pass (Jira down, busy, a 5xx) raises, and the action stays queued."""
        if name not in (v.casefold() for v in issue.fix_versions):
            try:
                client.add_fix_version(issue.key, version["id"])
            except IssueNotFound as exc:
                return f"{exc.message}; left out of {action['version']}"
        if not target or issue.status.matches(target):
            return ""
        try:
            transition = choose_transition(issue, issue.transitions or [], target)
            values = screen_values(issue, transition, tracker.config.jira.fields)
        except ConfigError as exc:  # this issue's workflow: the others still move
            return f"{exc.message}; left as it is. {exc.hint or 'Move it in Jira.'}"
        try:
            client.transition(issue.key, transition.id, values)
        except Refused as exc:
            if not 400 <= exc.status < 500 or exc.status == 429:
                raise
            return f"{issue.key} was not moved to {target}: {exc.message}. Move it in Jira."
        result["reached"] = transition.to.name
        return "moved"

    errors: list[JiraflowError] = []
    label = f"{action['key']} {action['version']}"
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        futures = [pool.submit(update, issue) for issue in todo]
        try:
            for done, future in enumerate(futures, 1):
                try:
                    outcome = future.result()
                except JiraflowError as exc:
                    errors.append(exc)
                    outcome = ""
                if outcome == "moved":
                    result["moved"] += 1
                elif outcome:
                    warnings.append(outcome)
                if progress is not None:
                    progress(f"jira: updating the issues of {label}", done, len(todo))
        except BaseException:  # Ctrl-C: no more writes start; the action stays queued
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    if errors:
        raise errors[0]
    if action["released"] and not version.get("released"):
        client.release_version(version["id"], action["date"])
    return warnings


def _versions_ahead(tracker: Tracker, action: dict[str, Any]) -> Ahead[Any] | None:
    """The project's versions, read while the issues are searched: when the action's site
    is known and still configured (its client made here, in the calling thread)."""
    if action["site"] not in {site.url for site in tracker.sites}:
        return None
    client = tracker.client(tracker.site(action["site"]))
    return Ahead(partial(client.versions, action["key"]))


def _version(
    client: Any,
    action: dict[str, Any],
    issue: Issue,
    result: dict[str, Any],
    listed: Ahead[Any] | None = None,
) -> Any:
    """The project's version of that name (Jira compares names ignoring case), created
    when missing. It is created unreleased (with the planned date): releasing it is the last
    step, once every issue has it. `listed`: the versions, already being read."""
    name = action["version"]

    def existing(versions: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
        for version in client.versions(action["key"]) if versions is None else versions:
            if str(version.get("name", "")).casefold() == name.casefold():
                return dict(version)
        return None

    found = existing(listed.result() if listed is not None else None)
    if found is not None:
        return found
    try:
        created = client.create_version(issue.project_id, name, released=False, date=action["date"])
    except Refused as exc:  # made meanwhile (another finish, a retried request)
        found = existing() if exc.status == 400 else None
        if found is None:
            raise
        return found
    result["created"] = True
    return created
