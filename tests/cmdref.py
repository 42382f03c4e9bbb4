"""docs/commands.md, generated from the click command line: `python tests/cmdref.py`.

Every command and subcommand that is not hidden, in name order: its usage line, its help
text, its arguments and its options with their help. The output depends on the code only
(no terminal width, no environment), so tests/test_docs.py can check that the committed
page is current.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import click

PAGE = Path(__file__).parent.parent / "docs" / "commands.md"
INTRO = """\
# Command reference

Every jiraflow command, with its arguments and options, as `jiraflow COMMAND --help` shows
them. This page is generated from the code by `python tests/cmdref.py` (or `nox -s docs`);
do not edit it by hand. What the commands do, with examples, is in the other pages: see
[the index](index.md).

Global options go before the command: `jiraflow --dry-run feature finish`. Every command
also takes `-h` and `--help`.
"""


def render() -> str:
    """The whole page."""
    from jiraflow.cli import cli

    root = _context(cli, "jiraflow", None)
    commands = list(_walk(root))
    parts = [INTRO, "## Commands\n", _contents(commands)]
    parts += [_section(ctx) for ctx in [root, *commands]]
    return "\n".join(parts).rstrip("\n") + "\n"


def _walk(ctx: click.Context) -> Iterator[click.Context]:
    """The visible subcommands below ctx, depth first, each in name order."""
    group = ctx.command
    if not isinstance(group, click.Group):
        return
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = _context(command, name, ctx)
        yield sub
        yield from _walk(sub)


def _context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    """A context as click makes it to run the command: with its settings (-h and --help)."""
    return click.Context(command, info_name=name, parent=parent, **command.context_settings)


def _contents(commands: list[click.Context]) -> str:
    lines = []
    for ctx in commands:
        indent = "  " * (_depth(ctx) - 1)
        anchor = ctx.command_path.replace(" ", "-")
        summary = _short_help(ctx.command)
        lines.append(f"{indent}- [{ctx.command_path}](#{anchor}): {summary}")
    return "\n".join(lines) + "\n"


def _section(ctx: click.Context) -> str:
    command = ctx.command
    level = "#" * min(2 + max(_depth(ctx) - 1, 0), 4)
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    parts = [f"{level} {ctx.command_path}\n", f"```\n{usage}\n```\n"]
    parts += _help_paragraphs(command.help or "")
    arguments = [_argument(p, ctx) for p in command.params if isinstance(p, click.Argument)]
    if arguments:
        parts.append("Arguments:\n\n" + "\n".join(arguments) + "\n")
    options = _options(command, ctx)
    if options:
        parts.append(options)
    if isinstance(command, click.Group):
        subs = [
            f"[{name}](#{ctx.command_path.replace(' ', '-')}-{name})"
            for name in sorted(command.list_commands(ctx))
            if (sub := command.get_command(ctx, name)) is not None and not sub.hidden
        ]
        parts.append("Commands: " + ", ".join(subs) + ".\n")
    return "\n".join(parts)


def _depth(ctx: click.Context) -> int:
    return len(ctx.command_path.split()) - 1


def _short_help(command: click.Command) -> str:
    return _escape(command.get_short_help_str(limit=10_000))


def _help_paragraphs(text: str) -> list[str]:
    """click's help text as Markdown: paragraphs joined into one line each, and `\\b`
    paragraphs (printed as written by click) as code blocks."""
    text = inspect.cleandoc(text).split("\f", 1)[0]
    paragraphs = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if not lines:
            continue
        if lines[0].strip() == "\b":
            paragraphs.append("```\n" + "\n".join(lines[1:]) + "\n```\n")
        else:
            paragraphs.append(" ".join(line.strip() for line in lines) + "\n")
    return paragraphs


def _argument(arg: click.Argument, ctx: click.Context) -> str:
    # the metavar when the command gives one ("DURATION [KEY]" for a variadic argument that
    # reads both), else the parameter's name
    name = arg.metavar or (arg.name or "").upper() + ("..." if arg.nargs != 1 else "")
    if name.startswith("[") and name.count("[") == 1 and "]" in name:  # "[KEY]...": optional
        name = name.replace("[", "").replace("]", "")
    facts = ["required" if arg.required else "optional"]
    if isinstance(arg.type, click.Choice):
        facts.insert(0, "one of " + ", ".join(f"`{c}`" for c in arg.type.choices))
    default = arg.get_default(ctx, call=False)
    if not arg.required and arg.nargs == 1 and isinstance(default, str | int):
        facts.append(f"default `{default}`")
    return f"- `{name}`: {'; '.join(facts)}"


def _options(command: click.Command, ctx: click.Context) -> str:
    rows = []
    help_option = command.get_help_option(ctx)
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param is help_option:
            continue
        record = param.get_help_record(ctx)
        if record is None:  # hidden
            continue
        names, text = record
        rows.append(f"| `{_escape(names)}` | {_escape(' '.join(text.split()))} |")
    if not rows:
        return ""
    return "| option | what it does |\n|---|---|\n" + "\n".join(rows) + "\n"


def _escape(text: str) -> str:
    """Safe in a Markdown table cell and paragraph: no column breaks, no HTML."""
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text.replace("|", "\\|"))


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE}")
