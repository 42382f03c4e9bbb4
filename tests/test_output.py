"""What jiraflow writes, for scripts and for people: with --json every command puts exactly
one JSON document on stdout (its report, or the result of a change, or the error) in the shape
docs/json.md documents; colour appears only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

from conftest import Sites
from gitutil import Repo
from jiraflow.cli import cli

DOCS = Path(__file__).resolve().parent.parent / "docs" / "json.md"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
RESULT_KEYS = {"ok", "exit_code", "done", "warnings", "dry_run"}

# Commands whose --json is not a document of their own, and why.
NOT_RUN = {
    "completion": "prints a shell script, which is its output (tested in test_completion)",
    "demo": "a narrated walk-through against its own sandbox (tested in test_demo)",
    "sandbox serve": "serves until stopped; its --json line is tested in test_sandbox_serve",
    "auth login": "needs the OS keyring (its --json result is tested in test_auth)",
}


def leaf_commands(group: click.Group = cli, path: str = "") -> list[str]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if command.hidden:
            continue
        full = f"{path} {name}".strip()
        if isinstance(command, click.Group):
            out += leaf_commands(command, full)
        else:
            out.append(full)
    return out


def one_document(out: str) -> Any:
    """stdout is exactly one JSON document (json.loads refuses anything after it)."""
    return json.loads(out)


def documented() -> dict[str, Any]:
    """docs/json.md: each `### jiraflow CMD` heading followed by an example document."""
    text = DOCS.read_text()
    found = {}
    for match in re.finditer(r"^### `jiraflow ([^`]+)`\n(.*?)```json\n(.*?)```", text, re.M | re.S):
        found[match[1]] = json.loads(match[3])
    return found


def same_shape(name: str) -> str:
    """The command docs/json.md documents `name`'s shape under."""
    kind, _, verb = name.partition(" ")
    if kind in ("bugfix", "release", "hotfix", "support") and verb in ("list", "diff"):
        return f"feature {verb}"
    if kind == "check":
        return "check range"
    return name


