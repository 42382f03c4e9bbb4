"""What `release|hotfix start` and `finish` add to the Gitflow plan of a version: the
issues of the release (the keys in its commits since the previous version tag), the Jira
actions for them, the release notes for the changelog and the tag message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.cli import AppState
    from jiraflow.flow.context import FlowContext
    from jiraflow.tracker import Tracker


@dataclass
class ReleaseExtras:
    changelog: tuple[str, str] | None = None  # (path, new content)
    tag_notes: str = ""
    actions: list[dict[str, Any]] = field(default_factory=list)


def release_range(flow: FlowContext, rev: str) -> str:
    """The commits of a release: from the highest version tag `rev` contains (the previous
    release) to `rev`; all of its history before the first release."""
    from jiraflow.flow import versions

    found = versions.highest(flow.repo, flow.config.gitflow.version_tag_prefix, merged=rev)
    return f"{found[1]}..{rev}" if found else rev


def finish_extras(
    state: AppState,
    flow: FlowContext,
    tracker: Tracker,
    kind: str,
    branch: str,
    *,
    landed: bool,
) -> ReleaseExtras:
    """For `release|hotfix finish` of `branch`: the changelog and tag notes (as configured;
    not when a pull request already merged the branch) and the Jira release actions."""
    from jiraflow import notes, releases
    from jiraflow.cli.notes_cmd import make_notes, without_bumps

    version = branch[len(flow.model.prefixes[kind]) :]
    rev_range = release_range(flow, branch)
    cfg = flow.config.release
    commits = without_bumps(flow, notes.commits_in(flow.repo, rev_range))
    extras = ReleaseExtras()
    if cfg.notes_in_tag or (cfg.changelog and not landed):
        date = releases.today()
        built = make_notes(  # with what the Jira actions need: one search serves both
            flow,
            commits,
            f"{version} ({date})",
            rev_range,
            warn=state.renderer.warn,
            tracker=tracker,
            transitions=bool(flow.config.jira.on.release),
        )
        text = notes.markdown(built)
        if cfg.changelog and not landed:
            path = changelog_path(cfg.changelog)
            existing = flow.repo.run("show", f"{branch}:{path}", check=False)
            before = existing.stdout if existing.returncode == 0 else None
            extras.changelog = (path, notes.prepend_changelog(before, text))
        if cfg.notes_in_tag:  # below the tag's own first line, which says what it is
            extras.tag_notes = text.split("\n", 1)[1].strip() if "\n" in text else ""
    if tracker.enabled:
        keys = notes.keys_of(commits, tracker.accepts)
        tag = flow.model.tag(version)
        extras.actions = releases.release_actions(
            tracker, keys, version=version, tag=tag, released=True
        )
    return extras


def start_actions(
    flow: FlowContext, tracker: Tracker, version: str, base: str
) -> list[dict[str, Any]]:
    """With jira.version_on_start: the Jira version, unreleased, on the issues `base`
    already has since the previous release."""
    from jiraflow import notes, releases

    if not (tracker.enabled and flow.config.jira.version_on_start):
        return []
    commits = notes.commits_in(flow.repo, release_range(flow, base))
    keys = notes.keys_of(commits, tracker.accepts)
    tag = flow.model.tag(version)
    return releases.release_actions(tracker, keys, version=version, tag=tag, released=False)


def changelog_path(path: str) -> str:
    """release.changelog, checked: a file inside the repository."""
    import posixpath

    from jiraflow.errors import ConfigError

    clean = posixpath.normpath(path.replace("\\", "/"))
    if posixpath.isabs(clean) or clean == ".." or clean.startswith("../") or clean == ".":
        raise ConfigError(
            f"release.changelog = {path!r} is not a file inside the repository",
            "Give a path relative to the repository's top, e.g. 'CHANGELOG.md'.",
        )
    return clean
