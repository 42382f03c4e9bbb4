"""`jiraflow sandbox serve`: the built-in Jira and Bitbucket simulators, for trying jiraflow
without an account (the tests and `jiraflow demo` use the same ones)."""

from __future__ import annotations

from typing import Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

pass_state = click.make_pass_decorator(AppState)


@click.group(context_settings=CONTEXT_SETTINGS)
def sandbox() -> None:
    """Local simulators of Jira and Bitbucket (Cloud or Data Center) on 127.0.0.1."""


@sandbox.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--port",
    type=click.IntRange(0, 65534),
    default=0,
    help="Port of Jira; Bitbucket gets the next one (default: any free ones).",
)
@click.option(
    "--kind",
    type=click.Choice(["cloud", "datacenter"]),
    default="cloud",
    show_default=True,
    help="Which Jira and Bitbucket to simulate.",
)
@click.option(
    "--git-dir",
    type=click.Path(exists=True, file_okay=False),
    help="A bare repository (your test origin) behind the sandbox repository, so that "
    "pull requests are checked and merged for real.",
)
@pass_state
def serve(state: AppState, port: int, kind: str, git_dir: str | None) -> None:
    """Serve a sandbox Jira and Bitbucket until interrupted, and print how to point jiraflow
    at them."""
    import os
    import time

    from jiraflow.errors import UsageError
    from jiraflow.sandbox.bitbucket import BitbucketSandbox
    from jiraflow.sandbox.jira import JiraSandbox

    jira, bitbucket = JiraSandbox(kind), BitbucketSandbox(kind)
    try:
        jira.start(port=port)
        bitbucket.start(port=port + 1 if port else 0)
    except OSError as exc:
        jira.stop()
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port or 'any'} ({exc.strerror})", "Try another --port."
        ) from None
    try:
        if git_dir:
            try:
                bitbucket.set_git_dir(bitbucket.repository_name, os.path.abspath(git_dir))
            except ValueError as exc:
                raise UsageError(
                    f"--git-dir {git_dir}: {exc}", "Give a bare repository, e.g. your origin."
                ) from None
        settings = _settings(jira, bitbucket)
        commands = _commands(settings)
        if state.json:
            state.renderer.data({"kind": kind, "environment": settings, "commands": commands})
        else:
            out = state.renderer.line
            out(f"Sandbox Jira and Bitbucket ({kind}); these are sandbox credentials, not secrets:")
            for name, value in settings.items():
                out(f"  export {name}={value}")
            out(
                "Or, inside the repository you try it in, keep the sites in .jiraflow.toml and "
                "the tokens in the OS keyring:"
            )
            for command in commands:
                out(f"  {command}")
            out(
                "Issues PROJ-1 to PROJ-12, OPS-1 and OPS-2 are waiting in Jira, and the "
                f"repository {bitbucket.repository_name} (default reviewers alice and bob) in "
                "Bitbucket. Ctrl-C stops the sandbox."
            )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        bitbucket.stop()
        jira.stop()


def _settings(jira: Any, bitbucket: Any) -> dict[str, str]:
    """The JIRAFLOW_* variables that point jiraflow at the sandboxes."""
    me = jira.me
    return {
        "JIRAFLOW_JIRA_URL": jira.url,
        "JIRAFLOW_JIRA_USER": me["email"] if jira.flavour == "cloud" else me["name"],
        "JIRAFLOW_JIRA_TOKEN": jira.token(),
        "JIRAFLOW_BITBUCKET_URL": bitbucket.api_url,
        "JIRAFLOW_BITBUCKET_USER": bitbucket.login(),
        "JIRAFLOW_BITBUCKET_TOKEN": bitbucket.token(),
        "JIRAFLOW_BITBUCKET_REPOSITORY": bitbucket.repository_name,
    }


def _commands(settings: dict[str, str]) -> list[str]:
    """The same settings as `jiraflow config set` and `auth login` commands: the sites and
    logins in .jiraflow.toml, the tokens in the OS keyring (never in a file)."""
    import shlex

    lines = []
    for name, value in settings.items():
        if not name.endswith("_TOKEN"):
            key = name.removeprefix("JIRAFLOW_").lower().replace("_", ".", 1)
            lines.append(f"jiraflow config set {key} {shlex.quote(value)}")
    for service in ("jira", "bitbucket"):
        token = shlex.quote(settings[f"JIRAFLOW_{service.upper()}_TOKEN"])
        lines.append(f"echo {token} | jiraflow auth login {service} --token-stdin")
    return lines
