"""Bitbucket: which repository a clone is (repository.py), and its API behind one interface
(client.py), one class per kind of Bitbucket: Cloud (cloud.py) and Data Center
(datacenter.py). `client_for` picks the class."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient
    from jiraflow.bitbucket.repository import Repository
    from jiraflow.credentials import Credential
    from jiraflow.store import SiteCache


def client_for(
    credential: Credential,
    repo: Repository,
    *,
    timeout: float = 15.0,
    cache: SiteCache | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BitbucketClient:
    """The client for the repository's kind of Bitbucket: Cloud or Data Center."""
    if repo.cloud:
        from jiraflow.bitbucket.cloud import CloudClient

        return CloudClient(credential, repo, timeout=timeout, cache=cache, sleep=sleep)
    from jiraflow.bitbucket.datacenter import DataCenterClient

    return DataCenterClient(credential, repo, timeout=timeout, cache=cache, sleep=sleep)
