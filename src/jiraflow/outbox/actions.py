"""One class per kind of remote action: how it is described (before and after), how it is
delivered idempotently, and how it is stored.

An action is its JSON form, a dict, so that the journal and the outbox hold it as it is:
  {"id", "site", "key", "do": "assign", "user", "from": assignee when planned}
  {"id", "site", "key", "do": "move", "target": "Done", "from": status when planned (start)}
  {"id", "site", "key", "do": "comment", "text": "..."}
  {"id", "site", "key", "do": "link", "url": pull request URL, "title": "...", "resolved": bool}
  {"id", "site", "key": project, "do": "release", "version": Jira version name,
   "keys": [...], "released": bool, "date": "YYYY-MM-DD" or None, "target": status or ""}
  {"id", "site", "key": project, "do": "promote", "env": environment name, "keys": [...],
   "target": status, "later": [statuses of the later environments]}
"site" is None when it was not known which site has the issue; other keys are notes made on
the way ("queued", "error", "tried", "sent", "reached", "result", "warnings", and "tasks": the
Jira Cloud bulk tasks of a release or promotion that may still run). Every action is
idempotent when delivered, so `jiraflow sync` can replay the outbox safely: a move re-reads the
status first, an assignment the assignee, a comment carries the action's id (and one whose POST
got no answer is not posted again within a grace period: see box.Outbox.hold_resend), a link is
upserted by a globalId made from its URL, and a release looks before each write; an issue
changed in Jira since the action was planned ("from") is left alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, Self

from jiraflow import store
from jiraflow.concurrency import Ahead, running
from jiraflow.errors import ConfigError, JiraflowError
from jiraflow.jira import releases
from jiraflow.jira.issues import Issue, Status, Transition, choose_transition, screen_values
from jiraflow.keys import is_key, is_project, project_of

if TYPE_CHECKING:
    from jiraflow.jira.tracker import Tracker

WRITERS = 8  # issues of a release updated at once: quick for big releases, still gentle on Jira
# From this many issues needing one kind of write (on Jira Cloud: the version added, or a move),
# a release or a promotion uses Cloud's bulk operation for it: one request and a task to poll,
# instead of one request per issue. Sandbox figures, at 100 ms a request and tasks ending at
# their second poll (benchmarks/bench_network.py, a release moving its issues with a
# transition that has no screen): one by one, WRITERS at once, took 1.1 s for 20 issues,
# 1.6 s for 40 and 2.7 s for 80; in bulk about 1.75 s whatever the count (each task submitted,
# then polled twice). So below 50 the one-by-one path is as quick, at under 100 requests that
# Cloud's rate limits take in their stride; from 50 on, bulk is quicker and its requests stay
# flat (10 for a release, against two per issue).
BULK_FROM = 50
# The bulk tasks of a release or a promotion, noted while they may run: task id -> what it does
# and on which site (BulkRun, resume_tasks).
TASKS: Any = {str: {"kind": {"fields", "transition"}, "site": str}}


class Queue(Protocol):
    """What an action being delivered may ask of the outbox holding it (box.Outbox)."""

    def note(self, action: Action, **facts: Any) -> None: ...

    def unnote(self, action: Action, fact: str) -> None: ...

    def hold_resend(self, action: PostOnce) -> None: ...


class Action(dict[str, Any]):
    """A remote action: its JSON form, with what its kind knows how to do."""

    do: ClassVar[str]
    fields: ClassVar[dict[str, Any]]  # what the kind must hold (see store.check)
    of_project: ClassVar[bool] = False  # `key` is a project's (else an issue's)

    @classmethod
    def new(cls, site: str | None, key: str, **extra: Any) -> Self:
        return cls({"id": uuid.uuid4().hex, "site": site, "key": key, "do": cls.do, **extra})

    def to_json(self) -> dict[str, Any]:
        return dict(self)

    @property
    def key(self) -> str:
        return str(self["key"])

    def check(self, at: str) -> None:
        """store.Damaged when the stored form is not one jiraflow could have written. A key
        goes into Jira's URLs: only an issue key (a project key for a release) passes."""
        store.check(self, self.fields, at)
        if self.of_project:
            if not is_project(self.key):
                raise store.Damaged(f"{self.key!r} is not a project key", f"{at}.key")
        elif not is_key(self.key):
            raise store.Damaged(f"{self.key!r} is not an issue key", f"{at}.key")
        for key in self.get("keys", ()):
            if not is_key(key):
                raise store.Damaged(f"{key!r} is not an issue key", f"{at}.keys")
        for task in self.get("tasks") or {}:  # goes into .../bulk/queue/{task}: as bulk._task_id
            if not task.isalnum():
                raise store.Damaged(f"{task[:40]!r} is not a bulk task id", f"{at}.tasks")

    def describe(self) -> str:
        raise NotImplementedError

    def describe_done(self) -> str:
        raise NotImplementedError

    # -- delivery ---------------------------------------------------------------------------------
    # An issue Jira does not have makes the action moot (it leaves the outbox), except for an
    # action on many issues: one missing must not stop a retry of the others.
    missing_is_moot: ClassVar[bool] = True

    def deliver(
        self, tracker: Tracker, box: Queue, known: Issue | None
    ) -> tuple[Issue | None, str]:
        """Deliver the action. Returns what is now known of the issue, and a note when the
        action was left alone because the issue changed in Jira since it was planned."""
        key = self.key
        if known is not None and known.key != key:
            known = None
        if self["site"] is None:  # not known when queued: the site that has the issue
            known, site = tracker.fetch(key, transitions=True)
            self["site"] = site.url
        client = tracker.client(tracker.site(self["site"]))
        return self.send(tracker, box, client, known)

    def send(
        self, tracker: Tracker, box: Queue, client: Any, known: Issue | None
    ) -> tuple[Issue | None, str]:
        raise NotImplementedError

    def current(self, tracker: Tracker, client: Any, known: Issue | None) -> Issue:
        """The issue as it is now, with its transitions: what is known of it, else what the
        tracker has just read, else one read."""
        if known is not None and known.transitions is not None:
            return known
        return tracker.taken(self.key, self["site"]) or client.issue(self.key, transitions=True)


