"""Release and hotfix versions from the version tags, and the version files a start bumps."""

from __future__ import annotations

import io
import itertools
import json
import sys

import pytest

from gitutil import Repo
from jiraflow.errors import ConfigError, UsageError
from jiraflow.gitflow.version_files import bumped
from jiraflow.gitflow.versions import Version, bump, check_new, parse


# -- semantic versions ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0", Version(0, 0, 0)),
        ("1.2.3", Version(1, 2, 3)),
        ("10.20.30", Version(10, 20, 30)),
        ("1.0.0-alpha", Version(1, 0, 0, "alpha")),
        ("1.0.0-0.3.7", Version(1, 0, 0, "0.3.7")),
        ("1.0.0-x.7.z.92", Version(1, 0, 0, "x.7.z.92")),
        ("1.0.0-x-y-z.--", Version(1, 0, 0, "x-y-z.--")),
        ("1.0.0-alpha+001", Version(1, 0, 0, "alpha", "001")),
        ("1.0.0+20130313144700", Version(1, 0, 0, "", "20130313144700")),
        ("1.0.0-beta+exp.sha.5114f85", Version(1, 0, 0, "beta", "exp.sha.5114f85")),
        ("1.0.0-0A.is.legal", Version(1, 0, 0, "0A.is.legal")),
    ],
)
def test_parse_accepts_semantic_versions(text: str, expected: Version) -> None:
    version = parse(text)
    assert version is not None
    assert (version.major, version.minor, version.patch, version.prerelease, version.build) == (
        expected.major,
        expected.minor,
        expected.patch,
        expected.prerelease,
        expected.build,
    )
    assert str(version) == text


@pytest.mark.parametrize(
    "text",
    [
        "1",
        "1.2",
        "1.0",
        "v1.2.3",
        "01.2.3",
        "1.02.3",
        "1.2.03",
        "1.2.3-01",  # numeric pre-release identifiers have no leading zeros
        "1.2.3-",
        "1.2.3+",
        "1.2.3-a..b",
        "1.2.3.4",
        "1.2.3 ",
        "-1.2.3",
        "1.2.3-α",
        "1.2.٣",  # an Arabic-Indic digit is not a digit here
        "latest",
        "",
    ],
)
def test_parse_refuses_anything_else(text: str) -> None:
    assert parse(text) is None


def test_precedence_follows_semver_org() -> None:
    # semver.org, item 11, plus the numeric and build metadata rules
    ordered = [
        "0.9.9",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.2.0",
        "1.10.0",
        "2.0.0",
        "10.0.0",
    ]
    versions = [parse(t) for t in ordered]
    assert all(v is not None for v in versions)
    for lower, higher in itertools.pairwise(versions):
        assert lower is not None and higher is not None
        assert lower < higher and higher > lower and lower != higher, (lower, higher)
    shuffled = list(reversed(versions))
    assert [str(v) for v in sorted(shuffled)] == ordered  # type: ignore[type-var]


def test_build_metadata_is_ignored_for_ordering() -> None:
    a, b, c = parse("1.0.0+a"), parse("1.0.0+b"), parse("1.0.0")
    assert a == b == c and hash(a) == hash(b) == hash(c)
    assert not (a is not None and b is not None and a < b)
    assert str(a) == "1.0.0+a"


