"""Site addresses in one normal form: the key a token is stored and looked up under, and the
address requests go to. Below credentials and the Bitbucket and Jira adapters (imports only
config and errors), so each of them can normalise without importing the others.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from jiraflow.errors import ConfigError

CLOUD_HOSTS = frozenset(
    {"bitbucket.org", "www.bitbucket.org", "api.bitbucket.org", "altssh.bitbucket.org"}
)
CLOUD_API = "https://api.bitbucket.org/2.0"


def normalise_url(url: str, what: str = "jira.url") -> str:
    """`HTTPS://Acme.atlassian.net:443/` -> `https://acme.atlassian.net`; refuses what is
    not http(s) (config.check_url: a malformed one is a ConfigError naming `what`, never a
    ValueError) and plain http to anything but a loopback address."""
    from jiraflow.config import check_url

    check_url(url, what)
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"{what}: {url!r} uses plain http, which would send the token unencrypted",
            "Use https (plain http is only allowed for 127.0.0.1 and localhost).",
        )
    port = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def canonical_api(url: str) -> str:
    """Bitbucket Cloud's API address for any bitbucket.org URL; other URLs as they are."""
    return CLOUD_API if (urlsplit(url).hostname or "").lower() in CLOUD_HOSTS else url
