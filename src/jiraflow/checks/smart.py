"""Jira's smart commits in a commit message, checked the way Jira will process them.

Jira (its DVCS/Bitbucket smart-commit processing) reads, line by line,
`<ignored text> KEY [KEY...] <ignored text> #<command> <arguments>`: `#comment <text>`,
`#time <w d h m> [comment]` and `#<transition>`, several commands per line, each applying to
the keys before the first command of its line. A command it cannot carry out is dropped
silently on the server (at most an e-mail to the committer): a `#time` without a duration, a
`#comment` without text, a command with no key before it, a transition the issue does not
have now or one that names two. This module finds those before the commit leaves the
machine: the syntax offline, the transitions with the issue's transitions from Jira (asked
with the key check's own search: no extra request).

A transition is matched as Jira's TransitionHandler does: the command lower-cased equal to a
transition's name (lower-cased; the command's hyphens read as spaces or not) wins; else the
names that start with it, else the names that start with it with its hyphens read as spaces
(`#start-work` for "Start work"). One match is carried out; none or several, nothing happens.

`check.smart_commits`: "strict" makes these problems (the check fails), "warn" (default)
warnings, "off" skips them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jiraflow import durations

if TYPE_CHECKING:
    from jiraflow.checks.rules import Item, Problem, Report, Verify
    from jiraflow.config import Config
    from jiraflow.jira.issues import Issue, Transition
    from jiraflow.jira.tracker import Verdicts

MODES = ("strict", "warn", "off")
# a command: `#` at the start of the line or after a blank, then a word starting with a letter
# (`#42` is an issue number of another tracker, not a command)
COMMAND = re.compile(r"(?<!\S)#([A-Za-z][A-Za-z0-9_-]*)")
EXAMPLE_KEY = "PROJ-12"


@dataclass(frozen=True)
class Command:
    """One smart-commit command of a message."""

    line: int  # 1-based, in the message as committed
    keys: tuple[str, ...]  # the keys before the first command of its line
    word: str  # the command as written, without `#`
    args: str  # the text up to the next command on the line

    @property
    def name(self) -> str:
        return self.word.lower()

    @property
    def kind(self) -> str:
        return self.name if self.name in ("comment", "time") else "transition"

    def shown(self) -> str:
        text = f"#{self.word} {self.args}".strip()
        return text if len(text) <= 40 else text[:39] + "…"


def parse(text: str, keys_in: Callable[[str], list[str]]) -> list[Command]:
    """The smart-commit commands of a message, in order."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        matches = list(COMMAND.finditer(line))
        if not matches:
            continue
        keys = tuple(keys_in(line[: matches[0].start()]))
        for i, match in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            found.append(Command(number, keys, match.group(1), line[match.end() : end].strip()))
    return found


def lost_lines(raw: str, comment_char: str | None) -> list[str]:
    """Lines of a commit message file that start with a command but that git strips as
    comments (`#time 1h` at the start of a line, with core.commentChar `#`): Jira never sees
    them. comment_char as rules.is_comment takes it ("" when git strips nothing)."""
    from jiraflow.checks.rules import is_comment, is_scissors

    lost = []
    for line in raw.splitlines():
        if is_scissors(line, comment_char):
            break
        if is_comment(line, comment_char) and COMMAND.match(line):
            lost.append(line.strip())
    return lost


def syntax(command: Command) -> tuple[str, str] | None:
    """What Jira would ignore in the command, whatever the issue: (what is wrong, what to
    do), or None."""
    key = command.keys[0] if command.keys else EXAMPLE_KEY
    if not command.keys:
        example = f"{key} #{command.word} {command.args}".rstrip()
        return (
            f"{command.shown()} has no issue key before it on its line, so Jira ignores it",
            f"Put the key first on the same line, e.g. {example}",
        )
    if command.kind == "comment" and not command.args:
        return (
            "#comment has no text, so Jira ignores it",
            f"Write the comment after it, e.g. {key} #comment Fixed the login form",
        )
    if command.kind == "time":
        words = command.args.split()
        count = durations.leading(words)
        if count == 0:
            return (
                f"{command.shown()} has no duration, so Jira ignores it",
                f"Give the time first (w, d, h, m), e.g. #time {durations.EXAMPLE} Fixed it",
            )
        try:
            durations.parse(" ".join(words[:count]))
        except ValueError as exc:
            return (f"{command.shown()}: {exc}, so Jira ignores it", "Fix the duration")
    return None


def smart_word(transition: Transition) -> str:
    """The smart-commit command that names a transition: its name, lower-cased, with
    hyphens for spaces (`#start-work`)."""
    return "#" + "-".join(transition.name.lower().split())


def matching(word: str, transitions: Iterable[Transition]) -> list[Transition]:
    """The transitions `#word` names, as Jira's TransitionHandler picks them."""
    command = word.strip().lower()
    spaced = command.replace("-", " ")
    first, second = [], []
    for transition in transitions:
        name = transition.name.lower()
        if name in (command, spaced):
            return [transition]
        if name.startswith(command):
            first.append(transition)
        elif name.startswith(spaced):
            second.append(transition)
    return first or second


