"""A finish killed at any point can be continued or aborted (issue 16).

Each case runs the real jiraflow process (`python -P -m jiraflow`) in a copy of a prepared
repository whose git hooks (reference-transaction, post-checkout, post-index-change) count
the ref updates, checkouts and index writes of the running finish and, at the Nth, kill
jiraflow: right after a step's effect, before the journal records it. The one step that
makes no git event, writing the release notes (jiraflow writes the file itself), has no
real kill point of its own: its state (file written, journal not told) is made from the
kill after the step before it. From that state `--continue` must end exactly where an uninterrupted
finish ends (every ref, here and on origin: commits are reproducible, the clock is fixed),
and `--abort` must put back every local ref, HEAD and the tree, and say what origin still
has, with a command that puts origin back too.

CRASH_TABLE=FILE appends one JSON line per kill point to FILE (the table in the closing
note of issue 16; /work/notes/crash-table.md).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import point_bitbucket_at, require_merge_tree
from gitutil import Repo, Result, git, jf
from hintutil import hinted, wait_for_group
from jiraflow.gitflow.plan import WRITE
from jiraflow.sandbox.bitbucket import BitbucketSandbox

# Counts the ref updates (and checkouts) of a running jiraflow plan in $CRASH_DIR/count and
# logs them; the one numbered $CRASH_DIR/at sends $CRASH_DIR/signal to $CRASH_DIR/target.
# Index writes (`git add` makes only those) are counted apart, for each step ("iSTEP.K": the
# Kth of step STEP): how many a run makes varies (git refreshes the index when it likes).
HOOK = r"""#!/bin/sh
[ -n "$CRASH_DIR" ] && [ -f .git/jiraflow/state.json ] || exit 0
if [ "$(basename "$0")" = reference-transaction ]; then
    [ "$1" = committed ] || exit 0
    what=$(cut -d' ' -f3 | tr '\n' ' ')
    case " $what" in *" refs/"*|*" HEAD "*) ;; *) exit 0 ;; esac
elif [ "$(basename "$0")" = post-index-change ]; then
    what="index"
else
    what="HEAD (checkout)"
fi
[ -f "$CRASH_DIR/plan.json" ] || cp .git/jiraflow/state.json "$CRASH_DIR/plan.json"
step=$(sed -n 's/^ *"next": \([0-9]*\),*$/\1/p' .git/jiraflow/state.json)
counter="$CRASH_DIR/count"
[ "$what" = index ] && counter="$CRASH_DIR/index$step"
n=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$counter"
[ "$what" = index ] && n="i$step.$n"
echo "$n $step $what" >> "$CRASH_DIR/log"
if [ "$n" = "$(cat "$CRASH_DIR/at" 2>/dev/null)" ]; then
    kill -s "$(cat "$CRASH_DIR/signal")" -- "$(cat "$CRASH_DIR/target")"
fi
exit 0
"""

# A merge waits in this hook while $CRASH_DIR/hold exists (defect 2: a slow hook, killed).
SLOW_HOOK = r"""#!/bin/sh
[ -n "$CRASH_DIR" ] && [ -f "$CRASH_DIR/hold" ] || exit 0
touch "$CRASH_DIR/waiting"
sleep 60
"""


# -- the repositories ---------------------------------------------------------------------------
@dataclass
class Case:
    """A work tree `work` with its bare origin beside it (remote URL ../origin.git, so a copy
    of the directory is a whole new pair) and a directory for the hooks' bookkeeping."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def origin(self) -> Path:
        return self.root / "origin.git"

    @property
    def crash(self) -> Path:
        return self.root / "crash"

    def copy(self, to: Path) -> Case:
        shutil.copytree(self.root, to, symlinks=True)
        shutil.rmtree(to / "crash", ignore_errors=True)
        (to / "crash").mkdir()
        return Case(to)

    def state(self) -> dict[str, object]:
        """What a finish leaves: every ref here and on origin, HEAD, the tree's status."""
        return {
            "refs": Repo(self.work).refs(),
            "head": git(self.work, "rev-parse", "--symbolic-full-name", "HEAD"),
            "status": git(self.work, "status", "--porcelain", "--untracked-files=all"),
            "origin": Repo(self.origin).refs(),
            "journal": (self.work / ".git" / "jiraflow" / "state.json").exists(),
        }


def make_case(root: Path) -> Case:
    case = Case(root)
    root.mkdir()
    case.crash.mkdir()
    # no sample hooks: fewer files to copy for each case
    git(root, "init", "--quiet", "--template=", "--bare", "-b", "main", "origin.git")
    git(root, "init", "--quiet", "--template=", "-b", "main", "work")
    repo = Repo(case.work)
    repo.commit("README", "hello\n", "Initial commit")
    repo.git("remote", "add", "origin", "../origin.git")
    repo.git("push", "--quiet", "-u", "origin", "main")
    assert jf(repo, "init", "--defaults").code == 0
    repo.git("push", "--quiet", "-u", "origin", "develop")
    return case


