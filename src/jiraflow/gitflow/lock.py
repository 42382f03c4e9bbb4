"""The repository lock: one jiraflow process at a time changes a repository.

An OS lock (flock) on `.git/jiraflow/lock`, shared by every work tree of the repository. The
kernel decides who holds it, so two processes never both do, and it goes when its holder's
descriptor closes: a process that dies, even by SIGKILL, leaves no stale lock for anyone to
judge by a pid that may have been reused. The file is never removed: removing a file that
another process has open and locked would let a third lock a new file of the same name while
the second still works. What the file holds, the holder's pid, is only for the message the
others print; no decision rests on it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from jiraflow.errors import RepoStateError

if TYPE_CHECKING:
    from jiraflow.git import GitRepo

_PID = re.compile(rb"\s*([1-9][0-9]{0,9})\s*")
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN)
_ATTEMPTS = 5  # a file replaced under us by someone else: open it again, a few times


@contextlib.contextmanager
def lock(repo: GitRepo) -> Iterator[None]:
    """Hold the repository lock for the duration; refuse (exit 5) while another process
    holds it, and when the lock file cannot be opened (a read-only `.git`)."""
    path = repo.state_path("lock")
    fd = _acquire(path)
    try:
        _record_pid(fd)
        yield
    finally:
        # emptied before it goes: a pid left in the file would name a process that may be
        # someone else's by the time a person reads it
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # releases the lock


def _acquire(path: str) -> int:
    """A descriptor of `path` with the lock held on it."""
    for _ in range(_ATTEMPTS):
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _read_pid(fd)
            os.close(fd)
            if exc.errno in _BUSY:
                raise _busy(pid) from None
            raise _unusable(path, exc) from None
        if _same_file(fd, path):
            return fd
        os.close(fd)  # the file was removed or replaced since we opened it: lock the new one
    raise RepoStateError(  # pragma: no cover - someone replacing the file in a loop
        f"could not take the jiraflow lock: {path} keeps being replaced",
        "Stop whatever removes that file, then run the command again.",
    )


def _open(path: str) -> int:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # O_NOFOLLOW: the lock is a plain file of jiraflow's, never somewhere a link points
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise _unusable(path, exc) from None


def _same_file(fd: int, path: str) -> bool:
    try:
        here, there = os.fstat(fd), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _record_pid(fd: int) -> None:
    """Our pid in the file, for the others' message. Not writing it changes nothing else."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _read_pid(fd: int) -> int | None:
    """The holder's pid as it wrote it; None when it has not yet (or the file holds
    anything else: it is information, read from a file anyone may have written)."""
    try:
        data = os.pread(fd, 32, 0)
    except OSError:
        return None
    match = _PID.fullmatch(data)
    return int(match.group(1)) if match else None


def _busy(pid: int | None) -> RepoStateError:
    who = f"another jiraflow process (pid {pid})" if pid else "another jiraflow process"
    return RepoStateError(
        f"{who} is changing this repository",
        "Wait for it to finish, then run the command again (its lock goes when it ends, "
        "even if it is killed).",
    )


def _unusable(path: str, exc: OSError) -> RepoStateError:
    return RepoStateError(
        f"could not take the jiraflow lock {path}: {exc.strerror or exc}",
        "jiraflow needs to write in that directory (as git does in .git): check its "
        "permissions and that the lock is a plain file, then run the command again.",
    )
