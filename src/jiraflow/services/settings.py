"""The configuration as a command sees it: merged from its layers inside a repository or
not (`config`, `auth`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.services.session import Session


def configured(session: Session, user_path: str) -> Any:
    """The merged config, inside a repository or not."""
    from jiraflow import config as config_mod
    from jiraflow.errors import RepoStateError

    try:
        return session.flow().config
    except RepoStateError:
        return config_mod.load(user_path=user_path, repo_root=None)
