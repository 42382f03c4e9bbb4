"""TAB completion: the `shell_complete=` callbacks of the commands, and the hidden command
that refreshes the cache of my open Jira issues (jiraflow.jira.issue_cache).

Every callback runs on a TAB press, inside the shell's wait: branches and tags cost one
`git config` (FlowContext.open) and one `git for-each-ref` whose patterns read only the
refs that can match; issues cost no git process and no network (the cache is read, and
refreshed by a detached process). Nothing is printed, and a callback answers [] rather
than fail. Only click and the standard library are imported at the top; the test of
start-up imports covers a TAB.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState, user_config_path

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from jiraflow.config import Config
    from jiraflow.gitflow.context import FlowContext

Completer = Callable[[click.Context, click.Parameter, str], list["CompletionItem"]]


def _quiet(complete: Callable[..., list[Any]]) -> Completer:
    """A completion callback that answers [] instead of raising: a TAB must never put a
    traceback (or anything else) into the shell."""

    @functools.wraps(complete)
    def wrapper(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        try:
            return complete(ctx, param, incomplete)
        except Exception:
            return []

    return wrapper


def _flow(ctx: click.Context) -> FlowContext:
    """The repository of -C PATH (or the current directory), with its merged config."""
    from jiraflow.gitflow.context import FlowContext

    path = ctx.find_root().params.get("path") or "."
    return FlowContext.open(path, user_path=user_config_path())


def _root_and_config(ctx: click.Context) -> tuple[str, Config]:
    """The repository's root and config, without the git config layer: Jira settings never
    come from git config, and this spares a TAB the `git config` process."""
    from jiraflow import config
    from jiraflow.git import GitRepo

    repo = GitRepo.discover(ctx.find_root().params.get("path") or ".")
    return repo.root, config.load(user_path=user_config_path(), repo_root=repo.root)


def _items(values: list[str], incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(v) for v in values if v.startswith(incomplete)]


# -- branches, tags and versions --------------------------------------------------------------
# Characters no ref name has (git check-ref-format), and that for-each-ref patterns treat as
# wildcards: a word with one of them matches nothing.
_NOT_IN_REFS = frozenset("*?[\\ ~^:")


def _refs(flow: FlowContext, incomplete: str, *bases: str) -> dict[str, list[str]]:
    """The names of the refs under each base (`refs/heads/feature/`) that start with
    `incomplete`, with one `git for-each-ref` whose patterns make git read only those refs
    (a repository with thousands of branches and tags answers as fast as a small one)."""
    found: dict[str, list[str]] = {base: [] for base in bases}
    if _NOT_IN_REFS & set(incomplete):
        return found
    patterns = [p for base in bases for p in (f"{base}{incomplete}*", f"{base}{incomplete}*/**")]
    text = flow.repo.output("for-each-ref", "--format=%(refname)", *patterns) or ""
    for ref in text.splitlines():
        base = max((b for b in bases if ref.startswith(b)), key=len)
        found[base].append(ref[len(base) :])
    return found


def complete_branches(kind: str) -> Completer:
    """The existing branches of a type, without their prefix (release and hotfix: the
    versions of the open ones)."""

    @_quiet
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from jiraflow.git import branch_ref

        flow = _flow(ctx)
        base = branch_ref(flow.model.prefixes[kind])
        return _items(_refs(flow, incomplete, base)[base], incomplete)

    return complete


def complete_remote_branches(kind: str) -> Completer:
    """The branches of a type on the remote that have no local branch yet (for track)."""

    @_quiet
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from jiraflow.git import branch_ref, remote_ref

        flow = _flow(ctx)
        prefix = flow.model.prefixes[kind]
        local, remote = branch_ref(prefix), remote_ref(flow.model.remote, prefix)
        refs = _refs(flow, incomplete, local, remote)
        have = set(refs[local])
        return _items([name for name in refs[remote] if name not in have], incomplete)

    return complete


def complete_base(kind: str) -> Completer:
    """BASE of `start`: a tag for a support branch (the version it maintains), a local
    branch otherwise."""
    if kind == "support":
        return complete_tags

    @_quiet
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from jiraflow.git import BRANCHES

        return _items(_refs(_flow(ctx), incomplete, BRANCHES)[BRANCHES], incomplete)

    return complete


def _tags(flow: FlowContext, incomplete: str) -> list[str]:
    """The tags starting with `incomplete`, the highest version first (numbers compared as
    numbers)."""
    import re

    from jiraflow.git import TAGS

    def order(tag: str) -> list[tuple[int, int | str]]:
        return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", tag) if p]

    return sorted(_refs(flow, incomplete, TAGS)[TAGS], key=order, reverse=True)


@_quiet
def complete_tags(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    return _items(_tags(_flow(ctx), incomplete), incomplete)


@_quiet
def complete_range(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """REV_RANGE of `release notes`: a tag, and after `..` a tag, main or develop."""
    flow = _flow(ctx)
    if ".." not in incomplete:
        return _items(_tags(flow, incomplete), incomplete)
    start, dots, end = incomplete.rpartition("..")
    if start.endswith("."):  # A...B
        start, dots = start[:-1], "..."
    ends = [*_tags(flow, end), flow.model.develop, flow.model.main]
    return _items([start + dots + name for name in ends], incomplete)


# -- Jira issues ------------------------------------------------------------------------------
@_quiet
def complete_issues(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """My open issues (key, with the summary as help) from the issue cache; starts the
    background refresh when the cache is old. Nothing when no Jira site is configured."""
    from click.shell_completion import CompletionItem

    from jiraflow.jira import issue_cache

    root, config = _root_and_config(ctx)
    sites = issue_cache.sites_of(config)
    if not sites:
        return []
    cache = issue_cache.IssueCache(issue_cache.default_path())
    found = cache.issues(sites)
    if cache.stale(sites):
        issue_cache.refresh_in_background(root, cache)
    typed = incomplete.upper()
    return [
        CompletionItem(key, help=summary or None) for key, summary in found if key.startswith(typed)
    ]


# -- configuration ----------------------------------------------------------------------------
@_quiet
def complete_config_keys(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Every configuration key, with the first sentence of its documentation as help."""
    from click.shell_completion import CompletionItem

    from jiraflow.config import KEYS

    return [
        CompletionItem(key, help=info.doc.split(". ")[0].rstrip("."))
        for key, info in KEYS.items()
        if key.startswith(incomplete)
    ]


