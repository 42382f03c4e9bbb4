"""`jiraflow board`: the release manager's picture: one row per issue (its Jira summary, type,
status and newest pull request) and, per environment of [[environments]] in promotion order,
whether the environment's branch holds the issue's commits (all, some or none) and, for an
environment that names a Bitbucket `deployment`, whether the last successful deployment does.

An issue's commits here are the commits whose message names its key (merges included: a
merge of a branch named with the key stands for that branch's work). Containment is the walk
of `where` (gitflow/where.py) for every issue at once: one `git log` finds the commits, one
`git rev-list` finds which environment tips (and deployed commits) reach each of them.

Requests (docs/environments.md, "Board"): Jira one search per 100 keys, and for `--release`
one fixVersion search first (its issues need no key search); Bitbucket one list of the
newest pull requests (matched by key in their source branch), the deployment environments
(once, cached) and one read per environment with a `deployment`. Jira or Bitbucket failing
is a warning: the git columns are still shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jiraflow.errors import ConfigError, JiraflowError, UsageError

if TYPE_CHECKING:
    from jiraflow.config import Environment
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.jira.issues import Issue
    from jiraflow.services.deployments import Deployed

RECENT_PULL_REQUESTS = 50  # the newest pull requests read (one request) for the PR column
NO_CHAIN_HINT = (
    'Add the chain to .jiraflow.toml, e.g. `printf \'[[environments]]\\nname = "qa"\\n'
    'branch = "qa"\\n\' >> .jiraflow.toml` (docs/environments.md).'
)
_FIELD = "\x1f"


@dataclass
class Row:
    """One issue of the board."""

    key: str
    summary: str = ""
    type: str = ""
    status: str = ""
    fix_versions: list[str] = field(default_factory=list)
    url: str = ""
    pull_request: dict[str, Any] | None = None  # the newest: id, state, source, url
    commits: list[str] = field(default_factory=list)  # shas naming the key
    merged: dict[str, int] = field(default_factory=dict)  # environment -> commits it holds
    deployed: dict[str, dict[str, Any]] = field(default_factory=dict)  # environment -> answer
    in_commits: bool = True  # named in a commit (--release: in the release's commits)
    in_fix_version: bool | None = None  # --release: Jira has the fixVersion (None: unknown)

    def merged_state(self, environment: str) -> str:
        held, total = self.merged.get(environment, 0), len(self.commits)
        if not total or not held:
            return "no"
        return "yes" if held == total else "partly"

    @property
    def disagreement(self) -> str | None:
        """--release: "no fixVersion" (in the commits only) or "no commits" (fixVersion
        only); None when both agree or Jira could not say."""
        if self.in_fix_version is None:
            return None
        if self.in_commits and not self.in_fix_version:
            return "no fixVersion"
        if self.in_fix_version and not self.in_commits:
            return "no commits"
        return None

    def to_json(self, environments: list[Environment]) -> dict[str, Any]:
        envs = []
        for env in environments:
            entry: dict[str, Any] = {
                "name": env.name,
                "branch": env.branch,
                "merged": self.merged_state(env.name),
                "contains": self.merged.get(env.name, 0),
                "total": len(self.commits),
                "deployed": None,
            }
            if env.deployment:
                entry["deployed"] = self.deployed.get(env.name)
            envs.append(entry)
        return {
            "key": self.key,
            "summary": self.summary,
            "type": self.type,
            "status": self.status,
            "fix_versions": list(self.fix_versions),
            "url": self.url or None,
            "pull_request": self.pull_request,
            "commits": list(self.commits),
            "environments": envs,
            "in_commits": self.in_commits,
            "in_fix_version": self.in_fix_version,
            "disagreement": self.disagreement,
        }


@dataclass
class Board:
    selection: dict[str, Any]
    environments: list[Environment]
    rows: list[Row] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """ "12 issues: 12 in qa, 9 in staging, 0 deployed to production; 1 without
        fixVersion"."""
        count = len(self.rows)
        parts = []
        for env in self.environments:
            if env.deployment:
                done = sum(
                    1 for r in self.rows if r.deployed.get(env.name, {}).get("deployed") == "yes"
                )
                parts.append(f"{done} deployed to {env.name}")
            else:
                done = sum(1 for r in self.rows if r.merged_state(env.name) == "yes")
                parts.append(f"{done} in {env.name}")
        text = f"{count} issue{'' if count == 1 else 's'}"
        if parts:
            text += ": " + ", ".join(parts)
        extra = []
        without = sum(1 for r in self.rows if r.disagreement == "no fixVersion")
        orphans = sum(1 for r in self.rows if r.disagreement == "no commits")
        if without:
            extra.append(f"{without} without fixVersion")
        if orphans:
            extra.append(f"{orphans} with the fixVersion but no commits")
        return text + ("; " + ", ".join(extra) if extra else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "selection": self.selection,
            "environments": [e.to_json() for e in self.environments],
            "issues": [r.to_json(self.environments) for r in self.rows],
            "summary": self.summary,
            "warnings": list(self.warnings),
        }


