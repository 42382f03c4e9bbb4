"""Sending independent requests at once.

Requests that do not depend on each other go out together (`Ahead`, `together`), so that a
command waits one round trip for them instead of one each. Only the HTTP runs in the
threads: they never prompt or touch the outbox, and print at most a progress line (under a
lock), and a failure comes back to the thread that asks for the answer as the same jiraflow
error the request would have raised. Ctrl-C while they run stops them all at once
(http.interrupt): no request goes out after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

READERS = 4  # reads in flight at once for `together`

T = TypeVar("T")


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
    with running(calls, most) as futures:
        for future in futures:
            future.exception()  # wait for each, whatever it raised
    return [future.result() for future in futures]


@contextmanager
def running(calls: Sequence[Callable[[], T]], most: int) -> Iterator[list[Future[T]]]:
    """The calls submitted to a pool of at most `most` threads: their futures, in the order
    of `calls`, for the body to wait for; the pool's threads end before the block does.
    Ctrl-C (any exception) in the block: nothing more starts, and every wait stops
    (http.interrupt: none waits out a rate limit), then it is raised."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(most, len(calls)))) as pool:
        try:
            yield [pool.submit(call) for call in calls]
        except BaseException:  # Ctrl-C: start nothing more, and stop every wait
            from jiraflow import http

            http.interrupt()  # the running calls end now (none waits out a rate limit)
            pool.shutdown(wait=False, cancel_futures=True)
            raise
