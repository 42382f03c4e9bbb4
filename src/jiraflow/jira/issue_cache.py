"""The Jira issues I could start, for TAB completion: mine and unassigned ones, not done, of
the projects a site is used for. A small JSON file in the user's cache directory
(`cache_dir()/my-issues.json`), read on every TAB and refreshed in the background.

TAB never waits for Jira: it answers from the file as it is (stale, or empty the first
time) and, when the file is missing or older than TTL, starts one detached
`jiraflow _refresh-issues` process that searches each configured site (`jql`:
`(assignee = currentUser() OR assignee is EMPTY) AND project in (...) AND statusCategory !=
Done`) and rewrites the file atomically. `auth login` starts one too (the first TAB after a
login has keys), and so does `start` when the file is there but stale (`refresh_after`).
A marker file next to it (`my-issues.json.refreshing`, stale after REFRESH_STALE seconds)
keeps a second refresher from starting while one runs. A site that failed is asked again
after RETRY_AFTER_ERROR seconds, keeping the issues it gave before.

This module is on the TAB path: it imports the standard library and jiraflow.store only;
the Jira client is imported by the refresher.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from jiraflow import store

if TYPE_CHECKING:
    from jiraflow.config import Config
    from jiraflow.jira.tracker import Tracker

FILE = "my-issues.json"
TTL = 300.0  # seconds an answer is fresh
RETRY_AFTER_ERROR = 60.0  # seconds before a site that failed is asked again
REFRESH_STALE = 120.0  # seconds after which a refresher's marker no longer counts
LIMIT = 50  # issues kept per site, most recently updated first
WHO = "(assignee = currentUser() OR assignee is EMPTY)"
OPEN = "statusCategory != Done ORDER BY updated DESC"
REFRESH_COMMAND = "_refresh-issues"  # the hidden command (jiraflow.cli.complete)
FORMAT = 1

# The variables that make the program answer a TAB instead of running the command.
_COMPLETION_VARS = ("_JIRAFLOW_COMPLETE", "COMP_WORDS", "COMP_CWORD")


class SiteKey:
    """A configured Jira site as the cache knows it: its URL and login as configured (the
    same order and rows as jiraflow.jira.tracker.configured_sites, without normalising: that
    would import more than a TAB should), and the projects it is used for."""

    __slots__ = ("projects", "url", "user")

    def __init__(self, url: str, user: str, projects: list[str]) -> None:
        self.url = url
        self.user = user
        self.projects = projects

    @property
    def name(self) -> str:
        return f"{self.url} {self.user}".strip()

    def accepts(self, key: str) -> bool:
        return not self.projects or key.rsplit("-", 1)[0] in self.projects


def sites_of(config: Config) -> list[SiteKey]:
    """[[jira.sites]] when given, else the one site of jira.url; [] when Jira is off."""
    jira = config.jira
    rows = jira.site_rows()
    return [
        SiteKey(
            str(row.get("url") or "").strip().rstrip("/"),
            str(row.get("user") or jira.user or ""),
            list(row.get("projects") or (jira.projects if not jira.sites else [])),
        )
        for row in rows
    ]


def jql(projects: list[str]) -> str:
    """The search for the issues I could start: mine and unassigned ones, not done, of the
    projects given (any project when none are)."""
    if not projects:
        return f"{WHO} AND {OPEN}"
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in projects)
    return f"{WHO} AND project in ({quoted}) AND {OPEN}"


def default_path(environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(store.cache_dir(environ), FILE)


class IssueCache:
    """The cache file and its refresh marker. Reading never raises: a broken file is an
    empty cache (the next refresh replaces it)."""

    def __init__(self, path: str, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.marker = path + ".refreshing"
        self.clock = clock

    # -- reading (TAB) -------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        """{site name: {"fetched": time, "issues": [[key, summary], ...], "error"?: text}}"""
        # a TAB must not fail: a damaged file is an empty cache, which the refresher rewrites
        data = store.read_cache(self.path, {"format": int, "sites": {str: dict}}, {})
        return data["sites"] if data.get("format") == FORMAT else {}

    def issues(self, sites: list[SiteKey]) -> list[tuple[str, str]]:
        """(key, summary) of my open issues on the sites, each key once, in site order and
        most recently updated first, only of the projects a site is used for."""
        data = self.read()
        found: dict[str, str] = {}
        for site in sites:
            entry = data.get(site.name)
            rows = entry.get("issues") if isinstance(entry, dict) else None
            for row in rows if isinstance(rows, list) else []:
                if isinstance(row, list) and len(row) == 2 and all(isinstance(v, str) for v in row):
                    key, summary = row
                    if site.accepts(key):
                        found.setdefault(key, summary)
        return list(found.items())

    def stale(self, sites: list[SiteKey]) -> bool:
        """Whether a site has no answer yet, or one older than TTL (RETRY_AFTER_ERROR after
        an error, or from the future: the clock was set back)."""
        data = self.read()
        now = self.clock()
        for site in sites:
            entry = data.get(site.name)
            fetched = entry.get("fetched") if isinstance(entry, dict) else None
            if not isinstance(fetched, (int, float)) or isinstance(fetched, bool):
                return True
            assert isinstance(entry, dict)
            ttl = RETRY_AFTER_ERROR if entry.get("error") else TTL
            if not -1 < now - fetched < ttl:
                return True
        return False

    # -- writing (the refresher) ---------------------------------------------------------------
    def store(self, results: list[tuple[SiteKey, list[tuple[str, str]] | None, str]]) -> None:
        """Record what each site answered: its issues, or (None, error) to keep the issues
        it gave before and ask again after RETRY_AFTER_ERROR. One atomic write."""
        sites = self.read()
        now = self.clock()
        for site, issues, error in results:
            before = sites.get(site.name)
            entry: dict[str, Any] = {"url": site.url, "user": site.user, "fetched": now}
            if issues is None:
                kept = before.get("issues") if isinstance(before, dict) else None
                entry["issues"] = kept if isinstance(kept, list) else []
                entry["error"] = error
            else:
                entry["issues"] = [[key, " ".join(summary.split())] for key, summary in issues]
            sites[site.name] = entry
        store.write_cache(self.path, {"format": FORMAT, "sites": sites})

    def clear(self) -> None:
        _remove(self.path)
        _remove(self.marker)

    # -- the refresh marker --------------------------------------------------------------------
    def claim(self) -> bool:
        """Create the marker; False when another refresher holds one that is not stale.
        (Two TABs taking over the same stale marker at the same instant may both win: a
        second refresher is harmless, its write is atomic too.)"""
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                if self.refreshing():
                    return False
                _remove(self.marker)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            now = self.clock()
            os.utime(self.marker, (now, now))
            return True
        return False

    def refreshing(self) -> bool:
        """Whether a refresher holds the marker (and it is not stale)."""
        try:
            age = self.clock() - os.stat(self.marker).st_mtime
        except FileNotFoundError:
            return False
        return -1 < age < REFRESH_STALE

    def release(self) -> None:
        _remove(self.marker)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


def refresh_in_background(
    root: str, cache: IssueCache, *, environ: Mapping[str, str] | None = None
) -> int | None:
    """Start the refresher for the repository at `root`, detached: its own session, and
    /dev/null for its standard streams, so nothing it does reaches the shell, and the shell
    (which reads the TAB's output to its end) does not wait for it. Not when one is running.
    Returns its process id, or None when none was started.

    posix_spawn rather than subprocess.Popen: the TAB process exits without waiting for its
    child, and a Popen object would warn about that (ResourceWarning, on stderr: into the
    command line being edited) wherever warnings are shown."""
    try:
        if not cache.claim():
            return None
    except OSError:  # a cache directory we cannot write: TAB still offers what it read
        return None
    from jiraflow import relaunch

    # no module of the work tree's runs in it (a repository may hold a `jiraflow`)
    env = relaunch.environment(
        {
            k: v
            for k, v in (os.environ if environ is None else environ).items()
            if k not in _COMPLETION_VARS
        }
    )
    argv = relaunch.command("-C", root, REFRESH_COMMAND, "--claimed")
    try:
        if sys.platform == "win32":  # pragma: no cover - no posix_spawn; the tests run on Linux
            import subprocess

            flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
            null = subprocess.DEVNULL
            kw: dict[str, Any] = {"stdin": null, "stdout": null, "stderr": null}
            return subprocess.Popen(argv, cwd=root, env=env, creationflags=flags, **kw).pid
        _keep_descriptors_to_ourselves()
        streams = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        return os.posix_spawn(sys.executable, argv, env, file_actions=streams, setsid=True)
    except Exception:  # no refresher, then: the next TAB may try again
        cache.release()
        return None


def _keep_descriptors_to_ourselves() -> None:
    """Mark every file descriptor above 2 that a child would inherit (those the shell or
    an IDE passed down: posix_spawn has no close_fds) close-on-exec, so that the refresher
    holds no pipe that someone waits on to close. Only this process's descriptor flags
    change: it is a TAB, about to exit."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            with contextlib.suppress(ValueError, OSError):  # the listing's own, now closed
                fd = int(name)
                if fd > 2 and os.get_inheritable(fd):
                    os.set_inheritable(fd, False)
        return


def refresh_after(root: str, config: Config, *, url: str | None = None) -> None:
    """After a command that talked to Jira: with `url` (`auth login`), refresh in the
    background when that site is one of the configured ones; without (`start`), when the
    cache file is there (TAB completion is in use) but stale. Never raises: the command
    has done its work."""
    try:
        sites = sites_of(config)
        cache = IssueCache(default_path())
        if url is not None:
            wanted = any(site.url == url.rstrip("/") for site in sites)
        else:
            wanted = bool(sites) and os.path.exists(cache.path) and cache.stale(sites)
        if wanted:
            refresh_in_background(root, cache)
    except Exception:  # the next TAB refreshes it
        pass


def refresh(cache: IssueCache, tracker: Tracker) -> list[tuple[SiteKey, int | str]]:
    """Search each of the tracker's sites for the issues I could start (one search each, the newest
    LIMIT kept) and store the answers. Returns per site the number of issues, or the
    error that site gave."""
    from jiraflow.errors import JiraflowError

    keys = sites_of(tracker.config)
    results: list[tuple[SiteKey, list[tuple[str, str]] | None, str]] = []
    for key, site in zip(keys, tracker.sites, strict=True):
        try:
            found = tracker.client(site).search(jql(key.projects), limit=LIMIT)  # one request
        except JiraflowError as exc:
            results.append((key, None, exc.message))
            continue
        results.append((key, [(issue.key, issue.summary) for issue in found], ""))
    cache.store(results)
    return [(key, error if issues is None else len(issues)) for key, issues, error in results]


def record_failure(cache: IssueCache, config: Config, error: str) -> None:
    """Every site failed before it could be asked (bad config, no credentials store...):
    recorded, so TAB waits RETRY_AFTER_ERROR before starting another refresher."""
    cache.store([(site, None, error) for site in sites_of(config)])
