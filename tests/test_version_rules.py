"""Version rules pinned so that a change to them fails a test (jiraflow.gitflow.versions):
which refs are version tags, the message of an unknown bump part, and when a version is a
pre-release of another."""

from __future__ import annotations

import re

import pytest

from gitutil import Repo
from jiraflow.gitflow.versions import Version, bump


def test_only_refs_under_refs_tags_are_version_tags(repo: Repo, run) -> None:
    repo.git("tag", "1.4.0", "develop")
    # "refs/xyzw/" is as long as "refs/tags/": what follows looks like a higher version
    repo.git("update-ref", "refs/xyzw/9.9.9", "develop")
    result = run(repo, "release", "start", "--minor")
    assert result.code == 0, result.err
    assert repo.branch() == "release/1.5.0"
    assert "(the next minor after 1.4.0)" in result.out


def test_bump_of_an_unknown_part_says_which_parts_there_are() -> None:
    text = "unknown version part 'micro': expected one of major, minor, patch"
    with pytest.raises(ValueError, match=f"^{re.escape(text)}$"):
        bump(Version(1, 2, 3), "micro")


@pytest.mark.parametrize(
    ("version", "other", "expected"),
    [
        (Version(1, 5, 0, "rc.1"), Version(1, 5, 0), True),
        (Version(1, 5, 0, "rc.1", "b7"), Version(1, 5, 0, "", "b9"), True),  # build ignored
        (Version(1, 5, 0, "rc.1"), Version(1, 5, 0, "rc.2"), True),
        (Version(1, 5, 0), Version(1, 5, 0), False),  # a release is no pre-release of itself
        (Version(1, 5, 0, "", "b7"), Version(1, 5, 0), False),
        (Version(1, 5, 0, "rc.1"), Version(2, 5, 0), False),
        (Version(1, 5, 0, "rc.1"), Version(1, 6, 0), False),
        (Version(1, 5, 0, "rc.1"), Version(1, 5, 1), False),
        (Version(1, 5, 0, "rc.1"), Version(0, 5, 0), False),
    ],
)
def test_release_of(version: Version, other: Version, expected: bool) -> None:
    assert version.release_of(other) is expected
