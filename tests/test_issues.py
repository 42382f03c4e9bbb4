"""The pure rules: issue keys, branch names from summaries, transition choice, URLs."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiraflow.errors import ConfigError
from jiraflow.jira.issues import (
    Issue,
    NoTransition,
    Status,
    Transition,
    branch_name,
    choose_transition,
    screen_values,
    slug,
)
from jiraflow.keys import key_in, normalise_key
from jiraflow.urls import normalise_url


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("Add login form", "add-login-form"),
        ("Café menu: naïve façade", "cafe-menu-naive-facade"),
        ("Crash when the password has “smart quotes”", "crash-when-the-password-has-smart-quotes"),
        ("Don't break the user’s «settings»", "dont-break-the-users-settings"),
        ("Straße, Øresund & Łódź", "strasse-oresund-lodz"),
        ("  --Weird   [brackets] (and) {braces}!!  ", "weird-brackets-and-braces"),
        ("日本語のみ", ""),
        ("v1.2.3 ../refs ~^:?*", "v1-2-3-refs"),
    ],
)
def test_slug(summary: str, expected: str) -> None:
    assert slug(summary) == expected


def test_branch_name_template_and_cut_at_a_word() -> None:
    assert branch_name("{key}-{summary}", "PROJ-12", "Add login form", "Story", 60) == (
        "PROJ-12-add-login-form"
    )
    assert branch_name("{type}/{key}_{summary}", "A-1", "Fix it", "Bug", 60) == "bug/A-1_fix-it"
    cut = branch_name("{key}-{summary}", "PROJ-12", "one two three four", "Story", 20)
    assert cut == "PROJ-12-one-two"
    assert branch_name("{key}-{summary}", "PROJ-12", "日本語", "Story", 60) == "PROJ-12"
    with pytest.raises(ConfigError, match="not a valid template"):
        branch_name("{key}-{nope}", "A-1", "x", "Story", 60)


@settings(max_examples=300, deadline=None)
@given(summary=st.text(max_size=120), max_length=st.integers(min_value=8, max_value=80))
def test_branch_names_from_any_summary_are_valid_refs_within_the_limit(
    summary: str, max_length: int
) -> None:
    name = branch_name("{key}-{summary}", "PROJ-123", summary, "Story", max_length)
    assert name.startswith("PROJ-123")
    assert len(name) <= max(max_length, len("PROJ-123"))
    proc = subprocess.run(
        ["git", "check-ref-format", "--branch", f"feature/{name}"], capture_output=True, check=False
    )
    assert proc.returncode == 0, name


def test_keys() -> None:
    assert key_in("PROJ-12-add-login-form") == "PROJ-12"
    assert key_in("fix/OPS_2-7 and PROJ-1") == "OPS_2-7"
    assert key_in("xPROJ-12") is None and key_in("PROJ-0") is None
    assert normalise_key("PROJ-12", []) == "PROJ-12"
    assert normalise_key("proj-12", ["PROJ"]) == "PROJ-12"
    assert normalise_key("fix-2", ["PROJ"]) is None  # a plain name stays a plain name
    assert normalise_key("add-login", []) is None


def _issue(status: str = "To Do", category: str = "new") -> Issue:
    return Issue("PROJ-1", "s", "Story", Status(status, category), None, None)


def _t(tid: str, to: str, category: str = "indeterminate", **fields: dict) -> Transition:
    return Transition(tid, f"go {tid}", Status(to, category), dict(fields))


RESOLUTION = {
    "required": True,
    "name": "Resolution",
    "schema": {"type": "resolution"},
    "allowedValues": [{"id": "1", "name": "Done"}, {"id": "2", "name": "Won't Do"}],
}


def test_the_transition_is_chosen_by_target_status_not_by_name() -> None:
    transitions = [_t("11", "In Progress"), _t("31", "Done", "done", resolution=RESOLUTION)]
    assert choose_transition(_issue(), transitions, "in progress").id == "11"
    assert choose_transition(_issue(), transitions, "category:done").id == "31"
    with pytest.raises(NoTransition, match=r"reachable: Done, In Progress"):
        choose_transition(_issue(), transitions, "In Review")


def test_the_transition_needing_no_input_wins() -> None:
    transitions = [_t("31", "Done", "done", resolution=RESOLUTION), _t("41", "Done", "done")]
    assert choose_transition(_issue(), transitions, "Done").id == "41"


def test_required_resolution_defaults_to_done_or_names_the_allowed_values() -> None:
    done = _t("31", "Done", "done", resolution=RESOLUTION)
    assert screen_values(_issue(), done, {}) == {"resolution": {"id": "1"}}
    assert screen_values(_issue(), done, {"Resolution": "won't do"}) == {"resolution": {"id": "2"}}
    with pytest.raises(ConfigError, match="'Fixed' is not allowed") as refused:
        screen_values(_issue(), done, {"resolution": "Fixed"})
    assert refused.value.hint == "Allowed: Done, Won't Do."
    strict = dict(RESOLUTION, allowedValues=[{"id": "7", "name": "Fixed"}])
    with pytest.raises(ConfigError, match=r"needs a value for Resolution") as exc:
        screen_values(_issue(), _t("5", "Resolved", "done", resolution=strict), {})
    assert "Fixed" in (exc.value.hint or "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Acme.Atlassian.net/", "https://acme.atlassian.net"),
        ("https://jira.example.com:443/jira/", "https://jira.example.com/jira"),
        ("https://jira.example.com:8443", "https://jira.example.com:8443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:2990/jira", "http://localhost:2990/jira"),
    ],
)
def test_urls_are_normalised(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize("url", ["http://jira.example.com", "ftp://x", "acme.atlassian.net"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        normalise_url(url)


def test_retry_after_in_seconds_as_a_date_or_nonsense() -> None:
    from types import SimpleNamespace

    from jiraflow.http import retry_wait

    def answer(value: str | None) -> SimpleNamespace:
        return SimpleNamespace(headers={} if value is None else {"Retry-After": value})

    assert retry_wait(answer("2"), 1) == 2.0
    assert retry_wait(answer(None), 2) == 2.0  # no header: a short backoff
    assert retry_wait(answer("soon"), 3) == 3.0  # not seconds, not a date: backoff
    assert retry_wait(answer("120"), 1) is None  # longer than a CLI should wait
    assert retry_wait(answer("0"), 1) == 0.0  # a 503's 0: now
    # a date in the past, a negative or a nan wait is not a wait: the backoff, never a tight loop
    assert retry_wait(answer("Wed, 21 Oct 2015 07:28:00 GMT"), 1) == 1.0
    assert retry_wait(answer("-5"), 2) == 2.0
    assert retry_wait(answer("nan"), 1) == 1.0
