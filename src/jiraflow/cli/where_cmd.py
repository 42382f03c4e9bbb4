"""`jiraflow where KEY...`: which branches, environments, release tags and open releases hold
an issue's commits (jiraflow.gitflow.where, from git alone), with its Jira status and pull request
when those are configured. Jira or Bitbucket failing is a warning: git still answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import complete_issues

if TYPE_CHECKING:
    from jiraflow.gitflow.where import Place, Whereabouts

pass_state = click.make_pass_decorator(AppState)

COMMITS_SHOWN = 5
TAGS_SHOWN = 6


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("keys", nargs=-1, required=True, metavar="KEY...", shell_complete=complete_issues)
@click.option(
    "--offline", is_flag=True, help="Answer from git alone: ask neither Jira nor Bitbucket."
)
@pass_state
def where(state: AppState, keys: tuple[str, ...], offline: bool) -> None:
    """Which branches (develop, main, the environment branches in promotion order, open
    releases and hotfixes) and version tags hold the commits of issue KEY, with its Jira
    status and pull request when configured. Commits are KEY's when their message names
    it, when a merge of a branch named with it brought them in, or when they are on such a
    branch. Several keys: one section each (JSON: a list), Jira asked once for them all."""
    from jiraflow.services.where import whereabouts_of

    answers = whereabouts_of(state.flow(), list(keys), offline=offline)
    if state.json:
        infos = [info for _, info in answers]
        state.renderer.data(infos[0] if len(infos) == 1 else infos)
    else:
        for i, (found, info) in enumerate(answers):
            if i:
                state.renderer.line("")
            _print(state, found, info)
    warnings = [text for _, info in answers for text in info["warnings"]]
    for text in dict.fromkeys(warnings):
        state.renderer.warn(text)


# -- text --------------------------------------------------------------------------------------
def _print(state: AppState, found: Whereabouts, info: dict[str, Any]) -> None:
    out = state.renderer.line
    out(_headline(found.key, info["issue"]))
    verdict = found.verdict
    out(verdict[0].upper() + verdict[1:] + ".")
    rows: list[tuple[str, str]] = []
    places = [*info["branches"], *info["tags"]]
    built = {p["ref"]: p.get("builds") for p in places if p["ref"]}
    if found.changes:
        local = {b.name: b for b in found.branches if b.role != "environment"}
        for place in found.branches:
            twin = local.get(place.remote_of or "")
            if twin is not None and (twin.contains, twin.state) == (place.contains, place.state):
                continue  # the remote's copy says the same as the local branch
            builds = _reported(built.get(place.ref))
            rows.append((place.label, _held(place) + (f"; builds: {builds}" if builds else "")))
            for sha in place.missing[:COMMITS_SHOWN] if place.state == "some" else ():
                rows.append(("", "  lacks " + _commit_line(found, sha)))
        full = [t.name for t in found.tags if t.state == "all"]
        partly = [t.name for t in found.tags if t.state != "all"]
        if full:
            rows.append(("tags", _names(full, "tags")))
        if partly:
            rows.append(("partly in", _names(partly, "tags")))
        for tag in found.tags:
            builds = _reported(built.get(tag.ref))
            if builds:
                rows.append(("", f"builds of {tag.name}: {builds}"))
    for deployment in info.get("deployments") or []:
        label = f"deployed to {deployment['environment']}"
        rows.append((label, _deployed(deployment, len(found.changes))))
    if found.work_branches:
        rows.append(("branch", ", ".join(found.work_branches)))
    for pull in info["pull_requests"] or []:
        arrow = f"{pull['source']} -> {pull['destination']}"
        rows.append(("pull request", f"#{pull['id']} {pull['state']}  {arrow}"))
        builds = pull.get("builds")
        if builds:  # the newest one's head
            said = f"unknown ({builds['error']})" if "error" in builds else builds["summary"]
            rows.append(("", f"builds: {said}"))
        rows.append(("", pull["url"]))
    shown = found.changes[:COMMITS_SHOWN]
    for i, change in enumerate(shown):
        rows.append(("commits" if i == 0 else "", _commit_line(found, change.sha)))
    if len(found.changes) > len(shown):
        rows.append(("", f"... and {len(found.changes) - len(shown)} more (--json lists all)"))
    width = max((len(label) for label, _ in rows), default=0) + 2
    for label, text in rows:
        out(f"  {label:<{width}}{text}".rstrip())


def _reported(builds: dict[str, Any] | None) -> str:
    """The summary of the builds read for a branch or tag; "" when none were reported or
    they could not be read (a warning says so)."""
    if not builds or "error" in builds or not builds["builds"]:
        return ""
    return str(builds["summary"])


def _deployed(row: dict[str, Any], total: int) -> str:
    """ "yes (abc1234, 2026-12-01 14:02)", "partly (1 of 2 commits: abc1234, ...)",
    "no (abc1234, ...)", "no (no successful deployment)", "unknown (why)"."""
    import datetime as dt

    said = row["deployed"]
    if said == "unknown" or not row["commit"]:
        return f"{said} ({row['note']})" if row["note"] else said
    facts = [row["commit"][:7]]
    if row["finished"]:
        when = dt.datetime.fromisoformat(row["finished"]).astimezone()
        facts.append(when.strftime("%Y-%m-%d %H:%M"))
    partly = f"{row['contains']} of {total} commits: " if said == "partly" else ""
    return f"{said} ({partly}{', '.join(facts)})"


def _headline(key: str, issue: dict[str, Any] | None) -> str:
    if not issue:
        return key
    facts = [issue["type"], issue["status"]]
    if issue["fix_versions"]:
        facts.append("fix version " + ", ".join(issue["fix_versions"]))
    if issue["assignee"]:
        facts.append(issue["assignee"])
    return f"{key}  {issue['summary']} ({', '.join(f for f in facts if f)})"


def _held(place: Place) -> str:
    state = place.state
    if state == "missing":
        return "(no such branch)"
    if state == "none":
        return "no"
    if state == "all":
        return "yes" if place.total == 1 else f"yes (all {place.total} commits)"
    return f"some ({place.contains} of {place.total} commits)"


def _names(names: list[str], what: str) -> str:
    """a, b, c or, when there are many, the first few, ... and the last."""
    if len(names) > TAGS_SHOWN:
        shown = [*names[: TAGS_SHOWN - 2], "...", names[-1]]
        return ", ".join(shown) + f" ({len(names)} {what})"
    return ", ".join(names)


def _commit_line(found: Whereabouts, sha: str) -> str:
    change = next((c for c in found.changes if c.sha == sha), None)
    subject = change.subject if change else ""
    same = f" (+{len(change.same)} same)" if change and change.same else ""
    return f"{sha[:10]} {subject}{same}"
