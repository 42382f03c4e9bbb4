"""The [[environments]] chain: its configuration and validation, `config show|get`, `where`
along the chain, and `init --environments` creating the branches. Real repositories with a
bare origin (tests/conftest.py)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from gitutil import Repo, Result, git

CHAIN = """
[[environments]]
name = "qa"
branch = "qa"
jira = "In QA"

[[environments]]
name = "staging"
branch = "staging"
jira = "Ready for Release"
via_pr = true

[[environments]]
name = "production"
branch = "main"
jira = "category:done"
deployment = "Production"
"""


def team_file(repo: Repo, text: str) -> None:
    """Appends `text` to the repository's .jiraflow.toml (init wrote its [gitflow])."""
    path = repo.path / ".jiraflow.toml"
    path.write_text(path.read_text() + text)


def error_of(result: Result, repo: Repo | None = None) -> list[str]:
    """The error and hint lines (the repository's folder left out of file names)."""
    err = result.err.replace(f"{repo.path}/", "") if repo is not None else result.err
    return [line for line in err.splitlines() if line.startswith(("error:", "hint:"))]


# -- the model -------------------------------------------------------------------------------------
def test_the_chain_is_read_in_promotion_order(repo: Repo, run) -> None:
    team_file(repo, CHAIN)
    result = run(repo, "--json", "config", "get", "environments")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "key": "environments",
        "value": [
            {"name": "qa", "branch": "qa", "jira": "In QA", "via_pr": False, "deployment": ""},
            {
                "name": "staging",
                "branch": "staging",
                "jira": "Ready for Release",
                "via_pr": True,
                "deployment": "",
            },
            {
                "name": "production",
                "branch": "main",
                "jira": "category:done",
                "via_pr": False,
                "deployment": "Production",
            },
        ],
        "source": ".jiraflow.toml",
    }


def test_the_model_is_read_only_and_compares_by_value() -> None:
    from jiraflow.config import Environment

    env = Environment("qa", "qa", jira="In QA")
    assert env == Environment("qa", "qa", "In QA", False, "")
    assert env != Environment("qa", "qa")
    assert len({env, Environment("qa", "qa", jira="In QA")}) == 1
    with pytest.raises(AttributeError):
        env.name = "uat"  # type: ignore[misc]


def test_the_user_file_chain_is_replaced_whole_by_the_team_file(
    repo: Repo, run, tmp_path, monkeypatch
) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[[environments]]\nname = "uat"\nbranch = "uat"\n')
    monkeypatch.setenv("JIRAFLOW_CONFIG", str(user))
    assert run(repo, "config", "get", "environments").out.startswith(
        '[[environments]]\nname = "uat"'
    )
    team_file(repo, '[[environments]]\nname = "qa"\nbranch = "qa"\n')
    result = run(repo, "--json", "config", "get", "environments")
    assert [e["name"] for e in json.loads(result.out)["value"]] == ["qa"]


# -- validation: one line, exit 3 ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            'environments = "qa"\n',
            "error: .jiraflow.toml: 'environments' must be a list of tables ([[environments]]), "
            "not 'qa'",
        ),
        (
            '[[environments]]\nname = "qa"\nbranch = "qa"\nstatus = "In QA"\n',
            "error: .jiraflow.toml: environments[0]: unknown key 'status'",
        ),
        (
            '[[environments]]\nname = "qa"\nbranch = "qa"\nvia_pr = "yes"\n',
            "error: .jiraflow.toml: environments[0].via_pr must be true or false, not 'yes'",
        ),
        (
            '[[environments]]\nname = "qa"\nbranch = 7\n',
            "error: .jiraflow.toml: environments[0].branch must be a string, not 7",
        ),
        (
            '[[environments]]\nname = " "\nbranch = "qa"\n',
            "error: .jiraflow.toml: environments[0] has no name",
        ),
        ('[[environments]]\nname = "qa"\n', "error: .jiraflow.toml: environments[0] has no branch"),
        (
            '[[environments]]\nname = "qa"\nbranch = "qa"\n'
            '[[environments]]\nname = "qa"\nbranch = "uat"\n',
            "error: .jiraflow.toml: environments[1]: the environment name 'qa' is given twice",
        ),
        (
            '[[environments]]\nname = "qa"\nbranch = "qa"\n'
            '[[environments]]\nname = "uat"\nbranch = "qa"\n',
            "error: .jiraflow.toml: environments[1]: the branch 'qa' is given twice",
        ),
        (
            '[[environments]]\nname = "qa"\nbranch = "qa"\njira = "category:finished"\n',
            "error: .jiraflow.toml: environments[0].jira: 'category:finished' is not a status "
            "category",
        ),
        (
            '[[environments]]\nname = "production"\nbranch = "main"\n'
            '[[environments]]\nname = "qa"\nbranch = "qa"\n',
            "error: .jiraflow.toml: environment 'production' uses the main branch 'main' but is "
            "not the last environment",
        ),
        (
            '[[environments]]\nname = "dev"\nbranch = "develop"\n',
            "error: .jiraflow.toml: environment 'dev' uses the develop branch 'develop'",
        ),
    ],
)
def test_a_wrong_chain_is_one_error_with_a_hint(repo: Repo, run, text: str, error: str) -> None:
    path = repo.path / ".jiraflow.toml"
    path.write_text(text + "\n" + path.read_text())  # top-level: before init's [gitflow]
    result = run(repo, "config", "show")
    assert result.code == 3
    lines = error_of(result, repo)
    assert lines[0] == error
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:])