@pytest.mark.parametrize(
    ("current", "part", "expected"),
    [
        (None, "major", "1.0.0"),
        (None, "minor", "0.1.0"),
        (None, "patch", "0.0.1"),
        ("1.4.2", "major", "2.0.0"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("1.4.2+build.7", "patch", "1.4.3"),
        # a pre-release is followed by its own release when that is the bump asked for
        ("1.5.0-rc.1", "patch", "1.5.0"),
        ("1.5.0-rc.1", "minor", "1.5.0"),
        ("1.5.0-rc.1", "major", "2.0.0"),
        ("1.5.1-rc.1", "minor", "1.6.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
    ],
)
def test_bump(current: str | None, part: str, expected: str) -> None:
    assert str(bump(parse(current) if current else None, part)) == expected


def test_check_new_refuses_a_version_that_is_not_above_the_highest() -> None:
    highest = (Version(1, 4, 0), "v1.4.0")
    with pytest.raises(UsageError) as caught:
        check_new("1.3.0", highest, "release")
    assert caught.value.message == ("1.3.0 is not above 1.4.0, the highest version tag ('v1.4.0')")
    assert caught.value.hint is not None and "1.5.0" in caught.value.hint
    with pytest.raises(UsageError, match="not above"):
        check_new("1.4.0+rebuilt", highest, "hotfix")
    with pytest.raises(UsageError) as caught:
        check_new("1.4.0-rc.1", highest, "hotfix", base="support/1.x")
    assert "on 'support/1.x'" in caught.value.message
    assert caught.value.hint is not None and "--patch --base support/1.x" in caught.value.hint
    check_new("1.4.1", highest, "hotfix")
    check_new("1.3", highest, "release")  # not semver: AVH takes any name
    check_new("0.0.1", None, "release")


# -- versions from the tags, through the CLI ---------------------------------------------
def tag_develop(repo: Repo, *tags: str) -> None:
    for tag in tags:
        repo.git("tag", tag, "develop")


@pytest.mark.parametrize(
    ("flag", "branch"),
    [("--major", "release/2.0.0"), ("--minor", "release/1.5.0"), ("--patch", "release/1.4.3")],
)
def test_release_start_computes_the_version_from_the_highest_tag(
    repo: Repo, run, flag: str, branch: str
) -> None:
    tag_develop(repo, "1.2.0", "1.4.2", "1.3.9", "1.4.0")
    result = run(repo, "release", "start", flag)
    assert result.code == 0, result.err
    assert repo.branch() == branch
    version = branch.split("/")[1]
    assert f"release version {version} (the next {flag[2:]} after 1.4.2)" in result.out


def test_tag_prefix_is_honoured(repo: Repo, run) -> None:
    repo.git("config", "gitflow.prefix.versiontag", "v")  # where init and git-flow AVH keep it
    # unprefixed, non-semver and foreign tags do not count
    tag_develop(repo, "v1.4.0", "v1.2.0", "9.0.0", "v2.0", "vnext", "release-3.0.0")
    result = run(repo, "release", "start", "--minor")
    assert result.code == 0, result.err
    assert repo.branch() == "release/1.5.0"
    assert "(the next minor after 1.4.0 ('v1.4.0'))" in result.out
    repo.git("checkout", "-q", "develop")
    repo.git("branch", "-q", "-D", "release/1.5.0")
    result = run(repo, "release", "start", "1.4.0")  # the tag would be v1.4.0
    assert result.code == 5
    assert "the tag 'v1.4.0' already exists" in result.err


def test_tag_prefix_from_jiraflow_toml(repo: Repo, run) -> None:
    repo.git("config", "--unset", "gitflow.prefix.versiontag")
    assert run(repo, "config", "set", "gitflow.version_tag_prefix", "rel-").code == 0
    tag_develop(repo, "rel-0.3.0", "0.9.0")
    result = run(repo, "release", "start", "--patch")
    assert result.code == 0, result.err
    assert repo.branch() == "release/0.3.1"


def test_no_tags_start_at_zero(repo: Repo, run) -> None:
    result = run(repo, "release", "start", "--minor")
    assert result.code == 0, result.err
    assert repo.branch() == "release/0.1.0"
    assert "release version 0.1.0 (there are no version tags yet)" in result.out


def test_non_semver_tags_are_ignored(repo: Repo, run) -> None:
    tag_develop(repo, "2.0", "10", "latest", "v3.0.0", "1.2.3", "1.3.0-rc.1")
    result = run(repo, "release", "start")
    assert result.code == 0, result.err
    assert repo.branch() == "release/1.3.0"
    assert "release version 1.3.0 (the release of 1.3.0-rc.1)" in result.out


def test_an_existing_version_is_refused(repo: Repo, run) -> None:
    tag_develop(repo, "1.4.0")
    before = repo.snapshot()
    result = run(repo, "release", "start", "1.4.0")
    assert result.code == 5
    assert "error: the tag '1.4.0' already exists" in result.err
    assert repo.snapshot() == before


def test_a_backwards_version_is_refused(repo: Repo, run) -> None:
    tag_develop(repo, "1.2.0", "1.4.0")
    before = repo.snapshot()
    result = run(repo, "release", "start", "1.3.0")
    assert result.code == 2
    assert "error: 1.3.0 is not above 1.4.0, the highest version tag\n" in result.err
    assert "hint: Choose a higher version, e.g. 1.5.0 (`jiraflow release start --minor`)" in (
        result.err
    )
    assert repo.snapshot() == before
    # a name that is not a semantic version is taken as it is, as git-flow AVH does
    assert run(repo, "release", "start", "1.3").code == 0


def test_version_and_part_together_is_a_usage_error(repo: Repo, run) -> None:
    result = run(repo, "release", "start", "1.5.0", "--minor")
    assert result.code == 2
    assert "VERSION ('1.5.0') and --minor cannot be used together" in result.err
    result = run(repo, "release", "start", "--minor", "--major")
    assert result.code == 2
    assert "--major and --minor cannot be used together" in result.err
    assert run(repo, "hotfix", "start", "--minor").code == 2  # a hotfix has only --patch
    assert repo.branch() == "develop"


@pytest.fixture
def support_repo(repo: Repo, run) -> Repo:
    """1.0.0 and 1.0.1 on main, support/1.x from 1.0.1, then 1.1.0 (annotated) on main."""
    repo.git("checkout", "-q", "main")
    repo.commit("a.txt")
    repo.git("tag", "1.0.0")
    repo.commit("b.txt")
    repo.git("tag", "1.0.1")
    assert run(repo, "support", "start", "1.x", "1.0.1").code == 0
    repo.git("checkout", "-q", "main")
    repo.commit("c.txt")
    repo.git("tag", "-a", "-m", "Release 1.1.0", "1.1.0")
    repo.git("checkout", "-q", "develop")
    return repo


def test_hotfix_patch_from_main_follows_the_highest_tag_on_main(support_repo: Repo, run) -> None:
    repo = support_repo
    repo.commit("d.txt")
    tag_develop(repo, "1.5.0")  # on develop only: not released from main
    result = run(repo, "hotfix", "start", "--patch")
    assert result.code == 0, result.err
    assert repo.branch() == "hotfix/1.1.1"
    assert repo.git("rev-parse", "hotfix/1.1.1") == repo.git("rev-parse", "main")


def test_hotfix_patch_of_a_support_branch_follows_its_tags(support_repo: Repo, run) -> None:
    repo = support_repo
    result = run(repo, "hotfix", "start", "--patch", "--base", "support/1.x")
    assert result.code == 0, result.err
    assert repo.branch() == "hotfix/1.0.2"
    assert repo.git("config", "gitflow.branch.hotfix/1.0.2.base") == "support/1.x"


def test_hotfix_of_a_support_branch_compares_with_its_tags_only(support_repo: Repo, run) -> None:
    repo = support_repo
    result = run(repo, "hotfix", "start", "0.9.0", "support/1.x")
    assert result.code == 2
    assert "0.9.0 is not above 1.0.1, the highest version tag on 'support/1.x'" in result.err
    assert "jiraflow hotfix start --patch --base support/1.x" in result.err
    # below 1.1.0 on main, but above everything on the support branch
    assert run(repo, "hotfix", "start", "1.0.2", "support/1.x").code == 0


def test_release_of_a_support_branch_compares_with_its_tags_only(support_repo: Repo, run) -> None:
    repo = support_repo
    assert run(repo, "release", "start", "1.0.3", "support/1.x").code == 0
    repo.git("checkout", "-q", "develop")
    repo.git("branch", "-q", "-D", "release/1.0.3")
    # from develop, a release must be above every version tag
    result = run(repo, "release", "start", "1.0.3")
    assert result.code == 2
    assert "1.0.3 is not above 1.1.0, the highest version tag" in result.err


def test_hotfix_without_version_takes_the_next_patch(support_repo: Repo, run) -> None:
    result = run(repo := support_repo, "hotfix", "start")
    assert result.code == 0, result.err
    assert repo.branch() == "hotfix/1.1.1"
    assert "hotfix version 1.1.1 (the next patch after 1.1.0)" in result.out


# -- asking on a terminal --------------------------------------------------------------------
def fake_terminal(monkeypatch: pytest.MonkeyPatch, answers: str, *, stdout_tty: bool) -> None:
    stdin = io.StringIO(answers)
    stdin.isatty = lambda: True  # type: ignore[method-assign]  # a TTY cannot be made real here
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: stdout_tty)


def test_release_start_asks_on_a_terminal(repo: Repo, run, monkeypatch) -> None:
    tag_develop(repo, "1.4.0")
    fake_terminal(monkeypatch, "1.7.0\n", stdout_tty=True)
    result = run(repo, "release", "start")
    assert result.code == 0, result.err
    assert "Release version [1.5.0]: " in result.err  # a prompt is for people: stderr
    assert repo.branch() == "release/1.7.0"
    assert "next minor" not in result.out


def test_release_start_proposal_is_the_default_answer(repo: Repo, run, monkeypatch) -> None:
    tag_develop(repo, "1.4.0")
    fake_terminal(monkeypatch, "\n", stdout_tty=True)
    result = run(repo, "release", "start")
    assert result.code == 0, result.err
    assert repo.branch() == "release/1.5.0"


def test_an_answer_below_the_highest_tag_is_refused(repo: Repo, run, monkeypatch) -> None:
    tag_develop(repo, "1.4.0")
    fake_terminal(monkeypatch, "1.0.0\n", stdout_tty=True)
    result = run(repo, "release", "start")
    assert result.code == 2
    assert "1.0.0 is not above 1.4.0" in result.err
    assert repo.branch() == "develop"


def test_no_question_when_stdout_is_not_a_terminal(repo: Repo, run, monkeypatch) -> None:
    tag_develop(repo, "1.4.0")
    fake_terminal(monkeypatch, "9.9.9\n", stdout_tty=False)
    result = run(repo, "release", "start")
    assert result.code == 0, result.err
    assert "Release version" not in result.out
    assert repo.branch() == "release/1.5.0"
    assert "release version 1.5.0 (the next minor after 1.4.0)" in result.out


def test_no_question_with_a_part_flag(repo: Repo, run, monkeypatch) -> None:
    tag_develop(repo, "1.4.0")
    fake_terminal(monkeypatch, "", stdout_tty=True)  # a question would read end of input
    result = run(repo, "release", "start", "--major")
    assert result.code == 0, result.err
    assert repo.branch() == "release/2.0.0"


def test_dry_run_says_the_version_and_creates_nothing(repo: Repo, run, monkeypatch) -> None:
    tag_develop(repo, "1.4.0")
    monkeypatch.setenv("JIRAFLOW_RELEASE_VERSION_FILES", "VERSION")
    repo.commit("VERSION", "1.4.0\n")
    fake_terminal(monkeypatch, "", stdout_tty=True)  # a dry run asks nothing
    before = repo.snapshot()
    result = run(repo, "--dry-run", "release", "start")
    assert result.code == 0, result.err
    assert result.out == (
        "release version 1.5.0 (the next minor after 1.4.0)\n"
        "Would run:\n"
        "  git checkout --quiet -b release/1.5.0 develop\n"
        "  write VERSION\n"
        "  git add -- VERSION\n"
        "  git commit --quiet --no-verify -m 'Bump version to 1.5.0'\n"
    )
    assert repo.snapshot() == before
    assert (repo.path / "VERSION").read_text() == "1.4.0\n"


# -- version files -----------------------------------------------------------------------------
PYPROJECT = """\
# the project
[build-system]
requires = ["hatchling"]
version = "not this one"

[project]
name = "demo"
dependencies = [
    "click>=8",  # version = "0.0.0"
]
version = "1.4.0"   # keep me
description = "x"

[tool.other]
version = "9.9.9"
"""


def test_pyproject_project_version() -> None:
    assert bumped("pyproject.toml", PYPROJECT, "1.5.0") == PYPROJECT.replace(
        'version = "1.4.0"   # keep me', 'version = "1.5.0"   # keep me'
    )


def test_pyproject_poetry_and_project_both_bumped() -> None:
    text = "[tool.poetry]\nname = 'x'\nversion = '0.1.0'\n\n[project]\nversion=\"0.1.0\"\n"
    assert bumped("sub/pyproject.toml", text, "0.2.0") == (
        "[tool.poetry]\nname = 'x'\nversion = '0.2.0'\n\n[project]\nversion=\"0.2.0\"\n"
    )


def test_pyproject_crlf_is_kept() -> None:
    text = '[project]\r\nname = "x"\r\nversion = "1.0.0"\r\n'
    assert bumped("pyproject.toml", text, "1.1.0") == text.replace("1.0.0", "1.1.0")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('[project]\nname = "x"\ndynamic = ["version"]\n', "takes its version dynamically"),
        ('[project]\nname = "x"\n[tool.other]\nversion = "1.0.0"\n', "has no version"),
        ('project.version = "1.0.0"\n', "does not have its version as one line"),
        ("[project\n", "is not valid TOML"),
    ],
)
def test_pyproject_without_a_version_to_bump(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        bumped("pyproject.toml", text, "1.5.0")
    assert caught.value.message.startswith("release.version_files: pyproject.toml ")
    assert why in caught.value.message


PACKAGE = """\
{
  "name": "demo",
  "config": {"version": "nested", "list": ["version", {"version": "deep"}]},
  "description": "a \\"version\\": \\"x\\" in a string {[",
  "version" : "1.4.0",
  "dependencies": {}
}
"""


def test_package_json_top_level_version_only() -> None:
    new = bumped("package.json", PACKAGE, "1.5.0")
    assert new == PACKAGE.replace('"version" : "1.4.0"', '"version" : "1.5.0"')
    assert json.loads(new)["config"]["version"] == "nested"


def test_package_lock_top_level_and_root_package() -> None:
    lock = {
        "name": "demo",
        "version": "1.4.0",
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "demo", "version": "1.4.0"},
            "node_modules/left-pad": {"version": "1.4.0"},
        },
    }
    text = json.dumps(lock, indent=2) + "\n"
    new = json.loads(bumped("package-lock.json", text, "1.5.0"))
    assert new["version"] == "1.5.0"
    assert new["packages"][""]["version"] == "1.5.0"
    assert new["packages"]["node_modules/left-pad"]["version"] == "1.4.0"
    assert bumped("package-lock.json", text, "1.5.0").count("\n") == text.count("\n")


