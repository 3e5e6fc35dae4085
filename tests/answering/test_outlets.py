"""bot/answering/outlets.py: the outlet a question names where it speaks of reporting."""

from __future__ import annotations

import pytest

from bot.answering.outlets import named_outlet

SOURCES = ["BBC News", "Reuters", "The Guardian", "The Independent", "AP"]


@pytest.mark.parametrize(
    ("question", "source", "rest"),
    [
        (
            "what did the BBC report about the ruling?",
            "BBC News",
            "what did report about the ruling?",
        ),
        ("according to reuters, how many died?", "Reuters", "how many died?"),
        ("the latest on brexit from the guardian", "The Guardian", "the latest on brexit"),
        (
            "What did the Guardian's story say about Johnson?",
            "The Guardian",
            "What did story say about Johnson?",
        ),
        ("news from the bbc", "BBC News", "news"),
        ("what did AP say about it?", "AP", "what did say about it?"),
    ],
)
def test_an_outlet_named_where_it_reports_is_read(question: str, source: str, rest: str) -> None:
    found = named_outlet(question, SOURCES)
    assert found is not None and (found.source, found.rest) == (source, rest)


@pytest.mark.parametrize(
    "question",
    [
        "what did the independent panel find?",  # a word, not The Independent
        "what did ap say",  # two letters only as written
        "Who is Ryan Ding?",
        "did the guardians of the revolution say anything",
    ],
)
def test_a_name_that_does_not_stand_for_an_outlet_is_left_alone(question: str) -> None:
    assert named_outlet(question, SOURCES) is None