def test_the_jira_on_statuses_follow_the_same_rule(repo: Repo, run) -> None:
    team_file(repo, '\n[jira.on]\nfinish = "category:closed"\n')
    result = run(repo, "config", "show")
    assert result.code == 3
    assert error_of(result, repo) == [
        "error: .jiraflow.toml: jira.on.finish: 'category:closed' is not a status category",
        "hint: Use category:new, category:indeterminate or category:done, or a status name.",
    ]


def test_the_chain_cannot_come_from_the_environment(repo: Repo, run, monkeypatch) -> None:
    monkeypatch.setenv("JIRAFLOW_ENVIRONMENTS", "qa,staging")
    result = run(repo, "config", "show")
    assert result.code == 3
    assert error_of(result)[0] == (
        "error: environment JIRAFLOW_ENVIRONMENTS: 'environments' can only be set in a config file"
    )


def test_config_set_of_the_chain_is_a_usage_error(repo: Repo, run) -> None:
    before = (repo.path / ".jiraflow.toml").read_text()
    result = run(repo, "config", "set", "environments", "qa")
    assert result.code == 2
    assert error_of(result) == [
        "error: 'environments' is a list of tables ([[environments]]): `config set` cannot "
        "write it",
        "hint: Add [[environments]] tables to .jiraflow.toml (see docs/environments.md); "
        "`jiraflow config get environments` shows them.",
    ]
    assert (repo.path / ".jiraflow.toml").read_text() == before


# -- config show | get -----------------------------------------------------------------------------
def test_config_show_gives_the_chain_on_one_line_and_names_the_missing_branches(
    repo: Repo, run
) -> None:
    team_file(repo, CHAIN)
    repo.git("push", "-q", "origin", "main:refs/heads/staging")  # on the remote only
    result = run(repo, "config", "show")
    assert result.code == 0, result.err
    [row] = [line for line in result.out.splitlines() if line.startswith("environments ")]
    assert row.split(None, 1)[1] == "qa -> staging -> production (main)  (.jiraflow.toml)"
    assert result.err.splitlines() == [
        "warning: environment 'qa': the branch 'qa' does not exist yet; it will be created by "
        "`jiraflow init --environments`"
    ]
    shown = json.loads(run(repo, "--json", "config", "show").out)
    assert shown["environments"]["value"][2]["deployment"] == "Production"
    assert shown["environments"]["source"] == ".jiraflow.toml"


def test_config_get_prints_the_chain_as_the_file_has_it(repo: Repo, run) -> None:
    assert run(repo, "config", "get", "environments").out == "[]\n"
    team_file(repo, CHAIN)
    out = run(repo, "config", "get", "environments").out
    assert out.startswith('[[environments]]\nname = "qa"\nbranch = "qa"\njira = "In QA"\n\n')
    assert "via_pr = true\n" in out and "via_pr = false" not in out
    assert [e["name"] for e in tomllib.loads(out)["environments"]] == [
        "qa",
        "staging",
        "production",
    ]


def test_the_chain_wins_over_the_old_key_and_config_says_so(repo: Repo, run) -> None:
    team_file(repo, '\n[where]\nenvironments = ["uat"]\n' + CHAIN)
    result = run(repo, "config", "get", "where.environments")
    assert result.out == '["uat"]\n'
    assert result.err.splitlines()[0] == (
        "warning: where.environments (.jiraflow.toml) is not used: [[environments]] "
        "(.jiraflow.toml) sets the environment branches"
    )
    info = where(run, repo, "PROJ-1")
    assert "uat" not in [b["name"] for b in info["branches"]]