def test_package_json_without_a_version() -> None:
    with pytest.raises(ConfigError, match=r'package\.json has no top-level "version"'):
        bumped("package.json", '{"name": "x", "config": {"version": "1.0.0"}}', "1.5.0")


def test_python_version_attribute() -> None:
    text = '"""Demo."""\n\n__version__ = "1.4.0"\nother = "1.4.0"\n'
    assert bumped("src/demo/__init__.py", text, "1.5.0") == text.replace(
        '__version__ = "1.4.0"', '__version__ = "1.5.0"'
    )
    typed = "__version__: str = '1.4.0'  # x\n"
    assert bumped("_version.py", typed, "2.0.0") == "__version__: str = '2.0.0'  # x\n"
    with pytest.raises(ConfigError, match="has no line __version__"):
        bumped("setup.py", "version = '1.0'\n", "2.0.0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.4.0\n", "1.5.0\n"), ("1.4.0", "1.5.0"), ("1.4.0\r\n", "1.5.0\r\n"), ("", "1.5.0")],
)
def test_plain_version_file(text: str, expected: str) -> None:
    assert bumped("VERSION", text, "1.5.0") == expected


def test_a_plain_file_with_more_than_a_version_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"README\.md is not a plain version file"):
        bumped("README.md", "# Demo\n\nSome text.\n", "1.5.0")


