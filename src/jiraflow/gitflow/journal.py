"""The journal: what a running plan may move, so that any stop can be continued or undone.

`.git/jiraflow/state.json` holds the plan, the index of the next step, the checked-out
branch and every ref the plan may move with where it pointed before. It is written
before the first step and removed after the last. `.git/jiraflow/lock` keeps two
jiraflow processes from changing one repository at once.

A run can be killed anywhere, even after a step did its work and before `next` was saved:
`--continue` then asks `already_done` whether the step's effect is there before running it
again, and `--abort` asks the remote what a push already gave it (`remote_changes`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jiraflow.errors import JiraflowError, RemoteError, RepoStateError
from jiraflow.git import (
    BRANCHES,
    TAGS,
    GitError,
    GitRepo,
    branch_of,
    branch_ref,
    hook_output,
    reason,
    refused_by_branch_permissions,
    remote_ref,
    tag_of,
    tag_ref,
)
from jiraflow.gitflow.lock import lock as lock  # the commands take the repository lock from here
from jiraflow.gitflow.plan import GIT, MERGE, PUSH, REBASE, SQUASH, WRITE, Plan, Step

StepCallback = Callable[[Step], None]
DoneCallback = Callable[[list[dict[str, Any]]], None]  # called with the remote actions' records


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@dataclass(eq=False, repr=False)
class Journal:
    operation: str
    branch: str
    head: dict[str, str | None]
    refs: dict[str, str | None]
    steps: list[Step]
    next: int = 0
    # the remote actions to deliver once every step has run, as their JSON records: opaque
    # to the engine (checked only to be JSON objects); the services layer that runs the plan
    # makes them actions again (jiraflow.outbox), and reports a damaged one with `damaged`
    remote: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def path(repo: GitRepo) -> str:
        return repo.state_path("state.json")

    @classmethod
    def load(cls, repo: GitRepo) -> Journal | None:
        """The journal of the operation in progress, or None. A file that is not one
        jiraflow writes (damaged, or edited by hand) stops the command with exit 5: the
        user sees what it held before removing it, since it records where each branch was."""
        from jiraflow import store

        path = cls.path(repo)
        sha = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
        shape = {
            "operation": re.compile(r"[a-z]+(?: [a-z]+)?"),
            "branch": store.NAME,
            "head": {"branch": (store.NAME, None), "commit": (sha, None)},
            "refs": {re.compile(r"refs/[^\x00-\x20\x7f]+"): (sha, None)},
            "steps": [dict],
            "next": int,
            "pushed?": [str],  # written by older versions; not read
            "remote?": [dict],
        }
        data = store.read_json(path, None, _DAMAGED_HINT, shape)
        if data is None:
            return None
        try:
            steps = []
            for i, step in enumerate(data["steps"]):
                try:
                    steps.append(Step.from_json(step))
                except store.Damaged as exc:
                    raise exc.within(f"steps[{i}]") from None
            if not 0 <= data["next"] <= len(steps):
                raise store.Damaged(f"{data['next']} is not a step number", "next")
        except store.Damaged as exc:
            raise damaged(repo, exc) from None
        return cls(
            data["operation"],
            data["branch"],
            data["head"],
            data["refs"],
            steps,
            data["next"],
            data.get("remote") or [],
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
        }
        path = self.path(repo)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)

    def remove(self, repo: GitRepo) -> None:
        _unlink(self.path(repo))


# a template: read_json fills in {path} (the path itself may hold braces)
_DAMAGED_HINT = (
    "`cat {path}` shows the interrupted operation and where each branch was; "
    "once `git status` and `git branch` look right, `rm {path}`."
)


def damaged(repo: GitRepo, problem: Exception) -> RepoStateError:
    """The error (exit 5) for a journal jiraflow could not have written: `problem` (a
    jiraflow.store.Damaged) says what is wrong where. Also for a damaged remote action, which
    the services layer finds when it makes the records actions again."""
    path = Journal.path(repo)
    return RepoStateError(f"{path} is damaged ({problem})", _DAMAGED_HINT.replace("{path}", path))


def in_progress(repo: GitRepo) -> Journal | None:
    return Journal.load(repo)


def refuse_if_busy(repo: GitRepo) -> None:
    """Exit 5 when a jiraflow operation or one of git's own is half done."""
    journal = Journal.load(repo)
    if journal is not None and not resumable(journal.operation):
        # Only a killed process leaves this behind; what it did may since have been built on.
        raise RepoStateError(
            f"an interrupted {journal.operation} of '{journal.branch}' left {Journal.path(repo)}",
            what_to_run(repo, journal),
        )
    if journal is not None:
        raise RepoStateError(
            f"a {journal.operation} of '{journal.branch}' is in progress",
            what_to_run(repo, journal),
        )
    what = repo.operation_in_progress()
    if what:
        raise RepoStateError(f"{what} is in progress in this repository", git_way_out(what))


