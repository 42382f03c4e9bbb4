"""TAB completion: my open Jira issues from a cache refreshed in the background (a real
detached process against the sandbox Jira over HTTP), branch names, versions, tags and
config keys, driven through real bash, zsh and fish with the scripts jiraflow generates."""

from __future__ import annotations

import json
import os
import select
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from completionutil import ALICE_OPEN, cache, refreshed, tab, wait_for
from conftest import require_tool
from gitutil import Repo
from jiraflow.jira import issue_cache
from jiraflow.jira.issue_cache import IssueCache, SiteKey
from jiraflow.sandbox.jira import JiraSandbox

BIN = Path(sys.executable).parent
SITE = "https://jira.example.com"


def warm(site: str = SITE, user: str = "ada", issues: list[tuple[str, str]] | None = None) -> None:
    """A fresh cache for `site`, as the refresher would have written it just now."""
    cache().store([(SiteKey(site, user, []), ALICE_OPEN if issues is None else issues, "")])


@pytest.fixture
def fake_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jira configured (at an address nothing answers): completion must come from the cache."""
    monkeypatch.setenv("JIRAFLOW_JIRA_URL", SITE)
    monkeypatch.setenv("JIRAFLOW_JIRA_USER", "ada")
    monkeypatch.setenv("JIRAFLOW_JIRA_TOKEN", "not-a-real-token")


# -- the cache ---------------------------------------------------------------------------------
class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_fresh_for_the_ttl(tmp_path: Path) -> None:
    clock = Clock()
    store = IssueCache(str(tmp_path / "c.json"), clock=clock)
    site = SiteKey(SITE, "ada", [])
    assert store.stale([site]) and store.issues([site]) == []
    store.store([(site, [("PROJ-1", "One")], "")])
    clock.now += issue_cache.TTL - 1
    assert not store.stale([site])
    assert store.issues([site]) == [("PROJ-1", "One")]
    clock.now += 1
    assert store.stale([site])
    clock.now -= issue_cache.TTL + 60  # the clock was set back: ask again
    assert store.stale([site])


def test_a_site_without_an_answer_makes_the_cache_stale(tmp_path: Path) -> None:
    store = IssueCache(str(tmp_path / "c.json"))
    first, second = SiteKey(SITE, "ada", []), SiteKey("https://other.example.com", "ada", [])
    store.store([(first, [("PROJ-1", "One")], "")])
    assert not store.stale([first])
    assert store.stale([first, second])


def test_a_failed_site_keeps_its_issues_and_is_asked_again_sooner(tmp_path: Path) -> None:
    clock = Clock()
    store = IssueCache(str(tmp_path / "c.json"), clock=clock)
    site = SiteKey(SITE, "ada", [])
    store.store([(site, [("PROJ-1", "One")], "")])
    clock.now += issue_cache.TTL
    store.store([(site, None, "Jira at https://jira.example.com cannot be reached")])
    assert store.issues([site]) == [("PROJ-1", "One")]
    clock.now += issue_cache.RETRY_AFTER_ERROR - 1
    assert not store.stale([site])
    clock.now += 1
    assert store.stale([site])


def test_issues_come_once_in_site_order_and_only_of_the_sites_projects(tmp_path: Path) -> None:
    store = IssueCache(str(tmp_path / "c.json"))
    ops = SiteKey("https://ops.example.com", "ada", ["OPS"])
    anything = SiteKey(SITE, "ada", [])
    store.store(
        [
            (ops, [("OPS-2", "Rotate"), ("PROJ-9", "Not a project of this site")], ""),
            (anything, [("PROJ-1", "One\n  two"), ("OPS-2", "Twice")], ""),
        ]
    )
    assert store.issues([ops, anything]) == [
        ("OPS-2", "Rotate"),
        ("PROJ-1", "One two"),  # a summary is one line
    ]
    assert store.issues([anything]) == [("PROJ-1", "One two"), ("OPS-2", "Twice")]


@pytest.mark.parametrize("content", ["{not json", '{"format": 99, "sites": {}}', "[1, 2]", ""])
def test_a_broken_cache_is_an_empty_one(tmp_path: Path, content: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content)
    store = IssueCache(str(path))
    site = SiteKey(SITE, "ada", [])
    assert store.issues([site]) == [] and store.stale([site])
    store.store([(site, [("PROJ-1", "One")], "")])  # the refresher replaces it
    assert store.issues([site]) == [("PROJ-1", "One")]


def test_the_cache_is_written_atomically(tmp_path: Path) -> None:
    """A reader never sees half a file while the refresher rewrites it."""
    path = tmp_path / "c.json"
    site = SiteKey(SITE, "ada", [])
    big = [(f"PROJ-{n}", "a long summary " * 40) for n in range(1, 400)]
    writer = IssueCache(str(path))
    writer.store([(site, big, "")])
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        for n in range(60):
            writer.store([(site, big[: 200 + n], "")])
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    while not done.is_set():
        seen.append(len(json.loads(path.read_text())["sites"][f"{SITE} ada"]["issues"]))
    thread.join()
    assert len(seen) > 5 and min(seen) >= 200
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temporary file left


def test_one_refresher_at_a_time_until_its_marker_is_stale(tmp_path: Path) -> None:
    clock = Clock(time.time())
    store = IssueCache(str(tmp_path / "sub" / "c.json"), clock=clock)
    assert store.claim() and store.refreshing()
    assert not store.claim()
    clock.now += issue_cache.REFRESH_STALE - 1
    assert not store.claim()
    clock.now += 2  # the refresher died without removing its marker
    assert not store.refreshing()
    assert store.claim()
    store.release()
    assert not store.refreshing() and store.claim()


# -- TAB and the background refresh, against the sandbox Jira ------------------------------------
def test_tab_answers_at_once_and_refreshes_in_the_background(repo: Repo, jira: JiraSandbox) -> None:
    jira.latency = 1.0  # each request; a TAB that waited for Jira would take seconds
    started = time.monotonic()
    assert tab(repo, "feature", "start", "") == []  # nothing known yet
    assert tab(repo, "feature", "start", "") == []  # a refresher already runs: no second
    assert time.monotonic() - started < 1.0
    wait_for(refreshed)
    assert tab(repo, "feature", "start", "") == ALICE_OPEN
    assert jira.count(path_contains="search") == 1
    assert tab(repo, "bugfix", "start", "proj-1") == [
        ("PROJ-11", "Onboarding"),
        ("PROJ-10", "Login rate limiting"),
        ("PROJ-1", "Add login form"),
    ]
    assert tab(repo, "start", "PROJ-6") == [("PROJ-6", "Dark mode")]
    assert tab(repo, "where", "") == ALICE_OPEN
    assert jira.count(path_contains="search") == 1  # the cache is fresh: no new search


def test_the_refresher_holds_no_descriptor_it_was_not_given(repo: Repo, jira: JiraSandbox) -> None:
    """A pipe the shell (or an IDE) passed to the TAB is not kept open by the refresher:
    whoever waits for that pipe to close does not wait for Jira."""
    jira.latency = 2.0  # the refresher is still waiting for Jira when the TAB is done
    read, write = os.pipe()
    os.set_inheritable(write, True)
    try:
        assert tab(repo, "feature", "start", "") == []
    finally:
        os.close(write)
    ready, _, _ = select.select([read], [], [], 10)
    assert ready and os.read(read, 1) == b""  # end of file: nobody else holds the pipe
    os.close(read)
    assert not refreshed()  # ... while the refresher is still at work
    wait_for(refreshed)


def test_a_stale_cache_answers_while_it_is_refreshed(repo: Repo, jira: JiraSandbox) -> None:
    key = issue_cache.sites_of(_config(repo))[0]
    old = IssueCache(issue_cache.default_path(), clock=lambda: time.time() - issue_cache.TTL)
    old.store([(key, [("PROJ-99", "Closed long ago")], "")])
    new = jira.add_issue("PROJ", "Fix login, then logout: both", assignee="alice")
    assert tab(repo, "feature", "start", "") == [("PROJ-99", "Closed long ago")]
    wait_for(lambda: cache().issues([key])[0][0] != "PROJ-99")
    assert tab(repo, "feature", "start", "") == [
        (new, "Fix login, then logout: both"),
        *ALICE_OPEN,
    ]


def test_a_refresh_that_fails_is_retried_later_not_on_every_tab(
    repo: Repo, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_TOKEN", "wrong")
    assert tab(repo, "feature", "start", "") == []
    wait_for(refreshed)
    (entry,) = cache().read().values()
    assert "refused the credentials" in entry["error"] and entry["issues"] == []
    asked = jira.count()
    assert tab(repo, "feature", "start", "") == []
    # a TAB that starts a refresher leaves its marker behind until the refresher is done
    assert not os.path.exists(cache().marker)  # no new refresher within RETRY_AFTER_ERROR
    time.sleep(0.5)
    assert jira.count() == asked


def test_the_refresher_by_hand(repo: Repo, jira: JiraSandbox, run) -> None:
    result = run(repo, "_refresh-issues")
    assert result.code == 0, result.err
    assert result.out == f"{jira.url}: 8 open issues\n"
    assert tab(repo, "feature", "start", "") == ALICE_OPEN
    assert cache().claim()  # as if one were running
    assert run(repo, "_refresh-issues").out == "A refresh is already running.\n"


def test_the_refresher_is_hidden(repo: Repo, run) -> None:
    assert "_refresh-issues" not in run(repo, "--help").out
    assert not [v for v, _ in tab(repo, "") if v.startswith("_")]


def test_without_jira_no_issues_and_no_refresher(repo: Repo) -> None:
    assert tab(repo, "feature", "start", "") == []
    assert tab(repo, "where", "") == []
    assert not os.path.exists(cache().path) and not os.path.exists(cache().marker)


def test_tab_outside_a_repository_offers_nothing(tmp_path: Path, fake_site: None) -> None:
    assert tab(Repo(tmp_path), "feature", "start", "") == []
    assert tab(Repo(tmp_path), "feature", "finish", "") == []


def _config(repo: Repo):  # type: ignore[no-untyped-def]
    from jiraflow.gitflow.context import FlowContext

    return FlowContext.open(str(repo.path), user_path=None).config


# -- branches, versions, tags, config (in-process) -----------------------------------------------
def test_branch_base_track_and_version_completion(repo: Repo, run) -> None:
    run(repo, "feature", "start", "login-form")
    run(repo, "release", "start", "1.2.0")
    repo.git("tag", "1.0.0", "main")
    repo.git("tag", "1.10.0", "main")
    repo.git("tag", "1.9.0", "main")
    repo.git("push", "-q", "origin", "main:refs/heads/feature/from-elsewhere")
    repo.git("fetch", "-q", "origin")
    assert tab(repo, "feature", "finish", "") == [("login-form", None)]
    assert tab(repo, "release", "finish", "") == [("1.2.0", None)]
    assert tab(repo, "release", "publish", "1.") == [("1.2.0", None)]
    assert tab(repo, "feature", "track", "") == [("from-elsewhere", None)]
    assert [v for v, _ in tab(repo, "support", "start", "1.x", "")] == ["1.10.0", "1.9.0", "1.0.0"]
    assert [v for v, _ in tab(repo, "feature", "start", "x", "--base", "d")] == ["develop"]
    assert [v for v, _ in tab(repo, "release", "notes", "1.9.0..")] == [
        "1.9.0..1.10.0",
        "1.9.0..1.9.0",
        "1.9.0..1.0.0",
        "1.9.0..develop",
        "1.9.0..main",
    ]
    assert [v for v, _ in tab(repo, "release", "notes", "1.0.0...m")] == ["1.0.0...main"]


def test_config_keys_and_values(repo: Repo) -> None:
    keys = dict(tab(repo, "config", "get", "finish.p"))
    assert keys == {
        "finish.push": "Push the merged branches and tags after finishing (like --push)"
    }
    assert [v for v, _ in tab(repo, "config", "set", "jira.kind", "")] == ["cloud", "datacenter"]
    assert [v for v, _ in tab(repo, "config", "set", "finish.push", "")] == ["true", "false"]
    assert tab(repo, "config", "set", "jira.url", "") == []


def test_completion_with_5000_branches_reads_the_matching_refs_once(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A budget, not a stopwatch (its speed is benchmarks/bench_scale.py's): a TAB among
    5000 branches starts two git processes, the config and one read of the refs under the
    typed prefix, whatever the number of branches."""
    head = repo.git("rev-parse", "HEAD")
    refs = "".join(f"create refs/heads/feature/b{n:04} {head}\n" for n in range(5000))
    subprocess.run(
        ["git", "update-ref", "--stdin"], input=refs, text=True, cwd=repo.path, check=True
    )
    trace = tmp_path / "git-trace.log"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    names = tab(repo, "feature", "finish", "b12")
    assert [v for v, _ in names] == [f"b12{n:02}" for n in range(100)]
    calls = [line.partition("built-in: ")[2] for line in trace.read_text().splitlines()]
    gits = [call for call in calls if call]
    assert len(gits) == len(trace.read_text().splitlines()) <= 2, gits
    reads = [call for call in gits if call.startswith("git for-each-ref")]
    assert len(reads) == 1 and "refs/heads/feature/b12*" in reads[0], gits


