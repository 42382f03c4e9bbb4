"""`jiraflow check branch|commit-msg|range|pr`: the rules of `[check]` (jiraflow.checks.rules)
applied to a branch name, a commit message, a range of commits or a pull request, before
Bitbucket's server-side hooks would refuse them. One line per problem; exit 1 on any.
The git hooks (cli/hooks_cmd.py) call check_commit_message and check_pushes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState, user_config_path

if TYPE_CHECKING:
    from jiraflow.checks.hooks import Push
    from jiraflow.checks.rules import Item, Report, Rules
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.jira.tracker import Verdicts

pass_state = click.make_pass_decorator(AppState)

FAILED = 1  # a check found problems (documented in docs/exit-codes.md)

offline_option = click.option(
    "--offline", is_flag=True, help="Check the key pattern and projects only; ask Jira nothing."
)


@click.group(context_settings=CONTEXT_SETTINGS)
def check() -> None:
    """Check Jira issue keys as Bitbucket's server-side hooks would: in branch names,
    commit messages, ranges of commits and pull requests. The rules are [check] in the
    config; keys are looked up in Jira when it is configured. Exit 1 when a check fails."""


@check.command("branch", context_settings=CONTEXT_SETTINGS)
@click.argument("name", required=False)
@offline_option
@pass_state
def branch_cmd(state: AppState, name: str | None, offline: bool) -> None:
    """The branch NAME (default: the current one) follows the branch model and, for the
    types in check.branch_types, names an issue."""
    from jiraflow.checks.rules import Report, Rules, branch_items

    flow = state.flow()
    rules = Rules.from_config(flow.config)
    branch = name or flow.current_branch()
    report = Report("branch", branch)
    items = branch_items(rules, branch, report)
    _finish(state, flow, rules, report, items, offline=offline)


@check.command("commit-msg", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--add-key",
    is_flag=True,
    help="When the message names no issue, start it with the branch's key (and save it).",
)
@offline_option
@pass_state
def commit_msg_cmd(state: AppState, file: str, add_key: bool, offline: bool) -> None:
    """The commit message in FILE names an issue (for commit-msg hooks: comment lines and
    the diff of `git commit -v` are not part of the message)."""
    code = check_commit_message(state, file, add_key=add_key, offline=offline, quiet=False)
    if code:
        raise click.exceptions.Exit(code)


@check.command("range", context_settings=CONTEXT_SETTINGS)
@click.argument("rev_range", metavar="[REV_RANGE]", required=False)
@offline_option
@pass_state
def range_cmd(state: AppState, rev_range: str | None, offline: bool) -> None:
    """Every commit of REV_RANGE (e.g. origin/develop..HEAD; default: the commits of the
    current branch not on its base, BASE..HEAD) names an issue; with check.commits = any, at
    least one does. Merge commits are skipped unless check.merges."""
    from jiraflow.checks.rules import Report, Rules, commit_items
    from jiraflow.errors import UsageError
    from jiraflow.gitflow.notes import commits_in

    if rev_range is not None and not rev_range.strip():
        raise UsageError("the revision range is empty", "Give one, e.g. origin/develop..HEAD.")
    flow = state.flow()
    if rev_range is None:
        rev_range = _branch_range(flow)
    rules = Rules.from_config(flow.config)
    report = Report("range", rev_range)
    commits = commits_in(flow.repo, rev_range)
    head = flow.repo.head().commit or ""
    items = commit_items(rules, commits, report, example_key=_branch_key(flow, rules), head=head)
    _finish(state, flow, rules, report, items, offline=offline)


@check.command("pr", context_settings=CONTEXT_SETTINGS)
@offline_option
@pass_state
def pr_cmd(state: AppState, offline: bool) -> None:
    """The pull request's branch, title and commits. In Bitbucket Pipelines it reads
    BITBUCKET_PR_ID, BITBUCKET_BRANCH, BITBUCKET_PR_DESTINATION_BRANCH and BITBUCKET_COMMIT;
    elsewhere it checks the current branch and its open pull request."""
    from jiraflow.checks.rules import Report, Rules

    environ = os.environ
    flow = _open(state, environ)
    rules = Rules.from_config(flow.config)
    target = _pr_target(state, flow, environ)
    report = Report("pr", target.describe())
    items = _pr_items(state, flow, rules, report, target)
    _finish(state, flow, rules, report, items, offline=offline)


# -- what the hooks call -------------------------------------------------------------------
def check_commit_message(
    state: AppState, path: str, *, add_key: bool, offline: bool, quiet: bool = True
) -> int:
    """Check the message being committed in `path`; with add_key, first start a message
    that names no issue with the branch's key. Prints the problems (and, unless quiet, the
    summary); returns the exit code."""
    from jiraflow.checks.hooks import message_with_key, read_message, write_message
    from jiraflow.checks.rules import Report, Rules, message_item, message_text
    from jiraflow.errors import UsageError

    flow = state.flow()
    rules = Rules.from_config(flow.config)
    report = Report("commit-msg", path)
    try:
        raw = read_message(path)
    except OSError as exc:
        raise UsageError(f"cannot read the commit message file {path} ({exc.strerror})") from None
    comment = _stripped_comments(flow)
    text = message_text(raw, comment)
    head = flow.repo.head().branch
    branch_key = rules.branch_key(head) if head else None
    merging = flow.repo.has_git_path("MERGE_HEAD")  # the message of a merge, whatever it says
    why = _message_skipped(rules, text, head, merging=merging)
    if why:
        report.notes.append(why)
        return _finish(state, flow, rules, report, [], offline=True, quiet=quiet)
    if add_key and branch_key and not rules.has_key(text):
        changed = message_with_key(raw, branch_key, comment, has_key=rules.has_key)
        if changed is not None:
            write_message(path, changed)
            text = message_text(changed, comment)
            state.renderer.line(f"jiraflow: added {branch_key} (the branch's key)", err=True)
    item = message_item(rules, text, branch_key)
    return _finish(state, flow, rules, report, [item], offline=offline, quiet=quiet)


def _stripped_comments(flow: FlowContext) -> str | None:
    """What starts the comment lines git will strip from the message: none when no editor
    was used (`git commit -m`: git then keeps `#` lines, and tells hooks GIT_EDITOR=:),
    unless commit.cleanup says to strip them anyway."""
    from jiraflow.checks.hooks import comment_prefix

    cleanup = flow.repo.config().get("commit.cleanup", "default")
    if os.environ.get("GIT_EDITOR") == ":" and cleanup not in ("strip", "scissors"):
        return ""
    return comment_prefix(flow.repo)


def check_pushes(state: AppState, pushes: list[Push], *, offline: bool) -> int:
    """Check what a push sends: each branch's name and new commits, with one Jira search
    for all their keys. Prints the problems; returns the exit code."""
    from jiraflow.checks.rules import Report, Rules, branch_items, commit_items
    from jiraflow.gitflow.notes import commits_in

    flow = state.flow()
    rules = Rules.from_config(flow.config)
    report = Report("push", ", ".join(p.branch for p in pushes))
    items: list[Item] = []
    for push in pushes:
        named = branch_items(rules, push.branch, report)
        if rules.branch_exempt(push.branch):
            continue
        key = rules.branch_key(push.branch)
        commits = commits_in(flow.repo, push.rev_range)
        head = flow.repo.head().commit or ""
        pushed = named + commit_items(rules, commits, report, example_key=key, head=head)
        if not _work_branch(flow, push.branch):
            # finishing moved their issues on (to Done) before develop or main is pushed
            for item in pushed:
                item.jql = False
        items += pushed
    return _finish(state, flow, rules, report, items, offline=offline, quiet=True)


# -- pull requests -----------------------------------------------------------------------------
class PrTarget:
    """The pull request being checked: its branch, destination, commit, and (when known)
    its number and title."""

    def __init__(
        self, branch: str, destination: str, head: str, number: int | None, title: str | None
    ) -> None:
        self.branch = branch
        self.destination = destination
        self.head = head
        self.number = number
        self.title = title

    def describe(self) -> str:
        which = f"pull request #{self.number}" if self.number else "the branch"
        return f"{which} {self.branch} -> {self.destination}"


PIPELINE_VARS = ("BITBUCKET_BRANCH", "BITBUCKET_PR_DESTINATION_BRANCH")


def _open(state: AppState, environ: Mapping[str, str]) -> FlowContext:
    """The repository; in Bitbucket Pipelines, the Bitbucket repository is the one built
    (BITBUCKET_REPO_FULL_NAME) unless JIRAFLOW_BITBUCKET_REPOSITORY names one."""
    from jiraflow.gitflow.context import FlowContext

    env = dict(environ)
    if env.get("BITBUCKET_REPO_FULL_NAME") and "JIRAFLOW_BITBUCKET_REPOSITORY" not in env:
        env["JIRAFLOW_BITBUCKET_REPOSITORY"] = env["BITBUCKET_REPO_FULL_NAME"]
    return FlowContext.open(state.path, user_path=user_config_path(), environ=env)


def _pr_target(state: AppState, flow: FlowContext, environ: Mapping[str, str]) -> PrTarget:
    from jiraflow.errors import JiraflowError, UsageError

    number_text = environ.get("BITBUCKET_PR_ID", "").strip()
    if number_text:
        missing = [name for name in PIPELINE_VARS if not environ.get(name, "").strip()]
        if missing or not number_text.isdigit():
            raise UsageError(
                f"BITBUCKET_PR_ID is {number_text!r} but "
                + (f"{', '.join(missing)} is not set" if missing else "it is not a number"),
                "Run `jiraflow check pr` in a pull-request pipeline of Bitbucket Pipelines, "
                "or unset BITBUCKET_PR_ID to check the current branch.",
            )
        return PrTarget(
            environ["BITBUCKET_BRANCH"].strip(),
            environ["BITBUCKET_PR_DESTINATION_BRANCH"].strip(),
            environ.get("BITBUCKET_COMMIT", "").strip() or "HEAD",
            int(number_text),
            None,
        )
    from jiraflow.services.pull_requests import destination

    branch = flow.current_branch()
    target = PrTarget(branch, destination(flow, branch), branch, None, None)
    forge = _forge(flow)
    if forge is not None:
        try:
            found = forge.client.pull_requests(source=branch, states=("OPEN",), limit=1)
        except JiraflowError as exc:
            state.renderer.warn(f"could not ask Bitbucket for the pull request: {exc.message}")
            found = []
        if found:
            pull = found[0]
            target.number, target.title, target.destination = pull.id, pull.title, pull.destination
    return target


def _forge(flow: FlowContext):  # type: ignore[no-untyped-def]
    """The Bitbucket connection when it is set up and has a token, else None."""
    from jiraflow.cli.pr_cmd import forge_for

    forge = forge_for(flow)
    return forge if forge.usable else None


def _pr_items(
    state: AppState, flow: FlowContext, rules: Rules, report: Report, target: PrTarget
) -> list[Item]:
    from jiraflow.checks.rules import branch_items, commit_items, title_item
    from jiraflow.errors import JiraflowError
    from jiraflow.gitflow.notes import commits_in

    items = branch_items(rules, target.branch, report)
    if rules.branch_exempt(target.branch):
        return []
    keyed = any(item.kind == "branch" for item in items)
    if keyed and rules.pr_title:
        if target.number and target.title is None:
            forge = _forge(flow)
            if forge is None:
                report.notes.append(
                    "the title was not checked: Bitbucket is not set up (set "
                    "JIRAFLOW_BITBUCKET_USER and JIRAFLOW_BITBUCKET_TOKEN)"
                )
            else:
                try:
                    target.title = forge.client.pull_request(target.number).title
                except JiraflowError as exc:
                    report.notes.append(f"the title was not checked: {exc.message}")
        if target.title is not None:
            label = f"pull request #{target.number} title"
            items.append(title_item(rules, label, target.title))
        elif not target.number:
            report.notes.append("the title was not checked: the branch has no open pull request")
    base = _destination_ref(state, flow, target.destination)
    rev_range = f"{base}..{target.head}"
    commits = commits_in(flow.repo, rev_range)
    key = rules.branch_key(target.branch)
    head = "" if target.number else (flow.repo.head().commit or "")
    items += commit_items(rules, commits, report, example_key=key, head=head)
    return items


def _destination_ref(state: AppState, flow: FlowContext, destination: str) -> str:
    """The remote's copy of the destination, fetched when this clone lacks it (Pipelines
    clones one branch), with the history made whole when a shallow clone does not reach
    where the branch left it."""
    from jiraflow.errors import RemoteError
    from jiraflow.git import GitError

    repo = flow.repo
    remote = flow.model.remote
    ref = f"refs/remotes/{remote}/{destination}"
    try:
        if ref not in repo.refs(fresh=True):
            repo.run("fetch", "--quiet", remote, f"+refs/heads/{destination}:{ref}")
        if not repo.ok("merge-base", ref, "HEAD") and repo.out(
            "rev-parse", "--is-shallow-repository"
        ) == ("true"):
            state.renderer.line("The clone is shallow: fetching the rest of its history.", err=True)
            repo.run("fetch", "--quiet", "--unshallow", remote)
    except GitError as exc:
        raise RemoteError(
            f"could not fetch {destination} from {remote} ({exc.message.splitlines()[-1]})",
            "Check that the branch exists on the remote and that the clone can fetch.",
        ) from None
    return ref


# -- shared ------------------------------------------------------------------------------------
def _branch_range(flow: FlowContext) -> str:
    """BASE..HEAD for the current branch: the commits on it that are not on its base (where
    its pull request goes: develop for a feature, main for a release...), the local base
    branch, else the remote's copy of it."""
    from jiraflow.errors import RepoStateError, UsageError
    from jiraflow.services.pull_requests import destination

    branch = flow.current_branch()
    example = f"`jiraflow check range {flow.model.remote}/{flow.model.develop}..HEAD`"
    try:
        base = destination(flow, branch)
    except RepoStateError:  # develop, main, a support branch: they have no base
        raise UsageError(
            f"'{branch}' is a long-lived branch: it has no base to check it against",
            f"Give the range, e.g. {example}.",
        ) from None
    if flow.repo.has_branch(base):
        return f"{base}..HEAD"
    if flow.repo.remote_branch(flow.model.remote, base):
        return f"{flow.model.remote}/{base}..HEAD"
    raise UsageError(
        f"the base of '{branch}', '{base}', is neither here nor on {flow.model.remote}",
        f"Give the range, e.g. {example}.",
    )