def install_hooks(case: Case) -> None:
    hooks = case.work / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in ("reference-transaction", "post-checkout", "post-index-change"):
        (hooks / name).write_text(HOOK)
        (hooks / name).chmod(0o755)


def publish(repo: Repo, branch: str) -> None:
    repo.git("push", "--quiet", "-u", "origin", branch)


def feature_case(root: Path, *, moved: bool = False) -> Case:
    """feature/login, two commits (a merge commit, not a fast-forward), on origin too;
    `moved`: develop has a commit since (for --rebase), on origin too."""
    case = make_case(root)
    repo = Repo(case.work)
    assert jf(repo, "feature", "start", "login").code == 0
    repo.commit("login.txt")
    repo.commit("login.txt")
    publish(repo, "feature/login")
    if moved:
        repo.git("checkout", "--quiet", "develop")
        repo.commit("develop.txt")
        repo.git("push", "--quiet", "origin", "develop")
        repo.git("checkout", "--quiet", "feature/login")
    return case


def release_case(root: Path, kind: str = "release") -> Case:
    """release/1.0.0 (or hotfix/1.0.1) with a commit, on origin too; the release notes go
    to CHANGELOG.md, so the finish writes and commits it first."""
    case = make_case(root)
    repo = Repo(case.work)
    version = "1.0.0" if kind == "release" else "1.0.1"
    assert jf(repo, kind, "start", version).code == 0
    repo.commit(f"{kind}.txt")
    publish(repo, f"{kind}/{version}")
    with open(case.work / ".jiraflow.toml", "a") as fh:
        fh.write('\n[release]\nchangelog = "CHANGELOG.md"\n')
    return case


