"""`jiraflow pr create|view|list|status`: Bitbucket pull requests of Gitflow branches."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState
from jiraflow.services import remote

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import PullRequest
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.jira.tracker import Tracker
    from jiraflow.services.pull_requests import Forge, Proposal

pass_state = click.make_pass_decorator(AppState)
STATES = {
    "open": ("OPEN",),
    "merged": ("MERGED",),
    "declined": ("DECLINED",),
    "all": ("OPEN", "MERGED", "DECLINED", "SUPERSEDED"),
}


@click.group(context_settings=CONTEXT_SETTINGS)
def pr() -> None:
    """Bitbucket pull requests (Cloud or Data Center) of Gitflow branches."""


def forge_for(flow: FlowContext) -> Forge:
    from jiraflow.services.pull_requests import Forge

    remote.hear_retries()
    return Forge(flow, app_dir=remote.app_dir())


@pr.command(context_settings=CONTEXT_SETTINGS)
@click.option("--base", metavar="B", help="Merge into B instead of the Gitflow target.")
@click.option("--title", metavar="T", help="The title (default: from pr.title).")
@click.option("--body", metavar="B", help="The description (default: from pr.description).")
@click.option("--draft", is_flag=True, default=None, help="Open it as a draft.")
@click.option(
    "-r", "--reviewer", "reviewers", multiple=True, metavar="USER", help="Add a reviewer."
)
@click.option("--web", is_flag=True, help="Push, then open the new-PR page instead.")
@pass_state
def create(
    state: AppState,
    base: str | None,
    title: str | None,
    body: str | None,
    draft: bool | None,
    reviewers: tuple[str, ...],
    web: bool,
) -> None:
    """Push the branch and open its pull request into develop (features, bugfixes) or
    main (releases, hotfixes), with the default reviewers; the issue moves to In Review."""
    from jiraflow.gitflow import journal

    flow = state.flow()
    branch = flow.current_branch()
    with journal.lock(flow.repo):
        if not state.dry_run:
            journal.refuse_if_busy(flow.repo)
        open_pull_request(
            state,
            flow,
            branch,
            base=base,
            title=title,
            body=body,
            draft=draft,
            reviewers=reviewers,
            web=web,
        )


def open_pull_request(
    state: AppState,
    flow: FlowContext,
    branch: str,
    *,
    base: str | None = None,
    title: str | None = None,
    body: str | None = None,
    draft: bool | None = None,
    reviewers: tuple[str, ...] = (),
    web: bool = False,
) -> None:
    """`pr create`, also used by `release|hotfix finish --pr`."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services import pull_requests as prs

    forge = forge_for(flow)
    forge.require("pr create")
    base = base or prs.destination(flow, branch)
    prs.check_branches(flow, branch, base)
    push = prs.push_args(flow, branch)
    if web:
        _open_web(state, flow, forge, branch, base, push)
        return
    tracker = remote.tracker_for(flow)
    proposal = _propose(state, flow, forge, tracker, branch, base, push, title, body, reviewers)
    use_draft = flow.config.pr.draft if draft is None else draft
    jira = _jira_actions(tracker, proposal, None)
    if state.dry_run:
        _print_plan(state, tracker, proposal, push, use_draft, jira)
        return
    pushed = _push(state, flow, push)
    if pushed and not state.json:  # said now: the pull request may still fail
        state.renderer.summary([f"pushed '{branch}' to '{flow.model.remote}'"])
    pull = proposal.existing
    created = False
    if pull is None:
        try:
            pull, created = _create(flow, forge, proposal, use_draft)
        except JiraflowError as exc:
            from jiraflow.bitbucket.client import Unconfirmed

            if isinstance(exc, Unconfirmed):  # maybe opened: never "opened #0", never sent again
                exc.message = f"the pull request may or may not be open: {exc.message}"
                exc.hint = (
                    "Run `jiraflow pr create` again: it finds the pull request if Bitbucket "
                    "opened it (and links it in Jira), or opens it."
                )
            if not pushed:
                raise
            # the push stays (it loses nothing); running the command again opens the PR
            if isinstance(exc, Unconfirmed):
                exc.message = f"pushed '{branch}', but {exc.message}"
                raise
            exc.message = f"pushed '{branch}', but no pull request was opened: {exc.message}"
            exc.hint = (exc.hint + " " if exc.hint else "") + (
                "`jiraflow pr create` again pushes nothing twice and opens it."
            )
            raise
    if state.json:
        state.renderer.data({"pull_request": pull.to_json(), "created": created, "pushed": pushed})
    else:
        lines = []
        if created:
            names = ", ".join(r.user.display for r in pull.reviewers) or "none"
            left_out = "".join(f"; left out {note}" for note in proposal.dropped)
            lines.append(
                f"opened pull request #{pull.id}: {branch} -> {base} (reviewers: {names}{left_out})"
            )
        else:
            lines.append(f"pull request #{pull.id} ({branch} -> {base}) is already open")
        state.renderer.summary(lines)
    actions = _jira_actions(tracker, proposal, pull)
    try:
        remote.deliver(state, tracker, actions, done=f"pull request #{pull.id} is open")
    finally:  # the URL last, where scripts and eyes look for it, even when Jira failed
        if not state.json:
            state.renderer.line(pull.url)


