"""Rules of the finish engine (gitflow/journal.py, gitflow/finish.py) that mutation testing
showed no test checked (issue 17): when `--continue` takes a stopped step as done, how it
completes a merge, squash or rebase git left half done, the hints of a stopped finish, and
the steps that bring a local target up to the remote or commit the release notes.

Real repositories with a bare origin; the CLI in-process where a command reaches the rule,
else the engine's functions on the real repository."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

import pytest

from conftest import require_merge_tree
from gitutil import Repo, Result
from hintutil import conflicting_feature
from jiraflow.git import GitRepo
from jiraflow.gitflow import journal
from jiraflow.gitflow.context import FlowContext
from jiraflow.gitflow.finish import (
    FinishOptions,
    Landed,
    _update_from_remote,
    add_changelog_commit,
    plan_finish,
)
from jiraflow.gitflow.notes import NOTES_COMMIT
from jiraflow.gitflow.plan import GIT, MERGE, PUSH, REBASE, SQUASH, WRITE, Plan, Step

Run = Callable[..., Result]


def git_repo(repo: Repo) -> GitRepo:
    return GitRepo.discover(str(repo.path))


def a_journal(steps: list[Step], branch: str | None = "develop", index: int = 0) -> journal.Journal:
    return journal.Journal("feature finish", "feature/x", {"branch": branch}, {}, steps, index)


def feature(repo: Repo, name: str = "x", commits: int = 1) -> str:
    """feature/NAME from develop with its own commits; develop checked out again."""
    repo.git("checkout", "-q", "-b", f"feature/{name}", "develop")
    for _ in range(commits):
        repo.commit(f"{name}.txt")
    repo.git("checkout", "-q", "develop")
    return repo.git("rev-parse", f"feature/{name}")


# -- hints of a stopped finish (in-process) ------------------------------------------------
def test_continue_with_conflicts_left_says_how_to_resolve_them(repo: Repo, run: Run) -> None:
    conflicting_feature(repo, run)
    assert run(repo, "feature", "finish").code == 5
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 5, result.err
    assert result.err.splitlines() == [
        "error: these files still have conflicts: shared.txt",
        "hint: Resolve them, `git add` them, then run `jiraflow feature finish --continue` again.",
    ]


def test_continue_on_the_wrong_branch_says_to_check_the_planned_one_out(
    repo: Repo, run: Run
) -> None:
    conflicting_feature(repo, run)
    assert run(repo, "feature", "finish").code == 5
    repo.git("merge", "--abort")
    repo.git("checkout", "-q", "main")
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 5, result.err
    assert result.err.splitlines() == [
        "error: the feature finish stopped on 'develop', and 'main' is checked out",
        "hint: Check it out again (`git checkout develop`), then run "
        "`jiraflow feature finish --continue` or `jiraflow feature finish --abort`.",
    ]


def test_a_damaged_journal_is_named_with_its_path(repo: Repo, run: Run) -> None:
    state = repo.path / ".git" / "jiraflow" / "state.json"
    state.parent.mkdir(exist_ok=True)
    record = {
        "operation": "feature finish",
        "branch": "feature/x",
        "head": {"branch": "develop", "commit": None},
        "refs": {},
        "steps": [],
        "next": 3,
    }
    state.write_text(json.dumps(record))
    result = run(repo, "feature", "start", "x")
    assert result.code == 5, result.err
    assert result.err.startswith(f"error: {state} is damaged ("), result.err
    assert "3 is not a step number" in result.err
    assert f"`rm {state}`" in result.err


def test_a_revert_in_progress_is_refused_with_git_revert_commands(repo: Repo, run: Run) -> None:
    repo.commit("shared.txt", "one\n")
    undone = repo.commit("shared.txt", "two\n")
    repo.commit("shared.txt", "three\n")
    repo.git("revert", "--no-edit", undone, check=False)  # conflicts: a revert in progress
    result = run(repo, "feature", "start", "x")
    assert result.code == 5, result.err
    assert result.err.splitlines() == [
        "error: a revert is in progress in this repository",
        "hint: Resolve it and run `git revert --continue`, or undo it with "
        "`git revert --abort`, first.",
    ]


# -- which branch a step runs on ------------------------------------------------------------
def test_planned_branch_is_the_one_begun_on_until_a_checkout() -> None:
    steps = [
        Step(("merge", "--quiet", "feature/x"), MERGE, source="feature/x"),
        Step(("checkout", "--quiet", "-b", "new", "main")),
        Step(("rebase", "--quiet", "develop", "feature/y"), REBASE),
        Step(("push", "origin", "develop"), PUSH),
    ]
    j = a_journal(steps, branch="develop")
    assert [journal.planned_branch(j, i) for i in range(4)] == [
        "develop",
        "develop",
        "new",
        "feature/y",
    ]


# -- already_done: one rule for each kind of step -------------------------------------------
def test_a_commit_step_is_done_once_its_branch_moved_on(repo: Repo) -> None:
    before = repo.git("rev-parse", "develop")
    step = Step(("commit", "--quiet", "-m", "m"), GIT, expect={"HEAD": before})
    g = git_repo(repo)
    assert not journal.already_done(g, step, "develop")
    repo.commit("notes.txt")
    assert journal.already_done(git_repo(repo), step, "develop")


def test_a_commit_step_on_a_detached_head_is_done_once_head_moved_on(repo: Repo) -> None:
    before = repo.git("rev-parse", "develop")
    repo.git("checkout", "-q", "--detach", "develop")
    step = Step(("commit", "--quiet", "-m", "m"), GIT, expect={"HEAD": before})
    assert not journal.already_done(git_repo(repo), step, None)
    repo.commit("notes.txt")
    assert journal.already_done(git_repo(repo), step, None)


def test_a_checkout_step_is_done_when_its_branch_is_checked_out(repo: Repo) -> None:
    step = Step(("checkout", "--quiet", "main"))
    assert not journal.already_done(git_repo(repo), step, "develop")
    repo.git("checkout", "-q", "main")
    assert journal.already_done(git_repo(repo), step, "develop")


def test_a_checkout_b_step_is_done_when_the_new_branch_is_made_and_checked_out(
    repo: Repo,
) -> None:
    step = Step(("checkout", "--quiet", "-b", "feature/new", "develop"))
    assert journal._checkout_target(step.argv) == ("feature/new", True)
    assert not journal.already_done(git_repo(repo), step, "main")
    repo.git("checkout", "-q", "-b", "feature/new", "develop")
    assert journal.already_done(git_repo(repo), step, "main")


def test_a_tag_step_is_done_when_the_tag_names_its_commit(repo: Repo) -> None:
    step = Step(("tag", "--annotate", "--message", "m", "1.0", "main"))
    assert not journal.already_done(git_repo(repo), step, "main")
    repo.git("tag", "-a", "-m", "m", "1.0", "main")
    assert journal.already_done(git_repo(repo), step, "main")


def test_a_branch_delete_step_is_done_when_the_branch_is_gone(repo: Repo) -> None:
    feature(repo)
    step = Step(("branch", "-d", "feature/x"))
    assert not journal.already_done(git_repo(repo), step, "develop")
    repo.git("branch", "-D", "feature/x")
    assert journal.already_done(git_repo(repo), step, "develop")


def test_a_remote_delete_step_is_done_when_the_remote_has_no_branch(repo: Repo) -> None:
    feature(repo)
    repo.git("push", "-q", "origin", "feature/x")
    step = Step(("push", "--quiet", "origin", "--delete", "feature/x"), PUSH)
    assert not journal.already_done(git_repo(repo), step, "develop")
    bare = repo.git("remote", "get-url", "origin")
    repo.git("--git-dir", bare, "branch", "-D", "feature/x")  # deleted there, not fetched
    assert repo.git("rev-parse", "--verify", "-q", "origin/feature/x", check=False)
    assert journal.already_done(git_repo(repo), step, "develop")
    # the remote-tracking ref goes too
    assert repo.git("rev-parse", "--verify", "-q", "origin/feature/x", check=False) == ""


# -- completing a merge or squash git left half done ----------------------------------------
def test_a_merge_committed_before_git_tidied_up_is_done(repo: Repo) -> None:
    tip = feature(repo, commits=2)
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/x")
    (repo.path / ".git" / "MERGE_HEAD").write_text(tip + "\n")  # git killed before tidying
    step = Step(("merge", "--quiet", "--no-ff", "--no-edit", "feature/x"), MERGE, source=tip)
    j = a_journal([step])
    assert journal._complete(git_repo(repo), j, step) is True
    assert repo.in_progress() == ()


def test_an_untouched_merge_in_progress_is_put_back_to_run_again(repo: Repo) -> None:
    require_merge_tree()
    tip = feature(repo, commits=2)
    develop = repo.commit("other.txt")
    repo.git("merge", "-q", "--no-ff", "--no-commit", "feature/x")  # as a refusing hook leaves it
    step = Step(("merge", "--quiet", "--no-ff", "--no-edit", "feature/x"), MERGE, source=tip)
    assert journal._is_merge_result(git_repo(repo), step)
    assert journal._complete(git_repo(repo), a_journal([step]), step) is False
    assert repo.in_progress() == ()
    assert repo.git("rev-parse", "develop") == develop
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""


def test_a_clean_tree_after_the_merge_is_done(repo: Repo) -> None:
    tip = feature(repo, commits=2)
    step = Step(("merge", "--quiet", "--no-ff", "--no-edit", "feature/x"), MERGE, source=tip)
    assert journal._complete(git_repo(repo), a_journal([step]), step) is False
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/x")
    assert journal._complete(git_repo(repo), a_journal([step]), step) is True


def test_a_squash_staged_by_a_killed_run_is_committed_and_done(repo: Repo) -> None:
    require_merge_tree()
    tip = feature(repo, commits=2)
    before = repo.commit("other.txt")
    repo.git("merge", "-q", "--squash", "feature/x")  # staged, SQUASH_MSG, not committed
    step = Step(
        ("merge", "--quiet", "--squash", "feature/x"),
        SQUASH,
        source=tip,
        expect={"HEAD": before},
    )
    assert journal._complete(git_repo(repo), a_journal([step]), step) is True
    assert repo.git("rev-parse", "develop^") == before
    assert repo.git("show", "-s", "--format=%P", "develop") == before  # one parent: a squash
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""


# -- completing a rebase git was stopped in after it moved the branch -----------------------
def test_a_rebase_that_moved_the_branch_is_quit_and_the_branch_checked_out(
    repo: Repo, run: Run
) -> None:
    conflicting_feature(repo, run, commits=1)
    assert run(repo, "feature", "finish", "--rebase").code == 5
    rebase = repo.path / ".git" / "rebase-merge"
    kept = repo.path / "rebase-merge-copy"
    shutil.copytree(rebase, kept)
    (repo.path / "shared.txt").write_text("resolved\n")
    repo.git("add", "shared.txt")
    repo.git("-c", "core.editor=true", "rebase", "--continue")  # the branch moved
    repo.git("checkout", "-q", "--detach")
    shutil.copytree(kept, rebase)  # ... and git was stopped before it dropped its state
    shutil.rmtree(kept)
    step = Step(("rebase", "--quiet", "develop", "feature/clash"), REBASE)
    j = a_journal([step], branch="feature/clash")
    assert journal._complete(git_repo(repo), j, step) is True
    assert repo.in_progress() == ()
    assert repo.branch() == "feature/clash"


# -- finish: the local target brought up to the remote one ----------------------------------
def context(repo: Repo) -> FlowContext:
    return FlowContext.open(str(repo.path), user_path=None)


LANDED = Landed(commit="0" * 40, how="pull request #1")


def test_a_local_target_that_has_the_remote_one_is_only_checked_out(repo: Repo) -> None:
    repo.commit("mine.txt")  # develop is ahead of origin/develop, not behind it
    plan = Plan("feature finish", "feature/x")
    _update_from_remote(context(repo), plan, "develop", LANDED)
    assert [s.argv for s in plan.steps] == [("checkout", "--quiet", "develop")]


def test_a_local_target_behind_the_remote_one_is_fast_forwarded(repo: Repo) -> None:
    repo.push_unseen("develop")
    repo.git("fetch", "-q", "origin")
    seen = repo.git("rev-parse", "origin/develop")
    plan = Plan("feature finish", "feature/x")
    _update_from_remote(context(repo), plan, "develop", LANDED)
    journal.execute(git_repo(repo), plan)
    assert repo.git("rev-parse", "develop") == seen


def test_a_local_target_with_commits_of_its_own_merges_the_remote_one(repo: Repo) -> None:
    repo.push_unseen("develop")
    repo.git("fetch", "-q", "origin")
    seen = repo.git("rev-parse", "origin/develop")
    mine = repo.commit("mine.txt")
    plan = Plan("feature finish", "feature/x")
    _update_from_remote(context(repo), plan, "develop", LANDED)
    message = "Merge remote-tracking branch 'origin/develop' into develop"
    assert [(s.argv, s.kind, s.source) for s in plan.steps] == [
        (("checkout", "--quiet", "develop"), GIT, None),
        (("merge", "--quiet", "--no-edit", "-m", message, seen), MERGE, seen),
    ]
    journal.execute(git_repo(repo), plan)
    assert repo.git("show", "-s", "--format=%P%n%s", "develop").splitlines() == [
        f"{mine} {seen}",
        message,
    ]


# -- finish: the release notes committed ----------------------------------------------------
@pytest.mark.parametrize("path", ["CHANGELOG.md", "-notes.md"])
def test_the_release_notes_commit_holds_the_notes_file_only(repo: Repo, path: str) -> None:
    repo.git("checkout", "-q", "-b", "release/1.0", "develop")
    head = repo.git("rev-parse", "HEAD")
    (repo.path / "staged.txt").write_text("not the notes\n")
    repo.git("add", "staged.txt")
    plan = Plan("release finish", "release/1.0")
    add_changelog_commit(plan, "release/1.0", path, "# 1.0\n", "1.0", head=head)
    assert [s.kind for s in plan.steps] == [GIT, WRITE, GIT, GIT]
    journal.execute(git_repo(repo), plan)
    assert repo.git("rev-parse", "release/1.0^") == head
    assert (
        repo.git("show", "-s", "--format=%B", "release/1.0")
        == NOTES_COMMIT.format(version="1.0").strip()
    )
    assert repo.git("show", "--format=", "--name-only", "release/1.0") == path
    assert (repo.path / path).read_text() == "# 1.0\n"
    assert repo.git("diff", "--cached", "--name-only") == "staged.txt"  # still only staged


# -- the conflict a finish stopped on, named ------------------------------------------------
@pytest.mark.parametrize("how", [[], ["--rebase"]])
def test_a_conflict_names_the_git_operation_that_stopped(
    repo: Repo, run: Run, how: list[str]
) -> None:
    conflicting_feature(repo, run)
    result = run(repo, "feature", "finish", *how)
    assert result.code == 5, result.err
    what = "rebase (`git rebase" if how else "merge (`git merge"
    assert result.err.startswith(f"error: the {what} "), result.err


# -- what --abort puts back -----------------------------------------------------------------
def test_abort_says_a_push_it_cannot_ask_about_may_have_happened(repo: Repo, run: Run) -> None:
    """The push step the finish stopped in is not sure to have pushed: with origin out of
    reach, --abort says what it may have pushed, not what origin still has."""
    assert run(repo, "feature", "start", "login").code == 0
    repo.commit("login.txt")
    repo.commit("login.txt")
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    assert run(repo, "feature", "finish", "--push").code == 6
    bare = repo.git("remote", "get-url", "origin")
    shutil.move(bare, bare + ".away")
    result = run(repo, "feature", "finish", "--abort")
    assert result.code == 0, result.err
    said = result.out + result.err
    assert "'origin' could not be asked; this finish may have pushed: branch 'develop'" in said
    assert "still has" not in said


def write_step(repo: Repo, path: str, text: str) -> journal.Journal:
    """A journal stopped just after its write step wrote `text` to `path` (and staged it)."""
    (repo.path / path).write_bytes(text.encode())
    repo.git("add", "--", path)
    steps = [Step((path,), WRITE, message=text), Step(("add", "--", path))]
    return a_journal(steps, index=1)


@pytest.mark.parametrize("text", ["# 1.0\n", "# 1.0\r\n\r\n- a fix\r\n"])
def test_abort_removes_a_new_file_a_write_step_made(repo: Repo, text: str) -> None:
    j = write_step(repo, "NOTES.md", text)
    journal._undo_writes(git_repo(repo), j)
    assert not (repo.path / "NOTES.md").exists()
    assert repo.git("ls-files", "--", "NOTES.md") == ""


def test_abort_unsets_the_base_of_a_branch_the_start_created(repo: Repo) -> None:
    key = "gitflow.branch.feature/x.base"
    repo.git("config", key, "develop")
    step = Step(("config", key, "develop"))
    j = journal.Journal("feature start", "feature/x", {"branch": "develop"}, {}, [step], 0)
    j.refs = {"refs/heads/feature/x": None}
    journal._undo_branch_config(git_repo(repo), j)
    assert repo.git("config", "--get", key, check=False) == ""


def test_abort_keeps_the_base_of_a_branch_that_was_there_before(repo: Repo) -> None:
    key = "gitflow.branch.feature/x.base"
    repo.git("config", key, "develop")
    step = Step(("config", key, "develop"))
    j = journal.Journal("feature start", "feature/x", {"branch": "develop"}, {}, [step], 0)
    j.refs = {"refs/heads/feature/x": repo.git("rev-parse", "develop")}
    journal._undo_branch_config(git_repo(repo), j)
    assert repo.git("config", "--get", key) == "develop"


# -- a step that fails: what is left, and the hint ------------------------------------------
def test_a_finish_whose_first_step_fails_changes_nothing_and_keeps_no_journal(
    repo: Repo, run: Run
) -> None:
    assert run(repo, "feature", "start", "x").code == 0
    repo.commit("x.txt")
    repo.git("checkout", "-q", "develop")
    repo.commit("d.txt", "develop's\n")
    repo.git("checkout", "-q", "feature/x")
    (repo.path / "d.txt").write_text("untracked, in the way of checking develop out\n")
    before = repo.snapshot()
    result = run(repo, "feature", "finish")
    assert result.code == 5, result.err
    assert result.err.splitlines()[-1] == "hint: Nothing was changed. Fix the cause and try again."
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()
    assert repo.snapshot() == before


def test_a_start_whose_second_step_fails_says_every_branch_was_put_back(
    repo: Repo, run: Run
) -> None:
    """`feature start x main` checks feature/x out, then records its base in .git/config:
    a lock on that file fails the second step, after the first made the branch."""
    (repo.path / ".git" / "config.lock").write_text("")
    result = run(repo, "feature", "start", "--no-jira", "x", "main")
    (repo.path / ".git" / "config.lock").unlink()
    assert result.code == 5, result.err
    assert result.err.splitlines()[-1] == (
        "hint: Every branch was put back. Fix the cause and try again."
    )
    assert repo.branch() == "develop"
    assert not repo.exists("refs/heads/feature/x")


def test_a_rebase_stopped_on_a_conflict_is_left_to_git_rebase(repo: Repo, run: Run) -> None:
    conflicting_feature(repo, run)
    result = run(repo, "feature", "rebase")
    assert result.code == 5, result.err
    assert result.err.splitlines()[-1] == (
        "hint: Resolve them, `git add` them, then `git rebase --continue` (or --abort)."
    )
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()


# -- finish of a release or hotfix: notes, changelog, a branch merged already ---------------
def test_a_release_finish_with_notes_and_a_changelog_tags_them(repo: Repo, run: Run) -> None:
    assert run(repo, "release", "start", "1.0").code == 0
    repo.commit("release.txt")
    opts = FinishOptions(changelog=("CHANGELOG.md", "# 1.0\n- a fix\n"), notes="## Fixed\n- a fix")
    plan = plan_finish(context(repo), "release", "1.0", opts)
    journal.execute(git_repo(repo), plan)
    assert repo.git("cat-file", "-t", "1.0") == "tag"  # annotated
    message = repo.git("tag", "-l", "--format=%(contents)", "1.0")
    assert message.endswith("\n\n## Fixed\n- a fix"), message
    assert repo.git("show", "1.0:CHANGELOG.md") == "# 1.0\n- a fix"
    subjects = repo.git("log", "--format=%s", "1.0").splitlines()
    assert NOTES_COMMIT.format(version="1.0").strip() in subjects


def test_a_release_of_a_support_branch_already_merged_is_tagged_there(repo: Repo) -> None:
    """A release from support/1.x finishes into support/1.x and merges back nowhere; merged
    already, the finish only tags it and ends on support/1.x."""
    repo.git("checkout", "-q", "-b", "support/1.x", "main")
    repo.git("checkout", "-q", "-b", "release/1.1", "support/1.x")
    repo.git("config", "gitflow.branch.release/1.1.base", "support/1.x")
    repo.commit("fix.txt")
    repo.git("checkout", "-q", "support/1.x")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "release/1.1")
    repo.git("checkout", "-q", "release/1.1")
    support = repo.git("rev-parse", "support/1.x")
    plan = plan_finish(context(repo), "release", "1.1", FinishOptions())
    assert not [s for s in plan.steps if s.kind in (MERGE, SQUASH)]
    assert "merged 'release/1.1' into 'support/1.x'" not in plan.summary
    journal.execute(git_repo(repo), plan)
    assert repo.branch() == "support/1.x"
    assert repo.git("rev-parse", "support/1.x") == support
    assert repo.git("rev-parse", "1.1^{commit}") == support
    assert not repo.exists("refs/heads/release/1.1")


# -- finish of a feature a pull request merged already, and a squash ------------------------
def landed_feature(repo: Repo) -> str:
    """feature/x merged into develop on origin (as a pull request does), not locally; the
    feature checked out. Returns the merge commit."""
    feature(repo, commits=2)
    repo.git("merge", "-q", "--no-ff", "--no-edit", "feature/x")
    merge = repo.git("rev-parse", "HEAD")
    repo.git("push", "-q", "origin", "develop")
    repo.git("reset", "-q", "--hard", "HEAD^")
    repo.git("checkout", "-q", "feature/x")
    return merge


def test_a_landed_feature_behind_its_remote_base_is_fast_forwarded_not_pushed(
    repo: Repo,
) -> None:
    merge = landed_feature(repo)
    landed = Landed(commit=merge, how="pull request #3")
    plan = plan_finish(context(repo), "feature", "x", FinishOptions(push=True), landed=landed)
    assert not [s for s in plan.steps if s.kind == PUSH]
    assert "pull request #3 merged 'feature/x' into 'develop' on 'origin'" in plan.summary[0]
    journal.execute(git_repo(repo), plan)
    assert repo.git("rev-parse", "develop") == merge


@pytest.mark.parametrize("push", [True, False])
def test_a_landed_feature_whose_base_has_local_commits_pushes_only_when_asked(
    repo: Repo, push: bool
) -> None:
    merge = landed_feature(repo)
    repo.git("checkout", "-q", "develop")
    repo.commit("mine.txt")
    repo.git("checkout", "-q", "feature/x")
    landed = Landed(commit=merge, how="pull request #3")
    plan = plan_finish(context(repo), "feature", "x", FinishOptions(push=push), landed=landed)
    pushes = [s.argv for s in plan.steps if s.kind == PUSH]
    assert pushes == ([("push", "--quiet", "origin", "develop")] if push else [])
    journal.execute(git_repo(repo), plan)
    assert repo.git("rev-parse", "develop^2") == merge
    there = repo.git("ls-remote", "origin", "refs/heads/develop").split()[0]
    assert (there == repo.git("rev-parse", "develop")) is push


def test_a_squash_finish_knows_its_squash_commit_was_made(repo: Repo) -> None:
    feature(repo, commits=2)
    repo.git("checkout", "-q", "feature/x")
    plan = plan_finish(context(repo), "feature", "x", FinishOptions(squash=True))
    (squash,) = [s for s in plan.steps if s.kind == SQUASH]
    repo.git("checkout", "-q", "develop")
    assert not journal.already_done(git_repo(repo), squash, "develop")
    repo.git("merge", "-q", "--squash", "feature/x")
    repo.git("commit", "-q", "--no-edit")  # a run killed right after the squash commit
    assert journal.already_done(git_repo(repo), squash, "develop")
