""" "Tell me more" (bot/answering/more.py): the sentences after the previous answer, on a real
index, verbatim and cited."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.more import ARTICLE_ENDS, NOTHING_YET, asks_for_more
from bot.conversation import Conversation


@pytest.mark.parametrize(
    "typed",
    [
        "tell me more",
        "More?",
        "go on",
        "ok, go on",
        "what else?",
        "and then?",
        "and?",
        "more please",
    ],
)
def test_asking_for_more_is_recognised(typed: str) -> None:
    assert asks_for_more(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "tell me more about Ryan Ding",
        "what else did he say?",
        "more money?",
        "Who is Ryan Ding?",
        "and Germany?",
    ],
)
def test_a_question_is_not_a_request_for_more(typed: str) -> None:
    assert not asks_for_more(typed)


def test_more_is_the_next_sentences_of_the_answers_article(seed_bot) -> None:
    conversation = Conversation()
    first = seed_bot.ask_in(conversation, "Who is Ryan Ding?")
    assert "Ryan Ding, president of Huawei" in first.answer
    more = seed_bot.ask_in(conversation, "tell me more")
    assert not more.abstained and more.looked_up is None
    assert more.answer.startswith("The NCSC's latest conclusion stands in contrast")
    cited = more.citations[0]
    text = Path(cited.path).read_text(encoding="utf-8")
    assert text[cited.start : cited.end] == cited.text
    assert cited.text[slice(*cited.highlight)] == more.answer
    # The story goes on where the last reply stopped, never repeating or skipping a sentence.
    again = seed_bot.ask_in(conversation, "go on")
    start = cited.start + cited.highlight[1]
    assert text[start : again.citations[0].start + again.citations[0].highlight[0]].strip() == ""


def test_more_stops_at_the_end_of_the_article_and_needs_an_answer_first(seed_bot) -> None:
    assert seed_bot.ask_in(Conversation(), "tell me more").abstain_reason == NOTHING_YET
    assert seed_bot.ask("go on").abstain_reason == NOTHING_YET  # no conversation at all
    conversation = Conversation()
    answer = seed_bot.ask_in(conversation, "Who said the ball is now in their court?")
    assert answer.answer.endswith('"The ball is now in their court." she added.')  # the last
    before = conversation.last
    no_more = seed_bot.ask_in(conversation, "more")
    assert no_more.abstained and no_more.abstain_reason == ARTICLE_ENDS
    assert no_more.answered_as == "more"  # in JSON too, a reply to "more", not a fact
    assert conversation.last == before  # "no more" leaves the conversation where it was
