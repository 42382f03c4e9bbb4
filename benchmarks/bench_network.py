"""Count and time jiraflow's HTTP: requests per command, and wall time with injected latency.

Each command runs in-process against the sandbox Jira and Bitbucket (Cloud and Data Center),
in a fresh repository with its bare origin, as a developer would run it: the site caches
already hold what they keep (the Jira site's kind and your account, your Bitbucket user and
the repository's id) unless the row says "first run". Only the measured command sees the
latency; the setup runs at full speed. For each command and flavour it prints the requests
counted at the sandbox, the most of them in flight at once, the median wall time at 0 ms and
at LATENCY ms per request (in-process: no interpreter start-up), and the round trips on the
critical path: the longest chain of requests each sent after the one before was answered
(counted by the sandbox from its request times), about (wall at LATENCY - wall at 0) / LATENCY.

    python benchmarks/bench_network.py [--rounds 3] [--latency 100] [--only "pr create"] [--show]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jiraflow.cli import main as jiraflow
from jiraflow.sandbox.bitbucket import BitbucketSandbox
from jiraflow.sandbox.jira import JiraSandbox
from jiraflow.sandbox.server import RequestRecord, most_in_flight, round_trips

FLAVOURS = ("cloud", "datacenter")


@dataclass
class World:
    """A repository with its bare origin, and the sandboxes jiraflow is pointed at."""

    repo: Path
    jira: JiraSandbox
    bitbucket: BitbucketSandbox

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.repo, capture_output=True, text=True, check=True
        )
        return proc.stdout.strip()

    def commit(self, message: str, name: str = "file.txt") -> None:
        path = self.repo / name
        path.write_text((path.read_text() if path.exists() else "") + message + "\n")
        self.git("add", name)
        self.git("commit", "--quiet", "-m", message)

    def run(self, *args: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = jiraflow(["-C", str(self.repo), *args])
        return code, out.getvalue() + err.getvalue()

    def ok(self, *args: str) -> str:
        code, text = self.run(*args)
        if code != 0:
            raise SystemExit(f"setup failed: jiraflow {' '.join(args)} exited {code}:\n{text}")
        return text

    def records(self) -> list[RequestRecord]:
        return self.jira.requests + self.bitbucket.requests

    def clear(self) -> None:
        self.jira.clear_requests()
        self.bitbucket.clear_requests()

    def latency(self, seconds: float) -> None:
        self.jira.latency = self.bitbucket.latency = seconds


# -- the scenarios: setup, then the measured command ------------------------------------------


def warm(w: World) -> None:
    """What the first command on a machine leaves in the site caches: a start and a pull
    request on another issue (then back on develop)."""
    w.ok("feature", "start", "PROJ-8")  # unassigned: start asks who you are
    w.commit("PROJ-8 upgrade")
    w.ok("pr", "create")
    w.git("checkout", "-q", "develop")


def started(w: World) -> None:
    warm(w)
    w.ok("feature", "start", "PROJ-1")
    w.commit("PROJ-1 add the form")


def first_pr(w: World) -> None:
    """A start: the pull request is the machine's first Bitbucket command."""
    w.ok("feature", "start", "PROJ-1")
    w.commit("PROJ-1 add the form")


def merged(w: World) -> None:
    started(w)
    w.ok("pr", "create")
    name = w.bitbucket.repository_name
    [pull] = [p for p in w.bitbucket.pull_requests(name, "OPEN") if "PROJ-1" in str(p)]
    w.bitbucket.merge(name, pull["id"])


def built(w: World) -> None:
    """An open pull request whose head two CI builds reported on, both successful."""
    started(w)
    w.ok("pr", "create")
    head = w.git("rev-parse", "HEAD")
    for key in ("unit", "lint"):
        w.bitbucket.set_build(w.bitbucket.repository_name, head, key, "SUCCESSFUL", name=key)


