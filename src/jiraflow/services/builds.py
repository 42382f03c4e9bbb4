"""Build status of pull requests: the builds reported on a pull request's head commit, what
they add up to, and the watch loop `pr checks --watch` and `pr merge --wait` share.

Requests (docs/bitbucket.md, "Build status: pr checks"): Cloud answers a pull request's
statuses by its number, so `pr checks N` is one request and `pr checks` two (the current
branch's pull request, then its statuses); Data Center's build status is per commit, so both
are two (the pull request, for its head commit, then the commit's builds). `--required` on
Data Center adds one (the required-builds merge checks); Cloud names no required builds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jiraflow.errors import JiraflowError, RepoStateError
from jiraflow.gitflow.context import FlowContext
from jiraflow.text import plural

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient, BuildStatus, PullRequest

#: overall() of a set of builds
SUCCESS, FAILURE, PENDING, NONE = "success", "failure", "pending", "none"
FAILED_STATES = ("FAILED", "STOPPED")
RUNNING_STATES = ("INPROGRESS", "UNKNOWN")  # not done: UNKNOWN is waited for like a running one
#: a state as a person reads it
WORDS = {
    "SUCCESSFUL": "successful",
    "FAILED": "failed",
    "INPROGRESS": "running",
    "STOPPED": "stopped",
    "UNKNOWN": "unknown",
}
NOT_REPORTED = "required, not reported yet"


def overall(builds: Iterable[BuildStatus]) -> str:
    """ "failure" when one failed or was stopped, else "pending" while one runs (or its
    state is unknown), "success" when all succeeded, "none" when there are none."""
    states = [b.state for b in builds]
    if not states:
        return NONE
    if any(s in FAILED_STATES for s in states):
        return FAILURE
    if any(s != "SUCCESSFUL" for s in states):
        return PENDING
    return SUCCESS


def done(builds: Iterable[BuildStatus]) -> bool:
    """No build is still running."""
    return not any(b.state in RUNNING_STATES for b in builds)


def summary(builds: list[BuildStatus]) -> str:
    """ "2 successful, 1 running" (in the order of WORDS), or "no builds reported"."""
    if not builds:
        return "no builds reported"
    counts = [(sum(1 for b in builds if b.state == state), word) for state, word in WORDS.items()]
    return ", ".join(f"{n} {word}" for n, word in counts if n)


def duration_text(build: BuildStatus) -> str:
    """ "1m 5s", "42s", "2h 3m"; "" when unknown."""
    duration = build.duration
    if duration is None:
        return ""
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


@dataclass
class Checks:
    """The builds of a pull request's head commit, and how they were read."""

    number: int
    pull: PullRequest | None  # None: not read (Cloud, `pr checks N`)
    builds: list[BuildStatus]
    required: list[str] | None  # --required on Data Center: the keys the merge checks name

    @property
    def commit(self) -> str:
        return self.pull.source_commit if self.pull is not None else ""

    @property
    def overall(self) -> str:
        return overall(self.builds)


class Reader:
    """Reads a pull request's builds: `first()` finds the pull request (the current branch's,
    or number N, as `pr view` does) and its builds; `again()` reads only the builds (each poll
    of a watch: one request)."""

    def __init__(self, flow: FlowContext, number: int | None, *, required: bool = False) -> None:
        from jiraflow.services.pull_requests import forge_for

        forge = forge_for(flow)
        forge.require("pr checks")
        self.flow = flow
        self.number = number
        self.required_only = required
        self.client: BitbucketClient = forge.client
        self.pull: PullRequest | None = None
        self.required: list[str] | None = None

    def first(self) -> Checks:
        builds = None
        if self.number is not None and not self.required_only:
            builds = self.client.pull_request_builds_by_id(self.number)  # Cloud: one request
        if builds is None:
            self.pull = self._pull_request()
            self.number = self.pull.id
            if self.required_only:
                self.required = self.client.required_builds(self.pull.destination)
            builds = self._builds()
        return self._checks(builds)

    def again(self) -> Checks:
        return self._checks(self._builds())

    def _builds(self) -> list[BuildStatus]:
        if self.pull is None:
            assert self.number is not None
            found = self.client.pull_request_builds_by_id(self.number)
            assert found is not None  # only the kinds that can are read so
            return found
        return self.client.pull_request_builds(self.pull)

    def _checks(self, builds: list[BuildStatus]) -> Checks:
        assert self.number is not None
        return Checks(self.number, self.pull, only_required(builds, self.required), self.required)

    def _pull_request(self) -> PullRequest:
        """Pull request N, or the newest of the current branch (one request each: a list
        item carries the head commit and the destination)."""
        from jiraflow.services.pull_requests import STATES

        if self.number is not None:
            return self.client.pull_request(self.number)
        branch = self.flow.current_branch()
        found = self.client.pull_requests(source=branch, states=STATES["all"], limit=1)
        if not found:
            raise RepoStateError(
                f"'{branch}' has no pull request",
                "Open one with `jiraflow pr create`, or name one: `jiraflow pr checks 12`.",
            )
        return found[0]