def _create(
    flow: FlowContext, forge: Forge, proposal: Proposal, draft: bool
) -> tuple[PullRequest, bool]:
    from jiraflow.errors import RemoteError

    try:
        return forge.client.create(
            title=proposal.title,
            description=proposal.description,
            source=proposal.branch,
            destination=proposal.base,
            reviewers=[u.id for u in proposal.reviewers],
            draft=draft,
            close_source_branch=flow.config.bitbucket.close_source_branch,
        )
    except RemoteError as exc:
        if "reviewer" not in exc.message.lower():
            raise
        asked = ", ".join(u.display for u in proposal.reviewers)
        raise RemoteError(
            exc.message,
            f"The reviewers sent were: {asked}. Leave out the refused one (-r, or "
            "bitbucket.default_reviewers = false) and run `jiraflow pr create` again.",
        ) from None


def _propose(
    state: AppState,
    flow: FlowContext,
    forge: Forge,
    tracker: Tracker,
    branch: str,
    base: str,
    push: tuple[str, ...] | None,
    title: str | None,
    body: str | None,
    reviewers: tuple[str, ...],
) -> Proposal:
    """The reads go out together: the pull request already open, the reviewers, and the
    issue (read ahead for its move, and its summary when the issue cache lacks it)."""
    from functools import partial

    from jiraflow.retry import Ahead
    from jiraflow.services import pull_requests as prs

    proposal = prs.Proposal(branch, base, push)
    proposal.key = _issue_key(flow, tracker, branch)
    client = forge.client  # made here: its credential is looked up in this thread
    if proposal.key is not None and not state.dry_run:
        summary_known = (tracker.cached(proposal.key) or {}).get("summary")
        if flow.config.jira.on.pr or not summary_known:
            tracker.read_ahead(proposal.key)
    chosen = Ahead(partial(prs.choose_reviewers, forge, branch, base, reviewers))
    try:
        existing = client.pull_requests(source=branch, destination=base)
    finally:
        chosen.wait()  # no request outlives the proposal
    if existing:
        proposal.existing = existing[0]
        return proposal
    summary, issue_url = _issue_facts(state, tracker, proposal.key)
    commits = prs.commit_subjects(flow, f"{flow.model.remote}/{base}", branch)
    text = prs.pr_text(
        flow,
        branch,
        base,
        key=proposal.key,
        summary=summary,
        issue_url=issue_url,
        commits=commits,
    )
    proposal.title = title if title is not None else text.title
    proposal.description = body if body is not None else text.description
    proposal.reviewers, proposal.dropped = chosen.result()
    return proposal


