"""Rules pinned in the second round of issue 17's mutation run, where the sampled run left them
unguarded: the setting a bad exempt pattern names, exempt author e-mails, the notes, codes and
fixes of `jiraflow check`; the outbox's damaged-file messages, queue stamps and resend hold;
and the delivery details of the remote actions. Through the CLI where that is natural, else on
the rule itself."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest

from gitutil import Repo
from jiraflow.errors import ConfigError, RemoteError
from jiraflow.jira.client import Refused
from jiraflow.jira.issues import Issue, Status, Transition
from jiraflow.outbox.actions import Action, Comment, Link, Move, Release
from jiraflow.outbox.box import Outbox
from jiraflow.sandbox.jira import JiraSandbox

if TYPE_CHECKING:
    from jiraflow.jira.tracker import Tracker


def configure(repo: Repo, text: str) -> None:
    (repo.path / ".jiraflow.toml").write_text(text)


def check_json(run, repo: Repo, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = run(repo, "--json", "check", *args)
    data: dict = json.loads(result.out)  # type: ignore[type-arg]
    assert result.code == (1 if data["problems"] else 0), result.out + result.err
    return data


# -- jiraflow check ------------------------------------------------------------------------
def test_a_bad_exempt_message_pattern_names_its_setting(repo: Repo, run) -> None:
    configure(repo, '[check]\nexempt_messages = ["("]\n')
    result = run(repo, "check", "branch", "feature/PROJ-1-x")
    assert result.code == 3
    assert result.err.startswith(
        "error: check.exempt_messages: '(' is not a regular expression ("
    ), result.err


def test_an_exempt_author_is_matched_by_the_whole_email(repo: Repo, run) -> None:
    # only the closing ">" is taken off the e-mail: a capital X before it stays
    configure(repo, '[check]\nexempt_authors = ["build@ci-box"]\n')
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.git("commit", "-q", "--allow-empty", "--author", "Robot <build@CI-BOX>", "-m", "Bump")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert [s["why"] for s in data["skipped"]] == ["exempt author"]


def test_commits_off_is_said_in_a_note(repo: Repo, run) -> None:
    configure(repo, '[check]\ncommits = "off"\n')
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.commit(message="Add form")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert data["notes"] == ["commit messages are not checked (check.commits = off)"]


def test_the_root_commit_is_reworded_with_rebase_root(repo: Repo, run) -> None:
    repo.git("checkout", "-q", "--orphan", "feature/x")
    repo.git("commit", "-q", "--allow-empty", "-m", "Start")
    root = repo.git("rev-parse", "--short=7", "HEAD")
    repo.git("commit", "-q", "--allow-empty", "-m", "More")
    result = run(repo, "check", "range", "HEAD")
    assert result.code == 1
    assert result.out.splitlines()[0] == (
        f'✗ {root} "Start": names no Jira issue. Reword it (git rebase -i --root, marking it '
        "reword) to name an issue, e.g. PROJ-12 Start"
    )


def test_a_range_with_no_valid_key_under_commits_any(repo: Repo, run) -> None:
    configure(repo, '[check]\ncommits = "any"\n')
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.commit(message="Add form")
    repo.commit(message="More")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert data["problems"] == [
        {
            "code": "none-in-range",
            "kind": "range",
            "commit": None,
            "name": "2 commits",
            "keys": [],
            "message": "none of them names a valid Jira issue",
            "fix": "Reword one of them to name the issue (git rebase -i), e.g. PROJ-12 <subject>",
        }
    ]


def test_a_key_of_another_project_is_not_allowed(repo: Repo, run) -> None:
    configure(repo, '[check]\nprojects = ["OPS"]\n')
    data = check_json(run, repo, "branch", "feature/PROJ-3-x")
    assert data["problems"] == [
        {
            "code": "not-allowed",
            "kind": "branch",
            "commit": None,
            "name": "branch feature/PROJ-3-x",
            "keys": ["PROJ-3"],
            "message": "PROJ-3 is not in an allowed project (OPS)",
            "fix": "Rename it so it names the issue: git branch -m feature/PROJ-3-x "
            "feature/OPS-12-PROJ-3-x",
        }
    ]


def test_the_fix_of_a_key_failing_check_jql(repo: Repo, run, jira: JiraSandbox) -> None:
    configure(repo, "[check]\njql = 'statusCategory != Done'\n")
    repo.git("checkout", "-q", "-b", "feature/x", "develop")
    repo.commit(message="PROJ-4 Ship")
    data = check_json(run, repo, "range", "develop..HEAD")
    assert [(p["code"], p["fix"]) for p in data["problems"]] == [
        ("fails-jql", "Bring the issue into that state in Jira, or name an issue that is")
    ]


# -- the outbox ------------------------------------------------------------------------------
def box_of(state_dir: Path, timeout: float = 10) -> Outbox:
    tracker = SimpleNamespace(
        state_dir=str(state_dir),
        config=SimpleNamespace(jira=SimpleNamespace(timeout=timeout)),
        progress=None,
    )
    return Outbox(cast("Tracker", tracker))


def hint_of(path: Path) -> str:
    return (
        f"hint: `cat {path}` shows the queued Jira updates; `rm {path}` forgets them "
        "(then make them in Jira by hand)."
    )


def test_an_outbox_that_is_not_json_says_how_to_see_and_reset_it(repo: Repo, run) -> None:
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[{")
    result = run(repo, "sync")
    assert result.code == 5
    error, hint = result.err.splitlines()
    assert error.startswith(f"error: {path} is damaged (not valid JSON (")
    assert hint == hint_of(path)
    assert path.read_text() == "[{"


def test_an_outbox_action_that_is_not_jiraflows_says_what_is_wrong_where(repo: Repo, run) -> None:
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[{"id": "x"}]')
    result = run(repo, "sync")
    assert result.code == 5
    assert result.err.splitlines() == [
        f"error: {path} is damaged ([0]: 'site' is missing)",
        hint_of(path),
    ]


def test_an_action_of_a_kind_jiraflow_does_not_know_is_named(repo: Repo, run) -> None:
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    odd = {**Link.new("https://acme.example", "PROJ-1", url="u", title="t", resolved=False)}
    odd["do"] = "frobnicate"
    path.write_text(json.dumps([odd]))
    result = run(repo, "sync")
    assert result.code == 5
    assert result.err.splitlines() == [
        f"error: {path} is damaged ([0].do: 'frobnicate' is not an action jiraflow knows)",
        hint_of(path),
    ]


def test_an_action_with_a_bad_key_says_it_is_not_an_issue_key(repo: Repo, run) -> None:
    path = repo.path / ".git" / "jiraflow" / "outbox.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    bad = {**Link.new("https://acme.example", "x", url="u", title="t", resolved=False)}
    path.write_text(json.dumps([bad]))
    result = run(repo, "sync")
    assert result.code == 5
    assert result.err.splitlines()[0] == (
        f"error: {path} is damaged ([0].key: 'x' is not an issue key)"
    )


def test_an_action_is_stamped_with_the_time_it_was_queued(tmp_path: Path) -> None:
    box = box_of(tmp_path)
    action = Link.new("https://acme.example", "PROJ-1", url="u", title="t", resolved=False)
    before = time.time()
    box.enqueue([action])
    (stored,) = json.loads(Path(box.path).read_text())
    stamp = stored["queued"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", stamp), stamp
    queued = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    assert before - 2 < queued < time.time() + 1


def test_a_comment_that_may_still_arrive_is_held_until_its_grace_has_passed(
    tmp_path: Path,
) -> None:
    box = box_of(tmp_path, timeout=10)  # grace: max(120 s, 4 timeouts)
    sent = float(int(time.time()) - 30)
    comment = Comment.new("https://acme.example", "PROJ-1", text="merged", tried=True, sent=sent)
    with pytest.raises(RemoteError) as caught:
        box.hold_resend(comment)

    def clock(at: float) -> str:
        return time.strftime("%H:%M:%S", time.localtime(at))

    assert caught.value.message == (
        f"the comment sent at {clock(sent)} was not confirmed and is not in Jira yet; posting "
        "it again now could post it twice"
    )
    assert caught.value.hint == (
        f"Run `jiraflow sync` after {clock(sent + 120)}: it posts the comment only if the first "
        "one never arrived."
    )
    box_of(tmp_path, timeout=1).hold_resend({**comment, "sent": sent - 120})  # type: ignore[arg-type]
    box.hold_resend(Comment.new("https://acme.example", "PROJ-1", text="new"))  # never sent


# -- the remote actions ------------------------------------------------------------------------
SITE = "https://acme.example"
TODO = Status("To Do", "new")
DONE = Status("Done", "done")


def issue(key: str, *, to: Status = DONE, fields: dict[str, Any] | None = None) -> Issue:
    moves = [Transition("31", "Finish", to, fields or {})]
    return Issue(key, "s", "Story", TODO, None, None, moves, [], "10000")


class FakeJira:
    """One scripted Jira site, both tracker and client: `listed` its project's versions (a
    list per call of versions()), what it was asked in `calls`."""

    def __init__(self, issues: list[Issue], *listed: list[dict[str, Any]]) -> None:
        self.issues = {i.key: i for i in issues}
        self.listed = list(listed)
        self.calls: list[tuple[Any, ...]] = []
        self.refuse_create: int | None = None
        self.pause = 0.0
        self.progress: Any = None
        self.sites: list[Any] = []  # the versions are not read ahead
        self.config = SimpleNamespace(
            jira=SimpleNamespace(fields={"customfield_7": "many"}, version_name="{version}")
        )

    # the tracker
    def lookup(self, keys: list[str], *, transitions: bool) -> Any:
        found = {k: self.issues[k] for k in keys}
        return SimpleNamespace(missing=[], issues=found, sites=dict.fromkeys(found, SITE))

    def fetch(self, key: str, **kwargs: Any) -> tuple[Issue, Any]:
        self.calls.append(("fetch", key, kwargs))
        return self.issues[key], SimpleNamespace(url=SITE)

    def forget(self) -> None:
        pass

    def site(self, url: str) -> Any:
        return SimpleNamespace(url=url)

    def client(self, site: Any) -> FakeJira:
        return self

    # the client
    def versions(self, project: str) -> list[dict[str, Any]]:
        self.calls.append(("versions", project))
        return self.listed.pop(0)

    def create_version(self, project_id: str, name: str, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("create_version", name))
        if self.refuse_create is not None:
            raise Refused("refused", status=self.refuse_create)
        return {"id": "77", "name": name}

    def add_fix_version(self, key: str, version_id: str) -> None:
        time.sleep(self.pause)
        self.calls.append(("add_fix_version", key, version_id))

    def transition(self, key: str, transition_id: str, values: dict[str, Any]) -> None:
        self.calls.append(("transition", key, transition_id))

    def link(self, key: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("link", key))

    def has_comment(self, key: str, marker: str) -> bool:
        return True


def release_of(*keys: str, target: str = "") -> Release:
    return Release.new(
        SITE, "PROJ", version="1.0", keys=list(keys), released=False, date=None, target=target
    )


class NoQueue:
    def note(self, action: Action, **facts: Any) -> None:
        raise AssertionError("nothing to note")

    def unnote(self, action: Action, fact: str) -> None:
        raise AssertionError("nothing to unnote")

    def hold_resend(self, action: Action) -> None:
        raise AssertionError("nothing to hold")


def test_a_release_finds_its_version_by_name_and_records_what_it_did() -> None:
    jira = FakeJira([issue("PROJ-1")], [{"id": "5"}, {"id": "9", "name": "1.0"}])
    action = release_of("PROJ-1")
    tracker = cast("Tracker", jira)
    assert action.deliver(tracker, NoQueue(), None) == (None, "")
    assert action["result"] == {"issues": 1, "moved": 0, "created": False}
    assert jira.calls == [("versions", "PROJ"), ("add_fix_version", "PROJ-1", "9")]
    # a version without a name is no version named "None"
    jira = FakeJira([issue("PROJ-1")], [{"id": "5"}])
    action = release_of("PROJ-1")
    action["version"] = "None"
    action.deliver(cast("Tracker", jira), NoQueue(), None)
    assert action["result"]["created"] is True
    assert ("add_fix_version", "PROJ-1", "77") in jira.calls


def test_a_version_made_meanwhile_is_found_after_jira_refuses_to_create_it() -> None:
    jira = FakeJira([issue("PROJ-1")], [], [{"id": "9", "name": "1.0"}])
    jira.refuse_create = 400  # Jira: "A version with this name already exists"
    action = release_of("PROJ-1")
    action.deliver(cast("Tracker", jira), NoQueue(), None)
    assert action["result"] == {"issues": 1, "moved": 0, "created": False}
    assert jira.calls == [
        ("versions", "PROJ"),
        ("create_version", "1.0"),
        ("versions", "PROJ"),
        ("add_fix_version", "PROJ-1", "9"),
    ]
    jira = FakeJira([issue("PROJ-1")], [])
    jira.refuse_create = 401  # any other refusal is the error it is
    with pytest.raises(Refused):
        release_of("PROJ-1").deliver(cast("Tracker", jira), NoQueue(), None)


def test_an_issue_whose_move_needs_a_bad_field_value_is_left_with_a_warning() -> None:
    fields = {"customfield_7": {"required": True, "name": "Points", "schema": {"type": "number"}}}
    jira = FakeJira([issue("PROJ-1", fields=fields)], [{"id": "9", "name": "1.0"}])
    action = release_of("PROJ-1", target="Done")
    action.deliver(cast("Tracker", jira), NoQueue(), None)
    assert action["warnings"] == [
        "[jira.fields] customfield_7 must be a number, not 'many'; left as it is. Move it in Jira."
    ]


def test_ctrl_c_during_a_release_starts_no_more_writes() -> None:
    keys = [f"PROJ-{n}" for n in range(1, 41)]
    jira = FakeJira([issue(k) for k in keys], [{"id": "9", "name": "1.0"}])
    jira.pause = 0.05

    def interrupt(what: str, done: int, total: int) -> None:
        raise KeyboardInterrupt

    jira.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        release_of(*keys).deliver(cast("Tracker", jira), NoQueue(), None)
    time.sleep(0.3)  # what was running has finished
    written = [c for c in jira.calls if c[0] == "add_fix_version"]
    assert 0 < len(written) < len(keys)


def test_a_release_is_queued_for_the_one_site_of_its_project_else_for_none() -> None:
    def tracker(*owners: str) -> Tracker:
        return cast(
            "Tracker",
            SimpleNamespace(
                accepts=lambda key: True,
                sites_for=lambda key: [SimpleNamespace(url=u) for u in owners],
                config=SimpleNamespace(
                    jira=SimpleNamespace(version_name="{version}", on=SimpleNamespace(release=""))
                ),
            ),
        )

    (one,) = Release.for_keys(tracker(SITE), ["PROJ-1"], version="1.0", tag="1.0", released=False)
    assert one["site"] == SITE
    (two,) = Release.for_keys(
        tracker(SITE, "https://other.example"), ["PROJ-1"], version="1.0", tag="1.0", released=False
    )
    assert two["site"] is None  # which site has it is asked when it is delivered


def test_an_action_queued_without_its_site_asks_for_the_issue_with_its_transitions() -> None:
    jira = FakeJira([issue("PROJ-1")])
    action = Link.new(None, "PROJ-1", url="u", title="t", resolved=False)
    _, note = action.deliver(cast("Tracker", jira), NoQueue(), None)
    assert jira.calls == [("fetch", "PROJ-1", {"transitions": True}), ("link", "PROJ-1")]
    assert action["site"] == SITE and note == ""


def test_what_is_known_of_another_issue_is_not_passed_on() -> None:
    jira = FakeJira([issue("PROJ-1")])
    action = Link.new(SITE, "PROJ-1", url="u", title="t", resolved=False)
    assert action.deliver(cast("Tracker", jira), NoQueue(), issue("PROJ-9")) == (None, "")


def test_a_comment_already_in_jira_is_done() -> None:
    jira = FakeJira([issue("PROJ-1")])
    comment = Comment.new(SITE, "PROJ-1", text="merged", tried=True)
    known = issue("PROJ-1")
    assert comment.deliver(cast("Tracker", jira), NoQueue(), known) == (known, "")


def test_a_move_no_transition_reaches_names_the_issue() -> None:
    jira = FakeJira([issue("PROJ-1")])
    known = issue("PROJ-1", to=Status("In Progress", "indeterminate"))
    with pytest.raises(ConfigError) as caught:
        Move.new(SITE, "PROJ-1", target="Done").deliver(cast("Tracker", jira), NoQueue(), known)
    assert caught.value.message == (
        "PROJ-1 cannot move from 'To Do' to 'Done': no transition leads there "
        "(reachable: In Progress)"
    )


def test_link_on_an_issue_holds_what_it_links() -> None:
    tracker = cast("Tracker", SimpleNamespace(site_url=lambda key: SITE))
    action = Link.on(tracker, "PROJ-1", "https://bb.example/pr/1", "PR #1", resolved=True)
    assert {k: v for k, v in action.items() if k != "id"} == {
        "site": SITE,
        "key": "PROJ-1",
        "do": "link",
        "url": "https://bb.example/pr/1",
        "title": "PR #1",
        "resolved": True,
    }


def test_a_journal_action_that_is_not_jiraflows_says_where_in_the_journal(repo: Repo, run) -> None:
    head = repo.git("rev-parse", "develop")
    journal = {
        "version": 1,
        "operation": "feature finish",
        "branch": "feature/x",
        "head": {"branch": "develop", "commit": head},
        "refs": {"refs/heads/develop": head, "refs/heads/feature/x": None},
        "steps": [{"argv": ["checkout", "--quiet", "develop"], "kind": "git"}],
        "next": 0,
        "pushed": [],
        "remote": [{"id": "a1", "key": "PROJ-1", "do": "move", "target": "Done"}],
    }
    path = repo.path / ".git" / "jiraflow" / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(journal))
    result = run(repo, "feature", "finish", "--continue")
    assert result.code == 5
    assert "remote[0]: 'site' is missing" in result.err, result.err