# -- where -----------------------------------------------------------------------------------------
def where(run, repo: Repo, *args: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = run(repo, "--json", "where", "--offline", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def environments(info: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (b["environment"], b["name"], b["state"])
        for b in info["branches"]
        if b["role"] == "environment"
    ]


def test_where_follows_the_chain_in_promotion_order(repo: Repo, run) -> None:
    team_file(repo, CHAIN.replace('"qa"', '"test"', 1))  # the qa environment's name is test
    repo.git("checkout", "-q", "develop")
    repo.commit("a.txt", message="PROJ-1 first part")
    repo.git("branch", "staging")
    repo.commit("b.txt", message="PROJ-1 second part")
    repo.git("branch", "qa")
    info = where(run, repo, "PROJ-1")
    assert environments(info) == [
        ("test", "qa", "all"),
        ("staging", "staging", "some"),
        ("production", "main", "none"),
    ]
    assert info["verdict"] == "on develop, not in a release yet; all of it on test (qa)"
    result = run(repo, "where", "--offline", "PROJ-1")
    labelled = [line for line in result.out.splitlines()[2:] if line[2:3] not in ("", " ")]
    rows = dict(line.strip().split("  ", 1) for line in labelled)
    assert list(rows)[:6] == [
        "develop",
        "origin/develop",  # not pushed: it differs
        "main",
        "test (qa)",
        "staging",
        "production (main)",
    ]
    assert rows["test (qa)"].strip() == "yes (all 2 commits)"
    assert rows["production (main)"].strip() == rows["main"].strip() == "no"


def test_where_reads_the_old_key_without_a_chain(repo: Repo, run) -> None:
    team_file(repo, '\n[where]\nenvironments = ["uat", "qa"]\n')
    repo.git("checkout", "-q", "develop")
    repo.commit("a.txt", message="PROJ-1 change")
    repo.git("branch", "qa")
    info = where(run, repo, "PROJ-1")
    assert environments(info) == [("uat", "uat", "missing"), ("qa", "qa", "all")]
    assert info["verdict"].endswith("; all of it on qa")


# -- init --environments ---------------------------------------------------------------------------
def test_init_environments_creates_the_missing_branches_from_main(repo: Repo, run) -> None:
    team_file(repo, CHAIN)
    repo.git("push", "-q", "origin", "main:refs/heads/staging")
    repo.git("checkout", "-q", "develop")
    repo.commit("a.txt", message="on develop")  # main is behind develop
    result = run(repo, "init")
    assert result.code == 0, result.err
    assert "environment branches missing: qa (`jiraflow init --environments` creates them)" in (
        result.out + result.err
    )
    assert repo.git("branch", "--list", "qa") == ""
    dry = run(repo, "--dry-run", "init", "--environments")
    assert "git branch --quiet --no-track qa main" in dry.out
    assert repo.git("branch", "--list", "qa") == ""
    result = run(repo, "init", "--environments")
    assert result.code == 0, result.err
    assert repo.git("rev-parse", "qa") == repo.git("rev-parse", "main")
    assert repo.git("rev-parse", "--abbrev-ref", "staging@{upstream}") == "origin/staging"
    assert repo.branch() == "develop"
    assert run(repo, "config", "show").err == ""  # every branch exists now
    before = repo.snapshot()
    assert run(repo, "init", "--environments").code == 0
    assert repo.snapshot() == before


def test_init_environments_refuses_a_branch_git_cannot_name(repo: Repo, run) -> None:
    team_file(repo, '\n[[environments]]\nname = "qa"\nbranch = "q a"\n')
    assert run(repo, "config", "show").err == (
        "warning: environment 'qa': 'q a' cannot be a branch name: it contains a space\n"
    )
    result = run(repo, "init", "--environments")
    assert result.code == 2
    assert error_of(result)[0] == (
        "error: 'q a' cannot be used in a branch name: it contains a space"
    )


def test_init_environments_without_a_chain_says_so(repo: Repo, run) -> None:
    before = repo.snapshot()
    result = run(repo, "init", "--environments")
    assert result.code == 0, result.err
    assert "no [[environments]] in the configuration: no branch to create" in result.out
    assert repo.snapshot() == before


def test_init_in_a_clone_reads_the_chain_its_develop_brings(make_repo, run, tmp_path) -> None:
    upstream = make_repo()
    upstream.git("checkout", "-q", "develop")
    team_file(upstream, '\n[[environments]]\nname = "qa"\nbranch = "qa"\n')
    upstream.git("add", ".jiraflow.toml")
    upstream.git("commit", "-q", "-m", "the environments")
    upstream.git("push", "-q", "origin", "develop")
    clone = Repo(tmp_path / "clone")
    git(tmp_path, "clone", "-q", upstream.git("remote", "get-url", "origin"), str(clone.path))
    result = run(clone, "init", "-d", "--environments")
    assert result.code == 0, result.err
    assert clone.branch() == "develop"
    assert clone.git("rev-parse", "qa") == clone.git("rev-parse", "main")
