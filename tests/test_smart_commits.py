"""Smart commits (issue 21): `#comment`, `#time` and `#<transition>` in commit messages,
checked as Jira will process them: the parser and Jira's transition matching, then through
real `git commit`/`git push` with the installed hooks, `check commit-msg` and `check range`
against the sandbox Jira (with their request counts), and `--json`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitutil import Repo, Result
from jiraflow.checks.smart import (
    Command,
    lost_lines,
    matching,
    parse,
    smart_word,
    syntax,
    transition,
)
from jiraflow.jira.issues import Issue, Status, Transition
from jiraflow.sandbox.jira import JiraSandbox

Run = Callable[..., Result]
FEATURE = "feature/PROJ-12-fix-login"


def keys_in(text: str) -> list[str]:
    import re

    return re.findall(r"\b[A-Z][A-Z0-9]+-\d+\b", text)


def transitions(*names: str) -> list[Transition]:
    return [Transition(str(i), name, Status("x", "new")) for i, name in enumerate(names)]


# -- the parser --------------------------------------------------------------------------------
def test_commands_apply_to_the_keys_before_them_on_their_line() -> None:
    message = (
        "PROJ-1 PROJ-2 Fix login #comment Fixed it #time 1w 2d 4h 30m Total #close\n"
        "\n"
        "Body text #42 mentions an issue elsewhere, not a command\n"
        "OPS-3 #start-work"
    )
    assert parse(message, keys_in) == [
        Command(1, ("PROJ-1", "PROJ-2"), "comment", "Fixed it"),
        Command(1, ("PROJ-1", "PROJ-2"), "time", "1w 2d 4h 30m Total"),
        Command(1, ("PROJ-1", "PROJ-2"), "close", ""),
        Command(4, ("OPS-3",), "start-work", ""),
    ]
    # a `#` inside a word is no command; a key after the first command is an argument
    assert parse("PROJ-1 issue#done", keys_in) == []
    assert parse("#done PROJ-1", keys_in) == [Command(1, (), "done", "PROJ-1")]


@pytest.mark.parametrize(
    ("message", "wrong"),
    [
        ("PROJ-1 #time", "has no duration"),
        ("PROJ-1 #time soon", "has no duration"),
        ("PROJ-1 #time 2h 1h", "'h' is given twice"),
        ("PROJ-1 #time 0m done", "less than a minute"),
        ("PROJ-1 #comment", "#comment has no text"),
        ("PROJ-1 #comment   #close", "#comment has no text"),
        ("Fix #close", "has no issue key before it"),
    ],
)
def test_what_jira_would_ignore_whatever_the_issue(message: str, wrong: str) -> None:
    found = [syntax(c) for c in parse(message, keys_in)]
    assert any(w is not None and wrong in w[0] for w in found), found


@pytest.mark.parametrize(
    "message",
    ["PROJ-1 #time 1.5h", "PROJ-1 #time 1w 2d 4h 30m Total work", "PROJ-1 #comment x #done"],
)
def test_good_commands_pass(message: str) -> None:
    assert [syntax(c) for c in parse(message, keys_in)] == [None] * len(parse(message, keys_in))


def test_transitions_are_matched_as_jira_matches_them() -> None:
    listed = transitions("Start Progress", "Start Review", "Done", "Done later")
    names = lambda word: [t.name for t in matching(word, listed)]  # noqa: E731
    assert names("start") == ["Start Progress", "Start Review"]  # ambiguous: Jira does neither
    assert names("start-review") == ["Start Review"]  # hyphens for spaces
    assert names("START-prog") == ["Start Progress"]
    assert names("done") == ["Done"]  # an exact name wins over longer ones
    assert names("close") == []
    assert smart_word(listed[0]) == "#start-progress"


def test_a_name_written_with_hyphens_is_an_exact_match() -> None:
    listed = transitions("Start Review", "Start Review Again", "Done (fast)", "Done")
    names = lambda word: [t.name for t in matching(word, listed)]  # noqa: E731
    assert names("start-review") == ["Start Review"]  # not also "Start Review Again"
    assert names("Start-Review-again") == ["Start Review Again"]
    assert names("start-rev") == ["Start Review", "Start Review Again"]


@pytest.mark.parametrize(
    ("word", "names"),
    [
        ("start", ("Start Review", "Start Review Again", "Done (fast)", "Done")),
        ("close", ("Start Review", "Start Review Again", "Done (fast)", "Done")),
        ("do", ("Done", "Done later", "Done (fast)")),
    ],
)
def test_every_suggested_command_names_exactly_one_transition(
    word: str, names: tuple[str, ...]
) -> None:
    listed = transitions(*names)
    issue = Issue("PROJ-1", "", "Task", Status("1", "To Do"), None, None, listed)
    wrong = transition(Command(1, ("PROJ-1",), word, ""), issue)
    assert wrong is not None and wrong[1].startswith("Use one of #")
    suggested = wrong[1].removeprefix("Use one of ").split(", ")
    for command in suggested:
        (found,) = parse(f"PROJ-1 {command}", keys_in)
        assert len(matching(found.word, listed)) == 1, (command, suggested)
    assert "#start-review" in suggested or word == "do"
    assert "#done-(fast)" not in suggested  # not written as one command: left out


def test_command_lines_git_strips_are_found() -> None:
    raw = "PROJ-1 Fix\n#time 1h\n# Please enter the commit message\n#\n"
    raw += "# ------------------------ >8 ------------------------\n#close\n"
    assert lost_lines(raw, "#") == ["#time 1h"]
    assert lost_lines(raw, None) == ["#time 1h"]  # core.commentChar=auto
    assert lost_lines(raw, ";") == []  # kept: then a command with no key before it
    assert lost_lines(raw, "") == []  # git commit -m: git strips nothing


# -- through the hooks -------------------------------------------------------------------------
def git_proc(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def message(repo: Repo) -> str:
    return repo.git("log", "-1", "--format=%B").strip()


@pytest.fixture
def feature(repo: Repo, run: Run) -> Repo:
    assert run(repo, "hooks", "install").code == 0
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    return repo


def commit(
    repo: Repo, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return git_proc(repo.path, "commit", "--allow-empty", *args, env=env)


def configure(repo: Repo, mode: str) -> None:
    (repo.path / ".jiraflow.toml").write_text(f'[check]\nsmart_commits = "{mode}"\n')


def test_the_key_goes_in_front_of_smart_commands(feature: Repo) -> None:
    proc = commit(feature, "-m", "#time 1h fixed")
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "PROJ-12 #time 1h fixed"
    assert "warning" not in proc.stderr
    # prepare-commit-msg itself puts it there (it runs even with --no-verify)
    proc = commit(feature, "--no-verify", "-m", "#comment Fixed #close")
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "PROJ-12 #comment Fixed #close"
    proc = commit(feature, "-m", "PROJ-7 #close")  # names a key: left alone
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "PROJ-7 #close"


def test_a_bad_command_warns_by_default_and_the_commit_goes_on(feature: Repo) -> None:
    proc = commit(feature, "-m", "Fix login #time soon")
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "PROJ-12 Fix login #time soon"
    assert "warning: commit message: #time soon has no duration, so Jira ignores it" in proc.stderr


def test_strict_refuses_the_commit_and_off_says_nothing(feature: Repo) -> None:
    configure(feature, "strict")
    head = feature.git("rev-parse", "HEAD")
    proc = commit(feature, "-m", "PROJ-12 Fix login #comment")
    assert proc.returncode == 1
    assert "#comment has no text" in proc.stdout + proc.stderr
    assert feature.git("rev-parse", "HEAD") == head
    configure(feature, "off")
    proc = commit(feature, "-m", "PROJ-12 Fix login #comment")
    assert proc.returncode == 0, proc.stderr
    assert "#comment" not in proc.stderr


def test_a_command_at_the_start_of_a_line_written_in_the_editor_is_lost(
    feature: Repo, tmp_path: Path
) -> None:
    editor = tmp_path / "editor"
    editor.write_text(
        '#!/bin/sh\n{ printf "PROJ-12 Fix login\\n#time 1h\\n"; cat "$1"; } > "$1.new"\n'
        'mv "$1.new" "$1"\n'
    )
    editor.chmod(0o755)
    proc = commit(feature, env={"GIT_EDITOR": str(editor)})
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "PROJ-12 Fix login"  # git did strip it
    assert "'#time 1h' starts with the comment character, so git removes it" in proc.stderr
    # with -m git keeps the line: then it is a command with no key before it
    proc = commit(feature, "-m", "PROJ-12 Fix login\n#time 1h")
    assert proc.returncode == 0, proc.stderr
    assert "#time 1h has no issue key before it on its line" in proc.stderr


# -- with Jira ---------------------------------------------------------------------------------
def check_message(run: Run, repo: Repo, text: str, *args: str) -> Result:
    path = repo.path / ".git" / "SMART_MSG"
    path.write_text(text)
    return run(repo, "check", "commit-msg", str(path), *args)


def warm(run: Run, repo: Repo, jira: JiraSandbox) -> None:
    """A first check asks the site's kind once per machine (serverInfo): done before counting."""
    assert check_message(run, repo, "PROJ-1 Warm up").code == 0
    jira.clear_requests()


