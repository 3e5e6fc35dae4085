"""bot/conversation/resolve.py: when a question points back, what it is looked up as."""

from __future__ import annotations

import pytest

from bot.conversation import Name, Turn, names_in, resolve

DING = Turn(
    question="Who runs Huawei's carrier business?",
    answer="Earlier this month, Ryan Ding, president of Huawei's carrier business group, sent a "
    "letter to the British lawmakers, stating that the company plans to invest $2 billion.",
    doc_id="ncsc-huawei-5g",
    paragraph=12,
    end=2140,
    confidence=0.87,
)
BANS = Turn(
    question="Which countries banned Huawei from 5G networks?",
    answer="The NCSC's latest conclusion stands in contrast to countries like New Zealand and "
    "Australia, which last year banned the use of Huawei equipment in 5G networks.",
    doc_id="ncsc-huawei-5g",
    paragraph=13,
)
EU = Turn(question="What did the EU decide about 5G suppliers?", answer=None)


@pytest.mark.parametrize(
    ("last", "typed", "looked_up", "kind"),
    [
        (
            DING,
            "what did he promise lawmakers?",
            "What did Ryan Ding promise lawmakers?",
            "pronoun",
        ),
        (DING, "Who is he?", "Who is Ryan Ding?", "pronoun"),
        (DING, "What did his letter say?", "What did Ryan Ding's letter say?", "pronoun"),
        (DING, "how much will the company invest?", "How much will Huawei invest?", "pronoun"),
        (
            BANS,
            "When did they ban it?",
            "When did New Zealand and Australia ban Huawei?",
            "pronoun",
        ),
        (
            Turn("What did Ryan Ding promise lawmakers?", "to invest $2 billion", "d", 12),
            "by when?",
            "By when did Ryan Ding promise lawmakers?",
            "ellipsis",
        ),
        (
            Turn("Who killed Qasem Soleimani?", "United States military forces", "d", 0),
            "where?",
            "Where was Qasem Soleimani killed?",
            "ellipsis",
        ),
        (
            Turn("Who reported that Huawei was safe?", "The Financial Times", "d", 0),
            "when?",
            "When: who reported that Huawei was safe?",
            "ellipsis",
        ),
        (EU, "and Germany?", "What did Germany decide about 5G suppliers?", "and-x"),
        (EU, "what about the US?", "What did the US decide about 5G suppliers?", "and-x"),
        (BANS, "what about ZTE?", "Which countries banned ZTE from 5G networks?", "and-x"),
        (
            BANS,
            "and in Europe?",
            "Which countries banned Huawei from 5G networks in Europe?",
            "and-x",
        ),
    ],
)
def test_a_follow_up_is_looked_up_as_the_question_it_stands_for(
    last: Turn, typed: str, looked_up: str, kind: str
) -> None:
    resolution = resolve(last, typed)
    assert (resolution.looked_up, resolution.kind) == (looked_up, kind)
    assert resolution.carried


def test_it_is_also_read_as_the_thing_the_last_question_was_about() -> None:
    vote = Turn("What did the Labour Party vote on?", "A resolution to expel troops.", "d", 0)
    resolution = resolve(vote, "is it binding?")
    # "it" as a name in the last question first; if that finds no answer, as what the last
    # question was about.
    first, then, as_typed = resolution.readings
    assert first.looked_up == resolution.looked_up == "Is the Labour Party binding?"
    assert then.looked_up == "Is it binding (Labour Party vote)?"
    assert then.prefer == resolution.prefer and then.alternative is None
    # And when neither finds an answer, the question as typed, as if asked alone.
    assert as_typed.looked_up == "is it binding?" and as_typed.prefer == resolution.prefer
    # A nationality is not an "it": the vote is.
    iraqi = Turn("What did the Iraqi parliament vote on?", "A resolution to expel troops.", "d", 0)
    assert resolve(iraqi, "is it binding?").looked_up == "Is it binding (Iraqi parliament vote)?"
    # Nor is a name the answer brought up, unless the question asked for it.
    five_eyes = Turn(
        "What intelligence network is New Zealand part of?",
        "New Zealand is a member of the Five Eyes intelligence alliance.",
    )
    assert resolve(five_eyes, "who else is in it?").looked_up == "Who else is in the Five Eyes?"
    spark = Turn("What did Spark ask for?", "Spark asked the GCSB to approve Huawei equipment.")
    assert resolve(spark, "was it approved?").looked_up == "Was Spark approved?"
    # A pointer that is not "it" has one reading.
    assert [r.looked_up for r in resolve(DING, "Who is he?").readings] == ["Who is Ryan Ding?"]


