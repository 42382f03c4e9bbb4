"""Work logs: the sandbox's worklog resource (checked against the specs), `jiraflow worklog add`
and `list` over real HTTP on Cloud and Data Center (the request budget, refusals that are
the command's error and never queued), and `feature finish --log` (queued when Jira fails,
logged once however often `sync` replays it)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import Sites
from gitutil import Repo, outbox
from hintutil import resolve
from jiraflow.jira import client as jira_client
from jiraflow.outbox.box import COMMENT_GRACE
from jiraflow.sandbox.jira import JiraSandbox
from jiraflow.sandbox.server import Request, Response
from openapi_check import SpecValidator, load_spec
from test_sandbox_jira import DATACENTER_EXTRA, REFERENCE, SPEC_OMISSIONS, VARIANTS, call

WORKLOG = "/issue/{issueIdOrKey}/worklog"


# == the sandbox ==================================================================================


@pytest.fixture(params=["cloud", "datacenter"])
def sb(request: pytest.FixtureRequest) -> Any:
    with JiraSandbox(request.param) as sandbox:
        yield sandbox


def _comment(prefix: str, text: str) -> Any:
    if prefix.endswith("3"):
        paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
        return {"type": "doc", "version": 1, "content": [paragraph]}
    return text


@pytest.mark.parametrize("variant", VARIANTS)
def test_worklog_answers_match_the_spec(variant: str) -> None:
    flavour, prefix, spec_file = VARIANTS[variant]
    allowed = dict(SPEC_OMISSIONS)
    if flavour == "datacenter":
        allowed.update(DATACENTER_EXTRA)
    validator = SpecValidator(load_spec(REFERENCE / "specs" / spec_file), allowed)
    with JiraSandbox(flavour) as sandbox:
        body = {
            "timeSpent": "1h 30m",
            "started": "2026-12-07T09:30:00.000+0100",
            "comment": _comment(prefix, "pairing"),
        }
        created = call(sandbox, "POST", f"{prefix}/issue/PROJ-1/worklog", body)
        listed = call(sandbox, "GET", f"{prefix}/issue/PROJ-1/worklog")
        bad = call(sandbox, "POST", f"{prefix}/issue/PROJ-1/worklog", {"timeSpent": "soon"})
        missing = call(sandbox, "GET", f"{prefix}/issue/NOPE-1/worklog")
    assert created.status == 201, created.body
    schema = validator.response_schema("POST", prefix + WORKLOG, 201)
    assert validator.validate(created.body, schema) == []
    assert listed.status == 200
    schema = validator.response_schema("GET", prefix + WORKLOG, 200)
    assert validator.validate(listed.body, schema) == []
    assert listed.body["worklogs"] == [created.body]
    for reply, status in ((bad, 400), (missing, 404)):
        assert reply.status == status
        assert validator.validate(reply.body, validator.schema("ErrorCollection")) == []
    assert bad.body["errors"] == {"timeLogged": "Invalid time duration entered."}


def test_the_sandbox_reads_durations_as_jira_and_names_the_author_per_flavour(
    sb: JiraSandbox,
) -> None:
    for given, seconds, shown in (
        ("90m", 5400, "1h 30m"),
        ("1w 2d", 7 * 8 * 3600, "1w 2d"),
        ("1.5h", 5400, "1h 30m"),
        ("45", 2700, "45m"),
    ):
        reply = call(sb, "POST", "issue/PROJ-2/worklog", {"timeSpent": given})
        assert reply.status == 201, reply.body
        assert (reply.body["timeSpentSeconds"], reply.body["timeSpent"]) == (seconds, shown)
    author = reply.body["author"]
    if sb.flavour == "cloud":
        assert author["accountId"] == sb.me["accountId"] and "name" not in author
    else:
        assert (author["name"], author["key"]) == ("alice", sb.me["key"])
    page = call(sb, "GET", "issue/PROJ-2/worklog?startAt=1&maxResults=2").body
    assert (page["startAt"], page["maxResults"], page["total"]) == (1, 2, 4)
    assert [w["timeSpent"] for w in page["worklogs"]] == ["1w 2d", "1h 30m"]


def test_the_sandbox_refuses_what_jira_refuses(cloud_and_dc: tuple[JiraSandbox, ...]) -> None:
    cloud, dc = cloud_and_dc
    plain = call(cloud, "POST", "issue/PROJ-1/worklog", {"timeSpent": "1h", "comment": "x"})
    assert plain.status == 400  # v3 wants ADF
    adf = {"timeSpent": "1h", "comment": _comment("3", "x")}
    assert call(dc, "POST", "issue/PROJ-1/worklog", adf).status == 400  # v2 wants a string
    iso = {"timeSpent": "1h", "started": "2026-12-07T09:30:00+01:00"}
    assert call(cloud, "POST", "issue/PROJ-1/worklog", iso).status == 400  # not Jira's format
    assert call(dc, "POST", "issue/PROJ-1/worklog", {"timeSpent": "0m"}).status == 400
    assert call(dc, "POST", "issue/NOPE-1/worklog", {"timeSpent": "1h"}).status == 404


@pytest.fixture
def cloud_and_dc() -> Any:
    with JiraSandbox("cloud") as cloud, JiraSandbox("datacenter") as dc:
        yield cloud, dc


# == the client ===================================================================================


def worklogs(jira: JiraSandbox, key: str) -> list[dict[str, Any]]:
    """The issue's work logs as Jira lists them (over HTTP: the sandbox keeps them there)."""
    reply = call(jira, "GET", f"issue/{key}/worklog")
    assert reply.status == 200
    return list(reply.body["worklogs"])