def git_way_out(what: str) -> str:
    """The hint for one of git's own operations half done (`what`, as
    GitRepo.operation_in_progress names it): the git commands that finish or undo it."""
    command = {"a merge": "merge", "a cherry-pick": "cherry-pick", "a revert": "revert"}
    if what in command:
        name = command[what]
        done = "`git commit`" if name == "merge" else f"`git {name} --continue`"
        return f"Resolve it and run {done}, or undo it with `git {name} --abort`, first."
    if what == "a bisect":
        return "End it with `git bisect reset` first."
    ways = ("`git rebase --continue`", "`git rebase --abort`")
    if what != "a rebase":  # rebase-apply: a rebase, or `git am`
        ways = (
            "`git rebase --continue` (or `git am --continue`)",
            "`git rebase --abort` (or `git am --abort`)",
        )
    return f"Finish it with {ways[0]}, or undo it with {ways[1]}, first."


def continue_or_abort(operation: str) -> str:
    """The two commands that end a stopped finish, as every hint names them."""
    return f"`jiraflow {operation} --continue` or `jiraflow {operation} --abort`"


def what_to_run(repo: GitRepo, journal: Journal) -> str:
    """The hint for an operation left half done: the command that completes or undoes it
    (the one rule for refuse_if_busy, `status`, `--continue` of the wrong command, Ctrl-C)."""
    operation = journal.operation
    if resumable(operation):
        return f"Run {continue_or_abort(operation)} first."
    if operation.endswith(" start"):  # a killed start: see flow.start.abort_start
        return f"Run `jiraflow {operation} --abort` to undo it."
    return f"Check `git status` and `git branch`, then `rm {Journal.path(repo)}`."


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
        remote=[action.to_json() for action in plan.remote],
    )
    journal.save(repo)
    _run_from(repo, journal, on_step, on_done)


def resume(
    repo: GitRepo,
    journal: Journal,
    on_step: StepCallback | None = None,
    on_done: DoneCallback | None = None,
) -> None:
    """Complete the step that stopped, then run the rest. It stopped on a conflict the user
    resolved, or failed, or its process was killed: before the step, inside it (a hook of
    the user's running), or after its effect but before the journal recorded it."""
    if journal.next < len(journal.steps):  # else killed after the last step was recorded
        step = journal.steps[journal.next]
        _require_planned_head(repo, journal, step)
        if _complete(repo, journal, step):
            journal.next += 1
            journal.save(repo)
    _run_from(repo, journal, on_step, on_done)


def planned_branch(journal: Journal, index: int) -> str | None:
    """The branch the plan has checked out when step `index` begins: the one the last
    `checkout` before it left (a `rebase ONTO BRANCH` ends on BRANCH), else the one the
    operation began on (None: a detached HEAD)."""
    branch = journal.head.get("branch")
    for step in journal.steps[:index]:
        if step.kind == GIT and step.argv[0] == "checkout":
            branch = _checkout_target(step.argv)[0]
        elif step.kind == REBASE:
            branch = step.argv[-1]
    return branch


def _checkout_target(argv: tuple[str, ...]) -> tuple[str, bool]:
    """The branch a `checkout` step leaves checked out, and whether the step creates it
    (`checkout -b NEW BASE`, `checkout -b NEW --track REMOTE/NEW`)."""
    if "-b" in argv[:-1]:
        return argv[argv.index("-b") + 1], True
    return argv[-1], False


