"""The environment every benchmark runs its commands in."""

from __future__ import annotations

import os


def environment(**extra: str) -> dict[str, str]:
    """This process's environment with a fixed git identity and no system git config;
    without PYTHONDONTWRITEBYTECODE (installed packages run from bytecode: a machine that
    forbids writing it would time the compiler, not jiraflow) and without JIRAFLOW_*
    variables (no Jira or Bitbucket unless a benchmark sets them up)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("JIRAFLOW_") and name != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_CONFIG_NOSYSTEM="1",
        **extra,
    )
    return env