def searches(jira: JiraSandbox) -> list[dict]:  # type: ignore[type-arg]
    """The bodies of the searches Jira answered, and nothing else was asked."""
    kinds = [(r.method, r.path.rsplit("/", 1)[-1]) for r in jira.requests]
    assert all(kind in (("POST", "jql"), ("POST", "search")) for kind in kinds), kinds
    return [json.loads(r.body) for r in jira.requests]


def test_transitions_are_checked_with_the_one_key_search(
    repo: Repo, run: Run, jira: JiraSandbox
) -> None:
    warm(run, repo, jira)
    result = check_message(run, repo, "PROJ-6 Dark mode #start #close Done\nPROJ-1 #request")
    assert result.code == 0, result.err
    (body,) = searches(jira)  # one request: the key check's search, with the transitions
    assert "transitions" in str(body.get("expand"))
    err = result.err
    assert (
        "#start names 2 transitions of PROJ-6 (In Review): Start work, Start rework; "
        "Jira carries out neither. Use one of #start-work, #start-rework" in err
    )
    assert "PROJ-1 (To Do) has no transition #request now, so Jira ignores it. " in err
    assert "Use one of #start-work, #close" in err
    assert "no problems" in result.out


def test_a_message_without_commands_asks_no_transitions_and_offline_asks_nothing(
    repo: Repo, run: Run, jira: JiraSandbox
) -> None:
    warm(run, repo, jira)
    assert check_message(run, repo, "PROJ-6 Dark mode, see issue #42").code == 0
    (body,) = searches(jira)
    assert "expand" not in body
    jira.clear_requests()
    result = check_message(run, repo, "PROJ-6 #start", "--offline")
    assert result.code == 0
    assert jira.requests == []
    assert "warning" not in result.err  # the transitions need Jira


