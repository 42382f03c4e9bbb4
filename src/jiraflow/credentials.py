"""Where tokens come from: the environment (CI) or the OS keyring. The only module that
imports keyring.

Rules (design.md, Credentials):
- a token is only sent to the site it was stored for: keyring entries are keyed by the
  normalised site URL and the user, and `JIRAFLOW_<SERVICE>_TOKEN` only counts for the site
  `JIRAFLOW_<SERVICE>_URL` names, so a repository's config naming another site gets no token;
- plain http is refused except for loopback addresses;
- tokens never appear in output, logs or files: `Credential.__repr__` hides the token, and
  the accounts index written here holds site, user and kind only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from jiraflow.errors import AuthError
from jiraflow.urls import canonical_api, normalise_url

SERVICE = "jiraflow"  # the keyring service name of every entry
ACCOUNTS_FILE = "accounts.toml"


class Credential:
    __slots__ = ("service", "source", "token", "url", "user")

    def __init__(self, service: str, url: str, user: str, token: str, source: str) -> None:
        self.service = service  # "jira" or "bitbucket"
        self.url = url
        self.user = user
        self.token = token
        self.source = source  # "keyring" or "environment JIRAFLOW_JIRA_TOKEN"

    def __repr__(self) -> str:
        return f"Credential({self.service}, {self.url}, {self.user!r}, from {self.source})"


def site_url(service: str, url: str, what: str) -> str:
    """The address credentials are kept under: the normalised URL, and for Bitbucket Cloud
    always its API address (bitbucket.org and api.bitbucket.org/2.0 are one site)."""
    normal = normalise_url(url, what)
    return canonical_api(normal) if service == "bitbucket" else normal


def env_names(service: str) -> tuple[str, str, str]:
    upper = service.upper()
    return f"JIRAFLOW_{upper}_URL", f"JIRAFLOW_{upper}_USER", f"JIRAFLOW_{upper}_TOKEN"


def lookup(
    service: str, url: str, user: str, *, app_dir: str, environ: Mapping[str, str] | None = None
) -> Credential:
    """The credential for `url`: from the environment when it names this site, else from
    the keyring entry stored for this site (and user)."""
    env = os.environ if environ is None else environ
    url_var, user_var, token_var = env_names(service)
    if env.get(token_var):
        if not env.get(url_var):
            raise AuthError(
                f"{token_var} is set but {url_var} is not",
                f"Set {url_var} to the site the token belongs to: a token is only sent there.",
            )
        if site_url(service, env[url_var], url_var) == url:
            return Credential(
                service, url, env.get(user_var) or user, env[token_var], f"environment {token_var}"
            )
    if not user:
        user = next((a["user"] for a in accounts(app_dir, service) if a["url"] == url), "")
    label = service.capitalize() if service != "bitbucket" else "Bitbucket"
    login = f"jiraflow auth login {service} --url {url}"
    if not user:
        raise AuthError(
            f"no {label} login for {url}",
            f"Run `{login}`, or set {url_var} and {token_var} (CI).",
        )
    try:
        token = _keyring_get(entry_name(url, user), service)
    except AuthError as exc:  # no keyring at all: the missing token is the news
        raise AuthError(f"no {label} token for {user} at {url} ({exc.message})", exc.hint) from None
    if token is None:
        raise AuthError(
            f"no {label} token for {user} at {url}",
            f"Run `{login}`, or set {url_var} and {token_var} (CI).",
        )
    return Credential(service, url, user, token, "keyring")


def entry_name(url: str, user: str) -> str:
    """The keyring user name of an entry: site and user, so that a token is found only for
    the site it was stored for."""
    return f"{url} {user}"


def store(credential: Credential, kind: str, *, app_dir: str) -> None:
    keyring = keyring_backend(credential.service)
    try:
        keyring.set_password(SERVICE, entry_name(credential.url, credential.user), credential.token)
    except Exception as exc:  # keyring backends raise their own error types
        raise _keyring_failed(credential.service, exc) from None
    entries = []
    for row in _read_accounts(app_dir):
        if (row["service"], row["url"]) != (credential.service, credential.url):
            entries.append(row)
        elif row["user"] != credential.user:  # one login per site: the old token goes
            with contextlib.suppress(Exception):
                keyring.delete_password(SERVICE, entry_name(row["url"], row["user"]))
    entries.append(
        {
            "service": credential.service,
            "url": credential.url,
            "user": credential.user,
            "kind": kind,
        }
    )
    _write_accounts(app_dir, entries)


def delete(service: str, url: str, user: str, *, app_dir: str) -> bool:
    """Remove the keyring entry and the accounts row; True when there was a token."""
    keyring = keyring_backend(service)
    from keyring.errors import PasswordDeleteError

    removed = True
    try:
        keyring.delete_password(SERVICE, entry_name(url, user))
    except PasswordDeleteError:
        removed = False
    except Exception as exc:
        raise _keyring_failed(service, exc) from None
    entries = [a for a in _read_accounts(app_dir) if (a["service"], a["url"]) != (service, url)]
    _write_accounts(app_dir, entries)
    return removed


def accounts(app_dir: str, service: str | None = None) -> list[dict[str, str]]:
    """The logins `auth login` recorded: service, url, user, kind (never a token)."""
    return [a for a in _read_accounts(app_dir) if service is None or a["service"] == service]


# -- keyring ---------------------------------------------------------------------------------
def keyring_backend(service: str) -> Any:
    import keyring
    import keyring.core

    # PYTHON_KEYRING_BACKEND is read on every call, so a process that changes it (tests,
    # scripts) is honoured; otherwise keyring's own choice, made once per process.
    backend = keyring.core.load_env() or keyring.get_keyring()
    if _unusable(backend):
        _, _, token_var = env_names(service)
        url_var = env_names(service)[0]
        raise AuthError(
            "no usable OS keyring here (no Secret Service, Keychain or Credential Locker)",
            f"Set {url_var} and {token_var} instead, or start a keyring daemon.",
        )
    return backend


def _unusable(backend: Any) -> bool:
    from keyring.backends import chainer, fail

    if isinstance(backend, fail.Keyring):
        return True
    return isinstance(backend, chainer.ChainerBackend) and not backend.backends


def _keyring_get(name: str, service: str) -> str | None:
    keyring = keyring_backend(service)
    try:
        value = keyring.get_password(SERVICE, name)
    except Exception as exc:
        raise _keyring_failed(service, exc) from None
    return value if isinstance(value, str) else None


def _keyring_failed(service: str, exc: Exception) -> AuthError:
    url_var, _, token_var = env_names(service)
    return AuthError(
        f"the OS keyring refused ({type(exc).__name__}: {exc})",
        f"Unlock it, or set {url_var} and {token_var} instead.",
    )


# -- the accounts index (no secrets) -----------------------------------------------------------
def _accounts_path(app_dir: str) -> str:
    return os.path.join(app_dir, ACCOUNTS_FILE)


_ACCOUNTS_SHAPE = {
    "account?": [{"service": {"jira", "bitbucket"}, "url": str, "user": str, "kind?": str}]
}


def _read_accounts(app_dir: str) -> list[dict[str, str]]:
    """The rows of the accounts file. jiraflow writes it, but it is a file on disk: one that
    is not what jiraflow writes stops the command (exit 5) saying how to start it afresh."""
    from jiraflow import store

    path = _accounts_path(app_dir)
    hint = (
        "`cat {path}` shows the logins; `rm {path}`, then `jiraflow auth login` again "
        "(the tokens stay in the keyring)."
    )
    table = store.read_json(path, {}, hint, _ACCOUNTS_SHAPE, loads=_toml)
    return [
        {k: str(row.get(k, "")) for k in ("service", "url", "user", "kind")}
        for row in table.get("account", [])
    ]


def _toml(data: bytes) -> Any:
    import tomllib

    from jiraflow.store import Damaged

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise Damaged(f"not valid TOML ({exc})") from None


def _write_accounts(app_dir: str, entries: list[dict[str, str]]) -> None:
    """Rewrite the accounts file, private to the user (0600) like every file of theirs
    jiraflow writes (store.write_private)."""
    import tomli_w

    from jiraflow import store

    path = _accounts_path(app_dir)
    text = "# Written by `jiraflow auth login`: sites and users, never tokens.\n"
    text += tomli_w.dumps({"account": entries})
    try:
        store.write_private(path, text.encode("utf-8"))
    except OSError as exc:
        raise store.os_error(exc, path) from None
