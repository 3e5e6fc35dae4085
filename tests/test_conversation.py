"""Conversations: when a question points back, what it is looked up as; and that a question
standing alone is answered exactly as it would be on its own."""

from __future__ import annotations

import pytest

from bot.answering import Answer
from bot.conversation import Conversation, Name, Resolution, Turn, asked_kind, names_in, resolve

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


def test_names_and_the_kind_of_name_a_question_asks_for() -> None:
    found = names_in("On Monday, New Zealand Prime Minister Jacinda Ardern said the UK NCSC agreed")
    assert [(n.text, n.kind) for n in found] == [
        ("New Zealand", "place"),
        ("Jacinda Ardern", "person"),
        ("UK", "place"),
        ("NCSC", "org"),
    ]
    # An organisation's "of" goes on with its name: no "Public Health" for "he" to stand for.
    found = names_in("The Ministry of Public Health and Health Care said Ryan Ding is well")
    assert [n.kind for n in found] == ["org", "org", "org", "person"]
    assert asked_kind("Who runs it?") == "person"
    assert asked_kind("Which countries banned Huawei?") == "place"
    assert asked_kind("What did the EU decide?") is None


def test_a_turn_survives_a_round_trip_through_json() -> None:
    assert Turn.from_json(DING.to_json()) == DING
    remembering = Turn("was he convicted?", None, names=(Name("Brenton Tarrant", "person"),))
    assert Turn.from_json(remembering.to_json()) == remembering
    assert Turn.from_json({"nonsense": 1}) is None


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


def test_a_pronoun_stands_for_whom_the_user_asked_about_before_a_new_name_in_the_answer() -> None:
    conversation = Conversation()
    for typed, answer in (
        ("why was trump impeached", "The House impeached President Donald Trump on Wednesday."),
        ("what were the votes", "After the vote, a spokesperson, Morgan Ortagus, said more."),
    ):
        resolution = conversation.resolve(typed)
        conversation.remember(resolution, Answer(typed, answer, False, 0.9, []))
    assert conversation.last is not None
    assert [n.text for n in conversation.last.names] == ["Donald Trump", "Morgan Ortagus"]
    assert conversation.resolve("so was he removed by the senate?").looked_up == (
        "Was Donald Trump removed by the senate?"
    )
    # The answer's person is who "he" is when the user named no one yet.
    fresh = Conversation()
    fresh.remember(Resolution("what were the votes", "first"), Answer("q", answer, False, 0.9, []))
    assert fresh.resolve("what did he say?").looked_up == "What did Morgan Ortagus say?"


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


def test_the_previous_answers_passage_is_preferred_not_required(seed_bot) -> None:
    from bot.conversation import Preference, prefer_previous
    from bot.query import Query

    retriever = seed_bot._retriever
    assert prefer_previous(retriever, None) is retriever  # nothing carried: searched as alone
    question = "What did the company say about security?"
    query = Query.analyse(question, seed_bot.embedder.encode([question])[0])
    plain = retriever.search(query, "hybrid", 8)
    chunks = retriever.data.chunks
    last = plain[-1].chunk  # the weakest of the eight
    doc = seed_bot.documents[int(chunks["doc"][last])].doc_id
    prefer = Preference(doc, int(chunks["paragraph"][last]))
    preferred = prefer_previous(retriever, prefer).search(query, "hybrid", 8)
    ranks = [hit.chunk for hit in preferred]
    assert len(preferred) == 8 and last in ranks and ranks.index(last) < 7  # it moved up


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