# -- real shells ---------------------------------------------------------------------------------
def shell_env() -> dict[str, str]:
    """This environment, with the venv's jiraflow first on PATH."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}


def script(shell: str, tmp_path: Path) -> Path:
    proc = subprocess.run(
        [str(BIN / "jiraflow"), "completion", shell],
        capture_output=True,
        text=True,
        env=shell_env(),
        check=True,
    )
    path = tmp_path / f"jiraflow.{shell}"
    path.write_text(proc.stdout)
    return path


# An interactive zsh in a pseudo-terminal (zsh/zpty) types LINE and a TAB, and prints what
# the completion system offers, one "value -- description" per line. The technique is
# zsh-capture-completion's (github.com/Valodim/zsh-capture-completion): compadd is wrapped
# so that `builtin compadd -A` collects the matches zsh itself accepted.
ZSH_DRIVER = r"""
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
local line
zpty -w z "source ${0:h}/zsh-init.zsh"
repeat 8; do
    zpty -r z line
    [[ $line == ok* ]] && break
done
[[ $line == ok* ]] || { print -u2 "zsh did not start: $line"; exit 2 }
zpty -w z "$JF_LINE"$'\t'
integer tog=0
while zpty -r z; do :; done | while IFS= read -r line; do
    if [[ $line == *$'\0\r' ]]; then
        (( tog++ )) && exit 0 || continue
    fi
    (( tog )) && print -r -- ${line%$'\r'}
