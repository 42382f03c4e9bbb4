"""Git hooks: installing jiraflow's commit-msg, prepare-commit-msg and pre-push hooks next to
the ones a repository already has, and the work the hooks do when git runs them.

The hooks are small POSIX sh scripts that run `<python> -P -m jiraflow hooks run HOOK "$@"`
with the interpreter jiraflow was installed with, so they work from GUI clients that have no
PATH. git runs hooks in the work tree, and `python -m` would put it first on sys.path: a
`typing.py` committed in the repository would then run on every commit. `-P` leaves it off,
and the script drops the PYTHONPATH entries that would put it back (jiraflow.relaunch).
A hook that was there before is kept as `HOOK.jiraflow-previous` and run first, with the same
arguments and input. Files are recognised as jiraflow's by their MARKER line; nothing else is
ever overwritten or removed.
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jiraflow.checks.rules import is_comment, is_scissors
from jiraflow.errors import RepoStateError, UsageError
from jiraflow.git import BRANCHES, REMOTES
from jiraflow.keys import key_in
from jiraflow.relaunch import FLAGS

if TYPE_CHECKING:
    from jiraflow.git import GitRepo
    from jiraflow.gitflow.context import FlowContext

HOOKS = ("commit-msg", "prepare-commit-msg", "pre-push")
MARKER = "# jiraflow-hook v2"
_MARKER_PREFIX = "# jiraflow-hook v"  # any version of the script is ours
# scripts that ran `python -m jiraflow` without -P: `hooks run` tells their owner to reinstall
_WITHOUT_SAFE_PATH = frozenset({"# jiraflow-hook v1"})
# `python -P -m jiraflow hooks run`: see jiraflow.relaunch
RUN = (*FLAGS, "hooks", "run")
# PYTHONPATH's absolute entries only, as jiraflow.relaunch.environment keeps them: an empty
# or relative one would be the work tree, where git runs hooks
_SAFE_PYTHONPATH = (
    'if [ -n "${PYTHONPATH:-}" ]; then',
    "    kept= rest=$PYTHONPATH:",
    '    while [ -n "$rest" ]; do',
    "        entry=${rest%%:*}",
    "        rest=${rest#*:}",
    "        case $entry in /*) kept=${kept:+$kept:}$entry ;; esac",
    "    done",
    '    if [ -n "$kept" ]; then PYTHONPATH=$kept; else unset PYTHONPATH; fi',
    "fi",
)
PREVIOUS = ".jiraflow-previous"
ZERO = "0" * 40

# Subjects that `git rebase --autosquash` matches on: a key in front would break them.
_AUTOSQUASH = ("fixup! ", "squash! ", "amend! ")
# A commit message file of these sources is git's own text (or a template still to be
# edited: a key in it would let an unedited template through).
_SOURCES_LEFT_ALONE = ("merge", "squash", "template")
# Files in the git directory while git replays commits: their messages are not new.
_REPLAYING = ("rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD", "sequencer")


# -- where the hooks go ------------------------------------------------------------------------
def hooks_dir(repo: GitRepo) -> str:
    """The directory git runs hooks from: honours core.hooksPath (relative paths are relative
    to the work tree) and, in a linked work tree, is the main repository's."""
    path = repo.out("rev-parse", "--git-path", "hooks")
    return os.path.normpath(os.path.join(repo.root, path))


def is_ours(path: str) -> bool:
    """Whether the file at `path` is a hook jiraflow wrote (its marker is near the top)."""
    return _marker(path) is not None


def is_outdated(path: str) -> bool:
    """Whether the file at `path` is a hook an older jiraflow wrote, one that lets the
    repository's Python files run (`jiraflow hooks install` rewrites it)."""
    return _marker(path) in _WITHOUT_SAFE_PATH


