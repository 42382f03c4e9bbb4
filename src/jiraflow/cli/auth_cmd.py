"""`jiraflow auth login|status|logout`: tokens in the OS keyring, checked before they are
stored, never printed."""

from __future__ import annotations

import sys
from typing import Any

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState, remote

pass_state = click.make_pass_decorator(AppState)
SERVICES = click.Choice(["jira"])


@click.group(context_settings=CONTEXT_SETTINGS)
def auth() -> None:
    """Log in to Jira (token kept in the OS keyring), see who you are, log out."""


def _configured(state: AppState) -> Any:
    """The merged config, inside a repository or not."""
    from jiraflow import config as config_mod
    from jiraflow.cli import user_config_path
    from jiraflow.errors import RepoStateError

    try:
        return state.flow().config
    except RepoStateError:
        return config_mod.load(user_path=user_config_path(), repo_root=None)


@auth.command(context_settings=CONTEXT_SETTINGS)
@click.argument("service", type=SERVICES, default="jira")
@click.option("--url", metavar="U", help="The site, e.g. https://acme.atlassian.net.")
@click.option("--user", metavar="U", help="E-mail (Cloud) or user name (Data Center).")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input.")
@pass_state
def login(
    state: AppState, service: str, url: str | None, user: str | None, token_stdin: bool
) -> None:
    """Store a token for SERVICE after checking it with the site.

    Jira Cloud: your e-mail and an API token (id.atlassian.com, Security, API tokens).
    Jira Data Center: your user name and a personal access token (Profile, Personal
    access tokens).
    """
    from jiraflow import credentials
    from jiraflow.credentials import Credential, normalise_url
    from jiraflow.errors import UsageError
    from jiraflow.jira_api import JiraClient

    cfg = _configured(state)
    url, user = url or cfg.jira.url, user or cfg.jira.user
    if token_stdin and not (url and user):
        # stdin holds the token: never read a URL or a login from it
        raise UsageError(
            "--token-stdin needs the site and the login from options or config",
            "Add --url URL --user LOGIN.",
        )
    url = normalise_url(url or click.prompt("Jira site URL"), "--url")
    user = user or click.prompt("Login (e-mail on Cloud, name on Data Center)")
    credentials.accounts(remote.app_dir())  # a broken accounts file fails before the prompt
    credentials.keyring_backend(service)  # no usable keyring: say so before asking for the token
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = click.prompt("API token", hide_input=True).strip()
    if not token:
        raise UsageError("the token is empty", "Paste the token, or pipe it with --token-stdin.")
    credential = Credential(service, url, user, token, "the token given")
    client = JiraClient(credential, kind=cfg.jira.kind)
    me = client.myself(fresh=True)  # a refused token raises AuthError (exit 4) and is not stored
    kind = client.kind
    if state.dry_run:
        state.renderer.plan([f"store the token for {user} at {url} in the OS keyring"])
        return
    credentials.store(credential, kind, app_dir=remote.app_dir())
    state.renderer.summary(
        [f"logged in to {url} ({kind}) as {me['display'] or user}; the token is in the OS keyring"]
    )


@auth.command("status", context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """Who is logged in where, and where each token comes from (never the token)."""
    from jiraflow import credentials
    from jiraflow.errors import JiraflowError
    from jiraflow.tracker import configured_sites

    cfg = _configured(state)
    rows: dict[str, dict[str, Any]] = {}
    for account in credentials.accounts(remote.app_dir(), "jira"):
        rows[account["url"]] = {**account, "configured": False}
    for site in configured_sites(cfg):
        row = rows.setdefault(site.url, {"service": "jira", "url": site.url, "user": site.user})
        row["configured"] = True
        row["user"] = site.user or row.get("user", "")
        row["kind"] = site.kind or row.get("kind", "")
    for row in rows.values():
        try:
            found = credentials.lookup(
                "jira", row["url"], row.get("user", ""), app_dir=remote.app_dir()
            )
            row["user"], row["source"] = found.user, found.source
        except JiraflowError as exc:
            row["source"] = None
            row["problem"] = exc.message
    result = list(rows.values())
    if state.json:
        state.renderer.data(result)
        return
    if not result:
        state.renderer.line("Not logged in anywhere. Run `jiraflow auth login jira --url URL`.")
        return
    for row in result:
        where = row["url"] + (" (configured here)" if row["configured"] else "")
        who = row.get("user") or "?"
        source = row["source"] or f"no token: {row['problem']}"
        state.renderer.line(f"jira  {where}\n      user: {who}, token: {source}")


@auth.command(context_settings=CONTEXT_SETTINGS)
@click.argument("service", type=SERVICES, default="jira")
@click.option("--url", metavar="U", help="The site to log out of (default: the configured one).")
@pass_state
def logout(state: AppState, service: str, url: str | None) -> None:
    """Remove the stored token for SERVICE from the OS keyring."""
    from jiraflow import credentials
    from jiraflow.credentials import normalise_url
    from jiraflow.errors import UsageError

    cfg = _configured(state)
    known = credentials.accounts(remote.app_dir(), service)
    if url is None:
        url = cfg.jira.url or (known[0]["url"] if len(known) == 1 else None)
    if not url:
        raise UsageError("which site?", "Name it with --url (`jiraflow auth status` lists them).")
    url = normalise_url(url, "--url")
    user = next((a["user"] for a in known if a["url"] == url), cfg.jira.user)
    if not user:
        raise UsageError(f"no login for {url} is recorded", "`jiraflow auth status` lists them.")
    if state.dry_run:
        state.renderer.plan([f"remove the token for {user} at {url} from the OS keyring"])
        return
    if credentials.delete(service, url, user, app_dir=remote.app_dir()):
        state.renderer.summary([f"logged out of {url} ({user}); the token is removed"])
    else:
        state.renderer.line(f"There was no stored token for {user} at {url}.")
