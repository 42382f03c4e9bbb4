"""A rate limiter for the sandboxes: a token bucket per user, answering 429 as each flavour does.

Off by default; ``sandbox.rate_limit(per_second=5, burst=10)`` turns it on (``None`` turns it
off), and so does ``POST /_sandbox/rate-limit`` with ``{"per_second": 5, "burst": 10}``
(``DELETE`` turns it off). Each user (each Authorization header; anonymous requests share one
bucket) holds at most ``burst`` tokens, gets ``per_second`` back every second, and spends one
per request; a request that finds none is answered 429 and is not carried out.

The headers follow Atlassian's documentation:

* Data Center (Jira and Bitbucket: "Improving instance stability with rate limiting"), on
  every answer: ``X-RateLimit-Limit`` (the most tokens), ``X-RateLimit-Remaining``,
  ``X-RateLimit-Interval-Seconds`` and ``X-RateLimit-FillRate`` (tokens added per interval)
  and ``Retry-After`` (seconds until a token: 0 while some are left).
* Cloud (Jira Cloud platform "Rate limiting"): a 429 carries ``Retry-After`` (seconds),
  ``X-RateLimit-Reset`` (when, as an ISO 8601 time to the minute, ``2026-12-07T10:15Z``),
  ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``RateLimit-Reason``
  (``jira-burst-based``); an answer given while less than 20% of the budget is left carries
  ``X-RateLimit-NearLimit: true``.
* Bitbucket Cloud ("API request limits"): its documentation names no rate-limit header, so a
  429 carries only ``Retry-After`` and the body; other answers carry nothing.

The body of the 429 is the service's own error shape (Jira's ErrorCollection, Bitbucket's
envelope of each flavour), made by the sandbox's ``error_response``. The clock is injectable
(``clock=``), so that a test can run a long, tightly limited command without waiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["MESSAGE", "RateLimiter", "Verdict"]

MESSAGE = "Rate limit exceeded."
NEAR = 0.2  # Cloud: X-RateLimit-NearLimit when less than this share of the budget is left
Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Verdict:
    """Whether a request may be served, and the headers its answer carries either way."""

    allowed: bool
    headers: Headers


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Token buckets per user, for one sandbox of ``flavour`` ("cloud" or "datacenter") of
    ``service`` ("jira" or "bitbucket")."""

    flavour: str
    per_second: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    service: str = "jira"
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.per_second > 0 or not math.isfinite(self.per_second) or self.burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")

    def take(self, who: str) -> Verdict:
        """Spend one of `who`'s tokens, if there is one."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.setdefault(who, _Bucket(float(self.burst), now))
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.at) * self.per_second
            )
            bucket.at = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            left = bucket.tokens
        wait = 0 if left >= 1.0 else math.ceil((1.0 - left) / self.per_second)
        if self.flavour == "cloud" and self.service == "bitbucket":
            return Verdict(allowed, () if allowed else (("Retry-After", str(wait)),))
        if self.flavour == "cloud":
            return Verdict(allowed, self._cloud(allowed, left, wait))
        return Verdict(allowed, self._datacenter(left, wait))

    def _cloud(self, allowed: bool, left: float, wait: int) -> Headers:
        if allowed:
            return (("X-RateLimit-NearLimit", "true"),) if left < NEAR * self.burst else ()
        reset = datetime.now(UTC) + timedelta(seconds=wait)
        return (
            ("Retry-After", str(wait)),
            ("X-RateLimit-Limit", str(self.burst)),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", reset.strftime("%Y-%m-%dT%H:%MZ")),
            ("RateLimit-Reason", "jira-burst-based"),
        )

    def _datacenter(self, left: float, wait: int) -> Headers:
        if self.per_second >= 1:  # the admin's "N requests allowed every M seconds"
            fill, interval = round(self.per_second), 1
        else:
            fill, interval = 1, round(1 / self.per_second)
        return (
            ("X-RateLimit-Limit", str(self.burst)),
            ("X-RateLimit-Remaining", str(math.floor(left))),
            ("X-RateLimit-Interval-Seconds", str(interval)),
            ("X-RateLimit-FillRate", str(fill)),
            ("Retry-After", str(wait)),
        )