# -- building it ------------------------------------------------------------------------------
def build(
    flow: FlowContext,
    *,
    release: str | None = None,
    jql: str | None = None,
    since: str | None = None,
    keys: tuple[str, ...] = (),
) -> Board:
    """The board of the issues chosen by exactly one of release, jql, since or keys."""
    environments = list(flow.config.environments)
    if not environments:
        raise ConfigError("no environments: [[environments]] is not configured", NO_CHAIN_HINT)
    chosen = [bool(release), bool(jql), bool(since), bool(keys)]
    if sum(chosen) != 1:
        raise UsageError(
            "choose the issues with one of --release, --jql, --since or KEY...",
            "jiraflow board --release 1.2.0",
        )
    from jiraflow.services.remote import tracker_for

    tracker = tracker_for(flow)
    board = Board({}, environments)
    found: dict[str, Issue] = {}
    sites: dict[str, str] = {}
    in_version: set[str] | None = None
    commits: dict[str, list[str]]
    if release:
        rev_range = _release_range(flow, release)
        board.selection = {"by": "release", "value": release, "range": rev_range}
        commits = _commits_of_range(flow, rev_range, tracker.accepts if tracker.enabled else None)
        if tracker.enabled:
            in_version = _fix_version(flow, tracker, release, found, sites, board.warnings)
        wanted = list(commits) + sorted((in_version or set()) - set(commits))
    elif since:
        head = _open_release(flow) or flow.model.develop
        rev_range = f"{since}..{head}"
        board.selection = {"by": "since", "value": since, "range": rev_range}
        commits = _commits_of_range(flow, rev_range, tracker.accepts if tracker.enabled else None)
        wanted = list(commits)
    elif jql:
        board.selection = {"by": "jql", "value": jql}
        if not tracker.enabled:
            raise ConfigError("--jql needs Jira, which is not set up", "jiraflow auth login jira")
        site = tracker.sites[0]
        issues = tracker.client(site).search(jql)  # the rows themselves: a failure stops here
        for issue in issues:
            found[issue.key] = issue
            sites[issue.key] = site.url
        wanted = [i.key for i in issues]
        commits = {}
    else:
        wanted = _normal_keys(flow, keys)
        board.selection = {"by": "keys", "value": wanted}
        commits = {}
    range_keys = set(commits)
    missing = [k for k in wanted if k not in commits]
    if missing:
        commits.update(_commits_naming(flow, missing))
    if tracker.enabled:
        _lookup(tracker, [k for k in wanted if k not in found], found, sites, board.warnings)
    for key in wanted:
        row = Row(key, commits=commits.get(key, []))
        row.in_commits = bool(row.commits)
        issue = found.get(key)
        if issue is not None:
            row.summary, row.type, row.status = issue.summary, issue.type, issue.status.name
            row.fix_versions = list(issue.fix_versions)
            row.url = f"{sites[key]}/browse/{key}" if key in sites else ""
        if release:
            row.in_commits = key in range_keys
            row.in_fix_version = None if in_version is None else key in in_version
        board.rows.append(row)
    _contain(flow, board)
    _pull_requests(flow, board)
    return board


def _release_range(flow: FlowContext, version: str) -> str:
    """Released (its tag exists): the tag against the previous release tags; unreleased:
    the open release branch (else develop) against the last release tag."""
    from jiraflow.gitflow import notes
    from jiraflow.services.releasing import release_range

    tag = flow.model.tag(version)
    if flow.repo.commit_of(f"refs/tags/{tag}") is not None:
        return notes.release_range(flow.repo, flow.model.tag_prefix, tag)
    branch = flow.model.prefixes["release"] + version
    head = flow.model.develop
    for ref in (f"refs/heads/{branch}", f"refs/remotes/{flow.model.remote}/{branch}"):
        if flow.repo.commit_of(ref) is not None:
            head = ref
            break
    return release_range(flow, head, version)


