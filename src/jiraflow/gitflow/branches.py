"""publish, track, delete, checkout, list, diff and rebase of the branches of a type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from jiraflow.errors import RemoteError, RepoStateError
from jiraflow.git import branch_ref, remote_ref
from jiraflow.gitflow.context import FlowContext
from jiraflow.gitflow.naming import check_branch_name
from jiraflow.gitflow.plan import PUSH, REBASE, Plan


def _require_remote(ctx: FlowContext) -> str:
    remote = ctx.model.remote
    if remote not in ctx.repo.remotes():
        raise RemoteError(
            f"there is no remote '{remote}'",
            f"Add it with `git remote add {remote} URL`, or set gitflow.remote.",
        )
    return remote


def plan_publish(ctx: FlowContext, kind: str, name: str | None) -> Plan:
    branch = ctx.resolve(kind, name)
    remote = _require_remote(ctx)
    ctx.require_clean()
    if ctx.repo.remote_branch(remote, branch):
        raise RepoStateError(
            f"'{branch}' is already on '{remote}'",
            f"Push new commits with `git push`, or track it with `jiraflow {kind} track`.",
        )
    plan = Plan(f"{kind} publish", branch, moves={branch_ref(branch)})
    plan.add(
        "push", "--quiet", "--set-upstream", remote, f"{branch}:{branch_ref(branch)}", kind=PUSH
    )
    if ctx.repo.head().branch != branch:
        plan.add("checkout", "--quiet", branch)
    plan.summary = [
        f"pushed '{branch}' to '{remote}' and set it as upstream",
        f"you are now on '{branch}'",
    ]
    return plan


def plan_track(ctx: FlowContext, kind: str, name: str) -> Plan:
    remote = _require_remote(ctx)
    branch = check_branch_name(ctx.model.branch(kind, name), name)
    if ctx.repo.has_branch(branch):
        raise RepoStateError(
            f"the branch '{branch}' already exists locally",
            f"Check it out with `jiraflow {kind} checkout {name}`.",
        )
    ctx.require_clean()
    plan = Plan(f"{kind} track", branch, moves={branch_ref(branch), remote_ref(remote, branch)})
    # Fetch just this branch: it may have been pushed a moment ago.
    refspec = f"+{branch_ref(branch)}:{remote_ref(remote, branch)}"
    plan.add("fetch", "--quiet", remote, refspec, kind=PUSH)
    plan.add("checkout", "--quiet", "-b", branch, "--track", f"{remote}/{branch}")
    plan.summary = [
        f"created '{branch}' tracking '{remote}/{branch}'",
        f"you are now on '{branch}'",
    ]
    return plan


def plan_delete(
    ctx: FlowContext, kind: str, name: str | None, *, force: bool, remote: bool
) -> Plan:
    repo = ctx.repo
    branch = ctx.resolve(kind, name)
    base = ctx.base_of(branch, kind)
    tip = repo.refs()[branch_ref(branch)]
    targets = [b for b in (base, ctx.model.main) if repo.has_branch(b)]
    if not force and not any(repo.is_ancestor(branch, t) for t in targets):
        raise RepoStateError(
            f"'{branch}' has commits that are not merged into '{base}'",
            f"Finish it with `jiraflow {kind} finish`, or delete it anyway with --force.",
        )
    plan = Plan(f"{kind} delete", branch, moves={branch_ref(branch)})
    if repo.head().branch == branch:
        ctx.require_clean()
        plan.add("checkout", "--quiet", base)
    if remote:
        remote_name = _require_remote(ctx)
        if repo.remote_branch(remote_name, branch):
            plan.add("push", "--quiet", remote_name, "--delete", branch, kind=PUSH)
            plan.summary.append(f"deleted '{branch}' on '{remote_name}'")
    plan.add("branch", "--quiet", "-D", branch)
    if f"gitflow.branch.{branch}.base" in repo.config():
        plan.add("config", "--remove-section", f"gitflow.branch.{branch}")
    plan.summary.append(
        f"deleted '{branch}' (it was at {tip[:10]}; `git branch {branch} {tip[:10]}` restores it)"
    )
    return plan


def plan_checkout(ctx: FlowContext, kind: str, name: str) -> Plan:
    branch = ctx.resolve(kind, name)
    plan = Plan(f"{kind} checkout", branch)
    plan.add("checkout", "--quiet", branch)
    plan.summary = [f"you are now on '{branch}'"]
    return plan


def plan_rebase(ctx: FlowContext, kind: str, name: str | None) -> Plan:
    branch = ctx.resolve(kind, name)
    base = ctx.base_of(branch, kind)
    ctx.require_clean()
    plan = Plan(f"{kind} rebase", branch, moves={branch_ref(branch)})
    plan.add("rebase", "--quiet", base, branch, kind=REBASE)
    plan.summary = [f"rebased '{branch}' onto '{base}'"]
    return plan


def interactive_rebase_args(ctx: FlowContext, kind: str, name: str | None) -> list[str]:
    branch = ctx.resolve(kind, name)
    ctx.require_clean()
    return ["rebase", "--interactive", ctx.base_of(branch, kind), branch]


def diff_args(ctx: FlowContext, kind: str, name: str | None) -> list[str]:
    branch = ctx.resolve(kind, name)
    return ["diff", f"{ctx.base_of(branch, kind)}...{branch}"]


@dataclass(frozen=True, eq=False, repr=False)
class BranchRow:
    name: str
    branch: str
    base: str
    current: bool
    ahead: int
    behind: int
    remote: bool

    def describe(self) -> str:
        parts = [f"{self.ahead} ahead of, {self.behind} behind '{self.base}'"]
        if self.remote:
            parts.append("published")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def list_branches(ctx: FlowContext, kind: str) -> list[BranchRow]:
    repo, model = ctx.repo, ctx.model
    prefix = model.prefixes[kind]
    current = repo.head().branch
    refs = repo.refs()
    branches = [(branch, ctx.base_of(branch, kind)) for branch in repo.branches(prefix)]
    compared = [(b, base) for b, base in branches if repo.has_branch(base)]
    counts = dict(
        zip(
            compared,
            repo.ahead_behind_many(
                [(refs[branch_ref(b)], refs[branch_ref(base)]) for b, base in compared]
            ),
            strict=True,
        )
    )
    rows = []
    for branch, base in branches:
        ahead, behind = counts.get((branch, base), (0, 0))
        rows.append(
            BranchRow(
                branch[len(prefix) :],
                branch,
                base,
                branch == current,
                ahead,
                behind,
                repo.remote_branch(model.remote, branch) is not None,
            )
        )
    return rows
