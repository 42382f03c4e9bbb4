"""Version files: the files `release start` and `hotfix start` bump (`release.version_files`).

Each file is edited as text, so that its formatting, comments and key order stay as they
were; only the version string changes. The kind is told by the file's name:

    pyproject.toml                     version = "..." in [project] and/or [tool.poetry]
    package.json                       the top-level "version"
    package-lock.json (and             the top-level "version" and packages[""].version
      npm-shrinkwrap.json)
    *.py                               __version__ = "..."
    anything else                      a plain file whose whole content is the version

The TOML and JSON results are parsed again and must equal the original with only the
version changed, so a file this module cannot edit safely is refused, never damaged.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import tomllib
from collections.abc import Iterable
from typing import Any

from jiraflow.errors import ConfigError
from jiraflow.git import GitRepo

KEY = "release.version_files"
_HINT = (
    f"{KEY} takes pyproject.toml, package.json, package-lock.json, a Python file with "
    '__version__ = "...", or a plain file holding only the version.'
)


def bumped(path: str, text: str, version: str) -> str:
    """`text`, the content of the version file `path`, with its version set to `version`.
    Raises ConfigError (naming the file) when it holds no version this module can bump."""
    name = posixpath.basename(path)
    if name == "pyproject.toml":
        return _pyproject(path, text, version)
    if name == "package.json":
        return _json(path, text, version, [("version",)])
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        return _json(path, text, version, [("version",), ("packages", "", "version")])
    if name.endswith(".py"):
        return _python(path, text, version)
    return _plain(path, text, version)


def read_at(repo: GitRepo, rev: str, paths: Iterable[str]) -> dict[str, str]:
    """The text of each version file in commit `rev` (not the work tree), by path.
    ConfigError when one is not a regular file there."""
    wanted = [_clean_path(p) for p in dict.fromkeys(paths)]
    if not wanted:
        return {}
    listing = repo.run("ls-tree", "-z", rev, "--", *wanted).stdout
    blobs: dict[str, tuple[str, str]] = {}
    for entry in listing.split("\0"):
        if entry:
            info, _, name = entry.partition("\t")
            mode, _, sha = info.split(" ")
            blobs[name] = (mode, sha)
    texts = {}
    for path in wanted:
        if path not in blobs:
            raise ConfigError(
                f"{KEY} names '{path}', which is not in '{rev}'",
                f"Commit it to '{rev}' first, or remove it from {KEY}.",
            )
        mode, sha = blobs[path]
        if mode not in ("100644", "100755"):
            raise ConfigError(
                f"{KEY} names '{path}', which is not a regular file in '{rev}'",
                "Name the file itself (not a directory, link or submodule).",
            )
        texts[path] = _keep_line_endings(repo, path, repo.run("cat-file", "blob", sha).stdout)
    return texts


def _clean_path(path: str) -> str:
    clean = posixpath.normpath(path.replace("\\", "/"))
    if not path.strip() or clean.startswith(("/", "../")) or clean in (".", ".."):
        raise ConfigError(
            f"{KEY} names '{path}', which is not a path inside the repository",
            "Give paths relative to the top of the work tree, e.g. pyproject.toml.",
        )
    return clean


def _keep_line_endings(repo: GitRepo, path: str, text: str) -> str:
    """git's output reaches us with its line endings turned into '\\n'. When the file in the
    work tree has the same content, take its own text, so CRLF files stay CRLF."""
    try:
        with open(os.path.join(repo.root, path), encoding="utf-8", newline="") as fh:
            local = fh.read()
    except (OSError, UnicodeDecodeError):
        return text
    same = local.replace("\r\n", "\n").replace("\r", "\n") == text
    return local if same else text


def _error(path: str, what: str, hint: str = _HINT) -> ConfigError:
    return ConfigError(f"{KEY}: {path} {what}", hint)


# -- pyproject.toml ---------------------------------------------------------------------------
_TABLES = ("project", "tool.poetry")
_HEADER = re.compile(r"[ \t]*\[\[?([^\[\]#\n]+)\]\]?[ \t]*(?:#.*)?")
_TOML_VERSION = re.compile(r"""([ \t]*version[ \t]*=[ \t]*)("[^"\\\n]*"|'[^'\n]*')""")


