"""A start that fails, gets Ctrl-C or is killed half-way leaves the repository as it was.

Every start kind (feature, bugfix with a recorded base, release and hotfix bumping version
files, support, and `jiraflow start KEY`) runs as a real process (`python -P -m jiraflow`)
and is stopped at each of its steps by a real fault: git's step fails (a hook refuses the
ref update, `.git/config.lock` is held, a version file is read-only, a clean filter
refuses the file), or a hook of the test repository sends a real SIGINT (as Ctrl-C does)
or SIGKILL. A failed or interrupted start puts everything back itself; after a SIGKILL the
next command refuses with a hint, and the hinted command (`jiraflow <kind> start --abort`)
puts it back.

Not reached by a hook: a stop between the two version-file writes, after a bugfix start's
last step (`git config`), or in the middle of a write: no git runs there. The state a kill
between or inside the writes leaves is made from a real kill just before them (the last
test); a stop after `git config` leaves what a stop before the journal goes leaves.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import as_anyone
from gitutil import Repo
from hintutil import Stopped, hinted, install_stop_hooks, stopped

VERSION_FILES = '[release]\nversion_files = ["pyproject.toml", "VERSION"]\n'

# (kind, arguments, number of steps)
STARTS = [
    ("feature", ("feature", "start", "login"), 1),
    ("bugfix", ("bugfix", "start", "crash", "main"), 2),  # records its base in git config
    ("release", ("release", "start", "--minor"), 5),  # checkout, 2 writes, add, commit
    ("hotfix", ("hotfix", "start", "1.0.1"), 5),
    ("support", ("support", "start", "1.x", "1.0.0"), 1),
]
STEPS = {kind: steps for kind, _, steps in STARTS}

# The git event (see hintutil.STOP_HOOK) at which a stop lands before step N of each kind
# (N = the number of steps: after the last, before the journal goes). Each plan's steps
# run: checkout (its ref update "prepared", then "post-checkout"); [bugfix] config;
# [release, hotfix] two writes, add (reading the files: "clean"; then "post-index-change",
# its second), commit ("post-commit").
BEFORE = {
    "feature": {0: "prepared 1", 1: "post-checkout 1"},
    "support": {0: "prepared 1", 1: "post-checkout 1"},
    "bugfix": {0: "prepared 1", 1: "post-checkout 1"},
    "release": {
        0: "prepared 1",
        1: "post-checkout 1",
        3: "clean 1",
        4: "post-index-change 2",
        5: "post-commit 1",
    },
}
BEFORE["hotfix"] = BEFORE["release"]
CASES = [(kind, args, at) for kind, args, _ in STARTS for at in BEFORE[kind]]

# How step N of each kind is made to fail for real, and what the error then says:
# (event, action) of the stop hook, or the version file made read-only.
FAIL_REF = ("prepared 1", "fail", "ref updates aborted by hook")  # a hook refuses the ref update
FAILING = {
    ("bugfix", 1): ("post-checkout 1", "lock-config", "could not lock config file"),
    ("release", 1): ("read-only", "pyproject.toml", "cannot write pyproject.toml"),
    ("release", 2): ("read-only", "VERSION", "cannot write VERSION"),
    ("release", 3): ("clean 1", "fail", "external filter"),  # the clean filter refuses
    ("release", 4): ("prepared 2", "fail", "ref updates aborted by hook"),
}
FAILURES = [(kind, args, at) for kind, args, steps in STARTS for at in range(steps)]


@pytest.fixture
def prepared(repo: Repo) -> Repo:
    """develop with version files, a release tag on main, and uncommitted user work; the
    stop hooks installed, and the version files read through the stop hook's filter."""
    repo.commit("pyproject.toml", '[project]\nname = "app"\nversion = "1.0.0"\n', "pyproject")
    repo.commit("VERSION", "1.0.0\n", "VERSION")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Release 1.0.0", "develop")
    repo.git("tag", "-a", "-m", "1.0.0", "1.0.0")
    repo.git("checkout", "-q", "develop")
    repo.git("merge", "-q", "main")
    (repo.path / ".jiraflow.toml").write_text(
        (repo.path / ".jiraflow.toml").read_text() + "\n" + VERSION_FILES
    )
    install_stop_hooks(repo, filtered=("pyproject.toml", "VERSION"))
    return repo


