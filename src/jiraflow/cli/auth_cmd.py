"""`jiraflow auth login|status|logout`: tokens in the OS keyring, checked before they are
stored, never printed."""

from __future__ import annotations

import sys
from typing import Any

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState
from jiraflow.services import remote

pass_state = click.make_pass_decorator(AppState)
SERVICES = click.Choice(["jira", "bitbucket"])


@click.group(context_settings=CONTEXT_SETTINGS)
def auth() -> None:
    """Log in to Jira or Bitbucket (tokens kept in the OS keyring), see who you are, log out."""


def _configured(state: AppState) -> Any:
    """The merged config, inside a repository or not."""
    from jiraflow import config as config_mod
    from jiraflow.cli import user_config_path
    from jiraflow.errors import RepoStateError

    try:
        return state.flow().config
    except RepoStateError:
        return config_mod.load(user_path=user_config_path(), repo_root=None)


def _bitbucket_site(state: AppState, cfg: Any) -> Any:
    """The Bitbucket repository of the current directory (for its API address, and to check
    an access token against), or None outside one."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import Forge

    try:
        forge = Forge(state.flow(), app_dir=remote.app_dir())
        return forge.repository if forge.enabled else None
    except JiraflowError:
        return None


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
    from jiraflow.credentials import Credential
    from jiraflow.errors import UsageError

    cfg = _configured(state)
    bitbucket = service == "bitbucket"
    site = _bitbucket_site(state, cfg) if bitbucket else None
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
        from jiraflow.bitbucket.repository import CLOUD_API

        url = credentials.site_url(service, url or CLOUD_API, "--url")
    else:
        url = credentials.normalise_url(url or _ask("Jira site URL", service), "--url")
    user = user or _ask(_login_prompt(service, url), service)
    credentials.accounts(remote.app_dir())  # a broken accounts file fails before the prompt
    credentials.keyring_backend(service)  # no usable keyring: say so before asking for the token
    if token_stdin:
        token = sys.stdin.readline().strip()
    else:
        # the site is named: a repository's config may have chosen it
        token = _ask(f"API token for {user} at {url}", service, hide_input=True).strip()
    if not token:
        raise UsageError("the token is empty", "Paste the token, or pipe it with --token-stdin.")
    credential = Credential(service, url, user, token, "the token given")
    # a refused token raises AuthError (exit 4) and is not stored
    if bitbucket:
        kind, display = _check_bitbucket(credential, cfg, site)
    else:
        kind, display = _check_jira(credential, cfg)
    # the site named here (or asked for) becomes the configured one when no layer names a
    # site yet; a Bitbucket site found from the remote counts as named
    if bitbucket:
        record = given_url is not None and not section.url and site is None
    else:
        record = not section.url and not cfg.jira.sites
    from jiraflow.cli import user_config_path

    user_path = user_config_path()
    key = f"{service}.url"
    if state.dry_run:
        state.renderer.plan(
            [f"store the token for {user} at {url} in the OS keyring"]
            + ([f"write {user_path}: {key} = {url}"] if record else [])
        )
        return
    credentials.store(credential, kind, app_dir=remote.app_dir())
    if record:
        from jiraflow import config as config_mod

        config_mod.write_key(user_path, key, url, private=True)
    if not bitbucket:
        _fill_issue_cache(state, url)
    state.renderer.note(
        service=service, url=url, user=user, kind=kind, recorded=user_path if record else None
    )
    state.renderer.summary(
        [f"logged in to {url} ({kind}) as {display or user}; the token is in the OS keyring"]
        + ([f"recorded {key} = {url} in {user_path}"] if record else [])
    )


def _fill_issue_cache(state: AppState, url: str) -> None:
    """Start filling the cache of issues TAB offers (in the background: the login does not
    wait for it, nor fail by it), so the first TAB after the login has keys. Only inside a
    repository that uses the site."""
    from jiraflow.errors import JiraflowError
    from jiraflow.jira import issue_cache

    try:
        flow = state.flow()  # read again: the login may have recorded jira.url
    except JiraflowError:
        return
    issue_cache.refresh_after(flow.repo.root, flow.config, url=url)


def _ask(question: str, service: str, *, hide_input: bool = False) -> str:
    """click.prompt, where the end of a standard input that is no terminal (`</dev/null`,
    a closed one, a pipe that said too little) is a usage error saying how to give every
    answer as an option; Ctrl-C at a terminal stays an interruption."""
    from jiraflow.errors import UsageError

    try:
        return str(click.prompt(question, hide_input=hide_input, err=True))
    except click.exceptions.Abort:
        if sys.stdin.isatty():
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


def _check_jira(credential: Any, cfg: Any) -> tuple[str, str]:
    from jiraflow.jira.client import JiraClient

    client = JiraClient(credential, kind=cfg.jira.kind)
    me = client.myself(fresh=True)
    return client.kind, me["display"]


def _check_bitbucket(credential: Any, cfg: Any, site: Any) -> tuple[str, str]:
    """Verify with one request: /user on Cloud, the user on Data Center; a Cloud access
    token (which has no user) against the repository it was made for."""
    from jiraflow.bitbucket.client import ACCESS_TOKEN_USER, BitbucketClient
    from jiraflow.bitbucket.repository import Repository, kind_of_url
    from jiraflow.errors import UsageError

    kind = cfg.bitbucket.kind or kind_of_url(credential.url)
    if site is not None and site.api == credential.url:
        repo = site
    else:
        repo = Repository(kind, credential.url, credential.url, "", "")
    if credential.user == ACCESS_TOKEN_USER and not repo.slug:
        raise UsageError(
            "an access token can only be checked against its repository",
            "Run this inside a clone of that repository, or set bitbucket.repository.",
        )
    me = BitbucketClient(credential, repo).verify()
    return repo.kind, me.display


@auth.command("status", context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """Who is logged in where, and where each token comes from (never the token)."""
    from jiraflow import credentials
    from jiraflow.errors import JiraflowError
    from jiraflow.jira.tracker import configured_sites

    cfg = _configured(state)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for account in credentials.accounts(remote.app_dir()):
        rows[(account["service"], account["url"])] = {**account, "configured": False}
    configured = [("jira", s.url, s.user, s.kind) for s in configured_sites(cfg)]
    site = _bitbucket_site(state, cfg)
    if site is not None:
        configured.append(("bitbucket", site.api, cfg.bitbucket.user, site.kind))
    for service, url, user, kind in configured:
        row = rows.setdefault((service, url), {"service": service, "url": url, "user": user})
        row["configured"] = True
        row["user"] = user or row.get("user", "")
        row["kind"] = kind or row.get("kind", "")
    for row in rows.values():
        try:
            found = credentials.lookup(
                row["service"], row["url"], row.get("user", ""), app_dir=remote.app_dir()
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
    from jiraflow import credentials
    from jiraflow.credentials import site_url
    from jiraflow.errors import UsageError

    cfg = _configured(state)
    known = credentials.accounts(remote.app_dir(), service)
    section = cfg.bitbucket if service == "bitbucket" else cfg.jira
    if url is None and service == "bitbucket":
        site = _bitbucket_site(state, cfg)
        url = section.url or (site.api if site is not None else None)
    if url is None:
        url = section.url or (known[0]["url"] if len(known) == 1 else None)
    if not url:
        raise UsageError("which site?", "Name it with --url (`jiraflow auth status` lists them).")
    url = site_url(service, url, "--url")
    user = next((a["user"] for a in known if a["url"] == url), section.user)
    if not user:
        raise UsageError(f"no login for {url} is recorded", "`jiraflow auth status` lists them.")
    if state.dry_run:
        state.renderer.plan([f"remove the token for {user} at {url} from the OS keyring"])
        return
    removed = credentials.delete(service, url, user, app_dir=remote.app_dir())
    state.renderer.note(service=service, url=url, user=user, removed=removed)
    if removed:
        state.renderer.summary([f"logged out of {url} ({user}); the token is removed"])
    else:
        state.renderer.line(f"There was no stored token for {user} at {url}.")
