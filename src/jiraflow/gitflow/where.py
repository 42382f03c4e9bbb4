"""Where an issue is: which long-lived branches (develop, main, the environment branches of
[[environments]] or of the old `where.environments`), open release and hotfix branches and
version tags hold the commits of an issue key. From git alone, so it answers offline; the
CLI adds Jira and Bitbucket.

An issue's commits are
* the commits whose message names the key as a whole key (PROJ-12, not PROJ-123 or XPROJ-12),
* the commits a merge of a branch named with the key brought in ("Merge branch
  'feature/PROJ-12-x' into develop", Bitbucket's "Merged in feature/PROJ-12-x (pull request
  #3)"), which finds the work of a finished and deleted feature whose commits do not name it,
* the commits of live branches named with the key (local and remote-tracking) that their
  base does not have.
Merge commits are not counted themselves: they carry no change of their own. A commit that
stands for others (a squash naming the branch or listing the commits it squashed, a
cherry-pick recording its origin with -x) is one change with them: a branch has the change
when it has that commit, or all of the others.

Containment is one walk of history from the refs of interest down to the oldest common
ancestor of the issue's commits, propagating bit sets of the commits each reaches: thousands
of tags cost one `git rev-list`, not one `git branch --contains` per commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from jiraflow.git import BRANCHES, REMOTES, TAGS, GitRepo, branch_of, branch_ref, remote_ref
from jiraflow.gitflow import versions
from jiraflow.gitflow.context import FlowContext
from jiraflow.keys import mentions

ALL, SOME, NONE, MISSING = "all", "some", "none", "missing"

# The branch a merge (or a squash made by a server) brought in, by the message it wrote.
_MERGED_BRANCH = (
    re.compile(r"^Merge (?:remote-tracking )?branch '([^']+)'", re.M),  # git, GitLab
    re.compile(r"^Merged in (\S+) \(pull request #\d+\)", re.M),  # Bitbucket Cloud
    re.compile(r"^Merge in \S+ from (\S+) to \S+", re.M),  # Bitbucket Data Center squash
    re.compile(r"^Merge pull request #\d+ (?:in \S+ )?from (\S+)", re.M),  # DC, GitHub
)
# Commits a commit says it stands for: `git merge --squash` lists them as "commit <sha>",
# Bitbucket Data Center as "* commit '<sha>':", `git cherry-pick -x` adds its origin.
_STANDS_FOR = (
    re.compile(r"^(?:\* )?commit '?([0-9a-f]{7,40})\b", re.M),
    re.compile(r"\(cherry picked from commit ([0-9a-f]{7,40})\)"),
)
_FIELD = "\x1f"


def merged_branch(message: str, remotes: list[str] | tuple[str, ...] = ()) -> str | None:
    """The branch a merge message says was merged, without a remote's name in front."""
    found = [m for m in (p.search(message) for p in _MERGED_BRANCH) if m]
    if not found:
        return None
    name = min(found, key=lambda m: m.start()).group(1)
    name = branch_of(name)
    for remote in sorted(remotes, key=len, reverse=True):
        if name.startswith(remote + "/"):
            return name[len(remote) + 1 :]
    return name


def stands_for(message: str) -> list[str]:
    """The (maybe abbreviated) commit names a squash or cherry-pick message lists."""
    return [m.group(1) for pattern in _STANDS_FOR for m in pattern.finditer(message)]


# -- the answer --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One change of the issue: a commit, with the commits that are the same change."""

    sha: str
    subject: str
    same: tuple[str, ...] = ()  # squashed originals, cherry-picks, the squash itself

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "subject": self.subject, "same_as": list(self.same)}


