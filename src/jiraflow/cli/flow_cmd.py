"""feature, bugfix, release, hotfix and support: the Gitflow commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from jiraflow.cli import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import (
    complete_base,
    complete_branches,
    complete_issues,
    complete_remote_branches,
)

if TYPE_CHECKING:
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.plan import Plan
    from jiraflow.jira.issues import Issue
    from jiraflow.jira.tracker import Tracker

pass_state = click.make_pass_decorator(AppState)


def run_plan(
    state: AppState,
    flow: FlowContext,
    build: Callable[[], Plan],
    *,
    tracker: Tracker | None = None,
    known: Issue | None = None,
) -> None:
    """Build the plan under the repository lock; print it (--dry-run) or run it, then
    deliver its Jira actions (queued in the outbox if Jira fails: exit 7)."""
    from jiraflow.gitflow import journal
    from jiraflow.services import remote

    with journal.lock(flow.repo):
        if not state.dry_run:
            journal.refuse_if_busy(flow.repo)
        plan = build()
        _refuse_checked_out_elsewhere(flow, plan)
        if state.dry_run:
            lines = plan.describe() + (remote.describe(tracker, plan.remote) if tracker else [])
            if lines:
                state.renderer.plan(lines)
            else:
                state.renderer.note(plan=[])
                state.renderer.line("Nothing to do.")
            return
        journal.execute(
            flow.repo,
            plan,
            on_step=lambda s: state.renderer.step(s.describe()),
            on_done=tracker.enqueue if tracker else None,
        )
        state.renderer.summary(plan.summary)
        state.renderer.note(branch=flow.repo.head().branch)
        if known is not None:  # a start from an issue: whether it was assigned to you
            assigned = any(a["do"] == "assign" for a in plan.remote)
            state.renderer.note(issue=known.key, assigned=assigned)
        if tracker is not None:
            remote.deliver(
                state,
                tracker,
                plan.remote,
                done=plan.summary[0] if plan.summary else "",
                known=known,
            )


def _refuse_checked_out_elsewhere(flow: FlowContext, plan: Plan) -> None:
    """Exit 5 before anything changes when a branch the plan moves is checked out in another
    work tree (`git worktree`): git would refuse half-way, after the first steps ran."""
    import os
    import shlex

    from jiraflow.errors import RepoStateError

    repo = flow.repo
    if not os.path.isdir(os.path.join(repo.common_dir, "worktrees")):
        return  # no linked work tree: nothing to ask git
    here = os.path.realpath(repo.root)
    for block in repo.out("worktree", "list", "--porcelain").split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines())
        path, ref = fields.get("worktree", ""), fields.get("branch", "")
        if ref in plan.moves and path and os.path.realpath(path) != here:
            name = ref[len("refs/heads/") :]
            raise RepoStateError(
                f"'{name}' is checked out in the work tree {path}: the {plan.operation} "
                "cannot change it from here",
                f"Leave it there first (`git -C {shlex.quote(path)} switch --detach`), "
                "then run the command again.",
            )


def resume_or_abort(state: AppState, kind: str, cont: bool) -> None:
    from jiraflow.errors import UsageError
    from jiraflow.gitflow import journal
    from jiraflow.services import remote

    flow = state.flow()
    operation = f"{kind} finish"
    with journal.lock(flow.repo):
        entry = journal.in_progress(flow.repo)
        if entry is None:
            raise UsageError(f"there is no {operation} to {'continue' if cont else 'abort'}")
        if entry.operation != operation:
            raise UsageError(
                f"the operation in progress is a {entry.operation}",
                journal.what_to_run(flow.repo, entry),
            )
        tracker = remote.tracker_for(flow, state) if entry.remote else None
        if state.dry_run:
            lines = [s.describe() for s in entry.steps[entry.next :]]
            state.renderer.plan(lines + (remote.describe(tracker, entry.remote) if tracker else []))
            return
        if cont:
            journal.resume(
                flow.repo,
                entry,
                on_step=lambda s: state.renderer.step(s.describe()),
                on_done=tracker.enqueue if tracker else None,
            )
            done = f"finished '{entry.branch}'"
            state.renderer.summary([done])
            state.renderer.note(branch=flow.repo.head().branch)
            if tracker is not None:
                remote.deliver(state, tracker, entry.remote, done=done)
        else:
            # what a remote has of it, not undone: asked while the local refs say what was pushed
            left = journal.remote_changes(flow.repo, entry)
            journal.abort(flow.repo, entry)
            back = "every local branch and tag" if left else "every branch and tag"
            state.renderer.summary([f"aborted the {operation} of '{entry.branch}'; {back} is back"])
            for line in journal.remote_undo(left):
                state.renderer.warn(line)
            state.renderer.note(branch=flow.repo.head().branch)


# -- command factories ----------------------------------------------------------------------
ASSIGN_HELP = "Assign the issue to you, also taking it over from someone who has it."


def _start_command(kind: str) -> click.Command:
    version_kind = kind in ("release", "hotfix", "support")
    arg = "version" if version_kind else "name"
    computed = kind in ("release", "hotfix")  # VERSION may be left out: computed from the tags

    @click.command("start", context_settings=CONTEXT_SETTINGS)
    @click.argument(
        arg,
        metavar=f"[{arg.upper()}]" if computed else arg.upper(),
        required=not computed,
        shell_complete=complete_issues if kind in ("feature", "bugfix") else None,
    )
    @click.argument(
        "base_arg",
        metavar="[BASE]",
        required=kind == "support",
        default=None,
        shell_complete=complete_base(kind),
    )
    @click.option(
        "--base",
        "base_opt",
        metavar="B",
        help="Start from B instead of the default base.",
        shell_complete=complete_base(kind),
    )
    @click.option("-F", "--fetch", is_flag=True, help="Fetch the base from the remote first.")
    @click.option(
        "--abort",
        is_flag=True,
        is_eager=True,  # before the arguments it does not need are found missing
        expose_value=False,
        callback=lambda ctx, _, value: (
            _abort_start(ctx, kind) if value and not ctx.resilient_parsing else None  # not on TAB
        ),
        help=f"Undo a {kind} start that was killed half-way (a failed one undoes itself).",
    )
    @pass_state
    def start(
        state: AppState,
        /,
        base_arg: str | None,
        base_opt: str | None,
        fetch: bool,
        no_jira: bool = False,
        assign: bool = False,
        **kw: Any,
    ) -> None:
        from jiraflow.services import remote

        part = _version_part(kind, kw[arg], kw)
        flow = state.flow()
        base = base_opt or base_arg
        name, tracker, known = kw[arg], None, None
        actions: list[dict[str, Any]] = []
        if assign and no_jira:
            from jiraflow.errors import UsageError

            raise UsageError("--assign and --no-jira cannot be used together", "Give one.")
        if kind in ("feature", "bugfix") and not no_jira:
            started = remote.issue_start(flow, kind, name, state, assign=assign)
            if started is not None:
                _, name, actions, known, tracker = started
        start_branch(state, flow, kind, name, base, fetch, actions, tracker, known, part=part)

    if kind in ("feature", "bugfix"):
        start = click.option(
            "--no-jira", is_flag=True, help="Take NAME as a plain name; do not ask Jira."
        )(start)
        start = click.option("--assign", is_flag=True, help=ASSIGN_HELP)(start)
    if computed:
        for part in ("major", "minor", "patch") if kind == "release" else ("patch",):
            start = click.option(
                f"--{part}",
                is_flag=True,
                help=f"VERSION is the next {part} after the highest version tag.",
            )(start)
    start.help = {
        "support": "Start support branch VERSION from BASE (a tag or commit on main).",
        "hotfix": "Start hotfix VERSION from main (or BASE). Without VERSION: the next patch "
        "after the highest version tag on the base (asked for on a terminal).",
        "release": "Start release VERSION from develop (or BASE). Without VERSION: the next "
        "minor (or --major, --patch) after the highest version tag (asked for on a terminal).",
    }.get(
        kind,
        f"Start {kind} NAME from develop (or BASE). NAME may be a Jira issue key (PROJ-12): "
        "the branch is named from its summary, and the issue assigned and moved to In Progress.",
    )
    return start


def _abort_start(ctx: click.Context, kind: str) -> None:
    """`<kind> start --abort`: undo a start that was killed half-way (see abort_start), then
    end the command (the option is eager: NAME and the other options are not used)."""
    from jiraflow.gitflow import journal
    from jiraflow.gitflow.start import abort_start

    state = ctx.find_object(AppState)
    if state is None:  # parsed, not run (the docs' checks): nothing to do
        return
    flow = state.flow()
    with journal.lock(flow.repo):
        lines = abort_start(flow, kind, dry_run=state.dry_run)
    if state.dry_run:
        state.renderer.plan(lines)
    else:
        state.renderer.summary(lines)
        state.renderer.note(branch=flow.repo.head().branch)
    ctx.exit(0)


def _version_part(kind: str, version: str | None, flags: dict[str, Any]) -> str | None:
    """The part (major, minor, patch) that --major/--minor/--patch ask to bump, if any."""
    from jiraflow.errors import UsageError

    parts = [p for p in ("major", "minor", "patch") if flags.get(p)]
    if len(parts) > 1:
        raise UsageError(
            " and ".join("--" + p for p in parts) + " cannot be used together", "Give one."
        )
    if parts and version:
        raise UsageError(
            f"VERSION ('{version}') and --{parts[0]} cannot be used together",
            f"Give one; to start from another base with --{parts[0]}, use --base B.",
        )
    return parts[0] if parts else None


def start_branch(
    state: AppState,
    flow: FlowContext,
    kind: str,
    name: str | None,
    base: str | None,
    fetch: bool,
    actions: list[dict[str, Any]],
    tracker: Tracker | None,
    known: Issue | None,
    *,
    part: str | None = None,
) -> None:
    """Build and run the start plan. A release or hotfix without `name` (VERSION) gets the
    next `part` version: as it is with --major/--minor/--patch, asked for on a terminal
    otherwise (the proposal as the default), or taken and said when there is none."""
    import sys

    from jiraflow.gitflow.start import Proposal, plan_start
    from jiraflow.services import remote

    if state.dry_run and fetch:
        state.renderer.line(f"(would first run: git fetch --prune {flow.model.remote})")
    # a dry run changes nothing, remote-tracking refs included
    fetch = fetch and not state.dry_run

    def choose(proposal: Proposal) -> str:
        proposed = str(proposal.version)
        asked = part is None and not state.dry_run and not state.json
        if asked and sys.stdin.isatty() and sys.stdout.isatty():
            return str(click.prompt(f"{kind.capitalize()} version", default=proposed, err=True))
        if state.dry_run:  # otherwise the summary says it
            state.renderer.line(proposal.describe(), err=state.json)
        return proposed

    if kind in ("release", "hotfix") and flow.config.jira.version_on_start:
        tracker = remote.tracker_for(flow, state)

    def build() -> Plan:
        plan = plan_start(flow, kind, name, base, fetch=fetch, part=part, choose=choose)
        plan.remote = actions
        if kind in ("release", "hotfix") and tracker is not None:
            from jiraflow.services.releasing import start_actions

            version = plan.branch[len(flow.model.prefixes[kind]) :]
            plan.remote = start_actions(
                flow, tracker, version, base or flow.model.default_base(kind)
            )
        return plan

    run_plan(state, flow, build, tracker=tracker, known=known)


def _finish_command(kind: str) -> click.Command:
    version_kind = kind in ("release", "hotfix")
    arg = "version" if version_kind else "name"

    @click.command("finish", context_settings=CONTEXT_SETTINGS)
    @click.argument(
        arg, metavar=f"[{arg.upper()}]", required=False, shell_complete=complete_branches(kind)
    )
    @click.option("-F", "--fetch/--no-fetch", default=None, help="Fetch from the remote first.")
    @click.option("-S", "--squash", is_flag=True, help="Squash the branch into one commit.")
    @click.option("-k", "--keep/--no-keep", default=None, help="Keep the branch afterwards.")
    @click.option(
        "-p",
        "--push/--no-push",
        default=None,
        help="Push the results, then delete the remote branch.",
    )
    @click.option("--continue", "cont", is_flag=True, help="Resume after resolving a conflict.")
    @click.option("--abort", is_flag=True, help="Undo the interrupted finish completely.")
    def finish(**kw: Any) -> None:
        state: AppState = click.get_current_context().find_object(AppState)  # type: ignore[assignment]
        if kw["cont"] and kw["abort"]:
            raise click.UsageError("--continue and --abort cannot be used together")
        if kw["cont"] or kw["abort"]:
            resume_or_abort(state, kind, kw["cont"])
            return
        import dataclasses

        from jiraflow.gitflow.finish import FinishOptions, plan_finish
        from jiraflow.services import remote

        flow = state.flow()
        defaults = flow.config.finish

        def pick(flag: bool | None, default: bool) -> bool:
            return default if flag is None else flag

        opts = FinishOptions(
            squash=kw["squash"],
            no_ff=kw.get("no_ff") or defaults.no_ff,
            rebase=kw.get("rebase", False),
            keep=pick(kw["keep"], defaults.keep),
            push=pick(kw["push"], defaults.push),
            # a dry run changes nothing, remote-tracking refs included
            fetch=pick(kw["fetch"], defaults.fetch) and not state.dry_run,
            message=kw.get("message"),
            no_tag=kw.get("no_tag", False),
        )
        if kw.get("pr"):
            used = [f for f in ("squash", "keep", "push", "fetch", "message", "no_tag") if kw[f]]
            if used:
                flags = ", ".join("--" + f.replace("_", "-") for f in used)
                raise click.UsageError(
                    f"{flags} cannot be used with --pr: they apply to the finish that follows "
                    "the merged pull request"
                )
            _open_version_pr(state, flow, kind, kw[arg])
            return
        if state.dry_run and pick(kw["fetch"], defaults.fetch):
            state.renderer.line(f"(would first run: git fetch --prune {flow.model.remote})")
        tracker = remote.tracker_for(flow, state)

        def build() -> Plan:
            branch = flow.resolve(kind, kw[arg])
            if opts.fetch:  # before looking at what the remote already has
                flow.repo.fetch(flow.model.remote)
            if not version_kind:  # the issue's read goes out with the question whether it landed
                remote.read_ahead_finish(tracker, flow, branch)
            landed, keep_remote = _landing(state, flow, kind, branch)
            if not version_kind:
                plan = plan_finish(
                    flow,
                    kind,
                    branch,
                    dataclasses.replace(opts, fetch=False),
                    landed=landed,
                    keep_remote=keep_remote,
                )
                plan.remote = remote.finish_actions(tracker, flow, plan)
                return plan
            from jiraflow.services.releasing import finish_extras

            flow.require_clean()  # before reading the release: the plan checks it too
            extras = finish_extras(state, flow, tracker, kind, branch, landed=landed is not None)
            plan = plan_finish(
                flow,
                kind,
                branch,
                dataclasses.replace(
                    opts, fetch=False, changelog=extras.changelog, notes=extras.tag_notes
                ),
                landed=landed,
                keep_remote=keep_remote,
            )
            plan.remote = extras.actions
            return plan

        run_plan(state, flow, build, tracker=tracker)

    if version_kind:
        finish = click.option(
            "--pr",
            is_flag=True,
            help="Push and open a pull request into main (or the support branch) instead of "
            "merging here; finish again once it is merged to tag it and merge it back.",
        )(finish)
        finish = click.option("-m", "--message", metavar="MSG", help="The tag message.")(finish)
        finish = click.option("-n", "--no-tag", is_flag=True, help="Do not tag.")(finish)
        finish.help = f"Merge the {kind} into main, tag it, merge the tag back, delete the branch."
    else:
        finish = click.option("--no-ff", is_flag=True, help="Always make a merge commit.")(finish)
        finish = click.option("-r", "--rebase", is_flag=True, help="Rebase onto the base first.")(
            finish
        )
        finish.help = f"Merge the {kind} into its base and delete it."
    return finish


def _landing(state: AppState, flow: FlowContext, kind: str, branch: str) -> tuple[Any, str]:
    """Whether the branch already landed on the remote (its pull request was merged), and
    why its remote branch must be kept (an open pull request), for the finish plan."""
    from jiraflow.cli.pr_cmd import forge_for
    from jiraflow.gitflow.finish import Landed, finish_target
    from jiraflow.services.pull_requests import landing, remote_has_more

    if flow.model.remote not in flow.repo.remotes():
        return None, ""
    target = finish_target(flow, kind, branch)
    found = landing(flow, forge_for(flow), branch, target, fetch=not state.dry_run)
    keep = ""
    if found.note:  # git alone decides, and the remote branch stays
        state.renderer.warn(f"could not ask Bitbucket about pull requests: {found.note}")
        keep = "Bitbucket could not be asked whether a pull request is open on it"
    if found.open_pr is not None:
        pull = found.open_pr
        if pull.destination == target and not found.landed:
            state.renderer.warn(
                f"pull request #{pull.id} is open for '{branch}'; merging here, and Bitbucket "
                "marks it merged once the result is pushed"
            )
        keep = f"pull request #{pull.id} into '{pull.destination}' is open on it"
    if found.merged_pr is not None and not found.landed and state.dry_run:
        state.renderer.line(
            f"(pull request #{found.merged_pr.id} is merged: the finish would fetch "
            f"'{flow.model.remote}' and update '{target}' instead of merging)"
        )
    if not found.landed or found.merge_commit is None:
        return None, keep
    if not keep and remote_has_more(flow, branch, target, found):
        keep = "it has commits pushed after the merge"
    how = f"pull request #{found.merged_pr.id}" if found.merged_pr else "a push"
    return Landed(found.merge_commit, how, keep), ""


def _open_version_pr(state: AppState, flow: FlowContext, kind: str, version: str | None) -> None:
    """`release|hotfix finish --pr`: push the branch and open its pull request into main."""
    from jiraflow.cli.pr_cmd import open_pull_request
    from jiraflow.gitflow import journal

    branch = flow.resolve(kind, version)
    flow.require_clean()
    with journal.lock(flow.repo):
        if not state.dry_run:
            journal.refuse_if_busy(flow.repo)
        from jiraflow.services.releasing import commit_changelog

        commit_changelog(state, flow, kind, branch)
        open_pull_request(state, flow, branch)
    if not state.dry_run and not state.json:
        state.renderer.line(
            f"When it is merged, run `jiraflow {kind} finish` to tag it and merge it back."
        )


def _publish_command(kind: str) -> click.Command:
    @click.command("publish", context_settings=CONTEXT_SETTINGS)
    @click.argument(
        "name", metavar="[NAME]", required=False, shell_complete=complete_branches(kind)
    )
    @pass_state
    def publish(state: AppState, name: str | None) -> None:
        """Push the branch to the remote and track it."""
        from jiraflow.gitflow.branches import plan_publish

        flow = state.flow()
        run_plan(state, flow, lambda: plan_publish(flow, kind, name))

    return publish


def _track_command(kind: str) -> click.Command:
    @click.command("track", context_settings=CONTEXT_SETTINGS)
    @click.argument("name", metavar="NAME", shell_complete=complete_remote_branches(kind))
    @pass_state
    def track(state: AppState, name: str) -> None:
        """Fetch NAME from the remote and check out a local branch tracking it."""
        from jiraflow.gitflow.branches import plan_track

        flow = state.flow()
        run_plan(state, flow, lambda: plan_track(flow, kind, name))

    return track


def _delete_command(kind: str) -> click.Command:
    @click.command("delete", context_settings=CONTEXT_SETTINGS)
    @click.argument(
        "name", metavar="[NAME]", required=False, shell_complete=complete_branches(kind)
    )
    @click.option("-f", "--force", is_flag=True, help="Delete even when not merged.")
    @click.option("-r", "--remote", is_flag=True, help="Delete it on the remote too.")
    @pass_state
    def delete(state: AppState, name: str | None, force: bool, remote: bool) -> None:
        """Delete the branch (refused when it is not merged, unless --force)."""
        from jiraflow.gitflow.branches import plan_delete

        flow = state.flow()
        run_plan(state, flow, lambda: plan_delete(flow, kind, name, force=force, remote=remote))

    return delete


def _checkout_command(kind: str) -> click.Command:
    @click.command("checkout", context_settings=CONTEXT_SETTINGS)
    @click.argument("name", metavar="NAME", shell_complete=complete_branches(kind))
    @pass_state
    def checkout(state: AppState, name: str) -> None:
        """Check out the branch NAME (a unique beginning of the name is enough)."""
        from jiraflow.gitflow.branches import plan_checkout

        flow = state.flow()
        run_plan(state, flow, lambda: plan_checkout(flow, kind, name))

    return checkout


def _list_command(kind: str) -> click.Command:
    @click.command("list", context_settings=CONTEXT_SETTINGS)
    @pass_state
    def list_(state: AppState) -> None:
        """List the branches of this type, with commits ahead of and behind their base."""
        from jiraflow.gitflow.branches import list_branches

        flow = state.flow()
        rows = list_branches(flow, kind)
        if state.json:
            state.renderer.data([row.to_json() for row in rows])
            return
        if not rows:
            state.renderer.line(f"No {kind} branches. Start one with `jiraflow {kind} start NAME`.")
            return
        width = max(len(r.name) for r in rows)
        for r in rows:
            mark = "*" if r.current else " "
            state.renderer.line(f"{mark} {r.name:<{width}}  {r.describe()}")

    return list_


def _diff_command(kind: str) -> click.Command:
    @click.command("diff", context_settings=CONTEXT_SETTINGS)
    @click.argument(
        "name", metavar="[NAME]", required=False, shell_complete=complete_branches(kind)
    )
    @pass_state
    def diff(state: AppState, name: str | None) -> None:
        """Show the changes of the branch since it left its base."""
        from jiraflow.gitflow.branches import diff_args

        flow = state.flow()
        args = diff_args(flow, kind, name)
        if state.dry_run:
            state.renderer.plan(["git " + " ".join(args)])
            return
        if state.json:
            state.renderer.data({"command": "git " + " ".join(args), "diff": flow.repo.out(*args)})
            return
        flow.repo.passthrough(*args)

    return diff


def _rebase_command(kind: str) -> click.Command:
    @click.command("rebase", context_settings=CONTEXT_SETTINGS)
    @click.argument(
        "name", metavar="[NAME]", required=False, shell_complete=complete_branches(kind)
    )
    @click.option(
        "-i", "--interactive", is_flag=True, help="Rebase interactively (opens the editor)."
    )
    @pass_state
    def rebase(state: AppState, name: str | None, interactive: bool) -> None:
        """Rebase the branch onto its base."""
        from jiraflow.gitflow.branches import plan_rebase

        flow = state.flow()
        if interactive:
            from jiraflow.gitflow.branches import interactive_rebase_args

            args = interactive_rebase_args(flow, kind, name)
            if state.dry_run:
                state.renderer.plan(["git " + " ".join(args)])
            else:
                flow.repo.passthrough(*args)
            return
        run_plan(state, flow, lambda: plan_rebase(flow, kind, name))

    return rebase


_FACTORIES: dict[str, Callable[[str], click.Command]] = {
    "start": _start_command,
    "finish": _finish_command,
    "publish": _publish_command,
    "track": _track_command,
    "delete": _delete_command,
    "checkout": _checkout_command,
    "list": _list_command,
    "diff": _diff_command,
    "rebase": _rebase_command,
}

_WORK_COMMANDS = (
    "start",
    "finish",
    "publish",
    "track",
    "delete",
    "checkout",
    "list",
    "diff",
    "rebase",
)
_COMMANDS = {
    "feature": _WORK_COMMANDS,
    "bugfix": _WORK_COMMANDS,
    "release": ("start", "finish", "publish", "track", "delete", "list"),
    "hotfix": ("start", "finish", "publish", "track", "delete", "list"),
    "support": ("start", "list"),
}

_HELP = {
    "feature": "Feature branches: new work, merged into develop.",
    "bugfix": "Bugfix branches: fixes for develop, merged like features.",
    "release": "Release branches: from develop, merged into main and tagged.",
    "hotfix": "Hotfix branches: from main, merged into main, tagged, and merged back.",
    "support": "Support branches: long-lived maintenance lines from a tag on main.",
}


class FlowGroup(click.Group):
    """One branch type's commands, each made when first asked for: a TAB in `feature
    finish` builds that one command, not the forty of all five types."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind, help=_HELP[kind], context_settings=CONTEXT_SETTINGS)
        self.kind = kind

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS[self.kind], *(["notes"] if self.kind == "release" else [])})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands:
            if name in _COMMANDS[self.kind]:
                self.add_command(_FACTORIES[name](self.kind))
            elif name == "notes" and self.kind == "release":
                from jiraflow.cli.notes_cmd import notes

                self.add_command(notes)
        return self.commands.get(name)


feature = FlowGroup("feature")
bugfix = FlowGroup("bugfix")
release = FlowGroup("release")
hotfix = FlowGroup("hotfix")
support = FlowGroup("support")


# -- `jiraflow finish`: whatever the type ----------------------------------------------------------
FINISHED_KINDS = ("feature", "bugfix", "release", "hotfix")
_GROUPS = {"feature": feature, "bugfix": bugfix, "release": release, "hotfix": hotfix}


def _complete_work_branches(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[Any]:
    """NAME of `jiraflow finish`: the feature, bugfix, release and hotfix branches."""
    from jiraflow.cli.complete import _flow, _items, _refs

    try:
        flow = _flow(ctx)
        bases = ["refs/heads/" + flow.model.prefixes[k] for k in FINISHED_KINDS]
        refs = _refs(flow, "", *bases)
        return _items([b[11:] + n for b in bases for n in refs[b]], incomplete)
    except Exception:  # a TAB never fails
        return []


def _which(flow: FlowContext, name: str | None) -> tuple[str, str]:
    """(type, branch) of the branch `jiraflow finish [NAME]` finishes: the current branch,
    or the one NAME names (its full name, or its name in one of the types)."""
    from jiraflow.errors import JiraflowError, UsageError

    kinds = ", ".join(FINISHED_KINDS[:-1]) + " or " + FINISHED_KINDS[-1]
    if not name:
        current = flow.current_branch()
        parsed = flow.model.parse(current)
        if parsed and parsed[0] in FINISHED_KINDS:
            return parsed[0], current
        prefixes = [flow.model.prefixes[k] for k in FINISHED_KINDS]
        branches = [b for p in prefixes for b in flow.repo.branches(p)]
        raise UsageError(
            f"the current branch '{current}' is no {kinds} branch: there is nothing to finish",
            f"Name the branch: `jiraflow finish {branches[0]}`."
            if branches
            else "Start one first: `jiraflow feature start NAME`.",
        )
    parsed = flow.model.parse(name)
    if parsed and parsed[0] in FINISHED_KINDS and flow.repo.has_branch(name):
        return parsed[0], name
    found: list[tuple[str, str]] = []
    for kind in FINISHED_KINDS:
        try:
            found.append((kind, flow.resolve(kind, name)))
        except JiraflowError:
            continue
    if len(found) == 1:
        return found[0]
    if found:
        shown = ", ".join(branch for _, branch in found)
        raise UsageError(
            f"'{name}' matches several branches: {shown}",
            f"Name one in full: `jiraflow finish {found[0][1]}`.",
        )
    raise UsageError(
        f"there is no {kinds} branch '{name}'",
        "`jiraflow feature list` (or bugfix, release, hotfix list) shows them.",
    )


@click.command("finish", context_settings=CONTEXT_SETTINGS)
@click.argument("name", metavar="[NAME]", required=False, shell_complete=_complete_work_branches)
@click.option("-F", "--fetch/--no-fetch", default=None, help="Fetch from the remote first.")
@click.option("-S", "--squash", is_flag=True, help="Squash the branch into one commit.")
@click.option("-k", "--keep/--no-keep", default=None, help="Keep the branch afterwards.")
@click.option(
    "-p", "--push/--no-push", default=None, help="Push the results, then delete the remote branch."
)
@click.option("--continue", "cont", is_flag=True, help="Resume after resolving a conflict.")
@click.option("--abort", is_flag=True, help="Undo the interrupted finish completely.")
@click.option("--no-ff", is_flag=True, help="Always make a merge commit (feature, bugfix).")
@click.option("-r", "--rebase", is_flag=True, help="Rebase onto the base first (feature, bugfix).")
@click.option("-m", "--message", metavar="MSG", help="The tag message (release, hotfix).")
@click.option("-n", "--no-tag", is_flag=True, help="Do not tag (release, hotfix).")
@click.option(
    "--pr",
    is_flag=True,
    help="Push and open a pull request into main instead of merging here (release, hotfix).",
)
@click.pass_context
def finish_any(ctx: click.Context, /, name: str | None, **kw: Any) -> None:
    """Finish the current branch (or NAME), whatever its type: as `feature finish`,
    `bugfix finish`, `release finish` or `hotfix finish` would. NAME is a branch's full name
    (feature/x) or its name in its type."""
    from jiraflow.errors import UsageError
    from jiraflow.gitflow import journal

    state: AppState = ctx.find_object(AppState)  # type: ignore[assignment]
    flow = state.flow()
    if (kw["cont"] or kw["abort"]) and not name:  # the type of the finish that stopped
        entry = journal.in_progress(flow.repo)
        if entry is None:
            raise UsageError(
                f"there is no finish to {'continue' if kw['cont'] else 'abort'}",
                "`jiraflow status` shows where you are.",
            )
        kind, branch = entry.operation.split()[0], None
        if kind not in FINISHED_KINDS or not entry.operation.endswith(" finish"):
            raise UsageError(
                f"the operation in progress is a {entry.operation}",
                journal.what_to_run(flow.repo, entry),
            )
    else:
        kind, branch = _which(flow, name)
    command = _GROUPS[kind].get_command(ctx, "finish")
    assert command is not None
    accepted = {p.name for p in command.params}
    for option, value in kw.items():
        if value and option not in accepted:
            flag = "--" + option.replace("_", "-")
            raise UsageError(
                f"{flag} does not apply to a {kind} finish", f"See `jiraflow {kind} finish --help`."
            )
    arg = "version" if kind in ("release", "hotfix") else "name"
    ctx.invoke(command, **{arg: branch}, **{k: v for k, v in kw.items() if k in accepted})
