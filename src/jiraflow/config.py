"""Layered configuration: defaults < user file < .jiraflow.toml < git config < environment.

`KEYS` is the schema: every key, its type, default and documentation. The typed
section classes below give the merged values to the code, read-only. Command-line
flags are the last layer; the CLI applies them. Secrets never live here.

Plain classes rather than dataclasses: this module is on the start-up path of every
command, and generating frozen dataclasses costs several milliseconds per process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from jiraflow.errors import ConfigError

REPO_FILE = ".jiraflow.toml"
# The shape of a Jira issue key (jiraflow.jira.issues.KEY_PATTERN; not imported: start-up path).
KEY_PATTERN_DEFAULT = r"[A-Z][A-Z0-9_]+-[1-9][0-9]*"


class KeyInfo:
    """One key: its default (which gives its type), its documentation, and for lists and
    tables the type of their items ("str", or "site" for [[jira.sites]] entries)."""

    __slots__ = ("choices", "default", "doc", "item", "key", "most", "type")

    def __init__(
        self,
        key: str,
        default: Any,
        doc: str,
        *,
        item: str = "str",
        choices: tuple[str, ...] = (),
        most: int = 0,
    ) -> None:
        self.key = key
        self.type: type = type(default)
        self.default = default
        self.doc = doc
        self.item = item
        self.choices = choices
        self.most = most  # numbers: the largest value (the smallest is 1)

    @property
    def env_var(self) -> str:
        return "JIRAFLOW_" + self.key.upper().replace(".", "_")


_KINDS = ("feature", "bugfix", "release", "hotfix", "support")
# The largest numbers a key takes: a timeout of an hour is already no timeout (sockets and
# thread waits refuse far larger ones), and a ref name's part is a file name (255 bytes).
MAX_TIMEOUT = 3600
MAX_BRANCH_LENGTH = 250

KEYS: dict[str, KeyInfo] = {
    info.key: info
    for info in (
        KeyInfo(
            "gitflow.main", "main", "The production branch (git-flow AVH: gitflow.branch.master)."
        ),
        KeyInfo("gitflow.develop", "develop", "The integration branch."),
        KeyInfo("gitflow.version_tag_prefix", "", "Prefix of version tags, e.g. 'v'."),
        KeyInfo("gitflow.remote", "origin", "The remote to fetch from and push to."),
        KeyInfo(
            "gitflow.protected",
            [],
            "Branches the server takes changes into only through pull requests, as names or "
            'glob patterns (e.g. ["main", "develop"]): finishes never push to them and open '
            "pull requests instead.",
        ),
        *(KeyInfo(f"gitflow.prefix.{k}", f"{k}/", f"Prefix of {k} branches.") for k in _KINDS),
        KeyInfo("finish.fetch", False, "Fetch the remote before finishing (like --fetch)."),
        KeyInfo(
            "finish.push", False, "Push the merged branches and tags after finishing (like --push)."
        ),
        KeyInfo("finish.keep", False, "Keep the finished branch (like --keep)."),
        KeyInfo(
            "finish.no_ff",
            False,
            "Always make a merge commit for features and bugfixes (like --no-ff).",
        ),
        KeyInfo(
            "finish.delete_remote",
            True,
            "Delete the finished branch on the remote when it exists there.",
        ),
        KeyInfo(
            "release.tag_message",
            "Release {version}",
            "Message of the release tag; {version} and {tag} are replaced.",
        ),
        KeyInfo(
            "release.version_files",
            [],
            "Files whose version `release start` and `hotfix start` bump and commit on the new "
            "branch: pyproject.toml, package.json, a Python file with __version__, or a plain "
            "file holding only the version (e.g. VERSION).",
        ),
        KeyInfo(
            "release.bump_message",
            "Bump version to {version}",
            "Message of the commit that bumps the version files; {version} is replaced.",
        ),
        KeyInfo(
            "release.changelog",
            "",
            "File (e.g. CHANGELOG.md) that `release finish` and `hotfix finish` prepend the "
            "release notes to, committed on the branch before it is merged. Empty: none.",
        ),
        KeyInfo(
            "release.notes_in_tag",
            False,
            "Put the release notes in the tag message, below its first line.",
        ),
        KeyInfo(
            "release.feature_types",
            ["Story", "New Feature", "Feature", "Improvement", "Epic"],
            "Issue types listed under Features in release notes.",
        ),
        KeyInfo(
            "release.fix_types",
            ["Bug", "Defect"],
            "Issue types listed under Bug fixes in release notes; other types go under Other.",
        ),
        KeyInfo(
            "hotfix.tag_message",
            "Hotfix {version}",
            "Message of the hotfix tag; {version} and {tag} are replaced.",
        ),
        KeyInfo(
            "hotfix.into_release",
            True,
            "When a release branch is open, merge a finished hotfix into it instead of develop "
            "(the original Gitflow model).",
        ),
        KeyInfo(
            "feature.base",
            "develop",
            "What `feature start` bases a new feature on: develop, or the open release "
            "branch (release). --base wins.",
            choices=("develop", "release"),
        ),
        KeyInfo(
            "branch.name",
            "{key}-{summary}",
            "Name of a branch started from an issue (after its prefix); {key}, {summary} "
            "(slug of the summary) and {type} (slug of the issue type) are replaced.",
        ),
        KeyInfo(
            "branch.max_length",
            60,
            "Longest branch name (after the prefix) made from an issue, 1 to 250; the "
            "summary is cut at a word boundary to fit.",
            most=MAX_BRANCH_LENGTH,
        ),
        KeyInfo("jira.url", "", "The Jira site, e.g. https://acme.atlassian.net. Empty: no Jira."),
        KeyInfo(
            "jira.user",
            "",
            "Your Jira login: the e-mail address on Cloud, the user name on Data Center. "
            "Empty: the account of `jiraflow auth login jira` for this site.",
        ),
        KeyInfo(
            "jira.kind",
            "",
            "cloud or datacenter; empty: read from the site's serverInfo once and cached.",
            choices=("", "cloud", "datacenter"),
        ),
        KeyInfo(
            "jira.projects",
            [],
            'Project keys jiraflow accepts (e.g. ["PROJ", "OPS"]); empty: any.',
        ),
        KeyInfo(
            "jira.require_key",
            False,
            "Refuse to start feature and bugfix branches without an issue key.",
        ),
        KeyInfo(
            "jira.assign",
            "unassigned",
            "When `start` assigns the issue to you: unassigned (only if nobody has it), "
            "always, or never.",
            choices=("unassigned", "always", "never"),
        ),
        KeyInfo(
            "jira.comment_on_finish",
            False,
            "Comment on the issue when its branch is finished (where it was merged).",
        ),
        KeyInfo(
            "jira.timeout",
            15,
            "Seconds to wait for a Jira response before giving up, 1 to 3600.",
            most=MAX_TIMEOUT,
        ),
        KeyInfo(
            "jira.on.start",
            "In Progress",
            "Status an issue moves to on `start` (a status name or category:new, "
            "category:indeterminate, category:done); empty: leave it.",
        ),
        KeyInfo("jira.on.pr", "In Review", "Status an issue moves to when its PR is opened."),
        KeyInfo("jira.on.finish", "Done", "Status an issue moves to on `feature|bugfix finish`."),
        KeyInfo(
            "jira.on.release",
            "category:done",
            "Status the issues of a release move to on `release|hotfix finish`; "
            "issues already there are left alone.",
        ),
        KeyInfo(
            "jira.version_name",
            "{version}",
            "Name of the Jira version of a release; {version}, {tag} and {project} are replaced.",
        ),
        KeyInfo(
            "jira.version_on_start",
            False,
            "`release start` and `hotfix start` create the Jira version (unreleased) and set it "
            "on the issues already merged.",
        ),
        KeyInfo(
            "jira.fields",
            {},
            'Values for fields a transition screen requires, e.g. {resolution = "Done"}.',
        ),
        KeyInfo(
            "jira.branch_types",
            {"Bug": "bugfix"},
            "Branch type (feature or bugfix) that `jiraflow start KEY` uses per issue type; "
            "types not listed start a feature.",
        ),
        KeyInfo(
            "jira.sites",
            [],
            "More than one Jira site: a list of tables with url, user, kind and projects. "
            "A key goes to the site listing its project, else the sites are tried in order.",
            item="site",
        ),
        KeyInfo(
            "bitbucket.url",
            "",
            "Bitbucket: https://api.bitbucket.org/2.0 for Cloud, the server's address for "
            "Data Center. Empty: found from the remote URL (bitbucket.org, or an https "
            "Data Center clone URL; an ssh one gives https://<host>).",
        ),
        KeyInfo(
            "bitbucket.user",
            "",
            "Your Bitbucket login: the Atlassian account e-mail on Cloud (API token), "
            "x-token-auth for a Cloud access token, the user name on Data Center. "
            "Empty: the account of `jiraflow auth login bitbucket` for this site.",
        ),
        KeyInfo(
            "bitbucket.kind",
            "",
            "cloud or datacenter; empty: cloud for bitbucket.org and URLs ending in /2.0, "
            "else datacenter.",
            choices=("", "cloud", "datacenter"),
        ),
        KeyInfo(
            "bitbucket.repository",
            "",
            "workspace/slug (Cloud) or PROJECT/slug (Data Center). Empty: from the remote URL.",
        ),
        KeyInfo(
            "bitbucket.default_reviewers",
            True,
            "Add the repository's default reviewers to new pull requests (the API does not).",
        ),
        KeyInfo(
            "bitbucket.close_source_branch",
            True,
            "Ask Bitbucket Cloud to delete the source branch when the pull request is merged.",
        ),
        KeyInfo(
            "bitbucket.timeout",
            15,
            "Seconds to wait for a Bitbucket response, 1 to 3600.",
            most=MAX_TIMEOUT,
        ),
        KeyInfo(
            "pr.title",
            "{key}: {summary}",
            "Title of a new pull request; {key}, {summary}, {branch} and {base} are replaced. "
            "A branch without an issue key is titled from its name.",
        ),
        KeyInfo(
            "pr.description",
            "{issue}\n\n{commits}",
            "Description of a new pull request; {issue} (a link to the issue), {commits} "
            "(a list of the commit subjects), {key}, {summary}, {branch} and {base} are replaced.",
        ),
        KeyInfo("pr.draft", False, "Open pull requests as drafts (like --draft)."),
        KeyInfo(
            "check.key_pattern",
            KEY_PATTERN_DEFAULT,
            "Regular expression an issue key must match (upper case, as Jira's own hooks "
            "match keys); a match inside a longer word does not count.",
        ),
        KeyInfo(
            "check.projects",
            [],
            "Projects whose keys the checks accept; empty: jira.projects and the projects "
            "of [[jira.sites]] (all empty: any project).",
        ),
        KeyInfo(
            "check.commits",
            "every",
            "Which commits of a range must name an issue: every one, any (at least one), "
            "or off (commit messages are not checked).",
            choices=("every", "any", "off"),
        ),
        KeyInfo(
            "check.merges",
            False,
            "Check merge commits too (they are skipped by default: their messages are git's).",
        ),
        KeyInfo(
            "check.branch_types",
            ["feature", "bugfix"],
            "Branch types whose names must carry an issue key (feature, bugfix, release, "
            "hotfix, support).",
        ),
        KeyInfo(
            "check.jira",
            True,
            "When Jira is configured, the keys must be issues in Jira (and meet check.jql); "
            "false: pattern checks only.",
        ),
        KeyInfo(
            "check.jql",
            "",
            "A JQL condition the issues must meet, e.g. 'statusCategory != Done' or "
            "'status = \"In Progress\" AND assignee = currentUser()'. Empty: none.",
        ),
        KeyInfo(
            "check.pr_title",
            True,
            "`check pr`: the pull request title must name an issue when its branch must.",
        ),
        KeyInfo(
            "check.exempt_branches",
            [],
            'Branches that are not checked at all, as glob patterns (e.g. ["dependabot/*"]).',
        ),
        KeyInfo(
            "check.exempt_authors",
            [],
            "Commit authors whose commits are not checked: glob patterns matched against the "
            'author\'s e-mail address and name (e.g. ["*[bot]", "ci@acme.com"]).',
        ),
        KeyInfo(
            "check.exempt_messages",
            [],
            "Regular expressions; a commit whose message matches one (anywhere; use ^ for the "
            'start) is not checked, e.g. ["^\\\\[skip-jira\\\\]"].',
        ),
        KeyInfo(
            "check.smart_commits",
            "warn",
            "Smart-commit commands (#comment, #time, #<transition>) that Jira would ignore: "
            "strict (the check fails), warn (warnings), or off (not checked).",
            choices=("strict", "warn", "off"),
        ),
        KeyInfo(
            "check.all_keys_valid",
            False,
            "Every key a branch, message or title names (of an allowed project) must be an "
            "issue in Jira and meet check.jql, not just one of them.",
        ),
        KeyInfo(
            "check.branch_pattern",
            "",
            "A regular expression the whole name of a branch must match (prefix included), "
            "e.g. '(feature|bugfix)/[A-Z]+-[0-9]+-[a-z0-9-]+|(release|hotfix)/[0-9.]+'. "
            "main, develop, support and environment branches need not. Empty: any name.",
        ),
        KeyInfo(
            "check.message_pattern",
            "",
            "A regular expression the whole commit message must match (comments stripped; "
            "multi-line mode, so ^ and $ match at each line; start it with (?s) for . to "
            "match newlines). Empty: any message.",
        ),
        KeyInfo(
            "check.merge_commits",
            True,
            "false: refuse merge commits made locally (git merge, git pull), other than "
            "those of jiraflow's finishes and of Bitbucket's pull requests.",
        ),
        KeyInfo(
            "check.committer",
            [],
            'The committer e-mail addresses allowed, as glob patterns; "me" stands for your '
            'own addresses in Jira and Bitbucket (e.g. ["me", "*@acme.com"]). Empty: any.',
        ),
        KeyInfo(
            "check.header",
            "",
            "Text printed before the problems when a check fails (how to fix, whom to ask).",
        ),
        KeyInfo(
            "check.footer",
            "",
            "Text printed after the problems when a check fails.",
        ),
        KeyInfo(
            "where.environments",
            [],
            'Branches deployed to environments (e.g. ["qa", "staging"]) that `jiraflow where` '
            "checks besides develop and main; the remote's copy counts when it exists. "
            "Not used when [[environments]] is set.",
        ),
        KeyInfo(
            "environments",
            [],
            "The environments in promotion order: [[environments]] tables with name, branch, "
            "and optionally jira (a status or category:...), via_pr and deployment.",
            item="environment",
        ),
    )
}


class Environment:
    """One stop of the promotion chain ([[environments]]): its name, its long-lived branch,
    the Jira status (or category:...) its issues move to, whether promoting to it goes
    through a pull request, and the Bitbucket deployment environment that shows what is
    deployed there. (A plain frozen class: on the path of every TAB, where a frozen
    dataclass costs 0.6 ms.)"""

    __slots__ = ("branch", "deployment", "jira", "name", "via_pr")
    name: str
    branch: str
    jira: str
    via_pr: bool
    deployment: str

    def __init__(
        self, name: str, branch: str, jira: str = "", via_pr: bool = False, deployment: str = ""
    ) -> None:
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "branch", branch)
        set_(self, "jira", jira)
        set_(self, "via_pr", via_pr)
        set_(self, "deployment", deployment)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("configuration is read-only")

    def _key(self) -> tuple[str, str, str, bool, str]:
        return (self.name, self.branch, self.jira, self.via_pr, self.deployment)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Environment) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        name, branch, jira, via_pr, deployment = self._key()
        return (
            f"Environment(name={name!r}, branch={branch!r}, jira={jira!r}, "
            f"via_pr={via_pr!r}, deployment={deployment!r})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "branch": self.branch,
            "jira": self.jira,
            "via_pr": self.via_pr,
            "deployment": self.deployment,
        }


class _Section:
    """A read-only group of values; its annotations name the keys below its prefix."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any], prefix: str) -> None:
        own = {}
        for name, kind in type(self).__annotations__.items():
            key = prefix + name
            if isinstance(kind, str) and kind in _SECTIONS:
                own[name] = _SECTIONS[kind](values, key + ".")
            else:
                own[name] = values[key] if key in values else KEYS[key].default
        object.__setattr__(self, "_values", own)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("configuration is read-only")


