"""Every documented exit code, each with the one- or two-line message a user gets."""

from __future__ import annotations

import pytest

from gitutil import Repo


def assert_short(err: str) -> None:
    assert "Traceback" not in err
    assert 1 <= len(err.strip().splitlines()) <= 2, err


def test_exit_0_and_version(repo: Repo, run) -> None:
    result = run(repo, "--version")
    assert result.code == 0 and "jiraflow" in result.out


def test_exit_1_internal_error_without_traceback_unless_debug(repo: Repo, run, mocker) -> None:
    # an internal bug cannot be made real on purpose, so one is injected
    mocker.patch("jiraflow.gitflow.start.plan_start", side_effect=RuntimeError("boom"))
    result = run(repo, "feature", "start", "x")
    assert result.code == 1
    assert "internal error: RuntimeError: boom" in result.err and "--debug" in result.err
    assert_short(result.err)
    with pytest.raises(RuntimeError):
        run(repo, "--debug", "feature", "start", "x")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["feature", "start", "a..b"], "cannot be used in a branch name: it contains '..'"),
        (["feature", "start", "with space"], "it contains a space"),
        (["feature", "frobnicate"], "no such command"),
        (["feature", "finish", "--continue", "--abort"], "cannot be used together"),
        (["-C", "/nonexistent/place", "feature", "list"], "is not a directory"),
    ],
)
def test_exit_2_usage(repo: Repo, run, args: list[str], message: str) -> None:
    result = run(repo, *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_exit_2_when_the_current_branch_is_not_of_the_type(repo: Repo, run) -> None:
    result = run(repo, "feature", "finish")
    assert result.code == 2
    assert "the current branch 'develop' is not a feature branch" in result.err
    assert_short(result.err)


def test_exit_3_unknown_key_in_the_repository_file(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text("[gitflow]\ndevelopp = 'dev'\n")
    result = run(repo, "feature", "list")
    assert result.code == 3
    assert ".jiraflow.toml: unknown key 'gitflow.developp'" in result.err
    assert_short(result.err)


def test_exit_3_wrong_type(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text("[finish]\npush = 'yes'\n")
    result = run(repo, "feature", "list")
    assert result.code == 3
    assert "'finish.push' must be true or false, not 'yes'" in result.err


def test_exit_3_invalid_toml(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text("[gitflow\n")
    result = run(repo, "feature", "list")
    assert result.code == 3 and "not valid TOML" in result.err
    assert_short(result.err)


def test_exit_3_never_initialised(make_repo, run) -> None:
    repo = make_repo(init=False)
    result = run(repo, "feature", "start", "x")
    assert result.code == 3
    assert "the develop branch 'develop' does not exist" in result.err
    assert "jiraflow init" in result.err
    assert_short(result.err)


def test_uninitialised_repository_with_develop_uses_the_defaults(make_repo, run) -> None:
    repo = make_repo(init=False)
    repo.git("branch", "develop")
    assert run(repo, "feature", "start", "x").code == 0
    assert repo.branch() == "feature/x"


@pytest.mark.parametrize(
    "error",
    ["AuthError", "RemoteError", "PartialError", "ConfigError", "RepoStateError", "UsageError"],
)
def test_every_error_class_maps_to_its_documented_code(repo: Repo, run, mocker, error: str) -> None:
    """4 (auth) and 7 (partial) have no Gitflow cause; the mapping is the same for all."""
    from jiraflow import errors

    cls = getattr(errors, error)
    expected = {
        "AuthError": 4,
        "RemoteError": 6,
        "PartialError": 7,
        "ConfigError": 3,
        "RepoStateError": 5,
        "UsageError": 2,
    }[error]
    mocker.patch(
        "jiraflow.gitflow.start.plan_start", side_effect=cls("what happened", "what to do")
    )
    result = run(repo, "feature", "start", "x")
    assert result.code == expected
    assert result.err == "error: what happened\nhint: what to do\n"


def test_exit_5_dirty_tree(repo: Repo, run) -> None:
    run(repo, "feature", "start", "x")
    repo.commit()
    (repo.path / "README").write_text("edited\n")
    before = repo.snapshot()
    result = run(repo, "feature", "finish")
    assert result.code == 5 and "uncommitted changes" in result.err
    assert_short(result.err)
    assert repo.snapshot() == before


def test_exit_5_branch_exists(repo: Repo, run) -> None:
    run(repo, "feature", "start", "x")
    repo.git("checkout", "-q", "develop")
    result = run(repo, "feature", "start", "x")
    assert result.code == 5 and "the branch 'feature/x' already exists" in result.err
    assert_short(result.err)


def test_exit_5_git_operation_in_progress(repo: Repo, run) -> None:
    repo.commit("f.txt", "a\n")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("f.txt", "b\n")
    repo.git("checkout", "-q", "develop")
    repo.commit("f.txt", "c\n")
    repo.git("merge", "side", check=False)
    result = run(repo, "feature", "start", "x")
    assert result.code == 5 and "a merge is in progress" in result.err


def test_exit_5_release_already_open_and_tag_exists(repo: Repo, run) -> None:
    run(repo, "release", "start", "1.0")
    repo.git("checkout", "-q", "develop")
    result = run(repo, "release", "start", "1.1")
    assert result.code == 5 and "the release branch 'release/1.0' is still open" in result.err
    repo.git("tag", "2.0")
    result = run(repo, "hotfix", "start", "2.0")
    assert result.code == 5 and "the tag '2.0' already exists" in result.err


def test_exit_5_outside_a_repository(tmp_path, run) -> None:
    result = run(tmp_path, "feature", "list")
    assert result.code == 5 and "is not inside a git working tree" in result.err


def test_exit_6_remote_unreachable(repo: Repo, run) -> None:
    repo.git("remote", "set-url", "origin", str(repo.path.parent / "gone.git"))
    run(repo, "feature", "start", "x")
    repo.commit()
    before = repo.snapshot()
    result = run(repo, "feature", "publish")
    assert result.code == 6
    assert "git push to 'origin' failed: " in result.err
    assert "does not appear to be a git repository" in result.err
    assert "Nothing was changed" in result.err
    assert_short(result.err)
    assert run(repo, "feature", "finish", "--fetch").code == 6
    # nothing was lost: the branch is still there (publish's journal is discarded by --abort)
    assert repo.snapshot()[0] == before[0]


def test_exit_3_bad_tag_message_template(repo: Repo, run) -> None:
    run(repo, "config", "set", "release.tag_message", "Release {x}")
    run(repo, "release", "start", "1.0")
    repo.commit()
    result = run(repo, "release", "finish")
    assert (
        result.code == 3
        and "release.tag_message = 'Release {x}' is not a valid template" in result.err
    )


@pytest.mark.parametrize("args", [("status",), ("feature", "finish", "x"), ("feature", "list")])
def test_exit_5_when_git_is_not_on_path(repo: Repo, args: tuple[str, ...]) -> None:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "jiraflow", *args],
        cwd=repo.path,
        env={**os.environ, "PATH": str(repo.path / "no-such-dir")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.splitlines() == [
        "error: git is not installed or not on PATH",
        "hint: Install git 2.30 or newer.",
    ]
