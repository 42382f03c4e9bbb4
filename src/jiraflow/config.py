"""Layered configuration: defaults < user file < .jiraflow.toml < git config < environment.

The frozen dataclasses below are the schema: every key, its type, default and
documentation. Command-line flags are the last layer; the CLI applies them.
Secrets never live here.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from jiraflow.errors import ConfigError

REPO_FILE = ".jiraflow.toml"


def _key(default: Any, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class PrefixConfig:
    feature: str = _key("feature/", "Prefix of feature branches.")
    bugfix: str = _key("bugfix/", "Prefix of bugfix branches.")
    release: str = _key("release/", "Prefix of release branches.")
    hotfix: str = _key("hotfix/", "Prefix of hotfix branches.")
    support: str = _key("support/", "Prefix of support branches.")


@dataclass(frozen=True)
class GitflowConfig:
    main: str = _key("main", "The production branch (git-flow AVH: gitflow.branch.master).")
    develop: str = _key("develop", "The integration branch.")
    version_tag_prefix: str = _key("", "Prefix of version tags, e.g. 'v'.")
    remote: str = _key("origin", "The remote to fetch from and push to.")
    prefix: PrefixConfig = field(default_factory=PrefixConfig)


@dataclass(frozen=True)
class FinishConfig:
    fetch: bool = _key(False, "Fetch the remote before finishing (like --fetch).")
    push: bool = _key(False, "Push the merged branches and tags after finishing (like --push).")
    keep: bool = _key(False, "Keep the finished branch (like --keep).")
    no_ff: bool = _key(False, "Always make a merge commit for features and bugfixes (like --no-ff).")
    delete_remote: bool = _key(
        True, "Delete the finished branch on the remote when it exists there."
    )


@dataclass(frozen=True)
class ReleaseConfig:
    tag_message: str = _key(
        "Release {version}", "Message of the release tag; {version} and {tag} are replaced."
    )


@dataclass(frozen=True)
class HotfixConfig:
    tag_message: str = _key(
        "Hotfix {version}", "Message of the hotfix tag; {version} and {tag} are replaced."
    )
    into_release: bool = _key(
        True,
        "When a release branch is open, merge a finished hotfix into it instead of develop "
        "(the original Gitflow model).",
    )


@dataclass(frozen=True)
class Config:
    gitflow: GitflowConfig = field(default_factory=GitflowConfig)
    finish: FinishConfig = field(default_factory=FinishConfig)
    release: ReleaseConfig = field(default_factory=ReleaseConfig)
    hotfix: HotfixConfig = field(default_factory=HotfixConfig)
    # key -> where its value came from ("default", a file path, "git config ...", "env ...")
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def get(self, key: str) -> Any:
        node: Any = self
        for part in key.split("."):
            node = getattr(node, part)
        return node


@dataclass(frozen=True)
class KeyInfo:
    key: str
    type: type
    default: Any
    doc: str

    @property
    def env_var(self) -> str:
        return "JIRAFLOW_" + self.key.upper().replace(".", "_")


def _walk(cls: type, prefix: str = "") -> Iterator[KeyInfo]:
    for f in fields(cls):
        if f.name == "sources":
            continue
        key = f"{prefix}{f.name}"
        if f.default_factory is not MISSING and is_dataclass(f.default_factory):
            yield from _walk(f.default_factory, key + ".")  # type: ignore[arg-type]
        else:
            yield KeyInfo(key, type(f.default), f.default, f.metadata.get("doc", ""))


KEYS: dict[str, KeyInfo] = {info.key: info for info in _walk(Config)}

# git-flow AVH's git config keys, read so that `git flow init` repositories work unchanged.
GIT_CONFIG_KEYS: dict[str, str] = {
    "gitflow.branch.master": "gitflow.main",
    "gitflow.branch.develop": "gitflow.develop",
    "gitflow.prefix.versiontag": "gitflow.version_tag_prefix",
    "gitflow.origin": "gitflow.remote",
    **{f"gitflow.prefix.{t}": f"gitflow.prefix.{t}" for t in PrefixConfig.__dataclass_fields__},
}

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def parse_value(key: str, raw: str, where: str) -> Any:
    """A value given as text (git config, environment, `config set`) in the key's type."""
    info = known_key(key, where)
    if info.type is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"{where}: '{key}' must be true or false, not {raw!r}")
    if info.type is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{where}: '{key}' must be a whole number, not {raw!r}") from None
    return raw


