"""bot/conversation/prefer.py: a follow-up's retrieval prefers the previous answer's passage."""

from bot.conversation import Preference, prefer_previous
from bot.query import Query


def test_the_previous_answers_passage_is_preferred_not_required(seed_bot) -> None:
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
