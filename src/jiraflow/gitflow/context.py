"""Opening a repository for the engine: the git repository, its merged config and model."""

from __future__ import annotations

from collections.abc import Mapping

from jiraflow import config as config_mod
from jiraflow.config import Config
from jiraflow.errors import ConfigError, RepoStateError, UsageError
from jiraflow.git import GitRepo, changes_named
from jiraflow.gitflow.model import BranchModel


class FlowContext:
    """The repository, its merged config and branch model. (A plain class: on the path of
    every TAB.)"""

    __slots__ = ("config", "model", "repo")

    def __init__(self, repo: GitRepo, config: Config, model: BranchModel) -> None:
        self.repo = repo
        self.config = config
        self.model = model

    @classmethod
    def open(
        cls,
        path: str = ".",
        *,
        user_path: str | None,
        environ: Mapping[str, str] | None = None,
    ) -> FlowContext:
        repo = GitRepo.discover(path)
        cfg = config_mod.load(
            user_path=user_path, repo_root=repo.root, git_config=repo.config(), environ=environ
        )
        return cls(repo, cfg, BranchModel.from_config(cfg))

    # -- checks shared by the commands --------------------------------------------------
    def require_initialised(self) -> None:
        """develop and main must exist (locally, or on the remote to be tracked)."""
        for role, name in (("develop", self.model.develop), ("main", self.model.main)):
            if not self.repo.has_branch(name):
                hint = "Run `jiraflow init` to set up the branches"
                if self.repo.remote_branch(self.model.remote, name):
                    hint = f"Run `git branch {name} {self.model.remote}/{name}`, or `jiraflow init`"
                raise ConfigError(
                    f"the {role} branch '{name}' does not exist in this repository",
                    hint + " (or set gitflow." + role + " with `jiraflow config set`).",
                )

    def require_clean(self) -> None:
        changed = self.repo.changed_files()  # the same one git call as is_clean
        if changed:
            raise RepoStateError(
                f"the working tree has uncommitted changes: {changes_named(changed)}",
                "Commit or stash them first (`git stash`), then run the command again.",
            )

    def current_branch(self) -> str:
        head = self.repo.head()
        if head.branch is None:
            raise RepoStateError("HEAD is detached", "Check out a branch, or name one.")
        return head.branch

    def resolve(self, kind: str, name: str | None) -> str:
        """The full branch name of `kind` meant by `name`: the current branch when omitted,
        a unique prefix match like AVH's, or the exact name."""
        prefix = self.model.prefixes[kind]
        if not name:
            current = self.current_branch()
            if self.model.parse(current) is None or not current.startswith(prefix):
                raise UsageError(
                    f"the current branch '{current}' is not a {kind} branch",
                    f"Name the {kind} to use, e.g. `jiraflow {kind} finish NAME`.",
                )
            return current
        if name.startswith(prefix) and self.repo.has_branch(name):
            return name
        full = prefix + name
        if self.repo.has_branch(full):
            return full
        matches = [b for b in self.repo.branches(prefix) if b.startswith(full)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            shown = ", ".join(m[len(prefix) :] for m in matches)
            raise UsageError(f"'{name}' matches several {kind} branches: {shown}", "Name one.")
        raise RepoStateError(
            f"there is no {kind} branch '{full}'",
            f"`jiraflow {kind} list` shows the {kind} branches.",
        )

    def base_of(self, branch: str, kind: str) -> str:
        """The base recorded at start (AVH's gitflow.branch.<name>.base), else the default."""
        recorded = self.repo.config().get(f"gitflow.branch.{branch}.base")
        return recorded or self.model.default_base(kind)
