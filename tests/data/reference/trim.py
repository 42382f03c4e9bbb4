"""Regenerate tests/data/reference/ from the full reference collection (run by hand, never by
the tests).

Why: a plain clone must test itself, so the sandbox conformance tests read only this folder.
The full collection (../shared/reference/ next to the checkout, described by its INDEX.md)
holds Atlassian's OpenAPI/Swagger specs of 1-3 MB each and the captured responses; this script
copies what the tests use:

- the captured responses under jira/, bitbucket-cloud/ and bitbucket-server/, byte for byte
  (the tests read every file in those folders), but for the few in ``UNUSED``;
- each spec the tests validate against, trimmed to the operations in ``KEEP`` plus every
  component they reference, followed recursively through ``$ref`` wherever it appears
  (allOf/oneOf/anyOf/items/properties/additionalProperties, parameters, request bodies). The
  structure stays the original's (``openapi``/``swagger``, ``info``, ``servers`` or
  ``host``/``basePath``, ``paths``, ``components.schemas`` or ``definitions``) so
  tests/openapi_check.py reads the copy exactly as it read the original. The Jira specs state
  Apache 2.0 and keep their operations whole (descriptions and example bodies included); the
  Bitbucket specs state no licence, so only their shapes are kept (see ``PROSE``);
- the file table of README.md (between the generated-section markers), with each file's size,
  SHA-256 and provenance read from the collection's INDEX.md.

Usage: python tests/data/reference/trim.py [--source DIR]
(DIR defaults to ../shared/reference relative to the checkout's root.) After adding an
operation or a named schema to a sandbox test, add it to ``KEEP`` and run this again;
tests/test_testdata.py fails until the copy holds everything the tests validate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference"
README = HERE / "README.md"
#: Folders of captured responses, copied whole and byte for byte.
CAPTURES = ("jira", "bitbucket-cloud", "bitbucket-server")
#: Captured files no test reads anything from: their names map to no kind in
#: test_sandbox_jira.REFERENCE_DOCUMENTS (or to one whose objects they lack), and they hold no
#: issue, user or transition the tests pick out of any document. Left out to keep the copy small.
UNUSED = {
    "jira/go-jira/project.json",  # GET project: no test checks projects
    "jira/go-atlassian/create-issue.json",  # POST issue {id,key,self}: jiraflow creates none
    "jira/jira-ruby/issue.post.json",  # the same
}
JIRA_V3 = "jira-cloud-platform-rest-v3.openapi.json"
JIRA_V2 = "jira-cloud-platform-rest-v2.openapi.json"
BB_CLOUD = "bitbucket-cloud-2.0.swagger.json"
BB_DC = "bitbucket-datacenter-9.4.openapi.json"

_ISSUE = "/issue/{issueIdOrKey}"
_JIRA_COMMON = [
    ("get", "/serverInfo"),
    ("get", "/myself"),
    ("get", _ISSUE),
    ("get", _ISSUE + "/transitions"),
    ("get", _ISSUE + "/comment"),
    ("post", _ISSUE + "/comment"),
    ("get", _ISSUE + "/remotelink"),
    ("post", _ISSUE + "/remotelink"),
    ("get", "/project/{projectIdOrKey}/versions"),
    ("get", "/project/{projectIdOrKey}/version"),
    ("post", "/version"),
    ("get", "/version/{id}"),
    ("put", "/version/{id}"),
    ("get", "/field"),
    ("get", "/user/search"),
]
#: Issue-field schemas (FIELD_SCHEMAS of test_sandbox_jira.py) and the error body.
_JIRA_SCHEMAS = [
    "ErrorCollection",
    "StatusDetails",
    "IssueTypeDetails",
    "ProjectDetails",
    "UserDetails",
    "Resolution",
    "Priority",
    "Version",
    "PageOfComments",
]
_CLOUD_REPO = "/repositories/{workspace}/{repo_slug}"
_CLOUD_PR = _CLOUD_REPO + "/pullrequests/{pull_request_id}"
_DC_REPO = "/api/latest/projects/{projectKey}/repos/{repositorySlug}"
_DC_PR = _DC_REPO + "/pull-requests/{pullRequestId}"

#: spec file -> (operations as (method, path in the spec), schemas the tests name directly)
KEEP: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    JIRA_V3: (
        [(m, "/rest/api/3" + p) for m, p in _JIRA_COMMON]
        + [
            ("get", "/rest/api/3/search/jql"),
            ("post", "/rest/api/3/search/jql"),
            # SPEC_EXAMPLES of test_sandbox_jira.py: the example body of a resolution
            ("get", "/rest/api/3/resolution/{id}"),
            # issue 21: work logs (the comment in ADF on v3)
            ("get", "/rest/api/3" + _ISSUE + "/worklog"),
            ("post", "/rest/api/3" + _ISSUE + "/worklog"),
            # issue 22: Cloud's bulk operations, their task, and bulk fetch
            ("get", "/rest/api/3/bulk/issues/fields"),
            ("post", "/rest/api/3/bulk/issues/fields"),
            ("get", "/rest/api/3/bulk/issues/transition"),
            ("post", "/rest/api/3/bulk/issues/transition"),
            ("get", "/rest/api/3/bulk/queue/{taskId}"),
            ("post", "/rest/api/3/issue/bulkfetch"),
        ],
        # test_validator_catches_undeclared_keys_and_types
        [
            *_JIRA_SCHEMAS,
            "StatusCategory",
            "FieldMetadata",
            "Worklog",
            "PageOfWorklogs",
            "SubmittedBulkOperation",
            "BulkOperationProgress",
            "BulkOperationErrorResponse",
            "BulkIssueResults",
            "BulkTransitionGetAvailableTransitions",
            "BulkEditGetFields",
            "IssueBulkEditPayload",
            "IssueBulkTransitionPayload",
            "BulkFetchIssueRequestBean",
        ],
    ),
    JIRA_V2: (
        [(m, "/rest/api/2" + p) for m, p in _JIRA_COMMON]
        + [
            ("get", "/rest/api/2/search"),
            # issue 21: work logs (plain-text comment, as Data Center has them)
            ("get", "/rest/api/2" + _ISSUE + "/worklog"),
            ("post", "/rest/api/2" + _ISSUE + "/worklog"),
        ],
        [*_JIRA_SCHEMAS, "Worklog", "PageOfWorklogs"],
    ),
    BB_CLOUD: (
        [
            ("get", "/user"),
            ("get", "/users/{selected_user}"),
            ("get", _CLOUD_REPO),
            ("get", _CLOUD_REPO + "/default-reviewers"),
            ("get", _CLOUD_REPO + "/effective-default-reviewers"),
            ("get", _CLOUD_REPO + "/pullrequests"),
            ("post", _CLOUD_REPO + "/pullrequests"),
            ("get", _CLOUD_PR),
            ("post", _CLOUD_PR + "/approve"),
            ("post", _CLOUD_PR + "/merge"),
            ("post", _CLOUD_PR + "/decline"),
            # issue 19: build status, the merge's task form, the reviewer's side, comments
            ("get", _CLOUD_REPO + "/commit/{commit}/statuses"),
            ("post", _CLOUD_REPO + "/commit/{commit}/statuses/build"),
            ("get", _CLOUD_PR + "/statuses"),
            ("get", _CLOUD_PR + "/merge/task-status/{task_id}"),
            ("post", _CLOUD_PR + "/request-changes"),
            ("get", _CLOUD_PR + "/comments"),
            ("post", _CLOUD_PR + "/comments"),
            ("get", _CLOUD_PR + "/conflicts"),
            ("get", _CLOUD_REPO + "/branch-restrictions"),
            # issue 20: what is really deployed (Pipelines environments and deployments)
            ("get", _CLOUD_REPO + "/environments"),
            ("get", _CLOUD_REPO + "/environments/{environment_uuid}"),
            ("get", _CLOUD_REPO + "/deployments"),
            ("get", _CLOUD_REPO + "/deployments/{deployment_uuid}"),
        ],
        [
            "error",
            "pullrequest",
            "participant",
            "commitstatus",
            "paginated_commitstatuses",
            "pullrequest_comment",
            "paginated_pullrequest_comments",
            "pullrequest_merge_parameters",
            "branchrestriction",
            "paginated_branchrestrictions",
            "deployment",
            "paginated_deployments",
            "deployment_environment",
            "paginated_environments",
        ],
    ),
    BB_DC: (
        [
            ("get", "/api/latest/users/{userSlug}"),
            ("get", _DC_REPO),
            ("get", _DC_REPO + "/default-branch"),
            ("get", _DC_REPO + "/branches/default"),
            (
                "get",
                "/default-reviewers/latest/projects/{projectKey}/repos/{repositorySlug}/reviewers",
            ),
            ("get", _DC_REPO + "/pull-requests"),
            ("post", _DC_REPO + "/pull-requests"),
            ("get", _DC_PR),
            ("post", _DC_PR + "/approve"),
            ("post", _DC_PR + "/merge"),
            ("post", _DC_PR + "/decline"),
            # issue 19: build status, mergeability (vetoes), merge settings, reviewer's side
            ("get", "/build-status/latest/commits/{commitId}"),
            ("post", "/build-status/latest/commits/{commitId}"),
            ("get", _DC_REPO + "/commits/{commitId}/builds"),
            ("post", _DC_REPO + "/commits/{commitId}/builds"),
            (
                "get",
                "/required-builds/latest/projects/{projectKey}/repos/{repositorySlug}/conditions",
            ),
            ("get", _DC_PR + "/merge"),
            ("get", _DC_REPO + "/settings/pull-requests"),
            ("get", _DC_PR + "/comments"),
            ("post", _DC_PR + "/comments"),
            ("get", _DC_PR + "/participants"),
            ("put", _DC_PR + "/participants/{userSlug}"),
            ("get", "/api/latest/dashboard/pull-requests"),
            (
                "get",
                "/branch-permissions/latest/projects/{projectKey}/repos/{repositorySlug}/restrictions",
            ),
        ],
        [
            "RestErrors",
            "RestApplicationUser",
            "RestBuildStatus",
            "RestPullRequestMergeability",
            "RestRepositoryPullRequestSettings",
            "RestComment",
            "RestRefRestriction",
        ],
    ),
}
#: Specs whose licence is not stated: keep the shapes, leave Atlassian's prose out.
SHAPES_ONLY = {BB_CLOUD, BB_DC}
#: Prose and documentation keys left out of SHAPES_ONLY specs (a response's required
#: ``description`` is kept, empty, so that the document stays well-formed).
PROSE = {
    "description",
    "summary",
    "example",
    "examples",
    "x-example",
    "externalDocs",
    "x-atlassian-narrative",
}
#: Keys whose value maps names (of properties, schemas, paths, status codes, media types) to
#: objects: a property called "description" is a name there, not prose.
NAME_MAPS = {
    "properties",
    "patternProperties",
    "definitions",
    "schemas",
    "paths",
    "responses",
    "content",
    "headers",
    "requestBodies",
    "securitySchemes",
    "securityDefinitions",
    "variables",
}
#: Top-level members kept besides paths and the referenced components.
TOP_LEVEL = (
    "openapi",
    "swagger",
    "info",
    "servers",
    "host",
    "basePath",
    "schemes",
    "consumes",
    "produces",
    "externalDocs",
)
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
BEGIN = "<!-- BEGIN files: generated by trim.py, do not edit by hand -->"
END = "<!-- END files -->"


def refs(node: Any) -> Iterator[str]:
    """Every local ``$ref`` in a JSON value, wherever it sits."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def pointer(ref: str) -> list[str]:
    """The tokens of a local JSON pointer ``#/a/b``; anything else is refused."""
    if not ref.startswith("#/"):
        raise SystemExit(f"error: non-local $ref {ref!r} (this script follows only #/...)")
    return [t.replace("~1", "/").replace("~0", "~") for t in ref[2:].split("/")]


