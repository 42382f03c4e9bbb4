"""`jiraflow status` gathered: the current branch against its base (or its remote), its
issue in Jira, its pull request, a finish waiting for its back-merge pull request, an
operation left stopped, the queued Jira updates; and the hint after Ctrl-C."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from jiraflow.git import BRANCHES, branch_of, branch_ref, remote_ref
from jiraflow.services import remote

if TYPE_CHECKING:
    from jiraflow.concurrency import Ahead
    from jiraflow.gitflow.context import FlowContext


def status_of(flow: FlowContext) -> tuple[dict[str, Any], str]:
    """What `status` shows (its --json document), and what to run about a stopped
    operation ("" when none): one Jira read and two Bitbucket reads at most (the branch's
    pull request, then the builds of its head or of the pushed tip), the Bitbucket ones in
    the background while Jira is asked."""
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
    environments = flow.config.environment_branches()
    long_lived = {model.develop, model.main, *(env.branch for env in environments)}
    if head.branch in long_lived and not info["base"]:
        info["upstream"] = upstream(repo, model.remote, head.branch)
    bitbucket = _bitbucket_ahead(flow, head.branch, parsed is not None, info["upstream"])
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
    info["pull_request"], info["builds"] = bitbucket.result() if bitbucket else (None, None)
    entry = journal.in_progress(repo)
    if entry is not None:  # a damaged remote action in it: exit 5, as a damaged journal
        remote.journal_actions(repo, entry)
    info["back_merges"] = back_merges(flow)
    info["operation"] = entry.operation if entry else None
    info["outbox"] = [
        {"key": a["key"], "action": a.describe(), "error": a.get("error")}
        for a in Outbox(tracker).read()
    ]
    return info, journal.what_to_run(repo, entry) if entry else ""


def back_merges(flow: FlowContext) -> list[dict[str, Any]]:
    """The release and hotfix finishes waiting for a back-merge pull request (their target
    is protected: gitflow.protected): each `backmerge/VERSION` branch whose release or hotfix
    branch is kept, from git alone (whether the remote target holds it, as of the last
    fetch: gitflow.finish.back_merge), with the finish that completes it. No request; one
    git process a waiting finish, none without a backmerge/* branch."""
    import shlex

    from jiraflow.gitflow.finish import BACKMERGE_PREFIX, back_merge

    repo, model = flow.repo, flow.model
    waiting: list[dict[str, Any]] = []
    for name in repo.branches(BACKMERGE_PREFIX):
        version = name[len(BACKMERGE_PREFIX) :]
        for kind in ("release", "hotfix"):
            branch = model.prefixes[kind] + version
            pending = back_merge(flow, kind, branch) if repo.has_branch(branch) else None
            if pending is not None and pending.branch == name:
                waiting.append(
                    {
                        "type": kind,
                        "version": version,
                        "branch": name,
                        "into": pending.into,
                        "merged": pending.merged,
                        "run": f"jiraflow {kind} finish {shlex.quote(version)}",
                    }
                )
                break
    return waiting


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


Answer = tuple[dict[str, Any] | None, dict[str, Any] | None]


def _bitbucket_ahead(
    flow: Any, branch: str | None, flow_branch: bool, upstream_info: dict[str, Any] | None
) -> Ahead[Answer] | None:
    """What status asks Bitbucket, started in the background (the client is made here, in
    this thread): a work branch's pull request and the builds of its head (or of the pushed
    tip when it has none); a long-lived branch's builds of its remote tip. None: nothing
    to ask (Bitbucket not set up or not logged in, the branch not pushed)."""
    from jiraflow.concurrency import Ahead
    from jiraflow.services.pull_requests import forge_for

    if not branch or not (flow_branch or upstream_info):
        return None
    repo = flow.repo
    pushed = repo.config().get(f"branch.{branch}.merge") or repo.remote_branch(
        flow.model.remote, branch
    )
    if not pushed:
        return None
    forge = forge_for(flow)
    if not forge.usable:
        return None
    tip = _pushed_tip(repo, flow.model.remote, branch)
    if flow_branch:
        return Ahead(partial(_pull_request_and_builds, forge.client, branch, tip))
    if tip is None:
        return None
    return Ahead(partial(_tip_builds, forge.client, branch, tip))


def _pushed_tip(repo: Any, default_remote: str, branch: str) -> tuple[str, str] | None:
    """(REMOTE/BRANCH, its commit) of the branch's remote-tracking branch (its upstream,
    else REMOTE/BRANCH), as of the last fetch or push; None when there is none."""
    config = repo.config()
    remote_name = config.get(f"branch.{branch}.remote") or default_remote
    merge = config.get(f"branch.{branch}.merge") or branch_ref(branch)
    if remote_name == "." or not merge.startswith(BRANCHES):
        return None
    commit = repo.refs().get(remote_ref(remote_name, branch_of(merge)))
    return (f"{remote_name}/{branch_of(merge)}", commit) if commit else None


def _pull_request_and_builds(client: Any, branch: str, tip: tuple[str, str] | None) -> Answer:
    """The branch's newest pull request (one request) and the builds of its head (one
    more), else of the pushed tip; {"error": ...} for what Bitbucket could not answer."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import STATES

    try:
        found = client.pull_requests(source=branch, states=STATES["all"], limit=1)
    except JiraflowError as exc:
        return {"error": exc.message}, {"error": exc.message}
    if not found:
        return None, _tip_builds(client, branch, tip)[1] if tip else None
    pull = found[0]
    try:
        builds = client.pull_request_builds(pull)
    except JiraflowError as exc:
        return pull.to_json(), {"error": exc.message}
    return pull.to_json(), builds_json(builds, pull.source_commit, f"pull request #{pull.id}")


def _tip_builds(client: Any, branch: str, tip: tuple[str, str]) -> Answer:
    """The builds of the pushed tip of the branch (one request)."""
    from jiraflow.errors import JiraflowError

    name, commit = tip
    try:
        return None, builds_json(client.builds(commit), commit, name)
    except JiraflowError as exc:
        return None, {"error": exc.message}


def builds_json(builds: list[Any], commit: str, of: str) -> dict[str, Any]:
    """The `builds` member of `status` and `where`: whose builds (a pull request, a remote
    branch, a tag), of which commit, what they add up to, and each build."""
    from jiraflow.services.builds import overall, summary

    return {
        "of": of,
        "commit": commit,
        "overall": overall(builds),
        "summary": summary(builds),
        "builds": [b.to_json() for b in builds],
    }
