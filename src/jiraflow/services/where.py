"""`jiraflow where KEY`: which branches, environments, release tags and open releases hold
an issue's commits (jiraflow.gitflow.where, from git alone), with its Jira status and pull
request when those are configured. Jira or Bitbucket failing is a warning: git still answers.

Requests, for one key: Jira one (the issue); Bitbucket, asked in the background while Jira
answers, the issue branch's pull requests (one) together with the builds of the pushed
commits the branches and tags holding the issue point at (one per distinct commit, at most
BUILT_PLACES), then the builds of the newest pull request's head (one): two round trips.
Environments that name a Bitbucket `deployment` add, in the background too, the deployment
environments (one, cached afterwards) and each one's deployments (one each, at once):
services/deployments.py.
Several keys: Jira one search per 100 keys (instead of one read each); the deployments once
for all the keys; Bitbucket the same per key, KEYS_AT_ONCE keys at a time."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jiraflow.bitbucket.client import BitbucketClient
    from jiraflow.concurrency import Ahead
    from jiraflow.gitflow.context import FlowContext
    from jiraflow.gitflow.where import Whereabouts
    from jiraflow.services.deployments import Deployed

PULL_REQUESTS = 5  # the newest pull requests of the issue's branch shown (one request)
BUILT_PLACES = 5  # distinct commits of branches and tags whose builds are read (one each)
KEYS_AT_ONCE = 4  # keys whose Bitbucket questions are asked at once (`where` of several keys)


def whereabouts(
    flow: FlowContext, key: str, *, offline: bool
) -> tuple[Whereabouts, dict[str, Any]]:
    """Where issue KEY's commits are, and the JSON of `where` (with the issue and its pull
    requests unless offline, and the warnings of what could not be asked)."""
    from jiraflow.gitflow.where import locate

    normal = _normal(flow, key)
    found = locate(flow, normal)
    info = found.to_json()
    warnings: list[str] = []
    asked: list[str] = []  # Bitbucket's warnings, said after Jira's
    call = None if offline else _bitbucket_call(flow, found, asked)
    bitbucket = None if call is None else _ahead(call)
    deploying = None if offline else _deployments_ahead(flow, bool(found.changes))
    info["issue"] = None if offline else _issue(flow, normal, warnings)
    warnings += asked
    answer = None if bitbucket is None else bitbucket.result()
    _complete(flow, found, info, warnings, answer, deploying, offline)
    return found, info


def whereabouts_of(
    flow: FlowContext, keys: list[str], *, offline: bool
) -> list[tuple[Whereabouts, dict[str, Any]]]:
    """`whereabouts` of each of `keys` (each once, in the order given). Several keys: the
    issues are read from Jira together (one search per 100 keys), the deployments once for
    all, and each key's Bitbucket questions (as for one key) KEYS_AT_ONCE keys at a time,
    all of it in the background while git locates the keys one after another."""
    from jiraflow.concurrency import Ahead, together
    from jiraflow.gitflow.where import locate

    normals = list(dict.fromkeys(_normal(flow, key) for key in keys))
    if len(normals) == 1:
        return [whereabouts(flow, normals[0], offline=offline)]
    jira = None if offline else Ahead(partial(_issues, flow, normals))
    founds = [locate(flow, key) for key in normals]
    asked: list[list[str]] = [[] for _ in normals]
    calls = [
        None if offline else _bitbucket_call(flow, found, said)
        for found, said in zip(founds, asked, strict=True)
    ]
    bitbucket = None
    if any(calls):
        each = [call or _nothing for call in calls]
        bitbucket = Ahead(partial(together, each, KEYS_AT_ONCE))
    changes = any(found.changes for found in founds)
    deploying = None if offline else _deployments_ahead(flow, changes)
    issues, told = ({}, []) if jira is None else jira.result()
    answers = [None] * len(normals) if bitbucket is None else bitbucket.result()
    result = []
    for key, found, said, answer in zip(normals, founds, asked, answers, strict=True):
        info = found.to_json()
        info["issue"] = None if offline else issues.get(key)
        warnings = [*told, *_missing(issues, key), *said]
        _complete(flow, found, info, warnings, answer, deploying, offline)
        result.append((found, info))
    return result


def _normal(flow: FlowContext, key: str) -> str:
    """KEY as Jira spells it, or a usage error."""
    from jiraflow.errors import UsageError
    from jiraflow.keys import normalise_key

    jira = flow.config.jira
    projects = [*jira.projects, *(p for row in jira.sites for p in row.get("projects") or [])]
    normal = normalise_key(key.strip(), projects)
    if normal is None:
        raise UsageError(
            f"'{key}' is not a Jira issue key",
            "Give one like PROJ-12 (lower case works for a project in jira.projects).",
        )
    return normal


def _ahead(call: Callable[[], Answer]) -> Ahead[Answer]:
    from jiraflow.concurrency import Ahead

    return Ahead(call)


def _nothing() -> Answer | None:
    return None


def _complete(
    flow: FlowContext,
    found: Whereabouts,
    info: dict[str, Any],
    warnings: list[str],
    answer: Answer | None,
    deploying: Ahead[Deployed | str] | None,
    offline: bool,
) -> None:
    """Bitbucket's answer, the deployments and the warnings into the JSON of one key."""
    info["pull_requests"] = None
    if answer is not None:
        pulls, built = answer
        if isinstance(pulls, str):
            warnings.append(pulls)
        else:
            info["pull_requests"] = pulls
        _place_builds(info, built, warnings)
    info["deployments"] = _deployments(flow, found, deploying, offline)
    info["warnings"] = warnings


