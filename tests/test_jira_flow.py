"""Starting and finishing work from Jira issues, end to end: real repositories, the sandbox
Jira (Cloud and Data Center) over real HTTP, the CLI in-process."""

from __future__ import annotations

import json
import threading
import time

import pytest

from conftest import login_of
from gitutil import Repo
from jiraflow.outbox.box import COMMENT_GRACE
from jiraflow.sandbox.jira import JiraSandbox
from jiraflow.sandbox.server import Request, Response

pytestmark = pytest.mark.usefixtures("jira")


def outbox(repo: Repo) -> list[dict]:
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_feature_start_names_the_branch_assigns_and_moves_the_issue(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    assert repo.branch() == "feature/PROJ-1-add-login-form"
    issue = jira.issue("PROJ-1")
    assert issue["status"] == "In Progress"
    assert issue["assignee"] == jira.me["name"]
    assert "PROJ-1 is assigned to you" in result.out and "PROJ-1 is In Progress" in result.out


def test_request_budget_of_start_first_run_and_cached(repo: Repo, run, jira: JiraSandbox) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    first = jira.count()
    assert first <= 5, [r.path for r in jira.requests]
    repo.git("checkout", "-q", "develop")
    jira.clear_requests()
    assert run(repo, "feature", "start", "PROJ-5").code == 0
    assert jira.count() <= 3, [r.path for r in jira.requests]
    assert jira.count(path_contains="serverInfo") == 0
    assert jira.count(path_contains="myself") == 0


def test_finish_moves_the_issue_to_done_within_two_requests(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.py", "form = True\n", "PROJ-1 add the form")
    jira.clear_requests()
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert jira.count() <= 2, [r.path for r in jira.requests]
    issue = jira.issue("PROJ-1")
    assert issue["status"] == "Done"
    assert issue["resolution"] == "Done"  # the required screen field, defaulted
    assert repo.branch() == "develop"
    assert not repo.exists("refs/heads/feature/PROJ-1-add-login-form")


def test_a_bug_starts_a_bugfix_through_jiraflow_start(repo: Repo, run, jira: JiraSandbox) -> None:
    result = run(repo, "start", "PROJ-2")
    assert result.code == 0, result.err
    assert repo.branch() == "bugfix/PROJ-2-crash-when-the-password-has-smart-quotes"
    assert jira.issue("PROJ-2")["status"] == "In Progress"


def test_an_issue_someone_has_is_not_taken_and_long_summaries_are_cut(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    result = run(repo, "feature", "start", "PROJ-3")
    assert result.code == 0, result.err
    name = repo.branch().removeprefix("feature/")
    assert name.startswith("PROJ-3-cafe-menu-naive-facade-uber-long")
    assert len(name) <= 60 and not name.endswith("-")
    issue = jira.issue("PROJ-3")
    assert issue["assignee"] == jira.user("bob")["name"]  # not taken from bob
    assert jira.count(method="PUT") == 0 and jira.count(method="POST") == 0  # already there


def test_assign_always_takes_the_issue_with_assign(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text('[jira]\nassign = "always"\n')
    assert run(repo, "feature", "start", "--assign", "PROJ-3").code == 0  # a script: not without
    assert jira.issue("PROJ-3")["assignee"] == jira.me["name"]


def test_lower_case_key_of_a_configured_project(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text('[jira]\nprojects = ["PROJ"]\n')
    assert run(repo, "feature", "start", "proj-1").code == 0
    assert repo.branch() == "feature/PROJ-1-add-login-form"


def test_key_of_another_project_is_refused(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text('[jira]\nprojects = ["PROJ"]\n')
    result = run(repo, "feature", "start", "OPS-1")
    assert result.code == 2 and "not in a configured Jira project (PROJ)" in result.err
    assert jira.count() == 0


def test_plain_names_work_unless_keys_are_required(repo: Repo, run, jira: JiraSandbox) -> None:
    assert run(repo, "feature", "start", "tidy-up").code == 0
    assert jira.count() == 0
    repo.git("checkout", "-q", "develop")
    (repo.path / ".jiraflow.toml").write_text("[jira]\nrequire_key = true\n")
    result = run(repo, "feature", "start", "more-tidying")
    assert result.code == 2 and "requires one" in result.err
    assert run(repo, "feature", "start", "--no-jira", "more-tidying").code == 0
    assert jira.count() == 0


def test_dry_run_shows_the_jira_steps_and_changes_nothing(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    before = repo.refs()
    result = run(repo, "--dry-run", "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    assert "git checkout --quiet -b feature/PROJ-1-add-login-form develop" in result.out
    assert "jira: assign PROJ-1 to you" in result.out
    assert "jira: move PROJ-1 to In Progress" in result.out
    assert repo.refs() == before
    assert {r.method for r in jira.requests} == {"GET"}
    assert jira.issue("PROJ-1")["status"] == "To Do"


# -- failures before anything changed -----------------------------------------------------------
def test_unknown_issue_creates_nothing(repo: Repo, run, jira: JiraSandbox) -> None:
    before = repo.refs()
    result = run(repo, "feature", "start", "PROJ-999")
    assert result.code == 6
    assert "PROJ-999 was not found" in result.err
    assert repo.refs() == before and repo.branch() == "develop"


def test_refused_token_exits_4_and_never_shows_it(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_TOKEN", "wrong-token-0123456789")
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 4, result.err
    assert "refused the credentials" in result.err and "auth login" in result.err
    assert "wrong-token" not in result.out + result.err
    result = run(repo, "--debug", "feature", "start", "PROJ-1")
    assert result.code == 4
    assert "wrong-token" not in result.out + result.err  # not even in a --debug traceback
    assert repo.branch() == "develop"


def test_unreachable_jira_creates_nothing(repo: Repo, run, jira: JiraSandbox) -> None:
    jira.stop()
    before = repo.refs()
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6
    assert "cannot be reached" in result.err
    assert repo.refs() == before


def test_a_429_is_retried_after_the_time_jira_asks(repo: Repo, run, jira: JiraSandbox) -> None:
    jira.fault("status", status=429, retry_after=1, path="/issue/PROJ-1", method="GET")
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 0, result.err
    assert jira.count(method="GET", path_contains="/issue/PROJ-1") == 2
    assert jira.issue("PROJ-1")["status"] == "In Progress"


def test_a_jira_that_stays_unavailable_is_given_up_on(repo: Repo, run, jira: JiraSandbox) -> None:
    jira.fault("status", status=503, retry_after=0, path="/issue/", times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6
    assert jira.count(path_contains="/issue/PROJ-1") == 3  # a small bounded number of tries
    assert repo.branch() == "develop"


def test_no_transition_to_the_start_status(repo: Repo, run, jira: JiraSandbox) -> None:
    result = run(repo, "feature", "start", "OPS-1")
    assert result.code == 3
    assert "OPS-1 cannot move from 'Open' to 'In Progress'" in result.err
    assert "reachable: " in result.err and "Triage" in result.err
    assert repo.branch() == "develop"


def test_start_status_by_category(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text('[jira.on]\nstart = "category:indeterminate"\n')
    result = run(repo, "feature", "start", "OPS-1")
    assert result.code == 0, result.err
    assert jira.issue("OPS-1")["status"] == "Triage"
    assert "OPS-1 is Triage" in result.out  # the status the category turned out to be


# -- after the git part: the outbox -------------------------------------------------------------
def test_finish_with_jira_down_queues_the_move_and_sync_delivers_it_once(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("drop", times=None)
    result = run(repo, "feature", "finish")
    assert result.code == 7
    assert "merged 'feature/PROJ-1-add-login-form' into 'develop'" in result.out
    assert "jiraflow sync" in result.err
    assert repo.branch() == "develop"
    assert [a["target"] for a in outbox(repo)] == ["Done"]
    status = run(repo, "--json", "status")
    assert json.loads(status.out)["outbox"][0]["action"] == "move PROJ-1 to Done"

    jira.clear_faults()
    jira.clear_requests()
    result = run(repo, "sync")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-1")["status"] == "Done"
    assert outbox(repo) == []
    assert run(repo, "sync").out.strip() == "Nothing to sync."
    assert jira.count(method="POST") == 1


def test_sync_rechecks_the_status_first(repo: Repo, run, jira: JiraSandbox) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("status", status=500, method="POST", times=None)
    assert run(repo, "feature", "finish").code == 7
    jira.clear_faults()
    jira.set_status("PROJ-1", "Done")  # someone closed it in the browser meanwhile
    jira.clear_requests()
    assert run(repo, "sync").code == 0
    assert jira.count(method="POST") == 0
    assert outbox(repo) == []


def test_sync_that_still_fails_keeps_the_queue(repo: Repo, run, jira: JiraSandbox) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("drop", times=None)
    assert run(repo, "feature", "finish").code == 7
    result = run(repo, "sync")
    assert result.code == 6 and "still queued" in result.err
    assert len(outbox(repo)) == 1
    assert run(repo, "sync", "--drop").code == 0
    assert outbox(repo) == []


def test_required_field_without_an_allowed_default(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text('[jira.on]\nstart = "Triage"\nfinish = "Resolved"\n')
    assert run(repo, "feature", "start", "OPS-1").code == 0
    repo.commit()
    result = run(repo, "feature", "finish")
    assert result.code == 7
    assert "needs a value for Resolution" in result.err
    assert "Fixed" in result.err and "Won't Fix" in result.err
    with (repo.path / ".jiraflow.toml").open("a") as fh:
        fh.write('[jira.fields]\nresolution = "Fixed"\n')
    assert run(repo, "sync").code == 0
    issue = jira.issue("OPS-1")
    assert issue["status"] == "Resolved" and issue["resolution"] == "Fixed"


def test_finish_continued_after_a_conflict_still_moves_the_issue(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("shared.txt", "mine\n")
    repo.commit("other.txt", "two commits, so finish makes a merge\n")
    repo.git("checkout", "-q", "develop")
    repo.commit("shared.txt", "theirs\n")
    repo.git("checkout", "-q", "feature/PROJ-1-add-login-form")
    result = run(repo, "feature", "finish")
    assert result.code == 5
    assert jira.issue("PROJ-1")["status"] == "In Progress"
    (repo.path / "shared.txt").write_text("both\n")
    repo.git("add", "shared.txt")
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 0, result.err
    assert jira.issue("PROJ-1")["status"] == "Done"


def test_comment_on_finish(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text("[jira]\ncomment_on_finish = true\n")
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    assert run(repo, "feature", "finish").code == 0
    comments = jira.issue("PROJ-1")["comments"]
    assert len(comments) == 1
    assert "merged 'feature/PROJ-1-add-login-form' into 'develop'" in comments[0]["body"]
    (sent,) = [r for r in jira.requests if r.path.endswith("/comment")]
    body = json.loads(sent.body)["body"]
    if jira.flavour == "cloud":
        assert sent.path.startswith("/rest/api/3/") and body["type"] == "doc"  # ADF on v3
    else:
        assert sent.path.startswith("/rest/api/2/") and isinstance(body, str)  # text on v2


# -- status ---------------------------------------------------------------------------------------
def test_status_shows_branch_issue_and_distance(repo: Repo, run, jira: JiraSandbox) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    data = json.loads(run(repo, "--json", "status").out)
    assert data["branch"] == "feature/PROJ-1-add-login-form"
    assert (data["type"], data["base"], data["ahead"], data["behind"]) == (
        "feature",
        "develop",
        1,
        0,
    )
    assert data["issue"]["status"] == "In Progress"
    assert data["issue"]["assignee"] == jira.me["displayName"]
    assert data["outbox"] == [] and data["operation"] is None
    text = run(repo, "status").out
    assert "PROJ-1: Add login form" in text and "1 ahead, 0 behind" in text


def test_status_offline_uses_the_cached_summary(repo: Repo, run, jira: JiraSandbox) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    jira.stop()
    result = run(repo, "status")
    assert result.code == 0
    assert "PROJ-1: Add login form" in result.out
    assert "cannot be reached" in result.err


# -- sites and tokens ------------------------------------------------------------------------------
def test_a_token_goes_only_to_the_site_it_belongs_to(repo: Repo, run, jira: JiraSandbox) -> None:
    with JiraSandbox(jira.flavour) as other:
        (repo.path / ".jiraflow.toml").write_text(f'[jira]\nurl = "{other.url}"\n')
        # JIRAFLOW_JIRA_URL overrides the file, so the environment's site is used...
        assert run(repo, "feature", "start", "PROJ-1").code == 0
        assert other.count() == 0
        # ...and a file naming another site through [[jira.sites]] gets no token
        repo.git("checkout", "-q", "develop")
        (repo.path / ".jiraflow.toml").write_text(f'[[jira.sites]]\nurl = "{other.url}"\n')
        result = run(repo, "feature", "start", "PROJ-5")
        assert result.code == 4
        assert f"no Jira token for {login_of(jira)} at {other.url}" in result.err
        assert other.count() == 0


def test_a_key_goes_to_the_site_of_its_project(repo: Repo, run, jira: JiraSandbox) -> None:
    with JiraSandbox(jira.flavour) as ops_site:
        (repo.path / ".jiraflow.toml").write_text(
            f'[[jira.sites]]\nurl = "{ops_site.url}"\nprojects = ["OPS"]\n\n'
            f'[[jira.sites]]\nurl = "{jira.url}"\nprojects = ["PROJ"]\n'
        )
        assert run(repo, "feature", "start", "PROJ-1").code == 0
        assert ops_site.count() == 0 and jira.issue("PROJ-1")["status"] == "In Progress"
        repo.git("checkout", "-q", "develop")
        result = run(repo, "feature", "start", "OPS-1")
        assert result.code == 4  # the OPS site, which has no token here; never the other
        assert ops_site.count() == 0 and jira.count(path_contains="OPS-1") == 0


def test_plain_http_is_refused_for_other_hosts(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRAFLOW_JIRA_URL", "http://jira.example.com")
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 3
    assert "plain http" in result.err


def test_without_jira_a_key_is_just_a_name(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("JIRAFLOW_JIRA_URL", "JIRAFLOW_JIRA_USER", "JIRAFLOW_JIRA_TOKEN"):
        monkeypatch.delenv(var)
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    assert repo.branch() == "feature/PROJ-1"
    result = run(repo, "start", "PROJ-2")
    assert result.code == 2 and "needs Jira" in result.err
    assert jira.count() == 0


def test_every_request_has_a_timeout(repo: Repo, run, jira: JiraSandbox) -> None:
    (repo.path / ".jiraflow.toml").write_text("[jira]\ntimeout = 1\n")
    jira.fault("latency", delay=2.5, path="/issue/PROJ-1")
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6
    assert "no answer in time" in result.err
    assert repo.branch() == "develop"


# -- replays never do a thing twice, nor undo what people did meanwhile -------------------------
def test_a_comment_is_posted_once_even_when_the_first_post_timed_out(
    repo: Repo, run, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo.path / ".jiraflow.toml").write_text("[jira]\ncomment_on_finish = true\ntimeout = 1\n")
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    # Jira saves the first comment only when the test lets it: long after jiraflow gave up
    arrived, release, handle = [], threading.Event(), jira.handle

    def held(request: Request) -> Response:
        if request.method == "POST" and request.path.endswith("/comment"):
            arrived.append(request.path)
            if len(arrived) == 1:
                release.wait(60)
        return handle(request)

    monkeypatch.setattr(jira, "handle", held)
    result = run(repo, "feature", "finish")
    assert result.code == 7
    assert jira.issue("PROJ-1")["status"] == "Done"  # the move went first
    # a sync before Jira saved it: not there yet, and not posted again
    result = run(repo, "sync")
    assert result.code == 6 and "posting it again now could post it twice" in result.err
    assert "`jiraflow sync` after" in result.err and len(arrived) == 1
    release.set()
    deadline = time.monotonic() + 60  # the sandbox records a request once it has answered it
    while jira.count(method="POST", path_contains="/comment") < len(arrived):
        assert time.monotonic() < deadline, "the sandbox never answered the held comment"
        time.sleep(0.05)
    assert len(jira.issue("PROJ-1")["comments"]) == 1
    # after the grace period (the outbox's clock is turned back), sync finds it: done
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    queued = outbox(repo)
    queued[0]["sent"] -= max(COMMENT_GRACE, 4) + 1
    path.write_text(json.dumps(queued))
    assert run(repo, "sync").code == 0
    assert len(jira.issue("PROJ-1")["comments"]) == 1 and len(arrived) == 1
    assert outbox(repo) == []


def test_a_comment_that_never_arrived_is_posted_after_the_grace_period(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    (repo.path / ".jiraflow.toml").write_text("[jira]\ncomment_on_finish = true\ntimeout = 1\n")
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit()
    jira.fault("drop", method="POST", path="/comment")  # no answer, and nothing saved
    assert run(repo, "feature", "finish").code == 7
    assert run(repo, "sync").code == 6  # too early to know
    assert jira.issue("PROJ-1")["comments"] == []
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    queued = outbox(repo)
    queued[0]["sent"] -= max(COMMENT_GRACE, 4) + 1
    path.write_text(json.dumps(queued))
    assert run(repo, "sync").code == 0
    assert len(jira.issue("PROJ-1")["comments"]) == 1 and outbox(repo) == []


def test_sync_leaves_an_issue_alone_that_people_moved_meanwhile(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    jira.fault("status", status=500, method="POST", path="/transitions")
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 7 and repo.branch() == "feature/PROJ-1-add-login-form"
    jira.set_status("PROJ-1", "Done")  # closed in the browser before the sync
    jira.clear_requests()
    result = run(repo, "sync")
    assert result.code == 0
    assert "PROJ-1 moved to Done meanwhile; left alone" in result.err
    assert jira.count(method="POST") == 0 and jira.issue("PROJ-1")["status"] == "Done"
    assert outbox(repo) == []


def test_a_plain_name_that_looks_like_a_key_is_not_queued_forever(
    repo: Repo, run, jira: JiraSandbox
) -> None:
    assert run(repo, "feature", "start", "use-SHA-256").code == 0
    repo.commit()
    result = run(repo, "feature", "finish")
    assert result.code == 0, result.err
    assert "SHA-256 was not found" in result.err
    assert outbox(repo) == []


def test_sites_with_and_without_a_project_list(repo: Repo, run, jira: JiraSandbox) -> None:
    with JiraSandbox(jira.flavour) as proj_site:
        (repo.path / ".jiraflow.toml").write_text(
            f'[[jira.sites]]\nurl = "{proj_site.url}"\nprojects = ["PROJ"]\n\n'
            f'[[jira.sites]]\nurl = "{jira.url}"\n'
        )
        result = run(repo, "feature", "start", "--base", "develop", "OPS-1")
        assert result.code == 3, result.err  # asked the site without a list: OPS-1 is there
        assert "OPS-1 cannot move" in result.err and proj_site.count() == 0


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[jira]\ntimeout = 0\n", "'jira.timeout' must be a whole number above 0"),
        ('[branch]\nname = "{summary}"\n', "has no {key}"),
    ],
)
def test_settings_that_cannot_work(repo: Repo, run, jira: JiraSandbox, toml, message) -> None:
    (repo.path / ".jiraflow.toml").write_text(toml)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 3 and message in result.err
    assert repo.branch() == "develop"
