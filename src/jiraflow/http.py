"""Sending one HTTP request the way both clients (Jira, Bitbucket) do: with a timeout, no
redirect followed, and tried again only after a 429 or 503.

`send` is the one retry loop. What it does not decide is each client's: what an answer
means, and what a request that got no answer (no connection, none in time) becomes. A
request that got no answer is never sent again (a write may have happened).

A 503 is tried again at most TRIES times, after its Retry-After when that is at most
MAX_WAIT. A 429 ("too many requests") means the request was not carried out, so it is worth
sending again: jiraflow waits as the site asks (Retry-After, else X-RateLimit-Reset, else a
doubling backoff; with jitter, as Atlassian's rate-limiting guides advise; a wait that is not a
number, or not in the future, counts as none asked) for as long as the command's budget allows
in all, at most RATE_TRIES times per request. The budget is SHORT_BUDGET, or RATE_BUDGET inside
`patience()` (the batch writes of a release, a promotion, `sync`): an interactive command never
hangs for minutes. Every thread talking to the site waits with it (a `Gate` per site): a
command's concurrent writers pause together instead of each being refused in turn, and while
the site says its budget runs low (X-RateLimit-NearLimit, or X-RateLimit-Remaining under NEAR
of X-RateLimit-Limit) they go one at a time.

Ctrl-C: whoever catches it calls `interrupt()`; every wait ends at once and no request is sent
after it (`Interrupted`, a KeyboardInterrupt). Each command starts afresh (`hear_retries`).

Each wait is told, in a line, to whoever listens (`hear_retries`): the CLI shows it on stderr
(a rate limit's wait once, however many threads wait); the clients never print.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

TRIES = 3  # attempts for a 503 answer
MAX_WAIT = 10.0  # seconds: a longer 503 Retry-After is not worth waiting for in a CLI
RATE_BUDGET = 300.0  # seconds a batch write (`patience()`) waits, in all, for one site
SHORT_BUDGET = 20.0  # seconds any other command waits, in all, for one site
RATE_TRIES = 30  # 429 answers one request gets at most, whatever the waits
MIN_WAIT = 1.0  # seconds: the shortest rate-limit wait slept (and charged)
BACKOFF = (5.0, 30.0)  # a 429 without a wait in it: 5 s, doubled each time, at most 30 s
NEAR = 0.2  # X-RateLimit-Remaining under this share of the limit: one request at a time
CONNECT_TIMEOUT = 5.0
RETRY_STATUSES = (429, 503)

_listener: Callable[[str], None] | None = None  # told of each retry: the CLI shows it on stderr
_listener_lock = threading.Lock()  # requests run in threads: one note at a time
_progress: tuple[int, int] | None = None  # (done, total) of the command's long work
_budget = SHORT_BUDGET  # seconds of rate-limit waits the command may spend per site
stop = threading.Event()  # set by `interrupt()` (Ctrl-C): no wait goes on, no request goes out


class Interrupted(KeyboardInterrupt):
    """A request not sent, or a wait cut short, because the command was interrupted."""


def interrupt() -> None:
    """Ctrl-C: every rate-limit wait ends now and no request is sent after this (each
    thread about to wait or send raises Interrupted). For this command: `hear_retries`
    clears it."""
    stop.set()
    with _gates_lock:
        gates = list(_gates.values())
    for each in gates:
        each.wake()


@contextlib.contextmanager
def patience() -> Iterator[None]:
    """Within it, the command may wait up to RATE_BUDGET in all for a site that limits its
    rate (the batch writes of a release, a promotion, `sync`); elsewhere SHORT_BUDGET."""
    global _budget
    before = _budget
    _budget = max(_budget, RATE_BUDGET)
    try:
        yield
    finally:
        _budget = before


def budget() -> float:
    """Seconds of rate-limit waits the command may spend now, per site."""
    return _budget


class Clock:
    """Time as the rate-limit waits see it (tests put a fake one in `clock`)."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        stop.wait(seconds)  # Ctrl-C (`interrupt()`) ends it at once


clock = Clock()


