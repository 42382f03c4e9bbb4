"""The one place that runs git.

Every git call of jiraflow goes through `GitRepo.run`. The Gitflow engine calls the
git executable directly rather than through GitPython: importing GitPython costs
about 90 ms on its own (measured on the CI machine), which is more than git-flow AVH
needs for a whole `feature start`, and the engine needs nothing from it but
subprocess calls. This module is also the only one allowed to import GitPython,
should a later feature need its object model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from jiraflow.errors import JiraflowError, RemoteError, RepoStateError

# subprocess is imported where git runs: finding a repository and its root needs no git
# process, and TAB completion of issue keys needs nothing more (saves 2.5 ms there).
if TYPE_CHECKING:
    import subprocess

# Ref names: their one home. BRANCHES, TAGS and REMOTES are the prefixes (`for-each-ref`
# patterns, `startswith` tests); the functions make and read full names.
BRANCHES = "refs/heads/"
TAGS = "refs/tags/"
REMOTES = "refs/remotes/"


def branch_ref(name: str) -> str:
    """refs/heads/NAME"""
    return BRANCHES + name


def tag_ref(name: str) -> str:
    """refs/tags/NAME"""
    return TAGS + name


def remote_ref(remote: str, name: str) -> str:
    """refs/remotes/REMOTE/NAME: the remote-tracking ref of a branch of `remote`."""
    return f"{REMOTES}{remote}/{name}"


def branch_of(ref: str) -> str:
    """The branch name of refs/heads/NAME (a name without the prefix is returned as is)."""
    return ref.removeprefix(BRANCHES)


def tag_of(ref: str) -> str:
    """The tag name of refs/tags/NAME (a name without the prefix is returned as is)."""
    return ref.removeprefix(TAGS)


# Files in the git directory that mean an operation of git's own is half done.
_IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or am",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
}


class GitError(JiraflowError):
    """git exited with an error the caller did not expect."""

    exit_code = RepoStateError.exit_code

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        why = (
            reason(stderr or stdout) if (stderr or stdout).strip() else f"exit status {returncode}"
        )
        super().__init__(f"git {' '.join(argv[:2])} failed: {why}")
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout


class Head:
    """What is checked out: a branch (maybe unborn) or a detached commit. (A plain class:
    on the path of every TAB.)"""

    __slots__ = ("branch", "commit")

    def __init__(self, branch: str | None, commit: str | None) -> None:
        self.branch = branch
        self.commit = commit

    @property
    def ref(self) -> str | None:
        return branch_ref(self.branch) if self.branch else None


class GitRepo:
    """A working tree and its git directory."""

    def __init__(self, root: str, git_dir: str, common_dir: str) -> None:
        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._refs: dict[str, str] | None = None
        self._config: dict[str, str] | None = None

    # -- discovery and running -------------------------------------------------------
    @classmethod
    def discover(cls, path: str = ".") -> GitRepo:
        if not any(var in os.environ for var in _LOCATION_VARS):
            found = _find_dot_git(os.path.realpath(path))
            if found is not None:
                return cls(*found)
        import subprocess

        try:
            proc = subprocess.run(
                ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-common-dir"],
                cwd=path,
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise _no_git() from None
        if proc.returncode != 0:
            raise RepoStateError(
                f"{os.path.abspath(path)} is not inside a git working tree",
                "Run jiraflow inside a repository, or point at one with -C PATH.",
            )
        root, git_dir, common = proc.stdout.splitlines()[:3]
        common = os.path.realpath(os.path.join(path, common))
        return cls(root, git_dir, common)

    def git_path(self, name: str) -> str:
        """A file in this work tree's git directory (HEAD, MERGE_HEAD, rebase-merge...)."""
        return os.path.join(self.git_dir, name)

    def has_git_path(self, *names: str) -> bool:
        return any(os.path.exists(self.git_path(name)) for name in names)

    def state_path(self, name: str) -> str:
        """A file of jiraflow's own, shared by all work trees: .git/jiraflow/NAME."""
        return os.path.join(self.common_dir, "jiraflow", name)

    def run(
        self,
        *args: str,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        import subprocess

        full_env = None
        if env:
            full_env = {**os.environ, **env}
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                input=input,
                env=full_env,
                check=False,
            )
        except FileNotFoundError:
            raise _no_git() from None
        if check and proc.returncode != 0:
            raise GitError(args, proc.returncode, proc.stderr, proc.stdout)
        return proc

    def output(self, *args: str) -> str | None:
        """What git prints on stdout, None when it fails (its stderr dropped). For reading
        only: spawned without the subprocess module, whose import would be a tenth of a
        TAB press (completion reads config and refs this way)."""
        spawn = getattr(os, "posix_spawnp", None)
        if spawn is None:  # Windows
            proc = self.run(*args, check=False)
            return proc.stdout if proc.returncode == 0 else None
        read, write = os.pipe()
        try:
            pid = spawn(
                "git",
                ["git", "-C", self.root, *args],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, write, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
            )
        except FileNotFoundError:
            os.close(read)
            raise _no_git() from None
        finally:
            os.close(write)
        with os.fdopen(read, "rb") as stream:
            data = stream.read()
        _, status = os.waitpid(pid, 0)
        return data.decode(errors="replace") if os.waitstatus_to_exitcode(status) == 0 else None

    def passthrough(self, *args: str) -> int:
        """Run git with the terminal's own stdin/stdout (diff pager, interactive rebase)."""
        import subprocess

        try:
            return subprocess.run(["git", *args], cwd=self.root, check=False).returncode
        except FileNotFoundError:
            raise _no_git() from None

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def ok(self, *args: str) -> bool:
        return self.run(*args, check=False).returncode == 0

    # -- state ------------------------------------------------------------------------
    def refs(self, *, fresh: bool = False) -> dict[str, str]:
        """Every ref (branches, remote branches, tags) and the object it points at."""
        if self._refs is None or fresh:
            text = self.out("for-each-ref", "--format=%(objectname) %(refname)")
            self._refs = {}
            for line in text.splitlines():
                sha, _, ref = line.partition(" ")
                self._refs[ref] = sha
        return self._refs

    def forget_refs(self) -> None:
        self._refs = None

    def branches(self, prefix: str = "") -> list[str]:
        start = branch_ref(prefix)
        return sorted(branch_of(r) for r in self.refs() if r.startswith(start))

    def has_branch(self, name: str) -> bool:
        return branch_ref(name) in self.refs()

    def remote_branch(self, remote: str, name: str) -> str | None:
        ref = remote_ref(remote, name)
        return ref if ref in self.refs() else None

    def has_tag(self, name: str) -> bool:
        return tag_ref(name) in self.refs()

    def config(self) -> dict[str, str]:
        """git config, all scopes merged (the last value of a key wins)."""
        if self._config is None:
            self._config = {}
            for entry in (self.output("config", "-z", "--list") or "").split("\0"):
                if entry:
                    key, _, value = entry.partition("\n")
                    self._config[key] = value
        return self._config

    def remotes(self) -> list[str]:
        return sorted(
            {
                key.split(".")[1]
                for key in self.config()
                if key.startswith("remote.") and key.count(".") >= 2
            }
        )

    def head(self) -> Head:
        with open(self.git_path("HEAD"), encoding="utf-8") as fh:
            text = fh.read().strip()
        if text.startswith("ref: " + BRANCHES):
            branch = branch_of(text.removeprefix("ref: "))
            return Head(branch, self.refs().get(branch_ref(branch)))
        return Head(None, text)

    def operation_in_progress(self) -> str | None:
        for name, what in _IN_PROGRESS.items():
            if self.has_git_path(name):
                return what
        return None

    def is_clean(self) -> bool:
        """No staged or unstaged changes to tracked files (untracked files are fine)."""
        return not self.changed_files()

    def changed_files(self) -> list[str]:
        """The tracked files with staged or unstaged changes, in git's order (untracked
        files are left out): one `git status`, which is_clean asks too."""
        proc = self.run(
            "status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules"
        )
        return porcelain_paths(proc.stdout)

    def unmerged_files(self) -> list[str]:
        text = self.run("diff", "--name-only", "--diff-filter=U", "-z").stdout
        return sorted({name for name in text.split("\0") if name})

    def count(self, rev_range: str) -> int:
        return int(self.out("rev-list", "--count", rev_range))

    def ahead_behind(self, local: str, upstream: str) -> tuple[int, int]:
        """Commits in local and not upstream, and in upstream and not local."""
        left, right = self.out(
            "rev-list", "--left-right", "--count", f"{local}...{upstream}"
        ).split()
        return int(left), int(right)

    def ahead_behind_many(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
        """ahead_behind of each (local, upstream) pair of commits, given by their full
        names (as refs() has them). A few pairs: one `git rev-list` each. More: one walk of
        the history under all of them (see _ancestors), so that listing thousands of
        branches costs one git process, not one per branch (each of which may walk most
        of the history when the branch is old)."""
        if len(pairs) <= _FEW_PAIRS:
            return [self.ahead_behind(local, upstream) for local, upstream in pairs]
        ancestors = self._ancestors({commit for pair in pairs for commit in pair})
        counts = []
        for local, upstream in pairs:
            mine, theirs = ancestors[local], ancestors[upstream]
            counts.append(((mine & ~theirs).bit_count(), (theirs & ~mine).bit_count()))
        return counts

    def _ancestors(self, tips: set[str]) -> dict[str, int]:
        """Each tip's ancestors (itself included) as the bits of an int, a bit per commit.
        One `git rev-list` lists every commit under the tips, parents before children, with
        its children; a commit's set is its own bit and its parents' sets, handed on to its
        children and dropped once it is handed on. 50,000 commits take about 0.1 s here."""
        text = self.run(
            "rev-list",
            "--topo-order",
            "--reverse",
            "--children",
            "--stdin",
            input="\n".join(sorted(tips)) + "\n",
        ).stdout
        handed: dict[str, int] = {}  # the sets given to commits not reached yet
        found: dict[str, int] = {}
        bit = 1
        for line in text.split("\n"):
            if not line:
                continue
            commit, *children = line.split()
            mine = handed.pop(commit, 0) | bit
            bit <<= 1
            for child in children:
                handed[child] = handed.get(child, 0) | mine
            if commit in tips:
                found[commit] = mine
        return found

    def commit_of(self, rev: str) -> str | None:
        """The commit `rev` names (a tag peeled to its commit), or None when it names none.
        A rev that starts with '-' names none: git would read it as an option."""
        if not rev or rev.startswith("-"):
            return None
        proc = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.ok("merge-base", "--is-ancestor", ancestor, descendant)

    def fetch(self, remote: str) -> None:
        proc = self.run("fetch", "--quiet", "--prune", remote, check=False)
        if proc.returncode != 0:
            raise RemoteError(
                f"git fetch {remote} failed: {reason(proc.stderr)}",
                "Check the remote and your network, or finish without --fetch.",
            )
        self.forget_refs()


# Up to this many pairs, ahead_behind_many asks git about each: one walk of the whole history
# costs more than a few walks of the commits between a branch and its base.
_FEW_PAIRS = 8

# With these set, git decides where the repository is; ask it rather than look.
_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES")


def _find_dot_git(start: str) -> tuple[str, str, str] | None:
    """(work tree, git dir, common dir) found the way git does for the usual layouts: a
    .git directory, or a .git file naming the git dir (linked work trees, submodules).
    None sends the caller to `git rev-parse`. Saves a git process on every command."""
    directory = start
    while True:
        dot = os.path.join(directory, ".git")
        if os.path.isdir(dot):
            if not os.path.isfile(os.path.join(dot, "HEAD")):
                return None
            return directory, dot, _common_dir(dot)
        if os.path.isfile(dot):
            try:
                with open(dot, encoding="utf-8") as fh:
                    line = fh.readline().strip()
            except OSError:
                return None
            if not line.startswith("gitdir: "):
                return None
            git_dir = os.path.normpath(os.path.join(directory, line[len("gitdir: ") :]))
            if not os.path.isfile(os.path.join(git_dir, "HEAD")):
                return None
            return directory, git_dir, _common_dir(git_dir)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _common_dir(git_dir: str) -> str:
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as fh:
            return os.path.normpath(os.path.join(git_dir, fh.read().strip()))
    except FileNotFoundError:
        return git_dir


# Lines git itself writes around a refused push; anything else came from a hook.
_GIT_PUSH_LINES = ("To ", " ! ", "error: ", "hint: ", "remote: ", "fatal: ", "warning: ")


def hook_output(text: str, most: int = 20) -> list[str]:
    """What a pre-push hook printed when it refused a push, without git's own lines; [] when
    the push failed for another reason (no connection, a rejected ref: git says `fatal:` or
    ` ! [rejected]` then)."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if not any("failed to push some refs" in line for line in lines) or any(
        line.startswith(("fatal: ", " ! ")) for line in lines
    ):
        return []
    own = [line for line in lines if not line.startswith(_GIT_PUSH_LINES)]
    return own[:most]


def refused_by_branch_permissions(text: str) -> str | None:
    """The branch a server's branch permissions refused in a failed push (its output), or
    None. Bitbucket refuses in a pre-receive hook and says why on `remote:` lines: Data
    Center "Branch refs/heads/develop can only be modified through pull requests." (or
    "... is read-only", "You are not permitted ..."), Cloud "Permission denied to update
    branch develop." or "... branch restrictions ..."; git then names the ref as
    `! [remote rejected] develop -> develop (pre-receive hook declined)`."""
    import re

    said = " ".join(
        line[len("remote: ") :] for line in text.splitlines() if line.startswith("remote: ")
    )
    rejected = re.findall(r"! \[remote rejected\] \S+ -> (\S+) \(pre-receive hook declined\)", text)
    if not rejected:
        return None
    named = re.search(
        r"Branch (?:refs/heads/)?(\S+?) can only be modified through pull requests"
        r"|Permission denied to update branch (\S+?)\.?(?:\s|$)",
        said,
    )
    if named:
        return str(named[1] or named[2])
    permissions = ("branch permission", "branch restriction", "pull request", "read-only")
    if any(word in said.lower() for word in permissions):
        return str(rejected[0])
    return None


def porcelain_paths(text: str) -> list[str]:
    """The paths of `git status --porcelain -z`: each entry is "XY path", and a rename or
    copy is followed by the path it came from, which is skipped."""
    paths: list[str] = []
    entries = iter(text.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if "R" in entry[:2] or "C" in entry[:2]:
            next(entries, None)  # the source of the rename or copy
    return paths


def changes_named(paths: Sequence[str], most: int = 5) -> str:
    """The first `most` paths, and how many more: "app.py, README (and 3 more)"."""
    shown = ", ".join(paths[:most])
    return f"{shown} (and {len(paths) - most} more)" if len(paths) > most else shown


def reason(text: str) -> str:
    """The line of git's error output that says why: its first fatal/error line."""
    raw = [line for line in text.strip().splitlines() if line.strip()]
    for i, line in enumerate(raw):
        for prefix in ("fatal: ", "error: "):
            if line.startswith(prefix):
                why = line[len(prefix) :].strip()
                # "...would be overwritten by checkout:" names the files on the next lines
                named = [n.strip() for n in raw[i + 1 : i + 4] if n[:1] in ("\t", " ")]
                return f"{why} {', '.join(named)}" if why.endswith(":") and named else why
    return raw[-1].strip() if raw else "no message"


def _no_git() -> RepoStateError:
    return RepoStateError("git is not installed or not on PATH", "Install git 2.30 or newer.")