class PrefixConfig(_Section):
    feature: str
    bugfix: str
    release: str
    hotfix: str
    support: str


class GitflowConfig(_Section):
    main: str
    develop: str
    version_tag_prefix: str
    remote: str
    protected: list[str]
    prefix: PrefixConfig


class FinishConfig(_Section):
    fetch: bool
    push: bool
    keep: bool
    no_ff: bool
    delete_remote: bool


class BranchConfig(_Section):
    name: str
    max_length: int


class JiraOnConfig(_Section):
    start: str
    pr: str
    finish: str
    release: str


class JiraConfig(_Section):
    url: str
    user: str
    kind: str
    projects: list[str]
    require_key: bool
    assign: str
    comment_on_finish: bool
    timeout: int
    on: JiraOnConfig
    fields: dict[str, str]
    branch_types: dict[str, str]
    sites: list[dict[str, Any]]
    version_name: str
    version_on_start: bool

    def site_rows(self) -> list[dict[str, Any]]:
        """[[jira.sites]] when given, else one row for jira.url; [] when Jira is off."""
        return list(self.sites) or ([{"url": self.url}] if self.url else [])


class BitbucketConfig(_Section):
    url: str
    user: str
    kind: str
    repository: str
    default_reviewers: bool
    close_source_branch: bool
    timeout: int