def _require_planned_head(repo: GitRepo, journal: Journal, step: Step) -> None:
    """Exit 5 unless HEAD is on the branch the plan left checked out. Someone who looked
    around (`git checkout main`) between the stop and --continue would otherwise have the
    merge, the release notes or the tag merge land on that branch, or a merge be taken as
    done because its source is in the wrong branch, and the branch it was for deleted. A
    checkout or rebase step checks its branch out itself."""
    if step.kind == REBASE or (step.kind == GIT and step.argv[0] == "checkout"):
        return
    branch, head = planned_branch(journal, journal.next), repo.head()
    if branch is None or head.branch == branch:
        return
    now = f"'{head.branch}' is checked out" if head.branch else "HEAD is detached"
    raise RepoStateError(
        f"the {journal.operation} stopped on '{branch}', and {now}",
        f"Check it out again (`git checkout {shlex.quote(branch)}`), then run "
        f"{continue_or_abort(journal.operation)}.",
    )


def resumable(operation: str) -> bool:
    """Only finishes and promotes can be continued or aborted; other commands undo
    themselves on failure."""
    return operation.endswith(" finish") or operation == "promote"


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
    # (not the --continue hint of a stopped step: nothing is left to continue)
    own = isinstance(exc, RepoStateError) and not isinstance(exc, (StepFailed, ConflictError))
    own = own or isinstance(exc, PushRefused)  # its hint is the pull-request path
    fix = exc.hint if own and exc.hint else None
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
        return
    if step.kind in (MERGE, SQUASH, REBASE):
        conflicted = repo.unmerged_files()
        if conflicted:
            raise ConflictError(journal, step, conflicted)
    if step.kind == PUSH:
        output = proc.stderr or proc.stdout
        why = reason(output)
        missing = re.search(rf"couldn't find remote ref (?:{BRANCHES})?(\S+)", output)
        if step.argv[0] == "fetch" and missing:
            remote = _remote_of(step)
            raise RepoStateError(
                f"'{remote}' has no branch '{missing[1]}'",
                f"`git ls-remote --heads {remote}` lists the branches it has.",
            )
        refused = refused_by_branch_permissions(output) if step.argv[0] == "push" else None
        if refused is not None:  # the server takes that branch only through pull requests
            raise PushRefused(_remote_of(step), refused, _pull_request_path(journal, refused))
        said = hook_output(f"{proc.stdout}\n{proc.stderr}") if step.argv[0] == "push" else []
        if said:  # a pre-push hook refused it, and said why: show that, not git's last words
            why = "its pre-push hook refused it:\n" + "\n".join(said)
        raise RemoteError(
            f"git {step.argv[0]} {'to' if step.argv[0] == 'push' else 'from'} '{_remote_of(step)}' "
            f"failed: {why}",
            f"The local part is done. Fix the problem, then run "
            f"{continue_or_abort(journal.operation)}.",
        )
    raise StepFailed(journal, GitError(step.argv, proc.returncode, proc.stderr, proc.stdout))


def _pull_request_path(journal: Journal, branch: str) -> str:
    """The hint for a push that branch permissions refused: nothing is lost, and the way
    through a pull request (for a finish: undo it, mark the branch protected, finish again)."""
    operation = journal.operation
    if not resumable(operation):
        return (
            f"Push to a branch it does not protect and open a pull request from there into "
            f"'{branch}' (`jiraflow pr create --base {branch}`)."
        )
    if operation == "promote":
        return (
            "Nothing is lost: `jiraflow promote --abort` puts it back; then "
            f"`jiraflow config set gitflow.protected {branch}` and `jiraflow promote` again "
            "go through a pull request."
        )
    kind = operation.split()[0]
    again = f"jiraflow {kind} finish" + (" --pr" if kind in ("release", "hotfix") else "")
    return (
        f"Nothing is lost: `jiraflow {operation} --abort` puts it back; then "
        f"`jiraflow config set gitflow.protected {branch}` and `{again}` go through a pull request."
    )