def get_at(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens:
        node = node[token]
    return node


def put_at(doc: dict[str, Any], tokens: list[str], value: Any) -> None:
    node = doc
    for token in tokens[:-1]:
        node = node.setdefault(token, {})
    node[tokens[-1]] = value


def trim(
    spec: dict[str, Any], name: str, operations: list[tuple[str, str]], schemas: list[str]
) -> dict[str, Any]:
    """The spec cut to ``operations`` and named ``schemas`` plus everything they reference."""
    out: dict[str, Any] = {key: spec[key] for key in TOP_LEVEL if key in spec}
    out["x-trimmed"] = (
        "Trimmed copy made by tests/data/reference/trim.py: only the operations and schemas "
        "jiraflow's sandbox tests validate against, with every $ref they reach"
        + ("; shapes only, documentation prose left out." if name in SHAPES_ONLY else ".")
    )
    paths: dict[str, Any] = {}
    for method, path in operations:
        item = spec["paths"][path]  # KeyError: KEEP names an operation the spec lacks
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k not in HTTP_METHODS})
        kept[method] = item[method]
    out["paths"] = {path: paths[path] for path in spec["paths"] if path in paths}
    base = ["definitions"] if "swagger" in spec else ["components", "schemas"]
    pending = [*refs(out["paths"]), *("#/" + "/".join([*base, s]) for s in schemas)]
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        target = get_at(spec, pointer(ref))
        put_at(out, pointer(ref), target)
        pending.extend(refs(target))
    for container in ("definitions", "parameters", "responses"):  # Swagger 2.0: source order
        if container in out:
            out[container] = {k: v for k, v in spec[container].items() if k in out[container]}
    if "components" in out:
        out["components"] = {
            kind: {k: v for k, v in spec["components"][kind].items() if k in members}
            for kind, members in out["components"].items()
        }
    return shapes_only(out) if name in SHAPES_ONLY else out


