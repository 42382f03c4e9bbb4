"""Day one, TAB: the issue keys TAB offers are the ones I could start (mine and unassigned
ones of the configured projects, not done), and `auth login` fills their cache in the
background, so the first TAB after a login has keys; `start` refreshes a stale cache.
Against the sandbox Jira (Cloud and Data Center) over HTTP, with the real keyring."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import pytest

from completionutil import cache, refreshed, tab, wait_for
from conftest import login_of, point_at
from gitutil import Repo, Result
from jiraflow.gitflow.context import FlowContext
from jiraflow.jira import issue_cache
from jiraflow.sandbox import jql
from jiraflow.sandbox.jira import JiraSandbox

Run = Callable[..., Result]
MP = pytest.MonkeyPatch


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[JiraSandbox]:
    with JiraSandbox(request.param) as sb:
        yield sb


def _login(run: Run, repo: Repo, sandbox: JiraSandbox, monkeypatch: MP) -> Result:
    monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.token() + "\n"))
    args = ("auth", "login", "jira", "--user", login_of(sandbox), "--token-stdin")
    return run(repo, *args)


def _keys() -> list[str]:
    return [key for entry in cache().read().values() for key, _ in entry["issues"]]


def test_login_fills_the_cache_with_the_issues_i_could_start(
    repo: Repo, sandbox: JiraSandbox, keyring_env: dict[str, str], run: Run, monkeypatch: MP
) -> None:
    (repo.path / ".jiraflow.toml").write_text(
        f'[jira]\nurl = "{sandbox.url}"\nprojects = ["PROJ"]\n'
    )
    result = _login(run, repo, sandbox, monkeypatch)
    assert result.code == 0, result.err
    wait_for(refreshed)  # no TAB has run: the login started the refresher
    keys = _keys()
    assert "PROJ-1" in keys and "PROJ-10" in keys  # unassigned, in a configured project
    assert "PROJ-5" in keys and "PROJ-11" in keys  # mine
    assert "PROJ-4" not in keys  # done (and mine)
    assert "PROJ-9" not in keys  # done (bob's)
    assert "PROJ-3" not in keys and "PROJ-7" not in keys  # bob's and carol's
    assert "OPS-1" not in keys  # unassigned, but not a configured project
    asked = sandbox.count(path_contains="search")
    assert asked == 1  # one search
    # the first TAB answers from it, and asks Jira nothing
    offered = [key for key, _ in tab(repo, "feature", "start", "PROJ-1")]
    assert offered == ["PROJ-11", "PROJ-10", "PROJ-1"]
    assert sandbox.count(path_contains="search") == asked


def test_without_projects_every_project_counts(
    repo: Repo, sandbox: JiraSandbox, keyring_env: dict[str, str], run: Run, monkeypatch: MP
) -> None:
    (repo.path / ".jiraflow.toml").write_text(f'[jira]\nurl = "{sandbox.url}"\n')
    assert _login(run, repo, sandbox, monkeypatch).code == 0
    wait_for(refreshed)
    keys = _keys()
    assert "OPS-1" in keys and "PROJ-1" in keys and "PROJ-5" in keys
    assert "OPS-2" not in keys and "PROJ-4" not in keys


def test_login_to_another_site_leaves_the_cache_alone(
    repo: Repo, sandbox: JiraSandbox, keyring_env: dict[str, str], run: Run, monkeypatch: MP
) -> None:
    """A login to a site this repository does not use starts no refresher (which would
    ask the configured site, with whatever credentials it has)."""
    (repo.path / ".jiraflow.toml").write_text('[jira]\nurl = "https://jira.example.com"\n')
    monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.token() + "\n"))
    args = ("auth", "login", "--url", sandbox.url, "--user", login_of(sandbox), "--token-stdin")
    assert run(repo, *args).code == 0
    time.sleep(0.3)
    assert not cache().read() and not cache().refreshing()


def test_start_refreshes_a_stale_cache(
    repo: Repo, sandbox: JiraSandbox, run: Run, monkeypatch: MP
) -> None:
    point_at(monkeypatch, sandbox)
    (site,) = issue_cache.sites_of(FlowContext.open(str(repo.path), user_path=None).config)
    old = issue_cache.IssueCache(
        issue_cache.default_path(), clock=lambda: time.time() - issue_cache.TTL - 5
    )
    old.store([(site, [("PROJ-99", "Gone")], "")])
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    wait_for(lambda: refreshed() and "PROJ-99" not in _keys())
    assert "PROJ-1" in _keys() and "PROJ-5" in _keys()


@pytest.mark.parametrize(
    ("projects", "values"),
    [([], None), (["PROJ", "OPS"], ["PROJ", "OPS"]), (['A"B', "C\\D"], ['a"b', "c\\d"])],
)
def test_the_query_parses_as_jira_would(projects: list[str], values: list[str] | None) -> None:
    query = jql.parse(issue_cache.jql(projects))
    clauses = {c.field: c for c in query.clauses()}
    assert clauses["assignee"].operator in ("=", "is")
    project = clauses.get("project")
    if values is None:
        assert project is None
    else:
        assert project is not None and project.operator == "in"
        assert [v.text.lower() for v in project.values] == [v.lower() for v in values]
    assert [k.field for k in query.order_by] == ["updated"]
