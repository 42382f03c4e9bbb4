"""The one way a configured template is filled (`release.tag_message`, `release.bump_message`,
`jira.version_name`, `branch.name`, `pr.title`, ...): str.format with named placeholders, and
one error when the template names a placeholder there is not, or has a stray brace."""

from __future__ import annotations

from collections.abc import Mapping

from jiraflow.errors import ConfigError


def fill(setting: str, template: str, values: Mapping[str, str]) -> str:
    """`template` (the value of `setting`) with its placeholders replaced by `values`."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        names = ["{" + name + "}" for name in values]
        listed = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
        raise ConfigError(
            f"{setting} = {template!r} is not a valid template",
            f"Use {listed} as placeholders (double braces for a literal brace).",
        ) from None