def state(repo: Repo) -> tuple[object, ...]:
    """Everything a start may touch: refs, HEAD, status, tree, gitflow.branch.* settings."""
    config = repo.git("config", "--get-regexp", r"^gitflow\.branch\.", check=False)
    return (*repo.snapshot(), config)


def dirty_feature(repo: Repo, kind: str) -> None:
    """Feature and bugfix starts take the user's uncommitted work along: some staged, some
    not, one file both. It must come back exactly as it was."""
    if kind in ("feature", "bugfix"):
        (repo.path / "README").write_text("hello\nstaged\n")
        repo.git("add", "README")
        (repo.path / "README").write_text("hello\nstaged\nand not\n")
        (repo.path / "notes.txt").write_text("untracked\n")


def assert_nothing_left(repo: Repo, before: tuple[object, ...]) -> None:
    assert state(repo) == before
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()


@pytest.mark.parametrize(("kind", "args", "at"), FAILURES)
def test_a_failed_start_puts_everything_back(
    prepared: Repo, kind: str, args: tuple[str, ...], at: int
) -> None:
    repo = prepared
    dirty_feature(repo, kind)
    before = state(repo)
    event, how, says = (
        FAIL_REF if at == 0 else FAILING[("release" if kind == "hotfix" else kind, at)]
    )
    prefix: tuple[str, ...] = ()
    if event == "read-only":
        (repo.path / how).chmod(0o444)
        prefix = as_anyone()  # root too is refused by the read-only mode
        event = how = ""
    result = stopped(repo, *args, at=event, how=how, prefix=prefix)
    assert not event or reached(result, event), result.events
    (repo.path / ".git" / "config.lock").unlink(missing_ok=True)
    assert result.returncode == 5, result.stderr
    assert says in result.stderr and "--continue" not in result.stderr, result.stderr
    assert_nothing_left(repo, before)


@pytest.mark.parametrize(("kind", "args", "at"), CASES)
def test_ctrl_c_in_a_start_puts_everything_back(
    prepared: Repo, run, kind: str, args: tuple[str, ...], at: int
) -> None:
    repo = prepared
    dirty_feature(repo, kind)
    before = state(repo)
    proc = stopped(repo, *args, at=BEFORE[kind][at], how="int")
    assert reached(proc, BEFORE[kind][at]) and proc.returncode == 130, proc.stderr
    assert "--continue" not in proc.stderr
    commands = hinted(proc.stderr)
    if (repo.path / ".git" / "jiraflow" / "state.json").exists():
        # Ctrl-C after the last step, as the journal goes: the hint undoes it
        assert at == STEPS[kind]
        assert commands == [f"jiraflow {kind} start --abort"], proc.stderr
        assert run(repo, *commands[0].split()[1:]).code == 0
    else:
        assert commands == [], commands  # put back already: nothing to run
    assert_nothing_left(repo, before)


@pytest.mark.parametrize(("kind", "args", "at"), CASES)
def test_a_killed_start_is_found_and_undone_by_the_hinted_command(
    prepared: Repo, run, kind: str, args: tuple[str, ...], at: int
) -> None:
    repo = prepared
    dirty_feature(repo, kind)
    before = state(repo)
    proc = stopped(repo, *args, at=BEFORE[kind][at], how="kill-first" if at == 0 else "kill")
    assert reached(proc, BEFORE[kind][at]) and proc.returncode == -9, proc.stderr
    undo_as_hinted(repo, run, kind)
    assert_nothing_left(repo, before)


def test_a_killed_start_is_undone_from_status_too(prepared: Repo, run) -> None:
    repo = prepared
    before = state(repo)
    killed = stopped(repo, "release", "start", "--minor", at=BEFORE["release"][3])
    assert killed.returncode == -9, killed.stderr
    status = run(repo, "status")
    assert status.code == 0
    assert "`jiraflow release start --abort`" in status.out
    # the finish of the wrong kind names the right command too
    wrong = run(repo, "release", "finish", "--abort")
    assert wrong.code == 2 and "`jiraflow release start --abort`" in wrong.err
    now = state(repo)
    assert run(repo, "--dry-run", "release", "start", "--abort").code == 0
    assert state(repo) == now  # a dry run changes nothing
    done = run(repo, "release", "start", "--abort")
    assert done.code == 0, done.err
    assert "deleted 'release/1.1.0'" in done.out and "put back" in done.out
    assert_nothing_left(repo, before)
    again = run(repo, "release", "start", "--abort")
    assert again.code == 2 and "there is no release start to abort" in again.err


