"""Starting an issue someone else has never takes it over silently: on a terminal `start`
asks (No by default; Yes with jira.assign = "always"), in a script it leaves the assignee
and says so, and --assign takes it over. The sandbox Jira (Cloud and Data Center) over real
HTTP; PROJ-12 is bob's Bug."""

from __future__ import annotations

import io
import json
import sys

import pytest

from gitutil import Repo
from jiraflow.sandbox.jira import JiraSandbox

pytestmark = pytest.mark.usefixtures("jira")

LEFT = "PROJ-12 (Bug) is assigned to Bob Builder; left as it is (--assign takes it over)"
ASKED = "PROJ-12 (Bug) is assigned to Bob Builder. Take it over? [y/N]"
ASKED_YES = "PROJ-12 (Bug) is assigned to Bob Builder. Take it over? [Y/n]"


def assign_mode(repo: Repo, mode: str) -> None:
    (repo.path / ".jiraflow.toml").write_text(f'[jira]\nassign = "{mode}"\n')


def fake_terminal(monkeypatch: pytest.MonkeyPatch, answers: str) -> None:
    stdin = io.StringIO(answers)
    stdin.isatty = lambda: True  # type: ignore[method-assign]  # a TTY cannot be made real here
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)


def assigned_puts(jira: JiraSandbox) -> int:
    return jira.count(method="PUT", path_contains="/assignee")


@pytest.mark.parametrize("mode", ["unassigned", "always"])
def test_a_script_leaves_the_assignee_and_says_so(
    repo: Repo, run, jira: JiraSandbox, mode: str
) -> None:
    assign_mode(repo, mode)
    result = run(repo, "start", "PROJ-12")
    assert result.code == 0, result.err
    assert repo.branch() == "bugfix/PROJ-12-fix-typo-in-footer"
    assert jira.issue("PROJ-12")["assignee"] == "bob"
    assert assigned_puts(jira) == 0
    assert LEFT in result.err and LEFT not in result.out
    assert "assigned to you" not in result.out
    assert jira.issue("PROJ-12")["status"] == "In Progress"  # the move still happens


@pytest.mark.parametrize("command", [["start"], ["bugfix", "start"], ["feature", "start"]])
def test_assign_takes_it_over_without_asking(
    repo: Repo, run, jira: JiraSandbox, command: list[str], monkeypatch
) -> None:
    fake_terminal(monkeypatch, "")  # nothing to answer: --assign does not ask
    result = run(repo, *command, "--assign", "PROJ-12")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-12")["assignee"] == "alice"
    assert assigned_puts(jira) == 1
    assert "PROJ-12 is assigned to you" in result.out
    assert "Take it over" not in result.err and "left as it is" not in result.err


@pytest.mark.parametrize(("mode", "answer"), [("unassigned", "y\n"), ("always", "\n")])
def test_a_terminal_asks_and_yes_takes_it_over(
    repo: Repo, run, jira: JiraSandbox, monkeypatch, mode: str, answer: str
) -> None:
    assign_mode(repo, mode)
    fake_terminal(monkeypatch, answer)  # Enter is Yes only where jira.assign = "always"
    result = run(repo, "start", "PROJ-12")
    assert result.code == 0, result.err
    assert (ASKED_YES if mode == "always" else ASKED) in result.err  # a prompt: stderr
    assert jira.issue("PROJ-12")["assignee"] == "alice"
    assert "PROJ-12 is assigned to you" in result.out


@pytest.mark.parametrize(
    ("mode", "answer"), [("unassigned", "n\n"), ("unassigned", "\n"), ("always", "n\n")]
)
def test_a_terminal_asks_and_no_leaves_it(
    repo: Repo, run, jira: JiraSandbox, monkeypatch, mode: str, answer: str
) -> None:
    assign_mode(repo, mode)
    fake_terminal(monkeypatch, answer)
    result = run(repo, "start", "PROJ-12")
    assert result.code == 0, result.err
    assert (ASKED_YES if mode == "always" else ASKED) in result.err
    assert jira.issue("PROJ-12")["assignee"] == "bob"
    assert assigned_puts(jira) == 0
    assert repo.branch() == "bugfix/PROJ-12-fix-typo-in-footer"


def test_an_unassigned_issue_is_assigned_as_before(repo: Repo, run, jira: JiraSandbox) -> None:
    result = run(repo, "start", "PROJ-2")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-2")["assignee"] == "alice"
    assert "is assigned to" not in result.err


def test_never_stays_never(repo: Repo, run, jira: JiraSandbox) -> None:
    assign_mode(repo, "never")
    result = run(repo, "start", "PROJ-12")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-12")["assignee"] == "bob"
    assert "assigned" not in result.err and assigned_puts(jira) == 0


@pytest.mark.parametrize("mode", ["unassigned", "always"])
def test_a_dry_run_on_a_terminal_says_it_would_ask(
    repo: Repo, run, jira: JiraSandbox, monkeypatch, mode: str
) -> None:
    assign_mode(repo, mode)
    fake_terminal(monkeypatch, "y\n")
    result = run(repo, "--dry-run", "start", "PROJ-12")
    assert result.code == 0, result.err
    assert "Take it over?" not in result.err
    assert "PROJ-12 (Bug) is assigned to Bob Builder; start would ask" in result.err
    assert "jira: assign" not in result.out
    assert assigned_puts(jira) == 0 and repo.branch() == "develop"
    dry = run(repo, "--dry-run", "start", "--assign", "PROJ-12")
    assert "jira: assign PROJ-12 to you" in dry.out


def test_json_says_whether_it_was_assigned(repo: Repo, run, jira: JiraSandbox) -> None:
    left = run(repo, "--json", "start", "PROJ-12")
    assert left.code == 0, left.err
    assert json.loads(left.out)["assigned"] is False
    assert LEFT in left.err
    repo.git("checkout", "-q", "develop")
    taken = run(repo, "--json", "feature", "start", "--assign", "PROJ-1")
    assert json.loads(taken.out)["assigned"] is True
    repo.git("checkout", "-q", "develop")
    taken = run(repo, "--json", "start", "--assign", "PROJ-3")
    assert json.loads(taken.out)["assigned"] is True
    assert jira.issue("PROJ-3")["assignee"] == "alice"


def test_assign_and_no_jira_cannot_be_used_together(repo: Repo, run) -> None:
    result = run(repo, "feature", "start", "--no-jira", "--assign", "x")
    assert result.code == 2
    assert "error: --assign and --no-jira cannot be used together" in result.err
