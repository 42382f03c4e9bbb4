"""Work logs: `jiraflow worklog add|list` and the work log of `finish --log DURATION`.

A work log is the user's own request, not a side effect: `worklog add` sends it at once and,
when Jira refuses or cannot be reached, says so (exit 6, or 4 for a refused token) and queues
nothing. `finish --log` is part of a finish: its work log is a remote action like the move
(outbox/actions.py LogWork), delivered after the git part and queued for `jiraflow sync` when
Jira fails (exit 7).

Requests: `worklog add` one (the POST) once the site's kind is known (cached after the first
request to a site) and the issue's site is (one site configured, or the issue seen before);
`worklog list` the work log pages (one per 1000), and who you are the first time.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.jira.tracker import Site, Tracker
    from jiraflow.outbox.actions import Action
    from jiraflow.services.session import Session

STARTED_FORMS = (
    '"HH:MM" (today), "yesterday HH:MM", or an ISO date and time ("2026-12-07 09:30", '
    '"2026-12-07T09:30+01:00"); local time unless it names its zone'
)
_CLOCK = re.compile(r"(\d{1,2}):(\d\d)")
EXAMPLE = "jiraflow worklog add 1h 30m PROJ-12"


def duration(words: list[str]) -> str:
    """The duration the words make ("1h 30m"), normalised; a UsageError (exit 2) with what
    is wrong and an example otherwise. Checked before anything is sent."""
    from jiraflow import durations
    from jiraflow.errors import UsageError

    text = " ".join(words)
    try:
        durations.parse(text)
    except ValueError as exc:
        raise UsageError(f"bad duration: {exc}", f"e.g. `{EXAMPLE}`.") from None
    return durations.normal(text)


def split_arguments(words: tuple[str, ...], projects: list[str]) -> tuple[list[str], str | None]:
    """`worklog add`'s DURATION [KEY]: the leading words that are parts of a duration ("1h",
    "30m"; quoted or not), then at most an issue key."""
    from jiraflow import durations
    from jiraflow.errors import UsageError
    from jiraflow.keys import normalise_key

    parts = [part for word in words for part in word.split()]
    count = durations.leading(parts)
    head, rest = parts[:count], parts[count:]
    if not rest:
        return head, None
    key = normalise_key(rest[0], projects)
    if not head or key is None or len(rest) > 1:
        if not head or key is None:  # a word that is neither: say what is wrong with it
            duration(head + rest[:1])
        raise UsageError(f"expected DURATION [KEY], got {' '.join(words)!r}", f"e.g. `{EXAMPLE}`.")
    return head, key


def started_at(text: str | None, now: datetime.datetime | None = None) -> datetime.datetime:
    """When the work started (an aware time, to the minute when given as a clock time): now
    when not given, else one of STARTED_FORMS."""
    from jiraflow.errors import UsageError

    now = now or datetime.datetime.now().astimezone()
    if text is None:
        return now.replace(microsecond=0)
    words = text.strip().lower().split()
    day = now.date()
    if words and words[0] in ("today", "yesterday"):
        day -= datetime.timedelta(days=words[0] == "yesterday")
        words = words[1:]
    clock = _CLOCK.fullmatch(words[0]) if len(words) == 1 else None
    if clock is not None and 0 <= int(clock[1]) < 24 and 0 <= int(clock[2]) < 60:
        moment = datetime.datetime.combine(day, datetime.time(int(clock[1]), int(clock[2])))
        return moment.astimezone()
    iso = _iso(text.strip()) if len(text.split()) == len(words) else None  # no day word
    if iso is not None:
        return iso
    raise UsageError(
        f"--started {text!r} is not a time jiraflow reads",
        f"Use {STARTED_FORMS}: e.g. `{EXAMPLE} --started 09:30`.",
    )


def _iso(text: str) -> datetime.datetime | None:
    """An ISO date and time (a date alone is not a time), aware: local unless it says."""
    if "t" not in text.lower() and " " not in text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone() if moment.tzinfo is None else moment


def _tracker(state: Session, flow: FlowContext) -> Tracker:
    from jiraflow.errors import ConfigError
    from jiraflow.services.remote import tracker_for

    tracker = tracker_for(flow, state)
    if not tracker.enabled:
        raise ConfigError(
            "work logs need Jira, and none is configured",
            "Set jira.url (`jiraflow config set jira.url https://...`), or JIRAFLOW_JIRA_URL.",
        )
    return tracker


def issue_of(flow: FlowContext, tracker: Tracker, key: str | None) -> str:
    """KEY as given, else the issue the current branch is named with."""
    from jiraflow.errors import UsageError
    from jiraflow.keys import normalise_key
    from jiraflow.services.remote import issue_key

    if key is not None:
        normal = normalise_key(key, tracker.projects)
        if normal is None or not tracker.accepts(normal):
            raise UsageError(
                f"'{key}' is not an issue key of a configured Jira project",
                f"e.g. `{EXAMPLE}`.",
            )
        return normal
    branch = flow.repo.head().branch
    found = issue_key(tracker, flow, branch) if branch else None
    if found is None:
        where = f"the current branch '{branch}'" if branch else "a detached HEAD"
        raise UsageError(f"{where} names no Jira issue", f"Name the issue: `{EXAMPLE}`.")
    return found


def _site(tracker: Tracker, key: str) -> Site:
    """The issue's site: known without asking when one site is configured or the issue was
    seen before; else the one that has it (one read)."""
    url = tracker.site_url(key)
    if url is not None:
        return tracker.site(url)
    return tracker.fetch(key)[1]


def add(
    state: Session,
    flow: FlowContext,
    words: tuple[str, ...],
    *,
    comment: str,
    started: str | None,
) -> dict[str, Any] | None:
    """`worklog add`: the work log as Jira keeps it (None in a dry run, which prints the
    request). Nothing is queued: what Jira refuses is the command's error; when the POST
    got no answer (or one jiraflow cannot read), the error says Jira may have logged it."""
    from jiraflow.errors import RemoteError
    from jiraflow.jira.client import BadAnswer, Unavailable

    tracker = _tracker(state, flow)
    head, key = split_arguments(words, tracker.projects)
    time_spent = duration(head)
    when = started_at(started)
    issue = issue_of(flow, tracker, key)
    if state.dry_run:
        said = f" with comment {comment!r}" if comment else ""
        state.renderer.plan(
            [f"jira: POST issue/{issue}/worklog: {time_spent} started {when.isoformat()}{said}"]
        )
        return None
    site = _site(tracker, issue)
    client = tracker.client(site)
    _ = client.kind  # the site's kind first (cached): a failure there sent no work log
    try:
        logged = client.add_worklog(issue, time_spent, when, comment)
    except (Unavailable, BadAnswer) as exc:
        if not client.may_have_arrived(exc):
            raise
        raise RemoteError(
            f"{exc.message}, after the work log of {time_spent} on {issue} was sent: "
            "Jira may have logged it",
            f"See whether it did with `jiraflow worklog list {issue}` before logging it again.",
        ) from None
    return {"key": issue, **_shown(logged), "url": f"{site.url}/browse/{issue}"}


def mine(state: Session, flow: FlowContext, key: str | None) -> dict[str, Any]:
    """`worklog list`: your work logs on the issue, newest first, and their total."""
    from jiraflow import durations

    tracker = _tracker(state, flow)
    issue = issue_of(flow, tracker, key)
    client = tracker.client(_site(tracker, issue))
    me = client.myself()["id"]
    logs = [log for log in client.worklogs(issue) if log["author"] == me]
    logs.sort(key=lambda log: log["started"], reverse=True)
    total = sum(log["seconds"] for log in logs)
    return {
        "key": issue,
        "worklogs": [_shown(log) for log in logs],
        "total": durations.show(total),
        "total_seconds": total,
    }


def _shown(log: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": log["id"],
        "started": log["started"].astimezone().isoformat(),
        "time_spent": log["time_spent"],
        "seconds": log["seconds"],
        "comment": log["comment"],
    }


def finish_log(tracker: Tracker, flow: FlowContext, branch: str, time_spent: str) -> Action:
    """The work log of `finish --log DURATION` (checked already, by the command, before
    anything changed): on the branch's issue, started now (as Jira's own "Log work" starts
    it)."""
    from jiraflow.errors import ConfigError, UsageError
    from jiraflow.outbox.actions import LogWork
    from jiraflow.services.remote import issue_key

    if not tracker.enabled:
        raise ConfigError(
            "--log needs Jira, and none is configured",
            "Set jira.url (`jiraflow config set jira.url https://...`), or finish without --log.",
        )
    key = issue_key(tracker, flow, branch)
    if key is None:
        raise UsageError(
            f"--log: the branch '{branch}' names no Jira issue",
            "Finish without --log, and log the time with `jiraflow worklog add 1h PROJ-12`.",
        )
    return LogWork.on(tracker, key, time_spent, started_at(None))
