"""`jiraflow promote ENV`: the plan that brings an environment's branch up to its source.

The source is the previous environment's branch in the chain ([[environments]]), develop
(or the one open release branch) for the first, or a branch or tag given with --from. The
environment's branch is fast-forwarded to it when it can be, else the source is merged with
"Promote <source> to <env>"; when the branch has commits the source lacks (a hotfix made
there) nothing happens unless a merge is asked for. The result is always pushed: an
environment branch is shared, and one changed only here would promote nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jiraflow.errors import RepoStateError, UsageError
from jiraflow.git import branch_ref, remote_ref
from jiraflow.gitflow.plan import MERGE, PUSH, Plan

if TYPE_CHECKING:
    from jiraflow.config import Environment
    from jiraflow.gitflow.context import FlowContext

OPERATION = "promote"  # the journal's name for it: `jiraflow promote --continue|--abort`
SHOWN = 5  # commits named when the environment's branch has some the source lacks


def environment(flow: FlowContext, name: str) -> tuple[Environment, list[Environment]]:
    """The environment called `name` (or whose branch it is) and the ones after it."""
    chain = list(flow.config.environments)
    for i, env in enumerate(chain):
        if name in (env.name, env.branch):
            return env, chain[i + 1 :]
    if not chain:
        raise UsageError(
            "there is no [[environments]] chain in the configuration",
            "Add one to .jiraflow.toml (see docs/environments.md), then `jiraflow config`.",
        )
    names = ", ".join(env.name for env in chain)
    raise UsageError(
        f"there is no environment '{name}' (the chain: {names})",
        f"e.g. `jiraflow promote {chain[0].name}`.",
    )


def source_of(flow: FlowContext, env: Environment, given: str | None) -> str:
    """The branch or tag promoted to `env`: `given`, else the previous environment's
    branch, else (the first environment) the one open release branch, else develop."""
    repo, remote = flow.repo, flow.model.remote
    if given:
        if repo.has_branch(given) or repo.has_tag(given):
            return given
        if remote_ref(remote, given) in repo.refs():
            return f"{remote}/{given}"
        raise UsageError(
            f"there is no branch or tag '{given}' to promote from",
            "`git branch -a` and `git tag` list them.",
        )
    chain = list(flow.config.environments)
    index = next(i for i, e in enumerate(chain) if e.name == env.name)
    if index > 0:
        return chain[index - 1].branch
    releases = repo.branches(flow.model.prefixes["release"])
    return releases[0] if len(releases) == 1 else flow.model.develop


def tip(flow: FlowContext, branch: str) -> str | None:
    """The environment branch as it is shared: the remote's, when the local one is behind
    it (or missing); else the local one."""
    refs = flow.repo.refs()
    local = refs.get(branch_ref(branch))
    shared = refs.get(remote_ref(flow.model.remote, branch))
    if local is None or (shared is not None and flow.repo.is_ancestor(local, shared)):
        return shared
    return local


def resolve(flow: FlowContext, rev: str) -> str:
    return flow.repo.out("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")


def plan_promote(flow: FlowContext, env: Environment, source: str, *, merge: bool) -> Plan:
    """The git part: the environment's branch brought up to the source and pushed.
    Exit 5 before anything changes when the branch has commits the source lacks (unless
    `merge`). The plan's summary starts with what was promoted."""
    repo, remote = flow.repo, flow.model.remote
    branch = env.branch
    seen = resolve(flow, source)
    old = tip(flow, branch)
    if old is None:
        raise RepoStateError(
            f"there is no branch '{branch}' (environment '{env.name}'), here or on '{remote}'",
            "Create it: `jiraflow init` creates the environment branches.",
        )
    plan = Plan(OPERATION, branch, moves={branch_ref(branch)})
    head = repo.head()
    plan.branch_after = head.branch or branch
    if repo.is_ancestor(seen, old):
        plan.summary.append(f"'{branch}' already has '{source}': nothing to promote")
        return plan
    ahead = repo.out("rev-list", "--no-merges", f"{seen}..{old}").split()
    if ahead and not merge:
        shown = [repo.out("log", "-1", "--format=%h %s", c) for c in ahead[:SHOWN]]
        more = f" and {len(ahead) - SHOWN} more" if len(ahead) > SHOWN else ""
        raise RepoStateError(
            f"'{branch}' has {len(ahead)} commit{'s' * (len(ahead) != 1)} '{source}' lacks: "
            + "; ".join(shown)
            + more,
            f"Bring them into '{source}' first, or merge anyway: "
            f"`jiraflow promote {env.name} --merge`.",
        )
    local = repo.refs().get(branch_ref(branch))
    if local is None:
        plan.add("branch", "--quiet", branch, old)
    plan.add("checkout", "--quiet", branch)
    if local is not None and local != old:  # behind the remote's: catch up first
        plan.add("merge", "--quiet", "--ff-only", old, kind=MERGE, source=old)
    if repo.is_ancestor(old, seen):
        plan.add("merge", "--quiet", "--ff-only", seen, kind=MERGE, source=seen)
        how = "fast-forward"
    else:
        message = f"Promote {source} to {env.name}"
        plan.add(
            "merge", "--quiet", "--no-ff", "--no-edit", "-m", message, seen, kind=MERGE, source=seen
        )
        how = "merge commit"
    plan.summary.append(f"promoted '{source}' to {env.name} ('{branch}', {how})")
    if remote in repo.remotes():
        expect = {branch_ref(branch): repo.refs().get(remote_ref(remote, branch))}
        plan.add("push", "--quiet", "--atomic", remote, branch, kind=PUSH, expect=expect)
        plan.summary.append(f"pushed '{branch}' to '{remote}'")
    if head.branch and head.branch != branch:
        plan.add("checkout", "--quiet", head.branch)
    return plan