def _pyproject(path: str, text: str, version: str) -> str:
    data = _load(path, text, tomllib.loads, "TOML")
    tables = {name: _table(data, name) for name in _TABLES}
    targets = [name for name, table in tables.items() if isinstance(table.get("version"), str)]
    if not targets:
        project = tables["project"]
        if "version" in project.get("dynamic", []):
            raise _error(
                path,
                'takes its version dynamically (dynamic = ["version"]): nothing to bump',
                f"Name the file it comes from instead (e.g. a .py file with __version__), "
                f"or remove {path} from {KEY}.",
            )
        raise _error(path, 'has no version = "..." in [project] or [tool.poetry]')
    lines = text.splitlines(keepends=True)
    table = ""
    edited = set()
    for i, line in enumerate(lines):
        header = _HEADER.fullmatch(line.rstrip("\r\n"))
        if header:
            table = re.sub(r"""[\s"']""", "", header.group(1))
            continue
        match = _TOML_VERSION.match(line)
        if match and table in targets and table not in edited:
            quoted = json.dumps(version, ensure_ascii=False)
            if match.group(2).startswith("'") and "'" not in version:
                quoted = f"'{version}'"
            lines[i] = match.group(1) + quoted + line[match.end() :]
            edited.add(table)
    new = "".join(lines)
    for name in targets:
        _table(data, name)["version"] = version
    if edited != set(targets) or _load(path, new, tomllib.loads, "TOML") != data:
        where = " and ".join(f"[{t}]" for t in targets)
        raise _error(path, f'does not have its version as one line version = "..." in {where}')
    return new


def _table(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    node: Any = data
    for part in dotted.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _load(path: str, text: str, loads: Any, what: str) -> Any:
    try:
        return loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError and json.JSONDecodeError
        raise _error(path, f"is not valid {what} ({exc})") from None


# -- package.json and package-lock.json --------------------------------------------------------
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _json(path: str, text: str, version: str, keys: list[tuple[str, ...]]) -> str:
    data = _load(path, text, json.loads, "JSON")
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise _error(path, 'has no top-level "version" string')
    spans = _string_values(text, set(keys))
    new = text
    for key in sorted(spans, key=lambda k: spans[k][0], reverse=True):
        start, end = spans[key]
        new = new[:start] + json.dumps(version, ensure_ascii=False) + new[end:]
        node = data
        for part in key[:-1]:
            node = node[part]
        node[key[-1]] = version
    if _load(path, new, json.loads, "JSON") != data:  # pragma: no cover - a scanner bug
        raise _error(path, "could not be edited safely")
    return new


def _string_values(
    text: str, wanted: set[tuple[str, ...]]
) -> dict[tuple[str, ...], tuple[int, int]]:
    """Where (start, end) in the JSON `text` the string values at the object paths `wanted`
    are. Stops as soon as all are found (the top of a package-lock.json)."""
    depth = max(len(k) for k in wanted)
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    # one entry per open container: [key of the current member, expecting a key] for an
    # object, None for an array (its elements are never wanted)
    stack: list[list[Any] | None] = []
    for token in _JSON_TOKEN.finditer(text):
        t = token.group()
        top = stack[-1] if stack else None
        if t == "{":
            stack.append([None, True])
        elif t == "[":
            stack.append(None)
        elif t in "}]":
            stack.pop()
        elif t in ",:":
            if top is not None:
                top[1] = t == ","
        elif top is not None and top[1]:
            top[0] = json.loads(t)
        elif len(stack) <= depth and all(level is not None for level in stack):
            path = tuple(level[0] for level in stack if level is not None)
            if path in wanted:
                found[path] = token.span()
                if len(found) == len(wanted):
                    break
    return found


# -- Python and plain files --------------------------------------------------------------------
_PY_VERSION = re.compile(
    r"""^(__version__[ \t]*(?::[ \t]*[\w.]+[ \t]*)?=[ \t]*)(["'])([^"'\\\n]*)\2""", re.M
)


def _python(path: str, text: str, version: str) -> str:
    match = _PY_VERSION.search(text)
    if match is None:
        raise _error(path, 'has no line __version__ = "..." (at the start of a line)')
    quote = match.group(2)
    quoted = quote + version + quote if quote not in version else json.dumps(version)
    return text[: match.start()] + match.group(1) + quoted + text[match.end() :]


def _plain(path: str, text: str, version: str) -> str:
    content = text.strip()
    if len(content.split()) > 1 or len(content) > 100:
        first = content.splitlines()[0]
        shown = first if len(first) <= 40 else first[:37] + "..."
        more = ", ..." if "\n" in content else ""
        raise _error(
            path,
            "is not a plain version file: it should hold only the version (e.g. 1.4.0), "
            f"not {shown!r}{more}",
        )
    body = text.rstrip("\r\n")
    return version + text[len(body) :]
