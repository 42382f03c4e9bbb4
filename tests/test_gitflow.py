"""Start and finish of every branch type, in real repositories with a bare origin."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitutil import Repo, git


def parents(repo: Repo, rev: str) -> list[str]:
    return repo.git("rev-list", "--parents", "-n1", rev).split()[1:]


def test_feature_start_creates_branch_from_develop_and_records_base(repo: Repo, run) -> None:
    result = run(repo, "feature", "start", "login")
    assert result.code == 0, result.err
    assert repo.branch() == "feature/login"
    assert repo.git("rev-parse", "feature/login") == repo.git("rev-parse", "develop")
    assert repo.git("config", "--get", "gitflow.branch.feature/login.base", check=False) == ""
    assert "created 'feature/login' from 'develop'" in result.out


def test_one_commit_feature_fast_forwards(repo: Repo, run) -> None:
    run(repo, "feature", "start", "one")
    tip = repo.commit()
    assert run(repo, "feature", "finish").code == 0
    assert repo.git("rev-parse", "develop") == tip
    assert repo.branch() == "develop"
    assert not repo.exists("refs/heads/feature/one")
    assert repo.git("config", "--get", "gitflow.branch.feature/one.base", check=False) == ""


def test_several_commits_get_a_merge_commit(repo: Repo, run) -> None:
    run(repo, "feature", "start", "two")
    repo.commit()
    tip = repo.commit()
    assert run(repo, "feature", "finish", "two").code == 0
    assert parents(repo, "develop")[1] == tip
    assert (
        repo.git("log", "-1", "--format=%s", "develop") == "Merge branch 'feature/two' into develop"
    )


def test_no_ff_makes_a_merge_commit_for_one_commit(repo: Repo, run) -> None:
    run(repo, "feature", "start", "x")
    tip = repo.commit()
    assert run(repo, "feature", "finish", "--no-ff").code == 0
    assert parents(repo, "develop")[1] == tip


def test_squash_makes_one_commit_and_deletes_the_branch(repo: Repo, run) -> None:
    before = repo.git("rev-parse", "develop")
    run(repo, "feature", "start", "sq")
    repo.commit("a.txt")
    repo.commit("b.txt")
    assert run(repo, "feature", "finish", "--squash").code == 0
    assert parents(repo, "develop") == [before]
    assert (repo.path / "a.txt").exists() and (repo.path / "b.txt").exists()
    assert not repo.exists("refs/heads/feature/sq")


def test_rebase_before_finish_gives_linear_history(repo: Repo, run) -> None:
    run(repo, "feature", "start", "rb")
    repo.commit("mine.txt")
    repo.git("checkout", "-q", "develop")
    other = repo.commit("theirs.txt")
    repo.git("checkout", "-q", "feature/rb")
    assert run(repo, "feature", "finish", "--rebase").code == 0
    assert parents(repo, "develop") == [other]  # one commit rebased: fast-forward


def test_keep_keeps_the_branch(repo: Repo, run) -> None:
    run(repo, "feature", "start", "kept")
    repo.commit()
    assert run(repo, "feature", "finish", "--keep").code == 0
    assert repo.exists("refs/heads/feature/kept")
    assert repo.branch() == "develop"


def test_push_pushes_develop_then_deletes_the_remote_branch(repo: Repo, run) -> None:
    run(repo, "feature", "start", "pub")
    tip = repo.commit()
    assert run(repo, "feature", "publish").code == 0
    assert repo.git("ls-remote", "origin", "refs/heads/feature/pub").startswith(tip)
    assert run(repo, "feature", "finish", "--push").code == 0
    assert repo.git("ls-remote", "origin", "refs/heads/develop").startswith(tip)
    assert repo.git("ls-remote", "origin", "refs/heads/feature/pub") == ""


def test_bugfix_behaves_like_a_feature(repo: Repo, run) -> None:
    assert run(repo, "bugfix", "start", "crash").code == 0
    assert repo.branch() == "bugfix/crash"
    tip = repo.commit()
    assert run(repo, "bugfix", "finish").code == 0
    assert repo.git("rev-parse", "develop") == tip


def test_feature_from_a_release_branch_goes_back_into_it(repo: Repo, run) -> None:
    run(repo, "release", "start", "1.0")
    run(repo, "feature", "start", "late", "--base", "release/1.0")
    tip = repo.commit()
    assert run(repo, "feature", "finish").code == 0
    assert repo.git("rev-parse", "release/1.0") == tip
    assert repo.branch() == "release/1.0"


@pytest.mark.parametrize("kind", ["release", "hotfix"])
def test_version_finish_merges_tags_and_back_merges(repo: Repo, run, kind: str) -> None:
    assert run(repo, kind, "start", "1.2.0").code == 0
    work = repo.commit()
    result = run(repo, kind, "finish")
    assert result.code == 0, result.err
    main_parents = parents(repo, "main")
    assert main_parents[1] == work
    assert repo.git("cat-file", "-t", "1.2.0") == "tag"  # annotated
    assert repo.git("rev-parse", "1.2.0^{commit}") == repo.git("rev-parse", "main")
    title = "Release" if kind == "release" else "Hotfix"
    assert repo.git("tag", "-l", "--format=%(contents:subject)", "1.2.0") == f"{title} 1.2.0"
    assert parents(repo, "develop")[1] == repo.git("rev-parse", "main")
    assert repo.git("log", "-1", "--format=%s", "develop") == "Merge tag '1.2.0' into develop"
    assert repo.branch() == "develop"
    assert not repo.exists(f"refs/heads/{kind}/1.2.0")


def test_tag_message_and_prefix(repo: Repo, run) -> None:
    repo.git("config", "gitflow.prefix.versiontag", "v")
    run(repo, "release", "start", "2.0")
    repo.commit()
    assert run(repo, "release", "finish", "-m", "Big one").code == 0
    assert repo.git("tag", "-l", "--format=%(contents)", "v2.0").strip() == "Big one"


def test_no_tag_back_merges_main(repo: Repo, run) -> None:
    run(repo, "release", "start", "3.0")
    repo.commit()
    assert run(repo, "release", "finish", "--no-tag").code == 0
    assert repo.git("tag") == ""
    assert parents(repo, "develop")[1] == repo.git("rev-parse", "main")


def test_release_push_pushes_main_develop_and_only_the_new_tag(repo: Repo, run) -> None:
    repo.git("tag", "local-only")
    run(repo, "release", "start", "1.0")
    repo.commit()
    run(repo, "release", "publish")
    assert run(repo, "release", "finish", "--push").code == 0
    remote = repo.git("ls-remote", "origin")
    assert repo.git("rev-parse", "main") in remote and "refs/tags/1.0" in remote
    assert "refs/tags/local-only" not in remote
    assert "refs/heads/release/1.0" not in remote
    assert repo.git("ls-remote", "origin", "refs/heads/develop").startswith(
        repo.git("rev-parse", "develop")
    )


def test_hotfix_goes_into_an_open_release_branch(repo: Repo, run) -> None:
    run(repo, "release", "start", "1.1")
    repo.commit("release.txt")
    develop = repo.git("rev-parse", "develop")
    run(repo, "hotfix", "start", "1.0.1")
    repo.commit("fix.txt")
    assert run(repo, "hotfix", "finish").code == 0
    assert repo.git("rev-parse", "develop") == develop
    assert parents(repo, "release/1.1")[1] == repo.git("rev-parse", "main")
    assert repo.branch() == "release/1.1"


def test_hotfix_into_develop_when_configured_like_avh(repo: Repo, run) -> None:
    assert run(repo, "config", "set", "hotfix.into_release", "false").code == 0
    run(repo, "release", "start", "1.1")
    repo.commit("release.txt")
    release_tip = repo.git("rev-parse", "release/1.1")
    run(repo, "hotfix", "start", "1.0.1")
    repo.commit("fix.txt")
    assert run(repo, "hotfix", "finish").code == 0
    assert repo.git("rev-parse", "release/1.1") == release_tip
    assert parents(repo, "develop")[1] == repo.git("rev-parse", "main")


def test_support_start_and_list(repo: Repo, run) -> None:
    run(repo, "release", "start", "1.0")
    repo.commit()
    run(repo, "release", "finish")
    assert run(repo, "support", "start", "1.x", "1.0").code == 0
    assert repo.branch() == "support/1.x"
    result = run(repo, "--json", "support", "list")
    assert '"branch": "support/1.x"' in result.out


def test_list_json_and_text(repo: Repo, run) -> None:
    run(repo, "feature", "start", "a")
    repo.commit()
    run(repo, "feature", "start", "b")
    text = run(repo, "feature", "list").out
    assert "* b" in text and "  a" in text and "1 ahead of, 0 behind 'develop'" in text
    import json

    rows = json.loads(run(repo, "--json", "feature", "list").out)
    assert [(r["name"], r["current"], r["ahead"]) for r in rows] == [
        ("a", False, 1),
        ("b", True, 0),
    ]


def test_list_of_many_branches_counts_as_git_does(repo: Repo, run) -> None:
    """More branches than ahead_behind_many asks git about one by one: one walk."""
    from jiraflow.git import _FEW_PAIRS

    for i in range(_FEW_PAIRS + 4):
        run(repo, "feature", "start", f"f{i}", "--base", "develop")
        for _ in range(i % 3):
            repo.commit(f"f{i}.txt")
        if i % 4 == 1:
            run(repo, "feature", "finish", f"f{i}", "--keep")
        repo.git("checkout", "-q", "develop")
        repo.commit("develop.txt")  # develop moves on: the older branches are behind more
    rows = json.loads(run(repo, "--json", "feature", "list").out)
    assert len(rows) == _FEW_PAIRS + 4
    for row in rows:
        counts = repo.git("rev-list", "--left-right", "--count", f"{row['branch']}...develop")
        assert [row["ahead"], row["behind"]] == [int(n) for n in counts.split()], row["name"]
    assert {row["ahead"] for row in rows} == {0, 1, 2}
    assert len({row["behind"] for row in rows}) > 5


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_ahead_behind_many_is_git_own_count(tmp_path_factory, data) -> None:  # type: ignore[no-untyped-def]
    """Random histories (merges, several roots): the one-walk count is git's."""
    from jiraflow.git import GitRepo

    path = tmp_path_factory.mktemp("dag")
    size = data.draw(st.integers(2, 40))
    stream = []
    for n in range(1, size + 1):
        parents = []
        if n > 1 and data.draw(st.integers(0, 9)) > 0:  # sometimes a new root
            parents = sorted(
                set(data.draw(st.lists(st.integers(1, n - 1), min_size=1, max_size=3)))
            )
        stream.append(
            f"commit refs/heads/c{n}\nmark :{n}\ncommitter T <t@example.com> {n} +0000\n"
            f"data 1\n{n % 10}\n"
            + "".join(f"{'from' if i == 0 else 'merge'} :{p}\n" for i, p in enumerate(parents))
        )
    git(path, "init", "-q")
    git(path, "fast-import", "--quiet", input="".join(stream) + "done\n")
    shas = [git(path, "rev-parse", f"c{n}") for n in range(1, size + 1)]
    pairs = [
        (data.draw(st.sampled_from(shas)), data.draw(st.sampled_from(shas))) for _ in range(12)
    ]
    found = GitRepo.discover(str(path)).ahead_behind_many(pairs)
    for (local, upstream), counts in zip(pairs, found, strict=True):
        plain = git(path, "rev-list", "--left-right", "--count", f"{local}...{upstream}")
        assert list(counts) == [int(n) for n in plain.split()]


