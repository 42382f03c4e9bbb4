"""The branch model: which branch types exist, their prefixes and bases."""

from __future__ import annotations

from jiraflow.config import Config

WORK_KINDS = ("feature", "bugfix")
VERSION_KINDS = ("release", "hotfix")
KINDS = (*WORK_KINDS, *VERSION_KINDS, "support")
FINISHED_KINDS = (*WORK_KINDS, *VERSION_KINDS)  # the types that finish (support does not)


class BranchModel:
    """(A plain class: on the path of every TAB, where a frozen dataclass costs 0.6 ms.)"""

    __slots__ = ("develop", "main", "prefixes", "remote", "tag_prefix")

    def __init__(
        self, main: str, develop: str, remote: str, tag_prefix: str, prefixes: dict[str, str]
    ) -> None:
        self.main = main
        self.develop = develop
        self.remote = remote
        self.tag_prefix = tag_prefix
        self.prefixes = prefixes

    @classmethod
    def from_config(cls, config: Config) -> BranchModel:
        g = config.gitflow
        prefixes = {kind: getattr(g.prefix, kind) for kind in KINDS}
        return cls(g.main, g.develop, g.remote, g.version_tag_prefix, prefixes)

    def branch(self, kind: str, name: str) -> str:
        return self.prefixes[kind] + name

    def parse(self, branch: str) -> tuple[str, str] | None:
        """(kind, short name) of a branch of the model, or None. The longest prefix wins,
        so a prefix that is a prefix of another ('f/' and 'f/x/') still resolves."""
        best: tuple[str, str] | None = None
        best_len = -1
        for kind, prefix in self.prefixes.items():
            if prefix and branch.startswith(prefix) and len(prefix) > best_len:
                best, best_len = (kind, branch[len(prefix) :]), len(prefix)
        return best

    def default_base(self, kind: str) -> str:
        return self.main if kind in ("hotfix", "support") else self.develop

    def tag(self, version: str) -> str:
        return self.tag_prefix + version
