"""The repository lock (`.git/jiraflow/lock`): real processes racing for it, a lock file in
every state a crash or another process can leave it, and the refusal a user sees."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gitutil import Repo, Result
from jiraflow.errors import RepoStateError
from jiraflow.git import GitRepo
from jiraflow.gitflow import journal

Run = Callable[..., Result]

# One process of the race: says it is ready (a file), waits for the start, takes the lock N
# times (a refusal is tried again after a moment), and writes "+pid" on entering and "-pid" on
# leaving to a shared log (O_APPEND: each line lands whole).
RACER = r"""
import os, sys, time
from jiraflow.errors import RepoStateError
from jiraflow.gitflow import journal
from jiraflow.git import GitRepo

root, log, ready, go, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
repo = GitRepo.discover(root)
out = os.open(log, os.O_WRONLY | os.O_APPEND)
me = os.getpid()
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
taken = refused = 0
deadline = time.monotonic() + 60
while taken < n and time.monotonic() < deadline:
    try:
        with journal.lock(repo):
            os.write(out, f"+{me}\n".encode())
            time.sleep(0.0002)  # a little work while holding it
            os.write(out, f"-{me}\n".encode())
        taken += 1
    except RepoStateError:
        refused += 1
        time.sleep(0.0005)  # not thousands of busy retries on a shared machine
print(taken, refused)
"""

# Takes the lock, says so, and keeps it until its standard input closes.
HOLDER = r"""
import sys
from jiraflow.gitflow import journal
from jiraflow.git import GitRepo

with journal.lock(GitRepo.discover(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def lock_file(repo: Repo) -> Path:
    return repo.path / ".git" / "jiraflow" / "lock"


@contextmanager
def held_by_another_process(repo: Repo) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-P", "-c", HOLDER, str(repo.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def overlaps(log: str) -> int:
    """Acquisitions that began while another process held the lock."""
    holders: set[str] = set()
    count = 0
    for line in log.splitlines():
        sign, pid = line[0], line[1:]
        if sign == "+":
            count += bool(holders)
            holders.add(pid)
        else:
            holders.discard(pid)
    return count


def handovers(log: str) -> int:
    """How often the lock went from one process to another."""
    takers = [line[1:] for line in log.splitlines() if line.startswith("+")]
    return sum(1 for before, after in itertools.pairwise(takers) if before != after)


def test_racing_processes_never_hold_the_lock_together(repo: Repo, tmp_path: Path) -> None:
    processes, rounds = 3, 200
    log, go = tmp_path / "log", tmp_path / "go"
    log.touch()
    ready = [tmp_path / f"ready{n}" for n in range(processes)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-P", "-c", RACER, *map(str, (repo.path, log, path, go, rounds))],
            stdout=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for path in ready
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(path.exists() for path in ready):  # every one waits at the start line
            assert all(racer.poll() is None for racer in racers), "a racer died before the start"
            assert time.monotonic() < deadline, "the racers did not start"
            time.sleep(0.01)
        go.touch()
        results = [racer.communicate(timeout=120)[0].split() for racer in racers]
    finally:
        for racer in racers:
            racer.kill()
            racer.wait()
    assert all(racer.returncode == 0 for racer in racers)
    assert [int(taken) for taken, _refused in results] == [rounds] * processes
    text = log.read_text()
    assert text.count("+") == processes * rounds
    assert overlaps(text) == 0, f"{overlaps(text)} of {processes * rounds} overlapped"
    # they did race: the lock turned someone away, and changed hands between processes
    assert sum(int(refused) for _taken, refused in results) > 0
    assert handovers(text) >= processes - 1


def test_a_held_lock_whose_file_is_still_empty_is_not_stale(repo: Repo) -> None:
    """Right after the holder created the file, before it wrote its pid, the file is empty:
    that is a lock being taken, not one left behind."""
    path = lock_file(repo)
    with held_by_another_process(repo):
        path.write_bytes(b"")  # the holder's state just after creating the file
        inode = path.stat().st_ino
        with pytest.raises(RepoStateError) as refused, journal.lock(GitRepo.discover(repo.path)):
            pass
        assert refused.value.exit_code == 5
        assert refused.value.message == "another jiraflow process is changing this repository"
        assert path.stat().st_ino == inode  # the holder's file is still the lock
    with journal.lock(GitRepo.discover(repo.path)):
        pass


def test_a_stale_lock_naming_a_reused_pid_is_taken_over(repo: Repo, run: Run) -> None:
    """A holder died and its pid now belongs to some other live process: nobody holds the
    lock, so it is free, whatever pid the file names."""
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        path = lock_file(repo)
        path.parent.mkdir(parents=True, exist_ok=True)
        for pid in (unrelated.pid, os.getppid()):
            path.write_text(str(pid))
            with journal.lock(GitRepo.discover(repo.path)):
                assert path.read_text() == f"{os.getpid()}\n"
        path.write_text(str(unrelated.pid))
        result = run(repo, "feature", "start", "x")
        assert result.code == 0, result.err
        assert repo.branch() == "feature/x"
        assert path.read_text() == ""  # emptied on the way out: no pid of anyone's left
    finally:
        unrelated.kill()
        unrelated.wait()


def test_a_killed_holder_leaves_no_lock(repo: Repo) -> None:
    with held_by_another_process(repo) as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert lock_file(repo).read_text().strip() == str(holder.pid)  # written, never removed
        with journal.lock(GitRepo.discover(repo.path)):
            pass


def test_a_held_lock_refuses_a_command_with_exit_5(repo: Repo, run: Run) -> None:
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt", "x\n", "Add x")
    before = repo.snapshot()
    with journal.lock(GitRepo.discover(repo.path)):
        proc = subprocess.run(
            [sys.executable, "-P", "-m", "jiraflow", "feature", "finish"],
            cwd=repo.path,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.splitlines() == [
        f"error: another jiraflow process (pid {os.getpid()}) is changing this repository",
        "hint: Wait for it to finish, then run the command again (its lock goes when it ends, "
        "even if it is killed).",
    ]
    assert repo.snapshot() == before
    assert run(repo, "feature", "finish").code == 0


def test_a_lock_that_cannot_be_opened_is_exit_5_not_a_traceback(repo: Repo, run: Run) -> None:
    path = lock_file(repo)
    path.unlink(missing_ok=True)  # `init` took the lock: the file is there
    path.mkdir(parents=True)  # a directory where the lock file goes
    before = repo.snapshot()
    result = run(repo, "feature", "start", "x")
    assert result.code == 5
    lines = result.err.splitlines()
    assert lines[0] == f"error: could not take the jiraflow lock {path}: Is a directory"
    assert lines[1].startswith("hint: ") and len(lines) == 2
    assert repo.snapshot() == before
    assert path.is_dir()