def _deployments_ahead(flow: FlowContext, wanted: bool) -> Ahead[Deployed | str] | None:
    """Start reading the last successful deployment of each environment that names a
    `deployment` (services/deployments.py; the client is made here), when `wanted` (an
    issue has changes to look for)."""
    from jiraflow.concurrency import Ahead
    from jiraflow.errors import JiraflowError
    from jiraflow.services.deployments import deployed
    from jiraflow.services.pull_requests import forge_for

    names = [e.deployment for e in flow.config.environments if e.deployment]
    if not names or not wanted:
        return None
    try:
        forge = forge_for(flow)
        if forge.enabled:
            forge.client  # noqa: B018 - the credential is looked up here, not in the thread
    except JiraflowError as exc:
        return Ahead(partial(str, exc.message))
    return Ahead(partial(deployed, flow, names, forge=forge))


def _deployments(
    flow: FlowContext, found: Whereabouts, deploying: Ahead[Deployed | str] | None, offline: bool
) -> list[dict[str, Any]]:
    """The `deployments` of the JSON: one entry per environment with a `deployment`."""
    from jiraflow.services.deployments import where_json

    if not found.changes:
        return []
    if deploying is None:
        return where_json(flow, found.changes, "not asked (--offline)" if offline else "")
    return where_json(flow, found.changes, deploying.result())


def _issue(flow: FlowContext, key: str, warnings: list[str]) -> dict[str, Any] | None:
    """The issue as Jira has it (one request), or None when Jira is not set up for the key."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.remote import tracker_for

    try:
        tracker = tracker_for(flow)
        if not tracker.enabled or not tracker.accepts(key):
            return None
        issue, site = tracker.fetch(key)
    except JiraflowError as exc:
        warnings.append(f"could not ask Jira about {key}: {exc.message}")
        return None
    return _issue_json(issue, site.url)


def _issues(
    flow: FlowContext, keys: list[str]
) -> tuple[dict[str, dict[str, Any] | None], list[str]]:
    """The issues of several keys as Jira has them (one search per 100 keys on each site
    that may have them), by key, with None for a key Jira does not have; and the warning
    when Jira could not be asked. Keys Jira is not set up for are left out."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.remote import tracker_for

    try:
        tracker = tracker_for(flow)
        if not tracker.enabled:
            return {}, []
        accepted = [key for key in keys if tracker.accepts(key)]
        found = tracker.lookup(accepted) if accepted else None
    except JiraflowError as exc:
        return {}, [f"could not ask Jira about {', '.join(keys)}: {exc.message}"]
    if found is None:
        return {}, []
    issues: dict[str, dict[str, Any] | None] = dict.fromkeys(found.missing)
    for key, issue in found.issues.items():
        issues[key] = _issue_json(issue, found.sites[key])
    return issues, []


def _missing(issues: dict[str, dict[str, Any] | None], key: str) -> list[str]:
    """The warning of a key Jira was asked about and does not have."""
    if key in issues and issues[key] is None:
        return [f"Jira has no issue {key} (or you may not see it)"]
    return []


def _issue_json(issue: Any, site: str) -> dict[str, Any]:
    """The `issue` of the JSON."""
    return {
        "key": issue.key,
        "summary": issue.summary,
        "type": issue.type,
        "status": issue.status.name,
        "assignee": issue.assignee_name,
        "fix_versions": list(getattr(issue, "fix_versions", None) or []),
        "url": f"{site}/browse/{issue.key}",
    }


#: what Bitbucket answered: the pull requests (or the warning saying why not) and the builds
#: of each place's commit, by the place's ref
Pulls = list[dict[str, Any]] | str | None
Answer = tuple[Pulls, dict[str, dict[str, Any]]]


