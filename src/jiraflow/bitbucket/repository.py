"""Which Bitbucket repository a git repository is, and where its API lives.

The repository comes from `bitbucket.repository` (or JIRAFLOW_BITBUCKET_REPOSITORY) when set,
else from the remote's URL. Both Bitbucket Cloud and Data Center forms are understood:

    git@bitbucket.org:acme/shop.git              Cloud, ssh
    https://alice@bitbucket.org/acme/shop.git    Cloud, https
    ssh://git@git.acme.com:7999/shop/web.git     Data Center, ssh (project SHOP, repo web)
    https://git.acme.com/bitbucket/scm/shop/web.git   Data Center, https, context /bitbucket
    ssh://git@git.acme.com:7999/~alice/tools.git      a personal repository (project ~ALICE)

Pure functions, no network: `client.py` (with `cloud.py`, `datacenter.py`) talks to the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from jiraflow.config import Config
from jiraflow.errors import ConfigError
from jiraflow.git import branch_ref
from jiraflow.urls import CLOUD_API, CLOUD_HOSTS, canonical_api, normalise_url

CLOUD, DATACENTER = "cloud", "datacenter"
CLOUD_WEB = "https://bitbucket.org"
DC_SSH_PORT = 7999
_SCP_FORM = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>(?!//).+)$")


@dataclass(frozen=True)
class RemoteRepo:
    """What a remote URL says: the kind of Bitbucket, owner and slug, and for Data Center
    the server address it suggests ('' when the URL cannot tell)."""

    kind: str
    owner: str  # Cloud workspace, or Data Center project key (~USER for personal ones)
    slug: str
    server: str = ""


@dataclass(frozen=True)
class Repository:
    """A Bitbucket repository and the addresses of its API and web pages."""

    kind: str
    api: str  # https://api.bitbucket.org/2.0, or the Data Center server's base address
    web: str  # https://bitbucket.org, or the Data Center server's base address
    owner: str
    slug: str

    @property
    def cloud(self) -> bool:
        return self.kind == CLOUD

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.slug}"

    @property
    def web_url(self) -> str:
        if self.cloud:
            return f"{self.web}/{self.owner}/{self.slug}"
        return f"{self.web}/projects/{self.owner}/repos/{self.slug}"

    def new_pr_url(self, source: str, destination: str) -> str:
        """The page that opens a pull request in the browser, prefilled."""
        from urllib.parse import urlencode

        if self.cloud:
            query = urlencode({"source": source, "dest": destination, "t": "1"})
            return f"{self.web_url}/pull-requests/new?{query}"
        query = urlencode(
            {"sourceBranch": branch_ref(source), "targetBranch": branch_ref(destination)}
        )
        return f"{self.web_url}/pull-requests?create&{query}"


def parse_remote_url(url: str, *, kind_hint: str = "") -> RemoteRepo | None:
    """The Bitbucket repository a remote URL points at, or None when it is not one (a local
    path, GitHub, or an ssh URL of an unknown host without a Data Center hint)."""
    url = url.strip()
    scp = _SCP_FORM.match(url) if "://" not in url else None
    if scp:
        scheme, host, port, path = "ssh", scp["host"].lower(), None, scp["path"]
    else:
        parts = urlsplit(url)
        scheme = parts.scheme.lower().replace("git+ssh", "ssh").replace("ssh+git", "ssh")
        if scheme not in ("ssh", "https", "http") or not parts.hostname:
            return None
        host, path = parts.hostname.lower(), parts.path
        try:
            port = parts.port
        except ValueError:
            return None
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    if segments and segments[-1].endswith(".git"):
        segments[-1] = segments[-1][: -len(".git")]
    if host in CLOUD_HOSTS:
        return RemoteRepo(CLOUD, segments[0], segments[1]) if len(segments) == 2 else None
    if scheme in ("https", "http"):
        if "scm" not in segments[:-2]:
            return None
        at = len(segments) - 3  # .../scm/PROJ/slug: the last "scm" before owner and slug
        if segments[at] != "scm":
            return None
        context = "/".join(segments[:at])
        netloc = _netloc(host, port)
        server = f"{scheme}://{netloc}" + (f"/{context}" if context else "")
        return RemoteRepo(DATACENTER, _project_key(segments[-2]), segments[-1], server)
    looks_like_dc = (
        kind_hint == DATACENTER or port == DC_SSH_PORT or "bitbucket" in host or "stash" in host
    )
    if len(segments) != 2 or not looks_like_dc or kind_hint == CLOUD:
        return None
    return RemoteRepo(
        DATACENTER, _project_key(segments[0]), segments[1], f"https://{_netloc(host, None)}"
    )


def _netloc(host: str, port: int | None) -> str:
    bracketed = f"[{host}]" if ":" in host else host  # an IPv6 address
    return bracketed if port is None else f"{bracketed}:{port}"


def display_url(url: str) -> str:
    """A remote URL fit to print: without the user and password it may carry."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _project_key(owner: str) -> str:
    """Data Center project keys are upper case (clone URLs use lower case); personal
    projects are ~USERNAME."""
    return owner.upper()