class PrConfig(_Section):
    title: str
    description: str
    draft: bool


class ReleaseConfig(_Section):
    tag_message: str
    version_files: list[str]
    bump_message: str
    changelog: str
    notes_in_tag: bool
    feature_types: list[str]
    fix_types: list[str]


class WhereConfig(_Section):
    environments: list[str]


class CheckConfig(_Section):
    key_pattern: str
    projects: list[str]
    commits: str
    merges: bool
    branch_types: list[str]
    jira: bool
    jql: str
    pr_title: bool
    exempt_branches: list[str]
    exempt_authors: list[str]
    exempt_messages: list[str]
    all_keys_valid: bool
    branch_pattern: str
    message_pattern: str
    merge_commits: bool
    committer: list[str]
    header: str
    footer: str
    smart_commits: str


class HotfixConfig(_Section):
    tag_message: str
    into_release: bool


class FeatureConfig(_Section):
    base: str


class Config(_Section):
    gitflow: GitflowConfig
    finish: FinishConfig
    release: ReleaseConfig
    hotfix: HotfixConfig
    feature: FeatureConfig
    branch: BranchConfig
    jira: JiraConfig
    bitbucket: BitbucketConfig
    pr: PrConfig
    where: WhereConfig
    check: CheckConfig
    environments: list[Environment]

    def __init__(self, values: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> None:
        super().__init__(values, "")
        # key -> where its value came from ("default", a file path, "git config ...", "env ...")
        self._values["sources"] = dict.fromkeys(KEYS, "default") | dict(sources or {})
        chain = [Environment(**row) for row in self._values["environments"]]
        self._values["environments"] = chain
        _check_chain_branches(chain, self.gitflow.main, self.gitflow.develop, self.sources)

    def environment_branches(self) -> list[Environment]:
        """The branches `where` checks as environments, in promotion order: the chain, or
        when there is none the old key where.environments (each named after its branch)."""
        if self.environments:
            return list(self.environments)
        return [Environment(branch, branch) for branch in self.where.environments]

    @property
    def sources(self) -> dict[str, str]:
        return self._values["sources"]  # type: ignore[no-any-return]

    def get(self, key: str) -> Any:
        node: Any = self
        for part in key.split("."):
            node = getattr(node, part)
        return node


_SECTIONS: dict[str, type[_Section]] = {
    cls.__name__: cls
    for cls in (
        PrefixConfig,
        GitflowConfig,
        FinishConfig,
        ReleaseConfig,
        HotfixConfig,
        FeatureConfig,
        BranchConfig,
        JiraOnConfig,
        JiraConfig,
        BitbucketConfig,
        PrConfig,
        WhereConfig,
        CheckConfig,
    )
}


# git-flow AVH's git config keys, read so that `git flow init` repositories work unchanged.
GIT_CONFIG_KEYS: dict[str, str] = {
    "gitflow.branch.master": "gitflow.main",
    "gitflow.branch.develop": "gitflow.develop",
    "gitflow.prefix.versiontag": "gitflow.version_tag_prefix",
    "gitflow.origin": "gitflow.remote",
    **{f"gitflow.prefix.{k}": f"gitflow.prefix.{k}" for k in _KINDS},
}

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def parse_value(key: str, raw: str, where: str) -> Any:
    """A value given as text (git config, environment, `config set`) in the key's type."""
    info = known_key(key, where)
    if info.type is bool:
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"{where}: '{key}' must be true or false, not {raw!r}")
    if info.type is int:
        try:
            number = int(raw)
        except ValueError:
            raise ConfigError(f"{where}: '{key}' must be a whole number, not {raw!r}") from None
        return _check_type(key, number, where)
    opener = "[" if info.type is list else "{"
    if info.type in (list, dict) and info.item == "str" and raw.strip().startswith(opener):
        return _check_type(key, _toml_value(key, info, raw, where), where)
    if info.type is list and info.item == "str":
        return [part.strip() for part in raw.split(",") if part.strip()]
    if info.type is dict:
        table: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in raw.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not name.strip():
                raise ConfigError(
                    f"{where}: '{key}' must be written as name=value,name=value, not {raw!r}"
                )
            table[name.strip()] = value.strip()
        return _check_type(key, table, where)
    if info.type is not str:
        raise ConfigError(f"{where}: '{key}' can only be set in a config file")
    return _check_type(key, raw, where)


