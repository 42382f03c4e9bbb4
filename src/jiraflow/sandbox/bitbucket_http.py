"""Request plumbing of the Bitbucket sandbox: API prefixes, credentials, routing, error bodies.

Cloud serves ``/2.0/...``; Data Center serves ``/rest/api/{1.0,latest}/...`` plus the
``default-reviewers`` and ``branch-utils`` plugins under ``/rest/<plugin>/{1.0,latest}/...``.
Handlers live in bitbucket_cloud_api and bitbucket_dc_api; each raises :class:`ApiError`, which
becomes the flavour's error envelope:

* Cloud: ``{"type": "error", "error": {"message": ..., "fields": {field: [messages]}}}``
* Data Center: ``{"errors": [{"context": ..., "message": ..., "exceptionName": ..., ...}]}``

Data Center adds ``X-AUSERNAME: <user name>`` to every answer to an authenticated request, as
the real server does (clients use it to learn who they are).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from jiraflow.sandbox.bitbucket_model import Account, BitbucketState, Flavour, Json
from jiraflow.sandbox.server import BadRequestBody, Request, Response

_CLOUD_PATH = re.compile(r"^/2\.0/(?P<rest>.*?)/?$")
_DC_PATH = re.compile(
    r"^/rest/(?P<ns>api|default-reviewers|branch-utils|build-status|required-builds)/"
    r"(?:1\.0|latest)/(?P<rest>.*?)/?$"
)
CLOUD_NAMESPACE = "2.0"
# Cloud's 401 wording is the sandbox's own (real Cloud often sends no JSON body with a 401).
CLOUD_NO_CREDENTIALS = "Authentication required: send an Atlassian API token or an access token."
CLOUD_BAD_CREDENTIALS = "Invalid credentials: the e-mail address and API token do not match."
CLOUD_APP_PASSWORD = (
    "App passwords are no longer supported for the Bitbucket Cloud API. "
    "Use an Atlassian API token (with the account's e-mail address) instead."
)
DC_NOT_PERMITTED = "You are not permitted to access this resource"
DC_BAD_CREDENTIALS = "Authentication failed. Please check your credentials and try again."


class ApiError(Exception):
    """Ends a request with the flavour's error body.

    ``fields`` (Cloud) are per-field messages; ``exception``, ``context`` and ``extra`` (Data
    Center) fill the error entry: its exceptionName, context and additional members.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        exception: str | None = None,
        context: str | None = None,
        extra: Json | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message
        self.fields = fields
        self.exception = exception
        self.context = context
        self.extra = dict(extra or {})
        self.headers = headers

    def body(self, flavour: Flavour) -> Json:
        if flavour == "cloud":
            error: Json = {"message": self.message}
            if self.fields:
                error["fields"] = self.fields
            return {"type": "error", "error": error}
        entry: Json = {
            "context": self.context,
            "message": self.message,
            "exceptionName": self.exception,
            **self.extra,
        }
        return {"errors": [entry]}

    def response(self, flavour: Flavour) -> Response:
        return Response.json(self.status, self.body(flavour), self.headers)


def field_error(field_name: str, *messages: str) -> ApiError:
    """A Cloud 400 about one field: ``{"message": "field: text", "fields": {field: [...]}}``."""
    return ApiError(
        HTTPStatus.BAD_REQUEST, f"{field_name}: {messages[0]}", fields={field_name: list(messages)}
    )


@dataclass(frozen=True)
class Call:
    """One request to a route: who asked, what, and where the server is."""

    request: Request
    state: BitbucketState
    flavour: Flavour
    base: str
    me: Account
    args: dict[str, str]

    def body(self, *, optional: bool = False) -> Json:
        """The JSON object sent; ``optional`` accepts an empty body as ``{}``."""
        if optional and not self.request.body.strip():
            return {}
        return self.request.json_object()

    def int_param(self, name: str, default: int) -> int:
        raw = self.request.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"Invalid {name}: {raw!r}") from None


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    namespace: str
    pattern: re.Pattern[str]
    handler: Handler


@dataclass
class RouteTable:
    """The routes of one module, registered with the :meth:`route` decorator."""

    routes: list[Route] = field(default_factory=list)

    def route(self, method: str, path: str, namespace: str = "api") -> Callable[[Handler], Handler]:
        """Register ``path`` (after the namespace prefix; ``{name}`` is one segment)."""
        pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path))

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, namespace, pattern, handler))
            return handler

        return register


def _basic(credentials: str) -> tuple[str, str] | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, secret = decoded.partition(":")
    return (user, secret) if sep else None


