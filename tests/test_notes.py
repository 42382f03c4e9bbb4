"""Release notes: the issues of a range of commits (keys in subjects, bodies and merge
messages), grouped by Jira issue type from one batched search or by branch prefix without
Jira, as Markdown and JSON; and CHANGELOG.md upkeep. Real repositories, the sandbox Jira."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitutil import Repo
from jiraflow.git import GitRepo
from jiraflow.gitflow import notes
from jiraflow.sandbox.jira import JiraSandbox

FEATURE_TYPES = ["Story", "New Feature", "Feature", "Improvement", "Epic"]
FIX_TYPES = ["Bug", "Defect"]


def on_branch(repo: Repo, branch: str, *messages: str, merge: bool = True) -> None:
    """Commits on a new branch from develop, each in a file of its own, merged back the way
    `jiraflow feature finish` merges more than one commit (--no-ff, git's message)."""
    repo.git("checkout", "-q", "-b", branch, "develop")
    for i, message in enumerate(messages):
        repo.commit(f"{branch.replace('/', '-')}-{i}.txt", "x\n", message)
    repo.git("checkout", "-q", "develop")
    if merge:
        repo.git("merge", "-q", "--no-ff", "--no-edit", branch)
        repo.git("branch", "-q", "-D", branch)


def add_config(repo: Repo, text: str) -> None:
    config = repo.path / ".jiraflow.toml"
    config.write_text(config.read_text() + "\n" + text)


def history(repo: Repo) -> None:
    """A develop branch with every way a key gets into the history."""
    add_config(repo, '[jira]\nprojects = ["PROJ"]\n')
    on_branch(repo, "feature/PROJ-1-add-login-form", "form markup", "form validation")
    on_branch(repo, "bugfix/PROJ-2-smart-quotes", "Handle quotes\n\nFixes PROJ-2.", "test quotes")
    repo.commit("footer.html", "x\n", "PROJ-12: fix typo in footer")  # fast-forwarded: one commit
    repo.commit("menu.txt", "x\n", "[PROJ-3] Café menu")
    repo.commit("ops.txt", "x\n", "OPS-1 rotate certificates")  # not a configured project
    repo.commit("README", "hello again\n", "Update README")
    # Bitbucket's squash merge: one parent, the branch named in the subject
    repo.commit(
        "reset.txt",
        "x\n",
        "Merged in feature/PROJ-5-password-reset (pull request #3)\n\n* add endpoint",
    )


def commits(repo: Repo, rev_range: str = "HEAD") -> list[notes.Commit]:
    return notes.commits_in(GitRepo.discover(str(repo.path)), rev_range)


def short(repo: Repo, message: str) -> str:
    return repo.git("log", "-1", "--format=%h", "--fixed-strings", f"--grep={message}", "HEAD")


# -- commits and keys ----------------------------------------------------------------------------
def test_commits_oldest_first_with_merges_and_multiline_bodies(repo: Repo) -> None:
    body = "Second paragraph.\n\nThird, with\x1e a record separator and 'quotes'."
    on_branch(repo, "feature/x", f"one\n\n{body}", "two")
    found = commits(repo, "main..develop")
    assert [c.subject for c in found] == ["one", "two", "Merge branch 'feature/x' into develop"]
    assert found[0].body == body
    assert [c.is_merge for c in found] == [False, False, True]
    assert found[2].parents[1] == found[1].sha
    assert found[0].short == repo.git("rev-parse", "--short", found[0].sha)


def test_keys_in_subjects_bodies_and_merge_messages(repo: Repo) -> None:
    on_branch(repo, "feature/PROJ-1-login", "no key here")
    repo.commit("a", "x\n", "PROJ-123: the big one")
    repo.commit("b", "x\n", "Small one\n\nRefs PROJ-12, and PROJ-123 again; mePROJ-7 is no key")
    repo.commit("c", "x\n", "Merged in bugfix/PROJ-40-crash (pull request #3)")
    found = commits(repo, "main..develop")
    assert [c.keys for c in found] == [
        [],
        ["PROJ-1"],
        ["PROJ-123"],
        ["PROJ-12", "PROJ-123"],
        ["PROJ-40"],
    ]
    assert notes.keys_of(found) == ["PROJ-1", "PROJ-123", "PROJ-12", "PROJ-40"]


def test_keys_of_unconfigured_projects_are_left_out(repo: Repo) -> None:
    repo.commit("a", "x\n", "OPS-1 and PROJ-2")
    repo.commit("b", "x\n", "Fix UTF-8 decoding")
    found = commits(repo, "main..develop")
    assert notes.keys_of(found) == ["OPS-1", "PROJ-2", "UTF-8"]
    assert notes.keys_of(found, lambda key: key.startswith("PROJ-")) == ["PROJ-2"]


def test_a_range_git_does_not_know_is_a_usage_error(repo: Repo, run) -> None:
    result = run(repo, "release", "notes", "nope..HEAD")
    assert result.code == 2
    assert "'nope..HEAD' is not a revision range" in result.err
    assert "hint:" in result.err and "Traceback" not in result.err
    assert run(repo, "release", "notes", "--end-of-options").code == 2


# -- building the notes without Jira -------------------------------------------------------------
def test_notes_without_jira_use_subjects_and_branch_prefixes(repo: Repo, run) -> None:
    history(repo)
    result = run(repo, "release", "notes")
    assert result.code == 0, result.err
    assert result.err == ""
    readme, start = short(repo, "Update README"), short(repo, "Initial commit")
    assert result.out == (
        "## Unreleased\n\n"
        "### Features\n\n"
        "- PROJ-1 add login form\n"  # from the branch name: its commits do not mention the key
        "- PROJ-5 password reset\n\n"
        "### Bug fixes\n\n"
        "- PROJ-2 Handle quotes\n\n"
        "### Other\n\n"
        "- PROJ-12 fix typo in footer\n"  # fast-forwarded: no branch name, so Other
        "- PROJ-3 Café menu\n\n"
        "### Other changes\n\n"
        f"- Initial commit ({start})\n"
        f"- OPS-1 rotate certificates ({short(repo, 'OPS-1')})\n"
        f"- Update README ({readme})\n"
    )


def test_branch_commits_belong_to_the_issue_of_their_merge(repo: Repo) -> None:
    history(repo)
    found = commits(repo, "main..develop")
    built = notes.build(
        found,
        None,
        feature_types=FEATURE_TYPES,
        fix_types=FIX_TYPES,
        title="Unreleased",
        rev_range="main..develop",
        accepts=lambda key: key.startswith("PROJ-"),
    )
    subjects = {c.sha: c.subject.split("\n")[0] for c in found}
    login = built.sections["Features"][0]
    assert login.key == "PROJ-1"
    assert [subjects[s] for s in login.commits] == [
        "form markup",
        "form validation",
        "Merge branch 'feature/PROJ-1-add-login-form' into develop",
    ]
    assert [c.subject for c in built.unlinked] == ["OPS-1 rotate certificates", "Update README"]
    assert built.jira == "not configured"
    assert (login.type, login.url) == ("", "")


def test_merges_are_not_other_changes_and_a_branch_merged_twice_counts_once(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "feature/PROJ-7-nested", "develop")
    repo.commit("n1", "x\n", "first step")
    repo.git("checkout", "-q", "develop")
    repo.commit("d1", "x\n", "meanwhile on develop")
    repo.git("checkout", "-q", "feature/PROJ-7-nested")
    repo.git("merge", "-q", "--no-edit", "develop")  # develop merged into the feature
    repo.commit("n2", "x\n", "second step")
    repo.git("checkout", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/PROJ-7-nested")
    built = notes.build(
        commits(repo, "main..develop"),
        None,
        feature_types=FEATURE_TYPES,
        fix_types=FIX_TYPES,
        title="t",
        rev_range="main..develop",
    )
    entry = built.sections["Features"][0]
    assert entry.key == "PROJ-7" and len(entry.commits) == 4  # two steps and both merges
    assert [c.subject for c in built.unlinked] == ["meanwhile on develop"]


def test_summary_from_git_strips_keys_and_separators() -> None:
    assert notes.strip_keys("PROJ-12: fix login", "PROJ-12") == "fix login"
    assert notes.strip_keys("[PROJ-12] fix login (PROJ-13)", "PROJ-12") == "fix login"
    assert notes.strip_keys("PROJ-1 PROJ-2 - both at once", "PROJ-2") == "both at once"
    assert notes.strip_keys("fix login PROJ-12", "PROJ-12") == "fix login"
    assert notes.strip_keys("Revert PROJ-12 change", "PROJ-12") == "Revert PROJ-12 change"
    assert notes.strip_keys("PROJ-1: Fix UTF-8", "PROJ-1") == "Fix UTF-8"
    assert notes.strip_keys("PROJ-12", "PROJ-12") == ""


def test_a_commit_that_is_only_the_key_gives_way_to_the_next(repo: Repo) -> None:
    repo.commit("a", "x\n", "PROJ-4")
    repo.commit("b", "x\n", "PROJ-4 ship it")
    built = notes.build(
        commits(repo, "main..develop"),
        None,
        feature_types=FEATURE_TYPES,
        fix_types=FIX_TYPES,
        title="t",
        rev_range="r",
    )
    assert built.sections["Other"][0].summary == "ship it"


# -- Jira ----------------------------------------------------------------------------------------
def test_notes_with_jira_take_summaries_and_types_from_one_search(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    history(repo)
    jira.clear_requests()
    result = run(repo, "release", "notes")
    assert result.code == 0, result.err
    assert result.err == ""
    assert jira.count(path_contains="search") == 1, [r.path for r in jira.requests]
    assert jira.count(path_contains="/issue/") == 0
    others = jira.count() - jira.count(path_contains="serverInfo")  # the site's kind, once
    assert others == 1, [r.path for r in jira.requests]
    url = jira.url.rstrip("/") + "/browse/"
    readme, start = short(repo, "Update README"), short(repo, "Initial commit")
    assert result.out == (
        "## Unreleased\n\n"
        "### Features\n\n"
        f"- [PROJ-1]({url}PROJ-1) Add login form\n"
        f"- [PROJ-5]({url}PROJ-5) Password reset email\n\n"
        "### Bug fixes\n\n"
        f"- [PROJ-2]({url}PROJ-2) Crash when the password has “smart quotes”\n"
        f"- [PROJ-12]({url}PROJ-12) Fix typo in footer\n\n"
        "### Other\n\n"
        f"- [PROJ-3]({url}PROJ-3) Café menu: naïve façade — über-long summary that goes on "
        "and on well beyond sixty characters of text\n\n"
        "### Other changes\n\n"
        f"- Initial commit ({start})\n"
        f"- OPS-1 rotate certificates ({short(repo, 'OPS-1')})\n"
        f"- Update README ({readme})\n"
    )
    data = json.loads(run(repo, "--json", "release", "notes").out)
    assert data["jira"] == "used"
    assert data["sections"]["bug_fixes"][0]["type"] == "Bug"


def test_a_key_jira_does_not_have_keeps_its_commit_subject(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    repo.commit("a", "x\n", "PROJ-1 the form")
    repo.commit("b", "x\n", "PROJ-999: something Jira never heard of")
    result = run(repo, "--json", "release", "notes")
    assert result.code == 0, result.err
    other = json.loads(result.out)["sections"]["other"]
    assert other == [
        {
            "key": "PROJ-999",
            "summary": "something Jira never heard of",
            "type": None,
            "url": None,
            "commits": [repo.git("rev-parse", "HEAD")],
        }
    ]
    assert json.loads(result.out)["sections"]["features"][0]["summary"] == "Add login form"
    assert jira.count(path_contains="search") <= 2  # Cloud asks again without the unknown key


def test_unreachable_jira_warns_and_prints_the_notes_from_git(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    jira.stop()
    result = run(repo, "release", "notes")
    assert result.code == 0
    assert result.err.startswith("warning: Jira could not be asked (")
    assert result.err.rstrip().endswith("summaries are commit subjects")
    assert len(result.err.strip().splitlines()) == 1
    data = json.loads(run(repo, "release", "notes", "--format", "json").out)
    assert data["jira"].startswith("unreachable: ")
    monkeypatch.delenv("JIRAFLOW_JIRA_URL")
    without = run(repo, "release", "notes")
    assert without.err == "" and without.out == result.out  # same title, same order


# -- ranges and titles ---------------------------------------------------------------------------
def release(repo: Repo, run, version: str) -> None:
    assert run(repo, "release", "start", version).code == 0
    assert run(repo, "release", "finish", "-m", f"Release {version}").code == 0
    repo.git("checkout", "-q", "develop")


def test_default_range_is_since_the_last_version_tag(repo: Repo, run) -> None:
    git_repo = GitRepo.discover(str(repo.path))
    assert notes.default_range(git_repo, "") == "HEAD"
    repo.commit("a", "x\n", "PROJ-1 first")
    release(repo, run, "1.0.0")
    repo.git("tag", "not-a-version")
    repo.commit("b", "x\n", "PROJ-2 second")
    assert notes.default_range(git_repo, "") == "1.0.0..HEAD"
    assert notes.default_range(git_repo, "v") == "HEAD"
    data = json.loads(run(repo, "release", "notes", "--format", "json").out)
    assert (data["title"], data["range"]) == ("Unreleased", "1.0.0..HEAD")
    assert [e["key"] for e in data["sections"]["other"]] == ["PROJ-2"]


def test_titles_are_the_version_of_a_release_branch_or_tag(repo: Repo, run) -> None:
    repo.commit("a", "x\n", "PROJ-1 first")
    release(repo, run, "1.0.0")
    repo.commit("b", "x\n", "PROJ-2 second")
    assert run(repo, "release", "start", "1.1.0").code == 0

    def title_range(*args: str) -> tuple[str, str]:
        result = run(repo, "--json", "release", "notes", *args)
        assert result.code == 0, result.err
        data = json.loads(result.out)
        return data["title"], data["range"]

    assert title_range() == ("1.1.0", "1.0.0..HEAD")  # on the release branch
    assert title_range("1.0.0..release/1.1.0") == ("1.1.0", "1.0.0..release/1.1.0")
    assert title_range("1.0.0..develop") == ("Unreleased", "1.0.0..develop")
    assert run(repo, "release", "finish", "-m", "Release 1.1.0").code == 0
    assert title_range("1.0.0..1.1.0") == ("1.1.0", "1.0.0..1.1.0")
    repo.git("checkout", "-q", "main")  # just released: the notes of that release
    assert title_range() == ("1.1.0", "1.0.0..1.1.0")
    repo.git("checkout", "-q", "--detach", "1.0.0")  # a CI job building the first tag
    assert title_range() == ("1.0.0", "1.0.0")


def test_a_new_release_branch_on_a_tagged_commit_has_no_changes(repo: Repo, run) -> None:
    release(repo, run, "1.0.0")
    repo.git("merge", "-q", "--ff-only", "main")  # develop is where main is: on the tag
    assert run(repo, "release", "start", "1.1.0").code == 0
    result = run(repo, "release", "notes")
    assert result.out == "## 1.1.0\n\nNo changes.\n"


def test_version_bumps_are_no_news(repo: Repo, run) -> None:
    add_config(repo, '[release]\nversion_files = ["VERSION"]\n')
    repo.commit("VERSION", "1.0.0\n", "Add VERSION")
    repo.commit("a", "x\n", "PROJ-1 first")
    assert run(repo, "release", "start", "1.1.0").code == 0
    assert repo.git("log", "-1", "--format=%s") == "Bump version to 1.1.0"
    result = run(repo, "release", "notes")
    assert result.code == 0, result.err
    assert "Bump version" not in result.out
    assert result.out.startswith("## 1.1.0\n\n### Other\n\n- PROJ-1 first\n")
    assert "- Add VERSION (" in result.out


def test_version_tag_prefix(repo: Repo, run) -> None:
    repo.git("config", "gitflow.prefix.versiontag", "v")
    release(repo, run, "2.0.0")
    repo.commit("a", "x\n", "PROJ-8 later")
    data = json.loads(run(repo, "--json", "release", "notes").out)
    assert data["range"] == "v2.0.0..HEAD"
    data = json.loads(run(repo, "--json", "release", "notes", "v2.0.0").out)
    assert (data["title"], data["range"]) == ("2.0.0", "v2.0.0")


# -- Markdown and JSON ---------------------------------------------------------------------------
def sample() -> notes.Notes:
    unlinked = [
        notes.Commit("a" * 40, ["b" * 40], "# not a heading [draft]", ""),
        notes.Commit("c" * 40, ["d" * 40], "1. first", "", "ccccccccc"),
    ]
    sections: dict[str, list[notes.Entry]] = {name: [] for name in notes.SECTIONS}
    sections["Bug fixes"] = [
        notes.Entry("PROJ-2", "Crash in __init__ on [ok] *args", "Bug", "https://j/browse/PROJ-2"),
        notes.Entry("PROJ-9", "# snake_case <b>stays</b> `code`", "", "", ["e" * 40]),
    ]
    return notes.Notes("1.2.0", "1.1.0..HEAD", sections, unlinked, "used")


def test_markdown_escapes_little() -> None:
    assert notes.markdown(sample()) == (
        "## 1.2.0\n\n"
        "### Bug fixes\n\n"
        r"- [PROJ-2](https://j/browse/PROJ-2) Crash in \_\_init\_\_ on \[ok\] \*args" "\n"
        r"- PROJ-9 # snake_case \<b>stays\</b> `code`" "\n\n"
        "### Other changes\n\n"
        r"- \# not a heading \[draft\] (aaaaaaa)" "\n"
        r"- 1\. first (ccccccccc)" "\n"
    )  # fmt: skip
    assert notes.escape("naïve “quotes” — snake_case, 2 < 3, a-b") == (
        "naïve “quotes” — snake_case, 2 < 3, a-b"
    )


def test_json_shape() -> None:
    assert notes.to_json(sample()) == {
        "title": "1.2.0",
        "range": "1.1.0..HEAD",
        "jira": "used",
        "sections": {
            "features": [],
            "bug_fixes": [
                {
                    "key": "PROJ-2",
                    "summary": "Crash in __init__ on [ok] *args",
                    "type": "Bug",
                    "url": "https://j/browse/PROJ-2",
                    "commits": [],
                },
                {
                    "key": "PROJ-9",
                    "summary": "# snake_case <b>stays</b> `code`",
                    "type": None,
                    "url": None,
                    "commits": ["e" * 40],
                },
            ],
            "other": [],
        },
        "other_changes": [
            {"sha": "a" * 40, "subject": "# not a heading [draft]"},
            {"sha": "c" * 40, "subject": "1. first"},
        ],
    }


def test_format_json_and_the_global_json_agree(repo: Repo, run) -> None:
    history(repo)
    one = run(repo, "release", "notes", "--format", "json")
    two = run(repo, "--json", "release", "notes")
    assert one.code == two.code == 0
    assert one.out == two.out
    data = json.loads(one.out)
    assert list(data) == ["title", "range", "jira", "sections", "other_changes"]
    assert data["jira"] == "not configured"
    assert [e["key"] for e in data["sections"]["features"]] == ["PROJ-1", "PROJ-5"]
    assert run(repo, "--json", "release", "notes", "--format", "md").out.startswith("## ")


# -- CHANGELOG.md --------------------------------------------------------------------------------
SECTION = "## 1.2.0\n\n### Features\n\n- PROJ-1 Add login form\n"


def test_a_new_changelog_gets_a_header() -> None:
    assert notes.prepend_changelog(None, SECTION) == "# Changelog\n\n" + SECTION
    assert notes.prepend_changelog("\n", SECTION) == "# Changelog\n\n" + SECTION


def test_the_section_goes_below_the_header_and_its_text() -> None:
    existing = "# Changelog\n\nAll notable changes.\n\n## [1.1.0] - 2025-12-01\n\n- older\n"
    assert notes.prepend_changelog(existing, SECTION) == (
        "# Changelog\n\nAll notable changes.\n\n"
        + SECTION
        + "\n## [1.1.0] - 2025-12-01\n\n- older\n"
    )
    no_header = "## 1.1.0\n\n- older\n"
    assert notes.prepend_changelog(no_header, SECTION) == SECTION + "\n" + no_header


def test_the_same_release_is_replaced_not_repeated() -> None:
    once = notes.prepend_changelog("# Changes\n\n## 1.1.0\n\n- older\n", SECTION)
    assert notes.prepend_changelog(once, SECTION) == once
    again = "## 1.2.0 (2026-01-02)\n\n### Bug fixes\n\n- PROJ-2 Crash\n"
    replaced = notes.prepend_changelog(once, again)
    assert replaced == "# Changes\n\n" + again + "\n## 1.1.0\n\n- older\n"
    # a release further down is replaced where it is
    middle = "# Changelog\n\n## 1.3.0\n\n- newer\n\n## [1.2.0]\n\n- stale\n\n## 1.1.0\n\n- older\n"
    assert notes.prepend_changelog(middle, SECTION) == (
        "# Changelog\n\n## 1.3.0\n\n- newer\n\n" + SECTION + "\n## 1.1.0\n\n- older\n"
    )


def test_headings_in_code_blocks_are_not_releases() -> None:
    existing = "# Changelog\n\nUsage:\n\n```\n## 1.2.0\n```\n"
    assert notes.prepend_changelog(existing, SECTION) == existing + "\n" + SECTION


@given(
    st.lists(st.sampled_from(["1.0.0", "1.1.0", "Unreleased", "2.0.0-rc.1"]), unique=True),
    st.sampled_from(["1.1.0", "Unreleased", "3.0.0"]),
    st.booleans(),
)
def test_prepending_twice_is_prepending_once(older: list[str], title: str, header: bool) -> None:
    existing = ("# Changelog\n\nIntro.\n\n" if header else "") + "".join(
        f"## {v}\n\n- PROJ-{i + 1} thing\n\n" for i, v in enumerate(older)
    )
    section = f"## {title}\n\n### Other\n\n- PROJ-99 new\n"
    once = notes.prepend_changelog(existing or None, section)
    assert notes.prepend_changelog(once, section) == once
    assert once.count(f"## {title}\n") == 1
    assert once.endswith("\n") and "\n\n\n" not in once


def test_changelog_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(notes.prepend_changelog(None, SECTION))
    path.write_text(notes.prepend_changelog(path.read_text(), SECTION))
    assert path.read_text().count("## 1.2.0") == 1