def kind_of_url(url: str) -> str:
    """cloud for bitbucket.org and any API address ending in /2.0 (the sandbox), else
    datacenter."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() in CLOUD_HOSTS or parts.path.rstrip("/").endswith("/2.0"):
        return CLOUD
    return DATACENTER


def configured(config: Config, remote_url: str | None) -> bool:
    """Whether Bitbucket is switched on for this repository: configured, or the remote is
    recognisably a Bitbucket one."""
    bb = config.bitbucket
    if bb.url or bb.repository:
        return True
    return bool(remote_url) and parse_remote_url(remote_url or "", kind_hint=bb.kind) is not None


def resolve(config: Config, remote_url: str | None, remote_name: str = "origin") -> Repository:
    """The repository to talk to, from config and the remote URL; ConfigError saying what
    to set when neither tells."""
    bb = config.bitbucket
    api = normalise_url(bb.url, "bitbucket.url") if bb.url else ""
    kind = bb.kind or (kind_of_url(api) if api else "")
    parsed = parse_remote_url(remote_url, kind_hint=kind) if remote_url else None
    if bb.repository:
        owner, sep, slug = bb.repository.strip().strip("/").partition("/")
        if not sep or not owner or not slug or "/" in slug:
            source = config.sources.get("bitbucket.repository", "config")
            raise ConfigError(
                f"{source}: bitbucket.repository must be workspace/slug or PROJECT/slug, "
                f"not {bb.repository!r}"
            )
    elif parsed is not None:
        owner, slug = parsed.owner, parsed.slug
    else:
        shown = f"'{display_url(remote_url)}'" if remote_url else "(no URL)"
        raise ConfigError(
            f"cannot tell the Bitbucket repository from the remote '{remote_name}' {shown}",
            "Set bitbucket.repository (workspace/slug, or PROJECT/slug on Data Center), "
            "e.g. `jiraflow config set bitbucket.repository acme/shop`.",
        )
    kind = kind or (parsed.kind if parsed else "")
    if not kind:
        kind = CLOUD if not api else kind_of_url(api)
    if kind == CLOUD:
        api = canonical_api(api) if api else CLOUD_API
        web = CLOUD_WEB if api == CLOUD_API else api.removesuffix("/2.0")
        return Repository(CLOUD, api, web, owner, slug)
    if not api:
        if parsed is None or not parsed.server:
            raise ConfigError(
                "bitbucket.url is not set, and the remote URL does not say where the "
                "Bitbucket Data Center server is",
                "Set it, e.g. `jiraflow config set bitbucket.url https://git.acme.com`.",
            )
        api = normalise_url(parsed.server, f"the remote '{remote_name}'")
    return Repository(DATACENTER, api, api, _project_key(owner), slug)
