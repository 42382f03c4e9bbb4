"""Key checks: the rules Bitbucket's server-side hooks (Jira Hooks for Bitbucket, Yet
Another Commit Checker) enforce at push time, run before the push, in git hooks and in CI.

A check looks at *items* (a branch name, a commit message, commits of a range, a pull
request title), finds the issue keys each one names, and reports a Problem per item that
breaks a rule. An item passes when it names at least one *valid* key: one that matches
`check.key_pattern`, belongs to an allowed project, and (when Jira is asked) is an issue
that meets `check.jql`. All keys of one check go to Jira together (tracker.verify: one
search per site for up to 100 keys). Pure rules here; the CLI renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jiraflow.config import Config
from jiraflow.errors import ConfigError
from jiraflow.gitflow.model import KINDS, BranchModel
from jiraflow.keys import branch_key, project_of
from jiraflow.text import plural

if TYPE_CHECKING:
    from jiraflow.gitflow.notes import Commit
    from jiraflow.jira.tracker import Verdicts

# Commits jiraflow itself makes on release branches, which name no issue.
_OWN_MESSAGES = ("{bump}", "Release notes for {version}")
# The subjects git gives merges (a merge made with -m has its own, and is a merge anyway).
_GIT_MERGE = re.compile(r"^Merge (branch|branches|remote-tracking branch|tag|commit) ")


def glob(pattern: str) -> re.Pattern[str]:
    """A shell-like pattern where only `*` (anything, `/` included) and `?` are special, so
    `renovate[bot]` means itself."""
    parts = (re.escape(part) for part in re.split(r"([*?])", pattern))
    text = "".join({r"\*": ".*", r"\?": "."}.get(p, p) for p in parts)
    return re.compile(f"^{text}$", re.IGNORECASE)


@dataclass(frozen=True)
class Rules:
    """`[check]` of the configuration, compiled."""

    pattern: re.Pattern[str]
    projects: tuple[str, ...]  # () = any
    commits: str  # every | any | off
    merges: bool
    branch_types: tuple[str, ...]
    jira: bool
    jql: str
    pr_title: bool
    exempt_branches: tuple[re.Pattern[str], ...]
    exempt_authors: tuple[re.Pattern[str], ...]
    exempt_messages: tuple[re.Pattern[str], ...]
    own_messages: tuple[re.Pattern[str], ...]
    model: BranchModel
    all_keys: bool = False  # check.all_keys_valid
    branch_pattern: re.Pattern[str] | None = None
    message_pattern: re.Pattern[str] | None = None
    merge_commits: bool = True
    committer: tuple[str, ...] = ()  # glob patterns; "me" is resolved by the caller
    header: str = ""
    footer: str = ""
    long_lived: tuple[str, ...] = ()  # environment branches: no branch_pattern for them
    environments: tuple[str, ...] = ()  # their names: `promote --merge` merges into them

    @classmethod
    def from_config(cls, config: Config) -> Rules:
        check = config.check
        jira = config.jira
        projects = check.projects or [
            *jira.projects,
            *(p for row in jira.sites for p in row.get("projects") or []),
        ]
        own = [
            template.replace("{bump}", config.release.bump_message) for template in _OWN_MESSAGES
        ]
        unknown = [kind for kind in check.branch_types if kind not in KINDS]
        if unknown:
            raise ConfigError(
                f"check.branch_types: {', '.join(unknown)} is not a branch type",
                "Use feature, bugfix, release, hotfix or support.",
            )
        return cls(
            pattern=_key_pattern(check.key_pattern),
            projects=tuple(dict.fromkeys(projects)),
            commits=check.commits,
            merges=check.merges,
            branch_types=tuple(check.branch_types),
            jira=check.jira,
            jql=check.jql.strip(),
            pr_title=check.pr_title,
            exempt_branches=tuple(glob(p) for p in check.exempt_branches),
            exempt_authors=tuple(glob(p) for p in check.exempt_authors),
            exempt_messages=tuple(
                _compile("check.exempt_messages", p, re.MULTILINE) for p in check.exempt_messages
            ),
            own_messages=tuple(_template(t) for t in own),
            model=BranchModel.from_config(config),
            all_keys=check.all_keys_valid,
            branch_pattern=(
                _compile("check.branch_pattern", check.branch_pattern)
                if check.branch_pattern
                else None
            ),
            message_pattern=(
                _compile("check.message_pattern", check.message_pattern, re.MULTILINE)
                if check.message_pattern
                else None
            ),
            merge_commits=check.merge_commits,
            committer=tuple(check.committer),
            header=check.header.strip("\n"),
            footer=check.footer.strip("\n"),
            long_lived=tuple(env.branch for env in config.environment_branches()),
            environments=tuple(env.name for env in config.environment_branches()),
        )

    def keys_in(self, text: str) -> list[str]:
        """The keys `text` names (pattern only), in order, each once. A match followed by
        a digit is part of a longer number, not a key."""
        found = []
        for match in self.pattern.finditer(text):
            end = match.end()
            if match.group(0) and not text[end : end + 1].isdigit():
                found.append(match.group(0).upper())  # Jira's keys are upper case
        return list(dict.fromkeys(found))

    def has_key(self, text: str) -> bool:
        return bool(self.keys_in(text))

    def allowed(self, key: str) -> bool:
        return not self.projects or project_of(key) in self.projects

    def branch_key(self, branch: str) -> str | None:
        """The first allowed key in a branch name (after its prefix): what the
        prepare-commit-msg hook adds to a message."""
        return branch_key(self.model, branch, find=self.keys_in, accept=self.allowed)

    def branch_exempt(self, branch: str) -> bool:
        return any(p.match(branch) for p in self.exempt_branches)

    def commit_exempt(self, commit: Commit) -> str | None:
        """Why a commit is not checked, or None."""
        if commit.is_merge and not self.merges:
            return "merge"
        message = f"{commit.subject}\n\n{commit.body}".strip()
        if any(p.match(commit.subject) for p in self.own_messages):
            return "made by jiraflow"
        if any(p.search(message) for p in self.exempt_messages):
            return "exempt message"
        name, _, email = commit.author.partition(" <")
        if any(p.match(name) or p.match(email.rstrip(">")) for p in self.exempt_authors):
            return "exempt author"
        return None

    def message_exempt(self, message: str) -> str | None:
        """Why a commit message being written is not checked (commit-msg hook), or None."""
        subject = message.split("\n", 1)[0]
        if _GIT_MERGE.match(subject) and not self.merges:
            return "merge"
        if any(p.match(subject) for p in self.own_messages):
            return "made by jiraflow"
        if any(p.search(message) for p in self.exempt_messages):
            return "exempt message"
        return None


def _compile(key: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ConfigError(
            f"{key}: {pattern!r} is not a regular expression ({exc})",
            "Fix it with `jiraflow config set` or in .jiraflow.toml.",
        ) from None


_INLINE_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")


def _key_pattern(pattern: str) -> re.Pattern[str]:
    """check.key_pattern, not matching inside a word; inline flags such as (?i) kept at the
    front, where Python wants them."""
    flags = _INLINE_FLAGS.match(pattern)
    lead = flags.group(0) if flags else ""
    return _compile("check.key_pattern", rf"{lead}(?<![A-Za-z0-9])(?:{pattern[len(lead) :]})")


def _template(text: str) -> re.Pattern[str]:
    """A message template ("Bump version to {version}") as a pattern for subjects."""
    parts = re.split(r"(\{[a-z_]+\})", text)
    body = "".join(".+" if re.fullmatch(r"\{[a-z_]+\}", p) else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


# -- what is checked, and what was found ------------------------------------------------------
@dataclass
class Item:
    """One thing that must name an issue."""

    kind: str  # "branch", "commit", "message", "title"
    label: str  # how output names it: 'a1b2c3d "Fix login"', 'branch feature/x'
    text: str  # where keys are looked for
    fix: str  # what to do when it names no issue
    how: str = ""  # the command that changes it (to fix a wrong key)
    needs_key: bool = True  # False: a commit of a range checked with commits = any
    jql: bool = True  # False: an issue that fails check.jql still counts (pushes to develop...)
    sha: str = ""
    keys: list[str] = field(default_factory=list)  # the keys it names, filled by evaluate


@dataclass
class Problem:
    code: str  # no-key | not-allowed | not-in-jira | fails-jql | branch-model | none-in-range
    item: Item
    text: str  # what is wrong
    fix: str  # what to do

    def line(self) -> str:
        return f"{self.item.label}: {self.text}. {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.item.kind,
            "commit": self.item.sha or None,
            "name": self.item.label,
            "keys": self.item.keys,
            "message": self.text,
            "fix": self.fix,
        }


@dataclass
class Report:
    check: str  # branch | commit-msg | range | pr
    target: str  # the branch, file, range or pull request checked
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (sha, subject, why)
    jira: str = "not configured"  # "checked", "off", "not configured", "offline", "unreachable: …"
    notes: list[str] = field(default_factory=list)  # checks that could not run, and why
    warnings: list[Problem] = field(default_factory=list)  # what does not fail the check
    header: str = ""  # check.header / check.footer: the team's text around a refusal
    footer: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for item in self.items for k in item.keys))

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "target": self.target,
            "ok": self.ok,
            "checked": {
                "commits": sum(1 for item in self.items if item.kind == "commit"),
                "items": len(self.items),
                "keys": self.keys,
            },
            "jira": self.jira,
            "problems": [p.to_json() for p in self.problems],
            "skipped": [
                {"commit": sha, "subject": subject, "why": why}
                for sha, subject, why in self.skipped
            ],
            "notes": self.notes,
            "warnings": [w.to_json() for w in self.warnings],
            "header": (self.header or None) if self.problems else None,
            "footer": (self.footer or None) if self.problems else None,
        }


# -- the items of each check -----------------------------------------------------------------
def branch_items(rules: Rules, branch: str, report: Report, *, new: bool = True) -> list[Item]:
    """A branch name: it must follow the branch model, match check.branch_pattern (when
    `new`: a push of a branch the remote has already is not held to it), and carry a key
    when its type is one of check.branch_types. Exempt branches are not checked."""
    if rules.branch_exempt(branch):
        report.notes.append(f"branch {branch} is exempt (check.exempt_branches)")
        return []
    model = rules.model
    label = f"branch {branch}"
    if branch in (model.main, model.develop) or branch in rules.long_lived:
        return []  # long-lived: environment branches ([[environments]]) too
    parsed = model.parse(branch)
    if parsed is None or not parsed[1]:
        prefixes = ", ".join(p for p in model.prefixes.values() if p)
        item = Item("branch", label, "", "")
        report.items.append(item)
        report.problems.append(
            Problem(
                "branch-model",
                item,
                "does not follow the branch model",
                f"Name it {model.main}, {model.develop} or start it with one of {prefixes} "
                "(or add it to check.exempt_branches)",
            )
        )
        return []
    kind, rest = parsed
    if new:
        _branch_pattern(rules, branch, kind, report, counted=kind not in rules.branch_types)
    if kind not in rules.branch_types:
        return []
    example = f"{model.prefixes[kind]}PROJ-12-{rest}"
    fix = f"Rename it so it names the issue: git branch -m {branch} {example}"
    return [Item("branch", label, rest, fix, f"git branch -m {branch} <new name>")]


def _branch_pattern(rules: Rules, branch: str, kind: str, report: Report, *, counted: bool) -> None:
    """check.branch_pattern (Yet Another Commit Checker's "Branch Name Regex"): the whole
    name must match; support and environment branches need not. `counted`: the name is
    not checked for a key, so the item counts in the report's items."""
    pattern = rules.branch_pattern
    if pattern is None or kind == "support" or branch in rules.long_lived:
        return
    if pattern.fullmatch(branch):
        return
    item = Item("branch", f"branch {branch}", "", "")
    if counted:
        report.items.append(item)
    report.problems.append(
        Problem(
            "branch-pattern",
            item,
            f"does not match check.branch_pattern ({pattern.pattern})",
            f"Rename it to a name that does: git branch -m {branch} <new name>",
        )
    )


def commit_items(
    rules: Rules,
    commits: Iterable[Commit],
    report: Report,
    *,
    example_key: str | None,
    head: str = "",
    allowed: tuple[re.Pattern[str], ...] = (),
    unkeyed: list[Item] | None = None,
) -> list[Item]:
    """The commits of a range that must name an issue (all with commits = every; with any,
    they are looked at but one valid key in the range is enough). The rules that need no
    Jira (check.merge_commits, check.message_pattern, and check.committer with `allowed`:
    its patterns, matched against each commit's committer e-mail) add their problems to
    the report. With commits = off, `unkeyed` gets the items of the commits that are not
    exempt (the smart-commit check looks at them all the same)."""
    keyed = rules.commits != "off"
    if not keyed:
        report.notes.append("commit messages are not checked (check.commits = off)")
    items = []
    example = example_key or "PROJ-12"
    for commit in commits:
        label = f'{commit.short} "{_cut(commit.subject)}"'
        refused = merge_problem(rules, commit, label)
        if refused is not None:
            report.problems.append(refused)
        why = rules.commit_exempt(commit)
        if why:
            if refused is not None:
                report.items.append(refused.item)  # checked (and refused), not skipped
            elif keyed:
                report.skipped.append((commit.sha, commit.subject, why))
            continue
        onto = f"{commit.short}~1" if commit.parents else "--root"
        if commit.sha == head:
            how = "git commit --amend"
        else:
            how = f"git rebase -i {onto}, marking it reword"
        fix = f"Reword it ({how}) to name an issue, e.g. {example} {commit.subject}"
        text = f"{commit.subject}\n{commit.body}"
        item = Item("commit", label, text, fix, how, needs_key=rules.commits == "every")
        item.sha = commit.sha
        message = f"{commit.subject}\n\n{commit.body}".strip()
        shaped = pattern_problem(rules, item, message, f"Reword it ({how}) so that it does")
        if shaped is not None:
            report.problems.append(shaped)
        if allowed:
            again = "git commit --amend --no-edit" if commit.sha == head else ""
            again = again or f"git rebase --force-rebase {onto}"
            stranger = committer_problem(allowed, commit.committer, item, again)
            if stranger is not None:
                report.problems.append(stranger)
                shaped = shaped or stranger  # counted below, as a pattern problem is
        if keyed:
            items.append(item)
        else:
            if unkeyed is not None:
                unkeyed.append(item)
            if shaped is not None or refused is not None:
                report.items.append(item)  # counted, though no key is asked of it
    return items


def committer_problem(
    allowed: tuple[re.Pattern[str], ...], email: str, item: Item, again: str
) -> Problem | None:
    """check.committer (Yet Another Commit Checker's "Require Matching Committer Email"):
    the committer's e-mail must match one of `allowed`; `again`: the command that commits
    it again with your identity."""
    if any(p.match(email) for p in allowed):
        return None
    fix = f"Set your address (git config user.email <your address>), then: {again}"
    text = f"was committed by {email or 'no e-mail address'}, not an address of check.committer"
    return Problem("committer", item, text, fix)


def pattern_problem(rules: Rules, item: Item, message: str, fix: str) -> Problem | None:
    """check.message_pattern (Yet Another Commit Checker's "Commit Message Regex"): the
    whole message must match, as Java's matches() with MULTILINE, which YACC uses."""
    pattern = rules.message_pattern
    if pattern is None or pattern.fullmatch(message):
        return None
    return Problem(
        "message-pattern", item, f"does not match check.message_pattern ({pattern.pattern})", fix
    )


# A merge git made: `git merge` (branch, tag, a remote's branch) or `git pull` ("of <url>").
_GIT_MERGE_OF = re.compile(
    r"^Merge (branch|tag|remote-tracking branch) '([^']+)'( of \S+)?(?: into (\S+))?$"
)
# The merges Bitbucket makes when it merges a pull request.
_BITBUCKET_MERGE = (
    re.compile(r"^Merged in \S+ \(pull request #\d+\)"),  # Cloud
    re.compile(r"^Merge pull request #\d+ in \S+ from \S+ to \S+"),  # Data Center
)
_FINISHED = ("feature", "bugfix", "release", "hotfix")
# The merge `jiraflow promote --merge` makes into an environment's branch.
_PROMOTE = re.compile(r"^Promote \S+ to (\S+)$")


def gitflow_merge(rules: Rules, subject: str) -> bool:
    """Whether a merge is one that Gitflow makes (jiraflow's finishes, git-flow AVH's) or
    Bitbucket's: a feature, bugfix, release or hotfix branch merged into where it ends, a
    version tag or main merged back, the remote's copy of a branch merged into it, a
    `promote --merge` into an environment's branch; or a pull request merged on the server.
    Not: anything merged into a feature or bugfix branch, nor a `git pull` (its message names
    the URL)."""
    if any(p.match(subject) for p in _BITBUCKET_MERGE):
        return True
    promoted = _PROMOTE.match(subject)
    if promoted is not None:
        return promoted.group(1) in rules.environments
    match = _GIT_MERGE_OF.match(subject)
    if match is None or match.group(3):
        return False
    what, source, into = match.group(1), match.group(2), match.group(4)
    model = rules.model
    into = into or model.main  # git leaves " into main" (or master) out
    target = model.parse(into)
    if target is not None and target[0] in ("feature", "bugfix"):
        return False
    if what == "tag":
        return True  # a release or hotfix finish merges its tag back
    if what == "remote-tracking branch":
        return source == f"{model.remote}/{into}"
    parsed = model.parse(source)
    if parsed is not None and parsed[0] in _FINISHED:
        return True
    return source == model.main and into != model.main  # merged back without a tag


def merge_problem(rules: Rules, commit: Commit, label: str) -> Problem | None:
    """check.merge_commits = false: a merge commit made locally, such as `git merge
    develop` on a feature branch, is refused; Gitflow's and Bitbucket's are not (nor those
    of check.exempt_authors)."""
    if rules.merge_commits or not commit.is_merge or gitflow_merge(rules, commit.subject):
        return None
    name, _, email = commit.author.partition(" <")
    if any(p.match(name) or p.match(email.rstrip(">")) for p in rules.exempt_authors):
        return None
    match = _GIT_MERGE_OF.match(commit.subject)
    if match and match.group(3):
        fix = "Pull with rebase instead of merging: git pull --rebase"
    elif match:
        fix = f"Rebase instead of merging: git rebase {match.group(2)} (it drops the merge)"
    else:
        fix = "Rebase onto the branch you merged instead: git rebase <branch> (it drops the merge)"
    item = Item("commit", label, "", fix, sha=commit.sha)
    return Problem("merge-commit", item, "is a merge commit (check.merge_commits = false)", fix)


def single_commit_problem(which: str, count: int, base: str) -> Problem:
    """`check pr --single-commit`: the pull request has `count` commits instead of one."""
    if count:
        fix = (
            f"Squash them into one: git rebase -i {base} (mark all but the first 'squash'), "
            "then git push --force-with-lease"
        )
    else:
        fix = "Commit the change on the branch and push it"
    item = Item("range", which, "", fix)
    text = f"has {plural(count, 'commit')}; it must have exactly one (--single-commit)"
    return Problem("single-commit", item, text, fix)


def message_item(rules: Rules, text: str, branch_key: str | None) -> Item:
    """A commit message being written (commit-msg hook)."""
    subject = text.split("\n", 1)[0].strip()
    if branch_key:
        fix = (
            f"Start it with {branch_key} (the branch's key), e.g. {branch_key} {subject}; "
            "`jiraflow hooks install` has it added for you"
        )
    else:
        fix = f"Name the issue in it, e.g. PROJ-12 {subject}"
    return Item("message", "commit message", text, fix)


def title_item(rules: Rules, label: str, title: str) -> Item:
    return Item("title", label, title, f"Edit the title to name the issue, e.g. PROJ-12: {title}")


SCISSORS = "------------------------ >8 ------------------------"
# What git may pick for core.commentChar=auto: lines starting with one may be comments.
AUTO_COMMENT_CHARS = "#;@!$%^&|:"


def is_comment(line: str, comment_char: str | None) -> bool:
    """Whether git strips the line from a message; comment_char None: core.commentChar=auto,
    where any character git may pick counts; "": git strips no comments (no editor)."""
    if comment_char == "":
        return False
    if comment_char is None:
        return line[:1] in AUTO_COMMENT_CHARS
    return line.startswith(comment_char)


def is_scissors(line: str, comment_char: str | None) -> bool:
    """The line of `git commit -v` below which the diff is (not message text)."""
    line = line.rstrip("\r\n")
    return is_comment(line, comment_char) and line[len(comment_char or "#") :] == f" {SCISSORS}"


def message_text(raw: str, comment_char: str | None = "#") -> str:
    """A commit message file as git will commit it (cleanup=strip): without comment lines,
    without the diff below the scissors line, without trailing blank lines."""
    lines = []
    for line in raw.splitlines():
        if is_scissors(line, comment_char):
            break
        if not is_comment(line, comment_char):
            lines.append(line.rstrip())
    return "\n".join(lines).strip("\n")


def _cut(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


# -- judging ----------------------------------------------------------------------------------
Verify = Callable[[list[str], str], "Verdicts | None"]


def evaluate(rules: Rules, report: Report, items: list[Item], verify: Verify | None) -> None:
    """Find each item's keys, ask Jira about all of them at once (`verify`, None when Jira
    is not asked; report.jira says why), and add a Problem for each item without a valid key."""
    report.items.extend(items)
    for item in items:
        item.keys = rules.keys_in(item.text)
    wanted = [k for k in report.keys if rules.allowed(k)]
    verdicts = verify(wanted, rules.jql) if verify is not None and wanted else None
    loose = []
    for item in items:
        problem = _judge(rules, item, verdicts)
        if item.needs_key and problem is not None:
            report.problems.append(problem)
        elif not item.needs_key:
            loose.append(problem)
    if loose and None not in loose:  # commits = any, and not one of them names a valid issue
        why = sorted({p.text for p in loose if p is not None and p.code != "no-key"})
        summary = Item("range", plural(len(loose), "commit"), "", "")
        summary.keys = [k for item in items if not item.needs_key for k in item.keys]
        report.problems.append(
            Problem(
                "none-in-range",
                summary,
                "none of them names a valid Jira issue" + (f" ({'; '.join(why)})" if why else ""),
                "Reword one of them to name the issue (git rebase -i), e.g. PROJ-12 <subject>",
            )
        )


def _judge(rules: Rules, item: Item, verdicts: Verdicts | None) -> Problem | None:
    keys = item.keys
    if not keys:
        return Problem("no-key", item, "names no Jira issue", item.fix)
    allowed = [k for k in keys if rules.allowed(k)]
    if not allowed:
        projects = ", ".join(rules.projects)
        return Problem(
            "not-allowed",
            item,
            f"{', '.join(keys)} is not in an allowed project ({projects})",
            item.fix.replace("PROJ-12", f"{rules.projects[0]}-12", 1),
        )
    if verdicts is None:
        return None
    if rules.all_keys:
        return _every_key(rules, item, allowed, verdicts)
    if any(k in verdicts.valid for k in allowed):
        return None
    if not item.jql and any(k in verdicts.failing for k in allowed):
        return None
    failing = [k for k in allowed if k in verdicts.failing]
    if failing:
        return _fails_jql(rules, item, failing)
    return _not_in_jira(item, allowed)


def _every_key(rules: Rules, item: Item, allowed: list[str], verdicts: Verdicts) -> Problem | None:
    """check.all_keys_valid: each allowed key must be an issue (meeting check.jql where it
    applies), as Yet Another Commit Checker's "Require Valid JIRA Issue(s)" checks every
    key it finds."""
    missing = [k for k in allowed if k not in verdicts.valid and k not in verdicts.failing]
    if missing:
        return _not_in_jira(item, missing, also=" (check.all_keys_valid: every key must be)")
    failing = [k for k in allowed if k in verdicts.failing] if item.jql else []
    if failing:
        return _fails_jql(rules, item, failing, also=" (check.all_keys_valid: every issue must)")
    return None


def _not_in_jira(item: Item, keys: list[str], also: str = "") -> Problem:
    """The keys are no issues in Jira; `also`: why that matters, after the message."""
    return Problem(
        "not-in-jira",
        item,
        f"{', '.join(keys)} is not an issue in Jira{also}",
        "Check the key for a typo" + (f" and change it: {item.how}" if item.how else ""),
    )


def _fails_jql(rules: Rules, item: Item, keys: list[str], also: str = "") -> Problem:
    """The issues do not meet check.jql; `also`: why that matters, after the message."""
    return Problem(
        "fails-jql",
        item,
        f"{', '.join(keys)} does not meet check.jql ({rules.jql}){also}",
        "Bring the issue into that state in Jira, or name an issue that is",
    )
