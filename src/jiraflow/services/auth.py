"""`auth login|status|logout`: the site a login is for, the token checked with one request
before it is stored in the OS keyring, who is logged in where. The CLI asks the questions
and renders; tokens are never printed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.credentials import Credential
    from jiraflow.services.session import Session


def bitbucket_site(session: Session) -> Any:
    """The Bitbucket repository of the current directory (for its API address, and to check
    an access token against), or None outside one."""
    from jiraflow.config import app_dir
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import Forge

    try:
        forge = Forge(session.flow(), app_dir=app_dir())
        return forge.repository if forge.enabled else None
    except JiraflowError:
        return None


def check_token(credential: Credential, cfg: Any, site: Any) -> tuple[str, str]:
    """The kind of site and who the token is (one request); a refused token raises
    AuthError (exit 4)."""
    if credential.service == "bitbucket":
        return _check_bitbucket(credential, cfg, site)
    return _check_jira(credential, cfg)


def _check_jira(credential: Any, cfg: Any) -> tuple[str, str]:
    from jiraflow.jira.client import JiraClient

    client = JiraClient(credential, kind=cfg.jira.kind)
    me = client.myself(fresh=True)
    return client.kind, me["display"]


def _check_bitbucket(credential: Any, cfg: Any, site: Any) -> tuple[str, str]:
    """Verify with one request: /user on Cloud, the user on Data Center; a Cloud access
    token (which has no user) against the repository it was made for."""
    import os

    from jiraflow import store
    from jiraflow.bitbucket import client_for
    from jiraflow.bitbucket.cloud import ACCESS_TOKEN_USER
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
    # Data Center: the slug found is cached for `pr approve`
    cache = None if repo.cloud else store.SiteCache(os.path.join(store.cache_dir(), "sites.json"))
    me = client_for(credential, repo, cache=cache).verify()
    return repo.kind, me.display


def store(
    session: Session, credential: Credential, kind: str, *, record: str | None, user_path: str
) -> None:
    """Keep the token in the OS keyring; `record`: the config key (jira.url, bitbucket.url)
    to write the site to in the user's config. A Jira login starts filling the issue cache."""
    from jiraflow import credentials
    from jiraflow.config import app_dir

    credentials.store(credential, kind, app_dir=app_dir())
    if record:
        from jiraflow import config as config_mod

        config_mod.write_key(user_path, record, credential.url, private=True)
    if credential.service != "bitbucket":
        _fill_issue_cache(session, credential.url)


def _fill_issue_cache(session: Session, url: str) -> None:
    """Start filling the cache of issues TAB offers (in the background: the login does not
    wait for it, nor fail by it), so the first TAB after the login has keys. Only inside a
    repository that uses the site."""
    from jiraflow.errors import JiraflowError
    from jiraflow.jira import issue_cache

    try:
        flow = session.flow()  # read again: the login may have recorded jira.url
    except JiraflowError:
        return
    issue_cache.refresh_after(flow.repo.root, flow.config, url=url)


def accounts(session: Session, user_path: str) -> list[dict[str, Any]]:
    """`auth status`: each stored and each configured login, with where its token comes
    from (or the problem finding it)."""
    from jiraflow import credentials
    from jiraflow.config import app_dir
    from jiraflow.errors import JiraflowError
    from jiraflow.jira.tracker import configured_sites
    from jiraflow.services import settings

    cfg = settings.configured(session, user_path)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for account in credentials.accounts(app_dir()):
        rows[(account["service"], account["url"])] = {**account, "configured": False}
    configured_ = [("jira", s.url, s.user, s.kind) for s in configured_sites(cfg)]
    site = bitbucket_site(session)
    if site is not None:
        configured_.append(("bitbucket", site.api, cfg.bitbucket.user, site.kind))
    for service, url, user, kind in configured_:
        row = rows.setdefault((service, url), {"service": service, "url": url, "user": user})
        row["configured"] = True
        row["user"] = user or row.get("user", "")
        row["kind"] = kind or row.get("kind", "")
    for row in rows.values():
        try:
            found = credentials.lookup(
                row["service"], row["url"], row.get("user", ""), app_dir=app_dir()
            )
            row["user"], row["source"] = found.user, found.source
        except JiraflowError as exc:
            row["source"] = None
            row["problem"] = exc.message
    return list(rows.values())


def logout_target(
    session: Session, service: str, url: str | None, user_path: str
) -> tuple[str, str]:
    """The site and login `auth logout` removes the token of."""
    from jiraflow import credentials
    from jiraflow.config import app_dir
    from jiraflow.credentials import site_url
    from jiraflow.errors import UsageError
    from jiraflow.services import settings

    cfg = settings.configured(session, user_path)
    known = credentials.accounts(app_dir(), service)
    section = cfg.bitbucket if service == "bitbucket" else cfg.jira
    if url is None and service == "bitbucket":
        site = bitbucket_site(session)
        url = section.url or (site.api if site is not None else None)
    if url is None:
        url = section.url or (known[0]["url"] if len(known) == 1 else None)
    if not url:
        raise UsageError("which site?", "Name it with --url (`jiraflow auth status` lists them).")
    url = site_url(service, url, "--url")
    user = next((a["user"] for a in known if a["url"] == url), section.user)
    if not user:
        raise UsageError(f"no login for {url} is recorded", "`jiraflow auth status` lists them.")
    return url, user


def logout(service: str, url: str, user: str) -> bool:
    """Remove the token; whether there was one."""
    from jiraflow import credentials
    from jiraflow.config import app_dir

    return credentials.delete(service, url, user, app_dir=app_dir())


def ready_to_store(service: str) -> None:
    """Fail before any question is asked when the token could not be stored: a broken
    accounts file, no usable keyring."""
    from jiraflow import credentials
    from jiraflow.config import app_dir

    credentials.accounts(app_dir())
    credentials.keyring_backend(service)
