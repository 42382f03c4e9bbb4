"""`jiraflow check branch|commit-msg|range`: the [check] rules on real repositories, with
Jira (the sandbox, Cloud and Data Center, over real HTTP) asked in one batched search.
`check pr` (Bitbucket Pipelines) is in test_check_pr.py; the git hooks in test_hooks.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import log_in_to
from gitutil import Repo
from jiraflow import config, keys
from jiraflow.checks import rules as checks
from jiraflow.sandbox.jira import JiraSandbox


def configure(repo: Repo, text: str) -> None:
    (repo.path / ".jiraflow.toml").write_text(text)


def feature(repo: Repo, name: str, *messages: str) -> list[str]:
    """Branch `name` from develop with one commit per message; their shas."""
    repo.git("checkout", "-q", "-b", name, "develop")
    return [repo.commit(message=m) for m in messages]


def problems(result) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(result.out)["problems"]


# -- branch names --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "feature/PROJ-12-add-login",
        "bugfix/OPS-3",
        "main",
        "develop",
        "release/1.2.0",
        "hotfix/1.2.1",
    ],
)
def test_branches_that_follow_the_model(repo: Repo, run, name: str) -> None:
    result = run(repo, "check", "branch", name)
    assert result.code == 0, result.out + result.err
    assert "no problems" in result.out


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("feature/add-login", "names no Jira issue"),
        ("feature/proj-12-add-login", "names no Jira issue"),  # keys are upper case
        ("bugfix/issue-12", "names no Jira issue"),
        ("wip", "does not follow the branch model"),
        ("fix/PROJ-12", "does not follow the branch model"),
        ("feature/", "does not follow the branch model"),
    ],
)
def test_branches_that_break_the_rules(repo: Repo, run, name: str, says: str) -> None:
    result = run(repo, "check", "branch", name)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"✗ branch {name}: {says}")
    assert lines[-1] == f"{name}: 1 problem in branch name."


def test_the_fix_for_a_branch_without_key_is_a_rename(repo: Repo, run) -> None:
    result = run(repo, "check", "branch", "feature/add-login")
    assert "git branch -m feature/add-login feature/PROJ-12-add-login" in result.out


def test_the_current_branch_by_default_and_detached_head(repo: Repo, run) -> None:
    feature(repo, "feature/add-login", "work")
    assert run(repo, "check", "branch").code == 1
    repo.git("checkout", "-q", "--detach")
    result = run(repo, "check", "branch")
    assert result.code == 5 and "HEAD is detached" in result.err


def test_branch_types_exemptions_and_projects(repo: Repo, run) -> None:
    configure(
        repo,
        '[check]\nbranch_types = ["feature", "hotfix"]\nexempt_branches = ["feature/deps-*"]\n'
        'projects = ["PROJ"]\n',
    )
    assert run(repo, "check", "branch", "hotfix/1.2.1").code == 1
    assert run(repo, "check", "branch", "bugfix/whatever").code == 0
    exempt = run(repo, "check", "branch", "feature/deps-bump/requests")
    assert exempt.code == 0 and "exempt" in exempt.err
    other = run(repo, "check", "branch", "feature/OPS-3-rotate")
    assert other.code == 1 and "OPS-3 is not in an allowed project (PROJ)" in other.out


def test_projects_come_from_jira_projects_by_default(repo: Repo, run) -> None:
    configure(repo, '[jira]\nprojects = ["OPS"]\n')
    assert run(repo, "check", "branch", "feature/OPS-3-x").code == 0
    assert run(repo, "check", "branch", "feature/PROJ-3-x").code == 1


def test_configured_prefixes_are_the_model(repo: Repo, run) -> None:
    repo.git("config", "gitflow.prefix.feature", "feat/")
    assert run(repo, "check", "branch", "feat/PROJ-1-x").code == 0
    assert run(repo, "check", "branch", "feature/PROJ-1-x").code == 1


# -- ranges --------------------------------------------------------------------------------
def test_every_commit_must_name_an_issue(repo: Repo, run) -> None:
    shas = feature(repo, "feature/PROJ-1-login", "PROJ-1 Add form", "Fix typo", "Style (PROJ-1)")
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    bad = shas[1][:7]
    assert result.out.splitlines() == [
        f'✗ {bad} "Fix typo": names no Jira issue. Reword it (git rebase -i {bad}~1, marking '
        "it reword) to name an issue, e.g. PROJ-1 Fix typo",
        "develop..HEAD: 1 problem in 3 commits.",
    ]


def test_the_last_commit_is_fixed_with_amend(repo: Repo, run) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-1 Add form", "Fix typo")
    result = run(repo, "check", "range", "develop..HEAD")
    assert "(git commit --amend) to name an issue, e.g. PROJ-1 Fix typo" in result.out


def test_a_key_in_the_body_counts_and_in_a_word_does_not(repo: Repo, run) -> None:
    feature(repo, "feature/x", "Add form\n\nRefs PROJ-1", "Use libPROJ-2 codec", "Bump to PROJ-30a")
    data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
    assert [p["name"].split('"')[1] for p in data["problems"]] == ["Use libPROJ-2 codec"]
    assert data["checked"]["keys"] == ["PROJ-1", "PROJ-30"]


def test_merges_are_skipped_unless_configured(repo: Repo, run) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-1 Add form")
    repo.git("checkout", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/PROJ-1-login")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge develop work", "feature/PROJ-1-login^")
    result = run(repo, "--json", "check", "range", "origin/develop..develop")
    data = json.loads(result.out)
    assert result.code == 0 and data["checked"]["commits"] == 1
    assert [s["why"] for s in data["skipped"]] == ["merge"]
    configure(repo, "[check]\nmerges = true\n")
    result = run(repo, "--json", "check", "range", "origin/develop..develop")
    # git's message names the branch, and with it the key; the merge -m one names none
    assert result.code == 0, result.out
    repo.git("commit", "-q", "--amend", "-m", "Merge it")
    result = run(repo, "check", "range", "origin/develop..develop")
    assert result.code == 1 and '"Merge it": names no Jira issue' in result.out


def test_any_needs_one_valid_key_in_the_range(repo: Repo, run) -> None:
    configure(repo, '[check]\ncommits = "any"\n')
    feature(repo, "feature/PROJ-1-login", "Add form", "PROJ-1 Fix typo", "More")
    assert run(repo, "check", "range", "develop..HEAD").code == 0
    result = run(repo, "check", "range", "HEAD~1..HEAD")
    assert result.code == 1
    assert result.out.startswith("✗ 1 commit: none of them names a valid Jira issue.")


def test_off_checks_no_commit(repo: Repo, run) -> None:
    configure(repo, '[check]\ncommits = "off"\n')
    feature(repo, "feature/x", "Add form")
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 0 and "check.commits = off" in result.err


def test_exempt_authors_messages_and_jiraflows_own_commits(repo: Repo, run) -> None:
    configure(
        repo,
        '[check]\nexempt_authors = ["renovate[bot]", "*@ci.example.com"]\n'
        'exempt_messages = ["^\\\\[skip-jira\\\\]", "(?i)^wip"]\n'
        '[release]\nbump_message = "chore: release {version}"\n',
    )
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    for author, message in [
        ("renovate[bot] <bot@renovate.com>", "Update requests"),
        ("Build <build@ci.example.com>", "Nightly"),
        ("Ada <ada@example.com>", "[skip-jira] tidy"),
        ("Ada <ada@example.com>", "WIP half"),
        ("Ada <ada@example.com>", "chore: release 1.2.0"),
        ("Ada <ada@example.com>", "Release notes for 1.2.0"),
        ("renovate <renovate@example.com>", "Not exempt: [bot] is literal"),
    ]:
        repo.git("commit", "-q", "--allow-empty", "--author", author, "-m", message)
    data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
    assert [s["why"] for s in data["skipped"]] == [
        "exempt author",
        "exempt author",
        "exempt message",
        "exempt message",
        "made by jiraflow",
        "made by jiraflow",
    ]
    assert [p["code"] for p in data["problems"]] == ["no-key"]


def test_an_empty_range_is_a_usage_error(repo: Repo, run) -> None:
    result = run(repo, "check", "range", " ")
    assert result.code == 2 and "the revision range is empty" in result.err


def test_json_carries_the_notes(repo: Repo, run) -> None:
    feature(repo, "feature/PROJ-1-x", "PROJ-1 x")
    data = json.loads(run(repo, "--json", "check", "range", "--offline", "develop..HEAD").out)
    assert data["jira"] == "offline"
    assert data["notes"] == [
        "--offline: the keys were checked against the pattern and projects only"
    ]


def test_a_bad_range_and_bad_settings(repo: Repo, run) -> None:
    result = run(repo, "check", "range", "nope..HEAD")
    assert result.code == 2 and "not a revision range git knows" in result.err
    configure(repo, '[check]\nkey_pattern = "[A-Z"\n')
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 3 and "check.key_pattern" in result.err
    configure(repo, '[check]\nbranch_types = ["story"]\n')
    result = run(repo, "check", "branch", "feature/x")
    assert result.code == 3 and "story is not a branch type" in result.err
    configure(repo, '[check]\ncommits = "most"\n')
    assert run(repo, "check", "branch", "main").code == 3


def test_a_custom_key_pattern(repo: Repo, run) -> None:
    configure(repo, '[check]\nkey_pattern = "(PROJ|OPS)-[0-9]+"\n')
    feature(repo, "feature/x", "PROJ-1 ok", "ABC-1 not ours")
    data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
    assert [p["name"].split('"')[1] for p in data["problems"]] == ["ABC-1 not ours"]


def test_json_shape(repo: Repo, run) -> None:
    shas = feature(repo, "feature/x", "Add form")
    result = run(repo, "--json", "check", "range", "develop..HEAD")
    data = json.loads(result.out)
    assert data == {
        "check": "range",
        "target": "develop..HEAD",
        "ok": False,
        "checked": {"commits": 1, "items": 1, "keys": []},
        "jira": "not configured",
        "problems": [
            {
                "code": "no-key",
                "kind": "commit",
                "commit": shas[0],
                "name": f'{shas[0][:7]} "Add form"',
                "keys": [],
                "message": "names no Jira issue",
                "fix": "Reword it (git commit --amend) to name an issue, e.g. PROJ-12 Add form",
            }
        ],
        "skipped": [],
        "notes": [],
        "warnings": [],
        "header": None,  # check.header / check.footer, when a check fails and they are set
        "footer": None,
    }
    assert result.code == 1


# -- commit messages -----------------------------------------------------------------------
def message_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(text)
    return str(path)


def test_comments_and_the_verbose_diff_are_not_the_message(repo: Repo, run, tmp_path) -> None:
    scissors = "# " + "-" * 24 + " >8 " + "-" * 24
    text = f"Fix login\n# PROJ-1 in a comment\n{scissors}\n+PROJ-2\n"
    result = run(repo, "check", "commit-msg", message_file(tmp_path, text))
    assert result.code == 1 and "commit message: names no Jira issue" in result.out
    repo.git("config", "core.commentChar", ";")
    text = "Fix login\n; nothing here\n# PROJ-1 is message text now\n"
    assert run(repo, "check", "commit-msg", message_file(tmp_path, text)).code == 0


def test_add_key_starts_the_message_with_the_branchs_key(repo: Repo, run, tmp_path) -> None:
    feature(repo, "feature/PROJ-7-flaky-test", "PROJ-7 start")
    path = message_file(tmp_path, "Fix the flaky test\n\nDetails.\n# comment\n")
    result = run(repo, "check", "commit-msg", path)
    assert result.code == 1 and "Start it with PROJ-7 (the branch's key)" in result.out
    result = run(repo, "check", "commit-msg", "--add-key", path)
    assert result.code == 0, result.out
    assert result.out == f"{path}: message, no problems.\n"
    assert Path(path).read_text().startswith("PROJ-7 Fix the flaky test\n\nDetails.")


def test_messages_that_are_not_checked(repo: Repo, run, tmp_path) -> None:
    for text in ["", "# only a comment\n", "Merge branch 'develop' into feature/x\n"]:
        assert run(repo, "check", "commit-msg", message_file(tmp_path, text)).code == 0, text
    configure(repo, '[check]\ncommits = "any"\n')
    assert run(repo, "check", "commit-msg", message_file(tmp_path, "No key")).code == 0


def test_a_missing_message_file(repo: Repo, run, tmp_path) -> None:
    result = run(repo, "check", "commit-msg", str(tmp_path / "nope"))
    assert result.code == 2 and "cannot read" in result.err


# -- Jira ----------------------------------------------------------------------------------
def test_keys_are_looked_up_in_one_search(repo: Repo, run, jira: JiraSandbox) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-1 Add form", "PROJ-5 Reset", "PROJ-99 Typo")
    jira.clear_requests()
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    assert result.out.splitlines()[0].endswith(
        '"PROJ-99 Typo": PROJ-99 is not an issue in Jira. Check the key for a typo and '
        "change it: git commit --amend"
    )
    assert "PROJ-1" not in result.out and "PROJ-5 Reset" not in result.out
    # Cloud refuses a query naming a key it lacks: the key is dropped and asked once more
    assert jira.count(path_contains="/search") == (2 if jira.flavour == "cloud" else 1)


def test_all_valid_keys_cost_one_request(repo: Repo, run, jira: JiraSandbox) -> None:
    feature(repo, "feature/PROJ-1-login", *(f"PROJ-{n} change" for n in range(1, 13)))
    assert run(repo, "check", "range", "develop..HEAD").code == 0  # the site's kind is cached
    jira.clear_requests()
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 0, result.out
    assert "12 commits, no problems (the keys are issues in Jira)." in result.out
    assert jira.count() == 1


def test_a_jql_condition(repo: Repo, run, jira: JiraSandbox) -> None:
    configure(repo, "[check]\njql = 'statusCategory != Done'\n")
    feature(repo, "feature/PROJ-1-login", "PROJ-1 Add form", "PROJ-4 Ship", "PROJ-99 Typo")
    jira.clear_requests()
    data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
    assert [(p["code"], p["keys"]) for p in data["problems"]] == [
        ("fails-jql", ["PROJ-4"]),
        ("not-in-jira", ["PROJ-99"]),
    ]
    assert (
        "PROJ-4 does not meet check.jql (statusCategory != Done)" in data["problems"][0]["message"]
    )
    assert data["jira"] == "checked"


def test_jql_with_the_current_user(repo: Repo, run, jira: JiraSandbox) -> None:
    configure(repo, """[check]\njql = 'status = "In Progress" AND assignee = currentUser()'\n""")
    # PROJ-11 is alice's and in progress; PROJ-3 is bob's
    feature(repo, "feature/PROJ-11-onboarding", "PROJ-11 Welcome page", "PROJ-3 Menu")
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    assert result.out.count("✗") == 1 and '"PROJ-3 Menu": PROJ-3 does not meet' in result.out
    jira.set_status("PROJ-11", "In Review")
    result = run(repo, "check", "branch")
    assert result.code == 1 and "PROJ-11 does not meet check.jql" in result.out


@pytest.mark.parametrize("jql", ["colour = red", 'status = "Nope"'])
def test_a_condition_jira_refuses(repo: Repo, run, jira: JiraSandbox, jql: str) -> None:
    configure(repo, f"[check]\njql = '{jql}'\n")
    # Data Center is asked to only warn (so a wrong key costs nothing): its warning about
    # the condition stops the check as Cloud's refusal does, instead of failing every key
    result = run(repo, "check", "branch", "feature/PROJ-1-x")
    assert result.code == 3 and "check.jql" in result.err, result.err


def test_a_case_insensitive_pattern_finds_the_issue(repo: Repo, run, jira: JiraSandbox) -> None:
    configure(repo, '[check]\nkey_pattern = "(?i)[a-z][a-z0-9_]+-[1-9][0-9]*"\n')
    result = run(repo, "--json", "check", "branch", "feature/proj-1-login")
    assert result.code == 0, result.out
    assert json.loads(result.out)["checked"]["keys"] == ["PROJ-1"]


def test_many_keys_are_searched_a_hundred_at_a_time(repo: Repo, run, jira: JiraSandbox) -> None:
    keys = [jira.add_issue("PROJ", f"Issue {n}") for n in range(150)]
    repo.git("checkout", "-q", "-b", "feature/bulk", "develop")
    for key in keys:
        repo.git("commit", "-q", "--allow-empty", "-m", f"{key} change")
    jira.clear_requests()
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 0, result.out
    assert jira.count(path_contains="/search") == 2


def test_offline_and_switched_off_ask_nothing(repo: Repo, run, jira: JiraSandbox) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-99 Typo")
    jira.clear_requests()
    result = run(repo, "check", "range", "--offline", "develop..HEAD")
    assert result.code == 0 and "--offline: the keys were checked against the pattern" in result.err
    configure(repo, "[check]\njira = false\n")
    result = run(repo, "--json", "check", "range", "develop..HEAD")
    assert result.code == 0 and json.loads(result.out)["jira"] == "off"
    assert jira.count() == 0


def test_an_unreachable_jira_still_checks_the_pattern(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-99 Typo", "No key")
    jira.fault("status", status=503, times=None)
    result = run(repo, "check", "range", "develop..HEAD")
    assert result.code == 1
    assert result.out.count("✗") == 1 and '"No key": names no Jira issue' in result.out
    assert "Jira could not be asked" in result.err and "was not checked" in result.err
    monkeypatch.setenv("JIRAFLOW_JIRA_URL", "http://127.0.0.1:9")  # nothing listens there
    result = run(repo, "--json", "check", "range", "develop..HEAD~1")
    assert result.code == 0 and json.loads(result.out)["jira"].startswith("unreachable: ")


def test_missing_credentials_are_an_error(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JIRAFLOW_JIRA_TOKEN")
    result = run(repo, "check", "branch", "feature/PROJ-1-x")
    assert result.code == 4


def test_sites_are_tried_in_order_until_every_key_is_found(
    repo: Repo, run, keyring_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with JiraSandbox("cloud") as first, JiraSandbox("datacenter") as second:
        only_second = second.add_issue("PROJ", "Only on the second site")
        log_in_to(run, repo, monkeypatch, first, second)
        feature(repo, "feature/x", "PROJ-1 here", f"{only_second} there", "PROJ-404 nowhere")
        first.clear_requests()
        second.clear_requests()
        data = json.loads(run(repo, "--json", "check", "range", "develop..HEAD").out)
        assert [(p["code"], p["keys"]) for p in data["problems"]] == [("not-in-jira", ["PROJ-404"])]
        # first: one search, and once more without the keys it named unknown; second: one
        assert first.count(path_contains="/search") == 2
        assert second.count(path_contains="/search") == 1
        assert f"key in ({only_second}, PROJ-404)" in second.requests[-1].body.decode()


# -- rules as a unit -----------------------------------------------------------------------
def test_the_default_pattern_is_the_key_shape() -> None:
    assert config.KEY_PATTERN_DEFAULT == keys.KEY_PATTERN


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("renovate[bot]", "renovate[bot]"),
        ("dependabot/*", "dependabot/npm/left-pad"),
        ("a?c", "abc"),
    ],
)
def test_glob_only_star_and_question_mark_are_special(pattern: str, text: str) -> None:
    assert checks.glob(pattern).match(text)
    assert not checks.glob("renovate[bot]").match("renovateb")