done
exit 2
"""
ZSH_INIT = r"""
PROMPT=
COLUMNS=300
autoload -Uz compinit
compinit -u -D
bindkey '^M' undefined
bindkey '^J' undefined
bindkey '^I' complete-word
null-line () { print -r -- $'\0' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
zstyle ':completion:*' list-separator ''
compadd () {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
        builtin compadd "$@"
        return $?
    fi
    typeset -a __hits __dscr __tmp
    if (( $@[(I)-d] )); then
        __tmp=${@[$[${@[(i)-d]}+1]]}
        if [[ $__tmp == \(* ]]; then
            eval "__dscr=$__tmp"
        else
            __dscr=( "${(@P)__tmp}" )
        fi
    fi
    builtin compadd -A __hits -D __dscr "$@"
    setopt localoptions norcexpandparam extendedglob
    [[ -n $__hits ]] || return
    local dscr
    for i in {1..$#__hits}; do
        (( $#__dscr >= $i )) && dscr=" -- ${${__dscr[$i]}##$__hits[$i] #}" || dscr=
        print -r -- "$__hits[$i]$dscr"
    done
}
source "$JF_SCRIPT"
print ok
"""


def complete_in(shell: str, repo: Repo, line: str, tmp_path: Path) -> list[tuple[str, str]]:
    """Run the real SHELL in the repository, with jiraflow's completion script loaded, and
    TAB after LINE: [(value, description)] as the shell would offer them ("" when the shell
    shows none: bash never does)."""
    require_tool(shell)
    env = {**shell_env(), "JF_LINE": line, "JF_SCRIPT": str(script(shell, tmp_path))}
    if shell == "bash":
        words = line.split(" ")
        program = (
            'source "$JF_SCRIPT"\n'
            f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
            '_jiraflow_completion jiraflow\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        argv = ["bash", "--norc", "--noprofile", "-c", program]
    elif shell == "zsh":
        (tmp_path / "zsh-init.zsh").write_text(ZSH_INIT)
        driver = tmp_path / "zsh-driver.zsh"
        driver.write_text(ZSH_DRIVER)
        argv = ["zsh", "-f", str(driver)]
    else:
        argv = ["fish", "--no-config", "-c", 'source "$JF_SCRIPT"; complete -C "$JF_LINE"']
    proc = subprocess.run(
        argv, cwd=repo.path, capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    offered = []
    for row in proc.stdout.splitlines():
        if not row:
            continue
        value, _, description = row.partition("\t" if shell == "fish" else " -- ")
        offered.append((value, description))
    return offered


SHELLS = ["bash", "zsh", "fish"]


def shown(shell: str, items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What SHELL shows of these items: bash shows no descriptions."""
    return [(v, "" if shell == "bash" else d) for v, d in items]


@pytest.mark.parametrize("shell", SHELLS)
def test_issue_keys_with_their_summaries(
    shell: str, repo: Repo, fake_site: None, tmp_path: Path
) -> None:
    mine = [("PROJ-7", "Login: then, logout (100%)"), ("PROJ-12", "Dark mode")]
    warm(issues=mine)
    offered = complete_in(shell, repo, "jiraflow feature start ", tmp_path)
    assert sorted(offered) == sorted(shown(shell, mine))
    assert complete_in(shell, repo, "jiraflow start PROJ-1", tmp_path) == shown(shell, mine[1:])
    assert not os.path.exists(cache().marker)  # fresh: no refresher started


@pytest.mark.parametrize("shell", SHELLS)
def test_branches_versions_and_tags(shell: str, repo: Repo, run, tmp_path: Path) -> None:
    run(repo, "feature", "start", "login-form")
    run(repo, "feature", "start", "logout")
    run(repo, "release", "start", "1.2.0")
    repo.git("tag", "1.0.0", "main")
    assert complete_in(shell, repo, "jiraflow feature finish log", tmp_path) == [
        ("login-form", ""),
        ("logout", ""),
    ]
    assert complete_in(shell, repo, "jiraflow release finish ", tmp_path) == [("1.2.0", "")]
    assert complete_in(shell, repo, "jiraflow support start 1.x ", tmp_path) == [("1.0.0", "")]


@pytest.mark.parametrize("shell", SHELLS)
def test_config_keys_auth_sites_and_shells(shell: str, repo: Repo, tmp_path: Path) -> None:
    keys = complete_in(shell, repo, "jiraflow config get finish.p", tmp_path)
    assert keys == shown(
        shell, [("finish.push", "Push the merged branches and tags after finishing (like --push)")]
    )
    # (the order is the shell's: fish sorts)
    assigns = complete_in(shell, repo, "jiraflow config set jira.assign ", tmp_path)
    assert sorted(assigns) == [("always", ""), ("never", ""), ("unassigned", "")]
    services = complete_in(shell, repo, "jiraflow auth login ", tmp_path)
    assert sorted(v for v, _ in services) == ["bitbucket", "jira"]
    shells = complete_in(shell, repo, "jiraflow completion ", tmp_path)
    assert sorted(v for v, _ in shells) == ["bash", "fish", "zsh"]


def test_a_real_shell_fills_the_cache_in_the_background(
    repo: Repo, jira: JiraSandbox, tmp_path: Path
) -> None:
    """bash's first TAB starts the refresher and shows nothing, at once (bash waits for
    the output of the completion command: the refresher must hold none of it, nor print
    anything); once it is done, fish shows the issues."""
    # the refresher's search is slow: a TAB that waited for it would take longer
    jira.fault("latency", path="search", delay=3.0, times=None)
    started = time.monotonic()
    assert complete_in("bash", repo, "jiraflow feature start ", tmp_path) == []
    assert time.monotonic() - started < 2.5
    assert os.path.exists(cache().marker)  # the refresher runs on
    wait_for(refreshed)
    offered = complete_in("fish", repo, "jiraflow feature start ", tmp_path)
    assert sorted(offered) == sorted(ALICE_OPEN)