def keys_of(doc: Any) -> set[str]:
    if isinstance(doc, list):
        return set(doc[0]) if doc else set()
    return set(doc)


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_every_command_prints_one_json_document(
    sites: Sites, repo: Repo, run: Any, tmp_path: Path
) -> None:
    """Walks the whole flow with --json: every command's stdout parses as one document,
    reports have the documented top-level keys, changes say what was done and where."""
    docs = documented()
    message = tmp_path / "MSG"
    message.write_text("PROJ-1 Add the form\n")
    seen: dict[str, Any] = {}

    def step(*args: str, code: int = 0) -> Any:
        result = run(repo, "--json", *args)
        assert result.code == code, (args, result.err)
        doc = one_document(result.out)
        words = [a for a in args if not a.startswith("-")]
        seen[next(c for c in by_length if words[: len(c.split())] == c.split())] = doc
        return doc

    all_commands = leaf_commands()
    by_length = sorted(all_commands, key=len, reverse=True)
    start = step("feature", "start", "PROJ-1")
    assert start["ok"] is True and start["exit_code"] == 0
    assert start["branch"] == "feature/PROJ-1-add-login-form"
    assert start["issue"] == "PROJ-1"
    assert any("PROJ-1" in line for line in start["done"])
    repo.commit("form.txt", "form\n", "PROJ-1 Add the form")
    step("status")
    step("feature", "list")
    step("feature", "diff")
    step("feature", "publish")
    pr = step("pr", "create")
    step("pr", "view")
    step("pr", "list")
    step("pr", "status")
    step("pr", "checks")
    number = str(pr["pull_request"]["id"])
    step("pr", "checkout", number)
    step("pr", "comment", "-b", "Ready for a look")
    step("pr", "request-changes", number, code=6)  # Bitbucket refuses it on one's own
    step("--dry-run", "pr", "approve")
    step("--dry-run", "pr", "decline")
    step("where", "PROJ-1")
    step("worklog", "add", "30m", "PROJ-1", "-m", "the form")
    step("worklog", "list", "PROJ-1")
    step("check", "branch")
    step("check", "commit-msg", str(message))
    step("check", "range", "develop..HEAD")
    step("check", "pr")
    step("release", "notes", "develop..HEAD")
    step("feature", "rebase")
    step("feature", "checkout", "PROJ-1-add-login-form")
    dry = step("--dry-run", "feature", "finish")
    assert dry["dry_run"] is True and dry["plan"] and dry["done"] == []
    finish = step("feature", "finish")
    assert finish["branch"] == "develop" and finish["dry_run"] is False
    step("feature", "start", "--no-jira", "extra")
    repo.commit("extra.txt", "extra\n", "PROJ-1 Extra")
    assert step("finish")["branch"] == "develop"  # whatever the type
    step("feature", "start", "--no-jira", "merged")
    repo.commit("merged.txt", "merged\n", "PROJ-1 Merged on Bitbucket")
    step("pr", "create")
    merged = step("pr", "merge")
    assert merged["pull_request"]["state"] == "MERGED" and merged["branch"] == "develop"
    kind, name = step("start", "PROJ-2")["branch"].split("/", 1)
    step("bugfix", "list")
    step("bugfix", "track", "nothing-there", code=5)
    repo.git("checkout", "-q", "develop")
    step(kind, "delete", name, "--force")
    step("release", "start", "1.0.0")
    step("release", "list")
    step("release", "finish", "-m", "Release 1.0.0")
    step("hotfix", "start", "1.0.1")
    repo.commit("fix.txt", "fix\n", "PROJ-3 Fix")
    step("hotfix", "finish", "-m", "Hotfix 1.0.1")
    step("support", "start", "1.x", "1.0.0")
    step("support", "list")
    repo.git("checkout", "-q", "develop")
    repo.git("branch", "qa", "develop")
    repo.git("push", "-q", "origin", "qa")
    team = repo.path / ".jiraflow.toml"
    chain = '\n[[environments]]\nname = "qa"\nbranch = "qa"\njira = "In Progress"\n'
    team.write_text(team.read_text() + chain)
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "PROJ-5 The chain")
    promoted = step("promote", "qa")
    assert promoted["branch"] == "develop" and promoted["done"][0].startswith("promoted")
    board = step("board", "--release", "1.0.0")
    assert board["issues"] and board["environments"][0]["name"] == "qa"
    step("config", "show")
    step("config", "get", "gitflow.main")
    step("config", "set", "branch.max_length", "50")
    step("auth", "status")
    step("auth", "logout", "--url", sites.jira.url, code=4)  # no keyring here
    step("sync")
    step("hooks", "install")
    step("hooks", "uninstall")
    step("init", "--defaults", "--force")
    for name in ("bugfix", "feature", "hotfix", "release"):
        for verb in (
            "checkout",
            "delete",
            "diff",
            "finish",
            "list",
            "publish",
            "rebase",
            "start",
            "track",
        ):
            if f"{name} {verb}" in all_commands and f"{name} {verb}" not in seen:
                seen[f"{name} {verb}"] = "same code as the feature command"

    missing = set(all_commands) - set(seen) - set(NOT_RUN)
    assert not missing, f"run these with --json here, or say in NOT_RUN why not: {missing}"
    assert pr["pull_request"]["title"] == "PROJ-1: Add login form"
    for name, example in docs.items():
        actual = seen[name]
        if name == "config show":  # keyed by setting: compare one setting's shape
            actual, example = next(iter(actual.values())), next(iter(example.values()))
        assert keys_of(actual) == keys_of(example), f"docs/json.md is out of date for {name}"
    for name, doc in seen.items():  # documented once for the family
        if same_shape(name) != name and same_shape(name) in seen and not isinstance(doc, str):
            assert keys_of(doc) == keys_of(seen[same_shape(name)]), name
    reports = {
        same_shape(name)
        for name, doc in seen.items()
        if isinstance(doc, list) or (isinstance(doc, dict) and not set(doc) >= RESULT_KEYS)
    }
    assert reports <= set(docs), f"document these reports in docs/json.md: {reports - set(docs)}"


