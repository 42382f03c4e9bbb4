"""HTTP plumbing shared by the sandbox simulators: a real server on 127.0.0.1 in a thread.

The simulators answer over real HTTP (not mocks) so that jiraflow's clients, their timeouts and
their retry logic are exercised exactly as against the real services. This module knows nothing
about Jira: it runs the server, records requests, injects faults (latency, error statuses,
dropped connections) and serves the ``/_sandbox/`` control endpoints. A simulator subclasses
:class:`SandboxServer` and implements :meth:`SandboxServer.handle` and friends.

Each record carries when the request arrived and when its answer was ready (one monotonic
clock for every sandbox of the process), so request budgets can count round trips instead
of timing commands: :func:`round_trips` is the longest chain of requests each sent after the
one before was answered, :func:`most_in_flight` the most requests being served at once.
With ``latency`` set (0.1 s, say), requests a client sends together reliably overlap and
requests it sends one after another never do, so both counts are deterministic.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from jiraflow.sandbox.ratelimit import RateLimiter

__all__ = [
    "BadRequestBody",
    "Fault",
    "FaultKind",
    "Request",
    "RequestRecord",
    "Response",
    "SandboxServer",
    "most_in_flight",
    "round_trips",
]

CONTROL_PREFIX = "/_sandbox/"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
FaultKind = Literal["status", "latency", "drop", "body"]
FAULT_KINDS: tuple[str, ...] = ("status", "latency", "drop", "body")
#: Status recorded for a request whose connection the sandbox dropped on purpose.
DROPPED = 0


@dataclass(frozen=True)
class RequestRecord:
    """One request that reached the server, as tests inspect it afterwards."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    status: int
    headers: dict[str, str]
    started: float = 0.0  # time.monotonic() when the request arrived
    finished: float = 0.0  # ... and when its answer was ready (latency included)


def round_trips(records: Iterable[RequestRecord]) -> int:
    """The round trips on the critical path: the most requests in a chain where each one
    arrived after the one before it was answered (concurrent requests count once). Merge
    the records of several sandboxes to count a command that talks to both."""
    chain, last_end = 0, float("-inf")
    for record in sorted(records, key=lambda r: r.finished):  # earliest end first: greedy
        if record.started > last_end:
            chain, last_end = chain + 1, record.finished
    return chain


def most_in_flight(records: Iterable[RequestRecord]) -> int:
    """The most requests that were being served at the same moment."""
    spans = [(r.started, r.finished) for r in records]
    # sorted by time, an answer (-1) before a request (+1) at the same moment
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    most = current = 0
    for _, change in events:
        current += change
        most = max(most, current)
    return most


class BadRequestBody(ValueError):
    """The request body is not the JSON the endpoint needs."""


@dataclass(frozen=True)
class Request:
    """An incoming request, already split into path and query."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        """Header lookup ignoring case, as HTTP wants."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def param(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        """Every value of a query parameter, comma lists split (Jira accepts both forms)."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(part.strip() for part in value.split(",") if part.strip())
        return out

    def json(self) -> Any:
        """The body parsed as JSON; an empty body is an error like on the real services."""
        if not self.body.strip():
            raise BadRequestBody("No content to map due to end-of-input")
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestBody(f"Unexpected character in the request body: {exc}") from exc

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; anything else is a bad request."""
        payload = self.json()
        if not isinstance(payload, dict):
            raise BadRequestBody("The request body must be a JSON object")
        return cast(dict[str, Any], payload)


@dataclass(frozen=True)
class Response:
    """What a simulator answers; ``body=None`` sends no body (204)."""

    status: int
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(
        cls, status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        """A JSON answer in the compact UTF-8 form the Atlassian services send."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, (("Content-Type", JSON_CONTENT_TYPE), *headers))

    @classmethod
    def empty(cls, status: int = HTTPStatus.NO_CONTENT) -> Response:
        """An answer without a body."""
        return cls(status, None)


@dataclass
class Fault:
    """A failure to inject into the requests that match ``method`` and ``path``."""

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    status: int = HTTPStatus.SERVICE_UNAVAILABLE
    retry_after: float | None = None
    delay: float = 0.0
    body: Any = None  # "body": this JSON is the answer (with ``status``), whatever was asked
    location: str | None = None  # "status": sent as Location (a 3xx that points elsewhere)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (method exact, path by substring; a path
        ending in ``$`` must end the request's path)."""
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and self.path.endswith("$"):
            return path.endswith(self.path[:-1])
        return self.path is None or self.path in path


