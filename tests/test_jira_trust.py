"""Jira answers that are not to be trusted (issue 16): a redirect to another server, an
answer that does not come, and a Data Center site that takes its own documented request
shapes, not Cloud's. Real repositories, the sandbox Jira over real HTTP, the CLI in-process;
a second server on 127.0.0.1 records whatever reaches it."""

from __future__ import annotations

import errno
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from gitutil import Repo, outbox
from httputil import LocalServer as Elsewhere
from httputil import local_server
from jiraflow.sandbox.jira import JiraSandbox

pytestmark = pytest.mark.usefixtures("jira")
TIMEOUT = "1"  # jira.timeout for the latency tests (seconds)
LATE = 2.5  # how long the sandbox takes to answer them


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    """Another server: records every request that reaches it and says yes to it (a 204,
    the answer that made an update that never happened look done)."""
    with local_server() as server:
        yield server


def started(repo: Repo, run: Any) -> None:
    """PROJ-1 started with Jira answering normally, and a commit on its branch."""
    assert run(repo, "feature", "start", "PROJ-1").code == 0
    repo.commit("login.py", "form = True\n", "PROJ-1 add the form")


# == redirects ==================================================================================


@pytest.mark.parametrize("status", [307, 302])
def test_a_redirect_stops_start_before_anything_changed(
    repo: Repo, run: Any, jira: JiraSandbox, elsewhere: Elsewhere, status: int
) -> None:
    target = f"{elsewhere.url}/rest/api/2/somewhere"
    jira.fault("status", status=status, location=target, times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6, result.err
    assert f"with a redirect to {target}" in result.err
    assert "Traceback" not in result.err
    assert repo.branch() == "develop"
    assert not repo.exists("refs/heads/feature/PROJ-1-add-login-form")
    assert elsewhere.received == []
    assert jira.issue("PROJ-1")["status"] == "To Do"


@pytest.mark.parametrize("which", ["the move", "every request"])
def test_a_redirected_move_is_queued_and_sync_delivers_it_later(
    repo: Repo, run: Any, jira: JiraSandbox, elsewhere: Elsewhere, which: str
) -> None:
    started(repo, run)
    target = f"{elsewhere.url}/rest/api/2/issue/PROJ-1/transitions"
    only_move = {"method": "POST", "path": "/transitions"} if which == "the move" else {}
    jira.fault("status", status=307, location=target, times=None, **only_move)
    result = run(repo, "feature", "finish")
    assert result.code == 7, result.err
    assert f"with a redirect to {target}" in result.err
    assert "PROJ-1 is Done" not in result.out
    assert [a["do"] for a in outbox(repo)] == ["move"]
    assert repo.branch() == "develop"  # the git part is done
    assert jira.issue("PROJ-1")["status"] == "In Progress"
    assert elsewhere.received == []  # neither the body nor the token went there

    jira.clear_faults()
    synced = run(repo, "sync")
    assert synced.code == 0, synced.err
    assert jira.issue("PROJ-1")["status"] == "Done"
    assert outbox(repo) == []
    assert elsewhere.received == []


# == timeouts ===================================================================================


def _answered(jira: JiraSandbox) -> list[tuple[str, str]]:
    """Every request the sandbox received: the late ones are recorded once their answer
    is ready, which stopping the sandbox hurries (it wakes the sleeping handlers)."""
    jira.stop()
    return [(r.method, r.path.split("/rest/api/")[-1]) for r in jira.requests]


def test_start_asks_once_when_jira_does_not_answer(
    repo: Repo, run: Any, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's kind is asked by two threads (who am I, and the issue): one request,
    whose timeout the other thread does not wait for again."""
    monkeypatch.setenv("JIRAFLOW_JIRA_TIMEOUT", TIMEOUT)
    jira.fault("latency", delay=LATE, times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6, result.err
    assert "no answer in time" in result.err
    assert _answered(jira) == [("GET", "2/serverInfo")]
    assert not repo.exists("refs/heads/feature/PROJ-1-add-login-form")


def test_a_read_that_timed_out_is_not_sent_again(
    repo: Repo, run: Any, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the kind known, start reads the issue and who you are at once; who you are
    does not come in time, and start does not ask again (it would wait as long again)."""
    monkeypatch.setenv("JIRAFLOW_JIRA_TIMEOUT", TIMEOUT)
    monkeypatch.setenv("JIRAFLOW_JIRA_KIND", jira.flavour)
    jira.fault("latency", path="/myself", delay=LATE, times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert result.code == 6, result.err
    assert [r for r in _answered(jira) if r[1].endswith("myself")] == [
        ("GET", ("3" if jira.flavour == "cloud" else "2") + "/myself")
    ]


def test_finish_waits_for_jira_once_and_queues_the_move(
    repo: Repo, run: Any, jira: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(repo, run)
    monkeypatch.setenv("JIRAFLOW_JIRA_TIMEOUT", TIMEOUT)
    jira.clear_requests()
    jira.fault("latency", delay=LATE, times=None)
    result = run(repo, "feature", "finish")
    assert result.code == 7, result.err
    assert "no answer in time" in result.err
    assert [a["do"] for a in outbox(repo)] == ["move"]
    answered = _answered(jira)
    assert len(answered) == 1 and answered[0][0] == "GET", answered  # the issue, once


# == Data Center's own request shapes =============================================================


@pytest.mark.parametrize("jira", ["datacenter"], indirect=True)
def test_datacenter_search_sends_a_boolean_validate_query(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    """Data Center's /rest/api/2/search takes validateQuery as a boolean; Cloud's enum
    ("warn") is refused there with 400, which made every search of a real site fail."""
    repo.commit("a.py", "a = 1\n", "PROJ-1 a real issue")
    repo.commit("b.py", "b = 1\n", "PROJ-999 no such issue")
    result = run(repo, "check", "range", "develop~2..develop")
    assert result.code == 1, result.err
    assert "PROJ-999 is not an issue in Jira" in result.out
    searches = [r for r in jira.requests if r.path.endswith("/search")]
    assert searches
    for request in searches:
        body = json.loads(request.body)
        assert body["validateQuery"] is False
        assert set(body) <= {"jql", "startAt", "maxResults", "fields", "expand", "validateQuery"}


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_search_jira_refuses_does_not_pass_the_check(
    repo: Repo, run: Any, jira: JiraSandbox, status: int
) -> None:
    """Jira refusing the search is not "Jira could not be asked": the keys were not
    checked, so the check does not pass (exit 6), whatever the hook or CI does next. Jira
    that cannot be asked (here: a 5xx) stays a warning, as documented."""
    repo.commit("b.py", "b = 1\n", "PROJ-999 no such issue")
    jira.fault("status", method="POST", path="/search", status=status, times=None)
    result = run(repo, "check", "range", "develop~1..develop")
    assert result.code == 6, (result.out, result.err)
    assert "the keys could not be checked" in result.err
    assert "no problems" not in result.out

    jira.clear_faults()
    jira.fault("status", method="POST", path="/search", status=500, times=None)
    down = run(repo, "check", "range", "develop~1..develop")
    assert down.code == 0, down.err
    assert "Jira could not be asked" in down.err


@pytest.mark.parametrize("jira", ["datacenter"], indirect=True)
def test_the_datacenter_sandbox_refuses_cloud_shapes(jira: JiraSandbox) -> None:
    """What real Data Center refuses, its sandbox refuses: Cloud's validateQuery enum,
    Cloud's nextPageToken paging, a string where Jackson wants a list, and accountId in an
    assignment (Data Center's UserBean has no such field)."""
    import requests

    auth = {"Authorization": f"Bearer {jira.token()}"}
    api = f"{jira.url}/rest/api/2"

    def post(path: str, body: dict[str, Any]) -> int:
        return requests.post(f"{api}/{path}", json=body, headers=auth, timeout=5).status_code

    assert post("search", {"jql": "key = PROJ-1", "validateQuery": False}) == 200
    assert post("search", {"jql": "key = PROJ-1", "validateQuery": "warn"}) == 400
    assert post("search", {"jql": "key = PROJ-1", "nextPageToken": "x"}) == 400
    assert post("search", {"jql": "key = PROJ-1", "expand": "transitions.fields"}) == 400
    assert post("search", {"jql": "key = PROJ-1", "expand": ["transitions.fields"]}) == 200
    put = requests.put(
        f"{api}/issue/PROJ-1/assignee",
        json={"accountId": jira.user("alice")["accountId"]},
        headers=auth,
        timeout=5,
    )
    assert put.status_code == 400


# == a refused search inside the pre-push hook ====================================================


def _git(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """git as a user runs it: hooks and all (the sandbox's JIRAFLOW_JIRA_* are inherited)."""
    return subprocess.run(
        ["git", *args], cwd=repo.path, capture_output=True, text=True, check=False
    )


def _hint(err: str) -> str:
    return next(line for line in err.splitlines() if line.startswith("hint:"))


@pytest.mark.parametrize("answer", ["403", "redirect"])
def test_a_refused_search_in_the_pre_push_hook_names_a_way_through(
    repo: Repo, run: Any, jira: JiraSandbox, elsewhere: Elsewhere, answer: str
) -> None:
    """An SSO proxy answering 403 or a redirect once a token expired blocks the push (the
    keys were not checked), and the hint names what works inside a hook: no option can be
    added to the check there, so `git push --no-verify` once, or check.jira = false; each
    lets the push through."""
    branch = "feature/PROJ-1-add-the-form"
    repo.git("checkout", "-q", "-b", branch, "develop")
    repo.commit("login.py", "form = True\n", "PROJ-1 add the form")
    assert run(repo, "hooks", "install").code == 0
    fault: dict[str, Any] = {"status": 403}
    if answer == "redirect":
        fault = {"status": 302, "location": f"{elsewhere.url}/login"}
    jira.fault("status", method="POST", path="/search", times=None, **fault)

    blocked = _git(repo, "push", "origin", branch)
    assert blocked.returncode != 0
    assert "the keys could not be checked" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    hint = _hint(blocked.stderr)
    assert "--offline" not in hint  # an option the hook cannot be given
    assert "`git push --no-verify`" in hint
    assert "`jiraflow config set check.jira false`" in hint
    assert not repo.git("ls-remote", "origin", f"refs/heads/{branch}")
    assert elsewhere.received == []

    # each way the hint names gets the push through while Jira still refuses
    once = _git(repo, "push", "--no-verify", "origin", branch)
    assert once.returncode == 0, once.stderr
    repo.commit("login.py", "form = False\n", "PROJ-1 take the form back")
    assert _git(repo, "push", "origin", branch).returncode != 0
    assert run(repo, "config", "set", "check.jira", "false").code == 0
    pushed = _git(repo, "push", "origin", branch)
    assert pushed.returncode == 0, pushed.stderr
    assert repo.git("ls-remote", "origin", f"refs/heads/{branch}")


def test_a_refused_search_in_check_range_hints_at_offline(
    repo: Repo, run: Any, jira: JiraSandbox
) -> None:
    """Run by hand (or in CI), the check can be given --offline: the hint says so, and the
    same setting as in the hook; both work."""
    repo.commit("b.py", "b = 1\n", "PROJ-1 an issue")
    jira.fault("status", method="POST", path="/search", status=403, times=None)
    refused = run(repo, "check", "range", "develop~1..develop")
    assert refused.code == 6, refused.err
    hint = _hint(refused.err)
    assert "--offline" in hint
    assert "`jiraflow config set check.jira false`" in hint
    assert "--no-verify" not in hint
    assert run(repo, "check", "range", "--offline", "develop~1..develop").code == 0
    assert run(repo, "config", "set", "check.jira", "false").code == 0
    assert run(repo, "check", "range", "develop~1..develop").code == 0


# == one rule for an issue key ====================================================================


def _issue_json(jira: JiraSandbox, key: str) -> dict[str, Any]:
    """The issue as the sandbox's REST API answers it, with its transitions."""
    import requests

    from conftest import login_of

    url = f"{jira.url}/rest/api/2/issue/{key}?expand=transitions"
    if jira.flavour == "cloud":
        answer = requests.get(url, auth=(login_of(jira), jira.token()), timeout=5)
    else:
        answer = requests.get(url, headers={"Authorization": f"Bearer {jira.token()}"}, timeout=5)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


@pytest.mark.parametrize("key", ["PROJ-1", "proj-1", "PROJ-0", "PROJ-01", "P-1", "PROJ-1\n"])
def test_jira_answering_with_a_key_jiraflow_would_not_take_is_a_bad_answer(
    repo: Repo, run: Any, jira: JiraSandbox, key: str
) -> None:
    """The issue key in Jira's answer goes into the URLs of the next requests: it must be a
    key by the rule jiraflow uses everywhere (jiraflow.jira.issues), not a looser one of its own.
    PROJ-1 is the control: the same answer with the right key starts the branch."""
    answer = _issue_json(jira, "PROJ-1")
    answer["key"] = key
    jira.fault("body", method="GET", path="/issue/PROJ-1", status=200, body=answer, times=None)
    result = run(repo, "feature", "start", "PROJ-1")
    assert "Traceback" not in result.err
    if key == "PROJ-1":
        assert result.code == 0, result.err
        return
    assert result.code == 6, (result.out, result.err)
    assert "which is no issue key" in result.err
    assert repo.branch() == "develop"


@pytest.mark.parametrize(
    ("do", "key", "keys"),
    [
        ("move", "proj-1", None),
        ("move", "PROJ-0", None),
        ("move", "PROJ", None),  # a project key where an issue's belongs
        ("release", "PROJ-1", ["PROJ-1"]),  # an issue key where a project's belongs
        ("release", "proj", ["PROJ-1"]),
        ("release", "PROJ", ["proj-1"]),
    ],
)
def test_a_queued_key_jiraflow_would_not_make_is_a_damaged_outbox(
    repo: Repo, run: Any, jira: JiraSandbox, do: str, key: str, keys: list[str] | None
) -> None:
    """A queued action's key goes into Jira's URLs: the outbox holding one that is no issue
    key (no project key, for a release) is damaged (exit 5), and nothing is sent."""
    action: dict[str, Any] = {"id": "a1", "site": None, "key": key, "do": do}
    if do == "move":
        action["target"] = "Done"
    else:
        action.update(version="1.0.0", keys=keys, released=False, date=None, target="")
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([action]))
    sent = len(jira.requests)
    result = run(repo, "sync")
    assert result.code == 5, (result.out, result.err)
    assert "outbox.json is damaged" in result.err
    assert "Traceback" not in result.err
    assert len(jira.requests) == sent


# == what no code turned into a message ===========================================================


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PermissionError(errno.EACCES, "Permission denied", "/x/.git/jiraflow/state.json"), 5),
        (OSError(errno.EROFS, "Read-only file system", "/x/.git/jiraflow/state.json"), 5),
        (OSError(errno.ENOSPC, "No space left on device"), 5),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/y.json"), 1),
        (OSError(errno.EINVAL, "Invalid argument", "/x/y.json"), 1),
        (OSError(errno.EBADF, "Bad file descriptor", "/x/y.json"), 1),
    ],
    ids=["EACCES", "EROFS", "ENOSPC", "ENOENT", "EINVAL", "EBADF"],
)
def test_only_what_the_machine_refused_is_a_local_failure(
    repo: Repo, run: Any, monkeypatch: pytest.MonkeyPatch, error: OSError, code: int
) -> None:
    """An OSError that reaches the top is exit 5 (naming the file, saying how to free it)
    only when the user's machine caused it: no permission, a read-only or full disk. Any
    other (a file that vanished under jiraflow's feet, a bad argument) is a bug in
    jiraflow, and exit 5 with a hint about the file would hide it: it stays exit 1, an
    internal error that says so. (The system call is made to fail: a bug cannot be made
    real here.)"""
    import jiraflow.gitflow.notes

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(jiraflow.gitflow.notes, "commits_in", fails)
    repo.commit("b.py", "b = 1\n", "PROJ-1 an issue")
    result = run(repo, "check", "range", "--offline", "develop~1..develop")
    assert result.code == code, result.err
    assert "Traceback" not in result.err
    if code == 1:
        assert result.err.startswith("error: internal error: "), result.err
    else:
        assert "internal error" not in result.err
        assert error.filename is None or error.filename in result.err