def _marker(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [fh.readline().rstrip("\r\n") for _ in range(5)]
    except OSError:
        return None
    return next((line for line in head if line.startswith(_MARKER_PREFIX)), None)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def hook_script(hook: str, python: str) -> str:
    """The sh script for `hook`: the previous hook first (if executable), then jiraflow run
    by `python`. When `python` is gone it says so in one line and blocks, except
    prepare-commit-msg, which git runs even with --no-verify: it never stops a commit."""
    gone = (
        f"jiraflow {hook} hook: jiraflow is not installed at $python any more; "
        "run 'jiraflow hooks install' again, or 'jiraflow hooks uninstall'"
    )
    # git writes the refs being pushed on pre-push's stdin: both hooks must read all of it
    stdin = ' <"$input"' if hook == "pre-push" else ""
    lines = [
        "#!/bin/sh",
        MARKER,
        "# Written by `jiraflow hooks install`. It runs the hook that was here before first",
        f"# (kept as {hook}{PREVIOUS}), which `jiraflow hooks uninstall` puts back.",
        "# Skip the hooks once: git commit --no-verify, git push --no-verify.",
        f"python={shlex.quote(python)}",
        f'previous="$(dirname -- "$0")/{hook}{PREVIOUS}"',
    ]
    if stdin:
        lines += [
            'input=$(mktemp "${TMPDIR:-/tmp}/jiraflow-pre-push.XXXXXX") || exit 1',
            "trap 'rm -f \"$input\"' EXIT",
            "trap 'exit 130' HUP INT TERM",
            'cat >"$input"',
        ]
    lines += [
        'if [ -x "$previous" ]; then',
        f'    "$previous" "$@"{stdin} || exit $?',
        "fi",
        'if [ ! -x "$python" ]; then',
        f"    printf '%s\\n' \"{gone}\" >&2",
        f"    exit {0 if hook == 'prepare-commit-msg' else 1}",
        "fi",
        *_SAFE_PYTHONPATH,
        # exec would leave the input file behind: the EXIT trap removes it
        f'{"" if stdin else "exec "}"$python" {" ".join(RUN)} {hook} "$@"{stdin}',
    ]
    return "\n".join(lines) + "\n"


# -- install -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Install:
    """What installing one hook does."""

    hook: str
    path: str
    previous: str  # where a hook that was here is kept: HOOK.jiraflow-previous
    rewrite: bool  # our hook is there already: written again (new interpreter path)
    keep: bool  # a hook of someone else's is there: moved to `previous` first
    kept: bool  # after installing, a previous hook is kept
    chained: bool  # ... and it is executable, so ours runs it first

    def describe(self, python: str) -> list[str]:
        lines = [f"mv {self.path} {self.previous}"] if self.keep else []
        runs = f"runs {python} {' '.join(RUN)} {self.hook}"
        if self.chained:
            runs += f", after {os.path.basename(self.previous)}"
        return [*lines, f"write {self.path} ({runs})"]


def plan_install(directory: str) -> list[Install]:
    """Installing every hook in `directory`. Refuses, for all hooks at once, when a hook of
    someone else's stands where ours was installed over a kept previous hook."""
    steps: list[Install] = []
    clashes: list[str] = []
    for hook in HOOKS:
        path = os.path.join(directory, hook)
        previous = path + PREVIOUS
        here = os.path.lexists(path)
        ours = here and is_ours(path)
        keep = here and not ours
        if keep and os.path.lexists(previous):
            clashes.append(
                f"{path} is not jiraflow's hook, and {previous} (the hook jiraflow kept when "
                "installing) is in the way of keeping it"
            )
        kept = keep or os.path.lexists(previous)
        chained = _executable(path) if keep else _executable(previous)
        steps.append(Install(hook, path, previous, ours, keep, kept, chained))
    if clashes:
        raise RepoStateError(
            "; ".join(clashes),
            "Merge the two into the hook's file and delete the .jiraflow-previous one (or delete "
            "either), then run `jiraflow hooks install` again. Nothing was changed.",
        )
    return steps


def install(directory: str, steps: Iterable[Install], python: str) -> None:
    with _changing(directory):
        os.makedirs(directory, exist_ok=True)
        for step in steps:
            if step.keep:
                os.replace(step.path, step.previous)
            _write_executable(step.path, hook_script(step.hook, python))


def _write_executable(path: str, text: str) -> None:
    """Write `path` whole or not at all (a half-written hook would break every commit)."""
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".jiraflow-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


# -- uninstall ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Uninstall:
    """What uninstalling one hook does."""

    hook: str
    path: str
    previous: str
    remove: bool  # our hook is there: removed
    restore: bool  # the kept previous hook goes back under the hook's name
    foreign: bool  # a hook of someone else's is there: left alone

    def describe(self) -> list[str]:
        lines = [f"rm {self.path}"] if self.remove else []
        return lines + ([f"mv {self.previous} {self.path}"] if self.restore else [])


def plan_uninstall(directory: str) -> list[Uninstall]:
    """Uninstalling every hook in `directory`: ours removed, kept ones put back, others kept."""
    steps = []
    for hook in HOOKS:
        path = os.path.join(directory, hook)
        previous = path + PREVIOUS
        here = os.path.lexists(path)
        ours = here and is_ours(path)
        foreign = here and not ours
        restore = os.path.lexists(previous) and not foreign
        steps.append(Uninstall(hook, path, previous, ours, restore, foreign))
    return steps


def uninstall(directory: str, steps: Iterable[Uninstall]) -> None:
    with _changing(directory):
        for step in steps:
            if step.remove:
                os.unlink(step.path)
            if step.restore:
                os.replace(step.previous, step.path)


@contextmanager
def _changing(directory: str) -> Iterator[None]:
    """File system errors (a read-only or foreign-owned hooks directory) as RepoStateError."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or directory
        raise RepoStateError(
            f"could not change the hooks in {directory}: {where}: {exc.strerror or exc}",
            "Check that you may write to that directory (or fix core.hooksPath), then run "
            "the command again.",
        ) from None


# -- prepare-commit-msg ------------------------------------------------------------------------
def names_key(text: str) -> bool:
    return key_in(text) is not None


def comment_prefix(repo: GitRepo) -> str | None:
    """What starts a comment line in a commit message file; None for core.commentChar=auto,
    where git picks a character per message."""
    config = repo.config()
    value = config.get("core.commentstring") or config.get("core.commentchar") or "#"
    return None if value == "auto" else value


def stripped_prefix(repo: GitRepo) -> str | None:
    """What starts the comment lines git will strip from the message being committed: ""
    (none) when no editor is used (`git commit -m`: git keeps `#` lines, so `-m "#time 1h"`
    is a smart commit, and tells hooks GIT_EDITOR=:) unless commit.cleanup strips them
    anyway; else comment_prefix."""
    cleanup = repo.config().get("commit.cleanup", "default")
    if os.environ.get("GIT_EDITOR") == ":" and cleanup not in ("strip", "scissors"):
        return ""
    return comment_prefix(repo)


def message_with_key(
    text: str, key: str, comment_char: str | None, has_key: Callable[[str], bool] = names_key
) -> str | None:
    """The commit message file `text` with `key` and a space in front of its subject, or None
    when there is nothing to add: the message names a key already, has no text (comments and
    blank lines only), or is an autosquash subject (fixup!, squash!, amend!). Comment lines and
    everything below git's scissors line are not message text. With comment_char None
    (core.commentChar=auto) a subject starting with a character git may use for comments is
    left alone."""
    lines = text.splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if is_scissors(line, comment_char)), len(lines))

    body = [i for i in range(end) if not is_comment(lines[i], comment_char)]
    if has_key("".join(lines[i] for i in body)):
        return None
    # with the comment character unknown, a first line that may be a comment stops us
    candidates = range(end) if comment_char is None else body
    subject = next((i for i in candidates if lines[i].strip()), None)
    if subject is None or is_comment(lines[subject], comment_char):
        return None
    line = lines[subject].lstrip()
    if line.startswith(_AUTOSQUASH):
        return None
    lines[subject] = f"{key} {line}"
    return "".join(lines)


def prepare_message(flow: FlowContext, path: str, source: str) -> str | None:
    """prepare-commit-msg: put the branch's issue key in front of the message in `path` when
    it names none. Returns the key added, or None when the message was left as it is."""
    if source in _SOURCES_LEFT_ALONE or flow.repo.has_git_path(*_REPLAYING):
        return None
    from jiraflow.checks.rules import Rules

    rules = Rules.from_config(flow.config)
    branch = flow.repo.head().branch
    key = rules.branch_key(branch) if branch else None
    if key is None:
        return None
    text = read_message(path)
    changed = message_with_key(text, key, stripped_prefix(flow.repo), has_key=rules.has_key)
    if changed is None:
        return None
    write_message(path, changed)
    return key


def read_message(path: str) -> str:
    """A commit message file as it is: its bytes kept whatever their encoding."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        return fh.read()


def write_message(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        fh.write(text)


# -- pre-push ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Push:
    """A branch being pushed and the commits it brings to the remote."""

    branch: str  # the branch's name on the remote (refs/heads/ stripped)
    # revisions for `git log`, space-separated: "<new> ^<sha>...", what none of the remote's
    # branches (nor the pushed branch's old tip) has
    rev_range: str
    new: bool = field(default=False, compare=False)  # the remote lacks the branch yet


def pushes_from_lines(repo: GitRepo, remote: str, lines: Iterable[str]) -> list[Push]:
    """The branches a push updates, from the lines git gives the pre-push hook on stdin:
    `<local ref> <local sha> <remote ref> <remote sha>`. Deletions and tags are left out."""
    pushes = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise UsageError(
                f"pre-push: unexpected input line {line.strip()!r}",
                "git gives '<local ref> <local sha> <remote ref> <remote sha>' lines.",
            )
        _local_ref, local_sha, remote_ref, remote_sha = parts
        push = _push(repo, remote, remote_ref, remote_sha, local_sha)
        if push is not None:
            pushes.append(push)
    return pushes


def pushes_from_env(repo: GitRepo, environ: Mapping[str, str]) -> list[Push]:
    """The branch being pushed as the pre-commit framework tells its hooks (it reads git's
    input itself, and passes on only the first branch pushed)."""
    to_ref = environ.get("PRE_COMMIT_TO_REF") or environ.get("PRE_COMMIT_LOCAL_BRANCH")
    remote_ref = environ.get("PRE_COMMIT_REMOTE_BRANCH", "")
    if not to_ref or not remote_ref:
        return []
    remote = environ.get("PRE_COMMIT_REMOTE_NAME", "")
    from_ref = environ.get("PRE_COMMIT_FROM_REF") or ZERO
    push = _push(repo, remote, remote_ref, from_ref, to_ref)
    return [push] if push is not None else []


def _push(repo: GitRepo, remote: str, remote_ref: str, old: str, new: str) -> Push | None:
    """The commits a push brings that the remote has on no branch (of any remote when
    pushing to a URL): what its server-side hooks would look at. An update also leaves out
    what the branch had there (`^<old>`), even when it was not fetched into a remote branch."""
    if set(new) == {"0"} or not remote_ref.startswith(BRANCHES):
        return None  # a deletion, a tag, or a ref that is no branch
    branch = remote_ref[len(BRANCHES) :]
    prefix = f"{REMOTES}{remote}/" if remote in repo.remotes() else REMOTES
    tips = {sha for ref, sha in repo.refs().items() if ref.startswith(prefix)}
    if set(old) != {"0"} and repo.ok("cat-file", "-e", f"{old}^{{commit}}"):
        tips.add(old)
    # as `^<sha>` arguments, not options: commits_in passes --end-of-options
    return Push(
        branch, " ".join([new, *(f"^{sha}" for sha in sorted(tips))]), new=set(old) == {"0"}
    )
