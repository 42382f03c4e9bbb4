"""Branches and merges of a sandbox repository: a real bare git repository, or made-up refs.

With a ``git_dir`` the sandbox reads branches and commits with git and merges for real, the way
Bitbucket does on its side: ``git merge-tree --write-tree`` computes the merge without a work
tree (git 2.38 or newer), ``git commit-tree`` writes the commit as the merging user, and
``git update-ref`` moves the branch only if nobody moved it in the meantime. Without one, every
branch exists, its tip is a stable made-up hash, and merges always succeed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from jiraflow.sandbox.bitbucket_model import Account, Repository, fake_hash

#: Variables that would point git somewhere else than the sandbox's repository.
_LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


class MergeConflict(Exception):
    """The two branches cannot be merged without a person resolving conflicts."""


class GitFailed(RuntimeError):
    """git refused; the sandbox answers 500 (a bug or a broken repository, not a user error)."""


@dataclass(frozen=True)
class Commit:
    id: str
    subject: str


class Refs(Protocol):
    """What the pull request logic needs to know about, and do to, a repository's branches."""

    def tip(self, branch: str) -> str | None: ...

    def contains(self, ancestor: str, descendant: str) -> bool: ...

    def commits(self, base: str, tip: str) -> list[Commit]: ...

    def conflicts(self, ours: str, theirs: str) -> bool: ...

    def merge(
        self, ours: str, theirs: str, parents: tuple[str, ...], message: str, by: Account
    ) -> str: ...

    def move(self, branch: str, new: str, old: str) -> None: ...

    def delete(self, branch: str, old: str) -> None: ...


def refs_of(repository: Repository) -> Refs:
    if repository.git_dir is not None:
        return GitRefs(repository.git_dir)
    return FakeRefs(repository)


class GitRefs:
    """A bare repository on disk, driven with the git command line."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir

    def _run(self, *args: str, identity: Account | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARIABLES}
        if identity is not None:
            email = identity.email or f"{identity.name}@bots.sandbox.invalid"
            for role in ("AUTHOR", "COMMITTER"):
                env[f"GIT_{role}_NAME"] = identity.display_name
                env[f"GIT_{role}_EMAIL"] = email
        command = ["git", "--git-dir", str(self.git_dir), *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)

    def _git(self, *args: str, identity: Account | None = None, ok: tuple[int, ...] = (0,)) -> str:
        process = self._run(*args, identity=identity)
        if process.returncode not in ok:
            problem = process.stderr.strip() or process.stdout.strip()
            raise GitFailed(f"git {' '.join(args)} failed in {self.git_dir}: {problem}")
        return process.stdout if process.returncode == 0 else ""

    def tip(self, branch: str) -> str | None:
        process = self._run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        if process.returncode != 0:
            return None
        return process.stdout.strip() or None

    def contains(self, ancestor: str, descendant: str) -> bool:
        process = self._run("merge-base", "--is-ancestor", ancestor, descendant)
        if process.returncode not in (0, 1):
            raise GitFailed(f"git merge-base failed in {self.git_dir}: {process.stderr.strip()}")
        return process.returncode == 0

    def commits(self, base: str, tip: str) -> list[Commit]:
        out = self._git("log", "--format=%H%x00%s", f"{base}..{tip}")
        return [Commit(*line.split("\x00", 1)) for line in out.splitlines() if line]

    def _merged_tree(self, ours: str, theirs: str) -> str:
        process = self._run("merge-tree", "--write-tree", "--no-messages", ours, theirs)
        if process.returncode == 1:
            raise MergeConflict(f"{ours[:12]} and {theirs[:12]} conflict")
        if process.returncode != 0:
            raise GitFailed(f"git merge-tree failed in {self.git_dir}: {process.stderr.strip()}")
        return process.stdout.splitlines()[0].strip()

    def conflicts(self, ours: str, theirs: str) -> bool:
        try:
            self._merged_tree(ours, theirs)
        except MergeConflict:
            return True
        return False

    def merge(
        self, ours: str, theirs: str, parents: tuple[str, ...], message: str, by: Account
    ) -> str:
        tree = self._merged_tree(ours, theirs)
        parent_args = [arg for parent in parents for arg in ("-p", parent)]
        command = ("commit-tree", "--no-gpg-sign", tree, *parent_args, "-m", message)
        return self._git(*command, identity=by).strip()

    def move(self, branch: str, new: str, old: str) -> None:
        self._git("update-ref", "-m", "sandbox: merge", f"refs/heads/{branch}", new, old)

    def delete(self, branch: str, old: str) -> None:
        self._git("update-ref", "-d", f"refs/heads/{branch}", old)


class FakeRefs:
    """Every branch exists; its tip is made up and moves only when the sandbox merges into it."""

    def __init__(self, repository: Repository) -> None:
        self.repository = repository

    def tip(self, branch: str) -> str:
        tips = self.repository.fake_tips
        if branch not in tips:
            tips[branch] = fake_hash(self.repository.full_name.lower(), branch)
        return tips[branch]

    def contains(self, ancestor: str, descendant: str) -> bool:
        return ancestor == descendant

    def commits(self, base: str, tip: str) -> list[Commit]:
        return [] if base == tip else [Commit(tip, "(made-up commit)")]

    def conflicts(self, ours: str, theirs: str) -> bool:
        return False

    def merge(
        self, ours: str, theirs: str, parents: tuple[str, ...], message: str, by: Account
    ) -> str:
        return fake_hash("merge", *parents, message, by.name)

    def move(self, branch: str, new: str, old: str) -> None:
        self.repository.fake_tips[branch] = new

    def delete(self, branch: str, old: str) -> None:
        self.repository.fake_tips.pop(branch, None)