def test_the_result_fields_are_documented() -> None:
    text = DOCS.read_text()
    fields = RESULT_KEYS | {"branch", "issue", "plan", "error", "hint", "queued", "synced"}
    fields |= {"dropped", "key", "value", "file", "service", "url", "user", "kind", "removed"}
    undocumented = {f for f in fields if f"`{f}`" not in text}
    assert not undocumented


def test_an_error_is_a_json_document_too(repo: Repo, run: Any) -> None:
    result = run(repo, "--json", "feature", "finish", "nope")
    assert result.code == 5
    doc = one_document(result.out)
    assert doc["ok"] is False and doc["exit_code"] == 5
    assert "nope" in doc["error"] and doc["hint"]
    assert "error:" in result.err  # people still read it on stderr


def test_a_usage_error_with_json_says_so_in_the_document(repo: Repo, run: Any) -> None:
    result = run(repo, "--json", "feature", "start")
    assert result.code == 2
    assert one_document(result.out)["exit_code"] == 2


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("nosuch",), "no such command 'nosuch'"),
        (("-C", "/nowhere", "status"), "invalid value for -C: '/nowhere' is not a directory"),
        (("feature",), "a command is needed"),
    ],
)
def test_a_failure_before_the_command_runs_is_a_document_too(
    repo: Repo, run: Any, args: tuple[str, ...], error: str
) -> None:
    result = run(repo, "--json", *args)
    assert result.code == 2
    doc = one_document(result.out)
    assert doc["ok"] is False and doc["error"] == error


@pytest.mark.parametrize("args", [("feature", "--help"), ("--version",)])
def test_help_and_version_are_the_whole_output_with_json(
    repo: Repo, run: Any, args: tuple[str, ...]
) -> None:
    result = run(repo, "--json", *args)
    assert result.code == 0
    assert '"ok"' not in result.out and result.out.strip()


def test_a_failure_into_a_closed_pipe_keeps_its_exit_code_and_no_traceback(repo: Repo) -> None:
    script = (
        f"{shlex.quote(sys.executable)} -m jiraflow --json feature finish nope"
        " | (exec 0<&-; sleep 0.5); echo rc=${PIPESTATUS[0]} >&2"
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=repo.path, capture_output=True, text=True, check=False
    )
    assert "rc=5" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_report_then_a_failure_keeps_one_document(repo: Repo, run: Any) -> None:
    """check fails with exit 1 after printing its report: no second document follows."""
    repo.git("checkout", "-q", "-b", "not-gitflow")
    result = run(repo, "--json", "check", "branch")
    assert result.code == 1
    assert one_document(result.out)["ok"] is False


