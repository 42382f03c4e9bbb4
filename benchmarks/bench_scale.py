"""Time jiraflow in a big repository: 50,000 commits and 5,000 branches (Gitflow history).

The repository is made with `git fast-import` (seconds, not minutes) and kept for the next
run under DIR (default: the system's temp directory), with a bare origin and its 5,000
remote-tracking branches. Its history has the shape Gitflow leaves: features of 1-4
commits merged into develop with merge commits, releases merged into main, tagged and merged
back, the odd hotfix; most commit messages name a Jira key (PROJ-n). Of the branches, most
are finished features and bugfixes nobody deleted, a tenth are unmerged work forked from
develop at some point of its history, and a few are old release and support branches.
Refs are packed and a commit-graph written, as `git gc` leaves a repository.

Then each command is timed against a plain git command that reads the same data, with Jira
and Bitbucket not configured (pure local), alternating which runs first; medians are
printed. Target: every jiraflow command stays interactive (under about 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchenv import environment

LAYOUT = 3  # bump when the generated repository changes shape: cached copies are rebuilt
ENV = environment(NO_COLOR="1")
JIRAFLOW = str(Path(sys.executable).parent / "jiraflow")
FEATURES_PER_RELEASE = 40
WORDS = ("login", "form", "cache", "retry", "export", "search", "filter", "report", "audit")


class History:
    """Writes a fast-import stream of a Gitflow history; marks are commit numbers."""

    def __init__(self, out: list[str], rng: random.Random) -> None:
        self.out = out
        self.rng = rng
        self.count = 0
        self.when = 1_600_000_000
        self.develop_marks: list[int] = []  # develop's commits, oldest first
        self.files: dict[str, str] = {}  # contents other than the commit's message

    def commit(self, ref: str, message: str, parents: list[int], path: str = "") -> int:
        """A commit on `ref` changing the file `path` (to its message); its mark."""
        self.count += 1
        self.when += 60
        data = message.encode()
        lines = [
            f"commit {ref}",
            f"mark :{self.count}",
            f"committer Bench <bench@example.com> {self.when} +0000",
            f"data {len(data)}",
            message,
        ]
        if parents:
            lines.append(f"from :{parents[0]}")
            lines += [f"merge :{p}" for p in parents[1:]]
        if path:
            content = self.files.get(path, f"{message}\n")
            lines += [f"M 644 inline {path}", f"data {len(content.encode())}", content]
        self.out.append("\n".join(lines) + "\n")
        return self.count

    def reset(self, ref: str, mark: int) -> None:
        self.out.append(f"reset {ref}\nfrom :{mark}\n\n")

    def tag(self, name: str, mark: int, message: str) -> None:
        data = message.encode()
        self.out.append(
            f"tag {name}\nfrom :{mark}\n"
            f"tagger Bench <bench@example.com> {self.when} +0000\ndata {len(data)}\n{message}\n"
        )

    def path(self) -> str:
        n = self.rng.randrange(600)
        return f"src/mod{n % 40}/file{n}.txt"

    def slug(self) -> str:
        return "-".join(self.rng.sample(WORDS, 2))

    def work(self, key: str, parent: int, commits: int) -> list[int]:
        """The commits of a feature: most name the key, some name another key too, some
        name none (the merge names the branch)."""
        marks = []
        for i in range(commits):
            roll = self.rng.random()
            if roll < 0.7:
                message = f"{key} {self.slug().replace('-', ' ')} step {i + 1}"
            elif roll < 0.8:
                other = f"PROJ-{self.rng.randrange(1, 20000)}"
                message = f"{key} {self.slug().replace('-', ' ')} (see {other})"
            else:
                message = f"Fix {self.slug().replace('-', ' ')}"
            parent = self.commit("refs/scratch/work", message, [parent], self.path())
            marks.append(parent)
        return marks


def generate(commits: int, branches: int, seed: int) -> tuple[str, dict[str, Any]]:
    """The fast-import stream, and facts about it for the timed commands."""
    rng = random.Random(seed)
    out: list[str] = []
    h = History(out, rng)
    h.files[".jiraflow.toml"] = '[gitflow]\nmain = "main"\ndevelop = "develop"\n'
    root = h.commit("refs/heads/main", "Initial commit", [], ".jiraflow.toml")
    develop = h.commit("refs/heads/develop", "Start develop", [root], "README.md")
    main = root
    h.develop_marks.append(develop)
    open_count = branches // 10
    support_count, release_count = 5, 20
    open_commits = open_count * 3
    kept: list[tuple[str, int]] = []  # finished branches nobody deleted
    tags: list[tuple[str, int]] = []
    releases: list[tuple[str, int]] = []  # (version, the release branch's last commit)
    minor, feature_no = 0, 0
    while h.count < commits - open_commits - 4:
        feature_no += 1
        kind = "bugfix" if rng.random() < 0.3 else "feature"
        key = f"PROJ-{feature_no}"
        branch = f"{kind}/{key}-{h.slug()}"
        marks = h.work(key, develop, rng.randint(1, 4))
        kept.append((branch, marks[-1]))
        message = f"Merge branch '{branch}' into develop"
        develop = h.commit("refs/heads/develop", message, [develop, marks[-1]])
        h.develop_marks.append(develop)
        if feature_no % FEATURES_PER_RELEASE == 0:
            minor += 1
            version = f"1.{minor}.0"
            bump = h.commit(
                "refs/scratch/release", f"Bump version to {version}", [develop], "VERSION"
            )
            releases.append((version, bump))
            main = h.commit("refs/heads/main", f"Merge branch 'release/{version}'", [main, bump])
            h.tag(version, main, f"Release {version}")
            tags.append((version, main))
            develop = h.commit(
                "refs/heads/develop", f"Merge tag '{version}' into develop", [develop, main]
            )
            h.develop_marks.append(develop)
        elif feature_no % 97 == 0 and minor:
            version = f"1.{minor}.{feature_no % 7 + 1}"
            if version not in dict(tags):
                fix = h.commit(
                    "refs/scratch/hotfix", f"PROJ-{feature_no} urgent fix", [main], h.path()
                )
                main = h.commit("refs/heads/main", f"Merge branch 'hotfix/{version}'", [main, fix])
                h.tag(version, main, f"Hotfix {version}")
                tags.append((version, main))
                develop = h.commit(
                    "refs/heads/develop", f"Merge tag '{version}' into develop", [develop, main]
                )
                h.develop_marks.append(develop)
    merged = feature_no
    # unmerged work, forked from develop anywhere in its history (most of it recent)
    for i in range(open_count):
        feature_no += 1
        kind = "bugfix" if i % 3 == 0 else "feature"
        key = f"PROJ-{feature_no}"
        at = len(h.develop_marks) - 1 - min(int(rng.expovariate(1 / 300)), len(h.develop_marks) - 1)
        marks = h.work(key, h.develop_marks[at], rng.randint(1, 5))
        h.reset(f"refs/heads/{kind}/{key}-{h.slug()}", marks[-1])
    for version, bump in releases[-release_count:]:
        h.reset(f"refs/heads/release/{version}", bump)
    for version, tagged in tags[-support_count * 8 :: 8][:support_count]:
        h.reset(f"refs/heads/support/{version.rsplit('.', 1)[0]}.x", tagged)
    finished = branches - open_count - min(release_count, len(releases)) - support_count
    for branch, mark in rng.sample(kept, min(finished, len(kept))):
        h.reset(f"refs/heads/{branch}", mark)
    # a feature in progress to stand on for `status` (the newest unmerged one)
    current = f"feature/PROJ-{feature_no + 1}-current"
    mark = h.work(f"PROJ-{feature_no + 1}", develop, 3)[-1]
    h.reset(f"refs/heads/{current}", mark)
    facts = {
        "layout": LAYOUT,
        "commits": h.count,
        "merged": merged,
        "features": feature_no,
        "current": current,
        "tags": [t for t, _ in tags if t.endswith(".0")],
    }
    return "".join(out) + "done\n", facts


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=ENV, input=stdin, check=True, capture_output=True, text=True
    ).stdout


def build(where: Path, commits: int, branches: int, seed: int) -> dict[str, Any]:
    """Make (or reuse) the repository; returns its facts."""
    stamp = where / "facts.json"
    wanted = {"layout": LAYOUT, "asked": [commits, branches, seed]}
    if stamp.exists():
        cached: dict[str, Any] = json.loads(stamp.read_text())
        if all(cached.get(k) == v for k, v in wanted.items()):
            return cached
    if where.exists():
        shutil.rmtree(where)
    repo, origin = where / "repo", where / "origin.git"
    repo.mkdir(parents=True)
    started = time.perf_counter()
    print(f"building {commits} commits and {branches} branches in {where} ...", flush=True)
    git(repo, "init", "-q", "-b", "main")
    stream, facts = generate(commits, branches, seed)
    git(repo, "fast-import", "--quiet", stdin=stream)
    for ref in git(repo, "for-each-ref", "--format=%(refname)", "refs/scratch").split():
        git(repo, "update-ref", "-d", ref)
    git(repo, "clone", "-q", "--bare", str(repo), str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "fetch", "-q", "origin")
    current = str(facts["current"])
    git(repo, "checkout", "-q", current)
    git(repo, "branch", "-q", f"--set-upstream-to=origin/{current}")
    git(repo, "pack-refs", "--all")
    git(repo, "commit-graph", "write", "--reachable")
    facts.update(wanted)
    stamp.write_text(json.dumps(facts))
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    return facts


def timed(cwd: Path, argv: list[str], extra: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env={**ENV, **extra}, capture_output=True, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode not in (0, 1):  # check range exits 1 on a commit without a key
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def tab(program: str, line: str) -> tuple[list[str], dict[str, str]]:
    words = line.split()
    return [program], {
        "_JIRAFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) if line.endswith(" ") else len(words) - 1),
    }


Case = tuple[str, list[str], dict[str, str], list[str]]


def cases(repo: Path, facts: dict[str, Any], program: str) -> list[Case]:
    """(what, jiraflow command, its extra environment, a plain git command reading the same
    data, output captured like `| wc -l`)."""
    last, before = facts["tags"][-1], facts["tags"][-2]
    recent = f"PROJ-{facts['merged'] - 30}"

    def run(what: str, args: list[str], baseline: str) -> Case:
        return (what, [program, *args], {}, baseline.split())

    def size(rev_range: str) -> str:
        return f"{int(git(repo, 'rev-list', '--count', rev_range)):,} commits"

    small, big = "develop~100..develop", "develop~1400..develop"
    notes = f"{before}..{last}"
    chain = repo.parent / "board-chain.toml"  # board needs [[environments]]: a user file
    chain.write_text('[[environments]]\nname = "production"\nbranch = "main"\n')
    board = ["board", "--release", last]
    return [
        run("feature list", ["feature", "list"], "git branch --list feature/*"),
        run("status", ["status"], "git status"),
        ("TAB feature finish", *tab(program, "jiraflow feature finish "), REFS.split()),
        (
            "TAB feature checkout PROJ-1",
            *tab(program, "jiraflow feature checkout PROJ-1"),
            REFS.split(),
        ),
        run("where PROJ-123 (in 1.4.0)", ["where", "PROJ-123"], GREP + "PROJ-123"),
        run(f"where {recent} (recent)", ["where", recent], GREP + recent),
        run("where PROJ-999999 (absent)", ["where", "PROJ-999999"], GREP + "PROJ-999999"),
        run(f"check range ({size(small)})", ["check", "range", small, "--offline"], LOG + small),
        run(f"check range ({size(big)})", ["check", "range", big, "--offline"], LOG + big),
        run(f"release notes ({size(notes)})", ["release", "notes", notes], LOG + notes),
        (
            f"board --release {last} ({size(notes)})",
            [program, *board],
            {"JIRAFLOW_CONFIG": str(chain)},
            (LOG + notes).split(),
        ),
    ]


REFS = "git for-each-ref refs/heads/feature/"
GREP = "git log --all --oneline --grep="
LOG = "git log --oneline "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir", nargs="?", default=tempfile.gettempdir(), help="cache directory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--branches", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", help="time only the commands whose name contains this")
    parser.add_argument(
        "--jiraflow", default=JIRAFLOW, help="the program to time (another build, to compare)"
    )
    args = parser.parse_args()
    where = Path(args.dir) / f"jiraflow-bench-scale-{args.commits}-{args.branches}"
    facts = build(where, args.commits, args.branches, args.seed)
    repo = where / "repo"
    home = where / "home"  # no user config, no issue cache: Jira is not configured
    home.mkdir(exist_ok=True)
    ENV.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache")
    )
    import compileall

    import jiraflow

    compileall.compile_dir(os.path.dirname(jiraflow.__file__), quiet=1)
    refs = len(git(repo, "for-each-ref", "--format=x").split())
    print(f"{facts['commits']} commits, {refs} refs, on {facts['current']}")
    todo = [c for c in cases(repo, facts, args.jiraflow) if not args.only or args.only in c[0]]
    times: dict[str, dict[str, list[float]]] = {c[0]: {"jf": [], "git": []} for c in todo}
    for _name, argv, extra, base in todo:  # warm the page cache; not timed
        timed(repo, argv, extra)
        timed(repo, base, {})
    for i in range(args.rounds):
        for name, argv, extra, base in todo:
            runs = [("jf", argv, extra), ("git", base, {})]
            for who, command, env in runs if i % 2 == 0 else reversed(runs):
                times[name][who].append(timed(repo, command, env))
    heading = f"{'command':<40}{'jiraflow ms':>12}{'git ms':>9}   baseline"
    print(f"{heading}   ({args.rounds} rounds, medians)")
    for name, _argv, _extra, base in todo:
        jf = statistics.median(times[name]["jf"])
        plain = statistics.median(times[name]["git"])
        print(f"{name:<40}{jf:>12.0f}{plain:>9.0f}   {' '.join(base)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
