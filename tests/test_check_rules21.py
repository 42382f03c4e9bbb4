"""The check rules of issue 21, each off by default: check.all_keys_valid,
check.branch_pattern, check.message_pattern, check.header/footer, check.merge_commits,
`check pr --single-commit` and check.committer. Through `jiraflow check` in real
repositories, and through the installed pre-push hook and a real `git push`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gitutil import Repo
from jiraflow.sandbox.jira import JiraSandbox


def configure(repo: Repo, text: str) -> None:
    (repo.path / ".jiraflow.toml").write_text(text)


def feature(repo: Repo, branch: str, *messages: str) -> None:
    repo.git("checkout", "-q", "-b", branch, "develop")
    for message in messages:
        repo.git("commit", "-q", "--allow-empty", "-m", message)


def check_json(run, repo: Repo, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = run(repo, "--json", "check", *args)
    data: dict = json.loads(result.out)  # type: ignore[type-arg]
    assert result.code == (1 if data["problems"] else 0), result.out + result.err
    return data


def codes(data: dict) -> list[tuple[str, list[str]]]:  # type: ignore[type-arg]
    return [(p["code"], p["keys"]) for p in data["problems"]]


def git_push(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """`git push` as a user runs it: the installed hooks run."""
    return subprocess.run(
        ["git", "push", *args],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )


def install_hooks(run, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    assert run(repo, "hooks", "install").code == 0


# -- check.all_keys_valid --------------------------------------------------------------------
def test_all_keys_valid_needs_every_key_to_be_an_issue(repo: Repo, run, jira: JiraSandbox) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-1 PROJ-99 Add the form")
    assert check_json(run, repo, "range", "develop..HEAD")["ok"]  # one valid key is enough
    configure(repo, "[check]\nall_keys_valid = true\n")
    run(repo, "check", "range", "develop..HEAD")  # the site's kind is cached
    jira.clear_requests()
    data = check_json(run, repo, "range", "develop..HEAD")
    assert codes(data) == [("not-in-jira", ["PROJ-1", "PROJ-99"])]
    assert data["problems"][0]["message"] == (
        "PROJ-99 is not an issue in Jira (check.all_keys_valid: every key must be)"
    )
    # the same search as without the rule (Cloud drops the unknown key and asks again)
    assert jira.count(path_contains="/search") == (2 if jira.flavour == "cloud" else 1)


def test_all_keys_valid_applies_check_jql_to_every_issue(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    configure(repo, "[check]\nall_keys_valid = true\njql = 'statusCategory != Done'\n")
    # PROJ-4 is Done
    data = check_json(run, repo, "branch", "feature/PROJ-1-PROJ-4-login")
    assert codes(data) == [("fails-jql", ["PROJ-1", "PROJ-4"])]
    assert data["problems"][0]["message"].startswith("PROJ-4 does not meet check.jql")
    # keys of projects that are not allowed are still not keys ("UTF-8")
    configure(repo, '[jira]\nprojects = ["PROJ"]\n[check]\nall_keys_valid = true\n')
    assert check_json(run, repo, "branch", "feature/PROJ-1-UTF-8")["ok"]


# -- check.branch_pattern ----------------------------------------------------------------------
PATTERN = r"(feature|bugfix)/[A-Z]+-[0-9]+-[a-z0-9-]+|(release|hotfix)/[0-9]+\\.[0-9]+\\.[0-9]+"
AS_READ = PATTERN.replace("\\\\", "\\")  # the TOML string's escapes undone


def test_branch_pattern_is_matched_against_the_whole_name(repo: Repo, run) -> None:
    configure(repo, f'[check]\nbranch_pattern = "{PATTERN}"\nexempt_branches = ["deps/*"]\n')
    assert check_json(run, repo, "branch", "feature/PROJ-1-login")["ok"]
    data = check_json(run, repo, "branch", "feature/PROJ-1-Login")  # a search would pass it
    assert data["problems"] == [
        {
            "code": "branch-pattern",
            "kind": "branch",
            "commit": None,
            "name": "branch feature/PROJ-1-Login",
            "keys": [],
            "message": f"does not match check.branch_pattern ({AS_READ})",
            "fix": "Rename it to a name that does: git branch -m feature/PROJ-1-Login <new name>",
        }
    ]
    # a release branch needs no key, but must match too
    data = check_json(run, repo, "branch", "release/1.2")
    assert codes(data) == [("branch-pattern", [])] and data["checked"]["items"] == 1
    assert check_json(run, repo, "branch", "release/1.2.0")["ok"]
    # long-lived and exempt branches need not
    for name in ("develop", "main", "support/1.x", "deps/bump-requests"):
        assert check_json(run, repo, "branch", name)["ok"], name


def test_a_bad_branch_pattern_is_a_configuration_error(repo: Repo, run) -> None:
    configure(repo, '[check]\nbranch_pattern = "feature/(PROJ"\n')
    result = run(repo, "check", "branch", "feature/PROJ-1-x")
    assert result.code == 3
    assert "check.branch_pattern: 'feature/(PROJ' is not a regular expression" in result.err
    assert "hint: Correct it where it is set" in result.err
    configure(repo, "")
    result = run(repo, "config", "set", "check.message_pattern", "[x")
    assert result.code == 3 and "check.message_pattern" in result.err


def test_pre_push_refuses_a_new_branch_that_does_not_match(repo: Repo, run) -> None:
    feature(repo, "feature/PROJ-1-Old_Name", "PROJ-1 Add the form")
    repo.git("push", "-q", "origin", "feature/PROJ-1-Old_Name")  # before the rule
    configure(repo, f'[check]\nbranch_pattern = "{PATTERN}"\n')
    install_hooks(run, repo)
    feature(repo, "feature/PROJ-1-Bad_Name", "PROJ-1 Add the form")
    proc = git_push(repo, "origin", "feature/PROJ-1-Bad_Name")
    assert proc.returncode != 0
    assert "branch feature/PROJ-1-Bad_Name: does not match check.branch_pattern" in proc.stdout
    assert not repo.git("ls-remote", "origin", "refs/heads/feature/PROJ-1-Bad_Name")
    # a branch the remote has already is not held to the new rule
    repo.git("checkout", "-q", "feature/PROJ-1-Old_Name")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-1 More")
    proc = git_push(repo, "origin", "feature/PROJ-1-Old_Name")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo.git("branch", "-m", "feature/PROJ-1-Bad_Name", "feature/PROJ-1-good-name")
    proc = git_push(repo, "origin", "feature/PROJ-1-good-name")
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- check.message_pattern ---------------------------------------------------------------------
def message_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(text)
    return str(path)


def test_message_pattern_must_match_the_whole_message(repo: Repo, run, tmp_path: Path) -> None:
    configure(repo, "[check]\nmessage_pattern = '[A-Z]+-[0-9]+: .+'\n")
    ok = message_file(tmp_path, "PROJ-1: Fix the login\n# a comment git strips\n")
    assert check_json(run, repo, "commit-msg", ok)["ok"]
    data = check_json(run, repo, "commit-msg", message_file(tmp_path, "PROJ-1 Fix the login\n"))
    assert data["problems"] == [
        {
            "code": "message-pattern",
            "kind": "message",
            "commit": None,
            "name": "commit message",
            "keys": ["PROJ-1"],
            "message": "does not match check.message_pattern ([A-Z]+-[0-9]+: .+)",
            "fix": "Write it so that it does (git commit again; the message is in "
            ".git/COMMIT_EDITMSG)",
        }
    ]
    # the whole message: without (?s), `.` stops at the end of the subject
    body = message_file(tmp_path, "PROJ-1: Fix the login\n\nThe long story.\n")
    assert codes(check_json(run, repo, "commit-msg", body)) == [("message-pattern", ["PROJ-1"])]
    configure(repo, "[check]\nmessage_pattern = '(?s)[A-Z]+-[0-9]+: .+'\n")
    assert check_json(run, repo, "commit-msg", body)["ok"]
    # multi-line mode: ^ and $ match at every line
    configure(repo, "[check]\nmessage_pattern = '^[A-Z]+-[0-9]+: .+$\\n\\n^.+$'\n")
    assert check_json(run, repo, "commit-msg", body)["ok"]


def test_message_pattern_applies_whatever_check_commits_says(
    repo: Repo, run, tmp_path: Path
) -> None:
    configure(repo, "[check]\ncommits = 'off'\nmessage_pattern = '(feat|fix): .+'\n")
    data = check_json(run, repo, "commit-msg", message_file(tmp_path, "Tidy up\n"))
    assert codes(data) == [("message-pattern", [])] and data["checked"]["items"] == 1
    assert check_json(run, repo, "commit-msg", message_file(tmp_path, "fix: tidy up\n"))["ok"]
    feature(repo, "feature/PROJ-1-login", "fix: the form", "Tidy up", "feat: more")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert [p["name"] for p in data["problems"]] == [
        f'{repo.git("rev-parse", "--short", "HEAD~1")} "Tidy up"'
    ]
    tidy = repo.git("rev-parse", "--short", "HEAD~1")
    fix = f"Reword it (git rebase -i {tidy}~1, marking it reword) so that it does"
    assert data["problems"][0]["fix"] == fix
    # exempt messages are not held to it
    configure(repo, "[check]\nmessage_pattern = '(feat|fix): .+'\nexempt_messages = ['^Tidy']\n")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert codes(data) == [("no-key", []), ("no-key", [])]  # no key, but the right shape


# -- check.header / check.footer ---------------------------------------------------------------
HEADER_FOOTER = """[check]
header = "Our rules: https://wiki.acme.com/git"
footer = '''Stuck? Ask in #dev-help.
Or mail tools@acme.com.'''
"""


def test_header_and_footer_surround_a_refusal_only(repo: Repo, run) -> None:
    configure(repo, HEADER_FOOTER)
    result = run(repo, "check", "branch", "feature/login")
    assert result.code == 1
    assert result.out.splitlines() == [
        "Our rules: https://wiki.acme.com/git",
        "✗ branch feature/login: names no Jira issue. Rename it so it names the issue: "
        "git branch -m feature/login feature/PROJ-12-login",
        "feature/login: 1 problem in branch name.",
        "Stuck? Ask in #dev-help.",
        "Or mail tools@acme.com.",
    ]
    data = json.loads(run(repo, "--json", "check", "branch", "feature/login").out)
    assert data["header"] == "Our rules: https://wiki.acme.com/git"
    assert data["footer"] == "Stuck? Ask in #dev-help.\nOr mail tools@acme.com."
    result = run(repo, "check", "branch", "feature/PROJ-1-login")
    assert result.code == 0 and "acme" not in result.out + result.err
    data = json.loads(run(repo, "--json", "check", "branch", "feature/PROJ-1-login").out)
    assert data["header"] is None and data["footer"] is None


def test_the_pre_push_hook_prints_them_too(repo: Repo, run) -> None:
    configure(repo, HEADER_FOOTER)
    install_hooks(run, repo)
    feature(repo, "feature/PROJ-1-login")
    repo.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "--allow-empty", "-m", "Oops")
    proc = git_push(repo, "origin", "feature/PROJ-1-login")
    assert proc.returncode != 0
    lines = proc.stdout.splitlines()
    assert lines[0] == "Our rules: https://wiki.acme.com/git" and '"Oops"' in lines[1]
    assert lines[-2:] == ["Stuck? Ask in #dev-help.", "Or mail tools@acme.com."]


# -- check.merge_commits -----------------------------------------------------------------------
def merge(repo: Repo, source: str, *args: str) -> None:
    repo.git("merge", "-q", "--no-ff", "--no-edit", *args, source)


def test_a_merge_made_locally_is_refused(repo: Repo, run) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-1 Add the form")
    repo.git("checkout", "-q", "develop")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-2 Elsewhere")
    repo.git("checkout", "-q", "feature/PROJ-1-login")
    merge(repo, "develop")
    assert check_json(run, repo, "range", "develop..HEAD")["ok"]  # allowed by default
    configure(repo, "[check]\nmerge_commits = false\n")
    data = check_json(run, repo, "range", "develop..HEAD")
    short = repo.git("rev-parse", "--short", "HEAD")
    assert data["problems"] == [
        {
            "code": "merge-commit",
            "kind": "commit",
            "commit": repo.git("rev-parse", "HEAD"),
            "name": f"{short} \"Merge branch 'develop' into feature/PROJ-1-login\"",
            "keys": [],
            "message": "is a merge commit (check.merge_commits = false)",
            "fix": "Rebase instead of merging: git rebase develop (it drops the merge)",
        }
    ]
    # what the fix says works: the merge is gone, the commit is kept
    repo.git("rebase", "-q", "develop")
    assert check_json(run, repo, "range", "develop..HEAD")["ok"]


def test_merges_of_gitflow_finishes_and_of_bitbucket_pass(repo: Repo, run) -> None:
    configure(repo, "[check]\nmerge_commits = false\n")
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "PROJ-1 Refuse merges")
    repo.git("push", "-q", "origin", "develop")
    base = repo.git("rev-parse", "main")
    for name in ("feature/PROJ-1-a", "feature/PROJ-2-b"):
        feature(repo, name, f"{name[8:14]} One", f"{name[8:14]} Two")
        assert run(repo, "feature", "finish").code == 0  # Merge branch 'feature/...' into develop
    assert run(repo, "release", "start", "1.0.0").code == 0
    assert run(repo, "release", "finish", "1.0.0").code == 0
    # Bitbucket's merges of pull requests, Cloud's and Data Center's
    feature(repo, "feature/PROJ-3-c", "PROJ-3 One")
    repo.git("checkout", "-q", "develop")
    merge(repo, "feature/PROJ-3-c", "-m", "Merged in feature/PROJ-3-c (pull request #7)")
    feature(repo, "feature/PROJ-4-d", "PROJ-4 One")
    repo.git("checkout", "-q", "develop")
    message = "Merge pull request #8 in PROJ/shop from feature/PROJ-4-d to develop"
    merge(repo, "feature/PROJ-4-d", "-m", message)
    subjects = repo.git("log", "--merges", "--format=%s", f"{base}..develop").splitlines()
    assert sorted(subjects) == [
        "Merge branch 'feature/PROJ-1-a' into develop",
        "Merge branch 'feature/PROJ-2-b' into develop",
        "Merge branch 'release/1.0.0'",
        "Merge pull request #8 in PROJ/shop from feature/PROJ-4-d to develop",
        "Merge tag '1.0.0' into develop",
        "Merged in feature/PROJ-3-c (pull request #7)",
    ]
    data = check_json(run, repo, "range", f"{base}..develop")
    assert data["problems"] == [] and len(data["skipped"]) == 6
    # but not a merge into a feature branch, nor a pull
    feature(repo, "feature/PROJ-5-e", "PROJ-5 One")
    feature(repo, "side", "PROJ-7 One")
    feature(repo, "feature/PROJ-6-f", "PROJ-6 One")
    merge(repo, "feature/PROJ-5-e")
    pulled = "Merge branch 'develop' of https://bitbucket.org/acme/shop into feature/PROJ-6-f"
    merge(repo, "side", "-m", pulled)
    data = check_json(run, repo, "range", "develop..HEAD")
    assert [(p["code"], p["fix"]) for p in data["problems"]] == [
        (
            "merge-commit",
            "Rebase instead of merging: git rebase feature/PROJ-5-e (it drops the merge)",
        ),
        ("merge-commit", "Pull with rebase instead of merging: git pull --rebase"),
    ]


def test_pre_push_refuses_a_local_merge_and_lets_finishes_through(repo: Repo, run) -> None:
    configure(repo, "[check]\nmerge_commits = false\n")
    install_hooks(run, repo)
    feature(repo, "feature/PROJ-1-login", "PROJ-1 One", "PROJ-1 Two")
    repo.git("checkout", "-q", "develop")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-2 Elsewhere")
    repo.git("checkout", "-q", "feature/PROJ-1-login")
    merge(repo, "develop")
    proc = git_push(repo, "origin", "feature/PROJ-1-login")
    assert proc.returncode != 0
    assert (
        "is a merge commit (check.merge_commits = false). Rebase instead of merging: "
        in proc.stdout
    )
    assert not repo.git("ls-remote", "origin", "refs/heads/feature/PROJ-1-login")
    repo.git("rebase", "-q", "develop")
    assert run(repo, "feature", "finish").code == 0
    proc = git_push(repo, "origin", "develop")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Merge branch 'feature/PROJ-1-login' into develop" in repo.git(
        "log", "-1", "--format=%s", "origin/develop"
    )


CHAIN = """
[[environments]]
name = "qa"
branch = "qa"
jira = "In Progress"