def _toml_value(key: str, info: KeyInfo, raw: str, where: str) -> Any:
    """A list or table written in TOML's own syntax: ["a", "b"], {name = "value"}."""
    import tomllib

    try:
        return tomllib.loads(f"value = {raw.strip()}\n")["value"]
    except tomllib.TOMLDecodeError:
        example = '{name = "value"}' if info.type is dict else '["a", "b"]'
        shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
        raise ConfigError(
            f"{where}: '{key}' must be {_type_name(info)} in TOML syntax, e.g. {example}, "
            f"not {shown}",
            f"Quote each item: `jiraflow config set {key} '{example}'`.",
        ) from None


def known_key(key: str, where: str) -> KeyInfo:
    try:
        return KEYS[key]
    except KeyError:
        raise ConfigError(
            f"{where}: unknown key '{key}'",
            "`jiraflow config show` lists every key; see docs/configuration.md.",
        ) from None


def _type_name(info: KeyInfo) -> str:
    if info.choices:
        return "one of " + ", ".join(repr(c) for c in info.choices)
    if info.type is list:
        return "a list of tables" if info.item != "str" else "a list of strings"
    if info.type is dict:
        return "a table of strings"
    if info.type is int:
        return "a whole number above 0" + (f", at most {info.most}" if info.most else "")
    names = {bool: "true or false", str: "a string"}
    return names.get(info.type, info.type.__name__)