def _remote_of(push: Step) -> str:
    return next(arg for arg in push.argv[1:] if not arg.startswith("-"))


_NO_EDITOR = {"GIT_EDITOR": "true", "GIT_MERGE_AUTOEDIT": "no"}


def _commit_squash(repo: GitRepo, step: Step) -> None:
    # A squash of nothing new leaves nothing staged; there is then no commit to make.
    if repo.ok("diff", "--cached", "--quiet"):
        return
    # git's own squash message (the squashed commits' log), as git-flow AVH leaves it
    repo.run("commit", "--quiet", "--no-verify", "--no-edit", "--cleanup=strip", env=_NO_EDITOR)


def _complete(repo: GitRepo, journal: Journal, step: Step) -> bool:
    """Finish the stopped step. True when it is done (now, or by a run that was killed
    after it), False to run it again. HEAD is on the branch the plan expects
    (_require_planned_head), but for a rebase."""
    again = f"jiraflow {journal.operation} --continue"
    branch = planned_branch(journal, journal.next)
    conflicted = repo.unmerged_files()
    if conflicted:
        raise RepoStateError(
            "these files still have conflicts: " + ", ".join(conflicted),
            f"Resolve them, `git add` them, then run `{again}` again.",
        )
    if step.kind == REBASE and repo.has_git_path("rebase-merge", "rebase-apply"):
        if already_done(repo, step, branch):  # git was stopped after it moved the branch
            repo.run("rebase", "--quit")  # (its last acts: drop its state, check the branch out)
            repo.run("checkout", "--quiet", step.argv[-1])
            return True
        proc = repo.run("rebase", "--continue", check=False, env=_NO_EDITOR)
        if proc.returncode != 0:
            files = repo.unmerged_files()
            if files:
                raise RepoStateError(
                    "the rebase stopped again on conflicts in: " + ", ".join(files),
                    f"Resolve them, `git add` them, then run `{again}`.",
                )
            raise GitError(("rebase", "--continue"), proc.returncode, proc.stderr)
        return True
    if step.kind in (MERGE, SQUASH):
        return _complete_merge(repo, journal, step, branch)
    return already_done(repo, step, branch)


def _complete_merge(repo: GitRepo, journal: Journal, step: Step, branch: str | None) -> bool:
    """A merge or squash that stopped: done (by the run that stopped, or committed now:
    True), or to be run (again: False), a merge left half done put back first.

    A merge git stopped inside before committing it, and that nobody has touched since (the
    index is exactly the merge, the work tree exactly the index), is made again, hooks and
    all, as the uninterrupted run would have: git was killed while a hook of the user's
    ran (with or without MERGE_HEAD written yet, depending on the hook), or a hook
    refused it. A merge the user resolved is committed as it is."""
    if repo.has_git_path("MERGE_HEAD"):
        merging = repo.commit_of("MERGE_HEAD")
        if merging is not None and repo.is_ancestor(merging, "HEAD"):
            # git was stopped after it committed the merge, before it tidied up
            repo.run("merge", "--quit")
            return True
        if step.kind == MERGE and _is_merge_result(repo, step):
            repo.run("reset", "--quiet", "--merge")
            return False
        # --cleanup=strip drops git's "# Conflicts:" notes from the message
        repo.run("commit", "--quiet", "--no-edit", "--no-verify", "--cleanup=strip", env=_NO_EDITOR)
        return True
    if repo.is_clean():
        return already_done(repo, step, branch)
    if already_done(repo, step, branch):
        return True  # (changes made after the merge are the user's: they stay)
    if _is_merge_result(repo, step):
        if step.kind == SQUASH and repo.has_git_path("SQUASH_MSG"):
            _commit_squash(repo, step)  # what the step does next: no hook runs in between
            return True
        repo.run("reset", "--quiet", "--merge")  # no MERGE_HEAD: killed before git wrote it
        return False
    if step.kind == SQUASH and not repo.ok("diff", "--cached", "--quiet"):
        _commit_squash(repo, step)  # a squash the user resolved and staged (`git add`)
        return True
    source = step.source or step.argv[-1]
    raise RepoStateError(
        f"the work tree has changes that are not the merge of '{source}' (`git status`)",
        "If they are only that unfinished merge, `git reset --merge` drops them; otherwise "
        f"`git stash` them. Then run {continue_or_abort(journal.operation)}.",
    )


