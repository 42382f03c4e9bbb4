"""The checks of `jiraflow check` and of the git hooks: the rules of `[check]`
(jiraflow.checks.rules) applied to a branch name, a commit message, a range of commits, a
pull request or a push, with the keys looked up in Jira when it should be asked. Each
returns the judged Report; the CLI renders it (and exits 1 on problems)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from jiraflow.git import branch_ref, remote_ref

if TYPE_CHECKING:
    from jiraflow.checks.hooks import Push
    from jiraflow.checks.rules import Item, Report, Rules, Verify
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.jira.tracker import Verdicts
    from jiraflow.services.pull_requests import Forge
    from jiraflow.services.session import Session


def branch(session: Session, name: str | None, *, offline: bool) -> Report:
    """The branch NAME (default: the current one) follows the branch model and, for the
    types in check.branch_types, names an issue."""
    from jiraflow.checks.rules import Report, Rules, branch_items

    flow = session.flow()
    rules = Rules.from_config(flow.config)
    name = name or flow.current_branch()
    report = Report("branch", name)
    items = branch_items(rules, name, report)
    return _judge(session, flow, rules, report, items, offline=offline)


def commit_range(session: Session, rev_range: str | None, *, offline: bool) -> Report:
    """Every commit of REV_RANGE (default: the current branch's, BASE..HEAD) names an issue."""
    from jiraflow.checks.rules import Report, Rules, commit_items
    from jiraflow.errors import UsageError
    from jiraflow.gitflow.notes import commits_in

    if rev_range is not None and not rev_range.strip():
        raise UsageError("the revision range is empty", "Give one, e.g. origin/develop..HEAD.")
    flow = session.flow()
    if rev_range is None:
        rev_range = _branch_range(flow)
    rules = Rules.from_config(flow.config)
    report = Report("range", rev_range)
    commits = commits_in(flow.repo, rev_range)
    head = flow.repo.head().commit or ""
    allowed = _committer_rule(session, flow, rules, report, mine=False, offline=offline)
    unkeyed: list[Item] = []
    items = commit_items(
        rules,
        commits,
        report,
        example_key=_branch_key(flow, rules),
        head=head,
        allowed=allowed,
        unkeyed=unkeyed,
    )
    return _judge(session, flow, rules, report, items, offline=offline, smart_items=items + unkeyed)


def pull_request(
    session: Session,
    flow: FlowContext,
    environ: Mapping[str, str],
    *,
    offline: bool,
    single_commit: bool = False,
) -> Report:
    """The pull request's branch, title and commits: the one Bitbucket Pipelines builds
    (BITBUCKET_PR_ID...), else the current branch and its open pull request. `flow` is
    opened with pipeline_environ(environ). `single_commit`: it must have exactly one."""
    from jiraflow.checks.rules import Report, Rules

    rules = Rules.from_config(flow.config)
    target = _pr_target(session, flow, environ)
    report = Report("pr", target.describe())
    unkeyed: list[Item] = []  # check.commits = off: for the smart-commit check only
    items = _pr_items(
        session, flow, rules, report, target, single_commit=single_commit, unkeyed=unkeyed
    )
    return _judge(session, flow, rules, report, items, offline=offline, smart_items=items + unkeyed)


def pipeline_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment to open the repository with: in Bitbucket Pipelines, the Bitbucket
    repository is the one built (BITBUCKET_REPO_FULL_NAME) unless
    JIRAFLOW_BITBUCKET_REPOSITORY names one."""
    env = dict(environ)
    if env.get("BITBUCKET_REPO_FULL_NAME") and "JIRAFLOW_BITBUCKET_REPOSITORY" not in env:
        env["JIRAFLOW_BITBUCKET_REPOSITORY"] = env["BITBUCKET_REPO_FULL_NAME"]
    return env


# -- what the hooks check ------------------------------------------------------------------
def commit_message(session: Session, path: str, *, add_key: bool, offline: bool) -> Report:
    """Check the message being committed in `path`; with add_key, first start a message
    that names no issue with the branch's key (and save it)."""
    from jiraflow.checks.hooks import (
        message_with_key,
        read_message,
        stripped_prefix,
        write_message,
    )
    from jiraflow.checks.rules import Item, Report, Rules, message_item, message_text
    from jiraflow.errors import UsageError

    flow = session.flow()
    rules = Rules.from_config(flow.config)
    report = Report("commit-msg", path)
    try:
        raw = read_message(path)
    except OSError as exc:
        raise UsageError(f"cannot read the commit message file {path} ({exc.strerror})") from None
    comment = stripped_prefix(flow.repo)
    text = message_text(raw, comment)
    head = flow.repo.head().branch
    branch_key = rules.branch_key(head) if head else None
    merging = flow.repo.has_git_path("MERGE_HEAD")  # the message of a merge, whatever it says
    why = _message_skipped(rules, text, head, merging=merging)
    # check.message_pattern and check.committer apply whatever check.commits says
    checkable = not _message_skipped(replace(rules, commits="every"), text, head, merging=merging)
    shaped = rules.message_pattern is not None and checkable
    fix = "Write it so that it does (git commit again; the message is in .git/COMMIT_EDITMSG)"
    if why:
        report.notes.append(why)
        item = Item("message", "commit message", text, fix)
        failed = shaped and _shape(rules, report, item, text, fix)
        if checkable and _committer_of_message(session, flow, rules, report, item, offline=offline):
            failed = True
        if failed:
            report.items.append(item)
        # smart commits follow check.smart_commits only: checked whenever the message is
        return _judge(
            session,
            flow,
            rules,
            report,
            [],
            offline=offline or not checkable,
            message=(raw, comment) if checkable else None,
            smart_items=[item] if checkable else [],
        )
    if add_key and branch_key and not rules.has_key(text):
        changed = message_with_key(raw, branch_key, comment, has_key=rules.has_key)
        if changed is not None:
            write_message(path, changed)
            raw, text = changed, message_text(changed, comment)
            session.renderer.line(f"jiraflow: added {branch_key} (the branch's key)", err=True)
    item = message_item(rules, text, branch_key)
    if shaped:
        _shape(rules, report, item, text, fix)
    if checkable:
        _committer_of_message(session, flow, rules, report, item, offline=offline)
    return _judge(session, flow, rules, report, [item], offline=offline, message=(raw, comment))


def _committer_of_message(
    session: Session, flow: FlowContext, rules: Rules, report: Report, item: Item, *, offline: bool
) -> bool:
    """check.committer for the commit being made (git's committer identity now); whether
    it failed."""
    from jiraflow.checks.rules import committer_problem

    allowed = _committer_rule(session, flow, rules, report, mine=True, offline=offline)
    if not allowed:
        return False
    ident = flow.repo.out("var", "GIT_COMMITTER_IDENT")
    email = ident.partition("<")[2].partition(">")[0]
    problem = committer_problem(allowed, email, item, "git commit")
    if problem is not None:
        report.problems.append(problem)
    return problem is not None


def _committer_rule(
    session: Session, flow: FlowContext, rules: Rules, report: Report, *, mine: bool, offline: bool
) -> tuple[re.Pattern[str], ...]:
    """check.committer as patterns, "me" replaced by your own addresses (`mine`: only in
    the hooks, which check your own commits); () when the rule is off, or "me" cannot be
    known (a note says why: the rule does not fail on what it could not find out)."""
    from jiraflow.checks.rules import glob

    if not rules.committer:
        return ()
    others = [p for p in rules.committer if p.strip().lower() != "me"]
    addresses: list[str] = []
    if len(others) != len(rules.committer):
        why = "only the git hooks know who you are (your own commits and pushes)"
        if mine:
            addresses, why = _my_addresses(session, flow, offline=offline)
        if not addresses:
            report.notes.append(f'the committers were not checked: "me" in check.committer: {why}')
            return ()
    return tuple(glob(p) for p in [*others, *addresses])


def _my_addresses(session: Session, flow: FlowContext, *, offline: bool) -> tuple[list[str], str]:
    """Your e-mail addresses as `jiraflow auth status` knows them: the Jira and Bitbucket
    logins that are e-mail addresses, and your Jira account's address (cached per site: one
    request the first time, none offline). With none: why."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.remote import tracker_for

    found: list[str] = []
    why = "no Jira or Bitbucket login is known (`jiraflow auth status`)"
    tracker = tracker_for(flow, session)
    for site in tracker.sites:
        try:
            client = tracker.client(site)
        except JiraflowError:
            continue
        user = client.credential.user
        if "@" in user:
            found.append(user)
            continue
        known = client.known_myself()
        if known is not None and known["email"]:
            found.append(known["email"])
        elif offline:
            why = f"your Jira account's address is not known yet (offline; {site.url})"
        else:
            try:
                email = client.myself().get("email", "")
            except JiraflowError as exc:
                why = f"Jira could not say who you are ({exc.message})"
                continue
            if email:
                found.append(email)
    login = flow.config.bitbucket.user  # bitbucket.user, JIRAFLOW_BITBUCKET_USER
    if not login:
        try:
            forge = _forge(flow)
            login = forge.client.credential.user if forge is not None else ""
        except JiraflowError:
            login = ""
    if "@" in login:
        found.append(login)
    return list(dict.fromkeys(found)), why


def _shape(rules: Rules, report: Report, item: Item, text: str, fix: str) -> bool:
    """check.message_pattern for a message being committed; whether it failed."""
    from jiraflow.checks.rules import pattern_problem

    problem = pattern_problem(rules, item, text, fix)
    if problem is not None:
        report.problems.append(problem)
    return problem is not None


def pushes(session: Session, pushed: list[Push], *, offline: bool) -> Report:
    """Check what a push sends: each branch's name and new commits, with one Jira search
    for all their keys."""
    from jiraflow.checks.rules import Report, Rules, branch_items, commit_items
    from jiraflow.gitflow.notes import commits_in

    flow = session.flow()
    rules = Rules.from_config(flow.config)
    report = Report("push", ", ".join(p.branch for p in pushed))
    items: list[Item] = []
    unkeyed: list[Item] = []  # check.commits = off: for the smart-commit check only
    allowed = _committer_rule(session, flow, rules, report, mine=True, offline=offline)
    for push in pushed:
        named = branch_items(rules, push.branch, report, new=push.new)
        if rules.branch_exempt(push.branch):
            continue
        key = rules.branch_key(push.branch)
        commits = commits_in(flow.repo, push.rev_range)
        head = flow.repo.head().commit or ""
        sent = named + commit_items(
            rules,
            commits,
            report,
            example_key=key,
            head=head,
            allowed=allowed,
            unkeyed=unkeyed,
        )
        if not _work_branch(flow, push.branch):
            # finishing moved their issues on (to Done) before develop or main is pushed
            for item in sent:
                item.jql = False
        items += sent
    return _judge(session, flow, rules, report, items, offline=offline, smart_items=items + unkeyed)


def pushes_of_hook(
    path: str, environ: Mapping[str, str], git_input: Callable[[], tuple[str, list[str]]]
) -> list[Push]:
    """What the pre-push hook of the repository at `path` is to check: from the
    environment when the pre-commit framework read git's input, else from `git_input` (the
    remote's name and git's lines)."""
    from jiraflow.checks.hooks import pushes_from_env, pushes_from_lines
    from jiraflow.git import GitRepo

    repo = GitRepo.discover(path)
    if environ.get("PRE_COMMIT") == "1":  # the pre-commit framework read git's input
        return pushes_from_env(repo, environ)
    remote, lines = git_input()
    return pushes_from_lines(repo, remote, lines)


def outdated_hook(path: str, hook: str) -> str | None:
    """The path of the repository's `hook` when an older jiraflow wrote it (one that lets
    the repository's Python files run), else None; None too outside a repository."""
    from jiraflow.checks.hooks import hooks_dir, is_outdated
    from jiraflow.errors import JiraflowError
    from jiraflow.git import GitRepo

    try:
        hook_path = os.path.join(hooks_dir(GitRepo.discover(path)), hook)
    except JiraflowError:
        return None  # the hook proper says what is wrong with the repository
    return hook_path if is_outdated(hook_path) else None


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


