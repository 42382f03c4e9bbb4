"""`jiraflow status` gathered: the current branch against its base (or its remote), its
issue in Jira, its pull request, an operation left stopped, the queued Jira updates; and
the hint after Ctrl-C."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jiraflow.git import BRANCHES, branch_of, branch_ref, remote_ref
from jiraflow.services import remote

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext


def status_of(flow: FlowContext) -> tuple[dict[str, Any], str]:
    """What `status` shows (its --json document), and what to run about a stopped
    operation ("" when none): one Jira read and one Bitbucket read at most."""
    from jiraflow.errors import JiraflowError
    from jiraflow.gitflow import journal
    from jiraflow.keys import branch_key
    from jiraflow.outbox.box import Outbox

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
        info["upstream"] = upstream(repo, model.remote, head.branch)
    tracker = remote.tracker_for(flow)
    key = branch_key(model, head.branch) if parsed and head.branch else None
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
    info["pull_request"] = pull_request(flow, head.branch) if parsed else None
    entry = journal.in_progress(repo)
    if entry is not None:  # a damaged remote action in it: exit 5, as a damaged journal
        remote.journal_actions(repo, entry)
    info["operation"] = entry.operation if entry else None
    info["outbox"] = [
        {"key": a["key"], "action": a.describe(), "error": a.get("error")}
        for a in Outbox(tracker).read()
    ]
    return info, journal.what_to_run(repo, entry) if entry else ""


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
        from jiraflow.outbox.box import OUTBOX, check_actions

        # a damaged outbox raises store.Damaged: `sync` would only stop on it
        if check_actions(store.read_cache(repo.state_path(OUTBOX), store.ANY, [])):
            return "The git part is done; the Jira updates are queued: run `jiraflow sync`."
    except (Exception, KeyboardInterrupt):  # no repository, a damaged file, a second Ctrl-C
        pass
    return general


def upstream(repo: Any, default_remote: str, branch: str) -> dict[str, Any] | None:
    """A long-lived branch against its remote-tracking branch (its upstream, else
    REMOTE/BRANCH), as of the last fetch (nothing is fetched): {"branch": "origin/develop",
    "ahead": 2, "behind": 1}; None when there is no such branch. One git process at most:
    none when both point at the same commit."""
    config = repo.config()
    remote_name = config.get(f"branch.{branch}.remote") or default_remote
    merge = config.get(f"branch.{branch}.merge") or branch_ref(branch)
    if remote_name == "." or not merge.startswith(BRANCHES):
        return None  # a local upstream is no remote branch
    name = f"{remote_name}/{branch_of(merge)}"
    refs = repo.refs()
    theirs = refs.get(remote_ref(remote_name, branch_of(merge)))
    mine = refs.get(branch_ref(branch))
    if theirs is None or mine is None:
        return None
    ahead, behind = (0, 0) if theirs == mine else repo.ahead_behind(mine, theirs)
    return {"branch": name, "ahead": ahead, "behind": behind}


def pull_request(flow: Any, branch: str | None) -> dict[str, Any] | None:
    """The branch's newest pull request (one request), when Bitbucket is set up and the
    branch was pushed; {"error": ...} when Bitbucket cannot be asked."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import STATES, forge_for

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
