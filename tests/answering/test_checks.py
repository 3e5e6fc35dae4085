"""bot/answering/checks.py: what a question pins down against the answer's context (no model)."""

from bot.answering.checks import (
    CONTRADICTED,
    LACKING,
    NOT_THE_KIND,
    Context,
    check,
    expected,
    places_in,
)


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


def sentence(text: str) -> Context:
    return Context(text, "", text)


def test_the_kind_of_answer_asked_for() -> None:
    assert expected("how many justices ruled it unlawful").kind == "number"
    assert expected("How much did the wall cost?").kind == "number"
    assert expected("when did the shutdown start").kind == "time"
    assert expected("What year was Mahan Air founded?").kind == "time"
    assert expected("who replaced bolton").kind is None
    assert expected("What did Facebook say?").kind is None


def test_a_how_many_answer_must_give_a_number() -> None:
    wanted = expected("how many covid cases worldwide when WHO declared a pandemic")
    lead = check(wanted, sentence("On Wednesday, the WHO declared COVID-19 to be a pandemic."))
    assert lead.factor == NOT_THE_KIND < 1.0
    assert lead.reasons == ("the answer's sentence gives no number",)
    for text in (
        "There were at least 126,000 cases of COVID-19 worldwide.",
        "Cases rose to two million.",
        "The group took over about a third of the country.",
        "Turnout was 67%.",
    ):
        assert check(wanted, sentence(text)).factor == 1.0, text


def test_a_date_or_a_number_from_the_question_is_no_answer() -> None:
    # "September 11" is a date, not a count; "16" is what the question already says.
    justices = expected("how many justices ruled the prorogation unlawful")
    court = "The Court of Session ruled on September 11 the prorogation was unlawful."
    assert check(justices, sentence(court)).factor == NOT_THE_KIND
    states = expected("how many of the 16 states sued in California")
    assert check(states, sentence("The 16 states sued in California.")).factor == NOT_THE_KIND
    assert check(states, sentence("Of the 16 states, 12 sued there.")).factor == 1.0


def test_a_when_answer_must_give_a_date_or_time() -> None:
    wanted = expected("when did the government shutdown start")
    for text in (
        "This lockdown started on December 22, last year.",
        "The shutdown started yesterday.",
        "It began in 1995.",
        "It started on Friday at 10:30.",
    ):
        assert check(wanted, sentence(text)).factor == 1.0, text
    # "may" is a verb, not the month.
    no_time = check(wanted, sentence("The shutdown may go on for years, Trump said."))
    assert no_time.factor == NOT_THE_KIND
    assert no_time.reasons == ("the answer's sentence gives no date or time",)


def test_when_no_candidate_gives_the_kind_lacking_it_costs_nothing() -> None:
    # "When did the war end?" answered by an event: no sentence gives a date, so none is told
    # apart by lacking one, and the confidence is left alone.
    wanted = expected("When did the fighting stop?")
    event = sentence("The fighting stopped after the treaty was signed.")
    assert check(wanted, event).factor == NOT_THE_KIND
    assert check(wanted, event, judge_kind=False).factor == 1.0
    assert expected("In which century did the Normans rule?").kind == "time"
    assert check(wanted, sentence("It stopped in the 10th and 11th centuries.")).factor == 1.0