def _open_release(flow: FlowContext) -> str | None:
    """The open release branch (local or the remote's), the highest version when several."""
    from jiraflow.gitflow.where import _branch_name, _commit_refs, _version_order

    prefix = flow.model.prefixes["release"]
    if not prefix:
        return None
    remote = flow.model.remote
    names = {
        _branch_name(ref, [remote]) or ""
        for ref in _commit_refs(flow.repo)
        if ref.startswith((f"refs/heads/{prefix}", f"refs/remotes/{remote}/{prefix}"))
    }
    names.discard("")
    if not names:
        return None
    best = max(names, key=lambda n: _version_order(n[len(prefix) :]))
    local = f"refs/heads/{best}"
    return local if flow.repo.commit_of(local) else f"refs/remotes/{remote}/{best}"


def _commits_of_range(flow: FlowContext, rev_range: str, accepts: Any) -> dict[str, list[str]]:
    """key -> the commits of the range naming it (one git log), keys in order of first
    appearance (oldest first)."""
    from jiraflow.gitflow import notes

    by_key: dict[str, list[str]] = {}
    for commit in notes.commits_in(flow.repo, rev_range):
        for key in commit.keys:
            if accepts is None or accepts(key):
                by_key.setdefault(key, []).append(commit.sha)
    return by_key


def _commits_naming(flow: FlowContext, keys: list[str]) -> dict[str, list[str]]:
    """key -> the commits of any branch or tag whose message names it (one git log)."""
    from jiraflow.keys import keys_in

    wanted = set(keys)
    greps = [f"--grep={k}" for k in keys]
    text = flow.repo.run(
        "log", "-z", "--branches", "--remotes", "--tags", "--no-show-signature",
        "--no-color", "--reverse", "-F", *greps, f"--format=%H{_FIELD}%B", check=False,
    ).stdout  # fmt: skip
    by_key: dict[str, list[str]] = {k: [] for k in keys}
    for record in text.split("\0"):
        if not record.strip():
            continue
        sha, _, message = record.partition(_FIELD)
        for key in set(keys_in(message)) & wanted:
            by_key[key].append(sha.strip())
    return by_key


def _normal_keys(flow: FlowContext, keys: tuple[str, ...]) -> list[str]:
    from jiraflow.keys import normalise_key

    jira = flow.config.jira
    projects = [*jira.projects, *(p for row in jira.sites for p in row.get("projects") or [])]
    out = []
    for key in keys:
        normal = normalise_key(key.strip(), projects)
        if normal is None:
            raise UsageError(
                f"'{key}' is not a Jira issue key",
                "Give one like PROJ-12: jiraflow board PROJ-12",
            )
        out.append(normal)
    return list(dict.fromkeys(out))


def _fix_version(
    flow: FlowContext,
    tracker: Any,
    version: str,
    found: dict[str, Issue],
    sites: dict[str, str],
    warnings: list[str],
) -> set[str] | None:
    """The keys Jira gives the release's fixVersion (one search on the first site); their
    issues join `found`. None when Jira could not say; a version Jira does not have yet has
    no issues."""
    from jiraflow.jira.client import Refused
    from jiraflow.jira.releases import version_name

    jira = flow.config.jira
    tag = flow.model.tag(version)
    projects = list(jira.projects) or [""]
    names = sorted({version_name(jira.version_name, version, tag, p) for p in projects})
    quoted = ", ".join('"' + n.replace('"', '\\"') + '"' for n in names)
    try:
        site = tracker.sites[0]
        issues = tracker.client(site).search(f"fixVersion in ({quoted})")
    except Refused as exc:
        if exc.status == 400:  # Jira has no such version yet
            return set()
        warnings.append(f"could not ask Jira for fixVersion {version}: {exc.message}")
        return None
    except JiraflowError as exc:
        warnings.append(f"could not ask Jira for fixVersion {version}: {exc.message}")
        return None
    for issue in issues:
        found[issue.key] = issue
        sites[issue.key] = site.url
    return {i.key for i in issues}