def test_checkout_by_unique_prefix_and_delete(repo: Repo, run) -> None:
    run(repo, "feature", "start", "long-name")
    run(repo, "feature", "start", "other")
    assert run(repo, "feature", "checkout", "long").code == 0
    assert repo.branch() == "feature/long-name"
    assert run(repo, "feature", "delete", "long-name").code == 0
    assert not repo.exists("refs/heads/feature/long-name")
    assert repo.branch() == "develop"


def test_delete_refuses_unmerged_work_unless_forced(repo: Repo, run) -> None:
    run(repo, "feature", "start", "wip")
    tip = repo.commit()
    result = run(repo, "feature", "delete")
    assert result.code == 5 and "not merged" in result.err
    assert repo.exists("refs/heads/feature/wip")
    result = run(repo, "feature", "delete", "--force")
    assert result.code == 0 and tip[:10] in result.out


def test_track_fetches_and_tracks_a_remote_branch(repo: Repo, run, make_repo) -> None:
    run(repo, "feature", "start", "shared")
    tip = repo.commit()
    run(repo, "feature", "publish")
    other = Repo(repo.path.parent / "clone")
    from gitutil import git

    git(
        repo.path.parent,
        "clone",
        "--quiet",
        repo.git("remote", "get-url", "origin"),
        str(other.path),
    )
    other.git("branch", "develop", "origin/develop")
    # the clone has not seen the branch yet: track fetches it
    other.git("update-ref", "-d", "refs/remotes/origin/feature/shared")
    assert run(other, "feature", "track", "shared").code == 0
    assert other.branch() == "feature/shared"
    assert other.git("rev-parse", "HEAD") == tip
    assert other.git("rev-parse", "--abbrev-ref", "@{upstream}") == "origin/feature/shared"