def _pr_target(session: Session, flow: FlowContext, environ: Mapping[str, str]) -> PrTarget:
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

    name = flow.current_branch()
    target = PrTarget(name, destination(flow, name), name, None, None)
    forge = _forge(flow)
    if forge is not None:
        try:
            found = forge.client.pull_requests(source=name, states=("OPEN",), limit=1)
        except JiraflowError as exc:
            session.renderer.warn(f"could not ask Bitbucket for the pull request: {exc.message}")
            found = []
        if found:
            pull = found[0]
            target.number, target.title, target.destination = pull.id, pull.title, pull.destination
    return target


def _forge(flow: FlowContext) -> Forge | None:
    """The Bitbucket connection when it is set up and has a token, else None."""
    from jiraflow.services.pull_requests import forge_for

    forge = forge_for(flow)
    return forge if forge.usable else None


def _pr_items(
    session: Session,
    flow: FlowContext,
    rules: Rules,
    report: Report,
    target: PrTarget,
    *,
    single_commit: bool = False,
    unkeyed: list[Item] | None = None,
) -> list[Item]:
    from jiraflow.checks.rules import branch_items, commit_items, single_commit_problem, title_item
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
    base = _destination_ref(session, flow, target.destination)
    rev_range = f"{base}..{target.head}"
    commits = commits_in(flow.repo, rev_range)
    if single_commit and len(commits) != 1:
        which = f"pull request #{target.number}" if target.number else f"branch {target.branch}"
        onto = f"{flow.model.remote}/{target.destination}"
        report.problems.append(single_commit_problem(which, len(commits), onto))
    key = rules.branch_key(target.branch)
    head = "" if target.number else (flow.repo.head().commit or "")
    allowed = _committer_rule(session, flow, rules, report, mine=False, offline=False)
    items += commit_items(
        rules,
        commits,
        report,
        example_key=key,
        head=head,
        allowed=allowed,
        unkeyed=unkeyed,
    )
    return items


