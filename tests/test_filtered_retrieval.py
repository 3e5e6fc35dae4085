"""Filters act inside retrieval: a filtered search ranks the allowed passages as an unfiltered
search over them alone would, in every mode, over exact and HNSW dense indexes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from bot.engine import Newsbot
from bot.filters import SearchFilter
from bot.indexing import build_index
from bot.query import Query
from bot.retrieval import RETRIEVERS

STRIKE = [
    "Rail workers walked out on Monday, and most trains across the north were cancelled.",
    "The rail strike is the third this year; the union wants a pay rise of eight per cent.",
    "Commuters faced long queues for replacement buses during the rail strike.",
    "Union leaders said the rail strike would continue until the operator made a new offer.",
]
ARTICLES = {
    f"north-{i}.md": ("Northern Echo", f"2024-05-0{i + 1}", text) for i, text in enumerate(STRIKE)
}
ARTICLES["coast.md"] = (
    "Coast Times",
    "2023-02-14",
    "Ferry services were busier than usual while the trains did not run. "
    "The harbour cafe sold out of sandwiches by noon.",
)
ARTICLES["farm.md"] = (
    "Coast Times",
    "2024-06-01",
    "Farmers reported a good strawberry harvest after a warm spring.",
)
ARTICLES["undated.md"] = ("", "", "A rail strike was called off at the last minute, once again.")


@pytest.fixture(scope="module", params=["exact", "hnsw"])
def bot(request, tmp_path_factory, embedder) -> Newsbot:
    from bot.config import load_settings

    root = tmp_path_factory.mktemp(f"filtered-{request.param}")
    (root / "corpus").mkdir()
    for name, (source, published, text) in ARTICLES.items():
        (root / "corpus" / name).write_text(
            f"---\ntitle: {name[:-3]}\nsource: {source}\npublished: {published}\n---\n{text}\n",
            encoding="utf-8",
        )
    settings = load_settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        hnsw_min_chunks=1 if request.param == "hnsw" else 0,
    )
    build_index(settings, embedder=embedder)
    return Newsbot(settings, embedder=embedder)


_vectors: dict[str, np.ndarray] = {}  # each question embedded once (the model is the cost)


def vector_of(bot: Newsbot, question: str) -> np.ndarray:
    if question not in _vectors:
        _vectors[question] = bot.embedder.encode([question])[0]
    return _vectors[question]


def search(bot: Newsbot, question: str, mode: str, k: int, search_filter=None):
    query = Query.analyse(question, vector_of(bot, question))
    return bot._retriever.search(query, mode, k, search_filter)


def document_of(bot: Newsbot, chunk: int):
    data = bot._retriever.data
    return data.documents[int(data.chunks["doc"][chunk])]


FILTERS = [
    SearchFilter(source="coast TIMES"),
    SearchFilter(since=date(2024, 5, 3)),
    SearchFilter(until=date(2024, 1, 1)),
    SearchFilter(since=date(2024, 5, 1), until=date(2024, 5, 31), source="Northern Echo"),
]


@pytest.mark.parametrize("mode", RETRIEVERS)
@pytest.mark.parametrize("limits", FILTERS, ids=lambda f: f.describe())
def test_every_hit_passes_the_filter(bot, mode, limits) -> None:
    hits = search(bot, "Why was there a rail strike?", mode, 5, limits)
    assert hits
    for hit in hits:
        doc = document_of(bot, hit.chunk)
        assert limits.matches(doc.published, doc.source), (doc.doc_id, limits)


@pytest.mark.parametrize("mode", RETRIEVERS)
def test_the_best_passage_within_the_filter_is_found(bot, mode) -> None:
    question = "How did people travel during the rail strike?"
    unfiltered = search(bot, question, mode, 3)
    assert all(document_of(bot, h.chunk).source != "Coast Times" for h in unfiltered)
    hits = search(bot, question, mode, 3, SearchFilter(source="Coast Times"))
    assert document_of(bot, hits[0].chunk).doc_id == "coast.md"


def test_filtered_dense_ranking_is_exact_over_the_allowed_passages(bot) -> None:
    question = "Why was there a rail strike?"
    limits = SearchFilter(since=date(2024, 5, 2))
    retriever = bot._retriever
    allowed = retriever.allowed_chunks(limits)
    vector = vector_of(bot, question)
    cosines = retriever.data.chunk_vectors.reconstruct_batch(allowed) @ vector
    expected = [int(allowed[i]) for i in np.argsort(-cosines)]
    hits = search(bot, question, "dense", len(expected), limits)
    assert [h.chunk for h in hits] == expected


def test_nothing_allowed_means_no_hits_and_an_abstention(bot) -> None:
    limits = SearchFilter(source="The Daily Nowhere")
    assert search(bot, "Why was there a rail strike?", "hybrid", 3, limits) == []
    answer = bot.ask("Why was there a rail strike?", search_filter=limits)
    assert answer.abstained and answer.citations == []
