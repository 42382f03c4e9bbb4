"""Small JSON files jiraflow keeps for itself (issue cache, outbox, site cache), written
atomically so that an interrupted write never leaves half a file."""

from __future__ import annotations

import json
import os
from typing import Any

from jiraflow.errors import RepoStateError


def read_json(
    path: str, default: Any, hint: str = "Remove the file; jiraflow will rebuild it."
) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise RepoStateError(f"{path} cannot be read ({exc})", hint) from None


def write_json(path: str, data: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def cache_dir(environ: Any = None) -> str:
    """The user's cache directory for jiraflow (XDG_CACHE_HOME, else ~/.cache)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jiraflow")


class SiteCache:
    """What a site told us once and will not change: its kind, and who the token belongs
    to. Kept in the user's cache directory, keyed by site URL and login; no secrets."""

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
        data = self._load()
        data.setdefault(url, {})[name] = value
        if self.path:
            write_json(self.path, data)