def test_the_client_reads_every_page_and_checks_each_member(
    repo: Repo, run: Any, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for minutes in (10, 20, 30, 40, 50):
        assert run(repo, "worklog", "add", f"{minutes}m", "PROJ-1").code == 0
    monkeypatch.setattr(jira_client, "WORKLOG_PAGE", 2)
    jira.clear_requests()
    result = run(repo, "--json", "worklog", "list", "PROJ-1")
    assert result.code == 0, result.err
    assert json.loads(result.out)["total"] == "2h 30m"
    assert jira.count("GET", "/worklog") == 3  # 2 + 2 + 1
    jira.fault("body", path="/worklog", status=200, body={"total": 1, "worklogs": [{"id": "1"}]})
    result = run(repo, "worklog", "list", "PROJ-1")
    assert result.code == 6
    assert "no timeSpentSeconds in a work log" in result.err


def test_the_client_does_not_trust_the_pages_it_is_given(
    repo: Repo, run: Any, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for minutes in (10, 20, 30, 40, 50):
        assert run(repo, "worklog", "add", f"{minutes}m", "PROJ-1").code == 0
    monkeypatch.setattr(jira_client, "WORKLOG_PAGE", 2)
    logs = worklogs(jira, "PROJ-1")
    # a server that ignores startAt: the first page again and again, never the rest
    first = {"startAt": 0, "maxResults": 2, "total": 5, "worklogs": logs[:2]}
    jira.fault("body", path="/worklog", method="GET", status=200, body=first, times=None)
    jira.clear_requests()
    result = run(repo, "worklog", "list", "PROJ-1")
    assert result.code == 6
    assert "a page with startAt 0 when asked for startAt 2" in result.err
    assert jira.count("GET", "/worklog") == 2  # not total/page times
    jira.clear_faults()
    no_start = {"total": 5, "worklogs": logs[:2]}
    jira.fault("body", path="/worklog", method="GET", status=200, body=no_start)
    result = run(repo, "worklog", "list", "PROJ-1")
    assert result.code == 6 and "a page with no startAt when asked for startAt 0" in result.err
    jira.clear_faults()
    # a work log listed on two pages counts once
    pages = [
        {"startAt": 0, "maxResults": 2, "total": 4, "worklogs": logs[:2]},
        {"startAt": 2, "maxResults": 2, "total": 4, "worklogs": [logs[1], logs[2]]},
    ]
    for page in pages:
        jira.fault("body", path="/worklog", method="GET", status=200, body=page)
    doc = json.loads(run(repo, "--json", "worklog", "list", "PROJ-1").out)
    assert sorted(w["seconds"] for w in doc["worklogs"]) == [600, 1200, 1800]
    assert doc["total"] == "1h"
    jira.clear_faults()
    # at most WORKLOG_PAGES pages, and it says so
    monkeypatch.setattr(jira_client, "WORKLOG_PAGES", 2)
    jira.clear_requests()
    result = run(repo, "worklog", "list", "PROJ-1")
    assert result.code == 6
    assert "lists more than 4 work logs on PROJ-1: jiraflow reads at most 2 pages of 2" in (
        result.err
    )
    assert "/browse/PROJ-1" in result.err and jira.count("GET", "/worklog") == 2


# == jiraflow worklog add / list ==================================================================


def test_add_then_list_newest_first_with_the_total(repo: Repo, run: Any, jira: JiraSandbox) -> None:
    # the older work is logged first: Jira lists them as logged, the list must sort them
    result = run(repo, "worklog", "add", "45m", "PROJ-1", "--started", "yesterday 09:15")
    assert result.code == 0, result.err
    result = run(repo, "worklog", "add", "1h", "30m", "PROJ-1", "-m", "pairing on the form")
    assert result.code == 0, result.err
    assert "logged 1h 30m on PROJ-1" in result.out
    [first, second] = worklogs(jira, "PROJ-1")
    assert (first["timeSpentSeconds"], second["timeSpentSeconds"]) == (2700, 5400)
    comment = second["comment"]
    text = comment if jira.flavour == "datacenter" else comment["content"][0]["content"][0]["text"]
    assert text == "pairing on the form"
    yesterday = dt.datetime.now().astimezone().date() - dt.timedelta(days=1)
    started = dt.datetime.strptime(first["started"], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone()
    assert (started.date(), started.hour, started.minute) == (yesterday, 9, 15)

    listed = run(repo, "worklog", "list", "PROJ-1")
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0] == "Your work logs on PROJ-1:"
    assert "1h 30m" in lines[1] and "pairing on the form" in lines[1]  # newest first
    assert "45m" in lines[2] and f"{yesterday:%Y-%m-%d} 09:15" in lines[2]
    assert lines[-1] == "Total: 2h 15m"
    doc = json.loads(run(repo, "--json", "worklog", "list", "PROJ-1").out)
    assert doc["total_seconds"] == 8100
    assert [w["seconds"] for w in doc["worklogs"]] == [5400, 2700]


def test_list_shows_only_yours(repo: Repo, run: Any, jira: JiraSandbox) -> None:
    bob = call(jira, "POST", "issue/PROJ-1/worklog", {"timeSpent": "3h"}, auth="bob")
    assert bob.status == 201
    assert run(repo, "worklog", "add", "20m", "PROJ-1").code == 0
    doc = json.loads(run(repo, "--json", "worklog", "list", "PROJ-1").out)
    assert [w["time_spent"] for w in doc["worklogs"]] == ["20m"]
    assert doc["total"] == "20m"


def test_add_is_one_request_with_the_key_or_the_branch_issue(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    assert run(repo, "worklog", "add", "5m", "PROJ-1").code == 0  # the site's kind, once
    jira.clear_requests()
    assert run(repo, "worklog", "add", "1h", "PROJ-1").code == 0
    assert [(r.method, r.path.rsplit("/", 2)[-2:]) for r in jira.requests] == [
        ("POST", ["PROJ-1", "worklog"])
    ]
    assert run(repo, "feature", "start", "PROJ-2").code == 0
    jira.clear_requests()
    result = run(repo, "worklog", "add", "2h")  # the current branch's issue
    assert result.code == 0, result.err
    assert "on PROJ-2" in result.out
    assert [(r.method, r.path.rsplit("/", 2)[-2:]) for r in jira.requests] == [
        ("POST", ["PROJ-2", "worklog"])
    ]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("1x", "PROJ-1"), "'1x' is not a duration"),
        (("30s", "PROJ-1"), "'30s' is not a duration"),
        (("1h", "1h", "PROJ-1"), "'h' is given twice"),
        (("PROJ-1",), "'PROJ-1' is not a duration"),
        (("1h", "PROJ-1", "PROJ-2"), "expected DURATION [KEY]"),
    ],
)
def test_a_bad_duration_is_a_usage_error_before_any_request(
    repo: Repo, run: Any, jira: JiraSandbox, args: tuple[str, ...], said: str
) -> None:
    jira.clear_requests()
    result = run(repo, "worklog", "add", *args)
    assert result.code == 2
    assert said in result.err and "hint: e.g. `jiraflow worklog add 1h 30m PROJ-12`" in result.err
    assert jira.requests == []


