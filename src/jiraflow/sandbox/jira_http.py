"""Request plumbing of the Jira sandbox: API prefixes, authentication, routing, Jira errors.

Route handlers live in jira_site, jira_issues and jira_search; each registers on its own
:class:`RouteTable`, and :func:`dispatch` walks the tables the sandbox gives it. A handler gets a
:class:`Call` (the request, the authenticated user and a :class:`View` for the API version asked
for) and either returns a :class:`Response` or raises :class:`ApiError`, which becomes Jira's
ErrorCollection body ``{"errorMessages": [...], "errors": {...}}``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

from jiraflow.sandbox.jira_model import (
    Flavour,
    Issue,
    JiraState,
    Json,
    Project,
    User,
    Version,
    project_by_key,
)
from jiraflow.sandbox.jira_views import View
from jiraflow.sandbox.server import BadRequestBody, Request, Response

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."
API_PREFIXES: dict[Flavour, tuple[str, ...]] = {
    "cloud": ("3", "2", "latest"),
    "datacenter": ("2", "latest"),
}
_API_PATH = re.compile(r"^/rest/api/(?P<api>2|3|latest)(?:/(?P<rest>.*?))?/?$")


class ApiError(Exception):
    """Ends a request with a Jira ErrorCollection body."""

    def __init__(
        self, status: int, messages: Iterable[str] = (), errors: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})
        super().__init__(status, self.messages, self.errors)

    def response(self) -> Response:
        return Response.json(self.status, {"errorMessages": self.messages, "errors": self.errors})


def bad_request(message: str | None = None, **errors: str) -> ApiError:
    """A 400 with a general message, or with messages per field (``errors``)."""
    return ApiError(HTTPStatus.BAD_REQUEST, [message] if message else [], errors)


def field_errors(errors: dict[str, str]) -> ApiError:
    return ApiError(HTTPStatus.BAD_REQUEST, [], errors)


@dataclass(frozen=True)
class Call:
    """One request to a route: who asked, what, and the view its answer is rendered in."""

    request: Request
    view: View
    me: User | None
    args: dict[str, str]

    @property
    def state(self) -> JiraState:
        return self.view.state

    @property
    def flavour(self) -> Flavour:
        return self.view.flavour

    @property
    def cloud(self) -> bool:
        return self.view.cloud

    @property
    def user(self) -> User:
        if self.me is None:  # only anonymous routes run without a user
            raise ApiError(HTTPStatus.UNAUTHORIZED, [NOT_AUTHENTICATED])
        return self.me

    def body(self) -> Json:
        return self.request.json_object()

    def int_param(self, name: str, default: int) -> int:
        raw = self.request.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise bad_request(
                f"The value '{raw}' is not valid for the parameter '{name}'."
            ) from None

    def issue(self, key_or_id: str) -> Issue:
        issue = self.state.find_issue(key_or_id)
        if issue is None:
            raise ApiError(HTTPStatus.NOT_FOUND, [ISSUE_NOT_FOUND])
        return issue

    def project(self, key_or_id: str) -> Project:
        try:
            return project_by_key(key_or_id)
        except KeyError:
            raise ApiError(
                HTTPStatus.NOT_FOUND, [f"No project could be found with key '{key_or_id}'."]
            ) from None

    def version(self, version_id: str) -> Version:
        version = self.state.versions.get(int(version_id)) if version_id.isdigit() else None
        if version is None:
            raise ApiError(HTTPStatus.NOT_FOUND, [f"Could not find version for id '{version_id}'"])
        return version

    def find_user(self, identifier: str, field_name: str) -> User:
        """A user by accountId (Cloud) or name/key (Data Center), else Jira's 400 on the field."""
        user = self.state.find_user(identifier, self.flavour)
        if user is None:
            raise bad_request(**{field_name: f"User '{identifier}' does not exist."})
        return user


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    anonymous: bool
    flavours: tuple[Flavour, ...]


@dataclass
class RouteTable:
    """The routes of one module, registered with the :meth:`route` decorator."""

    routes: list[Route] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        anonymous: bool = False,
        flavours: tuple[Flavour, ...] = ("cloud", "datacenter"),
    ) -> Callable[[Handler], Handler]:
        """Register a handler for ``path`` (after /rest/api/N/; ``{name}`` is one segment)."""
        pattern = re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path))

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, pattern, handler, anonymous, flavours))
            return handler

        return register


def authenticate(request: Request, state: JiraState, flavour: Flavour) -> tuple[User | None, bool]:
    """The user the credentials name, and whether they are acceptable at all.

    Cloud takes only ``Basic base64(email:api_token)``, Data Center only ``Bearer <PAT>``.
    No Authorization header gives ``(None, True)``: anonymous, which only serverInfo accepts.
    """
    header = request.header("Authorization")
    if header is None:
        return None, True
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if flavour == "cloud" and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        email, _, token = decoded.partition(":")
        for user in state.users.values():
            if user.email.lower() == email.lower() and user.token == token:
                return user, True
    if flavour == "datacenter" and scheme.lower() == "bearer":
        for user in state.users.values():
            if user.token == credentials:
                return user, True
    return None, False


def dispatch(
    request: Request,
    routes: Sequence[Route],
    state: JiraState,
    flavour: Flavour,
    base_url: str,
) -> Response:
    """Answer one request: prefix, credentials, route, handler; errors as Jira's bodies."""
    try:
        return _dispatch(request, routes, state, flavour, base_url)
    except ApiError as error:
        return error.response()
    except BadRequestBody as exc:
        return bad_request(str(exc)).response()


def _dispatch(
    request: Request,
    routes: Sequence[Route],
    state: JiraState,
    flavour: Flavour,
    base_url: str,
) -> Response:
    not_found = ApiError(HTTPStatus.NOT_FOUND, [f"null for uri: {base_url}{request.path}"])
    match = _API_PATH.match(request.path)
    if match is None or match["api"] not in API_PREFIXES[flavour]:
        raise not_found
    me, credentials_ok = authenticate(request, state, flavour)
    if not credentials_ok:
        raise ApiError(HTTPStatus.UNAUTHORIZED, [NOT_AUTHENTICATED])
    rest = match["rest"] or ""
    path_exists = False
    for candidate in routes:
        found = candidate.pattern.fullmatch(rest)
        if found is None or flavour not in candidate.flavours:
            continue
        path_exists = True
        if candidate.method != request.method:
            continue
        if me is None and not candidate.anonymous:
            raise ApiError(HTTPStatus.UNAUTHORIZED, [NOT_AUTHENTICATED])
        view = View(base_url, match["api"], flavour, state)
        return candidate.handler(Call(request, view, me, found.groupdict()))
    if path_exists:
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, [f"Method {request.method} not allowed."])
    raise not_found