@pytest.mark.parametrize(
    "typed",
    [
        "Which countries banned Huawei?",
        "Is it true that Huawei is safe?",  # an "it" that stands for nothing
        "And who is Jacinda Ardern?",  # "and", but a question of its own
        "What did the government of New Zealand decide?",  # "the government of ...": named
        "What happened this month?",  # "this" as in time
    ],
)
def test_a_question_that_stands_alone_is_looked_up_as_typed(typed: str) -> None:
    resolution = resolve(DING, typed)
    assert resolution.looked_up == typed
    assert not resolution.carried and resolution.prefer is None


def test_the_first_question_carries_nothing_and_a_follow_up_prefers_the_answers_document() -> None:
    assert resolve(None, "what did he promise?").kind == "first"
    prefer = resolve(DING, "what did he promise?").prefer
    assert prefer is not None and (prefer.doc_id, prefer.paragraph) == ("ncsc-huawei-5g", 12)


def test_after_an_overview_and_x_asks_for_the_same_overview_of_x() -> None:
    latest = Turn(question="what's the latest on hong kong?", answer="On Sunday...", doc_id="hk")
    for typed in ("and the canadian election?", "what about Brexit?"):
        resolution = resolve(latest, typed)
        topic = typed.removeprefix("and ").removeprefix("what about ").rstrip("?")
        assert resolution.looked_up == f"what's the latest on {topic}?"
        assert resolution.kind == "and-x" and resolution.prefer is None  # a new topic
    # With no topic of its own, an overview asks about the same one.
    assert resolve(latest, "any news?").looked_up == "any news on hong kong?"
    assert resolve(latest, "what's new").looked_up == "what's new on hong kong?"
    assert resolve(None, "any news?").looked_up == "any news?"  # all the news
    # After a question about a story, the latest on what it named.
    beat = Turn(question="Who did Boris Johnson beat for the leadership?", answer="...")
    assert resolve(beat, "what's the latest?").looked_up == "what's the latest on Boris Johnson?"
    assert resolve(Turn("who won?", "..."), "any news?").looked_up == "any news?"
    assert resolve(Turn("any facebook news?", "..."), "what about the data leak").looked_up == (
        "any data leak news?"
    )
    # A bare question word asks about the overview's topic, or the names its answer gave.
    assert resolve(latest, "why?").looked_up == "Why (hong kong)?"
    news = Turn(question="what's the latest news?", answer="On Friday, GitHub blocked it.")
    assert resolve(news, "why?").looked_up == "Why (GitHub)?"


def test_a_short_nameless_question_is_asked_alone_then_about_the_last_story() -> None:
    story = Turn(
        question="tell me about the new zealand mosque shooting", answer="...", doc_id="nz"
    )
    alone, about_it = resolve(story, "how many died?").readings
    assert (alone.looked_up, alone.prefer) == ("how many died?", None)  # a switch stays a switch
    assert about_it.looked_up == "How many died (new zealand mosque shooting)?"
    assert about_it.prefer is not None and about_it.prefer.doc_id == "nz"
    # A question with a name of its own is only asked alone.
    assert len(resolve(story, "how many died in Wuhan?").readings) == 1
    # "the attack" is the last story's: asked with its words, then as typed.
    assert [
        r.looked_up for r in resolve(story, "how many people died in the attack?").readings
    ] == [
        "How many people died in the attack (new zealand mosque shooting)?",
        "how many people died in the attack?",
    ]


