"""`<kind> finish`: merge a branch back where git-flow AVH 1.12.3 would, as a Plan.

Topology is AVH's: a feature or bugfix merges into its base (fast-forward when it has
exactly one commit, unless --no-ff); a release or hotfix merges --no-ff into main, main
is tagged (annotated), the tag is merged into develop, the branch is deleted and the
run ends on develop. Deliberate differences: a hotfix finished while a release branch
is open goes into that release branch (configurable), no editor ever opens, and the
tag message is not given a stray version (an AVH bug).
"""

from __future__ import annotations

from dataclasses import dataclass

from jiraflow.errors import RepoStateError
from jiraflow.git import branch_ref, remote_ref, tag_ref
from jiraflow.gitflow.context import FlowContext
from jiraflow.gitflow.journal import section_record
from jiraflow.gitflow.notes import NOTES_COMMIT
from jiraflow.gitflow.plan import MERGE, PUSH, REBASE, SQUASH, WRITE, Plan
from jiraflow.gitflow.start import require_not_behind
from jiraflow.templates import fill


@dataclass(frozen=True, eq=False, repr=False)
class FinishOptions:
    squash: bool = False
    no_ff: bool = False
    rebase: bool = False
    keep: bool = False
    push: bool = False
    message: str | None = None
    no_tag: bool = False
    # release and hotfix: (path, new content) of the changelog, committed on the branch first
    changelog: tuple[str, str] | None = None
    notes: str = ""  # release notes for the tag message, below its first line


@dataclass(frozen=True, eq=False, repr=False)
class Landed:
    """The branch already reached its target on the remote (a pull request merged it):
    finishing updates the local target instead of merging again."""

    commit: str  # the commit that brought it in: tagged for a release or hotfix
    how: str  # "pull request #3", for the summary
    keep_remote: str = ""  # why the remote branch must stay (an open pull request)


def finish_target(ctx: FlowContext, kind: str, branch: str) -> str:
    """Where the branch merges: its base for features and bugfixes, main (or the support
    branch it started from) for releases and hotfixes."""
    base = ctx.base_of(branch, kind)
    if kind in ("feature", "bugfix"):
        return base
    return ctx.model.main if kind == "release" and base == ctx.model.develop else base


def is_protected(ctx: FlowContext, branch: str) -> bool:
    """Whether gitflow.protected names `branch` (a name, or a pattern where `*` matches
    anything and `?` one character): the server takes changes into it only through pull
    requests, so no finish pushes to it (the one home of that rule)."""
    import fnmatch

    return any(fnmatch.fnmatchcase(branch, p) for p in ctx.config.gitflow.protected)


BACKMERGE_PREFIX = "backmerge/"


@dataclass(frozen=True, eq=False, repr=False)
class BackMerge:
    """A release or hotfix whose back-merge target is protected merges back through a pull
    request: from `branch` (backmerge/VERSION, made at the tag: not protected, so conflicts
    can be resolved on it) into `into`. `merged`: the remote `into` holds it, and the finish
    completes (updates the local `into`, deletes the branches)."""

    branch: str
    into: str
    merged: bool


def back_merge(ctx: FlowContext, kind: str, branch: str) -> BackMerge | None:
    """The back-merge of a release or hotfix finish when it goes through a pull request
    (its target is protected), else None."""
    if kind not in ("release", "hotfix"):
        return None
    back = _back_merge_target(
        ctx, kind, ctx.base_of(branch, kind), finish_target(ctx, kind, branch)
    )
    if back is None or not is_protected(ctx, back):
        return None
    repo = ctx.repo
    name = BACKMERGE_PREFIX + branch[len(ctx.model.prefixes[kind]) :]
    remote_back = repo.remote_branch(ctx.model.remote, back)
    merged = (
        repo.has_branch(name)
        and remote_back is not None
        and repo.is_ancestor(branch_ref(name), remote_back)
    )
    return BackMerge(name, back, merged)