# -- killing a finish ---------------------------------------------------------------------------
def run_killed(case: Case, args: tuple[str, ...], at: str, sig: str = "KILL") -> Result:
    """Run `jiraflow ARGS` in its own process group; the hook sends `signal` at the `at`th
    event (KILL: to jiraflow alone, git finishing what it does; INT: to the whole group,
    as Ctrl-C in a terminal does). Returns jiraflow's exit status and output once every
    process of the group has ended (any left is killed)."""
    (case.crash / "at").write_text(str(at))
    (case.crash / "signal").write_text(sig)
    prefix = "-" if sig == "INT" else ""
    script = f'echo "{prefix}$$" > "$CRASH_DIR/target"; exec "$0" -P -m jiraflow "$@"'
    proc = subprocess.Popen(
        ["sh", "-c", script, sys.executable, "-C", str(case.work), *args],
        env={**os.environ, "CRASH_DIR": str(case.crash)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with ending(proc):
        out, err = proc.communicate(timeout=120)
        wait_for_group(proc.pid)
    return Result(proc.returncode, out, err)


@contextmanager
def ending(proc: subprocess.Popen[str]) -> Iterator[None]:
    """Whatever happens inside (a failed assertion, a timeout), no process of `proc`'s
    group (jiraflow, git, a hook's `sleep`) outlives it."""
    try:
        yield
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def exits(result: Result, code: int) -> None:
    assert result.code == code, f"exit {result.code}, not {code}: {result.err}"


def expected_exit(sig: str) -> int:
    """jiraflow's exit status when killed (-9) or interrupted (130, as Ctrl-C)."""
    return -9 if sig == "KILL" else 130


@dataclass
class Point:
    at: str  # the event's number (see HOOK)
    step: int  # the index of the step that made it
    label: str


def kill_points(case: Case, *, every: bool) -> list[Point]:
    """The events the counting run logged, each named by its step: all of them, or (`every`
    False) the last of each step, right after its effect. (Killed alone, jiraflow leaves git
    to finish the step, so an earlier event of the same step ends the same.) An index write
    counts only for a step that makes no other event (`add`): a checkout or a merge writes
    the index before it moves a ref."""
    plan = json.loads((case.crash / "plan.json").read_text())
    logged = [line.split(" ", 2) for line in (case.crash / "log").read_text().splitlines()]
    moves = {int(step) for _, step, what in logged if what.strip() != "index"}
    points: dict[int, Point] = {}
    for number, step, what in logged:
        if what.strip() == "index" and int(step) in moves:
            continue
        points[len(points) if every else int(step)] = Point(
            number, int(step), f"{label(plan['steps'][int(step)])} [{what.strip()}]"
        )
    return list(points.values())


def label(step: dict[str, Any]) -> str:
    """A plan step as the table names it: its command, without --quiet and long values."""
    argv = [a for a in step["argv"] if a != "--quiet"]
    words = [a if len(a) < 30 else a[:12] + "..." for a in argv if not a.startswith("--f")]
    return ("write " if step.get("kind") == WRITE else "") + " ".join(words)


# -- checking the result ------------------------------------------------------------------------
def undo_commands(err: str) -> list[str]:
    return [line.split(", run: ", 1)[1] for line in err.splitlines() if ", run: git push" in line]


def check_continue(killed: Case, kind: str, finished: dict[str, object], run: Runner) -> str:
    result = run(killed.work, kind, "finish", "--continue")
    if result.code != 0:
        return f"--continue exit {result.code}: {result.err.strip()}"
    now = killed.state()
    if now != finished:
        diff = {k: (now[k], finished[k]) for k in now if now[k] != finished[k]}
        return f"--continue ended elsewhere: {diff}"
    return ""


def check_abort(killed: Case, kind: str, before: dict[str, object], run: Runner) -> str:
    result = run(killed.work, kind, "finish", "--abort")
    if result.code != 0:
        return f"--abort exit {result.code}: {result.err.strip()}"
    now = killed.state()
    local = {k: v for k, v in now.items() if k not in ("refs", "origin")}
    if local != {k: v for k, v in before.items() if k not in ("refs", "origin")}:
        return f"--abort left {local}"
    mine = {r: v for r, v in now["refs"].items() if not r.startswith("refs/remotes/")}  # type: ignore[attr-defined]
    want = {r: v for r, v in before["refs"].items() if not r.startswith("refs/remotes/")}  # type: ignore[attr-defined]
    if mine != want:
        return f"--abort left the local refs {mine}, not {want}"
    commands = undo_commands(result.err)
    if now["origin"] != before["origin"] and not commands:
        return f"--abort said nothing of origin, which has changed: {result.out}{result.err}"
    for command in commands:  # the command it gives must put origin back
        proc = subprocess.run(
            shlex.split(command), cwd=killed.work, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            return f"`{command}` failed: {proc.stderr.strip()}"
    now = killed.state()
    if now != before:
        diff = {k: (now[k], before[k]) for k in now if now[k] != before[k]}
        return f"after --abort and its undo command: {diff}"
    return ""


Runner = Callable[..., Result]


def kill_at_every_step(
    template: Case,
    tmp_path: Path,
    kind: str,
    args: tuple[str, ...],
    run: Runner,
    *,
    name: str,
    sig: str = "KILL",
) -> None:
    """Kill `jiraflow KIND finish ARGS` at each ref update (or checkout, or `git add`) it
    makes, then check that --continue and --abort (each from its own copy of the killed
    state) work. A write step (no git event) is covered by its state, made from the kill
    after the step before it: see written()."""
    table = os.environ.get("CRASH_TABLE")
    install_hooks(template)
    before = template.state()
    reference = template.copy(tmp_path / "reference")
    result = run_killed(reference, (kind, "finish", *args), at="")
    assert result.code == 0, f"the uninterrupted finish failed: {result.err}"
    finished = reference.state()
    plan = json.loads((reference.crash / "plan.json").read_text())
    points = kill_points(reference, every=sig == "INT")
    assert points, "the finish made no ref update"
    failures = []
    for point in points:
        killed = template.copy(tmp_path / f"killed{point.at}")
        result = run_killed(killed, (kind, "finish", *args), at=point.at, sig=sig)
        assert result.code == expected_exit(sig), (
            f"{point.label}: jiraflow was not killed (exit {result.code}): {result.err}"
        )
        cases = [(point, killed)]
        following = plan["steps"][point.step + 1 : point.step + 2]
        if sig == "KILL" and following and following[0].get("kind") == WRITE:
            write = Point(f"{point.at}w", point.step + 1, f"{label(following[0])} [constructed]")
            cases.append((write, written(killed, point.step + 1, tmp_path / f"wrote{point.at}")))
        for where, state in cases:
            aborted = state.copy(tmp_path / f"aborted{where.at}")
            continued = check_continue(state, kind, finished, run)
            undone = check_abort(aborted, kind, before, run)
            if table:
                row = {
                    "operation": f"{kind} finish",
                    "variant": name,
                    "point": where.at,
                    "step": where.label,
                    "continue": not continued,
                    "abort": not undone,
                    "why": [w for w in (continued, undone) if w],
                }
                with open(table, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
            failures += [f"{where.at} {where.label}: {w}" for w in (continued, undone) if w]
            shutil.rmtree(state.root)
            shutil.rmtree(aborted.root)
    assert not failures, "\n".join(failures)


def written(killed: Case, step: int, to: Path) -> Case:
    """What a run killed right after the write step `step` leaves: the file written, the
    journal not told (it says the step is next). jiraflow writes the file itself, so no git
    event marks that moment; it is made here from a run killed right after the step before
    (the journal then still names that one: the save after it is done as well)."""
    case = killed.copy(to)
    journal = case.work / ".git" / "jiraflow" / "state.json"
    data = json.loads(journal.read_text())
    assert data["next"] == step - 1, "the run was not killed right after the step before"
    data["next"] = step
    journal.write_text(json.dumps(data))
    write = data["steps"][step]
    (case.work / write["argv"][0]).write_text(write["message"])
    return case


# -- the matrix ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "args", "name"),
    [
        ("feature", (), "plain"),
        ("feature", ("--push",), "--push"),
        ("feature", ("--squash",), "--squash"),
        ("feature", ("--rebase",), "--rebase"),
        ("release", (), "plain"),
        ("release", ("--push",), "--push"),
        ("hotfix", (), "plain"),
        ("hotfix", ("--push",), "--push"),
    ],
)
def test_a_finish_killed_after_any_step_continues_or_aborts(
    tmp_path: Path, run: Runner, kind: str, args: tuple[str, ...], name: str
) -> None:
    template = (
        feature_case(tmp_path / "template", moved="--rebase" in args)
        if kind == "feature"
        else release_case(tmp_path / "template", kind)
    )
    kill_at_every_step(template, tmp_path, kind, args, run, name=name)


@pytest.mark.parametrize(("kind", "args"), [("release", ("--push",)), ("feature", ("--rebase",))])
def test_ctrl_c_at_any_ref_update(
    tmp_path: Path, run: Runner, kind: str, args: tuple[str, ...]
) -> None:
    """Ctrl-C reaches git too: it stops right after a ref update, before it goes on or
    tidies up (inside a rebase, between two of its commits)."""
    template = (
        feature_case(tmp_path / "template", moved=True)
        if kind == "feature"
        else release_case(tmp_path / "template")
    )
    name = "Ctrl-C " + " ".join(args)
    kill_at_every_step(template, tmp_path, kind, args, run, name=name, sig="INT")


@pytest.fixture
def bitbucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[BitbucketSandbox]:
    """Bitbucket (Cloud) over real HTTP, with no Jira: the finish asks it about pull requests."""
    require_merge_tree()  # the sandbox merges the pull request with git
    with BitbucketSandbox("cloud") as sandbox:
        point_bitbucket_at(monkeypatch, sandbox)
        yield sandbox


def test_a_finish_after_the_pull_request_merged_killed_after_any_step(
    tmp_path: Path, run: Runner, bitbucket: BitbucketSandbox
) -> None:
    template = feature_case(tmp_path / "template")
    name = bitbucket.repository_name
    bitbucket.set_git_dir(name, template.origin)
    pr = bitbucket.create_pull_request(name, "feature/login", "develop")
    bitbucket.merge(name, pr["id"], strategy="merge_commit", close_source_branch=False)
    repo = Repo(template.work)
    repo.git("checkout", "--quiet", "develop")
    repo.commit("local.txt")  # develop has a commit of its own: the finish merges origin's
    repo.git("checkout", "--quiet", "feature/login")
    repo.git("fetch", "--quiet", "origin")
    kill_at_every_step(template, tmp_path, "feature", ("--push",), run, name="PR merged, --push")


# -- a hook of the user's killed inside a merge ---------------------------------------------------
def hooked_release(root: Path, hook: str) -> Case:
    """A release to finish whose repository has a slow `hook` (SLOW_HOOK) of the user's."""
    template = release_case(root)
    path = template.work / ".git" / "hooks" / hook
    path.parent.mkdir(exist_ok=True)
    path.write_text(SLOW_HOOK)
    path.chmod(0o755)
    return template


def killed_in_hook(template: Case, to: Path) -> Case:
    """A copy of `template` whose release finish was killed, jiraflow, git and the hook
    together (a closed terminal), while the merge into main waited on the slow hook."""
    killed = template.copy(to)
    (killed.crash / "hold").touch()
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "jiraflow", "-C", str(killed.work), "release", "finish"],
        env={**os.environ, "CRASH_DIR": str(killed.crash)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    with ending(proc):
        deadline = time.monotonic() + 60
        while not (killed.crash / "waiting").exists():
            assert proc.poll() is None, f"the merge never ran the hook: {proc.communicate()}"
            assert time.monotonic() < deadline, "the merge never ran the hook"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        wait_for_group(proc.pid)
    (killed.crash / "hold").unlink()  # the hook lets the next merge through
    repo = Repo(killed.work)
    assert repo.branch() == "main" and repo.git("diff", "--cached", "--name-only")  # staged
    return killed


@pytest.mark.parametrize("hook", ["pre-merge-commit", "commit-msg"])
def test_a_merge_killed_while_a_hook_of_the_user_runs(
    tmp_path: Path, run: Runner, hook: str
) -> None:
    """jiraflow, git and a slow hook killed together (a closed terminal) while the merge
    into main waits on the hook: git has staged the merge, and (before commit-msg) not yet
    written MERGE_HEAD. --continue makes the merge again, hook and all; --abort undoes it.
    (Telling that the index holds exactly the merge takes `git merge-tree --write-tree`.)"""
    if hook == "pre-merge-commit":
        require_merge_tree()
    template = hooked_release(tmp_path / "template", hook)
    before = template.state()
    reference = template.copy(tmp_path / "reference")
    assert run(reference.work, "release", "finish").code == 0
    finished = reference.state()

    killed = killed_in_hook(template, tmp_path / "killed")
    assert (killed.work / ".git" / "MERGE_HEAD").exists() == (hook == "commit-msg")

    aborted = killed.copy(tmp_path / "aborted")
    edited = killed.copy(tmp_path / "edited")
    assert check_continue(killed, "release", finished, run) == ""
    assert check_abort(aborted, "release", before, run) == ""

    if hook == "commit-msg":
        return  # (with MERGE_HEAD, what is staged is committed: a merge the user resolved)
    # no MERGE_HEAD and a change of the user's on top: the merge is not remade over it
    (edited.work / "README").write_text("edited\n")
    refused = run(edited.work, "release", "finish", "--continue")
    assert refused.code == 5, refused.err
    assert "the work tree has changes that are not the merge of 'release/1.0.0'" in refused.err
    assert "`git stash`" in refused.err and commands(refused.err)[0] == (
        "release",
        "finish",
        "--continue",
    )
    git(edited.work, "stash", "--quiet")
    assert run(edited.work, "release", "finish", "--continue").code == 0
    git(edited.work, "stash", "pop", "--quiet")
    assert (edited.work / "README").read_text() == "edited\n"
    git(edited.work, "checkout", "--", "README")
    assert edited.state() == finished


# git before 2.38, as far as jiraflow can tell: `merge-tree --write-tree` is unknown to it
OLD_GIT = """#!/bin/sh
case " $* " in *" merge-tree "*"--write-tree "*)
    echo "error: unknown option \\`write-tree'" >&2; exit 129 ;;
esac
exec {git} "$@"
"""


def test_with_a_git_before_2_38_a_merge_killed_in_a_hook_is_refused_with_a_way_on(
    tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `merge-tree --write-tree` jiraflow cannot tell a staged merge from other
    changes, so --continue changes nothing and says so (docs/gitflow.md); run as printed,
    the hint's `git reset --merge` and then `--continue` end the finish as an uninterrupted
    one ends."""
    template = hooked_release(tmp_path / "template", "pre-merge-commit")
    reference = template.copy(tmp_path / "reference")
    assert run(reference.work, "release", "finish").code == 0
    killed = killed_in_hook(template, tmp_path / "killed")
    real = shutil.which("git")
    assert real is not None
    old = tmp_path / "old-git"
    old.mkdir()
    (old / "git").write_text(OLD_GIT.format(git=shlex.quote(real)))
    (old / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{old}{os.pathsep}{os.environ['PATH']}")
    assert (
        subprocess.run(
            ["git", "merge-tree", "--write-tree", "HEAD", "HEAD"],
            cwd=killed.work,
            capture_output=True,
            check=False,
        ).returncode
        == 129
    )

    refused = run(killed.work, "release", "finish", "--continue")
    assert refused.code == 5, refused.err
    assert refused.err.splitlines() == [
        "error: the work tree has changes that are not the merge of 'release/1.0.0' (`git status`)",
        "hint: If they are only that unfinished merge, `git reset --merge` drops them; "
        "otherwise `git stash` them. Then run `jiraflow release finish --continue` or "
        "`jiraflow release finish --abort`.",
    ]
    assert killed.state()["status"] != reference.state()["status"]  # nothing changed
    reset = next(c for c in hinted(refused.err) if c.startswith("git reset"))
    git(killed.work, *shlex.split(reset)[1:])
    go_on = commands(refused.err)[0]
    assert go_on == ("release", "finish", "--continue")
    result = run(killed.work, *go_on)
    assert result.code == 0, result.err
    assert killed.state() == reference.state()


# -- --abort after the push ------------------------------------------------------------------------
def test_abort_after_the_push_says_what_origin_has_and_how_to_put_it_back(
    tmp_path: Path, run: Runner
) -> None:
    template = release_case(tmp_path / "template")
    install_hooks(template)
    before = template.state()
    counting = template.copy(tmp_path / "counting")
    exits(run_killed(counting, ("release", "finish", "--push"), at=""), 0)
    pushed = next(p for p in kill_points(counting, every=False) if "push --atomic" in p.label)
    killed = template.copy(tmp_path / "killed")
    exits(run_killed(killed, ("release", "finish", "--push"), at=pushed.at), -9)
    offline = killed.copy(tmp_path / "offline")
    now, was = Repo(killed.origin).refs(), before["origin"]
    assert isinstance(was, dict)

    result = run(killed.work, "release", "finish", "--abort")
    assert result.code == 0, result.err
    assert "every local branch and tag is back" in result.out
    assert "every branch and tag is back" not in result.out
    develop, main = (
        f"{now[f'refs/heads/{b}'][:7]} (was {was[f'refs/heads/{b}'][:7]})"
        for b in ("develop", "main")
    )
    assert (
        f"warning: 'origin' still has what this finish pushed: branch 'develop' at {develop}, "
        f"branch 'main' at {main}, tag '1.0.0' created"
    ) in result.err
    [command] = undo_commands(result.err)
    assert command.startswith("git push --atomic --force-with-lease=refs/heads/develop:")
    assert subprocess.run(shlex.split(command), cwd=killed.work, check=False).returncode == 0
    assert killed.state() == before  # origin too, and the remote-tracking refs

    # origin out of reach: the push the run stopped in may or may not have reached it
    (offline.origin).rename(offline.root / "away.git")
    result = run(offline.work, "release", "finish", "--abort")
    assert result.code == 0, result.err
    assert (
        "'origin' could not be asked; this finish may have pushed: branch 'develop'" in result.err
    )
    (offline.root / "away.git").rename(offline.origin)
    [command] = undo_commands(result.err)
    assert subprocess.run(shlex.split(command), cwd=offline.work, check=False).returncode == 0
    assert offline.state() == before


# -- the hints of a stopped finish ---------------------------------------------------------------
def commands(err: str) -> list[tuple[str, ...]]:
    """The jiraflow commands the hint names (hintutil.hinted), as arguments."""
    return [tuple(shlex.split(c)[1:]) for c in hinted(err) if c.startswith("jiraflow ")]


def test_the_hints_of_a_conflict_are_commands_that_work(tmp_path: Path, run: Runner) -> None:
    case = make_case(tmp_path / "case")
    repo = Repo(case.work)
    assert run(repo, "feature", "start", "clash").code == 0
    repo.commit("app.txt", "mine\n")
    repo.git("checkout", "--quiet", "develop")
    repo.commit("app.txt", "theirs\n")
    repo.git("checkout", "--quiet", "feature/clash")
    result = run(repo, "feature", "finish")
    assert result.code == 5
    go_on, undo = ("feature", "finish", "--continue"), ("feature", "finish", "--abort")
    assert commands(result.err) == [go_on, undo]
    again = run(repo, *go_on)  # not resolved yet
    assert again.code == 5 and "still have conflicts" in again.err
    assert commands(again.err) == [go_on]
    assert run(repo, *undo).code == 0


def test_the_hints_of_a_step_that_failed_are_commands_that_work(
    tmp_path: Path, run: Runner
) -> None:
    """A pre-merge-commit hook of the user's refuses the merge back into develop."""
    template = release_case(tmp_path / "template")
    hook = template.work / ".git" / "hooks" / "pre-merge-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text('#!/bin/sh\n[ "$(git symbolic-ref --short HEAD)" != develop ]\n')
    hook.chmod(0o755)
    before = template.state()
    reference = template.copy(tmp_path / "reference")
    (reference.work / ".git" / "hooks" / "pre-merge-commit").unlink()
    assert run(reference.work, "release", "finish").code == 0
    for done in ("continue", "abort"):
        case = template.copy(tmp_path / done)
        result = run(case.work, "release", "finish")
        assert result.code == 5 and "git merge" in result.err, result.err
        go_on, undo = commands(result.err)
        assert (go_on, undo) == (
            ("release", "finish", "--continue"),
            ("release", "finish", "--abort"),
        )
        if done == "continue":
            (case.work / ".git" / "hooks" / "pre-merge-commit").unlink()  # the cause, fixed
            assert run(case.work, *go_on).code == 0
            assert case.state() == reference.state()
        else:
            assert run(case.work, *undo).code == 0
            assert case.state() == before


def test_the_hints_of_a_failed_push_are_commands_that_work(tmp_path: Path, run: Runner) -> None:
    template = release_case(tmp_path / "template")
    Repo(template.work).push_unseen("develop")
    before = template.state()
    result = run(template.work, "release", "finish", "--push")
    assert result.code == 6, result.err
    go_on, undo = commands(result.err)
    assert (go_on, undo) == (("release", "finish", "--continue"), ("release", "finish", "--abort"))
    aborted = run(template.work, *undo)
    assert aborted.code == 0 and "origin" not in aborted.err  # nothing of it reached origin
    assert template.state() == before


def test_a_finish_in_progress_is_named_with_both_commands(tmp_path: Path, run: Runner) -> None:
    case = make_case(tmp_path / "case")
    repo = Repo(case.work)
    assert run(repo, "feature", "start", "clash").code == 0
    repo.commit("app.txt", "mine\n")
    repo.git("checkout", "--quiet", "develop")
    repo.commit("app.txt", "theirs\n")
    repo.git("checkout", "--quiet", "feature/clash")
    assert run(repo, "feature", "finish").code == 5
    refused = run(repo, "feature", "start", "other")
    assert refused.code == 5 and "is in progress" in refused.err
    go_on, undo = commands(refused.err)
    assert (go_on, undo) == (("feature", "finish", "--continue"), ("feature", "finish", "--abort"))
    assert run(repo, *undo).code == 0
    assert run(repo, "feature", "start", "other").code == 0


@pytest.mark.parametrize("operation", ["merge", "cherry-pick", "revert", "rebase", "bisect"])
def test_a_git_operation_in_progress_is_named_with_the_git_command_that_ends_it(
    tmp_path: Path, run: Runner, operation: str
) -> None:
    case = make_case(tmp_path / "case")
    repo = Repo(case.work)
    repo.git("checkout", "--quiet", "-b", "other")
    theirs = repo.commit("app.txt", "theirs\n")
    repo.git("checkout", "--quiet", "develop")
    mine = repo.commit("app.txt", "mine\n")
    if operation == "revert":  # a revert that conflicts: of an older change to the file
        repo.commit("app.txt", "mine, again\n")
        args = ["revert", "--no-edit", mine]
    elif operation == "bisect":
        args = ["bisect", "start"]
    else:
        args = [operation, "other" if operation != "cherry-pick" else theirs]
    repo.git(*args, check=False)
    refused = run(repo, "feature", "start", "next")
    assert refused.code == 5 and "is in progress in this repository" in refused.err
    [way_out] = [
        c for c in hinted(refused.err) if c.startswith("git ") and ("abort" in c or "reset" in c)
    ]
    repo.git(*shlex.split(way_out)[1:])
    assert run(repo, "feature", "start", "next").code == 0


def test_a_finish_killed_after_its_last_step_was_recorded(tmp_path: Path, run: Runner) -> None:
    """The journal says every step ran (killed before it was removed): --continue ends it."""
    template = feature_case(tmp_path / "template")
    install_hooks(template)
    reference = template.copy(tmp_path / "reference")
    exits(run_killed(reference, ("feature", "finish"), at=""), 0)
    last = kill_points(reference, every=False)[-1]
    killed = template.copy(tmp_path / "killed")
    exits(run_killed(killed, ("feature", "finish"), at=last.at), -9)
    journal = killed.work / ".git" / "jiraflow" / "state.json"
    data = json.loads(journal.read_text())
    data["next"] = len(data["steps"])  # as the save after the last step left it
    journal.write_text(json.dumps(data))
    assert run(killed.work, "feature", "finish", "--continue").code == 0
    assert killed.state() == reference.state()


# -- --continue on another branch than the plan left checked out --------------------------------
@pytest.mark.parametrize("elsewhere", [("checkout", "--quiet", "main"), ("switch", "--detach")])
def test_continue_refuses_while_another_branch_is_checked_out(
    tmp_path: Path, run: Runner, elsewhere: tuple[str, ...]
) -> None:
    """Killed after `checkout develop` was recorded, before the back-merge of the tag began;
    the user looks around on main (or detaches HEAD). The tag is in main, so the merge must
    not be taken as done there: --continue stops and says which branch to check out, and
    run as printed, the hint's commands end the finish where an uninterrupted one ends."""
    template = release_case(tmp_path / "template")
    install_hooks(template)
    reference = template.copy(tmp_path / "reference")
    exits(run_killed(reference, ("release", "finish"), at=""), 0)
    finished = reference.state()
    points = kill_points(reference, every=False)
    back = [p for p in points if p.label.startswith("checkout develop")][-1]
    killed = template.copy(tmp_path / "killed")
    exits(run_killed(killed, ("release", "finish"), at=back.at), -9)
    journal = killed.work / ".git" / "jiraflow" / "state.json"
    data = json.loads(journal.read_text())
    data["next"] = back.step + 1  # as the save after the checkout left it
    assert data["steps"][data["next"]]["argv"][-1] == "1.0.0"  # the back-merge of the tag
    journal.write_text(json.dumps(data))
    git(killed.work, *elsewhere)

    refused = run(killed.work, "release", "finish", "--continue")
    assert refused.code == 5, refused.err
    now = "'main' is checked out" if elsewhere[0] == "checkout" else "HEAD is detached"
    assert f"the release finish stopped on 'develop', and {now}" in refused.err
    [checkout] = [c for c in hinted(refused.err) if c.startswith("git ")]
    go_on, undo = commands(refused.err)
    assert (go_on, undo) == (("release", "finish", "--continue"), ("release", "finish", "--abort"))
    git(killed.work, *shlex.split(checkout)[1:])
    assert run(killed.work, *go_on).code == 0
    assert killed.state() == finished


# -- what the cleanup removes comes back with --abort ---------------------------------------------
@pytest.mark.parametrize("recorded", [False, True])
def test_abort_puts_back_the_base_the_finish_removed(
    tmp_path: Path, run: Runner, recorded: bool
) -> None:
    """A feature started from a release branch: its finish ends by removing
    `gitflow.branch.feature/fix` (its base). Killed right after that (`recorded`: after the
    journal recorded it too), --abort puts the base back, so the restored branch still
    finishes into the release branch."""
    case = make_case(tmp_path / "template")
    repo = Repo(case.work)
    assert run(repo, "release", "start", "1.0.0").code == 0
    assert run(repo, "feature", "start", "fix", "release/1.0.0").code == 0
    repo.commit("fix.txt")
    repo.commit("fix.txt")
    base = ("config", "gitflow.branch.feature/fix.base")
    assert repo.git(*base) == "release/1.0.0"
    install_hooks(case)
    before = case.state()
    reference = case.copy(tmp_path / "reference")
    exits(run_killed(reference, ("feature", "finish"), at=""), 0)
    assert git(reference.work, *base, check=False) == ""  # the finish removes it
    last = kill_points(reference, every=False)[-1]
    assert last.label.startswith("branch -d feature/fix")
    killed = case.copy(tmp_path / "killed")
    exits(run_killed(killed, ("feature", "finish"), at=last.at), -9)
    # what the last step, `config --remove-section`, leaves, the journal not told (or told)
    journal = killed.work / ".git" / "jiraflow" / "state.json"
    data = json.loads(journal.read_text())
    assert data["steps"][-1]["argv"][:2] == ["config", "--remove-section"]
    data["next"] = len(data["steps"]) - (0 if recorded else 1)
    journal.write_text(json.dumps(data))
    git(killed.work, "config", "--remove-section", "gitflow.branch.feature/fix")

    assert run(killed.work, "feature", "finish", "--abort").code == 0
    assert killed.state() == before
    assert git(killed.work, *base) == "release/1.0.0"
    finished = run(killed.work, "feature", "finish")
    assert finished.code == 0 and "merged 'feature/fix' into 'release/1.0.0'" in finished.out


# -- already_done: the branch the step is for ------------------------------------------------------
def test_a_checkout_that_creates_its_branch_is_done_when_the_branch_is_made_and_checked_out(
    tmp_path: Path,
) -> None:
    from jiraflow.git import GitRepo
    from jiraflow.gitflow.journal import already_done
    from jiraflow.gitflow.plan import Step

    case = make_case(tmp_path / "case")
    repo = GitRepo.discover(str(case.work))
    create = Step(("checkout", "--quiet", "-b", "feature/x", "develop"))
    track = Step(("checkout", "--quiet", "-b", "feature/y", "--track", "origin/feature/y"))
    git(case.work, "push", "--quiet", "origin", "develop:feature/y")
    git(case.work, "fetch", "--quiet", "origin")
    assert git(case.work, "symbolic-ref", "--short", "HEAD") == "develop"
    assert not already_done(repo, create, "develop")  # not made yet
    assert not already_done(repo, track, "develop")
    git(case.work, "checkout", "--quiet", "-b", "feature/x", "develop")
    assert already_done(repo, create, "develop")
    git(case.work, "checkout", "--quiet", "-b", "feature/y", "--track", "origin/feature/y")
    assert already_done(repo, track, "develop")
    assert not already_done(repo, create, "develop")  # made, but not checked out


def test_a_merge_is_done_when_its_source_is_in_the_branch_it_was_for(tmp_path: Path) -> None:
    """Not in whatever branch is checked out now: the tag is in main, not in develop."""
    from jiraflow.git import GitRepo
    from jiraflow.gitflow.journal import already_done
    from jiraflow.gitflow.plan import MERGE, Step

    case = make_case(tmp_path / "case")
    repo = Repo(case.work)
    repo.git("checkout", "--quiet", "main")
    repo.commit("release.txt")
    repo.git("tag", "1.0.0")
    back = Step(("merge", "--quiet", "--no-ff", "--no-edit", "1.0.0"), MERGE, source="1.0.0")
    git_repo = GitRepo.discover(str(case.work))
    assert not already_done(git_repo, back, "develop")
    assert already_done(git_repo, back, "main")
    repo.git("checkout", "--quiet", "develop")
    repo.git("merge", "--quiet", "--no-ff", "--no-edit", "1.0.0")
    repo.git("checkout", "--quiet", "main")
    assert already_done(git_repo, back, "develop")
