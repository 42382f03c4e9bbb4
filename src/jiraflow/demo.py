"""`jiraflow demo`: the whole flow, for real, in a temporary directory.

A sandbox Jira and Bitbucket run on 127.0.0.1 in this process; a repository with a bare
origin is made in a temporary directory; then real `jiraflow` commands run in it, one process
each, exactly as a user would type them. Between the commands, the demo reads the sandboxes'
state to show what each command did in Jira and Bitbucket, and plays the others' part in the
sandbox: the CI server that reports a build on the pull request, the colleague who approves
it. It ends with the release manager's half: `promote qa` and the `board`. Nothing is
written where the demo is run (HOME and the config and cache directories point
into the temporary directory, the keyring is not used) and nothing is left running or lying
around afterwards.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jiraflow import relaunch
from jiraflow.errors import JiraflowError

ISSUE = "PROJ-1"
VERSION = "1.1.0"
BUILD, BUILD_KEY = "Shop CI: tests", "shop-ci"
BUILD_URL = "https://ci.example.com/shop/builds/1"
QA_STATUS = "In QA"
FIX = "PROJ-7"  # a colleague's fix, committed straight on develop after the release
#: The environments, in promotion order, each with its status in the sandbox's workflow;
#: production is main, deployed by Pipelines on Cloud (Data Center has no Pipelines: its
#: chain has no deployment line).
CHAIN = """
[[environments]]
name = "qa"
branch = "qa"
jira = "In QA"

[[environments]]
name = "staging"
branch = "staging"
jira = "Ready for Release"

[[environments]]
name = "production"
branch = "main"
jira = "category:done"
deployment = "Production"
"""
Printer = Callable[[str], None]
REPORT = "This is a bug in jiraflow: please report it with the output above."


class DemoFailed(JiraflowError):
    """A step of the demo did not do what it should (a bug: please report it)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint or REPORT)


