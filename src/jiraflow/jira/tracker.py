"""Keeping Jira in step with Gitflow: which site owns a key, the issues (read, cached, read
ahead) and a client per site. The remote actions that change Jira, and the outbox that holds
what could not be delivered, are jiraflow.outbox: they are delivered through a Tracker.

Reads that do not depend on each other go out together (see concurrency.py): `start` asks who you
are while it reads the issue, and `read_ahead` starts reading an issue that a move will need
while other work goes on; the delivery takes that answer instead of asking again. Writes
stay in order, one at a time per issue.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jiraflow import store
from jiraflow.concurrency import Ahead
from jiraflow.config import Config
from jiraflow.errors import ConfigError, JiraflowError
from jiraflow.jira.client import IssueNotFound
from jiraflow.jira.issues import Issue
from jiraflow.keys import project_of

SUMMARY_CACHE = "issues.json"
SUMMARY_CACHE_SHAPE = {str: {"summary": str, "type": str, "site": str}}


@dataclass
class Lookup:
    """What Jira has of a set of keys: the issues by key, the site of each, and the keys
    no configured site has."""

    issues: dict[str, Issue] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)  # key -> site URL
    missing: list[str] = field(default_factory=list)

    def url(self, key: str) -> str:
        """The issue's page, or "" when Jira does not have it."""
        site = self.sites.get(key)
        return f"{site}/browse/{key}" if site else ""


@dataclass
class Verdicts:
    """What Jira says of the keys a check names."""

    valid: set[str] = field(default_factory=set)  # issues (meeting the condition, if any)
    failing: set[str] = field(default_factory=set)  # issues that do not meet the condition
    missing: list[str] = field(default_factory=list)  # no configured site has them
    sites: dict[str, str] = field(default_factory=dict)  # key -> site URL
    # the issues found, with their transitions, when verify was asked for them (smart commits)
    issues: dict[str, Issue] = field(default_factory=dict)


@dataclass
class Site:
    url: str
    user: str
    kind: str
    projects: list[str]


def configured_sites(config: Config) -> list[Site]:
    """[[jira.sites]] when given, else the one site of jira.url; [] when Jira is off."""
    from jiraflow.urls import normalise_url

    jira = config.jira
    rows = jira.site_rows()
    sites = []
    for i, row in enumerate(rows):
        where = f"jira.sites[{i}].url" if jira.sites else "jira.url"
        sites.append(
            Site(
                normalise_url(row["url"], where),
                row.get("user") or jira.user,
                row.get("kind") or jira.kind,
                list(row.get("projects") or (jira.projects if not jira.sites else [])),
            )
        )
    return sites


