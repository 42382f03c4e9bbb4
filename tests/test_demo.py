"""`jiraflow demo`: the README's first command, run as a user runs it."""

from __future__ import annotations

import os
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
    for command in (
        "$ jiraflow feature start PROJ-1",
        "$ git commit",
        "$ jiraflow pr create",
        "$ jiraflow feature finish",
        "$ jiraflow release start 1.1.0",
        "$ jiraflow release finish",
    ):
        assert command in out
    assert 'PROJ-1 "Add login form" is In Progress, assigned to Alice Example' in out
    assert "reviewers: Bob Builder; left out Alice Example (you are the author)" in out
    assert 'PROJ-1 "Add login form" is In Review' in out
    assert 'PROJ-1 "Add login form" is Done' in out
    assert "tags holding its commit: 1.1.0" in out
    assert "main is tagged 1.1.0" in out
    assert "Done in" in out
    assert list(here.iterdir()) == []  # nothing written where it was run
    assert list(scratch.iterdir()) == []  # the temporary repository is gone
    assert tempfile.gettempdir() != str(scratch)  # (this process's own temp dir is untouched)