def release_of(issues: int) -> Callable[[World], None]:
    def setup(w: World) -> None:
        warm(w)
        keys = [w.jira.add_issue("PROJ", f"Change {i}") for i in range(issues)]
        for key in keys:
            w.git("commit", "--quiet", "--allow-empty", "-m", f"{key} change")
        w.ok("release", "start", "1.1.0")

    return setup


def release_in_qa(issues: int) -> Callable[[World], None]:
    """A release whose issues are In QA, and a team whose release step moves them on to
    "Ready for Release": a transition with no screen, so on Cloud one bulk transition (the
    other setup's "Close" has a screen that requires a resolution: one request per issue)."""

    def setup(w: World) -> None:
        warm(w)
        w.ok("config", "set", "--user", "jira.on.release", "Ready for Release")
        keys = [w.jira.add_issue("PROJ", f"Change {i}", status="In QA") for i in range(issues)]
        for key in keys:
            w.git("commit", "--quiet", "--allow-empty", "-m", f"{key} change")
        w.ok("release", "start", "1.1.0")

    return setup


def rate_limited(setup: Callable[[World], None]) -> Callable[[World], None]:
    """The setup, then Jira's rate limiter on for the measured command: 50 requests a
    second per user, 100 at most at once (a Data Center admin's tight setting)."""

    def limited(w: World) -> None:
        setup(w)
        w.jira.rate_limit(per_second=50, burst=100)

    return limited


def range_of(commits: int) -> Callable[[World], None]:
    def setup(w: World) -> None:
        warm(w)
        keys = [w.jira.add_issue("PROJ", f"Change {i}") for i in range(commits)]
        w.git("checkout", "-q", "-b", "feature/many", "develop")
        for key in keys:
            w.git("commit", "--quiet", "--allow-empty", "-m", f"{key} change")

    return setup


@dataclass
class Scenario:
    name: str
    setup: Callable[[World], None]
    command: tuple[str, ...]


SCENARIOS = (
    Scenario("feature start, first run", lambda w: None, ("feature", "start", "PROJ-1")),
    Scenario("feature start", warm, ("feature", "start", "PROJ-1")),
    Scenario("pr create, first run", first_pr, ("pr", "create")),
    Scenario("pr create", started, ("pr", "create")),
    Scenario("feature finish", merged, ("feature", "finish")),
    Scenario("pr checks", built, ("pr", "checks")),
    Scenario("pr checks N", built, ("pr", "checks", "2")),
    Scenario("pr merge", built, ("pr", "merge")),
    Scenario("release finish, 10 issues", release_of(10), ("release", "finish")),
    Scenario("release finish, 200 issues", release_of(200), ("release", "finish")),
    Scenario("release finish, 1000 issues", release_of(1000), ("release", "finish")),
    Scenario("release finish, 1000 in QA", release_in_qa(1000), ("release", "finish")),
    Scenario(
        "release finish, 1000 issues, rate-limited",
        rate_limited(release_of(1000)),
        ("release", "finish"),
    ),
    Scenario(
        "check range, 100 commits", range_of(100), ("check", "range", "develop..feature/many")
    ),
)


# -- running ----------------------------------------------------------------------------------


