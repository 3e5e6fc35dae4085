"""bot/spelling.py: short forms, near-miss names and the question mark, against a small
vocabulary (no model, no index)."""

from bot.lexical import terms
from bot.spelling import read_as, read_as_in

ARTICLE = (
    "On Monday, New Zealand Prime Minister Jacinda Ardern said that her country would "
    "independently evaluate the threats. Huawei denied the US-led claims. The UK National "
    "Cyber Security Centre reported to British lawmakers. Huawei was fined in 2019."
)


def known(text: str = ARTICLE) -> dict[str, int]:
    counts: dict[str, int] = {}
    for term in terms(text):
        counts[term] = counts.get(term, 0) + 1
    return counts


def test_short_forms_the_corpus_never_uses_are_spelled_out() -> None:
    assert read_as("what did the NZ PM say", known()) == (
        "what did the New Zealand Prime Minister say?"
    )
    assert read_as("what did the nz pm say?", known()) == (
        "what did the New Zealand Prime Minister say?"
    )


def test_a_short_form_the_corpus_uses_is_kept() -> None:
    assert read_as("What did the UK decide?", known()) == "What did the UK decide?"
    # "US" is a stopword to the index: it is kept as typed, never turned into "us".
    assert read_as("Why is the US worried?", known()) == "Why is the US worried?"


def test_a_short_form_goes_to_the_long_form_the_corpus_has() -> None:
    assert read_as("What did British MPs get?", known()) == "What did British lawmakers get?"


def test_lower_case_us_and_times_are_not_short_forms() -> None:
    assert read_as("tell us about Huawei", known()) == "tell us about Huawei?"
    assert read_as("what happened at 5 PM", known()) == "what happened at 5 PM?"


def test_dotted_initials_are_read_as_the_corpus_writes_them() -> None:
    assert read_as("Did the U.K. ban Huawei?", known()) == "Did the UK ban Huawei?"
    assert read_as("what did the u.k. decide", known()) == "what did the UK decide?"
    assert read_as("Is the claim U.S.-led?", known()) == "Is the claim US-led?"
    assert read_as("What, e.g., was fined?", known()) == "What, e.g., was fined?"


def test_question_words_typed_short_are_written_out() -> None:
    assert read_as("whos jacinda ardern", known()) == "who is jacinda ardern?"
    assert read_as("Whats the NCSC", known()) == "What is the NCSC?"
    assert read_as("wat did huawei deny", known()) == "what did huawei deny?"
    assert read_as("wich countries banned Huawei", known()) == "which countries banned Huawei?"
    assert read_as("Was Huawei fined? What was it for", known()) == (
        "Was Huawei fined? What was it for?"
    )


def test_a_name_one_letter_off_is_corrected() -> None:
    assert read_as("what did jacinda arden say", known()) == "what did jacinda ardern say?"
    assert read_as("Was Huwaei fined?", known()) == "Was Huawei fined?"


def test_an_english_word_one_letter_off_is_corrected_when_it_is_no_word() -> None:
    vocabulary = known(ARTICLE + " The national government voted on the article.")
    assert read_as("what did the natonal goverment say", vocabulary) == (
        "what did the national government say?"
    )
    assert read_as("the vote on the artcle", vocabulary) == "the vote on the article?"
    # An English word is left as typed, even one letter from a word the corpus has.
    assert read_as("was he fined", known("He was fired.")) == "was he fined?"
    # A misspelling one letter from no English word of the corpus stays as typed: "sentance"
    # is not read as "senatance" (which the stemmer would take for "senate").
    assert read_as("what sentance did he get", known("The senate voted.")) == (
        "what sentance did he get?"
    )


def test_the_first_part_of_a_hyphenated_word_is_not_a_typo() -> None:
    # The corpus indexes "covid-19" whole and has "COVI" ("COVI" is for coronavirus): "covid"
    # is one letter from "covi", but it begins "covid-19".
    corpus = known("The WHO named it COVID-19. COVI stands for coronavirus.")
    assert read_as("covid news", {**corpus, "covid-": 1}) == "covid news?"
    assert read_as("covid news", corpus) == "covi news?"  # what it was read as before


def test_a_capital_the_corpus_never_names_reads_as_its_country() -> None:
    # "how did Washington react?" over articles that say "the US" and "China".
    vocabulary = known(ARTICLE + " China objected. The United States agreed.")
    assert read_as("how did Washington react", vocabulary) == "how did United States react?"
    assert read_as("what did beijing say", vocabulary) == "what did China say?"
    assert read_as("and Moscow?", vocabulary) == "and Moscow?"  # no Russia to read it as
    # A capital the corpus names is itself: Baghdad the city, not Iraq.
    assert read_as("what happened in Baghdad", known("Rockets hit Baghdad.")) == (
        "what happened in Baghdad?"
    )


def test_place_names_and_english_words_are_not_corrected() -> None:
    # "germany" is a place the corpus does not name, not a typo of a word it has.
    vocabulary = known(ARTICLE + " German firms.")
    assert read_as("did germany ban huawei", vocabulary) == "did germany ban huawei?"
    # An inflected English word is not a name: "fines" is not corrected to "fined".
    assert read_as("what were the fines", known()) == "what were the fines?"


def test_trailing_punctuation_gives_one_question_mark() -> None:
    vocabulary = known()
    assert read_as("what is the ncsc", vocabulary) == "what is the ncsc?"
    assert read_as("what is the ncsc??", vocabulary) == "what is the ncsc?"
    assert read_as("what is the ncsc ?!", vocabulary) == "what is the ncsc?"
    assert read_as("what is the ncsc.", vocabulary) == "what is the ncsc?"


def test_a_store_that_looks_terms_up_on_demand_reads_questions_the_same() -> None:
    counts = known()
    asked: list[set[str]] = []

    def lookup(wanted: set[str]) -> dict[str, int]:
        asked.append(wanted)
        return {term: counts.get(term, 0) for term in wanted}

    for question in ("what did the NZ PM say", "what did jacinda arden say", "Who is Ryan Ding?"):
        assert read_as_in(question, lookup) == read_as(question, counts), question
    assert len(asked) == 3  # one look-up per question
