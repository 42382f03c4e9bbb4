"""The journal: what a running plan may move, so that any stop can be continued or undone.

`.git/jiraflow/state.json` holds the plan, the index of the next step, the checked-out
branch and every ref the plan may move with where it pointed before. It is written
before the first step and removed after the last. `.git/jiraflow/lock` keeps two
jiraflow processes from changing one repository at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jiraflow.errors import JiraflowError, RemoteError, RepoStateError
from jiraflow.gitrepo import GitError, GitRepo, hook_output, reason
from jiraflow.plan import MERGE, PUSH, REBASE, SQUASH, WRITE, Plan, Step

StepCallback = Callable[[Step], None]
DoneCallback = Callable[[list[dict[str, Any]]], None]


@contextlib.contextmanager
def lock(repo: GitRepo) -> Iterator[None]:
    """Hold `.git/jiraflow/lock` for the duration; refuse while another live process has it."""
    path = repo.state_path("lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _read_pid(path)
            if pid is not None and _alive(pid):
                raise RepoStateError(
                    f"another jiraflow process (pid {pid}) is changing this repository",
                    f"Wait for it to finish; if none is running, remove {path}.",
                ) from None
            _unlink(path)  # left behind by a process that died
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    else:  # pragma: no cover - lost a race twice
        raise RepoStateError("could not take the jiraflow lock", "Try again.")
    try:
        yield
    finally:
        _unlink(path)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _read_pid(path: str) -> int | None:
    try:
        with open(path) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(eq=False, repr=False)
class Journal:
    operation: str
    branch: str
    head: dict[str, str | None]
    refs: dict[str, str | None]
    steps: list[Step]
    next: int = 0
    pushed: list[str] = field(default_factory=list)
    # Jira/Bitbucket actions to deliver once every step has run
    remote: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def path(repo: GitRepo) -> str:
        return repo.state_path("state.json")

    @classmethod
    def load(cls, repo: GitRepo) -> Journal | None:
        try:
            with open(cls.path(repo), encoding="utf-8") as fh:
                data: dict[str, Any] = json.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise RepoStateError(
                f"{cls.path(repo)} cannot be read ({exc})",
                "Remove it to discard the interrupted operation.",
            ) from None
        return cls(
            data["operation"],
            data["branch"],
            data["head"],
            data["refs"],
            [Step.from_json(s) for s in data["steps"]],
            data["next"],
            data.get("pushed", []),
            data.get("remote", []),
        )

    def save(self, repo: GitRepo) -> None:
        data = {
            "version": 1,
            "operation": self.operation,
            "branch": self.branch,
            "head": self.head,
            "refs": self.refs,
            "steps": [s.to_json() for s in self.steps],
            "next": self.next,
            "remote": self.remote,
            "pushed": self.pushed,
        }
        path = self.path(repo)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)

    def remove(self, repo: GitRepo) -> None:
        _unlink(self.path(repo))


def in_progress(repo: GitRepo) -> Journal | None:
    return Journal.load(repo)


def refuse_if_busy(repo: GitRepo) -> None:
    """Exit 5 when a jiraflow operation or one of git's own is half done."""
    journal = Journal.load(repo)
    if journal is not None and not resumable(journal.operation):
        # Only a killed process leaves this behind; what it did may since have been built on.
        raise RepoStateError(
            f"an interrupted {journal.operation} of '{journal.branch}' left {Journal.path(repo)}",
            "Check `git status` and `git branch`, then delete that file.",
        )
    if journal is not None:
        raise RepoStateError(
            f"a {journal.operation} of '{journal.branch}' is in progress",
            f"Run `jiraflow {journal.operation} --continue` or `--abort` first.",
        )
    what = repo.operation_in_progress()
    if what:
        raise RepoStateError(
            f"{what} is in progress in this repository",
            "Finish it or abort it with git first.",
        )


# -- running ------------------------------------------------------------------------------
def execute(
    repo: GitRepo,
    plan: Plan,
    on_step: StepCallback | None = None,
    on_done: DoneCallback | None = None,
) -> None:
    """Record the plan in the journal, then run it. Call with the lock held."""
    refs = repo.refs()  # read while building the plan, under the same lock
    head = repo.head()
    journal = Journal(
        plan.operation,
        plan.branch,
        {"branch": head.branch, "commit": head.commit},
        {ref: refs.get(ref) for ref in sorted(plan.moves)},
        list(plan.steps),
        remote=list(plan.remote),
    )
    journal.save(repo)
    _run_from(repo, journal, on_step, on_done)


