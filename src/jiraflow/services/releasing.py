"""What `release|hotfix start` and `finish` add to the Gitflow plan of a version: the
issues of the release (the keys in its commits since the previous version tag), the Jira
actions for them, the release notes for the changelog and the tag message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jiraflow.git import branch_ref

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.notes import Commit
    from jiraflow.jira.tracker import Tracker
    from jiraflow.outbox.actions import Action
    from jiraflow.services.session import Output, Session


@dataclass
class ReleaseExtras:
    changelog: tuple[str, str] | None = None  # (path, new content)
    tag_notes: str = ""
    actions: list[Action] = field(default_factory=list)


def release_range(flow: FlowContext, rev: str, version: str) -> str:
    """The commits of a release: what `rev` has that no earlier release tag has (the
    pre-releases of `version` do not count); all of its history before the first release."""
    from jiraflow.gitflow import notes

    return notes.default_range(flow.repo, flow.model.tag_prefix, rev, version)


def finish_extras(
    out: Output,
    flow: FlowContext,
    tracker: Tracker,
    kind: str,
    branch: str,
    *,
    landed: bool,
) -> ReleaseExtras:
    """For `release|hotfix finish` of `branch`: the changelog and tag notes (as configured;
    not when a pull request already merged the branch) and the Jira release actions."""
    from jiraflow.gitflow import notes

    version, rev_range, commits = release_commits(flow, kind, branch)
    cfg = flow.config.release
    extras = ReleaseExtras()
    if cfg.notes_in_tag or (cfg.changelog and not landed):
        # with what the Jira actions need: one search serves both
        transitions = bool(flow.config.jira.on.release)
        text = notes_text(out, flow, tracker, version, rev_range, commits, transitions)
        if cfg.changelog and not landed:
            extras.changelog = changelog_change(flow, branch, text)
        if cfg.notes_in_tag:  # below the tag's own first line, which says what it is
            extras.tag_notes = text.split("\n", 1)[1].strip() if "\n" in text else ""
    if tracker.enabled:
        keys = notes.keys_of(commits, tracker.accepts)
        tag = flow.model.tag(version)
        from jiraflow.outbox.actions import Release

        extras.actions = list(
            Release.for_keys(tracker, keys, version=version, tag=tag, released=True)
        )
    return extras


def release_commits(flow: FlowContext, kind: str, branch: str) -> tuple[str, str, list[Commit]]:
    """The version of a release or hotfix branch, its range, and its commits (without the
    version bump and earlier notes commits, which are no news)."""
    from jiraflow.gitflow import notes
    from jiraflow.services.notes import without_bumps

    version = branch[len(flow.model.prefixes[kind]) :]
    rev_range = release_range(flow, branch, version)
    return version, rev_range, without_bumps(flow, notes.commits_in(flow.repo, rev_range))


def notes_text(
    out: Output,
    flow: FlowContext,
    tracker: Tracker,
    version: str,
    rev_range: str,
    commits: list[Commit],
    transitions: bool = False,
) -> str:
    """The release's notes in Markdown, titled with the version and today's date."""
    from jiraflow.gitflow import notes
    from jiraflow.jira import releases
    from jiraflow.services.notes import make_notes

    title = f"{version} ({releases.today()})"
    built = make_notes(
        flow,
        commits,
        title,
        rev_range,
        warn=out.warn,
        tracker=tracker,
        transitions=transitions,
    )
    return notes.markdown(built)


def changelog_change(flow: FlowContext, branch: str, section: str) -> tuple[str, str] | None:
    """(path, new content) of release.changelog with `section` on top, as the branch has
    it; None when the branch already has exactly that (a commit would have nothing to do)."""
    import os

    from jiraflow.errors import RepoStateError
    from jiraflow.gitflow import notes

    path = changelog_path(flow.config.release.changelog)
    existing = flow.repo.run("show", f"{branch}:{path}", check=False)
    before = existing.stdout if existing.returncode == 0 else None
    untracked = not flow.repo.ok("ls-files", "--error-unmatch", "--", path)
    if before is None and untracked and os.path.lexists(os.path.join(flow.repo.root, path)):
        raise RepoStateError(  # writing the release notes would overwrite it
            f"{path} is in the work tree but not committed on '{branch}'",
            f"Commit it on '{branch}' or move it away, then finish again.",
        )
    after = notes.prepend_changelog(before, section)
    return None if after == before else (path, after)


def commit_changelog(state: Session, flow: FlowContext, kind: str, branch: str) -> None:
    """For `release|hotfix finish --pr`: the release notes committed to release.changelog on
    the branch before it is pushed, so the pull request brings them to main and develop."""
    from jiraflow.gitflow import journal
    from jiraflow.gitflow.finish import add_changelog_commit
    from jiraflow.gitflow.plan import Plan
    from jiraflow.services.remote import tracker_for

    if not flow.config.release.changelog:
        return
    version, rev_range, commits = release_commits(flow, kind, branch)
    text = notes_text(state.renderer, flow, tracker_for(flow), version, rev_range, commits)
    change = changelog_change(flow, branch, text)
    if change is None:
        return
    plan = Plan(f"{kind} notes", branch, moves={branch_ref(branch)})
    add_changelog_commit(plan, branch, *change, version)
    if state.dry_run:
        state.renderer.plan(plan.describe())
        return
    journal.execute(flow.repo, plan, on_step=lambda s: state.renderer.step(s.describe()))
    state.renderer.summary(plan.summary)


def start_actions(flow: FlowContext, tracker: Tracker, version: str, base: str) -> list[Action]:
    """With jira.version_on_start: the Jira version, unreleased, on the issues `base`
    already has since the previous release."""
    from jiraflow.gitflow import notes
    from jiraflow.outbox.actions import Release

    if not (tracker.enabled and flow.config.jira.version_on_start):
        return []
    commits = notes.commits_in(flow.repo, release_range(flow, base, version))
    keys = notes.keys_of(commits, tracker.accepts)
    tag = flow.model.tag(version)
    return list(Release.for_keys(tracker, keys, version=version, tag=tag, released=False))


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
