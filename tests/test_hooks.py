"""`jiraflow hooks install|uninstall` and the hooks themselves, run by real `git commit` and
`git push` in temporary repositories (the pre-commit framework too), plus the pure parts:
the message rewrite and the pushed ranges."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitutil import Repo, Result
from jiraflow.checks.hooks import (
    HOOKS,
    MARKER,
    Push,
    message_with_key,
    pushes_from_env,
    pushes_from_lines,
)
from jiraflow.errors import UsageError
from jiraflow.git import GitRepo
from jiraflow.sandbox.jira import JiraSandbox
from test_cli import HEAVY, modules_loaded

Run = Callable[..., Result]
MANIFEST = Path(__file__).parent.parent / ".pre-commit-hooks.yaml"
FEATURE = "feature/PROJ-12-fix-login"


# -- helpers -----------------------------------------------------------------------------------
def git_proc(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """git as a user runs it: hooks and all, the result whatever it is."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def message(repo: Repo, rev: str = "HEAD") -> str:
    return repo.git("log", "-1", "--format=%B", rev).strip()


def hooks_of(repo: Repo) -> Path:
    return repo.path / ".git" / "hooks"


def install(run: Run, repo: Repo | Path, *flags: str) -> Result:
    result = run(repo, *flags, "hooks", "install")
    assert result.code == 0, result.err
    return result