class Tracker:
    """Jira for one repository: sites, clients and the summary cache (and where the outbox is:
    state_dir)."""

    def __init__(
        self,
        config: Config,
        *,
        state_dir: str,
        app_dir: str,
        cache_dir: str | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.state_dir = state_dir  # .git/jiraflow
        self.app_dir = app_dir
        self.cache_dir = cache_dir if cache_dir is not None else store.cache_dir(environ)
        self.environ = os.environ if environ is None else environ
        self.sites = configured_sites(config)
        self._clients: dict[str, Any] = {}
        self._sleep = sleep
        self.progress: Callable[[str, int, int], None] | None = None  # (what, done, total)
        self._looked_up: tuple[set[str], bool, Lookup] | None = None  # the last lookup
        self._ahead: dict[str, Ahead[tuple[Issue, Site]]] = {}  # issues read ahead, by key
        self.dry_run = False  # a tracker for a dry run reads nothing ahead

    @property
    def enabled(self) -> bool:
        return bool(self.sites)

    @property
    def projects(self) -> list[str]:
        return sorted({p for s in self.sites for p in s.projects})

    def accepts(self, key: str) -> bool:
        """Whether a key may be Jira's: a site lists its project, or some site lists none."""
        return any(not s.projects or project_of(key) in s.projects for s in self.sites)

    # -- sites and clients -------------------------------------------------------------------
    def sites_for(self, key: str) -> list[Site]:
        """The site owning the key's project; with no mapping, every site in order."""
        owners = [s for s in self.sites if project_of(key) in s.projects]
        return owners or [s for s in self.sites if not s.projects] or self.sites

    def site(self, url: str) -> Site:
        for site in self.sites:
            if site.url == url:
                return site
        raise ConfigError(
            f"{url} is no longer a configured Jira site",
            "Add it back to the config, or forget the queue with `jiraflow sync --drop`.",
        )

    def client(self, site: Site) -> Any:
        if site.url not in self._clients:
            from jiraflow.credentials import lookup
            from jiraflow.jira.client import JiraClient
            from jiraflow.store import SiteCache

            credential = lookup(
                "jira", site.url, site.user, app_dir=self.app_dir, environ=self.environ
            )
            self._clients[site.url] = JiraClient(
                credential,
                kind=site.kind,
                timeout=float(self.config.jira.timeout),
                cache=SiteCache(os.path.join(self.cache_dir, "sites.json")),
                sleep=self._sleep,
            )
        return self._clients[site.url]

    # -- issues --------------------------------------------------------------------------------
    def fetch(self, key: str, *, transitions: bool = False) -> tuple[Issue, Site]:
        """The issue from the site that has it, remembered in the summary cache. An issue being
        read ahead comes from that read (with its transitions)."""
        ahead = self._ahead.get(key)
        issue, site = ahead.result() if ahead is not None else self._find(key, transitions)
        self.remember((issue, site))
        return issue, site

    def fetch_to_start(self, key: str) -> tuple[Issue, Site]:
        """The issue `start` needs (with its transitions), and meanwhile who you are, when
        start may assign the issue: two reads at once. Your account is cached for good, so
        this is a second request only the first time."""
        candidates = self.sites_for(key)
        if self.config.jira.assign == "never" or len(candidates) != 1:
            return self.fetch(key, transitions=True)
        me = Ahead(self.client(candidates[0]).myself)
        try:
            return self.fetch(key, transitions=True)
        finally:
            with contextlib.suppress(JiraflowError):  # start_actions asks again, and says why
                me.result()

    def read_ahead(self, key: str) -> None:
        """Start reading the issue with its transitions in the background: a move delivered
        later (after the git part) takes this answer instead of waiting a round trip for it,
        and a read that failed is simply made again then. The clients are made here, so that
        a keyring is only ever asked from the calling thread."""
        if self.dry_run or key in self._ahead or not self.sites_for(key):
            return
        try:
            for site in self.sites_for(key):
                self.client(site)
        except JiraflowError:
            return  # the delivery meets it again, and says so
        self._ahead[key] = Ahead(partial(self._find, key, True))

    def taken(self, key: str, site_url: str) -> Issue | None:
        """The issue read ahead from that site (once), or None: not read ahead, or failed."""
        ahead = self._ahead.pop(key, None)
        if ahead is None:
            return None
        try:
            issue, site = ahead.result()
        except JiraflowError:
            return None
        return issue if site.url == site_url else None

    def stale(self, key: str) -> None:
        """Drop the issue read ahead: a write to it makes a read from before the write stale."""
        self._ahead.pop(key, None)

    def _find(self, key: str, transitions: bool) -> tuple[Issue, Site]:
        """The issue from the first candidate site that has it (HTTP only: thread-safe once
        the clients are made)."""
        candidates = self.sites_for(key)
        if not candidates:
            raise ConfigError(
                f"{key}: no Jira site is configured",
                "Set jira.url, or drop it: `jiraflow sync --drop`.",
            )
        for i, site in enumerate(candidates):
            try:
                issue = self.client(site).issue(key, transitions=transitions)
            except IssueNotFound:
                if i == len(candidates) - 1:
                    raise
                continue
            return issue, site
        raise AssertionError("unreachable")  # pragma: no cover

    def lookup(self, keys: Iterable[str], *, transitions: bool = False) -> Lookup:
        """Many issues at once: one search per 100 keys on each site that may have them
        (a key's own site first; keys one site lacks are asked of the next). The next
        lookup of keys this one covered is answered from it, once: a release finish searches
        for its notes and its Jira actions once. `forget` drops it (Jira changed since)."""
        wanted = list(dict.fromkeys(keys))
        if self._looked_up is not None:  # the notes of a finish, then its Jira actions
            asked, with_transitions, known = self._looked_up
            self._looked_up = None  # answered once: what follows may have changed Jira
            if set(wanted) <= asked and (with_transitions or not transitions):
                return Lookup(
                    {k: known.issues[k] for k in wanted if k in known.issues},
                    {k: known.sites[k] for k in wanted if k in known.sites},
                    [k for k in wanted if k in known.missing],
                )
        result = Lookup()
        pending = list(wanted)
        for site in self.sites:
            ask = [key for key in pending if site in self.sites_for(key)]
            if not ask:
                continue
            found, _ = self.client(site).search_keys(ask, transitions=transitions)
            for issue in found:
                result.issues[issue.key] = issue
                result.sites[issue.key] = site.url
            self.remember(*((issue, site) for issue in found))
            pending = [key for key in pending if key not in result.issues]
        result.missing = pending
        self._looked_up = (set(wanted), transitions, result)
        return result

    def verify(self, keys: Iterable[str], jql: str = "", *, transitions: bool = False) -> Verdicts:
        """Which keys are issues (that meet the JQL condition, when given): one search per
        site for up to 100 keys, `key in (...) AND (jql)`; only keys it leaves out are asked
        again without the condition, to tell an issue that fails it from no issue at all.
        Sites are tried in order until every key is resolved. A condition Jira refuses is a
        ConfigError naming check.jql. `transitions`: the same searches bring the issues'
        transitions now (verdicts.issues), for smart commits."""
        from jiraflow.jira.client import Refused

        verdicts = Verdicts()
        pending = list(dict.fromkeys(keys))
        progress = partial(self.progress, "jira: checking keys") if self.progress else None
        for site in self.sites:
            ask = [key for key in pending if site in self.sites_for(key)]
            if not ask:
                continue
            client = self.client(site)
            try:
                found, rest = client.search_keys(
                    ask, where=jql, progress=progress, transitions=transitions
                )
            except Refused as exc:
                if not jql or exc.status != 400:
                    raise
                raise ConfigError(
                    f"check.jql: {site.url} refused the condition ({exc.message})",
                    "Fix the JQL (try it in Jira's issue search), or empty check.jql.",
                ) from None
            verdicts.valid.update(issue.key for issue in found)
            if jql and rest:
                failing, _ = client.search_keys(rest, transitions=transitions)
                verdicts.failing.update(issue.key for issue in failing)
                found += failing
            verdicts.sites.update((issue.key, site.url) for issue in found)
            if transitions:
                verdicts.issues.update((issue.key, issue) for issue in found)
            pending = [key for key in pending if key not in verdicts.sites]
        verdicts.missing = pending
        return verdicts

    def forget(self) -> None:
        """Forget the last lookup: Jira may have changed since."""
        self._looked_up = None

    def remember(self, *found: tuple[Issue, Site]) -> None:
        if not found:
            return
        path = os.path.join(self.state_dir, SUMMARY_CACHE)
        cache = store.read_cache(path, SUMMARY_CACHE_SHAPE, {})
        for issue, site in found:
            cache[issue.key] = {"summary": issue.summary, "type": issue.type, "site": site.url}
        store.write_cache(path, cache)

    def cached(self, key: str) -> dict[str, str] | None:
        """What the summary cache has of the key (a damaged cache has nothing: it is rebuilt)."""
        path = os.path.join(self.state_dir, SUMMARY_CACHE)
        entry = store.read_cache(path, SUMMARY_CACHE_SHAPE, {}).get(key)
        return entry if isinstance(entry, dict) else None

    # -- where an action on an issue goes ---------------------------------------------------------
    def site_url(self, key: str) -> str | None:
        """The site that has the issue when known (cache, or only one candidate); None
        means: find it when the action is delivered, trying the sites in order."""
        cached = self.cached(key)
        if cached and cached.get("site") in {s.url for s in self.sites}:
            return cached["site"]
        candidates = self.sites_for(key)
        return candidates[0].url if len(candidates) == 1 else None
