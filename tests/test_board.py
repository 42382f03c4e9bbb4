"""`jiraflow board`: per issue and environment of [[environments]], merged (yes, partly, no)
and deployed; the selection forms (KEY..., --since, --release from commits and Jira's
fixVersion, --jql), the table, Markdown and JSON, the summary line, the errors, and the
request budget of a 200-issue release. Real repositories with a bare origin, the sandboxes
over real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo

CHAIN = """
[[environments]]
name = "qa"
branch = "qa"

[[environments]]
name = "staging"
branch = "staging"
"""
DEPLOYED_CHAIN = (
    CHAIN
    + """
[[environments]]
name = "production"
branch = "main"
deployment = "Production"
"""
)
DAY = dt.datetime(2026, 12, 1, 14, 2, tzinfo=dt.UTC)


def history(repo: Repo, chain: str = CHAIN) -> list[str]:
    """On develop: PROJ-1, PROJ-2 (two commits), PROJ-3; staging at PROJ-1, qa at the first
    commit of PROJ-2; release tag 1.0.0 at PROJ-1."""
    repo.git("checkout", "-q", "develop")
    c1 = repo.commit("a.txt", "a\n", "PROJ-1 add a")
    c2 = repo.commit("b.txt", "b\n", "PROJ-2 add b")
    c3 = repo.commit("b.txt", "bb\n", "PROJ-2 more b")
    c4 = repo.commit("c.txt", "c\n", "PROJ-3 add c")
    repo.git("branch", "staging", c1)
    repo.git("branch", "qa", c2)
    repo.git("tag", "1.0.0", c1)
    toml = repo.path / ".jiraflow.toml"
    toml.write_text(toml.read_text() + chain)
    return [c1, c2, c3, c4]


def board(run: Any, repo: Repo, *args: str) -> dict[str, Any]:
    result = run(repo, "--json", "board", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def merged(info: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        issue["key"]: {e["name"]: e["merged"] for e in issue["environments"]}
        for issue in info["issues"]
    }


# == git alone ================================================================================


def test_keys_say_merged_partly_or_not_per_environment(repo: Repo, run: Any) -> None:
    history(repo)
    info = board(run, repo, "PROJ-1", "PROJ-2", "PROJ-3")
    assert merged(info) == {
        "PROJ-1": {"qa": "yes", "staging": "yes"},
        "PROJ-2": {"qa": "partly", "staging": "no"},
        "PROJ-3": {"qa": "no", "staging": "no"},
    }
    two = info["issues"][1]["environments"][0]
    assert (two["contains"], two["total"]) == (1, 2)
    assert info["summary"] == "3 issues: 1 in qa, 1 in staging"
    assert [e["name"] for e in info["environments"]] == ["qa", "staging"]
    assert [i["in_commits"] for i in info["issues"]] == [True, True, True]
    none = board(run, repo, "PROJ-9")["issues"][0]
    assert none["in_commits"] is False and none["commits"] == []
    assert [e["merged"] for e in none["environments"]] == ["no", "no"]


def test_the_table_is_aligned_with_a_summary_line(repo: Repo, run: Any) -> None:
    history(repo)
    result = run(repo, "board", "PROJ-1", "PROJ-2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["Key", "Summary", "Type", "Status", "PR", "qa", "staging"]
    qa = lines[0].index("qa")
    assert lines[1][qa:].split()[0] == "yes" and lines[2][qa:].startswith("partly 1/2")
    assert lines[-1] == "2 issues: 1 in qa, 1 in staging"
    assert "\x1b[" not in result.out  # not a terminal: no colour


def test_colour_per_cell_when_colour_is_on(
    repo: Repo, run: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from jiraflow.cli import cli
    from jiraflow.cli.render import Terminal

    history(repo)
    capsys.readouterr()
    args = ["-C", str(repo.path), "board", "PROJ-2"]
    assert not cli.main(args=args, obj=Terminal(stdout=True, color=True), standalone_mode=False)
    out = capsys.readouterr().out
    assert "\x1b[33mpartly 1/2" in out and "\x1b[31mno" in out
    assert "\x1b[" not in run(repo, "--no-color", "board", "PROJ-2").out


def test_since_takes_the_keys_after_rev(repo: Repo, run: Any) -> None:
    c1, *_ = history(repo)
    info = board(run, repo, "--since", c1)
    assert [i["key"] for i in info["issues"]] == ["PROJ-2", "PROJ-3"]
    assert info["selection"] == {"by": "since", "value": c1, "range": f"{c1}..develop"}


def test_release_takes_its_commits_unreleased_and_released(repo: Repo, run: Any) -> None:
    _, _, c3, _ = history(repo)
    info = board(run, repo, "--release", "1.1.0")  # unreleased: develop since 1.0.0
    assert [i["key"] for i in info["issues"]] == ["PROJ-2", "PROJ-3"]
    assert info["issues"][0]["in_fix_version"] is None  # no Jira: no disagreement
    repo.git("tag", "1.1.0", c3)
    info = board(run, repo, "--release", "1.1.0")  # released: 1.0.0..1.1.0
    assert [i["key"] for i in info["issues"]] == ["PROJ-2"]
    assert info["selection"]["range"] == "1.0.0..1.1.0"
    repo.git("branch", "release/1.2.0", c3)  # an open release: its branch, not develop
    info = board(run, repo, "--release", "1.2.0")
    assert [i["key"] for i in info["issues"]] == []


def test_markdown_is_a_table_to_paste(repo: Repo, run: Any) -> None:
    history(repo)
    (repo.path / "b.txt").write_text("x\n")
    repo.git("commit", "-qam", "PROJ-2 fix | pipes")
    result = run(repo, "board", "--format", "md", "PROJ-1", "PROJ-2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "| Key | Summary | Type | Status | PR | qa | staging |"
    assert lines[1] == "|---|---|---|---|---|---|---|"
    assert lines[2] == "| PROJ-1 |  |  |  |  | yes | yes |"
    assert lines[3] == "| PROJ-2 |  |  |  |  | partly 1/3 | no |"
    assert lines[-1] == "2 issues: 1 in qa, 1 in staging"
    same = json.loads(run(repo, "board", "--format", "json", "PROJ-1").out)
    assert same == board(run, repo, "PROJ-1")


def test_without_a_chain_it_is_a_config_error_with_a_hint(repo: Repo, run: Any) -> None:
    result = run(repo, "board", "PROJ-1")
    assert result.code == 3
    assert "[[environments]] is not configured" in result.err
    assert "hint:" in result.err and ".jiraflow.toml" in result.err


def test_one_selection_only(repo: Repo, run: Any) -> None:
    history(repo)
    assert run(repo, "board").code == 2
    assert run(repo, "board", "--since", "develop", "PROJ-1").code == 2
    assert run(repo, "board", "not-a-key").code == 2


# == with Jira and Bitbucket ===================================================================


def fix_version(sites: Sites, version: str, *keys: str) -> None:
    sb = sites.jira
    with sb._lock:  # test setup, as the seed does
        made = sb._state.add_version("PROJ", version)
        for key in keys:
            sb._state.issues[key].fix_versions = [made.id]


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_release_marks_where_commits_and_fix_version_disagree(
    repo: Repo, run: Any, sites: Sites
) -> None:
    _, _, c3, _ = history(repo, DEPLOYED_CHAIN)
    repo.git("push", "-q", "origin", "develop", "qa", "staging", "main")
    fix_version(sites, "1.1.0", "PROJ-2", "PROJ-5")  # PROJ-3 lacks it; PROJ-5 has no commit
    sites.bitbucket.deploy(sites.name, "Production", c3, when=DAY)
    info = board(run, repo, "--release", "1.1.0")
    rows = {i["key"]: i for i in info["issues"]}
    assert list(rows) == ["PROJ-2", "PROJ-3", "PROJ-5"]
    assert rows["PROJ-3"]["disagreement"] == "no fixVersion"
    assert rows["PROJ-5"]["disagreement"] == "no commits"
    assert rows["PROJ-2"]["disagreement"] is None
    seeded = sites.jira.issue("PROJ-2")
    assert rows["PROJ-2"]["summary"] == seeded["summary"] and rows["PROJ-2"]["status"]
    deployed = rows["PROJ-2"]["environments"][2]["deployed"]
    assert deployed["deployed"] == "yes" and deployed["finished"] == DAY.isoformat()
    assert rows["PROJ-3"]["environments"][2]["deployed"]["deployed"] == "no"
    assert info["summary"] == (
        "3 issues: 0 in qa, 0 in staging, 1 deployed to production; 1 without fixVersion,"
        " 1 with the fixVersion but no commits"
    )
    table = run(repo, "board", "--release", "1.1.0")
    assert "yes 2026-12-01" in table.out and "no fixVersion" in table.out
    with sites.jira._lock:
        sites.jira._state.issues["PROJ-2"].summary = "Pay | refund"
    md = run(repo, "board", "--format", "md", "--release", "1.1.0").out.splitlines()
    url = f"{sites.jira.url}/browse/PROJ-2"
    assert md[2].startswith(f"| [PROJ-2]({url}) | Pay \\| refund | ")
    assert md[0].endswith("| production | deployed production | Note |")


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_jql_and_the_pull_request_column(repo: Repo, run: Any, sites: Sites) -> None:
    history(repo)
    assert run(repo, "feature", "start", "PROJ-3").code == 0
    repo.commit("d.txt", "d\n", "PROJ-3 more")
    created = run(repo, "pr", "create")
    assert created.code == 0, created.err
    info = board(run, repo, "--jql", "key in (PROJ-3, PROJ-1)")
    rows = {i["key"]: i for i in info["issues"]}
    assert set(rows) == {"PROJ-1", "PROJ-3"}
    assert rows["PROJ-3"]["pull_request"]["state"] == "OPEN"
    assert rows["PROJ-1"]["pull_request"] is None
    assert rows["PROJ-3"]["environments"][0]["merged"] == "no"


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_jira_down_still_shows_the_git_columns(
    repo: Repo, run: Any, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    monkeypatch.setenv("JIRAFLOW_JIRA_URL", "http://127.0.0.1:9")
    result = run(repo, "board", "PROJ-1", "PROJ-2")
    assert result.code == 0, result.err
    assert "warning: could not ask Jira" in result.err
    assert result.out.splitlines()[-1] == "2 issues: 1 in qa, 1 in staging"


@pytest.mark.parametrize("sites", ["cloud"], indirect=True)
def test_budget_of_a_200_issue_release_with_4_environments(
    repo: Repo, run: Any, sites: Sites
) -> None:
    keys = [sites.jira.add_issue("PROJ", f"issue {n}") for n in range(200)]
    repo.git("checkout", "-q", "develop")
    repo.git("tag", "1.0.0")
    for part in (keys[:100], keys[100:]):
        repo.commit("many.txt", " ".join(part) + "\n", "Work on " + " ".join(part))
    fix_version(sites, "1.1.0", *keys[:150])
    for name in ("qa", "staging", "uat"):
        repo.git("branch", name, "develop")
    chain = "".join(
        f'[[environments]]\nname = "{n}"\nbranch = "{b}"\n' + (f'deployment = "{d}"\n' if d else "")
        for n, b, d in [("qa", "qa", ""), ("staging", "staging", "Staging"),
                        ("uat", "uat", ""), ("production", "main", "Production")]
    )  # fmt: skip
    toml = repo.path / ".jiraflow.toml"
    toml.write_text(toml.read_text() + chain)
    sites.clear_requests()
    info = board(run, repo, "--release", "1.1.0")
    assert len(info["issues"]) == 200
    assert info["summary"].endswith("; 50 without fixVersion")
    searches = sites.jira.count("POST", "search")
    assert 0 < searches <= math.ceil(200 / 100) + 1
    others = [r.path for r in sites.jira.requests if "/search" not in r.path]
    assert others in ([], ["/rest/api/2/serverInfo"])  # the site's kind, once, then cached
    bb = sites.bitbucket
    assert bb.count("GET", "/deployments") == 2  # one per deployment environment
    assert bb.count("GET", "/environments") <= 1  # cached afterwards
    assert bb.count("GET", "/pullrequests") == 1  # the PR column: one list
    assert bb.count() == bb.count("GET", "/deployments") + bb.count("GET", "/environments") + 1


@pytest.mark.parametrize("sites", ["datacenter"], indirect=True)
def test_on_data_center_deployments_are_unknown_and_jira_still_answers(
    repo: Repo, run: Any, sites: Sites
) -> None:
    history(repo, DEPLOYED_CHAIN)
    info = board(run, repo, "--jql", "key = PROJ-1")
    [row] = info["issues"]
    assert row["key"] == "PROJ-1" and row["status"]
    cell = row["environments"][2]["deployed"]
    assert cell["deployed"] == "unknown" and "Data Center" in cell["note"]
    assert [e["merged"] for e in row["environments"]] == ["yes", "yes", "no"]
    assert info["summary"] == "1 issue: 1 in qa, 1 in staging, 0 deployed to production"
