"""`jiraflow sandbox serve`: the sandbox for people, in its own process.

Waits are on events (a line printed, a process gone), each bounded by a generous limit
that only a hang reaches, never on how long things take on a busy machine."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import IO
from urllib.parse import urlsplit

from gitutil import Repo

HANG = 120  # seconds: only a process that hangs takes this long, however busy the machine


def lines_of(stream: IO[str]) -> Iterator[str]:
    """The lines a process prints, each waited for at most HANG seconds."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=HANG)
        except queue.Empty:
            raise AssertionError(f"no output for {HANG} s") from None
        if line is None:
            return
        yield line


def test_serve_prints_how_to_use_it_and_stops_cleanly_on_ctrl_c(repo: Repo) -> None:
    origin = repo.git("remote", "get-url", "origin")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jiraflow",
            "sandbox",
            "serve",
            "--kind",
            "datacenter",
            "--git-dir",
            origin,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        for line in lines_of(proc.stdout):
            if line.strip().startswith("export "):
                name, _, value = line.strip().removeprefix("export ").partition("=")
                env[name] = value
            if "Ctrl-C" in line:
                break
        assert set(env) == {
            f"JIRAFLOW_{service}_{name}"
            for service in ("JIRA", "BITBUCKET")
            for name in ("URL", "USER", "TOKEN")
        } | {"JIRAFLOW_BITBUCKET_REPOSITORY"}

        def jiraflow(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "jiraflow", "-C", str(repo.path), *args],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=False,
                timeout=HANG,
            )

        started = jiraflow("feature", "start", "PROJ-1")
        assert started.returncode == 0, started.stderr
        assert repo.branch() == "feature/PROJ-1-add-login-form"
        repo.commit("login.html", "<form></form>\n", "Add the login form")
        opened = jiraflow("pr", "create")
        assert opened.returncode == 0, opened.stderr
        assert "opened pull request #1" in opened.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0
    port = urlsplit(env["JIRAFLOW_JIRA_URL"]).port
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port or 0)) != 0  # nothing left listening
