"""Which Bitbucket repository a remote URL names, and where its API lives (pure: no network)."""

from __future__ import annotations

import pytest

from jiraflow import config as config_mod
from jiraflow.bitbucket.repository import (
    RemoteRepo,
    Repository,
    configured,
    parse_remote_url,
    resolve,
)
from jiraflow.errors import ConfigError
from jiraflow.urls import CLOUD_API, canonical_api

CLOUD, DC = "cloud", "datacenter"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Bitbucket Cloud, ssh and https, with and without .git and a user
        ("git@bitbucket.org:acme/shop.git", RemoteRepo(CLOUD, "acme", "shop")),
        ("git@bitbucket.org:acme/shop", RemoteRepo(CLOUD, "acme", "shop")),
        ("ssh://git@bitbucket.org/acme/shop.git", RemoteRepo(CLOUD, "acme", "shop")),
        ("https://alice@bitbucket.org/acme/shop.git", RemoteRepo(CLOUD, "acme", "shop")),
        ("https://bitbucket.org/acme/shop", RemoteRepo(CLOUD, "acme", "shop")),
        ("https://bitbucket.org/acme/shop/", RemoteRepo(CLOUD, "acme", "shop")),
        (
            "https://x-token-auth@bitbucket.org/acme/web-app.git",
            RemoteRepo(CLOUD, "acme", "web-app"),
        ),
        # Data Center: ssh on port 7999, https under /scm/ (with and without a context path)
        (
            "ssh://git@git.acme.com:7999/shop/web.git",
            RemoteRepo(DC, "SHOP", "web", "https://git.acme.com"),
        ),
        (
            "https://git.acme.com/scm/shop/web.git",
            RemoteRepo(DC, "SHOP", "web", "https://git.acme.com"),
        ),
        (
            "https://alice@git.acme.com/bitbucket/scm/shop/web.git",
            RemoteRepo(DC, "SHOP", "web", "https://git.acme.com/bitbucket"),
        ),
        (
            "https://git.acme.com:8443/scm/shop/web.git",
            RemoteRepo(DC, "SHOP", "web", "https://git.acme.com:8443"),
        ),
        (
            "http://127.0.0.1:7990/scm/ACME/shop.git",
            RemoteRepo(DC, "ACME", "shop", "http://127.0.0.1:7990"),
        ),
        # personal repositories
        (
            "ssh://git@git.acme.com:7999/~alice/tools.git",
            RemoteRepo(DC, "~ALICE", "tools", "https://git.acme.com"),
        ),
        (
            "https://git.acme.com/scm/~alice/tools.git",
            RemoteRepo(DC, "~ALICE", "tools", "https://git.acme.com"),
        ),
        # an ssh host that says it is Bitbucket
        (
            "git@bitbucket.acme.com:shop/web.git",
            RemoteRepo(DC, "SHOP", "web", "https://bitbucket.acme.com"),
        ),
        # Cloud's ssh over port 443, an IPv6 server, an escaped slug
        ("ssh://git@altssh.bitbucket.org:443/acme/shop.git", RemoteRepo(CLOUD, "acme", "shop")),
        (
            "ssh://git@[::1]:7999/shop/web.git",
            RemoteRepo(DC, "SHOP", "web", "https://[::1]"),
        ),
        (
            "https://git.acme.com/scm/shop/web%20app.git",
            RemoteRepo(DC, "SHOP", "web app", "https://git.acme.com"),
        ),
        # not Bitbucket, or not enough to tell
        ("git@github.com:acme/shop.git", None),
        ("https://github.com/acme/shop.git", None),
        ("https://git.acme.com/shop/web.git", None),
        ("ssh://git@git.acme.com/shop/web.git", None),
        ("/srv/git/shop.git", None),
        ("../origin.git", None),
        ("file:///srv/git/shop.git", None),
        ("https://bitbucket.org/acme", None),
        ("", None),
    ],
)
def test_remote_url_forms(url: str, expected: RemoteRepo | None) -> None:
    assert parse_remote_url(url) == expected


