"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s typing`, `nox -s docs`,
`nox -s bench`."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typing"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (git-flow AVH comparisons skip without the git-flow package)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


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