def _issue_key(flow: FlowContext, tracker: Tracker, branch: str) -> str | None:
    from jiraflow.jira.issues import key_in

    parsed = flow.model.parse(branch)
    key = key_in(parsed[1] if parsed else branch)
    if key is None or not tracker.enabled or not tracker.accepts(key):
        return None
    return key


def _issue_facts(
    state: AppState, tracker: Tracker, key: str | None
) -> tuple[str | None, str | None]:
    """Summary and browse URL of the issue: from the issue cache, else one GET. Jira being
    down must not stop a pull request: the title then comes from the branch."""
    from jiraflow.errors import JiraflowError

    if key is None:
        return None, None
    cached = tracker.cached(key)
    if cached and cached.get("summary"):
        url = cached.get("site")
        return cached["summary"], f"{url}/browse/{key}" if url else None
    try:
        issue, site = tracker.fetch(key)
    except JiraflowError as exc:
        state.renderer.warn(
            f"could not read {key} from Jira ({exc.message}); titled from the branch"
        )
        return None, None
    return issue.summary, f"{site.url}/browse/{key}"


def _jira_actions(
    tracker: Tracker, proposal: Proposal, pull: PullRequest | None
) -> list[dict[str, Any]]:
    """Link the pull request on the issue (upserted by URL), then move the issue to
    jira.on.pr: the link first, so that a move the workflow refuses does not hold it up."""
    if proposal.key is None:
        return []
    pr_id = pull.id if pull else (proposal.existing.id if proposal.existing else None)
    label = f"pull request #{pr_id}" if pr_id else "the pull request"
    url = pull.url if pull else ""
    actions = [tracker.link_action(proposal.key, url, label, resolved=False)]
    move = tracker.move_action(proposal.key, "pr")
    if move is not None:
        actions.append(move)
    return actions


def _print_plan(
    state: AppState,
    tracker: Tracker,
    proposal: Proposal,
    push: tuple[str, ...] | None,
    draft: bool,
    jira: list[dict[str, Any]],
) -> None:
    lines = ["git " + " ".join(push)] if push else []
    if proposal.existing is not None:
        lines.append(f"bitbucket: show pull request #{proposal.existing.id} (already open)")
    else:
        names = ", ".join(u.display for u in proposal.reviewers) or "none"
        kind = "draft pull request" if draft else "pull request"
        lines.append(
            f"bitbucket: open {kind} '{proposal.title}' ({proposal.branch} -> {proposal.base}), "
            f"reviewers: {names}"
        )
    state.renderer.plan(lines + remote.describe(tracker, jira))


def _push(state: AppState, flow: FlowContext, push: tuple[str, ...] | None) -> bool:
    from jiraflow.errors import RemoteError
    from jiraflow.git import hook_output, reason

    if push is None:
        return False
    state.renderer.step("git " + " ".join(push))
    proc = flow.repo.run(*push, check=False)
    if proc.returncode != 0:
        why, fix = reason(proc.stderr), "Check the remote and your access"
        said = hook_output(f"{proc.stdout}\n{proc.stderr}")
        if said:  # a pre-push hook refused it, and said why: show that, not git's last words
            why, fix = "its pre-push hook refused it:\n" + "\n".join(said), "Fix what it says"
        raise RemoteError(
            f"git push to '{flow.model.remote}' failed: {why}",
            f"{fix}, then run `jiraflow pr create` again.",
        )
    flow.repo.forget_refs()
    return True


def _open_web(
    state: AppState,
    flow: FlowContext,
    forge: Forge,
    branch: str,
    base: str,
    push: tuple[str, ...] | None,
) -> None:
    url = forge.repository.new_pr_url(branch, base)
    if state.dry_run:
        state.renderer.plan((["git " + " ".join(push)] if push else []) + [f"open {url}"])
        return
    _push(state, flow, push)
    state.renderer.line(url)
    if _interactive() and not state.json:
        click.launch(url)


def _interactive() -> bool:
    return sys.stdout.isatty()


# -- reading -------------------------------------------------------------------------------------