class Assign(Action):
    do = "assign"
    fields: ClassVar[dict[str, Any]] = {"user": str, "from?": (str, None)}

    def describe(self) -> str:
        return f"assign {self.key} to you"

    def describe_done(self) -> str:
        return f"{self.key} is assigned to you"

    def send(
        self, tracker: Tracker, box: Queue, client: Any, known: Issue | None
    ) -> tuple[Issue | None, str]:
        key = self.key
        known = self.current(tracker, client, known)
        if known.assignee == self["user"]:
            return known, ""
        if known.assignee != self.get("from"):
            return known, f"{key} was assigned to {known.assignee_name} meanwhile; left alone"
        tracker.stale(key)  # a read from before this write is stale
        client.assign(key, self["user"])
        known.assignee = self["user"]
        return known, ""


class Move(Action):
    do = "move"
    fields: ClassVar[dict[str, Any]] = {"target": str, "from?": (str, None)}

    @classmethod
    def on(cls, tracker: Tracker, key: str, event: str) -> Move | None:
        """The move jira.on.<event> asks of the issue (None when it asks none)."""
        target = getattr(tracker.config.jira.on, event)
        if not target:
            return None
        return cls.new(tracker.site_url(key), key, target=target)

    def describe(self) -> str:
        return f"move {self.key} to {self['target']}"

    def describe_done(self) -> str:
        return f"{self.key} is {self.get('reached') or self['target']}"

    def send(
        self, tracker: Tracker, box: Queue, client: Any, known: Issue | None
    ) -> tuple[Issue | None, str]:
        key = self.key
        known = self.current(tracker, client, known)
        if known.status.matches(self["target"]):
            self["reached"] = known.status.name
            return known, ""  # already there: nothing to do
        if "from" in self and known.status.name != self["from"]:
            return known, f"{key} moved to {known.status.name} meanwhile; left alone"
        transition = choose_transition(known, known.transitions or [], self["target"])
        values = screen_values(known, transition, tracker.config.jira.fields)
        tracker.stale(key)  # a read from before this write is stale
        client.transition(key, transition.id, values)
        self["reached"] = transition.to.name  # what a category target turned out to be
        return None, ""  # the status changed; re-read before the next move


class Resend(NamedTuple):
    """How box.Outbox.hold_resend words a post-once action that may still arrive: "the
    {noun} sent at ... {again} now could {twice} twice", and "it {does} only if the first
    {first} never arrived"."""

    noun: str
    again: str
    twice: str
    does: str
    first: str


class PostOnce(Action):
    """An action posted once (a comment, a work log): a second attempt (after a timeout or
    a crash that may have followed a successful POST) looks whether the first arrived
    (`_arrived`) before it posts (`_post`). A POST that got no answer may still be saved by
    Jira after the client gave up: until the grace period after it was sent has passed
    (box.Outbox.hold_resend, worded by `resend`), one not found yet is not posted again but
    stays queued."""

    resend: ClassVar[Resend]

    def send(
        self, tracker: Tracker, box: Queue, client: Any, known: Issue | None
    ) -> tuple[Issue | None, str]:
        from jiraflow.jira.client import Unavailable

        if self.get("tried") and self._arrived(client):
            return known, ""
        box.hold_resend(self)
        box.note(self, tried=True, sent=time.time())
        try:
            self._post(client)
        except Unavailable:  # no answer, or a 5xx: Jira may still save it
            raise
        except JiraflowError:  # a plain refusal: nothing was saved, no need to wait
            box.unnote(self, "sent")
            raise
        return known, ""

    def _arrived(self, client: Any) -> bool:
        """Whether an earlier attempt is in Jira."""
        raise NotImplementedError

    def _post(self, client: Any) -> None:
        raise NotImplementedError


