"""Dense, BM25 and hybrid retrieval over real indexes: sensible results, no buried exact match."""

from __future__ import annotations

import pytest

from bot.engine import Newsbot
from bot.indexing import build_index
from bot.query import Query
from bot.retrieval import RETRIEVERS

QUESTIONS = {
    "Who is the president of Huawei's carrier business group?": "Ryan Ding",
    "Which countries banned Huawei equipment from their 5G networks last year?": "New Zealand and Australia",
    "What does the Five Eyes intelligence network monitor?": "private communications",
}


def _search(bot: Newsbot, question: str, mode: str, k: int):
    retriever = bot._retriever
    query = Query.analyse(question, bot.embedder.encode([question])[0])
    return retriever, retriever.search(query, mode, k)


@pytest.mark.parametrize("mode", RETRIEVERS)
def test_each_mode_finds_the_passage_that_answers(seed_bot, mode) -> None:
    for question, answer in QUESTIONS.items():
        retriever, hits = _search(seed_bot, question, mode, 3)
        assert len(hits) == 3
        assert len({h.chunk for h in hits}) == 3
        texts = [retriever.data.chunk_text(h.chunk) for h in hits]
        assert any(answer in t for t in texts), (mode, question, texts)


def test_each_mode_ranks_by_its_own_evidence(seed_bot) -> None:
    question = "What did Ryan Ding send to the British lawmakers?"
    _, dense = _search(seed_bot, question, "dense", 5)
    assert [h.dense for h in dense] == sorted((h.dense for h in dense), reverse=True)
    assert [h.dense_rank for h in dense] == list(range(5))
    _, bm25 = _search(seed_bot, question, "bm25", 5)
    assert [h.lexical for h in bm25] == sorted((h.lexical for h in bm25), reverse=True)
    assert bm25[0].lexical > 0 and bm25[0].lexical_rank == 0
    _, hybrid = _search(seed_bot, question, "hybrid", 5)
    assert [h.score for h in hybrid] == sorted((h.score for h in hybrid), reverse=True)


def test_off_topic_question_has_no_lexical_evidence(seed_bot) -> None:
    _, hits = _search(seed_bot, "How do I bake sourdough bread?", "bm25", 3)
    assert all(h.lexical == 0 for h in hits)  # still filled with the nearest passages
    assert len(hits) == 3


ROBOT_PARAGRAPHS = [
    "The new warehouse robots lift heavy boxes and move them between the shelves all day.",
    "Engineers tested how the robots cope with boxes that are heavier than the design limit.",
    "A report on warehouse automation found that the robots cut the time needed to move stock.",
    "Workers said the robots made lifting boxes safer, though some shelves had to be rebuilt.",
    "The warehouse company plans to buy more robots after the trial of heavy lifting ends.",
]


def test_fusion_keeps_a_unique_exact_match(make_corpus, embedder) -> None:
    files = {
        f"robots-{i}.txt": f"Warehouse robots {i}\n\n{p}\n" for i, p in enumerate(ROBOT_PARAGRAPHS)
    }
    files["memo.txt"] = (
        "Internal memo\n\nThe budget line KX-4471 was approved by the finance team in March.\n"
    )
    settings = make_corpus(files)
    build_index(settings, embedder=embedder)
    bot = Newsbot(settings, embedder=embedder)
    question = "How much heavy lifting can the warehouse robots in plan KX-4471 do?"
    retriever, dense = _search(bot, question, "dense", 1)
    memo = next(
        c for c in range(retriever.data.chunk_count) if "KX-4471" in retriever.data.chunk_text(c)
    )
    assert dense[0].chunk != memo  # semantically, the robot passages are closer
    for k in (1, 2, 3):
        _, hybrid = _search(bot, question, "hybrid", k)
        assert memo in [h.chunk for h in hybrid], k