@dataclass(frozen=True)
class Place:
    """A branch or tag, and which of the issue's changes it has."""

    name: str  # develop, origin/develop, qa, release/1.6.0, 1.5.0
    ref: str | None  # None: a configured branch that exists neither locally nor remotely
    role: str  # develop, main, environment, release, hotfix, tag
    contains: int = 0
    total: int = 0
    missing: tuple[str, ...] = ()  # the changes it lacks (their sha)
    remote_of: str | None = None  # the remote copy of this local branch
    version: str | None = None  # tags: the version
    environment: str | None = None  # environment branches: the environment's name

    @property
    def label(self) -> str:
        """The name shown: an environment's name with its branch when they differ
        ("production (main)")."""
        if self.environment and self.environment != self.name:
            return f"{self.environment} ({self.name})"
        return self.name

    @property
    def state(self) -> str:
        if self.ref is None:
            return MISSING
        if self.total and self.contains == self.total:
            return ALL
        return SOME if self.contains else NONE

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "ref": self.ref,
            "role": self.role,
            "state": self.state,
            "contains": self.contains,
            "total": self.total,
            "missing": list(self.missing),
        }
        if self.role == "tag":
            data["version"] = self.version
        else:
            data["remote_of"] = self.remote_of
        if self.role == "environment":
            data["environment"] = self.environment
        return data


@dataclass
class Whereabouts:
    key: str
    develop: str  # the develop branch's name
    changes: list[Change] = field(default_factory=list)
    branches: list[Place] = field(default_factory=list)
    tags: list[Place] = field(default_factory=list)  # holding some change, lowest first
    work_branches: list[str] = field(default_factory=list)  # named with the key
    pr_branches: list[str] = field(default_factory=list)  # whose pull request is the issue's

    @property
    def released_in(self) -> str | None:
        """The lowest version tag that has every change."""
        return next((t.name for t in self.tags if t.state == ALL), None)

    @property
    def partly_released_in(self) -> str | None:
        """The lowest version tag with some of the changes, when it is below `released_in`."""
        first = self.tags[0].name if self.tags else None
        return first if first != self.released_in else None

    @property
    def open_releases(self) -> list[str]:
        """Open release and hotfix branches that have every change (locally or remotely)."""
        names = [
            b.remote_of or b.name
            for b in self.branches
            if b.role in ("release", "hotfix") and b.state == ALL
        ]
        return list(dict.fromkeys(names))

    def best(self, role: str) -> Place | None:
        """The copy of develop or main (local or the remote's) with most of the issue."""
        rank = {ALL: 3, SOME: 2, NONE: 1, MISSING: 0}
        rows = [b for b in self.branches if b.role == role]
        return max(rows, key=lambda b: (rank[b.state], b.contains), default=None)

    @property
    def verdict(self) -> str:
        """The answer in a few words: released, waiting in a release, on develop... and the
        environments that have all of it when it is not released."""
        if not self.changes:
            return "not named in any commit message or branch name"
        released, partly = self.released_in, self.partly_released_in
        if released:
            return f"released in {released}" + (f" (partly in {partly})" if partly else "")
        develop, main = self.best("develop"), self.best("main")
        also = f" (partly in {partly})" if partly else ""
        if self.open_releases:
            answer = f"in {', '.join(self.open_releases)}, not released yet{also}"
        elif main is not None and main.state == ALL:
            answer = f"on {main.name}, not in a version tag yet{also}"
        elif develop is not None and develop.state == ALL:
            answer = f"on {develop.name}, not in a release yet{also}"
        elif partly:
            answer = f"partly released in {partly}"
        elif develop is not None and develop.state == SOME:
            answer = f"partly on {develop.name}"
        else:
            answer = f"not merged into {self.develop} yet"
        deployed = [b.label for b in self.branches if b.role == "environment" and b.state == ALL]
        return answer + (f"; all of it on {', '.join(deployed)}" if deployed else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "verdict": self.verdict,
            "commits": [c.to_json() for c in self.changes],
            "branches": [b.to_json() for b in self.branches],
            "tags": [t.to_json() for t in self.tags],
            "released_in": self.released_in,
            "partly_released_in": self.partly_released_in,
            "open_releases": self.open_releases,
            "work_branches": list(self.work_branches),
        }


# -- finding it --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Ref:
    name: str
    commit: str  # the commit it points at (tags peeled)