@pr.command(context_settings=CONTEXT_SETTINGS)
@click.argument("number", type=int, required=False)
@pass_state
def view(state: AppState, number: int | None) -> None:
    """Show pull request NUMBER, or the one of the current branch."""
    from jiraflow.errors import RepoStateError

    flow = state.flow()
    forge = forge_for(flow)
    forge.require("pr view")
    if number is not None:
        pull = forge.client.pull_request(number)
    else:
        branch = flow.current_branch()
        found = forge.client.pull_requests(source=branch, states=STATES["all"], limit=1)
        if not found:
            raise RepoStateError(
                f"'{branch}' has no pull request",
                "Open one with `jiraflow pr create`, or name one: `jiraflow pr view 12`.",
            )
        pull = forge.client.pull_request(found[0].id)  # lists leave out the reviewers
    if state.json:
        state.renderer.data(pull.to_json())
        return
    _print_pull(state, pull)


def _print_pull(state: AppState, pull: PullRequest) -> None:
    out = state.renderer.line
    draft = ", draft" if pull.draft else ""
    out(f"#{pull.id} {pull.title}  [{pull.state}{draft}]")
    out(f"{pull.source} -> {pull.destination}, by {pull.author.display}")
    if pull.reviewers:
        names = [
            r.user.display
            + (" (approved)" if r.approved else "")
            + (" (needs work)" if r.status == "NEEDS_WORK" else "")
            for r in pull.reviewers
        ]
        out(f"Reviewers: {', '.join(names)} - {pull.approvals}/{len(pull.reviewers)} approved")
    else:
        out("Reviewers: none")
    out(pull.url)


@pr.command("list", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--state",
    "which",
    type=click.Choice(list(STATES)),
    default="open",
    show_default=True,
    help="Which pull requests.",
)
@click.option("-L", "--limit", type=click.IntRange(1, 500), default=30, show_default=True)
@pass_state
def list_(state: AppState, which: str, limit: int) -> None:
    """The pull requests of this repository, newest first."""
    flow = state.flow()
    forge = forge_for(flow)
    forge.require("pr list")
    pulls = forge.client.pull_requests(states=STATES[which], limit=limit)
    if state.json:
        state.renderer.data([p.to_json() for p in pulls])
        return
    if not pulls:
        state.renderer.line(f"No {which} pull requests in {forge.repository.full_name}.")
        return
    for p in pulls:
        state.renderer.line(_row(p))


def _row(p: PullRequest) -> str:
    approved = f"{p.approvals}/{len(p.reviewers)} approved" if p.reviewers else "no reviewers"
    return f"#{p.id:<5} {p.state:<8} {p.source} -> {p.destination}  {p.title}  ({approved})"


@pr.command(context_settings=CONTEXT_SETTINGS)
@pass_state
def status(state: AppState) -> None:
    """The current branch's pull request, yours, and those waiting for your review."""
    flow = state.flow()
    forge = forge_for(flow)
    forge.require("pr status")
    client = forge.client
    me = client.me()
    branch = flow.repo.head().branch
    open_prs = client.pull_requests(states=("OPEN",), limit=100)
    current = next((p for p in open_prs if p.source == branch), None)
    if current is None and branch:
        found = client.pull_requests(source=branch, states=STATES["all"], limit=1)
        current = found[0] if found else None
    mine = [p for p in open_prs if me.id and p.author.id == me.id]
    asked = [p for p in open_prs if any(r.user.id == me.id for r in p.reviewers) and me.id]
    if state.json:
        state.renderer.data(
            {
                "branch": branch,
                "current": current.to_json() if current else None,
                "created_by_you": [p.to_json() for p in mine],
                "review_requested": [p.to_json() for p in asked],
            }
        )
        return
    out = state.renderer.line
    out("Current branch")
    out("  " + (_row(current) if current else f"no pull request for '{branch}'"))
    for title, rows in (("Created by you", mine), ("Requesting your review", asked)):
        out(title)
        for p in rows:
            out("  " + _row(p))
        if not rows:
            out("  none")