def plan_finish(
    ctx: FlowContext,
    kind: str,
    name: str | None,
    opts: FinishOptions,
    *,
    landed: Landed | None = None,
    keep_remote: str = "",
) -> Plan:
    """The finish plan; `landed` when the branch is already merged on the remote,
    `keep_remote` (the reason) when its remote branch must not be deleted."""
    repo, model = ctx.repo, ctx.model
    ctx.require_initialised()
    branch = ctx.resolve(kind, name)
    ctx.require_clean()
    base = ctx.base_of(branch, kind)
    if not repo.has_branch(base):
        raise RepoStateError(
            f"the base '{base}' of '{branch}' is not a local branch",
            f"Create it (`git branch {base} {model.remote}/{base}`) and run the finish again.",
        )
    if landed is None:
        require_not_behind(ctx, branch)
    if kind in ("feature", "bugfix"):
        if landed is None:
            require_not_behind(ctx, base)
        plan = _plan_work(ctx, kind, branch, base, opts, landed)
    else:
        plan = _plan_version(ctx, kind, branch, base, opts, landed)
    pending = back_merge(ctx, kind, branch)
    if pending is not None and not pending.merged:
        # the finish completes once the back-merge's pull request is merged
        plan.summary.append(f"kept '{branch}' until '{pending.branch}' is merged")
        plan.add("checkout", "--quiet", branch)
        plan.branch_after = branch
        plan.summary.append(f"you are now on '{plan.branch_after}'")
        return plan
    _cleanup(
        ctx,
        plan,
        branch,
        force=opts.squash or landed is not None,
        keep=opts.keep,
        keep_remote=keep_remote or (landed.keep_remote if landed else ""),
    )
    plan.summary.append(f"you are now on '{plan.branch_after}'")
    return plan


def _update_from_remote(ctx: FlowContext, plan: Plan, target: str, landed: Landed) -> None:
    """Bring the local target up to the remote one, which holds the landed branch: a
    fast-forward, or a merge when the local target has commits of its own."""
    remote_target = f"{ctx.model.remote}/{target}"
    plan.add("checkout", "--quiet", target)
    if not ctx.repo.is_ancestor(remote_target, target):
        seen = ctx.repo.out("rev-parse", remote_target)  # a fetch meanwhile must not change it
        message = f"Merge remote-tracking branch '{remote_target}' into {target}"
        plan.add("merge", "--quiet", "--no-edit", "-m", message, seen, kind=MERGE, source=seen)
    plan.summary.append(
        f"{landed.how} merged '{plan.branch}' into '{target}' on '{ctx.model.remote}'; "
        f"updated the local '{target}'"
    )


def _plan_work(
    ctx: FlowContext,
    kind: str,
    branch: str,
    base: str,
    opts: FinishOptions,
    landed: Landed | None = None,
) -> Plan:
    repo = ctx.repo
    plan = Plan(f"{kind} finish", branch, moves={branch_ref(base), branch_ref(branch)})
    plan.branch_after = base
    if landed is not None:
        _update_from_remote(ctx, plan, base, landed)
        if is_protected(ctx, base):  # never pushed: the pull request did the merge
            return plan
        if opts.push and not repo.is_ancestor(base, f"{ctx.model.remote}/{base}"):
            plan.add("push", "--quiet", ctx.model.remote, base, kind=PUSH, expect=_seen(ctx, base))
            plan.summary.append(f"pushed '{base}' to '{ctx.model.remote}'")
        return plan
    if is_protected(ctx, base):
        raise RepoStateError(
            f"'{base}' is protected (gitflow.protected): '{branch}' goes into it through a "
            "pull request",
            "Open it with `jiraflow pr create`; once it is merged, finish again.",
        )
    if opts.rebase:
        plan.add("rebase", "--quiet", base, branch, kind=REBASE)
    plan.add("checkout", "--quiet", base)
    if opts.squash:
        head = {"HEAD": repo.refs()[branch_ref(base)]}  # the commit the squash goes on
        plan.add("merge", "--quiet", "--squash", branch, kind=SQUASH, source=branch, expect=head)
    else:
        # AVH's rule: exactly one commit fast-forwards, anything else gets a merge commit.
        single = not opts.no_ff and repo.count(f"{base}..{branch}") == 1
        ff = "--ff" if single else "--no-ff"
        plan.add("merge", "--quiet", ff, "--no-edit", branch, kind=MERGE, source=branch)
    plan.summary.append(f"merged '{branch}' into '{base}'" + (" (squashed)" if opts.squash else ""))
    if opts.push:
        plan.add("push", "--quiet", ctx.model.remote, base, kind=PUSH, expect=_seen(ctx, base))
        plan.summary.append(f"pushed '{base}' to '{ctx.model.remote}'")
    return plan


def _seen(ctx: FlowContext, *branches: str) -> dict[str, str | None]:
    """The remote's branches as last fetched: what a push of them changes there."""
    refs = ctx.repo.refs()
    return {branch_ref(b): refs.get(remote_ref(ctx.model.remote, b)) for b in branches}