def test_and_x_after_a_question_typed_in_lower_case() -> None:
    # No capitals, so no name to replace: what follows the last preposition is swapped.
    corbyn = Turn(question="what happened to corbyn", answer="...")
    assert resolve(corbyn, "and jo swinson?").looked_up == "What happened to jo swinson?"
    huawei = Turn(question="what did germany decide about huawei", answer="...")
    assert resolve(huawei, "what about zte").looked_up == "What did germany decide about zte?"
    # A place typed in lower case is one name, "new zealand" as much as "New Zealand".
    assert [n.text for n in names_in("what did new zealand decide")] == ["new zealand"]
    zealand = Turn(question="what did new zealand decide?", answer="...")
    assert resolve(zealand, "and germany?").looked_up == "What did germany decide?"


def test_asking_for_more_keeps_the_question_and_needs_no_lookup() -> None:
    resolution = resolve(DING, "tell me more")
    assert (resolution.kind, resolution.looked_up) == ("more", DING.question)
    assert resolve(None, "go on").kind == "more"


def test_a_name_typed_in_lower_case_is_the_one_the_answer_spells_out() -> None:
    react = Turn(
        "how did trump react",
        "President Donald Trump called the vote a hoax, the White House said.",
    )
    assert resolve(react, "who sued him?").looked_up == "Who sued Donald Trump?"
    # A surname alone that opens the answer is a name too, and a person once named in full.
    emergency = Turn(
        "did trump threaten a state of emergency",
        "Trump's state of emergency lets him pull funding, according to Al Jazeera.",
    )
    assert resolve(emergency, "who sued him over it?").looked_up.startswith("Who sued Trump")
    assert "Trump" in [n.text for n in names_in("Trump's state of emergency lets him go.")]


def test_he_and_she_stand_for_a_person_of_that_gender_when_the_name_tells() -> None:
    ardern = Turn(
        "what did ardern say about gun laws",
        "According to New Zealand Prime Minister Jacinda Ardern, the gunman had a licence.",
        names=(Name("Brenton Tarrant", "person"),),
    )
    assert resolve(ardern, "was he convicted?").looked_up == "Was Brenton Tarrant convicted?"
    assert resolve(ardern, "what did she promise?").looked_up == (
        "What did Jacinda Ardern promise?"
    )
    # "she ... her" in one question is one person, named once.
    lam = Turn("did carrie lam withdraw the bill?", "Carrie Lam withdrew the bill on Wednesday.")
    assert resolve(lam, "when did she give her speech?").looked_up == (
        "When did Carrie Lam give her speech?"
    )


def test_a_pronoun_stands_for_a_name_of_its_kind() -> None:
    # "Queen Elizabeth II" is a person, so "it" is not her.
    queen = Turn(
        "did the queen agree to suspend parliament?",
        "Yesterday, Queen Elizabeth II announced she will comply with the request.",
    )
    assert "Queen" not in resolve(queen, "what did corbyn call it").looked_up
    assert [n.kind for n in names_in("Queen Elizabeth II and Pope Francis")] == ["person"] * 2
    # "Hong Kong" is a place, so "he" is not it.
    shot = Turn(
        "when did police first shoot a protester in hong kong",
        "For the first time in the protests in Hong Kong, police fired a live round.",
    )
    assert resolve(shot, "how old was he?").looked_up.startswith("How old was he (")
    # "it" that happened is the event told of, not a name.
    for typed in ("where did it happen?", "when did it take place?"):
        assert "it" in resolve(shot, typed).looked_up.split(), typed


def test_a_gist_carried_over_is_passed_on_not_piled_up() -> None:
    votes = Turn("How many votes did he get (tory leadership race)?", "He won with 92,153 votes.")
    assert resolve(votes, "who was he up against?").looked_up == (
        "Who was he up against (tory leadership race)?"
    )


