"""Credentials: `auth login|status|logout` with the real OS keyring (Secret Service through
gnome-keyring in a private D-Bus session), verified against the sandbox Jira."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import log_in_to, login_of, require_merge_tree
from gitutil import Repo, Result
from jiraflow.sandbox.jira import JiraSandbox


def jiraflow(repo: Repo, *args: str, env: dict[str, str], stdin: str = "") -> Result:
    """The installed program in its own process, as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "jiraflow", "-C", str(repo.path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> JiraSandbox:
    with JiraSandbox(request.param) as sb:
        yield sb


def files_containing(root: Path, needle: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle.encode() in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def test_login_stores_in_the_keyring_and_commands_then_work_without_env(
    repo: Repo, sandbox: JiraSandbox, keyring_env: dict[str, str], isolated_env: Path
) -> None:
    token, login = sandbox.token(), login_of(sandbox)
    (repo.path / ".jiraflow.toml").write_text(f'[jira]\nurl = "{sandbox.url}"\n')
    result = jiraflow(
        repo, "auth", "login", "jira", "--user", login, "--token-stdin", env={}, stdin=token
    )
    assert result.code == 0, result.err
    assert "the token is in the OS keyring" in result.out
    assert sandbox.count(path_contains="/myself") == 1  # verified before it was stored

    status = jiraflow(repo, "--json", "auth", "status", env={})
    rows = json.loads(status.out)
    assert rows == [
        {
            "service": "jira",
            "url": sandbox.url,
            "user": login,
            "kind": sandbox.flavour,
            "configured": True,
            "source": "keyring",
        }
    ]
    assert "JIRAFLOW_JIRA_TOKEN" not in os.environ
    started = jiraflow(repo, "feature", "start", "PROJ-1", env={})
    assert started.code == 0, started.err
    assert sandbox.issue("PROJ-1")["status"] == "In Progress"

    for text in (result.out, result.err, status.out, started.out, started.err):
        assert token not in text
    leaks = files_containing(isolated_env, token) + files_containing(repo.path, token)
    leaks += files_containing(Path(keyring_env["KEYRING_HOME"]), token)
    assert leaks == []

    out = jiraflow(repo, "auth", "logout", env={})
    assert out.code == 0 and "the token is removed" in out.out
    repo.git("checkout", "-q", "develop")
    again = jiraflow(repo, "feature", "start", "PROJ-5", env={})
    assert again.code == 4 and "jiraflow auth login jira" in again.err


def test_a_refused_token_is_not_stored(
    repo: Repo, sandbox: JiraSandbox, keyring_env: dict[str, str]
) -> None:
    result = jiraflow(
        repo,
        "auth",
        "login",
        "--url",
        sandbox.url,
        "--user",
        login_of(sandbox),
        "--token-stdin",
        env={},
        stdin="not-the-token",
    )
    assert result.code == 4
    assert "refused the credentials" in result.err and "not-the-token" not in result.err
    status = json.loads(jiraflow(repo, "--json", "auth", "status", env={}).out)
    assert status == []


def test_sites_without_a_project_mapping_are_tried_in_order(
    repo: Repo, run, keyring_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with JiraSandbox("cloud") as first, JiraSandbox("cloud") as second:
        key = second.add_issue("PROJ", "Only on the second site")
        log_in_to(run, repo, monkeypatch, first, second)
        first.clear_requests()
        result = run(repo, "feature", "start", key)
        assert result.code == 0, result.err
        assert first.count(path_contains=f"/issue/{key}") == 1  # asked first: not found
        assert second.issue(key)["status"] == "In Progress"
        assert first.count(method="PUT") + first.count(method="POST") == 0
        # finishing with no cache of where the issue lives: found again, in order
        (repo.path / ".git" / "jiraflow" / "issues.json").unlink()
        repo.commit()
        assert run(repo, "feature", "finish").code == 0
        assert second.issue(key)["status"] == "Done"
        assert first.count(method="PUT") + first.count(method="POST") == 0


def test_no_usable_keyring_names_the_environment_variables(repo: Repo, run) -> None:
    # the test environment's default backend is keyring's "fail" backend: no keyring at all
    result = run(repo, "auth", "login", "--url", "https://acme.atlassian.net", "--user", "a@b.c")
    assert result.code == 4
    assert "no usable OS keyring" in result.err and "JIRAFLOW_JIRA_TOKEN" in result.err


def test_a_token_in_the_environment_needs_its_site(
    repo: Repo, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_TOKEN", "secret-value-42")
    (repo.path / ".jiraflow.toml").write_text('[jira]\nurl = "https://acme.atlassian.net"\n')
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 4
    assert "JIRAFLOW_JIRA_URL is not" in result.err and "secret-value-42" not in result.err


def test_auth_status_without_any_login(repo: Repo, run) -> None:
    result = run(repo, "auth", "status")
    assert result.code == 0 and "Not logged in anywhere" in result.out


def test_the_token_prompt_does_not_echo(
    repo: Repo, sandbox: JiraSandbox, keyring_env: dict[str, str]
) -> None:
    """Typed at a real terminal (a pseudo-terminal): asked for, hidden, stored."""
    import pty

    argv = [sys.executable, "-m", "jiraflow", "-C", str(repo.path), "auth", "login"]
    argv += ["--url", sandbox.url, "--user", login_of(sandbox)]
    pid, fd = pty.fork()
    if pid == 0:  # the child: jiraflow on the terminal
        os.execv(sys.executable, argv)
    seen = b""
    try:
        while f"API token for {login_of(sandbox)} at {sandbox.url}:".encode() not in seen:
            seen += os.read(fd, 1024)
        os.write(fd, sandbox.token().encode() + b"\n")
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the terminal closed: jiraflow has exited
                break
            if not chunk:
                break
            seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"the token is in the OS keyring" in seen
    assert sandbox.token().encode() not in seen


def test_token_stdin_never_reads_the_site_from_stdin(repo: Repo, run, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cr3t-T0KEN\n"))
    result = run(repo, "auth", "login", "--token-stdin")
    assert result.code == 2 and "--url URL --user LOGIN" in result.err
    assert "s3cr3t" not in result.out + result.err


# -- Bitbucket -----------------------------------------------------------------------------------


@pytest.fixture(params=["cloud", "datacenter"])
def bitbucket(request: pytest.FixtureRequest, repo: Repo):  # type: ignore[no-untyped-def]
    from jiraflow.sandbox.bitbucket import BitbucketSandbox

    require_merge_tree()  # the sandbox answers from a real repository (Data Center: mergeResult)
    with BitbucketSandbox(request.param) as sb:
        sb.set_git_dir(sb.repository_name, repo.git("remote", "get-url", "origin"))
        (repo.path / ".jiraflow.toml").write_text(
            f'[bitbucket]\nurl = "{sb.api_url}"\nrepository = "{sb.repository_name}"\n'
        )
        repo.git("add", ".jiraflow.toml")
        repo.git("commit", "-qm", "bitbucket settings")
        yield sb


def test_bitbucket_login_is_verified_stored_and_used(
    repo: Repo, bitbucket, keyring_env: dict[str, str], isolated_env: Path
) -> None:
    token = bitbucket.token()
    login = jiraflow(
        repo,
        "auth",
        "login",
        "bitbucket",
        "--user",
        bitbucket.login(),
        "--token-stdin",
        env={},
        stdin=token,
    )
    assert login.code == 0, login.err
    assert f"logged in to {bitbucket.api_url} ({bitbucket.flavour})" in login.out
    assert bitbucket.count() == 1  # one request checked the token before it was stored
    rows = json.loads(jiraflow(repo, "--json", "auth", "status", env={}).out)
    [row] = [r for r in rows if r["service"] == "bitbucket"]
    assert (row["url"], row["user"], row["source"]) == (
        bitbucket.api_url,
        bitbucket.login(),
        "keyring",
    )
    # the keyring token opens a pull request, with no JIRAFLOW_BITBUCKET_TOKEN anywhere
    assert jiraflow(repo, "feature", "start", "login", env={}).code == 0
    repo.commit("login.html", "<form></form>\n", "Add the login form")
    opened = jiraflow(repo, "pr", "create", env={})
    assert opened.code == 0, opened.err
    assert len(bitbucket.pull_requests(bitbucket.repository_name)) == 1
    assert files_containing(isolated_env, token) == []
    assert files_containing(repo.path, token) == []
    logout = jiraflow(repo, "auth", "logout", "bitbucket", env={})
    assert logout.code == 0, logout.err
    again = jiraflow(repo, "pr", "create", env={})
    assert again.code == 4


def test_bitbucket_refuses_a_wrong_token_and_nothing_is_stored(
    repo: Repo, bitbucket, keyring_env: dict[str, str]
) -> None:
    result = jiraflow(
        repo,
        "auth",
        "login",
        "bitbucket",
        "--user",
        bitbucket.login(),
        "--token-stdin",
        env={},
        stdin="wrong",
    )
    assert result.code == 4
    rows = json.loads(jiraflow(repo, "--json", "auth", "status", env={}).out)
    assert [r["source"] for r in rows if r["service"] == "bitbucket"] == [None]


def test_a_cloud_app_password_login_is_refused_with_the_reason(
    repo: Repo, keyring_env: dict[str, str]
) -> None:
    from jiraflow.sandbox.bitbucket import BitbucketSandbox

    with BitbucketSandbox("cloud") as sb:
        result = jiraflow(
            repo,
            "auth",
            "login",
            "bitbucket",
            "--url",
            sb.api_url,
            "--user",
            sb.login(),
            "--token-stdin",
            env={},
            stdin=sb.app_password(),
        )
    assert result.code == 4
    assert "app password" in result.err and "API token" in result.err


def test_a_cloud_access_token_is_checked_against_its_repository(
    repo: Repo, keyring_env: dict[str, str]
) -> None:
    from jiraflow.sandbox.bitbucket import BitbucketSandbox

    with BitbucketSandbox("cloud") as sb:
        (repo.path / ".jiraflow.toml").write_text(
            f'[bitbucket]\nurl = "{sb.api_url}"\nrepository = "{sb.repository_name}"\n'
        )
        result = jiraflow(
            repo,
            "auth",
            "login",
            "bitbucket",
            "--user",
            "x-token-auth",
            "--token-stdin",
            env={},
            stdin=sb.access_token(sb.repository_name),
        )
        assert result.code == 0, result.err
        assert sb.count(path_contains="/repositories/") == 1
        outside = jiraflow(
            repo,
            "-C",
            "/",
            "auth",
            "login",
            "bitbucket",
            "--url",
            sb.api_url,
            "--user",
            "x-token-auth",
            "--token-stdin",
            env={},
            stdin=sb.access_token(sb.repository_name),
        )
    assert outside.code == 2
    assert "inside a clone" in outside.err


def _dc_login(repo: Repo, bitbucket, user: str, token: str) -> Result:  # type: ignore[no-untyped-def]
    bitbucket.clear_requests()
    args = ("auth", "login", "bitbucket", "--user", user, "--token-stdin")
    return jiraflow(repo, *args, env={}, stdin=token)


@pytest.mark.parametrize("bitbucket", ["datacenter"], indirect=True)
@pytest.mark.parametrize(
    ("user", "slug", "asked"),
    [
        ("alice", "alice", ["/users/alice"]),  # a login that is its slug: one request, as ever
        # a slug that is not the login: users/{login} is 404, the user search finds it
        ("dave@acme.com", "dave_acme.com", ["/users/dave%40acme.com", "/users"]),
    ],
)
def test_a_data_center_login_whose_slug_is_not_the_login(
    repo: Repo, bitbucket, keyring_env: dict[str, str], user: str, slug: str, asked: list[str]
) -> None:
    """Data Center answers users/{login} with 404 for `dave@acme.com` (slug `dave_acme.com`):
    the login finds the user with the user search, and keeps the slug, so that `pr approve`
    afterwards names the user by slug with no search of its own."""
    bitbucket.add_user("bigdave@acme.com", "Big Dave")  # found first by the search
    bitbucket.add_user("dave@acme.com", "Dave Acme")
    login = _dc_login(repo, bitbucket, user, bitbucket.token(user))
    assert login.code == 0, login.err
    display = bitbucket.user(user)["displayName"]
    assert f"logged in to {bitbucket.api_url} (datacenter) as {display}" in login.out
    assert [f"{r.method} {r.path}" for r in bitbucket.requests] == [
        f"GET /rest/api/1.0{path}" for path in asked
    ]
    repo.git("checkout", "-q", "-b", "feature/search")
    repo.commit("search.py", "def search(): ...\n", "Add search")
    repo.git("push", "-q", "origin", "feature/search")
    pr = bitbucket.create_pull_request(
        bitbucket.repository_name, "feature/search", "develop", "Search",
        author="bob", reviewers=[user],
    )  # fmt: skip
    bitbucket.clear_requests()
    approved = jiraflow(repo, "pr", "approve", str(pr["id"]), env={})
    assert approved.code == 0, approved.err
    path = f"/rest/api/1.0/projects/ACME/repos/shop/pull-requests/{pr['id']}/participants"
    assert [f"{r.method} {r.path}" for r in bitbucket.requests] == [f"PUT {path}/{slug}"]


@pytest.mark.parametrize("bitbucket", ["datacenter"], indirect=True)
def test_a_data_center_login_of_another_or_unknown_user_is_refused_in_one_request(
    repo: Repo, bitbucket, keyring_env: dict[str, str]
) -> None:
    """A token of someone else, or a login nobody has, is refused by the one request (its
    X-AUSERNAME, on the 404 too): no user search."""
    bitbucket.add_user("dave@acme.com", "Dave Acme")
    for user in ("dave@acme.com", "mallory"):  # mallory: nobody's login
        refused = _dc_login(repo, bitbucket, user, bitbucket.token("alice"))
        assert refused.code == 4, refused.err
        assert f"error: the token belongs to alice, not {user}" in refused.err
        assert f"hint: Log in as alice, or use a token of {user}." in refused.err
        assert bitbucket.count() == 1
    wrong = _dc_login(repo, bitbucket, "dave@acme.com", "wrong")
    assert wrong.code == 4
    assert "refused the credentials of dave@acme.com" in wrong.err
    assert bitbucket.count() == 1
    rows = json.loads(jiraflow(repo, "--json", "auth", "status", env={}).out)
    assert [r["source"] for r in rows if r["service"] == "bitbucket"] == [None]