class Comment(PostOnce):
    do = "comment"
    fields: ClassVar[dict[str, Any]] = {"text": str, "tried?": bool, "sent?": float}
    resend = Resend("comment", "posting it again", "post it", "posts the comment", "one")

    @classmethod
    def on(cls, tracker: Tracker, key: str, text: str) -> Comment:
        return cls.new(tracker.site_url(key), key, text=text)

    def describe(self) -> str:
        return f"comment on {self.key}"

    def describe_done(self) -> str:
        return f"commented on {self.key}"

    def _arrived(self, client: Any) -> bool:
        """The comment carries the action's id: looked for."""
        return bool(client.has_comment(self.key, self._marker))

    def _post(self, client: Any) -> None:
        client.comment(self.key, f"{self['text']} {self._marker}")

    @property
    def _marker(self) -> str:
        return f"[jiraflow {self['id'][:12]}]"


class Link(Action):
    do = "link"
    fields: ClassVar[dict[str, Any]] = {"url": str, "title": str, "resolved": bool}

    @classmethod
    def on(cls, tracker: Tracker, key: str, url: str, title: str, *, resolved: bool) -> Link:
        site = tracker.site_url(key)
        return cls.new(site, key, url=url, title=title, resolved=resolved)

    def describe(self) -> str:
        return f"link {self['title']} on {self.key}"

    def describe_done(self) -> str:
        return f"{self.key} links to {self['title']}"

    def send(
        self, tracker: Tracker, box: Queue, client: Any, known: Issue | None
    ) -> tuple[Issue | None, str]:
        global_id = "jiraflow:" + self["url"]  # one link per pull request, however often
        client.link(self.key, global_id, self["url"], self["title"], resolved=self["resolved"])
        return known, ""


class LogWork(PostOnce):
    """Time logged on the issue (`finish --log DURATION`). Logged once: the action holds the
    instant the work started, and a replay after an attempt (a POST that got no answer, a
    sync killed after it) first reads the issue's work logs and does nothing when one of
    yours with that start and that duration is there. As for a comment, a work log whose
    POST got no answer is not sent again, while not found yet, within the grace period after
    it was sent (box.Outbox.hold_resend): Jira may still save it late."""

    do = "worklog"
    fields: ClassVar[dict[str, Any]] = {
        "time": str,
        "seconds": int,
        "started": str,
        "comment": str,
        "tried?": bool,
        "sent?": float,
    }
    resend = Resend("work log", "sending it again", "log the time", "logs the time", "work log")

    @classmethod
    def on(
        cls, tracker: Tracker, key: str, time_spent: str, started: Any, comment: str = ""
    ) -> LogWork:
        """`time_spent` as the user gave it (checked: durations.parse), `started` an aware
        datetime (kept to the second: Jira keeps milliseconds, a replay compares instants)."""
        from jiraflow import durations

        return cls.new(
            tracker.site_url(key),
            key,
            time=durations.normal(time_spent),
            seconds=durations.parse(time_spent),
            started=started.replace(microsecond=0).isoformat(),
            comment=comment,
        )

    def check(self, at: str) -> None:
        import datetime

        from jiraflow import durations

        super().check(at)
        try:
            durations.parse(self["time"])
        except ValueError as exc:
            raise store.Damaged(str(exc), f"{at}.time") from None
        try:
            aware = datetime.datetime.fromisoformat(self["started"]).tzinfo is not None
        except ValueError:
            aware = False
        if not aware:
            raise store.Damaged(f"{self['started']!r} is not a time with its zone", f"{at}.started")

    def describe(self) -> str:
        return f"log {self['time']} on {self.key}"

    def describe_done(self) -> str:
        return f"logged {self['time']} on {self.key}"

    def _arrived(self, client: Any) -> bool:
        return self._logged(client, self._started)

    def _post(self, client: Any) -> None:
        client.add_worklog(self.key, self["time"], self._started, self["comment"])

    @property
    def _started(self) -> Any:
        import datetime

        return datetime.datetime.fromisoformat(self["started"])

    def _logged(self, client: Any, started: Any) -> bool:
        """Whether the issue has a work log of yours that started then, of this duration (in
        seconds, or as Jira writes it: a site whose day is not 8 hours counts "1d" its way)."""
        from jiraflow import durations

        me = client.myself()["id"]
        mine = [
            log
            for log in client.worklogs(self.key)
            if log["author"] == me and log["started"] == started
        ]
        return any(
            log["seconds"] == self["seconds"] or durations.normal(log["time_spent"]) == self["time"]
            for log in mine
        )


