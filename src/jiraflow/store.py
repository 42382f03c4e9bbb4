"""Small JSON files jiraflow keeps for itself (issue cache, outbox, site cache), written
atomically so that an interrupted write never leaves half a file (nor two threads' writes
one mixed file)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from jiraflow.errors import RepoStateError


def read_json(
    path: str, default: Any, hint: str = "Remove the file; jiraflow will rebuild it."
) -> Any:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise RepoStateError(f"{path} cannot be read ({exc})", hint) from None


def write_json(path: str, data: Any) -> None:
    import json

    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def cache_dir(environ: Any = None) -> str:
    """The user's cache directory for jiraflow (XDG_CACHE_HOME, else ~/.cache)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jiraflow")


PARSED_FILE = "parsed.marshal"
PARSED_KEEP = 8  # the files last parsed (a user's config, a few repositories' .jiraflow.toml)


def parsed(data: bytes, parse: Callable[[bytes], Any]) -> Any:
    """parse(data), remembered in the user's cache directory by the bytes themselves (never
    stale: an edited file is other bytes). Reading a config file then costs no tomllib
    import, a fifth of a TAB press. Nothing is kept when parse raises, nor a value marshal
    cannot keep (a TOML date). The file is the user's alone (0600), like the config."""
    import marshal

    path = os.path.join(cache_dir(), PARSED_FILE)
    try:
        with open(path, "rb") as fh:
            known = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        known = None
    if not isinstance(known, dict):
        known = {}
    if data in known:
        return known[data]
    value = parse(data)
    keep = dict(list(known.items())[-(PARSED_KEEP - 1) :])
    keep[data] = value
    try:
        blob = marshal.dumps(keep)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except (ValueError, OSError):
        pass  # not kept: parsed again next time
    return value


_SITE_CACHE_LOCK = threading.Lock()  # the Jira and Bitbucket clients may learn at once


class SiteCache:
    """What a site told us once and will not change: its kind, and who the token belongs
    to. Kept in the user's cache directory, keyed by site URL and login; no secrets. A new
    fact is merged into the file as it is now, so that what another client (or thread)
    wrote meanwhile stays."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            self._data = read_json(self.path, {}) if self.path else {}
        return self._data

    def get(self, url: str, name: str) -> Any:
        return self._load().get(url, {}).get(name)

    def put(self, url: str, name: str, value: Any) -> None:
        with _SITE_CACHE_LOCK:
            data = read_json(self.path, {}) if self.path else self._load()
            data.setdefault(url, {})[name] = value
            self._data = data
            if self.path:
                write_json(self.path, data)