def known_key(key: str, where: str) -> KeyInfo:
    try:
        return KEYS[key]
    except KeyError:
        raise ConfigError(
            f"{where}: unknown key '{key}'",
            "`jiraflow config show` lists every key; see docs/configuration.md.",
        ) from None


def _type_name(t: type) -> str:
    return {bool: "true or false", int: "a whole number", str: "a string"}.get(t, t.__name__)


def _check_type(key: str, value: Any, where: str) -> Any:
    info = known_key(key, where)
    ok = isinstance(value, info.type) and not (info.type is int and isinstance(value, bool))
    if not ok:
        raise ConfigError(f"{where}: '{key}' must be {_type_name(info.type)}, not {value!r}")
    return value


def flatten(table: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and key not in KEYS:
            if not any(k.startswith(key + ".") for k in KEYS):
                known_key(key, where)
            flat.update(flatten(value, where, key + "."))
        else:
            flat[key] = _check_type(key, value, where)
    return flat


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", "Fix or remove the file.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def user_file(app_dir: str | os.PathLike[str]) -> Path:
    override = os.environ.get("JIRAFLOW_CONFIG")
    return Path(override) if override else Path(app_dir) / "config.toml"


def load(
    *,
    user_path: Path | None,
    repo_root: Path | None,
    git_config: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge every layer into a Config, remembering where each value came from."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = dict.fromkeys(KEYS, "default")

    def layer(flat: Mapping[str, Any], source: str) -> None:
        for key, value in flat.items():
            values[key] = value
            sources[key] = source

    if user_path is not None:
        layer(flatten(read_toml(user_path), str(user_path)), str(user_path))
    if repo_root is not None:
        path = repo_root / REPO_FILE
        layer(flatten(read_toml(path), str(path)), REPO_FILE)
    for git_key, key in GIT_CONFIG_KEYS.items():
        if git_config and git_key in git_config:
            where = f"git config {git_key}"
            layer({key: parse_value(key, git_config[git_key], where)}, where)
    env = os.environ if environ is None else environ
    for key, info in KEYS.items():
        if info.env_var in env:
            where = f"environment {info.env_var}"
            layer({key: parse_value(key, env[info.env_var], where)}, where)
    return build(values, sources)


def build(values: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> Config:
    def make(cls: type, prefix: str) -> Any:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "sources":
                continue
            key = prefix + f.name
            if key in KEYS:
                if key in values:
                    kwargs[f.name] = values[key]
            else:
                kwargs[f.name] = make(f.default_factory, key + ".")  # type: ignore[arg-type]
        return cls(**kwargs)

    config: Config = make(Config, "")
    return replace(config, sources=dict(sources or {}))


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}"""
    data: dict[str, Any] = {}
    for key, value in flat.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def dumps(flat: Mapping[str, Any]) -> str:
    import tomli_w

    for key, value in flat.items():
        _check_type(key, value, "value")
    return tomli_w.dumps(nest(flat))


def write_key(path: Path, key: str, value: Any) -> bool:
    """Set one key in a TOML file (created when missing). Returns True when the file had
    comments, which a rewrite with tomli-w cannot keep."""
    import tomli_w

    _check_type(key, value, str(path))
    data = read_toml(path)
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{path}: '{part}' is a value, not a table; fix the file by hand")
        node = child
    node[parts[-1]] = value
    had_comments = path.exists() and any(
        line.lstrip().startswith("#") for line in path.read_text(encoding="utf-8").splitlines()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return had_comments
