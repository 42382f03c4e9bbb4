"""feature, bugfix, release, hotfix and support: the Gitflow commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState
from jiraflow.cli.complete import (
    complete_base,
    complete_branches,
    complete_issues,
    complete_remote_branches,
)


def run_plan(*args: Any, **kwargs: Any) -> None:
    """services.flow.run_plan, imported when a command runs: not on the --help or TAB path."""
    from jiraflow.services.flow import run_plan as run

    run(*args, **kwargs)


pass_state = click.make_pass_decorator(AppState)


def _ask(question: str, default: str) -> str:
    return str(click.prompt(question, default=default, err=True))


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
        from jiraflow.services.flow import start_work

        part = _version_part(kind, kw[arg], kw)
        flow = state.flow()
        base = base_opt or base_arg
        start_work(
            state,
            flow,
            kind,
            kw[arg],
            base,
            fetch=fetch,
            no_jira=no_jira,
            assign=assign,
            part=part,
            ask=_ask,
        )

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
    from jiraflow.services.flow import abort_start

    state = ctx.find_object(AppState)
    if state is None:  # parsed, not run (the docs' checks): nothing to do
        return
    abort_start(state, state.flow(), kind)
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
    @pass_state
    def finish(
        state: AppState,
        /,
        fetch: bool | None,
        squash: bool,
        keep: bool | None,
        push: bool | None,
        cont: bool,
        abort: bool,
        pr: bool = False,
        **kw: Any,
    ) -> None:
        from jiraflow.services import flow as service

        if cont and abort:
            raise click.UsageError("--continue and --abort cannot be used together")
        log = kw.get("log")
        if log is not None:  # checked before anything changes
            if cont or abort:
                raise click.UsageError("--log cannot be used with --continue or --abort")
            from jiraflow.services.worklogs import duration

            duration([log])
        if cont or abort:
            service.resume_or_abort(state, state.flow(), kind, cont)
            return
        flow = state.flow()
        flags = service.FinishFlags(
            squash=squash,
            no_ff=kw.get("no_ff", False),
            rebase=kw.get("rebase", False),
            keep=keep,
            push=push,
            fetch=fetch,
            message=kw.get("message"),
            no_tag=kw.get("no_tag", False),
            log=log,
        )
        if pr:
            given: dict[str, object] = {"squash": squash, "keep": keep, "push": push}
            given |= {"fetch": fetch}
            given |= {"message": flags.message, "no_tag": flags.no_tag}
            used = [f for f in ("squash", "keep", "push", "fetch", "message", "no_tag") if given[f]]
            if used:
                names = ", ".join("--" + f.replace("_", "-") for f in used)
                raise click.UsageError(
                    f"{names} cannot be used with --pr: they apply to the finish that follows "
                    "the merged pull request"
                )
            from jiraflow.cli.pr_open import open_pull_request

            service.open_version_pr(
                state, flow, kind, kw[arg], lambda branch: open_pull_request(state, flow, branch)
            )
            return
        from jiraflow.cli.pr_open import opener

        service.finish(state, flow, kind, kw[arg], flags, open_pr=opener(state, flow))

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
        finish = click.option(
            "--log",
            metavar="DURATION",
            help='Log time on the issue in Jira as part of the finish (e.g. "1h 30m").',
        )(finish)
        finish = click.option("-r", "--rebase", is_flag=True, help="Rebase onto the base first.")(
            finish
        )
        finish.help = f"Merge the {kind} into its base and delete it."
    return finish


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
_GROUPS = {"feature": feature, "bugfix": bugfix, "release": release, "hotfix": hotfix}


def _complete_work_branches(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[Any]:
    """NAME of `jiraflow finish`: the feature, bugfix, release and hotfix branches."""
    from jiraflow.cli.complete import _flow, _items, _refs
    from jiraflow.git import branch_of, branch_ref

    try:
        flow = _flow(ctx)
        from jiraflow.gitflow.model import FINISHED_KINDS

        bases = [branch_ref(flow.model.prefixes[k]) for k in FINISHED_KINDS]
        refs = _refs(flow, "", *bases)
        return _items([branch_of(b) + n for b in bases for n in refs[b]], incomplete)
    except Exception:  # a TAB never fails
        return []


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
    "--log",
    metavar="DURATION",
    help='Log time on the issue in Jira as part of the finish (feature, bugfix; e.g. "1h 30m").',
)
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
    from jiraflow.services.flow import stopped_finish, which

    state: AppState = ctx.find_object(AppState)  # type: ignore[assignment]
    flow = state.flow()
    if (kw["cont"] or kw["abort"]) and not name:  # the type of the finish that stopped
        kind, branch = stopped_finish(flow, kw["cont"]), None
    else:
        kind, branch = which(flow, name)
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
