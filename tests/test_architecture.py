"""The architecture, as contracts a change cannot break unnoticed (docs/architecture.md).

import-linter checks the contracts in pyproject.toml ([tool.importlinter]): the layers
(cli -> services -> checks -> outbox -> gitflow | jira | bitbucket -> foundation), no cycles
between sibling modules, click only in cli, requests/keyring/jira only in the adapters.
A second check finds every import cycle between modules, imports inside functions included:
a cycle hidden in a function is still a cycle for the reader."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[proc.stdout.find("Contracts") :] + proc.stderr
    assert ", 0 broken." in proc.stdout


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of modules that import each other, directly or round about (Tarjan's
    strongly connected components with more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if not other.startswith("jiraflow"):
                continue
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_about() -> None:
    graph = grimp.build_graph("jiraflow")
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a graph with a cycle is reported."""
    graph = grimp.ImportGraph()
    for name in ("jiraflow", "jiraflow.a", "jiraflow.b", "jiraflow.c"):
        graph.add_module(name)
    graph.add_import(importer="jiraflow.a", imported="jiraflow.b")
    graph.add_import(importer="jiraflow.b", imported="jiraflow.a")
    graph.add_import(importer="jiraflow.c", imported="jiraflow.a")
    assert cycles(graph) == [["jiraflow.a", "jiraflow.b"]]