def _destination_ref(session: Session, flow: FlowContext, destination: str) -> str:
    """The remote's copy of the destination, fetched when this clone lacks it (Pipelines
    clones one branch), with the history made whole when a shallow clone does not reach
    where the branch left it."""
    from jiraflow.errors import RemoteError
    from jiraflow.git import GitError

    repo = flow.repo
    remote = flow.model.remote
    ref = remote_ref(remote, destination)
    try:
        if ref not in repo.refs(fresh=True):
            repo.run("fetch", "--quiet", remote, f"+{branch_ref(destination)}:{ref}")
        if not repo.ok("merge-base", ref, "HEAD") and repo.out(
            "rev-parse", "--is-shallow-repository"
        ) == ("true"):
            session.renderer.line(
                "The clone is shallow: fetching the rest of its history.", err=True
            )
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

    name = flow.current_branch()
    example = f"`jiraflow check range {flow.model.remote}/{flow.model.develop}..HEAD`"
    try:
        base = destination(flow, name)
    except RepoStateError:  # develop, main, a support branch: they have no base
        raise UsageError(
            f"'{name}' is a long-lived branch: it has no base to check it against",
            f"Give the range, e.g. {example}.",
        ) from None
    if flow.repo.has_branch(base):
        return f"{base}..HEAD"
    if flow.repo.remote_branch(flow.model.remote, base):
        return f"{flow.model.remote}/{base}..HEAD"
    raise UsageError(
        f"the base of '{name}', '{base}', is neither here nor on {flow.model.remote}",
        f"Give the range, e.g. {example}.",
    )


