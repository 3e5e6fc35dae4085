"""bot/checks.py: what a question pins down against the answer's context (no model)."""

from bot.checks import (
    ABSENT_FROM_ARTICLE,
    CONTRADICTED,
    LACKING,
    Context,
    check,
    expected,
    places_in,
)


def context(near: str, article: str = "", published: str = "") -> Context:
    return Context(near, article or near, published)


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


def test_a_year_the_passage_contradicts_lowers_the_confidence_most() -> None:
    wanted = expected("How many masts were removed in 2021?")
    right = check(wanted, context("In 2021, 1,200 masts were removed."))
    wrong = check(wanted, context("In 2020, 800 masts were removed."))
    assert right.factor == 1.0 and not right.reasons
    assert wrong.factor == CONTRADICTED
    assert "2020" in wrong.reasons[0] and "2021" in wrong.reasons[0]


def test_last_year_reads_from_the_articles_date() -> None:
    wanted = expected("What happened in 2019?")
    assert check(wanted, context("Last year the ban began.", published="2020-03-01")).factor == 1
    assert check(wanted, context("Last year the ban began.", published="2021-03-01")).factor == (
        CONTRADICTED
    )


def test_a_year_the_article_gives_elsewhere_costs_nothing() -> None:
    wanted = expected("What did the regulator decide in 2019?")
    near = "The regulator decided to allow the kit."
    assert check(wanted, context(near, article=near + " That was in 2019.")).factor == 1.0
    assert check(wanted, context(near, published="2019-05-02")).factor == 1.0
    assert check(wanted, context(near)).factor == LACKING


def test_a_number_the_passage_lacks() -> None:
    wanted = expected("What happened to the 17 employees?")
    assert check(wanted, context("All 17 employees were freed.")).factor == 1.0
    assert check(wanted, context("The employees were freed.")).factor == LACKING


def test_the_role_of_another_country() -> None:
    wanted = expected("What did the Chinese ambassador say?")
    chinese = check(wanted, context("Liu Xiaoming, China's ambassador to the UK, said no."))
    assert chinese.factor == 1.0
    american = check(
        wanted,
        context(
            "The American ambassador said the kit was unsafe.",
            article="The American ambassador said the kit was unsafe. Beijing disagreed.",
        ),
    )
    assert american.factor == CONTRADICTED
    assert american.reasons == ("the answer's passage is not about Chinese",)


def test_a_place_the_whole_article_never_names() -> None:
    wanted = expected("How did Germany react?")
    verdict = check(wanted, context("France said it would wait.", article="France said so."))
    assert verdict.factor == ABSENT_FROM_ARTICLE
    assert verdict.reasons == ("the answer's article never mentions Germany",)


def test_places_of_one_country_are_one_place() -> None:
    assert set(places_in("the United States and Washington")) == {"america"}
    assert set(places_in("British lawmakers in London, the UK")) == {"britain"}
    assert set(places_in("New Zealand's Prime Minister")) == {"zealand"}
    assert set(places_in("States of matter")) == set()
