"""The errors a user can cause, each with its documented exit code and a hint.

The CLI turns a JiraflowError into one or two lines and its exit code, in one
place (`jiraflow.cli.main`); nothing else prints errors.
"""

from __future__ import annotations

# Exit codes, as documented in docs/exit-codes.md and design.md. Stable.
OK = 0
INTERNAL = 1
USAGE = 2
CONFIG = 3
AUTH = 4
REPO_STATE = 5
REMOTE = 6
PARTIAL = 7
WAITING = 8
INTERRUPTED = 130


class JiraflowError(Exception):
    """Something went wrong that the user can act on."""

    exit_code = INTERNAL

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(JiraflowError):
    """The command line asks for something that cannot be done as asked."""

    exit_code = USAGE


class ConfigError(JiraflowError):
    """A configuration file, key or value is wrong or missing."""

    exit_code = CONFIG


class AuthError(JiraflowError):
    """Credentials are missing or were refused."""

    exit_code = AUTH


class RepoStateError(JiraflowError):
    """The repository is not in a state where the command can run."""

    exit_code = REPO_STATE


class RemoteError(JiraflowError):
    """A remote (git remote, Jira, Bitbucket) refused or could not be reached."""

    exit_code = REMOTE


class PartialError(JiraflowError):
    """The git part is done; a remote action is queued for `jiraflow sync`."""

    exit_code = PARTIAL


class BuildsFailed(JiraflowError):
    """A build of the pull request failed or was stopped (`pr checks`): a check failed."""

    exit_code = INTERNAL  # 1, as `jiraflow check` finding problems


class BuildsRunning(JiraflowError):
    """Builds of the pull request are still running (`pr checks`)."""

    exit_code = WAITING
