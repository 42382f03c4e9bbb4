"""`jiraflow start KEY`, `jiraflow status` and `jiraflow sync`."""

from __future__ import annotations

from typing import Any

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import complete_base, complete_issues
from jiraflow.services import remote

pass_state = click.make_pass_decorator(AppState)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("key", shell_complete=complete_issues)
@click.option(
    "--base",
    metavar="B",
    help="Start from B instead of develop.",
    shell_complete=complete_base("feature"),
)
@click.option("-F", "--fetch", is_flag=True, help="Fetch the base from the remote first.")
@click.option(
    "--assign",
    is_flag=True,
    help="Assign the issue to you, also taking it over from someone who has it.",
)
@pass_state
def start(state: AppState, key: str, base: str | None, fetch: bool, assign: bool) -> None:
    """Start work on issue KEY: a bugfix for a Bug, a feature otherwise (see
    jira.branch_types), named from the issue's summary."""
    from jiraflow.cli.flow_cmd import start_branch
    from jiraflow.errors import UsageError

    flow = state.flow()
    started = remote.issue_start(flow, None, key, state, assign=assign)
    if started is None:
        if not remote.tracker_for(flow).enabled:
            raise UsageError(
                "`jiraflow start KEY` needs Jira, and none is configured",
                "Set jira.url (`jiraflow config set jira.url https://...`), or use "
                "`jiraflow feature start NAME`.",
            )
        raise UsageError(f"'{key}' is not a Jira issue key", "e.g. `jiraflow start PROJ-12`.")
    kind, name, actions, issue, tracker = started
    start_branch(state, flow, kind, name, base, fetch, actions, tracker, issue)


@click.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """The current branch, its issue in Jira, its pull request, how far it is from its base,
    and anything waiting to be sent to Jira."""
    from jiraflow.errors import JiraflowError
    from jiraflow.gitflow import journal
    from jiraflow.jira.issues import key_in

    flow = state.flow()
    repo, model = flow.repo, flow.model
    head = repo.head()
    info: dict[str, Any] = {"branch": head.branch, "type": None, "base": None}
    parsed = model.parse(head.branch) if head.branch else None
    if parsed and parsed[0] in ("feature", "bugfix", "release", "hotfix"):
        kind = parsed[0]
        base = flow.base_of(head.branch or "", kind)
        info["type"], info["base"] = kind, base
        if repo.has_branch(base):
            info["ahead"], info["behind"] = repo.ahead_behind(head.branch or "HEAD", base)
    info["upstream"] = None
    long_lived = {model.develop, model.main, *flow.config.where.environments}
    if head.branch in long_lived and not info["base"]:
        info["upstream"] = _upstream(repo, model.remote, head.branch)
    tracker = remote.tracker_for(flow)
    key = key_in(parsed[1]) if parsed else None
    info["issue"] = None
    info["jira"] = "not configured" if not tracker.enabled else "ok"
    if key and tracker.enabled:
        cached = tracker.cached(key) or {}
        issue_info: dict[str, Any] = {"key": key, "summary": cached.get("summary")}
        try:
            issue, site = tracker.fetch(key)
            issue_info |= {
                "summary": issue.summary,
                "type": issue.type,
                "status": issue.status.name,
                "assignee": issue.assignee_name,
                "url": f"{site.url}/browse/{key}",
            }
        except JiraflowError as exc:
            info["jira"] = f"unavailable: {exc.message}"
        info["issue"] = issue_info
    info["pull_request"] = _pull_request(flow, head.branch) if parsed else None
    entry = journal.in_progress(repo)
    info["operation"] = entry.operation if entry else None
    info["outbox"] = [
        {"key": a["key"], "action": tracker.describe(a), "error": a.get("error")}
        for a in tracker.outbox()
    ]
    if state.json:
        state.renderer.data(info)
        return
    _print_status(state, info, journal.what_to_run(repo, entry) if entry else "")


def interrupted_hint(path: str) -> str:
    """What to do after Ctrl-C, from what the command left: a stopped finish (continue or
    abort it), a start killed before it could undo itself, or Jira updates queued after the
    git part (`jiraflow sync`). Never fails: it is said while the program is going away."""
    general = "Run the command again; what it had done is either complete or put back."
    try:
        from jiraflow.git import GitRepo
        from jiraflow.gitflow import journal

        repo = GitRepo.discover(path)
        entry = journal.Journal.load(repo)
        if entry is not None:
            return f"The {entry.operation} of '{entry.branch}' stopped. " + journal.what_to_run(
                repo, entry
            )
        from jiraflow import store
        from jiraflow.jira.tracker import OUTBOX, check_actions

        # a damaged outbox raises store.Damaged: `sync` would only stop on it
        if check_actions(store.read_cache(repo.state_path(OUTBOX), store.ANY, [])):
            return "The git part is done; the Jira updates are queued: run `jiraflow sync`."
    except (Exception, KeyboardInterrupt):  # no repository, a damaged file, a second Ctrl-C
        pass
    return general