def _lookup(
    tracker: Any,
    keys: list[str],
    found: dict[str, Issue],
    sites: dict[str, str],
    warnings: list[str],
) -> None:
    keys = [k for k in keys if tracker.accepts(k)]
    if not keys:
        return
    try:
        answer = tracker.lookup(keys)
    except JiraflowError as exc:
        warnings.append(f"could not ask Jira about {len(keys)} issues: {exc.message}")
        return
    found.update(answer.issues)
    sites.update(answer.sites)


def _contain(flow: FlowContext, board: Board) -> None:
    """How many of each row's commits each environment's branch holds, and whether the last
    successful deployment holds them: one walk from every tip at once."""
    from jiraflow.gitflow.where import _commit_refs, _places_of_interest, _reach

    refs = _commit_refs(flow.repo)
    places = {p.environment: p for p in _places_of_interest(flow, refs) if p.role == "environment"}
    tips: dict[str, str] = {}  # environment -> the commit of its branch
    for env in board.environments:
        place = places.get(env.name)
        if place is not None and place.ref:
            tips[env.name] = refs[place.ref].commit
    answer = _deployments(flow, board)
    deployed_commits: dict[str, str] = {}
    for env in board.environments:
        if not env.deployment or isinstance(answer, str):
            continue
        dep = answer.found.get(env.deployment)
        if dep is not None and flow.repo.commit_of(dep.commit) is not None:
            deployed_commits[env.name] = dep.commit
    shas = sorted({sha for row in board.rows for sha in row.commits})
    bits = {sha: 1 << i for i, sha in enumerate(shas)}
    reach, _ = _reach(flow.repo, {*tips.values(), *deployed_commits.values()}, bits)

    def holds(tip: str, row: Row) -> int:
        mask = reach.get(tip, 0)
        return sum(1 for sha in row.commits if mask & bits[sha])

    for row in board.rows:
        for env in board.environments:
            if env.name in tips:
                row.merged[env.name] = holds(tips[env.name], row)
            if env.deployment:
                row.deployed[env.name] = _deployed_cell(env, answer, deployed_commits, row, holds)


def _deployed_cell(
    env: Environment,
    answer: Deployed | str,
    commits: dict[str, str],
    row: Row,
    holds: Any,
) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "deployed": "unknown", "contains": None, "commit": None, "finished": None, "note": None,
    }  # fmt: skip
    if isinstance(answer, str) or env.deployment not in answer.found:
        cell["note"] = answer if isinstance(answer, str) else answer.note(env.deployment)
        return cell
    dep = answer.found[env.deployment]
    if dep is None:
        return cell | {"deployed": "no", "note": "no successful deployment"}
    cell["commit"] = dep.commit
    cell["finished"] = dep.finished.isoformat() if dep.finished else None
    if env.name not in commits:
        cell["note"] = f"commit {dep.commit[:7]} is not in this clone: `git fetch`"
        return cell
    held = holds(commits[env.name], row)
    cell["contains"] = held
    total = len(row.commits)
    cell["deployed"] = "yes" if total and held == total else "partly" if held else "no"
    return cell


def _deployments(flow: FlowContext, board: Board) -> Deployed | str:
    from jiraflow.services.deployments import deployed

    names = [e.deployment for e in board.environments if e.deployment]
    if not names or not board.rows:
        return "not asked"
    try:
        return deployed(flow, names)
    except JiraflowError as exc:
        return exc.message


def _pull_requests(flow: FlowContext, board: Board) -> None:
    """Each row's newest pull request: one list of the newest pull requests, matched by the
    key in their source branch's name. Bitbucket not set up: no column values, no warning."""
    from jiraflow.keys import mentions
    from jiraflow.services.pull_requests import STATES, forge_for

    if not board.rows:
        return
    try:
        forge = forge_for(flow)
        bitbucket = flow.config.bitbucket
        if not forge.enabled or not (bitbucket.url or bitbucket.repository or forge.usable):
            return
        pulls = forge.client.pull_requests(states=STATES["all"], limit=RECENT_PULL_REQUESTS)
    except JiraflowError as exc:
        board.warnings.append(f"could not read the pull requests from Bitbucket: {exc.message}")
        return
    for row in board.rows:
        for pull in pulls:  # newest first
            if mentions(pull.source, row.key):
                row.pull_request = {
                    "id": pull.id, "state": pull.state, "source": pull.source, "url": pull.url,
                }  # fmt: skip
                break