def _branch_key(flow: FlowContext, rules: Rules) -> str | None:
    head = flow.repo.head().branch
    return rules.branch_key(head) if head else None


def _work_branch(flow: FlowContext, branch: str) -> bool:
    """Whether check.jql applies to a pushed branch: not to develop, main, release and
    support branches, which finished work is merged into."""
    parsed = flow.model.parse(branch)
    if branch in (flow.model.main, flow.model.develop):
        return False
    return parsed is None or parsed[0] not in ("release", "support")


def _message_skipped(
    rules: Rules, text: str, branch: str | None, *, merging: bool = False
) -> str | None:
    if not text.strip():
        return "the message is empty (git will not commit it)"
    if merging and not rules.merges:
        return "not checked: merge"
    if rules.commits != "every":
        return f"a message need not name an issue (check.commits = {rules.commits})"
    if branch and rules.branch_exempt(branch):
        return f"branch {branch} is exempt (check.exempt_branches)"
    why = rules.message_exempt(text)
    return f"not checked: {why}" if why else None


def _finish(
    state: AppState,
    flow: FlowContext,
    rules: Rules,
    report: Report,
    items: list[Item],
    *,
    offline: bool,
    quiet: bool = False,
) -> int:
    """Judge the items (asking Jira when it should be asked), print the report, and exit 1
    on problems. `quiet` (hooks): nothing is printed when all is well."""
    from jiraflow.checks.rules import evaluate

    verify = None if offline else _verifier(state, flow, rules, report)
    if offline:
        report.jira = "offline"
    evaluate(rules, report, items, verify)
    _render(state, report, quiet=quiet)
    code = FAILED if report.problems else 0
    if code and not quiet:
        raise click.exceptions.Exit(code)
    return code