def test_strict_fails_the_check_and_json_lists_warnings(
    repo: Repo, run: Run, jira: JiraSandbox
) -> None:
    result = check_message(run, repo, "PROJ-6 #start-work #time 1.5h", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["warnings"] == []
    result = check_message(run, repo, "PROJ-6 #start", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["ok"] is True and document["problems"] == []
    (warning,) = document["warnings"]
    assert warning["code"] == "smart-transition"
    assert warning["kind"] == "message" and warning["keys"] == ["PROJ-6"]
    assert warning["fix"] == "Use one of #start-work, #start-rework"
    configure(repo, "strict")
    result = check_message(run, repo, "PROJ-6 #start", "--json")
    assert result.code == 1
    document = json.loads(result.out)
    assert [p["code"] for p in document["problems"]] == ["smart-transition"]
    assert document["warnings"] == []


def test_check_range_and_pre_push_ask_one_search_with_transitions(
    repo: Repo, run: Run, jira: JiraSandbox
) -> None:
    configure(repo, "strict")
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "PROJ-1 Configure")
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    repo.commit("a.txt", "a\n", "PROJ-12 Add the form #close")
    repo.commit("b.txt", "b\n", "PROJ-6 Dark mode #start")
    repo.commit("c.txt", "c\n", "PROJ-3 Tidy #time 2h")
    warm(run, repo, jira)
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    (body,) = searches(jira)
    assert "transitions" in str(body.get("expand"))
    assert '"PROJ-6 Dark mode #start": #start names 2 transitions' in result.out
    assert "1 problem in 3 commits" in result.out
    assert run(repo, "hooks", "install").code == 0
    jira.clear_requests()
    proc = git_proc(repo.path, "push", "-q", "origin", FEATURE)
    assert proc.returncode == 1
    assert "#start names 2 transitions" in proc.stdout + proc.stderr
    assert len(searches(jira)) == 1


def test_an_unknown_mode_is_a_configuration_error(repo: Repo, run: Run) -> None:
    configure(repo, "loud")
    result = check_message(run, repo, "PROJ-1 #close")
    assert result.code == 3
    assert "'check.smart_commits' must be one of 'strict', 'warn', 'off', not 'loud'" in result.err
    assert 'e.g. smart_commits = "warn" under [check].' in result.err
    configure(repo, "strict")
    result = run(repo, "config", "set", "check.smart_commits", "loud")
    assert result.code == 3
    assert "hint: Set it to one of them, e.g. `jiraflow config set check.smart_commits warn`." in (
        result.err
    )


def test_transitions_of_a_range_are_judged_oldest_first(
    repo: Repo, run: Run, jira: JiraSandbox
) -> None:
    configure(repo, "strict")
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "PROJ-1 Configure")
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    repo.commit("a.txt", "a\n", "PROJ-1 Start #start-work")  # PROJ-1 is To Do
    repo.commit("b.txt", "b\n", "PROJ-1 Ready #request-review")  # In Progress by then
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 0, result.out + result.err
    assert "no problems" in result.out
    assert "#request-review on PROJ-1 cannot be checked before #start-work (earlier)" in (
        result.err
    )
    # a transition Jira ignores leaves the status as it is: the next one is judged
    repo.commit("c.txt", "c\n", "PROJ-2 #request-review")  # To Do: ignored
    repo.commit("d.txt", "d\n", "PROJ-2 #start-work")
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    assert "PROJ-2 (To Do) has no transition #request-review now" in result.out
    assert "1 problem in 4 commits" in result.out