def shapes_only(node: Any, names: bool = False, response: bool = False) -> Any:
    """``node`` without PROSE keys; inside NAME_MAPS the keys are names and all stay."""
    if isinstance(node, list):
        return [shapes_only(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {k: shapes_only(v, response=False) for k, v in node.items()}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in PROSE:
            if key == "description" and response:
                out[key] = ""
            continue
        if key == "responses" and isinstance(value, dict):
            out[key] = {code: shapes_only(r, response=True) for code, r in value.items()}
        else:
            out[key] = shapes_only(value, names=key in NAME_MAPS and isinstance(value, dict))
    return out


def index_rows(index: str) -> dict[str, dict[str, str]]:
    """Provenance per file from INDEX.md's tables: repository, commit, path, what, licence."""
    commits = dict(
        re.findall(r"^\| ([\w.-]+/[\w.-]+)(?: \([^)]*\))? \| ([0-9a-f]{40})", index, re.M)
    )
    rows: dict[str, dict[str, str]] = {}
    row = re.compile(
        r"^\| `([^`]+)` \| [^|]+ \| `[0-9a-f]+` \| \[([^\]]+)\]\([^)]*\) @ `([0-9a-f]+)` : "
        r"`([^`]+)` \| (.+) \| ([^|]+) \|$",
        re.M,
    )
    for file, repo, short, path, what, licence in row.findall(index):
        commit = commits.get(repo, short)
        if not commit.startswith(short):  # per-file commits (demisto/content)
            commit = short
        rows[file] = {"repo": repo, "commit": commit, "path": path, "what": what,
                      "licence": licence.strip()}  # fmt: skip
    return rows


def table(files: list[Path], provenance: dict[str, dict[str, str]]) -> str:
    lines = [
        "| File | Bytes | SHA-256 (first 16) | Copy | Source: repository @ commit : path | "
        "Licence (repository) | What it is |",
        "|---|---|---|---|---|---|---|",
    ]
    for file in files:
        rel = file.relative_to(HERE).as_posix()
        data = file.read_bytes()
        p = provenance[rel]
        how = "trimmed" if rel.startswith("specs/") else "verbatim"
        lines.append(
            f"| `{rel}` | {len(data)} | `{hashlib.sha256(data).hexdigest()[:16]}` | {how} | "
            f"[{p['repo']}](https://github.com/{p['repo']}) @ `{p['commit']}` : `{p['path']}` | "
            f"{p['licence']} | {p['what']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    source: Path = parser.parse_args(argv).source
    if not (source / "INDEX.md").is_file():
        print(f"error: no reference collection at {source} (no INDEX.md)", file=sys.stderr)
        print("hint: python tests/data/reference/trim.py --source DIR", file=sys.stderr)
        return 2
    provenance = index_rows((source / "INDEX.md").read_text(encoding="utf-8"))
    for folder in CAPTURES:
        if (HERE / folder).exists():
            shutil.rmtree(HERE / folder)
        for file in sorted((source / folder).rglob("*.json")):
            rel = file.relative_to(source).as_posix()
            if rel not in UNUSED:  # bytes, not modes: the collection is read-only
                (HERE / rel).parent.mkdir(parents=True, exist_ok=True)
                (HERE / rel).write_bytes(file.read_bytes())
    (HERE / "specs").mkdir(exist_ok=True)
    for stale in (HERE / "specs").glob("*.json"):
        if stale.name not in KEEP:
            stale.unlink()
    for name, (operations, schemas) in KEEP.items():
        spec = json.loads((source / "specs" / name).read_text(encoding="utf-8"))
        trimmed = trim(spec, name, operations, schemas)
        text = json.dumps(trimmed, indent=1, ensure_ascii=False) + "\n"
        (HERE / "specs" / name).write_text(text, encoding="utf-8")
    files = sorted(p for p in HERE.rglob("*.json"))
    readme = README.read_text(encoding="utf-8")
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    README.write_text(readme[:start] + "\n" + table(files, provenance) + "\n" + readme[end:])
    total = sum(p.stat().st_size for p in files)
    print(f"{len(files)} files, {total} bytes of JSON in {HERE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