_SITE_KEYS = {"url": str, "user": str, "kind": str, "projects": list}
_ENVIRONMENT_KEYS = {"name": str, "branch": str, "jira": str, "via_pr": bool, "deployment": str}
_CHAIN_HINT = (
    "Each [[environments]] table takes name, branch, jira, via_pr and deployment; "
    "see docs/environments.md."
)
STATUS_CATEGORIES = ("new", "indeterminate", "done")


def check_status_target(value: str, what: str) -> None:
    """ConfigError unless `value` is a status name or category:new|indeterminate|done (the
    rule of [jira.on] and of each environment's jira)."""
    if value.lower().startswith("category:"):
        category = value.split(":", 1)[1].strip().lower()
        if category not in STATUS_CATEGORIES:
            raise ConfigError(
                f"{what}: {value!r} is not a status category",
                "Use category:new, category:indeterminate or category:done, or a status name.",
            )


def _check_chain(value: Any, where: str) -> list[dict[str, Any]]:
    """The [[environments]] tables, each checked on its own (the rules that need the branch
    model, main and develop, are _check_chain_branches's)."""
    if not isinstance(value, list):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ConfigError(
            f"{where}: 'environments' must be a list of tables ([[environments]]), not {shown}",
            _CHAIN_HINT,
        )
    names: set[str] = set()
    branches: set[str] = set()
    for i, row in enumerate(value):
        at = f"{where}: environments[{i}]"
        if not isinstance(row, dict):
            raise ConfigError(f"{at} must be a table with name and branch", _CHAIN_HINT)
        for name, item in row.items():
            kind = _ENVIRONMENT_KEYS.get(name)
            if kind is None:
                raise ConfigError(f"{at}: unknown key '{name}'", _CHAIN_HINT)
            if not isinstance(item, kind):
                what = "true or false" if kind is bool else "a string"
                raise ConfigError(f"{at}.{name} must be {what}, not {item!r}")
        for needed in ("name", "branch"):
            if not str(row.get(needed, "")).strip():
                raise ConfigError(f"{at} has no {needed}", _CHAIN_HINT)
        check_status_target(row.get("jira", ""), f"{at}.jira")
        if row["name"] in names:
            raise ConfigError(
                f"{at}: the environment name '{row['name']}' is given twice",
                "Give each environment its own name.",
            )
        if row["branch"] in branches:
            raise ConfigError(
                f"{at}: the branch '{row['branch']}' is given twice",
                "Give each environment its own branch.",
            )
        names.add(row["name"])
        branches.add(row["branch"])
    return value


