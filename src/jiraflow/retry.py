"""What the Jira and Bitbucket clients share about talking HTTP: timeouts, when to try again
after a 429 or 503 (Retry-After honoured, bounded), how to name a network failure, and how
to send independent requests at once.

Requests that do not depend on each other go out together (`Ahead`, `together`), so that a
command waits one round trip for them instead of one each. Only the HTTP runs in the
threads: they never prompt or touch the outbox, and print at most a progress line (under a
lock), and a failure comes back to the thread that asks for the answer as the same jiraflow
error the request would have raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

TRIES = 3  # attempts for a 429/503 answer
MAX_WAIT = 10.0  # seconds: a longer Retry-After is not worth waiting for in a CLI
CONNECT_TIMEOUT = 5.0
RETRY_STATUSES = (429, 503)
READERS = 4  # reads in flight at once for `together`

T = TypeVar("T")

_listener: Callable[[str], None] | None = None  # told of each retry: the CLI shows it on stderr
_listener_lock = threading.Lock()  # requests run in threads: one note at a time


def hear_retries(listener: Callable[[str], None] | None) -> None:
    """Who is told, in a line, that a request is tried again ("Jira is busy; retrying in 2 s
    (1/3)"): the CLI, which shows it on stderr; None: nobody. The clients never print."""
    global _listener
    _listener = listener


def retrying(service: str, wait: float, attempt: int) -> None:
    """Tell the listener that `service` answered busy to try `attempt` (of TRIES), and is
    asked again in `wait` seconds."""
    listener = _listener
    if listener is None:
        return
    seconds = f"{wait:.1f}".rstrip("0").rstrip(".")
    with _listener_lock:
        listener(f"{service} is busy; retrying in {seconds} s ({attempt}/{TRIES})")


def retry_wait(response: Any, attempt: int) -> float | None:
    """Seconds to wait before the next try: Retry-After (seconds or an HTTP date) when
    given, else a short backoff; None when the server asks for longer than MAX_WAIT."""
    header = response.headers.get("Retry-After") if response is not None else None
    if header is None:
        return float(attempt)
    try:
        wait = float(header)
    except ValueError:
        try:
            import email.utils  # 3 ms of every start: only for an HTTP-date Retry-After

            wait = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):  # neither seconds nor a date: our own backoff
            wait = float(attempt)
    wait = max(wait, 0.0)
    return wait if wait <= MAX_WAIT else None


def reason(exc: Exception) -> str:
    """A requests exception in a few words (never its text: it may hold the URL's query)."""
    from requests import ConnectionError as RequestsConnectionError
    from requests import Timeout

    if isinstance(exc, Timeout):
        return "no answer in time"
    if isinstance(exc, RequestsConnectionError):
        return "connection failed"
    return type(exc).__name__


class Ahead(Generic[T]):
    """A request started now in a background thread, its answer taken later with result()
    (which waits for it, and raises what the request raised). The thread is a daemon: a read
    nobody takes (the command stopped first) never holds the process up."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._call = call
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._run, name="jiraflow-ahead", daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # handed to the thread that takes the result
            self._error = exc
        finally:
            self._done.set()

    def wait(self) -> None:
        """Until the request has ended (its answer or its error is then at hand)."""
        self._done.wait()

    def result(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


def together(calls: Sequence[Callable[[], T]], most: int = READERS) -> list[T]:
    """Run independent requests at once (at most `most` in flight), their results in the
    order of `calls`. Every call ends before this returns; then the first failure in that
    order is raised, as running them one after another would have raised it."""
    if len(calls) <= 1:
        return [call() for call in calls]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(most, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        try:
            for future in futures:
                future.exception()  # wait for each, whatever it raised
        except BaseException:  # Ctrl-C: start nothing more
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [future.result() for future in futures]
