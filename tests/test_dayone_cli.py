"""What a new user types on day one: `jiraflow finish` of whatever branch they are on, global
options after the command, usage errors in the shape of every other error, and `check range`
of the current branch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitutil import Repo
from hintutil import hinted


def short(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert "Traceback" not in err and 1 <= len(lines) <= 2, err
    return lines


# -- jiraflow finish ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["feature", "bugfix"])
def test_finish_without_a_type_finishes_the_current_work_branch(
    repo: Repo, run: Any, kind: str
) -> None:
    assert run(repo, kind, "start", "login").code == 0
    repo.commit("login.txt", "x\n", "add login")
    result = run(repo, "finish")
    assert result.code == 0, result.err
    assert f"merged '{kind}/login' into 'develop'" in result.out
    assert repo.branch() == "develop" and not repo.exists(f"refs/heads/{kind}/login")
    assert (repo.path / "login.txt").exists()


def test_finish_takes_the_options_of_the_types_finish(repo: Repo, run: Any) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    repo.commit("login.txt", "x\n", "add login")
    result = run(repo, "finish", "--no-ff", "--keep")
    assert result.code == 0, result.err
    assert repo.exists("refs/heads/feature/login")  # --keep
    parents = repo.git("rev-list", "--parents", "-n", "1", "develop").split()
    assert len(parents) == 3  # --no-ff: a merge commit


def test_finish_names_a_branch_of_any_type(repo: Repo, run: Any) -> None:
    assert run(repo, "bugfix", "start", "crash").code == 0
    repo.commit("crash.txt", "x\n", "fix crash")
    repo.git("checkout", "-q", "develop")
    assert run(repo, "finish", "crash").code == 0
    assert (repo.path / "crash.txt").exists() and not repo.exists("refs/heads/bugfix/crash")


def test_finish_of_a_release_merges_it_into_main_and_tags_it(repo: Repo, run: Any) -> None:
    assert run(repo, "release", "start", "1.0.0").code == 0
    result = run(repo, "finish", "-m", "Release 1.0.0")
    assert result.code == 0, result.err
    assert repo.exists("refs/tags/1.0.0") and repo.branch() == "develop"


def test_finish_with_an_option_of_another_type_says_which_do_apply(repo: Repo, run: Any) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    before = repo.snapshot()
    result = run(repo, "finish", "--no-tag")
    assert result.code == 2
    assert short(result.err)[0] == "error: --no-tag does not apply to a feature finish"
    assert hinted(result.err) == ["jiraflow feature finish --help"]
    assert repo.snapshot() == before


def test_finish_on_develop_is_refused_with_a_command_that_works(repo: Repo, run: Any) -> None:
    result = run(repo, "finish")
    assert result.code == 2
    lines = short(result.err)
    assert "the current branch 'develop' is no feature, bugfix, release or hotfix" in lines[0]
    assert hinted(result.err) == ["jiraflow feature start NAME"]
    assert run(repo, "feature", "start", "login").code == 0
    repo.git("checkout", "-q", "develop")
    result = run(repo, "finish")
    assert result.code == 2
    (hint,) = hinted(result.err)
    assert hint == "jiraflow finish feature/login"
    assert run(repo, *hint.split()[1:]).code == 0


def test_finish_of_a_name_matching_several_types_asks_for_one(repo: Repo, run: Any) -> None:
    assert run(repo, "feature", "start", "x").code == 0
    assert run(repo, "bugfix", "start", "x", "develop").code == 0
    result = run(repo, "finish", "x")
    assert result.code == 2
    assert "'x' matches several branches: feature/x, bugfix/x" in result.err
    assert hinted(result.err) == ["jiraflow finish feature/x"]


def test_finish_continue_resumes_the_finish_that_stopped(repo: Repo, run: Any) -> None:
    from hintutil import conflicting_feature, resolve

    conflicting_feature(repo, run)
    result = run(repo, "finish")
    assert result.code == 5
    resolve(repo)
    result = run(repo, "finish", "--continue")
    assert result.code == 0, result.err
    assert not repo.exists("refs/heads/feature/clash")
    result = run(repo, "finish", "--abort")
    assert result.code == 2 and "there is no finish to abort" in result.err


# -- global options after the command ----------------------------------------------------------
def test_dry_run_after_the_command_changes_nothing(repo: Repo, run: Any) -> None:
    before = repo.snapshot()
    result = run(repo, "feature", "start", "--dry-run", "login")
    assert result.code == 0, result.err
    assert "Would run:" in result.out
    assert repo.snapshot() == before


def test_json_after_the_command(repo: Repo, run: Any) -> None:
    result = run(repo, "status", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["branch"] == "develop"


def test_debug_verbose_and_c_after_the_command(repo: Repo, run: Any, tmp_path: Any) -> None:
    assert run(repo, "feature", "start", "login").code == 0
    result = run(tmp_path, "feature", "finish", "--verbose", "--debug", "-C", str(repo.path))
    assert result.code == 0, result.err
    assert "+ git merge" in result.err  # --verbose: each git command
    assert repo.branch() == "develop"


def test_a_global_option_after_double_dash_is_an_argument(repo: Repo, run: Any) -> None:
    result = run(repo, "check", "branch", "--offline", "--", "--json")
    assert result.code == 1
    assert "--json: 1 problem in branch name." in result.out  # text: no JSON document


def test_the_commands_own_option_is_not_taken_for_a_global_one() -> None:
    from jiraflow.cli import globals_first

    # -m takes a value: "--json" is the tag message, not the global option
    args = ["release", "finish", "-m", "--json", "--dry-run"]
    assert globals_first(args) == ["--dry-run", "release", "finish", "-m", "--json"]
    assert globals_first(["status", "--", "--json"]) == ["status", "--", "--json"]
    hook = ["hooks", "run", "commit-msg", "--json"]  # the hooks' runner passes all through
    assert globals_first(hook) == hook
    assert globals_first(["--json", "status"]) == ["--json", "status"]


# -- usage errors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "error", "hint"),
    [
        (
            ("feature", "start", "--bogus", "x"),
            "error: no such option '--bogus'",
            "hint: Did you mean '--base'? See `jiraflow feature start --help`.",
        ),
        (
            ("feature", "start"),
            "error: missing argument 'NAME'",
            "hint: See `jiraflow feature start --help`.",
        ),
        (
            ("fetaure", "list"),
            "error: no such command 'fetaure'",
            "hint: Did you mean 'feature'? See `jiraflow --help`.",
        ),
        (
            ("pr", "list", "--state", "x"),
            "error: invalid value for '--state': 'x' is not one of 'open', 'merged', "
            "'declined', 'all'",
            "hint: See `jiraflow pr list --help`.",
        ),
    ],
)
def test_a_usage_error_is_an_error_and_a_hint(
    repo: Repo, run: Any, args: tuple[str, ...], error: str, hint: str
) -> None:
    result = run(repo, *args)
    assert result.code == 2
    assert short(result.err) == [error, hint]
    assert result.out == ""
    result = run(repo, "--json", *args)
    assert result.code == 2
    doc = json.loads(result.out)
    assert doc["ok"] is False and doc["exit_code"] == 2
    assert (doc["error"], doc["hint"]) == (error[len("error: ") :], hint[len("hint: ") :])


def test_every_usage_hint_works(repo: Repo, run: Any) -> None:
    result = run(repo, "feature", "finish", "--continue", "--abort")
    assert result.code == 2
    (hint,) = hinted(result.err)
    assert run(repo, *hint.split()[1:]).code == 0


# -- check range of the current branch ---------------------------------------------------------
def test_check_range_without_a_range_checks_the_branch_against_its_base(
    repo: Repo, run: Any
) -> None:
    repo.commit("old.txt", "x\n", "an old commit on develop, no key")
    assert run(repo, "feature", "start", "PROJ-1-login").code == 0
    repo.commit("a.txt", "x\n", "PROJ-1 add login")
    repo.commit("b.txt", "x\n", "no key here")
    result = run(repo, "--json", "check", "range", "--offline")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["target"] == "develop..HEAD" and doc["checked"]["commits"] == 2
    assert [p["name"].split(" ", 1)[1] for p in doc["problems"]] == ['"no key here"']


def test_check_range_of_a_release_is_against_main(repo: Repo, run: Any) -> None:
    assert run(repo, "release", "start", "1.0.0").code == 0
    result = run(repo, "--json", "check", "range", "--offline")
    assert json.loads(result.out)["target"] == "main..HEAD"


def test_check_range_uses_the_remote_base_when_there_is_no_local_one(repo: Repo, run: Any) -> None:
    assert run(repo, "feature", "start", "PROJ-1-login").code == 0
    repo.git("branch", "-D", "develop")
    result = run(repo, "--json", "check", "range", "--offline")
    assert json.loads(result.out)["target"] == "origin/develop..HEAD"


def test_check_range_on_develop_asks_for_a_range_that_works(repo: Repo, run: Any) -> None:
    result = run(repo, "check", "range")
    assert result.code == 2
    assert "'develop' is a long-lived branch" in short(result.err)[0]
    (hint,) = hinted(result.err)
    assert run(repo, *hint.split()[1:]).code == 0
