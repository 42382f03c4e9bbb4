"""`jiraflow demo`: the README's first command, run as a user runs it."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


@pytest.mark.parametrize("kind", ["cloud", "datacenter"])
def test_demo_walks_the_whole_flow_and_leaves_nothing_behind(tmp_path: Path, kind: str) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    here = tmp_path / "here"
    here.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "jiraflow", "demo", "--kind", kind],
        cwd=here,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    commands = (
        "$ jiraflow init --environments",
        "$ jiraflow feature start PROJ-1",
        "$ git commit --quiet -m 'Add the login form'",
        "$ jiraflow pr create",
        "$ jiraflow pr checks",
        "$ jiraflow pr merge",
        "$ jiraflow release start 1.1.0",
        "$ jiraflow release finish",
        "$ jiraflow promote qa",
        "$ jiraflow board --release 1.1.0",
    )
    places = [out.find(command) for command in commands]
    assert -1 not in places and places == sorted(places), places  # all, in this order
    assert "$ jiraflow feature finish" not in out  # `pr merge` finishes the feature itself
    _assert_checks_and_merge(out)
    assert 'PROJ-1 "Add login form" is In Progress, assigned to Alice Example' in out
    assert "reviewers: Bob Builder; left out Alice Example (you are the author)" in out
    assert 'PROJ-1 "Add login form" is In Review' in out
    assert 'PROJ-1 "Add login form" is Done' in out
    assert "tags holding its commit: 1.1.0" in out
    assert "main is tagged 1.1.0" in out
    _assert_promote_and_board(out, kind)
    assert "Done in" in out
    assert list(here.iterdir()) == []  # nothing written where it was run
    assert list(scratch.iterdir()) == []  # the temporary repository is gone
    assert tempfile.gettempdir() != str(scratch)  # (this process's own temp dir is untouched)


def _section(out: str, command: str) -> str:
    """What `command` printed: its indented lines after its `$ ` line."""
    lines = out[out.index(f"$ {command}\n") :].splitlines()[1:]
    return "\n".join(line for line in itertools.takewhile(lambda x: x.startswith("    "), lines))


def _assert_checks_and_merge(out: str) -> None:
    # CI reported a build on the pull request's head, and `pr checks` shows it green
    head = re.search(r"meanwhile the CI server builds ([0-9a-f]{12}), the pull request's head", out)
    assert head, out
    checks = _section(out, "jiraflow pr checks")
    assert f"Pull request #1 builds on {head[1]}: 1 successful" in checks
    assert re.search(
        r"✓ Shop CI: tests +successful .*https://ci\.example\.com/shop/builds/1", checks
    )
    # the merge command merged the pull request on Bitbucket (nobody else did) ...
    assert "approves pull request #1)" in out and "merges it" not in out
    merge = _section(out, "jiraflow pr merge")
    merged = re.search(r"✓ Bitbucket merged pull request #1 \(.*\): ([0-9a-f]{12})", merge)
    assert merged, merge
    assert "✓ deleted 'feature/PROJ-1-add-login-form' on 'origin'" in merge
    assert "✓ PROJ-1 is Done" in merge
    # ... and the sandbox's pull request is merged with that commit, which develop holds
    assert (
        f"-> Bitbucket: pull request #1 is MERGED; the local develop is at {merged[1]}, "
        "the merge Bitbucket made" in out
    )
    assert "-> no feature branch is left, here or on origin" in out


def _assert_promote_and_board(out: str, kind: str) -> None:
    init = _section(out, "jiraflow init --environments")
    assert "✓ created 'qa' from 'main'" in init and "✓ created 'staging' from 'main'" in init
    # promote qa moved the fix pushed to develop to qa's status, and left the done one alone
    promote = _section(out, "jiraflow promote qa")
    assert "✓ pushed 'qa' to 'origin'" in promote
    assert "PROJ: 1 of 2 issues moved to In QA (qa)" in promote
    assert "PROJ-1 is already Done" in promote
    assert '-> Jira: PROJ-7 "Flaky login test" is In QA' in out
    # the board: one row for the release's issue, a column per environment (and deployment)
    board = _section(out, "jiraflow board --release 1.1.0").splitlines()
    header = board[0].split()
    assert header[:8] == ["Key", "Summary", "Type", "Status", "PR", "qa", "staging", "production"]
    [row] = [line for line in board if line.strip().startswith("PROJ-")]
    cells = re.split(r"\s{2,}", row.strip())
    assert cells[0] == "PROJ-1" and cells[5:8] == ["yes", "no", "yes"], row
    if kind == "cloud":  # Pipelines deployed main to Production
        assert "deployed production" in board[0]
        assert re.match(r"yes \d{4}-\d\d-\d\d$", cells[8]), row
        assert "1 issue: 1 in qa, 0 in staging, 1 deployed to production" in board[-1]
    else:  # Data Center has no Pipelines: no deployment column
        assert "deployed" not in board[0] and len(cells) == 8, row
        assert "no deployment column" in out
        assert "1 issue: 1 in qa, 0 in staging, 1 in production" in board[-1]
