"""Shared by the tests of hints and of stopped runs: reading the commands a hint names, a
feature that conflicts with develop, and jiraflow in a child process stopped at a precise
point by a real fault (a git hook of the test repository that makes git's step fail, or
sends a real SIGKILL or Ctrl-C to jiraflow). Nothing of jiraflow is patched."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from gitutil import Repo


def hinted(text: str, *, lines: str = "hint:") -> list[str]:
    """The commands in backticks on the hint lines of `text` (those starting with `lines`),
    in order. An option alone ("or `--abort`") belongs to the jiraflow command before it:
    it is completed from it."""
    commands: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith(lines):
            continue
        for found in re.findall(r"`([^`]+)`", line):
            if found.startswith("--"):
                previous = next(c for c in reversed(commands) if c.startswith("jiraflow "))
                words = [w for w in previous.split() if not w.startswith("--")]
                found = " ".join([*words, found])
            commands.append(found)
    return commands


def conflicting_feature(repo: Repo, run: Callable[..., object], commits: int = 2) -> None:
    """A feature whose change to shared.txt conflicts with develop's."""
    repo.commit("shared.txt", "base\n", "add shared")
    assert run(repo, "feature", "start", "clash").code == 0  # type: ignore[attr-defined]
    for i in range(commits):
        repo.commit("shared.txt", f"feature {i}\n")
    repo.git("checkout", "-q", "develop")
    repo.commit("shared.txt", "develop\n", "develop edit")
    repo.git("checkout", "-q", "feature/clash")


def resolve(repo: Repo, content: str = "resolved\n") -> None:
    (repo.path / "shared.txt").write_text(content)
    repo.git("add", "shared.txt")


# -- stopping jiraflow at a git event -----------------------------------------------------------
# Installed as the hooks below and as a clean filter (`--clean`). While a jiraflow plan runs
# (its journal exists) each call logs its event to $JF_STOP/log: "prepared"/"committed" (a
# ref transaction), the hook's name, or "clean" (git reading a changed file to add it). At the
# event $JF_STOP/at names ("EVENT N": its Nth time) it does what $JF_STOP/how says.
STOP_HOOK = r"""#!/bin/sh
if [ "$1" = --clean ]; then  # (only a file's content that is not in the index yet counts)
    tmp=$(mktemp); cat > "$tmp"; cat "$tmp"
    new=$(git hash-object --no-filters "$tmp"); rm -f "$tmp"
    [ "$new" != "$(git rev-parse -q --verify ":$2")" ] || exit 0
    event=clean
elif [ "$(basename "$0")" = reference-transaction ]; then cat >/dev/null; event=$1
else event=$(basename "$0"); fi
[ -n "$JF_STOP" ] && [ -f .git/jiraflow/state.json ] || exit 0
echo "$event" >> "$JF_STOP/log"
[ "$event $(grep -cx "$event" "$JF_STOP/log")" = "$(cat "$JF_STOP/at")" ] || exit 0
pid=$(cat "$JF_STOP/pid")
case $(cat "$JF_STOP/how") in
    kill) kill -s KILL "$pid" ;;  # jiraflow alone: git finishes its step
    int) kill -s INT -- "-$pid" ;;  # Ctrl-C: the whole process group, git and this hook too
    kill-first) kill -s KILL "$pid"; exit 1 ;;  # and the ref update is refused: no effect
    fail) echo "injected failure" >&2; exit 1 ;;
    lock-config) : > .git/config.lock ;;  # as a git that crashed holding it leaves it
esac
exit 0
"""
STOP_HOOKS = ("reference-transaction", "post-checkout", "post-index-change", "post-commit")


def install_stop_hooks(repo: Repo, filtered: Sequence[str] = ()) -> None:
    """The stop hook in `repo`, and as the clean filter of the files `filtered` (git then
    reads them through it when they are added)."""
    hooks = repo.path / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    script = hooks / "jf-stop"
    script.write_text(STOP_HOOK)
    script.chmod(0o755)
    for name in STOP_HOOKS:
        (hooks / name).unlink(missing_ok=True)
        (hooks / name).symlink_to("jf-stop")
    if filtered:
        repo.git("config", "filter.jfstop.clean", f"{script} --clean %f")
        repo.git("config", "filter.jfstop.smudge", "cat")
        repo.git("config", "filter.jfstop.required", "true")
        attributes = "".join(f"/{path} filter=jfstop\n" for path in filtered)
        (repo.path / ".git" / "info").mkdir(exist_ok=True)
        (repo.path / ".git" / "info" / "attributes").write_text(attributes)


class Stopped(subprocess.CompletedProcess[str]):
    """A finished child jiraflow, with the events its hooks saw."""

    events: list[str]


def stopped(
    repo: Repo,
    *args: str,
    at: str = "",
    how: str = "kill",
    while_running: Callable[[subprocess.Popen[str]], None] | None = None,
    prefix: Sequence[str] = (),
) -> Stopped:
    """Run `python -P -m jiraflow -C REPO ARGS` in its own process group, the stop hook (see
    install_stop_hooks) doing `how` at the event `at` ("" : never). `while_running` is
    called with the process while it runs (to signal it from the test); `prefix` is put
    before the command (e.g. setpriv). Returns once every process of the group has ended."""
    with tempfile.TemporaryDirectory(prefix="jf-stop-") as control:
        (Path(control) / "at").write_text(at)
        (Path(control) / "how").write_text(how)
        (Path(control) / "log").touch()
        script = 'echo $$ > "$JF_STOP/pid"; exec "$0" -P -m jiraflow "$@"'
        proc = subprocess.Popen(
            [*prefix, "sh", "-c", script, sys.executable, "-C", str(repo.path), *args],
            env={**os.environ, "JF_STOP": control},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            if while_running is not None:
                while_running(proc)
            out, err = proc.communicate(timeout=120)
            wait_for_group(proc.pid)
        finally:
            if proc.poll() is None or _group_alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        result = Stopped(proc.args, proc.returncode, out, err)
        result.events = (Path(control) / "log").read_text().split()
    return result


def wait_for_group(pgid: int, timeout: float = 30) -> None:
    """Until no live process is left in the group (git may go on after jiraflow died)."""
    deadline = time.monotonic() + timeout
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of group {pgid} are still running")
        time.sleep(0.01)


def _group_alive(pgid: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False
