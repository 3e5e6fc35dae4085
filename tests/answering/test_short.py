"""bot/answering/short.py: the number or time inside the answer sentence (no model)."""

from bot.answering.checks import expected
from bot.answering.short import short_answer
from bot.lexical import terms


def marked(question: str, sentence: str) -> str | None:
    span = short_answer(sentence, expected(question), terms(question))
    return None if span is None else sentence[slice(*span)]


def test_the_count_asked_for() -> None:
    cases = "As of Thursday, there were at least 126,000 cases worldwide, and over 4,600 deaths."
    assert marked("how many covid cases worldwide", cases) == "126,000"
    assert marked("How many deaths were there?", cases) == "4,600"
    assert marked("How old is the suspect?", "Brenton Tarrant, 28, appeared in court.") == "28"
    money = "It gives access to around US$50 billion in extra funding."
    assert marked("how much money does the emergency unlock", money) == "US$50 billion"


def test_the_one_the_question_names_is_not_the_answer() -> None:
    sentence = "Of the 16 states, 12 sued in California on September 11."
    assert marked("how many of the 16 states sued", sentence) == "12"


def test_the_time_asked_for() -> None:
    assert marked("when was mahan air founded", "It was founded in 1992.") == "1992"
    started = "This lockdown started on December 22, last year."
    assert marked("when did the shutdown start", started) == "December 22, last year"
    assert marked("When did it start?", "It may go on for years.") is None


def test_other_questions_have_no_short_answer() -> None:
    assert (
        marked("Who is Ryan Ding?", "Ryan Ding is president of Huawei's carrier business.") is None
    )
    assert marked("What did Facebook say?", "Facebook said it had 2 billion users.") is None
