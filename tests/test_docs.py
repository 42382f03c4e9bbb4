"""The documentation covers what the code has, and the commands it shows are real."""

from __future__ import annotations

import re
import shlex
import socket
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest

import cmdref
from conftest import Sites
from gitutil import Repo, Result
from jiraflow.config import GIT_CONFIG_KEYS, KEYS
from jiraflow.sandbox.jira import JiraSandbox

DOCS = Path(__file__).parent.parent / "docs"
README = DOCS.parent / "README.md"


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# -- commands shown in the docs --------------------------------------------------------------------
FENCE = re.compile(r"^ *```[^\n]*\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
OPERATORS = {"&&", "||", ";", "|"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
REDIRECTION = re.compile(r"^\d*[<>]")
PREFIXES = (["git", "jiraflow"], ["python", "-m", "jiraflow"], ["python3", "-m", "jiraflow"])


def shell_lines(text: str) -> Iterator[tuple[str, list[str]]]:
    """Each command line of the fenced blocks, with the output shown under it. In a block
    with `$ ` prompts only the prompted lines are commands; in any other every line is."""
    for block in FENCE.findall(text):
        lines = [line.strip() for line in block.splitlines()]
        if not any(line.startswith("$ ") for line in lines):
            yield from ((line, []) for line in lines)
            continue
        for i, line in enumerate(lines):
            if line.startswith("$ "):
                output = []
                for after in lines[i + 1 :]:
                    if after.startswith("$ "):
                        break
                    output.append(after)
                yield line[2:], output


def segments(line: str) -> list[list[str]]:
    """The simple commands of a shell line: comments, `&&`-style operators, redirections,
    leading VAR=value assignments and a YAML list's `- ` taken off."""
    line = line.removeprefix("- ")
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return []
    found: list[list[str]] = [[]]
    for word in words:
        if word in OPERATORS:
            found.append([])
        else:
            found[-1].append(word)
    result = []
    for words in found:
        while words and ASSIGNMENT.match(words[0]):
            words = words[1:]
        cut = next((i for i, w in enumerate(words) if REDIRECTION.match(w)), len(words))
        if words[:cut]:
            result.append(words[:cut])
    return result


def jiraflow_args(words: list[str]) -> list[str] | None:
    """The arguments when `words` runs jiraflow (also as `git jiraflow`, `python -m`)."""
    if words[:1] == ["jiraflow"]:
        return words[1:]
    for prefix in PREFIXES:
        if words[: len(prefix)] == prefix:
            return words[len(prefix) :]
    return None


def doc_commands(text: str) -> Iterator[tuple[list[str], list[str]]]:
    """Every `jiraflow ...` command of the fenced blocks, with the output shown for it.
    Synopses (`jiraflow feature finish [NAME] [-F|--fetch]`) and output that happens to
    start with `jiraflow` (a word ending in a colon) are not commands, nor is a line that
    shows a TAB press (`jiraflow feature start <TAB>`)."""
    for line, output in shell_lines(text):
        if "<TAB>" in line:
            continue
        inner = [w for m in re.findall(r"\$\((jiraflow [^)]*)\)", line) for w in segments(m)]
        for words in segments(line) + inner:
            args = jiraflow_args(words)
            if args is None or any(w.startswith("[") or w.endswith(":") for w in args):
                continue
            yield args, output


def parse(args: list[str]) -> None:
    """Parse `jiraflow ARGS` as click would, resolving the subcommand chain down to the
    command that runs, and stop before running anything. Raises click's usage errors."""
    from jiraflow.cli import cli

    try:
        ctx = cli.make_context("jiraflow", list(args), resilient_parsing=False)
        command: click.Command = cli
        while isinstance(command, click.Group):
            rest = [*ctx._protected_args, *ctx.args]  # what click's Group.invoke resolves
            name, sub, rest = command.resolve_command(ctx, rest)
            assert name is not None and sub is not None
            ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=False)
            command = sub
    except click.exceptions.Exit as exc:  # --help, --version
        assert exc.exit_code == 0
    except click.BadParameter as exc:
        if not (isinstance(exc.param, click.Parameter) and isinstance(exc.param.type, click.Path)):
            raise  # a path in the docs need not exist here


USAGE_ERROR = re.compile(
    r"error: (no such (command|option)|missing (argument|option)|invalid value|got unexpected)"
)


def shows_usage_error(output: list[str]) -> bool:
    return any(line.startswith("Error: ") or USAGE_ERROR.match(line) for line in output)


def command_problems(text: str) -> list[str]:
    """Commands that do not parse, and those shown failing with a usage error that do."""
    problems = []
    for args, output in doc_commands(text):
        shown = "jiraflow " + shlex.join(args)
        try:
            parse(args)
        except click.ClickException as exc:
            if not shows_usage_error(output):
                problems.append(f"{shown}: {exc.format_message()}")
        else:
            if shows_usage_error(output):
                problems.append(f"{shown}: shown failing with a usage error, but it parses")
    return problems


def test_every_command_of_getting_started_parses() -> None:
    text = read("getting-started.md")
    commands = [args for args, _ in doc_commands(text)]
    assert ["feature", "start", "PROJ-12"] in commands
    assert ["completion", "zsh"] in commands  # from eval "$(jiraflow completion zsh)"
    assert not command_problems(text)


@pytest.mark.parametrize(
    "page", [*sorted(p.name for p in DOCS.glob("*.md") if p.name != "commands.md"), "README.md"]
)
def test_every_command_in_the_docs_parses(page: str) -> None:
    text = README.read_text() if page == "README.md" else read(page)
    assert not command_problems(text)


def test_a_wrong_command_in_the_docs_is_found() -> None:
    text = (
        "```\njiraflow feature strat login\n```\n"  # no such command
        "```\n$ jiraflow --dry-run feature finish -X\nerror: ...\n```\n"  # no such option
        "```\n$ jiraflow feature finish\nError: Missing argument 'NAME'.\n```\n"  # it parses
        "```\n$ jiraflow feature start\nError: Missing argument 'NAME'.\n```\n"  # shown failing
        "```\njiraflow feature finish [NAME] [-F|--fetch]\n```\n"  # a synopsis
        "```\njiraflow commit-msg hook: jiraflow is not installed\n```\n"  # output
        "```yaml\n  - JIRAFLOW_X=1 jiraflow check pr --offline && jiraflow checks pr\n```\n"
    )
    problems = command_problems(text)
    assert [p.split(":")[0] for p in problems] == [
        "jiraflow feature strat login",
        "jiraflow --dry-run feature finish -X",
        "jiraflow feature finish",
        "jiraflow checks pr",
    ]


def test_the_pipelines_example_is_valid_yaml_running_real_commands() -> None:
    import yaml  # comes with pre-commit, a test dependency

    text = read("ci.md")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    pipeline = yaml.safe_load(blocks[0])
    step = pipeline["pipelines"]["pull-requests"]["**"][0]["step"]
    assert step["clone"]["depth"] == "full"
    script = [jiraflow_args(words) for line in step["script"] for words in segments(line)]
    assert [args for args in script if args is not None] == [["check", "pr"]]
    commands = [args for args, _ in doc_commands(text)]
    assert ["check", "range", "origin/main..${BITBUCKET_COMMIT}"] in commands
    assert not command_problems(text)


# -- getting started, for real ---------------------------------------------------------------------
# the demo has its own test; logins need a person; the release manager's commands need the
# chain of the toml block in .jiraflow.toml (tests/test_demo.py runs them)
NOT_RUN = (["demo"], ["auth", "login"], ["init", "--environments"], ["promote"], ["board"])
REVIEWER = [["pr", w] for w in ("list", "checkout", "comment", "request-changes", "approve")]
# (the reviewer's commands are another user's: tests/test_pr_review.py runs them)


def test_the_getting_started_flow_runs_against_the_sandbox(
    repo: Repo, run: Callable[..., Result], sites: Sites
) -> None:
    """Every jiraflow and git command of getting-started.md, in order, in a repository with a
    bare origin, against the sandbox Jira and Bitbucket (credentials from the CI variables,
    as `auth login` would have stored them). In between, the developer edits a file after
    `feature start`, CI reports a green build before `pr checks`, and the reviewer's commands
    are the reviewer's approval in the sandbox."""
    ran = []
    for line, _ in shell_lines(read("getting-started.md")):
        for words in segments(line):
            args = jiraflow_args(words)
            if args is None:
                if words[0] == "git":
                    repo.git(*words[1:])
                continue
            if any(args[: len(skip)] == skip for skip in NOT_RUN):
                continue
            if any(args[: len(skip)] == skip for skip in REVIEWER):
                [pr] = [p for p in sites.prs() if p["state"] == "OPEN"]
                sites.bitbucket.approve(sites.name, pr["id"], "bob")
                continue
            if args[:2] == ["pr", "checks"]:
                head = repo.git("rev-parse", "HEAD")
                sites.bitbucket.set_build(sites.name, head, "ci", "SUCCESSFUL", name="Unit tests")
            result = run(repo, *args)
            assert result.code == 0, f"jiraflow {shlex.join(args)}:\n{result.err}"
            ran.append(args[:2])
            if args[:2] == ["feature", "start"]:
                (repo.path / "login.html").write_text("<form></form>\n")
    flow = [["init", "-d"], ["feature", "start"], ["pr", "create"], ["pr", "checks"]]
    flow += [["pr", "merge"], ["release", "start"], ["release", "finish"]]
    assert [step for step in ran if step in flow] == flow  # the whole flow, in order
    assert sites.jira.issue("PROJ-12")["status"] == "Done"
    assert [p["state"] for p in sites.prs()] == ["MERGED"]
    assert "refs/tags/0.1.0" in repo.git("ls-remote", "--tags", "origin")
    assert repo.branch() == "develop"


# -- docs/commands.md ------------------------------------------------------------------------------
def test_the_command_reference_is_generated_from_the_cli() -> None:
    assert read("commands.md") == cmdref.render(), "run `python tests/cmdref.py` to regenerate"


def test_the_command_reference_has_every_visible_command_and_option() -> None:
    from jiraflow.cli import cli

    text = cmdref.render()
    hooks = cli.get_command(click.Context(cli), "hooks")
    assert isinstance(hooks, click.Group)
    assert hooks.get_command(click.Context(hooks), "run") is not None
    assert "## jiraflow hooks\n" in text and "jiraflow hooks run" not in text  # hidden
    assert "### jiraflow feature finish\n" in text
    assert "| `-p, --push / --no-push` | Push the results" in text
    assert "- `SHELL`: one of `bash`, `fish`, `zsh`; required" in text
    assert "| `--state [open\\|merged\\|declined\\|all]` |" in text  # no column break


# -- docs/configuration.md -------------------------------------------------------------------------
def key_table(text: str) -> dict[str, list[str]]:
    """The rows of the "Every key" table: key -> its cells."""
    section = text.split("## Every key", 1)[1]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            cells = table_cells(line)
            rows[cells[0].strip("`")] = cells
    return rows


def table_cells(line: str) -> list[str]:
    """A Markdown table row's cells; a `|` inside a code span does not end a cell."""
    cells, cell, code = [], "", False
    for ch in line.strip()[1:-1]:
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += ch
    return [*cells, cell.strip()]


def key_table_problems(text: str) -> list[str]:
    """What the key table says differently from jiraflow.config: keys it lacks or has that
    the code does not, and each key's type, default, variable and AVH git config key."""
    rows = key_table(text)
    problems = [f"{key}: missing from the table" for key in KEYS if key not in rows]
    problems += [f"{key}: in the table, but not a key" for key in rows if key not in KEYS]
    avh = {ours: theirs for theirs, ours in GIT_CONFIG_KEYS.items()}
    for key, cells in rows.items():
        info = KEYS.get(key)
        if info is None:
            continue
        if len(cells) != 6:
            problems.append(f"{key}: {len(cells)} cells, not 6")
            continue
        _, kind, default, variable, git_config, _ = cells
        if tomllib.loads("x = " + default.strip("`"))["x"] != info.default:
            problems.append(f"{key}: the default is {info.default!r}, the table says {default}")
        if info.choices:
            expected = ", ".join(f'`"{c}"`' for c in info.choices[:-1])
            expected += f' or `"{info.choices[-1]}"`'
        else:
            expected = {
                bool: "true/false",
                int: "whole number above 0",
                str: "string",
                list: "list of strings" if info.item == "str" else "list of tables",
                dict: "table of strings",
            }[info.type]
        if kind != expected:
            problems.append(f"{key}: the type is {expected}, the table says {kind}")
        files_only = info.type is list and info.item != "str"
        wanted = "none: files only" if files_only else f"`{info.env_var}`"
        if not variable.startswith(wanted):
            problems.append(f"{key}: the variable is {wanted}, the table says {variable}")
        if git_config != (f"`{avh[key]}`" if key in avh else ""):
            problems.append(f"{key}: the AVH git config key is {avh.get(key)}, not {git_config}")
    return problems


def test_every_config_key_is_documented_and_every_documented_key_exists() -> None:
    assert not key_table_problems(read("configuration.md"))


def test_the_key_table_check_finds_what_is_wrong() -> None:
    text = read("configuration.md")
    row = next(line for line in text.splitlines() if line.startswith("| `finish.push` |"))
    without = text.replace(row + "\n", "")
    assert key_table_problems(without) == ["finish.push: missing from the table"]
    extra = text.replace(row, row + "\n" + row.replace("finish.push", "finish.pushh"))
    assert key_table_problems(extra) == ["finish.pushh: in the table, but not a key"]
    wrong = text.replace(row, row.replace("`false`", "`true`", 1))
    assert key_table_problems(wrong) == ["finish.push: the default is False, the table says `true`"]


# -- docs/exit-codes.md ----------------------------------------------------------------------------
def test_every_exit_code_is_documented() -> None:
    text = read("exit-codes.md")
    readme = README.read_text()
    for code in (0, 1, 2, 3, 4, 5, 6, 7, 130):
        assert f"| {code} |" in readme
        assert f"| {code} |" in text
        assert re.search(rf"^## {code}: ", text, re.MULTILINE), f"no section for exit {code}"


def test_the_readme_leads_with_the_demo_and_the_test_command() -> None:
    readme = README.read_text()
    demo = readme.index("python3 -m pip install . && jiraflow demo")
    tests = readme.index("python3 -m pip install nox && python3 -m nox -s tests")
    assert demo < tests < readme.index("\n## ")
    ci = (DOCS.parent / ".ci" / "run").read_text()
    assert "python3 -m pip install --quiet nox && python3 -m nox -s tests" in ci


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ACME = "https://acme.atlassian.net"


def usage(repo: Repo, run: Callable[..., Result], mp: pytest.MonkeyPatch) -> Result:
    return run(repo, "feature", "finish")  # on develop


def config(repo: Repo, run: Callable[..., Result], mp: pytest.MonkeyPatch) -> Result:
    return run(repo, "config", "get", "nope.key")


def auth(repo: Repo, run: Callable[..., Result], mp: pytest.MonkeyPatch) -> Result:
    assert run(repo, "config", "set", "jira.url", ACME).code == 0
    return run(repo, "feature", "start", "PROJ-1")  # never logged in


def state(repo: Repo, run: Callable[..., Result], mp: pytest.MonkeyPatch) -> Result:
    (repo.path / "README").write_text("changed\n")
    return run(repo, "release", "start", "1.1.0")


def remote(repo: Repo, run: Callable[..., Result], mp: pytest.MonkeyPatch) -> Result:
    url = f"http://127.0.0.1:{closed_port()}"
    mp.setenv("JIRAFLOW_JIRA_URL", url)
    mp.setenv("JIRAFLOW_JIRA_USER", "ann@acme.com")
    mp.setenv("JIRAFLOW_JIRA_TOKEN", "not-a-real-token")
    result = run(repo, "feature", "start", "PROJ-1")
    return Result(result.code, result.out, result.err.replace(url, ACME))


@pytest.mark.parametrize(
    ("scenario", "code"),
    [(usage, 2), (config, 3), (auth, 4), (state, 5), (remote, 6)],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_the_troubleshooting_examples_are_what_jiraflow_prints(
    repo: Repo,
    run: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    scenario: Callable[..., Result],
    code: int,
) -> None:
    result = scenario(repo, run, monkeypatch)
    assert result.code == code, result.err
    lines = [line for line in result.err.splitlines() if line.startswith(("error:", "hint:"))]
    assert lines[0].startswith("error:")
    page = read("exit-codes.md")
    section = page.split(f"\n## {code}: ", 1)[1].split("\n## ", 1)[0]
    assert "\n".join(lines) in section, f"exit {code}: docs/exit-codes.md should show\n{lines}"


def test_the_partial_example_is_what_jiraflow_prints(
    repo: Repo, run: Callable[..., Result], jira: JiraSandbox
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    url = jira.url
    jira.stop()  # Jira goes away after the start
    result = run(repo, "feature", "finish")
    assert result.code == 7, result.err
    shown = (result.out + result.err).replace(url, ACME)
    section = read("exit-codes.md").split("\n## 7: ", 1)[1].split("\n## ", 1)[0]
    for line in shown.splitlines():
        assert line in section, f"docs/exit-codes.md should show: {line}"


# -- docs/index.md ---------------------------------------------------------------------------------
def test_the_index_links_every_page_and_every_link_resolves() -> None:
    index = read("index.md")
    linked = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert pages - linked == set(), "link these pages from docs/index.md"
    assert linked - pages == set(), "docs/index.md links pages that do not exist"


def anchors(text: str) -> set[str]:
    """The anchors GitHub makes for a page's headings (code blocks are not headings)."""
    text = FENCE.sub("", text)
    found: set[str] = set()
    for heading in re.findall(r"^#+ (.*)$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = 1
        anchor = slug
        while anchor in found:
            anchor, n = f"{slug}-{n}", n + 1
        found.add(anchor)
    return found


def test_every_link_between_the_docs_resolves() -> None:
    assert {"conflicts---continue-and---abort", "git-config-beats-jiraflowtoml"} <= anchors(
        read("gitflow.md") + read("configuration.md")
    )
    pages = {p.name: anchors(p.read_text()) for p in DOCS.glob("*.md")}
    contributing = README.parent / "CONTRIBUTING.md"
    pages[contributing.name] = anchors(contributing.read_text())
    broken = []
    for source in [*DOCS.glob("*.md"), README]:
        for page, anchor in re.findall(
            r"\]\((?:docs/)?([\w-]+\.md|)(?:#([^)\s]+))?\)", source.read_text()
        ):
            target = page or source.name
            if source == README and not page:
                continue  # the README's own headings
            if target not in pages or (anchor and anchor not in pages[target]):
                broken.append(f"{source.name}: {target}#{anchor}")
    assert not broken
