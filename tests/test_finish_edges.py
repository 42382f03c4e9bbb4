"""Edges of `<kind> finish` and of the message checks that mutation testing found no test
executed (issue 17): a server that refuses `git push --atomic`, `main` behind its remote, an
empty hotfix, the warning about what a push already gave the remote, the
`gitflow.branch.<b>.base` setting, release and hotfix `--squash`, and
`check.exempt_messages`. Real repositories with a bare origin, nothing patched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitutil import Repo, git
from hintutil import hinted


def origin(repo: Repo) -> Path:
    return Path(repo.git("remote", "get-url", "origin"))


def remote_refs(repo: Repo) -> dict[str, str]:
    text = repo.git("ls-remote", "origin")
    return {ref: sha for sha, ref in (line.split("\t") for line in text.splitlines())}


def version_branch(repo: Repo, run, kind: str, version: str) -> None:  # type: ignore[no-untyped-def]
    """A release (from develop) or hotfix (from main) branch with one commit."""
    assert run(repo, kind, "start", version).code == 0
    repo.commit(f"{kind}.txt", message=f"{kind} change")


# -- 1. a server that refuses `git push --atomic` ------------------------------------------
def refuse_atomic_pushes(repo: Repo) -> None:
    """Make origin refuse `git push --atomic`, as old servers do, and show that it does."""
    git(origin(repo), "config", "receive.advertiseAtomic", "false")
    proc = subprocess.run(
        ["git", "push", "--atomic", "--dry-run", "origin", "main"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "does not support --atomic" in proc.stderr


@pytest.mark.parametrize("kind", ["release", "hotfix"])
def test_finish_push_to_a_server_that_refuses_atomic_pushes_lands_everything(
    repo: Repo, run, kind: str
) -> None:
    refuse_atomic_pushes(repo)
    version_branch(repo, run, kind, "1.0")
    result = run(repo, kind, "finish", "--push")
    assert result.code == 0, result.err
    assert "✓ pushed 'develop', 'main', 'refs/tags/1.0' to 'origin'" in result.out
    assert result.err == ""
    there = remote_refs(repo)
    assert there["refs/heads/main"] == repo.git("rev-parse", "main")
    assert there["refs/heads/develop"] == repo.git("rev-parse", "develop")
    assert there["refs/tags/1.0"] == repo.git("rev-parse", "refs/tags/1.0")
    assert repo.git("rev-parse", "1.0^{commit}") == repo.git("rev-parse", "main")
    # the local and remote-tracking refs agree: nothing is left for --continue
    assert repo.git("rev-parse", "origin/main") == repo.git("rev-parse", "main")
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()


# -- 2. main behind origin/main ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["release", "hotfix"])
@pytest.mark.parametrize("fetched", [True, False])
def test_finish_refuses_while_main_is_behind_origin_and_the_hint_works(
    repo: Repo, run, kind: str, fetched: bool
) -> None:
    version_branch(repo, run, kind, "1.0")
    pushed = repo.push_unseen("main")  # someone else pushed to main
    if fetched:
        repo.git("fetch", "-q", "origin")
    before = repo.snapshot()
    result = run(repo, kind, "finish", *([] if fetched else ["--fetch"]))
    assert result.code == 5, result.err
    assert result.err.splitlines() == [
        "error: 'main' is behind 'origin/main' by 1 commit",
        "hint: Update it first (`git checkout main && git pull && git checkout "
        f"{kind}/1.0`), then run the command again.",
    ]
    after = repo.snapshot()
    if fetched:
        assert after == before
    else:  # only the fetch happened: origin/main moved, nothing else
        assert after[1:] == before[1:]
        assert {r: s for r, s in after[0].items() if r != "refs/remotes/origin/main"} == {
            r: s for r, s in before[0].items() if r != "refs/remotes/origin/main"
        }
    for command in hinted(result.err)[0].split(" && "):
        repo.git(*command.split()[1:])
    finished = run(repo, kind, "finish", "--push")
    assert finished.code == 0, finished.err
    assert repo.git("merge-base", "--is-ancestor", pushed, "main", check=False) == ""
    assert remote_refs(repo)["refs/heads/main"] == repo.git("rev-parse", "main")


# -- 3. an empty hotfix --------------------------------------------------------------------
def test_an_empty_hotfix_is_refused_and_nothing_changes(repo: Repo, run) -> None:
    """AVH would tag main's current commit (it takes the empty branch as merged); jiraflow
    refuses (docs/avh-differences.md, docs/gitflow.md)."""
    assert run(repo, "hotfix", "start", "1.0.1").code == 0
    before = repo.snapshot()
    for args in ((), ("--push",), ("--squash",)):
        result = run(repo, "hotfix", "finish", *args)
        assert result.code == 5, result.err
        assert result.err.splitlines() == [
            "error: the hotfix branch 'hotfix/1.0.1' has no commits that 'main' lacks",
            "hint: Commit the fix first, or delete the branch: `jiraflow hotfix delete 1.0.1`.",
        ]
        assert repo.snapshot() == before
        assert not repo.exists("refs/tags/1.0.1")
        assert "refs/tags/1.0.1" not in remote_refs(repo)
    # with a commit it finishes: the refusal was about emptiness only
    repo.commit("fix.txt", message="the fix")
    assert run(repo, "hotfix", "finish").code == 0
    assert repo.git("rev-parse", "1.0.1^{commit}") == repo.git("rev-parse", "main")


# -- 4. the warning about what a push already gave the remote ------------------------------
def test_abort_warns_about_what_origin_already_has_only_when_a_push_landed(repo: Repo, run) -> None:
    version_branch(repo, run, "release", "1.0")
    assert run(repo, "release", "publish").code == 0
    repo.commit("release.txt", message="more")
    repo.git("push", "-q", "origin", "release/1.0")
    was = remote_refs(repo)
    # someone pushed to the release branch: the finish's last push (the delete) is refused
    # after its atomic push of develop, main and the tag has landed
    repo.push_unseen("release/1.0")
    result = run(repo, "release", "finish", "--push")
    assert result.code == 6, result.err
    assert "git push to 'origin' failed" in result.err
    now = remote_refs(repo)
    assert now["refs/heads/main"] != was["refs/heads/main"] and "refs/tags/1.0" in now
    aborted = run(repo, "release", "finish", "--abort")
    assert aborted.code == 0, aborted.err
    assert "every local branch and tag is back" in aborted.out
    develop, main = (
        f"{now[f'refs/heads/{b}'][:7]} (was {was[f'refs/heads/{b}'][:7]})"
        for b in ("develop", "main")
    )
    lines = aborted.err.splitlines()
    assert lines[0] == (
        f"warning: 'origin' still has what this finish pushed: branch 'develop' at {develop}, "
        f"branch 'main' at {main}, tag '1.0' created"
    )
    assert lines[1].startswith("warning: to undo that on 'origin', run: git push --atomic ")
    assert len(lines) == 2


def test_abort_gives_no_such_warning_when_the_push_was_refused(repo: Repo, run) -> None:
    version_branch(repo, run, "release", "1.0")
    repo.push_unseen("develop")  # the atomic push is refused as a whole
    was = remote_refs(repo)
    result = run(repo, "release", "finish", "--push")
    assert result.code == 6 and "git push to 'origin' failed" in result.err
    assert remote_refs(repo) == was
    aborted = run(repo, "release", "finish", "--abort")
    assert aborted.code == 0, aborted.err
    assert "every branch and tag is back" in aborted.out
    assert aborted.err == ""


def test_abort_gives_no_such_warning_when_nothing_was_pushed(repo: Repo, run) -> None:
    repo.commit("shared.txt", "base\n", "add shared")
    assert run(repo, "release", "start", "1.0").code == 0
    repo.commit("shared.txt", "release\n", "release edit")
    repo.git("checkout", "-q", "develop")
    repo.commit("shared.txt", "develop\n", "develop edit")
    repo.git("push", "-q", "origin", "develop")
    repo.git("checkout", "-q", "release/1.0")
    stopped = run(repo, "release", "finish", "--push")  # the back-merge conflicts
    assert stopped.code != 0 and "conflicts" in stopped.err
    aborted = run(repo, "release", "finish", "--abort")
    assert aborted.code == 0, aborted.err
    assert "every branch and tag is back" in aborted.out
    assert aborted.err == ""


# -- 5. gitflow.branch.<b>.base --------------------------------------------------------------
BASE = "gitflow.branch.feature/fix.base"


def feature_on_release(repo: Repo, run) -> None:  # type: ignore[no-untyped-def]
    assert run(repo, "release", "start", "1.0").code == 0
    assert run(repo, "feature", "start", "fix", "release/1.0").code == 0
    repo.commit("fix.txt")
    repo.commit("fix.txt")
    assert repo.git("config", BASE) == "release/1.0"


def test_the_recorded_base_goes_with_the_finished_branch(repo: Repo, run) -> None:
    feature_on_release(repo, run)
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "merged 'feature/fix' into 'release/1.0'" in result.out
    assert repo.git("config", "--get-regexp", r"^gitflow\.branch\.feature/", check=False) == ""
    # a new branch of the same name starts (and finishes) from develop again
    assert run(repo, "feature", "start", "fix").code == 0
    repo.commit("other.txt")
    finished = run(repo, "feature", "finish")
    assert finished.code == 0 and "merged 'feature/fix' into 'develop'" in finished.out


def test_the_recorded_base_stays_while_the_branch_does(repo: Repo, run) -> None:
    feature_on_release(repo, run)
    kept = run(repo, "feature", "finish", "--keep")
    assert kept.code == 0, kept.err
    assert repo.exists("refs/heads/feature/fix")
    assert repo.git("config", BASE) == "release/1.0"
    # a refused finish (its base is behind origin) leaves it too
    repo.git("checkout", "-q", "feature/fix")
    repo.commit("fix.txt")
    repo.git("push", "-q", "origin", "release/1.0")
    repo.push_unseen("release/1.0")
    repo.git("fetch", "-q", "origin")
    refused = run(repo, "feature", "finish")
    assert refused.code == 5, refused.err
    assert repo.git("config", BASE) == "release/1.0"


# -- 6. release and hotfix --squash ----------------------------------------------------------
@pytest.mark.parametrize("kind", ["release", "hotfix"])
def test_squash_makes_one_commit_on_main_tagged_and_merged_back(repo: Repo, run, kind: str) -> None:
    old_main, old_develop = repo.git("rev-parse", "main"), repo.git("rev-parse", "develop")
    assert run(repo, kind, "start", "1.0").code == 0
    repo.commit("a.txt", message="first change")
    tip = repo.commit("b.txt", message="second change")
    result = run(repo, kind, "finish", "--squash")
    assert result.code == 0, result.err
    main = repo.git("rev-parse", "main")
    # one new commit on main, not a merge: its only parent is the old main
    assert repo.git("rev-list", "--parents", "-n1", main).split()[1:] == [old_main]
    assert repo.git("rev-parse", "main^{tree}") == repo.git("rev-parse", f"{tip}^{{tree}}")
    message = repo.git("log", "-1", "--format=%B", main)
    assert message.startswith("Squashed commit of the following:")
    assert "first change" in message and "second change" in message
    # the tag is on it, with the tag message
    assert repo.git("rev-parse", "1.0^{commit}") == main
    assert repo.git("cat-file", "-t", "1.0") == "tag"
    label = "Release" if kind == "release" else "Hotfix"
    assert repo.git("tag", "-l", "--format=%(contents:subject)", "1.0") == f"{label} 1.0"
    # the tag is merged back into develop with a merge commit
    develop = repo.git("rev-parse", "develop")
    assert repo.git("rev-list", "--parents", "-n1", develop).split()[1:] == [old_develop, main]
    assert repo.branch() == "develop"
    assert not repo.exists(f"refs/heads/{kind}/1.0")  # deleted although never merged as such


# -- 7. check.exempt_messages --------------------------------------------------------------
EXEMPT = '[check]\nexempt_messages = ["^\\\\[skip-jira\\\\]", "(?i)^wip"]\n'


def message_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(text)
    return str(path)


def test_commit_msg_lets_exempt_messages_pass_and_refuses_the_rest(
    repo: Repo, run, tmp_path: Path
) -> None:
    for text in ["[skip-jira] tidy\n", "wip: half\n", "Tidy\n\nWIP, a line of the body\n"]:
        refused = run(repo, "check", "commit-msg", message_file(tmp_path, text))
        assert refused.code == 1, text  # not exempt before the setting
    (repo.path / ".jiraflow.toml").write_text(EXEMPT)
    for text in ["[skip-jira] tidy\n", "wip: half\n", "Tidy\n\nWIP, a line of the body\n"]:
        result = run(repo, "check", "commit-msg", message_file(tmp_path, text))
        assert result.code == 0, (text, result.out, result.err)
        assert "exempt message" in result.out + result.err, text
    for text in ["Tidy [skip-jira]\n", "Tidy\n\nnot wip\n", "No key\n"]:
        result = run(repo, "check", "commit-msg", message_file(tmp_path, text))
        assert result.code == 1, text
        assert "names no Jira issue" in result.out, text


def test_check_range_skips_exempt_messages_also_by_a_line_of_the_body(repo: Repo, run) -> None:
    (repo.path / ".jiraflow.toml").write_text(EXEMPT)
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.git("commit", "-q", "--allow-empty", "-m", "Tidy", "-m", "[skip-jira] generated")
    assert run(repo, "check", "range", "develop..HEAD").code == 0
    repo.git("commit", "-q", "--allow-empty", "-m", "Tidy [skip-jira]")
    refused = run(repo, "check", "range", "develop..HEAD")
    assert refused.code == 1
    assert "names no Jira issue" in refused.out
