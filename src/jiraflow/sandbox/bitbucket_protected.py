"""Branch permissions of a sandbox repository, enforced where Bitbucket enforces them: a real
``pre-receive`` hook in its bare git repository refuses every push that changes a protected
branch (create, update or delete), with Bitbucket's own words, while the sandbox's own
server-side merge (``git update-ref``, which runs no hook) still moves the branch, exactly as
a pull request merged on Bitbucket does.

Data Center (branch permission "Prevent changes without a pull request") says::

    remote: Branch refs/heads/develop can only be modified through pull requests.
    remote: Check your branch permissions configuration with the project administrator.

Cloud (branch restriction "Write access: nobody", merge via pull request only) says::

    remote: Permission denied to update branch develop.

and git adds ``! [remote rejected] develop -> develop (pre-receive hook declined)``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

_MARK = "# jiraflow sandbox: branch permissions"

_HOOK = """#!{python}
{mark}
import fnmatch
import sys

PATTERNS = {patterns}
CLOUD = {cloud}
refused = False
for line in sys.stdin:
    parts = line.split()
    if len(parts) != 3 or not parts[2].startswith("refs/heads/"):
        continue
    ref = parts[2]
    branch = ref[len("refs/heads/"):]
    if not any(fnmatch.fnmatchcase(branch, p) for p in PATTERNS):
        continue
    refused = True
    if CLOUD:
        print(f"Permission denied to update branch {{branch}}.", file=sys.stderr)
    else:
        print(f"Branch {{ref}} can only be modified through pull requests.", file=sys.stderr)
if refused and not CLOUD:
    print(
        "Check your branch permissions configuration with the project administrator.",
        file=sys.stderr,
    )
sys.exit(1 if refused else 0)
"""


def install_hook(git_dir: Path, branches: Iterable[str], *, cloud: bool) -> Path:
    """Write (or, with no branches, remove) the pre-receive hook that refuses pushes to
    `branches` (names or glob patterns) in the bare repository `git_dir`; returns its path.
    A pre-receive hook that is not the sandbox's own is never overwritten."""
    hooks = git_dir / "hooks"
    hooks.mkdir(exist_ok=True)
    path = hooks / "pre-receive"
    if path.exists() and _MARK not in path.read_text(encoding="utf-8", errors="replace"):
        raise ValueError(f"{path} is not the sandbox's hook: not overwritten")
    patterns = list(branches)
    if not patterns:
        path.unlink(missing_ok=True)
        return path
    text = _HOOK.format(
        python=sys.executable, mark=_MARK, patterns=json.dumps(patterns), cloud=cloud
    )
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o755)
    return path
