"""Anything a user or a file can cause ends in a one- or two-line message and its documented
exit code, never a traceback or "internal error" (exit 1).

One table of cases: each damages something (a jiraflow file in .git/jiraflow, a cache or
the accounts file in the user's directories, a config value, an environment variable, the
repository's state directory, the standard streams), runs the real CLI as a subprocess and
checks the exit code, that the message names what is wrong, and that no traceback or
"internal error" is printed. jiraflow's own files give exit 5 (and are never overwritten:
what they held is the user's), caches are rebuilt (exit 0), config gives exit 3, input
that cannot be read gives 2 (4: no keyring to keep a token in).

A read-only state directory is made for real (`.git/jiraflow` mode 0500). Permissions do not
stop root (CI runs the tests as root), so as root those cases run jiraflow without the
capabilities that let root write anywhere (setpriv, CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH dropped): git and jiraflow then get EACCES as any user would. A second
set makes `.git/jiraflow` a plain file (ENOTDIR on every mkdir and open under it). A full
disk is a file size limit of 0 (`ulimit -f 0`, SIGXFSZ ignored): every write fails with
EFBIG, for root too.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import as_anyone as conftest_as_anyone
from conftest import log_in_to, login_of, point_at
from gitutil import Repo
from jiraflow.sandbox.jira import JiraSandbox

ZERO = "0" * 40


@dataclass
class Ctx:
    """A case's world: an initialised repository with an origin, the user's home, the
    environment the command runs with, and (for cases that need Jira) a sandbox Jira."""

    repo: Repo
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    jira: JiraSandbox | None = None

    @property
    def state(self) -> Path:
        return self.repo.path / ".git" / "jiraflow"

    @property
    def cache(self) -> Path:
        return self.home / ".cache" / "jiraflow"

    @property
    def app(self) -> Path:
        return self.home / ".config" / "jiraflow"

    def write(self, path: Path, content: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_text(json.dumps(content))

    def head(self) -> str:
        return self.repo.git("rev-parse", "HEAD")


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(
    ctx: Ctx,
    *args: str,
    stdin: str = "null",
    closed: tuple[int, ...] = (),
    full: bool = False,
    as_anyone: bool = False,
) -> Run:
    """`python -P -m jiraflow -C REPO ARGS` as a user would run it. stdin: "null"
    (/dev/null) or "closed"; `closed`: standard streams the shell closes (`<&-`, `>&-`);
    `full`: every write fails as on a full disk (a file size limit of 0); `as_anyone`: file
    permissions apply (as root: without the capabilities that override them)."""
    cmd = [sys.executable, "-P", "-m", "jiraflow", "-C", str(ctx.repo.path), *args]
    if stdin == "closed":
        closed = (0, *closed)
    if closed:
        redirect = " ".join(f"{fd}<&-" if fd == 0 else f"{fd}>&-" for fd in closed)
        cmd = ["sh", "-c", f'exec "$@" {redirect}', "sh", *cmd]
    if full:
        cmd = ["sh", "-c", 'trap "" XFSZ; ulimit -f 0; exec "$@"', "sh", *cmd]
    if as_anyone:
        cmd = [*conftest_as_anyone(), *cmd]
    proc = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **ctx.env},
        timeout=60,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


# -- jiraflow's own files: a valid journal and outbox, to damage one part at a time ----------
def journal(ctx: Ctx, **changes: Any) -> dict[str, Any]:
    """A journal as a stopped `feature finish` of feature/x leaves it, with `changes`."""
    head = ctx.head()
    data: dict[str, Any] = {
        "version": 1,
        "operation": "feature finish",
        "branch": "feature/x",
        "head": {"branch": "develop", "commit": head},
        "refs": {"refs/heads/develop": head, "refs/heads/feature/x": None},
        "steps": [
            {"argv": ["checkout", "--quiet", "develop"], "kind": "git"},
            {"argv": ["merge", "--quiet", "feature/x"], "kind": "merge", "source": head},
        ],
        "next": 0,
        "pushed": [],
        "remote": [],
    }
    data.update(changes)
    return data


def action(**changes: Any) -> dict[str, Any]:
    base = {"id": "a1", "site": None, "key": "PROJ-1", "do": "move", "target": "Done"}
    return {**base, **changes}


def state_json(content: Any) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.write(ctx.state / "state.json", content(ctx) if callable(content) else content)

    return setup


def outbox_json(content: Any) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.write(ctx.state / "outbox.json", content)

    return setup


def in_cache(name: str, content: Any) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.write(ctx.cache / name, content(ctx) if callable(content) else content)

    return setup


def in_state(name: str, content: Any) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.write(ctx.state / name, content)

    return setup


def accounts(text: str) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.write(ctx.app / "accounts.toml", text)

    return setup


def repo_config(text: str) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.write(ctx.repo.path / ".jiraflow.toml", text)

    return setup


def env(**values: str) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        ctx.env.update(values)

    return setup


def a_feature_to_finish(ctx: Ctx) -> None:
    ctx.repo.git("checkout", "--quiet", "-b", "feature/x", "develop")
    ctx.repo.commit("x.txt")
    ctx.repo.git("checkout", "--quiet", "develop")
    shutil.rmtree(ctx.state, ignore_errors=True)


def read_only_state_dir(ctx: Ctx) -> None:
    """.git/jiraflow that no one may write in (the case runs `as_anyone`: root too)."""
    a_feature_to_finish(ctx)
    ctx.state.mkdir()
    ctx.state.chmod(0o500)


def state_dir_a_file(ctx: Ctx) -> None:
    """.git/jiraflow a plain file: every mkdir and open under it fails (ENOTDIR)."""
    a_feature_to_finish(ctx)
    ctx.write(ctx.state, "not a directory\n")


def parsed_cache_of_wrong_shape(ctx: Ctx) -> bytes:
    """The parsed-TOML cache holding, for the bytes of the repository's .jiraflow.toml, a
    value that is no table."""
    return marshal.dumps({(ctx.repo.path / ".jiraflow.toml").read_bytes(): "not a table"})


def sites_json(ctx: Ctx) -> Path:
    return ctx.cache / "sites.json"


def issues_json(ctx: Ctx) -> Path:
    return ctx.state / "issues.json"


@dataclass
class Case:
    name: str
    setup: Callable[[Ctx], None]
    args: tuple[str, ...]
    code: int
    says: str = ""  # what the message must name (the file, the key, the variable)
    jira: bool = False
    stdin: str = "null"
    closed: tuple[int, ...] = ()
    full: bool = False
    kept: str = ""  # a file of .git/jiraflow that must be left as it was: it is the user's
    rebuilt: Callable[[Ctx], Path] | None = None  # a cache replaced by a good one (0600)
    secret: str = ""  # what the output must not show
    as_anyone: bool = False  # file permissions apply, for root too (see run_cli)

    def __post_init__(self) -> None:
        assert self.says or not self.code, f"{self.name}: a failure must name what is wrong"


NESTED = "[" * 100_000 + "]" * 100_000
STATUS = ("status",)
CONTINUE = ("feature", "finish", "--continue")
ABORT = ("feature", "finish", "--abort")
SYNC = ("sync",)
START = ("feature", "start", "PROJ-1")
FEATURE_X = ("feature", "start", "x")
FINISH_X = ("feature", "finish", "x")
LOCK_DENIED = ".git/jiraflow/lock: Permission denied"
STATE = "state.json"
OUTBOX = "outbox.json"
URL_VAR = "JIRAFLOW_JIRA_URL"

CASES = [
    # .git/jiraflow/state.json: exit 5, naming the file, and left as it is
    Case("state: not JSON", state_json("{"), STATUS, 5, STATE, kept=STATE),
    Case("state: a list", state_json([]), STATUS, 5, STATE),
    Case("state: a string", state_json("just text"), CONTINUE, 5, STATE),
    Case("state: empty table", state_json({}), STATUS, 5, "'operation' is missing"),
    Case("state: empty table, continue", state_json({}), CONTINUE, 5, STATE),
    Case("state: empty table, abort", state_json({}), ABORT, 5, STATE),
    Case("state: not UTF-8", state_json(b"\xff\xfe{}"), STATUS, 5, "not UTF-8"),
    Case("state: nested too deeply", state_json(NESTED), STATUS, 5, STATE),
    Case(
        "state: steps not a list",
        state_json(lambda c: journal(c, steps="x")),
        CONTINUE,
        5,
        "steps:",
    ),
    Case(
        "state: unknown step kind",
        state_json(lambda c: journal(c, steps=[{"argv": ["merge", "x"], "kind": "explode"}])),
        CONTINUE,
        5,
        "steps[0].kind",
    ),
    Case(
        "state: step without argv",
        state_json(lambda c: journal(c, steps=[{"kind": "git"}])),
        ABORT,
        5,
        "steps[0]",
    ),
    Case(
        "state: argv of numbers",
        state_json(lambda c: journal(c, steps=[{"argv": [1, 2]}])),
        CONTINUE,
        5,
        "steps[0].argv[0]",
    ),
    Case(
        "state: a git option as the command",
        state_json(lambda c: journal(c, steps=[{"argv": ["-c", "core.pager=evil", "log"]}])),
        CONTINUE,
        5,
        "is not a git command",
    ),
    Case(
        "state: a write outside the work tree",
        state_json(
            lambda c: journal(c, steps=[{"argv": ["../../x"], "kind": "write", "message": "x"}])
        ),
        CONTINUE,
        5,
        "not a file of the work tree",
    ),
    Case("state: next past the end", state_json(lambda c: journal(c, next=9)), CONTINUE, 5, "next"),
    Case("state: next a string", state_json(lambda c: journal(c, next="0")), STATUS, 5, "next"),
    Case("state: next negative", state_json(lambda c: journal(c, next=-1)), CONTINUE, 5, "next"),
    Case(
        "state: head missing",
        state_json(lambda c: _without(journal(c), "head")),
        ABORT,
        5,
        "'head' is missing",
    ),
    Case(
        "state: head a string", state_json(lambda c: journal(c, head="develop")), ABORT, 5, "head:"
    ),
    Case("state: refs a list", state_json(lambda c: journal(c, refs=["x"])), ABORT, 5, "refs"),
    Case(
        "state: a ref that is no ref",
        state_json(lambda c: journal(c, refs={"develop\nupdate x": ZERO})),
        ABORT,
        5,
        "refs",
    ),
    Case(
        "state: a commit that is no commit",
        state_json(lambda c: journal(c, refs={"refs/heads/develop": 42})),
        ABORT,
        5,
        "refs.refs/heads/develop",
    ),
    Case(
        "state: operation of the wrong type",
        state_json(lambda c: journal(c, operation=["feature", "finish"])),
        STATUS,
        5,
        "operation",
    ),
    Case(
        "state: a remote action of no kind",
        state_json(lambda c: journal(c, remote=[action(do="explode")])),
        CONTINUE,
        5,
        "remote[0].do",
    ),
    Case(
        "state: a remote action with a path for a key",
        state_json(lambda c: journal(c, remote=[action(key="../../rest/api/2/myself")])),
        CONTINUE,
        5,
        "remote[0].key",
    ),
    Case(
        "state: a directory",
        lambda c: (c.state / "state.json").mkdir(parents=True),
        STATUS,
        5,
        STATE,
    ),
    # .git/jiraflow/outbox.json: exit 5, never overwritten (it holds Jira updates still owed)
    Case("outbox: not JSON", outbox_json("[{"), SYNC, 5, OUTBOX, kept=OUTBOX),
    Case("outbox: a table", outbox_json({}), SYNC, 5, OUTBOX, kept=OUTBOX),
    Case("outbox: a string", outbox_json("x"), STATUS, 5, OUTBOX),
    Case("outbox: numbers", outbox_json([1, 2]), SYNC, 5, "[0]"),
    Case("outbox: empty actions", outbox_json([{}]), SYNC, 5, "'id' is missing"),
    Case("outbox: drop", outbox_json([{}]), ("sync", "--drop"), 5, OUTBOX),
    Case("outbox: unknown action", outbox_json([action(do="explode")]), SYNC, 5, "[0].do"),
    Case("outbox: key a number", outbox_json([action(key=5)]), STATUS, 5, "[0].key"),
    Case("outbox: link without its fields", outbox_json([action(do="link")]), SYNC, 5, "[0]"),
    Case(
        "outbox: a release with keys of the wrong type",
        outbox_json([action(do="release", version="1.0", keys="PROJ-1", released=True)]),
        SYNC,
        5,
        "[0]",
    ),
    Case("outbox: a key that is a path", outbox_json([action(key="../x")]), SYNC, 5, "[0].key"),
    Case("outbox: not UTF-8", outbox_json(b"\x80"), SYNC, 5, OUTBOX),
    # caches: rebuilt, the command goes on
    Case(
        "sites.json: not JSON",
        in_cache("sites.json", "{"),
        START,
        0,
        jira=True,
        rebuilt=sites_json,
    ),
    Case("sites.json: a list", in_cache("sites.json", []), START, 0, jira=True),
    Case(
        "sites.json: a site that is a string",
        lambda c: c.write(c.cache / "sites.json", {c.jira.url: "x"}),  # type: ignore[union-attr]
        START,
        0,
        jira=True,
        rebuilt=sites_json,
    ),
    Case(
        "sites.json: facts of the wrong shape",
        lambda c: c.write(
            c.cache / "sites.json",
            {c.jira.url: {"kind": 5, f"myself {login_of(c.jira)}": "me"}},  # type: ignore[union-attr]
        ),
        START,
        0,
        jira=True,
    ),
    Case("issue cache: not JSON", in_state("issues.json", "{"), START, 0, jira=True),
    Case("issue cache: a list", in_state("issues.json", [1]), START, 0, jira=True),
    Case(
        "issue cache: entries of the wrong shape",
        in_state("issues.json", {"PROJ-1": "x"}),
        START,
        0,
        jira=True,
        rebuilt=issues_json,
    ),
    Case(
        "my-issues cache: garbage",
        in_cache("my-issues.json", {"format": 1, "sites": []}),
        ("_refresh-issues",),
        0,
        jira=True,
    ),
    Case(
        "parsed TOML cache: a value that is no table",
        in_cache("parsed.marshal", parsed_cache_of_wrong_shape),
        ("config", "get", "gitflow.develop"),
        0,
    ),
    Case("parsed TOML cache: garbage", in_cache("parsed.marshal", b"\xff" * 9), STATUS, 0),
    # accounts.toml, written by `auth login`: exit 5 naming it
    Case(
        "accounts: account a number", accounts("account = 5\n"), ("auth", "status"), 5, "accounts"
    ),
    Case(
        "accounts: rows of strings",
        accounts('account = ["x"]\n'),
        ("auth", "status"),
        5,
        "accounts.toml",
    ),
    Case("accounts: not TOML", accounts("account = [\n"), ("auth", "status"), 5, "accounts.toml"),
    Case(
        "accounts: a row with a number",
        accounts('[[account]]\nservice = "jira"\nurl = 5\nuser = "u"\n'),
        ("auth", "logout", "--url", "https://x.example"),
        5,
        "account[0].url",
    ),
    # configuration: exit 3 naming the key (and where it was set)
    Case(
        "config: a timeout beyond what sockets take (environment)",
        env(JIRAFLOW_JIRA_TIMEOUT="99999999999999999999"),
        START,
        3,
        "JIRAFLOW_JIRA_TIMEOUT: 'jira.timeout'",
        jira=True,
    ),
    Case(
        "config: a timeout of 317 years (file)",
        repo_config("[jira]\ntimeout = 10000000000\n"),
        START,
        3,
        "'jira.timeout' must be a whole number above 0, at most 3600",
        jira=True,
    ),
    Case(
        "config: timeout 1e300", repo_config("[jira]\ntimeout = 1e300\n"), START, 3, "jira.timeout"
    ),
    Case(
        "config: timeout negative", repo_config("[jira]\ntimeout = -5\n"), START, 3, "jira.timeout"
    ),
    Case(
        "config: bitbucket timeout too long",
        env(JIRAFLOW_BITBUCKET_TIMEOUT="1000000000000"),
        STATUS,
        3,
        "bitbucket.timeout",
    ),
    Case(
        "config: branch.max_length 0",
        repo_config("[branch]\nmax_length = 0\n"),
        START,
        3,
        "branch.max_length",
    ),
    Case(
        "config: branch.max_length too long",
        env(JIRAFLOW_BRANCH_MAX_LENGTH="100000"),
        ("feature", "start", "x"),
        3,
        "branch.max_length",
    ),
    Case("url: IPv6 unclosed", env(JIRAFLOW_JIRA_URL="http://[::1"), START, 3, URL_VAR),
    Case("url: not a url", env(JIRAFLOW_JIRA_URL="not a url"), START, 3, URL_VAR),
    Case("url: ftp", env(JIRAFLOW_JIRA_URL="ftp://x.example"), START, 3, URL_VAR),
    Case(
        "url: login and password in it",
        env(JIRAFLOW_JIRA_URL="https://ann:s3cret@x.example"),
        START,
        3,
        URL_VAR,
        secret="s3cret",
    ),
    Case("url: spaces", env(JIRAFLOW_JIRA_URL="https://acme .example"), START, 3, URL_VAR),
    Case("url: port too big", env(JIRAFLOW_JIRA_URL="https://x.example:99999"), START, 3, URL_VAR),
    Case(
        "url: port not a number", env(JIRAFLOW_JIRA_URL="https://x.example:ab"), START, 3, URL_VAR
    ),
    Case(
        "url: bitbucket IPv6 unclosed",
        env(JIRAFLOW_BITBUCKET_URL="http://[::1"),
        ("pr", "list"),
        3,
        "JIRAFLOW_BITBUCKET_URL",
    ),
    Case(
        "url: a site in the file",
        repo_config('[[jira.sites]]\nurl = "https://x.example:port"\n'),
        START,
        3,
        "jira.sites[0].url",
    ),
    Case(
        "url: auth login --url",
        lambda c: None,
        ("auth", "login", "--url", "https://[x", "--user", "u"),
        3,
        "--url",
    ),
    # the repository's state directory: exit 5 naming it
    Case(
        "state dir: read-only, start",
        read_only_state_dir,
        FEATURE_X,
        5,
        LOCK_DENIED,
        as_anyone=True,
    ),
    Case("state dir: read-only, status", read_only_state_dir, STATUS, 0, as_anyone=True),
    Case(
        "state dir: read-only, finish",
        read_only_state_dir,
        FINISH_X,
        5,
        LOCK_DENIED,
        as_anyone=True,
    ),
    Case("state dir: a file, start", state_dir_a_file, FEATURE_X, 5, ".git"),
    Case("state dir: a file, status", state_dir_a_file, STATUS, 5, ".git/jiraflow"),
    Case("state dir: a file, finish", state_dir_a_file, FINISH_X, 5, ".git"),
    Case("disk full: start", lambda c: None, ("feature", "start", "x"), 5, "disk", full=True),
    # standard streams closed or empty: a prompt without an answer is a usage error
    Case("stdin closed: auth login", lambda c: None, ("auth", "login"), 2, "--url", stdin="closed"),
    Case("stdin empty: auth login", lambda c: None, ("auth", "login"), 2, "standard input ended"),
    Case(
        "stdin empty: auth login, no keyring",
        lambda c: None,
        ("auth", "login", "--url", "https://x.example", "--user", "u"),
        4,
        "keyring",
    ),
    Case("stdin closed: release start", lambda c: None, ("release", "start"), 0, stdin="closed"),
    Case(
        "stdin closed: feature start", lambda c: None, ("feature", "start", "y"), 0, stdin="closed"
    ),
    Case("stdin closed: start", lambda c: None, START, 0, jira=True, stdin="closed"),
    Case("stdout closed: status", lambda c: None, STATUS, 0, closed=(1,)),
]


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


@pytest.fixture
def ctx(make_repo: Callable[..., Repo], isolated_env: Path) -> Ctx:
    return Ctx(make_repo(), isolated_env)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_a_message_and_its_exit_code(
    ctx: Ctx, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.jira:
        with JiraSandbox("cloud") as sandbox:
            ctx.jira = sandbox
            point_at(monkeypatch, sandbox)
            check_case(ctx, case)
    else:
        check_case(ctx, case)


def check_case(ctx: Ctx, case: Case) -> None:
    case.setup(ctx)
    watched = ctx.state / case.kept if case.kept else case.rebuilt(ctx) if case.rebuilt else None
    before = watched.read_bytes() if watched is not None else None
    result = run_cli(
        ctx,
        *case.args,
        stdin=case.stdin,
        closed=case.closed,
        full=case.full,
        as_anyone=case.as_anyone,
    )
    said = result.out + result.err
    assert "Traceback" not in said, said
    assert "internal error" not in said, said
    assert result.code == case.code, said
    if case.code:
        assert "error: " in result.err and len(result.err.strip().splitlines()) <= 3, said
    assert case.says in result.err, said
    assert not case.secret or case.secret not in said, said
    if case.kept:
        assert watched is not None and watched.read_bytes() == before
    if case.rebuilt:
        assert watched is not None and watched.read_bytes() != before
        assert isinstance(json.loads(watched.read_text()), dict)
        assert stat.S_IMODE(watched.stat().st_mode) == 0o600


# -- modes of the files jiraflow writes in the user's directories ---------------------------
@pytest.mark.usefixtures("keyring_env")
def test_files_in_the_users_directories_are_private(
    ctx: Ctx, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """sites.json, the issue caches, the parsed-TOML cache, the user config written by
    `config set --user` and the accounts file written by `auth login`: 0600, in directories
    made 0700."""
    with JiraSandbox("cloud") as sandbox:
        log_in_to(run, ctx.repo, monkeypatch, sandbox)  # the token in the real keyring
        assert run_cli(ctx, *START).code == 0
        assert run_cli(ctx, "_refresh-issues").code == 0
    assert run_cli(ctx, "config", "set", "--user", "finish.keep", "true").code == 0
    files = [
        ctx.cache / "sites.json",
        ctx.cache / "my-issues.json",
        ctx.cache / "parsed.marshal",
        ctx.app / "config.toml",
        ctx.app / "accounts.toml",
        ctx.state / "issues.json",
    ]
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    for folder in (ctx.cache, ctx.app):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_an_existing_cache_file_that_others_could_read_becomes_private(ctx: Ctx) -> None:
    from jiraflow.store import SiteCache

    path = ctx.cache / "sites.json"
    ctx.write(path, {})
    path.chmod(0o644)
    SiteCache(str(path)).put("https://x.example", "kind", "cloud")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"https://x.example": {"kind": "cloud"}}


# -- a path that holds braces ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "damage",
    [
        "{",  # not JSON: store.read_json's message
        {"steps": [{"argv": ["merge", "x"], "kind": "explode"}]},  # a bad step: Journal.load's
    ],
    ids=["not JSON", "bad step"],
)
def test_a_damaged_journal_in_a_directory_named_with_braces(
    make_repo: Callable[..., Repo], isolated_env: Path, damage: Any
) -> None:
    """The hint names the file by its path, which may hold anything: braces too."""
    ctx = Ctx(make_repo(name="{x}{0}"), isolated_env)
    content = damage if isinstance(damage, str) else lambda c: journal(c, **damage)
    state_json(content)(ctx)
    result = run_cli(ctx, *CONTINUE)
    said = result.out + result.err
    assert "internal error" not in said and "Traceback" not in said, said
    assert result.code == 5, said
    path = ctx.state / "state.json"
    assert f"hint: `cat {path}` shows the interrupted operation" in result.err, said
    assert f"`rm {path}`." in result.err, said