def only_required(builds: list[BuildStatus], required: list[str] | None) -> list[BuildStatus]:
    """The builds whose keys `required` names, and one UNKNOWN entry for each required key
    not reported yet (a merge waits for it); every build when `required` is None."""
    if required is None:
        return builds
    from jiraflow.bitbucket.client import BuildStatus

    kept = [b for b in builds if b.key in required]
    reported = {b.key for b in kept}
    missing = [
        BuildStatus(key, key, "UNKNOWN", "", None, None, NOT_REPORTED)
        for key in required
        if key not in reported
    ]
    return kept + missing


def build_line(flow: FlowContext, pull: PullRequest) -> str:
    """`Builds: 2 successful, 1 running` of a pull request's head commit, for `pr view` and
    `pr status` (one request); a failure to ask is said in the line, never raised."""
    from jiraflow.services.pull_requests import forge_for

    try:
        return "Builds: " + summary(forge_for(flow).client.pull_request_builds(pull))
    except JiraflowError as exc:
        return f"Builds: unknown ({exc.message})"


def pause(seconds: float) -> None:
    """How the CLI waits between polls (tests replace it)."""
    time.sleep(seconds)


def watch(
    fetch: Callable[[], list[BuildStatus]],
    *,
    interval: float,
    fail_fast: bool = False,
    on_update: Callable[[list[BuildStatus]], None] | None = None,
    sleep: Callable[[float], None] = pause,
    first: list[BuildStatus] | None = None,
) -> list[BuildStatus]:
    """Poll `fetch` every `interval` seconds until no build runs (or, with `fail_fast`, one
    failed), calling `on_update` with each poll's builds; the last builds. `first`: builds
    already read (the first poll then needs no request). No builds at all ends it at once:
    there is nothing to wait for."""
    builds = first if first is not None else fetch()
    while True:
        if on_update is not None:
            on_update(builds)
        if done(builds) or (fail_fast and overall(builds) == FAILURE):
            return builds
        sleep(interval)
        builds = fetch()


def outcome_error(checks: Checks, hint_command: str) -> Exception | None:
    """What `pr checks` exits with: None (0) when all succeeded or none were reported,
    BuildsFailed (1) when one failed or was stopped, BuildsRunning (8) while one runs."""
    from jiraflow.errors import BuildsFailed, BuildsRunning

    builds, result = checks.builds, checks.overall
    where = f"pull request #{checks.number}"
    if result == FAILURE:
        bad = [b for b in builds if b.state in FAILED_STATES]
        names = ", ".join(f"'{b.name}'" for b in bad)
        verb = "failed" if all(b.state == "FAILED" for b in bad) else "failed or stopped"
        first_url = next((b.url for b in bad if b.url), "")
        page = f" ({first_url})" if first_url else ""
        return BuildsFailed(
            f"{plural(len(bad), 'build')} {verb} on {where}: {names}",
            f"Read the build's log{page}, push a fix, then follow the new builds with "
            f"`{hint_command} --watch`.",
        )
    if result == PENDING:
        waiting = [b for b in builds if b.state in RUNNING_STATES]
        return BuildsRunning(
            f"{plural(len(waiting), 'build')} still running on {where}",
            f"Wait for them with `{hint_command} --watch`.",
        )
    return None