[[environments]]
name = "production"
branch = "main"
jira = "category:done"
"""


def test_promote_merge_into_an_environment_passes_and_the_count_is_honest(repo: Repo, run) -> None:
    configure(repo, "[check]\nmerge_commits = false\n" + CHAIN)
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "PROJ-1 The chain")
    repo.git("push", "-q", "origin", "develop")
    repo.git("branch", "qa", "develop")
    repo.git("push", "-q", "origin", "qa")
    install_hooks(run, repo)
    repo.git("checkout", "-q", "qa")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-2 Hotfix made on qa")
    repo.git("checkout", "-q", "develop")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-3 More")
    # the pre-push hook lets the environment branch and jiraflow's own merge through
    result = run(repo, "promote", "qa", "--no-jira", "--merge")
    assert result.code == 0, result.out + result.err
    assert repo.git("log", "-1", "--format=%s", "origin/qa") == "Promote develop to qa"
    assert check_json(run, repo, "range", "develop..qa")["ok"]
    proc = git_push(repo, "origin", "qa:refs/heads/qa-copy")  # not an environment branch
    assert "qa-copy: does not follow the branch model" in proc.stdout
    # a "Promote" into what is no environment is a merge of one's own
    repo.git("checkout", "-q", "-b", "feature/PROJ-4-x", "develop")
    merge(repo, "qa", "-m", "Promote qa to feature/PROJ-4-x")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert [p["code"] for p in data["problems"]] == ["merge-commit"]
    # the refused merge (exempt from naming a key: check.merges) is counted, not skipped
    assert data["checked"]["commits"] == 2  # it and "PROJ-2 Hotfix made on qa"
    assert [s["subject"] for s in data["skipped"]] == ["Promote develop to qa"]
    result = run(repo, "check", "range", "develop..HEAD")
    assert "1 problem in 2 commits (1 skipped)." in result.out


# -- check pr --single-commit ------------------------------------------------------------------
def test_single_commit_wants_exactly_one(repo: Repo, run) -> None:
    feature(repo, "feature/PROJ-1-login", "PROJ-1 Add the form", "PROJ-1 Fix a typo")
    assert run(repo, "check", "pr").code == 0  # without the flag, any number
    result = run(repo, "check", "pr", "--single-commit")
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        "✗ branch feature/PROJ-1-login: has 2 commits; it must have exactly one "
        "(--single-commit). Squash them into one: git rebase -i origin/develop (mark all but "
        "the first 'squash'), then git push --force-with-lease"
    )
    data = check_json(run, repo, "pr", "--single-commit")
    assert [(p["code"], p["kind"]) for p in data["problems"]] == [("single-commit", "range")]
    repo.git("reset", "-q", "--soft", "HEAD~1")
    repo.git("commit", "-q", "--amend", "--allow-empty", "-m", "PROJ-1 Add the form")
    assert run(repo, "check", "pr", "--single-commit").code == 0
    repo.git("reset", "-q", "--hard", "develop")
    data = check_json(run, repo, "pr", "--single-commit")
    assert data["problems"][0]["message"] == (
        "has 0 commits; it must have exactly one (--single-commit)"
    )


# -- check.committer ---------------------------------------------------------------------------
def test_the_committer_must_match_a_pattern(
    repo: Repo, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(repo, '[check]\ncommitter = ["*@acme.com", "ci@build.acme.net"]\n')
    text = message_file(tmp_path, "PROJ-1 Fix the login\n")
    data = check_json(run, repo, "commit-msg", text)  # git's committer: ada@example.com
    assert [(p["code"], p["message"], p["fix"]) for p in data["problems"]] == [
        (
            "committer",
            "was committed by ada@example.com, not an address of check.committer",
            "Set your address (git config user.email <your address>), then: git commit",
        )
    ]
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "Ada@Acme.com")
    assert check_json(run, repo, "commit-msg", text)["ok"]
    # a range: each commit's committer, whatever the author
    feature(repo, "feature/PROJ-1-login", "PROJ-1 One")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ada@home.org")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-1 Two")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ada@acme.com")
    repo.git("commit", "-q", "--allow-empty", "-m", "PROJ-1 Three")
    data = check_json(run, repo, "range", "develop..HEAD")
    two = repo.git("rev-parse", "--short", "HEAD~1")
    assert [(p["code"], p["name"], p["fix"]) for p in data["problems"]] == [
        (
            "committer",
            f'{two} "PROJ-1 Two"',
            "Set your address (git config user.email <your address>), then: "
            f"git rebase --force-rebase {two}~1",
        )
    ]
    repo.git("rebase", "-q", "--force-rebase", f"{two}~1")  # the fix works
    assert check_json(run, repo, "range", "develop..HEAD")["ok"]


def test_me_is_your_jira_address_cached_per_site(
    repo: Repo, run, tmp_path: Path, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(repo, '[check]\ncommitter = ["me"]\n')
    text = message_file(tmp_path, "PROJ-1 Fix the login\n")
    cloud = jira.flavour == "cloud"  # Cloud's login is the address; Data Center's a name
    data = check_json(run, repo, "commit-msg", "--offline", text)
    if cloud:
        assert codes(data) == [("committer", ["PROJ-1"])]
    else:  # offline, and not known yet: a note, not a failure
        assert data["notes"][0] == (
            'the committers were not checked: "me" in check.committer: your Jira account\'s '
            f"address is not known yet (offline; {jira.url})"
        )
    jira.clear_requests()
    assert codes(check_json(run, repo, "commit-msg", text)) == [("committer", ["PROJ-1"])]
    assert jira.count(path_contains="/myself") == (0 if cloud else 1)
    jira.clear_requests()
    assert not check_json(run, repo, "commit-msg", "--offline", text)["ok"]  # cached now
    assert not check_json(run, repo, "commit-msg", text)["ok"]
    assert jira.count(path_contains="/myself") == 0
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", str(jira.me["email"]))
    assert check_json(run, repo, "commit-msg", "--offline", text)["ok"]
    # `check range` checks commits of anyone (in CI: the CI account is "me")
    feature(repo, "feature/PROJ-1-login", "PROJ-1 One")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert data["notes"][0].startswith('the committers were not checked: "me" in check.committer')


def test_pre_push_refuses_a_commit_of_another_committer(
    repo: Repo, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(repo, '[check]\ncommitter = ["me"]\n')
    install_hooks(run, repo)
    monkeypatch.setenv("JIRAFLOW_BITBUCKET_USER", "ada@example.com")  # no Jira: Bitbucket's login
    feature(repo, "feature/PROJ-1-login", "PROJ-1 One")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "root@build-box")
    repo.git("commit", "-q", "--no-verify", "--allow-empty", "-m", "PROJ-1 Two")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "ada@example.com")
    proc = git_push(repo, "origin", "feature/PROJ-1-login")
    assert proc.returncode != 0
    assert "was committed by root@build-box, not an address of check.committer" in proc.stdout
    repo.git("commit", "-q", "--amend", "--no-edit", "--no-verify", "--allow-empty")
    proc = git_push(repo, "origin", "feature/PROJ-1-login")
    assert proc.returncode == 0, proc.stdout + proc.stderr
