""" "Tell me more": the sentences that follow the previous answer in its article.

In a chat, "more", "go on" or "what else?" after an answer asks for the rest of the story, not
for a new search: the reply is the next MORE_SENTENCES sentences of the same passage (or the
passage after it), verbatim and cited like any answer. Only text that follows the previous
answer with nothing skipped is given: the Milvus store holds only the question's passages, so
there the next sentence must be among them.
"""

from __future__ import annotations

import re

import numpy as np

from bot.answering.answer import Answer
from bot.answering.cite import citations, span_text
from bot.retrieval import Hit, Retriever

MORE_SENTENCES = 2
MORE_POOL = 100  # passages fetched to find the continuation in (Milvus holds only these)
NOTHING_YET = "there is no answer yet to say more about; ask a question first"
ARTICLE_ENDS = "the article says no more after that"
NOT_AT_HAND = "the rest of that article is not at hand"

_ASKS_MORE = re.compile(
    r"^(?:(?:ok|okay|and|so|please|yes|go on)[,!.]?\s+)*"
    r"(?:tell me more|more|say more|go on|continue|keep going|and then|then what|what else"
    r"|anything else|what happened next|what next|more details?|details|elaborate|carry on|and)"
    r"(?:\s+please)?[\s?!.]*$",
    re.IGNORECASE,
)


def asks_for_more(typed: str) -> bool:
    """Whether the message asks for more of the previous answer ("tell me more", "go on")."""
    return bool(_ASKS_MORE.match(" ".join(typed.split())))


def continuation(
    retriever: Retriever, question: str, doc_id: str, after: int, confidence: float, top_k: int
) -> Answer:
    """The sentences of document `doc_id` that follow character `after` (where the previous
    answer ended), as an answer to `question`; an abstention saying why when there are none.
    The previous answer's `confidence` carries over: the same story goes on."""
    data = retriever.data
    doc = next((i for i, d in enumerate(data.documents) if d.doc_id == doc_id), None)
    if doc is None:
        return _nothing(question, NOT_AT_HAND)
    sentences = data.sentences
    own = np.flatnonzero(sentences["doc"] == doc)
    later = own[sentences["start"][own] >= after]
    if not len(later):
        whole = own[sentences["end"][own] == after]
        return _nothing(question, ARTICLE_ENDS if len(whole) else NOT_AT_HAND)
    first = int(later[np.argmin(sentences["start"][later])])
    if first == 0 or sentences["doc"][first - 1] != doc or sentences["end"][first - 1] != after:
        return _nothing(question, NOT_AT_HAND)  # something in between is not at hand
    chunks = data.chunks
    holding = np.flatnonzero(
        (chunks["doc"] == doc) & (chunks["first"] <= first) & (first < chunks["last"])
    )
    if not len(holding):
        return _nothing(question, NOT_AT_HAND)
    chunk = int(holding[0])
    span = (first, min(first + MORE_SENTENCES, int(chunks["last"][chunk])) - 1)
    unranked = len(data.chunks["doc"])
    cited = citations(retriever, [Hit(chunk, 0.0, 0.0, 0.0, unranked, unranked)], top_k, span)
    return Answer(
        question=question,
        answer=span_text(retriever, span),
        abstained=False,
        confidence=confidence,
        citations=cited,
        answered_as="more",
    )


def continuation_missing(question: str) -> Answer:
    """The reply to "tell me more" when no answer came before."""
    return _nothing(question, NOTHING_YET)


def _nothing(question: str, reason: str) -> Answer:
    return Answer(question, None, True, 0.0, [], abstain_reason=reason, answered_as="more")