def _plan_version(
    ctx: FlowContext,
    kind: str,
    branch: str,
    base: str,
    opts: FinishOptions,
    landed: Landed | None = None,
) -> Plan:
    repo, model = ctx.repo, ctx.model
    version = branch[len(model.prefixes[kind]) :]
    tag = model.tag(version)
    # A release from develop merges into main; anything else into its base (main, or a
    # support branch), as AVH does.
    target = finish_target(ctx, kind, branch)
    if landed is None:
        require_not_behind(ctx, target)
    back = _back_merge_target(ctx, kind, base, target)
    through = back_merge(ctx, kind, branch)  # the back-merge goes through a pull request
    if back and through is None:
        require_not_behind(ctx, back)
    # what is tagged: the merge commit made here, or the one the pull request made
    tagged = landed.commit if landed is not None else target
    resumed = through is not None and repo.has_branch(through.branch)  # merged back later
    if (
        landed is None
        and kind == "hotfix"
        and not resumed
        and repo.count(f"{target}..{branch}") == 0
    ):
        raise RepoStateError(
            f"the hotfix branch '{branch}' has no commits that '{target}' lacks",
            f"Commit the fix first, or delete the branch: `jiraflow hotfix delete {version}`.",
        )
    tag_now = not opts.no_tag
    if tag_now and repo.has_tag(tag):
        if not (repo.is_ancestor(branch, tag) and repo.is_ancestor(tag, tagged)):
            raise RepoStateError(
                f"the tag '{tag}' already exists and is not the finish of '{branch}' on '{target}'",
                "Choose another version, or delete the tag if it is a mistake.",
            )
        tag_now = False  # tagged by an earlier, interrupted finish

    plan = Plan(f"{kind} finish", branch, moves={branch_ref(target), branch_ref(branch)})
    merged = landed is not None or repo.is_ancestor(branch, target)
    if not merged and is_protected(ctx, target):
        raise RepoStateError(
            f"'{target}' is protected (gitflow.protected): '{branch}' goes into it through a "
            "pull request",
            f"Open it with `jiraflow {kind} finish --pr`; once it is merged, "
            f"`jiraflow {kind} finish` tags it and merges it back.",
        )
    if opts.changelog is not None and not merged:
        path, text = opts.changelog
        add_changelog_commit(
            plan, branch, path, text, version, head=repo.refs()[branch_ref(branch)]
        )
    if landed is not None:
        _update_from_remote(ctx, plan, target, landed)
    elif not merged:
        plan.add("checkout", "--quiet", target)
        if opts.squash:
            head = {"HEAD": repo.refs()[branch_ref(target)]}
            plan.add(
                "merge", "--quiet", "--squash", branch, kind=SQUASH, source=branch, expect=head
            )
        else:
            plan.add("merge", "--quiet", "--no-ff", "--no-edit", branch, kind=MERGE, source=branch)
        plan.summary.append(f"merged '{branch}' into '{target}'")
    if tag_now:
        key = f"{kind}.tag_message"
        message = (
            opts.message
            if opts.message is not None
            else fill(key, ctx.config.get(key), {"version": version, "tag": tag})
        )
        if opts.notes:  # verbatim-ish: a Markdown heading is not a comment to strip
            message = f"{message.rstrip()}\n\n{opts.notes.strip()}\n"
            plan.add("tag", "--annotate", "--cleanup=whitespace", "--message", message, tag, tagged)
        else:
            plan.add("tag", "--annotate", "--message", message, tag, tagged)
        plan.moves.add(tag_ref(tag))
        plan.summary.append(f"tagged '{target}' as '{tag}'")
    if back and through is not None:
        _back_through_pr(ctx, plan, through, tag if not opts.no_tag else target)
    elif back:
        source = tag if not opts.no_tag else target
        plan.moves.add(branch_ref(back))
        plan.add("checkout", "--quiet", back)
        plan.add("merge", "--quiet", "--no-ff", "--no-edit", source, kind=MERGE, source=source)
        plan.summary.append(f"merged '{source}' back into '{back}'")
    # a protected branch is never pushed: a pull request changes it
    pushed = [r for r in (back, target) if r and not is_protected(ctx, r)]
    if opts.push and (pushed or not opts.no_tag):
        refs = pushed + ([tag_ref(tag)] if not opts.no_tag else [])
        seen = _seen(ctx, *pushed)
        if tag_now:  # a tag made by an earlier, interrupted finish may be there already
            seen[tag_ref(tag)] = None
        # --atomic: the remote gets all of them or none, never main without its tag
        plan.add("push", "--quiet", "--atomic", model.remote, *refs, kind=PUSH, expect=seen)
        plan.summary.append(f"pushed {', '.join(repr(r) for r in refs)} to '{model.remote}'")
    if not back and merged and landed is None:
        plan.add("checkout", "--quiet", target)  # the merge step did not check it out
    plan.branch_after = back or target
    return plan