def test_abort_keeps_a_branch_the_user_committed_on(prepared: Repo, run) -> None:
    repo = prepared
    killed = stopped(repo, "feature", "start", "login", at=BEFORE["feature"][1])
    assert killed.returncode == -9, killed.stderr
    assert repo.branch() == "feature/login"
    mine = repo.commit("mine.txt", "mine\n", "My own work after the kill")
    result = run(repo, "feature", "start", "--abort")
    assert result.code == 0, result.err
    assert "kept 'feature/login'" in result.out and "My own work" in result.out
    assert repo.git("rev-parse", "feature/login") == mine and repo.branch() == "feature/login"
    assert not (repo.path / ".git" / "jiraflow" / "state.json").exists()
    assert run(repo, "feature", "start", "other").code == 0  # nothing is refused any more


def test_start_key_killed_or_interrupted(repo: Repo, run, jira) -> None:  # type: ignore[no-untyped-def]
    install_stop_hooks(repo)
    before = state(repo)
    assert stopped(repo, "start", "PROJ-1", at="prepared 1", how="int").returncode == 130
    assert_nothing_left(repo, before)
    assert stopped(repo, "start", "PROJ-1", at="post-checkout 1").returncode == -9
    undo_as_hinted(repo, run, "feature")
    assert_nothing_left(repo, before)


# -- helpers ----------------------------------------------------------------------------------
def reached(proc: Stopped, point: str) -> bool:
    """Whether the run got to the git event `point` ("EVENT N") its stop was set at."""
    event, n = point.split()
    return proc.events.count(event) >= int(n)


def undo_as_hinted(repo: Repo, run: Callable[..., object], kind: str) -> None:
    """The next command refuses (exit 5) and hints at the command that undoes the killed
    start; that command, run as hinted, succeeds."""
    refused = run(repo, "feature", "start", "next-thing")
    assert refused.code == 5, refused.err  # type: ignore[attr-defined]
    commands = [c for c in hinted(refused.err) if c.startswith("jiraflow ")]  # type: ignore[attr-defined]
    assert commands == [f"jiraflow {kind} start --abort"], refused.err  # type: ignore[attr-defined]
    done = run(repo, *commands[0].split()[1:])
    assert done.code == 0, done.err  # type: ignore[attr-defined]


# A stop between the two version-file writes, or in the middle of one, has no git event to
# land on (jiraflow writes the files itself). The state such a kill leaves is made here from
# a real kill just before the first write: the writes the journal holds are then done as the
# killed process would have done them, whole or cut short, with the journal's `next` where
# it would have been. The example: `release start --minor` killed while bumping.
@pytest.mark.parametrize(
    ("written", "recorded"),
    [
        ((1.0,), 1),  # the first file bumped; killed before the journal said so
        ((1.0,), 2),  # ... and after
        ((0.5,), 1),  # killed half-way through the first file
        ((1.0, 0.5), 2),  # the first file bumped, killed half-way through the second
        ((1.0, 1.0), 2),  # both bumped, killed before the journal recorded the second
    ],
)
def test_a_start_killed_while_bumping_the_version_files_is_undone(
    prepared: Repo, run, written: tuple[float, ...], recorded: int
) -> None:
    import json

    repo = prepared
    before = state(repo)
    killed = stopped(repo, "release", "start", "--minor", at=BEFORE["release"][1])
    assert reached(killed, BEFORE["release"][1]) and killed.returncode == -9, killed.stderr
    path = repo.path / ".git" / "jiraflow" / "state.json"
    journal = json.loads(path.read_text())
    writes = [s for s in journal["steps"] if s.get("kind") == "write"]
    assert [s["argv"][0] for s in writes] == ["pyproject.toml", "VERSION"]
    for step, part in zip(writes, written, strict=False):
        text = step["message"]
        (repo.path / step["argv"][0]).write_text(text[: int(len(text) * part)])
    journal["next"] = recorded
    path.write_text(json.dumps(journal))
    assert "1.1.0" in (repo.path / "pyproject.toml").read_text() or written[0] < 1
    undo_as_hinted(repo, run, "release")
    assert_nothing_left(repo, before)
    assert (repo.path / "pyproject.toml").read_text().endswith('version = "1.0.0"\n')