def resume(
    repo: GitRepo,
    journal: Journal,
    on_step: StepCallback | None = None,
    on_done: DoneCallback | None = None,
) -> None:
    """Complete the step that stopped (after the user resolved it), then run the rest."""
    step = journal.steps[journal.next]
    if _complete(repo, step):
        journal.next += 1
        journal.save(repo)
    _run_from(repo, journal, on_step, on_done)


def resumable(operation: str) -> bool:
    """Only finishes can be continued or aborted; other commands undo themselves on failure."""
    return operation.endswith(" finish")


def _run_from(
    repo: GitRepo, journal: Journal, on_step: StepCallback | None, on_done: DoneCallback | None
) -> None:
    while journal.next < len(journal.steps):
        step = journal.steps[journal.next]
        if on_step:
            on_step(step)
        try:
            _run_step(repo, journal, step)
        except JiraflowError as exc:
            _stopped(repo, journal, step, exc)
            raise
        except KeyboardInterrupt:
            # A finish keeps its journal for --continue; anything else has no way to
            # continue, so it puts back what it moved before giving the terminal back.
            if not resumable(journal.operation):
                abort(repo, journal)
            raise
        journal.next += 1
        journal.save(repo)
    if on_done is not None:
        on_done(journal.remote)  # e.g. queue the Jira actions, before the journal goes
    journal.remove(repo)
    repo.forget_refs()


def _stopped(repo: GitRepo, journal: Journal, step: Step, exc: JiraflowError) -> None:
    """Decide what a failed step leaves behind, and say so in the error's hint."""
    if resumable(journal.operation) and (journal.next > 0 or isinstance(exc, ConflictError)):
        return  # the journal stays for --continue / --abort; the hint already says so
    if isinstance(exc, ConflictError) and step.kind == REBASE:
        journal.remove(repo)  # git's own rebase state is what the user continues
        exc.hint = "Resolve them, `git add` them, then `git rebase --continue` (or --abort)."
        return
    done = journal.next > 0
    abort(repo, journal)
    undone = "Every branch was put back. " if done else "Nothing was changed. "
    fix = exc.hint if isinstance(exc, RepoStateError) and exc.hint else None
    exc.hint = undone + (fix or _FIX_HINTS.get(step.kind, "Fix the cause and try again."))


_FIX_HINTS = {
    PUSH: "Check the remote's address and your access (`git remote -v`), then try again.",
}


def _run_step(repo: GitRepo, journal: Journal, step: Step) -> None:
    if step.kind == WRITE:
        path = os.path.join(repo.root, step.argv[0])
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(step.message or "")
        except OSError as exc:  # stops the plan like a failed git step: undone or resumable
            raise RepoStateError(f"cannot write {step.argv[0]} ({exc.strerror})") from None
        return
    proc = repo.run(*step.argv, check=False, env=_NO_EDITOR)
    if (
        proc.returncode != 0
        and step.kind == PUSH
        and "--atomic" in step.argv
        and ("does not support --atomic" in proc.stderr)
    ):
        # An old server: push the refs one transaction at a time after all.
        proc = repo.run(*(a for a in step.argv if a != "--atomic"), check=False)
    if proc.returncode == 0:
        if step.kind == SQUASH:
            _commit_squash(repo, step)
        if step.kind == PUSH and step.argv[0] == "push":
            journal.pushed.append(" ".join(a for a in step.argv[1:] if not a.startswith("-")))
        return
    if step.kind in (MERGE, SQUASH, REBASE):
        conflicted = repo.unmerged_files()
        if conflicted:
            raise ConflictError(journal, step, conflicted)
    if step.kind == PUSH:
        output = proc.stderr or proc.stdout
        why = reason(output)
        missing = re.search(r"couldn't find remote ref (?:refs/heads/)?(\S+)", output)
        if step.argv[0] == "fetch" and missing:
            remote = _remote_of(step)
            raise RepoStateError(
                f"'{remote}' has no branch '{missing[1]}'",
                f"`git ls-remote --heads {remote}` lists the branches it has.",
            )
        said = hook_output(f"{proc.stdout}\n{proc.stderr}") if step.argv[0] == "push" else []
        if said:  # a pre-push hook refused it, and said why: show that, not git's last words
            why = "its pre-push hook refused it:\n" + "\n".join(said)
        raise RemoteError(
            f"git {step.argv[0]} {'to' if step.argv[0] == 'push' else 'from'} '{_remote_of(step)}' "
            f"failed: {why}",
            f"The local part is done. Fix the problem and run `jiraflow {journal.operation} "
            "--continue`, or `--abort` to undo the local changes.",
        )
    raise StepFailed(journal, GitError(step.argv, proc.returncode, proc.stderr, proc.stdout))


def _remote_of(push: Step) -> str:
    return next(arg for arg in push.argv[1:] if not arg.startswith("-"))


