"""`jiraflow sandbox serve`: the sandbox for people, in its own process.

Waits are on events (a line printed, a process gone), each bounded by a generous limit
that only a hang reaches, never on how long things take on a busy machine."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlsplit

import pytest

from gitutil import Repo
from jiraflow.sandbox.bitbucket import BitbucketSandbox

HANG = 120  # seconds: only a process that hangs takes this long, however busy the machine
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


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


# == the Bitbucket sandbox's control endpoints (sandbox/bitbucket_control.py) ====================


def control(base: str, name: str, body: object, method: str = "POST") -> tuple[int, dict[str, Any]]:
    """One request to a ``/_sandbox/`` endpoint, as curl sends it: (status, JSON answer or {})."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}/_sandbox/{name}", data=data, method=method)
    try:
        with NO_PROXY.open(request, timeout=HANG) as response:
            answer = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        answer, status = error.read(), error.code
    return status, (json.loads(answer) if answer else {})


@contextlib.contextmanager
def served(repo: Repo, kind: str) -> Iterator[dict[str, str]]:
    """`jiraflow sandbox serve --kind KIND --git-dir ORIGIN` in its own process, until the
    block ends: yields the environment it prints."""
    origin = repo.git("remote", "get-url", "origin")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jiraflow", "sandbox", "serve", "--kind", kind, "--git-dir", origin],
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
        yield env
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("kind", ["cloud", "datacenter"])
def test_the_control_endpoints_set_builds_approvals_merge_rules_and_protection(
    repo: Repo, kind: str
) -> None:
    """What tests set through BitbucketSandbox's methods, someone trying `sandbox serve` sets
    with curl, and jiraflow sees it."""
    with served(repo, kind) as env:
        base = env["JIRAFLOW_BITBUCKET_URL"].removesuffix("/2.0")

        def jiraflow(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "jiraflow", "-C", str(repo.path), *args],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=False,
                timeout=HANG,
            )

        assert jiraflow("feature", "start", "PROJ-1").returncode == 0
        repo.commit("login.html", "<form></form>\n", "Add the login form")
        opened = jiraflow("pr", "create")
        assert opened.returncode == 0, opened.stderr

        # build: by pull request (its head), then by commit; a key keeps its name
        running = {"pull_request": 1, "key": "ci", "state": "INPROGRESS", "name": "Shop CI"}
        assert control(base, "build", running) == (204, {})
        checks = jiraflow("pr", "checks")
        assert checks.returncode == 8, checks.stdout + checks.stderr
        assert "Shop CI" in checks.stdout
        head = repo.git("rev-parse", "HEAD")
        assert control(base, "build", {"commit": head, "key": "ci", "state": "SUCCESSFUL"}) == (
            204,
            {},
        )
        checks = jiraflow("pr", "checks")
        assert checks.returncode == 0, checks.stdout + checks.stderr
        assert "Shop CI" in checks.stdout

        # approve: as bob
        before = jiraflow("pr", "view")
        assert "Bob Builder (approved)" not in before.stdout
        assert control(base, "approve", {"pull_request": 1, "user": "bob"}) == (204, {})
        after = jiraflow("pr", "view")
        assert "Bob Builder (approved)" in after.stdout, after.stdout

        # merge rules: a blocker refuses the merge, naming it; lifted, the default strategy
        # is the one set
        blocker = "Needs two approvals" if kind == "cloud" else ["Needs two approvals", "1 of 2"]
        assert control(base, "merge-rules", {"blockers": [blocker]}) == (204, {})
        refused = jiraflow("pr", "merge")
        assert refused.returncode == 5, refused.stdout + refused.stderr
        assert "Needs two approvals" in refused.stderr
        assert repo.branch() == "feature/PROJ-1-add-login-form"
        assert control(base, "merge-rules", {"blockers": [], "default": "squash"}) == (204, {})

        # protect: a push to develop is refused by the origin; the merge still moves it
        assert control(base, "protect", {"branches": ["main", "develop"]}) == (204, {})
        merged = jiraflow("pr", "merge")
        assert merged.returncode == 0, merged.stdout + merged.stderr
        assert "squash" in merged.stdout
        assert repo.branch() == "develop"
        repo.commit("notes.txt", "straight onto develop\n", "Skip the review")
        pushed = subprocess.run(
            ["git", "-C", str(repo.path), "push", "origin", "develop"],
            capture_output=True,
            text=True,
            check=False,
            timeout=HANG,
        )
        assert pushed.returncode != 0
        assert "pre-receive hook declined" in pushed.stderr
        assert control(base, "protect", {"branches": []}) == (204, {})
        assert repo.git("push", "origin", "develop") is not None  # lifted: the push goes


