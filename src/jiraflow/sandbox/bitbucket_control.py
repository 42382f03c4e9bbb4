"""The Bitbucket sandbox's own ``/_sandbox/`` control endpoints: what tests set through
BitbucketSandbox's methods, for someone trying ``jiraflow sandbox serve`` with curl.

Like ``/_sandbox/state``, ``fault`` and ``reset`` (sandbox/server.py) they need no credentials
and are not recorded. Each takes ``POST`` with a JSON object, answers 204 when done, and 400
``{"error": "..."}`` naming what is wrong otherwise. ``"repository"`` (optional) names the
repository; the default is the seeded one (``acme/shop``, or ``ACME/shop`` on Data Center).

* ``/_sandbox/build`` ``{"commit": SHA, "key": "ci", "state": "SUCCESSFUL"}`` (or
  ``"pull_request": N`` instead of the commit: its head), optional ``name``, ``url`` and
  ``description``: a build reported as a CI server reports it (set_build).
* ``/_sandbox/approve`` ``{"pull_request": N, "user": "bob"}``: that user approves (approve).
* ``/_sandbox/merge-rules`` ``{"default": ..., "enabled": [...], "blockers": [...]}`` and, on
  Cloud, ``polls`` and ``task_location`` (set_merge_rules; ``"blockers": []`` lifts them).
* ``/_sandbox/protect`` ``{"branches": ["main", "develop"]}``: pushes to them are refused by
  the bare repository behind the sandbox (``serve --git-dir``); ``[]`` lifts it (protect).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Protocol

from jiraflow.sandbox import bitbucket_cloud_api as cloud_api
from jiraflow.sandbox import bitbucket_merging as merging
from jiraflow.sandbox.server import CONTROL_PREFIX, BadRequestBody, Request, Response


class BitbucketSandbox(Protocol):
    """What the endpoints ask of sandbox.bitbucket.BitbucketSandbox (named by its shape, so
    that this module, which it imports, does not import it back)."""

    @property
    def flavour(self) -> str: ...

    @property
    def repository_name(self) -> str: ...

    def head_commit(self, *args: Any, **kwargs: Any) -> str: ...

    def builds(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]: ...

    def set_build(self, *args: Any, **kwargs: Any) -> Any: ...

    def approve(self, *args: Any, **kwargs: Any) -> Any: ...

    def set_merge_rules(self, *args: Any, **kwargs: Any) -> Any: ...

    def protect(self, *args: Any, **kwargs: Any) -> Any: ...


__all__ = ["ENDPOINTS", "control"]


def control(sandbox: BitbucketSandbox, request: Request) -> Response | None:
    """Answer a request to one of this module's endpoints; None for any other path."""
    name = request.path[len(CONTROL_PREFIX) :].strip("/")
    endpoint = ENDPOINTS.get(name)
    if endpoint is None:
        return None
    if request.method != "POST":
        return _error(
            HTTPStatus.METHOD_NOT_ALLOWED, f"/_sandbox/{name} takes POST with a JSON object"
        )
    try:
        endpoint(sandbox, request.json_object())
    except (BadRequestBody, ValueError) as exc:
        return _error(HTTPStatus.BAD_REQUEST, f"/_sandbox/{name}: {exc}")
    except KeyError as exc:  # an unknown repository, pull request or user: the model's words
        message = exc.args[0] if exc.args else str(exc)
        return _error(HTTPStatus.BAD_REQUEST, f"/_sandbox/{name}: {message}")
    return Response.empty()


def _error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})


# -- the endpoints ---------------------------------------------------------------------------


def _build(sandbox: BitbucketSandbox, body: Mapping[str, Any]) -> None:
    _only(
        body, "repository", "commit", "pull_request", "key", "state", "name", "url", "description"
    )
    repository = _repository(sandbox, body)
    if ("commit" in body) == ("pull_request" in body):
        raise ValueError('give either "commit" (a hash) or "pull_request" (a number)')
    if "commit" in body:
        commit = _text(body, "commit")
        if not 7 <= len(commit) <= 40 or any(c not in "0123456789abcdefABCDEF" for c in commit):
            raise ValueError(f'"commit" is a commit hash of 7 to 40 hex digits, not {commit!r}')
    else:
        commit = sandbox.head_commit(repository, _number(body, "pull_request"))
    key = _text(body, "key")
    # a key reported before keeps its name, URL and description unless they are given again
    before = next((b for b in sandbox.builds(repository, commit) if b["key"] == key), {})
    sandbox.set_build(
        repository,
        commit,
        key,
        _text(body, "state"),
        name=_text(body, "name", default=before.get("name", "")),
        url=_text(body, "url", default=before.get("url", "")),
        description=_text(body, "description", default=before.get("description", "")),
    )


