"""The outbox: the remote actions that are not delivered yet (.git/jiraflow/outbox.json),
and their delivery. An action enters it before it is first tried, so that from then on
nothing is lost; what succeeds (or turns out to be moot) leaves it; `jiraflow sync` replays
it, `jiraflow sync --drop` forgets it.

The file is a JSON list of actions in their stored form (see actions.py), each with the
notes made on the way ("queued", "error", and a comment's "tried"/"sent"). A file that is not
a list of actions jiraflow writes stops the command (exit 5) and is never overwritten.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jiraflow import store
from jiraflow.errors import JiraflowError, RemoteError, RepoStateError
from jiraflow.outbox.actions import KINDS, Action, PostOnce

if TYPE_CHECKING:
    from jiraflow.jira.issues import Issue
    from jiraflow.jira.tracker import Tracker

OUTBOX = "outbox.json"
# Seconds after a comment's (or a work log's) POST got no answer before jiraflow may post it
# again (when it is still not in Jira): a server can save a request after the client stopped
# waiting for it.
COMMENT_GRACE = 120

# What every action holds (each kind adds its own fields: Action.fields); other keys are
# notes made on the way ("queued", "error", "tried", "reached", "result"...).
_ACTION = {
    "id": store.NAME,
    "site": (str, None),
    "key": store.NAME,
    "do": str,
    "queued?": str,
    "error?": str,
}


def from_json(data: dict[str, Any]) -> Action:
    """The action of that stored form (checked by check_actions)."""
    return KINDS[data["do"]](data)


def check_actions(actions: Any, where: str = "") -> list[Action]:
    """The actions when `actions` is a list of remote actions jiraflow could have written
    (in the outbox or the journal), else jiraflow.store.Damaged saying what is wrong where."""
    store.check(actions, [_ACTION], where)
    typed = []
    for i, data in enumerate(actions):
        at = f"{where}[{i}]"
        kind = KINDS.get(data["do"])
        if kind is None:
            raise store.Damaged(f"{data['do']!r} is not an action jiraflow knows", f"{at}.do")
        action = kind(data)
        action.check(at)
        typed.append(action)
    return typed


@dataclass
class Delivery:
    """What became of a batch of actions."""

    done: list[Action] = field(default_factory=list)
    skipped: list[tuple[Action, str]] = field(default_factory=list)  # moot, with why
    failed: list[tuple[Action, JiraflowError]] = field(default_factory=list)  # queued


class Outbox:
    """The outbox of the tracker's repository, and delivery through the tracker."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.path = os.path.join(tracker.state_dir, OUTBOX)

    def read(self) -> list[Action]:
        """The queued actions. A file that is not a list of actions jiraflow writes stops the
        command (exit 5): it is never overwritten, which would lose what it queued."""
        hint = (
            "`cat {path}` shows the queued Jira updates; `rm {path}` forgets them "
            "(then make them in Jira by hand)."
        )
        data = store.read_json(self.path, [], hint, [dict])
        try:
            return check_actions(data)
        except store.Damaged as exc:
            raise RepoStateError(
                f"{self.path} is damaged ({exc})", hint.format(path=self.path)
            ) from None

    def _write(self, actions: list[Action]) -> None:
        store.write_json(self.path, [a.to_json() for a in actions])

    def enqueue(self, actions: list[Action]) -> None:
        """Put actions in the outbox (again is harmless): from here on nothing is lost."""
        queued = self.read()
        ids = {a["id"] for a in queued}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        queued += [from_json({**a, "queued": stamp}) for a in actions if a["id"] not in ids]
        self._write(queued)

    def dequeue(self, action: Action) -> None:
        self._write([a for a in self.read() if a["id"] != action["id"]])

    def note(self, action: Action, **facts: Any) -> None:
        """Note facts on the action, and on its entry in the outbox."""
        action.update(facts)
        queued = self.read()
        for entry in queued:
            if entry["id"] == action["id"]:
                entry.update(facts)
        self._write(queued)

    def unnote(self, action: Action, fact: str) -> None:
        action.pop(fact, None)
        queued = self.read()
        for entry in queued:
            if entry["id"] == action["id"]:
                entry.pop(fact, None)
        self._write(queued)

    def hold_resend(self, action: PostOnce) -> None:
        """RemoteError while a comment (or a work log) whose POST got no answer ("sent") may
        still be saved by Jira: until a grace period after it was sent (COMMENT_GRACE, and at
        least four timeouts) has passed, it is not posted again but stays queued."""
        sent = action.get("sent")
        if sent is None:
            return
        grace = max(COMMENT_GRACE, 4 * self.tracker.config.jira.timeout)
        due = sent + grace
        if time.time() < due:
            at = time.strftime("%H:%M:%S", time.localtime(due))
            since = time.strftime("%H:%M:%S", time.localtime(sent))
            words = action.resend
            raise RemoteError(
                f"the {words.noun} sent at {since} was not confirmed and is not in Jira yet; "
                f"{words.again} now could {words.twice} twice",
                f"Run `jiraflow sync` after {at}: it {words.does} only if the first "
                f"{words.first} never arrived.",
            )

    def drop(self) -> list[Action]:
        """Forget every queued action (the user will update Jira by hand)."""
        pending = self.read()
        self._write([])
        return pending

    def sync(self) -> Delivery:
        """Deliver everything in the outbox."""
        return self.deliver(self.read())

    def deliver(self, actions: list[Action], known: Issue | None = None) -> Delivery:
        """Run queued actions in order; what succeeds (or turns out to be moot) leaves the
        outbox. After one fails, the later actions on the same issue wait too (a move must
        not overtake an assignment that failed)."""
        from jiraflow.jira.client import IssueNotFound

        result = Delivery()
        if not actions:
            return result
        self.enqueue(actions)
        blocked: set[str] = set()
        tracker = self.tracker
        progress = tracker.progress if len(actions) > 1 else None  # a release reports its own
        for done, action in enumerate(actions):
            if progress is not None and done:
                progress("jira: sending queued actions", done, len(actions))
            if action["key"] in blocked:
                result.failed.append((action, RemoteError("waiting for the action before it")))
                continue
            try:
                known, note = action.deliver(tracker, self, known)
            except IssueNotFound as exc:  # no such issue: retrying cannot help
                if not action.missing_is_moot:  # one issue of many: a retry must still run
                    blocked.add(action["key"])
                    result.failed.append((action, exc))
                    self.note(action, error=exc.message)
                    continue
                self.dequeue(action)
                result.skipped.append((action, exc.message))
                continue
            except JiraflowError as exc:
                blocked.add(action["key"])
                result.failed.append((action, exc))
                self.note(action, error=exc.message)
                continue
            self.dequeue(action)
            if note:
                result.skipped.append((action, note))
            else:
                result.done.append(action)
        if progress is not None:
            progress("jira: sending queued actions", len(actions), len(actions))
        return result