def _is_merge_result(repo: GitRepo, step: Step) -> bool:
    """Whether the index holds exactly the merge of the step's source into HEAD, and the
    work tree exactly the index (git 2.38 and newer can tell; older ones say no)."""
    if step.source is None or not repo.ok("diff", "--quiet"):
        return False
    merged = repo.run("merge-tree", "--write-tree", "HEAD", step.source, check=False)
    staged = repo.run("write-tree", check=False)
    if merged.returncode != 0 or staged.returncode != 0:
        return False  # a conflicted merge, or a git without merge-tree --write-tree
    return merged.stdout.split()[0] == staged.stdout.strip()


def already_done(repo: GitRepo, step: Step, branch: str | None) -> bool:
    """Whether the effect of `step` is already there; `branch` is the branch the plan has
    checked out for it (planned_branch; None: a detached HEAD), which a merge, squash or
    commit changes. A run killed after a step and before the journal recorded it leaves
    exactly that, and `--continue` must then go on rather than fail for ever (the tag
    exists, the branch is gone). The one place that knows, for each kind of step; one it
    does not name is harmless to run twice (`add`, writing the same file, a push of what
    the remote already has: a no-op that also brings the remote-tracking refs up to date)."""
    argv, expect = step.argv, step.expect or {}
    if step.kind in (MERGE, SQUASH, REBASE) or (step.kind == GIT and argv[0] == "commit"):
        if step.kind == REBASE:  # `rebase ONTO BRANCH`: BRANCH is on ONTO
            return repo.is_ancestor(argv[-2], argv[-1])
        tip = branch_ref(branch) if branch else "HEAD"
        before = expect.get("HEAD")
        if before:  # a step that commits: the branch moved on from where it began
            return repo.commit_of(tip) != before and repo.is_ancestor(before, tip)
        return step.source is not None and repo.is_ancestor(step.source, tip)
    if step.kind == PUSH:
        if argv[0] == "push" and "--delete" in argv:
            return _deleted_on_remote(repo, _remote_of(step), argv[-1])
        return False
    if step.kind != GIT:
        return False
    if argv[0] == "checkout":  # the branch is checked out (and, for -b, made)
        target, creates = _checkout_target(argv)
        made = not creates or repo.commit_of(branch_ref(target)) is not None
        return made and repo.head().branch == target
    if argv[0] == "tag":  # `tag ... TAG COMMIT`: TAG exists and points at COMMIT
        tagged = repo.commit_of(tag_ref(argv[-2]))
        return tagged is not None and tagged == repo.commit_of(argv[-1])
    if argv[0] == "branch" and ("-d" in argv or "-D" in argv):
        return repo.commit_of(branch_ref(argv[-1])) is None
    if argv[:2] == ("config", "--remove-section"):
        return not config_section(repo, argv[2])
    return False


def config_section(repo: GitRepo, section: str) -> list[tuple[str, str]]:
    """The keys and values the repository's own config (.git/config) has in `section`
    ("gitflow.branch.feature/x"), in order: what `config --remove-section` removes."""
    listed = repo.run("config", "--local", "--list", "-z", check=False).stdout
    entries = (entry.partition("\n") for entry in listed.split("\0") if entry)
    return [(key, value) for key, _, value in entries if _in_section(key, section)]


def section_record(repo: GitRepo, section: str) -> str:
    """What `section` holds, as a `config --remove-section` step records it (its message:
    "KEY\\nVALUE\\0" each, git's own `--list -z` form) for --abort to put back."""
    return "".join(f"{key}\n{value}\0" for key, value in config_section(repo, section))


def _in_section(key: str, section: str) -> bool:
    """Whether the config `key` (as `git config --list` names it) is in `section`: not in
    one whose subsection merely begins the same ("gitflow.branch.release/1.0.base" is
    not in "gitflow.branch.release/1")."""
    name, _, sub = section.partition(".")
    prefix = f"{name.lower()}.{sub}."  # git lowercases a section's name, not its subsection
    return key.startswith(prefix) and "." not in key[len(prefix) :]