def _cloud_user(scheme: str, credentials: str, state: BitbucketState) -> Account:
    if scheme == "bearer":
        repository = state.access_tokens.get(credentials)
        if repository is not None:
            return next(
                a
                for a in state.accounts.values()
                if a.bot_repository is not None and a.bot_repository.lower() == repository
            )
    if scheme == "basic" and (pair := _basic(credentials)) is not None:
        user, secret = pair
        for account in state.accounts.values():
            if account.bot_repository is not None:
                continue
            if secret == account.api_token and user.lower() == account.email.lower():
                return account
            if secret == account.app_password:
                raise _unauthorized("cloud", CLOUD_APP_PASSWORD)
    raise _unauthorized("cloud", CLOUD_BAD_CREDENTIALS)


def _datacenter_user(scheme: str, credentials: str, state: BitbucketState) -> Account:
    if scheme == "bearer":
        user, secret = None, credentials
    elif scheme == "basic" and (pair := _basic(credentials)) is not None:
        user, secret = pair
    else:
        raise _unauthorized("datacenter", DC_BAD_CREDENTIALS)
    for account in state.accounts.values():
        named = user is None or user.lower() == account.name
        if account.bot_repository is None and secret == account.http_token and named:
            return account
    raise _unauthorized("datacenter", DC_BAD_CREDENTIALS)


def _unauthorized(flavour: Flavour, message: str) -> ApiError:
    if flavour == "cloud":
        challenge = 'Basic realm="Bitbucket.org HTTP"'
        return ApiError(
            HTTPStatus.UNAUTHORIZED, message, headers=(("WWW-Authenticate", challenge),)
        )
    exception = (
        "com.atlassian.bitbucket.AuthorisationException"
        if message == DC_NOT_PERMITTED
        else "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
    )
    return ApiError(HTTPStatus.UNAUTHORIZED, message, exception=exception)


def authenticate(request: Request, state: BitbucketState, flavour: Flavour) -> Account:
    """The account the credentials name; anything else is a 401.

    Cloud: ``Basic base64(email:api_token)`` or ``Bearer <repository access token>``; a Basic
    login with an app password is refused (Cloud removed them). Data Center: ``Bearer <HTTP
    access token>`` or ``Basic base64(name:token)``.
    """
    header = request.header("Authorization")
    if header is None or not header.strip():
        message = CLOUD_NO_CREDENTIALS if flavour == "cloud" else DC_NOT_PERMITTED
        raise _unauthorized(flavour, message)
    scheme, _, credentials = header.strip().partition(" ")
    if flavour == "cloud":
        return _cloud_user(scheme.lower(), credentials.strip(), state)
    return _datacenter_user(scheme.lower(), credentials.strip(), state)


def _split_path(path: str, flavour: Flavour) -> tuple[str, str] | None:
    if flavour == "cloud":
        match = _CLOUD_PATH.match(path)
        return (CLOUD_NAMESPACE, match["rest"]) if match else None
    match = _DC_PATH.match(path)
    return (match["ns"], match["rest"]) if match else None


def not_found(flavour: Flavour, path: str) -> ApiError:
    if flavour == "cloud":
        return ApiError(HTTPStatus.NOT_FOUND, f"Resource not found: {path}")
    return ApiError(HTTPStatus.NOT_FOUND, "HTTP 404 Not Found")


def dispatch(
    request: Request, routes: Sequence[Route], state: BitbucketState, flavour: Flavour, base: str
) -> Response:
    """Answer one request: prefix, credentials, route, handler; errors in the flavour's body."""
    headers: tuple[tuple[str, str], ...] = ()
    try:
        split = _split_path(request.path, flavour)
        if split is None:
            raise not_found(flavour, request.path)
        me = authenticate(request, state, flavour)
        if flavour == "datacenter":
            headers = (("X-AUSERNAME", me.name),)
        response = _route(request, routes, split, Call(request, state, flavour, base, me, {}))
    except ApiError as error:
        response = error.response(flavour)
    except BadRequestBody as exc:
        response = ApiError(HTTPStatus.BAD_REQUEST, str(exc)).response(flavour)
    return Response(response.status, response.body, (*response.headers, *headers))


def _route(
    request: Request, routes: Sequence[Route], split: tuple[str, str], call: Call
) -> Response:
    namespace, rest = split
    path_exists = False
    for candidate in routes:
        found = candidate.pattern.fullmatch(rest)
        if found is None or candidate.namespace != namespace:
            continue
        path_exists = True
        if candidate.method != request.method:
            continue
        args = {key: unquote(value) for key, value in found.groupdict().items()}
        return candidate.handler(Call(request, call.state, call.flavour, call.base, call.me, args))
    if path_exists:
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"Method {request.method} not allowed")
    raise not_found(call.flavour, request.path)


def json_list(value: Any, what: str) -> list[Any]:
    """A JSON array from a request body, or a 400 naming what it should have been."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiError(HTTPStatus.BAD_REQUEST, f"{what} must be a list")
    return value
