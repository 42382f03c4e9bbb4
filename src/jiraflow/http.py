"""Sending one HTTP request the way both clients (Jira, Bitbucket) do: with a timeout, no
redirect followed, and tried again only after a 429 or 503 (Retry-After honoured, bounded).

`send` is the one retry loop. What it does not decide is each client's: what an answer
means, and what a request that got no answer (no connection, none in time) becomes. A
request that got no answer is never sent again (a write may have happened).

Each retry is told, in a line, to whoever listens (`hear_retries`): the CLI shows it on
stderr; the clients never print.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

TRIES = 3  # attempts for a 429/503 answer
MAX_WAIT = 10.0  # seconds: a longer Retry-After is not worth waiting for in a CLI
CONNECT_TIMEOUT = 5.0
RETRY_STATUSES = (429, 503)

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
    """Send one request through `session` and return its answer, whatever its status, after
    at most TRIES tries: a 429/503 is asked again after retry_wait (unless the server wants
    longer, or it was the last try: then that answer comes back). `options` go to requests
    (params, json, headers, auth).

    The plain requests API is used (`requests.Session.request`), also for a subclass such as
    the jira library's ResilientSession, whose own request method retries. No redirect is
    followed: a redirect comes back as the answer (also from a session capped at
    `max_redirects = 0`, which raises TooManyRedirects carrying it). A request that got no
    answer raises what `unanswered(exc)` makes of the requests exception."""
    import requests

    for attempt in range(1, TRIES + 1):
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
        if response.status_code in RETRY_STATUSES and attempt < TRIES:
            wait = retry_wait(response, attempt)
            if wait is not None:
                retrying(service, wait, attempt)
                sleep(wait)
                continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover
