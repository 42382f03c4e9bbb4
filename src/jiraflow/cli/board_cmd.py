"""`jiraflow board`: one row per issue, one column per environment in promotion order: merged
there, and deployed there (services/board.py). A table for the terminal (coloured per cell),
Markdown to paste, or JSON (docs/json.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from jiraflow.cli.app import CONTEXT_SETTINGS, AppState

if TYPE_CHECKING:
    from jiraflow.services.board import Board, Row

pass_state = click.make_pass_decorator(AppState)

SUMMARY_WIDTH = 40  # the summary column is cut to this in the terminal table
COLOURS = {"yes": "green", "partly": "yellow", "no": "red", "unknown": "bright_black"}


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@click.option("--release", metavar="VERSION", help="The issues of release VERSION: its commits "
              "and Jira's fixVersion (disagreements are marked).")  # fmt: skip
@click.option("--jql", metavar="QUERY", help="The issues a Jira query finds.")
@click.option(
    "--since", metavar="REV", help="The issues named in REV..develop (or the open release)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "md", "json"]),
    default="table",
    show_default=True,
    help="A terminal table, a Markdown table, or JSON (as --json).",
)
@pass_state
def board(
    state: AppState,
    keys: tuple[str, ...],
    release: str | None,
    jql: str | None,
    since: str | None,
    fmt: str,
) -> None:
    """Where each issue is along the [[environments]] chain: merged and deployed per
    environment, with its Jira status and pull request. Per environment in promotion order:
    whether its branch has the issue's commits (yes, partly N/M, no) and whether the last
    successful Bitbucket deployment has them. Choose the issues with --release VERSION
    (its commits and Jira's fixVersion, where the two disagree marked), --jql QUERY,
    --since REV, or KEYs."""
    from jiraflow.services.board import build

    found = build(state.flow(), release=release, jql=jql, since=since, keys=keys)
    if state.json or fmt == "json":
        state.renderer.data(found.to_json())
    elif fmt == "md":
        for line in markdown(found):
            state.renderer.raw(line)
    else:
        _table(state, found)
    for text in found.warnings:
        state.renderer.warn(text)


# -- cells -------------------------------------------------------------------------------------
def merged_cell(row: Row, environment: str) -> tuple[str, str]:
    """(text, state): "yes", "partly 1/2", "no"."""
    said = row.merged_state(environment)
    if said == "partly":
        return f"partly {row.merged.get(environment, 0)}/{len(row.commits)}", said
    return said, said


def deployed_cell(row: Row, environment: str) -> tuple[str, str]:
    """(text, state): "yes 2026-12-01", "partly 1/2", "no", "unknown"."""
    cell = row.deployed.get(environment) or {"deployed": "unknown"}
    said = cell["deployed"]
    if said == "yes" and cell.get("finished"):
        return f"yes {cell['finished'][:10]}", said
    if said == "partly":
        return f"partly {cell['contains']}/{len(row.commits)}", said
    return said, said


def _columns(found: Board) -> list[str]:
    heads = ["Key", "Summary", "Type", "Status", "PR"]
    for env in found.environments:
        heads.append(env.name)
        if env.deployment:
            heads.append(f"deployed {env.name}")
    if found.selection.get("by") == "release":
        heads.append("Note")
    return heads


def _cells(found: Board, row: Row, *, cut: bool) -> list[tuple[str, str]]:
    summary = row.summary
    if cut and len(summary) > SUMMARY_WIDTH:
        summary = summary[: SUMMARY_WIDTH - 1] + "…"
    pull = row.pull_request
    cells: list[tuple[str, str]] = [
        (row.key, ""),
        (summary, ""),
        (row.type, ""),
        (row.status, ""),
        (f"#{pull['id']} {pull['state']}" if pull else "", ""),
    ]
    for env in found.environments:
        cells.append(merged_cell(row, env.name))
        if env.deployment:
            cells.append(deployed_cell(row, env.name))
    if found.selection.get("by") == "release":
        note = row.disagreement or ""
        cells.append((note, "partly" if note else ""))
    return cells


def _table(state: AppState, found: Board) -> None:
    heads = _columns(found)
    rows = [_cells(found, row, cut=True) for row in found.rows]
    widths = [max([len(h), *(len(r[i][0]) for r in rows)]) for i, h in enumerate(heads)]
    color = state.renderer.forced_color is not False
    out = state.renderer.line

    def styled(text: str, width: int, said: str, **style: Any) -> str:
        padded = text.ljust(width)
        colour = COLOURS.get(said)
        if not color or not (colour or style):
            return padded
        return click.style(padded, fg=colour, **style)

    out("  ".join(styled(h, w, "", bold=True) for h, w in zip(heads, widths, strict=True)).rstrip())
    for row in rows:
        line = "  ".join(styled(t, w, s) for (t, s), w in zip(row, widths, strict=True))
        out(line.rstrip())
    out(found.summary)


def markdown(found: Board) -> list[str]:
    """The board as a Markdown table (pipes in text escaped), then the summary line."""
    heads = _columns(found)

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for row in found.rows:
        cells = _cells(found, row, cut=False)
        if row.url:
            cells[0] = (f"[{row.key}]({row.url})", "")
        lines.append("| " + " | ".join(cell(t) for t, _ in cells) + " |")
    lines += ["", found.summary]
    return lines
