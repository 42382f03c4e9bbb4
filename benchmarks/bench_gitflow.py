"""Time jiraflow against git-flow AVH: feature and release start/finish in fresh repositories.

Each round makes two identical fresh repositories and runs the same operation with
each tool, alternating which goes first, so that neither gets a warmer cache.
Prints the median of each operation and the jiraflow/AVH ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchenv import environment

ENV = environment(GIT_MERGE_AUTOEDIT="no", GIT_EDITOR="true")
JIRAFLOW = [str(Path(sys.executable).parent / "jiraflow")]


def sh(cwd: Path, *args: str) -> None:
    subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True)


def timed(cwd: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def fresh(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    sh(path, "git", "init", "-q", "-b", "main")
    sh(path, "git", "commit", "-q", "--allow-empty", "-m", "init")
    sh(path, "git", "flow", "init", "-d")
    return path


def commit(path: Path, name: str) -> None:
    (path / name).write_text(name)
    sh(path, "git", "add", name)
    sh(path, "git", "commit", "-q", "-m", name)


TOOLS = {
    "avh": {
        "feature start": ["git", "flow", "feature", "start", "x"],
        "feature finish": ["git", "flow", "feature", "finish", "x"],
        "release start": ["git", "flow", "release", "start", "1.0"],
        "release finish": ["git", "flow", "release", "finish", "-m", "Release 1.0", "1.0"],
    },
    "jiraflow": {
        "feature start": [*JIRAFLOW, "feature", "start", "x"],
        "feature finish": [*JIRAFLOW, "feature", "finish", "x"],
        "release start": [*JIRAFLOW, "release", "start", "1.0"],
        "release finish": [*JIRAFLOW, "release", "finish", "1.0"],
    },
}


def round_(root: Path, tool: str, times: dict[tuple[str, str], list[float]], commits: int) -> None:
    repo = fresh(root, tool)
    ops = TOOLS[tool]
    times[(tool, "feature start")].append(timed(repo, *ops["feature start"]))
    for i in range(commits):
        commit(repo, f"f{i}")
    times[(tool, "feature finish")].append(timed(repo, *ops["feature finish"]))
    times[(tool, "release start")].append(timed(repo, *ops["release start"]))
    commit(repo, "r")
    times[(tool, "release finish")].append(timed(repo, *ops["release finish"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--commits", type=int, default=1, help="commits on the feature")
    args = parser.parse_args()
    if shutil.which("git-flow") is None:
        print("git-flow (AVH) is not installed: apt-get install git-flow", file=sys.stderr)
        return 2
    import compileall

    import jiraflow

    compileall.compile_dir(os.path.dirname(jiraflow.__file__), quiet=1)
    times: dict[tuple[str, str], list[float]] = {
        (tool, op): [] for tool in TOOLS for op in TOOLS["avh"]
    }
    for i in range(args.rounds):
        order = ["avh", "jiraflow"] if i % 2 == 0 else ["jiraflow", "avh"]
        for tool in order:
            with tempfile.TemporaryDirectory() as tmp:
                round_(Path(tmp), tool, times, args.commits)
    print(
        f"{'operation':<16}{'AVH ms':>9}{'jiraflow ms':>13}{'ratio':>8}"
        f"   ({args.rounds} rounds, medians)"
    )
    for op in TOOLS["avh"]:
        avh = statistics.median(times[("avh", op)])
        jf = statistics.median(times[("jiraflow", op)])
        print(f"{op:<16}{avh:>9.1f}{jf:>13.1f}{jf / avh:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