@contextlib.contextmanager
def world(flavour: str) -> Iterator[World]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        JiraSandbox(flavour) as jira,
        BitbucketSandbox(flavour) as bitbucket,
    ):
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
        who = jira.user("alice")
        env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.com",
            "GIT_TERMINAL_PROMPT": "0",
            "NO_COLOR": "1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "JIRAFLOW_JIRA_URL": jira.url,
            "JIRAFLOW_JIRA_USER": str(who["email"] if flavour == "cloud" else who["name"]),
            "JIRAFLOW_JIRA_TOKEN": jira.token(),
            "JIRAFLOW_BITBUCKET_URL": bitbucket.api_url,
            "JIRAFLOW_BITBUCKET_USER": bitbucket.login(),
            "JIRAFLOW_BITBUCKET_TOKEN": bitbucket.token(),
            "JIRAFLOW_BITBUCKET_REPOSITORY": bitbucket.repository_name,
        }
        saved = dict(os.environ)
        for key in list(os.environ):
            if key.startswith(("JIRAFLOW_", "GIT_")):
                del os.environ[key]
        os.environ.update(env)
        try:
            repo = root / "repo"
            origin = root / "origin.git"
            repo.mkdir()
            subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
            w = World(repo, jira, bitbucket)
            w.git("init", "-q", "-b", "main")
            w.commit("Initial commit", "README")
            w.git("remote", "add", "origin", str(origin))
            w.git("push", "-q", "-u", "origin", "main")
            w.ok("init", "--defaults")
            w.git("push", "-q", "-u", "origin", "develop")
            bitbucket.set_git_dir(bitbucket.repository_name, origin)
            yield w
        finally:
            os.environ.clear()
            os.environ.update(saved)


@dataclass
class Measure:
    requests: int
    trips: int
    at_once: int
    wall: float  # seconds


def measure(scenario: Scenario, flavour: str, latency: float, show: bool) -> Measure:
    with world(flavour) as w:
        scenario.setup(w)
        w.clear()
        w.latency(latency)
        start = time.perf_counter()
        code, text = w.run(*scenario.command)
        wall = time.perf_counter() - start
        w.latency(0.0)
        if code != 0:
            raise SystemExit(f"{scenario.name} ({flavour}) exited {code}:\n{text}")
        records = w.records()
        refused = sum(1 for r in records if r.status == 429)
        if refused:  # rate-limited: each refused request was sent again, and none failed
            failed = sum(1 for r in records if r.status >= 300 and r.status != 429)
            print(
                f"  {scenario.name} ({flavour}, {latency * 1000:.0f} ms): {refused} answers "
                f"429, {failed} failed, {time.perf_counter() - start:.0f} s"
            )
        if show:
            origin = min((r.started for r in records), default=0.0)
            print(f"\n{scenario.name} ({flavour}, {latency * 1000:.0f} ms):")
            for r in sorted(records, key=lambda r: r.started):
                begin, end = (r.started - origin) * 1000, (r.finished - origin) * 1000
                print(f"  {begin:7.0f} {end:7.0f}  {r.method:<6} {r.path}")
        return Measure(len(records), round_trips(records), most_in_flight(records), wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per cell (median)")
    parser.add_argument("--latency", type=float, default=100.0, help="ms per request")
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--show", action="store_true", help="list the requests of each run")
    args = parser.parse_args()
    latency = args.latency / 1000
    for module in ("jira", "requests", "git", "jiraflow.jira.client", "jiraflow.bitbucket.client"):
        importlib.import_module(module)  # no measured command pays for the first import
    chosen = [s for s in SCENARIOS if not args.only or args.only in s.name]
    print(
        f"{'command':<28}{'flavour':<12}{'requests':>9}{'at once':>9}{'0 ms':>9}"
        f"{f'{args.latency:.0f} ms':>9}{'round trips':>13}   ({args.rounds} rounds, medians)"
    )
    for scenario in chosen:
        for flavour in FLAVOURS:
            fast = [measure(scenario, flavour, 0.0, args.show) for _ in range(args.rounds)]
            slow = [measure(scenario, flavour, latency, args.show) for _ in range(args.rounds)]
            counts = "/".join(map(str, sorted({m.requests for m in fast + slow})))
            trips = sorted({m.trips for m in slow})
            shown = str(trips[0]) if len(trips) == 1 else f"{trips[0]}-{trips[-1]}"
            print(
                f"{scenario.name:<28}{flavour:<12}{counts:>9}"
                f"{max(m.at_once for m in slow):>9}"
                f"{statistics.median(m.wall for m in fast) * 1000:>8.0f}ms"
                f"{statistics.median(m.wall for m in slow) * 1000:>8.0f}ms{shown:>13}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
