"""Request budgets: what each everyday command asks of Jira and Bitbucket, counted at the
sandbox (Cloud and Data Center), and how many round trips its critical path takes.

The counts are exact, by method and kind of path, so that a request added by accident fails a
test. Round trips are counted by the sandbox from when each request arrived and was answered
(sandbox.server.round_trips): with 100 ms of latency per request, requests sent together
reliably overlap and requests sent one after another never do, so the count is deterministic
without timing anything. Wall times are for benchmarks/bench_network.py.

Unless a test says "first run", the site caches already hold what they keep (the Jira site's
kind and your account, your Bitbucket user, the repository's id): `warm` does what a first
day of work does.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from conftest import Sites
from gitutil import Repo, Result
from jiraflow.outbox.actions import WRITERS
from jiraflow.sandbox.server import RequestRecord, most_in_flight, round_trips

LATENCY = 0.1
#: the kinds of path, Jira's and Bitbucket's of both flavours (the first that matches names it)
PATHS = (
    ("serverInfo", r"/rest/api/\d/serverInfo"),
    ("myself", r"/rest/api/\d/myself"),
    ("issue", r"/rest/api/\d/issue/[A-Z]+-\d+"),
    ("assignee", r"/rest/api/\d/issue/[A-Z]+-\d+/assignee"),
    ("transitions", r"/rest/api/\d/issue/[A-Z]+-\d+/transitions"),
    ("remotelink", r"/rest/api/\d/issue/[A-Z]+-\d+/remotelink"),
    ("comment", r"/rest/api/\d/issue/[A-Z]+-\d+/comment"),
    ("search", r"/rest/api/\d/search(/jql)?"),
    ("versions", r"/rest/api/\d/project/[A-Z]+/versions"),
    ("version", r"/rest/api/\d/version"),
    ("version/ID", r"/rest/api/\d/version/\d+"),
    ("bulk edit", r"/rest/api/3/bulk/issues/fields"),  # Cloud's bulk operations (issue 22)
    ("bulk transition", r"/rest/api/3/bulk/issues/transition"),
    ("bulk task", r"/rest/api/3/bulk/queue/\d+"),
    ("user", r"/2\.0/user"),
    ("repository", r"/2\.0/repositories/[^/]+/[^/]+|/rest/api/1\.0/projects/[^/]+/repos/[^/]+"),
    ("pull requests", r".*/(pullrequests|pull-requests)"),
    ("default reviewers", r".*/(effective-default-reviewers|reviewers)"),
)


def kind_of(record: RequestRecord) -> str:
    for name, pattern in PATHS:
        if re.fullmatch(pattern, record.path):
            return f"{record.method} {name}"
    raise AssertionError(f"a request no budget knows: {record.method} {record.path}")


@dataclass
class Measured:
    result: Result
    requests: Counter[str]
    records: list[RequestRecord]

    @property
    def trips(self) -> int:
        """Round trips on the critical path."""
        return round_trips(self.records)

    @property
    def at_once(self) -> int:
        """The most requests in flight at the same moment."""
        return most_in_flight(self.records)

    def trips_of(self, *kinds: str) -> int:
        """Round trips of these kinds of request alone."""
        return round_trips(r for r in self.records if kind_of(r) in kinds)


def measure(sites: Sites, run: Callable[..., Result], repo: Repo, *args: str) -> Measured:
    """Run the command with latency on every request of both sandboxes, and count."""
    sites.clear_requests()
    sites.jira.latency = sites.bitbucket.latency = LATENCY
    try:
        result = run(repo, *args)
    finally:
        sites.jira.latency = sites.bitbucket.latency = 0.0
    assert result.code == 0, result.err
    records = sites.jira.requests + sites.bitbucket.requests
    return Measured(result, Counter(kind_of(r) for r in records), records)


def warm(run: Callable[..., Result], repo: Repo) -> None:
    """A first day: a start (of an unassigned issue: start asks who you are) and its pull
    request fill the site caches. Back on develop afterwards."""
    assert run(repo, "feature", "start", "PROJ-8").code == 0
    repo.commit("deps.txt", "upgraded\n", "PROJ-8 upgrade the dependencies")
    assert run(repo, "pr", "create").code == 0
    repo.git("checkout", "-q", "develop")


def started(run: Callable[..., Result], repo: Repo) -> None:
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    repo.commit("login.html", "<form></form>\n", "PROJ-1 add the login form")


# -- feature start ---------------------------------------------------------------------------


def test_feature_start_first_run_asks_who_you_are_with_the_issue(
    repo: Repo, run, sites: Sites
) -> None:
    got = measure(sites, run, repo, "feature", "start", "PROJ-1")
    assert got.requests == {
        "GET serverInfo": 1,  # the site's kind, once per site and machine
        "GET issue": 1,
        "GET myself": 1,  # with the issue: one round trip for both
        "PUT assignee": 1,
        "POST transitions": 1,
    }
    assert got.trips == 4 and got.at_once == 2
    assert sites.jira.issue("PROJ-1")["status"] == "In Progress"


def test_feature_start(repo: Repo, run, sites: Sites) -> None:
    warm(run, repo)
    got = measure(sites, run, repo, "feature", "start", "PROJ-1")
    assert got.requests == {"GET issue": 1, "PUT assignee": 1, "POST transitions": 1}
    assert got.trips == 3  # the assignment and the move stay in order (the outbox rule)


# -- pr create -------------------------------------------------------------------------------


def test_pr_create_first_run_reads_everything_at_once(repo: Repo, run, sites: Sites) -> None:
    started(run, repo)  # the issue's summary is cached; Bitbucket is new
    got = measure(sites, run, repo, "pr", "create")
    reads = {"GET pull requests": 1, "GET default reviewers": 1, "GET issue": 1}
    writes = {"POST pull requests": 1, "POST remotelink": 1, "POST transitions": 1}
    if sites.kind == "cloud":
        assert got.requests == {**reads, "GET user": 1, **writes}
        assert got.trips == 4 and got.at_once == 4  # the four reads, then the three writes
    else:  # the default reviewers need the repository's numeric id first
        assert got.requests == {**reads, "GET repository": 1, **writes}
        assert got.trips == 5 and got.at_once == 3
    assert sites.jira.issue("PROJ-1")["status"] == "In Review"


def test_pr_create(repo: Repo, run, sites: Sites) -> None:
    warm(run, repo)
    started(run, repo)
    got = measure(sites, run, repo, "pr", "create")
    assert got.requests == {
        "GET pull requests": 1,  # one already open?
        "GET default reviewers": 1,
        "GET issue": 1,  # read ahead for the move to In Review
        "POST pull requests": 1,
        "POST remotelink": 1,
        "POST transitions": 1,
    }
    assert got.trips == 4 and got.at_once == 3
    assert [p["state"] for p in sites.prs()] == ["OPEN", "OPEN"]


def test_pr_create_again_shows_the_open_one(repo: Repo, run, sites: Sites) -> None:
    warm(run, repo)
    started(run, repo)
    assert run(repo, "pr", "create").code == 0
    got = measure(sites, run, repo, "pr", "create")
    assert "is already open" in got.result.out
    assert got.requests == {
        "GET pull requests": 1,
        "GET default reviewers": 1,  # asked with the others, before the answer is known
        "GET issue": 1,
        "POST remotelink": 1,  # the same link again (upserted)
    }  # already In Review: no move
    assert got.trips == 2


# -- feature finish --------------------------------------------------------------------------


def test_feature_finish_after_the_pull_request_merged(repo: Repo, run, sites: Sites) -> None:
    warm(run, repo)
    started(run, repo)
    assert run(repo, "pr", "create").code == 0
    [pull] = [p for p in sites.prs() if "PROJ-1" in str(p)]
    sites.bitbucket.merge(sites.name, pull["id"])
    got = measure(sites, run, repo, "feature", "finish")
    assert got.requests == {"GET pull requests": 1, "GET issue": 1, "POST transitions": 1}
    # the issue is read together with the question whether the pull request merged
    assert got.trips == 2 and got.at_once == 2
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


# -- release finish --------------------------------------------------------------------------


def release_of(sites: Sites, run: Callable[..., Result], repo: Repo, issues: int) -> None:
    """A release branch whose commits name `issues` new issues (To Do, no fixVersion)."""
    warm(run, repo)
    for i in range(issues):
        key = sites.jira.add_issue("PROJ", f"Change {i}")
        repo.git("commit", "--quiet", "--allow-empty", "-m", f"{key} change {i}")
    assert run(repo, "release", "start", "1.1.0").code == 0


def test_release_finish_of_10_issues(repo: Repo, run, sites: Sites) -> None:
    release_of(sites, run, repo, 10)
    got = measure(sites, run, repo, "release", "finish")
    assert got.requests == {
        "POST search": 1,
        "GET versions": 1,  # with the search
        "POST version": 1,
        "PUT issue": 10,  # fixVersion
        "POST transitions": 10,
        "PUT version/ID": 1,  # released, last
    }
    assert got.trips_of("POST search", "GET versions") == 1
    writes = 2 * math.ceil(10 / WRITERS)  # each issue's two writes in order, WRITERS at once
    assert got.trips == 1 + 1 + writes + 1
    assert got.at_once == WRITERS


def test_release_finish_of_200_issues(repo: Repo, run, sites: Sites) -> None:
    release_of(sites, run, repo, 200)
    got = measure(sites, run, repo, "release", "finish")
    if sites.kind == "cloud":  # fixVersions by one bulk edit; "Close" needs a resolution:
        polls = got.requests.pop("GET bulk task")  # no bulk transition gives one
        assert got.requests == {
            "POST search": 2,
            "GET versions": 1,
            "POST version": 1,
            "POST bulk edit": 1,
            "POST transitions": 200,
            "PUT version/ID": 1,
        }
        assert polls == 2 and got.at_once == WRITERS
        assert sum(got.requests.values()) + polls == 208  # README, docs/performance.md
        lockstep = 1 + 1 + 1 + polls + math.ceil(200 / WRITERS) + 1
        assert lockstep == 31  # the benchmark measures 31 (docs/performance.md)
        assert lockstep <= got.trips < lockstep + math.ceil(200 / WRITERS)
        assert "200 issues have fixVersion 1.1.0" in got.result.out
        return
    assert got.requests == {
        "POST search": 2,  # 100 keys each, sent together with the versions read
        "GET versions": 1,
        "POST version": 1,
        "PUT issue": 200,
        "POST transitions": 200,
        "PUT version/ID": 1,
    }
    assert got.trips_of("POST search", "GET versions") == 1
    assert got.at_once == WRITERS
    # 53 in a perfect lockstep. Over 50 waves of writes the writers drift apart (more so on
    # a busy machine), and a chain can hop from one writer's request to another's, so the
    # count is not exact; it stays well below what half as many writers would take (103),
    # which is the regression this guards against (at_once above checks the concurrency).
    lockstep = 1 + 1 + 2 * math.ceil(200 / WRITERS) + 1
    assert sum(got.requests.values()) == 405 and lockstep == 53  # the benchmark: 54
    assert lockstep <= got.trips < 1 + 1 + 2 * math.ceil(200 / (WRITERS // 2)) + 1
    assert "200 issues have fixVersion 1.1.0" in got.result.out


# -- check range -----------------------------------------------------------------------------


def commits_of_new_issues(sites: Sites, repo: Repo, count: int) -> None:
    """feature/many from develop, with a commit for each of `count` new issues."""
    repo.git("checkout", "-q", "-b", "feature/many", "develop")
    for i in range(count):
        key = sites.jira.add_issue("PROJ", f"Change {i}")
        repo.git("commit", "--quiet", "--allow-empty", "-m", f"{key} change {i}")


def test_check_range_of_100_commits_is_one_search(repo: Repo, run, sites: Sites) -> None:
    warm(run, repo)
    commits_of_new_issues(sites, repo, 100)
    got = measure(sites, run, repo, "check", "range", "develop..feature/many")
    assert got.requests == {"POST search": 1}
    assert got.trips == 1


def test_a_check_of_150_keys_sends_its_two_searches_together(repo: Repo, run, sites: Sites) -> None:
    warm(run, repo)
    commits_of_new_issues(sites, repo, 150)
    got = measure(sites, run, repo, "check", "range", "develop..feature/many")
    assert got.requests == {"POST search": 2}  # 100 keys per search
    assert got.trips == 1 and got.at_once == 2


# -- the counting itself ---------------------------------------------------------------------


def test_round_trips_follow_the_longest_chain_and_count_overlaps_once() -> None:
    def span(start: float, end: float) -> RequestRecord:
        return RequestRecord("GET", "/", {}, b"", 200, {}, start, end)

    together = [span(0.0, 1.0), span(0.1, 1.1)]  # sent at once
    then = [span(1.2, 2.2), span(1.5, 2.0), span(2.3, 3.3)]  # after; two of them at once
    assert round_trips(together + then) == 3
    assert most_in_flight(together + then) == 2
    assert round_trips([span(0.0, 1.0), span(1.1, 2.0), span(2.1, 3.0)]) == 3  # one by one
    assert most_in_flight([span(0.0, 1.0), span(1.1, 2.0)]) == 1
    assert round_trips([]) == most_in_flight([]) == 0