def _verifier(state: AppState, flow: FlowContext, rules: Rules, report: Report):  # type: ignore[no-untyped-def]
    """Jira's answer for a list of keys, or None (report.jira says why) when it is not
    configured, switched off (check.jira = false) or cannot be asked (no connection, no
    answer in time, busy, a server error). Jira refusing the search, or answering it with
    something that is no search result, is no reason to pass: the check stops (exit 6),
    since whether the keys are issues was not found out."""
    from jiraflow.errors import RemoteError
    from jiraflow.jira.client import Unavailable
    from jiraflow.services.remote import tracker_for

    if not rules.jira:
        report.jira = "off"
        return None
    tracker = tracker_for(flow, state)  # many keys: their progress on stderr
    if not tracker.enabled:
        report.jira = "not configured"
        return None

    def verify(keys: list[str], jql: str) -> Verdicts | None:
        try:
            verdicts = tracker.verify(keys, jql)
        except Unavailable as exc:
            report.jira = f"unreachable: {exc.message}"
            return None
        except RemoteError as exc:
            raise RemoteError(
                f"the keys could not be checked: {exc.message}", _refused_hint(report)
            ) from None
        report.jira = "checked"
        return verdicts

    return verify


def _refused_hint(report: Report) -> str:
    """What to do when Jira refused the search for the keys. Inside a git hook no option
    can be added to the check: the way through is git's --no-verify, for this push or
    commit, and check.jira = false turns the Jira part of checks off until Jira answers."""
    fix = "Fix what Jira names (is jira.url right? `jiraflow auth login jira` renews a token)"
    off = "`jiraflow config set check.jira false` stops asking Jira in checks"
    git = {"push": "git push", "commit-msg": "git commit"}.get(report.check)
    if git:  # the pre-push hook (check_pushes), or a commit-msg hook running the check
        return f"{fix}. Meanwhile `{git} --no-verify` skips the check once; {off}."
    return f"{fix}, or add --offline to check the key pattern and projects only; {off}."


