from __future__ import annotations

import functools
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitutil import Repo, Result, git, jf
from jiraflow.sandbox.bitbucket import BitbucketSandbox
from jiraflow.sandbox.jira import JiraSandbox

IN_CI = bool(os.environ.get("CI"))


def require_tool(name: str) -> None:
    """Skip (on a laptop) or fail (in CI) when a system tool the test needs is missing."""
    if shutil.which(name) is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed, and CI must run this test (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")


@functools.cache
def git_version() -> tuple[int, ...]:
    """The installed git's version: (2, 39, 5) for "git version 2.39.5" (or "2.39.5.windows.1",
    "2.37.1 (Apple Git-137.1)")."""
    out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    assert found, f"`git --version` said {out!r}"
    return tuple(int(part) for part in found.groups(default="0"))


def require_git(minimum: tuple[int, ...], needed_for: str) -> None:
    """Skip (on a laptop) or fail (in CI) when the installed git is older than `minimum`."""
    have = git_version()
    if have < minimum:
        wanted, installed = ".".join(map(str, minimum)), ".".join(map(str, have))
        message = f"git {wanted} or newer is needed for {needed_for}; this is git {installed}"
        if IN_CI:
            pytest.fail(f"{message}, and CI must run this test")
        pytest.skip(message)


def as_anyone() -> tuple[str, ...]:
    """The command prefix under which file modes apply to the command as to anyone: as root,
    setpriv without the capabilities that let root write where a mode says no one may
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); nothing for another user."""
    if os.geteuid() != 0:
        return ()
    require_tool("setpriv")
    return ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")


def require_merge_tree() -> None:
    """For a test whose sandbox Bitbucket merges pull requests, or tells whether an open one
    would conflict (Data Center's mergeResult), in a real repository: it asks git
    `merge-tree --write-tree` (sandbox/bitbucket_git.py), new in git 2.38."""
    require_git((2, 38), "git merge-tree --write-tree")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """git and jiraflow see nothing of the developer's machine: no global config, a fixed
    identity and clock (so runs are reproducible), no JIRAFLOW_* variables, no colour."""
    home = tmp_path_factory.mktemp("home")
    for key in list(os.environ):
        if key.startswith(("JIRAFLOW_", "GIT_")):
            monkeypatch.delenv(key)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "Ada Tester",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Tester",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z",
        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
        "GIT_TERMINAL_PROMPT": "0",
        "NO_COLOR": "1",
        "COLUMNS": "80",
        "LC_ALL": "C",
        "XDG_CACHE_HOME": str(home / ".cache"),
        # never the developer's keyring; tests that need one start a real Secret Service
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    return home


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Repo]:
    """A repository with one commit on main; with `remote=True` a bare origin holds it too;
    with `init=True` it is set up for Gitflow (develop exists) and develop is pushed."""
    counter = iter(range(1000))

    def make(*, remote: bool = True, init: bool = True, name: str | None = None) -> Repo:
        n = name or f"repo{next(counter)}"
        path = tmp_path / n
        path.mkdir()
        git(path, "init", "--quiet", "-b", "main")
        repo = Repo(path)
        repo.commit("README", "hello\n", "Initial commit")
        if remote:
            bare = tmp_path / f"{n}-origin.git"
            git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(bare))
            repo.git("remote", "add", "origin", str(bare))
            repo.git("push", "--quiet", "-u", "origin", "main")
        if init:
            result = jf(repo, "init", "--defaults")
            assert result.code == 0
            if remote:
                repo.git("push", "--quiet", "-u", "origin", "develop")
        return repo

    return make


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[JiraSandbox]:
    """A sandbox Jira of each kind over real HTTP, with jiraflow pointed at it through the
    CI variables (JIRAFLOW_JIRA_URL, _USER, _TOKEN)."""
    with JiraSandbox(request.param) as sandbox:
        point_at(monkeypatch, sandbox)
        yield sandbox


def point_at(monkeypatch: pytest.MonkeyPatch, sandbox: JiraSandbox) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_URL", sandbox.url)
    monkeypatch.setenv("JIRAFLOW_JIRA_USER", login_of(sandbox))
    monkeypatch.setenv("JIRAFLOW_JIRA_TOKEN", sandbox.token())


def login_of(sandbox: JiraSandbox, user: str = "alice") -> str:
    """What a user logs in with: the e-mail address on Cloud, the user name on Data Center."""
    who = sandbox.user(user)
    return str(who["email"] if sandbox.flavour == "cloud" else who["name"])


@pytest.fixture
def repo(make_repo: Callable[..., Repo]) -> Repo:
    return make_repo()