def hear_retries(listener: Callable[[str], None] | None) -> None:
    """Who is told, in a line, that a request is tried again ("Jira is busy; retrying in 2 s
    (1/3)"): the CLI, which shows it on stderr; None: nobody. The clients never print. Each
    command starts afresh: no site waits, no work is in progress, not interrupted, and the
    short budget."""
    global _listener, _progress, _budget
    _listener = listener
    _progress = None
    _budget = SHORT_BUDGET
    stop.clear()
    with _gates_lock:
        _gates.clear()


def command_ended() -> None:
    """The command is over: nobody is told any more, and the budget and the progress are the
    next command's. An interruption stays in force, and the gates with it: a thread the
    command could not wait for (a second Ctrl-C cut the join short) must not go on waiting or
    sending. The next command's `hear_retries` clears it."""
    global _listener, _progress, _budget
    _listener = None
    _progress = None
    _budget = SHORT_BUDGET


def progressed(done: int, total: int) -> None:
    """Where the command's long work stands, said with each rate-limit wait."""
    global _progress
    _progress = (done, total) if done < total else None


def _tell(line: str) -> None:
    listener = _listener
    if listener is None:
        return
    with _listener_lock:
        listener(line)


def _seconds(wait: float) -> str:
    return f"{wait:.1f}".rstrip("0").rstrip(".")


def retrying(service: str, wait: float, attempt: int) -> None:
    """Tell the listener that `service` answered busy (503) to try `attempt` (of TRIES),
    and is asked again in `wait` seconds."""
    _tell(f"{service} is busy; retrying in {_seconds(wait)} s ({attempt}/{TRIES})")


def slowing(service: str, wait: float) -> None:
    """Tell the listener that `service` limits the rate and every request waits `wait` s."""
    done = f" ({_progress[0]}/{_progress[1]} done)" if _progress else ""
    _tell(f"{service} asks jiraflow to slow down; waiting {wait:.0f} s{done}")


def _ahead(wait: float) -> float | None:
    """A wait read in a header, when it is one: a finite number of seconds, not negative
    (nan, inf, a time past: as if none was given)."""
    return wait if math.isfinite(wait) and wait >= 0 else None


