"""`jiraflow auth login|status|logout`: tokens in the OS keyring, checked before they are
stored, never printed."""

from __future__ import annotations

import sys

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

pass_state = click.make_pass_decorator(AppState)
SERVICES = click.Choice(["jira", "bitbucket"])


@click.group(context_settings=CONTEXT_SETTINGS)
def auth() -> None:
    """Log in to Jira or Bitbucket (tokens kept in the OS keyring), see who you are, log out."""


@auth.command(context_settings=CONTEXT_SETTINGS)
@click.argument("service", type=SERVICES, default="jira")
@click.option("--url", metavar="U", help="The site, e.g. https://acme.atlassian.net.")
@click.option("--user", metavar="U", help="E-mail (Cloud) or user name (Data Center).")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input.")
@pass_state
def login(
    state: AppState, service: str, url: str | None, user: str | None, token_stdin: bool
) -> None:
    """Store a token for SERVICE (jira or bitbucket) after checking it with the site.

    \b
    Jira Cloud: your e-mail and an API token (id.atlassian.com, Security, API tokens).
    Jira Data Center: your user name and a personal access token.
    Bitbucket Cloud: your Atlassian e-mail and an API token with Bitbucket scopes, or
      --user x-token-auth and a repository/project/workspace access token.
      (App passwords stopped working on 2026-07-28.)
    Bitbucket Data Center: your user name and an HTTP access token.
    """
    from jiraflow import credentials
    from jiraflow.cli.app import user_config_path
    from jiraflow.credentials import Credential
    from jiraflow.errors import UsageError
    from jiraflow.services import auth as core
    from jiraflow.services.settings import configured
    from jiraflow.urls import normalise_url

    user_path = user_config_path()
    cfg = configured(state, user_path)
    bitbucket = service == "bitbucket"
    site = core.bitbucket_site(state) if bitbucket else None
    section = cfg.bitbucket if bitbucket else cfg.jira
    given_url = url
    url = url or section.url or (site.api if site is not None else "")
    user = user or section.user
    if token_stdin and not ((url or bitbucket) and user):
        # stdin holds the token: never read a URL or a login from it
        raise UsageError(
            "--token-stdin needs the site and the login from options or config",
            "Add --url URL --user LOGIN.",
        )
    if bitbucket:
        from jiraflow.urls import CLOUD_API

        url = credentials.site_url(service, url or CLOUD_API, "--url")
    else:
        url = normalise_url(url or _ask(state, "Jira site URL", service), "--url")
    user = user or _ask(state, _login_prompt(service, url), service)
    core.ready_to_store(service)  # a broken accounts file, no keyring: before the prompt
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        # the site is named: a repository's config may have chosen it
        token = _ask(state, f"API token for {user} at {url}", service, hide_input=True).strip()
    if not token:
        raise UsageError("the token is empty", "Paste the token, or pipe it with --token-stdin.")
    credential = Credential(service, url, user, token, "the token given")
    # a refused token raises AuthError (exit 4) and is not stored
    kind, display = core.check_token(credential, cfg, site)
    # the site named here (or asked for) becomes the configured one when no layer names a
    # site yet; a Bitbucket site found from the remote counts as named
    if bitbucket:
        record = given_url is not None and not section.url and site is None
    else:
        record = not section.url and not cfg.jira.sites
    key = f"{service}.url"
    if state.dry_run:
        state.renderer.plan(
            [f"store the token for {user} at {url} in the OS keyring"]
            + ([f"write {user_path}: {key} = {url}"] if record else [])
        )
        return
    core.store(state, credential, kind, record=key if record else None, user_path=user_path)
    state.renderer.note(
        service=service, url=url, user=user, kind=kind, recorded=user_path if record else None
    )
    state.renderer.summary(
        [f"logged in to {url} ({kind}) as {display or user}; the token is in the OS keyring"]
        + ([f"recorded {key} = {url} in {user_path}"] if record else [])
    )


def _ask(state: AppState, question: str, service: str, *, hide_input: bool = False) -> str:
    """click.prompt, where the end of a standard input that is no terminal (`</dev/null`,
    a closed one, a pipe that said too little) is a usage error saying how to give every
    answer as an option; Ctrl-C at a terminal stays an interruption."""
    from jiraflow.errors import UsageError

    try:
        return str(click.prompt(question, hide_input=hide_input, err=True))
    except click.exceptions.Abort:
        if state.terminal.stdin_isatty:
            raise
        raise UsageError(
            f"no answer to '{question}': standard input ended",
            "Run it at a terminal, or give every answer: "
            f"`jiraflow auth login {service} --url URL --user LOGIN --token-stdin <token-file`.",
        ) from None


def _login_prompt(service: str, url: str) -> str:
    if service == "jira":
        return "Login (e-mail on Cloud, name on Data Center)"
    from jiraflow.bitbucket.repository import CLOUD, kind_of_url

    if kind_of_url(url) == CLOUD:
        return "Atlassian account e-mail (x-token-auth for an access token)"
    return "User name"


@auth.command("status", context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """Who is logged in where, and where each token comes from (never the token)."""
    from jiraflow.cli.app import user_config_path
    from jiraflow.services import auth as core

    result = core.accounts(state, user_config_path())
    if state.json:
        state.renderer.data(result)
        return
    if not result:
        state.renderer.line(
            "Not logged in anywhere. Run `jiraflow auth login jira --url URL` "
            "(or `jiraflow auth login bitbucket`)."
        )
        return
    for row in result:
        where = row["url"] + (" (configured here)" if row["configured"] else "")
        who = row.get("user") or "?"
        source = row["source"] or f"no token: {row['problem']}"
        service = row["service"]
        state.renderer.line(
            f"{service}  {where}\n  {' ' * len(service)}user: {who}, token: {source}"
        )


@auth.command(context_settings=CONTEXT_SETTINGS)
@click.argument("service", type=SERVICES, default="jira")
@click.option("--url", metavar="U", help="The site to log out of (default: the configured one).")
@pass_state
def logout(state: AppState, service: str, url: str | None) -> None:
    """Remove the stored token for SERVICE from the OS keyring."""
    from jiraflow.cli.app import user_config_path
    from jiraflow.services import auth as core

    url, user = core.logout_target(state, service, url, user_config_path())
    if state.dry_run:
        state.renderer.plan([f"remove the token for {user} at {url} from the OS keyring"])
        return
    removed = core.logout(service, url, user)
    state.renderer.note(service=service, url=url, user=user, removed=removed)
    if removed:
        state.renderer.summary([f"logged out of {url} ({user}); the token is removed"])
    else:
        state.renderer.line(f"There was no stored token for {user} at {url}.")