def _branch_key(flow: FlowContext, rules: Rules) -> str | None:
    head = flow.repo.head().branch
    return rules.branch_key(head) if head else None


def _work_branch(flow: FlowContext, name: str) -> bool:
    """Whether check.jql applies to a pushed branch: not to develop, main, release and
    support branches, which finished work is merged into."""
    parsed = flow.model.parse(name)
    if name in (flow.model.main, flow.model.develop):
        return False
    if any(env.branch == name for env in flow.config.environment_branches()):
        return False  # promoted work, moved on by the promotion
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


def _judge(
    session: Session,
    flow: FlowContext,
    rules: Rules,
    report: Report,
    items: list[Item],
    *,
    offline: bool,
    message: tuple[str, str | None] | None = None,
    smart_items: list[Item] | None = None,
) -> Report:
    """Judge the items, asking Jira when it should be asked. `message`: the file of the
    commit-msg check, with git's comment character (smart-commit lines git strips).
    `smart_items` (default: the items): what the smart-commit check looks at, which
    follows check.smart_commits only (not check.commits)."""
    from jiraflow.checks.rules import evaluate
    from jiraflow.checks.smart import SmartCheck

    smart_items = items if smart_items is None else smart_items
    smart = SmartCheck.from_config(flow.config, smart_items, rules.keys_in)
    if message is not None and smart_items:
        smart.lose(smart_items[0], *message)
    transitions = smart.wants_transitions  # asked with the keys: no request of its own
    verify = None if offline else _verifier(session, flow, rules, report, transitions=transitions)
    if offline:
        report.jira = "offline"
    report.header, report.footer = rules.header, rules.footer
    wanted = [k for k in smart.keys if rules.allowed(k)]
    watched = smart.watch(verify, wanted)
    evaluate(rules, report, items, watched)
    if watched is not None and wanted and not smart.asked:  # no key to check
        watched([], rules.jql)
    smart.judge(report)
    return report


def _verifier(
    session: Session, flow: FlowContext, rules: Rules, report: Report, *, transitions: bool = False
) -> Verify | None:
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
    tracker = tracker_for(flow, session)  # many keys: their progress on stderr
    if not tracker.enabled:
        report.jira = "not configured"
        return None

    def verify(keys: list[str], jql: str) -> Verdicts | None:
        try:
            verdicts = tracker.verify(keys, jql, transitions=transitions)
        except Unavailable as exc:
            report.jira = f"unreachable: {exc.message}"
            return None
        except RemoteError as exc:
            raise RemoteError(
                f"the keys could not be checked: {exc.message}", refused_hint(report)
            ) from None
        report.jira = "checked"
        return verdicts

    return verify


def refused_hint(report: Report) -> str:
    """What to do when Jira refused the search for the keys. Inside a git hook no option
    can be added to the check: the way through is git's --no-verify, for this push or
    commit, and check.jira = false turns the Jira part of checks off until Jira answers."""
    fix = "Fix what Jira names (is jira.url right? `jiraflow auth login jira` renews a token)"
    off = "`jiraflow config set check.jira false` stops asking Jira in checks"
    git = {"push": "git push", "commit-msg": "git commit"}.get(report.check)
    if git:  # the pre-push hook (check_pushes), or a commit-msg hook running the check
        return f"{fix}. Meanwhile `{git} --no-verify` skips the check once; {off}."
    return f"{fix}, or add --offline to check the key pattern and projects only; {off}."
