"""The same retrieval and answering tests over both stores, and the same answers from both."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot import engine as engine_module
from bot import stores
from bot.answering import answer as answer_module
from bot.config import load_settings
from bot.conversation import Conversation
from bot.engine import Newsbot
from bot.filters import SearchFilter
from bot.query import Query
from bot.retrieval import RETRIEVERS
from bot.stores import build_index
from bot.stores.milvus.search import filter_expression
from tests.conftest import CROWDED_CORPUS, DATA, read_jsonl

QUESTIONS = {
    "Who is the president of Huawei's carrier business group?": "Ryan Ding",
    "Which countries banned Huawei equipment from their 5G networks last year?": "New Zealand and Australia",
    "What does the Five Eyes intelligence network monitor?": "private communications",
}


def _search(bot: Newsbot, question: str, mode: str, k: int):
    query = Query.analyse(question, bot.embedder.encode([question])[0])
    searcher = bot.searcher(query, mode, k)
    return searcher, searcher.search(query, mode, k)


@pytest.mark.parametrize("mode", RETRIEVERS)
def test_each_mode_finds_the_passage_that_answers(any_bot, mode) -> None:
    for question, answer in QUESTIONS.items():
        searcher, hits = _search(any_bot, question, mode, 3)
        assert len(hits) == 3
        texts = [searcher.data.chunk_text(h.chunk) for h in hits]
        assert any(answer in t for t in texts), (mode, question, texts)


def test_each_mode_ranks_by_its_own_evidence(any_bot) -> None:
    question = "What did Ryan Ding send to the British lawmakers?"
    _, dense = _search(any_bot, question, "dense", 5)
    assert [h.dense for h in dense] == sorted((h.dense for h in dense), reverse=True)
    assert [h.dense_rank for h in dense] == list(range(5))
    _, bm25 = _search(any_bot, question, "bm25", 5)
    assert [h.lexical for h in bm25] == sorted((h.lexical for h in bm25), reverse=True)
    assert bm25[0].lexical > 0 and bm25[0].lexical_rank == 0


def test_both_stores_retrieve_the_same_passages_with_the_same_scores(
    seed_bot, milvus_seed_bot
) -> None:
    for mode in RETRIEVERS:
        for question in [*QUESTIONS, "How do I bake sourdough bread?", "Who is Ryan Ding?"]:
            found = []
            for bot in (seed_bot, milvus_seed_bot):
                searcher, hits = _search(bot, question, mode, 5)
                found.append(
                    [
                        (searcher.data.chunk_text(h.chunk), round(h.dense, 4), round(h.lexical, 3))
                        for h in hits
                    ]
                )
            assert found[0] == found[1], (mode, question)


def test_answers_cite_the_article_with_exact_offsets(any_bot) -> None:
    answer = any_bot.ask("Who is Ryan Ding?")
    assert not answer.abstained and "Ryan Ding, president of Huawei" in answer.answer
    for citation in answer.citations:
        text = Path(citation.path).read_text(encoding="utf-8")
        assert text[citation.start : citation.end] == citation.text
    first = answer.citations[0]
    assert first.text[first.highlight[0] : first.highlight[1]] == answer.answer


def test_a_name_the_corpus_never_mentions_raises_the_bar(any_bot) -> None:
    answer = any_bot.ask("Did Germany ban Huawei?")
    assert answer.abstained and answer.unknown_names == ["Germany"]


def test_what_an_abbreviation_stands_for(any_bot) -> None:
    answer = any_bot.ask("What does NCSC stand for?")
    assert "National Cyber Security Centre (NCSC)" in answer.answer


def test_a_sentence_and_its_continuation_answer_together(any_bot) -> None:
    answer = any_bot.ask("Which countries are the other members of the Five Eyes?")
    assert answer.answer.startswith("New Zealand is a member of the Five Eyes")
    assert answer.answer.endswith(
        "Other members of the group are the UK, US, Australia and Canada."
    )


def test_an_overview_is_the_articles_lead_with_exact_offsets(any_bot) -> None:
    answer = any_bot.ask("what's the latest on huawei?")
    assert answer.answer.startswith("The UK National Cyber Security Centre (NCSC) has concluded")
    # The bundled article has no date: the latest news is still its lead.
    assert any_bot.ask("what's the latest news?").answer == answer.answer
    first = answer.citations[0]
    text = Path(first.path).read_text(encoding="utf-8")
    assert text[first.start : first.end] == first.text
    assert first.text[first.highlight[0] : first.highlight[1]] == answer.answer


def test_both_stores_say_whether_a_hyphenated_term_starts_with_a_word(any_bot) -> None:
    # The bundled article says "US-led" and "Chinese-made": so "chinese" is no typo.
    counts = any_bot._store.term_counts({"us-", "chinese-", "huawei-", "huawei"})
    assert counts == {"us-": 1, "chinese-": 1, "huawei-": 0, "huawei": counts["huawei"]}
    assert counts["huawei"] > 0


def test_more_goes_on_with_the_answers_article(any_bot) -> None:
    conversation = Conversation()
    any_bot.ask_in(conversation, "Who is Ryan Ding?")
    more = any_bot.ask_in(conversation, "tell me more")
    assert more.answer.startswith("The NCSC's latest conclusion stands in contrast")


def test_the_gold_set_gets_the_same_answers_from_both_stores(seed_bot, milvus_seed_bot) -> None:
    # Every other gold question, to keep the suite short; the whole gold, dev and users sets
    # are compared by scripts/bench_scale.py --store milvus.
    rows = read_jsonl(DATA / "seed_gold.jsonl")[::2]
    differ = []
    for row in rows:
        a, b = seed_bot.ask(row["question"]), milvus_seed_bot.ask(row["question"])
        if (a.answer, a.abstained, [c.start for c in a.citations]) != (
            b.answer,
            b.abstained,
            [c.start for c in b.citations],
        ):
            differ.append(row["question"])
    assert len(differ) <= 1, differ  # the target: within one answer


def test_filters_are_milvus_expressions_and_apply_to_every_search(milvus_seed_bot) -> None:
    assert filter_expression(SearchFilter()) == ""
    assert filter_expression(
        SearchFilter(since=date(2019, 1, 1), until=date(2019, 2, 18), source=" Computing ")
    ) == (
        'published >= "2019-01-01" and published >= "0" and published < "2019-02-19" '
        'and source == "computing"'
    )
    question = "Who is Ryan Ding?"
    query = Query.analyse(question, milvus_seed_bot.embedder.encode([question])[0])
    store = milvus_seed_bot._store
    assert store.retriever_for(query, "hybrid", 5).search(query, "hybrid", 5)
    # The bundled article has no known outlet or date, so any such filter leaves nothing.
    for only in (SearchFilter(source="Computing"), SearchFilter(since=date(2000, 1, 1))):
        assert store.retriever_for(query, "hybrid", 5, only).search(query, "hybrid", 5) == []


@pytest.mark.parametrize("store", ["faiss", "milvus"])
def test_the_latest_news_and_an_outlets_news_in_either_store(
    store: str, tmp_path: Path, embedder
) -> None:
    # Two real articles a day apart, given to two outlets: Soleimani killed (BBC News), then
    # Iraq's parliament votes to expel US troops (Reuters). Neither names its outlet.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    articles = sorted(CROWDED_CORPUS.glob("2020-01-0*.md"))
    for path, outlet in zip(articles, ("BBC News", "Reuters"), strict=True):
        text = path.read_text(encoding="utf-8").replace("source: Wikinews", f"source: {outlet}")
        (corpus / path.name).write_text(text, encoding="utf-8")
    options = {"store": "milvus", "milvus_uri": str(tmp_path / "m.db")} if store == "milvus" else {}
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", **options)
    build_index(settings, embedder=embedder)
    bot = Newsbot(settings, embedder=embedder)
    opened = stores.open_store(settings)
    # What "the latest" is narrowed to when the newest article is not among the passages found.
    assert opened.newest_day() == date(2020, 1, 6)
    assert [s.casefold() for s in opened.sources()] == ["bbc news", "reuters"]
    answer = bot.ask("what's the latest news?")
    assert answer.citations[0].published == "2020-01-06"
    assert answer.answer.startswith("Yesterday, the Parliament of Iraq voted")
    # Named where it speaks of reporting, an outlet keeps its own articles, and its name,
    # which no article holds, is not taken for a name the corpus never mentions.
    bbc = bot.ask("what's the latest from the bbc?")
    assert bbc.answer.startswith("Thursday, United States military forces killed Qasem Soleimani")
    reuters = bot.ask("according to Reuters, what did the Iraqi parliament vote on?")
    assert not reuters.abstained and not reuters.unknown_names
    assert {c.source for c in reuters.citations} == {"Reuters"}
    # The BBC's article says nothing of the vote.
    assert bot.ask("what did the BBC say about the vote to expel US troops?").abstained


def test_an_overview_is_its_articles_lead_when_only_later_passages_rank(
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Weighing only the best passage, as a corpus of thousands of articles crowds the rest
    # out: Milvus fetches what was retrieved, so an article's lead must be fetched on purpose.
    monkeypatch.setattr(answer_module, "OVERVIEW_CANDIDATES", 1)
    monkeypatch.setattr(engine_module, "OVERVIEW_CANDIDATES", 1)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in CROWDED_CORPUS.glob("2019-09-*.md"):
        (corpus / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    questions = [
        "tell me about the impeachment investigation",
        "tell me about bolton",
        "tell me about the extradition bill",
        "tell me about the supreme court ruling on prorogation",
    ]
    answers = {}
    for store in ("faiss", "milvus"):
        options = (
            {"store": "milvus", "milvus_uri": str(tmp_path / "m.db")} if store == "milvus" else {}
        )
        settings = load_settings(
            corpus_dir=corpus,
            index_dir=tmp_path / f"index-{store}",
            candidates=1,
            top_k=1,
            **options,
        )
        build_index(settings, embedder=embedder)
        bot = Newsbot(settings, embedder=embedder)
        answers[store] = [bot.ask(q) for q in questions]
    for faiss_answer, milvus_answer in zip(answers["faiss"], answers["milvus"], strict=True):
        assert faiss_answer.answered_as == milvus_answer.answered_as == "overview"
        assert milvus_answer.answer == faiss_answer.answer
        lead = milvus_answer.citations[0]
        assert lead.paragraph == faiss_answer.citations[0].paragraph
