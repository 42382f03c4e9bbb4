"""Release notes: the commits of a revision range, the issues they belong to, and the
Markdown and JSON made of them; also CHANGELOG.md upkeep.

A commit belongs to the issues whose keys its message mentions. A commit that mentions
none belongs to the issues of the merge that brought it into the main line of the range
(`Merge branch 'feature/PROJ-12-login' into develop`, Bitbucket's `Merged in
feature/PROJ-12-login (pull request #3)`): the usual feature branch has one key, in its
name, and commits that do not repeat it. What belongs to no issue is listed apart.

Jira is not asked here: `build` takes what the caller found out about the issues (one
batched search), and falls back to commit subjects and branch prefixes without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from jiraflow.errors import UsageError
from jiraflow.git import TAGS, GitError, tag_ref
from jiraflow.keys import KEY_IN_TEXT, KEY_PATTERN, keys_in

if TYPE_CHECKING:
    from jiraflow.git import GitRepo

# the subject of the commit that adds a release's notes to the changelog (no news itself)
NOTES_COMMIT = "Release notes for {version}"
FEATURES = "Features"
FIXES = "Bug fixes"
OTHER = "Other"
SECTIONS = (FEATURES, FIXES, OTHER)
# the names of the sections in the JSON document, which scripts rely on
_JSON_NAMES = {FEATURES: "features", FIXES: "bug_fixes", OTHER: "other"}

# the branch prefixes of git-flow AVH, used when the caller does not give its own
DEFAULT_PREFIXES = {"feature": "feature/", "bugfix": "bugfix/", "hotfix": "hotfix/"}
_SECTION_OF_KIND = {"feature": FEATURES, "bugfix": FIXES, "hotfix": FIXES}

# subjects of merges, including the single-parent commit of a squash merge on Bitbucket
_MERGE_SUBJECT = re.compile(r"^(Merge (branch|remote-tracking branch|pull request|tag)|Merged in) ")


@dataclass
class Commit:
    sha: str
    parents: list[str]
    subject: str
    body: str
    abbrev: str = ""  # git's short name for it (%h), when known
    author: str = ""  # "Name <e-mail>", when known
    committer: str = ""  # the committer's e-mail (%ce), when known

    @property
    def keys(self) -> list[str]:
        """The issue keys the message mentions, in order, each once."""
        return keys_in(f"{self.subject}\n{self.body}")

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def short(self) -> str:
        return self.abbrev or self.sha[:7]

    @property
    def merge_like(self) -> bool:
        """A merge, or a squash merge whose subject names the branch."""
        return self.is_merge or bool(_MERGE_SUBJECT.match(self.subject))


class IssueFacts(Protocol):
    """What the notes need to know of an issue (the tracker's lookup gives it)."""

    @property
    def summary(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def url(self) -> str: ...


@dataclass(frozen=True)
class Facts:
    summary: str
    type: str
    url: str


@dataclass
class Entry:
    key: str
    summary: str
    type: str  # the Jira issue type; "" when Jira did not say
    url: str  # the issue in Jira; "" without Jira
    commits: list[str] = field(default_factory=list)  # shas, oldest first


@dataclass
class Notes:
    title: str
    range: str
    sections: dict[str, list[Entry]]  # Features, Bug fixes, Other: always all three, in order
    unlinked: list[Commit]  # commits of no issue, merges left out
    jira: str  # "used", "not configured" or "unreachable: <reason>"

    @property
    def entries(self) -> list[Entry]:
        return [entry for section in self.sections.values() for entry in section]


# -- reading the history ---------------------------------------------------------------------
_FIELD = "\x1f"


def commits_in(repo: GitRepo, rev_range: str) -> list[Commit]:
    """The commits of a range (`1.1.0..HEAD`, `develop`, ...), oldest first, merges
    included, in one git call. A range git does not understand is a UsageError."""
    fmt = _FIELD.join(("%H", "%P", "%h", "%an <%ae>", "%ce", "%s", "%b"))
    try:
        text = repo.run(
            "log",
            "-z",
            "--topo-order",
            "--reverse",
            "--no-color",
            f"--format=tformat:{fmt}",
            "--end-of-options",
            *rev_range.split(),  # "A..B", or "B ^A1 ^A2" (refnames have no spaces)
            "--",
        ).stdout
    except GitError as exc:
        raise UsageError(
            f"'{rev_range}' is not a revision range git knows ({exc.message.split(': ', 1)[-1]})",
            "Give a range such as 1.1.0..HEAD, or leave it out for the changes since the "
            "last version tag.",
        ) from None
    commits = []
    for record in text.split("\0"):
        if not record.strip():
            continue
        fields = (record.lstrip("\n").split(_FIELD, 6) + [""] * 6)[:7]
        sha, parents, abbrev, author, committer, subject, body = fields
        commits.append(
            Commit(sha, parents.split(), subject, body.strip(), abbrev, author, committer)
        )
    return commits


def keys_of(commits: list[Commit], accepts: Callable[[str], bool] | None = None) -> list[str]:
    """Every issue key the commits mention (merge messages, with their branch names,
    included), in order of first appearance, each once; only those `accepts` takes."""
    seen: dict[str, None] = {}
    for commit in commits:
        for key in commit.keys:
            if accepts is None or accepts(key):
                seen.setdefault(key, None)
    return list(seen)


def default_range(repo: GitRepo, prefix: str, head: str = "HEAD", version: str = "") -> str:
    """What `head` has that no release has: `head` without the commits of the release tags
    it contains (a tag on `head` itself included: then the range is empty), or all of its
    history when there is none. `version`: the release being made, whose pre-release tags
    (1.5.0-rc.1) do not count as releases."""
    return _without(head, previous_releases(repo, prefix, head, version))


def _without(rev: str, tags: list[str]) -> str:
    if not tags:
        return rev
    if len(tags) == 1:
        return f"{tags[0]}..{rev}"
    return " ".join([rev, *(f"^{tag}" for tag in tags)])


def previous_releases(
    repo: GitRepo, prefix: str, rev: str, version: str = "", *, skip: str = ""
) -> list[str]:
    """The release tags `rev` contains that no other of them contains (usually one; two when
    a hotfix of an older version was finished after a newer release). A release tag is the
    prefix and a semantic version (versions.tag_version); pre-releases of `version` are
    not releases of anything before it."""
    from jiraflow.gitflow import versions

    current = versions.parse(version) if version else None
    found: dict[str, str] = {}  # commit -> tag
    listing = repo.out(
        "for-each-ref",
        "--merged",
        rev,
        "--format=%(refname:strip=2) %(*objectname)%(objectname)",
        f"{tag_ref(prefix)}*" if prefix else TAGS,
    )
    for line in listing.splitlines():
        name, _, commit = line.partition(" ")
        parsed = versions.tag_version(name, prefix)
        if name == skip or parsed is None:
            continue
        if current is not None and parsed.release_of(current):
            continue  # a pre-release of the version being made
        found.setdefault(commit[:40], name)
    if len(found) <= 1:
        return list(found.values())
    independent = repo.out("merge-base", "--independent", *found).split()
    return [found[sha] for sha in independent]


def release_range(repo: GitRepo, prefix: str, tag: str) -> str:
    """What the release of version tag `tag` brought: the range of `tag` without the other
    release tags it contains (the rule of `default_range`, the tag's pre-releases aside)."""
    version = tag[len(prefix) :] if tag.startswith(prefix) else ""
    return _without(tag, previous_releases(repo, prefix, tag, version, skip=tag))


def range_end(rev_range: str) -> str:
    """The revision a range ends at: `B` of `A..B` and `A...B` (HEAD when left out), the
    revision itself for a single one."""
    for sep in ("...", ".."):
        if sep in rev_range:
            return rev_range.split(sep, 1)[1] or "HEAD"
    return rev_range


# -- who brought what in ---------------------------------------------------------------------
def _owners(commits: list[Commit]) -> dict[str, str]:
    """For each commit off the main line, the merge on the main line that brought it in.
    The main line is the first-parent chain from each tip of the range; merges are taken
    newest first, so a commit reachable from several belongs to the first to bring it."""
    in_range = {c.sha: c for c in commits}
    parents_of_others = {p for c in commits for p in c.parents}
    tips = [c for c in reversed(commits) if c.sha not in parents_of_others]
    mainline: list[Commit] = []
    seen: set[str] = set()
    for tip in tips:
        commit: Commit | None = tip
        while commit is not None and commit.sha not in seen:
            seen.add(commit.sha)
            mainline.append(commit)
            commit = in_range.get(commit.parents[0]) if commit.parents else None
    owners: dict[str, str] = {}
    for merge in mainline:
        stack = merge.parents[1:]
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in in_range:
                continue
            seen.add(sha)
            owners[sha] = merge.sha
            stack.extend(in_range[sha].parents)
    return owners


def _branch_kinds(commits: list[Commit], prefixes: Mapping[str, str]) -> dict[str, str]:
    """key -> branch kind (feature, bugfix, hotfix), from branch names in merge messages."""
    kinds: dict[str, str] = {}
    by_length = sorted(
        ((kind, prefix) for kind, prefix in prefixes.items() if prefix), key=lambda kp: -len(kp[1])
    )
    for commit in commits:
        if not commit.merge_like:
            continue
        for name in _branch_names(commit.subject):
            for kind, prefix in by_length:
                rest = _after_prefix(name, prefix)
                if rest is not None:
                    for key in KEY_IN_TEXT.findall(rest):
                        kinds.setdefault(key, kind)
                    break
    return kinds


def _branch_names(subject: str) -> list[str]:
    return [word.strip("'\"`()[],;:") for word in subject.split()]


def _after_prefix(name: str, prefix: str) -> str | None:
    """The branch name after `prefix` (also below a remote: origin/feature/x)."""
    if name.startswith(prefix):
        return name[len(prefix) :]
    at = name.find("/" + prefix)
    return name[at + 1 + len(prefix) :] if at >= 0 else None


def _branch_name_of(key: str, commits: list[Commit], prefixes: Mapping[str, str]) -> str:
    """The words of the branch named after the key: feature/PROJ-12-fix-login -> fix login."""
    for commit in commits:
        if not commit.merge_like:
            continue
        for name in _branch_names(commit.subject):
            for prefix in prefixes.values():
                rest = _after_prefix(name, prefix) if prefix else None
                if rest and key in KEY_IN_TEXT.findall(rest):
                    words = rest.split(key, 1)[1].strip("-_/. ")
                    return re.sub(r"[-_]+", " ", words)
    return ""


# -- building the notes ----------------------------------------------------------------------
def build(
    commits: list[Commit],
    issues: Mapping[str, IssueFacts] | None,
    *,
    feature_types: Iterable[str],
    fix_types: Iterable[str],
    title: str,
    rev_range: str,
    accepts: Callable[[str], bool] | None = None,
    prefixes: Mapping[str, str] | None = None,
    jira: str | None = None,
) -> Notes:
    """Group the issues of `commits` by type. `issues` holds what Jira said (None: Jira
    was not asked); a key it lacks gets the subject of its first commit and a section from
    the prefix of its branch (`prefixes`: kind -> prefix, git-flow's by default). `jira`
    says how Jira was used (default: "used" when `issues` is given, else "not
    configured")."""
    prefixes = DEFAULT_PREFIXES if prefixes is None else prefixes
    features = {t.casefold() for t in feature_types}
    fixes = {t.casefold() for t in fix_types}
    owners = _owners(commits)
    by_sha = {c.sha: c for c in commits}

    def own_keys(commit: Commit) -> list[str]:
        return [k for k in commit.keys if accepts is None or accepts(k)]

    commits_of: dict[str, list[str]] = {}
    unlinked: list[Commit] = []
    for commit in commits:
        keys = own_keys(commit)
        if not keys and commit.sha in owners:
            keys = own_keys(by_sha[owners[commit.sha]])
        for key in keys:
            commits_of.setdefault(key, []).append(commit.sha)
        if not keys and not commit.is_merge:
            unlinked.append(commit)

    kinds = _branch_kinds(commits, prefixes)
    sections: dict[str, list[Entry]] = {name: [] for name in SECTIONS}
    for key in keys_of(commits, accepts):
        known = issues.get(key) if issues is not None else None
        if known is not None:
            entry = Entry(key, known.summary, known.type, known.url)
            folded = known.type.casefold()
            section = FEATURES if folded in features else FIXES if folded in fixes else OTHER
        else:
            entry = Entry(key, _summary_from_git(key, commits, prefixes), "", "")
            section = _SECTION_OF_KIND.get(kinds.get(key, ""), OTHER)
        entry.commits = commits_of.get(key, [])
        sections[section].append(entry)
    if jira is None:
        jira = "used" if issues is not None else "not configured"
    return Notes(title, rev_range, sections, unlinked, jira)


def _summary_from_git(key: str, commits: list[Commit], prefixes: Mapping[str, str]) -> str:
    """The subject of the first commit that mentions the key and is not a merge, without
    its keys; else the words of the branch named after it; else the merge's subject."""
    for commit in commits:
        if not commit.merge_like and key in commit.keys:
            text = strip_keys(commit.subject, key)
            if text:
                return text
    words = _branch_name_of(key, commits, prefixes)
    if words:
        return words
    for commit in commits:
        if key in commit.keys:
            return commit.subject
    return ""


_SEPARATORS = " \t:;,|/-–—"
_SEPARATOR = f"[{re.escape(_SEPARATORS)}]"
_LEADING_KEYS = re.compile(rf"^\s*(?:[\[(]?{KEY_PATTERN}[\])]?{_SEPARATOR}*)+")
_TRAILING_KEY = re.compile(
    rf"{_SEPARATOR}*(?:\[{KEY_PATTERN}\]|\({KEY_PATTERN}\)|{KEY_PATTERN})\s*$"
)


def strip_keys(subject: str, key: str | None = None) -> str:
    """A subject without the keys it starts with, and without `key` or a key in brackets
    at its end, with their separators: `PROJ-12: fix login` and `[PROJ-12] fix login
    (PROJ-13)` -> `fix login`. Other keys stay: `Revert PROJ-12 change`, `Fix UTF-8`."""
    text = _LEADING_KEYS.sub("", subject)
    while True:
        match = _TRAILING_KEY.search(text)
        if match is None:
            break
        found = match.group(0).strip(_SEPARATORS + "[]()")
        if found != key and not match.group(0).rstrip().endswith((")", "]")):
            break
        text = text[: match.start()]
    return text.strip(_SEPARATORS)


def facts_of(issues: Mapping[str, Any], url: Callable[[str], str]) -> dict[str, Facts]:
    """IssueFacts from the tracker's lookup: its issues (with .summary, .type) and its
    browse link for a key."""
    return {key: Facts(issue.summary, issue.type, url(key)) for key, issue in issues.items()}


# -- Markdown and JSON -----------------------------------------------------------------------
def markdown(notes: Notes) -> str:
    lines = [f"## {notes.title}", ""]
    empty = True
    for name, entries in notes.sections.items():
        if not entries:
            continue
        empty = False
        lines += [f"### {name}", ""]
        for entry in entries:
            link = f"[{entry.key}]({_url(entry.url)})" if entry.url else entry.key
            summary = escape(entry.summary)
            lines.append(f"- {link} {summary}" if summary else f"- {link}")
        lines.append("")
    if notes.unlinked:
        empty = False
        lines += ["### Other changes", ""]
        for commit in notes.unlinked:
            lines.append(f"- {escape(commit.subject, line_start=True)} ({commit.short})")
        lines.append("")
    if empty:
        lines += ["No changes.", ""]
    return "\n".join(lines)


def _url(url: str) -> str:
    return f"<{url}>" if any(c in url for c in " ()<>") else url


_AT_LINE_START = re.compile(r"^(?:[#>+-]|\d{1,9}(?=[.)](?:\s|$)))")


def escape(text: str, *, line_start: bool = False) -> str:
    """Text that Markdown shows as written, changed as little as possible: brackets,
    asterisks, underscores that could start emphasis (not those inside a word such as
    snake_case), `<` that could open an HTML tag, a backslash before punctuation, and with
    `line_start` what would make a heading, quote or list of the start of a line.
    Backticks stay: code spans are meant."""
    text = " ".join(text.split())
    text = re.sub(r"\\(?=[!-/:-@\[-`{-~])", r"\\\\", text)
    text = re.sub(r"([\[\]*])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    text = re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
    if line_start:
        match = _AT_LINE_START.match(text)
        if match:
            at = match.end() if match.group(0)[0].isdigit() else 0
            text = text[:at] + "\\" + text[at:]
    return text


def to_json(notes: Notes) -> dict[str, Any]:
    """{"title", "range", "jira", "sections": {"features"|"bug_fixes"|"other": [{"key",
    "summary", "type", "url", "commits"}]}, "other_changes": [{"sha", "subject"}]};
    type and url are null when not known."""
    return {
        "title": notes.title,
        "range": notes.range,
        "jira": notes.jira,
        "sections": {
            _JSON_NAMES[name]: [
                {
                    "key": e.key,
                    "summary": e.summary,
                    "type": e.type or None,
                    "url": e.url or None,
                    "commits": list(e.commits),
                }
                for e in entries
            ]
            for name, entries in notes.sections.items()
        },
        "other_changes": [{"sha": c.sha, "subject": c.subject} for c in notes.unlinked],
    }


# -- CHANGELOG.md ----------------------------------------------------------------------------
CHANGELOG_HEADER = "# Changelog\n\n"


def prepend_changelog(existing: str | None, section: str) -> str:
    """The changelog with `section` (starting `## <title>`) at the top: below the file's
    H1 heading and the text under it, above the first release. A section for the same
    release (`## 1.2.0`, `## [1.2.0] - 2026-01-02`) is replaced where it is instead."""
    section = section.strip("\n") + "\n"
    title = _release_of(section.split("\n", 1)[0])
    if not existing or not existing.strip():
        return CHANGELOG_HEADER + section
    lines = existing.split("\n")
    headings = _h2_lines(lines)
    same = [i for i in headings if title is not None and _release_of(lines[i]) == title]
    if same:
        start = same[0]
        later = [i for i in headings if i > start]
        end = later[0] if later else len(lines)
        before = "\n".join(lines[:start]).rstrip("\n")
        after = "\n".join(lines[end:]).strip("\n")
        return _join(before, section, after)
    first_text = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if not lines[first_text].startswith("# "):
        return _join("", section, existing.strip("\n"))
    top = headings[0] if headings else len(lines)
    before = "\n".join(lines[:top]).rstrip("\n")
    after = "\n".join(lines[top:]).strip("\n")
    return _join(before, section, after)


def _join(before: str, section: str, after: str) -> str:
    parts = [p for p in (before, section.rstrip("\n"), after) if p]
    return "\n\n".join(parts) + "\n"


def _h2_lines(lines: list[str]) -> list[int]:
    """Indexes of the `## ` headings, outside fenced code blocks."""
    found: list[int] = []
    fence = ""
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        if line.startswith("## "):
            found.append(i)
    return found


def _release_of(heading: str) -> str | None:
    """What a `## ` heading is about: its first word without brackets (`## [1.2.0] -
    2026-01-02` -> 1.2.0)."""
    if not heading.startswith("## "):
        return None
    words = heading[3:].split()
    return words[0].strip("[]") if words else None
