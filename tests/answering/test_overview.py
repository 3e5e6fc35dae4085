"""bot/answering/overview.py: "tell me about X" and "what's the latest on X" get the lead of
the article about X, on real indexes of real news."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot import engine as engine_module
from bot.answering import answer as answer_module
from bot.answering import overview
from bot.answering.overview import asked_overview
from bot.config import load_settings
from bot.engine import Newsbot
from bot.indexing import build_index
from tests.conftest import CROWDED_CORPUS


@pytest.mark.parametrize(
    ("question", "topic", "latest"),
    [
        ("tell me about the soleimani strike", "the soleimani strike", False),
        ("Can you tell me more about Carrie Lam?", "Carrie Lam", False),
        ("what's the latest on hong kong?", "hong kong", True),
        ("whats new with boris johnson", "boris johnson", True),
        ("What's the most recent news on the coronavirus", "the coronavirus", True),
        ("any updates on the cuba flight ban?", "the cuba flight ban", True),
        ("news about facebook", "facebook", False),
        ("any news on facebook?", "facebook", True),
        ("latest brexit news", "brexit", True),
        ("covid news from february 2020", "covid", False),
        ("catch me up on youtube-dl", "youtube-dl", True),
        ("give me an overview of the prorogation", "the prorogation", False),
        ("summarize the hirtenberger deal", "the hirtenberger deal", False),
        ("what do you know about mahan air", "mahan air", False),
        ("ok, brief me on the trump impeachment", "the trump impeachment", False),
        ("what's the latest news?", "", True),
        ("any news?", "", True),
        ("headlines", "", True),
        ("what happened in hong kong in october 2019?", "hong kong", False),
        ("latest on trump in march 2020", "trump", True),
    ],
)
def test_overview_questions_are_recognised(question: str, topic: str, latest: bool) -> None:
    asked = asked_overview(question)
    assert asked is not None and (asked.topic, asked.latest) == (topic, latest)


@pytest.mark.parametrize(
    "question",
    [
        "What happened to Spark's application to use Huawei equipment?",  # a fact, not a story
        "Who is Ryan Ding?",
        "what news outlet broke the story?",
        "tell me about the story",  # no topic: only "story"
        "what happened in hong kong?",  # "what happened" is an overview only with a period
        "Is there news?",
        "which outlet broke the news?",
        "who reported the news",
    ],
)
def test_other_questions_are_not_overviews(question: str) -> None:
    assert asked_overview(question) is None


def _bot_over(root: Path, pattern: str, embedder) -> Newsbot:
    (root / "corpus").mkdir()
    for path in CROWDED_CORPUS.glob(pattern):
        shutil.copy(path, root / "corpus" / path.name)
    settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index")
    build_index(settings, embedder=embedder)
    return Newsbot(settings, embedder=embedder)


@pytest.fixture(scope="module")
def late_2019(tmp_path_factory: pytest.TempPathFactory, embedder) -> Newsbot:
    """Ten real Wikinews articles from October to December 2019, three on Hong Kong."""
    return _bot_over(tmp_path_factory.mktemp("late-2019"), "2019-1*.md", embedder)


@pytest.fixture(scope="module")
def hong_kong(tmp_path_factory: pytest.TempPathFactory, embedder) -> Newsbot:
    """The seven real Wikinews articles of 2019 on Hong Kong, June to November."""
    return _bot_over(tmp_path_factory.mktemp("hong-kong"), "2019-*hong-kong*.md", embedder)


def test_the_latest_on_a_topic_is_the_lead_of_its_newest_article(late_2019) -> None:
    answer = late_2019.ask("what's the latest on hong kong?")
    assert not answer.abstained
    assert answer.answer.startswith("On Sunday, Hong Kongers turned out more than 2.9 million")
    lead = answer.citations[0]
    assert lead.published == "2019-11-27" and lead.text[slice(*lead.highlight)] == answer.answer
    # The other Hong Kong stories are cited after it, so the reader sees what else ran.
    others = [c for c in answer.citations[1:] if "Hong Kong" in c.title]
    assert others and all(c.published < lead.published for c in others)


def test_an_overview_answers_with_the_article_most_about_the_topic(late_2019) -> None:
    answer = late_2019.ask("tell me about the canadian election")
    assert answer.answer.startswith("On Monday, Canada held a general election"), answer.answer
    assert answer.citations[0].published == "2019-10-23"
    lam = late_2019.ask("Tell me about Carrie Lam")
    assert "Carrie Lam delivered her annual policy speech" in lam.answer


def test_an_overview_of_a_story_the_corpus_lacks_is_withheld(late_2019) -> None:
    for question in ("give me an overview of the gaza ceasefire", "any news on the tesla recall?"):
        assert late_2019.ask(question).abstained, question


def test_a_standfirst_is_passed_over_and_a_detail_asked_about_still_gets_the_fact(
    seed_bot,
) -> None:
    # The bundled article opens with a standfirst with no full stop; its lead follows it.
    answer = seed_bot.ask("what's the latest on huawei?")
    assert answer.answer.startswith("The UK National Cyber Security Centre (NCSC) has concluded")
    # "Tell me about" a detail no title or lead holds is answered as a question about it.
    plans = seed_bot.ask("tell me about huawei's investment plans")
    assert not plans.abstained and "$2 billion" in plans.answer


def test_the_latest_news_is_the_newest_articles_lead(late_2019) -> None:
    answer = late_2019.ask("what's the latest news?")
    assert answer.citations[0].published == "2019-12-21"  # the newest of the ten
    assert answer.answer.startswith("On Wednesday, the United States House of Representatives")


def test_an_overview_of_a_period_keeps_the_articles_published_then(late_2019) -> None:
    answer = late_2019.ask("what happened in hong kong in october 2019?")
    assert not answer.abstained and "Hong Kong" in answer.answer
    assert all(c.published.startswith("2019-10") for c in answer.citations)
    november = late_2019.ask("news from november 2019")
    assert november.citations[0].published.startswith("2019-11"), november.citations[0]
    nothing = late_2019.ask("any news from 2018?")
    assert nothing.abstained and "2018-01-01 to 2018-12-31" in nothing.abstain_reason


@pytest.mark.parametrize("rounds", [0, overview.NEWER_ROUNDS])
def test_the_latest_is_found_when_it_ranks_below_the_passages_weighed(
    hong_kong, monkeypatch, rounds: int
) -> None:
    # Weighing only the 3 best passages, as a corpus of thousands of articles crowds them out.
    monkeypatch.setattr(answer_module, "OVERVIEW_CANDIDATES", 3)
    monkeypatch.setattr(engine_module, "OVERVIEW_CANDIDATES", 3)
    monkeypatch.setattr(overview, "NEWER_ROUNDS", rounds)
    bot = Newsbot(replace(hong_kong.settings, candidates=3), embedder=hong_kong.embedder)
    answer = bot.ask("what's the latest on hong kong?")
    if rounds:  # looked for again among the newer articles: the newest is found
        assert answer.citations[0].published == "2019-11-27"
        assert [c.rank for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    else:  # without: the best-ranked passages hold only older stories
        assert answer.citations[0].published < "2019-11-27"


def test_a_company_form_and_a_hyphenated_word_do_not_hide_the_lead(
    late_2019, tmp_path: Path, embedder
) -> None:
    # The lead names "HDT Védelmi Ipari Kft. (HDT Limited)": the sentence goes on past "Kft.".
    deal = late_2019.ask("summarize the hirtenberger deal")
    assert deal.answered_as == "overview"
    assert "acquired Austrian mortar and shell manufacturer" in deal.answer
    # "takedown" as asked, "take-down" in the article's lead: the same word.
    bot = _bot_over(tmp_path, "2020-1*.md", embedder)
    answer = bot.ask("tell me about the github youtube-dl takedown")
    assert answer.answered_as == "overview"
    assert answer.answer.startswith("On Friday, code hosting and sharing website GitHub blocked")


def test_a_month_no_text_names_still_finds_the_articles_published_then(
    make_corpus, embedder
) -> None:
    storm = (
        "---\ntitle: Storm Odile leaves 40,000 without power\nsource: BBC\n"
        "published: 2024-01-20\n---\n\nStorm Odile brought winds of up to 140 kilometres per "
        "hour to the west coast on Saturday, leaving about 40,000 homes without power.\n"
    )
    settings = make_corpus({"storm.md": storm})
    build_index(settings, embedder=embedder)
    answer = Newsbot(settings, embedder=embedder).ask("news from January 2024")
    assert not answer.abstained and answer.answer.startswith("Storm Odile brought winds")
