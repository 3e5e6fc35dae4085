"""Answer sentences, calibrated abstention and duplicate passages, on real indexes."""

from __future__ import annotations

from bot.answering import answer
from bot.answering.answer import LEAD_CAVEAT
from bot.engine import Newsbot
from bot.indexing import build_index
from tests.conftest import DATA, read_jsonl

GOLD = read_jsonl(DATA / "seed_gold.jsonl")


def test_answerable_gold_questions_are_rarely_abstained_on(seed_bot) -> None:
    answerable = [i for i in GOLD if i.get("answerable", True)]
    false_abstentions = [i["question"] for i in answerable if seed_bot.ask(i["question"]).abstained]
    # The threshold withholds about one right answer in 25 on held-out SQuAD articles; this
    # news article's two-sentence questions are harder for the reader (8 of 49 measured).
    assert len(false_abstentions) <= 0.2 * len(answerable), false_abstentions


def test_a_name_the_corpus_never_mentions_raises_the_bar_and_is_reported(seed_bot) -> None:
    known = seed_bot.ask("What did Ryan Ding send to the British lawmakers?")
    assert not known.abstained and "letter" in known.answer and not known.unknown_names
    germany = seed_bot.ask("Did Germany ban Huawei?")  # answered at 0.27 without the rule
    assert germany.abstained and germany.unknown_names == ["Germany"]
    assert germany.citations and germany.citations[0].highlight is None
    # The reader is sure this is the letter question: answered, with the unknown name reported.
    cook = seed_bot.ask("What did Tim Cook send to the British lawmakers?")
    assert cook.unknown_names == ["Tim Cook"]
    assert cook.abstained or cook.confidence >= answer.UNKNOWN_NAME_MIN_CONFIDENCE
    # Known names, misspelt, capitalised mid-sentence or as part of a compound, are not unknown.
    for question in (
        "Who is Ryan Dign?",
        "What do European leaders think?",
        "Is Chinese-built gear risky?",
    ):
        assert not seed_bot.ask(question).unknown_names, question


def test_a_sentence_naming_a_group_and_the_next_listing_it_answer_together(seed_bot) -> None:
    answer = seed_bot.ask("Which countries are the other members of the Five Eyes?")
    assert answer.answer.startswith("New Zealand is a member of the Five Eyes")
    assert answer.answer.endswith(
        "Other members of the group are the UK, US, Australia and Canada."
    )
    first = answer.citations[0]
    start, end = first.highlight
    assert first.text[start:end] == answer.answer
    # Worded without "other members", the list is still a continuation of the first sentence.
    members = seed_bot.ask("Which countries are in Five Eyes?")
    assert members.answer.endswith("the UK, US, Australia and Canada.")


def test_what_an_abbreviation_stands_for_is_the_sentence_that_spells_it_out(
    seed_bot, make_corpus, embedder
) -> None:
    answer = seed_bot.ask("What does NCSC stand for?")  # the reader alone picked "...stands in"
    assert "National Cyber Security Centre (NCSC)" in answer.answer
    # Its sentence gets SPELLED_OUT_CONFIDENCE (0.95); the answer's confidence also reads its
    # lead over the runner-up.
    assert answer.confidence > 0.9
    # "What is the NCSC?" asks what it is: the same sentence (it was withheld at 0.11, three
    # sentences about the NCSC being about as likely), typed any way.
    for typed in ("What is the NCSC?", "whats ncsc"):
        assert "National Cyber Security Centre (NCSC)" in seed_bot.ask(typed).answer, typed
    settings = make_corpus(
        {
            "grid.txt": "Grid warning\n\nThe grid operator warned of outages on Monday. "
            "The Electricity Reliability Council of Texas (ERCOT) asked homes to save power.\n"
        }
    )
    build_index(settings, embedder=embedder)
    bot = Newsbot(settings, embedder=embedder)
    assert "(ERCOT)" in bot.ask("what is ercot short for").answer
    assert not bot.ask("What does FEMA stand for?").answer  # nothing spells it out


WIRE_STORY = (
    "Copper prices rose to a record on Tuesday after the Kasanka Mining strike closed the "
    "largest mine in the region. Traders said stocks in London warehouses fell by a third."
)


def test_the_same_passage_in_several_documents_is_cited_once(make_corpus, embedder) -> None:
    settings = make_corpus(
        {
            "agency-a.txt": f"Copper hits record\n\n{WIRE_STORY}\n",
            "agency-b.txt": f"Metals: copper climbs\n\n{WIRE_STORY}\n",
            "other.txt": "Tea harvest\n\nKenya's tea harvest fell after a dry spell in the highlands.\n",
        }
    )
    build_index(settings, embedder=embedder)
    answer = Newsbot(settings, embedder=embedder).ask(
        "Why did copper prices rise to a record?", top_k=3
    )
    assert not answer.abstained and "Kasanka Mining strike" in answer.answer
    texts = [c.text for c in answer.citations]
    assert len(texts) == len(set(texts))
    first = answer.citations[0]
    assert first.text == WIRE_STORY
    assert [other["doc_id"] for other in first.also_in] == [
        doc for doc in ("agency-a.txt", "agency-b.txt") if doc != first.doc_id
    ]
    other = first.also_in[0]
    with open(other["path"], encoding="utf-8") as fh:
        assert fh.read()[other["start"] : other["end"]] == WIRE_STORY
    assert [c.rank for c in answer.citations] == list(range(1, len(answer.citations) + 1))