def _deleted_on_remote(repo: GitRepo, remote: str, branch: str) -> bool:
    """Whether `remote` has no `branch` (False when it cannot be asked). git may have been
    stopped before it dropped the remote-tracking ref: that goes too."""
    proc = repo.run("ls-remote", "--heads", remote, branch_ref(branch), check=False)
    gone = proc.returncode == 0 and not any(
        line.endswith(f"\t{branch_ref(branch)}") for line in proc.stdout.splitlines()
    )
    if gone:
        repo.run("update-ref", "-d", remote_ref(remote, branch), check=False)
        repo.forget_refs()
    return gone


def abort(repo: GitRepo, journal: Journal) -> None:
    """Put every recorded ref, the checked-out branch and the work tree back, wherever the
    run stopped (a conflict, a failure, a kill). What a push already changed on a remote is
    not undone from here: ask `remote_changes` first, while the local refs still say what
    was pushed, where it is to be told (`remote_undo` says how to undo it)."""
    if repo.has_git_path("rebase-merge", "rebase-apply"):
        repo.run("rebase", "--abort")
    _undo_writes(repo, journal)
    # A finish starts from a clean tree, so what is left is its own; a start may carry the
    # user's uncommitted work, which stays as it is (reset would unstage it, or fail).
    dirty = resumable(journal.operation) and not repo.is_clean()
    # git killed mid-command may leave the index's file times stale: reset would refuse
    repo.run("update-index", "-q", "--refresh", check=False)
    if repo.has_git_path("MERGE_HEAD") or repo.unmerged_files() or dirty:
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
    _undo_branch_config(repo, journal)
    journal.remove(repo)
    repo.forget_refs()


@dataclass(frozen=True, eq=False, repr=False)
class RemoteChange:
    """A ref a stopped run changed on a remote: `ref` is at `now` there, was at `was`
    (None: absent). `sure` is False when the remote could not be asked."""

    remote: str
    ref: str
    now: str | None
    was: str | None
    sure: bool = True

    def describe(self) -> str:
        kind, name = ("tag", tag_of(self.ref)) if self.ref.startswith(TAGS) else ("", "")
        if not kind:
            kind, name = "branch", branch_of(self.ref)
        if self.now is None:
            return f"{kind} '{name}' deleted (was {(self.was or '')[:7]})"
        if self.was is None:
            return f"{kind} '{name}' created"
        return f"{kind} '{name}' at {self.now[:7]} (was {self.was[:7]})"


def remote_changes(repo: GitRepo, journal: Journal) -> list[RemoteChange]:
    """What the push steps that ran (or may have: the one the run stopped in) changed on
    their remotes: each ref the remote now has as the step left it, asked of the remote,
    since a run killed after its push never recorded it."""
    refs = repo.refs(fresh=True)
    wanted: dict[str, list[RemoteChange]] = {}
    for i, step in enumerate(journal.steps[: journal.next + 1]):
        if step.kind != PUSH or step.argv[0] != "push" or not step.expect:
            continue
        remote = _remote_of(step)
        for ref, was in step.expect.items():
            now = None if "--delete" in step.argv else refs.get(ref)
            if now != was:  # (sure: the journal recorded the step as done)
                wanted.setdefault(remote, []).append(
                    RemoteChange(remote, ref, now, was, i < journal.next)
                )
    changes: list[RemoteChange] = []
    for remote, candidates in wanted.items():
        proc = repo.run("ls-remote", remote, *{c.ref for c in candidates}, check=False)
        if proc.returncode != 0:  # cannot be asked: what was surely pushed, and the maybe
            changes += candidates
            continue
        has = dict(line.split("\t")[::-1] for line in proc.stdout.splitlines() if "\t" in line)
        changes += [
            RemoteChange(remote, c.ref, c.now, c.was) for c in candidates if has.get(c.ref) == c.now
        ]
    return changes