@_quiet
def complete_config_value(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """VALUE of `config set KEY`: the choices of KEY, or true/false for a switch."""
    from jiraflow.config import KEYS

    info = KEYS.get(ctx.params.get("key") or "")
    if info is None:
        return []
    values = list(info.choices) if info.choices else ["true", "false"] if info.type is bool else []
    return _items([v for v in values if v], incomplete)


# -- the background refresh -------------------------------------------------------------------
@click.command("_refresh-issues", hidden=True, context_settings=CONTEXT_SETTINGS)
@click.option("--claimed", is_flag=True, help="The caller holds the refresh marker.")
@click.pass_obj
def refresh_issues(state: AppState, claimed: bool) -> None:
    """Refresh the cache of my open Jira issues that TAB offers (run by TAB itself, in the
    background; by hand it waits for Jira and says what each site answered)."""
    from jiraflow.errors import JiraflowError
    from jiraflow.jira import issue_cache
    from jiraflow.services import remote

    cache = issue_cache.IssueCache(issue_cache.default_path())
    if not claimed and not cache.claim():
        state.renderer.line("A refresh is already running.")
        return
    try:
        flow = state.flow()
        if not issue_cache.sites_of(flow.config):
            state.renderer.line("No Jira site is configured: there is nothing to complete.")
            return
        try:
            answers = issue_cache.refresh(cache, remote.tracker_for(flow))
        except Exception as exc:  # no storm of refreshers: the next waits RETRY_AFTER_ERROR
            why = exc.message if isinstance(exc, JiraflowError) else f"{type(exc).__name__}: {exc}"
            issue_cache.record_failure(cache, flow.config, why)
            raise
    finally:
        cache.release()
    from jiraflow.text import plural

    for site, answer in answers:
        what = plural(answer, "open issue") if isinstance(answer, int) else f"failed: {answer}"
        state.renderer.line(f"{site.url}: {what}")
