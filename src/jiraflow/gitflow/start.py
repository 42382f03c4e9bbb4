"""`<kind> start`: create a branch of the model from its base (git-flow AVH's rules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jiraflow.errors import RepoStateError, UsageError
from jiraflow.git import REMOTES, GitRepo, branch_ref
from jiraflow.gitflow import versions
from jiraflow.gitflow.context import FlowContext
from jiraflow.gitflow.journal import Journal, refuse_if_busy
from jiraflow.gitflow.naming import check_branch_name
from jiraflow.gitflow.plan import WRITE, Plan, Step
from jiraflow.gitflow.versions import Version
from jiraflow.templates import fill
from jiraflow.text import plural


@dataclass(frozen=True, eq=False, repr=False)
class Proposal:
    """The version `release|hotfix start` computes when none is given."""

    kind: str
    version: Version
    part: str  # "major", "minor" or "patch"
    highest: tuple[Version, str] | None  # the version tag it is the next `part` after

    def describe(self) -> str:
        """e.g. "release version 1.5.0 (the next minor after 1.4.0)"."""
        if self.highest is None:
            after = "there are no version tags yet"
        else:
            top, tag = self.highest
            v = self.version
            same = (v.major, v.minor, v.patch) == (top.major, top.minor, top.patch)
            after = f"the release of {top}" if same else f"the next {self.part} after {top}"
            after += f" ('{tag}')" if tag != str(top) else ""
        return f"{self.kind} version {self.version} ({after})"


# Picks the version from a proposal: the CLI asks on a terminal, or takes the proposal.
Chooser = Callable[[Proposal], str]


def plan_start(
    ctx: FlowContext,
    kind: str,
    name: str | None,
    base: str | None = None,
    *,
    fetch: bool = False,
    part: str | None = None,
    choose: Chooser | None = None,
) -> Plan:
    """The plan of `<kind> start`. For a release or hotfix, `name` None computes the
    version from the highest version tag: the next `part` (by default the next minor of a
    release, the next patch of a hotfix), which `choose` may replace."""
    repo, model = ctx.repo, ctx.model
    refuse_if_busy(repo)
    ctx.require_initialised()
    if name is None and kind not in ("release", "hotfix"):
        raise UsageError(f"{kind} start needs a name")
    branch = check_branch_name(model.branch(kind, name), name) if name is not None else ""
    if kind == "support" and not base:
        raise UsageError("support start needs a base", "e.g. `jiraflow support start 1.x 1.0.0`")
    track = False  # the configured base is a release branch only the remote has
    if base is None and kind == "feature" and ctx.config.feature.base == "release":
        base, track = open_release(ctx, fetch=fetch)
        fetch = False  # open_release fetched
    base = base or model.default_base(kind)
    if kind != "feature" and kind != "bugfix":
        ctx.require_clean()
    if fetch and repo.remote_branch(model.remote, base):
        repo.fetch(model.remote)
    proposal = None
    if name is None:
        _require_single(ctx, kind)
        _check_base(ctx, kind, base)
        part = part or versions.default_part(kind)
        top = _highest(ctx, kind, base)
        proposal = Proposal(kind, versions.bump(top[0] if top else None, part), part, top)
        name = (choose(proposal) if choose else str(proposal.version)).strip()
        if not name:
            raise UsageError(f"no {kind} version given")
        branch = check_branch_name(model.branch(kind, name), name)
    _require_absent(ctx, branch)
    if kind in ("release", "hotfix"):
        _require_single(ctx, kind)
        tag = model.tag(name)
        if repo.has_tag(tag):
            raise RepoStateError(
                f"the tag '{tag}' already exists",
                f"Choose another version, or `git tag -d {tag}` if it is a mistake.",
            )
    if proposal is None and not track:  # else checked before proposing (or made below)
        _check_base(ctx, kind, base)
    if kind in ("release", "hotfix") and versions.parse(name) is not None:
        top = proposal.highest if proposal else _highest(ctx, kind, base)
        other = base if base != model.default_base(kind) else None
        versions.check_new(name, top, kind, base=other)

    plan = Plan(f"{kind} start", branch, moves={branch_ref(branch)})
    if track:
        remote_base = f"{model.remote}/{base}"
        plan.moves.add(branch_ref(base))
        plan.add("branch", "--quiet", "--track", base, remote_base)
    plan.add("checkout", "--quiet", "-b", branch, base)
    if kind != "support" and base != model.default_base(kind):
        # Recorded where AVH records it, so finish (ours or `git flow`) merges back into it;
        # the default base needs no record (both tools fall back to it).
        plan.add("config", f"gitflow.branch.{branch}.base", base)
    plan.summary = [f"created '{branch}' from '{base}'"]
    if track:
        plan.summary.insert(0, f"created '{base}' to track '{model.remote}/{base}'")
    if proposal is not None and name == str(proposal.version):
        plan.summary.append(proposal.describe())
    if kind in ("release", "hotfix"):
        _bump_version_files(ctx, plan, base, name)
    plan.summary.append(f"you are now on '{branch}'")
    return plan


def open_release(ctx: FlowContext, *, fetch: bool = False) -> tuple[str, bool]:
    """The base of a feature when `feature.base` is "release": the one open release branch,
    local or only on the remote (then True: the start makes a local branch tracking it).
    None open, or several, is refused: the user says which with --base."""
    repo, model = ctx.repo, ctx.model
    prefix = model.prefixes["release"]
    if fetch and repo.remote_branch(model.remote, model.develop):
        repo.fetch(model.remote)
    local = repo.branches(prefix)
    remote = [
        ref[len(REMOTES) + len(model.remote) + 1 :]
        for ref in repo.refs()
        if ref.startswith(f"{REMOTES}{model.remote}/{prefix}")
    ]
    names = sorted(set(local) | set(remote))
    if not names:
        raise RepoStateError(
            "feature.base is 'release', but no release branch is open",
            "Start one (`jiraflow release start VERSION`), "
            f"or add `--base {model.develop}` to start this feature from {model.develop}.",
        )
    if len(names) > 1:
        shown = ", ".join(names)
        raise RepoStateError(
            f"feature.base is 'release', but several release branches are open: {shown}",
            f"Add `--base {names[0]}` (or another of them) to say which.",
        )
    return names[0], names[0] not in local


def _check_base(ctx: FlowContext, kind: str, base: str) -> None:
    repo, model = ctx.repo, ctx.model
    if kind == "support":
        if repo.commit_of(base) is None:
            raise UsageError(f"'{base}' is not a commit, branch or tag")
        if not repo.is_ancestor(base, model.main):
            raise UsageError(f"'{base}' is not a commit on '{model.main}'")
    else:
        if not repo.has_branch(base):
            raise RepoStateError(
                f"the base '{base}' is not a local branch",
                f"Create it first (`git branch {base} {model.remote}/{base}`) or choose another.",
            )
        require_not_behind(ctx, base)


def _highest(ctx: FlowContext, kind: str, base: str) -> tuple[Version, str] | None:
    """The version tag a new release or hotfix must be above. A release from develop must
    be above everything released: every version tag counts. A hotfix (or a release from
    another base, such as a support branch) continues its base: only the tags reachable
    from the base count, so a hotfix of support/1.x follows the highest 1.x tag."""
    everything = kind == "release" and base == ctx.model.develop
    merged = None if everything else branch_ref(base)
    return versions.highest(ctx.repo, ctx.model.tag_prefix, merged)


def _bump_version_files(ctx: FlowContext, plan: Plan, base: str, version: str) -> None:
    """Write `version` into each of `release.version_files` (read from the base commit) and
    commit them on the new branch. Files already at that version need no commit."""
    paths = ctx.config.release.version_files
    if not paths:
        return
    from jiraflow.gitflow import version_files  # tomllib and json: only when there are files

    changed = {}
    for path, text in version_files.read_at(ctx.repo, base, paths).items():
        new = version_files.bumped(path, text, version)
        if new != text:
            changed[path] = new
    if not changed:
        plan.summary.append(f"the version files already hold {version}")
        return
    for path, new in changed.items():
        plan.add(path, kind=WRITE, message=new)
    message = _bump_message(ctx.config.release.bump_message, version, ctx.model.tag(version))
    plan.add("add", "--", *changed)
    # --no-verify like jiraflow's other commits: a commit-msg hook asking for an issue key
    # must not stop the start
    plan.add("commit", "--quiet", "--no-verify", "-m", message)
    plan.summary.append(f"set the version to {version} in {', '.join(changed)} ('{message}')")


def _bump_message(template: str, version: str, tag: str) -> str:
    return fill("release.bump_message", template, {"version": version, "tag": tag})


def _require_absent(ctx: FlowContext, branch: str) -> None:
    repo = ctx.repo
    if repo.has_branch(branch):
        raise RepoStateError(
            f"the branch '{branch}' already exists",
            f"Check it out with `git checkout {branch}`, or choose another name.",
        )
    if repo.remote_branch(ctx.model.remote, branch):
        raise RepoStateError(
            f"the branch '{branch}' already exists on '{ctx.model.remote}'",
            "Track it with `jiraflow <type> track NAME`, or choose another name.",
        )
    # git keeps refs as files: 'a/b' cannot exist beside 'a', nor 'a' beside 'a/b'.
    parts = branch.split("/")
    for i in range(1, len(parts)):
        prefix = "/".join(parts[:i])
        if repo.has_branch(prefix):
            raise RepoStateError(
                f"'{branch}' cannot be created because a branch '{prefix}' exists",
                "Choose another name, or rename that branch.",
            )
    below = repo.branches(branch + "/")
    if below:
        raise RepoStateError(
            f"'{branch}' cannot be created because a branch '{below[0]}' exists",
            "Choose another name.",
        )


def _require_single(ctx: FlowContext, kind: str) -> None:
    existing = ctx.repo.branches(ctx.model.prefixes[kind])
    if existing:
        raise RepoStateError(
            f"the {kind} branch '{existing[0]}' is still open",
            f"Finish it first (`jiraflow {kind} finish`), or delete it.",
        )


def require_not_behind(ctx: FlowContext, branch: str) -> None:
    """Refuse when the remote has commits that the local branch lacks."""
    remote_ref = ctx.repo.remote_branch(ctx.model.remote, branch)
    if remote_ref is None:
        return
    refs = ctx.repo.refs()
    if refs[branch_ref(branch)] == refs[remote_ref]:
        return
    _, behind = ctx.repo.ahead_behind(branch, remote_ref)
    if behind:
        remote_name = remote_ref[len(REMOTES) :]
        # back to where the command was run: a finish takes its branch from HEAD
        here = ctx.repo.head().branch
        back = f" && git checkout {here}" if here and here != branch else ""
        raise RepoStateError(
            f"'{branch}' is behind '{remote_name}' by {plural(behind, 'commit')}",
            f"Update it first (`git checkout {branch} && git pull{back}`), "
            "then run the command again.",
        )


# -- undoing a start that was killed ----------------------------------------------------------
def abort_start(ctx: FlowContext, kind: str, *, dry_run: bool = False) -> list[str]:
    """`<kind> start --abort`: undo a start that was killed (SIGKILL, power loss) half-way,
    which the journal it left shows. A start that fails or gets Ctrl-C undoes itself; a
    killed one cannot, and every changing command refuses until this has run. Only what the
    start made goes: its branch while it holds the base or the start's own version commit,
    the version files while they hold what it wrote, its `gitflow.branch.*` setting. A branch
    the user has since committed on, or a file they changed, is kept and said so. Returns
    what was (with `dry_run`: would be) done."""
    from jiraflow.gitflow import journal as journals

    repo = ctx.repo
    entry = Journal.load(repo)
    operation = f"{kind} start"
    if entry is None:
        raise UsageError(
            f"there is no {operation} to abort",
            "A start that fails or is interrupted with Ctrl-C puts everything back itself.",
        )
    if entry.operation != operation:
        raise UsageError(
            f"the operation in progress is a {entry.operation}", journals.what_to_run(repo, entry)
        )
    what = repo.operation_in_progress()
    if what:
        raise RepoStateError(
            f"{what} is in progress in this repository", journals.git_way_out(what)
        )
    branch, head = entry.branch, repo.head()
    tip = repo.refs(fresh=True).get(branch_ref(branch))
    kept = _not_made_by(repo, entry, tip)
    changed = [p for p in _written(entry) if not _holds_written(repo, entry, p)]
    if changed:
        kept = kept or f"{', '.join(changed)} changed since the start wrote it"
    done = f"undid the interrupted {operation} of '{branch}'"
    if kept:
        # Someone built on it: nothing is taken away, the journal alone goes.
        if not dry_run:
            entry.remove(repo)
        return [f"{done}: kept '{branch}' as it is ({kept})"]
    lines = [done] if not dry_run else [f"would undo the interrupted {operation} of '{branch}'"]
    if tip is not None:
        lines.append(f"deleted '{branch}'")
    restored = [p for p in _written(entry) if _differs_from_head(repo, p)]
    if restored:
        lines.append(f"put back {', '.join(restored)}")
    original = entry.head.get("branch")
    if head.branch not in (branch, original):
        entry.head = {"branch": head.branch, "commit": head.commit}  # stay where the user went
    lines.append(f"you are on '{entry.head.get('branch') or head.commit}'")
    if not dry_run:
        journals.abort(repo, entry)
    return lines


def _written(entry: Journal) -> list[str]:
    """The files the start's write steps wrote or may have been writing when it stopped."""
    return [s.argv[0] for s in entry.steps[: entry.next + 1] if s.kind == WRITE]


