"""What the Jira and Bitbucket clients share about talking HTTP: timeouts, when to try again
after a 429 or 503 (Retry-After honoured, bounded), and how to name a network failure."""

from __future__ import annotations

import email.utils
import time
from typing import Any

TRIES = 3  # attempts for a 429/503 answer
MAX_WAIT = 10.0  # seconds: a longer Retry-After is not worth waiting for in a CLI
CONNECT_TIMEOUT = 5.0
RETRY_STATUSES = (429, 503)


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
