"""The [check] rules (jiraflow.checks.rules) pinned where the mutation run of issue 17 found
them unguarded: exempt globs, exempt and jiraflow's own messages, the texts of the branch-model
and message problems, and how a commit message file is read (comment characters, the scissors
line, whitespace). Through `jiraflow check` where that is natural, else the rule itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitutil import Repo
from jiraflow import config
from jiraflow.checks import rules as checks
from jiraflow.sandbox.jira import JiraSandbox

SCISSORS = "# " + "-" * 24 + " >8 " + "-" * 24


def configure(repo: Repo, text: str) -> None:
    (repo.path / ".jiraflow.toml").write_text(text)


def message_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(text)
    return str(path)


def check_message(run, repo: Repo, tmp_path: Path, text: str, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = run(repo, "--json", "check", "commit-msg", *args, message_file(tmp_path, text))
    data: dict = json.loads(result.out)  # type: ignore[type-arg]
    assert result.code == (1 if data["problems"] else 0), result.out + result.err
    return data


# -- exemptions ----------------------------------------------------------------------------
def test_exempt_globs_ignore_case(repo: Repo, run) -> None:
    configure(repo, '[check]\nexempt_branches = ["Renovate/*"]\nexempt_authors = ["Dependabot*"]\n')
    result = run(repo, "check", "branch", "renovate/deps-requests")
    assert result.code == 0, result.out
    assert "note: branch renovate/deps-requests is exempt (check.exempt_branches)" in result.err
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.git("commit", "-q", "--allow-empty", "--author", "dependabot <d@x.org>", "-m", "Bump")
    data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
    assert [s["why"] for s in data["skipped"]] == ["exempt author"]


def test_skipped_commits_in_json(repo: Repo, run) -> None:
    configure(repo, '[check]\nexempt_messages = ["^WIP"]\n')
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    sha = repo.commit(message="WIP half done")
    data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
    assert data["skipped"] == [{"commit": sha, "subject": "WIP half done", "why": "exempt message"}]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Merge branch 'develop' into feature/x\n", "merge"),
        ("Release notes for 1.2.0\n\nThe notes of\nall the issues.\n", "made by jiraflow"),
        ("Bump version to 1.2.0\n", "made by jiraflow"),
        ("[skip-jira] tidy up\n", "exempt message"),
    ],
)
def test_messages_that_are_not_checked_say_why(
    repo: Repo, run, tmp_path: Path, text: str, why: str
) -> None:
    configure(repo, '[check]\nexempt_messages = ["^\\\\[skip-jira\\\\]"]\n')
    data = check_message(run, repo, tmp_path, text)
    assert data["notes"] == [f"not checked: {why}"]
    assert data["checked"]["items"] == 0


def test_only_the_subject_makes_a_message_jiraflows_own(repo: Repo, run, tmp_path: Path) -> None:
    text = "Fix the login\n\nRelease notes for 1.2.0\nmore\n"
    data = check_message(run, repo, tmp_path, text)
    assert [p["code"] for p in data["problems"]] == ["no-key"] and data["notes"] == []


# -- branch names --------------------------------------------------------------------------
def test_a_branch_outside_the_model(repo: Repo, run) -> None:
    result = run(repo, "--json", "check", "branch", "wip")
    assert result.code == 1
    assert json.loads(result.out)["problems"] == [
        {
            "code": "branch-model",
            "kind": "branch",
            "commit": None,
            "name": "branch wip",
            "keys": [],
            "message": "does not follow the branch model",
            "fix": "Name it main, develop or start it with one of feature/, bugfix/, release/, "
            "hotfix/, support/ (or add it to check.exempt_branches)",
        }
    ]


def test_the_branch_model_item_has_no_text_and_no_fix() -> None:
    rules = checks.Rules.from_config(config.load(user_path=None, repo_root=None))
    report = checks.Report("branch", "wip")
    assert checks.branch_items(rules, "wip", report) == []
    assert report.items == [checks.Item("branch", "branch wip", "", "")]


def test_a_wrong_key_in_a_branch_is_fixed_by_renaming(repo: Repo, run, jira: JiraSandbox) -> None:
    result = run(repo, "check", "branch", "feature/PROJ-404-login")
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        "✗ branch feature/PROJ-404-login: PROJ-404 is not an issue in Jira. Check the key for "
        "a typo and change it: git branch -m feature/PROJ-404-login <new name>"
    )


# -- commit messages: what is asked for ----------------------------------------------------
def test_the_fix_of_a_message_without_key(repo: Repo, run, tmp_path: Path) -> None:
    data = check_message(run, repo, tmp_path, "Xcode build fix\n\nThe long\nstory.\n")
    assert data["problems"][0]["fix"] == "Name the issue in it, e.g. PROJ-12 Xcode build fix"
    repo.git("checkout", "-q", "-b", "feature/PROJ-7-xcode", "develop")
    data = check_message(run, repo, tmp_path, "  Xcode build fix  \n\nThe long\nstory.\n")
    assert data["problems"][0]["fix"] == (
        "Start it with PROJ-7 (the branch's key), e.g. PROJ-7 Xcode build fix; "
        "`jiraflow hooks install` has it added for you"
    )


def test_add_key_leaves_a_message_that_names_a_key(repo: Repo, run, tmp_path: Path) -> None:
    repo.git("checkout", "-q", "-b", "feature/PROJ-7-login", "develop")
    path = message_file(tmp_path, "OPS-3 Fix the login\n")
    result = run(repo, "check", "commit-msg", "--add-key", path)
    assert result.code == 0, result.out
    assert "added" not in result.err
    assert Path(path).read_text() == "OPS-3 Fix the login\n"


def test_add_key_ignores_the_diff_below_the_scissors(repo: Repo, run, tmp_path: Path) -> None:
    repo.git("checkout", "-q", "-b", "feature/PROJ-7-login", "develop")
    path = message_file(tmp_path, f"Fix the login\n{SCISSORS}\n+see OPS-2\n")
    result = run(repo, "check", "commit-msg", "--add-key", path)
    assert result.code == 0, result.out
    assert Path(path).read_text().startswith("PROJ-7 Fix the login\n")


# -- commit messages: how the file is read -------------------------------------------------
def test_without_an_editor_no_line_is_a_comment(
    repo: Repo, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_EDITOR", ":")  # `git commit -m`: git keeps '#' lines
    data = check_message(run, repo, tmp_path, "#12 Fix the login\n")
    assert data["problems"][0]["fix"] == "Name the issue in it, e.g. PROJ-12 #12 Fix the login"
    # nor is there a scissors line: what follows it is committed
    assert check_message(run, repo, tmp_path, f"Fix it\n{SCISSORS}\nPROJ-1\n")["ok"]


def test_comment_char_auto(repo: Repo, run, tmp_path: Path) -> None:
    repo.git("config", "core.commentChar", "auto")
    assert not check_message(run, repo, tmp_path, "Fix the login\n# PROJ-1 comment\n")["ok"]
    assert check_message(run, repo, tmp_path, "PROJ-1 Fix the login\n; comment\n")["ok"]


@pytest.mark.parametrize("tail", [" ", "X"])
def test_a_near_scissors_line_cuts_nothing(repo: Repo, run, tmp_path: Path, tail: str) -> None:
    assert check_message(run, repo, tmp_path, f"Fix it\n{SCISSORS}{tail}\nPROJ-1 below\n")["ok"]


def test_a_body_key_counts_and_whitespace_is_gits(repo: Repo, run, tmp_path: Path) -> None:
    assert check_message(run, repo, tmp_path, "Fix it\n\nPROJ-1 in the body\n")["ok"]
    configure(repo, '[check]\nexempt_messages = ["^WIP$"]\n')
    # git strips trailing whitespace of each line, and keeps a line's leading spaces
    assert check_message(run, repo, tmp_path, "WIP   \n\n")["notes"] == [
        "not checked: exempt message"
    ]
    assert not check_message(run, repo, tmp_path, "  WIP\n")["ok"]


def test_message_text_strips_hash_comments_by_default() -> None:
    assert checks.message_text("Fix it\n# PROJ-1 comment\n") == "Fix it"