def test_track_of_a_branch_the_remote_lacks_is_a_state_error(repo: Repo, run) -> None:
    before = repo.refs()
    result = run(repo, "feature", "track", "nowhere")
    assert result.code == 5
    assert "'origin' has no branch 'feature/nowhere'" in result.err
    assert "git ls-remote --heads origin" in result.err
    assert repo.refs() == before


def test_rebase_command(repo: Repo, run) -> None:
    run(repo, "feature", "start", "r")
    repo.commit("mine.txt")
    repo.git("checkout", "-q", "develop")
    new_base = repo.commit("base.txt")
    assert run(repo, "feature", "rebase", "r").code == 0
    assert parents(repo, "feature/r") == [new_base]


def test_diff_shows_changes_since_the_base(repo: Repo, capfd) -> None:
    from gitutil import jf

    jf(repo, "feature", "start", "d")
    repo.commit("changed.txt", "new content\n")
    capfd.readouterr()
    assert jf(repo, "feature", "diff").code == 0
    assert "+new content" in capfd.readouterr().out


def test_dry_run_prints_the_plan_and_changes_nothing(repo: Repo, run) -> None:
    run(repo, "feature", "start", "dry")
    repo.commit()
    before = repo.snapshot()
    result = run(repo, "--dry-run", "feature", "finish")
    assert result.code == 0
    assert "git checkout --quiet develop" in result.out
    assert "git merge --quiet --ff --no-edit feature/dry" in result.out
    assert repo.snapshot() == before