def test_and_with_a_preposition_swaps_what_the_same_preposition_was_about() -> None:
    pompeo = Turn("What did Pompeo say about Mahan Air?", "...")
    assert resolve(pompeo, "and about Cuba?").looked_up == "What did Pompeo say about Cuba?"
    eff = Turn("what did the eff say about the takedown", "...")
    assert resolve(eff, "and about the riaa?").looked_up == "What did the eff say about the riaa?"
    # "in" adds where, unless it replaces a place: "and in Wuhan?"
    attack = Turn("How many died in the attack?", "...")
    assert resolve(attack, "and in Wuhan?").looked_up == "How many died in the attack in Wuhan?"


def test_and_a_country_after_a_question_about_someone_asks_what_the_country_did() -> None:
    ardern = Turn("What did Jacinda Ardern say?", "According to Jacinda Ardern, he had a licence.")
    assert resolve(ardern, "and Germany?").looked_up == "What did Germany say?"
    # Not when the name is not the question's subject: then the place is where.
    hired = Turn("How many people did Huawei hire?", "Huawei hired 300 people.")
    assert resolve(hired, "and Germany?").looked_up == "How many people did Huawei hire in Germany?"


def test_a_name_that_only_repeats_what_was_asked_for_is_not_the_answer() -> None:
    # "Which states ...?" is answered by "sixteen states", not by "United States" in "United
    # States President Donald Trump"; and "him" is still Donald Trump.
    sued = Turn(
        "Which states sued Trump?",
        "Attorneys general from sixteen states sued over the emergency United States President "
        "Donald Trump declared.",
    )
    looked_up = resolve(sued, "why did they sue him?").looked_up
    assert "United States" not in looked_up and "Donald Trump" in looked_up


def test_and_x_must_be_answered_about_x_else_it_is_asked_as_typed() -> None:
    eu = Turn("What did the EU decide about 5G suppliers?", "The EU left it to its members.")
    resolution = resolve(eu, "and in Germany?")
    assert resolution.about == "Germany"
    swapped, as_typed = resolution.readings
    assert swapped.about == "Germany" and (as_typed.looked_up, as_typed.about) == (
        "and in Germany?",
        None,
    )


def test_a_name_typed_first_in_lower_case_is_still_a_name() -> None:
    wall = Turn(
        "trump border wall emergency",
        "Trump's state of emergency lets him move funds, according to Al Jazeera.",
    )
    assert resolve(wall, "who is suing him").looked_up == "Who is suing Trump"


def test_who_was_asked_about_is_the_second_person_of_a_follow_up() -> None:
    # "she" is the answer's Nancy Pelosi; "his" is not "the Speaker" nor "Representatives"
    # (words of her title) but Donald Trump, whom the question named.
    inquiry = Turn(
        "who started the impeachment inquiry against trump?",
        "Nancy Pelosi, the Speaker of the House of Representatives, announced an inquiry into "
        "President Donald Trump.",
    )
    assert resolve(inquiry, "what did she call his conduct").looked_up == (
        "What did Nancy Pelosi call Donald Trump's conduct"
    )


@pytest.mark.parametrize("question", ["", "what", "?", "Which", "'s"])
@pytest.mark.parametrize("typed", ["who else is in it?", "what did he say?", "and Germany?"])
def test_a_turn_with_an_odd_question_still_resolves(question: str, typed: str) -> None:
    # A turn stored by another version, or an odd one, never breaks the next question.
    assert resolve(Turn(question, "Trump's wall cost $5 billion, Al Jazeera said."), typed)


def test_a_given_name_typed_in_lower_case_is_whom_he_stands_for() -> None:
    votes = Turn(
        "how many votes did boris get in the tory leadership vote",
        "Johnson competed for the role against Jeremy Hunt.",
    )
    assert resolve(votes, "who was he up against").looked_up == "Who was Boris up against"
    # A given name that is an everyday word stays one: "the bill" names no Bill.
    bill = Turn("what would the bill have allowed", "It would have allowed extraditions.")
    assert "Bill" not in resolve(bill, "who proposed it?").looked_up