def test_bad_started_and_no_issue_are_usage_errors(repo: Repo, run: Any, jira: JiraSandbox) -> None:
    result = run(repo, "worklog", "add", "1h", "PROJ-1", "--started", "last tuesday")
    assert result.code == 2 and "--started 'last tuesday'" in result.err
    result = run(repo, "worklog", "add", "1h")  # on develop: no issue
    assert result.code == 2 and "names no Jira issue" in result.err
    assert worklogs(jira, "PROJ-1") == []


def test_a_refusal_is_exit_6_with_jiras_reason_and_nothing_is_queued(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    refusal = {"errorMessages": [], "errors": {"timeLogged": "Work logging is disabled."}}
    jira.fault("body", path="/worklog", status=400, body=refusal)
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 6
    assert "timeLogged: Work logging is disabled." in result.err
    jira.fault("drop", path="/worklog")
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 6 and "cannot be reached" in result.err
    assert outbox(repo) == []
    assert worklogs(jira, "PROJ-1") == []


MAYBE = "after the work log of 1h on PROJ-1 was sent: Jira may have logged it"
SEE = "hint: See whether it did with `jiraflow worklog list PROJ-1` before logging it again."


def test_a_malformed_answer_is_exit_6_and_may_have_logged_it(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    jira.fault("body", path="/worklog", status=201, body={"id": "10000"})
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 6
    assert "no timeSpentSeconds in the new work log" in result.err
    assert MAYBE in result.err and SEE in result.err
    jira.fault("status", path="/worklog", status=302, location="https://elsewhere.example")
    result = run(repo, "worklog", "add", "1h", "PROJ-1")  # a redirect: nothing was logged
    assert result.code == 6 and "with a redirect to" in result.err
    assert "may have logged" not in result.err


def test_no_answer_after_the_post_may_have_logged_it_and_list_shows_whether(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    (repo.path / ".jiraflow.toml").write_text("[jira]\ntimeout = 1\n")
    assert run(repo, "worklog", "list", "PROJ-1").code == 0  # the site's kind, cached
    jira.fault("latency", path="/worklog", method="POST", delay=2)  # Jira logs it, late
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 6
    assert "cannot be reached (no answer in time), " + MAYBE in result.err
    assert SEE in result.err
    deadline = time.monotonic() + 30
    while not worklogs(jira, "PROJ-1"):
        assert time.monotonic() < deadline, "the sandbox never logged the held work log"
        time.sleep(0.05)
    listed = run(repo, "worklog", "list", "PROJ-1")  # what the hint says: it did
    assert listed.code == 0 and "Total: 1h" in listed.out
    jira.fault("drop", path="/worklog")  # the connection closed before an answer
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 6 and MAYBE in result.err


def test_a_refused_connection_logged_nothing_and_says_try_again(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    assert run(repo, "worklog", "list", "PROJ-1").code == 0  # the site's kind, cached
    jira.stop()  # nothing listens on its port any more
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 6
    assert "cannot be reached (connection failed)" in result.err
    assert "may have logged" not in result.err and "try again" in result.err


def test_dry_run_prints_the_request_and_sends_nothing(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    jira.clear_requests()
    result = run(repo, "--dry-run", "worklog", "add", "1h", "PROJ-1", "--started", "09:30")
    assert result.code == 0, result.err
    assert "jira: POST issue/PROJ-1/worklog: 1h started " in result.out
    assert jira.count(method="POST") == 0


def test_without_jira_it_says_how_to_configure_it(repo: Repo, run: Any) -> None:
    result = run(repo, "worklog", "add", "1h", "PROJ-1")
    assert result.code == 3
    assert "jiraflow config set jira.url" in result.err


# == feature finish --log =========================================================================


def started_feature(run: Any, repo: Repo) -> None:
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.py", "form = True\n", "PROJ-1 add the form")


def test_finish_logs_the_time_with_one_more_request(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    started_feature(run, repo)
    dry = run(repo, "--dry-run", "feature", "finish", "--log", "2h")
    assert "jira: log 2h on PROJ-1" in dry.out
    jira.clear_requests()
    result = run(repo, "feature", "finish", "--log", "2h")
    assert result.code == 0, result.err
    assert "logged 2h on PROJ-1" in result.out
    sent = sorted((r.method, r.path.rsplit("/", 1)[-1]) for r in jira.requests)
    # a finish's two (the issue, read ahead; the move), and the log
    assert sent == [("GET", "PROJ-1"), ("POST", "transitions"), ("POST", "worklog")]
    assert [w["timeSpentSeconds"] for w in worklogs(jira, "PROJ-1")] == [7200]
    assert jira.issue("PROJ-1")["status"] == "Done"


def test_finish_with_a_bad_duration_changes_nothing(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    started_feature(run, repo)
    before = repo.refs()
    result = run(repo, "feature", "finish", "--log", "2x")
    assert result.code == 2 and "'2x' is not a duration" in result.err
    result = run(repo, "finish", "--log", "2 hours")
    assert result.code == 2 and "is not a duration" in result.err
    assert repo.refs() == before and repo.branch() == "feature/PROJ-1-add-login-form"


def test_finish_with_jira_down_queues_the_log_and_sync_logs_it_once(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    started_feature(run, repo)
    jira.fault("status", status=500, method="POST", path="/worklog", times=None)
    result = run(repo, "finish", "--log", "1h 30m")  # the generic finish too
    assert result.code == 7, result.err
    assert repo.branch() == "develop"
    queued = outbox(repo)
    assert [a["do"] for a in queued] == ["worklog", "move"]  # the move waits behind it
    replay = [queued[0]]  # as a sync killed right after Jira saved the work log would leave it
    assert replay[0]["tried"] is True

    jira.clear_faults()
    result = run(repo, "sync")  # a 5xx may have been saved: too early to send it again
    assert result.code == 6 and "could log the time twice" in result.err
    assert worklogs(jira, "PROJ-1") == []
    turn_back_the_clock(repo)
    result = run(repo, "sync")
    assert result.code == 0, result.err
    assert outbox(repo) == []
    assert jira.issue("PROJ-1")["status"] == "Done"
    assert [w["timeSpentSeconds"] for w in worklogs(jira, "PROJ-1")] == [5400]

    Path(repo.path / ".git" / "jiraflow" / "outbox.json").write_text(json.dumps(replay))
    result = run(repo, "sync")
    assert result.code == 0, result.err
    assert outbox(repo) == []
    assert [w["timeSpentSeconds"] for w in worklogs(jira, "PROJ-1")] == [5400]  # not twice


def turn_back_the_clock(repo: Repo) -> None:
    """The queued actions' "sent" moved back past the grace period (as if time had passed)."""
    queued = outbox(repo)
    for action in queued:
        if "sent" in action:
            action["sent"] -= max(COMMENT_GRACE, 4 * 15) + 1
    (repo.path / ".git" / "jiraflow" / "outbox.json").write_text(json.dumps(queued))


def test_a_work_log_whose_post_timed_out_is_not_sent_again_within_the_grace(
    repo: Repo, run: Any, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jira saves the first POST only when the test lets it, long after jiraflow gave up: a
    sync before then finds no work log, and must not send a second one."""
    (repo.path / ".jiraflow.toml").write_text("[jira]\ntimeout = 1\n")
    started_feature(run, repo)
    arrived, release, handle = [], threading.Event(), jira.handle

    def held(request: Request) -> Response:
        if request.method == "POST" and request.path.endswith("/worklog"):
            arrived.append(request.path)
            if len(arrived) == 1:
                release.wait(60)
        return handle(request)

    monkeypatch.setattr(jira, "handle", held)
    result = run(repo, "feature", "finish", "--log", "45m")
    assert result.code == 7, result.err
    assert repo.branch() == "develop" and len(arrived) == 1
    result = run(repo, "sync")
    assert result.code == 6, result.err
    assert "the work log sent at" in result.err and "could log the time twice" in result.err
    assert "hint: Run `jiraflow sync` after" in result.err
    assert len(arrived) == 1  # not sent again
    release.set()
    deadline = time.monotonic() + 60  # the sandbox records a request once it has answered it
    while jira.count(method="POST", path_contains="/worklog") < len(arrived):
        assert time.monotonic() < deadline, "the sandbox never answered the held work log"
        time.sleep(0.05)
    turn_back_the_clock(repo)
    result = run(repo, "sync")  # after the grace: it is found, and not sent again
    assert result.code == 0, result.err
    assert len(arrived) == 1 and outbox(repo) == []
    assert [w["timeSpentSeconds"] for w in worklogs(jira, "PROJ-1")] == [2700]
    assert jira.issue("PROJ-1")["status"] == "Done"


def test_a_refused_work_log_is_not_held_for_the_grace(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    started_feature(run, repo)
    refusal = {"errorMessages": ["Work logging is disabled."], "errors": {}}
    jira.fault("body", path="/worklog", method="POST", status=400, body=refusal)
    result = run(repo, "feature", "finish", "--log", "1h")
    assert result.code == 7 and "Work logging is disabled." in result.err
    assert "sent" not in outbox(repo)[0]  # nothing saved: a sync may send it at once
    jira.clear_faults()
    result = run(repo, "sync")
    assert result.code == 0, result.err
    assert [w["timeSpentSeconds"] for w in worklogs(jira, "PROJ-1")] == [3600]


def test_the_log_survives_a_conflict_and_continue_logs_it_once(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    repo.commit("shared.txt", "base\n", "add shared")
    started_feature(run, repo)
    repo.commit("shared.txt", "feature\n", "PROJ-1 change shared")
    repo.git("checkout", "-q", "develop")
    repo.commit("shared.txt", "develop\n", "develop edit")
    repo.git("checkout", "-q", "feature/PROJ-1-add-login-form")
    result = run(repo, "feature", "finish", "--log", "3h")
    assert result.code == 5 and "--continue" in result.err
    assert worklogs(jira, "PROJ-1") == []  # Jira waits for the git part
    result = run(repo, "feature", "finish", "--continue", "--log", "3h")
    assert result.code == 2 and "--log cannot be used with --continue" in result.err
    resolve(repo)
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 0, result.err
    assert "logged 3h on PROJ-1" in result.out
    assert [w["timeSpentSeconds"] for w in worklogs(jira, "PROJ-1")] == [10800]
    assert jira.issue("PROJ-1")["status"] == "Done" and outbox(repo) == []


def test_abort_after_a_conflict_sends_nothing_to_jira(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    repo.commit("shared.txt", "base\n", "add shared")
    started_feature(run, repo)
    repo.commit("shared.txt", "feature\n", "PROJ-1 change shared")
    repo.git("checkout", "-q", "develop")
    repo.commit("shared.txt", "develop\n", "develop edit")
    repo.git("checkout", "-q", "feature/PROJ-1-add-login-form")
    assert run(repo, "feature", "finish", "--log", "3h").code == 5
    jira.clear_requests()
    result = run(repo, "feature", "finish", "--abort")
    assert result.code == 0, result.err
    assert jira.count(method="POST") == 0 and outbox(repo) == []
    assert worklogs(jira, "PROJ-1") == []


# == finish --log into a protected base: the pull request's way =================================


def test_a_finish_through_a_pull_request_logs_the_time_with_it(
    repo: Repo, run: Any, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    """develop is protected: the finish pushes the branch and opens its pull request, and the
    work is done, so the time is logged now; `pr merge` completing the finish logs nothing."""
    sites.bitbucket.protect(sites.name, ["develop"])
    monkeypatch.setenv("JIRAFLOW_GITFLOW_PROTECTED", "develop")
    started_feature(run, repo)
    develop = repo.git("rev-parse", "develop")
    before = repo.snapshot()
    dry = run(repo, "--dry-run", "feature", "finish", "--log", "2h")
    assert dry.code == 0, dry.err
    assert "'develop' is protected" in dry.out and "jira: log 2h on PROJ-1" in dry.out
    assert repo.snapshot() == before and sites.prs() == []
    assert worklogs(sites.jira, "PROJ-1") == []

    opened = run(repo, "feature", "finish", "--log", "2h")
    assert opened.code == 0, opened.err
    assert "logged 2h on PROJ-1" in opened.out and "jiraflow pr merge" in opened.out
    assert len(sites.prs()) == 1 and repo.git("rev-parse", "develop") == develop
    assert [w["timeSpentSeconds"] for w in worklogs(sites.jira, "PROJ-1")] == [7200]
    merged = run(repo, "pr", "merge")
    assert merged.code == 0, merged.err
    assert sites.jira.issue("PROJ-1")["status"] == "Done"
    assert [w["timeSpentSeconds"] for w in worklogs(sites.jira, "PROJ-1")] == [7200]


def test_a_protected_finish_whose_log_cannot_be_made_stops_before_the_push(
    repo: Repo, run: Any, sites: Sites, monkeypatch: pytest.MonkeyPatch
) -> None:
    sites.bitbucket.protect(sites.name, ["develop"])
    monkeypatch.setenv("JIRAFLOW_GITFLOW_PROTECTED", "develop")
    assert run(repo, "feature", "start", "--no-jira", "login").code == 0
    repo.commit()
    result = run(repo, "feature", "finish", "--log", "1h")
    assert result.code == 2 and "names no Jira issue" in result.err
    assert sites.prs() == [] and repo.git("ls-remote", "--heads", "origin", "feature/login") == ""


NOW = dt.datetime(2026, 12, 7, 10, 0).astimezone()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("09:30", dt.datetime(2026, 12, 7, 9, 30)),
        ("yesterday 16:00", dt.datetime(2026, 12, 6, 16, 0)),
        ("today 8:05", dt.datetime(2026, 12, 7, 8, 5)),
        ("2026-12-05 09:30", dt.datetime(2026, 12, 5, 9, 30)),
        ("2026-12-05T09:30+01:00", dt.datetime.fromisoformat("2026-12-05T09:30+01:00")),
        ("2026-12-05", None),
        ("25:00", None),
        ("today", None),
        ("last tuesday", None),
    ],
)
def test_started_forms(given: str, expected: dt.datetime | None) -> None:
    from jiraflow.errors import UsageError
    from jiraflow.services.worklogs import started_at

    if expected is None:
        with pytest.raises(UsageError):
            started_at(given, NOW)
        return
    got = started_at(given, NOW)
    assert got.tzinfo is not None
    assert got == (expected if expected.tzinfo else expected.astimezone())


def test_log_does_not_apply_to_a_release(repo: Repo, run: Any, jira: JiraSandbox) -> None:
    assert run(repo, "release", "start", "1.0.0").code == 0
    result = run(repo, "finish", "--log", "1h")
    assert result.code == 2 and "--log does not apply to a release finish" in result.err
    assert repo.branch() == "release/1.0.0"


# == the outbox action ============================================================================


def test_the_action_round_trips_and_a_damaged_one_is_refused() -> None:
    from jiraflow import store
    from jiraflow.outbox.actions import LogWork
    from jiraflow.outbox.box import check_actions

    action = LogWork.new(
        "https://acme.example",
        "PROJ-1",
        time="1h 30m",
        seconds=5400,
        started="2026-12-07T09:30:00+01:00",
        comment="",
    )
    stored = json.loads(json.dumps({**action, "tried": True, "queued": "2026-12-07T10:00:00"}))
    (loaded,) = check_actions([stored])
    assert type(loaded) is LogWork and loaded.to_json() == stored
    assert (loaded.describe(), loaded.describe_done()) == (
        "log 1h 30m on PROJ-1",
        "logged 1h 30m on PROJ-1",
    )
    for field, value, said in (
        ("time", "soon", "'soon' is not a duration"),
        ("started", "2026-12-07T09:30:00", "is not a time with its zone"),
        ("started", "tomorrow", "is not a time with its zone"),
        ("seconds", "5400", "is not"),
    ):
        with pytest.raises(store.Damaged, match=said):
            check_actions([{**stored, field: value}])


def test_finish_log_without_jira_or_without_a_key_stops_before_anything(
    repo: Repo, run: Any, monkeypatch: pytest.MonkeyPatch, jira: JiraSandbox
) -> None:
    assert run(repo, "feature", "start", "--no-jira", "login").code == 0
    repo.commit()
    before = repo.refs()
    result = run(repo, "feature", "finish", "--log", "1h")
    assert result.code == 2 and "names no Jira issue" in result.err
    monkeypatch.delenv("JIRAFLOW_JIRA_URL")
    result = run(repo, "feature", "finish", "--log", "1h")
    assert result.code == 3 and "jiraflow config set jira.url" in result.err
    assert repo.refs() == before and repo.branch() == "feature/login"