def remote_undo(changes: list[RemoteChange]) -> list[str]:
    """For people: what each remote still has of an aborted run, and the one command that
    puts it back (atomic; refused there if anyone has pushed on top since)."""
    lines = []
    for remote in dict.fromkeys(c.remote for c in changes):
        mine = [c for c in changes if c.remote == remote]
        what = ", ".join(c.describe() for c in mine)
        if all(c.sure for c in mine):
            lines.append(f"'{remote}' still has what this finish pushed: {what}")
        else:
            lines.append(f"'{remote}' could not be asked; this finish may have pushed: {what}")
        leases = [f"--force-with-lease={c.ref}:{c.now or ''}" for c in mine]
        specs = [f"{c.was or ''}:{c.ref}" for c in mine]
        command = shlex.join(["git", "push", "--atomic", *leases, remote, *specs])
        lines.append(f"to undo that on '{remote}', run: {command}")
    return lines


def _undo_writes(repo: GitRepo, journal: Journal) -> None:
    """Put back each file a write step wrote (or was writing when it stopped) while it holds
    that text or part of it: `reset --merge` keeps changes that are not staged, so a bumped
    version file or the release notes would otherwise follow the checkout back."""
    for step in journal.steps[: journal.next + 1]:
        if step.kind != WRITE:
            continue
        path = step.argv[0]
        try:
            with open(os.path.join(repo.root, path), encoding="utf-8", newline="") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError):
            continue
        if not (step.message or "").startswith(text):
            continue  # changed since: not ours to put back
        if repo.ok("cat-file", "-e", f"HEAD:{path}"):
            repo.run("checkout", "--quiet", "HEAD", "--", path)
        else:  # a new file: it goes, from the index too
            repo.run("rm", "--quiet", "--cached", "--ignore-unmatch", "--", path)
            _unlink(os.path.join(repo.root, path))


def _undo_branch_config(repo: GitRepo, journal: Journal) -> None:
    """A start's `git config gitflow.branch.B.base X` goes with the branch B it created: left
    behind, a later branch of the same name would finish into X. A finish's `config
    --remove-section gitflow.branch.B` that ran comes back with B: without it B would
    finish into develop, not the release branch it started from."""
    for i, step in enumerate(journal.steps[: journal.next + 1]):
        if step.argv[:2] == ("config", "--remove-section") and len(step.argv) == 3:
            if i < journal.next or already_done(repo, step, None):
                _restore_section(repo, step.argv[2], step.message or "")
            continue
        key = step.argv[1] if len(step.argv) == 3 and step.argv[0] == "config" else ""
        branch = key[len("gitflow.branch.") : -len(".base")]
        ours = key.startswith("gitflow.branch.") and key.endswith(".base")
        if ours and journal.refs.get(branch_ref(branch), "") is None:
            repo.run("config", "--unset", key, check=False)


def _restore_section(repo: GitRepo, section: str, held: str) -> None:
    """Put back what `config --remove-section SECTION` removed: `held`, as the plan recorded
    it (`section_record`). Only keys of a gitflow.branch section, and only into a
    section that is still empty (the journal is a file on disk; the section may be the
    user's again)."""
    if not section.startswith("gitflow.branch.") or config_section(repo, section):
        return
    for entry in held.split("\0"):
        key, _, value = entry.partition("\n")
        if _in_section(key, section):
            repo.run("config", "--local", "--add", key, value, check=False)


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
            f"Resolve them and `git add` them, then run {continue_or_abort(journal.operation)}.",
        )
        self.files = files


class PushRefused(RemoteError):
    """A push the server's branch permissions refused (Bitbucket: "can only be modified
    through pull requests"): one line naming the branch; the hint is the pull-request path."""

    def __init__(self, remote: str, branch: str, hint: str) -> None:
        super().__init__(
            f"'{remote}' refused the push to '{branch}': its branch permissions take changes "
            "only through pull requests",
            hint,
        )
        self.branch = branch


class StepFailed(RepoStateError):
    def __init__(self, journal: Journal, error: JiraflowError) -> None:
        super().__init__(
            error.message,
            f"Nothing is lost: fix the cause, then run {continue_or_abort(journal.operation)}.",
        )