def locate(flow: FlowContext, key: str) -> Whereabouts:
    """Where the commits of issue `key` (already a valid key) are."""
    repo, model = flow.repo, flow.model
    remotes = repo.remotes()
    refs = _commit_refs(repo)
    found = Whereabouts(key, model.develop)

    messages, subjects, times, merges = _mentioning(repo, key)
    commits = set(messages)
    work: dict[str, list[str]] = {}  # work branch name -> its local and remote refs
    for name in sorted(refs, key=lambda r: (not r.startswith(BRANCHES), r)):
        if key not in name:  # most of thousands of refs, cheaply
            continue
        short = _branch_name(name, remotes)
        if short is not None and mentions(short, key):
            work.setdefault(short, []).append(name)
            found.work_branches.append(name.split("/", 2)[2])
    branch_commits = {
        short: _branch_only(flow, short, names, refs) for short, names in work.items()
    }
    for shas in branch_commits.values():
        commits |= shas
    merged_from = []
    for sha, message in [*merges, *messages.items()]:
        source = merged_branch(message, remotes)
        if source is None or not mentions(source, key):
            continue
        merged_from.append((times[sha], source))
        if sha not in messages:  # a merge: the work it brought in
            commits |= _merged_in(repo, sha)
    newest_first = [source for _, source in sorted(merged_from, key=lambda m: -m[0])]
    found.pr_branches = list(dict.fromkeys([*work, *newest_first]))
    if not commits:
        return found

    _describe(repo, commits - set(subjects), subjects)
    bits = {sha: 1 << i for i, sha in enumerate(sorted(commits))}
    places = _places_of_interest(flow, refs)
    tags = _version_tags(refs, model.tag_prefix)
    tips = {refs[p.ref].commit for p in places if p.ref} | {ref.commit for _, ref in tags}
    tips |= {refs[name].commit for names in work.values() for name in names}
    reach, order = _reach(repo, tips, bits)
    changes = _changes(commits, messages, branch_commits, remotes, key, order, subjects)
    tests = [
        (c.sha, _mask(stands, bits), _mask(originals, bits)) for c, stands, originals in changes
    ]
    found.changes = [c for c, _, _ in changes]

    def held(place: Place, commit: str) -> Place:
        mask = reach.get(commit, 0)
        missing = tuple(
            sha for sha, stands, need in tests if not (mask & stands or mask & need == need != 0)
        )
        count = len(tests) - len(missing)
        return replace(place, contains=count, total=len(tests), missing=missing)

    found.branches = [held(p, refs[p.ref].commit) if p.ref else p for p in places]
    for version, ref in tags:
        tag = held(Place(ref.name[len(TAGS) :], ref.name, "tag", version=version), ref.commit)
        if tag.contains:
            found.tags.append(tag)
    return found


def _mask(shas: set[str], bits: dict[str, int]) -> int:
    mask = 0
    for sha in shas:
        mask |= bits[sha]
    return mask


def _commit_refs(repo: GitRepo) -> dict[str, _Ref]:
    """Branches, remote-tracking branches and tags that point at commits (tags peeled).
    Only tags are asked what they point at: asking it of every branch reads each one's
    commit (60 ms in a repository with 10,000 branches)."""
    fmt = "%00".join(["%(refname)", "%(objecttype)", "%(objectname)"])
    peel = "%00".join([fmt, "%(*objecttype)", "%(*objectname)"])
    text = repo.run("for-each-ref", f"--format={fmt}", BRANCHES, REMOTES).stdout
    text += repo.run("for-each-ref", f"--format={peel}", TAGS).stdout
    refs = {}
    for line in text.split("\n"):
        if not line:
            continue
        name, kind, sha, *peeled = line.split("\0")
        if kind == "commit":
            refs[name] = _Ref(name, sha)
        elif kind == "tag" and peeled[0] == "commit":
            refs[name] = _Ref(name, peeled[1])
    return refs


def _branch_name(ref: str, remotes: list[str]) -> str | None:
    """The branch name of a local or remote-tracking ref (no remote in front)."""
    if ref.startswith(BRANCHES):
        return ref[len(BRANCHES) :]
    if ref.startswith(REMOTES):
        rest = ref[len(REMOTES) :]
        for remote in sorted(remotes, key=len, reverse=True):
            if rest.startswith(remote + "/"):
                name = rest[len(remote) + 1 :]
                return None if name == "HEAD" else name
        remote, _, name = rest.partition("/")
        return name if name and name != "HEAD" else None
    return None