BAD_INPUT: list[tuple[str, str, object, str]] = [
    # (kind, endpoint, body, what the error says)
    ("cloud", "build", {"commit": "abc1234", "state": "SUCCESSFUL"}, '"key" is missing'),
    ("cloud", "build", {"commit": "abc1234", "key": "ci", "state": "GREEN"}, "GREEN"),
    ("datacenter", "build", {"commit": "abc1234", "key": "ci", "state": "STOPPED2"}, "CANCELLED"),
    ("cloud", "build", {"commit": "main", "key": "ci", "state": "FAILED"}, "hex digits"),
    ("cloud", "build", {"key": "ci", "state": "FAILED"}, 'either "commit"'),
    ("cloud", "build", {"commit": "abc1234", "pull_request": 1}, 'either "commit"'),
    ("cloud", "build", {"pull_request": 9, "key": "ci", "state": "FAILED"}, "no pull request #9"),
    ("cloud", "build", {"key": "ci", "colour": 1}, "unknown fields colour"),
    ("cloud", "build", b"state=FAILED", "Unexpected character"),
    ("cloud", "build", [1], "JSON object"),
    ("cloud", "approve", {"pull_request": 1, "user": "zed"}, "no user 'zed'"),
    ("datacenter", "approve", {"pull_request": "1", "user": "bob"}, "whole number"),
    ("cloud", "approve", {"pull_request": 1, "user": "alice"}, "author"),
    ("cloud", "approve", {"pull_request": 1}, '"user" is missing'),
    ("cloud", "approve", {"pull_request": 1, "user": "bob", "repository": "a/b"}, "'a/b'"),
    ("cloud", "merge-rules", {"enabled": ["no-ff"]}, "unknown merge strategy 'no-ff'"),
    ("datacenter", "merge-rules", {"default": "merge_commit"}, "unknown merge strategy"),
    ("cloud", "merge-rules", {"enabled": ["squash"], "default": "fast_forward"}, "not one of"),
    ("cloud", "merge-rules", {"enabled": []}, "at least one"),
    ("datacenter", "merge-rules", {"polls": 2}, "unknown fields polls"),
    ("cloud", "merge-rules", {"polls": -1}, "at least 0"),
    ("cloud", "merge-rules", {"blockers": [1]}, "[summary, detail]"),
    ("cloud", "merge-rules", {"blockers": "no"}, "must be a list"),
    ("cloud", "protect", {"branches": ["main"]}, "sandbox serve --git-dir"),
    ("cloud", "protect", {}, '"branches" is missing'),
    ("datacenter", "protect", {"branches": "main"}, "must be a list"),
]


@pytest.mark.parametrize(("kind", "endpoint", "body", "says"), BAD_INPUT)
def test_a_control_endpoint_answers_400_naming_what_is_wrong(
    kind: str, endpoint: str, body: object, says: str
) -> None:
    with BitbucketSandbox(kind) as sb:
        sb.create_pull_request(sb.repository_name, "feature/x", "develop")
        rules_before = sb.state_json()
        status, answer = control(sb.url, endpoint, body)
        assert status == 400, answer
        assert answer["error"].startswith(f"/_sandbox/{endpoint}: "), answer
        assert says in answer["error"], answer
        assert sb.state_json() == rules_before  # nothing changed
        assert sb.requests == []  # control requests are not recorded


def test_the_control_endpoints_take_only_post_and_leave_the_others_alone() -> None:
    with BitbucketSandbox("cloud") as sb:
        assert control(sb.url, "approve", b"", method="GET")[0] == 405
        assert control(sb.url, "nothing", {})[0] == 404
        assert control(sb.url, "state", b"", method="GET")[1]["flavour"] == "cloud"
        assert sb.requests == []
