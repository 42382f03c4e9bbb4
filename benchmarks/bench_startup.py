"""Time jiraflow's start-up against `python -c "import click"` in the same environment.

Every TAB press runs jiraflow once, so start-up is what completion feels like. Each round
runs every command once, in an order that alternates between rounds, inside one small
Gitflow repository (a few feature branches, for the completion of `feature finish`).
Prints the median of each command and its ratio to importing click (target: 1.3 or less).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchenv import environment

ENV = environment()
PYTHON = sys.executable
JIRAFLOW = str(Path(sys.executable).parent / "jiraflow")


def complete(line: str) -> tuple[list[str], dict[str, str]]:
    """The environment bash's completion function gives jiraflow for `line` + TAB."""
    words = line.split()
    return [JIRAFLOW], {
        "_JIRAFLOW_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) if line.endswith(" ") else len(words) - 1),
    }


BASELINE = "python -c 'import click'"
COMMANDS: dict[str, tuple[list[str], dict[str, str]]] = {
    BASELINE: ([PYTHON, "-c", "import click"], {}),
    "jiraflow --help": ([JIRAFLOW, "--help"], {}),
    "jiraflow feature --help": ([JIRAFLOW, "feature", "--help"], {}),
    "TAB: feature finish ": complete("jiraflow feature finish "),
    "TAB: feature start ": complete("jiraflow feature start "),
    "jiraflow --version": ([JIRAFLOW, "--version"], {}),
}


def sh(cwd: Path, *args: str) -> str:
    return subprocess.run(args, cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def timed(cwd: Path, argv: list[str], extra: dict[str, str]) -> float:
    env = {**ENV, **extra}
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def make_repo(root: Path, branches: int) -> Path:
    path = root / "repo"
    path.mkdir()
    sh(path, "git", "init", "-q", "-b", "main")
    sh(path, "git", "commit", "-q", "--allow-empty", "-m", "init")
    sh(path, JIRAFLOW, "init", "--defaults")
    for i in range(branches):
        sh(path, "git", "branch", f"feature/PROJ-{i + 1}-work-{i}", "develop")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--branches", type=int, default=5, help="feature branches to complete")
    args = parser.parse_args()
    import compileall

    import jiraflow

    compileall.compile_dir(os.path.dirname(jiraflow.__file__), quiet=1)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"  # no user config and no issue cache: Jira not configured
        ENV.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
        ENV.update(XDG_CACHE_HOME=str(home / "cache"))
        repo = make_repo(Path(tmp), args.branches)
        argv, extra = COMMANDS["TAB: feature finish "]
        offered = subprocess.run(argv, cwd=repo, env={**ENV, **extra}, capture_output=True)
        print(
            "TAB: feature finish offers:",
            [line.split(",", 1)[-1] for line in offered.stdout.decode().splitlines()],
        )
        for argv, extra in COMMANDS.values():  # warm the page cache; not timed
            timed(repo, argv, extra)
        names = list(COMMANDS)
        for i in range(args.rounds):
            for name in names if i % 2 == 0 else reversed(names):
                argv, extra = COMMANDS[name]
                times[name].append(timed(repo, argv, extra))
    base = statistics.median(times[BASELINE])
    print(f"{'command':<28}{'ms':>8}{'ratio':>8}   ({args.rounds} rounds, medians)")
    for name in COMMANDS:
        ms = statistics.median(times[name])
        print(f"{name:<28}{ms:>8.1f}{ms / base:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
