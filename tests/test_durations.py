"""Jira durations ("1w 2d 4h 30m"): what work logs and smart commits' #time accept."""

from __future__ import annotations

import pytest

from jiraflow import durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1w 2d 4h 30m", (5 * 8 + 2 * 8 + 4) * 3600 + 30 * 60),
        ("90m", 90 * 60),
        ("1.5h", 90 * 60),
        (".5h", 30 * 60),
        ("2H 15M", 2 * 3600 + 15 * 60),
        ("30m 1h", 90 * 60),  # Jira takes the parts in any order
        ("1d", 8 * 3600),
    ],
)
def test_parse_reads_what_jira_reads(text: str, seconds: int) -> None:
    assert durations.parse(text) == seconds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no duration"),
        ("   ", "no duration"),
        ("2", "not a duration"),
        ("2x", "not a duration"),
        ("1h30m", "not a duration"),  # Jira needs the space
        ("h", "not a duration"),
        ("-1h", "not a duration"),
        ("1h 2h", "given twice"),
        ("0m", "less than a minute"),
        ("0.1m", "less than a minute"),
    ],
)
def test_parse_refuses_what_jira_would_not_log(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        durations.parse(text)


def test_leading_counts_the_duration_before_a_comment() -> None:
    assert durations.leading(["2d", "5h", "Total", "work"]) == 2
    assert durations.leading(["Total", "2d"]) == 0
    assert durations.leading([]) == 0


def test_normal_and_show() -> None:
    assert durations.normal(" 1H   30M ") == "1h 30m"
    assert durations.show(durations.parse("1w 2d 4h 30m")) == "1w 2d 4h 30m"
    assert durations.show(durations.parse("50h")) == "1w 1d 2h"
    assert durations.show(59) == "0m"
    assert durations.show(3600 + 59) == "1h"