def commit_version_files(repo: Repo) -> None:
    repo.git("checkout", "-q", "develop")
    (repo.path / "src" / "demo").mkdir(parents=True)
    files = {
        "pyproject.toml": '[project]\nname = "demo"\nversion = "1.4.0"  # bumped\n',
        "package.json": '{\n  "name": "demo",\n  "version": "1.4.0"\n}\n',
        "package-lock.json": json.dumps(
            {"version": "1.4.0", "packages": {"": {"version": "1.4.0"}}}, indent=2
        ),
        "src/demo/__init__.py": '__version__ = "1.4.0"\n',
        "VERSION": "1.4.0\n",
    }
    for path, text in files.items():
        (repo.path / path).write_text(text)
    repo.git("add", "--", *files)
    repo.git("commit", "-q", "-m", "version files")
    repo.git("tag", "1.4.0")


FILES = "pyproject.toml,package.json,package-lock.json,src/demo/__init__.py,VERSION"


def test_start_bumps_and_commits_every_version_file(repo: Repo, run, monkeypatch) -> None:
    commit_version_files(repo)
    monkeypatch.setenv("JIRAFLOW_RELEASE_VERSION_FILES", FILES)
    assert run(repo, "config", "set", "release.bump_message", "chore: {version} ({tag})").code == 0
    develop = repo.git("rev-parse", "develop")
    result = run(repo, "release", "start", "--minor")
    assert result.code == 0, result.err
    assert repo.branch() == "release/1.5.0"
    assert repo.git("rev-parse", "develop") == develop
    assert repo.git("rev-parse", "release/1.5.0^") == develop
    assert repo.git("log", "-1", "--format=%s", "release/1.5.0") == "chore: 1.5.0 (1.5.0)"
    changed = repo.git("diff", "--name-only", "develop", "release/1.5.0").splitlines()
    assert sorted(changed) == sorted(FILES.split(","))
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""
    assert repo.git("show", "release/1.5.0:pyproject.toml") == (
        '[project]\nname = "demo"\nversion = "1.5.0"  # bumped'
    )
    assert json.loads(repo.git("show", "release/1.5.0:package-lock.json")) == {
        "version": "1.5.0",
        "packages": {"": {"version": "1.5.0"}},
    }
    assert repo.git("show", "release/1.5.0:src/demo/__init__.py") == '__version__ = "1.5.0"'
    assert repo.git("show", "release/1.5.0:VERSION") == "1.5.0"
    assert repo.git("show", "develop:VERSION") == "1.4.0"
    assert "set the version to 1.5.0 in pyproject.toml, package.json" in result.out