@dataclass
class Demo:
    root: str  # the temporary directory
    work: str  # the repository
    env: dict[str, str]
    jira: Any  # JiraSandbox
    bitbucket: Any  # BitbucketSandbox
    out: Printer

    def jiraflow(self, *args: str) -> str:
        """Run `jiraflow ARGS` in the repository, as its own process, and show it."""
        self.out(f"$ jiraflow {shlex.join(args)}")
        proc = subprocess.run(
            relaunch.command("--no-color", *args),  # no module of the work tree's runs
            cwd=self.work,
            env=relaunch.environment(self.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # in the order a terminal shows them
            text=True,
            check=False,
        )
        for line in proc.stdout.splitlines():
            self.out(f"    {line}")
        if proc.returncode != 0:
            raise DemoFailed(f"`jiraflow {' '.join(args)}` exited {proc.returncode} in the demo")
        return proc.stdout

    def git(self, *args: str, show: bool = False) -> str:
        if show:
            self.out(f"$ git {shlex.join(args)}")
        proc = subprocess.run(
            ["git", *args], cwd=self.work, env=self.env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise DemoFailed(f"`git {' '.join(args)}` failed in the demo: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def effect(self, text: str) -> None:
        self.out(f"  -> {text}")

    def issue_line(self, key: str = ISSUE) -> str:
        issue = self.jira.issue(key)
        who = self.jira.user(issue["assignee"])["displayName"] if issue["assignee"] else "nobody"
        return f'Jira: {key} "{issue["summary"]}" is {issue["status"]}, assigned to {who}'


def run(kind: str, out: Printer) -> float:
    """Walk the whole flow against the sandboxes of `kind`; returns the seconds it took."""
    began = time.monotonic()
    with _sandboxes(kind) as (jira, bitbucket), _scratch() as root:
        demo = _setup(root, kind, jira, bitbucket, out)
        _walk(demo)
    return time.monotonic() - began


@contextmanager
def _sandboxes(kind: str) -> Iterator[tuple[Any, Any]]:
    from jiraflow.sandbox.bitbucket import BitbucketSandbox
    from jiraflow.sandbox.jira import JiraSandbox

    jira, bitbucket = JiraSandbox(kind), BitbucketSandbox(kind)
    try:
        jira.start()
        bitbucket.start()
        yield jira, bitbucket
    finally:
        bitbucket.stop()
        jira.stop()


@contextmanager
def _scratch() -> Iterator[str]:
    root = tempfile.mkdtemp(prefix="jiraflow-demo-")
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _environment(root: str, jira: Any, bitbucket: Any) -> dict[str, str]:
    """The commands' environment: the user's, minus their jiraflow and git settings, with
    home, config and cache in the scratch directory and the sandboxes' credentials."""
    home = os.path.join(root, "home")
    os.makedirs(home)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("JIRAFLOW_", "GIT_"))}
    gitconfig = os.path.join(home, ".gitconfig")
    with open(gitconfig, "w", encoding="utf-8") as fh:
        fh.write("[user]\n\tname = Alice Example\n\temail = alice@example.com\n")
        fh.write("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    me = jira.me
    login = me["email"] if jira.flavour == "cloud" else me["name"]
    return keep | {
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "GIT_CONFIG_GLOBAL": gitconfig,
        "GIT_CONFIG_NOSYSTEM": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "NO_COLOR": "1",
        "JIRAFLOW_JIRA_URL": jira.url,
        "JIRAFLOW_JIRA_USER": login,
        "JIRAFLOW_JIRA_TOKEN": jira.token(),
        "JIRAFLOW_BITBUCKET_URL": bitbucket.api_url,
        "JIRAFLOW_BITBUCKET_USER": bitbucket.login(),
        "JIRAFLOW_BITBUCKET_TOKEN": bitbucket.token(),
        "JIRAFLOW_BITBUCKET_REPOSITORY": bitbucket.repository_name,
    }


def _setup(root: str, kind: str, jira: Any, bitbucket: Any, out: Printer) -> Demo:
    env = _environment(root, jira, bitbucket)
    origin, work = os.path.join(root, "origin.git"), os.path.join(root, "shop")
    demo = Demo(root, work, env, jira, bitbucket, out)
    subprocess.run(["git", "init", "--quiet", "--bare", origin], env=env, check=True)
    subprocess.run(
        ["git", "clone", "--quiet", origin, work], env=env, check=True, capture_output=True
    )
    with open(os.path.join(work, "README.md"), "w", encoding="utf-8") as fh:
        fh.write("# Shop\n")
    demo.git("add", "README.md")
    demo.git("commit", "--quiet", "-m", "Initial commit")
    bitbucket.set_git_dir(bitbucket.repository_name, origin)
    label = "Cloud" if kind == "cloud" else "Data Center"
    out(f"jiraflow demo: Jira and Bitbucket {label} simulated on 127.0.0.1, nothing leaves this")
    out(f"machine. A repository with a bare origin is set up in {root} (removed afterwards),")
    out(f"and {bitbucket.repository_name} in the sandbox Bitbucket is backed by that origin.")
    out("")
    demo.jiraflow("init", "--defaults")
    out("")
    out("The team file names the environments, in promotion order: qa (Jira: In QA),")
    if kind == "cloud":
        out('staging (Ready for Release), production (main, deployed as "Production" by')
        out("Pipelines);")
        chain = CHAIN
    else:
        out("staging (Ready for Release), production (main; Data Center has no Pipelines, so")
        out("no deployment);")
        chain = CHAIN.replace('deployment = "Production"\n', "")
    out("`init --environments` creates their branches from main.")
    with open(os.path.join(work, ".jiraflow.toml"), "a", encoding="utf-8") as fh:
        fh.write(chain)
    demo.git("add", ".jiraflow.toml")
    demo.git("commit", "--quiet", "-m", "Add the environments", show=True)
    demo.jiraflow("init", "--environments")
    demo.git("push", "--quiet", "origin", "main", "develop", "qa", "staging")
    return demo


def _walk(demo: Demo) -> None:
    out, bb, name = demo.out, demo.bitbucket, demo.bitbucket.repository_name
    out("")
    demo.jiraflow("feature", "start", ISSUE)
    demo.effect(demo.issue_line())

    out("")
    with open(os.path.join(demo.work, "login.html"), "w", encoding="utf-8") as fh:
        fh.write('<form method="post"><input name="user"><input name="password"></form>\n')
    demo.git("add", "login.html")
    demo.git("commit", "--quiet", "-m", "Add the login form", show=True)
    work = demo.git("rev-parse", "HEAD")

    out("")
    demo.jiraflow("pr", "create")
    [pull] = bb.pull_requests(name)
    pr_id = pull["id"]
    reviewers = ", ".join(_reviewer_names(bb.flavour, pull)) or "none"
    demo.effect(f"Bitbucket: pull request #{pr_id} is {pull['state']}, reviewers: {reviewers}")
    demo.effect(demo.issue_line() + ", with the pull request linked")

    out("")
    out(f"(meanwhile the CI server builds {work[:12]}, the pull request's head, and reports")
    out(f' to Bitbucket: "{BUILD}" in progress, then successful)')
    bb.set_build(name, work, BUILD_KEY, "INPROGRESS", name=BUILD, url=BUILD_URL)
    bb.set_build(name, work, BUILD_KEY, "SUCCESSFUL", name=BUILD, url=BUILD_URL)
    demo.jiraflow("pr", "checks")

    out("")
    bob = demo.jira.user("bob")["displayName"]
    out(f"(meanwhile in Bitbucket: {bob} approves pull request #{pr_id})")
    bb.approve(name, pr_id, "bob")

    out("")
    demo.jiraflow("pr", "merge")
    merge = _merge_commit(bb.flavour, bb.pull_request(name, pr_id))
    develop = demo.git("rev-parse", "develop")
    if not merge or not develop.startswith(merge):
        raise DemoFailed(
            f"`jiraflow pr merge` left develop at {develop[:12]}, not at {merge or 'a merge'}"
        )
    left = demo.git("branch", "--list", "--format=%(refname:short)", "feature/*").split()
    remote = demo.git("ls-remote", "--heads", "origin", "feature/*").splitlines()
    left += ["origin/" + ref.split()[-1].removeprefix("refs/heads/") for ref in remote]
    if left:
        raise DemoFailed(f"`jiraflow pr merge` left {', '.join(left)}")
    demo.effect(
        f"Bitbucket: pull request #{pr_id} is MERGED; the local develop is at {develop[:12]}, "
        "the merge Bitbucket made"
    )
    demo.effect("no feature branch is left, here or on origin; no `feature finish` needed")
    demo.effect(demo.issue_line())

    out("")
    demo.jiraflow("release", "start", VERSION)
    out("")
    demo.jiraflow("release", "finish", "--push")
    tags = demo.git("tag", "--list")
    demo.effect(f"main is tagged {tags.replace(chr(10), ', ')} and develop has the tag merged back")

    out("")
    demo.jiraflow("pr", "list", "--state", "merged")
    tags = demo.git("tag", "--contains", work).replace("\n", ", ") or "none"
    demo.effect(demo.issue_line() + f"; tags holding its commit: {tags}")
    _environments(demo)


def _environments(demo: Demo) -> None:
    """The release manager's half: `promote qa` (the chain is in the team file since the
    setup), a deployment (Cloud), and the board that answers "where is it, is it deployed?"."""
    out, bb, name = demo.out, demo.bitbucket, demo.bitbucket.repository_name
    out("")
    carol = demo.jira.user("carol")["displayName"]
    out(f"(meanwhile {carol} pushes a fix for {FIX} to develop)")
    with open(os.path.join(demo.work, "login_test.py"), "w", encoding="utf-8") as fh:
        fh.write("def test_login() -> None:\n    assert True\n")
    demo.git("add", "login_test.py")
    demo.git("commit", "--quiet", "-m", f"{FIX} Wait for the form in the login test")
    demo.git("push", "--quiet", "origin", "develop")

    out("")
    demo.jiraflow("promote", "qa")
    qa, develop = demo.git("rev-parse", "origin/qa"), demo.git("rev-parse", "develop")
    if qa != develop:
        raise DemoFailed(f"`jiraflow promote qa` left origin/qa at {qa[:12]}, not {develop[:12]}")
    if demo.jira.issue(FIX)["status"] != QA_STATUS:
        raise DemoFailed(f"`jiraflow promote qa` did not move {FIX} to {QA_STATUS}")
    demo.effect(f"qa (here and on origin) is at develop's {develop[:12]}")
    demo.effect(demo.issue_line(FIX) + ": moved to qa's status")
    demo.effect(demo.issue_line() + ": left alone, promote never moves an issue backwards")
    demo.effect("staging is still at main's first commit: nothing promoted there yet")

    out("")
    main = demo.git("rev-parse", "main")
    if bb.flavour == "cloud":
        out(f"(meanwhile Pipelines deploys main, {main[:12]} = {VERSION}, to Production)")
        bb.deploy(name, "Production", main)
    else:
        out("(Data Center has no Pipelines: the board has no deployment column)")
    demo.jiraflow("board", "--release", VERSION)
    demo.effect(
        f"{ISSUE} is merged in qa and production (main), not yet in staging"
        + ("; the Production deployment holds it" if bb.flavour == "cloud" else "")
    )


def _merge_commit(flavour: str, pull: dict[str, Any]) -> str:
    """The merge commit (or its prefix) of a merged pull request in either flavour's shape;
    "" while it is not merged."""
    if pull.get("state") != "MERGED":
        return ""
    if flavour == "cloud":
        return str((pull.get("merge_commit") or {}).get("hash") or "")
    return str(((pull.get("properties") or {}).get("mergeCommit") or {}).get("id") or "")


def _reviewer_names(flavour: str, pull: dict[str, Any]) -> list[str]:
    """Reviewers' display names from a pull request in either flavour's shape."""
    if flavour == "cloud":
        return [str(r.get("display_name")) for r in pull.get("reviewers") or []]
    return [str(r["user"].get("displayName")) for r in pull.get("reviewers") or []]
