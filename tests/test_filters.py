"""Reading filters from the command line and from `/filter` (chat and Telegram)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import ConfigError
from bot.filters import SearchFilter, parse_filter_command, search_filter


def test_options_become_a_filter() -> None:
    limits = search_filter("2024-01-01", " 2024-12-31 ", "  Financial   Times ")
    assert limits == SearchFilter(date(2024, 1, 1), date(2024, 12, 31), "Financial Times")
    assert limits.describe() == "since 2024-01-01, until 2024-12-31, source Financial Times"
    assert not search_filter(None, "", None).active


@pytest.mark.parametrize(
    ("since", "until", "fragment"),
    [
        ("2024-02-30", None, "since must be a date as YYYY-MM-DD"),
        ("yesterday", None, "since must be a date"),
        (None, "31/12/2024", "until must be a date"),
        ("2024-06-01", "2024-05-01", "until (2024-05-01) is before since (2024-06-01)"),
    ],
)
def test_bad_dates_are_one_clear_error(since, until, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        search_filter(since, until, None)


def test_the_filter_command_sets_keeps_shows_and_clears() -> None:
    first = parse_filter_command("since 2024-01-01 source Valley Courier", SearchFilter())
    assert first == SearchFilter(since=date(2024, 1, 1), source="Valley Courier")
    second = parse_filter_command("UNTIL 2024-03-31", first)  # the other bounds are kept
    assert second == SearchFilter(date(2024, 1, 1), date(2024, 3, 31), "Valley Courier")
    assert parse_filter_command("  ", second) == second  # alone: shows it
    assert parse_filter_command("off", second) == SearchFilter()


@pytest.mark.parametrize(
    ("command", "articles"),
    [
        ("source Reuters", "Reuters articles"),
        ("since 2020-01-01", "articles published since 2020-01-01"),
        ("until 2020-01-31", "articles published until 2020-01-31"),
        (
            "source wikinews since 2019-09-01 until 2019-09-30",
            "wikinews articles published from 2019-09-01 to 2019-09-30",
        ),
    ],
)
def test_a_filter_says_in_words_which_articles_it_lets_through(command, articles) -> None:
    assert parse_filter_command(command, SearchFilter()).articles() == articles


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ("Reuters", "unknown filter 'Reuters'"),
        ("since", "since needs a value"),
        ("since 2024-99-01", "since must be a date"),
        ("off now", "/filter off clears the filter and takes nothing after it \\(got 'now'\\)"),
    ],
)
def test_a_bad_filter_command_says_how(arguments, fragment) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_filter_command(arguments, SearchFilter())