class _BatchAction(Action):
    """A release or a promotion: a batch write on a project's issues, delivered with the
    patience of one (http.patience: it may wait out a rate limit for minutes), the bulk
    tasks an earlier delivery noted waited for first (resume_tasks, before any issue is
    read), then `_deliver`: returns the warnings."""

    of_project = True
    missing_is_moot = False

    def deliver(
        self, tracker: Tracker, box: Queue, known: Issue | None
    ) -> tuple[Issue | None, str]:
        from jiraflow import http
        from jiraflow.jira import bulk

        with http.patience():
            patience = bulk.Patience()  # for every bulk task of this delivery
            moved_before = resume_tasks(tracker, box, self, patience)
            self["warnings"] = self._deliver(tracker, box, patience, moved_before)
        return None, ""

    def _deliver(
        self, tracker: Tracker, box: Queue, patience: Any, moved_before: set[str]
    ) -> list[str]:
        """`patience`: the bulk.Patience of this delivery; `moved_before`: the ids of the
        issues that the resumed tasks moved."""
        raise NotImplementedError


class Release(_BatchAction):
    """A release's version in one project: the version, the fixVersions of its issues, their
    status, and the version's release date.

    Delivering it reads the issues with one search per 100 keys while it reads the project's
    versions (the searches and that read go out together), finds or creates the version, adds
    it to the issues lacking it and moves the issues not yet at the target (WRITERS issues at a
    time, each issue's two writes in order; on Jira Cloud, from BULK_FROM issues, by a bulk
    edit and then bulk transitions: bulk_release), and releases the version last. Every part looks
    before it writes, so a repeat (a second finish, `jiraflow sync` after a failure half-way)
    neither duplicates nor undoes anything."""

    do = "release"
    fields: ClassVar[dict[str, Any]] = {
        "version": str,
        "keys": [store.NAME],
        "released": bool,
        "date": (str, None),
        "target": str,
        "result?": {str: store.ANY},
        "tasks?": TASKS,
    }

    @classmethod
    def for_keys(
        cls,
        tracker: Tracker,
        keys: list[str],
        *,
        version: str,
        tag: str,
        released: bool,
        date: str | None = None,
    ) -> list[Release]:
        """One action per Jira project among `keys` (keys of other projects are not Jira's)."""
        by_project: dict[str, list[str]] = {}
        for key in keys:
            if tracker.accepts(key):
                by_project.setdefault(project_of(key), []).append(key)
        template = tracker.config.jira.version_name
        target = tracker.config.jira.on.release if released else ""
        actions = []
        for project, project_keys in by_project.items():
            owners = tracker.sites_for(project_keys[0])
            action = cls.new(owners[0].url if len(owners) == 1 else None, project)
            action.update(
                version=releases.version_name(template, version, tag, project),
                keys=project_keys,
                released=released,
                date=(date or releases.today()) if released else None,
                target=target,
            )
            actions.append(action)
        return actions

    def describe(self) -> str:
        keys = self["keys"]
        listed = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        text = f"set fixVersion {self['version']} on {listed}"
        if self["target"]:
            text += f", move them to {self['target']}"
        if self["released"]:
            text += f", release {self['version']} ({self['date']})"
        return f"{self.key} {self['version']}: " + text

    def describe_done(self) -> str:
        result = self.get("result") or {}
        name = f"{self['key']} {self['version']}"
        count = result.get("issues", 0)  # "1 issue has", "3 issues have"
        have = "issue has" if count == 1 else "issues have"
        parts = [f"{count} {have} fixVersion {self['version']}"]
        if result.get("moved"):
            parts.append(f"{result['moved']} moved to {result.get('reached') or self['target']}")
        if result.get("created"):
            parts.insert(0, "created")
        if self["released"]:
            parts.append(f"released {self['date']}")
        return f"{name}: " + ", ".join(parts)

    def _deliver(
        self, tracker: Tracker, box: Queue, patience: Any, moved_before: set[str]
    ) -> list[str]:
        """Make Jira match the action; returns warnings (keys Jira does not have, issues whose
        workflow refuses the move). Raises JiraflowError for what a retry may fix."""
        from jiraflow.jira.client import IssueNotFound

        action, progress = self, tracker.progress
        target = action["target"]
        versions = self._versions_ahead(tracker)
        try:
            found = tracker.lookup(action["keys"], transitions=bool(target))
        finally:
            if versions is not None:
                versions.wait()  # no request outlives the delivery
        tracker.forget()  # what this delivery reads, it may change
        warnings = []
        if found.missing:
            missing = ", ".join(found.missing)
            warnings.append(f"not in Jira, left out of {action['version']}: {missing}")
        issues = [found.issues[k] for k in action["keys"] if k in found.issues]
        result: dict[str, Any] = {"issues": len(issues), "moved": 0, "created": False}
        action["result"] = result
        _moved_before(issues, moved_before, result)
        if not issues:
            return warnings
        site = tracker.site(found.sites[issues[0].key])
        client = tracker.client(site)
        listed = versions if versions is not None and site.url == action["site"] else None
        version = self._version(client, issues[0], result, listed)
        name = action["version"].casefold()
        todo = [
            issue
            for issue in issues
            if name not in (v.casefold() for v in issue.fix_versions)
            or (target and not issue.status.matches(target))
        ]

        def update(issue: Issue) -> str:
            """One issue: "moved", "" or a warning. What one issue refuses (gone since the
            search, a workflow that will not go there) is said and does not hold up the others;
            what may pass (Jira down, busy, a 5xx) raises, and the action stays queued."""
            if name not in (v.casefold() for v in issue.fix_versions):
                try:
                    client.add_fix_version(issue.key, version["id"])
                except IssueNotFound as exc:
                    return f"{exc.message}; left out of {action['version']}"
            if not target or issue.status.matches(target):
                return ""
            return move_issue(tracker, client, issue, target, result)

        label = f"{action['key']} {action['version']}"
        shown = None
        if progress is not None:
            shown = partial(progress, f"jira: updating the issues of {label}")
        if len(todo) >= BULK_FROM and client.cloud:  # the rest (if any) one by one, below
            run = BulkRun(tracker, box, self, site.url, patience)
            todo = bulk_release(run, todo, version, target, result, label)
            write_all(run.explained(update), todo, result, warnings, progress=shown)
        else:
            write_all(update, todo, result, warnings, progress=shown)
        if action["released"] and not version.get("released"):
            client.release_version(version["id"], action["date"])
        return warnings

    def _versions_ahead(self, tracker: Tracker) -> Ahead[Any] | None:
        """The project's versions, read while the issues are searched: when the action's site
        is known and still configured (its client made here, in the calling thread)."""
        if self["site"] not in {site.url for site in tracker.sites}:
            return None
        client = tracker.client(tracker.site(self["site"]))
        return Ahead(partial(client.versions, self["key"]))

    def _version(
        self,
        client: Any,
        issue: Issue,
        result: dict[str, Any],
        listed: Ahead[Any] | None = None,
    ) -> Any:
        """The project's version of that name (Jira compares names ignoring case), created
        when missing. It is created unreleased (with the planned date): releasing it is the
        last step, once every issue has it. `listed`: the versions, already being read."""
        from jiraflow.jira.client import Refused

        action = self
        name = action["version"]

        def existing(versions: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
            for version in client.versions(action["key"]) if versions is None else versions:
                if str(version.get("name", "")).casefold() == name.casefold():
                    return dict(version)
            return None

        found = existing(listed.result() if listed is not None else None)
        if found is not None:
            return found
        try:
            created = client.create_version(
                issue.project_id, name, released=False, date=action["date"]
            )
        except Refused as exc:  # made meanwhile (another finish, a retried request)
            found = existing() if exc.status == 400 else None
            if found is None:
                raise
            return found
        result["created"] = True
        return created


class Promote(_BatchAction):
    """The issues of a promotion in one project moved to the environment's status: read with
    one search per 100 keys, moved WRITERS at a time (on Jira Cloud, from BULK_FROM issues, by
    bulk transitions: bulk_moves). Never backwards: an issue already at
    the status of a later environment ("later"), or done when the target is not, is left
    alone with a warning. Like a release, it looks before it writes: a repeat does nothing."""

    do = "promote"
    fields: ClassVar[dict[str, Any]] = {
        "env": str,
        "keys": [store.NAME],
        "target": str,
        "later": [str],
        "result?": {str: store.ANY},
        "tasks?": TASKS,
    }

    @classmethod
    def for_keys(
        cls, tracker: Tracker, keys: list[str], *, env: str, target: str, later: list[str]
    ) -> list[Promote]:
        """One action per Jira project among `keys`."""
        by_project: dict[str, list[str]] = {}
        for key in keys:
            if tracker.accepts(key):
                by_project.setdefault(project_of(key), []).append(key)
        actions = []
        for project, project_keys in by_project.items():
            owners = tracker.sites_for(project_keys[0])
            action = cls.new(owners[0].url if len(owners) == 1 else None, project)
            action.update(env=env, keys=project_keys, target=target, later=later)
            actions.append(action)
        return actions

    def describe(self) -> str:
        keys = self["keys"]
        listed = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        return f"move {listed} to {self['target']} ({self['env']})"

    def describe_done(self) -> str:
        result = self.get("result") or {}
        moved = result.get("moved", 0)
        return (
            f"{self.key}: {moved} of {result.get('issues', 0)} issues moved to "
            f"{result.get('reached') or self['target']} ({self['env']})"
        )

    def _deliver(
        self, tracker: Tracker, box: Queue, patience: Any, moved_before: set[str]
    ) -> list[str]:
        target, later = self["target"], self["later"]
        found = tracker.lookup(self["keys"], transitions=True)
        tracker.forget()
        warnings = []
        if found.missing:
            warnings.append(f"not in Jira, not moved: {', '.join(found.missing)}")
        issues = [found.issues[k] for k in self["keys"] if k in found.issues]
        result: dict[str, Any] = {"issues": len(issues), "moved": 0}
        self["result"] = result
        _moved_before(issues, moved_before, result)
        if not issues:
            return warnings
        site = found.sites[issues[0].key]
        client = tracker.client(tracker.site(site))
        to_done = target.replace(" ", "").lower() == "category:done"

        def keep(issue: Issue, transition: Transition | None) -> str:
            """Never out of done unless the target is done too."""
            status = issue.status
            if status.category != "done":
                return ""
            backwards = f"{issue.key} is {status.name} (done); left alone"
            if transition is None:
                return "" if to_done else backwards
            return backwards if transition.to.category != "done" else ""

        def further(issue: Issue) -> bool:
            return any(issue.status.matches(t) for t in later)

        def update(issue: Issue) -> str:
            """One issue: "moved", "" (already there) or a warning (left alone)."""
            status = issue.status
            if status.matches(target):
                return ""
            if further(issue):
                return f"{issue.key} is already {status.name}, further along; left alone"
            return move_issue(tracker, client, issue, target, result, keep=partial(keep, issue))

        moving = [i for i in issues if not i.status.matches(target) and not further(i)]
        if len(moving) >= BULK_FROM and client.cloud:  # what the tasks leave goes one by one
            label = f"{self.key} to {self['env']}"
            run = BulkRun(tracker, box, self, site, patience)
            bulk_moves(run, moving, target, result, label, keep=keep)
            write_all(run.explained(update), issues, result, warnings)
        else:
            write_all(update, issues, result, warnings)
        return warnings


def _moved_before(issues: list[Issue], moved: set[str], result: dict[str, Any]) -> None:
    """What the transitions of an earlier delivery's tasks (resume_tasks) moved counts too."""
    for issue in issues:
        if issue.id and issue.id in moved:
            result["moved"] += 1
            result["reached"] = issue.status.name


def move_issue(
    tracker: Tracker,
    client: Any,
    issue: Issue,
    target: str,
    result: dict[str, Any],
    *,
    keep: Callable[[Transition | None], str] | None = None,
) -> str:
    """One issue of a release or a promotion moved to `target`: "moved", or a warning when
    this issue's workflow will not go there (the others still move). `keep` may leave it
    alone instead (its message), asked with the transition chosen, or None when there is
    none. What may pass (Jira down, busy, a 5xx, 429) raises: the action stays queued."""
    from jiraflow.jira.client import Refused

    try:
        transition = choose_transition(issue, issue.transitions or [], target)
        values = screen_values(issue, transition, tracker.config.jira.fields)
    except ConfigError as exc:
        left = keep(None) if keep is not None else ""
        return left or f"{exc.message}; left as it is. {exc.hint or 'Move it in Jira.'}"
    left = keep(transition) if keep is not None else ""
    if left:
        return left
    try:
        client.transition(issue.key, transition.id, values)
    except Refused as exc:  # a 4xx other than 401 and 429 (client._error): this issue's refusal
        return f"{issue.key} was not moved to {target}: {exc.message}. Move it in Jira."
    result["reached"] = transition.to.name
    return "moved"


class BulkRun:
    """The bulk tasks of one delivery of a release or a promotion on Jira Cloud.

    Each task is noted in the action ("tasks": task id -> its kind and site) before it is
    polled, and its note dropped once it has ended: a replay while one may still run (the
    first delivery gave up waiting, or was killed) waits for that task instead of submitting
    it again (resume_tasks). All the waits of one delivery share one bulk.Patience (MOST_WAIT
    seconds in all). The issues a task did not change are read again (bulk fetch, 100 at a
    time) before they go one by one, and Jira's reasons for each are kept (`reasons`, by key)
    for the warning when the one-by-one path cannot change it either (explained)."""

    def __init__(
        self, tracker: Tracker, box: Queue, action: Action, site: str, patience: Any
    ) -> None:
        self.tracker, self.box, self.action, self.site = tracker, box, action, site
        self.client = tracker.client(tracker.site(site))
        self.patience = patience
        self.reasons: dict[str, list[str]] = {}

    def task(self, kind: str, submit: Callable[[], str], what: str, count: int) -> Any:
        """Submit a task on `count` issues, note it, wait for it (its progress shown in
        issues): its bulk.Outcome, whatever status it ended with, or None when Jira refuses
        the bulk request itself (the caller then goes one by one). A task still running once
        the patience is spent raises Unavailable: the action stays queued, the task noted."""
        from jiraflow.jira import bulk
        from jiraflow.jira.client import Refused

        try:
            task = submit()
        except Refused:  # a 4xx other than 401 and 429 (client._error): go one by one
            return None
        tasks = {**self.action.get("tasks", {}), task: {"kind": kind, "site": self.site}}
        self.box.note(self.action, tasks=tasks)  # before polling: a replay waits for it
        progress = self.tracker.progress

        def shown(percent: int, _: int) -> None:
            if progress is not None:
                progress(what, count * percent // 100, count)

        outcome = bulk.wait(self.client, task, progress=shown, patience=self.patience)
        _ended(self.box, self.action, task)
        return outcome

    def settle(self, outcome: Any, issues: list[Issue]) -> None:
        """The issues of a task that it did not change: Jira's reasons kept, and each issue
        read again in place (the task may have changed it unreported, when it ended FAILED
        say; it may have moved since), for the one-by-one path that follows."""
        from jiraflow.jira import bulk

        rest = [issue for issue in issues if not issue.id or issue.id not in outcome.processed]
        for issue in rest:
            self.reasons[issue.key] = outcome.failed.get(issue.id) or [
                f"the task ended {outcome.status} without changing it"
            ]
        for chunk in bulk.chunks(rest, bulk.MOST_FETCHED):
            keys = [issue.key for issue in chunk]
            fresh = {i.key: i for i in bulk.fetch(self.client, keys, transitions=True)}
            for issue in chunk:
                if issue.key in fresh:
                    now = fresh[issue.key]
                    issue.status, issue.transitions = now.status, now.transitions
                    issue.fix_versions, issue.id = now.fix_versions, now.id or issue.id

    def explained(self, update: Callable[[Issue], str]) -> Callable[[Issue], str]:
        """`update`, whose warning for an issue a task could not change ends with the task's
        reasons; a refusal of such an issue (a 4xx) is that warning too, not an error that
        would keep the action queued for ever."""
        from jiraflow.jira.client import Refused

        def one(issue: Issue) -> str:
            why = self.reasons.get(issue.key)
            if not why:
                return update(issue)
            try:
                outcome = update(issue)
            except Refused as exc:  # a 4xx other than 401 and 429 (client._error)
                outcome = f"{issue.key} was left as it is: {exc.message}"
            if outcome in ("", "moved"):
                return outcome
            return f"{outcome} (the bulk task said: {'; '.join(why)})"

        return one


def _ended(box: Queue, action: Action, task: str) -> None:
    """The task's note dropped from the action: it has ended (or Jira forgot it)."""
    left = {k: v for k, v in action.get("tasks", {}).items() if k != task}
    if left:
        box.note(action, tasks=left)
    else:
        box.unnote(action, "tasks")


def resume_tasks(tracker: Tracker, box: Queue, action: Action, patience: Any) -> set[str]:
    """Wait for the tasks an earlier delivery of the action noted (never submitted again),
    within `patience`; the ids of the issues their transitions moved. Still running when it
    is spent: Unavailable, and the action stays queued with them noted. A task Jira no longer
    knows or shows (a 4xx other than 401 and 429: 404, 403, 400, 410), or of a site no longer
    configured, is forgotten: what it did is read next (and its moves are not counted)."""
    from jiraflow.jira import bulk
    from jiraflow.jira.client import Refused

    moved: set[str] = set()
    progress = tracker.progress
    for task, about in list((action.get("tasks") or {}).items()):
        site = next((s for s in tracker.sites if s.url == about["site"]), None)
        if site is not None:
            what = f"jira: waiting for bulk task {task} of {action.key}"

            def shown(percent: int, _: int, what: str = what) -> None:
                if progress is not None:
                    progress(what, percent, 100)

            try:
                outcome = bulk.wait(tracker.client(site), task, progress=shown, patience=patience)
            except Refused:  # 404 forgotten, 403 no longer allowed, 400, 410...: read next
                pass  # (a Refused is a 4xx other than 401 and 429: client._error)
            else:
                if about["kind"] == "transition":
                    moved |= outcome.processed
        _ended(box, action, task)
    return moved


def bulk_release(
    run: BulkRun,
    issues: list[Issue],
    version: dict[str, Any],
    target: str,
    result: dict[str, Any],
    label: str,
) -> list[Issue]:
    """A release's writes on Jira Cloud with its bulk operations, each kind from BULK_FROM
    issues: the version added to the issues lacking it (bulk edit), then the issues moved
    (bulk transitions), each issue's writes in that order as one by one. Returns the issues
    still to update one by one: those a task did not change (read again), those below the
    threshold, and those whose move takes fields or must be left alone."""
    name = version["name"]

    def lacks(issue: Issue) -> bool:
        return name.casefold() not in (v.casefold() for v in issue.fix_versions)

    lacking = [issue for issue in issues if lacks(issue)]
    bulk_ok = True
    if len(lacking) >= BULK_FROM:
        bulk_ok = bulk_fix_version(run, lacking, version, label)
    moving = [i for i in issues if target and not i.status.matches(target) and not lacks(i)]
    if bulk_ok:
        bulk_moves(run, moving, target, result, label)
    return [i for i in issues if lacks(i) or (target and not i.status.matches(target))]


def bulk_fix_version(
    run: BulkRun, issues: list[Issue], version: dict[str, Any], label: str
) -> bool:
    """The version added to the issues' fixVersions by bulk edits (1,000 issues each); each
    issue the task changed has it in `fix_versions` afterwards, the others are read again.
    False when Jira refuses bulk edits here (no bulk change permission, say): the caller
    goes one by one."""
    from jiraflow.jira import bulk

    for chunk in bulk.chunks(issues):
        submit = partial(bulk.add_fix_version, run.client, [i.key for i in chunk], version["id"])
        what = f"jira: updating the issues of {label}"
        outcome = run.task("fields", submit, what, len(chunk))
        if outcome is None:
            return False
        for issue in chunk:
            if issue.id and issue.id in outcome.processed:
                issue.fix_versions.append(str(version["name"]))
        run.settle(outcome, chunk)
    return True


def bulk_moves(
    run: BulkRun,
    issues: list[Issue],
    target: str,
    result: dict[str, Any],
    label: str,
    *,
    keep: Callable[[Issue, Transition | None], str] | None = None,
) -> None:
    """The issues moved to `target` by bulk transitions, from BULK_FROM of them that can go
    so (1,000 issues a request). Only a transition that takes no field input goes in bulk
    (Jira offers no other); an issue with none to `target`, with fields to fill, or that
    `keep` leaves alone, is left to the one-by-one path, which says why. One input per
    project, issue type and transition (one project and type share a workflow, and
    transition ids repeat across workflows), all in one request. Each issue a task moved has
    its new status afterwards and counts in result["moved"]; the others are read again."""
    from jiraflow.jira import bulk

    chosen: list[tuple[Issue, Transition]] = []
    for issue in issues:
        try:
            transition = choose_transition(issue, issue.transitions or [], target)
        except ConfigError:
            continue
        if transition.fields or (keep is not None and keep(issue, transition)):
            continue
        chosen.append((issue, transition))
    if len(chosen) < BULK_FROM:
        return
    for chunk in bulk.chunks(chosen):
        groups: dict[tuple[str, str, str], list[str]] = {}
        for issue, transition in chunk:
            groups.setdefault((issue.project_id, issue.type, transition.id), []).append(issue.key)
        inputs = [(transition_id, keys) for (_, _, transition_id), keys in groups.items()]
        submit = partial(bulk.transition, run.client, inputs)
        what = f"jira: moving the issues of {label}"
        outcome = run.task("transition", submit, what, len(chunk))
        if outcome is None:
            return
        for issue, transition in chunk:
            if issue.id and issue.id in outcome.processed:
                issue.status = Status(transition.to.name, transition.to.category)
                result["moved"] += 1
                result["reached"] = transition.to.name
        run.settle(outcome, [issue for issue, _ in chunk])


def write_all(
    update: Callable[[Issue], str],
    issues: list[Issue],
    result: dict[str, Any],
    warnings: list[str],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """`update` of every issue, WRITERS at once: "moved" counts in result["moved"], another
    answer is a warning; the first error that may pass is raised once all are done. Ctrl-C:
    no more writes start, and the action stays queued."""
    errors: list[JiraflowError] = []
    with running([partial(update, issue) for issue in issues], WRITERS) as futures:
        for done, future in enumerate(futures, 1):
            try:
                outcome = future.result()
            except JiraflowError as exc:
                errors.append(exc)
                outcome = ""
            if outcome == "moved":
                result["moved"] += 1
            elif outcome:
                warnings.append(outcome)
            if progress is not None:
                progress(done, len(issues))
    if errors:
        raise errors[0]


KINDS: dict[str, type[Action]] = {
    kind.do: kind for kind in (Assign, Move, Comment, Link, Release, Promote, LogWork)
}
