"""Branch names: git's own rules (`git check-ref-format --branch`), checked without a subprocess."""

from __future__ import annotations

from jiraflow.errors import UsageError

_FORBIDDEN = set(" ~^:?*[\\")


def ref_format_problem(name: str) -> str | None:
    """Why `name` cannot be a branch name, or None when git accepts it."""
    if not name:
        return "it is empty"
    if name.startswith("-"):
        return "it starts with '-'"
    if name == "@":
        return "'@' is reserved"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "it has an empty path component (a leading, trailing or double '/')"
    if name.endswith("."):
        return "it ends with '.'"
    if ".." in name:
        return "it contains '..'"
    if "@{" in name:
        return "it contains '@{'"
    for ch in name:
        if ord(ch) < 0x20 or ord(ch) == 0x7F:
            return "it contains a control character"
        if ch in _FORBIDDEN:
            shown = "a space" if ch == " " else f"'{ch}'"
            return f"it contains {shown}"
    for part in name.split("/"):
        if part.startswith("."):
            return f"the component '{part}' starts with '.'"
        if part.endswith(".lock"):
            return f"the component '{part}' ends with '.lock'"
    return None


def check_branch_name(full_name: str, given: str) -> str:
    """Return `full_name` when git accepts it as a branch, else refuse naming `given`."""
    problem = ref_format_problem(full_name)
    if problem:
        raise UsageError(
            f"'{given}' cannot be used in a branch name: {problem}",
            "Use letters, digits, '-', '_', '.' and '/' (e.g. add-login-form).",
        )
    return full_name