def _holds_written(repo: GitRepo, entry: Journal, path: str) -> bool:
    """Whether the file holds what the start wrote, part of it (killed while writing), or
    what the commit has (not written yet, or put back): anything else is the user's."""
    step = next(s for s in entry.steps if s.kind == WRITE and s.argv[0] == path)
    text = _read(repo, path)
    if text is None or (step.message or "").startswith(text):
        return True
    return not _differs_from_head(repo, path)


def _differs_from_head(repo: GitRepo, path: str) -> bool:
    return not repo.ok("diff", "--quiet", "HEAD", "--", path)


def _read(repo: GitRepo, path: str) -> str | None:
    import os

    try:
        with open(os.path.join(repo.root, path), encoding="utf-8", newline="") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _not_made_by(repo: GitRepo, entry: Journal, tip: str | None) -> str:
    """Why the start's branch is not the start's own work any more ("" when it is): it
    holds the base (what its checkout started from) or, on top of it, the start's version
    commit."""
    if tip is None:
        return ""
    checkout = ("checkout", "--quiet", "-b")
    create = next((s.argv for s in entry.steps if s.argv[:3] == checkout), ())
    base = create[-1] if create else None
    base_commit = repo.commit_of(base) if base else None
    if tip == base_commit:
        return ""
    commit = next((s for s in entry.steps if s.argv[:1] == ("commit",)), None)
    message = _message_of(commit) if commit else None
    if base_commit and message is not None:
        line = repo.out("log", "-1", "--format=%P%x00%B", tip)
        parents, _, body = line.partition("\0")
        if parents == base_commit and body.strip() == message.strip():
            return ""
    subject = repo.out("log", "-1", "--format=%h %s", tip)
    return f"it has commits the start did not make: {subject}"


def _message_of(step: Step) -> str | None:
    argv = step.argv
    return argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None