class _HTTPServer(ThreadingHTTPServer):
    """The stdlib threading server, pointing back at the simulator that owns it.

    It keeps every handler thread and its connection itself: the stdlib does not join daemon
    handler threads on close, and an idle keep-alive connection would block a join forever, so
    stop() shuts the connections down and then joins the threads (see close_connections).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        super().__init__(("127.0.0.1", port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a connection in a daemon thread that stop() can find (runs in serve_forever)."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{type(self.sandbox).__name__}-connection",
            daemon=True,
        )
        with self._lock:
            self._connections = {t: c for t, c in self._connections.items() if t.is_alive()}
            self._connections[thread] = request
        thread.start()

    def close_connections(self, timeout: float) -> None:
        """Shut every client connection down and join its thread (after serve_forever ended)."""
        with self._lock:
            connections = dict(self._connections)
            self._connections.clear()
        for connection in connections.values():
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in connections:
            thread.join(max(deadline - time.monotonic(), 0.0))


class _Handler(BaseHTTPRequestHandler):
    """Reads one request at a time and hands it to the sandbox."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real services and `requests` use
    server_version = "jiraflow-sandbox"
    sys_version = ""
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the
        # second until the client's delayed ACK, about 40 ms on every kept-alive request.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read sb.requests instead of a log on stderr."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            body=self._read_body(),
            headers=dict(self.headers.items()),
        )
        response = self.server.sandbox._respond(request)
        if response is None:  # a "drop" fault: close without a byte of answer
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self._send(response)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.body is not None:
            self.send_header("Content-Length", str(len(response.body)))
        elif response.status not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.send_header("Content-Length", "0")
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)