def _check_chain_branches(
    chain: list[Environment], main: str, develop: str, sources: Mapping[str, str]
) -> None:
    """main only as the last environment; develop never (it is where the chain starts)."""
    where = sources.get("environments", "default")
    for i, env in enumerate(chain):
        if env.branch == develop:
            raise ConfigError(
                f"{where}: environment '{env.name}' uses the develop branch '{develop}'",
                "develop is the source of the chain, not an environment; give the "
                'environment its own branch, e.g. branch = "dev".',
            )
        if env.branch == main and i != len(chain) - 1:
            raise ConfigError(
                f"{where}: environment '{env.name}' uses the main branch '{main}' but is not "
                "the last environment",
                "Move its [[environments]] table to the end: main is the last stop.",
            )


def _check_type(key: str, value: Any, where: str) -> Any:
    info = known_key(key, where)
    if info.item == "environment":
        return _check_chain(value, where)
    ok = isinstance(value, info.type) and not (info.type is int and isinstance(value, bool))
    if ok and info.choices:
        ok = value in info.choices
    elif ok and info.type is int:
        ok = 0 < value <= (info.most or value)
    elif ok and info.type is list:
        ok = all(_item_ok(info.item, item) for item in value)
    elif ok and info.type is dict:
        ok = all(isinstance(v, str) for v in value.values())
    if not ok:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        hint = _choice_hint(info, where) if info.choices else None
        raise ConfigError(f"{where}: '{key}' must be {_type_name(info)}, not {shown}", hint)
    if key in _URL_KEYS and value:
        check_url(value, f"{where}: {key}")
    elif key.startswith("jira.on."):
        check_status_target(value, f"{where}: {key}")
    elif key in _REGEX_KEYS and value:
        check_regex(value, f"{where}: {key}")
    elif info.item == "site":
        for i, site in enumerate(value):
            check_url(site["url"], f"{where}: {key}[{i}].url")
    return value