_NO_EDITOR = {"GIT_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no"}


def _commit_squash(repo: GitRepo, step: Step) -> None:
    # A squash of nothing new leaves nothing staged; there is then no commit to make.
    if repo.ok("diff", "--cached", "--quiet"):
        return
    # git's own squash message (the squashed commits' log), as git-flow AVH leaves it
    repo.run("commit", "--quiet", "--no-verify", "--no-edit", "--cleanup=strip", env=_NO_EDITOR)


def _complete(repo: GitRepo, step: Step) -> bool:
    """Finish a stopped step the user resolved. True when it is done, False to run it again."""
    conflicted = repo.unmerged_files()
    if conflicted:
        raise RepoStateError(
            "these files still have conflicts: " + ", ".join(conflicted),
            "Resolve them, `git add` them, then run the command with --continue again.",
        )
    if step.kind == REBASE:
        if repo.has_git_path("rebase-merge", "rebase-apply"):
            proc = repo.run("rebase", "--continue", check=False, env=_NO_EDITOR)
            if proc.returncode != 0:
                files = repo.unmerged_files()
                if files:
                    raise RepoStateError(
                        "the rebase stopped again on conflicts in: " + ", ".join(files),
                        "Resolve them, `git add` them, then run the command with --continue.",
                    )
                raise GitError(("rebase", "--continue"), proc.returncode, proc.stderr)
            return True
        return False
    if step.kind == MERGE:
        if repo.has_git_path("MERGE_HEAD"):
            # --cleanup=strip drops git's "# Conflicts:" notes from the message
            repo.run(
                "commit", "--quiet", "--no-edit", "--no-verify", "--cleanup=strip", env=_NO_EDITOR
            )
            return True
        return step.source is not None and repo.is_ancestor(step.source, "HEAD")
    if step.kind == SQUASH:
        if not repo.ok("diff", "--cached", "--quiet"):
            _commit_squash(repo, step)
            return True
        return False
    return False  # a plain or push step: run it again


def abort(repo: GitRepo, journal: Journal) -> list[str]:
    """Put every recorded ref, the checked-out branch and the work tree back. Returns the
    refs that were already pushed (a remote cannot be rolled back from here)."""
    if repo.has_git_path("rebase-merge", "rebase-apply"):
        repo.run("rebase", "--abort")
    if repo.has_git_path("MERGE_HEAD") or repo.unmerged_files() or not repo.is_clean():
        repo.run("reset", "--quiet", "--merge")
    current = repo.head()
    refs = repo.refs(fresh=True)
    commands = []
    for ref, old in journal.refs.items():
        if ref == current.ref:
            continue
        if old is None:
            if ref in refs:
                commands.append(f"delete {ref}")
        elif refs.get(ref) != old:
            commands.append(f"update {ref} {old}")
    if commands:
        repo.run("update-ref", "--stdin", input="\n".join(commands) + "\n")
    original_branch = journal.head.get("branch")
    original_commit = journal.head.get("commit")
    if current.ref in journal.refs:
        old = journal.refs[current.ref or ""]
        if old is None:
            _checkout_original(repo, original_branch, original_commit)
            repo.run("update-ref", "-d", current.ref or "")
            current = repo.head()
        elif current.commit != old:
            repo.run("reset", "--quiet", "--keep", old)
    if current.branch != original_branch or (
        original_branch is None and current.commit != original_commit
    ):
        _checkout_original(repo, original_branch, original_commit)
    journal.remove(repo)
    repo.forget_refs()
    return journal.pushed


def _checkout_original(repo: GitRepo, branch: str | None, commit: str | None) -> None:
    if branch:
        repo.run("checkout", "--quiet", branch)
    elif commit:
        repo.run("checkout", "--quiet", "--detach", commit)


class ConflictError(RepoStateError):
    def __init__(self, journal: Journal, step: Step, files: list[str]) -> None:
        what = "rebase" if step.kind == REBASE else "merge"
        shown = ", ".join(files[:8]) + (f" and {len(files) - 8} more" if len(files) > 8 else "")
        super().__init__(
            f"the {what} (`git {' '.join(step.argv)}`) stopped on conflicts in: {shown}",
            f"Resolve them and `git add` them, then run `jiraflow {journal.operation} "
            f"--continue`; or `jiraflow {journal.operation} --abort` to undo the whole finish.",
        )
        self.files = files


class StepFailed(RepoStateError):
    def __init__(self, journal: Journal, error: JiraflowError) -> None:
        super().__init__(
            error.message,
            f"Nothing is lost: fix the cause and run `jiraflow {journal.operation} --continue`, "
            f"or `--abort` to undo.",
        )
