"""Branch names: whatever the input, a created name is one git accepts, or it is refused."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiraflow.errors import UsageError
from jiraflow.gitflow.naming import check_branch_name, ref_format_problem


def git_accepts(name: str) -> bool:
    proc = subprocess.run(
        ["git", "check-ref-format", "--branch", name], capture_output=True, check=False
    )
    return proc.returncode == 0


# Text as people type it, plus the characters git's rules are about.
names = st.lists(
    st.one_of(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        st.sampled_from([*"./-@{}~^:?*[\\ \t", ".lock", "..", "@{", "//"]),
    ),
    max_size=20,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(names)
def test_validator_agrees_with_git(name: str) -> None:
    full = "feature/" + name
    assert (ref_format_problem(full) is None) == git_accepts(full), full


@settings(max_examples=200, deadline=None)
@given(names)
def test_created_name_is_valid_or_refused_clearly(name: str) -> None:
    try:
        full = check_branch_name("feature/" + name, name)
    except UsageError as exc:
        assert "cannot be used in a branch name" in exc.message
        assert exc.hint
    else:
        assert git_accepts(full)


@pytest.mark.parametrize(
    "name", ["a..b", "x.lock", "x/", "a b", "a:b", "a~1", "end.", "a//b", "q?", "@{u}"]
)
def test_refused_through_the_cli(repo, run, name: str) -> None:
    before = repo.snapshot()
    result = run(repo, "feature", "start", "--", name)
    assert result.code == 2 and "cannot be used in a branch name" in result.err
    assert repo.snapshot() == before


def test_unicode_names_are_kept(repo, run) -> None:
    assert run(repo, "feature", "start", "añadir-formulário").code == 0
    assert repo.branch() == "feature/añadir-formulário"
