"""Semantic versions and the version tags of a repository.

`release start --minor` and `hotfix start --patch` compute the next version from the
highest version tag: a tag named `gitflow.version_tag_prefix` + a semantic version
(semver 2.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]). Tags that are not semantic
versions ("1.0", "latest") are left out of the comparison, and an explicit VERSION that
is not one is accepted as it is, as git-flow AVH accepts any name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from jiraflow.errors import UsageError
from jiraflow.git import TAGS, GitRepo

PARTS = ("major", "minor", "patch")

_NUMBER = r"0|[1-9][0-9]*"
_PRE_ID = r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*"
_SEMVER = re.compile(
    rf"({_NUMBER})\.({_NUMBER})\.({_NUMBER})"
    rf"(?:-((?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A semantic version. Ordered and compared by semver precedence: the build metadata
    is kept for `str()` but ignored, so 1.0.0+a == 1.0.0+b."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""  # "rc.1" in 1.0.0-rc.1
    build: str = ""  # "exp.sha.5114f85" in 1.0.0+exp.sha.5114f85

    def release_of(self, other: Version) -> bool:
        """Whether this is a pre-release of `other`'s version (1.5.0-rc.1 of 1.5.0)."""
        return bool(self.prerelease) and (self.major, self.minor, self.patch) == (
            other.major,
            other.minor,
            other.patch,
        )

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + self.prerelease
        if self.build:
            text += "+" + self.build
        return text

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        if not self.prerelease:
            # a release ranks above each of its pre-releases
            return (self.major, self.minor, self.patch, 1, ())
        ids = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in self.prerelease.split(".")
        )
        return (self.major, self.minor, self.patch, 0, ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def parse(text: str) -> Version | None:
    """The semantic version `text` is, or None (no 'v', no leading zeros, all three parts)."""
    match = _SEMVER.fullmatch(text)
    if match is None:
        return None
    major, minor, patch, pre, build = match.groups()
    return Version(int(major), int(minor), int(patch), pre or "", build or "")


def tag_version(tag: str, prefix: str) -> Version | None:
    """The one definition of a release tag: the version a tag names when it is `prefix` (the
    version tag prefix) followed by a semantic version, else None (`latest`, `v2`, `2024.06`,
    a tag without the prefix). Version tags, release notes and `where` all count by it."""
    return parse(tag[len(prefix) :]) if tag.startswith(prefix) else None


def version_tags(
    repo: GitRepo, prefix: str, merged: str | None = None
) -> list[tuple[Version, str]]:
    """(version, tag name) of every release tag (`tag_version`), lowest first; with
    `merged`, only the tags reachable from that revision."""
    args = ["for-each-ref", "--format=%(refname)"]
    if merged:
        args.append(f"--merged={merged}")
    found = []
    for ref in repo.out(*args, TAGS).splitlines():
        tag = ref[len(TAGS) :]
        version = tag_version(tag, prefix)
        if version is not None:
            found.append((version, tag))
    return sorted(found)


def highest(repo: GitRepo, prefix: str, merged: str | None = None) -> tuple[Version, str] | None:
    """The highest version tag (see `version_tags`), or None when there is none."""
    tags = version_tags(repo, prefix, merged)
    return tags[-1] if tags else None


def bump(current: Version | None, part: str) -> Version:
    """The next `part` ("major", "minor" or "patch") version after `current` (None: 0.0.0).

    A pre-release is followed by its own release when that is the requested bump, as npm
    does: after 1.5.0-rc.1 both --patch and --minor give 1.5.0, and --major gives 2.0.0;
    after 2.0.0-rc.1 all three give 2.0.0. Build metadata is dropped."""
    v = current or Version(0, 0, 0)
    pre = bool(v.prerelease)
    if part == "major":
        if pre and v.minor == 0 and v.patch == 0:
            return Version(v.major, 0, 0)
        return Version(v.major + 1, 0, 0)
    if part == "minor":
        if pre and v.patch == 0:
            return Version(v.major, v.minor, 0)
        return Version(v.major, v.minor + 1, 0)
    if part == "patch":
        return Version(v.major, v.minor, v.patch if pre else v.patch + 1)
    raise ValueError(f"unknown version part {part!r}: expected one of {', '.join(PARTS)}")


def default_part(kind: str) -> str:
    """What `<kind> start` without a VERSION proposes: a release the next minor, a hotfix
    the next patch."""
    return "patch" if kind == "hotfix" else "minor"


def check_new(
    version: str,
    highest: tuple[Version, str] | None,
    kind: str,
    *,
    base: str | None = None,
) -> None:
    """Refuse (exit 2) a semantic `version` that is not above `highest`, the highest version
    tag that counts. `base`, when the start is not from the default base, is named in the
    message and the hint. A VERSION that is not a semantic version is accepted as it is."""
    new = parse(version)
    if new is None or highest is None:
        return
    top, tag = highest
    if new > top:
        return
    where = f" on '{base}'" if base else ""
    named = f" ('{tag}')" if tag != str(top) else ""
    part = default_part(kind)
    proposal = bump(top, part)
    option = f" --base {base}" if base else ""
    raise UsageError(
        f"{version} is not above {top}, the highest version tag{where}{named}",
        f"Choose a higher version, e.g. {proposal} (`jiraflow {kind} start --{part}{option}`).",
    )
