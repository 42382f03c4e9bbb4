"""What Jira calls a release: the name of its version in each project (jira.version_name), and
its date. The release action that makes Jira match a release is jiraflow.outbox.actions.Release.
"""

from __future__ import annotations

import datetime

from jiraflow.templates import fill


def today() -> str:
    """The release date: the local calendar day."""
    return datetime.date.today().isoformat()


def version_name(template: str, version: str, tag: str, project: str) -> str:
    return fill("jira.version_name", template, {"version": version, "tag": tag, "project": project})
