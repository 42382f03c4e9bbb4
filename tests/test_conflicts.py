"""Every finish step that can conflict: --abort restores exactly, --continue completes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gitutil import Repo
from hintutil import conflicting_feature, resolve


def release_conflicting_on_back_merge(repo: Repo, run, kind: str = "release") -> None:
    """main merges cleanly, then merging the tag back into develop conflicts."""
    repo.commit("shared.txt", "base\n", "add shared")
    run(repo, kind, "start", "1.0")
    repo.commit("shared.txt", "release\n", "release edit")
    repo.git("checkout", "-q", "develop")
    repo.commit("shared.txt", "develop\n", "develop edit")
    repo.git("checkout", "-q", f"{kind}/1.0")


def release_conflicting_on_main(repo: Repo, run) -> None:
    """main has a change (an old hotfix made by hand) that conflicts with the release."""
    repo.commit("shared.txt", "base\n", "add shared")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "develop")
    repo.commit("shared.txt", "main\n", "main edit")
    repo.git("checkout", "-q", "develop")
    run(repo, "release", "start", "1.0")
    repo.commit("shared.txt", "release\n", "release edit")


SCENARIOS: dict[str, tuple[Callable[..., None], list[str]]] = {
    "feature merge": (conflicting_feature, ["feature", "finish"]),
    "feature fast-forward": (lambda r, run: conflicting_feature(r, run, 1), ["feature", "finish"]),
    "feature squash": (conflicting_feature, ["feature", "finish", "--squash"]),
    "feature rebase": (conflicting_feature, ["feature", "finish", "--rebase"]),
    "release into main": (release_conflicting_on_main, ["release", "finish"]),
    "release back-merge": (release_conflicting_on_back_merge, ["release", "finish"]),
    "hotfix back-merge": (
        lambda r, run: release_conflicting_on_back_merge(r, run, "hotfix"),
        ["hotfix", "finish"],
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_abort_restores_everything(repo: Repo, run, scenario: str) -> None:
    setup, command = SCENARIOS[scenario]
    setup(repo, run)
    (repo.path / "untracked.txt").write_text("mine\n")
    before = repo.snapshot()
    result = run(repo, *command)
    assert result.code == 5, result.err
    assert "shared.txt" in result.err and "--continue" in result.err and "--abort" in result.err
    assert repo.snapshot() != before
    result = run(repo, command[0], "finish", "--abort")
    assert result.code == 0, result.err
    assert repo.snapshot() == before
    assert (repo.path / "untracked.txt").read_text() == "mine\n"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_continue_completes_the_finish(repo: Repo, run, scenario: str) -> None:
    setup, command = SCENARIOS[scenario]
    setup(repo, run)
    kind = command[0]
    branch = repo.branch()
    assert run(repo, *command).code == 5
    still = run(repo, kind, "finish", "--continue")
    assert still.code == 5 and "still have conflicts: shared.txt" in still.err
    resolve(repo)
    result = run(repo, kind, "finish", "--continue")
    for _ in range(3):  # a rebase stops again at each conflicting commit
        if "stopped again" not in result.err:
            break
        resolve(repo)
        result = run(repo, kind, "finish", "--continue")
    assert result.code == 0, result.err
    assert not repo.exists(f"refs/heads/{branch}")
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""
    assert (repo.path / "shared.txt").read_text() == "resolved\n"
    if kind == "feature":
        assert repo.branch() == "develop"
    else:
        assert repo.branch() == "develop"
        assert repo.git("rev-parse", "1.0^{commit}") == repo.git("rev-parse", "main")
        assert repo.git("merge-base", "main", "develop") == repo.git("rev-parse", "main")
        assert repo.git("show", "main:shared.txt") in ("release", "resolved")
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()


def test_release_abort_after_main_and_tag_moved(repo: Repo, run) -> None:
    """The back-merge conflicts after main was merged and tagged: all of it goes back."""
    release_conflicting_on_back_merge(repo, run)
    main_before = repo.git("rev-parse", "main")
    assert run(repo, "release", "finish").code == 5
    assert repo.git("rev-parse", "main") != main_before and repo.exists("refs/tags/1.0")
    assert run(repo, "release", "finish", "--abort").code == 0
    assert repo.git("rev-parse", "main") == main_before
    assert not repo.exists("refs/tags/1.0")
    assert repo.branch() == "release/1.0"


def test_other_commands_refuse_while_a_finish_is_stopped(repo: Repo, run) -> None:
    conflicting_feature(repo, run)
    assert run(repo, "feature", "finish").code == 5
    result = run(repo, "feature", "start", "next")
    assert result.code == 5
    assert "feature finish of 'feature/clash' is in progress" in result.err
    wrong = run(repo, "release", "finish", "--continue")
    assert wrong.code == 2 and "jiraflow feature finish --continue" in wrong.err


def test_continue_without_anything_to_continue(repo: Repo, run) -> None:
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 2 and "no feature finish to continue" in result.err


def test_an_interrupted_finish_can_be_continued(repo: Repo, run, mocker) -> None:
    """Ctrl-C between two steps (the clock of a real interrupt cannot be made real)."""
    from jiraflow.gitflow import journal

    run(repo, "release", "start", "2.0")
    repo.commit()
    real = journal._run_step
    calls = {"n": 0}

    def interrupt_on_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    mocker.patch.object(journal, "_run_step", side_effect=interrupt_on_third)
    result = run(repo, "release", "finish")
    assert result.code == 130 and "--continue" in result.err
    mocker.stopall()
    assert run(repo, "release", "finish", "--continue").code == 0
    assert repo.exists("refs/tags/2.0") and not repo.exists("refs/heads/release/2.0")
    assert calls["n"] == 3


def test_a_second_jiraflow_process_is_refused(repo: Repo, run) -> None:
    import subprocess
    import sys

    lock = repo.path / ".git" / "jiraflow" / "lock"
    holder = (
        "import sys, time\nfrom jiraflow.gitflow import journal\nfrom jiraflow.git import "
        "GitRepo\nwith journal.lock(GitRepo.discover(sys.argv[1])):\n"
        "    print('held', flush=True)\n    time.sleep(30)\n"
    )
    sleeper = subprocess.Popen(
        [sys.executable, "-P", "-c", holder, str(repo.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert sleeper.stdout is not None and sleeper.stdout.readline() == "held\n"
        before = repo.snapshot()
        result = run(repo, "feature", "start", "x")
        assert result.code == 5 and f"pid {sleeper.pid}" in result.err
        assert repo.snapshot() == before
    finally:
        sleeper.kill()
        sleeper.wait()
    # the holder died (SIGKILL): the OS released its lock; the file stays, emptied after use
    assert run(repo, "feature", "start", "x").code == 0
    assert lock.read_text() == ""


def test_continued_merge_message_has_no_conflict_notes(repo: Repo, run) -> None:
    conflicting_feature(repo, run)
    assert run(repo, "feature", "finish").code == 5
    resolve(repo)
    assert run(repo, "feature", "finish", "--continue").code == 0
    message = repo.git("log", "-1", "--format=%B", "develop")
    assert message.strip() == "Merge branch 'feature/clash' into develop"


def test_an_interrupted_start_puts_back_what_it_did(repo: Repo, run, mocker) -> None:
    from jiraflow.gitflow import journal

    real = journal._run_step
    calls = {"n": 0}

    def interrupt_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    mocker.patch.object(journal, "_run_step", side_effect=interrupt_second)
    before = repo.snapshot()
    assert run(repo, "feature", "start", "slow", "--base", "main").code == 130
    mocker.stopall()
    assert repo.snapshot()[:2] == before[:2]  # the half-made branch is gone, HEAD is back
    assert run(repo, "feature", "start", "other").code == 0


def test_release_push_is_atomic(repo: Repo, run) -> None:
    run(repo, "release", "start", "1.0")
    repo.commit()
    repo.push_unseen("develop")
    remote_main = repo.git("ls-remote", "origin", "refs/heads/main")
    result = run(repo, "release", "finish", "--push")
    assert result.code == 6 and "git push to 'origin' failed" in result.err
    assert repo.git("ls-remote", "origin", "refs/heads/main") == remote_main
    assert repo.git("ls-remote", "origin", "refs/tags/1.0") == ""
    aborted = run(repo, "release", "finish", "--abort")
    assert aborted.code == 0 and "still has what this finish pushed" not in aborted.err