_URL_KEYS = {"jira.url", "bitbucket.url"}


def _choice_hint(info: KeyInfo, where: str) -> str:
    """How to set a key of a few values right, where it was set wrong."""
    if where.startswith("environment "):
        return f"Set it to one of them, e.g. `export {info.env_var}={info.default}`."
    if where.startswith("jiraflow config set"):
        return f"Set it to one of them, e.g. `jiraflow config set {info.key} {info.default}`."
    section, _, leaf = info.key.rpartition(".")
    return f'Set it to one of them in {where}, e.g. {leaf} = "{info.default}" under [{section}].'


_REGEX_KEYS = {"check.branch_pattern", "check.message_pattern"}


def check_regex(pattern: str, what: str) -> None:
    """ConfigError (naming `what`: where and the key) unless `pattern` is a regular
    expression Python compiles."""
    import re

    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(
            f"{what}: {pattern!r} is not a regular expression ({exc})",
            "Correct it where it is set (Python's `re` syntax; in .jiraflow.toml a 'literal "
            "string' keeps backslashes as they are).",
        ) from None


def check_url(url: str, what: str) -> None:
    """ConfigError (naming `what`: the key and where it was set) unless `url` is an http(s)
    URL with a host, and no blanks, login or password in it. The rest of the rules (plain
    http only for loopback addresses) are urls.normalise_url's."""
    import re
    from urllib.parse import urlsplit

    def bad(
        why: str, hint: str = "Give the site's address, e.g. https://acme.atlassian.net."
    ) -> ConfigError:
        masked = re.sub(r"(?s)//.*@", "//***@", url)  # a login or password is never shown
        shown = repr(masked) if len(repr(masked)) <= 80 else repr(masked)[:77] + "..."
        return ConfigError(f"{what}: {shown} {why}", hint)

    text = url.strip()
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        raise bad("is not a URL (it is empty, or has blanks in it)")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise bad(f"is not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise bad("is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise bad(
            "has a login or password in it",
            "Leave `user:password@` out: the login goes in jira.user or bitbucket.user, the "
            "token in the OS keyring (`jiraflow auth login`).",
        )
    host = parts.hostname or ""
    if not re.fullmatch(r"[\w-]+(?:\.[\w-]+)*\.?", host) and not (
        ":" in host and parts.netloc.count("[") == 1
    ):
        raise bad("has no host name" if not host else f"has no valid host name ({host!r})")
    if port == 0:
        raise bad("has port 0")


def _item_ok(kind: str, item: Any) -> bool:
    if kind == "str":
        return isinstance(item, str)
    return (
        isinstance(item, dict)
        and isinstance(item.get("url"), str)
        and all(k in _SITE_KEYS and isinstance(v, _SITE_KEYS[k]) for k, v in item.items())
        and item.get("kind", "") in ("", "cloud", "datacenter")
        and all(isinstance(p, str) for p in item.get("projects", []))
    )


def flatten(table: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and key not in KEYS:
            if not any(k.startswith(key + ".") for k in KEYS):
                known_key(key, where)
            flat.update(flatten(value, where, key + "."))
        else:
            flat[key] = _check_type(key, value, where)
    return flat


def read_toml(path: str, check: Callable[[dict[str, Any]], object] | None = None) -> dict[str, Any]:
    """The file's table ({} when there is no file). With `check` (which raises ConfigError
    on what the file may not hold), the parsed form is kept in the user's cache and the
    same bytes are not parsed again; only a file that passed the check is kept."""
    from jiraflow import store

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None

    def parse(data: bytes) -> dict[str, Any]:
        import tomllib

        try:
            table = tomllib.loads(data.decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{path}: not valid TOML ({exc})", "Fix or remove the file."
            ) from None
        if check is not None:
            check(table)
        return table

    parsed: dict[str, Any] = store.parsed(data, parse) if check is not None else parse(data)
    return parsed


def app_dir() -> str:
    """jiraflow's folder of user files (config.toml, accounts): click.get_app_dir("jiraflow")'s
    rule, without click (which only the CLI imports): %APPDATA% on Windows, Application
    Support on macOS, else $XDG_CONFIG_HOME (or ~/.config)."""
    import sys

    if sys.platform.startswith("win"):
        return os.path.join(os.environ.get("APPDATA") or os.path.expanduser("~"), "jiraflow")
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~/Library/Application Support"), "jiraflow")
    home = os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))
    return os.path.join(home, "jiraflow")


