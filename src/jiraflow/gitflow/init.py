"""`init`: choose main and develop like git-flow AVH, create what is missing, write the config.

An existing AVH setup (gitflow.branch.*, gitflow.prefix.*) is adopted as it is. The
values go to git config (so `git flow` keeps working in the same clone) and to
.jiraflow.toml (so the team shares them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from jiraflow import config as config_mod
from jiraflow.errors import ConfigError
from jiraflow.git import BRANCHES, branch_ref
from jiraflow.gitflow.context import FlowContext
from jiraflow.gitflow.model import KINDS
from jiraflow.gitflow.naming import check_branch_name
from jiraflow.gitflow.plan import WRITE, Plan

Ask = Callable[[str, str], str]

MAIN_GUESSES = ("production", "main", "master")
DEVELOP_GUESSES = ("develop", "int", "integration")


def _configured(ctx: FlowContext, key: str) -> bool:
    return ctx.config.sources.get(key, "default") != "default"


def plan_init(
    ctx: FlowContext, *, force: bool = False, ask: Ask | None = None, environments: bool = False
) -> Plan:
    repo, cfg = ctx.repo, ctx.config
    refs = repo.refs()
    head = repo.head()
    has_commits = any(r.startswith(BRANCHES) for r in refs)
    local = repo.branches()
    remote = cfg.gitflow.remote
    if not force and _configured(ctx, "gitflow.main") and _configured(ctx, "gitflow.develop"):
        ask = None  # an existing setup (AVH's or ours) is adopted as it is

    def choose(
        key: str, guesses: tuple[str, ...], fallback: str, question: str, avoid: str = ""
    ) -> str:
        value: str
        if _configured(ctx, key) and not force:
            value = cfg.get(key)
        else:
            found = [g for g in guesses if g in local and g != avoid]
            value = found[0] if found else fallback
        if ask is not None:
            value = ask(question, value).strip() or value
        return check_branch_name(value, value)

    unborn = head.branch if head.commit is None and head.branch else None
    current = head.branch if head.branch and head.branch in local else None
    main = choose(
        "gitflow.main",
        MAIN_GUESSES,
        unborn or current or "main",
        "Branch for production releases",
    )
    develop = choose(
        "gitflow.develop",
        DEVELOP_GUESSES,
        "develop",
        "Branch for integrating the next release",
        avoid=main,
    )
    if main == develop:
        raise ConfigError(
            f"main and develop must be different branches (both are '{main}')",
            "Choose another name for one of them.",
        )
    prefixes = {k: getattr(cfg.gitflow.prefix, k) for k in KINDS}
    tag_prefix = cfg.gitflow.version_tag_prefix
    if ask is not None:
        for kind in KINDS:
            prefixes[kind] = ask(f"Prefix of {kind} branches", prefixes[kind])
        tag_prefix = ask("Prefix of version tags", tag_prefix or "")

    plan = Plan("init", develop)
    created = False
    if not has_commits:
        plan.add("symbolic-ref", "HEAD", branch_ref(main))
        plan.add("commit", "--quiet", "--allow-empty", "--no-verify", "-m", "Initial commit")
        plan.summary.append(f"created '{main}' with an empty initial commit")
        created = True
    elif main not in local:
        if repo.remote_branch(remote, main):
            plan.add("branch", "--quiet", main, f"{remote}/{main}")
            plan.summary.append(f"created '{main}' from '{remote}/{main}'")
        else:
            raise ConfigError(
                f"the branch '{main}' does not exist",
                "Create it, or name the production branch: "
                "`jiraflow config set gitflow.main NAME`.",
            )
    develop_source = develop
    if develop not in local:
        if repo.remote_branch(remote, develop):
            develop_source = f"{remote}/{develop}"
            plan.add("branch", "--quiet", "--track", develop, f"{remote}/{develop}")
            plan.summary.append(f"created '{develop}' tracking '{remote}/{develop}'")
        else:
            plan.add("branch", "--quiet", "--no-track", develop, main)
            plan.summary.append(f"created '{develop}' from '{main}'")
        created = True
    plan.moves = {branch_ref(main), branch_ref(develop)}
    # Checked out before anything is written, so a failure leaves nothing behind.
    if created and head.branch != develop:
        plan.add("checkout", "--quiet", develop)

    on_disk = os.path.exists(os.path.join(repo.root, config_mod.REPO_FILE))
    # A team's file committed on develop arrives with the checkout above; git config must
    # agree with it, or (being the higher layer) it would hide the team's values.
    team = _committed_file(ctx, develop_source) if created and has_commits and not on_disk else None
    if team is not None:
        for kind in KINDS:
            key = f"gitflow.prefix.{kind}"
            if key in team and not _from_git_config(ctx, key):
                prefixes[kind] = team[key]
        if "gitflow.version_tag_prefix" in team and not _from_git_config(
            ctx, "gitflow.version_tag_prefix"
        ):
            tag_prefix = team["gitflow.version_tag_prefix"]

    _environment_branches(ctx, plan, main, develop, team, create=environments)

    git_values = {
        "gitflow.branch.master": main,
        "gitflow.branch.develop": develop,
        **{f"gitflow.prefix.{k}": v for k, v in prefixes.items()},
        "gitflow.prefix.versiontag": tag_prefix,
    }
    existing = repo.config()
    for key, value in git_values.items():
        if force or existing.get(key) != value:
            plan.add("config", key, value)
    file_values = {
        "gitflow.main": main,
        "gitflow.develop": develop,
        "gitflow.version_tag_prefix": tag_prefix,
        **{f"gitflow.prefix.{k}": v for k, v in prefixes.items()},
    }
    if force or not (on_disk or team is not None):
        plan.add(config_mod.REPO_FILE, kind=WRITE, message=config_mod.dumps(file_values))
        plan.summary.append(
            f"wrote {config_mod.REPO_FILE} (commit it to share the setup with your team)"
        )
    plan.summary.append(f"main is '{main}', develop is '{develop}'")
    return plan


def _environment_branches(
    ctx: FlowContext,
    plan: Plan,
    main: str,
    develop: str,
    team: dict[str, Any] | None,
    *,
    create: bool,
) -> None:
    """The branches of [[environments]] that exist neither locally nor on the remote: with
    `create` (--environments) made from main (or from the remote's copy, tracking it, as
    develop is), else named in the summary. The chain of a team file that arrives with this
    init's checkout counts too."""
    repo, remote = ctx.repo, ctx.config.gitflow.remote
    chain = list(ctx.config.environments)
    if not chain and team is not None:
        chain = [config_mod.Environment(**row) for row in team.get("environments", [])]
    local = repo.branches()
    wanted = [env.branch for env in chain if env.branch not in (main, develop, *local)]
    missing = []
    for branch in wanted:
        check_branch_name(branch, branch)
        theirs = repo.remote_branch(remote, branch)
        if not create:
            if not theirs:
                missing.append(branch)
            continue
        if theirs:
            plan.add("branch", "--quiet", "--track", branch, f"{remote}/{branch}")
            plan.summary.append(f"created '{branch}' tracking '{remote}/{branch}'")
        else:
            plan.add("branch", "--quiet", "--no-track", branch, main)
            plan.summary.append(f"created '{branch}' from '{main}'")
        plan.moves.add(branch_ref(branch))
    if missing:
        plan.summary.append(
            f"environment branches missing: {', '.join(missing)} "
            "(`jiraflow init --environments` creates them)"
        )
    elif create and not chain:
        plan.summary.append("no [[environments]] in the configuration: no branch to create")


def _from_git_config(ctx: FlowContext, key: str) -> bool:
    return ctx.config.sources.get(key, "").startswith("git config")


def _committed_file(ctx: FlowContext, rev: str) -> dict[str, Any] | None:
    """The flattened .jiraflow.toml of a commit, or None when it has none."""
    proc = ctx.repo.run("show", f"{rev}:{config_mod.REPO_FILE}", check=False)
    if proc.returncode != 0:
        return None
    import tomllib

    where = f"{config_mod.REPO_FILE} on {rev}"
    try:
        return config_mod.flatten(tomllib.loads(proc.stdout), where)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