def _back_through_pr(ctx: FlowContext, plan: Plan, through: BackMerge, source: str) -> None:
    """The back-merge through a pull request: the first time, the branch it comes from, made
    at `source` (the tag); once the remote target holds it, the local target brought up to
    the remote one and the back-merge branch deleted (here and on the remote)."""
    repo, remote = ctx.repo, ctx.model.remote
    name, back = through.branch, through.into
    plan.moves.add(branch_ref(name))
    if not through.merged:
        if not repo.has_branch(name):
            plan.add("branch", "--force", name, source)
            plan.summary.append(f"made '{name}' at '{source}' to merge it back into '{back}'")
        return
    plan.moves.add(branch_ref(back))
    remote_back = f"{remote}/{back}"
    plan.add("checkout", "--quiet", back)
    if not repo.is_ancestor(remote_back, back):
        seen = repo.out("rev-parse", remote_back)  # a fetch meanwhile must not change it
        message = f"Merge remote-tracking branch '{remote_back}' into {back}"
        plan.add("merge", "--quiet", "--no-edit", "-m", message, seen, kind=MERGE, source=seen)
    plan.summary.append(
        f"a pull request merged '{name}' back into '{back}' on '{remote}'; "
        f"updated the local '{back}'"
    )
    on_remote = repo.remote_branch(remote, name)
    if on_remote:
        seen = repo.refs()[on_remote]
        lease = f"--force-with-lease={branch_ref(name)}:{seen}"
        expect: dict[str, str | None] = {branch_ref(name): seen}
        plan.add("push", "--quiet", lease, remote, "--delete", name, kind=PUSH, expect=expect)
    plan.add("branch", "--quiet", "-D", name)
    plan.summary.append(f"deleted '{name}'")


def add_changelog_commit(
    plan: Plan, branch: str, path: str, text: str, version: str, *, head: str | None = None
) -> None:
    """Steps that commit the release notes (`text`, the whole new file) to `path` on
    `branch` (at commit `head`, when known: a resumed run tells from it whether the commit
    was made); like the version bump, a commit-msg hook must not stop a release."""
    plan.add("checkout", "--quiet", branch)
    plan.add(path, kind=WRITE, message=text)
    plan.add("add", "--", path)
    message = NOTES_COMMIT.format(version=version)
    expect = {"HEAD": head} if head else None
    plan.add("commit", "--quiet", "--no-verify", "-m", message, "--", path, expect=expect)
    plan.summary.append(f"added the release notes to {path} on '{branch}'")


def _back_merge_target(ctx: FlowContext, kind: str, base: str, target: str) -> str | None:
    """Where the tag is merged back: develop, an open release branch, or nowhere (a
    release or hotfix of a support branch stays on it, as in AVH)."""
    model = ctx.model
    if kind == "release":
        return model.develop if base == model.develop else None
    if target != model.main:
        return None
    if kind == "hotfix" and ctx.config.hotfix.into_release:
        releases = ctx.repo.branches(model.prefixes["release"])
        if releases:
            return releases[0]
    return model.develop


def _cleanup(
    ctx: FlowContext, plan: Plan, branch: str, *, force: bool, keep: bool, keep_remote: str
) -> None:
    repo, model = ctx.repo, ctx.model
    if keep:
        plan.summary.append(f"kept '{branch}'")
        return
    on_remote = repo.remote_branch(model.remote, branch)
    stays = bool(on_remote)
    if on_remote and keep_remote:
        plan.summary.append(f"kept '{branch}' on '{model.remote}': {keep_remote}")
    elif ctx.config.finish.delete_remote and on_remote:
        # only what we have seen goes: a commit pushed meanwhile makes the delete fail
        seen = repo.refs()[on_remote]
        lease = f"--force-with-lease={branch_ref(branch)}:{seen}"
        plan.add(
            "push",
            "--quiet",
            lease,
            model.remote,
            "--delete",
            branch,
            kind=PUSH,
            expect={branch_ref(branch): seen},
        )
        plan.summary.append(f"deleted '{branch}' on '{model.remote}'")
        stays = False
    # A squashed branch is not an ancestor of its base, so -d would refuse it. Nor does -d
    # take commits that the remote branch it tracks lacks, when that stays: the merge
    # carried them into the base (as for any local branch), so they are not lost.
    unpushed = stays and repo.count(f"{on_remote}..{branch}") > 0
    plan.add("branch", "--quiet", "-D" if force or unpushed else "-d", branch)
    section = f"gitflow.branch.{branch}"
    held = section_record(repo, section)
    if held:  # recorded: --abort puts it back, or the branch would lose its base
        plan.add("config", "--remove-section", section, message=held)
    plan.summary.append(f"deleted '{branch}'")