def test_finish_refuses_when_develop_is_behind_origin(repo: Repo, run) -> None:
    run(repo, "feature", "start", "late")
    repo.commit()
    # someone else pushed to develop; we know it from an earlier fetch
    repo.git(
        "push",
        "-q",
        "origin",
        repo.git("commit-tree", "-p", "develop", "-m", "x", "develop^{tree}")
        + ":refs/heads/develop",
    )
    repo.git("fetch", "-q", "origin")
    before = repo.snapshot()
    result = run(repo, "feature", "finish")
    assert result.code == 5
    assert "'develop' is behind 'origin/develop' by 1 commit" in result.err
    assert repo.snapshot() == before


def test_fetch_flag_discovers_that_develop_is_behind(repo: Repo, run) -> None:
    run(repo, "feature", "start", "late")
    repo.commit()
    # pushed by someone else; this clone has not fetched it, so only --fetch can tell
    newer = repo.git("commit-tree", "-p", "develop", "-m", "x", "develop^{tree}")
    repo.git("push", "-q", "origin", f"{newer}:refs/heads/develop")
    before = repo.git("rev-parse", "develop")
    result = run(repo, "feature", "finish", "--fetch")
    assert result.code == 5
    assert "behind 'origin/develop'" in result.err
    assert repo.git("rev-parse", "develop") == before
    assert repo.branch() == "feature/late"


def test_works_in_a_linked_worktree_and_a_subdirectory(repo: Repo, run) -> None:
    worktree = repo.path.parent / "wt"
    repo.git("worktree", "add", "-q", str(worktree), "-b", "scratch", "develop")
    (worktree / "sub").mkdir()
    assert run(worktree / "sub", "feature", "start", "in-wt").code == 0
    assert Repo(worktree).branch() == "feature/in-wt"
    Repo(worktree).commit()
    repo.git("checkout", "-q", "main")  # git lets only one work tree have develop out
    assert run(worktree, "feature", "finish").code == 0
    assert Repo(worktree).branch() == "develop"
    assert not repo.exists("refs/heads/feature/in-wt")


def test_no_push_overrides_the_configured_default(repo: Repo, run) -> None:
    run(repo, "config", "set", "finish.push", "true")
    run(repo, "feature", "start", "quiet")
    repo.commit()
    remote_develop = repo.git("ls-remote", "origin", "refs/heads/develop")
    assert run(repo, "feature", "finish", "--no-push").code == 0
    assert repo.git("ls-remote", "origin", "refs/heads/develop") == remote_develop


def test_dry_run_with_fetch_does_not_fetch(repo: Repo, run) -> None:
    run(repo, "feature", "start", "f")
    repo.commit()
    repo.push_unseen("develop")
    before = repo.snapshot()
    result = run(repo, "--dry-run", "feature", "finish", "--fetch")
    assert result.code == 0 and "would first run: git fetch" in result.out
    assert repo.snapshot() == before


def test_release_of_a_support_branch_stays_on_it(repo: Repo, run) -> None:
    run(repo, "release", "start", "1.0")
    repo.commit()
    run(repo, "release", "finish")
    run(repo, "support", "start", "1.x", "1.0")
    develop, main = repo.git("rev-parse", "develop"), repo.git("rev-parse", "main")
    assert run(repo, "release", "start", "1.0.1", "support/1.x").code == 0
    repo.commit("maint.txt")
    assert run(repo, "release", "finish").code == 0
    assert repo.git("rev-parse", "develop") == develop and repo.git("rev-parse", "main") == main
    assert repo.git("rev-parse", "1.0.1^{commit}") == repo.git("rev-parse", "support/1.x")
    assert repo.branch() == "support/1.x"