def _approve(sandbox: BitbucketSandbox, body: Mapping[str, Any]) -> None:
    _only(body, "repository", "pull_request", "user")
    sandbox.approve(_repository(sandbox, body), _number(body, "pull_request"), _text(body, "user"))


def _merge_rules(sandbox: BitbucketSandbox, body: Mapping[str, Any]) -> None:
    cloud = sandbox.flavour == "cloud"
    cloud_only = ("polls", "task_location") if cloud else ()
    _only(body, "repository", "default", "enabled", "blockers", *cloud_only)
    known = (
        (*cloud_api.MERGE_STRATEGIES, *cloud_api.OTHER_STRATEGIES)
        if cloud
        else tuple(merging.DC_STRATEGY_NAMES)
    )
    enabled = None
    if "enabled" in body:
        enabled = _texts(body, "enabled")
        if not enabled:
            raise ValueError('"enabled" needs at least one strategy')
        for strategy in enabled:
            _strategy(strategy, known)
    default = None
    if "default" in body:
        default = _strategy(_text(body, "default"), known)
        if enabled is not None and default not in enabled:
            raise ValueError(f'the default {default!r} is not one of "enabled"')
    blockers: list[str | tuple[str, str]] | None = None
    if "blockers" in body:
        blockers = [_blocker(item) for item in _list(body, "blockers")]
    polls = _number(body, "polls", least=0) if "polls" in body else None
    location = _text(body, "task_location") if "task_location" in body else None
    sandbox.set_merge_rules(
        _repository(sandbox, body),
        default=default,
        enabled=enabled,
        blockers=blockers,
        polls=polls,
        task_location=location,
    )


def _protect(sandbox: BitbucketSandbox, body: Mapping[str, Any]) -> None:
    _only(body, "repository", "branches")
    if "branches" not in body:
        raise ValueError('"branches" is missing: a list of names or patterns ([]: none)')
    branches = _texts(body, "branches")
    repository = _repository(sandbox, body)
    try:
        sandbox.protect(repository, branches)
    except ValueError as exc:
        if "no git directory" not in str(exc):
            raise
        raise ValueError(
            f"{repository} has no git repository behind it; "
            "start `jiraflow sandbox serve --git-dir ORIGIN.git`"
        ) from None


ENDPOINTS: dict[str, Callable[[BitbucketSandbox, Mapping[str, Any]], None]] = {
    "build": _build,
    "approve": _approve,
    "merge-rules": _merge_rules,
    "protect": _protect,
}


# -- checking what was sent ------------------------------------------------------------------


def _only(body: Mapping[str, Any], *names: str) -> None:
    unknown = sorted(set(body) - set(names))
    if unknown:
        raise ValueError(f"unknown fields {', '.join(unknown)}; it takes {', '.join(names)}")


def _repository(sandbox: BitbucketSandbox, body: Mapping[str, Any]) -> str:
    return _text(body, "repository", default=sandbox.repository_name)


def _text(body: Mapping[str, Any], name: str, *, default: str | None = None) -> str:
    if name not in body and default is not None:
        return default
    if name not in body:
        raise ValueError(f'"{name}" is missing')
    value = body[name]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'"{name}" must be a non-empty string, not {value!r}')
    return value


def _number(body: Mapping[str, Any], name: str, *, least: int = 1) -> int:
    if name not in body:
        raise ValueError(f'"{name}" is missing')
    value = body[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f'"{name}" must be a whole number of at least {least}, not {value!r}')
    return value


def _list(body: Mapping[str, Any], name: str) -> list[Any]:
    value = body[name]
    if not isinstance(value, list):
        raise ValueError(f'"{name}" must be a list, not {value!r}')
    return value


def _texts(body: Mapping[str, Any], name: str) -> list[str]:
    values = _list(body, name)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ValueError(f'"{name}" must be a list of non-empty strings, not {values!r}')
    return [str(v) for v in values]


def _strategy(name: str, known: tuple[str, ...]) -> str:
    if name not in known:
        raise ValueError(f"unknown merge strategy {name!r}; this kind has {', '.join(known)}")
    return name


def _blocker(item: object) -> str | tuple[str, str]:
    """A Cloud merge restriction (a reason) or a Data Center veto (a reason, or [summary,
    detail])."""
    if isinstance(item, str) and item.strip():
        return item
    if (
        isinstance(item, list)
        and len(item) == 2
        and all(isinstance(part, str) for part in item)
        and item[0].strip()
    ):
        return (item[0], item[1])
    raise ValueError(f'each of "blockers" is a reason or [summary, detail], not {item!r}')