@pytest.mark.parametrize("commits", ["any", "off"])
def test_smart_commits_are_checked_whatever_check_commits_says(
    repo: Repo, run: Run, jira: JiraSandbox, commits: str
) -> None:
    text = f'[check]\nsmart_commits = "strict"\ncommits = "{commits}"\n'
    (repo.path / ".jiraflow.toml").write_text(text)
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "PROJ-1 Configure")
    # the commit-msg check: the message need not name an issue, its commands are checked
    result = check_message(run, repo, "Fix login #time 1h")
    assert result.code == 1
    assert "#time 1h has no issue key before it on its line" in result.out
    result = check_message(run, repo, "PROJ-6 Dark mode #start")
    assert result.code == 1
    assert "#start names 2 transitions of PROJ-6 (In Review)" in result.out
    assert check_message(run, repo, "Tidy up").code == 0
    # check range and the pre-push hook refuse the same
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    repo.commit("a.txt", "a\n", "Tidy up")
    repo.commit("b.txt", "b\n", "PROJ-6 Dark mode #start")
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    assert '"PROJ-6 Dark mode #start": #start names 2 transitions' in result.out
    assert run(repo, "hooks", "install").code == 0
    jira.clear_requests()
    proc = git_proc(repo.path, "push", "-q", "origin", FEATURE)
    assert proc.returncode == 1
    assert "#start names 2 transitions" in proc.stdout + proc.stderr
    assert len(searches(jira)) == 1  # one search, with the transitions
