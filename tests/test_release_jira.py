"""A release in Jira: versions, fixVersions, statuses and the release date, delivered by the
tracker to the sandbox Jira (Cloud and Data Center) over real HTTP. The end-to-end scenarios
through `release finish` are in test_release_scenarios.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jiraflow import config
from jiraflow.jira.tracker import Tracker
from jiraflow.outbox.actions import Release
from jiraflow.outbox.box import Outbox
from jiraflow.sandbox.jira import JiraSandbox

pytestmark = pytest.mark.usefixtures("jira")


def tracker(tmp_path: Path, **values: Any) -> Tracker:
    """A tracker pointed at the sandbox (the `jira` fixture's variables), with config values."""
    cfg = config.load(user_path=None, repo_root=None, environ=os.environ)
    if values:
        cfg = config.build({k: cfg.get(k) for k in config.KEYS} | values)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return Tracker(cfg, state_dir=str(state), app_dir=str(tmp_path), cache_dir=str(tmp_path))


def release(t: Tracker, keys: list[str], *, released: bool = True) -> list[Release]:
    return Release.for_keys(
        t, keys, version="1.5.0", tag="v1.5.0", released=released, date="2026-11-22"
    )


def version(jira: JiraSandbox, project: str, name: str) -> dict[str, Any]:
    found = [v for v in jira.versions(project) if v["name"] == name]
    assert len(found) == 1, jira.versions(project)
    return found[0]


def test_release_creates_the_version_sets_fix_versions_moves_and_releases(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    result = Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-4", "PROJ-12"]))
    assert not result.failed and len(result.done) == 1
    made = version(jira, "PROJ", "1.5.0")
    assert made["released"] and made["releaseDate"] == "2026-11-22"
    for key in ("PROJ-1", "PROJ-4", "PROJ-12"):
        issue = jira.issue(key)
        assert "1.5.0" in issue["fixVersions"], key
        assert issue["status"] == "Done", key
    assert jira.issue("PROJ-4")["fixVersions"] == ["1.0.0", "1.5.0"]  # the old one kept
    assert result.done[0].describe_done() == (
        "PROJ 1.5.0: created, 3 issues have fixVersion 1.5.0, 2 moved to Done, released 2026-11-22"
    )


def test_a_repeat_only_reads(tmp_path: Path, jira: JiraSandbox) -> None:
    t = tracker(tmp_path)
    assert not Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-12"])).failed
    jira.clear_requests()
    again = Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-12"]))
    assert not again.failed
    assert jira.count() == 2, [(r.method, r.path) for r in jira.requests]  # search + versions
    assert jira.count(method="PUT") == 0
    assert jira.count(method="POST") == jira.count(path_contains="/search") == 1
    assert jira.issue("PROJ-1")["fixVersions"] == ["1.5.0"]
    assert len(jira.versions("PROJ")) == 2


def test_a_version_made_at_start_is_the_one_released_at_finish(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    assert not Outbox(t).deliver(release(t, ["PROJ-1"], released=False)).failed
    early = version(jira, "PROJ", "1.5.0")
    assert not early["released"] and early["releaseDate"] is None
    assert jira.issue("PROJ-1")["status"] == "To Do"  # start moves nothing
    assert jira.issue("PROJ-1")["fixVersions"] == ["1.5.0"]
    assert not Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-12"])).failed
    final = version(jira, "PROJ", "1.5.0")
    assert final["id"] == early["id"] and final["released"]
    assert final["releaseDate"] == "2026-11-22"
    assert jira.issue("PROJ-12")["fixVersions"] == ["1.5.0"]


def test_keys_jira_lacks_are_left_out_with_a_warning(tmp_path: Path, jira: JiraSandbox) -> None:
    t = tracker(tmp_path)
    result = Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-999", "PROJ-12"]))
    assert not result.failed
    assert result.done[0]["warnings"] == ["not in Jira, left out of 1.5.0: PROJ-999"]
    assert "1.5.0" in jira.issue("PROJ-12")["fixVersions"]
    searches = jira.count(path_contains="/search")
    assert searches == (2 if jira.flavour == "cloud" else 1)  # Cloud refuses, then without it


def test_one_action_per_project_named_from_the_template(tmp_path: Path, jira: JiraSandbox) -> None:
    t = tracker(tmp_path, **{"jira.version_name": "{project} {version}"})
    actions = release(t, ["PROJ-1", "OPS-1", "UTF-8", "PROJ-12"])
    assert [(a["key"], a["version"], a["keys"]) for a in actions] == [
        ("PROJ", "PROJ 1.5.0", ["PROJ-1", "PROJ-12"]),
        ("OPS", "OPS 1.5.0", ["OPS-1"]),
        ("UTF", "UTF 1.5.0", ["UTF-8"]),
    ]
    only_proj = tracker(tmp_path, **{"jira.projects": ["PROJ", "OPS"]})
    assert [a["key"] for a in release(only_proj, ["PROJ-1", "UTF-8", "OPS-1"])] == ["PROJ", "OPS"]


def test_a_move_the_workflow_refuses_is_a_warning_not_a_failure(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)  # OPS's Resolved screen wants a resolution the config does not give
    result = Outbox(t).deliver(release(t, ["OPS-1"]))
    assert not result.failed
    (warning,) = result.done[0]["warnings"]
    assert "OPS-1" in warning and "Resolution" in warning and "[jira.fields]" in warning
    assert jira.issue("OPS-1")["status"] == "Open"
    assert jira.issue("OPS-1")["fixVersions"] == ["1.5.0"]
    assert version(jira, "OPS", "1.5.0")["released"]


def test_a_failure_half_way_is_queued_and_sync_completes_it_without_duplicates(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    keys = ["PROJ-1", "PROJ-2", "PROJ-5", "PROJ-12"]
    jira.fault("status", status=500, method="PUT", path="/issue/PROJ-5", times=None)
    result = Outbox(t).deliver(release(t, keys))
    assert len(result.failed) == 1 and not result.done
    assert [a["do"] for a in Outbox(t).read()] == ["release"]
    assert not version(jira, "PROJ", "1.5.0")["released"]  # released only once all are in
    assert "1.5.0" not in jira.issue("PROJ-5")["fixVersions"]
    jira.clear_faults()
    synced = Outbox(t).sync()
    assert len(synced.done) == 1 and not synced.failed and Outbox(t).read() == []
    made = version(jira, "PROJ", "1.5.0")
    assert made["released"] and made["releaseDate"] == "2026-11-22"  # the day of the release
    for key in keys:
        assert jira.issue(key)["fixVersions"].count("1.5.0") == 1, key
        assert jira.issue(key)["status"] == "Done", key


def test_a_large_release_searches_once_per_hundred_keys_and_shows_progress(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    keys = [jira.add_issue("PROJ", f"Change {n}", status="Done") for n in range(250)]
    t = tracker(tmp_path)
    seen: list[tuple[int, int]] = []
    t.progress = lambda what, done, total: seen.append((done, total))
    jira.clear_requests()
    result = Outbox(t).deliver(release(t, keys))
    assert not result.failed
    assert jira.count(path_contains="/search") == 3
    assert jira.count(method="GET", path_contains="/issue/") == 0  # never one GET per issue
    if jira.flavour == "cloud":  # one bulk edit, its task's progress shown as it is polled
        assert jira.count(method="PUT", path_contains="/issue/") == 0
        assert jira.count(method="POST", path_contains="/bulk/issues/fields") == 1
        assert seen[-1] == (250, 250) and len(seen) == jira.count(path_contains="/bulk/queue/")
    else:  # one PUT per issue, each shown
        assert jira.count(method="PUT", path_contains="/issue/") == 250
        assert seen[-1] == (250, 250) and len(seen) == 250
    assert all("1.5.0" in jira.issue(k)["fixVersions"] for k in keys[::50])


def test_an_issue_gone_since_the_search_is_left_out_and_the_rest_released(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    jira.fault("status", status=404, method="PUT", path="/issue/PROJ-5", times=None)
    result = Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-5", "PROJ-12"]))
    assert not result.failed and Outbox(t).read() == []
    (warning,) = result.done[0]["warnings"]
    assert warning.startswith("PROJ-5 was not found") and "left out of 1.5.0" in warning
    assert version(jira, "PROJ", "1.5.0")["released"]
    assert jira.issue("PROJ-12")["fixVersions"] == ["1.5.0"]


def test_a_move_jira_refuses_is_said_and_does_not_hold_up_the_release(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    jira.fault("status", status=400, method="POST", path="/issue/PROJ-1/transitions", times=None)
    result = Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-12"]))
    assert not result.failed
    (warning,) = result.done[0]["warnings"]
    assert warning.startswith("PROJ-1 was not moved to category:done")
    assert jira.issue("PROJ-1")["status"] == "To Do" and jira.issue("PROJ-12")["status"] == "Done"
    assert version(jira, "PROJ", "1.5.0")["released"]


def test_a_busy_jira_during_the_moves_keeps_the_release_queued(
    tmp_path: Path, jira: JiraSandbox
) -> None:
    t = tracker(tmp_path)
    jira.fault("status", status=500, method="POST", path="/transitions", times=None)
    result = Outbox(t).deliver(release(t, ["PROJ-1", "PROJ-12"]))
    assert len(result.failed) == 1 and len(Outbox(t).read()) == 1
    assert not version(jira, "PROJ", "1.5.0")["released"]