def _header_wait(header: str | None) -> float | None:
    """Seconds in a Retry-After value (seconds or an HTTP date); None: absent, neither, or
    not a wait (nan, negative, a time past). A 503's 0 is "now"; a 429 takes it as none."""
    if header is None:
        return None
    try:
        return _ahead(float(header))
    except ValueError:
        pass
    try:
        import email.utils  # 3 ms of every start: only for an HTTP-date Retry-After

        return _ahead(email.utils.parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def retry_wait(response: Any, attempt: int) -> float | None:
    """Seconds to wait before the next try of a 503: Retry-After (seconds or an HTTP date)
    when given, else a short backoff; None when the server asks for longer than MAX_WAIT."""
    header = response.headers.get("Retry-After") if response is not None else None
    wait = _header_wait(header)
    if wait is None:
        wait = float(attempt)
    return wait if wait <= MAX_WAIT else None


def asked_wait(response: Any) -> float | None:
    """The wait a 429 asks for: Retry-After (Jira Data Center sends it too, Bitbucket as
    well), Cloud's Beta-Retry-After, else until X-RateLimit-Reset (Cloud: an ISO 8601 time
    such as 2026-12-07T10:15Z; elsewhere, seconds since the epoch, or a small number: seconds
    from now); None: none of them gives a wait in the future (Cloud's reset, cut to the
    minute, is often past)."""
    headers = response.headers
    for name in ("Retry-After", "Beta-Retry-After"):
        wait = _header_wait(headers.get(name))
        if wait:  # 0 would send it again at once, and again: as if none was asked
            return wait
    reset = headers.get("X-RateLimit-Reset")
    if reset is None:
        return None
    try:
        at = float(reset)
    except ValueError:
        from datetime import datetime

        try:
            at = datetime.fromisoformat(reset.strip()).timestamp()
        except (ValueError, OverflowError):
            return None
    else:
        if not math.isfinite(at):
            return None
        if at < 1e9:  # not a time (2001 or before) but a count of seconds
            return _ahead(at) or None
    return _ahead(at - time.time()) or None


def rate_wait(response: Any, strikes: int) -> float:
    """How long to wait after the `strikes`-th 429 in a row: what the site asks, never
    less, plus up to 30% (jitter: processes refused at once do not come back at once);
    with nothing asked, BACKOFF doubling, times 0.7 to 1.3."""
    import random

    asked = asked_wait(response)
    if asked is not None:
        return asked * random.uniform(1.0, 1.3)
    first, most = BACKOFF
    return min(first * 2.0 ** (strikes - 1), most) * random.uniform(0.7, 1.3)


def over_budget(response: Any) -> str:
    """Why a 429 came back to the client (a wait longer than the budget), in a few words."""
    refusals = getattr(response, "refusals", 0)
    if isinstance(refusals, int) and refusals > RATE_TRIES:
        return f"limits the rate of requests (429) and refused one {refusals} times in a row"
    asked = asked_wait(response)
    wait = f"{asked:.0f} s more" if asked is not None else "longer"
    return (
        f"limits the rate of requests (429) and asks jiraflow to wait {wait}, "
        f"beyond the {budget():.0f} s this command waits"
    )


def busy(service: str, where: str, status: int, response: Any) -> tuple[str, str]:
    """The error (message, hint) of a 429 or 503 that came back to the client. The hint is
    for a command that changed nothing remote yet (exit 6): a Jira step already queued is
    told to run `jiraflow sync` where it is queued (exit 7)."""
    if status == 429:
        return (
            f"{service} at {where} {over_budget(response)}",
            "Wait a few minutes, then run the command again.",
        )
    return (
        f"{service} at {where} is busy ({status}) and stayed so after {TRIES} tries, "
        f"or asked for a wait longer than {MAX_WAIT:.0f} s",
        "Try again in a minute.",
    )


def _near_limit(response: Any) -> bool:
    """Whether the site says the budget runs low: Cloud's X-RateLimit-NearLimit, or
    X-RateLimit-Remaining under NEAR of X-RateLimit-Limit (Data Center's token bucket)."""
    headers = response.headers
    if str(headers.get("X-RateLimit-NearLimit", "")).lower() == "true":
        return True
    try:
        remaining = float(headers["X-RateLimit-Remaining"])
        limit = float(headers["X-RateLimit-Limit"])
    except (KeyError, TypeError, ValueError):
        return False
    return limit > 0 and remaining < NEAR * limit


class Gate:
    """One site's way in, shared by every thread of the command that talks to it.

    A 429 closes it: the thread that got it first waits out the site's wait (once, told
    once), every other thread waits until it opens again. A 429 to a request sent before
    that wait began is sent again as soon as both that wait and its own asked wait are over
    (the latter counted from when it was sent). While the site says its budget runs low, one
    request goes at a time. `interrupt()` wakes every waiting thread: it raises Interrupted."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closed = False  # a thread is waiting out the site's wait
        self._era = 0  # waits served: a 429 from an earlier era may have been waited out
        self._busy = 0  # requests in flight
        self._single = False  # the budget runs low: one request at a time
        self.waited = 0.0  # seconds of the budget used

    def wake(self) -> None:
        """Every thread waiting here looks again (at `stop`)."""
        with self._cond:
            self._cond.notify_all()

    def enter(self) -> int:
        """Before a request: wait while the gate is closed (or, near the limit, until no
        other request is in flight); the era the request goes out in."""
        with self._cond:
            while not stop.is_set() and (self._closed or (self._single and self._busy > 0)):
                self._cond.wait()
            if stop.is_set():
                raise Interrupted
            self._busy += 1
            return self._era

    def leave(self, response: Any) -> None:
        """After the answer: what it says of the budget left decides how many go at once."""
        with self._cond:
            self._busy -= 1
            if response is not None and response.status_code != 429:
                self._single = _near_limit(response)
            self._cond.notify_all()

    def hold(
        self,
        era: int,
        until: float,
        wait: float,
        sleep: Callable[[float], None],
        tell: Callable[[float], None],
    ) -> bool:
        """After a 429 to a request sent in `era`, which the site asked not to send again
        before `until` (clock time; -inf: it named no wait), and whose own wait would be
        `wait`: wait (with every thread) until it may be sent again; False when that would
        take the command past its budget."""
        with self._cond:
            while True:
                if stop.is_set():
                    raise Interrupted
                if self._closed:  # another thread waits already: wait with it
                    self._cond.wait()
                    continue
                if self._era != era:  # a wait began after it was sent: is its own over?
                    left = until - clock.now()
                    if left <= 0:
                        return True
                    wait = left
                wait = max(wait, MIN_WAIT)  # a wait is at least a second, and charged so
                if self.waited + wait > budget():
                    return False
                self._closed = True
                self.waited += wait
                break
        try:
            tell(wait)
            sleep(wait)
        finally:
            with self._cond:
                self._closed = False
                self._era += 1
                self._cond.notify_all()
        if stop.is_set():
            raise Interrupted
        return True


_gates: dict[str, Gate] = {}
_gates_lock = threading.Lock()


def gate(url: str) -> Gate:
    """The gate of the site `url` belongs to (scheme, host and port)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    site = f"{parts.scheme}://{parts.netloc}"
    with _gates_lock:
        return _gates.setdefault(site, Gate())


def reason(exc: Exception) -> str:
    """A requests exception in a few words (never its text: it may hold the URL's query)."""
    from requests import ConnectionError as RequestsConnectionError
    from requests import Timeout

    if isinstance(exc, Timeout):
        return "no answer in time"
    if isinstance(exc, RequestsConnectionError):
        return "connection failed"
    return type(exc).__name__


def send(
    session: Any,
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    unanswered: Callable[[Exception], Exception],
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Any:
    """Send one request through `session` and return its answer, whatever its status. A 503
    is asked again after retry_wait, at most TRIES tries in all (unless the server wants
    longer: then that answer comes back). A 429 is asked again after the site's wait, shared
    with every thread talking to the site (`Gate`), until RATE_BUDGET would be passed: then
    that answer comes back. `options` go to requests (params, json, headers, auth); `sleep`
    waits (the real time.sleep stands for `clock.sleep`, which tests replace).

    The plain requests API is used (`requests.Session.request`), also for a subclass such as
    the jira library's ResilientSession, whose own request method retries. No redirect is
    followed: a redirect comes back as the answer (also from a session capped at
    `max_redirects = 0`, which raises TooManyRedirects carrying it). A request that got no
    answer raises what `unanswered(exc)` makes of the requests exception."""
    import requests

    if sleep is time.sleep:
        sleep = clock.sleep
    site = gate(url)
    attempt = strikes = 0
    while True:
        era = site.enter()
        sent_at = clock.now()
        response = None
        try:
            response = requests.Session.request(
                session,
                method,
                url,
                timeout=(CONNECT_TIMEOUT, timeout),
                allow_redirects=False,
                **options,
            )
        except requests.TooManyRedirects as exc:  # max_redirects = 0: the redirect, not sent
            if exc.response is None:  # pragma: no cover - requests always attaches it
                raise unanswered(exc) from None
            return exc.response
        except requests.RequestException as exc:
            raise unanswered(exc) from None
        finally:
            site.leave(response)
        status = response.status_code
        if status == 429:
            strikes += 1
            if strikes > RATE_TRIES:
                response.refusals = strikes  # type: ignore[attr-defined]  # said in the error
                return response
            asked = asked_wait(response)
            until = sent_at + asked if asked is not None else -math.inf
            wait = rate_wait(response, strikes)
            if site.hold(era, until, wait, sleep, partial(slowing, service)):
                continue
            return response
        attempt += 1
        if status == 503 and attempt < TRIES:
            wait_503 = retry_wait(response, attempt)
            if wait_503 is not None:
                retrying(service, wait_503, attempt)
                sleep(wait_503)
                continue
        return response
