"""Day one with the configuration: `config set` keeps a file a person wrote and takes TOML
arrays, `auth login --url` records the site, `sandbox serve` prints the commands."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import login_of, require_merge_tree
from gitutil import Repo
from jiraflow.sandbox.bitbucket import BitbucketSandbox
from jiraflow.sandbox.jira import JiraSandbox

HAND_WRITTEN = """\
# Team settings for jiraflow.  Ask #dev-tools before changing them.

[gitflow]
develop = "develop"       # the integration branch
main    = "main"

# prefixes, ordered as we like them
[gitflow.prefix]
hotfix  = "hf/"
feature = "feat/"

[jira]
url = "https://acme.atlassian.net"   # our site
on  = { start = "Doing", pr = "Review" }  # inline, on purpose
fields = {resolution = "Done"}

[finish]
push = false  # CI pushes
keep = true
"""


def user_file(home: Path) -> Path:
    return home / ".config" / "jiraflow" / "config.toml"


@pytest.mark.parametrize(
    ("key", "value", "old", "new"),
    [
        ("finish.push", "true", "push = false  # CI pushes", "push = true  # CI pushes"),
        ("jira.on.start", "Busy", 'start = "Doing"', 'start = "Busy"'),
        ("gitflow.prefix.feature", "f/", 'feature = "feat/"', 'feature = "f/"'),
        (
            "jira.fields",
            '{resolution = "Fixed"}',
            '{resolution = "Done"}',
            '{resolution = "Fixed"}',
        ),
    ],
)
def test_set_changes_only_the_value_in_a_hand_written_file(
    repo: Repo, run, key: str, value: str, old: str, new: str
) -> None:
    path = repo.path / ".jiraflow.toml"
    path.write_text(HAND_WRITTEN)
    result = run(repo, "config", "set", key, value)
    assert result.code == 0, result.err
    assert "comments were not kept" not in result.err
    assert path.read_text() == HAND_WRITTEN.replace(old, new, 1)


def test_a_new_key_is_added_and_the_rest_is_kept(repo: Repo, run) -> None:
    path = repo.path / ".jiraflow.toml"
    path.write_text(HAND_WRITTEN)
    assert run(repo, "config", "set", "release.version_files", "VERSION").code == 0
    assert run(repo, "config", "set", "finish.no_ff", "yes").code == 0
    text = path.read_text()
    assert text.startswith(HAND_WRITTEN.rstrip("\n"))  # everything before is untouched
    data = tomllib.loads(text)
    assert data["release"] == {"version_files": ["VERSION"]}
    assert data["finish"] == {"push": False, "keep": True, "no_ff": True}


def test_the_user_file_keeps_its_comments_and_its_mode(repo: Repo, run, isolated_env) -> None:
    path = user_file(isolated_env)
    path.parent.mkdir(parents=True)
    path.write_text("# mine\n[finish]\nkeep = false # for now\n")
    path.chmod(0o600)
    assert run(repo, "config", "set", "--user", "finish.keep", "on").code == 0
    assert path.read_text() == "# mine\n[finish]\nkeep = true # for now\n"
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ('["VERSION"]', ["VERSION"]),
        ('["VERSION", "src/app/__init__.py"]', ["VERSION", "src/app/__init__.py"]),
        (" [ 'a,b' ] ", ["a,b"]),
        ("[]", []),
        ("VERSION, setup.cfg", ["VERSION", "setup.cfg"]),  # the comma form still works
    ],
)
def test_a_list_in_toml_syntax(repo: Repo, run, value: str, stored: list[str]) -> None:
    result = run(repo, "config", "set", "release.version_files", value)
    assert result.code == 0, result.err
    data = tomllib.loads((repo.path / ".jiraflow.toml").read_text())
    assert data["release"]["version_files"] == stored
    got = json.loads(run(repo, "--json", "config", "get", "release.version_files").out)
    assert got["value"] == stored


def test_a_list_in_toml_syntax_from_the_environment(repo: Repo, run, monkeypatch) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_PROJECTS", '["PROJ", "OPS"]')
    assert run(repo, "config", "get", "jira.projects").out == '["PROJ", "OPS"]\n'


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("release.version_files", '["VERSION"', "a list of strings in TOML syntax"),
        ("release.version_files", "[VERSION]", "a list of strings in TOML syntax"),
        ("release.version_files", "[1, 2]", "'release.version_files' must be a list of strings"),
        ("jira.projects", '[["A"]]', "'jira.projects' must be a list of strings"),
        ("jira.fields", "{resolution = }", "a table of strings in TOML syntax"),
        ("jira.fields", "{n = 1}", "'jira.fields' must be a table of strings"),
    ],
)
def test_a_malformed_array_is_a_config_error(
    repo: Repo, run, key: str, value: str, message: str
) -> None:
    before = (repo.path / ".jiraflow.toml").read_text()
    result = run(repo, "config", "set", key, value)
    assert result.code == 3
    assert f"jiraflow config set {key}: " in result.err and message in result.err
    assert (repo.path / ".jiraflow.toml").read_text() == before


def jiraflow(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jiraflow", "-C", str(cwd), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest):
    with JiraSandbox(request.param) as sb:
        yield sb


def test_login_with_url_records_the_site_when_none_is_configured(
    repo: Repo, sandbox: JiraSandbox, keyring_env, isolated_env: Path
) -> None:
    login = jiraflow(
        repo.path,
        *("auth", "login", "jira", "--url", sandbox.url, "--user", login_of(sandbox)),
        "--token-stdin",
        stdin=sandbox.token(),
    )
    assert login.returncode == 0, login.stderr
    path = user_file(isolated_env)
    assert f"recorded jira.url = {sandbox.url} in {path}" in login.stdout
    assert tomllib.loads(path.read_text()) == {"jira": {"url": sandbox.url}}
    # the next command uses it, with nothing else configured
    started = jiraflow(repo.path, "feature", "start", "PROJ-1")
    assert started.returncode == 0, started.stderr
    assert sandbox.issue("PROJ-1")["status"] == "In Progress"


def test_login_with_url_leaves_a_configured_site_alone(
    repo: Repo, sandbox: JiraSandbox, keyring_env, isolated_env: Path
) -> None:
    (repo.path / ".jiraflow.toml").write_text('[jira]\nurl = "https://acme.atlassian.net"\n')
    login = jiraflow(
        repo.path,
        *("auth", "login", "jira", "--url", sandbox.url, "--user", login_of(sandbox)),
        "--token-stdin",
        stdin=sandbox.token(),
    )
    assert login.returncode == 0, login.stderr
    assert "recorded" not in login.stdout
    assert not user_file(isolated_env).exists()


@pytest.fixture(params=["cloud", "datacenter"])
def bitbucket(request: pytest.FixtureRequest):
    with BitbucketSandbox(request.param) as sb:
        yield sb


def test_bitbucket_login_with_url_records_the_site(
    tmp_path: Path, bitbucket, keyring_env, isolated_env: Path
) -> None:
    login = jiraflow(
        tmp_path,
        *("auth", "login", "bitbucket", "--url", bitbucket.api_url),
        *("--user", bitbucket.login(), "--token-stdin"),
        stdin=bitbucket.token(),
    )
    assert login.returncode == 0, login.stderr
    path = user_file(isolated_env)
    assert f"recorded bitbucket.url = {bitbucket.api_url} in {path}" in login.stdout
    assert tomllib.loads(path.read_text()) == {"bitbucket": {"url": bitbucket.api_url}}
    status = json.loads(jiraflow(tmp_path, "--json", "auth", "status").stdout)
    assert [(r["url"], r["configured"]) for r in status] == [(bitbucket.api_url, False)]


def test_sandbox_serve_prints_commands_that_set_jiraflow_up(
    repo: Repo, keyring_env, isolated_env: Path
) -> None:
    require_merge_tree()
    origin = repo.git("remote", "get-url", "origin")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jiraflow", "sandbox", "serve", "--git-dir", origin],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        commands = []
        for line in proc.stdout:
            if line.strip().startswith(("jiraflow ", "echo ")):
                commands.append(line.strip())
            if "Ctrl-C" in line:
                break
        assert sum(c.startswith("jiraflow config set ") for c in commands) == 5
        assert sum(" | jiraflow auth login " in c for c in commands) == 2
        me = f"{shlex.quote(sys.executable)} -m jiraflow -C {shlex.quote(str(repo.path))}"
        for command in commands:
            done = subprocess.run(
                command.replace("jiraflow ", me + " ", 1)
                if "|" not in command
                else command.replace("| jiraflow ", f"| {me} "),
                shell=True,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, (command, done.stderr)
        assert "JIRAFLOW_JIRA_TOKEN" not in os.environ
        started = jiraflow(repo.path, "feature", "start", "PROJ-1")
        assert started.returncode == 0, started.stderr
        repo.commit("login.html", "<form></form>\n", "Add the login form")
        opened = jiraflow(repo.path, "pr", "create")
        assert opened.returncode == 0, opened.stderr
        assert "opened pull request #1" in opened.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_a_file_with_windows_line_ends_keeps_them(repo: Repo, run) -> None:
    path = repo.path / ".jiraflow.toml"
    path.write_bytes(b"# team\r\n[finish]\r\npush = false\r\n")
    assert run(repo, "config", "set", "finish.push", "true").code == 0
    assert path.read_bytes() == b"# team\r\n[finish]\r\npush = true\r\n"
