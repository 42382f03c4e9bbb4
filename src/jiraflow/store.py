"""Small JSON files jiraflow keeps for itself (the outbox; the summary cache of the issues a
repository has read; the issue cache TAB offers keys from; the site cache),
written atomically so that an interrupted write never leaves half a file (nor two threads'
writes one mixed file), and private to the user (0600, in a 0700 directory it creates).

Every file on disk is untrusted input, ours included: it may be damaged, or written by an
older or newer jiraflow, or by hand. Each reader names the shape it expects (`check`); what
does not fit is `Damaged`. A file jiraflow cannot do without (the journal, the outbox) is
then a RepoStateError (exit 5) naming the file and how to reset it (`read_json`); a cache is
simply rebuilt (`read_cache`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import threading
from collections.abc import Callable
from typing import Any

from jiraflow.errors import RepoStateError

# -- shapes ----------------------------------------------------------------------------------
# A shape says what a JSON value must be:
#   str, int, float, bool   that type (a bool is no number; an int is a float)
#   None                    null
#   (a, b, ...)             any one of them
#   {"x", "y"}              one of these strings
#   re.compile(...)         a string the pattern matches in full
#   [item]                  a list of items
#   {str: value}            a table of any keys (or {pattern: value}: keys the pattern matches)
#   {"a": s, "b?": s}       a table with key a (and b, optional); other keys are allowed
#   ANY                     anything


ANY: Any = object()
NAME = re.compile(r"[^\x00-\x20\x7f]+")  # a branch, ref or word: no blanks, no control characters


class Damaged(ValueError):
    """A file is not what jiraflow writes there: what is wrong and where in it."""

    def __init__(self, what: str, where: str = "") -> None:
        super().__init__(f"{where}: {what}" if where else what)
        self.what = what
        self.where = where

    def within(self, prefix: str) -> Damaged:
        """The same damage, seen from the table holding it (prefix: "steps[2]")."""
        if not self.where:
            return Damaged(self.what, prefix)
        joint = "" if self.where.startswith("[") else "."
        return Damaged(self.what, f"{prefix}{joint}{self.where}")


def check(value: Any, shape: Any, where: str = "") -> Any:
    """`value` when it has the shape; Damaged saying where it does not."""
    if shape is ANY:
        return value
    if isinstance(shape, tuple):
        for option in shape:
            try:
                return check(value, option, where)
            except Damaged:
                continue
        raise Damaged(f"{_shown(value)} is not {_named(shape)}", where)
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise Damaged(f"{_shown(value)} is not {_named(shape)}", where)
        for i, item in enumerate(value):
            check(item, shape[0], f"{where}[{i}]")
        return value
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            raise Damaged(f"{_shown(value)} is not {_named(shape)}", where)
        prefix = f"{where}." if where else ""
        if _is_map(shape):
            [(keys, item)] = shape.items()
            for key, entry in value.items():
                if keys is not str:
                    check(key, keys, prefix + _key(key))
                check(entry, item, prefix + _key(key))
            return value
        for name, item in shape.items():
            key = name.rstrip("?")
            if key in value:
                check(value[key], item, prefix + key)
            elif not name.endswith("?"):
                raise Damaged(f"'{key}' is missing", where)
        return value
    if _fits(value, shape):
        return value
    raise Damaged(f"{_shown(value)} is not {_named(shape)}", where)


def _key(key: str) -> str:
    """A key of the file as a message may show it: as it is when plain, else quoted and
    escaped (a key may hold anything, a terminal's escape sequences and newlines too)."""
    import json

    return key if re.fullmatch(r"[\w./-]{1,60}", key, re.ASCII) else json.dumps(key[:60])


def _is_map(shape: dict[Any, Any]) -> bool:
    return len(shape) == 1 and not isinstance(next(iter(shape)), str)


def _fits(value: Any, shape: Any) -> bool:
    if shape is None:
        return value is None
    if shape is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(shape, type):
        return isinstance(value, shape) and not (shape is int and isinstance(value, bool))
    if isinstance(shape, (set, frozenset)):
        return isinstance(value, str) and value in shape
    if isinstance(shape, re.Pattern):
        return isinstance(value, str) and shape.fullmatch(value) is not None
    raise TypeError(f"not a shape: {shape!r}")  # pragma: no cover - a bug in a caller


def _named(shape: Any) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_named(option) for option in shape)
    if isinstance(shape, list):
        return "a list"
    if isinstance(shape, dict):
        return "a table"
    if isinstance(shape, (set, frozenset)):
        return "one of " + ", ".join(repr(option) for option in sorted(shape))
    if isinstance(shape, re.Pattern):
        return "a name" if shape is NAME else "a string of the right form"
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    return "null" if shape is None else names.get(shape, getattr(shape, "__name__", "?"))