def user_file(app_dir: str) -> str:
    override = os.environ.get("JIRAFLOW_CONFIG")
    return override if override else os.path.join(app_dir, "config.toml")


def load(
    *,
    user_path: str | None,
    repo_root: str | None,
    git_config: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Merge every layer into a Config, remembering where each value came from."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = dict.fromkeys(KEYS, "default")

    def layer(flat: Mapping[str, Any], source: str) -> None:
        for key, value in flat.items():
            values[key] = value
            sources[key] = source

    if user_path is not None:
        user = read_toml(user_path, check=lambda table: flatten(table, user_path))
        layer(flatten(user, user_path), user_path)
    if repo_root is not None:
        path = os.path.join(repo_root, REPO_FILE)
        layer(flatten(read_toml(path, check=lambda table: flatten(table, path)), path), REPO_FILE)
    for git_key, key in GIT_CONFIG_KEYS.items():
        if git_config and git_key in git_config:
            where = f"git config {git_key}"
            layer({key: parse_value(key, git_config[git_key], where)}, where)
    env = os.environ if environ is None else environ
    for key, info in KEYS.items():
        if info.env_var in env:
            where = f"environment {info.env_var}"
            layer({key: parse_value(key, env[info.env_var], where)}, where)
    return build(values, sources)


def build(values: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> Config:
    return Config(values, sources)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}"""
    data: dict[str, Any] = {}
    for key, value in flat.items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def dumps(flat: Mapping[str, Any]) -> str:
    import tomli_w

    for key, value in flat.items():
        _check_type(key, value, "value")
    return tomli_w.dumps(nest(flat))


def write_key(path: str, key: str, value: Any, *, private: bool = False) -> bool:
    """Set one key in a TOML file (created when missing: `private`, the user's own file,
    0600 in a 0700 directory like every file of theirs jiraflow writes). An existing file is
    edited in place, its comments, blank lines, order and inline tables kept. Returns True
    only when it could not be (a layout tomlkit cannot edit) and was rewritten without its
    comments."""
    try:
        return _write_key(path, key, value, private)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be written ({exc.strerror or exc})",
            f"Check `ls -ld {os.path.dirname(os.path.abspath(path))} {path}`, then try again.",
        ) from None


def _write_key(path: str, key: str, value: Any, private: bool) -> bool:
    import tomli_w

    _check_type(key, value, path)
    data = read_toml(path)
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{path}: '{part}' is a value, not a table; fix the file by hand")
        node = child
    node[parts[-1]] = value
    if os.path.exists(path):
        with open(path, encoding="utf-8", newline="") as fh:  # CRLF stays CRLF
            text = fh.read()
        edited = _edit_toml(text, parts, value, data)
        if edited is not None:
            _replace(path, edited)
            return False
        had_comments = any(line.lstrip().startswith("#") for line in text.splitlines())
        _replace(path, tomli_w.dumps(data))
        return had_comments
    if private:
        from jiraflow import store

        store.write_private(path, tomli_w.dumps(data).encode("utf-8"))
        return False
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(tomli_w.dumps(data))
    return False


def _edit_toml(text: str, parts: list[str], value: Any, expected: dict[str, Any]) -> str | None:
    """`text` with the key at `parts` set to `value`, everything else kept byte for byte
    (tomlkit: a well-kept style-preserving TOML library, imported only here); None when the
    edit does not give exactly `expected` when read back."""
    import tomllib

    import tomlkit
    from tomlkit.items import InlineTable

    try:
        doc = tomlkit.parse(text)
        node: Any = doc
        for part in parts[:-1]:
            if part not in node:
                if isinstance(node, InlineTable):
                    node[part] = tomlkit.inline_table()
                else:
                    table = tomlkit.table()
                    if text.strip():
                        table.trivia.indent = "\n"  # a blank line before its [header]
                    node[part] = table
            node = node[part]
        if isinstance(value, dict) and (
            isinstance(node, InlineTable) or isinstance(node.get(parts[-1]), InlineTable)
        ):
            inline = tomlkit.inline_table()  # a table written inline stays inline
            inline.update(value)
            value = inline
        node[parts[-1]] = value
        edited = tomlkit.dumps(doc)
        return edited if tomllib.loads(edited) == expected else None
    except Exception:  # tomlkit's own errors, on a layout it cannot edit: rewrite instead
        return None


def _replace(path: str, text: str) -> None:
    """Write `text` over the file at `path`, keeping its permissions (a user file is 0600)."""
    with open(path, "r+", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.truncate()
