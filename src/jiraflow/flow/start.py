"""`<kind> start`: create a branch of the model from its base (git-flow AVH's rules)."""

from __future__ import annotations

from jiraflow.errors import RepoStateError, UsageError
from jiraflow.flow.context import FlowContext
from jiraflow.flow.journal import refuse_if_busy
from jiraflow.flow.naming import check_branch_name
from jiraflow.plan import Plan


def plan_start(
    ctx: FlowContext, kind: str, name: str, base: str | None = None, *, fetch: bool = False
) -> Plan:
    repo, model = ctx.repo, ctx.model
    refuse_if_busy(repo)
    ctx.require_initialised()
    branch = check_branch_name(model.branch(kind, name), name)
    if kind == "support" and not base:
        raise UsageError("support start needs a base", "e.g. `jiraflow support start 1.x 1.0.0`")
    base = base or model.default_base(kind)
    if kind != "feature" and kind != "bugfix":
        ctx.require_clean()
    if fetch and repo.remote_branch(model.remote, base):
        repo.fetch(model.remote)
    _require_absent(ctx, branch)
    if kind in ("release", "hotfix"):
        _require_single(ctx, kind)
        tag = model.tag(name)
        if repo.has_tag(tag):
            raise RepoStateError(
                f"the tag '{tag}' already exists",
                f"Choose another version, or `git tag -d {tag}` if it is a mistake.",
            )
    if kind == "support":
        if not repo.ok("rev-parse", "--verify", "--quiet", base + "^{commit}"):
            raise UsageError(f"'{base}' is not a commit, branch or tag")
        if not repo.is_ancestor(base, model.main):
            raise UsageError(f"'{base}' is not a commit on '{model.main}'")
    else:
        if not repo.has_branch(base):
            raise RepoStateError(
                f"the base '{base}' is not a local branch",
                f"Create it first (`git branch {base} {model.remote}/{base}`) or choose another.",
            )
        require_not_behind(ctx, base)

    plan = Plan(f"{kind} start", branch, moves={f"refs/heads/{branch}"})
    plan.add("checkout", "--quiet", "-b", branch, base)
    if kind != "support" and base != model.default_base(kind):
        # Recorded where AVH records it, so finish (ours or `git flow`) merges back into it;
        # the default base needs no record (both tools fall back to it).
        plan.add("config", f"gitflow.branch.{branch}.base", base)
    plan.summary = [f"created '{branch}' from '{base}'", f"you are now on '{branch}'"]
    return plan


def _require_absent(ctx: FlowContext, branch: str) -> None:
    repo = ctx.repo
    if repo.has_branch(branch):
        raise RepoStateError(
            f"the branch '{branch}' already exists",
            f"Check it out with `git checkout {branch}`, or choose another name.",
        )
    if repo.remote_branch(ctx.model.remote, branch):
        raise RepoStateError(
            f"the branch '{branch}' already exists on '{ctx.model.remote}'",
            "Track it with `jiraflow <type> track NAME`, or choose another name.",
        )
    # git keeps refs as files: 'a/b' cannot exist beside 'a', nor 'a' beside 'a/b'.
    parts = branch.split("/")
    for i in range(1, len(parts)):
        prefix = "/".join(parts[:i])
        if repo.has_branch(prefix):
            raise RepoStateError(
                f"'{branch}' cannot be created because a branch '{prefix}' exists",
                "Choose another name, or rename that branch.",
            )
    below = repo.branches(branch + "/")
    if below:
        raise RepoStateError(
            f"'{branch}' cannot be created because a branch '{below[0]}' exists",
            "Choose another name.",
        )


def _require_single(ctx: FlowContext, kind: str) -> None:
    existing = ctx.repo.branches(ctx.model.prefixes[kind])
    if existing:
        raise RepoStateError(
            f"the {kind} branch '{existing[0]}' is still open",
            f"Finish it first (`jiraflow {kind} finish`), or delete it.",
        )


def require_not_behind(ctx: FlowContext, branch: str) -> None:
    """Refuse when the remote has commits that the local branch lacks."""
    remote_ref = ctx.repo.remote_branch(ctx.model.remote, branch)
    if remote_ref is None:
        return
    refs = ctx.repo.refs()
    if refs[f"refs/heads/{branch}"] == refs[remote_ref]:
        return
    _, behind = ctx.repo.ahead_behind(branch, remote_ref)
    if behind:
        remote_name = remote_ref[len("refs/remotes/") :]
        raise RepoStateError(
            f"'{branch}' is behind '{remote_name}' by {behind} commit{'s' if behind > 1 else ''}",
            f"Update it first (`git checkout {branch} && git pull`), then run the command again.",
        )