class Sites:
    """A sandbox Jira and Bitbucket of one kind, with jiraflow pointed at both."""

    def __init__(self, jira: JiraSandbox, bitbucket: BitbucketSandbox) -> None:
        self.jira = jira
        self.bitbucket = bitbucket
        self.kind = jira.flavour
        self.name = bitbucket.repository_name

    def prs(self) -> list[dict]:  # type: ignore[type-arg]
        return self.bitbucket.pull_requests(self.name)

    def count(self) -> int:
        return self.jira.count() + self.bitbucket.count()

    def clear_requests(self) -> None:
        self.jira.clear_requests()
        self.bitbucket.clear_requests()


@pytest.fixture(params=["cloud", "datacenter"])
def sites(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, repo: Repo
) -> Iterator[Sites]:
    """Jira and Bitbucket of each kind over real HTTP; the sandbox repository is backed by
    `repo`'s bare origin, so pull requests see its branches and merge for real (which needs
    a recent git: require_merge_tree). A test picks its own with indirect parametrization:
    a kind, or (kind, options for BitbucketSandbox)."""
    kind, options = request.param if isinstance(request.param, tuple) else (request.param, {})
    require_merge_tree()
    with JiraSandbox(kind) as jira, BitbucketSandbox(kind, **options) as bitbucket:
        point_at(monkeypatch, jira)
        point_bitbucket_at(monkeypatch, bitbucket)
        bitbucket.set_git_dir(bitbucket.repository_name, repo.git("remote", "get-url", "origin"))
        yield Sites(jira, bitbucket)


def point_bitbucket_at(monkeypatch: pytest.MonkeyPatch, sandbox: BitbucketSandbox) -> None:
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_URL", sandbox.api_url)
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_USER", sandbox.login())
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_TOKEN", sandbox.token())
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_REPOSITORY", sandbox.repository_name)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run_(repo: Repo | Path, *args: str) -> Result:
        return jf(repo, *args, capsys=capsys)

    return run_


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real Secret Service: a private D-Bus session (dbus-run-session) with gnome-keyring
    unlocked in it, as on a desktop. Yields the environment that points keyring at it."""
    require_tool("dbus-run-session")
    require_tool("gnome-keyring-daemon")
    home = tmp_path_factory.mktemp("keyring-home")
    script = (
        'echo "$DBUS_SESSION_BUS_ADDRESS"; '
        "printf keyring-test-password | gnome-keyring-daemon --unlock --components=secrets "
        ">/dev/null 2>&1; exec sleep 86400"
    )
    proc = subprocess.Popen(
        ["dbus-run-session", "--", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")},
        start_new_session=True,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    env = {
        "DBUS_SESSION_BUS_ADDRESS": address,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
        "KEYRING_HOME": str(home),
    }
    try:
        _wait_for_secret_service(env)
        yield env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


@pytest.fixture
def keyring_env(secret_service: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This test's processes (and in-process runs) use the real Secret Service."""
    for name, value in secret_service.items():
        monkeypatch.setenv(name, value)
    return secret_service


def log_in_to(
    run: Callable[..., Result], repo: Repo, monkeypatch: pytest.MonkeyPatch, *sites: JiraSandbox
) -> str:
    """`auth login` to each sandbox site (tokens in the keyring) and a .jiraflow.toml that
    lists them as [[jira.sites]], in order, without project lists."""
    for site in sites:
        monkeypatch.setattr("sys.stdin", io.StringIO(site.token() + "\n"))
        args = ("auth", "login", "--url", site.url, "--user", login_of(site), "--token-stdin")
        assert run(repo, *args).code == 0
        wait_for_issue_refresh()
    text = "\n".join(f'[[jira.sites]]\nurl = "{site.url}"\n' for site in sites)
    (repo.path / ".jiraflow.toml").write_text(text)
    return text


def wait_for_issue_refresh(limit: float = 60) -> None:
    """Until the background refresh of TAB's issue cache that a login (or start) may have
    started has ended: its search then cannot land in the middle of a later count of
    requests. The refresher holds its marker from before it starts until it has written."""
    from jiraflow.jira.issue_cache import IssueCache, default_path

    marker = IssueCache(default_path()).marker
    deadline = time.monotonic() + limit
    while os.path.exists(marker):
        assert time.monotonic() < deadline, f"the issue refresher never ended ({marker})"
        time.sleep(0.05)


def _wait_for_secret_service(env: dict[str, str]) -> None:
    probe = (
        "import keyring; keyring.set_password('jiraflow-probe', 'p', 'x'); "
        "assert keyring.get_password('jiraflow-probe', 'p') == 'x'; "
        "keyring.delete_password('jiraflow-probe', 'p')"
    )
    deadline = time.monotonic() + 15
    while True:
        proc = subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the Secret Service did not come up:\n{proc.stderr}")
        time.sleep(0.2)