def _places_of_interest(flow: FlowContext, refs: dict[str, _Ref]) -> list[Place]:
    """develop and main (local, and the remote's copy), each environment branch in promotion
    order (the remote's copy when there is one: that is what was deployed; named after the
    environment of [[environments]]), open releases and hotfixes."""
    model = flow.model
    remote = model.remote
    places: list[Place] = []

    def local_and_remote(name: str, role: str, *, always: bool) -> None:
        local, theirs = branch_ref(name), remote_ref(remote, name)
        if local in refs:
            places.append(Place(name, local, role))
        if theirs in refs:
            places.append(
                Place(f"{remote}/{name}", theirs, role, remote_of=name if local in refs else None)
            )
        if always and local not in refs and theirs not in refs:
            places.append(Place(name, None, role))

    local_and_remote(model.develop, "develop", always=True)
    if model.main != model.develop:
        local_and_remote(model.main, "main", always=True)
    for environment in flow.config.environment_branches():
        env = environment.branch
        if env.startswith("refs/"):
            ref: str | None = env if env in refs else None
        else:
            theirs, local = remote_ref(remote, env), branch_ref(env)
            ref = theirs if theirs in refs else local if local in refs else None
        places.append(Place(env, ref, "environment", environment=environment.name))
    for kind in ("release", "hotfix"):
        prefix = model.prefixes[kind]
        if not prefix:
            continue
        names = {
            _branch_name(ref, [remote]) or ""
            for ref in refs
            if ref.startswith((branch_ref(prefix), remote_ref(remote, prefix)))
        }
        for name in sorted(names, key=lambda n: _version_order(n[len(prefix) :])):
            local_and_remote(name, kind, always=False)
    return places


def _version_order(text: str) -> tuple[int, Any, str]:
    version = versions.parse(text)
    return (0, version, text) if version is not None else (1, None, text)


def _version_tags(refs: dict[str, _Ref], prefix: str) -> list[tuple[str, _Ref]]:
    """(version, ref) of the release tags (versions.tag_version), lowest version first."""
    found = []
    for name, ref in refs.items():
        if name.startswith(TAGS):
            version = versions.tag_version(name[len(TAGS) :], prefix)
            if version is not None:
                found.append((version, ref))
    found.sort(key=lambda pair: pair[0])
    return [(str(version), ref) for version, ref in found]


def _mentioning(
    repo: GitRepo, key: str
) -> tuple[dict[str, str], dict[str, str], dict[str, int], list[tuple[str, str]]]:
    """Commits of any branch or tag whose message names the key: the non-merge ones
    (sha -> message), every one's subject and commit time, and the merges (sha, message).
    git looks for the key as a fixed string (a regex costs 15% more over 50,000 messages);
    `mentions` then drops the commits that name PROJ-123 when asked for PROJ-12."""
    fmt = f"--format=%H{_FIELD}%P{_FIELD}%ct{_FIELD}%B"
    text = repo.run(
        "log",
        "-z",
        "--branches",
        "--remotes",
        "--tags",
        "--no-show-signature",
        "--no-color",
        "-F",
        f"--grep={key}",
        fmt,
        check=False,
    ).stdout
    messages: dict[str, str] = {}
    subjects: dict[str, str] = {}
    times: dict[str, int] = {}
    merges: list[tuple[str, str]] = []
    for record in text.split("\0"):
        if not record:
            continue
        sha, parents, when, message = record.split(_FIELD, 3)
        message = message.strip("\n")
        if not mentions(message, key):  # git's search is the prefilter; this is the rule
            continue
        subjects[sha] = message.split("\n", 1)[0]
        times[sha] = int(when or 0)
        if len(parents.split()) > 1:
            merges.append((sha, message))
        else:
            messages[sha] = message
    return messages, subjects, times, merges


def _branch_only(
    flow: FlowContext, short: str, branch_refs: list[str], refs: dict[str, _Ref]
) -> set[str]:
    """The non-merge commits of a work branch (local and remote copies) that its base lacks;
    none when the base exists nowhere (what is the branch's own work cannot be told)."""
    model = flow.model
    parsed = model.parse(short)
    base = flow.base_of(short, parsed[0]) if parsed else model.develop
    bases = [
        ref
        for ref in (branch_ref(base), remote_ref(model.remote, base))
        if ref in refs and ref not in branch_refs
    ]
    if not bases:
        return set()
    text = flow.repo.out("rev-list", "--no-merges", *branch_refs, "--not", *bases)
    return set(text.split())