def _bitbucket_call(
    flow: FlowContext, found: Whereabouts, warnings: list[str]
) -> Callable[[], Answer] | None:
    """What to ask Bitbucket (to run in the background; the client is made here): the newest
    pull requests of the issue's likeliest branch and the builds of their newest one's
    head, and the builds of the pushed commits of the places holding the issue. None when
    Bitbucket is not set up or there is nothing to ask."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import forge_for

    branch = found.pr_branches[0] if found.pr_branches else None
    commits = _built_commits(flow, found)
    if branch is None and not commits:
        return None
    try:
        forge = forge_for(flow)
        # a Bitbucket remote alone switches it on: no token then is not worth a warning
        bitbucket = flow.config.bitbucket
        named = bool(bitbucket.url or bitbucket.repository)
        if not forge.enabled or not (named or forge.usable):
            return None
        client = forge.client
    except JiraflowError as exc:
        warnings.append(f"could not ask Bitbucket about {branch or 'builds'}: {exc.message}")
        return None
    return partial(_ask, client, branch, commits)


def _built_commits(flow: FlowContext, found: Whereabouts) -> dict[str, str]:
    """{ref: its commit} of the branches and tags holding (some of) the issue whose commit
    is on the remote (a remote-tracking branch points at it), over at most BUILT_PLACES
    distinct commits: branches first, then tags lowest first."""
    from jiraflow.git import REMOTES

    held = [p.ref for p in [*found.branches, *found.tags] if p.ref and p.state in ("all", "some")]
    if not held:
        return {}
    refs = flow.repo.refs()
    pushed = {sha for ref, sha in refs.items() if ref.startswith(REMOTES)}
    tags = [ref for ref in held if ref.startswith("refs/tags/")]
    peeled = dict(zip(tags, _peel(flow, tags), strict=True)) if tags else {}
    chosen: dict[str, str] = {}
    for ref in held:
        commit = peeled.get(ref) or refs.get(ref)
        if commit not in pushed:
            continue  # not pushed: Bitbucket knows no builds of it
        if commit in chosen.values() or len(set(chosen.values())) < BUILT_PLACES:
            chosen[ref] = commit
    return chosen


def _peel(flow: FlowContext, tags: list[str]) -> list[str]:
    """The commits the tags point at (one git process)."""
    return flow.repo.out("rev-parse", *[f"{t}^{{commit}}" for t in tags]).split()


def _ask(client: BitbucketClient, branch: str | None, places: dict[str, str]) -> Answer:
    """The HTTP of _bitbucket_ahead: the pull requests (their newest one's builds after
    them) and the builds of each distinct commit, together."""
    from jiraflow.concurrency import together

    commits = list(dict.fromkeys(places.values()))
    calls: list[Callable[[], Any]] = [partial(_pull_requests, client, branch)]
    calls += [partial(_builds, client, commit) for commit in commits]
    pulls, *built = together(calls, most=1 + BUILT_PLACES)
    by_commit = dict(zip(commits, built, strict=True))
    return pulls, {ref: by_commit[commit] for ref, commit in places.items()}


def _pull_requests(
    client: BitbucketClient, branch: str | None
) -> list[dict[str, Any]] | str | None:
    """The newest pull requests of the issue's likeliest branch (one request), the newest
    one with the builds of its head (one more); None when no branch is known, the warning
    when Bitbucket could not be asked."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.pull_requests import STATES
    from jiraflow.services.status import builds_json

    if branch is None:
        return None
    try:
        pulls = client.pull_requests(source=branch, states=STATES["all"], limit=PULL_REQUESTS)
    except JiraflowError as exc:
        return f"could not ask Bitbucket about {branch}: {exc.message}"
    rows = [p.to_json() | {"builds": None} for p in pulls]
    if pulls:
        newest = pulls[0]
        try:
            builds = client.pull_request_builds(newest)
            of = f"pull request #{newest.id}"
            rows[0]["builds"] = builds_json(builds, newest.source_commit, of)
        except JiraflowError as exc:
            rows[0]["builds"] = {"error": exc.message}
    return rows


def _builds(client: BitbucketClient, commit: str) -> dict[str, Any]:
    """The builds of one commit (one request), or {"error": ...}."""
    from jiraflow.errors import JiraflowError
    from jiraflow.services.status import builds_json

    try:
        return builds_json(client.builds(commit), commit, "commit")
    except JiraflowError as exc:
        return {"error": exc.message}


def _place_builds(
    info: dict[str, Any], built: dict[str, dict[str, Any]], warnings: list[str]
) -> None:
    """Each branch and tag of the JSON gets the builds of its commit, by its ref (None when
    not read; no member when Bitbucket was not asked); failures to read them are one
    warning."""
    for place in [*info["branches"], *info["tags"]]:
        answer = built.get(place["ref"] or "")
        if answer is not None and "error" not in answer:
            answer = answer | {"of": place["name"]}
        place["builds"] = answer
    errors = list(dict.fromkeys(a["error"] for a in built.values() if "error" in a))
    newest = (info["pull_requests"] or [None])[0]
    if newest and newest["builds"] and "error" in newest["builds"]:
        errors.insert(0, newest["builds"]["error"])
    if errors:
        warnings.append(f"could not read the builds from Bitbucket: {errors[0]}")