def _shown(value: Any) -> str:
    """The value as the file has it, short (it may be anything: never print all of it)."""
    import json

    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    try:
        text = json.dumps(value)
    except ValueError:  # pragma: no cover - json.load gives nothing json.dumps refuses
        text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


# -- reading -----------------------------------------------------------------------------------
def parse(path: str, loads: Callable[[bytes], Any] | None = None) -> Any:
    """The value in the file (JSON, or what `loads` makes of its bytes). FileNotFoundError
    when there is none; Damaged when it is not what `loads` reads; any other OSError as the
    system gave it."""
    with open(path, "rb") as fh:
        data = fh.read()
    return (loads or _json)(data)


def _json(data: bytes) -> Any:
    import json

    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise Damaged("not UTF-8 text") from None
    except RecursionError:
        raise Damaged("not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        raise Damaged(f"not valid JSON ({exc})") from None


def read_json(
    path: str,
    default: Any,
    hint: str = "Remove the file; jiraflow will rebuild it.",
    shape: Any = ANY,
    loads: Callable[[bytes], Any] | None = None,
) -> Any:
    """A file jiraflow cannot do without: `default` when there is none, else its value, of
    `shape`. A damaged file stops the command (exit 5) with `hint`, in which {path} is the
    file: a way to see what it held and to reset it. (`loads`: for one that is not JSON.)
    Only {path} is filled in: the hint may hold other braces, and the path anything."""
    try:
        return check(parse(path, loads), shape)
    except FileNotFoundError:
        return default
    except Damaged as exc:
        raise RepoStateError(f"{path} is damaged ({exc})", hint.replace("{path}", path)) from None
    except OSError as exc:
        raise os_error(exc, path, "read") from None


def read_cache(path: str | None, shape: Any, default: Any) -> Any:
    """A cache: its value of `shape`, else `default` (none, damaged, unreadable: what it
    held is asked again and the next write replaces the file)."""
    if not path:
        return default
    try:
        return check(parse(path), shape)
    except (OSError, Damaged):
        return default


def os_error(exc: OSError, path: str | None = None, doing: str = "write") -> RepoStateError:
    """A file or directory jiraflow needs that the system refused, as exit 5 with what to do
    about it: the one wording for a full disk, a read-only or foreign directory, and a file
    where a directory should be."""
    path = str(exc.filename or path or "")
    why = exc.strerror or str(exc)
    code = exc.errno
    if not path:  # a write that failed half-way: the system names no file
        return RepoStateError(
            f"cannot write to the disk: {why}",
            "Free some disk space (or raise `ulimit -f`), then run the command again: "
            "nothing is lost.",
        )
    # ENOTDIR: a part of the path is a file; EEXIST (from makedirs): the path itself is
    blocker = (
        _in_the_way(path, itself=code == errno.EEXIST)
        if code in (errno.ENOTDIR, errno.EEXIST)
        else None
    )
    if blocker:
        return RepoStateError(
            f"{blocker} is a file, where jiraflow keeps a directory",
            f"Move it away (`mv {blocker} {blocker}.old`), then run the command again.",
        )
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return RepoStateError(
            f"cannot {doing} {path}: {why}",
            "Free some disk space (or raise `ulimit -f`), then run the command again: "
            "nothing is lost.",
        )
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        folder = os.path.dirname(path) or "."
        return RepoStateError(
            f"cannot {doing} {path}: {why}",
            f"Make it writable for you (`ls -ld {folder} {path}`), then run the command again.",
        )
    return RepoStateError(
        f"cannot {doing} {path}: {why}", f"Check `ls -ld {path}`, then run the command again."
    )


def _in_the_way(path: str, *, itself: bool) -> str | None:
    """The first directory of `path` (or, with `itself`, the path) that exists and is not
    a directory."""
    parts = os.path.abspath(path).split(os.sep)
    for end in range(2, len(parts) + (1 if itself else 0)):
        head = os.sep.join(parts[:end])
        if os.path.lexists(head) and not os.path.isdir(head):
            return head
    return None


# -- writing -----------------------------------------------------------------------------------
def write_json(path: str, data: Any) -> None:
    """Replace the file with `data`, atomically and private to the user (0600; its directory
    0700 when created here). A failure stops the command (exit 5) saying what to do."""
    import json

    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    try:
        write_private(path, text.encode("utf-8"))
    except OSError as exc:
        raise os_error(exc, path) from None


def write_cache(path: str | None, data: Any) -> None:
    """write_json for a cache: a cache that cannot be written is not kept (asked again)."""
    if not path:
        return
    with contextlib.suppress(RepoStateError):
        write_json(path, data)


def write_private(path: str, data: bytes) -> None:
    """Write a file only its owner can read, atomically: a temporary file (0600 from its
    creation, whatever the umask) renamed over the old one. Raises OSError."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    cannot keep (a TOML date). The file is the user's alone (0600), like the config. A
    remembered value that is no TOML table (a damaged file) is parsed again, and replaced."""
    import marshal

    path = os.path.join(cache_dir(), PARSED_FILE)
    try:
        with open(path, "rb") as fh:
            known = marshal.load(fh)
    except Exception:  # a cache: whatever is wrong with it, it is rebuilt
        known = None
    if not isinstance(known, dict):
        known = {}
    if data in known and _toml_like(known[data]):
        return known[data]
    value = parse(data)
    keep = {k: v for k, v in known.items() if isinstance(k, bytes) and k != data}
    keep = dict(list(keep.items())[-(PARSED_KEEP - 1) :])
    keep[data] = value
    with contextlib.suppress(ValueError, OSError):  # not kept: parsed again next time
        write_private(path, marshal.dumps(keep))
    return value


def _toml_like(value: Any, depth: int = 0) -> bool:
    """Whether a remembered value is a table of what TOML parses to (as marshal keeps it)."""
    if isinstance(value, dict) and depth < 64:
        return all(isinstance(k, str) and _toml_like(v, depth + 1) for k, v in value.items())
    if depth == 0 or depth >= 64:
        return False
    if isinstance(value, list):
        return all(_toml_like(v, depth + 1) for v in value)
    return isinstance(value, (str, int, float, bool))


_SITE_CACHE_LOCK = threading.Lock()  # the Jira and Bitbucket clients may learn at once

# What each fact a client keeps in the site cache must look like (by the start of its name:
# "myself alice@example.com"); a fact that does not is asked of the site again.
SITE_FACTS: dict[str, Any] = {
    "kind": {"cloud", "datacenter"},
    "myself ": {"id": str, "display": str, "email?": str},
    "user ": {"id": str, "name": str, "display": str, "account_id": str},
    "repository id ": re.compile(r"[0-9]+"),
}


SITE_CACHE_SHAPE: Any = {str: {str: ANY}}  # site URL -> fact name -> fact


class SiteCache:
    """What a site told us once and will not change: its kind, and who the token belongs
    to. Kept in the user's cache directory, keyed by site URL and login; no secrets. A new
    fact is merged into the file as it is now, so that what another client (or thread)
    wrote meanwhile stays. A damaged file is an empty cache, and a fact of the wrong shape
    an unknown one (SITE_FACTS): both are asked of the site again and written anew."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            self._data = read_cache(self.path, SITE_CACHE_SHAPE, {})
        return self._data

    def get(self, url: str, name: str) -> Any:
        value = self._load().get(url, {}).get(name)
        shape = next((s for start, s in SITE_FACTS.items() if name.startswith(start)), ANY)
        try:
            return check(value, (None, shape))
        except Damaged:
            return None

    def put(self, url: str, name: str, value: Any) -> None:
        with _SITE_CACHE_LOCK:
            data = read_cache(self.path, SITE_CACHE_SHAPE, {}) if self.path else self._load()
            data.setdefault(url, {})[name] = value
            self._data = data
            write_cache(self.path, data)
