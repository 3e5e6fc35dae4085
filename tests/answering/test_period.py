"""bot/answering/period.py: the publication dates an overview question names."""

from __future__ import annotations

from datetime import date

import pytest

from bot.answering.period import asked_period


@pytest.mark.parametrize(
    ("text", "since", "until", "rest"),
    [
        ("news from january 2020", date(2020, 1, 1), date(2020, 1, 31), "news"),
        (
            "what happened in Hong Kong in Oct. 2019?",
            date(2019, 10, 1),
            date(2019, 10, 31),
            "what happened in Hong Kong?",
        ),
        ("what happened on 2019-09-24?", date(2019, 9, 24), date(2019, 9, 24), "what happened?"),
        ("news of 24th September 2019", date(2019, 9, 24), date(2019, 9, 24), "news"),
        ("headlines on September 24, 2019", date(2019, 9, 24), date(2019, 9, 24), "headlines"),
        ("what happened in 2019?", date(2019, 1, 1), date(2019, 12, 31), "what happened?"),
        ("news from February 2020", date(2020, 2, 1), date(2020, 2, 29), "news"),
    ],
)
def test_a_period_with_a_year_is_read(text: str, since: date, until: date, rest: str) -> None:
    period = asked_period(text)
    assert period is not None and (period.since, period.until, period.rest) == (since, until, rest)


@pytest.mark.parametrize(
    "text",
    [
        "what happened in October?",
        "how many of the 2,000 workers?",
        "news on 2019-13-40",
        "news",
        "tell me about the 1973 oil crisis",  # a year that names a thing
        "the October 2019 protests in Hong Kong",
    ],
)
def test_no_year_or_no_real_date_is_no_period(text: str) -> None:
    assert asked_period(text) is None
