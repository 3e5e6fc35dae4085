"""bot/checks.py: what a question pins down against the answer's context (no model)."""

from bot.checks import CONTRADICTED, LACKING, Context, check, expected, places_in


def context(near: str, published: str = "") -> Context:
    return Context(near, published)


def test_what_a_question_pins_down() -> None:
    wanted = expected("How many masts did Vodafone remove in 2021 for the Chinese ambassador?")
    assert wanted.years == ("2021",)
    assert dict(wanted.places) == {"china": "Chinese"}
    assert wanted.roles == ("ambassador",)
    assert not expected("Who is Ryan Ding?")
    # "5G" is not a number, "US" in capitals is a place, "us" is not.
    assert expected("Why did the US ban 5G kit?").numbers == ()
    assert dict(expected("Why did the US ban 5G kit?").places) == {"america": "US"}
    assert expected("tell us about 5G").places == ()
    assert expected("What happened to the 17 employees?").numbers == ("17",)


def test_a_year_the_passage_contradicts_lowers_the_confidence() -> None:
    wanted = expected("How many masts were removed in 2021?")
    right = check(wanted, context("In 2021, 1,200 masts were removed."))
    wrong = check(wanted, context("In 2020, 800 masts were removed."))
    assert right.factor == 1.0 and not right.reasons
    assert wrong.factor == CONTRADICTED < 1.0
    assert wrong.reasons == ("the answer's passage is about 2020, not 2021",)


def test_last_year_reads_from_the_articles_date() -> None:
    wanted = expected("What happened in 2019?")
    assert check(wanted, context("Last year the ban began.", "2020-03-01")).factor == 1.0
    assert check(wanted, context("Last year the ban began.", "2021-03-01")).factor == (CONTRADICTED)


def test_what_the_passage_only_lacks_costs_what_lacking_costs() -> None:
    # Chosen on dev: lacking a year, number, place or role costs nothing, and says nothing.
    for question, near in (
        ("What did the regulator decide in 2019?", "The regulator decided to allow the kit."),
        ("What happened to the 17 employees?", "The employees were freed."),
        ("How did Germany react?", "The government said it would wait."),
    ):
        verdict = check(expected(question), context(near))
        assert verdict.factor == LACKING, question
        assert bool(verdict.reasons) == (LACKING < 1.0), question


def test_a_number_spelled_out_is_the_same_number() -> None:
    sixteen = expected("Where did the 16 states sue?")
    assert check(sixteen, context("Sixteen states sued in California.")).factor == 1.0
    assert check(sixteen, context("All 16 states sued.")).factor == 1.0


def test_the_role_of_another_country() -> None:
    wanted = expected("What did the Chinese ambassador say?")
    chinese = check(wanted, context("Liu Xiaoming, China's ambassador to the UK, said no."))
    assert chinese.factor == 1.0
    american = check(wanted, context("The American ambassador said the kit was unsafe."))
    assert american.factor == CONTRADICTED
    assert american.reasons == ("the answer's passage is not about Chinese",)


def test_places_of_one_country_are_one_place() -> None:
    assert set(places_in("the United States and Washington")) == {"america"}
    assert set(places_in("British lawmakers in London, the UK")) == {"britain"}
    assert set(places_in("New Zealand's Prime Minister")) == {"zealand"}
    assert set(places_in("States of matter")) == set()
