"""bot/conversation/__init__.py with the engine: a follow-up answered in a conversation, and a
question standing alone answered exactly as it would be on its own."""

from bot.conversation import Conversation


def test_in_a_conversation_a_follow_up_is_answered_and_says_what_was_looked_up(seed_bot) -> None:
    conversation = Conversation()
    first = seed_bot.ask_in(conversation, "Who runs Huawei's carrier business?")
    assert first.looked_up is None and "Ryan Ding" in first.answer
    follow_up = seed_bot.ask_in(conversation, "how much will the company invest?")
    assert follow_up.question == "how much will the company invest?"
    assert follow_up.looked_up == "How much will Huawei invest?"
    assert not follow_up.abstained and "$2 billion" in follow_up.answer
    assert follow_up.to_json()["looked_up"] == "How much will Huawei invest?"
    conversation.reset()
    assert conversation.last is None


def test_a_short_question_the_corpus_cannot_answer_alone_is_about_the_last_story(
    seed_bot,
) -> None:
    assert seed_bot.ask("how much money?").abstained
    conversation = Conversation()
    seed_bot.ask_in(conversation, "Who is Ryan Ding?")
    answer = seed_bot.ask_in(conversation, "how much money?")
    assert answer.looked_up == "How much money (Ryan Ding)?"
    assert not answer.abstained and "$2 billion" in answer.answer


def test_a_topic_switch_is_answered_exactly_as_when_asked_alone(seed_bot) -> None:
    question = "What did New Zealand's prime minister say?"
    alone = seed_bot.ask(question)
    conversation = Conversation()
    seed_bot.ask_in(conversation, "Who runs Huawei's carrier business?")
    seed_bot.ask_in(conversation, "what did he promise lawmakers?")
    switched = seed_bot.ask_in(conversation, question)
    assert switched.looked_up is None
    assert (switched.answer, switched.confidence, switched.abstained) == (
        alone.answer,
        alone.confidence,
        alone.abstained,
    )
    assert switched.citations == alone.citations


def test_it_standing_for_what_was_asked_about_finds_the_answer(crowded_bot) -> None:
    # Four real articles of January 2020; "it" is the vote, not the parliament.
    bot = crowded_bot("2020-01-*.md")
    conversation = Conversation()
    first = bot.ask_in(conversation, "What did Iraq's parliament vote on?")
    assert "expel United States troops" in first.answer
    follow_up = bot.ask_in(conversation, "is it binding?")
    assert not follow_up.abstained and "not binding" in follow_up.answer, follow_up.looked_up
    assert follow_up.looked_up.startswith("Is it binding (")
    # The next follow-up points back to the reading that answered.
    assert conversation.last is not None and conversation.last.question == follow_up.looked_up


def test_and_x_answered_about_something_else_is_asked_as_typed(crowded_bot) -> None:
    # "and Brexit?" after a question on Soleimani's killing: the swapped question ("Who killed
    # Qasem Soleimani for Brexit?") finds the Soleimani story again, which is not about
    # Brexit; the question as typed is answered instead.
    bot = crowded_bot("20??-0[13]-*.md")
    conversation = Conversation()
    first = bot.ask_in(conversation, "Who killed Qasem Soleimani?")
    assert "Soleimani" in (first.answer or "")
    follow_up = bot.ask_in(conversation, "and Brexit?")
    assert "Soleimani" not in (follow_up.answer or "")
    assert follow_up.abstained or "Brexit" in f"{follow_up.citations[0].title} {follow_up.answer}"
