"""Real git repositories for tests: a work tree, its bare origin, and how to look at them."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jiraflow.cli import main


def git(cwd: Path, *args: str, check: bool = True, input: str | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, input=input
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{proc.stderr}{proc.stdout}")
    return proc.stdout.strip()


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Repo:
    path: Path

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.path, *args, check=check)

    def commit(
        self, name: str = "file.txt", content: str | None = None, message: str | None = None
    ) -> str:
        file = self.path / name
        file.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            previous = file.read_text() if file.exists() else ""
            content = previous + f"line {len(previous.splitlines()) + 1}\n"
        file.write_text(content)
        self.git("add", name)
        self.git("commit", "--quiet", "-m", message or f"change {name}")
        return self.git("rev-parse", "HEAD")

    def branch(self) -> str:
        return self.git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)

    def refs(self) -> dict[str, str]:
        text = self.git("for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in text.splitlines() if line)

    def snapshot(self) -> tuple[dict[str, str], str, str, str, tuple[str, ...]]:
        """Everything --abort must restore: refs, HEAD, status, the tree's content, and
        which of git's own operations are in progress (none, unless one was before)."""
        return (
            self.refs(),
            self.git("rev-parse", "--symbolic-full-name", "HEAD"),
            self.git("status", "--porcelain=v1", "--untracked-files=all"),
            self.git("ls-files", "--stage") + self.git("diff", "HEAD", "--binary", check=False),
            self.in_progress(),
        )

    def in_progress(self) -> tuple[str, ...]:
        """The marks of git's own operations half done that are there: MERGE_HEAD,
        CHERRY_PICK_HEAD, REVERT_HEAD, rebase-merge, rebase-apply, BISECT_LOG."""
        marks = (
            "MERGE_HEAD",
            "CHERRY_PICK_HEAD",
            "REVERT_HEAD",
            "rebase-merge",
            "rebase-apply",
            "BISECT_LOG",
        )
        asked = [arg for mark in marks for arg in ("--git-path", mark)]
        paths = self.git("rev-parse", *asked).splitlines()
        return tuple(m for m, p in zip(marks, paths, strict=True) if (self.path / p).exists())

    def push_unseen(self, branch: str = "develop") -> str:
        """A commit on origin's `branch` that this clone has not fetched, as if pushed by
        someone else. Returns it."""
        newer = self.git(
            "commit-tree", "-p", branch, "-m", "pushed elsewhere", f"{branch}^{{tree}}"
        )
        seen = self.git("rev-parse", f"origin/{branch}")
        self.git("push", "-q", "origin", f"{newer}:refs/heads/{branch}")
        self.git("update-ref", f"refs/remotes/origin/{branch}", seen)
        return newer

    def exists(self, ref: str) -> bool:
        return bool(self.git("rev-parse", "--verify", "--quiet", ref, check=False))


def outbox(repo: Repo) -> list[dict[str, Any]]:
    """The Jira updates queued in the repository (.git/jiraflow/outbox.json), [] if none."""
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    return json.loads(path.read_text()) if path.exists() else []


def jf(repo: Repo | Path, *args: str, capsys=None) -> Result:  # type: ignore[no-untyped-def]
    """Run the whole CLI in-process, as `jiraflow -C REPO ARGS...`."""
    path = repo.path if isinstance(repo, Repo) else repo
    if capsys is not None:
        capsys.readouterr()
    code = main(["-C", str(path), *args])
    if capsys is None:
        return Result(code, "", "")
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