def _upstream(repo: Any, default_remote: str, branch: str) -> dict[str, Any] | None:
    """A long-lived branch against its remote-tracking branch (its upstream, else
    REMOTE/BRANCH), as of the last fetch (nothing is fetched): {"branch": "origin/develop",
    "ahead": 2, "behind": 1}; None when there is no such branch. One git process at most:
    none when both point at the same commit."""
    config = repo.config()
    remote_name = config.get(f"branch.{branch}.remote") or default_remote
    merge = config.get(f"branch.{branch}.merge") or f"refs/heads/{branch}"
    if remote_name == "." or not merge.startswith("refs/heads/"):
        return None  # a local upstream is no remote branch
    name = f"{remote_name}/{merge[len('refs/heads/') :]}"
    refs = repo.refs()
    theirs, mine = refs.get(f"refs/remotes/{name}"), refs.get(f"refs/heads/{branch}")
    if theirs is None or mine is None:
        return None
    ahead, behind = (0, 0) if theirs == mine else repo.ahead_behind(mine, theirs)
    return {"branch": name, "ahead": ahead, "behind": behind}


def _pull_request(flow: Any, branch: str | None) -> dict[str, Any] | None:
    """The branch's newest pull request (one request), when Bitbucket is set up and the
    branch was pushed; {"error": ...} when Bitbucket cannot be asked."""
    from jiraflow.cli.pr_cmd import STATES, forge_for
    from jiraflow.errors import JiraflowError

    forge = forge_for(flow)
    pushed = flow.repo.config().get(f"branch.{branch}.merge") or flow.repo.remote_branch(
        flow.model.remote, branch or ""
    )
    if not branch or not pushed or not forge.usable:
        return None
    try:
        found = forge.client.pull_requests(source=branch, states=STATES["all"], limit=1)
    except JiraflowError as exc:
        return {"error": exc.message}
    return found[0].to_json() if found else None


def _print_status(state: AppState, info: dict[str, Any], what_to_run: str = "") -> None:
    out = state.renderer.line
    branch = info["branch"] or "(detached HEAD)"
    line = f"On {branch}"
    if info["base"]:
        line += f" ({info['type']} from {info['base']}"
        if "ahead" in info:
            line += f": {info['ahead']} ahead, {info['behind']} behind"
        line += ")"
    out(line)
    upstream = info.get("upstream")
    if upstream:
        if upstream["ahead"] or upstream["behind"]:
            where = f"{upstream['ahead']} ahead, {upstream['behind']} behind {upstream['branch']}"
        else:
            where = f"up to date with {upstream['branch']}"
        out(f"{branch}: {where} (as of the last fetch)")
    issue = info["issue"]
    if issue:
        out(f"Issue {issue['key']}: {issue.get('summary') or '(summary unknown)'}")
        if "status" in issue:
            out(f"  status: {issue['status']}, assignee: {issue['assignee'] or 'nobody'}")
            out(f"  {issue['url']}")
    pull = info["pull_request"]
    if pull and "error" in pull:
        state.renderer.warn(f"Bitbucket unavailable: {pull['error']}")
    elif pull:
        out(f"Pull request #{pull['id']} [{pull['state']}] into {pull['destination']}")
        out(f"  {pull['url']}")
    if info["jira"].startswith("unavailable"):
        state.renderer.warn(f"Jira {info['jira']}")
    if info["operation"]:
        from jiraflow.gitflow.journal import resumable

        how = "is stopped" if resumable(info["operation"]) else "was interrupted"
        out(f"A {info['operation']} {how}. {what_to_run}")
    if info["outbox"]:
        out(f"Waiting for `jiraflow sync` ({len(info['outbox'])}):")
        for entry in info["outbox"]:
            out(f"  {entry['action']}" + (f"  ({entry['error']})" if entry["error"] else ""))


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--drop", is_flag=True, help="Forget the queued actions instead of sending them.")
@pass_state
def sync(state: AppState, drop: bool) -> None:
    """Send the Jira updates that could not be made when they happened (the outbox)."""
    from jiraflow.errors import PartialError
    from jiraflow.gitflow import journal

    flow = state.flow()
    tracker = remote.tracker_for(flow, state)
    with journal.lock(flow.repo):
        pending = tracker.outbox()
        if not pending:
            state.renderer.note(synced=[], queued=[])
            state.renderer.line("Nothing to sync.")
            return
        if state.dry_run:
            state.renderer.plan(remote.describe(tracker, pending))
            return
        if drop:
            dropped = [tracker.describe(a) for a in tracker.drop()]
            state.renderer.note(dropped=dropped, queued=[])
            state.renderer.summary([f"dropped: {what}" for what in dropped])
            return
        result = tracker.sync()
    remote.report(state, result)
    failed, delivered = result.failed, result.done
    state.renderer.note(
        synced=[tracker.describe(a) for a in delivered],
        queued=[tracker.describe(a) for a, _ in failed],
    )
    if failed:
        action, error = failed[0]
        still = f"{len(failed)} action{'s' if len(failed) > 1 else ''} still queued"
        # nothing delivered: the error's own exit code (6 unreachable, 4 refused token, ...)
        cls = PartialError if delivered else type(error)
        raise cls(
            f"{tracker.describe(action)} failed: {error.message} ({still})",
            error.hint or "Run `jiraflow sync` again later.",
        )
