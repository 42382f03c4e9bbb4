"""Releases end to end: real repositories with a bare origin, the sandbox Jira (Cloud and
Data Center) over real HTTP, the CLI in-process. Several features and a bug are merged, a
release is started with --minor and finished; Jira's versions and fixVersions, the notes,
a hotfix during the open release, `where` before and after each step, and a failure half-way
completed by `jiraflow sync`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitutil import Repo
from jiraflow.sandbox.jira import JiraSandbox

pytestmark = pytest.mark.usefixtures("jira")
TODAY = "2026-11-22"


@pytest.fixture(autouse=True)
def release_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("jiraflow.jira.releases.today", lambda: TODAY)


def versions(jira: JiraSandbox, project: str = "PROJ") -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in jira.versions(project)}


def work(repo: Repo, run, kind: str, key: str, *messages: str) -> None:  # type: ignore[no-untyped-def]
    """Start a branch from the issue, commit, finish it (what a developer does)."""
    assert run(repo, kind, "start", key).code == 0
    for i, message in enumerate(messages):
        repo.commit(f"{key}-{i}.txt", f"{message}\n", message)
    result = run(repo, kind, "finish")
    assert result.code == 0, result.err


def where(repo: Repo, run, key: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = run(repo, "--json", "where", key, "--offline")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def contains(found: dict[str, Any], ref: str) -> bool:
    """Whether `where`'s answer says `ref` (a branch it looked at) has all of the issue's
    commits (False: none of them; anything in between fails the test)."""
    (row,) = [row for row in found["branches"] if row["name"] == ref]
    assert row["state"] in ("all", "none"), row
    return bool(row["state"] == "all")


@pytest.fixture
def released(repo: Repo, run) -> Repo:  # type: ignore[no-untyped-def]
    """A repository whose main is tagged 1.4.0, as the release before this one."""
    assert run(repo, "release", "start", "1.4.0").code == 0
    assert run(repo, "release", "finish").code == 0
    return repo


def merge_three_issues(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    work(repo, run, "feature", "PROJ-1", "login form", "form validation")  # merge commit
    work(repo, run, "feature", "PROJ-5", "PROJ-5 send the reset mail")  # fast-forward
    work(repo, run, "bugfix", "PROJ-2", "accept quotes", "test quotes")
    repo.commit("README", "hello again\n", "Tidy the README")


def test_a_minor_release_keeps_jira_in_step(released: Repo, run, jira: JiraSandbox) -> None:
    repo = released
    merge_three_issues(repo, run)
    assert not contains(where(repo, run, "PROJ-1"), "main")

    started = run(repo, "release", "start", "--minor")
    assert started.code == 0, started.err
    assert repo.branch() == "release/1.5.0"
    found = where(repo, run, "PROJ-1")
    assert contains(found, "develop") and contains(found, "release/1.5.0")
    assert not contains(found, "main")

    jira.clear_requests()
    finished = run(repo, "release", "finish")
    assert finished.code == 0, finished.err
    assert "PROJ 1.5.0: created, 3 issues have fixVersion 1.5.0" in finished.out
    made = versions(jira)["1.5.0"]
    assert made["released"] and made["releaseDate"] == TODAY
    for key in ("PROJ-1", "PROJ-5", "PROJ-2"):
        issue = jira.issue(key)
        assert issue["fixVersions"] == ["1.5.0"], key
        assert issue["status"] == "Done", key
    assert "1.5.0" not in jira.issue("PROJ-12")["fixVersions"]
    # one search for 3 keys, the versions, create, 3 fixVersions, release: no GET per issue
    assert jira.count(path_contains="/search") == 1
    assert jira.count(method="GET", path_contains="/issue/") == 0
    assert jira.count() == 7, [(r.method, r.path) for r in jira.requests]

    found = where(repo, run, "PROJ-1")
    assert contains(found, "main") and found["released_in"] == "1.5.0"

    notes = run(repo, "release", "notes", "1.4.0..1.5.0")
    assert notes.code == 0, notes.err
    text = notes.out
    features, fixes = text.index("### Features"), text.index("### Bug fixes")
    assert features < text.index("PROJ-1") < text.index("PROJ-5") < fixes < text.index("PROJ-2")
    assert f"[PROJ-1]({jira.url}/browse/PROJ-1) Add login form" in text
    assert "Tidy the README" in text.split("### Other changes")[1]


def test_a_failure_half_way_is_completed_by_sync_and_a_replay_duplicates_nothing(
    released: Repo, run, jira: JiraSandbox
) -> None:
    repo = released
    merge_three_issues(repo, run)
    assert run(repo, "release", "start", "--minor").code == 0
    jira.fault("status", status=500, method="PUT", path="/issue/PROJ-5", times=None)
    result = run(repo, "release", "finish")
    assert result.code == 7, result.err
    assert "jiraflow sync" in result.err
    assert repo.exists("refs/tags/1.5.0") and repo.branch() == "develop"  # git is done
    assert not versions(jira)["1.5.0"]["released"]
    assert "Waiting for `jiraflow sync` (1)" in run(repo, "status").out
    outbox = repo.path / ".git" / "jiraflow" / "outbox.json"
    queued = outbox.read_text()
    jira.clear_faults()
    synced = run(repo, "sync")
    assert synced.code == 0, synced.err
    made = versions(jira)["1.5.0"]
    assert made["released"] and made["releaseDate"] == TODAY
    for key in ("PROJ-1", "PROJ-5", "PROJ-2"):
        assert jira.issue(key)["fixVersions"] == ["1.5.0"], key
    assert run(repo, "sync").out.strip() == "Nothing to sync."
    # delivered, but as if the process died before it left the outbox: a replay only reads
    outbox.write_text(queued)
    jira.clear_requests()
    assert run(repo, "sync").code == 0
    assert jira.count(method="PUT") == 0
    assert jira.count(method="POST") == jira.count(path_contains="/search") == 1
    assert [v["name"] for v in jira.versions("PROJ")] == ["1.0.0", "1.5.0"]
    assert jira.issue("PROJ-1")["fixVersions"] == ["1.5.0"]


def test_a_hotfix_during_an_open_release(released: Repo, run, jira: JiraSandbox) -> None:
    repo = released
    merge_three_issues(repo, run)
    assert run(repo, "release", "start", "--minor").code == 0
    hotfix = run(repo, "hotfix", "start", "--patch")
    assert hotfix.code == 0, hotfix.err
    assert repo.branch() == "hotfix/1.4.1"
    repo.commit("footer.html", "<footer>fixed</footer>\n", "PROJ-12 fix the footer typo")
    found = where(repo, run, "PROJ-12")
    assert not contains(found, "main") and not contains(found, "develop")

    assert run(repo, "hotfix", "finish").code == 0
    fixed = versions(jira)["1.4.1"]
    assert fixed["released"] and jira.issue("PROJ-12")["fixVersions"] == ["1.4.1"]
    assert jira.issue("PROJ-12")["status"] == "Done"
    found = where(repo, run, "PROJ-12")
    assert contains(found, "main") and contains(found, "release/1.5.0")
    assert not contains(found, "develop")  # the hotfix went into the open release
    assert found["released_in"] == "1.4.1"

    assert run(repo, "release", "finish").code == 0
    assert jira.issue("PROJ-12")["fixVersions"] == ["1.4.1"]  # not 1.5.0: it shipped in 1.4.1
    assert sorted(jira.issue("PROJ-1")["fixVersions"]) == ["1.5.0"]
    found = where(repo, run, "PROJ-12")
    assert contains(found, "develop") and found["released_in"] == "1.4.1"


def test_changelog_and_tag_notes(released: Repo, run, jira: JiraSandbox) -> None:
    repo = released
    (repo.path / "CHANGELOG.md").write_text("# Changelog\n\n## 1.4.0\n\n- The start\n")
    repo.git("add", "CHANGELOG.md")
    repo.git("commit", "-q", "-m", "Start a changelog")
    assert run(repo, "config", "set", "release.changelog", "CHANGELOG.md").code == 0
    assert run(repo, "config", "set", "release.notes_in_tag", "true").code == 0
    repo.git("add", ".jiraflow.toml")
    repo.git("commit", "-q", "-m", "Keep the release notes")
    merge_three_issues(repo, run)
    assert run(repo, "release", "start", "--minor").code == 0
    dry = run(repo, "--dry-run", "release", "finish")
    assert dry.code == 0 and "write CHANGELOG.md" in dry.out
    assert "jira: PROJ 1.5.0: set fixVersion 1.5.0 on PROJ-1, PROJ-5, PROJ-2" in dry.out
    assert versions(jira).get("1.5.0") is None  # a dry run changes nothing in Jira

    assert run(repo, "release", "finish").code == 0
    for branch in ("main", "develop"):
        log = repo.git("show", f"{branch}:CHANGELOG.md")
        assert log.startswith(f"# Changelog\n\n## 1.5.0 ({TODAY})\n"), log
        assert f"- [PROJ-1]({jira.url}/browse/PROJ-1) Add login form" in log
        assert log.index("## 1.5.0") < log.index("## 1.4.0")
    message = repo.git("tag", "-l", "--format=%(contents)", "1.5.0")
    assert message.startswith("Release 1.5.0\n\n### Features\n")
    assert "PROJ-2" in message.split("### Bug fixes")[1]


def test_without_jira_the_release_still_finishes_with_notes_from_commits(
    released: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = released
    merge_three_issues(repo, run)
    for name in ("URL", "USER", "TOKEN"):
        monkeypatch.delenv(f"JIRAFLOW_JIRA_{name}")
    assert run(repo, "config", "set", "release.changelog", "CHANGELOG.md").code == 0
    assert run(repo, "release", "start", "--minor").code == 0
    jira.clear_requests()
    result = run(repo, "release", "finish")
    assert result.code == 0, result.err
    assert jira.count() == 0
    log = repo.git("show", "main:CHANGELOG.md")
    assert "- PROJ-5 send the reset mail" in log
    assert "PROJ-2" in log.split("### Bug fixes")[1]  # from the bugfix/ branch


def test_jira_unreachable_at_finish_queues_the_release(
    released: Repo, run, jira: JiraSandbox
) -> None:
    repo = released
    merge_three_issues(repo, run)
    assert run(repo, "release", "start", "--minor").code == 0
    jira.fault("drop", times=None)
    result = run(repo, "release", "finish")
    assert result.code == 7, result.err
    assert repo.exists("refs/tags/1.5.0")
    jira.clear_faults()
    assert run(repo, "sync").code == 0
    assert versions(jira)["1.5.0"]["released"]


def test_version_created_at_release_start(released: Repo, run, jira: JiraSandbox) -> None:
    repo = released
    assert run(repo, "config", "set", "jira.version_on_start", "true").code == 0
    merge_three_issues(repo, run)
    started = run(repo, "release", "start", "--minor")
    assert started.code == 0, started.err
    early = versions(jira)["1.5.0"]
    assert not early["released"]
    assert jira.issue("PROJ-1")["fixVersions"] == ["1.5.0"]
    repo.commit("late.txt", "late\n", "PROJ-12 a fix made on the release branch")
    assert run(repo, "release", "finish").code == 0
    final = versions(jira)["1.5.0"]
    assert final["id"] == early["id"] and final["released"]
    assert jira.issue("PROJ-12")["fixVersions"] == ["1.5.0"]


def test_a_large_release_shows_progress(released: Repo, run, jira: JiraSandbox) -> None:
    repo = released
    keys = [jira.add_issue("PROJ", f"Change {n}", status="Done") for n in range(30)]
    repo.commit("many.txt", "many\n", "Batch of changes\n\n" + "\n".join(keys))
    assert run(repo, "release", "start", "--minor").code == 0
    jira.clear_requests()
    result = run(repo, "release", "finish")
    assert result.code == 0, result.err
    assert "jira: updating the issues of PROJ 1.5.0: 30/30" in result.err
    assert "PROJ 1.5.0: created, 30 issues have fixVersion 1.5.0" in result.out
    assert jira.count(path_contains="/search") == 1


def test_the_issues_of_a_release_skip_its_pre_releases_and_older_hotfixes(
    released: Repo, run, jira: JiraSandbox
) -> None:
    repo = released
    assert run(repo, "release", "start", "1.5.0").code == 0
    repo.commit("a.txt", "a\n", "PROJ-1 login form")
    repo.git("tag", "-a", "-m", "rc", "1.5.0-rc.1")  # a pre-release of the one being made
    repo.commit("b.txt", "b\n", "PROJ-2 quotes")
    # a hotfix of 1.4.0, started while the release is open and finished after it
    assert run(repo, "hotfix", "start", "1.4.1").code == 0
    repo.commit("c.txt", "c\n", "PROJ-12 footer")
    assert run(repo, "release", "finish", "1.5.0").code == 0
    assert jira.issue("PROJ-1")["fixVersions"] == ["1.5.0"]  # not lost behind the rc tag
    assert run(repo, "hotfix", "finish", "1.4.1").code == 0
    assert jira.issue("PROJ-12")["fixVersions"] == ["1.4.1"]
    repo.git("checkout", "-q", "develop")
    repo.commit("d.txt", "d\n", "PROJ-5 reset mail")
    assert run(repo, "release", "start", "1.6.0").code == 0
    assert run(repo, "release", "finish").code == 0
    assert jira.issue("PROJ-5")["fixVersions"] == ["1.6.0"]
    assert "1.6.0" not in jira.issue("PROJ-12")["fixVersions"]
    assert "1.6.0" not in jira.issue("PROJ-1")["fixVersions"]


def test_an_untracked_changelog_is_never_overwritten(
    released: Repo, run, jira: JiraSandbox
) -> None:
    repo = released
    assert run(repo, "config", "set", "release.changelog", "CHANGELOG.md").code == 0
    (repo.path / ".git" / "info" / "exclude").write_text(".jiraflow.toml\n")
    assert run(repo, "release", "start", "1.5.0").code == 0
    repo.commit("a.txt", "a\n", "PROJ-1 login form")
    (repo.path / "CHANGELOG.md").write_text("my draft\n")
    result = run(repo, "release", "finish")
    assert result.code == 5, result.err
    assert "CHANGELOG.md is in the work tree but not committed" in result.err
    assert (repo.path / "CHANGELOG.md").read_text() == "my draft\n"
    assert not repo.exists("refs/tags/1.5.0") and repo.branch() == "release/1.5.0"