def test_hotfix_start_bumps_from_its_base_not_the_work_tree(repo: Repo, run, monkeypatch) -> None:
    commit_version_files(repo)
    monkeypatch.setenv("JIRAFLOW_RELEASE_VERSION_FILES", "VERSION")
    repo.git("checkout", "-q", "main")
    repo.commit("VERSION", "1.4.0\n", "main's version")
    repo.git("tag", "1.4.1")
    repo.git("checkout", "-q", "develop")
    repo.commit("VERSION", "2.0.0-dev\n", "develop moved on")
    result = run(repo, "hotfix", "start")
    assert result.code == 0, result.err
    assert repo.branch() == "hotfix/1.4.2"
    assert repo.git("show", "hotfix/1.4.2:VERSION") == "1.4.2"
    assert repo.git("rev-parse", "hotfix/1.4.2^") == repo.git("rev-parse", "main")


def test_already_at_the_version_makes_no_commit(repo: Repo, run, monkeypatch) -> None:
    repo.commit("VERSION", "2.0.0\n")
    monkeypatch.setenv("JIRAFLOW_RELEASE_VERSION_FILES", "VERSION")
    result = run(repo, "release", "start", "2.0.0")
    assert result.code == 0, result.err
    assert repo.git("rev-parse", "release/2.0.0") == repo.git("rev-parse", "develop")
    assert "the version files already hold 2.0.0" in result.out


