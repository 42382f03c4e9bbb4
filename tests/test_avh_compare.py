"""jiraflow against git-flow AVH 1.12.3: the same scenario in two fresh repositories must
leave the same history behind.

Each test runs a scenario twice, once with `git flow ...` (a subprocess) and once with
`jiraflow ...` (in-process), in two repositories made the same way. The autouse
`isolated_env` fixture fixes identity and dates, so plain commits get identical SHAs in
both; merge commits and tags may still differ in their messages (AVH appends the version
to the tag message, a bug jiraflow does not copy), so the repositories are compared as a
*normalised graph*: every commit reachable from a ref gets a canonical id made of its tree
and the canonical ids of its parents, in order, and every ref is compared by that id. On
top of that: which tags are annotated, the bare origin's refs, the checked-out branch, a
clean work tree, no half-done operation, and the gitflow.* git config.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import require_tool
from gitutil import Repo, git, jf

pytestmark = pytest.mark.avh

AVH_ENV = {"GIT_MERGE_AUTOEDIT": "no", "GIT_EDITOR": "true"}
# Written by `git flow init` only; it is where AVH looks for hooks, not part of the model.
CONFIG_IGNORED = {"gitflow.path.hooks"}
# Where each kind of branch merges back when gitflow.branch.<branch>.base is not set.
DEFAULT_BASES = {
    "feature/": "develop",
    "bugfix/": "develop",
    "release/": "develop",
    "hotfix/": "main",
}
# `jiraflow init` writes this untracked file on purpose (the team's shared setup).
JIRAFLOW_FILE = ".jiraflow.toml"


# -- the two tools ----------------------------------------------------------------------------
@dataclass
class Tool:
    """One side of a comparison: a repository and how to run Gitflow commands in it.

    The scenario methods take the same arguments for both tools and translate them into
    each tool's flags (AVH's feature push is `--push`, its `-p` means preserve-merges)."""

    repo: Repo
    avh: bool
    capsys: Any = None
    log: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "git flow" if self.avh else "jiraflow"

    def flow(self, *args: str) -> None:
        self.log.append(" ".join(args))
        if self.avh:
            proc = subprocess.run(
                ["git", "flow", *args],
                cwd=self.repo.path,
                env={**os.environ, **AVH_ENV},
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        else:
            result = jf(self.repo, *args, capsys=self.capsys)
            code, out, err = result.code, result.out, result.err
        assert code == 0, f"{self.name} {' '.join(args)} exited {code}:\n{out}\n{err}"

    # -- translations ---------------------------------------------------------------------
    def init(self) -> None:
        self.flow("init", "-d") if self.avh else self.flow("init", "--defaults")

    def work_finish(
        self,
        kind: str,
        name: str,
        *,
        no_ff: bool = False,
        squash: bool = False,
        keep: bool = False,
        push: bool = False,
    ) -> None:
        flags = []
        if no_ff:
            flags.append("--no-ff")
        if squash:
            flags.append("-S")
        if keep:
            flags.append("-k")
        if push:
            flags.append("--push" if self.avh else "-p")
        self.flow(kind, "finish", *flags, name)

    def version_finish(
        self,
        kind: str,
        version: str,
        *,
        message: str | None = None,
        no_tag: bool = False,
        push: bool = False,
    ) -> None:
        flags = []
        if not no_tag:
            # Always give AVH a message: without one it opens an editor for the tag.
            flags += ["-m", message or f"{kind.capitalize()} {version}"]
        if no_tag:
            flags.append("-n")
        if push:
            flags.append("-p")
        self.flow(kind, "finish", *flags, version)

    def commit(self, name: str = "file.txt") -> None:
        self.repo.commit(name)

    def checkout(self, branch: str) -> None:
        self.repo.git("checkout", "--quiet", branch)


# -- the normalised graph ----------------------------------------------------------------------
def _canonical_ids(path: Path, tips: list[str]) -> dict[str, str]:
    """sha -> canonical id (tree + parents' canonical ids) for every commit reachable from tips."""
    if not tips:
        return {}
    revs = sorted(set(tips))
    text = git(path, "log", "--topo-order", "--reverse", "--format=%H %T %P", *revs, "--")
    ids: dict[str, str] = {}
    for line in text.splitlines():
        sha, tree, *parents = line.split()
        key = " ".join([tree, *(ids[p] for p in parents)])
        ids[sha] = hashlib.sha1(key.encode()).hexdigest()[:12]
    return ids


def graph(path: Path, patterns: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """ref -> (canonical id of the commit it peels to[, "annotated", tag name]) ."""
    fmt = "%(refname) %(objecttype) %(objectname) %(*objectname) %(tag)"
    text = git(path, "for-each-ref", f"--format={fmt}", *patterns)
    rows = []
    for line in text.splitlines():
        ref, kind, obj, *rest = line.split(" ")
        if ref.endswith("/HEAD"):
            continue
        peeled = rest[0] if rest and rest[0] else obj
        tagname = rest[1] if len(rest) > 1 else ""
        rows.append((ref, kind, peeled, tagname))
    ids = _canonical_ids(path, [peeled for _, _, peeled, _ in rows])
    result: dict[str, tuple[str, ...]] = {}
    for ref, kind, peeled, tagname in rows:
        if kind == "tag":
            result[ref] = (ids[peeled], "annotated", tagname)
        else:
            result[ref] = (ids[peeled],)
    return result


def origin_path(repo: Repo) -> Path | None:
    url = repo.git("remote", "get-url", "origin", check=False)
    return Path(url) if url else None


def _default_base_record(key: str, value: str) -> bool:
    """AVH records every branch's base at start; jiraflow only a base other than the
    default (both tools fall back to the default), so a record of the default base is
    not a difference. A recorded non-default base is compared."""
    if not (key.startswith("gitflow.branch.") and key.endswith(".base")):
        return False
    branch = key[len("gitflow.branch.") : -len(".base")]
    return any(branch.startswith(p) and value == b for p, b in DEFAULT_BASES.items())


def state(repo: Repo) -> dict[str, Any]:
    """Everything two repositories must agree on after the same scenario."""
    status = [
        line
        for line in repo.git("status", "--porcelain=v1", "--untracked-files=all").splitlines()
        if line != f"?? {JIRAFLOW_FILE}"
    ]
    config = {}
    text = repo.git("config", "--local", "--get-regexp", r"^gitflow\.", check=False)
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key in CONFIG_IGNORED or _default_base_record(key, value):
            continue
        config[key] = value
    git_dir = repo.path / ".git"
    leftovers = [
        str(p.relative_to(git_dir))
        for p in (
            git_dir / "MERGE_HEAD",
            git_dir / "SQUASH_MSG",
            git_dir / ".gitflow" / "MERGE_BASE",
            git_dir / "jiraflow" / "state.json",
        )
        if p.exists()
    ]
    result: dict[str, Any] = {
        "refs": graph(repo.path, ("refs/heads", "refs/tags", "refs/remotes/origin")),
        "head": repo.git("symbolic-ref", "--quiet", "HEAD", check=False),
        "status": status,
        "leftovers": leftovers,
        "config": config,
    }
    origin = origin_path(repo)
    if origin is not None:
        result["origin"] = graph(origin, ("refs/heads", "refs/tags"))
    return result


def pictures(*tools: Tool) -> str:
    """`git log --graph` of both repositories, for the failure message."""
    parts = []
    for t in tools:
        pic = t.repo.git("log", "--graph", "--all", "--format=%h %T %d %s")
        parts.append(f"--- {t.name}: {' ; '.join(t.log)}\n{pic}")
    return "\n".join(parts)


# -- running a scenario with both tools --------------------------------------------------------
Scenario = Callable[[Tool], None]


@pytest.fixture
def twins(make_repo: Callable[..., Repo], capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """A function making the AVH and the jiraflow repository, set up the same way."""
    require_tool("git-flow")

    def make(*, remote: bool) -> tuple[Tool, Tool]:
        def one(avh: bool) -> Tool:
            repo = make_repo(remote=remote, init=False, name="avh" if avh else "jf")
            tool = Tool(repo, avh, capsys)
            tool.init()
            if remote:
                repo.git("push", "--quiet", "-u", "origin", "develop")
            return tool

        return both(one)

    return make


def both(work: Callable[[bool], Tool]) -> tuple[Tool, Tool]:
    """work(avh=True) and work(avh=False) at the same time: AVH's side is nothing but
    subprocesses, so a worker thread runs it while jiraflow runs in-process here (this
    halves the wall time on two cores). Its exceptions are re-raised here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(work, True)
        try:
            jfl = work(False)
        finally:
            avh = future.result()
    return avh, jfl


def assert_same(avh: Tool, jfl: Tool) -> None:
    a, j = state(avh.repo), state(jfl.repo)
    assert a["status"] == [], f"AVH left a dirty tree: {a['status']}"
    assert j["status"] == [], f"jiraflow left a dirty tree: {j['status']}"
    assert a["leftovers"] == [], f"AVH left an operation half done: {a['leftovers']}"
    assert j["leftovers"] == [], f"jiraflow left an operation half done: {j['leftovers']}"
    assert j == a, pictures(avh, jfl)


@pytest.fixture
def compare(twins):  # type: ignore[no-untyped-def]
    """Run `scenario` with both tools and assert the results are the same; returns them."""

    def run(scenario: Scenario, *, remote: bool = False) -> tuple[Tool, Tool]:
        avh, jfl = twins(remote=remote)

        def go(is_avh: bool) -> Tool:
            tool = avh if is_avh else jfl
            scenario(tool)
            return tool

        both(go)
        assert_same(avh, jfl)
        return avh, jfl

    return run


# -- the normaliser itself ---------------------------------------------------------------------
def test_normaliser_tells_a_fast_forward_from_a_merge(make_repo: Callable[..., Repo]) -> None:
    """The comparison must be able to fail: same files, same commits, but one repository
    fast-forwards and the other makes a merge commit. Merge messages must not matter."""
    repos = [make_repo(remote=False, init=False) for _ in range(3)]
    for r in repos:
        r.git("checkout", "--quiet", "-b", "topic")
        r.commit("a.txt")
        r.git("checkout", "--quiet", "main")
    repos[0].git("merge", "--quiet", "--ff", "topic")
    repos[1].git("merge", "--quiet", "--no-ff", "-m", "one message", "topic")
    repos[2].git("merge", "--quiet", "--no-ff", "-m", "another message", "topic")
    ff, merge1, merge2 = (graph(r.path, ("refs/heads",)) for r in repos)
    # Same tree on main in all three, and topic is the very same commit...
    assert ff["refs/heads/topic"] == merge1["refs/heads/topic"]
    assert repos[0].git("rev-parse", "main^{tree}") == repos[1].git("rev-parse", "main^{tree}")
    # ...but a fast-forward is not a merge commit,
    assert ff["refs/heads/main"] != merge1["refs/heads/main"]
    # while two merges that differ only in their message are the same shape.
    assert repos[1].git("rev-parse", "main") != repos[2].git("rev-parse", "main")
    assert merge1 == merge2
    # Parent order matters too: the same two parents swapped are another shape.
    r = repos[2]
    r.git("checkout", "--quiet", "-b", "swapped", "topic")
    r.git("merge", "--quiet", "--no-ff", "-m", "swapped", "main~1")
    assert r.git("rev-parse", "swapped^{tree}") == r.git("rev-parse", "main^{tree}")
    assert graph(r.path, ("refs/heads/swapped",))["refs/heads/swapped"] != merge2["refs/heads/main"]
    # And an annotated tag is told from a lightweight one on the same commit.
    repos[0].git("tag", "light")
    repos[1].git("tag", "-a", "-m", "x", "light", "main~1")
    assert graph(repos[0].path, ("refs/tags",)) != graph(repos[1].path, ("refs/tags",))


# -- init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("remote", [False, True], ids=["local", "origin"])
def test_init(twins, remote: bool) -> None:  # type: ignore[no-untyped-def]
    avh, jfl = twins(remote=remote)
    keys = ("master", "develop")
    prefixes = ("feature", "bugfix", "release", "hotfix", "support", "versiontag")
    a, j = avh.repo.git("config", "--list"), jfl.repo.git("config", "--list")
    wanted = [f"gitflow.branch.{k}" for k in keys] + [f"gitflow.prefix.{p}" for p in prefixes]
    a_values = {k: avh.repo.git("config", "--get", k, check=False) for k in wanted}
    j_values = {k: jfl.repo.git("config", "--get", k, check=False) for k in wanted}
    assert a_values == j_values, (a, j)
    assert a_values["gitflow.branch.master"] == "main"
    assert a_values["gitflow.branch.develop"] == "develop"
    # versiontag exists in both, with an empty value
    for repo in (avh.repo, jfl.repo):
        assert "gitflow.prefix.versiontag=" in repo.git("config", "--list").splitlines()
    assert (jfl.repo.path / JIRAFLOW_FILE).exists()
    assert_same(avh, jfl)
    assert jfl.repo.branch() == "develop"


# -- feature -----------------------------------------------------------------------------------
def _feature(commits: int, **finish: bool) -> Scenario:
    def scenario(t: Tool) -> None:
        t.flow("feature", "start", "x")
        for i in range(commits):
            t.commit(f"x{i}.txt")
        t.work_finish("feature", "x", **finish)

    return scenario


def _feature_after_develop_moved(t: Tool) -> None:
    t.flow("feature", "start", "x")
    t.commit("x.txt")
    t.checkout("develop")
    t.commit("dev.txt")
    t.work_finish("feature", "x")


def _feature_from_main_kept(t: Tool) -> None:
    t.flow("feature", "start", "x", "main")  # a non-default base: recorded, merged into main
    t.commit("x0.txt")
    t.commit("x1.txt")
    t.work_finish("feature", "x", keep=True)


def _feature_published(commits: int, **finish: bool) -> Scenario:
    def scenario(t: Tool) -> None:
        t.flow("feature", "start", "x")
        for i in range(commits):
            t.commit(f"x{i}.txt")
        t.flow("feature", "publish", "x")
        t.work_finish("feature", "x", **finish)

    return scenario


FEATURES = {
    "one-commit-ff": (_feature(1), False),
    "three-commits-merge": (_feature(3), False),
    "no-ff-one-commit": (_feature(1, no_ff=True), False),
    "squash": (_feature(3, squash=True), False),
    "develop-moved-on": (_feature_after_develop_moved, False),
    "base-main-keep": (_feature_from_main_kept, False),
    "unpublished-push": (_feature(1, push=True), True),
    "published-three-commits-push": (_feature_published(3, push=True), True),
    "published-no-push": (_feature_published(2), True),
    "published-keep": (_feature_published(1, keep=True), True),
}


@pytest.mark.parametrize("case", list(FEATURES))
def test_feature(compare, case: str) -> None:  # type: ignore[no-untyped-def]
    scenario, remote = FEATURES[case]
    _, jfl = compare(scenario, remote=remote)
    assert jfl.repo.branch() == ("main" if "base-main" in case else "develop")
    keep = "keep" in case
    assert jfl.repo.exists("refs/heads/feature/x") is keep
    if remote and "published" in case:
        assert jfl.repo.exists("refs/remotes/origin/feature/x") is keep
    if case == "one-commit-ff":
        # the tip of develop is the feature's own commit, not a merge
        assert jfl.repo.git("rev-list", "--count", "--merges", "main..develop") == "0"
    if case in ("three-commits-merge", "no-ff-one-commit", "develop-moved-on"):
        assert jfl.repo.git("rev-list", "--count", "--merges", "main..develop") == "1"
    if case == "squash":
        assert jfl.repo.git("rev-list", "--count", "main..develop") == "1"


# -- bugfix ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("commits", "remote"), [(1, False), (2, True)], ids=["one-commit", "two-commits-push"]
)
def test_bugfix(compare, commits: int, remote: bool) -> None:  # type: ignore[no-untyped-def]
    def scenario(t: Tool) -> None:
        t.flow("bugfix", "start", "b")
        for i in range(commits):
            t.commit(f"b{i}.txt")
        if remote:
            t.flow("bugfix", "publish", "b")
        t.work_finish("bugfix", "b", push=remote)

    _, jfl = compare(scenario, remote=remote)
    assert jfl.repo.branch() == "develop"
    assert not jfl.repo.exists("refs/heads/bugfix/b")


# -- release -----------------------------------------------------------------------------------
def _two_features(t: Tool) -> None:
    t.flow("feature", "start", "a")
    t.commit("a.txt")
    t.work_finish("feature", "a")
    t.flow("feature", "start", "b")
    t.commit("b1.txt")
    t.commit("b2.txt")
    t.work_finish("feature", "b")


RELEASES = {
    "tagged": (False, False, False),
    "no-tag": (False, False, True),
    "published-push": (True, True, False),
    "published-no-push": (True, False, False),
}


@pytest.mark.parametrize("case", list(RELEASES))
def test_release(compare, case: str) -> None:  # type: ignore[no-untyped-def]
    publish, push, no_tag = RELEASES[case]
    remote = publish or push

    def scenario(t: Tool) -> None:
        _two_features(t)
        if remote:
            t.repo.git("push", "--quiet", "origin", "develop")
        t.flow("release", "start", "1.0")
        t.commit("VERSION")
        if publish:
            t.flow("release", "publish", "1.0")
        t.version_finish("release", "1.0", message="Release 1.0", no_tag=no_tag, push=push)

    avh, jfl = compare(scenario, remote=remote)
    repo = jfl.repo
    assert repo.branch() == "develop"
    assert not repo.exists("refs/heads/release/1.0")
    assert repo.exists("refs/tags/1.0") is not no_tag
    # main got a merge commit; develop contains main
    assert _parents(repo, "main") == 2
    assert _is_ancestor(repo, "main", "develop")
    if not no_tag:
        assert repo.git("cat-file", "-t", "1.0") == "tag"
        assert repo.git("cat-file", "tag", "1.0").splitlines()[-1] == "Release 1.0"
        # AVH's bug: the version is appended to the message. jiraflow does not copy it.
        assert avh.repo.git("cat-file", "tag", "1.0").splitlines()[-1] == "Release 1.0 1.0"
    if remote:
        origin = origin_path(repo)
        assert origin is not None
        on_origin = git(origin, "for-each-ref", "--format=%(refname) %(objectname)")
        assert "refs/heads/release/1.0" not in on_origin
        if push:
            for ref in ("refs/heads/develop", "refs/heads/main", "refs/tags/1.0"):
                assert f"{ref} {repo.git('rev-parse', ref)}" in on_origin.splitlines()


# -- hotfix ------------------------------------------------------------------------------------
@pytest.mark.parametrize("remote", [False, True], ids=["local", "origin-push"])
def test_hotfix(compare, remote: bool) -> None:  # type: ignore[no-untyped-def]
    def scenario(t: Tool) -> None:
        _two_features(t)  # develop has moved on, so the back-merge is a real merge
        t.flow("hotfix", "start", "0.9.1")
        t.commit("fix.txt")
        if remote:
            t.flow("hotfix", "publish", "0.9.1")
        t.version_finish("hotfix", "0.9.1", message="Hotfix 0.9.1", push=remote)

    _, jfl = compare(scenario, remote=remote)
    repo = jfl.repo
    assert repo.branch() == "develop"
    assert not repo.exists("refs/heads/hotfix/0.9.1")
    assert repo.git("cat-file", "-t", "0.9.1") == "tag"
    assert _parents(repo, "main") == 2


def test_hotfix_with_an_open_release_differs_on_purpose(twins) -> None:  # type: ignore[no-untyped-def]
    """The one deliberate difference: with a release branch open, AVH merges the hotfix tag
    into develop and leaves the release alone; jiraflow (the original Gitflow model,
    hotfix.into_release) merges it into the release branch and leaves develop alone."""
    avh, jfl = twins(remote=False)
    before = {}
    for t in (avh, jfl):
        _two_features(t)
        t.flow("release", "start", "2.0")
        t.commit("VERSION")
        before[t.name] = graph(t.repo.path, ("refs/heads",))
        t.flow("hotfix", "start", "1.0.1")
        t.commit("fix.txt")
        t.version_finish("hotfix", "1.0.1", message="Hotfix 1.0.1")
    a, j = graph(avh.repo.path, ("refs",)), graph(jfl.repo.path, ("refs",))
    assert before["git flow"] == before["jiraflow"]
    # main and the tag are the same in both
    assert a["refs/heads/main"] == j["refs/heads/main"]
    assert a["refs/tags/1.0.1"] == j["refs/tags/1.0.1"]
    # AVH: develop got the tag, the release branch is untouched
    assert a["refs/heads/release/2.0"] == before["git flow"]["refs/heads/release/2.0"]
    assert a["refs/heads/develop"] != before["git flow"]["refs/heads/develop"]
    assert _is_ancestor(avh.repo, "1.0.1", "develop")
    assert avh.repo.branch() == "develop"
    # jiraflow: the release branch got the tag, develop is untouched
    assert j["refs/heads/develop"] == before["jiraflow"]["refs/heads/develop"]
    assert j["refs/heads/release/2.0"] != before["jiraflow"]["refs/heads/release/2.0"]
    repo = jfl.repo
    assert repo.git("rev-parse", "release/2.0^2") == repo.git("rev-parse", "1.0.1^{commit}")
    assert not _is_ancestor(repo, "1.0.1", "develop")
    # and the release, finished later, brings the fix to develop
    jfl.version_finish("release", "2.0", message="Release 2.0")
    assert _is_ancestor(repo, "1.0.1", "develop")


def _parents(repo: Repo, rev: str) -> int:
    return len(repo.git("rev-list", "--parents", "-n1", rev).split()) - 1


def _is_ancestor(repo: Repo, a: str, b: str) -> bool:
    proc = subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=repo.path, check=False)
    return proc.returncode == 0


# -- a longer history --------------------------------------------------------------------------
@pytest.mark.parametrize("remote", [False, True], ids=["local", "origin-push"])
def test_long_history(compare, remote: bool) -> None:  # type: ignore[no-untyped-def]
    def scenario(t: Tool) -> None:
        t.flow("feature", "start", "one")
        t.commit("one.txt")
        t.work_finish("feature", "one", push=remote)
        t.flow("feature", "start", "two")
        t.commit("two-a.txt")
        t.commit("two-b.txt")
        if remote:
            t.flow("feature", "publish", "two")
        t.work_finish("feature", "two", push=remote)
        t.flow("bugfix", "start", "b")
        t.commit("bug.txt")
        t.work_finish("bugfix", "b", no_ff=True, push=remote)
        t.flow("release", "start", "1.0")
        t.commit("VERSION")
        t.version_finish("release", "1.0", push=remote)
        t.flow("hotfix", "start", "1.0.1")
        t.commit("VERSION")
        t.version_finish("hotfix", "1.0.1", push=remote)
        t.flow("feature", "start", "three")
        t.commit("three.txt")
        t.checkout("develop")
        t.commit("direct.txt")  # develop moves on: even one commit gets a merge
        t.work_finish("feature", "three", push=remote)
        t.flow("release", "start", "1.1")
        t.commit("VERSION")
        t.version_finish("release", "1.1", push=remote)

    _, jfl = compare(scenario, remote=remote)
    repo = jfl.repo
    assert repo.branch() == "develop"
    assert repo.git("tag", "--list").split() == ["1.0", "1.0.1", "1.1"]
    branches = repo.git("for-each-ref", "--format=%(refname:short)", "refs/heads").split()
    assert branches == ["develop", "main"]


def test_release_push_pushes_only_its_own_tag(twins) -> None:  # type: ignore[no-untyped-def]
    """A deliberate difference (docs/avh-differences.md): AVH's `push --tags` also publishes
    every local tag ever made; jiraflow pushes only the tag of the finish."""

    def scenario(t: Tool) -> None:
        t.flow("release", "start", "1.0")
        t.commit("VERSION")
        t.version_finish("release", "1.0")  # finished without --push: 1.0 stays local
        t.flow("release", "start", "1.1")
        t.commit("VERSION")
        t.version_finish("release", "1.1", push=True)

    avh, jfl = twins(remote=True)
    both(lambda is_avh: scenario(avh if is_avh else jfl))
    avh_tags = avh.repo.git("ls-remote", "--tags", "--refs", "origin")
    assert "refs/tags/1.0" in avh_tags and "refs/tags/1.1" in avh_tags
    jf_tags = jfl.repo.git("ls-remote", "--tags", "--refs", "origin")
    assert "refs/tags/1.1" in jf_tags and "refs/tags/1.0" not in jf_tags