def test_a_data_center_hint_makes_a_plain_ssh_host_a_server() -> None:
    assert parse_remote_url("git@git.acme.com:shop/web.git", kind_hint=DC) == RemoteRepo(
        DC, "SHOP", "web", "https://git.acme.com"
    )
    assert parse_remote_url("git@git.acme.com:shop/web.git") is None
    assert parse_remote_url("ssh://git@git.acme.com:7999/shop/web.git", kind_hint=CLOUD) is None


def cfg(**values: str) -> config_mod.Config:
    return config_mod.build({f"bitbucket.{k}": v for k, v in values.items()})


def test_resolve_cloud_from_the_remote() -> None:
    repo = resolve(cfg(), "git@bitbucket.org:acme/shop.git")
    assert repo == Repository(CLOUD, CLOUD_API, "https://bitbucket.org", "acme", "shop")
    assert repo.web_url == "https://bitbucket.org/acme/shop"
    assert repo.new_pr_url("feature/a b", "develop") == (
        "https://bitbucket.org/acme/shop/pull-requests/new?source=feature%2Fa+b&dest=develop&t=1"
    )


def test_resolve_data_center_from_an_https_remote_and_its_new_pr_page() -> None:
    repo = resolve(cfg(), "https://git.acme.com/bitbucket/scm/shop/web.git")
    assert repo == Repository(
        DC, "https://git.acme.com/bitbucket", "https://git.acme.com/bitbucket", "SHOP", "web"
    )
    assert repo.new_pr_url("feature/x", "develop") == (
        "https://git.acme.com/bitbucket/projects/SHOP/repos/web/pull-requests?create&"
        "sourceBranch=refs%2Fheads%2Ffeature%2Fx&targetBranch=refs%2Fheads%2Fdevelop"
    )


def test_config_wins_over_the_remote() -> None:
    repo = resolve(
        cfg(url="https://git.acme.com/", repository="OPS/tools"),
        "ssh://git@git.acme.com:7999/shop/web.git",
    )
    assert (repo.kind, repo.api, repo.owner, repo.slug) == (
        DC,
        "https://git.acme.com",
        "OPS",
        "tools",
    )
    # a repository given for Cloud, with no remote at all
    repo = resolve(cfg(repository="acme/shop"), None)
    assert (repo.kind, repo.api, repo.full_name) == (CLOUD, CLOUD_API, "acme/shop")
    # the sandbox: an API address ending in /2.0 is Cloud
    repo = resolve(cfg(url="http://127.0.0.1:5000/2.0", repository="acme/shop"), "/tmp/origin.git")
    assert (repo.kind, repo.api, repo.web) == (
        CLOUD,
        "http://127.0.0.1:5000/2.0",
        "http://127.0.0.1:5000",
    )


def test_bitbucket_org_addresses_are_one_site() -> None:
    assert canonical_api("https://bitbucket.org") == CLOUD_API
    assert canonical_api("https://api.bitbucket.org/2.0") == CLOUD_API
    assert resolve(cfg(url="https://bitbucket.org"), "git@bitbucket.org:a/b.git").api == CLOUD_API


@pytest.mark.parametrize(
    ("values", "remote", "message"),
    [
        ({}, "git@github.com:acme/shop.git", "cannot tell the Bitbucket repository"),
        ({}, None, "cannot tell the Bitbucket repository"),
        ({"repository": "acme"}, None, "must be workspace/slug"),
        ({"repository": "a/b/c"}, None, "must be workspace/slug"),
        ({"kind": "datacenter", "repository": "SHOP/web"}, None, "bitbucket.url is not set"),
        ({"url": "http://git.acme.com", "repository": "SHOP/web"}, None, "plain http"),
    ],
)
def test_what_cannot_be_resolved_says_what_to_set(
    values: dict[str, str], remote: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(cfg(**values), remote)
    assert message in caught.value.message


def test_bitbucket_is_on_when_configured_or_the_remote_is_bitbucket() -> None:
    assert not configured(cfg(), None)
    assert not configured(cfg(), "/srv/git/shop.git")
    assert configured(cfg(), "git@bitbucket.org:acme/shop.git")
    assert configured(cfg(repository="acme/shop"), "/srv/git/shop.git")
