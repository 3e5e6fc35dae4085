"""bot/answering/question.py: what a question asks."""

import pytest

from bot.answering.question import questions_asked


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Who is Ryan Ding?", 1),
        ("who is ryan ding", 1),
        ("Huawei? Is it safe?", 1),  # a one-word fragment is no question of its own
        ("What? Really?", 1),
        ("Who is Ryan Ding? What did he promise?", 2),
        ("Who founded Huawei? When was it founded? How many people work there?", 3),
    ],
)
def test_how_many_questions_a_message_asks(text: str, count: int) -> None:
    assert questions_asked(text) == count


def test_several_questions_pasted_at_once_are_told_to_come_one_at_a_time(seed_bot) -> None:
    pasted = seed_bot.ask("Who founded Huawei? When was it founded? How many people work there?")
    assert pasted.abstained
    assert pasted.abstain_reason.endswith("; it asks 3 questions at once: ask them one at a time")
    alone = seed_bot.ask("Who founded Huawei?")
    assert alone.abstained and "at once" not in alone.abstain_reason
