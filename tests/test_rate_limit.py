"""Rate limits: the sandbox's limiter answers 429 as each flavour does, and jiraflow slows down
instead of failing: every thread talking to the site waits out one wait together, for at most
a budget of waiting, with a line on stderr per wait (not per thread).

Waiting is on a fake clock shared by the sandbox's limiter and jiraflow's waits (http.clock),
so a command that waits minutes of "time" runs in a moment, and nothing here is timed.
"""

from __future__ import annotations

import math
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow import http
from jiraflow.outbox.actions import WRITERS
from jiraflow.sandbox.bitbucket import BitbucketSandbox
from jiraflow.sandbox.jira import JiraSandbox
from openapi_check import SpecValidator, load_spec
from test_request_budgets import release_of
from test_sandbox_jira import VARIANTS, call, error_messages, reference_dir

SLOW_DOWN = "Jira asks jiraflow to slow down; waiting"


class FakeClock:
    """Monotonic time that only moves when someone sleeps (and then at once)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds
            self.slept.append(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(http, "clock", fake)
    return fake


@pytest.fixture(params=["cloud", "datacenter"])
def sb(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with JiraSandbox(request.param) as sandbox:
        yield sandbox


def refused(records: Any) -> int:
    return sum(1 for r in records if r.status == 429)


# -- the sandbox's limiter ---------------------------------------------------------------------


def test_the_limiter_is_off_by_default(sb: JiraSandbox) -> None:
    replies = [call(sb, "GET", "myself") for _ in range(30)]
    assert {r.status for r in replies} == {200}
    assert not any("X-RateLimit-Limit" in r.headers for r in replies)


def test_a_user_past_the_rate_is_answered_429_as_the_flavour_does(
    sb: JiraSandbox, clock: FakeClock
) -> None:
    sb.rate_limit(per_second=2, burst=5, clock=clock.now)
    served = [call(sb, "GET", "myself") for _ in range(5)]
    assert [r.status for r in served] == [200] * 5
    limited = call(sb, "GET", "myself")
    assert limited.status == 429
    # the body: Jira's ErrorCollection, checked against the spec of each variant
    for flavour, _prefix, spec_file in VARIANTS.values():
        if flavour == sb.flavour:
            validator = SpecValidator(load_spec(reference_dir() / "specs" / spec_file), {})
            assert validator.validate(limited.body, validator.schema("ErrorCollection")) == []
    assert "Rate limit exceeded." in error_messages(limited)
    headers = limited.headers
    assert headers["Retry-After"] == "1"  # a token comes back in half a second
    assert headers["X-RateLimit-Limit"] == "5" and headers["X-RateLimit-Remaining"] == "0"
    if sb.flavour == "cloud":
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", headers["X-RateLimit-Reset"])
        assert headers["RateLimit-Reason"] == "jira-burst-based"
        # under 20% of the budget left: the answers before say so
        assert [r.headers.get("X-RateLimit-NearLimit") for r in served] == [None] * 4 + ["true"]
    else:  # Data Center: the token bucket on every answer
        assert headers["X-RateLimit-Interval-Seconds"] == "1"
        assert headers["X-RateLimit-FillRate"] == "2"
        assert [r.headers["X-RateLimit-Remaining"] for r in served] == ["4", "3", "2", "1", "0"]
        assert served[0].headers["Retry-After"] == "0"  # tokens left: no wait
    assert call(sb, "GET", "myself", auth="bob").status == 200  # a bucket per user
    clock.sleep(1.0)  # two tokens back
    assert [call(sb, "GET", "myself").status for _ in range(3)] == [200, 200, 429]


def test_a_refused_request_is_not_carried_out(sb: JiraSandbox, clock: FakeClock) -> None:
    sb.rate_limit(per_second=1, burst=1, clock=clock.now)
    assert call(sb, "GET", "myself").status == 200
    comment = {"body": "hello"} if sb.flavour == "datacenter" else {"body": _adf("hello")}
    assert call(sb, "POST", "issue/PROJ-1/comment", comment).status == 429
    sb.rate_limit(None)
    assert call(sb, "GET", "issue/PROJ-1/comment").body["total"] == 0


def _adf(text: str) -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def test_the_control_endpoint_sets_and_clears_the_limit(sb: JiraSandbox) -> None:
    url = f"{sb.url}/_sandbox/rate-limit"
    import requests

    assert requests.post(url, json={"per_second": 0.5, "burst": 1}, timeout=5).status_code == 204
    assert [call(sb, "GET", "myself").status for _ in range(2)] == [200, 429]
    assert requests.delete(url, timeout=5).status_code == 204
    assert call(sb, "GET", "myself").status == 200


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_bitbucket_answers_429_in_its_envelope(flavour: str) -> None:
    import requests

    with BitbucketSandbox(flavour) as bb:
        bb.rate_limit(per_second=1, burst=1)
        url = f"{bb.url}/2.0/user" if flavour == "cloud" else f"{bb.url}/rest/api/1.0/users"
        first = requests.get(url, timeout=5)
        limited = requests.get(url, timeout=5)
    assert first.status_code != 429 and limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    body = limited.json()
    if flavour == "cloud":
        assert body == {"type": "error", "error": {"message": "Rate limit exceeded."}}
    else:
        assert body["errors"][0]["message"] == "Rate limit exceeded."


# -- what jiraflow reads in a 429 --------------------------------------------------------------


def answer(**headers: str) -> Any:
    return SimpleNamespace(headers=headers, status_code=429)


def test_the_wait_comes_from_retry_after_then_beta_retry_after_then_the_reset() -> None:
    assert http.asked_wait(answer(**{"Retry-After": "4", "Beta-Retry-After": "9"})) == 4.0
    assert http.asked_wait(answer(**{"Beta-Retry-After": "9"})) == 9.0
    # Cloud's X-RateLimit-Reset: an ISO 8601 time to the minute
    reset = datetime.fromtimestamp(time.time() + 600, UTC).strftime("%Y-%m-%dT%H:%MZ")
    wait = http.asked_wait(answer(**{"X-RateLimit-Reset": reset}))
    assert wait is not None and 540 <= wait <= 600
    assert http.asked_wait(answer(**{"X-RateLimit-Reset": str(time.time() + 30)})) > 25
    assert http.asked_wait(answer()) is None
    for _ in range(50):  # jitter: never less than asked, at most 30% more
        assert 4.0 <= http.rate_wait(answer(**{"Retry-After": "4"}), 1) <= 5.2
        assert 3.5 <= http.rate_wait(answer(), 1) <= 6.5  # 5 s, times 0.7 to 1.3
        assert 14.0 <= http.rate_wait(answer(), 3) <= 26.0  # 5, 10, 20, ... at most 30
        assert http.rate_wait(answer(), 9) <= 39.0


def test_near_the_limit_requests_go_one_at_a_time() -> None:
    gate = http.Gate()
    ok = SimpleNamespace(headers={}, status_code=200)
    near = SimpleNamespace(headers={"X-RateLimit-NearLimit": "true"}, status_code=200)
    low = SimpleNamespace(
        headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "19"}, status_code=200
    )
    for answered in (near, low):
        gate.enter()
        gate.leave(answered)  # the site says the budget runs low
        gate.enter()  # one request in flight
        entered = threading.Event()
        threading.Thread(target=_enter, args=(gate, entered), daemon=True).start()
        assert not entered.wait(0.2)  # a second one waits for it
        gate.leave(ok)  # answered, and the budget is fine again
        assert entered.wait(5)
        gate.leave(ok)


def _enter(gate: http.Gate, entered: threading.Event) -> None:
    gate.enter()
    entered.set()


# -- commands under a rate limit ---------------------------------------------------------------


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_a_release_of_200_issues_under_a_tight_limit_slows_down_and_fails_no_write(
    repo: Repo, run, sites: Sites, clock: FakeClock
) -> None:
    release_of(sites, run, repo, 200)
    sites.clear_requests()
    burst = 20
    sites.jira.rate_limit(per_second=20, burst=burst, clock=clock.now)
    sites.jira.latency = 0.01  # the writers' requests overlap
    try:
        result = run(repo, "release", "finish")
    finally:
        sites.jira.latency = 0.0
        sites.jira.rate_limit(None)
    assert result.code == 0, result.err
    records = sites.jira.requests
    writes = [r for r in records if r.method in ("PUT", "POST") and "/issue/" in r.path]
    done = [r for r in writes if r.status < 300]
    assert refused(records) > 0  # the limit bit
    assert [r.status for r in done if r.status >= 300] == []
    assert len([r for r in done if r.method == "PUT"]) == 200  # every issue written once
    assert len([r for r in done if r.method == "POST"]) == 200
    assert all(r.status in (204, 429) for r in writes)  # no write failed in any other way
    for key in (f"PROJ-{n}" for n in (13, 100, 212)):
        issue = sites.jira.issue(key)
        assert issue["status"] == "Done" and "1.1.0" in str(issue["fixVersions"])
    # the writers waited together: one line per wait, a wait per refill of the bucket, and
    # at most a refusal per writer for each
    notes = [line for line in result.err.splitlines() if line.startswith(SLOW_DOWN)]
    answered = len(records) - refused(records)
    assert 0 < len(notes) == len(clock.slept) <= answered // burst + 1
    assert refused(records) <= WRITERS * (len(notes) + 1)
    assert re.search(r"waiting 1 s \(\d+/200 done\)", result.err)
    assert sum(clock.slept) <= http.RATE_BUDGET


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_a_cloud_release_under_a_limit_honours_cloud_headers_and_completes(
    repo: Repo, run, sites: Sites, clock: FakeClock
) -> None:
    release_of(sites, run, repo, 40)
    sites.clear_requests()
    sites.jira.rate_limit(per_second=5, burst=8, clock=clock.now)
    try:
        result = run(repo, "release", "finish")
    finally:
        sites.jira.rate_limit(None)
    assert result.code == 0, result.err
    assert refused(sites.jira.requests) > 0
    # each wait is the Retry-After Cloud sent (1 s: a token in 0.2 s), plus at most 30%
    assert clock.slept and all(1.0 <= wait <= 1.3 for wait in clock.slept)
    for n in range(13, 53):
        issue = sites.jira.issue(f"PROJ-{n}")
        assert issue["status"] == "Done" and "1.1.0" in str(issue["fixVersions"])


@pytest.mark.parametrize("jira", ["cloud"], indirect=True)
def test_a_wait_longer_than_the_budget_queues_the_update(
    repo: Repo, run, jira: JiraSandbox, clock: FakeClock
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    jira.fault("status", status=429, retry_after=3600, path="/issue/", times=None)
    result = run(repo, "feature", "finish")
    assert result.code == 7
    # an interactive command waits at most SHORT_BUDGET: a finish is not a batch write
    assert "asks jiraflow to wait 3600 s more, beyond the 20 s this command waits" in result.err
    assert "run `jiraflow sync`" in result.err
    # the issue read ahead and read again to move it: each refused once, never waited for
    assert refused(jira.requests) == 2 and clock.slept == []
    jira.clear_faults()
    assert run(repo, "sync").code == 0
    assert jira.issue("PROJ-1")["status"] == "Done"


@pytest.mark.parametrize("jira", ["datacenter"], indirect=True)
def test_the_budget_is_for_all_the_waits_of_a_command(
    repo: Repo, run, jira: JiraSandbox, clock: FakeClock
) -> None:
    jira.fault("status", status=429, retry_after=7, path="/issue/PROJ-1", times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6
    assert clock.slept and sum(clock.slept) <= http.SHORT_BUDGET
    assert len(clock.slept) == 2  # 7 to 9.1 s each: a third would pass 20 s
    assert "beyond the 20 s this command waits" in result.err
    # nothing was queued: the command is simply run again (not `sync`)
    assert "hint: Wait a few minutes, then run the command again." in result.err
    assert "sync" not in result.err
    assert repo.branch() == "develop"


# -- waits that are no waits, budgets, and the state of each command ------------------------------


def test_a_wait_that_is_no_number_or_not_ahead_counts_as_none() -> None:
    past = datetime.fromtimestamp(time.time() - 120, UTC)
    for value in ("nan", "inf", "-inf", "0", "-5", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT"):
        assert http.asked_wait(answer(**{"Retry-After": value})) is None, value
        if value != "0":  # a 503's Retry-After 0 is "now" (at most TRIES tries)
            assert http.retry_wait(answer(**{"Retry-After": value}), 2) == 2.0  # the backoff
    # Cloud's reset is cut to the minute: often past; a small number is seconds from now
    minute = past.strftime("%Y-%m-%dT%H:%MZ")
    assert http.asked_wait(answer(**{"X-RateLimit-Reset": minute})) is None
    assert http.asked_wait(answer(**{"X-RateLimit-Reset": str(time.time() - 5)})) is None
    assert http.asked_wait(answer(**{"X-RateLimit-Reset": "nan"})) is None
    assert http.asked_wait(answer(**{"X-RateLimit-Reset": "30"})) == 30.0
    for _ in range(20):  # a wait asked as nan: the backoff
        assert 3.5 <= http.rate_wait(answer(**{"Retry-After": "nan"}), 1) <= 6.5


@pytest.mark.parametrize("jira", ["datacenter"], indirect=True)
@pytest.mark.parametrize("retry_after", [float("nan"), 0, -5])
def test_a_429_asking_no_real_wait_backs_off_instead_of_failing_or_spinning(
    repo: Repo, run, jira: JiraSandbox, clock: FakeClock, retry_after: float
) -> None:
    jira.fault("status", status=429, retry_after=retry_after, path="/issue/PROJ-1", times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6, result.err  # not an internal error (sleep(nan))
    assert "internal error" not in result.err
    assert clock.slept and all(wait >= 3.5 for wait in clock.slept)  # the backoff, slept
    assert refused(jira.requests) <= 2 * (len(clock.slept) + 1)  # no tight loop


@pytest.mark.parametrize("jira", ["datacenter"], indirect=True)
def test_a_request_is_refused_at_most_rate_tries_times(
    repo: Repo, run, jira: JiraSandbox, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "RATE_TRIES", 3)
    jira.fault("status", status=429, retry_after=1, path="/issue/PROJ-1", times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6
    assert "refused one 4 times in a row" in result.err
    assert len(clock.slept) <= 3 * 2  # the issue is read twice (ahead, then to move it)


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_batch_writes_wait_the_long_budget_other_commands_the_short(
    repo: Repo, run, sites: Sites, clock: FakeClock
) -> None:
    release_of(sites, run, repo, 3)
    sites.jira.fault("status", status=429, retry_after=100, method="PUT", path="/issue/", times=2)
    result = run(repo, "release", "finish")  # a release's Jira part: up to 300 s
    assert result.code == 0, result.err
    assert len(clock.slept) >= 1 and sum(clock.slept) > http.SHORT_BUDGET
    for n in (13, 14, 15):
        assert "1.1.0" in str(sites.jira.issue(f"PROJ-{n}")["fixVersions"])
    # `sync` too: a queued step waits the long budget
    clock.slept.clear()
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    sites.jira.fault("status", status=429, retry_after=100, path="/issue/", times=None)
    finish = run(repo, "feature", "finish")  # an interactive command: not 100 s
    assert finish.code == 7 and clock.slept == []
    sites.jira.clear_faults()
    sites.jira.fault("status", status=429, retry_after=100, path="/issue/", times=1)
    assert run(repo, "sync").code == 0
    assert clock.slept and clock.slept[0] >= 100
    assert sites.jira.issue("PROJ-1")["status"] == "Done"


@pytest.mark.parametrize("jira", ["datacenter"], indirect=True)
def test_no_wait_nor_interruption_carries_over_to_the_next_command(
    repo: Repo, run, jira: JiraSandbox, clock: FakeClock
) -> None:
    jira.fault("status", status=429, retry_after=7, path="/issue/PROJ-1", times=2)
    assert run(repo, "feature", "start", "PROJ-1").code == 0  # 14 to 18.2 s of its 20 s
    assert len(clock.slept) == 2
    http.interrupt()  # as a Ctrl-C that ended a command would leave it
    jira.fault("status", status=429, retry_after=7, path="/issue/PROJ-2", times=1)
    result = run(repo, "feature", "start", "PROJ-2")  # a budget of its own, not interrupted
    assert result.code == 0, result.err
    assert len(clock.slept) == 3


def test_after_a_batch_write_an_interactive_request_has_the_short_budget_again(
    sb: JiraSandbox, clock: FakeClock
) -> None:
    """Within `patience()` a 429 asking 30 s is waited out; after it, in the same command, the
    same answer comes back at once (the 20 s budget is back)."""
    import requests

    http.hear_retries(None)
    url = f"{sb.url}/rest/api/2/serverInfo"

    def send() -> Any:
        sb.fault("status", status=429, retry_after=30, path="/serverInfo", times=1)
        return http.send(requests.Session(), "GET", url, service="Jira", timeout=5.0,
                         unanswered=RuntimeError)  # fmt: skip

    with http.patience():
        assert send().status_code != 429
    assert len(clock.slept) == 1 and clock.slept[0] >= 30
    assert send().status_code == 429
    assert len(clock.slept) == 1  # not waited for: beyond the short budget


# -- waiting together, each 429 its own wait, Ctrl-C -------------------------------------------


class BlockingSleep:
    """A sleep that blocks until released (counting its calls): threads that find the gate
    closed really do find it closed."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.sleeping = threading.Event()
        self.release = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.sleeping.set()
        assert self.release.wait(10)


