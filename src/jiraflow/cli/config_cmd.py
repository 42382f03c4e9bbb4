"""`jiraflow config show|get|set`."""

from __future__ import annotations

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState, user_config_path
from jiraflow.cli.complete import complete_config_keys, complete_config_value

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
        state.renderer.data({k: {"value": v, "source": s} for k, v, s in rows})
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        state.renderer.line(f"{key:<{width}}  {_show(value):<20}  ({source})")


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
        state.renderer.data({"key": key, "value": value, "source": cfg.sources.get(key, "default")})
    else:
        state.renderer.line(_show(value) if not isinstance(value, str) else value)


@config.command("set", context_settings=CONTEXT_SETTINGS)
@click.argument("key", shell_complete=complete_config_keys)
@click.argument("value", shell_complete=complete_config_value)
@click.option("--user", is_flag=True, help="Write the user file instead of .jiraflow.toml.")
@pass_state
def set_(state: AppState, key: str, value: str, user: bool) -> None:
    """Set KEY to VALUE in .jiraflow.toml (or the user file with --user)."""
    import os

    from jiraflow import config as config_mod

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
