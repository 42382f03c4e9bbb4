"""Jira's time-tracking durations ("1w 2d 4h 30m"), as work logs and smart commits' #time take
them.

Jira reads a number (a decimal is allowed: "1.5h") followed by one of the units w, d, h and m,
several of them separated by spaces. A week and a day are the site's working week and day
(5 days of 8 hours unless the site says otherwise), so the seconds here are only for sums and
comparisons; what is sent to Jira is the text itself, normalised (`normal`), and Jira turns
it into seconds with its own settings.
"""

from __future__ import annotations

import re

HOURS_PER_DAY = 8  # Jira's default working day
DAYS_PER_WEEK = 5  # and week
UNITS = "wdhm"
_PART = re.compile(r"(\d+(?:\.\d+)?|\.\d+)([wdhm])", re.IGNORECASE)
EXAMPLE = "1w 2d 4h 30m"


# Seconds in one unit (w, d, h, m) with Jira's default working day and week
UNIT_SECONDS: dict[str, int] = {
    "w": DAYS_PER_WEEK * HOURS_PER_DAY * 3600,
    "d": HOURS_PER_DAY * 3600,
    "h": 3600,
    "m": 60,
}


def parse(text: str) -> int:
    """Seconds in `text` ("1w 2d 4h 30m", "90m", "1.5h"); ValueError, with a message that
    says what is wrong, for anything Jira would not read as a duration or for no time at all.
    Each unit may appear once; the order is free, as Jira's."""
    words = text.split()
    if not words:
        raise ValueError(f"no duration given (for example {EXAMPLE})")
    seconds = 0.0
    seen: set[str] = set()
    for word in words:
        match = _PART.fullmatch(word)
        if match is None:
            raise ValueError(
                f"{word!r} is not a duration: use a number and one of w, d, h, m "
                f"(for example {EXAMPLE})"
            )
        unit = match.group(2).lower()
        if unit in seen:
            raise ValueError(f"{unit!r} is given twice in {text.strip()!r}")
        seen.add(unit)
        seconds += float(match.group(1)) * UNIT_SECONDS[unit]
    if seconds < 60:
        raise ValueError(f"{text.strip()!r} is less than a minute: Jira logs whole minutes")
    return round(seconds)


def leading(words: list[str]) -> int:
    """How many of `words`, from the first, are parts of a duration (smart commits' #time
    takes its duration first and the rest of the line as the work log's comment)."""
    count = 0
    for word in words:
        if _PART.fullmatch(word) is None:
            break
        count += 1
    return count


def normal(text: str) -> str:
    """`text` as Jira writes it: parts separated by one space, units lower-case ("1H  30M" ->
    "1h 30m"). Call parse first: this does not check."""
    return " ".join(word.lower() for word in text.split())


def show(seconds: int) -> str:
    """Seconds as Jira shows a duration with its default day and week: "1w 2d 4h 30m", "45m",
    "0m". Weeks and days make totals readable; hours alone would hide a week in 40h."""
    if seconds < 60:
        return "0m"
    parts = []
    rest = int(seconds) // 60 * 60
    for unit in UNITS:
        size = UNIT_SECONDS[unit]
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)