def _until(condition: Any, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_threads_refused_together_wait_once_together() -> None:
    gate = http.Gate()
    sleep, told = BlockingSleep(), []
    eras = [gate.enter() for _ in range(3)]  # three requests in flight
    for _ in eras:
        gate.leave(answer())  # each answered 429
    held: list[bool] = []

    def hold(era: int) -> None:
        held.append(gate.hold(era, -math.inf, 5.0, sleep, told.append))

    threads = [threading.Thread(target=hold, args=(era,)) for era in eras]
    for thread in threads:
        thread.start()
    assert sleep.sleeping.wait(10)
    # the two others wait on the gate (or, wrongly, in a sleep of their own)
    _until(lambda: len(gate._cond._waiters) == 2 or len(sleep.calls) > 1)  # type: ignore[attr-defined]
    sleep.release.set()
    for thread in threads:
        thread.join(10)
    assert held == [True, True, True]
    assert sleep.calls == [5.0] and told == [5.0]  # one wait, one line
    assert gate.waited == 5.0


def test_a_429_asking_longer_than_the_wait_served_waits_the_rest(clock: FakeClock) -> None:
    gate = http.Gate()
    first, second = gate.enter(), gate.enter()
    gate.leave(answer())
    gate.leave(answer())
    sent = clock.now()
    assert gate.hold(first, sent + 1.0, 1.0, clock.sleep, lambda _: None)  # waits 1 s
    # sent in the same era, but asked for 5 s: 4 s more, not at once
    assert gate.hold(second, sent + 5.0, 5.5, clock.sleep, lambda _: None)
    assert clock.slept == [1.0, 4.0]
    third = gate.enter()
    gate.leave(answer())
    # asked for no more than was served since: sent again at once
    assert gate.hold(third - 1, clock.now() - 1.0, 2.0, clock.sleep, lambda _: None)
    assert clock.slept == [1.0, 4.0]


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_ctrl_c_during_a_rate_limit_wait_stops_at_once_and_keeps_the_release_queued(
    repo: Repo, run, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    release_of(sites, run, repo, 12)
    sites.clear_requests()
    woke: list[bool] = []
    first = threading.Lock()  # one Ctrl-C, whatever the threads: a second one would reach pytest

    class CtrlC:
        def now(self) -> float:
            return 1000.0

        def sleep(self, seconds: float) -> None:
            if not first.acquire(blocking=False):  # another wait (the test fails): no linger
                woke.append(False)
                return
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            woke.append(http.stop.wait(2))

    monkeypatch.setattr(http, "clock", CtrlC())
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    sites.jira.fault("status", status=429, retry_after=5, method="PUT", path="/issue/", times=None)
    try:
        result = run(repo, "release", "finish")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result.code == 130, result.err
    assert woke == [True]  # the one wait ended by the interruption, no other began
    puts = [r for r in sites.jira.requests if r.method == "PUT"]
    assert 0 < len(puts) <= WRITERS  # each writer's first try; none sent after Ctrl-C
    assert not [r for r in sites.jira.requests if r.method == "POST" and "/issue/" in r.path]
    sites.jira.clear_faults()
    assert run(repo, "sync").code == 0  # the release was still queued
    assert "1.1.0" in str(sites.jira.issue("PROJ-20")["fixVersions"])


# -- the sandbox: Bitbucket Cloud's own 429, and a refused limit changes nothing ----------------


def test_bitbucket_cloud_answers_429_with_retry_after_only() -> None:
    import requests

    with BitbucketSandbox("cloud") as bb:
        bb.rate_limit(per_second=1, burst=1)
        first = requests.get(f"{bb.url}/2.0/user", timeout=5)
        limited = requests.get(f"{bb.url}/2.0/user", timeout=5)
    assert not [h for h in first.headers if "ratelimit" in h.lower()]
    assert "Retry-After" in limited.headers
    assert not [h for h in limited.headers if "ratelimit" in h.lower()]


def test_a_refused_rate_limit_leaves_the_one_before(sb: JiraSandbox) -> None:
    import requests

    url = f"{sb.url}/_sandbox/rate-limit"
    assert requests.post(url, json={"per_second": 0.5, "burst": 1}, timeout=5).status_code == 204
    for wrong in ({"per_second": 0}, {"per_second": -1}, {"per_second": 1, "burst": 0}):
        assert requests.post(url, json=wrong, timeout=5).status_code == 400
    assert [call(sb, "GET", "myself").status for _ in range(2)] == [200, 429]


def test_a_wait_is_at_least_a_second_and_charged_so(clock: FakeClock) -> None:
    gate = http.Gate()
    era = gate.enter()
    gate.leave(answer())
    assert gate.hold(era, clock.now() + 0.01, 0.01, clock.sleep, lambda _: None)
    assert clock.slept == [1.0] and gate.waited == 1.0


def test_a_command_outside_a_repository_says_that_it_waits(
    tmp_path: Any,
    run,
    keyring_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    """`auth login` outside a repository (no repository flow there): its wait is said too."""
    import io

    from conftest import login_of, wait_for_issue_refresh

    with JiraSandbox("cloud") as site:
        site.fault("status", status=429, retry_after=2, path="/myself", times=1)
        monkeypatch.setattr("sys.stdin", io.StringIO(site.token() + "\n"))
        args = ("auth", "login", "--url", site.url, "--user", login_of(site), "--token-stdin")
        result = run(tmp_path, *args)
        wait_for_issue_refresh()
    assert result.code == 0, result.err
    assert re.search(f"^{SLOW_DOWN} [23] s$", result.err, re.MULTILINE)  # 2 s, plus jitter
