"""Starting jiraflow again as a process of its own (the demo's commands, TAB's refresher; the
git hooks do the same in sh, see jiraflow.checks.hooks), so that no Python file of the user's
repository runs in it.

These processes run in a work tree, and `python -m jiraflow` puts the current directory first
on sys.path: a `typing.py` or `json.py` committed there would be imported instead of the
standard library's, a `jiraflow/` instead of jiraflow. `-P` (Python 3.11) leaves the directory
off. An empty or relative entry of PYTHONPATH means the current directory too (`export
PYTHONPATH=$PYTHONPATH:/opt/lib` with none set before makes one), so only absolute entries are
passed on. Imports nothing beyond os and sys: TAB starts the refresher.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# the interpreter's flags and module: `python -P -m jiraflow ARGS...`
FLAGS = ("-P", "-m", "jiraflow")


def command(*args: str) -> list[str]:
    """The argv that runs `jiraflow ARGS...` with the Python running now."""
    return [sys.executable, *FLAGS, *args]


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with PYTHONPATH's empty and relative entries left out (and PYTHONPATH
    itself when none is left)."""
    env = dict(environ)
    value = env.pop("PYTHONPATH", "")
    kept = [entry for entry in value.split(os.pathsep) if os.path.isabs(entry)]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    return env