def write_hook(path: Path, body: str, *, executable: bool = True) -> bytes:
    """A hook of someone else's; returns its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755 if executable else 0o644)
    return path.read_bytes()


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.name: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(directory.iterdir())
        if not p.name.endswith(".sample")
    }


def only_prepare(repo: Repo, directory: Path | None = None) -> None:
    """Leave prepare-commit-msg alone in action: the commit-msg check has tests of its own."""
    (directory or hooks_of(repo)).joinpath("commit-msg").unlink()


def no_hooks_commit(repo: Repo, text: str) -> None:
    """A commit no hook sees (--no-verify still runs prepare-commit-msg)."""
    repo.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "--allow-empty", "-m", text)


@pytest.fixture
def feature(repo: Repo, run: Run) -> Repo:
    """On feature/PROJ-12-fix-login with the hooks installed (commit-msg taken away)."""
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    install(run, repo)
    only_prepare(repo)
    return repo


# -- install -----------------------------------------------------------------------------------
def test_install_writes_three_executable_hooks_that_call_this_python(repo: Repo, run: Run) -> None:
    result = install(run, repo)
    for hook in HOOKS:
        path = hooks_of(repo) / hook
        text = path.read_text()
        assert text.startswith("#!/bin/sh\n")
        assert MARKER in text.splitlines()
        assert f"-m jiraflow hooks run {hook} " in text
        assert f"python={sys.executable}\n" in text
        assert stat.S_IMODE(path.stat().st_mode) == 0o755
        assert f"wrote .git/hooks/{hook}\n" in result.out
        assert not (hooks_of(repo) / f"{hook}.jiraflow-previous").exists()


def test_the_interpreter_path_is_shell_quoted(repo: Repo, run: Run, tmp_path: Path) -> None:
    """A venv in a directory with a space and a quote still runs."""
    odd = tmp_path / "it's a venv"
    odd.symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    code = "import sys; from jiraflow.cli import main; sys.exit(main(sys.argv[1:]))"
    python = str(odd / "bin" / Path(sys.executable).name)
    proc = subprocess.run(
        [python, "-c", code, "-C", str(repo.path), "hooks", "install"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"python='{tmp_path}/it'\"'\"'s a venv/bin/" in (hooks_of(repo) / "pre-push").read_text()
    only_prepare(repo)
    repo.git("checkout", "-q", "-b", FEATURE)
    assert git_proc(repo.path, "commit", "--allow-empty", "-m", "Fix login").returncode == 0
    assert message(repo) == "PROJ-12 Fix login"


def test_install_honours_a_relative_core_hooks_path(repo: Repo, run: Run) -> None:
    repo.git("config", "core.hooksPath", ".githooks")
    install(run, repo)
    directory = repo.path / ".githooks"
    assert sorted(p.name for p in directory.iterdir()) == sorted(HOOKS)
    assert not (hooks_of(repo) / "commit-msg").exists()
    only_prepare(repo, directory)
    repo.git("checkout", "-q", "-b", FEATURE)
    assert git_proc(repo.path, "commit", "--allow-empty", "-m", "Fix login").returncode == 0
    assert message(repo) == "PROJ-12 Fix login"


def test_install_honours_an_absolute_core_hooks_path(repo: Repo, run: Run, tmp_path: Path) -> None:
    directory = tmp_path / "shared" / "hooks"  # missing: created
    repo.git("config", "core.hooksPath", str(directory))
    result = install(run, repo, "--json")
    assert [row["path"] for row in json.loads(result.out)] == [str(directory / h) for h in HOOKS]
    assert sorted(p.name for p in directory.iterdir()) == sorted(HOOKS)
    only_prepare(repo, directory)
    repo.git("checkout", "-q", "-b", FEATURE)
    assert git_proc(repo.path, "commit", "--allow-empty", "-m", "Fix login").returncode == 0
    assert message(repo) == "PROJ-12 Fix login"


def test_a_hooks_path_that_cannot_be_created_is_a_clear_error(
    repo: Repo, run: Run, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    repo.git("config", "core.hooksPath", str(blocker / "hooks"))
    result = run(repo, "hooks", "install")
    assert result.code == 5
    assert f"error: could not change the hooks in {blocker / 'hooks'}: " in result.err
    assert "hint: " in result.err


def test_a_worktree_installs_into_the_common_hooks_directory(
    repo: Repo, run: Run, tmp_path: Path
) -> None:
    tree = tmp_path / "second-tree"
    repo.git("worktree", "add", "-q", "-b", FEATURE, str(tree), "develop")
    said = git_proc(tree, "rev-parse", "--git-path", "hooks").stdout.strip()
    assert Path(said) == hooks_of(repo)
    install(run, tree)
    assert (hooks_of(repo) / "prepare-commit-msg").is_file()
    only_prepare(repo)
    assert git_proc(tree, "commit", "--allow-empty", "-m", "Fix login").returncode == 0
    assert message(Repo(tree)) == "PROJ-12 Fix login"


def test_json_lists_each_hook_its_path_and_whether_one_is_chained(repo: Repo, run: Run) -> None:
    write_hook(hooks_of(repo) / "pre-push", "exit 0\n")
    write_hook(hooks_of(repo) / "commit-msg", "exit 0\n", executable=False)
    rows = json.loads(install(run, repo, "--json").out)
    directory = hooks_of(repo)
    assert rows == [
        {
            "hook": "commit-msg",
            "path": str(directory / "commit-msg"),
            "chained": False,  # kept, but git would not run it either
            "previous": str(directory / "commit-msg.jiraflow-previous"),
        },
        {
            "hook": "prepare-commit-msg",
            "path": str(directory / "prepare-commit-msg"),
            "chained": False,
            "previous": None,
        },
        {
            "hook": "pre-push",
            "path": str(directory / "pre-push"),
            "chained": True,
            "previous": str(directory / "pre-push.jiraflow-previous"),
        },
    ]


def test_dry_run_prints_the_plan_and_changes_nothing(repo: Repo, run: Run) -> None:
    write_hook(hooks_of(repo) / "commit-msg", "exit 0\n")
    before = snapshot(hooks_of(repo))
    result = run(repo, "--dry-run", "hooks", "install")
    assert result.code == 0, result.err
    assert "Would run:" in result.out
    assert "mv .git/hooks/commit-msg .git/hooks/commit-msg.jiraflow-previous" in result.out
    assert "write .git/hooks/pre-push (runs " in result.out
    assert "after commit-msg.jiraflow-previous)" in result.out
    assert snapshot(hooks_of(repo)) == before

    install(run, repo)
    installed = snapshot(hooks_of(repo))
    result = run(repo, "--dry-run", "hooks", "uninstall")
    assert result.code == 0, result.err
    assert "mv .git/hooks/commit-msg.jiraflow-previous .git/hooks/commit-msg" in result.out
    assert "rm .git/hooks/pre-push" in result.out
    assert snapshot(hooks_of(repo)) == installed


def test_dry_run_in_a_new_hooks_directory_creates_nothing(
    repo: Repo, run: Run, tmp_path: Path
) -> None:
    directory = tmp_path / "hooks-to-be"
    repo.git("config", "core.hooksPath", str(directory))
    result = run(repo, "--dry-run", "hooks", "install")
    assert result.code == 0, result.err
    assert f"mkdir -p {directory}" in result.out
    assert not directory.exists()


# -- chaining ----------------------------------------------------------------------------------
def test_a_failing_commit_msg_hook_is_kept_runs_first_and_blocks(repo: Repo, run: Run) -> None:
    log = repo.path.parent / "hook.log"
    original = write_hook(
        hooks_of(repo) / "commit-msg", f'echo "commit-msg $(cat "$1")" >> {log}\nexit 1\n'
    )
    result = install(run, repo)
    assert "it runs the previous commit-msg hook first" in result.out
    assert (hooks_of(repo) / "commit-msg.jiraflow-previous").read_bytes() == original
    head = repo.git("rev-parse", "HEAD")
    proc = git_proc(repo.path, "commit", "--allow-empty", "-m", "PROJ-1 Fix login")
    assert proc.returncode == 1
    assert log.read_text() == "commit-msg PROJ-1 Fix login\n"  # with git's arguments
    assert repo.git("rev-parse", "HEAD") == head

    assert run(repo, "hooks", "uninstall").code == 0
    assert (hooks_of(repo) / "commit-msg").read_bytes() == original
    assert stat.S_IMODE((hooks_of(repo) / "commit-msg").stat().st_mode) == 0o755
    assert not (hooks_of(repo) / "commit-msg.jiraflow-previous").exists()
    assert not (hooks_of(repo) / "pre-push").exists()


def test_a_chained_hook_runs_once_after_installing_twice(repo: Repo, run: Run) -> None:
    log = repo.path.parent / "hook.log"
    original = write_hook(hooks_of(repo) / "prepare-commit-msg", f'echo "$@" >> {log}\n')
    install(run, repo)
    ours = hooks_of(repo) / "prepare-commit-msg"
    # as if jiraflow had moved: reinstalling writes the new interpreter path
    ours.write_text(ours.read_text().replace(sys.executable, "/old/venv/bin/python"))
    result = install(run, repo)
    assert "rewrote .git/hooks/prepare-commit-msg; it runs the previous" in result.out
    assert f"python={sys.executable}\n" in ours.read_text()
    assert (hooks_of(repo) / "prepare-commit-msg.jiraflow-previous").read_bytes() == original
    assert sorted(p.name for p in hooks_of(repo).glob("*jiraflow-previous*")) == [
        "prepare-commit-msg.jiraflow-previous"
    ]
    only_prepare(repo)
    repo.git("checkout", "-q", "-b", FEATURE)
    assert git_proc(repo.path, "commit", "--allow-empty", "-m", "Fix login").returncode == 0
    assert log.read_text() == ".git/COMMIT_EDITMSG message\n"
    assert message(repo) == "PROJ-12 Fix login"


def test_a_previous_hook_that_is_not_executable_is_kept_but_not_run(repo: Repo, run: Run) -> None:
    log = repo.path.parent / "hook.log"
    original = write_hook(
        hooks_of(repo) / "prepare-commit-msg", f"echo ran >> {log}\n", executable=False
    )
    result = install(run, repo)
    assert "kept as prepare-commit-msg.jiraflow-previous but not run" in result.out
    only_prepare(repo)
    repo.git("checkout", "-q", "-b", FEATURE)
    assert git_proc(repo.path, "commit", "--allow-empty", "-m", "Fix login").returncode == 0
    assert not log.exists()
    assert message(repo) == "PROJ-12 Fix login"
    run(repo, "hooks", "uninstall")
    assert (hooks_of(repo) / "prepare-commit-msg").read_bytes() == original


def test_a_chained_pre_push_hook_gets_the_same_input_and_arguments(repo: Repo, run: Run) -> None:
    log = repo.path.parent / "pre-push.log"
    write_hook(hooks_of(repo) / "pre-push", f'echo "$@" > {log}\ncat >> {log}\n')
    install(run, repo)
    repo.git("tag", "-a", "-m", "one", "1.0.0")
    proc = git_proc(repo.path, "push", "origin", "1.0.0")
    assert proc.returncode == 0, proc.stderr  # a tag: nothing for jiraflow to check
    url = repo.git("remote", "get-url", "origin")
    tag = repo.git("rev-parse", "1.0.0")
    assert log.read_text() == f"origin {url}\nrefs/tags/1.0.0 {tag} refs/tags/1.0.0 {'0' * 40}\n"


def test_a_failing_pre_push_hook_blocks_the_push(repo: Repo, run: Run) -> None:
    write_hook(hooks_of(repo) / "pre-push", "cat >/dev/null\nexit 3\n")
    install(run, repo)
    repo.git("tag", "1.0.0")
    assert git_proc(repo.path, "push", "origin", "1.0.0").returncode != 0
    assert not repo.git("ls-remote", "--tags", "origin")


def test_no_verify_skips_the_hooks(repo: Repo, run: Run) -> None:
    write_hook(hooks_of(repo) / "commit-msg", "exit 1\n")
    write_hook(hooks_of(repo) / "pre-push", "exit 1\n")
    install(run, repo)
    repo.git("checkout", "-q", "-b", FEATURE)
    assert git_proc(repo.path, "commit", "--allow-empty", "-m", "No key").returncode == 1
    proc = git_proc(repo.path, "commit", "--no-verify", "--allow-empty", "-m", "No key")
    assert proc.returncode == 0, proc.stderr
    assert message(repo) == "PROJ-12 No key"  # git runs prepare-commit-msg all the same
    no_hooks_commit(repo, "No hooks at all")
    assert message(repo) == "No hooks at all"
    branch = repo.branch()
    assert git_proc(repo.path, "push", "origin", branch).returncode != 0
    proc = git_proc(repo.path, "push", "--no-verify", "origin", branch)
    assert proc.returncode == 0, proc.stderr
    assert repo.git("rev-parse", f"origin/{branch}") == repo.git("rev-parse", "HEAD")


def test_a_hook_that_replaced_ours_over_a_kept_one_is_refused(repo: Repo, run: Run) -> None:
    write_hook(hooks_of(repo) / "commit-msg", "exit 0\n")
    install(run, repo)
    write_hook(hooks_of(repo) / "commit-msg", "echo someone else's\n")
    ours = hooks_of(repo) / "pre-push"
    ours.write_text(ours.read_text().replace(sys.executable, "/old/venv/bin/python"))
    before = snapshot(hooks_of(repo))
    result = run(repo, "hooks", "install")
    assert result.code == 5
    directory = hooks_of(repo)
    assert f"error: {directory / 'commit-msg'} is not jiraflow's hook, and " in result.err
    assert f"{directory / 'commit-msg.jiraflow-previous'} (the hook jiraflow kept" in result.err
    assert "hint: " in result.err
    assert snapshot(hooks_of(repo)) == before  # the stale pre-push was not rewritten either


# -- uninstall ---------------------------------------------------------------------------------
def test_uninstall_leaves_a_hook_that_is_not_ours(repo: Repo, run: Run) -> None:
    install(run, repo)
    foreign = write_hook(hooks_of(repo) / "pre-push", "exit 0\n")
    result = run(repo, "hooks", "uninstall")
    assert result.code == 0
    assert "warning: .git/hooks/pre-push is not jiraflow's hook: left alone" in result.err
    assert "removed .git/hooks/commit-msg" in result.out
    assert snapshot(hooks_of(repo)) == {"pre-push": (foreign, 0o755)}


def test_uninstall_with_nothing_installed_says_so(repo: Repo, run: Run) -> None:
    before = snapshot(hooks_of(repo))
    result = run(repo, "hooks", "uninstall")
    assert result.code == 0
    assert "No jiraflow hooks in .git/hooks: nothing to remove." in result.out
    assert snapshot(hooks_of(repo)) == before


def test_a_hook_whose_python_is_gone_blocks_with_advice(repo: Repo, run: Run) -> None:
    install(run, repo)
    for hook in HOOKS:
        path = hooks_of(repo) / hook
        path.write_text(path.read_text().replace(sys.executable, "/gone/venv/bin/python"))
    advice = (
        "hook: jiraflow is not installed at /gone/venv/bin/python any more; "
        "run 'jiraflow hooks install' again, or 'jiraflow hooks uninstall'"
    )
    head = repo.git("rev-parse", "HEAD")
    proc = git_proc(repo.path, "commit", "--allow-empty", "-m", "PROJ-1 Fix login")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"jiraflow prepare-commit-msg {advice}",
        f"jiraflow commit-msg {advice}",
    ]
    assert repo.git("rev-parse", "HEAD") == head
    # prepare-commit-msg says so but never blocks: git runs it even with --no-verify
    proc = git_proc(repo.path, "commit", "--no-verify", "--allow-empty", "-m", "PROJ-1 Fix")
    assert proc.returncode == 0, proc.stderr
    assert f"jiraflow prepare-commit-msg {advice}" in proc.stderr
    proc = git_proc(repo.path, "push", "origin", repo.branch())
    assert proc.returncode != 0
    assert f"jiraflow pre-push {advice}" in proc.stderr


def test_a_gui_client_without_path_still_runs_jiraflow(feature: Repo) -> None:
    bare = "/usr/bin:/bin"
    assert shutil.which("git", path=bare)
    assert shutil.which("jiraflow", path=bare) is None
    proc = git_proc(feature.path, "commit", "--allow-empty", "-m", "Fix login", env={"PATH": bare})
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "PROJ-12 Fix login"


# -- prepare-commit-msg ------------------------------------------------------------------------
def commit(repo: Repo, *args: str, env: dict[str, str] | None = None) -> str:
    proc = git_proc(repo.path, "commit", "--allow-empty", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    return message(repo)


def test_the_branch_key_goes_in_front_of_the_message(feature: Repo) -> None:
    assert commit(feature, "-m", "Fix login", "-m", "The body.") == "PROJ-12 Fix login\n\nThe body."


@pytest.mark.parametrize("text", ["OPS-3 Fix login", "Fix login (PROJ-7)", "Fix\n\nSee PROJ-12."])
def test_a_message_naming_a_key_is_left_alone(feature: Repo, text: str) -> None:
    assert commit(feature, "-m", text) == text


def test_comment_lines_and_the_diff_below_the_scissors_name_no_key(feature: Repo) -> None:
    (feature.path / "notes.txt").write_text("see PROJ-99\n")
    feature.git("add", "notes.txt")
    # -e: git adds comments ("On branch feature/PROJ-12-...") and, with -v, the diff
    env = {"GIT_EDITOR": "true"}
    assert commit(feature, "-v", "-e", "-m", "Fix login", env=env) == "PROJ-12 Fix login"


@pytest.mark.parametrize("comment_char", [";", "auto"])
def test_the_configured_comment_character_is_honoured(feature: Repo, comment_char: str) -> None:
    feature.git("config", "core.commentChar", comment_char)
    env = {"GIT_EDITOR": "true"}
    assert commit(feature, "-e", "-m", "Fix login", env=env) == "PROJ-12 Fix login"


def test_an_empty_message_still_aborts_the_commit(feature: Repo) -> None:
    head = feature.git("rev-parse", "HEAD")
    proc = git_proc(feature.path, "commit", "--allow-empty", env={"GIT_EDITOR": "true"})
    assert proc.returncode == 1
    assert "Aborting commit due to empty commit message" in proc.stderr
    assert feature.git("rev-parse", "HEAD") == head


def test_branches_without_a_key_and_a_detached_head_are_left_alone(repo: Repo, run: Run) -> None:
    install(run, repo)
    only_prepare(repo)
    repo.git("checkout", "-q", "develop")
    assert commit(repo, "-m", "Fix login") == "Fix login"
    repo.git("checkout", "-q", "-b", "feature/login-form")
    assert commit(repo, "-m", "Add form") == "Add form"
    repo.git("checkout", "-q", "--detach")
    assert commit(repo, "-m", "Detached") == "Detached"


def test_a_merge_message_is_left_alone(feature: Repo) -> None:
    feature.git("checkout", "-q", "develop")
    commit(feature, "--no-verify", "-m", "PROJ-5 Elsewhere")
    feature.git("checkout", "-q", FEATURE)
    proc = git_proc(feature.path, "merge", "--no-ff", "-m", "Merge develop", "develop")
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "Merge develop"
    assert feature.git("rev-list", "--count", "--merges", "HEAD^..HEAD") == "1"


def test_commits_during_a_rebase_are_left_alone(feature: Repo) -> None:
    feature.commit("a.txt", "a\n", "PROJ-12 First")
    feature.git("checkout", "-q", "develop")
    feature.commit("b.txt", "b\n", "PROJ-5 Other")
    feature.git("checkout", "-q", FEATURE)
    proc = git_proc(
        feature.path,
        "rebase",
        "--exec",
        "git commit --allow-empty -m 'Made in a rebase'",
        "develop",
    )
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "Made in a rebase"
    assert message(feature, "HEAD^") == "PROJ-12 First"


def test_a_cherry_picked_commit_keeps_its_message(feature: Repo) -> None:
    feature.git("checkout", "-q", "develop")
    picked = feature.commit("c.txt", "c\n", "Fix typo")
    feature.git("checkout", "-q", FEATURE)
    proc = git_proc(feature.path, "cherry-pick", picked)
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "Fix typo"
    assert feature.git("rev-parse", "HEAD^{tree}") != feature.git("rev-parse", "HEAD^^{tree}")


def test_only_keys_of_the_configured_projects_count(feature: Repo) -> None:
    with (feature.path / ".jiraflow.toml").open("a") as fh:
        fh.write('\n[jira]\nprojects = ["PROJ"]\n')
    assert commit(feature, "-m", "Fix login") == "PROJ-12 Fix login"
    feature.git("checkout", "-q", "-b", "feature/OPS-3-other")
    assert commit(feature, "-m", "Other") == "Other"


def test_a_broken_config_warns_but_never_stops_the_commit(feature: Repo) -> None:
    (feature.path / ".jiraflow.toml").write_text("[jira\n")
    proc = git_proc(feature.path, "commit", "--allow-empty", "-m", "Fix login")
    assert proc.returncode == 0, proc.stderr
    assert message(feature) == "Fix login"
    warnings = [line for line in proc.stderr.splitlines() if "jiraflow" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: jiraflow prepare-commit-msg hook: ")


# -- commit-msg and pre-push: jiraflow check ---------------------------------------------------
def test_commit_msg_refuses_a_message_without_a_key(repo: Repo, run: Run) -> None:
    install(run, repo)
    head = repo.git("rev-parse", "HEAD")
    proc = git_proc(repo.path, "commit", "--allow-empty", "-m", "Fix login")
    assert proc.returncode == 1
    assert "Fix login" in proc.stderr
    assert repo.git("rev-parse", "HEAD") == head
    assert commit(repo, "-m", "PROJ-3 Fix login") == "PROJ-3 Fix login"


def test_commit_msg_adds_the_key_to_what_the_user_wrote(
    repo: Repo, run: Run, tmp_path: Path
) -> None:
    """The usual flow: no -m, prepare-commit-msg leaves the empty message alone, the user
    writes one in the editor, commit-msg puts the key in front."""
    install(run, repo)
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    editor = tmp_path / "editor"
    write_hook(editor, '{ printf "Fix login\\n"; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n')
    assert commit(repo, env={"GIT_EDITOR": str(editor)}) == "PROJ-12 Fix login"


def test_pre_push_refuses_a_commit_without_a_key(repo: Repo, run: Run, tmp_path: Path) -> None:
    log = repo.path.parent / "pre-push.log"
    temp = tmp_path / "temp"  # where the hook keeps git's input while both hooks read it
    temp.mkdir()
    listing = repo.path.parent / "temp.list"
    write_hook(hooks_of(repo) / "pre-push", f'cat > {log}\nls "$TMPDIR" > {listing}\n')
    install(run, repo)
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    repo.commit("a.txt", "a\n", "PROJ-12 Add the form")
    no_hooks_commit(repo, "Oops")
    proc = git_proc(repo.path, "push", "origin", FEATURE, env={"TMPDIR": str(temp)})
    assert proc.returncode != 0
    assert '"Oops": names no Jira issue' in proc.stdout + proc.stderr
    assert not repo.git("ls-remote", "origin", f"refs/heads/{FEATURE}")
    assert listing.read_text().startswith("jiraflow-pre-push.")
    assert not list(temp.iterdir())  # and removed after
    # both hooks read the same input: the previous one saw it, and ours found the commit
    assert log.read_text() == (
        f"refs/heads/{FEATURE} {repo.git('rev-parse', 'HEAD')} refs/heads/{FEATURE} {ZERO}\n"
    )
    repo.git("reset", "-q", "--hard", "HEAD^")
    proc = git_proc(repo.path, "push", "origin", FEATURE, env={"TMPDIR": str(temp)})
    assert proc.returncode == 0, proc.stderr
    assert repo.git("ls-remote", "origin", f"refs/heads/{FEATURE}")


# -- the hidden runner -------------------------------------------------------------------------
def test_the_runner_is_hidden_and_refuses_unknown_hooks(repo: Repo, run: Run) -> None:
    commands = run(repo, "hooks", "--help").out.split("Commands:")[1]
    assert [line.split()[0] for line in commands.strip().splitlines()] == ["install", "uninstall"]
    result = run(repo, "hooks", "run", "post-checkout")
    assert result.code == 2
    assert "there is no jiraflow hook 'post-checkout'" in result.err


@pytest.mark.parametrize("argv", [["hooks", "--help"], ["hooks", "install", "--help"]])
def test_hooks_help_imports_no_heavy_library(argv: list[str]) -> None:
    loaded = modules_loaded(argv)
    assert "jiraflow.cli.hooks_cmd" in loaded
    assert not [m for m in HEAVY if m in loaded]


# -- the message rewrite -----------------------------------------------------------------------
SCISSORS = "# ------------------------ >8 ------------------------\n"


ON_BRANCH = "On branch feature/PROJ-12-x\n"  # a comment git writes: it names the key


@pytest.mark.parametrize(
    ("text", "comment", "expected"),
    [
        ("Fix login\n", "#", "PROJ-12 Fix login\n"),
        ("\n  Fix login\n\nBody\n# x\n", "#", "\nPROJ-12 Fix login\n\nBody\n# x\n"),
        ("# a comment first\nFix login\n", "#", "# a comment first\nPROJ-12 Fix login\n"),
        ("Fix\n" + SCISSORS + "+PROJ-99\n", "#", "PROJ-12 Fix\n" + SCISSORS + "+PROJ-99\n"),
        ("Fix login\n# " + ON_BRANCH, "#", "PROJ-12 Fix login\n# " + ON_BRANCH),
        ("Fix login\n; " + ON_BRANCH, ";", "PROJ-12 Fix login\n; " + ON_BRANCH),
        ("#hash tag\n; comment\n", ";", "PROJ-12 #hash tag\n; comment\n"),
        ("Fix login\r\n", "#", "PROJ-12 Fix login\r\n"),
        ("Fix login\n; " + ON_BRANCH, None, "PROJ-12 Fix login\n; " + ON_BRANCH),
    ],
)
def test_message_with_key(text: str, comment: str | None, expected: str) -> None:
    assert message_with_key(text, "PROJ-12", comment) == expected


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        ("", "#"),
        ("\n\n# Please enter the commit message\n# On branch main\n", "#"),
        ("\n" + SCISSORS + "Fix login\n", "#"),
        ("OPS-3 Fix login\n", "#"),
        ("Fix login\n\nRefs [PROJ-7].\n", "#"),
        ("fixup! Fix login\n", "#"),
        ("squash! Fix login\n", "#"),
        ("amend! Fix login\n", "#"),
        ("; only comments\n", ";"),
        ("! might be git's comment character\n", None),
        ("\n", None),
    ],
)
def test_message_with_nothing_to_add(text: str, comment: str | None) -> None:
    assert message_with_key(text, "PROJ-12", comment) is None


def test_a_key_inside_a_word_is_not_a_key() -> None:
    assert message_with_key("Bump XPROJ-12a and PROJ-123\n", "PROJ-12", "#") is None
    assert message_with_key("Bump libPROJ-12\n", "PROJ-12", "#") == "PROJ-12 Bump libPROJ-12\n"


# -- pushed ranges -----------------------------------------------------------------------------
ZERO = "0" * 40


def logged(repo: Repo, push: Push) -> list[str]:
    return repo.git("log", "--format=%s", *push.rev_range.split()).splitlines()


@pytest.fixture
def pushed(repo: Repo) -> tuple[Repo, GitRepo]:
    """develop on origin plus a local feature branch with two commits that origin lacks; the
    first is on a branch of another remote, origin2."""
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    repo.commit("a.txt", "a\n", "PROJ-12 One")
    repo.commit("b.txt", "b\n", "PROJ-12 Two")
    repo.git("update-ref", "refs/remotes/origin2/feature", "HEAD^")
    return repo, GitRepo.discover(str(repo.path))


def excluding(repo: Repo, *refs: str) -> str:
    return " ".join(f"^{sha}" for sha in sorted({repo.git("rev-parse", r) for r in refs}))


def test_a_new_branch_brings_what_no_remote_branch_has(pushed: tuple[Repo, GitRepo]) -> None:
    repo, git = pushed
    new = repo.git("rev-parse", "HEAD")
    line = f"refs/heads/{FEATURE} {new} refs/heads/{FEATURE} {ZERO}\n"
    pushes = pushes_from_lines(git, "origin", [line])
    tips = excluding(repo, "origin/main", "origin/develop")
    assert pushes == [Push(FEATURE, f"{new} {tips}")]
    assert logged(repo, pushes[0]) == ["PROJ-12 Two", "PROJ-12 One"]


def test_an_update_brings_the_commits_after_the_remote_tip(pushed: tuple[Repo, GitRepo]) -> None:
    repo, git = pushed
    old, new = repo.git("rev-parse", "HEAD^"), repo.git("rev-parse", "HEAD")
    line = f"refs/heads/{FEATURE} {new} refs/heads/other-name {old}"
    pushes = pushes_from_lines(git, "origin", [line])
    tips = excluding(repo, "origin/main", "origin/develop", old)
    assert pushes == [Push("other-name", f"{new} {tips}")]
    assert logged(repo, pushes[0]) == ["PROJ-12 Two"]


def test_an_update_leaves_out_what_the_remote_has_on_other_branches(
    pushed: tuple[Repo, GitRepo],
) -> None:
    repo, git = pushed  # the feature's two commits are on origin's feature branch already
    repo.git("push", "-q", "origin", FEATURE)
    old = repo.git("rev-parse", "develop")
    repo.git("checkout", "-q", "develop")
    repo.git("merge", "-q", "--no-ff", "--no-edit", FEATURE)
    repo.commit("c.txt", "c\n", "PROJ-13 Three")
    new = repo.git("rev-parse", "HEAD")
    line = f"refs/heads/develop {new} refs/heads/develop {old}"
    pushes = pushes_from_lines(git, "origin", [line])
    assert logged(repo, pushes[0]) == ["PROJ-13 Three", f"Merge branch '{FEATURE}' into develop"]


def test_deletions_and_tags_are_not_pushes(pushed: tuple[Repo, GitRepo]) -> None:
    repo, git = pushed
    sha = repo.git("rev-parse", "HEAD")
    lines = [
        f"(delete) {ZERO} refs/heads/old-branch {sha}",
        f"refs/tags/1.0.0 {sha} refs/tags/1.0.0 {ZERO}",
        f"refs/notes/commits {sha} refs/notes/commits {ZERO}",
        "",
    ]
    assert pushes_from_lines(git, "origin", lines) == []


def test_a_remote_tip_we_do_not_have_counts_as_a_new_branch(
    pushed: tuple[Repo, GitRepo],
) -> None:
    repo, git = pushed
    new = repo.git("rev-parse", "HEAD")
    unknown = "1234567890" * 4
    line = f"refs/heads/{FEATURE} {new} refs/heads/{FEATURE} {unknown}"
    tips = excluding(repo, "origin/main", "origin/develop")
    assert pushes_from_lines(git, "origin", [line]) == [Push(FEATURE, f"{new} {tips}")]


def test_a_push_to_a_url_excludes_every_remote_branch(pushed: tuple[Repo, GitRepo]) -> None:
    repo, git = pushed
    new = repo.git("rev-parse", "HEAD")
    line = f"refs/heads/{FEATURE} {new} refs/heads/{FEATURE} {ZERO}"
    pushes = pushes_from_lines(git, "/somewhere/else.git", [line])
    tips = excluding(repo, "origin/main", "origin/develop", "origin2/feature")
    assert pushes == [Push(FEATURE, f"{new} {tips}")]
    assert logged(repo, pushes[0]) == ["PROJ-12 Two"]


def test_several_lines_make_several_pushes_and_garbage_is_refused(
    pushed: tuple[Repo, GitRepo],
) -> None:
    repo, git = pushed
    new, develop = repo.git("rev-parse", "HEAD"), repo.git("rev-parse", "develop")
    lines = [
        f"refs/heads/{FEATURE} {new} refs/heads/{FEATURE} {ZERO}",
        f"refs/heads/develop {new} refs/heads/develop {develop}",
    ]
    assert [p.branch for p in pushes_from_lines(git, "origin", lines)] == [FEATURE, "develop"]
    with pytest.raises(UsageError, match="unexpected input line"):
        pushes_from_lines(git, "origin", ["refs/heads/x abc"])


def test_the_pre_commit_framework_names_the_push_in_its_environment(
    pushed: tuple[Repo, GitRepo],
) -> None:
    repo, git = pushed
    old, new = repo.git("rev-parse", "HEAD^"), repo.git("rev-parse", "HEAD")
    env = {
        "PRE_COMMIT_FROM_REF": old,
        "PRE_COMMIT_TO_REF": new,
        "PRE_COMMIT_REMOTE_BRANCH": f"refs/heads/{FEATURE}",
        "PRE_COMMIT_REMOTE_NAME": "origin",
        "PRE_COMMIT_LOCAL_BRANCH": f"refs/heads/{FEATURE}",
    }
    tips = excluding(repo, "origin/develop", old)
    assert pushes_from_env(git, env) == [Push(FEATURE, f"{new} {tips}")]
    # pushing a root commit: pre-commit names no from-ref
    no_from = {k: v for k, v in env.items() if k != "PRE_COMMIT_FROM_REF"}
    tips = excluding(repo, "origin/develop")
    assert pushes_from_env(git, no_from) == [Push(FEATURE, f"{new} {tips}")]
    assert pushes_from_env(git, {**env, "PRE_COMMIT_REMOTE_BRANCH": "refs/tags/1.0"}) == []
    assert pushes_from_env(git, {}) == []


# -- the pre-commit framework ------------------------------------------------------------------
def test_the_manifest_passes_pre_commits_own_schema() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}
    assert sorted(hooks) == [
        "jiraflow-branch",
        "jiraflow-commit-msg",
        "jiraflow-pre-push",
        "jiraflow-prepare-commit-msg",
    ]
    assert hooks["jiraflow-commit-msg"]["stages"] == ["commit-msg"]
    assert hooks["jiraflow-prepare-commit-msg"]["stages"] == ["prepare-commit-msg"]
    assert hooks["jiraflow-pre-push"]["stages"] == ["pre-push"]
    assert not hooks["jiraflow-pre-push"]["pass_filenames"]
    assert all(hook["language"] == "python" for hook in hooks.values())


def test_pre_commit_runs_the_prepare_commit_msg_hook(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's hooks as local hooks (language: system, so no network), installed by
    pre-commit itself, run by a real commit."""
    from pre_commit.clientlib import load_manifest

    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    lines = ["repos:", "- repo: local", "  hooks:"]
    for hook in load_manifest(str(MANIFEST)):
        lines += [
            f"  - id: {hook['id']}",
            f"    name: {hook['name']}",
            f"    entry: {hook['entry']}",
            "    language: system",
            f"    stages: [{', '.join(hook['stages'])}]",
            f"    pass_filenames: {str(hook['pass_filenames']).lower()}",
            f"    always_run: {str(hook['always_run']).lower()}",
        ]
    (repo.path / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n")
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-q", "-m", "PROJ-1 Use pre-commit")
    repo.git("checkout", "-q", "-b", FEATURE)
    types = ["prepare-commit-msg", "commit-msg", "pre-push"]
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", *(f"--hook-type={t}" for t in types)],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for hook in types:
        assert "pre-commit" in (hooks_of(repo) / hook).read_text()
    assert commit(repo, "-m", "Fix login") == "PROJ-12 Fix login"
    assert commit(repo, "-m", "Fix typo", "-m", "See OPS-1.") == "Fix typo\n\nSee OPS-1."
    repo.git("checkout", "-q", "develop")
    proc = git_proc(repo.path, "commit", "--allow-empty", "-m", "No key here")
    assert proc.returncode == 1
    assert "jiraflow check commit message" in proc.stdout + proc.stderr
    # pre-push: the framework reads git's input and passes the push on in its environment
    repo.git("checkout", "-q", FEATURE)
    no_hooks_commit(repo, "Oops")
    proc = git_proc(repo.path, "push", "origin", FEATURE)
    assert proc.returncode != 0
    assert "Oops" in proc.stdout + proc.stderr
    assert not repo.git("ls-remote", "origin", f"refs/heads/{FEATURE}")
    repo.git("reset", "-q", "--hard", "HEAD^")
    proc = git_proc(repo.path, "push", "origin", FEATURE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- jiraflow's own flow, with the hooks installed -------------------------------------------
def test_the_gitflow_of_jiraflow_passes_its_own_hooks(repo: Repo, run: Run) -> None:
    """Merges (also with a message of their own), version bumps, tag merges and pushes of
    develop and main after a release: nothing the flow does is refused, and commits the
    remote already has (a keyless one pushed with --no-verify) are not checked again."""
    no_hooks_commit(repo, "Add jiraflow config")
    repo.git("push", "-q", "--no-verify", "origin", "develop")
    install(run, repo)
    assert run(repo, "feature", "start", "PROJ-1-login").code == 0
    assert commit(repo, "-m", "Add the form") == "PROJ-1 Add the form"
    assert git_proc(repo.path, "push", "-q", "origin", "HEAD").returncode == 0
    result = run(repo, "feature", "finish", "--no-ff")
    assert result.code == 0, result.err
    repo.git("checkout", "-q", "-b", "feature/PROJ-2-other", "develop")
    assert commit(repo, "-m", "Other work") == "PROJ-2 Other work"
    repo.git("checkout", "-q", "develop")
    proc = git_proc(
        repo.path, "merge", "--no-ff", "-m", "Finish the other work", "feature/PROJ-2-other"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = run(repo, "release", "start", "1.0.0")
    assert result.code == 0, result.err
    result = run(repo, "release", "finish", "--push", "1.0.0")
    assert result.code == 0, result.err
    assert repo.git("ls-remote", "origin", "refs/tags/1.0.0")


def test_a_conflicted_merge_is_committed_with_any_message(repo: Repo, run: Run) -> None:
    install(run, repo)
    repo.git("checkout", "-q", "-b", FEATURE, "develop")
    repo.commit("x.txt", "feature\n", "PROJ-12 x")
    repo.git("checkout", "-q", "develop")
    repo.commit("x.txt", "develop\n", "PROJ-13 x")
    assert git_proc(repo.path, "merge", FEATURE).returncode != 0
    (repo.path / "x.txt").write_text("both\n")
    repo.git("add", "x.txt")
    proc = git_proc(repo.path, "commit", "-m", "Resolve conflicts")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert message(repo) == "Resolve conflicts"


def test_a_message_given_with_m_keeps_its_hash_lines(repo: Repo, run: Run) -> None:
    """git commit -m keeps lines starting with #: they are the message, and name no key."""
    install(run, repo)
    proc = git_proc(repo.path, "commit", "--allow-empty", "-m", "#42 Fix crash")
    assert proc.returncode == 1
    assert "commit message: names no Jira issue" in proc.stdout + proc.stderr
    assert commit(repo, "-m", "#42 Fix crash\n\nPROJ-3") == "#42 Fix crash\n\nPROJ-3"


def test_a_push_refused_inside_a_finish_says_why(repo: Repo, run: Run) -> None:
    install(run, repo)
    assert run(repo, "feature", "start", "PROJ-1-login").code == 0
    no_hooks_commit(repo, "No key")
    result = run(repo, "feature", "finish", "--push")
    assert result.code == 6
    assert "its pre-push hook refused it:" in result.err
    assert '"No key": names no Jira issue' in result.err


def test_a_jql_rule_applies_to_work_not_to_pushing_finished_work(
    repo: Repo, run: Run, jira: JiraSandbox
) -> None:
    """Finishing moves the issue to Done before develop is pushed: check.jql then does not
    refuse develop; it still refuses a feature branch of a closed issue."""
    (repo.path / ".jiraflow.toml").write_text("[check]\njql = 'statusCategory != Done'\n")
    install(run, repo)
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    assert commit(repo, "-m", "Add the form") == "PROJ-1 Add the form"
    proc = git_proc(repo.path, "push", "-q", "origin", "HEAD")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run(repo, "feature", "finish").code == 0
    assert jira.issue("PROJ-1")["status"] == "Done"
    proc = git_proc(repo.path, "push", "-q", "origin", "develop")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo.git("checkout", "-q", "-b", "feature/PROJ-4-more", "develop")
    assert commit(repo, "-m", "More") == "PROJ-4 More"  # PROJ-4 is Done
    proc = git_proc(repo.path, "push", "-q", "origin", "HEAD")
    assert proc.returncode == 1
    assert "PROJ-4 does not meet check.jql" in proc.stdout + proc.stderr
