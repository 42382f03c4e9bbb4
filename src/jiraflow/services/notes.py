"""Release notes of a range of commits: the commits that are news, and what Jira says of
their issues (one batched search), for `release notes` and the notes a release finish
writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from jiraflow.git import branch_of, tag_of

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.notes import Commit, Facts, Notes
    from jiraflow.jira.tracker import Tracker


def without_bumps(flow: FlowContext, commits: list[Commit]) -> list[Commit]:
    """The commits, without those that bump the version files (release.bump_message) or
    add release notes to the changelog: they are no news, and `release finish` leaves them
    out of the changelog too."""
    import re

    from jiraflow.gitflow.notes import NOTES_COMMIT

    patterns = [
        re.compile(re.escape(message).replace(re.escape("{version}"), r"\S+"))
        for message in (flow.config.release.bump_message, NOTES_COMMIT)
    ]
    return [c for c in commits if not any(p.fullmatch(c.subject) for p in patterns)]


def make_notes(
    flow: FlowContext,
    commits: list[Commit],
    title: str,
    rev_range: str,
    *,
    warn: Callable[[str], None],
    tracker: Tracker | None = None,
    transitions: bool = False,
) -> Notes:
    """The notes of `commits`: one Jira lookup for all their keys when Jira is configured;
    when it cannot be asked, a warning and the notes from git alone (same title, same
    order). `transitions`: look up what a release's Jira actions need too (the tracker
    remembers it, so a release finish searches once)."""
    from jiraflow.gitflow import notes as core

    accepts, facts, used = issue_facts(
        flow, commits, warn=warn, tracker=tracker, transitions=transitions
    )
    release = flow.config.release
    return core.build(
        commits,
        facts,
        feature_types=release.feature_types,
        fix_types=release.fix_types,
        title=title,
        rev_range=rev_range,
        accepts=accepts,
        prefixes=flow.model.prefixes,
        jira=used,
    )


def issue_facts(
    flow: FlowContext,
    commits: list[Commit],
    *,
    warn: Callable[[str], None],
    tracker: Tracker | None = None,
    transitions: bool = False,
) -> tuple[Callable[[str], bool] | None, dict[str, Facts] | None, str]:
    """Which keys count, what Jira says of them (None: not asked), and how Jira was used."""
    from jiraflow.errors import JiraflowError
    from jiraflow.gitflow import notes as core
    from jiraflow.keys import project_of
    from jiraflow.services.remote import tracker_for

    if tracker is None:
        tracker = tracker_for(flow)
    if not tracker.enabled:
        projects = set(flow.config.jira.projects)
        if not projects:
            return None, None, "not configured"
        return (lambda key: project_of(key) in projects), None, "not configured"
    keys = core.keys_of(commits, tracker.accepts)
    if not keys:
        return tracker.accepts, {}, "used"
    try:
        found = tracker.lookup(keys, transitions=transitions)
    except JiraflowError as exc:
        warn(f"Jira could not be asked ({exc.message}): summaries are commit subjects")
        return tracker.accepts, None, f"unreachable: {exc.message}"
    return tracker.accepts, core.facts_of(found.issues, found.url), "used"


# -- `release notes [REV_RANGE]` ---------------------------------------------------------------


def release_notes(flow: FlowContext, given: str | None, *, warn: Callable[[str], None]) -> Notes:
    """The notes of REV_RANGE (default: since the last version tag), titled with the version
    it ends at."""
    from jiraflow.gitflow import notes as core

    rev_range, title = choose_range(flow, given)
    commits = without_bumps(flow, core.commits_in(flow.repo, rev_range))
    return make_notes(flow, commits, title, rev_range, warn=warn)


def choose_range(flow: FlowContext, given: str | None) -> tuple[str, str]:
    """The range to describe and its title."""
    from jiraflow.gitflow import notes as core

    prefix = flow.model.tag_prefix
    if given:
        return given, title_of(flow, given)
    rev_range = core.default_range(flow.repo, prefix, version=_on_version_branch(flow))
    tag = rev_range.split("..", 1)[0] if ".." in rev_range else ""
    if tag and not _on_version_branch(flow) and _same_commit(flow, tag, "HEAD"):
        rev_range = core.release_range(flow.repo, prefix, tag)  # that release's notes
    return rev_range, title_of(flow, rev_range)


def title_of(flow: FlowContext, rev_range: str) -> str:
    """The version the range ends at (a release or hotfix branch, or a version tag), else
    "Unreleased"."""
    from jiraflow.gitflow import notes as core
    from jiraflow.gitflow import versions

    end = core.range_end(rev_range)
    if end in ("HEAD", "@"):
        version = _on_version_branch(flow)
        if version:
            return version
    branch = branch_of(end)
    for kind in ("release", "hotfix"):
        prefix = flow.model.prefixes[kind]
        if prefix and branch.startswith(prefix) and flow.repo.has_branch(branch):
            return branch[len(prefix) :]
    tag = tag_of(end)
    prefix = flow.model.tag_prefix
    version = tag[len(prefix) :]
    if tag.startswith(prefix) and flow.repo.has_tag(tag) and versions.parse(version) is not None:
        return version
    return "Unreleased"


def _on_version_branch(flow: FlowContext) -> str:
    """The version of the release or hotfix branch checked out, or ""."""
    branch = flow.repo.head().branch or ""
    for kind in ("release", "hotfix"):
        prefix = flow.model.prefixes[kind]
        if prefix and branch.startswith(prefix):
            return branch[len(prefix) :]
    return ""


def _same_commit(flow: FlowContext, a: str, b: str) -> bool:
    proc = flow.repo.run("rev-parse", f"{a}^{{commit}}", f"{b}^{{commit}}", check=False)
    shas = proc.stdout.split()
    return proc.returncode == 0 and len(shas) == 2 and shas[0] == shas[1]
