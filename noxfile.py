"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s typing`, `nox -s docs`,
`nox -s bench`, `nox -s mutation`."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, in parallel on every core (pytest-xdist; `-- -n 0` runs it in one
    process). Tests needing a system tool skip without it, or fail when CI is set."""
    session.install("-e", ".[test]")
    session.run("pytest", "-n", "auto", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and the architecture's import contracts ([tool.importlinter] in pyproject.toml,
    also run by the test suite: tests/test_architecture.py)."""
    session.install("-e", ".", "ruff", "import-linter")
    session.run("ruff", "check", "src", "tests", "noxfile.py", "benchmarks")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py", "benchmarks")
    session.run("lint-imports", "--no-cache")


@nox.session
def typing(session: nox.Session) -> None:
    session.install("-e", ".", "mypy")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate docs/commands.md from the command line (tests/test_docs.py checks it)."""
    session.install("-e", ".")
    session.run("python", "tests/cmdref.py")


@nox.session
def bench(session: nox.Session) -> None:
    """Time start/finish against git-flow AVH (needs the git-flow package), start-up against
    importing click, commands in a repository of 50,000 commits and 5,000 branches; count
    and time each command's HTTP against the sandbox."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_gitflow.py", *session.posargs)
    session.run("python", "benchmarks/bench_startup.py")
    session.run("python", "benchmarks/bench_scale.py")
    session.run("python", "benchmarks/bench_network.py")


# What `nox -s mutation` mutates ([tool.mutmut] only_mutate), as mutmut names its mutants.
MUTATED = (
    "jiraflow.gitflow.journal",
    "jiraflow.gitflow.finish",
    "jiraflow.gitflow.versions",
    "jiraflow.checks.rules",
    "jiraflow.outbox.box",
    "jiraflow.outbox.actions",
)
SAMPLE = 80  # mutants per module in a sampled run
SEED = 17  # the same sample every run, so a new test shows up as a mutant killed


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing with mutmut ([tool.mutmut] in pyproject.toml) of the finish journal,
    finish, version tags, the checks and the Jira outbox, against the test files that exercise
    them. mutmut makes about 3,500 mutants of these modules, some hours on 2 cores (about 25 a
    minute), so by default it tests a fixed random sample of SAMPLE per module (about 15
    minutes) and prints the score of each module: the share of the sample's mutants some test
    kills. `-- --all` tests every mutant; `-- 'jiraflow.checks.rules.*'` the mutants a mutmut
    name glob matches. The survivors are listed at the end (`mutmut show NAME` shows one).
    Not run by CI."""
    import random
    import re
    from fnmatch import fnmatch

    session.install("-e", ".[test]", "mutmut>=3.8")
    # The tests that run `python -P -m jiraflow` (and the git hooks) import jiraflow from the
    # mutated copy, so a mutant is active in those processes too: mutmut's trampolines read the
    # mutant's name from MUTANT_UNDER_TEST, which they inherit. Only mutmut's first pass, which
    # records which tests call which functions, cannot hear from a subprocess (it would fail
    # there, looking for pyproject.toml in the test's directory): this sitecustomize makes a
    # subprocess run the original code during that pass. mutmut picks a mutant's tests from
    # that pass, so a function only a subprocess reaches has "no tests" (and counts as
    # surviving).
    site = Path(session.create_tmp(), "mutmut-site")
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(
        "import os\n\n"
        'if os.environ.get("MUTANT_UNDER_TEST") == "stats":\n'
        '    os.environ["MUTANT_UNDER_TEST"] = ""\n'
    )
    env = {"PYTHONPATH": os.pathsep.join([str(Path("mutants", "src").resolve()), str(site)])}

    def statuses() -> dict[str, str]:
        out = session.run("mutmut", "results", "--all", "true", env=env, silent=True)
        found = re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", str(out), re.MULTILINE)
        return dict(found)

    if session.posargs and session.posargs != ["--all"]:
        chosen = list(session.posargs)
    elif session.posargs == ["--all"]:
        chosen = [f"{module}.*" for module in MUTATED]
    else:
        # one quick mutant first: mutmut makes every mutant and records which tests call what
        session.run("mutmut", "run", "jiraflow.gitflow.versions.x_parse__mutmut_1", env=env)
        pick = random.Random(SEED)
        chosen = []
        every = sorted(statuses())
        for module in MUTATED:
            names = [n for n in every if n.startswith(module + ".")]
            chosen += pick.sample(names, min(SAMPLE, len(names)))
    session.run("mutmut", "run", *chosen, env=env)
    found = statuses()
    survivors = []
    for module in MUTATED:
        tested = {
            name: status
            for name, status in found.items()
            if name.startswith(module + ".") and any(fnmatch(name, c) for c in chosen)
        }
        dead = ("killed", "timeout", "caught by type check")
        killed = [n for n, s in tested.items() if s in dead]
        survivors += [f"{n}: {s}" for n, s in sorted(tested.items()) if n not in killed]
        if tested:
            share = 100 * len(killed) / len(tested)
            session.log(f"{module}: {len(killed)} of {len(tested)} mutants killed ({share:.1f}%)")
    session.log("not killed:\n" + "\n".join(survivors))
