"""`jiraflow sandbox serve`: the built-in Jira simulator, for trying jiraflow without an
account (the tests and `jiraflow demo` use the same one)."""

from __future__ import annotations

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState

pass_state = click.make_pass_decorator(AppState)


@click.group(context_settings=CONTEXT_SETTINGS)
def sandbox() -> None:
    """Local simulators of Jira (Cloud or Data Center) on 127.0.0.1."""


@sandbox.command(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port (default: any free one)."
)
@click.option(
    "--kind",
    type=click.Choice(["cloud", "datacenter"]),
    default="cloud",
    show_default=True,
    help="Which Jira to simulate.",
)
@pass_state
def serve(state: AppState, port: int, kind: str) -> None:
    """Serve a sandbox Jira until interrupted, and print how to point jiraflow at it."""
    import time

    from jiraflow.errors import UsageError
    from jiraflow.sandbox.jira import JiraSandbox

    sb = JiraSandbox(kind)
    try:
        url = sb.start(port=port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror})", "Try another --port."
        ) from None
    me = sb.me
    login = me["email"] if kind == "cloud" else me["name"]
    if state.json:
        state.renderer.data({"url": url, "kind": kind, "user": login, "token": sb.token()})
    else:
        out = state.renderer.line
        out(f"Sandbox Jira ({kind}) at {url}; these are sandbox credentials, not secrets:")
        out(f"  export JIRAFLOW_JIRA_URL={url}")
        out(f"  export JIRAFLOW_JIRA_USER={login}")
        out(f"  export JIRAFLOW_JIRA_TOKEN={sb.token()}")
        out("Issues PROJ-1 to PROJ-12, OPS-1 and OPS-2 are waiting. Ctrl-C stops the sandbox.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