class SandboxServer:
    """Lifecycle, request log, fault injection and control endpoints for one simulator.

    Subclasses implement :meth:`handle` (the service itself), :meth:`error_response` (the
    service's error body), :meth:`reset` and :meth:`state_json`.
    """

    def __init__(self) -> None:
        self.latency = 0.0
        self._requests: list[RequestRecord] = []
        self._requests_lock = threading.Lock()
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._url: str | None = None
        self._request_counter = 0
        self.limiter: RateLimiter | None = None  # rate_limit(): 429 past a rate, per user

    # -- to implement ------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer a request to the simulated service."""
        raise NotImplementedError

    def error_response(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> Response:
        """An error in the simulated service's own error shape."""
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the seed data."""
        raise NotImplementedError

    def state_json(self) -> dict[str, Any]:
        """The whole state, JSON-serialisable."""
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT``; only while started."""
        if self._url is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return self._url

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (an ephemeral port by default) in a daemon thread."""
        if self._server is not None:
            return self.url
        self._stopping.clear()
        server = _HTTPServer(port, self)
        self._server = server
        self._url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self._url

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread; idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping for latency
        server.shutdown()  # no new connections after this returns
        server.close_connections(timeout=5.0)  # idle keep-alive handlers return at once
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = None
        self._thread = None
        self._url = None

    def serve_forever(self, port: int = 0) -> None:
        """Block serving until stop() is called from another thread or Ctrl-C."""
        self.start(port)
        try:
            while self._server is not None and not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of every recorded request, oldest first."""
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many recorded requests match the method and contain the path fragment."""
        return sum(
            1
            for record in self.requests
            if (method is None or record.method == method.upper())
            and (path_contains is None or path_contains in record.path)
        )

    # -- faults ------------------------------------------------------------------------------

    def fault(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int | None = 1,
        status: int = HTTPStatus.SERVICE_UNAVAILABLE,
        retry_after: float | None = None,
        delay: float = 0.0,
        body: Any = None,
        location: str | None = None,
    ) -> None:
        """Make the next ``times`` matching requests fail (``times=None``: until cleared).
        ``body`` (kind "body"): answer with this JSON and ``status`` instead, a well-formed
        answer of the wrong shape, and nothing changes on the server."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        with self._faults_lock:
            fault = Fault(
                cast(FaultKind, kind), method, path, times, status, retry_after, delay, body
            )
            fault.location = location
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._faults_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # -- dispatch ----------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _respond(self, request: Request) -> Response | None:
        """Answer one request; None means drop the connection."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        started = time.monotonic()
        self._sleep(self.latency)
        fault = self._take_fault(request.method, request.path)
        response: Response | None
        if fault is None or fault.kind == "latency":
            if fault is not None:
                self._sleep(fault.delay)
            response = self._limited(request)
        elif fault.kind == "body":
            response = Response.json(fault.status, fault.body)
        elif fault.kind == "status":
            response = self.error_response(
                fault.status,
                _status_message(fault.status),
                _retry_after(fault.retry_after)
                + ((("Location", fault.location),) if fault.location else ()),
            )
        else:
            response = None
        self._record(request, DROPPED if response is None else response.status, started)
        if response is not None:
            response = Response(
                response.status,
                response.body,
                (*response.headers, ("X-AREQUESTID", self._request_id())),
            )
        return response

    def rate_limit(
        self,
        per_second: float | None,
        burst: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Answer 429, as the flavour does, to a user past `per_second` requests a second
        (`burst` at once); None: no limit (the default). See sandbox.ratelimit."""
        from jiraflow.sandbox.ratelimit import RateLimiter

        flavour = str(getattr(self, "flavour", "cloud"))
        service = str(getattr(self, "service", "jira"))
        limiter = None  # made (and so checked) first: a limit refused leaves the one before
        if per_second is not None:
            limiter = RateLimiter(flavour, per_second, burst, clock, service=service)
        self.limiter = limiter

    def _limited(self, request: Request) -> Response:
        """The answer, unless the rate limiter refuses the request (then not carried out)."""
        limiter = self.limiter
        if limiter is None:
            return self._handle_safely(request)
        verdict = limiter.take(request.header("Authorization") or "")
        if not verdict.allowed:
            from jiraflow.sandbox.ratelimit import MESSAGE

            return self.error_response(HTTPStatus.TOO_MANY_REQUESTS, MESSAGE, verdict.headers)
        response = self._handle_safely(request)
        return Response(response.status, response.body, (*response.headers, *verdict.headers))

    def _handle_safely(self, request: Request) -> Response:
        try:
            return self.handle(request)
        except BadRequestBody as exc:
            return self.error_response(HTTPStatus.BAD_REQUEST, str(exc))
        except Exception:  # a sandbox bug must show as a 500, not as a hung client
            traceback.print_exc()
            return self.error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")

    def _record(self, request: Request, status: int, started: float) -> None:
        record = RequestRecord(
            request.method,
            request.path,
            request.query,
            request.body,
            status,
            request.headers,
            started,
            time.monotonic(),
        )
        with self._requests_lock:
            self._requests.append(record)

    def _request_id(self) -> str:
        with self._requests_lock:
            self._request_counter += 1
            counter = self._request_counter
        minute_of_day = int(time.time() // 60) % 1440
        return f"{minute_of_day}x{counter}x1"

    def _control(self, request: Request) -> Response:
        """``/_sandbox/state``, ``fault``, ``reset``, ``rate-limit``: no auth, not recorded."""
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        try:
            if name == "state" and request.method == "GET":
                return Response.json(HTTPStatus.OK, self.state_json())
            if name == "reset" and request.method == "POST":
                self.reset()
                self.clear_faults()
                self.clear_requests()
                self.rate_limit(None)
                return Response.empty()
            if name == "fault" and request.method == "POST":
                self._control_fault(request.json_object())
                return Response.empty()
            if name == "rate-limit" and request.method in ("POST", "DELETE"):
                spec = request.json_object() if request.method == "POST" else {}
                self.rate_limit(spec.get("per_second"), int(spec.get("burst", 10)))
                return Response.empty()
            if name == "fault" and request.method == "DELETE":
                self.clear_faults()
                return Response.empty()
        except (BadRequestBody, KeyError, TypeError, ValueError) as exc:
            return Response.json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        return Response.json(HTTPStatus.NOT_FOUND, {"error": f"no control endpoint {name!r}"})

    def _control_fault(self, spec: Mapping[str, Any]) -> None:
        allowed = {"kind", "method", "path", "times", "status", "retry_after", "delay", "body"}
        allowed.add("location")
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown fault arguments: {', '.join(sorted(unknown))}")
        self.fault(
            spec["kind"],
            method=spec.get("method"),
            path=spec.get("path"),
            times=spec.get("times", 1),
            status=int(spec.get("status", HTTPStatus.SERVICE_UNAVAILABLE)),
            retry_after=spec.get("retry_after"),
            location=spec.get("location"),
            delay=float(spec.get("delay", 0.0)),
            body=spec.get("body"),
        )


def _status_message(status: int) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return "Rate limit exceeded."
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _retry_after(seconds: float | None) -> tuple[tuple[str, str], ...]:
    if seconds is None:
        return ()
    value = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
    return (("Retry-After", value),)
