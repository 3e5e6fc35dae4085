"""bot/smalltalk.py: greetings, thanks and goodbyes, and what is not small talk."""

from __future__ import annotations

import pytest

from bot.smalltalk import reply_to, small_talk


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hi", "greeting"),
        ("Hello!", "greeting"),
        ("hey there 👋", "greeting"),
        ("Good morning", "greeting"),
        ("thanks!", "thanks"),
        ("Thank you so much", "thanks"),
        ("ok, thanks", "thanks"),
        ("thx", "thanks"),
        ("bye", "goodbye"),
        ("See you later!", "goodbye"),
        ("ok", "acknowledgement"),
        ("Okay.", "acknowledgement"),
        ("got it", "acknowledgement"),
        ("I see", "acknowledgement"),
        ("cool!", "acknowledgement"),
    ],
)
def test_small_talk_is_recognised(message: str, kind: str) -> None:
    assert small_talk(message) == kind


@pytest.mark.parametrize(
    "message",
    [
        "hi, who is Ryan Ding?",
        "Who said hello to the Queen?",
        "thanks to whom did Huawei win?",
        "Hello Kitty sales?",
        "ok, who is Ryan Ding?",
        "Is the deal ok?",
        "great britain",
        "/help",
        "?",
        "",
    ],
)
def test_questions_are_not_small_talk(message: str) -> None:
    assert small_talk(message) is None
    assert reply_to(message) is None


def test_a_greeting_suggests_a_question() -> None:
    assert reply_to("hello", "Who is Ryan Ding?") == (
        'Hello! Ask me a question about the news I have read, e.g. "Who is Ryan Ding?".'
    )
    assert reply_to("thank you") == "You're welcome."


def test_an_ok_after_an_answer_is_not_searched() -> None:
    assert reply_to("ok") == 'Ask me another question, or say "tell me more" to read on.'