def suggested(among: Iterable[Transition], available: list[Transition]) -> list[str]:
    """The commands for the transitions `among` that name exactly that one of `available`
    (a name such as "Done (fast)" has none: it is left out)."""
    words = []
    for t in among:
        word = smart_word(t)
        written = COMMAND.fullmatch(word)
        if written is not None and matching(written.group(1), available) == [t]:
            words.append(word)
    return words


def transition(command: Command, issue: Issue) -> tuple[str, str] | None:
    """What is wrong with a transition command for the issue as it is now, or None."""
    available = [t for t in issue.transitions or [] if t.available]
    found = matching(command.word, available)
    if len(found) == 1:
        return None
    where = f"{issue.key} ({issue.status.name})"
    if found:
        names = ", ".join(t.name for t in found)
        words = ", ".join(suggested(found, available))
        return (
            f"#{command.word} names {len(found)} transitions of {where}: {names}; "
            "Jira carries out neither",
            f"Use one of {words}" if words else "Move the issue in Jira",
        )
    words = ", ".join(suggested(available, available))
    return (
        f"{where} has no transition #{command.word} now, so Jira ignores it",
        f"Use one of {words}" if words else "The issue has no transition now",
    )


class SmartCheck:
    """The smart-commit part of a check: built on the items before Jira is asked (so that
    the key check's search also brings the issues' transitions), judged after."""

    def __init__(self, mode: str, items: Iterable[Item], keys_in: Callable[[str], list[str]]):
        self.mode = mode
        self.commands: list[tuple[Item, Command]] = []
        if mode != "off":
            for item in items:
                if item.kind in ("commit", "message"):
                    self.commands += [(item, c) for c in parse(item.text, keys_in)]
        self.lost: list[tuple[Item, str]] = []
        self.verdicts: Verdicts | None = None
        self.asked = False  # whether Jira was asked (by the key check, or for the commands)

    @classmethod
    def from_config(
        cls, config: Config, items: Iterable[Item], keys_in: Callable[[str], list[str]]
    ) -> SmartCheck:
        return cls(config.check.smart_commits, items, keys_in)

    @property
    def wants_transitions(self) -> bool:
        """Whether a transition command has a key: then the key check asks Jira for the
        issues with their transitions."""
        return any(c.kind == "transition" and c.keys for _, c in self.commands)

    @property
    def keys(self) -> list[str]:
        """The keys the transition commands apply to."""
        found = [k for _, c in self.commands if c.kind == "transition" for k in c.keys]
        return list(dict.fromkeys(found))

    def lose(self, item: Item, raw: str, comment_char: str | None) -> None:
        """Note the command lines git will strip from the message file of `item`."""
        if self.mode != "off":
            self.lost += [(item, line) for line in lost_lines(raw, comment_char)]

    def watch(self, verify: Verify | None, extra: list[str]) -> Verify | None:
        """`verify`, asking also for the `extra` keys (those of the transition commands
        that the key check does not ask for: check.commits = off...) in the same search,
        and keeping Jira's answer for the transitions."""
        if verify is None:
            return None
        inner = verify

        def keeping(keys: list[str], jql: str) -> Verdicts | None:
            self.asked = True
            self.verdicts = inner(list(dict.fromkeys([*keys, *extra])), jql)
            return self.verdicts

        return keeping

    def judge(self, report: Report) -> None:
        """Add a warning (or, strict, a problem) for each command Jira would drop, the
        commands taken oldest first, as Jira runs them: once a transition of an issue
        works, its later ones cannot be checked (a note says so)."""
        from jiraflow.checks.rules import Problem

        if self.mode == "off":
            return
        found: list[Problem] = []
        for item, line in self.lost:
            key = item.keys[0] if item.keys else EXAMPLE_KEY
            text = (
                f"the line {line!r} starts with the comment character, so git removes it "
                "and Jira never sees it"
            )
            fix = f"Start the line with the issue key, e.g. {key} {line}"
            found.append(Problem("smart-lost", item, text, fix))
        issues = self.verdicts.issues if self.verdicts is not None else {}
        moved: dict[str, str] = {}  # key -> the transition Jira carries out first (oldest first)
        for item, command in self.commands:
            wrong = syntax(command)
            if wrong is not None:
                found.append(Problem(f"smart-{command.kind}", item, *wrong))
                continue
            if command.kind != "transition":
                continue
            for key in command.keys:
                issue = issues.get(key)
                if issue is None or issue.transitions is None:
                    continue
                if key in moved:  # its status then is not the one Jira has now
                    report.notes.append(
                        f"{item.label}: #{command.word} on {key} cannot be checked before "
                        f"{moved[key]} (earlier) has moved the issue on"
                    )
                    continue
                wrong = transition(command, issue)
                if wrong is not None:
                    found.append(Problem("smart-transition", item, *wrong))
                else:
                    moved[key] = f"#{command.word}"
        (report.problems if self.mode == "strict" else report.warnings).extend(found)