_SKIPPED_JIRA = {
    "offline": "--offline",
    "off": "check.jira = false",
    "not configured": "Jira is not configured",
}


def _render(state: AppState, report: Report, *, quiet: bool) -> None:
    out = state.renderer
    jira = report.jira
    if jira in _SKIPPED_JIRA and report.keys:
        report.notes.append(
            f"{_SKIPPED_JIRA[jira]}: the keys were checked against the pattern and projects only"
        )
    if state.json:
        out.data(report.to_json())
    else:
        for problem in report.problems:
            out.problem(problem.line())
        if not quiet or report.problems:
            out.line(_summary(report))
    if jira.startswith("unreachable: "):
        out.warn(
            f"Jira could not be asked ({jira.removeprefix('unreachable: ')}): whether the keys "
            "are issues (and meet check.jql) was not checked"
        )
    if not quiet:
        for note in report.notes:
            out.line(f"note: {note}", err=True)


def _summary(report: Report) -> str:
    """`main..HEAD: 3 commits (1 skipped), no problems.` or `wip: 1 problem in branch name.`"""
    commits = sum(1 for item in report.items if item.kind == "commit")
    what = [
        name
        for kind, name in (("branch", "branch name"), ("title", "title"), ("message", "message"))
        if any(item.kind == kind for item in report.items)
    ]
    if commits or report.check in ("range", "pr", "push"):
        skipped = f" ({len(report.skipped)} skipped)" if report.skipped else ""
        what.append(f"{commits} commit{'s' if commits != 1 else ''}{skipped}")
    checked = ", ".join(what) or "nothing to check"
    if report.problems:
        n = len(report.problems)
        return f"{report.target}: {n} problem{'s' if n != 1 else ''} in {checked}."
    jira = " (the keys are issues in Jira)" if report.jira == "checked" and report.keys else ""
    return f"{report.target}: {checked}, no problems{jira}."
