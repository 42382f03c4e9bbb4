"""Keeping Jira in step with Gitflow: which site owns a key, what `start` and `finish` ask
of the issue, and the outbox that holds what could not be delivered.

Remote actions are plain JSON-able dicts so that the journal and the outbox can hold them:
  {"id", "site", "key", "do": "assign", "user", "from": assignee when planned}
  {"id", "site", "key", "do": "move", "target": "Done", "from": status when planned (start)}
  {"id", "site", "key", "do": "comment", "text": "..."}
  {"id", "site", "key", "do": "link", "url": pull request URL, "title": "...", "resolved": bool}
  {"id", "site", "key": project, "do": "release", ...}: a release's version (see releases.py)
"site" is None when it was not known which site has the issue. Every action is idempotent
when delivered, so `jiraflow sync` can replay the outbox safely: a move re-reads the status
first, an assignment the assignee, a comment carries the action's id (and one whose POST got
no answer is not posted again within a grace period: see Tracker._comment), and a link is upserted
by a globalId made from its URL; an issue changed in Jira since the action was planned
("from") is left alone.

Reads that do not depend on each other go out together (see retry.py): `start` asks who you
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
from jiraflow.config import Config
from jiraflow.errors import ConfigError, JiraflowError, RemoteError, RepoStateError
from jiraflow.jira.client import IssueNotFound
from jiraflow.jira.issues import (
    Issue,
    choose_transition,
    is_key,
    is_project,
    project_of,
    screen_values,
)
from jiraflow.retry import Ahead

OUTBOX = "outbox.json"
ISSUE_CACHE = "issues.json"
ISSUE_CACHE_SHAPE = {str: {"summary": str, "type": str, "site": str}}
# Seconds after a comment's POST got no answer before jiraflow may post it again (when it is
# still not in Jira): a server can save a request after the client stopped waiting for it.
COMMENT_GRACE = 120


@dataclass
class Delivery:
    """What became of a batch of actions."""

    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # moot, with why
    failed: list[tuple[dict[str, Any], JiraflowError]] = field(default_factory=list)  # queued


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


@dataclass
class Site:
    url: str
    user: str
    kind: str
    projects: list[str]


def configured_sites(config: Config) -> list[Site]:
    """[[jira.sites]] when given, else the one site of jira.url; [] when Jira is off."""
    from jiraflow.credentials import normalise_url

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
    """Jira for one repository: sites, clients, the issue cache and the outbox."""

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
        """The issue from the site that has it, remembered in the issue cache. An issue being
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

    def _taken(self, key: str, site_url: str) -> Issue | None:
        """The issue read ahead from that site (once), or None: not read ahead, or failed."""
        ahead = self._ahead.pop(key, None)
        if ahead is None:
            return None
        try:
            issue, site = ahead.result()
        except JiraflowError:
            return None
        return issue if site.url == site_url else None

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

    def verify(self, keys: Iterable[str], jql: str = "") -> Verdicts:
        """Which keys are issues (that meet the JQL condition, when given): one search per
        site for up to 100 keys, `key in (...) AND (jql)`; only keys it leaves out are asked
        again without the condition, to tell an issue that fails it from no issue at all.
        Sites are tried in order until every key is resolved. A condition Jira refuses is a
        ConfigError naming check.jql."""
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
                found, rest = client.search_keys(ask, where=jql, progress=progress)
            except Refused as exc:
                if not jql or exc.status != 400:
                    raise
                raise ConfigError(
                    f"check.jql: {site.url} refused the condition ({exc.message})",
                    "Fix the JQL (try it in Jira's issue search), or empty check.jql.",
                ) from None
            verdicts.valid.update(issue.key for issue in found)
            if jql and rest:
                failing, _ = client.search_keys(rest)
                verdicts.failing.update(issue.key for issue in failing)
                found += failing
            verdicts.sites.update((issue.key, site.url) for issue in found)
            pending = [key for key in pending if key not in verdicts.sites]
        verdicts.missing = pending
        return verdicts

    def forget(self) -> None:
        """Forget the last lookup: Jira may have changed since."""
        self._looked_up = None

    def remember(self, *found: tuple[Issue, Site]) -> None:
        if not found:
            return
        path = os.path.join(self.state_dir, ISSUE_CACHE)
        cache = store.read_cache(path, ISSUE_CACHE_SHAPE, {})
        for issue, site in found:
            cache[issue.key] = {"summary": issue.summary, "type": issue.type, "site": site.url}
        store.write_cache(path, cache)

    def cached(self, key: str) -> dict[str, str] | None:
        """What the issue cache has of the key (a damaged cache has nothing: it is rebuilt)."""
        path = os.path.join(self.state_dir, ISSUE_CACHE)
        entry = store.read_cache(path, ISSUE_CACHE_SHAPE, {}).get(key)
        return entry if isinstance(entry, dict) else None

    # -- what start and finish ask of an issue -----------------------------------------------
    def start_actions(
        self,
        issue: Issue,
        site: Site,
        *,
        assign: bool = False,
        take_over: Callable[[Issue, bool], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Assign (as configured) and move to the start status. Checked now, before any
        branch exists: a move that cannot happen stops `start` with nothing changed.

        An issue someone else has is never taken over silently: only with `assign`
        (--assign), or when `take_over(issue, default)` says so (it asks on a terminal, with
        Yes as the default under jira.assign = "always"; in a script it says the issue is
        left)."""
        actions = []
        mode = self.config.jira.assign
        if assign or mode != "never":
            me = self.client(site).myself()
            theirs = issue.assignee is not None and issue.assignee != me["id"]
            if theirs and not assign:
                wanted = take_over is not None and take_over(issue, mode == "always")
            else:
                wanted = issue.assignee != me["id"]
            if wanted:
                had = {"from": issue.assignee}
                actions.append(self.new_action(site.url, issue.key, "assign", user=me["id"], **had))
        target = self.config.jira.on.start
        if target and not issue.status.matches(target):
            transition = choose_transition(issue, issue.transitions or [], target)
            screen_values(issue, transition, self.config.jira.fields)
            moved_from = {"from": issue.status.name}  # a replay leaves a changed issue alone
            actions.append(
                self.new_action(site.url, issue.key, "move", target=target, **moved_from)
            )
        return actions

    def move_action(self, key: str, event: str) -> dict[str, Any] | None:
        target = getattr(self.config.jira.on, event)
        if not target:
            return None
        return self.new_action(self._site_url(key), key, "move", target=target)

    def comment_action(self, key: str, text: str) -> dict[str, Any]:
        return self.new_action(self._site_url(key), key, "comment", text=text)

    def link_action(self, key: str, url: str, title: str, *, resolved: bool) -> dict[str, Any]:
        action = self.new_action(self._site_url(key), key, "link", url=url, title=title)
        action["resolved"] = resolved
        return action

    def _site_url(self, key: str) -> str | None:
        """The site that has the issue when known (cache, or only one candidate); None
        means: find it when the action is delivered, trying the sites in order."""
        cached = self.cached(key)
        if cached and cached.get("site") in {s.url for s in self.sites}:
            return cached["site"]
        candidates = self.sites_for(key)
        return candidates[0].url if len(candidates) == 1 else None

    @staticmethod
    def new_action(site: str | None, key: str, do: str, **extra: str | None) -> dict[str, Any]:
        import uuid

        return {"id": uuid.uuid4().hex, "site": site, "key": key, "do": do, **extra}

    # -- delivery --------------------------------------------------------------------------------
    def deliver(self, actions: list[dict[str, Any]], known: Issue | None = None) -> Delivery:
        """Run queued actions in order; what succeeds (or turns out to be moot) leaves the
        outbox. After one fails, the later actions on the same issue wait too (a move must
        not overtake an assignment that failed)."""
        result = Delivery()
        if not actions:
            return result
        self.enqueue(actions)
        blocked: set[str] = set()
        progress = self.progress if len(actions) > 1 else None  # a release reports its own
        for done, action in enumerate(actions):
            if progress is not None and done:
                progress("jira: sending queued actions", done, len(actions))
            if action["key"] in blocked:
                result.failed.append((action, RemoteError("waiting for the action before it")))
                continue
            try:
                known, note = self._run(action, known)
            except IssueNotFound as exc:  # no such issue: retrying cannot help
                if action["do"] == "release":  # one issue of many: a retry must still run
                    blocked.add(action["key"])
                    result.failed.append((action, exc))
                    self._note(action, error=exc.message)
                    continue
                self._dequeue(action)
                result.skipped.append((action, exc.message))
                continue
            except JiraflowError as exc:
                blocked.add(action["key"])
                result.failed.append((action, exc))
                self._note(action, error=exc.message)
                continue
            self._dequeue(action)
            if note:
                result.skipped.append((action, note))
            else:
                result.done.append(action)
        if progress is not None:
            progress("jira: sending queued actions", len(actions), len(actions))
        return result

    def describe(self, action: dict[str, Any]) -> str:
        key = action["key"]
        if action["do"] == "assign":
            return f"assign {key} to you"
        if action["do"] == "move":
            return f"move {key} to {action['target']}"
        if action["do"] == "link":
            return f"link {action['title']} on {key}"
        if action["do"] == "release":
            from jiraflow.jira import releases

            return f"{key} {action['version']}: " + releases.describe(action)
        return f"comment on {key}"

    def _run(self, action: dict[str, Any], known: Issue | None) -> tuple[Issue | None, str]:
        """Deliver one action. Returns what is now known of the issue, and a note when the
        action was left alone because the issue changed in Jira since it was planned."""
        key = action["key"]
        if action["do"] == "release":
            from jiraflow.jira import releases

            action["warnings"] = releases.deliver(self, action, self.progress)
            return None, ""
        if known is not None and known.key != key:
            known = None
        if action["site"] is None:  # not known when queued: the site that has the issue
            known, site = self.fetch(key, transitions=True)
            action["site"] = site.url
        client = self.client(self.site(action["site"]))
        if action["do"] == "comment":
            return known, self._comment(client, action)
        if action["do"] == "link":
            global_id = "jiraflow:" + action["url"]  # one link per pull request, however often
            client.link(key, global_id, action["url"], action["title"], resolved=action["resolved"])
            return known, ""
        if known is None or known.transitions is None:
            known = self._taken(key, action["site"]) or client.issue(key, transitions=True)
        if action["do"] == "assign":
            if known.assignee == action["user"]:
                return known, ""
            if known.assignee != action.get("from"):
                return known, f"{key} was assigned to {known.assignee_name} meanwhile; left alone"
            self._ahead.pop(key, None)  # a read from before this write is stale
            client.assign(key, action["user"])
            known.assignee = action["user"]
            return known, ""
        if known.status.matches(action["target"]):
            action["reached"] = known.status.name
            return known, ""  # already there: nothing to do
        if "from" in action and known.status.name != action["from"]:
            return known, f"{key} moved to {known.status.name} meanwhile; left alone"
        transition = choose_transition(known, known.transitions or [], action["target"])
        values = screen_values(known, transition, self.config.jira.fields)
        self._ahead.pop(key, None)  # a read from before this write is stale
        client.transition(key, transition.id, values)
        action["reached"] = transition.to.name  # what a category target turned out to be
        return None, ""  # the status changed; re-read before the next move

    def _comment(self, client: Any, action: dict[str, Any]) -> str:
        """Post once: the comment carries the action's id, and a second attempt (after a
        timeout or a crash that may have followed a successful POST) looks for it first.
        A POST that got no answer may still be saved by Jira after the client gave up: until
        a grace period after it was sent (COMMENT_GRACE, and at least four timeouts) has
        passed, a comment not found yet is not posted again but stays queued."""
        from jiraflow.jira.client import Unavailable

        marker = f"[jiraflow {action['id'][:12]}]"
        if action.get("tried") and client.has_comment(action["key"], marker):
            return ""
        sent = action.get("sent")
        if sent is not None:
            grace = max(COMMENT_GRACE, 4 * self.config.jira.timeout)
            due = sent + grace
            if time.time() < due:
                at = time.strftime("%H:%M:%S", time.localtime(due))
                raise RemoteError(
                    f"the comment sent at {time.strftime('%H:%M:%S', time.localtime(sent))} "
                    "was not confirmed and is not in Jira yet; posting it again now could post "
                    "it twice",
                    f"Run `jiraflow sync` after {at}: it posts the comment only if the first "
                    "one never arrived.",
                )
        self._note(action, tried=True, sent=time.time())
        try:
            client.comment(action["key"], f"{action['text']} {marker}")
        except Unavailable:  # no answer, or a 5xx: Jira may still save it
            raise
        except JiraflowError:  # a plain refusal: nothing was saved, no need to wait
            self._forget(action, "sent")
            raise
        return ""

    # -- the outbox ------------------------------------------------------------------------------
    @property
    def outbox_path(self) -> str:
        return os.path.join(self.state_dir, OUTBOX)

    def outbox(self) -> list[dict[str, Any]]:
        """The queued actions. A file that is not a list of actions jiraflow writes stops the
        command (exit 5): it is never overwritten, which would lose what it queued."""
        hint = (
            "`cat {path}` shows the queued Jira updates; `rm {path}` forgets them "
            "(then make them in Jira by hand)."
        )
        data = store.read_json(self.outbox_path, [], hint, [dict])
        try:
            return check_actions(data)
        except store.Damaged as exc:
            raise RepoStateError(
                f"{self.outbox_path} is damaged ({exc})", hint.format(path=self.outbox_path)
            ) from None

    def enqueue(self, actions: list[dict[str, Any]]) -> None:
        """Put actions in the outbox (again is harmless): from here on nothing is lost."""
        queued = self.outbox()
        ids = {a["id"] for a in queued}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        queued += [{**a, "queued": stamp} for a in actions if a["id"] not in ids]
        store.write_json(self.outbox_path, queued)

    def _dequeue(self, action: dict[str, Any]) -> None:
        store.write_json(self.outbox_path, [a for a in self.outbox() if a["id"] != action["id"]])

    def _note(self, action: dict[str, Any], **facts: Any) -> None:
        action.update(facts)
        queued = self.outbox()
        for entry in queued:
            if entry["id"] == action["id"]:
                entry.update(facts)
        store.write_json(self.outbox_path, queued)

    def _forget(self, action: dict[str, Any], fact: str) -> None:
        action.pop(fact, None)
        queued = self.outbox()
        for entry in queued:
            if entry["id"] == action["id"]:
                entry.pop(fact, None)
        store.write_json(self.outbox_path, queued)

    def sync(self) -> Delivery:
        """Deliver everything in the outbox."""
        return self.deliver(self.outbox())

    def drop(self) -> list[dict[str, Any]]:
        """Forget every queued action (the user will update Jira by hand)."""
        pending = self.outbox()
        store.write_json(self.outbox_path, [])
        return pending


# What each kind of action must hold (see the top of this module, and releases.py); other
# keys are notes made on the way ("queued", "error", "tried", "reached", "result"...).
_ACTION = {
    "id": store.NAME,
    "site": (str, None),
    "key": store.NAME,
    "do": str,
    "queued?": str,
    "error?": str,
}
_ACTION_FIELDS: dict[str, dict[str, Any]] = {
    "assign": {"user": str, "from?": (str, None)},
    "move": {"target": str, "from?": (str, None)},
    "comment": {"text": str, "tried?": bool, "sent?": float},
    "link": {"url": str, "title": str, "resolved": bool},
    "release": {
        "version": str,
        "keys": [store.NAME],
        "released": bool,
        "date": (str, None),
        "target": str,
        "result?": {str: store.ANY},
    },
}


def check_actions(actions: Any, where: str = "") -> list[dict[str, Any]]:
    """`actions` when it is a list of remote actions jiraflow could have written (in the
    outbox or the journal), else jiraflow.store.Damaged saying what is wrong where. A key
    goes into Jira's URLs: only an issue key (a project key for a release) as
    jiraflow.jira.issues defines them passes."""
    store.check(actions, [_ACTION], where)
    for i, action in enumerate(actions):
        at = f"{where}[{i}]"
        fields = _ACTION_FIELDS.get(action["do"])
        if fields is None:
            raise store.Damaged(f"{action['do']!r} is not an action jiraflow knows", f"{at}.do")
        store.check(action, fields, at)
        if action["do"] == "release":  # a version of the project `key`, for its issues `keys`
            if not is_project(action["key"]):
                raise store.Damaged(f"{action['key']!r} is not a project key", f"{at}.key")
        elif not is_key(action["key"]):
            raise store.Damaged(f"{action['key']!r} is not an issue key", f"{at}.key")
        for key in action.get("keys", ()):
            if not is_key(key):
                raise store.Damaged(f"{key!r} is not an issue key", f"{at}.keys")
    return list(actions)