def _merged_in(repo: GitRepo, merge: str) -> set[str]:
    """The non-merge commits a merge brought in: its other parents' that the first lacks."""
    parents = repo.out("rev-parse", f"{merge}^@").split()
    if len(parents) < 2:
        return set()
    return set(repo.out("rev-list", "--no-merges", *parents[1:], "--not", parents[0]).split())


def _describe(repo: GitRepo, shas: set[str], subjects: dict[str, str]) -> None:
    """Subjects of the commits not found by their message."""
    if not shas:
        return
    text = repo.run(
        "log",
        "--no-walk=unsorted",
        "--stdin",
        "--no-show-signature",
        "--no-color",
        "--format=%H%x00%s",
        input="\n".join(sorted(shas)) + "\n",
    ).stdout
    for line in text.split("\n"):
        if line:
            sha, subject = line.split("\0", 1)
            subjects[sha] = subject


def _changes(
    commits: set[str],
    messages: dict[str, str],
    branch_commits: dict[str, set[str]],
    remotes: list[str],
    key: str,
    order: dict[str, int],
    subjects: dict[str, str],
) -> list[tuple[Change, set[str], set[str]]]:
    """The issue's changes, parents before children, each with the commits that stand for the others
    (a squash, a cherry-pick) and the others. A commit with no such company is its own
    original: a branch has the change when it has a standing commit or every original."""
    parent = {sha: sha for sha in commits}

    def root(sha: str) -> str:
        while parent[sha] != sha:
            parent[sha] = parent[parent[sha]]
            sha = parent[sha]
        return sha

    standing: set[str] = set()
    ordered = sorted(commits)
    for sha, message in messages.items():
        same: set[str] = set()
        for name in stands_for(message):
            same |= {c for c in ordered if c.startswith(name) and c != sha}
        source = merged_branch(message, remotes)
        if source is not None and mentions(source, key):
            same |= branch_commits.get(source, set()) - {sha}
        if same:
            standing.add(sha)
        for other in same:
            parent[root(other)] = root(sha)
    groups: dict[str, set[str]] = {}
    for sha in commits:
        groups.setdefault(root(sha), set()).add(sha)

    def age(sha: str) -> tuple[int, str]:
        return order.get(sha, len(order)), sha

    changes = []
    for members in groups.values():
        stands = members & standing if len(members) > 1 else set()
        originals = members - stands
        shown = min(stands or members, key=age)
        same_as = tuple(sorted(members - {shown}, key=age))
        changes.append((Change(shown, subjects.get(shown, ""), same_as), stands, originals))
    changes.sort(key=lambda c: age(c[0].sha))
    return changes


def _reach(
    repo: GitRepo, tips: set[str], bits: dict[str, int]
) -> tuple[dict[str, int], dict[str, int]]:
    """For each commit down from `tips`, the bit set of the commits of `bits` it reaches
    (left out when empty), and the commits of `bits` met, numbered parents first. One walk
    down to the parents of their common ancestor, children before parents, read backwards."""
    if not tips or not bits:
        return {}, {}
    proc = repo.run("merge-base", "--octopus", *sorted(bits), check=False)
    base = proc.stdout.split()
    stop = repo.out("rev-parse", f"{base[0]}^@").split() if base else []
    revs = [*sorted(tips), *(f"^{sha}" for sha in stop)]
    text = repo.run(
        "rev-list", "--topo-order", "--parents", "--stdin", input="\n".join(revs) + "\n"
    ).stdout
    reach: dict[str, int] = {}
    order: dict[str, int] = {}
    for line in reversed(text.split("\n")):
        if not line:
            continue
        sha, *parents = line.split()
        mask = bits.get(sha, 0)
        if mask:
            order[sha] = len(order)
        for p in parents:
            mask |= reach.get(p, 0)
        if mask:
            reach[sha] = mask
    return reach, order