MASTS_2020 = """---
title: Operator speeds up removal of Chinese kit
source: Telecom Weekly
published: 2021-01-14
---
The operator said on Thursday that it had stepped up work to strip equipment made by Huawei from its mobile network.

In 2020, the company replaced 1,200 Huawei masts across the country, its chief technology officer said.

The government has ordered operators to remove all Huawei kit from 5G networks by 2027.
"""

MASTS_2021 = """---
title: Mast replacement slows as costs rise
source: Network News
published: 2022-01-20
---
The pace at which the operator is stripping Huawei equipment from its network slowed last year, according to figures published on Thursday.

In 2021, the company replaced 800 Huawei masts, a spokesman said, blaming supply problems.

Engineers expect the work to take several more years.
"""


def test_each_year_gets_its_own_articles_figure(make_corpus, embedder) -> None:
    settings = make_corpus({"masts-2020.md": MASTS_2020, "masts-2021.md": MASTS_2021})
    build_index(settings, embedder=embedder)
    bot = Newsbot(settings, embedder=embedder)
    for year, figure, other in (("2020", "1,200", "800"), ("2021", "800", "1,200")):
        answer = bot.ask(f"How many Huawei masts did the operator replace in {year}?")
        assert not answer.abstained, year
        assert figure in answer.answer and other not in answer.answer, (year, answer.answer)
        assert answer.citations[0].published[:4] == str(int(year) + 1)
    # A year neither article gives an answer for: the confidence drops, and the reply says why.
    answer = bot.ask("How many Huawei masts did the operator replace in 2019?")
    assert answer.abstained or answer.caveats, answer


def test_asked_how_many_the_answer_gives_a_number(crowded_bot) -> None:
    # Eight real articles from early 2020, five on the coronavirus. The WHO story's lead
    # sentence restates the question; the sentence that answers it holds the count.
    bot = crowded_bot("2020-0[1-3]-*.md")
    answer = bot.ask("how many covid cases worldwide when WHO declared a pandemic")
    assert not answer.abstained and "126,000" in answer.answer, answer.answer
    assert answer.citations[0].published == "2020-03-14"
    # The short answer is marked inside the sentence.
    assert answer.answer[slice(*answer.answer_span)] == "126,000"
    # Asked "when", the same lead sentence answers: it says when ("On Wednesday").
    answer = bot.ask("when did the who declare covid a pandemic")
    assert not answer.abstained and "On Wednesday" in answer.answer, answer.answer
    assert answer.answer[slice(*answer.answer_span)] == "Wednesday"


def test_short_forms_typos_and_missing_question_marks_read_as_the_article(seed_bot) -> None:
    spelled = seed_bot.ask("What did New Zealand's Prime Minister say?")
    assert "Jacinda Ardern said" in spelled.answer
    for typed in ("what did the NZ PM say", "what did jacinda arden say?"):
        answer = seed_bot.ask(typed)
        assert not answer.abstained and not answer.unknown_names, typed
        assert "Jacinda Ardern said" in answer.answer, typed
        assert answer.question == typed  # what was asked is what the answer says was asked
    assert (
        seed_bot.ask("what is the ncsc").confidence == seed_bot.ask("what is the ncsc?").confidence
    )
    # "Washington" for the US, which the article names but never as Washington.
    washington = seed_bot.ask("what does Washington say about 5G?")
    assert not washington.unknown_names and washington.answer.startswith("The US says")


def test_an_abstention_says_why(seed_bot) -> None:
    germany = seed_bot.ask("Did Germany ban Huawei?")
    assert germany.abstain_reason == "it never mentions Germany"
    weak = seed_bot.ask("What is the weather like in the capital today?")
    assert weak.abstained and weak.abstain_reason.startswith("not confident enough: ")
    assert seed_bot.ask("Who is Ryan Ding?").abstain_reason is None


def test_an_answer_that_opens_with_a_pronoun_brings_the_sentence_naming_it(crowded_bot) -> None:
    bot = crowded_bot("2019-07-*.md")
    answer = bot.ask("how many votes did boris johnson get in the leadership race")
    assert "He won with 92,153 votes" in answer.answer
    assert answer.answer.startswith("Johnson competed for the role against Jeremy Hunt")
    cited = answer.citations[0]
    assert cited.text[slice(*cited.highlight)] == answer.answer


def test_a_fact_answered_by_a_story_opening_is_less_sure_and_says_why(crowded_bot) -> None:
    # A news lead restates what the story is about, so it reads as an answer to any question
    # on it: asked how Iran retaliated (the articles do not say), the reader picks the lead.
    bot = crowded_bot("2020-01-0*.md")
    detail = bot.ask("how did iran retaliate for the killing of soleimani?")
    assert detail.answer.startswith("Thursday, United States military forces killed Qasem")
    assert detail.abstained or detail.confidence < 0.5
    assert detail.abstained or LEAD_CAVEAT in detail.caveats
    # Asked what happened, the same opening is the answer, with no such doubt.
    event = bot.ask("what happened to qasem soleimani")
    assert event.answer == detail.answer and LEAD_CAVEAT not in event.caveats
    assert event.confidence > 2 * detail.confidence
    overview = bot.ask("tell me about soleimani")
    assert overview.answered_as == "overview" and not overview.caveats