@pytest.mark.parametrize(
    ("files", "content", "message"),
    [
        (
            "pyproject.toml",
            '[project]\nname = "x"\ndynamic = ["version"]\n',
            "release.version_files: pyproject.toml takes its version dynamically",
        ),
        ("VERSION", None, "release.version_files names 'VERSION', which is not in 'develop'"),
        ("src", None, "release.version_files names 'src', which is not a regular file"),
        (
            "../VERSION",
            None,
            "release.version_files names '../VERSION', which is not a path inside",
        ),
    ],
)
def test_a_version_file_that_cannot_be_bumped_changes_nothing(
    repo: Repo, run, monkeypatch, files: str, content: str | None, message: str
) -> None:
    if content is not None:
        repo.commit(files, content)
    repo.commit("src/x.py", "")
    monkeypatch.setenv("JIRAFLOW_RELEASE_VERSION_FILES", files)
    before = repo.snapshot()
    result = run(repo, "release", "start", "1.0.0")
    assert result.code == 3
    assert f"error: {message}" in result.err
    assert repo.snapshot() == before
    assert not repo.exists("refs/heads/release/1.0.0")


def test_a_failed_bump_commit_puts_everything_back(repo: Repo, run, monkeypatch) -> None:
    repo.commit("VERSION", "1.0.0\n")
    monkeypatch.setenv("JIRAFLOW_RELEASE_VERSION_FILES", "VERSION")
    # git cannot commit without an identity: the last step fails after the files are written
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var)
    repo.git("config", "user.useConfigOnly", "true")
    before = repo.snapshot()
    result = run(repo, "release", "start", "1.1.0")
    assert result.code == 5, result.out
    assert "Every branch was put back" in result.err
    assert repo.snapshot() == before
    assert (repo.path / "VERSION").read_text() == "1.0.0\n"
    assert not repo.exists("refs/heads/release/1.1.0")
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()
