"""`jiraflow config show|get|set`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState, user_config_path
from jiraflow.cli.complete import complete_config_keys, complete_config_value

if TYPE_CHECKING:
    from jiraflow.config import Config, Environment

pass_state = click.make_pass_decorator(AppState)


def _load(state: AppState):  # type: ignore[no-untyped-def]
    """The merged config, with or without a repository around."""
    from jiraflow.services.settings import configured

    return configured(state, user_config_path())


@click.group(context_settings=CONTEXT_SETTINGS)
def config() -> None:
    """Show and change the configuration (see docs/configuration.md)."""


@config.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def show(state: AppState) -> None:
    """Every key, its value and where the value comes from."""
    from jiraflow.config import KEYS

    cfg = _load(state)
    rows = [(key, cfg.get(key), cfg.sources.get(key, "default")) for key in KEYS]
    if state.json:
        state.renderer.data({k: {"value": _plain(v), "source": s} for k, v, s in rows})
    else:
        width = max(len(k) for k, _, _ in rows)
        for key, value, source in rows:
            shown = _chain(value) if key == "environments" else _show(value)
            state.renderer.line(f"{key:<{width}}  {shown:<20}  ({source})")
    _warn_chain(state, cfg)


def _plain(value: object) -> object:
    """The value as JSON has it: the environments as tables."""
    from jiraflow.config import Environment

    if isinstance(value, list) and value and isinstance(value[0], Environment):
        return [env.to_json() for env in value]
    return value


def _chain(value: list[Environment]) -> str:
    """The environments on one line, in promotion order: qa -> staging -> production (main)."""
    if not value:
        return "[]"
    return " -> ".join(
        env.name if env.name == env.branch else f"{env.name} ({env.branch})" for env in value
    )


def _chain_toml(value: list[Environment]) -> str:
    """The environments as [[environments]] tables, as .jiraflow.toml has them."""
    import tomli_w

    if not value:
        return "[]"
    tables = []
    for env in value:
        row = {k: v for k, v in env.to_json().items() if k in ("name", "branch") or v}
        tables.append("[[environments]]\n" + tomli_w.dumps(row))
    return "\n".join(tables).rstrip("\n")


def _warn_chain(state: AppState, cfg: Config) -> None:
    """Says, once, that [[environments]] hides the old where.environments, and which
    environment branches do not exist yet (in a repository)."""
    from jiraflow.errors import RepoStateError
    from jiraflow.gitflow.naming import ref_format_problem

    if cfg.environments and cfg.where.environments:
        state.renderer.warn(
            f"where.environments ({cfg.sources['where.environments']}) is not used: "
            f"[[environments]] ({cfg.sources['environments']}) sets the environment branches"
        )
    if not cfg.environments:
        return
    try:
        repo = state.flow().repo
    except RepoStateError:
        return
    remote = cfg.gitflow.remote
    for env in cfg.environments:
        problem = ref_format_problem(env.branch)
        if problem:
            state.renderer.warn(
                f"environment '{env.name}': '{env.branch}' cannot be a branch name: {problem}"
            )
        elif not repo.has_branch(env.branch) and not repo.remote_branch(remote, env.branch):
            state.renderer.warn(
                f"environment '{env.name}': the branch '{env.branch}' does not exist yet; "
                "it will be created by `jiraflow init --environments`"
            )


def _show(value: object) -> str:
    """A value as it would be written in TOML: booleans in lower case, strings that need it
    and lists and tables quoted (one line each)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)) or value == "" or "\n" in str(value):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@config.command(context_settings=CONTEXT_SETTINGS)
@click.argument("key", shell_complete=complete_config_keys)
@pass_state
def get(state: AppState, key: str) -> None:
    """Print the value of KEY."""
    from jiraflow.config import known_key

    known_key(key, "jiraflow config get")
    cfg = _load(state)
    value = cfg.get(key)
    if state.json:
        source = cfg.sources.get(key, "default")
        state.renderer.data({"key": key, "value": _plain(value), "source": source})
    elif key == "environments":
        state.renderer.line(_chain_toml(value))
    else:
        state.renderer.line(_show(value) if not isinstance(value, str) else value)
    if key in ("environments", "where.environments"):
        _warn_chain(state, cfg)


@config.command("set", context_settings=CONTEXT_SETTINGS)
@click.argument("key", shell_complete=complete_config_keys)
@click.argument("value", shell_complete=complete_config_value)
@click.option("--user", is_flag=True, help="Write the user file instead of .jiraflow.toml.")
@pass_state
def set_(state: AppState, key: str, value: str, user: bool) -> None:
    """Set KEY to VALUE in .jiraflow.toml (or the user file with --user)."""
    import os

    from jiraflow import config as config_mod

    if key == "environments":
        from jiraflow.errors import UsageError

        raise UsageError(
            "'environments' is a list of tables ([[environments]]): `config set` cannot write it",
            "Add [[environments]] tables to .jiraflow.toml (see docs/environments.md); "
            "`jiraflow config get environments` shows them.",
        )
    path = (
        user_config_path() if user else os.path.join(state.flow().repo.root, config_mod.REPO_FILE)
    )
    parsed = config_mod.parse_value(key, value, f"jiraflow config set {key}")
    if state.dry_run:
        state.renderer.plan([f"write {path}: {key} = {_show(parsed)}"])
        return
    had_comments = config_mod.write_key(path, key, parsed, private=user)
    state.renderer.note(key=key, value=parsed, file=path)
    state.renderer.summary([f"{key} = {_show(parsed)} in {path}"])
    if had_comments:
        state.renderer.warn(f"{path} was rewritten; its comments were not kept")
    cfg = _load(state)
    if cfg.get(key) != parsed:
        source = cfg.sources.get(key)
        state.renderer.warn(f"{key} is still {_show(cfg.get(key))}: {source} overrides it")
