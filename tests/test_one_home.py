"""One home for each rule (issue 18): the issue key of a branch, which tags are releases,
how a template is filled, and a count in words, each defined once and used everywhere."""

from __future__ import annotations

import pytest

from gitutil import Repo
from jiraflow.errors import ConfigError
from jiraflow.git import GitRepo
from jiraflow.gitflow import notes, versions
from jiraflow.gitflow.model import BranchModel
from jiraflow.jira.releases import version_name
from jiraflow.keys import branch_key
from jiraflow.templates import fill
from jiraflow.text import plural

MODEL = BranchModel(
    main="main",
    develop="develop",
    prefixes={"feature": "feature/", "bugfix": "bugfix/", "release": "release/"},
    remote="origin",
    tag_prefix="",
)


def test_the_key_of_a_branch_is_the_first_after_its_prefix() -> None:
    assert branch_key(MODEL, "feature/PROJ-12-add-login") == "PROJ-12"
    assert branch_key(MODEL, "PROJ-3-no-prefix") == "PROJ-3"  # no prefix: the whole name
    assert branch_key(MODEL, "feature/add-login") is None
    # the first key, or with `accept` the first key it takes (what the hook adds)
    assert branch_key(MODEL, "bugfix/OPS-1-PROJ-2") == "OPS-1"
    assert branch_key(MODEL, "bugfix/OPS-1-PROJ-2", accept=lambda k: k.startswith("PROJ")) == (
        "PROJ-2"
    )
    assert branch_key(MODEL, "feature/XPROJ-1", find=lambda text: ["ABC-1"]) == "ABC-1"


def test_a_release_tag_is_the_prefix_and_a_semantic_version() -> None:
    assert versions.tag_version("v1.4.0", "v") == versions.parse("1.4.0")
    assert versions.tag_version("1.5.0-rc.1", "") == versions.parse("1.5.0-rc.1")
    for tag, prefix in [("1.4.0", "v"), ("v1.4", "v"), ("2024.06", ""), ("latest", "")]:
        assert versions.tag_version(tag, prefix) is None, tag


def test_release_notes_do_not_take_a_tag_that_is_no_version_for_a_release(repo: Repo) -> None:
    """A tag starting with a digit that is not a semantic version (`2024.06`) is not a release:
    the notes of HEAD go back past it, as `release start` does not count it either."""
    git_repo = GitRepo.discover(str(repo.path))
    repo.commit("a", "x\n", "PROJ-1 first")
    repo.git("tag", "2024.06")
    repo.commit("b", "x\n", "PROJ-2 second")
    assert notes.default_range(git_repo, "") == "HEAD"
    assert versions.version_tags(git_repo, "") == []
    repo.git("tag", "1.0.0")
    repo.commit("c", "x\n", "PROJ-3 third")
    assert notes.default_range(git_repo, "") == "1.0.0..HEAD"


def test_every_template_fails_with_the_same_error() -> None:
    assert fill("x", "{a}-{b}", {"a": "1", "b": "2"}) == "1-2"
    with pytest.raises(ConfigError) as caught:
        fill("release.tag_message", "Release {x}", {"version": "1", "tag": "v1"})
    assert caught.value.message == "release.tag_message = 'Release {x}' is not a valid template"
    assert caught.value.hint == (
        "Use {version} and {tag} as placeholders (double braces for a literal brace)."
    )
    with pytest.raises(ConfigError) as caught:
        version_name("{nope}", "1.0.0", "v1.0.0", "PROJ")
    assert caught.value.hint == (
        "Use {version}, {tag} and {project} as placeholders (double braces for a literal brace)."
    )


def test_a_count_in_words() -> None:
    assert [plural(n, "commit") for n in (0, 1, 2)] == ["0 commits", "1 commit", "2 commits"]
    assert plural(2, "entry", "entries") == "2 entries"