# -- colour --------------------------------------------------------------------------------
def in_terminal(repo: Repo, *args: str, **env: str) -> str:
    """Run jiraflow in a real pseudo-terminal (stdout and stderr are the terminal)."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environ.update(COLUMNS="80", **env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jiraflow", *args],
        cwd=repo.path,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environ,
        close_fds=True,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal(repo: Repo) -> None:
    out = in_terminal(repo, "feature", "start", "shiny")
    assert ANSI.search(out), out
    assert "created 'feature/shiny'" in ANSI.sub("", out)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("feature", "start", "plain"), {"NO_COLOR": "1"}),
        (("--no-color", "feature", "start", "plain"), {}),
    ],
)
def test_no_colour_when_asked(repo: Repo, args: tuple[str, ...], env: dict[str, str]) -> None:
    out = in_terminal(repo, *args, **env)
    assert "created 'feature/plain'" in out
    assert not ANSI.search(out), out


def test_no_colour_in_a_pipe(repo: Repo) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.run(
        [sys.executable, "-m", "jiraflow", "feature", "start", "piped"],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "created 'feature/piped'" in proc.stderr + proc.stdout
    assert not ANSI.search(proc.stdout + proc.stderr)


def test_an_empty_no_color_does_not_turn_colour_off(repo: Repo) -> None:
    """no-color.org: NO_COLOR counts when it is present and not empty."""
    out = in_terminal(repo, "feature", "start", "bright", NO_COLOR="")
    assert ANSI.search(out), out


def test_a_partial_finish_and_its_sync_say_what_is_queued(repo: Repo, run: Any, jira: Any) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("drop", times=None)
    result = run(repo, "--json", "feature", "finish")
    assert result.code == 7
    doc = one_document(result.out)
    assert doc["ok"] is False and doc["exit_code"] == 7
    assert doc["branch"] == "develop"  # the git part is done
    assert doc["queued"] == ["move PROJ-1 to Done"]
    assert "jiraflow sync" in doc["hint"]

    jira.clear_faults()
    synced = one_document(run(repo, "--json", "sync").out)
    assert synced["ok"] is True
    assert synced["synced"] == ["move PROJ-1 to Done"] and synced["queued"] == []


def test_completion_with_json_prints_only_the_script(repo: Repo, run: Any) -> None:
    """`eval "$(jiraflow --json completion bash)"` must not eval a JSON document too."""
    result = run(repo, "--json", "completion", "bash")
    assert result.code == 0
    assert result.out.rstrip().endswith("_jiraflow_completion_setup;")
    assert '"ok"' not in result.out


# -- progress ------------------------------------------------------------------------------
def test_a_check_over_many_keys_shows_progress(repo: Repo, run: Any, jira: Any) -> None:
    keys = [jira.add_issue("PROJ", f"Change {n}") for n in range(150)]
    repo.git("checkout", "-q", "-b", "feature/many")
    for n in range(0, 150, 50):
        repo.commit(f"f{n}.txt", "x\n", "Batch\n\n" + " ".join(keys[n : n + 50]))
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("jira: checking keys")]
    # a line as each search (of up to 100 keys) returns, in either order; in a pipe, no
    # rewriting of one line
    assert lines[-1] == "jira: checking keys: 150/150"
    assert lines[:-1] in (["jira: checking keys: 100/150"], ["jira: checking keys: 50/150"])
    quiet = run(repo, "--json", "check", "range", "develop..HEAD")
    assert "checking keys" not in quiet.err  # --json: the document is the whole output


def test_a_long_sync_shows_progress(repo: Repo, run: Any, jira: Any) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("drop", times=None)
    assert run(repo, "feature", "finish").code == 7
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    [queued] = json.loads(path.read_text())
    keys = [jira.add_issue("PROJ", f"Change {n}") for n in range(30)]
    comments = [
        {**queued, "id": f"{queued['id']}-{n}", "key": key, "do": "comment", "text": f"note {n}"}
        for n, key in enumerate(keys)
    ]
    path.write_text(json.dumps([queued, *comments]))
    jira.clear_faults()
    result = run(repo, "sync")
    assert result.code == 0, result.err
    lines = [line for line in result.err.splitlines() if "sending queued actions" in line]
    assert lines[0] == "jira: sending queued actions: 4/31"  # a line per tenth, then the end
    assert lines[-1] == "jira: sending queued actions: 31/31"
    assert jira.issue("PROJ-1")["status"] == "Done"


def test_progress_on_a_terminal_rewrites_one_line_and_ends_it_before_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jiraflow.cli.render import Renderer

    leader, follower = pty.openpty()
    with os.fdopen(follower, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        renderer = Renderer(color=False)
        for done in (1, 20, 150):
            renderer.progress("jira: checking keys", done, 150)
        renderer.progress("jira: sending queued actions", 3, 40)  # stops half-way
        renderer.error("Jira at https://jira.example.com cannot be reached")
        terminal.flush()
    out = ""
    while "error:" not in out or not out.endswith("\n"):  # a terminal may hand it in pieces
        out += os.read(leader, 4096).decode()
    os.close(leader)
    lines = out.replace("\r\n", "\n").split("\n")
    assert lines[0].endswith("\rjira: checking keys: 150/150\x1b[K")
    assert lines[1] == "\rjira: sending queued actions: 3/40\x1b[K"  # ended, not run into
    assert lines[2].startswith("error: Jira at")
